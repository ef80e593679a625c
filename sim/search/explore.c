/* sim/search/explore.c - exhaustive bounded exploration behind `mmsim explore`.
 *
 * From a fixed setup (one process, an anonymous and a shmem region of one
 * PMD each, populated, registered for RWP with a sync context), every
 * sequence of up to D operations over a fixed alphabet is tried, breadth
 * first. A sequence whose final state (search_state_digest) was reached
 * before is not extended, so each state is expanded once; the first
 * violation of each invariant found is therefore a shortest one.
 *
 * There is no snapshot of the machine: a sequence is replayed from the
 * setup every time. Sequences are at most D steps, so that costs D steps
 * per state, and keeps the engine the only thing that runs paths.
 *
 * Sharding: the states after the first operation are dealt out round-robin
 * by their BFS index; shard i of N explores the subtrees of its share. The
 * order is deterministic, so N shards together cover the whole space
 * (states reachable from two shares are explored by both).
 */
#include "search/explore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "search/search.h"

/* The search's shared bookkeeping. */
struct explore_state {
	struct explore_stats *st;
	GString *out;
	GHashTable *seen;  /* state digests */
	GHashTable *found; /* invariants already reported */
	GArray *next;	   /* the next depth's frontier */
	GTimer *timer;
	GArray *finds; /* explore_options.finds */
};

/* The shmem file is not huge=1: its pages stay PTE-mapped small folios,
 * so arming works per page and MADV_COLLAPSE has something to collapse
 * (a PMD-mapped file page is split and zapped by arming, the documented
 * file-THP limitation, which would leave nothing armed). The anon region
 * is not MADV_HUGEPAGE either; the default THP mode is madvise. */
const char explore_setup[] = "process P\n"
			     "file F size=2M\n"
			     "mmap A proc=P len=2M prot=rw map=private align=2M\n"
			     "mmap M proc=P len=2M prot=rw map=shared file=F align=2M\n"
			     "write A pages=0-511 value=1\n"
			     "write M pages=0-511 value=2\n"
			     "uffd open U proc=P\n"
			     "uffd api U features=RWP|EVENT_FORK\n"
			     "uffd register U A mode=RWP\n"
			     "uffd register U M mode=RWP\n";

enum op_rule {
	OP_ANY,
	OP_ONCE,       /* fork, mremap: names can be declared once */
	OP_AFTER_FORK, /* names the fork child */
};

struct explore_op {
	const char *text;
	enum op_rule rule;
};

/* Per region: arm, resolve one page, accesses at both PMD edges, GUP by a
 * caller without FOLL_HONOR_NUMA_FAULT and a FOLL_FORCE one, an mprotect
 * round trip, collapse, reclaim, migration with split, a NUMA scan and a
 * partial DONTNEED (which splits). Then the daemons, the handler, the
 * async switch, fork and mremap. */
static const struct explore_op ops[] = {
	{ "uffd rwprotect U A mode=RWP", OP_ANY },
	{ "uffd rwprotect U A pages=0 mode=0", OP_ANY },
	{ "read A pages=0", OP_ANY },
	{ "write A pages=511 value=3", OP_ANY },
	{ "gup A pages=1 caller=pin_user_pages", OP_ANY },
	{ "gup A pages=0 caller=proc_mem_read", OP_ANY },
	{ "mprotect A prot=none", OP_ANY },
	{ "mprotect A prot=rw", OP_ANY },
	{ "madvise A advice=COLLAPSE", OP_ANY },
	{ "reclaim A pages=1", OP_ANY },
	{ "migrate A split=1", OP_ANY },
	{ "numa-scan A", OP_ANY },
	{ "madvise A pages=511 advice=DONTNEED", OP_ANY },
	{ "uffd rwprotect U M mode=RWP", OP_ANY },
	{ "uffd rwprotect U M pages=0 mode=0", OP_ANY },
	{ "read M pages=0", OP_ANY },
	{ "write M pages=511 value=4", OP_ANY },
	{ "gup M pages=1 caller=pin_user_pages", OP_ANY },
	{ "mprotect M prot=none", OP_ANY },
	{ "mprotect M prot=rw", OP_ANY },
	{ "madvise M advice=COLLAPSE", OP_ANY },
	{ "reclaim M pages=1", OP_ANY },
	{ "khugepaged pass P", OP_ANY },
	{ "serve U", OP_ANY },
	{ "uffd set-mode U enable=RWP_ASYNC", OP_ANY },
	{ "fork C parent=P", OP_ONCE },
	{ "read C.A pages=0", OP_AFTER_FORK },
	{ "mremap R from=A", OP_ONCE },
};

const char *explore_op_text(unsigned i) { return i < G_N_ELEMENTS(ops) ? ops[i].text : NULL; }
const unsigned explore_alphabet_len = G_N_ELEMENTS(ops);

struct seq {
	uint8_t len;
	uint8_t op[EXPLORE_MAX_DEPTH];
};

static bool seq_allows(const struct seq *s, unsigned op)
{
	bool forked = false;
	for (unsigned i = 0; i < s->len; i++) {
		if (s->op[i] == op && ops[op].rule == OP_ONCE)
			return false;
		forked |= !strncmp(ops[s->op[i]].text, "fork", 4);
	}
	return ops[op].rule != OP_AFTER_FORK || forked;
}

static void seq_text(const struct seq *s, GString *out)
{
	g_string_assign(out, explore_setup);
	for (unsigned i = 0; i < s->len; i++)
		g_string_append_printf(out, "%s\n", ops[s->op[i]].text);
}

/* What a child process reports about one branch. */
struct branch {
	int verdict; /* enum verdict; -1: the child died */
	char invariant[48];
	uint32_t line;
	int cmd;
	uint64_t advice;
	char region[48];
	uint64_t page;
	char error[512];
	char digest[STATE_HASH_HEX];
};

static void engine_digest(struct engine *e, char out[STATE_HASH_HEX])
{
	struct state_hash sum;
	state_hash_init(&sum);
	search_state_digest(&e->world, e->tasks->len, &sum);
	state_hash_hex(&sum, out);
}

/* In the child: run the last step of t (the branch's operation) on the
 * state the parent built, report, and leave without tearing anything down
 * (the parent owns it all). */
static void G_GNUC_NORETURN run_branch(struct engine *e, const struct trace *t, int fd)
{
	struct branch b = { 0 };
	enum verdict v;

	e->trace = t;
	v = engine_run(e, G_MAXUINT);
	b.verdict = (int)v;
	const char *kind = engine_failure_kind;
	if (!kind && v == VERDICT_FAIL)
		kind = "expectation";
	if (v == VERDICT_BAD_INPUT)
		kind = "bad input";
	g_strlcpy(b.invariant, kind ? kind : "", sizeof(b.invariant));
	b.line = engine_last_failure.line;
	b.cmd = engine_last_failure.cmd;
	b.advice = engine_last_failure.advice;
	g_strlcpy(b.region, engine_last_failure.region, sizeof(b.region));
	b.page = engine_last_failure.page;
	g_strlcpy(b.error, e->error->str, sizeof(b.error));
	if (v == VERDICT_PASS)
		engine_digest(e, b.digest);
	ssize_t n = write(fd, &b, sizeof(b));
	_exit(n == (ssize_t)sizeof(b) ? 0 : 1);
}

/* Branch from the engine's current state with the last step of t, in a
 * forked child: the state is shared copy-on-write, nothing is replayed. */
static void fork_branch(struct engine *e, const struct trace *t, struct branch *b)
{
	int fds[2];
	pid_t pid;

	memset(b, 0, sizeof(*b));
	b->verdict = -1;
	fflush(NULL);
	if (pipe(fds) || (pid = fork()) < 0) {
		g_strlcpy(b->error, g_strerror(errno), sizeof(b->error));
		return;
	}
	if (!pid) {
		close(fds[0]);
		run_branch(e, t, fds[1]);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < sizeof(*b)) {
		ssize_t n = read(fds[0], (char *)b + got, sizeof(*b) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (got != sizeof(*b)) {
		memset(b, 0, sizeof(*b));
		b->verdict = -1;
		g_snprintf(b->error, sizeof(b->error), "the branch process died (status 0x%x)",
			   status);
	}
}

void explore_find_clear(gpointer p)
{
	struct explore_find *f = p;

	g_free(f->text);
	g_free(f->error);
}

/* Expand one frontier node: replay its sequence once, then branch with
 * every operation the alphabet allows after it. */
static void expand(const struct seq *parent, unsigned d, struct explore_state *x)
{
	static const struct replay_opts opts = { .oracle_on = true, .frames = SEARCH_FRAMES };
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) sink = g_string_new(NULL);
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GArray) findings = g_array_new(FALSE, FALSE, sizeof(struct explore_find));

	seq_text(parent, text);
	struct trace *pt = trace_parse_string("explore.trace", text->str, err);
	if (!pt)
		return;
	struct engine *e = engine_begin(pt, &opts, sink, err);
	engine_run(e, G_MAXUINT);
	x->st->replays++;
	for (unsigned op = 0; e->verdict == VERDICT_PASS && op < explore_alphabet_len; op++) {
		if (!seq_allows(parent, op))
			continue;
		struct seq child = *parent;
		struct branch b;
		child.op[child.len++] = (uint8_t)op;
		seq_text(&child, text);
		g_autoptr(GString) perr = g_string_new(NULL);
		struct trace *ct = trace_parse_string("explore.trace", text->str, perr);
		if (!ct) {
			x->st->refused++;
			continue;
		}
		fork_branch(e, ct, &b);
		trace_free(ct);
		x->st->branches++;
		if (b.verdict == -1) {
			g_string_append_printf(x->out, "branch failed: %s\n%s", b.error, text->str);
			x->st->crashes++;
			continue;
		}
		if (b.verdict == VERDICT_BAD_INPUT) {
			x->st->refused++;
			continue;
		}
		if (b.verdict == VERDICT_FAIL) {
			struct outcome oc = { .verdict = VERDICT_FAIL,
					      .invariant = g_intern_string(b.invariant),
					      .line = b.line,
					      .cmd = b.cmd,
					      .advice = b.advice,
					      .page = b.page };
			g_strlcpy(oc.region, b.region, sizeof(oc.region));
			if (!outcome_is_violation(&oc) ||
			    g_hash_table_contains(x->found, oc.invariant))
				continue;
			g_hash_table_add(x->found, g_strdup(oc.invariant));
			/* Classifying replays from scratch, which needs the one
			 * machine this process has: after engine_end() below. */
			struct explore_find f = { .oc = oc,
						  .text = g_strdup(text->str),
						  .error = g_strdup(b.error),
						  .depth = d,
						  .at = g_timer_elapsed(x->timer, NULL) };
			g_array_append_val(findings, f);
			continue;
		}
		if (!g_hash_table_add(x->seen, g_strdup(b.digest))) {
			x->st->pruned++;
			continue;
		}
		x->st->states++;
		x->st->per_depth[d]++;
		g_array_append_val(x->next, child);
	}
	engine_end(e);
	trace_free(pt);
	for (guint i = 0; i < findings->len; i++) {
		struct explore_find *f = &g_array_index(findings, struct explore_find, i);
		search_classify(f->text, &f->oc);
		g_string_append_printf(x->out,
				       "violation '%s'%s%s at depth %u after %.1f s (shortest):\n%s"
				       "  -> %s\n",
				       f->oc.invariant, f->oc.kind[0] ? ", kind " : "", f->oc.kind,
				       f->depth, f->at, f->text, f->error);
		if (x->finds)
			g_array_append_val(x->finds, *f); /* it owns the strings now */
		else
			explore_find_clear(f);
	}
}

unsigned explore_run(const struct explore_options *o, GString *out, struct explore_stats *st)
{
	static const struct replay_opts opts = { .oracle_on = true, .frames = SEARCH_FRAMES };
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GArray) frontier = g_array_new(FALSE, TRUE, sizeof(struct seq));
	g_autoptr(GArray) next = g_array_new(FALSE, TRUE, sizeof(struct seq));
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) sink = g_string_new(NULL);
	g_autoptr(GTimer) timer = g_timer_new();
	unsigned depth = MIN(o->depth, EXPLORE_MAX_DEPTH);
	struct explore_state x = { .st = st,
				   .out = out,
				   .seen = seen,
				   .found = found,
				   .timer = timer,
				   .finds = o->finds };
	double last_progress = 0;
	char digest[STATE_HASH_HEX];

	memset(st, 0, sizeof(*st));
	st->alphabet = explore_alphabet_len;
	/* The setup's own state. */
	struct trace *t = trace_parse_string("explore.trace", explore_setup, err);
	struct engine *e = t ? engine_begin(t, &opts, sink, err) : NULL;
	if (!e || engine_run(e, G_MAXUINT) != VERDICT_PASS) {
		g_string_append_printf(out, "the setup itself fails: %s\n", err->str);
		if (e)
			engine_end(e);
		if (t)
			trace_free(t);
		return 1;
	}
	engine_digest(e, digest);
	engine_end(e);
	trace_free(t);
	st->replays++;
	g_hash_table_add(seen, g_strdup(digest));
	st->states = 1;
	st->per_depth[0] = 1;
	struct seq root = { 0 };
	g_array_append_val(frontier, root);

	for (unsigned d = 1; d <= depth && frontier->len; d++) {
		g_array_set_size(next, 0);
		x.next = next;
		for (guint n = 0; n < frontier->len; n++) {
			expand(&g_array_index(frontier, struct seq, n), d, &x);
			double now = g_timer_elapsed(timer, NULL);
			if (o->progress && now - last_progress >= 0.5) {
				fprintf(stderr,
					"\rexplore: depth %u, node %u/%u, %" G_GUINT64_FORMAT
					" states, %.0f states/s ",
					d, n + 1, frontier->len, st->states,
					(double)st->states / now);
				last_progress = now;
			}
		}
		/* One line per finished depth, flushed: a long run that is
		 * stopped still says how far it got. */
		if (o->depth_lines) {
			printf("depth %u done: %" G_GUINT64_FORMAT " new states, %" G_GUINT64_FORMAT
			       " branches, %u invariants violated, %.1f s\n",
			       d, st->per_depth[d], st->branches, g_hash_table_size(found),
			       g_timer_elapsed(timer, NULL));
			fflush(stdout);
		}
		/* Deal out the first level's states between the shards. */
		if (d == 1 && o->nr_shards > 1) {
			guint kept = 0;
			for (guint n = 0; n < next->len; n++)
				if (n % o->nr_shards == o->shard)
					g_array_index(next, struct seq, kept++) =
						g_array_index(next, struct seq, n);
			g_array_set_size(next, kept);
		}
		GArray *tmp = frontier;
		frontier = next;
		next = tmp;
	}
	if (o->progress)
		fputc('\n', stderr);
	st->seconds = g_timer_elapsed(timer, NULL);
	return g_hash_table_size(found);
}
