/* tests/unit/test_patch_levels.c - patch levels and hunk switches are data. */
#include "mmsim_test.h"

#include <string.h>

/* Each level's switches, exactly as issue 2 defines them. */
static void levels_set_exactly_their_hunks(void **state)
{
	static const struct {
		const char *level;
		bool on[NR_HUNKS];
	} table[] = {
		{ "no08", { false, false, false, false, false, false } },
		{ "v5", { true, true, true, true, false, false } },
		{ "v6", { true, true, true, true, true, false } },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(table); i++) {
		assert_true(patch_set_level(table[i].level));
		for (int h = 0; h < NR_HUNKS; h++)
			assert_int_equal(patch_hunk(h), table[i].on[h]);
		assert_string_equal(patch_current_level(), table[i].level);
	}
}

static void unknown_level_is_rejected_and_changes_nothing(void **state)
{
	assert_true(patch_set_level("v6"));
	assert_false(patch_set_level("v7"));
	assert_false(patch_set_level(""));
	assert_string_equal(patch_current_level(), "v6");
}

static void a_hunk_override_makes_a_custom_level(void **state)
{
	assert_true(patch_set_level("no08"));
	assert_true(patch_set_hunk("08c=on"));
	assert_true(patch_hunk(HUNK_08C));
	assert_false(patch_hunk(HUNK_08A));
	assert_null(patch_current_level());
	assert_true(patch_set_hunk("08c=off"));
	assert_string_equal(patch_current_level(), "no08");
	assert_true(patch_set_hunk("unsafe-batch=on"));
	assert_true(patch_hunk(HUNK_UNSAFE_BATCH));
}

static void malformed_hunk_specs_are_rejected(void **state)
{
	const char *bad[] = { "08c",   "08c=",	  "08c=yes", "=on",	  "08z=on",
			      "08=on", "08cc=on", "08C=on",  "unsafe=on", "" };
	patch_set_level("v6");
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
		assert_false(patch_set_hunk(bad[i]));
	assert_string_equal(patch_current_level(), "v6");
}

static void every_hunk_names_its_kernel_function(void **state)
{
	for (int h = 0; h < NR_HUNKS; h++) {
		assert_non_null(hunk_descs[h].name);
		assert_true(strlen(hunk_descs[h].function) > 0);
		assert_true(strlen(hunk_descs[h].summary) > 0);
		for (int k = 0; k < h; k++)
			assert_string_not_equal(hunk_descs[h].name, hunk_descs[k].name);
	}
	assert_string_equal(hunk_descs[HUNK_08A].function, "try_collapse_pte_mapped_thp");
	assert_string_equal(hunk_descs[HUNK_08B].function, "file_backed_vma_is_retractable");
	assert_string_equal(hunk_descs[HUNK_08C].function, "folio_unmap_pte_batch");
	assert_string_equal(hunk_descs[HUNK_08D].function, "gup_can_follow_protnone");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(levels_set_exactly_their_hunks),
		cmocka_unit_test(unknown_level_is_rejected_and_changes_nothing),
		cmocka_unit_test(a_hunk_override_makes_a_custom_level),
		cmocka_unit_test(malformed_hunk_specs_are_rejected),
		cmocka_unit_test(every_hunk_names_its_kernel_function),
	};
	return cmocka_run_group_tests_name("patch levels", tests, NULL, NULL);
}
