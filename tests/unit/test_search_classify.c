/* tests/unit/test_search_classify.c - a violation is named after the hunk
 * of patch 08 that removes it (sim/search/classify.c).
 *
 * The bundled patch-08 traces are named after their kind, so they are the
 * answer key: at no08 K1-* must classify as K1 (08a), K2-* as K2 (08b),
 * R2-* as R2 (08c), G1-* as G1 (08d; the kvm ones pass, KVM honours NUMA
 * faults), and G2-force-prot-none at v5 as G2 (08e). Found through
 * MMSIM_SOURCE_DIR, as ctest sets it.
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

static const char *patch08_dir(void)
{
	static char *dir;
	const char *src = getenv("MMSIM_SOURCE_DIR");
	if (!src || !*src)
		return NULL;
	if (!dir)
		dir = g_build_filename(src, "traces", "patch08", NULL);
	return dir;
}

static char *read_trace(const char *name)
{
	g_autofree char *path = g_build_filename(patch08_dir(), name, NULL);
	char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	return text;
}

static int need_source(void **state)
{
	if (!patch08_dir()) {
		print_message("MMSIM_SOURCE_DIR is not set: cannot find traces/patch08\n");
		return -1;
	}
	return 0;
}

/* The kind a bundled trace's name promises at no08 ("" : it passes). */
static const char *const kinds[] = { "K1", "K2", "R2", "G1" };

static const char *promised_kind(const char *name)
{
	if (strstr(name, "-kvm-"))
		return ""; /* KVM sets FOLL_HONOR_NUMA_FAULT: faults without 08d too */
	for (unsigned i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (g_str_has_prefix(name, kinds[i]) && name[2] == '-')
			return kinds[i];
	return "";
}

static void patch08_traces_classify_at_no08_as_their_names_say(void **state)
{
	g_autoptr(GDir) d = g_dir_open(patch08_dir(), 0, NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	unsigned seen[G_N_ELEMENTS(kinds)] = { 0 }, passing = 0;
	const char *name;

	assert_non_null(d);
	while ((name = g_dir_read_name(d))) {
		if (!g_str_has_suffix(name, ".trace"))
			continue;
		g_autofree char *text = read_trace(name);
		const char *want = promised_kind(name);
		struct outcome oc;
		bool before[NR_HUNKS];

		assert_true(patch_set_level("no08"));
		search_replay_text(name, text, &oc, err);
		if (!*want) {
			/* G1-kvm-*, G2 (a v5 problem), R1 (08c is defensive) */
			if (outcome_is_violation(&oc))
				fail_msg("%s: promised to pass at no08, fails: %s", name, err->str);
			assert_int_equal(oc.verdict, VERDICT_PASS);
			passing++;
			continue;
		}
		if (!outcome_is_violation(&oc))
			fail_msg("%s: no oracle violation at no08 (verdict %d: %s)", name,
				 oc.verdict, err->str);
		assert_true(oc.line > 0);
		assert_true(oc.cmd >= 0 && oc.cmd < NR_CMDS);
		memcpy(before, patch_hunks, sizeof(before));
		search_classify(text, &oc);
		/* the switches are back as they were */
		assert_memory_equal(before, patch_hunks, sizeof(before));
		if (strcmp(oc.kind, want))
			fail_msg("%s: classified '%s', its name says %s (%s)", name, oc.kind, want,
				 oc.invariant);
		/* the class a search files it under is its kind */
		char cls[96];
		search_class(&oc, cls, sizeof(cls));
		assert_string_equal(cls, want);
		for (unsigned i = 0; i < G_N_ELEMENTS(kinds); i++)
			seen[i] += !strcmp(want, kinds[i]);
	}
	/* the answer key is all there: two K1, two K2, one R2, ten G1 */
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[2], 1);
	assert_int_equal(seen[3], 10);
	assert_true(passing >= 3);
	assert_true(patch_set_level("v6"));
}

static void g2_at_v5_is_g2_and_passes_at_no08_and_v6(void **state)
{
	g_autofree char *text = read_trace("G2-force-prot-none.trace");
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome oc;

	assert_true(patch_set_level("v5"));
	search_replay_text("G2", text, &oc, err);
	assert_true(outcome_is_violation(&oc));
	assert_string_equal(oc.invariant, "livelock");
	assert_int_equal(oc.cmd, CMD_GUP);
	search_classify(text, &oc);
	assert_string_equal(oc.kind, "G2");
	/* still v5: classify restored the switches */
	assert_string_equal(patch_current_level(), "v5");

	const char *pass_at[] = { "no08", "v6" };
	for (unsigned i = 0; i < G_N_ELEMENTS(pass_at); i++) {
		assert_true(patch_set_level(pass_at[i]));
		assert_int_equal(search_replay_text("G2", text, &oc, err), VERDICT_PASS);
		assert_false(outcome_is_violation(&oc));
		assert_null(oc.invariant);
	}
}

/* At v6 every hunk is on: nothing is left to name a violation after. */
static void a_violation_no_hunk_removes_has_no_kind(void **state)
{
	g_autofree char *text = read_trace("G1-pin_user_pages-sync.trace");
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome oc;

	/* no08 plus 08d: the G1 hunk itself is on, so the trace passes */
	assert_true(patch_set_level("no08"));
	assert_true(patch_set_hunk("08d=on"));
	assert_int_equal(search_replay_text("G1", text, &oc, err), VERDICT_PASS);

	/* a violation that no hunk removes: classify leaves kind empty and
	 * the class is invariant@command */
	struct outcome made = { .verdict = VERDICT_FAIL,
				.invariant = "lost arming",
				.cmd = CMD_MADVISE,
				.advice = 25 /* MADV_COLLAPSE */ };
	assert_true(patch_set_level("v6"));
	search_classify(text, &made); /* every hunk is on already */
	assert_string_equal(made.kind, "");
	char cls[96];
	search_class(&made, cls, sizeof(cls));
	assert_string_equal(cls, "lost-arming@madvise-COLLAPSE");
	made.cmd = CMD_UFFD_RWPROTECT;
	made.advice = 0;
	made.invariant = "false access";
	search_class(&made, cls, sizeof(cls));
	assert_string_equal(cls, "false-access@uffd-rwprotect");
}

static void expectations_and_bad_input_are_not_violations(void **state)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome oc;

	assert_true(patch_set_level("v6"));
	search_replay_text("x",
			   "process P\nmmap A proc=P len=8K prot=rw map=private\n"
			   "write A pages=0 value=3\nexpect content A pages=0 value=4\n",
			   &oc, err);
	assert_int_equal(oc.verdict, VERDICT_FAIL);
	assert_string_equal(oc.invariant, "expectation");
	assert_false(outcome_is_violation(&oc));

	search_replay_text("x", "process P\nread A pages=0\n", &oc, err);
	assert_int_equal(oc.verdict, VERDICT_BAD_INPUT);
	assert_false(outcome_is_violation(&oc));
	assert_true(g_str_has_prefix(err->str, "x:2: "));

	search_replay_text("x",
			   "process P\nmmap A proc=P len=8K prot=rw map=private\n"
			   "read A pages=2\n",
			   &oc, err);
	assert_int_equal(oc.verdict, VERDICT_BAD_INPUT);
	assert_false(outcome_is_violation(&oc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(patch08_traces_classify_at_no08_as_their_names_say),
		cmocka_unit_test(g2_at_v5_is_g2_and_passes_at_no08_and_v6),
		cmocka_unit_test(a_violation_no_hunk_removes_has_no_kind),
		cmocka_unit_test(expectations_and_bad_input_are_not_violations),
	};

	return cmocka_run_group_tests_name("search_classify", tests, need_source, NULL);
}
