/* tests/unit/test_engine_replay.c - engine_replay() on traces built with
 * trace_parse_string(): expectations that must pass and ones that must fail,
 * tasks blocked in sync userfaults and woken by serve, race=N windows, and
 * bad input reported as "path:line: message" with VERDICT_BAD_INPUT.
 */
#include <string.h>

#include "mmsim_test.h"
#include "engine/engine.h"
#include "trace/trace.h"

#define PATH "t.trace"

struct run {
	enum verdict verdict;
	GString *out, *error;
};

static int setup(void **state)
{
	assert_true(patch_set_level("v6"));
	return 0;
}

/* Parse and replay text; the parse must succeed. */
static struct run replay(const char *text)
{
	g_autoptr(GString) perr = g_string_new(NULL);
	struct trace *t = trace_parse_string(PATH, text, perr);
	if (!t)
		fail_msg("parse error: %s", perr->str);
	struct run r = { .out = g_string_new(NULL), .error = g_string_new(NULL) };
	r.verdict = engine_replay(t, true, true, r.out, r.error);
	trace_free(t);
	return r;
}

static void run_free(struct run *r)
{
	g_string_free(r->out, TRUE);
	g_string_free(r->error, TRUE);
}

static void expect_verdict(const char *name, const char *text, enum verdict want,
			   const char *error_prefix)
{
	struct run r = replay(text);
	if (r.verdict != want)
		fail_msg("%s: verdict %d, expected %d\nerror: %s\nlog:\n%s", name, r.verdict, want,
			 r.error->str, r.out->str);
	if (error_prefix && strncmp(r.error->str, error_prefix, strlen(error_prefix)))
		fail_msg("%s: error '%s' does not start with '%s'", name, r.error->str,
			 error_prefix);
	if (want == VERDICT_PASS)
		assert_int_equal(r.error->len, 0);
	else
		assert_true(r.error->len > 0);
	run_free(&r);
}

#define RWP_PREFIX                                    \
	"process P\n"                                 \
	"mmap A proc=P len=16K prot=rw map=private\n" \
	"write A pages=0-3 value=0xcd\n"              \
	"uffd open U proc=P\n"

/* RWP_PREFIX with a sync RWP registration and every page armed. */
#define RWP_ARMED                                 \
	RWP_PREFIX "uffd api U features=RWP\n"    \
		   "uffd register U A mode=RWP\n" \
		   "uffd rwprotect U A mode=RWP\n"

/* Sync RWP: the reader sleeps with one message queued; serve resolves the
 * page, wakes the task, and the retried read completes. */
static void sync_rwp_read_blocks_until_serve_resolves_and_wakes_it(void **state)
{
	expect_verdict("sync",
		       RWP_ARMED "expect pte A pages=0-3 state=armed\n"
				 "expect pagemap A pages=0-3 present=1 uffd=1\n"
				 "expect accessed A pages=none\n"
				 "read A pages=1\n"
				 "expect result is=blocked\n"
				 "expect blocked count=1\n"
				 "expect msgs U count=1\n"
				 "expect pte A pages=1 state=armed\n"
				 "serve U\n"
				 "expect blocked count=0\n"
				 "expect msgs U count=0\n"
				 "expect pte A pages=1 state=present\n"
				 "expect pte A pages=0,2-3 state=armed\n"
				 "expect accessed A pages=1\n"
				 "expect content A pages=0-3 value=0xcd\n",
		       VERDICT_PASS, NULL);
	/* A second reader of another page blocks too; one serve wakes both. */
	expect_verdict("two sleepers",
		       RWP_ARMED "read A pages=0\n"
				 "write A pages=2 value=0x22\n"
				 "expect result is=blocked\n"
				 "expect blocked count=2\n"
				 "expect msg U A page=0 flags=RWP\n"
				 "expect msg U A page=2 flags=WRITE|RWP\n"
				 "uffd rwprotect U A mode=0\n"
				 "expect blocked count=0\n"
				 "expect content A pages=2 value=0x22\n"
				 "expect accessed A pages=0-3\n",
		       VERDICT_PASS, NULL);
}

static void async_rwp_access_resolves_in_place_without_messages(void **state)
{
	expect_verdict("async",
		       RWP_PREFIX "uffd api U features=RWP|RWP_ASYNC\n"
				  "uffd register U A mode=RWP\n"
				  "uffd rwprotect U A mode=RWP\n"
				  "read A pages=2\n"
				  "expect result is=ok\n"
				  "expect msgs U count=0\n"
				  "expect blocked count=0\n"
				  "expect accessed A pages=2\n"
				  "expect pagemap A pages=2 present=1 uffd=0\n"
				  "expect pagemap A pages=3 present=1 uffd=1\n"
				  "uffd set-mode U disable=RWP_ASYNC\n"
				  "read A pages=3\n"
				  "expect result is=blocked\n"
				  "uffd set-mode U enable=RWP_ASYNC\n"
				  "expect blocked count=0\n"
				  "expect accessed A pages=2-3\n",
		       VERDICT_PASS, NULL);
}

/* Each wrong expectation fails the trace at its own line. */
static void a_wrong_expectation_fails_the_trace_at_its_line(void **state)
{
	static const struct {
		const char *name;
		const char *expect;
	} rows[] = {
		{ "pte state", "expect pte A pages=1 state=present\n" },
		{ "content", "expect content A pages=1 value=0xce\n" },
		{ "result", "expect result is=EINVAL\n" },
		{ "msgs", "expect msgs U count=1\n" },
		{ "blocked", "expect blocked count=1\n" },
		{ "accessed", "expect accessed A pages=1\n" },
		{ "pagemap", "expect pagemap A pages=0 uffd=0\n" },
		{ "msg", "expect msg U A page=0\n" },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *text =
			g_strconcat(RWP_ARMED, rows[i].expect, "read A pages=0\n", NULL);
		/* The expectation is line 8; nothing after it runs. */
		expect_verdict(rows[i].name, text, VERDICT_FAIL, "line 8: ");
	}
	/* The same lines hold when true. */
	expect_verdict("all true",
		       RWP_ARMED "expect pte A pages=1 state=armed\n"
				 "expect content A pages=1 value=0xcd\n"
				 "expect result is=ok\n"
				 "expect msgs U count=0\n"
				 "expect blocked count=0\n"
				 "expect accessed A pages=none\n"
				 "expect pagemap A pages=0 uffd=1 present=1 swap=0\n",
		       VERDICT_PASS, NULL);
}

/* Input the parser accepts but the engine must reject: path:line:. */
static void semantically_bad_input_is_reported_with_path_and_line(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		const char *prefix;
	} rows[] = {
		{ "page outside region",
		  "process P\nmmap A proc=P len=8K prot=rw map=private\nread A pages=2\n",
		  PATH ":3: " },
		{ "race past the end",
		  "process P\nmmap A proc=P len=8K prot=rw map=private\nread A pages=0\n"
		  "madvise A advice=COLLAPSE race=5\n",
		  PATH ":4: " },
		{ "expect result first", "expect result is=ok\nprocess P\n", PATH ":1: " },
		{ "file size", "file F size=5000\n", PATH ":1: " },
		{ "mthp order 1", "thp enabled=always mthp=1\n", PATH ":1: " },
		{ "uffd on another process's region",
		  "process P\nprocess Q\nmmap A proc=P len=8K prot=rw map=private\n"
		  "uffd open U proc=Q\nuffd api U features=RWP\nuffd register U A mode=RWP\n",
		  PATH ":6: " },
		{ "gup flags without caller=explicit",
		  "process P\nmmap A proc=P len=8K prot=rw map=private\n"
		  "gup A pages=0 caller=vmsplice flags=FORCE\n",
		  PATH ":3: " },
		{ "fallocate past the file", "file F size=8K\nfallocate F mode=punch pages=1-2\n",
		  PATH ":2: " },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++)
		expect_verdict(rows[i].name, rows[i].text, VERDICT_BAD_INPUT, rows[i].prefix);
}

#define COLLAPSE_PREFIX                                       \
	"thp enabled=never\n"                                 \
	"process P\n"                                         \
	"mmap A proc=P len=2M prot=rw map=private align=2M\n" \
	"write A pages=0-511 value=0x5\n"

/* race=N runs the next N steps inside the path's window, once; the steps
 * see the state before the collapse and the trace goes on after them. */
static void race_window_runs_the_next_steps_inside_the_path(void **state)
{
	expect_verdict("inside",
		       COLLAPSE_PREFIX "madvise A advice=COLLAPSE race=2\n"
				       "expect pte A pages=0 state=present\n"
				       "write A pages=7 value=0x77\n"
				       "expect pte A pages=0 state=pmd\n"
				       "expect content A pages=7 value=0x77\n"
				       "expect content A pages=8 value=0x5\n",
		       VERDICT_PASS, NULL);
	/* A nested expectation that is false fails at its own line. */
	expect_verdict("nested failure",
		       COLLAPSE_PREFIX "madvise A advice=COLLAPSE race=1\n"
				       "expect pte A pages=0 state=pmd\n",
		       VERDICT_FAIL, "line 6: ");
}

/* A window that never opens (MADV_DONTNEED has none) must not swallow
 * the steps it was given: either they run or the trace is rejected. */
static void steps_of_a_race_window_that_never_opens_are_not_silently_dropped(void **state)
{
	expect_verdict("never opens",
		       "process P\nmmap A proc=P len=8K prot=rw map=private\n"
		       "write A pages=0-1 value=0x1\n"
		       "madvise A pages=0 advice=DONTNEED race=1\n"
		       "expect pte A pages=1 state=none\n",
		       VERDICT_BAD_INPUT, "t.trace:4: race=1 but the path opened no race window");
}

/* hunk steps change the switches for the rest of the trace only. */
static void hunk_overrides_end_with_the_replay(void **state)
{
	assert_true(patch_hunk(HUNK_08D));
	expect_verdict("hunk", "hunk 08d state=off\nprocess P\n", VERDICT_PASS, NULL);
	assert_true(patch_hunk(HUNK_08D));
	assert_string_equal(patch_current_level(), "v6");
}

/* The machine is fresh for every replay: names and pages do not leak. */
static void each_replay_starts_from_a_fresh_machine(void **state)
{
	for (int i = 0; i < 2; i++)
		expect_verdict("fresh",
			       "process P\nmmap A proc=P len=8K prot=rw map=private\n"
			       "expect pte A pages=0-1 state=no-table\n"
			       "expect content A pages=0-1 value=0\n"
			       "write A pages=0 value=0x9\n"
			       "expect pte A pages=0 state=present\n"
			       "expect pte A pages=1 state=none\n",
			       VERDICT_PASS, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync_rwp_read_blocks_until_serve_resolves_and_wakes_it),
		cmocka_unit_test(async_rwp_access_resolves_in_place_without_messages),
		cmocka_unit_test(a_wrong_expectation_fails_the_trace_at_its_line),
		cmocka_unit_test(semantically_bad_input_is_reported_with_path_and_line),
		cmocka_unit_test(race_window_runs_the_next_steps_inside_the_path),
		cmocka_unit_test(steps_of_a_race_window_that_never_opens_are_not_silently_dropped),
		cmocka_unit_test(hunk_overrides_end_with_the_replay),
		cmocka_unit_test(each_replay_starts_from_a_fresh_machine),
	};
	return cmocka_run_group_tests_name("engine replay", tests, setup, NULL);
}
