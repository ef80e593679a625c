/* tests/unit/test_search_fuzz.c - the campaign loop behind `mmsim fuzz`
 * (sim/search/fuzz.c).
 *
 * 300 small valid traces at no08 find G1 (a GUP caller reads an armed
 * page without a fault); a campaign is a function of its seed, so a second
 * run reports the same, byte for byte but for the timing; with an output
 * directory every find is written twice, and the minimized file is a
 * trace that fails the same way on its own.
 *
 * Campaign seed 7 finds a G1 in its first 300 traces with the generator
 * as it is. A change to sim/search/gen.c changes every trace and may take
 * the G1 out of them; the failure then prints what the campaign found, and
 *   for s in $(seq 1 20); do mmsim fuzz -q --runs 300 --patch no08 --seed $s; done
 * shows which seeds find one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "search/fuzz.h"
#include "search/search.h"

#define SEED 7
#define RUNS 300

static struct fuzz_options campaign(const char *out_dir, uint64_t runs)
{
	struct fuzz_options o = { .seed = SEED,
				  .runs = runs,
				  .gen = { .size = GEN_SMALL },
				  .level = "no08",
				  .out_dir = out_dir };
	return o;
}

/* The report without its timing ("after 0.51 s"). */
static char *untimed(const char *report)
{
	g_autoptr(GRegex) re = g_regex_new("after [0-9.]+ s", 0, 0, NULL);
	return g_regex_replace_literal(re, report, -1, 0, "after T s", 0, NULL);
}

static char *run(const struct fuzz_options *o, struct fuzz_stats *st, unsigned *finds)
{
	g_autoptr(GString) out = g_string_new(NULL);
	assert_true(patch_set_level("no08"));
	*finds = fuzz_run(o, out, st);
	assert_true(patch_set_level("v6"));
	return untimed(out->str);
}

/* The whole campaign's report, for the tests after the first. */
static char *report_a;

/* Where report's first find block starts and the next one (or the end). */
static const char *first_find(const char *report, const char **end)
{
	const char *f = strstr(report, "find ");
	assert_non_null(f);
	const char *next = strstr(f + 1, "\nfind ");
	*end = next ? next + 1 : f + strlen(f);
	return f;
}

/* A written trace without its '#' header. */
static const char *body(const char *text)
{
	while (*text == '#')
		text = strchr(text, '\n') + 1;
	return text;
}

/* The N of "trace N" in a find line. */
static uint64_t find_index(const char *find)
{
	const char *at = strstr(find, ", trace ");
	assert_non_null(at);
	return strtoull(at + 8, NULL, 10);
}

static void three_hundred_traces_at_no08_find_g1(void **state)
{
	struct fuzz_options o = campaign(NULL, RUNS);
	struct fuzz_stats a;
	unsigned fa;

	report_a = run(&o, &a, &fa);
	print_message("%s", report_a);
	print_message("%" G_GUINT64_FORMAT " traces: %" G_GUINT64_FORMAT " pass, %" G_GUINT64_FORMAT
		      " fail, %" G_GUINT64_FORMAT " bad input, %u classes\n",
		      a.runs, a.pass, a.fail, a.bad_input, fa);
	assert_int_equal(a.runs, RUNS);
	assert_int_equal(a.pass + a.fail + a.bad_input, a.runs);
	assert_true(fa >= 1);
	assert_int_equal(fa, a.finds);
	if (!strstr(report_a, "find G1: unobserved access at line "))
		fail_msg("seed %u, %u traces at no08: no G1 (see the report above)", SEED, RUNS);
	/* a find prints its minimized trace: short, arming then the GUP */
	const char *g1 = strstr(report_a, "find G1: ");
	const char *min = strchr(g1, '\n') + 1;
	const char *next = strstr(min, "find ");
	g_autofree char *min_text = next ? g_strndup(min, (gsize)(next - min)) : g_strdup(min);
	assert_true(search_count_steps(min_text) <= 10);
	assert_non_null(strstr(min_text, "uffd rwprotect "));
	assert_non_null(strstr(min_text, "gup "));
	/* valid traces: most pass, few are refused */
	assert_true(a.pass > a.runs / 2);
	assert_true(a.bad_input < a.runs / 5);
}

/* Run again up to the first find: the same report, byte for byte but for
 * the timing (minimization and all). */
static void a_second_run_reports_the_same(void **state)
{
	const char *end;
	assert_non_null(report_a);
	const char *f = first_find(report_a, &end);
	uint64_t n = find_index(f);
	struct fuzz_options o = campaign(NULL, n + 1);
	struct fuzz_stats c;
	unsigned fc;
	g_autofree char *rc = run(&o, &c, &fc);
	g_autofree char *want = g_strndup(report_a, (gsize)(end - report_a));

	assert_string_equal(rc, want);
	assert_int_equal(fc, 1);
	assert_int_equal(c.runs, n + 1);
}

/* trace i of a campaign depends on the campaign's seed and i alone */
static void trace_seeds_are_a_function_of_campaign_and_index(void **state)
{
	assert_int_equal(fuzz_trace_seed(SEED, 5), fuzz_trace_seed(SEED, 5));
	assert_int_not_equal(fuzz_trace_seed(SEED, 5), fuzz_trace_seed(SEED, 6));
	assert_int_not_equal(fuzz_trace_seed(SEED, 5), fuzz_trace_seed(SEED + 1, 5));
	/* neighbouring campaigns are not shifted copies of each other */
	assert_int_not_equal(fuzz_trace_seed(SEED, 1), fuzz_trace_seed(SEED + 1, 0));
}

static void finds_are_written_and_the_minimized_ones_fail_alone(void **state)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("mmsim-fuzz-XXXXXX", &error);
	assert_non_null(dir);
	/* --stop: up to the campaign's first find */
	struct fuzz_options o = campaign(dir, RUNS);
	o.stop_on_find = true;
	struct fuzz_stats st;
	unsigned finds;
	g_autofree char *report = run(&o, &st, &finds);
	print_message("%s", report);
	assert_int_equal(finds, 1);
	uint64_t n = find_index(report);
	assert_int_equal(st.runs, n + 1);
	/* what the files must hold: trace n regenerated from its own seed
	 * alone, and the minimized trace the first run printed */
	struct gen_source src = { .rand = g_rand_new_with_seed(fuzz_trace_seed(SEED, n)) };
	g_autoptr(GString) trace_n = g_string_new(NULL);
	gen_trace(&o.gen, &src, trace_n, NULL);
	g_rand_free(src.rand);
	const char *end, *f = report_a ? first_find(report_a, &end) : NULL;
	g_autofree char *printed_min =
		f ? g_strndup(strchr(f, '\n') + 1, (gsize)(end - strchr(f, '\n') - 1)) : NULL;

	g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
	g_autoptr(GString) err = g_string_new(NULL);
	const char *name;
	unsigned mins = 0, origs = 0;
	assert_non_null(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *text = NULL;
		assert_true(g_file_get_contents(path, &text, NULL, NULL));
		/* the report names every file it wrote */
		assert_non_null(strstr(report, path));
		const char *v = strstr(text, "# violation: ");
		assert_non_null(v);
		g_autofree char *inv = g_strndup(v + 13, (gsize)(strstr(v, " (class ") - v - 13));
		const char *cls = strstr(v, " (class ") + 8;
		g_autofree char *cls_name = g_strndup(cls, (gsize)(strchr(cls, ')') - cls));
		assert_true(g_str_has_prefix(name, cls_name));
		g_autofree char *by =
			g_strdup_printf("# found by: mmsim fuzz --seed %u --patch no08", SEED);
		assert_true(g_str_has_prefix(text, by));
		if (!g_str_has_suffix(name, ".min.trace")) {
			assert_string_equal(body(text), trace_n->str);
			origs++;
			continue;
		}
		if (printed_min)
			assert_string_equal(body(text), printed_min);
		mins++;
		/* parses, and fails at no08 with the invariant its header names */
		struct trace *t = trace_parse_string(name, text, err);
		if (!t)
			fail_msg("%s does not parse: %s", name, err->str);
		trace_free(t);
		struct outcome oc;
		assert_true(patch_set_level("no08"));
		search_replay_text(name, text, &oc, err);
		if (!outcome_is_violation(&oc) || strcmp(oc.invariant, inv))
			fail_msg("%s: expected '%s' at no08, got verdict %d: %s", name, inv,
				 oc.verdict, err->str);
		search_classify(text, &oc);
		if (strlen(cls_name) == 2) /* a kind: the same kind */
			assert_string_equal(oc.kind, cls_name);
		/* and it is the short one */
		g_autofree char *orig_name = g_strndup(name, strlen(name) - strlen(".min.trace"));
		g_autofree char *orig_path = g_strconcat(dir, "/", orig_name, ".trace", NULL);
		g_autofree char *orig = NULL;
		assert_true(g_file_get_contents(orig_path, &orig, NULL, NULL));
		assert_true(search_count_steps(text) < search_count_steps(orig));
		assert_true(patch_set_level("v6"));
	}
	assert_int_equal(mins, finds);
	assert_int_equal(origs, finds);

	/* clean up */
	g_dir_rewind(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
	}
	assert_int_equal(g_rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_hundred_traces_at_no08_find_g1),
		cmocka_unit_test(a_second_run_reports_the_same),
		cmocka_unit_test(trace_seeds_are_a_function_of_campaign_and_index),
		cmocka_unit_test(finds_are_written_and_the_minimized_ones_fail_alone),
	};

	return cmocka_run_group_tests_name("search_fuzz", tests, NULL, NULL);
}
