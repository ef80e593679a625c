/* tests/unit/test_report_html.c - mmsim report's collector and HTML writer:
 * one report step per step that ran, deltas that rebuild the final page
 * states, queues kept only when they change, the violation on the step that
 * failed, JSON escaping, and a page that loads nothing and is the same
 * bytes twice.
 */
#include <string.h>

#include "mmsim_test.h"
#include "report/report.h"
#include "trace/trace.h"

#define PATH "t.trace"

/* Sync RWP: arm 4 pages, a read of page 1 blocks with one message. */
static const char sync_trace[] = "process P\n"
				 "mmap A proc=P len=16K prot=rw map=private\n"
				 "write A pages=0-3 value=7\n"
				 "uffd open U proc=P\n"
				 "uffd api U features=RWP\n"
				 "uffd register U A mode=RWP\n"
				 "uffd rwprotect U A mode=RWP\n"
				 "read A pages=1\n"
				 "expect msgs U count=1\n";

static int setup(void **state)
{
	assert_true(patch_set_level("v6"));
	return 0;
}

struct run {
	struct trace *t;
	struct report *rep;
};

static struct run run_text(const char *path, const char *text)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct run r = { .t = trace_parse_string(path, text, err) };
	if (!r.t)
		fail_msg("parse error: %s", err->str);
	r.rep = report_new(r.t);
	report_replay(r.rep);
	return r;
}

static struct run run_file(const char *rel, const char *level)
{
	const char *src = g_getenv("MMSIM_SOURCE_DIR");
	g_autofree char *path = g_build_filename(src ? src : ".", rel, NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(patch_set_level(level));
	struct run r = { .t = trace_parse_file(path, err) };
	if (!r.t)
		fail_msg("%s: %s", path, err->str);
	r.rep = report_new(r.t);
	report_replay(r.rep);
	return r;
}

static void run_free(struct run *r)
{
	report_free(r->rep);
	trace_free(r->t);
}

static char *html_of(const struct report *rep)
{
	GString *out = g_string_new(NULL);
	report_write_html(rep, out);
	return g_string_free(out, FALSE);
}

static guint count_of(const char *hay, const char *needle)
{
	guint n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const struct report_step *step_at(const struct report *rep, guint i)
{
	return g_ptr_array_index(rep->steps, i);
}

static void test_steps_and_deltas(void **state)
{
	struct run r = run_text(PATH, sync_trace);
	struct report *rep = r.rep;

	assert_int_equal(rep->verdict, VERDICT_PASS);
	assert_int_equal(rep->failed_step, -1);
	assert_false(rep->have_violation);
	/* Every step ran: one report step each, in trace order. */
	assert_int_equal(rep->steps->len, r.t->steps->len);
	for (guint i = 0; i < rep->steps->len; i++)
		assert_int_equal(step_at(rep, i)->index, i);
	assert_int_equal(rep->regions->len, 1);
	const struct report_region *a = g_ptr_array_index(rep->regions, 0);
	assert_string_equal(a->name, "A");
	assert_int_equal(a->pages, 4);
	assert_int_equal(a->first_step, 1);

	/* Replaying the runs from "unmapped" gives the last snapshot. */
	guint8 states[4];
	memset(states, PAGE_STATE_UNMAPPED, sizeof(states));
	for (guint i = 0; i < rep->steps->len; i++) {
		const GArray *runs = step_at(rep, i)->runs;
		for (guint j = 0; j < runs->len; j++) {
			const struct report_run *run = &g_array_index(runs, struct report_run, j);
			assert_int_equal(run->region, 0);
			assert_true(run->first + run->count <= 4);
			memset(states + run->first, (int)run->state, run->count);
		}
	}
	assert_memory_equal(states, a->states, sizeof(states));
	/* rwprotect armed all four pages in one run, from accessed. */
	const GArray *arm = step_at(rep, 6)->runs;
	assert_int_equal(arm->len, 1);
	assert_int_equal(g_array_index(arm, struct report_run, 0).state, 1 /* armed */);
	assert_int_equal(g_array_index(arm, struct report_run, 0).count, 4);
	/* The blocked read changed no page: still armed, a message queued. */
	assert_string_equal(step_at(rep, 7)->result, "blocked");
	assert_int_equal(step_at(rep, 7)->runs->len, 0);
	assert_int_equal(a->states[1], 1);
	const GPtrArray *q = step_at(rep, 7)->queues;
	assert_non_null(q);
	const struct report_queue *u = g_ptr_array_index(q, 0);
	assert_string_equal(u->name, "U");
	assert_int_equal(u->msgs->len, 1);
	assert_string_equal(g_ptr_array_index(u->msgs, 0), "pagefault RWP A page 1");
	assert_int_equal(u->waiting->len, 1);
	/* Unchanged queues are not stored again. */
	assert_null(step_at(rep, 8)->queues);
	assert_string_equal(step_at(rep, 8)->result, "holds");
	run_free(&r);
}

static void test_accessed_state(void **state)
{
	/* Async RWP: a read resolves in place and clears the bit: accessed. */
	struct run r = run_text(PATH, "process P\n"
				      "mmap A proc=P len=8K prot=rw map=private\n"
				      "write A pages=0-1 value=7\n"
				      "uffd open U proc=P\n"
				      "uffd api U features=RWP|RWP_ASYNC\n"
				      "uffd register U A mode=RWP\n"
				      "uffd rwprotect U A mode=RWP\n"
				      "read A pages=1\n");
	const struct report_region *a = g_ptr_array_index(r.rep->regions, 0);
	assert_int_equal(r.rep->verdict, VERDICT_PASS);
	assert_int_equal(a->states[0], 1 /* armed */);
	assert_int_equal(a->states[1], PAGE_STATE_ACCESSED);
	run_free(&r);
}

static void test_violation_step(void **state)
{
	struct run r = run_file("traces/patch08/K1-madv-collapse.trace", "no08");
	struct report *rep = r.rep;

	assert_int_equal(rep->verdict, VERDICT_FAIL);
	assert_true(rep->have_violation);
	assert_string_equal(rep->violation.invariant, "false access");
	assert_int_equal(rep->violation.line, 31);
	assert_string_equal(rep->violation.region, "A");
	assert_int_equal(rep->violation.page, 0);
	/* The violation is on the last step that ran, the failing one. */
	assert_int_equal(rep->violation.step, rep->steps->len - 1);
	assert_int_equal(rep->failed_step, (int)rep->violation.step);
	assert_int_equal(step_at(rep, rep->violation.step)->line, 31);
	assert_non_null(step_at(rep, rep->violation.step)->failure);
	assert_true(rep->steps->len < r.t->steps->len);

	g_autofree char *html = html_of(rep);
	assert_non_null(strstr(html, "\"invariant\":\"false access\""));
	assert_non_null(strstr(html, "\"before_state\":\"armed\""));
	assert_non_null(strstr(html, "\"after_state\":\"pmd\""));
	/* The steps after the failure are listed as not run. */
	assert_non_null(strstr(html, "\"notrun\":[{\"line\":32,"));
	run_free(&r);
	assert_true(patch_set_level("v6"));
}

static void test_json_escaping(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	report_json_string(out, "a\"b\\c\n</script><!--\x01");
	assert_string_equal(out->str, "\"a\\\"b\\\\c\\n\\u003c/script\\u003e\\u003c!--\\u0001\"");

	/* A path that would end the data block: still one page, two scripts. */
	struct run r = run_text("</script><script>alert(1)</script>.trace", sync_trace);
	g_autofree char *html = html_of(r.rep);
	assert_int_equal(count_of(html, "</script>"), 2);
	assert_null(strstr(html, "<script>alert"));
	run_free(&r);
}

static void test_self_contained_and_deterministic(void **state)
{
	struct run a = run_file("traces/patch08/K1-madv-collapse.trace", "no08");
	struct run b = run_file("traces/patch08/K1-madv-collapse.trace", "no08");
	g_autofree char *ha = html_of(a.rep);
	g_autofree char *hb = html_of(b.rep);
	g_autofree char *lower = g_ascii_strdown(ha, -1);

	assert_string_equal(ha, hb);
	assert_null(strstr(lower, "http"));
	assert_null(strstr(lower, "src="));
	assert_null(strstr(lower, "href="));
	assert_null(strstr(lower, "url("));
	assert_null(strstr(lower, "@import"));
	assert_true(g_str_has_prefix(ha, "<!DOCTYPE html>"));
	assert_int_equal(count_of(ha, "<script type=\"application/json\" id=\"data\">"), 1);
	run_free(&a);
	run_free(&b);
	assert_true(patch_set_level("v6"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_steps_and_deltas, setup),
		cmocka_unit_test_setup(test_accessed_state, setup),
		cmocka_unit_test_setup(test_violation_step, setup),
		cmocka_unit_test_setup(test_json_escaping, setup),
		cmocka_unit_test_setup(test_self_contained_and_deterministic, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
