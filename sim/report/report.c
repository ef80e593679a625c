/* sim/report/report.c - collect per-step deltas of a replay for mmsim report.
 *
 * A 1 GiB region has 262,144 pages and a trace may have hundreds of steps,
 * so a step keeps only the runs of pages whose state changed and a queue
 * only when it changed: the page redraws the rest from earlier steps.
 */
#include "report.h"

#include <string.h>

#include "mm/internal.h"
#include "oracle/oracle.h"
#include "patch.h"

static void queue_free(gpointer p)
{
	struct report_queue *q = p;
	g_free(q->name);
	g_ptr_array_free(q->msgs, TRUE);
	g_ptr_array_free(q->waiting, TRUE);
	g_free(q);
}

static void step_free(gpointer p)
{
	struct report_step *st = p;
	g_free(st->text);
	g_free(st->result);
	g_array_free(st->runs, TRUE);
	if (st->queues)
		g_ptr_array_free(st->queues, TRUE);
	g_free(st->failure);
	g_free(st);
}

static void region_free(gpointer p)
{
	struct report_region *rr = p;
	g_free(rr->name);
	g_free(rr->proc);
	g_free(rr->file);
	g_free(rr->states);
	g_free(rr);
}

struct report *report_new(const struct trace *t)
{
	struct report *rep = g_new0(struct report, 1);
	const char *level = patch_current_level();

	rep->trace = t;
	rep->level = g_strdup(level ? level : "custom");
	rep->kernel = g_strdup(kernel_base->name);
	rep->regions = g_ptr_array_new_with_free_func(region_free);
	rep->steps = g_ptr_array_new_with_free_func(step_free);
	rep->ran = g_hash_table_new(g_direct_hash, g_direct_equal);
	rep->last_queues = g_string_new(NULL);
	rep->failed_step = -1;
	rep->error = g_string_new(NULL);
	return rep;
}

void report_free(struct report *rep)
{
	if (!rep)
		return;
	g_free(rep->level);
	g_free(rep->kernel);
	g_ptr_array_free(rep->regions, TRUE);
	g_ptr_array_free(rep->steps, TRUE);
	g_hash_table_destroy(rep->ran);
	g_string_free(rep->last_queues, TRUE);
	g_free(rep->violation.invariant);
	g_free(rep->violation.proc);
	g_free(rep->violation.region);
	g_free(rep->violation.detail);
	g_free(rep->violation.message);
	g_string_free(rep->error, TRUE);
	g_free(rep);
}

/* "A page 7", or the raw address outside every region. */
static char *describe_addr(const struct world *w, const struct mm_struct *mm, uint64_t addr)
{
	uint64_t page;
	struct region *r = world_region_of(w, mm, addr, &page);
	if (r)
		return g_strdup_printf("%s page %" G_GUINT64_FORMAT, r->name, page);
	return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", addr);
}

static char *describe_msg(const struct world *w, const struct userfaultfd_ctx *ctx,
			  const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT: {
		g_autofree char *where = describe_addr(w, ctx->mm, m->address);
		const char *kind = m->flags & UFFD_PAGEFAULT_FLAG_RWP	  ? "RWP"
				   : m->flags & UFFD_PAGEFAULT_FLAG_WP	  ? "WP"
				   : m->flags & UFFD_PAGEFAULT_FLAG_MINOR ? "MINOR"
									  : "MISSING";
		return g_strdup_printf("pagefault %s%s %s", kind,
				       m->flags & UFFD_PAGEFAULT_FLAG_WRITE ? " write" : "", where);
	}
	case UFFD_EVENT_FORK:
		return g_strdup_printf("fork (child context %u)", m->fork.ufd);
	case UFFD_EVENT_REMAP:
		return g_strdup_printf("remap 0x%" G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER
				       "x len 0x%" G_GINT64_MODIFIER "x",
				       m->remap.from, m->remap.to, m->remap.len);
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		return g_strdup_printf("%s 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x",
				       m->event == UFFD_EVENT_REMOVE ? "remove" : "unmap",
				       m->remove.start, m->remove.end);
	default:
		return g_strdup_printf("event 0x%x", m->event);
	}
}

/* Every context's queue, by name (hash order is not stable); kept on the
 * step only when it differs from the last one kept. */
static GPtrArray *snapshot_queues(struct report *rep, const struct world *w)
{
	g_autoptr(GPtrArray) names = world_uffd_names(w);
	g_autoptr(GString) key = g_string_new(NULL);
	GPtrArray *queues = g_ptr_array_new_with_free_func(queue_free);
	for (guint i = 0; i < names->len; i++) {
		const char *n = g_ptr_array_index(names, i);
		const struct userfaultfd_ctx *ctx = g_hash_table_lookup(w->uffd_by_name, n);
		struct report_queue *q = g_new0(struct report_queue, 1);
		q->name = g_strdup(n);
		q->msgs = g_ptr_array_new_with_free_func(g_free);
		q->waiting = g_ptr_array_new_with_free_func(g_free);
		q->waiters = ctx->waiters->len;
		g_string_append_printf(key, "%s:", n);
		for (guint m = 0; m < ctx->msgs->len; m++) {
			char *d =
				describe_msg(w, ctx, &g_array_index(ctx->msgs, struct uffd_msg, m));
			g_string_append_printf(key, "%s;", d);
			g_ptr_array_add(q->msgs, d);
		}
		for (guint t = 0; t < ctx->waiters->len; t++) {
			const struct uffd_waiter *wt =
				&g_array_index(ctx->waiters, struct uffd_waiter, t);
			g_autofree char *where = describe_addr(w, ctx->mm, wt->address);
			char *d = g_strdup_printf("task %u at %s", wt->task, where);
			g_string_append_printf(key, "%s;", d);
			g_ptr_array_add(q->waiting, d);
		}
		g_string_append_c(key, '\n');
		g_ptr_array_add(queues, q);
	}
	if (rep->steps->len && !strcmp(key->str, rep->last_queues->str)) {
		g_ptr_array_free(queues, TRUE);
		return NULL;
	}
	g_string_assign(rep->last_queues, key->str);
	return queues;
}

/* Classify every page of every region; record the runs that changed. */
static void snapshot_pages(struct report *rep, const struct world *w, struct report_step *st)
{
	for (guint i = 0; i < w->regions->len; i++) {
		struct region *r = g_ptr_array_index(w->regions, i);
		struct report_region *rr;
		struct vm_area_struct *vma = NULL; /* valid within this walk only */

		if (i >= rep->regions->len) {
			rr = g_new0(struct report_region, 1);
			rr->name = g_strdup(r->name);
			rr->proc = g_strdup(r->mm->name ? r->mm->name : "?");
			rr->file = g_strdup(r->file ? r->file->name : NULL);
			rr->start = r->start;
			rr->pages = r->len / PAGE_SIZE;
			rr->first_step = rep->steps->len;
			rr->states = g_malloc(rr->pages);
			memset(rr->states, PAGE_STATE_UNMAPPED, rr->pages);
			g_ptr_array_add(rep->regions, rr);
		}
		rr = g_ptr_array_index(rep->regions, i);
		struct report_run run = { .region = i, .count = 0 };
		for (uint64_t p = 0; p < rr->pages; p++) {
			guint8 s = (guint8)observe_page_state(r, p, &vma);
			bool changed = s != rr->states[p];
			/* Close the open run when this page does not extend it. */
			if (run.count &&
			    (!changed || s != run.state || p != run.first + run.count)) {
				g_array_append_val(st->runs, run);
				run.count = 0;
			}
			if (!changed)
				continue;
			rr->states[p] = s;
			if (!run.count) {
				run.first = p;
				run.state = s;
			}
			run.count++;
		}
		if (run.count)
			g_array_append_val(st->runs, run);
	}
}

static void note_violation(struct report *rep, const struct engine *e, const struct violation *v)
{
	struct report_violation *rv = &rep->violation;
	g_autoptr(GString) msg = g_string_new(NULL);
	/* The engine has just resolved the address to a region and page. */
	const struct engine_failure *f = &engine_last_failure;
	struct region *r =
		f->region[0] ? g_hash_table_lookup(e->world.region_by_name, f->region) : NULL;

	rep->have_violation = true;
	rv->step = rep->steps->len;
	rv->line = v->line;
	rv->invariant = g_strdup(v->invariant);
	rv->proc = g_strdup(r && r->mm->name ? r->mm->name : "?");
	rv->address = v->address;
	rv->region = r ? g_strdup(r->name) : NULL;
	rv->page = r ? f->page : 0;
	rv->before = v->before;
	rv->after = v->after;
	rv->detail = g_strdup(v->detail ? v->detail->str : "");
	violation_format(v, &e->world, msg);
	rv->message = g_strdup(msg->str);
}

void report_step_hook(const struct engine *e, const struct step_report *r, void *arg)
{
	struct report *rep = arg;
	struct report_step *st = g_new0(struct report_step, 1);
	g_autoptr(GString) text = g_string_new(NULL);
	bool failed = e->verdict != VERDICT_PASS && rep->failed_step < 0;

	trace_write_step(text, r->step);
	g_strchomp(text->str);
	st->index = r->index;
	st->line = r->step->line;
	st->depth = r->depth;
	st->text = g_strdup(text->str);
	if (r->result >= 0) {
		const char *rn = flag_name_of(result_names, (uint64_t)r->result);
		st->result = g_strdup(rn ? rn : "?");
	} else if (r->step->cmd >= CMD_EXPECT_RESULT) {
		st->result = g_strdup(failed ? "mismatch" : "holds");
	} else {
		st->result = g_strdup(e->verdict == VERDICT_BAD_INPUT ? "bad input" : "failed");
	}
	st->runs = g_array_new(FALSE, FALSE, sizeof(struct report_run));
	if (r->violation && !rep->have_violation)
		note_violation(rep, e, r->violation);
	if (failed) {
		rep->failed_step = (int)rep->steps->len;
		st->failure = g_strdup(e->error->str);
	}
	snapshot_pages(rep, &e->world, st);
	st->queues = snapshot_queues(rep, &e->world);
	g_hash_table_add(rep->ran, GUINT_TO_POINTER(r->index + 1));
	g_ptr_array_add(rep->steps, st);
}

enum verdict report_replay(struct report *rep)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const struct replay_opts opts = {
		.oracle_on = true,
		.step_hook = report_step_hook,
		.step_hook_arg = rep,
	};
	rep->verdict = engine_replay_with(rep->trace, &opts, out, rep->error);
	return rep->verdict;
}
