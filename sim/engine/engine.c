/* sim/engine/engine.c - replay loop, tasks, race windows and verdicts. */
#include "engine.h"

#include <stdarg.h>
#include <string.h>

#include "mm/internal.h"
#include "oracle/oracle.h"
#include "patch.h"

#define REPLAY_FRAMES (1ULL << 18) /* 1 GiB of simulated RAM per trace */
#define REPLAY_SWAP_SLOTS (1ULL << 15)

static struct engine *running;
const char *engine_failure_kind;
struct engine_failure engine_last_failure;

bool engine_bad_input(struct engine *e, const struct step *s, const char *fmt, ...)
{
	if (e->verdict == VERDICT_PASS) {
		va_list ap;
		va_start(ap, fmt);
		g_string_append_printf(e->error, "%s:%u: ", e->trace->path, s ? s->line : 0);
		g_string_append_vprintf(e->error, fmt, ap);
		va_end(ap);
		e->verdict = VERDICT_BAD_INPUT;
	}
	return false;
}

/* The oracle's report already names the step's line. */
static void engine_fail_oracle(struct engine *e, const char *report)
{
	if (e->verdict != VERDICT_PASS)
		return;
	g_string_append_printf(e->error, "%s", report);
	e->verdict = VERDICT_FAIL;
}

void engine_fail(struct engine *e, const struct step *s, const char *fmt, ...)
{
	if (e->verdict != VERDICT_PASS)
		return;
	va_list ap;
	va_start(ap, fmt);
	g_string_append_printf(e->error, "line %u: ", s ? s->line : 0);
	engine_last_failure.line = s ? s->line : 0;
	g_string_append_vprintf(e->error, fmt, ap);
	va_end(ap);
	e->verdict = VERDICT_FAIL;
}

struct region *engine_region(struct engine *e, const struct step *s, const char *name)
{
	struct region *r = g_hash_table_lookup(e->world.region_by_name, name);
	if (!r)
		engine_bad_input(e, s, "region '%s' is not mapped", name);
	return r;
}

struct userfaultfd_ctx *engine_uffd(struct engine *e, const struct step *s, const char *name)
{
	struct userfaultfd_ctx *ctx = g_hash_table_lookup(e->world.uffd_by_name, name);
	const char *gone = ctx ? NULL : g_hash_table_lookup(e->world.uffd_gone, name);
	if (gone) {
		engine_bad_input(e, s, "%s does not exist: %s", name, gone);
	} else if (!ctx) {
		engine_bad_input(e, s, "userfaultfd '%s' does not exist", name);
	} else if (ctx->released) {
		/* After close() the fd is gone: an ioctl or read would be EBADF
		 * on whatever fd number the program still holds. */
		engine_bad_input(e, s, "userfaultfd '%s' is closed", name);
		ctx = NULL;
	}
	return ctx;
}

bool engine_pages(struct engine *e, const struct step *s, const struct region *r, GArray *pages)
{
	const struct arg_value *a = step_arg(s, "pages");
	uint64_t nr = r->len >> PAGE_SHIFT;

	/* Sized once and filled in place: a 64 GiB region is 16 M entries. */
	g_array_set_size(pages, 0);
	if (!a || !a->present) {
		g_array_set_size(pages, (guint)nr);
		for (uint64_t p = 0; p < nr; p++)
			g_array_index(pages, uint64_t, p) = p;
		return true;
	}
	for (guint i = 0; i < a->spans->len; i++) {
		struct page_span sp = g_array_index(a->spans, struct page_span, i);
		if (sp.last >= nr)
			return engine_bad_input(e, s,
						"page %" G_GUINT64_FORMAT
						" is outside region '%s' (%" G_GUINT64_FORMAT
						" pages)",
						sp.last, r->name, nr);
		guint at = pages->len;
		g_array_set_size(pages, at + (guint)(sp.last - sp.first + 1));
		for (uint64_t p = sp.first; p <= sp.last; p++)
			g_array_index(pages, uint64_t, at + (p - sp.first)) = p;
	}
	return true;
}

bool engine_span(struct engine *e, const struct step *s, const struct region *r, uint64_t *start,
		 uint64_t *len)
{
	/* What engine_pages() would list, from the spans alone. */
	const struct arg_value *a = step_arg(s, "pages");
	uint64_t nr = r->len >> PAGE_SHIFT, count = nr, first = 0, last = nr - 1;
	if (a && a->present) {
		count = 0;
		for (guint i = 0; i < a->spans->len; i++) {
			struct page_span sp = g_array_index(a->spans, struct page_span, i);
			if (sp.last >= nr)
				return engine_bad_input(
					e, s,
					"page %" G_GUINT64_FORMAT
					" is outside region '%s' (%" G_GUINT64_FORMAT " pages)",
					sp.last, r->name, nr);
			if (!i)
				first = sp.first;
			last = sp.last;
			count += sp.last - sp.first + 1;
		}
	}
	if (!count)
		return engine_bad_input(e, s, "empty page range");
	/* A syscall takes one start and length: widening a list with holes to
	 * first..last would act on pages the trace did not name. */
	if (last - first + 1 != count)
		return engine_bad_input(e, s, "%s takes one contiguous page range, not a list",
					cmd_descs[s->cmd].name);
	*start = region_page_addr(r, first);
	*len = (last - first + 1) * PAGE_SIZE;
	return true;
}

static struct task *engine_task_lookup(uint32_t id)
{
	for (guint i = 0; running && i < running->tasks->len; i++) {
		struct pending_task *pt = g_ptr_array_index(running->tasks, i);
		if (pt->task.id == id)
			return &pt->task;
	}
	return NULL;
}

/* Retry every woken task until none is runnable; a retried task may block
 * again (a new sync fault), which just leaves it pending. */
void engine_retry_woken(struct engine *e)
{
	/* Inside a race window a woken task would mostly find the window's
	 * own entries (migration entries) and wait for the path to finish;
	 * running it after the outer step is an interleaving the kernel has
	 * too, so woken tasks run when the window has closed. */
	if (e->depth)
		return;
	for (bool again = true; again && e->verdict == VERDICT_PASS;) {
		again = false;
		for (guint i = 0; i < e->tasks->len; i++) {
			struct pending_task *pt = g_ptr_array_index(e->tasks, i);
			if (pt->task.sleeping)
				continue;
			g_ptr_array_steal_index(e->tasks, i);
			int res = engine_exec_op(e, pt->step, pt);
			if (e->verbose)
				g_string_append_printf(e->out, "  task %u (line %u) retried: %s\n",
						       pt->task.id, pt->step->line,
						       flag_name_of(result_names, res)
							       ? flag_name_of(result_names, res)
							       : "?");
			if (res != RESULT_BLOCKED)
				g_free(pt);
			again = true;
			break;
		}
	}
}

static void world_init(struct world *w)
{
	w->mms = g_ptr_array_new();
	w->regions = g_ptr_array_new();
	w->files = g_ptr_array_new();
	w->uffds = g_ptr_array_new();
	w->proc_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	w->region_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	w->file_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	w->uffd_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	w->uffd_gone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void world_destroy(struct world *w)
{
	/* The state may be broken after a violation: free host memory only;
	 * machine_destroy() drops every frame and table at once. */
	for (guint i = 0; i < w->uffds->len; i++)
		userfaultfd_ctx_free(g_ptr_array_index(w->uffds, i));
	for (guint i = 0; i < w->mms->len; i++)
		mm_discard(g_ptr_array_index(w->mms, i));
	for (guint i = 0; i < w->files->len; i++)
		shmem_file_discard(g_ptr_array_index(w->files, i));
	for (guint i = 0; i < w->regions->len; i++) {
		struct region *r = g_ptr_array_index(w->regions, i);
		g_free(r->name);
		g_free(r);
	}
	g_ptr_array_free(w->mms, TRUE);
	g_ptr_array_free(w->regions, TRUE);
	g_ptr_array_free(w->files, TRUE);
	g_ptr_array_free(w->uffds, TRUE);
	g_hash_table_destroy(w->proc_by_name);
	g_hash_table_destroy(w->region_by_name);
	g_hash_table_destroy(w->file_by_name);
	g_hash_table_destroy(w->uffd_by_name);
	g_hash_table_destroy(w->uffd_gone);
}

static void run_step(struct engine *e, const struct step *s);

/* Remember where the oracle saw its violation, by region name and page:
 * the world is gone when the search tools look. */
static void engine_note_failure_page(struct engine *e, const struct step *s,
				     const struct violation *v)
{
	struct mm_struct *mm = NULL;
	uint64_t page;

	engine_last_failure.line = v->line;
	engine_last_failure.cmd = (int)s->cmd;
	engine_last_failure.advice = step_u64(s, "advice", 0);
	for (guint i = 0; i < e->world.mms->len && !mm; i++) {
		struct mm_struct *m = g_ptr_array_index(e->world.mms, i);
		if (m->id == v->mm_id)
			mm = m;
	}
	struct region *r = mm ? world_region_of(&e->world, mm, v->address, &page) : NULL;
	if (r) {
		g_strlcpy(engine_last_failure.region, r->name, sizeof(engine_last_failure.region));
		engine_last_failure.page = page;
	}
}

/* The race window: run the next N trace steps inside the path. */
static void race_cb(const char *point, void *arg)
{
	struct engine *e = arg;
	guint n = e->nested_until;
	if (e->verbose)
		g_string_append_printf(e->out, "  race window %s: running %u nested step(s)\n",
				       point, n - e->step_index);
	e->depth++;
	while (e->step_index < n && e->verdict == VERDICT_PASS) {
		const struct step *s =
			&g_array_index(e->trace->steps, struct step, e->step_index++);
		run_step(e, s);
	}
	e->depth--;
}

/* One step; returns its result, or -1 when it is an expectation or
 * stopped the replay before it completed. */
static int run_step_body(struct engine *e, const struct step *s, struct violation *v)
{
	if (e->verbose) {
		g_autoptr(GString) line = g_string_new(NULL);
		trace_write_step(line, s);
		g_string_append_printf(e->out, "%4u: %s", s->line, line->str);
	}
	if (s->cmd >= CMD_EXPECT_RESULT) {
		bool ok = engine_exec_expect(e, s);
		if (e->verbose)
			g_string_append_printf(e->out, "      %s\n", ok ? "ok" : "MISMATCH");
		return -1;
	}
	uint64_t race = step_u64(s, "race", 0);
	if (race) {
		guint total = e->trace->steps->len;
		if (e->step_index + race > total) {
			engine_bad_input(e, s,
					 "race=%" G_GUINT64_FORMAT " but only %u steps follow",
					 race, total - e->step_index);
			return -1;
		}
		e->nested_until = e->step_index + (guint)race;
		race_window_set(race_cb, e);
	}
	if (e->oracle)
		oracle_before_step(e->oracle, s);
	int res = s->cmd == CMD_SERVE ? engine_serve(e, s) : engine_exec_op(e, s, NULL);
	if (race_wait_lock) {
		/* The kernel would run this step only after the window closes. */
		if (e->depth)
			engine_bad_input(e, s,
					 "this step would sleep on a %s that the path in the "
					 "race window holds; it cannot run inside the window",
					 race_wait_lock);
		else
			engine_fail(e, s, "a %s was found held outside any race window",
				    race_wait_lock);
		race_wait_lock = NULL;
	}
	race_window_set(NULL, NULL);
	if (race && e->step_index < e->nested_until) {
		/* Never skip steps silently: the trace named a race that the
		 * path never offered. */
		engine_bad_input(e, s,
				 "race=%" G_GUINT64_FORMAT " but the path opened no race window",
				 race);
		return -1;
	}
	if (e->verdict != VERDICT_PASS)
		return -1;
	e->last_result = res;
	e->have_result = true;
	engine_retry_woken(e);
	if (e->verbose) {
		const char *rn = flag_name_of(result_names, res);
		g_string_append_printf(e->out, "      -> %s\n", rn ? rn : "?");
	}
	if (e->oracle && e->verdict == VERDICT_PASS) {
		if (!oracle_after_step(e->oracle, s, res, v)) {
			g_autoptr(GString) msg = g_string_new(NULL);
			violation_format(v, &e->world, msg);
			engine_fail_oracle(e, msg->str);
			engine_failure_kind = v->invariant;
			engine_note_failure_page(e, s, v);
		}
	}
	if (e->opts->observe)
		engine_observe_step(e, s, res);
	/* Events of nested (race window) steps belong to the outer step. */
	if (!e->depth)
		g_array_set_size(mm_events, 0);
	return res;
}

static void run_step(struct engine *e, const struct step *s)
{
	struct violation v = { 0 };
	int res = run_step_body(e, s, &v);

	if (e->opts->step_hook) {
		const struct step_report r = {
			.step = s,
			.index = (guint)(s - &g_array_index(e->trace->steps, struct step, 0)),
			.depth = e->depth,
			.result = res,
			.violation = v.invariant ? &v : NULL,
		};
		e->opts->step_hook(e, &r, e->opts->step_hook_arg);
	}
	if (v.detail)
		g_string_free(v.detail, TRUE);
}

enum verdict engine_replay(const struct trace *t, bool verbose, bool oracle_on, GString *out,
			   GString *error)
{
	const struct replay_opts opts = { .verbose = verbose, .oracle_on = oracle_on };
	return engine_replay_with(t, &opts, out, error);
}

struct engine *engine_begin(const struct trace *t, const struct replay_opts *opts, GString *out,
			    GString *error)
{
	struct engine *e = g_new0(struct engine, 1);

	memcpy(e->saved_hunks, patch_hunks, sizeof(e->saved_hunks));
	engine_failure_kind = NULL;
	memset(&engine_last_failure, 0, sizeof(engine_last_failure));
	engine_last_failure.cmd = -1;
	e->trace = t;
	e->opts = opts;
	e->verbose = opts->verbose;
	e->oracle_on = opts->oracle_on;
	e->out = out;
	e->error = error;
	e->last_scan = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	e->tasks = g_ptr_array_new();
	e->next_task_id = 1;
	machine_init(opts->frames ? opts->frames : REPLAY_FRAMES, REPLAY_SWAP_SLOTS);
	world_init(&e->world);
	running = e;
	sched_set_task_lookup(engine_task_lookup);
	if (e->oracle_on)
		e->oracle = oracle_new(&e->world);
	return e;
}

enum verdict engine_run(struct engine *e, guint until)
{
	until = MIN(until, e->trace->steps->len);
	while (e->step_index < until && e->verdict == VERDICT_PASS) {
		const struct step *s =
			&g_array_index(e->trace->steps, struct step, e->step_index++);
		run_step(e, s);
	}
	return e->verdict;
}

enum verdict engine_end(struct engine *e)
{
	enum verdict v = e->verdict;

	if (e->opts->at_end)
		e->opts->at_end(&e->world, e->tasks->len, e->opts->at_end_arg);
	/* What gup hold=1 kept and no unpin released. */
	engine_release_holds(e);
	if (e->oracle)
		oracle_free(e->oracle);
	for (guint i = 0; i < e->tasks->len; i++)
		g_free(g_ptr_array_index(e->tasks, i));
	g_ptr_array_free(e->tasks, TRUE);
	g_array_free(e->last_scan, TRUE);
	world_destroy(&e->world);
	sched_set_task_lookup(NULL);
	running = NULL;
	machine_destroy();
	memcpy(patch_hunks, e->saved_hunks, sizeof(e->saved_hunks));
	if (!engine_failure_kind && v == VERDICT_FAIL)
		engine_failure_kind = "expectation";
	if (v == VERDICT_BAD_INPUT)
		engine_failure_kind = "bad input";
	engine_last_failure.kind = engine_failure_kind;
	g_free(e);
	return v;
}

enum verdict engine_replay_with(const struct trace *t, const struct replay_opts *opts, GString *out,
				GString *error)
{
	struct engine *e = engine_begin(t, opts, out, error);
	engine_run(e, G_MAXUINT);
	return engine_end(e);
}
