/* tests/unit/test_search_minimize.c - search_minimize() (sim/search/minimize.c)
 * shrinks a failing trace and keeps its failure.
 *
 * The G1 trace (pin_user_pages reads an armed page without a fault, no08)
 * is buried in noise that changes nothing about the violation: another
 * region with its own accesses, mprotect round trips, pagemap reads and
 * scans, the checks after the GUP. What the minimizer returns must be
 * short, fail the same way with the same patch-08 kind, and be canonical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "search/search.h"

static char *read_source(const char *rel)
{
	const char *src = getenv("MMSIM_SOURCE_DIR");
	g_autofree char *path = g_build_filename(src, rel, NULL);
	char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	return text;
}

static int need_source(void **state)
{
	const char *src = getenv("MMSIM_SOURCE_DIR");
	if (!src || !*src) {
		print_message("MMSIM_SOURCE_DIR is not set: cannot find traces/patch08\n");
		return -1;
	}
	return 0;
}

/* Noise to insert after a step of the original that starts with `after`. */
static const struct {
	const char *after;
	const char *noise;
} noise[] = {
	{ "mmap A", "mmap B proc=P len=32K prot=rw map=private\n"
		    "write B pages=0-7 value=5\n"
		    "read A pages=1-3\n"
		    "pagemap-scan A return=PRESENT|ACCESSED\n" },
	{ "write A", "mprotect A prot=r\n"
		     "mprotect A prot=rw\n"
		     "read B pages=2\n" },
	{ "uffd register", "pagemap B\n"
			   "mprotect B pages=0-3 prot=none\n"
			   "mprotect B pages=0-3 prot=rw\n" },
	{ "uffd rwprotect", "pagemap A\n"
			    "pagemap-scan A return=ACCESSED\n"
			    "read B pages=0\n"
			    "write B pages=7 value=9\n"
			    "pagemap-scan B return=ACCESSED\n" },
};

/* The trace with the noise in, comments and all. */
static char *noisy_g1(void)
{
	g_autofree char *orig = read_source("traces/patch08/G1-pin_user_pages-sync.trace");
	g_auto(GStrv) lines = g_strsplit(orig, "\n", -1);
	GString *out = g_string_new(NULL);
	unsigned inserted = 0;

	for (guint i = 0; lines[i]; i++) {
		if (!*lines[i] && !lines[i + 1])
			break;
		g_string_append_printf(out, "%s\n", lines[i]);
		for (unsigned k = 0; k < G_N_ELEMENTS(noise); k++)
			if (g_str_has_prefix(lines[i], noise[k].after)) {
				g_string_append(out, noise[k].noise);
				inserted++;
			}
	}
	/* the original is as this test knows it */
	assert_int_equal(inserted, G_N_ELEMENTS(noise));
	return g_string_free(out, FALSE);
}

static char *canonical(const char *text)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string("min.trace", text, err);
	if (!t)
		fail_msg("does not parse: %s\n%s", err->str, text);
	GString *out = g_string_new(NULL);
	trace_write(out, t);
	trace_free(t);
	return g_string_free(out, FALSE);
}

static void a_noisy_g1_trace_minimizes_to_the_g1_core(void **state)
{
	g_autofree char *text = noisy_g1();
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome want, got;
	unsigned replays = 0;

	assert_true(patch_set_level("no08"));
	search_replay_text("noisy", text, &want, err);
	if (!outcome_is_violation(&want))
		fail_msg("the noisy trace should still fail at no08: %s\n%s", err->str, text);
	assert_string_equal(want.invariant, "unobserved access");
	search_classify(text, &want);
	assert_string_equal(want.kind, "G1");
	unsigned before = search_count_steps(text);
	assert_true(before >= 12 + 15);

	g_autofree char *min = search_minimize(text, &want, &replays);
	print_message("minimized %u -> %u steps in %u replays:\n%s", before,
		      search_count_steps(min), replays, min);
	assert_true(replays > 0);
	assert_in_range(search_count_steps(min), 1, 9);
	/* still the same failure, same kind */
	search_replay_text("min", min, &got, err);
	assert_true(outcome_is_violation(&got));
	assert_string_equal(got.invariant, "unobserved access");
	assert_int_equal(got.cmd, CMD_GUP);
	search_classify(min, &got);
	assert_string_equal(got.kind, "G1");
	/* none of the noise is left */
	assert_null(strstr(min, " B"));
	assert_null(strstr(min, "pagemap"));
	assert_null(strstr(min, "mprotect"));
	/* canonical: writing its parse gives it back */
	g_autofree char *canon = canonical(min);
	assert_string_equal(canon, min);
	/* and it passes where 08d is on */
	assert_true(patch_set_level("v6"));
	assert_int_equal(search_replay_text("min", min, &got, err), VERDICT_PASS);
}

/* Each step of the result is needed: take any one away and the failure
 * goes (or changes). */
static void the_result_is_one_minimal(void **state)
{
	g_autofree char *text = noisy_g1();
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome want, got;

	assert_true(patch_set_level("no08"));
	search_replay_text("noisy", text, &want, err);
	search_classify(text, &want);
	g_autofree char *min = search_minimize(text, &want, NULL);
	g_auto(GStrv) lines = g_strsplit(min, "\n", -1);
	guint n = g_strv_length(lines) - 1; /* the text ends in '\n' */
	for (guint drop = 0; drop < n; drop++) {
		g_autoptr(GString) less = g_string_new(NULL);
		for (guint i = 0; i < n; i++)
			if (i != drop)
				g_string_append_printf(less, "%s\n", lines[i]);
		search_replay_text("less", less->str, &got, err);
		if (outcome_is_violation(&got) && !strcmp(got.invariant, want.invariant))
			fail_msg("line %u ('%s') of the minimized trace is not needed:\n%s",
				 drop + 1, lines[drop], min);
	}
	assert_true(patch_set_level("v6"));
}

static void a_passing_trace_comes_back_unchanged(void **state)
{
	g_autofree char *text = read_source("traces/patch08/G1-pin_user_pages-sync.trace");
	g_autofree char *canon = canonical(text);
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome oc;
	unsigned replays = 0;

	/* At v6 it passes: there is nothing to keep. What would be asked
	 * for is the no08 failure. */
	assert_true(patch_set_level("no08"));
	search_replay_text("g1", text, &oc, err);
	search_classify(text, &oc);
	assert_true(patch_set_level("v6"));
	g_autofree char *out = search_minimize(canon, &oc, &replays);
	assert_string_equal(out, canon);
	assert_int_equal(replays, 1); /* the check that it fails, nothing else */
	/* a non-canonical input comes back in canonical form, steps intact */
	g_autofree char *out2 = search_minimize(text, &oc, NULL);
	assert_string_equal(out2, canon);
	assert_int_equal(search_count_steps(out2), search_count_steps(text));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_noisy_g1_trace_minimizes_to_the_g1_core),
		cmocka_unit_test(the_result_is_one_minimal),
		cmocka_unit_test(a_passing_trace_comes_back_unchanged),
	};

	return cmocka_run_group_tests_name("search_minimize", tests, need_source, NULL);
}
