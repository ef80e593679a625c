/* tests/unit/test_import_ftrace.c - huge_memory events by field name in the
 * three line layouts, status names, and matching events to the
 * MADV_COLLAPSE calls of an strace capture across a clock offset. */
#include "trace_test.h"

#include <string.h>

#include "import/import.h"

static GPtrArray *parse(const char *text, unsigned *other, GString *err)
{
	return imp_ftrace_parse("t.ftrace", text, other, err);
}

static void test_layouts(void **state)
{
	(void)state;
	g_autoptr(GString) err = g_string_new(NULL);
	unsigned other;
	g_autoptr(GPtrArray) evs = parse(
		"# tracer: nop\n"
		"  c-4758 [001] .N... 343.796621: mm_khugepaged_scan_pmd: mm=000000007ecc9350, "
		"scan_pfn=0x1244a0, referenced=0, none_or_zero=0, status=succeeded, unmapped=0\n"
		"  c-4758  [001]   343.9: mm_collapse_huge_page: mm=00000000aa, isolated=1, "
		"status=failed order=9\n"
		"  c 4758 [001] 344.000001: huge_memory:mm_collapse_huge_page_isolate: "
		"scan_pfn=0xffffffffffffffff, none_or_zero=0, referenced=0, writable=1, "
		"status=pte_uffd_wp\n"
		"  kworker/0:1-12 [000] ..... 1.0: mm_khugepaged_scan_file: mm=0000000001, "
		"scan_pfn=0x10, filename=memfd:x, present=512, swap=0, result=page_filled\n"
		"  c-1 [000] ..... 2.0: sched_switch: prev_comm=c\n",
		&other, err);
	assert_non_null(evs);
	assert_int_equal(evs->len, 4);
	assert_int_equal(other, 1);
	const struct imp_ft_event *e = g_ptr_array_index(evs, 0);
	assert_int_equal(e->pid, 4758);
	assert_true(e->ts > 343.79662 && e->ts < 343.79663);
	assert_string_equal(e->status, "succeeded");
	assert_int_equal(e->pfn, 0x1244a0);
	assert_string_equal(((struct imp_ft_event *)g_ptr_array_index(evs, 1))->status, "failed");
	e = g_ptr_array_index(evs, 2);
	assert_int_equal(e->pid, 4758);
	assert_string_equal(e->event, "mm_collapse_huge_page_isolate");
	assert_int_equal(e->pfn, UINT64_MAX);
	e = g_ptr_array_index(evs, 3);
	assert_int_equal(e->pid, 12);
	assert_string_equal(e->status, "page_filled");
}

static void test_scan_names(void **state)
{
	(void)state;
	assert_string_equal(imp_ftrace_scan_name("pte_uffd_wp"), "pte_uffd_wp");
	assert_string_equal(imp_ftrace_scan_name("pmd_null"), "no_pte_table");
	assert_string_equal(imp_ftrace_scan_name("pmd_none"), "no_pte_table");
	assert_null(imp_ftrace_scan_name("no_writable_page"));
	assert_null(imp_ftrace_scan_name("lock_dropped"));
}

static void test_errors(void **state)
{
	(void)state;
	g_autoptr(GString) err = g_string_new(NULL);
	unsigned other;
	assert_null(parse("\n c-1 [0] 1.0: mm_khugepaged_scan_pmd: mm=01, scan_pfn=0x1\n", &other,
			  err));
	assert_string_equal(err->str, "t.ftrace:2: mm_khugepaged_scan_pmd without status=");
	assert_null(parse("c-1 [0] 1.0: mm_collapse_huge_page: isolated=1, status=failed\n", &other,
			  err));
	assert_string_equal(err->str, "t.ftrace:1: mm_collapse_huge_page without mm=");
	assert_null(parse("mm_collapse_huge_page: mm=1, status=failed\n", &other, err));
	assert_string_equal(err->str, "t.ftrace:1: huge_memory event without 'comm-PID [CPU] ... "
				      "TIMESTAMP:' before it");
	assert_null(parse("c-1 [0] 1.0: mm_khugepaged_scan_pmd: mm=1, scan_pfn=zz, status=x\n",
			  &other, err));
	assert_string_equal(err->str, "t.ftrace:1: bad pfn value");
}

/* Three collapse calls of pid 7 (wall clock) and events on the trace clock,
 * 5000 s apart; the second call logged nothing, khugepaged (pid 40) logs
 * in between. */
static void test_merge(void **state)
{
	(void)state;
	g_autoptr(GString) err = g_string_new(NULL);
	unsigned other;
	g_autoptr(GPtrArray) ft = parse("c-7 [0] 5036000.000100: mm_collapse_huge_page_isolate: "
					"scan_pfn=0x1, status=succeeded\n"
					"c-7 [0] 5036000.000500: mm_collapse_huge_page: mm=1, "
					"isolated=1, status=succeeded\n"
					"c-7 [0] 5036000.000501: mm_khugepaged_scan_pmd: mm=1, "
					"scan_pfn=0x1, status=succeeded\n"
					"khugepaged-40 [1] 5036000.000600: mm_khugepaged_scan_pmd: "
					"mm=1, status=page_pmd_mapped\n"
					"c-7 [0] 5036000.200050: mm_khugepaged_scan_pmd: mm=1, "
					"scan_pfn=0x2, status=pte_uffd_wp\n",
					&other, err);
	assert_non_null(ft);
	g_autoptr(GArray) evs = g_array_new(FALSE, TRUE, sizeof(struct imp_event));
	const double starts[] = { 36000.0, 36000.1, 36000.2 }; /* 10:00:00.0, .1, .2 */
	for (int i = 0; i < 3; i++) {
		struct imp_event e = {
			.op = IMP_MADVISE, .arg = 25, .pid = 7, .ts = starts[i], .dur = 0.0007
		};
		g_array_append_val(evs, e);
	}
	assert_int_equal(imp_ftrace_merge(ft, evs), 2);
	assert_string_equal(g_array_index(evs, struct imp_event, 0).scan, "succeeded");
	assert_string_equal(g_array_index(evs, struct imp_event, 1).scan, "");
	assert_string_equal(g_array_index(evs, struct imp_event, 2).scan, "pte_uffd_wp");
}

static void test_summary(void **state)
{
	(void)state;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) out = g_string_new(NULL);
	unsigned other;
	g_autoptr(GPtrArray) ft =
		parse("a-1 [0] 1.5: mm_khugepaged_scan_pmd: mm=ff, scan_pfn=0x10, status=pmd_null\n"
		      "a-1 [0] 1.6: mm_khugepaged_scan_pmd: mm=ee, status=lock_dropped\n",
		      &other, err);
	imp_ftrace_summary(out, ft, other);
	assert_string_equal(
		out->str,
		"# 2 huge_memory events, 0 other lines\n"
		"# line time pid event mm pfn status [trace scan name]\n"
		"1 1.500000 1 mm_khugepaged_scan_pmd mm1 0x10 pmd_null (no_pte_table)\n"
		"2 1.600000 1 mm_khugepaged_scan_pmd mm2 - lock_dropped (no trace name)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts), cmocka_unit_test(test_scan_names),
		cmocka_unit_test(test_errors),	cmocka_unit_test(test_merge),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
