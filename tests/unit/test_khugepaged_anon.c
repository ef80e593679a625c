/* tests/unit/test_khugepaged_anon.c - hpage_collapse_scan_pmd() and
 * collapse_huge_page(): every reachable SCAN_* result from a prestate table,
 * the content and rmap of a successful collapse, and the race window where
 * the mmap lock is dropped.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define TAG(i) (0xc0de0000ULL + (i))

static struct mm_struct *mm;
static struct vm_area_struct *vma;
static uint64_t base;

/* A PMD-aligned 2 MiB private anon VMA with all 512 pages written (each its
 * own tag), THP allowed for khugepaged (MADV_HUGEPAGE). */
static int setup(void **state)
{
	mmsim_setup(state);
	mm = mm_alloc("t");
	base = t_map_anon(mm, HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE, HPAGE_PMD_SIZE);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		assert_int_equal(user_access(mm, base + i * PAGE_SIZE, true, TAG(i), NULL),
				 RESULT_OK);
	vma = vma_lookup(mm, base);
	assert_non_null(vma);
	assert_true(pmd_is_table(t_pmd(mm, base)));
	vma->vm_flags |= VM_HUGEPAGE;
	return 0;
}

static int teardown(void **state)
{
	exit_mmap(mm);
	mm_free(mm);
	return mmsim_teardown(state);
}

static pte_t *ptep(unsigned i) { return pte_lookup(mm->pgd, base + i * PAGE_SIZE); }
static struct folio *folio_at(unsigned i) { return pfn_folio(pte_pfn(*ptep(i))); }

/* Replace page i's mapping with a swap entry holding its content. */
static void make_swapped(unsigned i, bool uffd)
{
	struct folio *f = folio_at(i);
	uint64_t slot = swap_alloc_slot();

	assert_true(slot);
	swap_info.slots[slot].content = folio_page(f, 0)->content;
	folio_remove_rmap_ptes(f, folio_page(f, 0), 1, vma);
	folio_put(f);
	pte_t pte = pte_swp_mkexclusive(swp_entry_to_pte(swp_entry(0, slot)));
	*ptep(i) = uffd ? pte_swp_mkuffd(pte) : pte;
	mm->nr_swapents++;
}

static void make_none(unsigned i)
{
	struct folio *f = folio_at(i);

	folio_remove_rmap_ptes(f, folio_page(f, 0), 1, vma);
	folio_put(f);
	*ptep(i) = __pte(0);
}

static void make_all_old(void)
{
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		*ptep(i) = pte_mkold(*ptep(i));
		folio_clear_flag(folio_at(i), FOLIO_young | FOLIO_referenced);
	}
}

/* --- prestates: each edits the populated range --- */
static void pre_populated(void) {}
static void pre_no_table(void)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, base, false, 0);
	uint64_t table = pmd_pgtable(*pmd);

	zap_page_range_single(vma, base, base + HPAGE_PMD_SIZE, true);
	*pmd = __pmd(0);
	pt_free(table);
}
static void pre_none_max0(void)
{
	make_none(7);
	thp_settings.max_ptes_none = 0;
}
static void pre_none_armed_vma(void)
{
	make_none(7);
	vma->vm_flags |= VM_UFFD_RWP;
}
static void pre_swap_max0(void)
{
	make_swapped(3, false);
	thp_settings.max_ptes_swap = 0;
}
static void pre_swap_uffd(void) { make_swapped(3, true); }
static void pre_wp_marker(void)
{
	make_none(5);
	*ptep(5) = make_pte_marker(PTE_MARKER_UFFD_WP);
}
static void pre_armed_rwp_pte(void)
{
	vma->vm_flags |= VM_UFFD_RWP;
	*ptep(9) = pte_mkuffd(pte_modify(*ptep(9), PAGE_NONE));
}
static void pre_special(void) { *ptep(11) = pte_mkspecial(*ptep(11)); }
static void pre_lazyfree(void)
{
	folio_clear_flag(folio_at(4), FOLIO_swapbacked);
	*ptep(4) = pte_mkclean(*ptep(4));
}
static void pre_not_anon(void) { folio_clear_flag(folio_at(2), FOLIO_anon); }
static void pre_shared_max0(void)
{
	/* A second mapping elsewhere (as after fork): mapcount 2, one more ref. */
	folio_page(folio_at(6), 0)->mapcount++;
	folio_get(folio_at(6));
	thp_settings.max_ptes_shared = 0;
}
static void pre_not_lru(void) { folio_clear_flag(folio_at(8), FOLIO_lru); }
static void pre_locked(void) { folio_set_flag(folio_at(8), FOLIO_locked); }
static void pre_pinned(void) { folio_get(folio_at(8)); }
static void pre_old(void) { make_all_old(); }
static void pre_swap_few_referenced(void)
{
	make_all_old();
	*ptep(0) = pte_mkyoung(*ptep(0));
	make_swapped(3, false);
}
static void pre_hwpoison(void) { folio_page(folio_at(10), 0)->flags |= PG_hwpoison; }
static void pre_alloc_fails(void) { mem_map.fail_alloc_after = mem_map.nr_allocs + 1; }
static void pre_protnone_numa(void)
{
	/* NUMA hinting protnone without the uffd bit does not block. */
	*ptep(12) = pte_modify(*ptep(12), PAGE_NONE);
}
static void pre_swap_ok(void) { make_swapped(3, false); }

struct scan_case {
	const char *name;
	void (*pre)(void);
	enum scan_result expect;
	bool collapsed; /* a PMD maps the range afterwards */
};

static const struct scan_case cases[] = {
	{ "fully populated and young", pre_populated, SCAN_SUCCEED, true },
	{ "no PTE table", pre_no_table, SCAN_NO_PTE_TABLE, false },
	{ "one none PTE over max_ptes_none=0", pre_none_max0, SCAN_EXCEED_NONE_PTE, false },
	{ "one none PTE in a uffd-armed VMA", pre_none_armed_vma, SCAN_EXCEED_NONE_PTE, false },
	{ "one swap PTE over max_ptes_swap=0", pre_swap_max0, SCAN_EXCEED_SWAP_PTE, false },
	{ "a swap PTE with the swp uffd bit", pre_swap_uffd, SCAN_PTE_UFFD, false },
	{ "a uffd-wp marker", pre_wp_marker, SCAN_PTE_UFFD, false },
	{ "an armed RWP PTE", pre_armed_rwp_pte, SCAN_PTE_UFFD, false },
	{ "a special PTE", pre_special, SCAN_PAGE_NULL, false },
	{ "a clean lazyfree folio", pre_lazyfree, SCAN_PAGE_LAZYFREE, false },
	{ "a non-anon folio", pre_not_anon, SCAN_PAGE_ANON, false },
	{ "a shared folio over max_ptes_shared=0", pre_shared_max0, SCAN_EXCEED_SHARED_PTE, false },
	{ "a folio off the LRU", pre_not_lru, SCAN_PAGE_LRU, false },
	{ "a locked folio", pre_locked, SCAN_PAGE_LOCK, false },
	{ "a pinned folio", pre_pinned, SCAN_PAGE_COUNT, false },
	{ "no young PTE", pre_old, SCAN_LACK_REFERENCED_PAGE, false },
	{ "swap PTEs with under half referenced", pre_swap_few_referenced,
	  SCAN_LACK_REFERENCED_PAGE, false },
	{ "a hwpoisoned source page", pre_hwpoison, SCAN_COPY_MC, false },
	{ "the huge allocation fails", pre_alloc_fails, SCAN_ALLOC_HUGE_PAGE_FAIL, false },
	{ "a NUMA protnone PTE", pre_protnone_numa, SCAN_SUCCEED, true },
	{ "one swap PTE within max_ptes_swap", pre_swap_ok, SCAN_SUCCEED, true },
};

static void khugepaged_gives_each_scan_result_for_its_prestate(void **state)
{
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		teardown(state);
		setup(state);
		cases[c].pre();
		pmd_t before = t_pmd(mm, base);
		uint64_t table = pmd_pgtable(before);
		pte_t snap[HPAGE_PMD_NR];
		if (table)
			for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
				snap[i] = *ptep(i);

		enum scan_result r = khugepaged_scan_address(mm, base);
		if (r != cases[c].expect)
			fail_msg("%s: got %s, want %s", cases[c].name, scan_result_strings[r],
				 scan_result_strings[cases[c].expect]);
		assert_int_equal(khugepaged_last_result, cases[c].expect);
		pmd_t after = t_pmd(mm, base);
		assert_int_equal(pmd_trans_huge(after), cases[c].collapsed);
		if (!cases[c].collapsed && table) {
			/* A failed collapse leaves the table and every PTE as they were. */
			assert_int_equal(pmd_val(after), pmd_val(before));
			for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
				assert_int_equal(pte_val(*ptep(i)), pte_val(snap[i]));
		}
	}
}

static void a_collapse_copies_every_tag_and_moves_the_rmap(void **state)
{
	uint64_t old_pfn = folio_pfn(folio_at(0));
	uint64_t table = pmd_pgtable(t_pmd(mm, base));

	assert_int_equal(khugepaged_scan_address(mm, base), SCAN_SUCCEED);
	pmd_t pmd = t_pmd(mm, base);
	assert_true(pmd_trans_huge(pmd));
	assert_true(pmd_write(pmd));
	assert_true(pmd_dirty(pmd));
	assert_false(pmd_uffd(pmd));
	struct folio *thp = pfn_folio(pmd_pfn(pmd));
	assert_int_equal(folio_order(thp), HPAGE_PMD_ORDER);
	assert_true(folio_test_anon(thp));
	assert_int_equal(thp->entire_mapcount, 1);
	assert_int_equal(folio_ref_count(thp), 1);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		assert_int_equal(folio_page(thp, i)->content, TAG(i));
	/* The old table is deposited, empty, for a later split. */
	assert_true(pt_is_live(table));
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		assert_int_equal(pt_get(table)->e[i], 0);
	assert_int_equal(pgtable_trans_huge_withdraw(mm, base), table);
	pgtable_trans_huge_deposit(mm, base, table);
	/* The old small folio is gone. */
	assert_false(mem_map.folios[old_pfn].in_use);
	assert_int_equal(mm->rss_anon, HPAGE_PMD_NR);
	/* Scanning again: already PMD-mapped. */
	assert_int_equal(khugepaged_scan_address(mm, base), SCAN_PMD_MAPPED);
}

static void a_swapped_page_is_brought_back_and_keeps_its_tag(void **state)
{
	make_swapped(3, false);
	assert_int_equal(khugepaged_scan_address(mm, base), SCAN_SUCCEED);
	struct folio *thp = pfn_folio(pmd_pfn(t_pmd(mm, base)));
	assert_int_equal(folio_page(thp, 3)->content, TAG(3));
	assert_int_equal(mm->nr_swapents, 0);
}

static void madvise_collapse_ignores_the_khugepaged_limits(void **state)
{
	make_none(1);
	make_all_old();
	thp_settings.max_ptes_none = 0;
	vma->vm_flags &= ~VM_HUGEPAGE;
	thp_settings.enabled = 2; /* never: MADV_COLLAPSE still may */
	assert_int_equal(madvise_collapse(vma, base, base + HPAGE_PMD_SIZE), 0);
	assert_int_equal(khugepaged_last_result, SCAN_SUCCEED);
	struct folio *thp = pfn_folio(pmd_pfn(t_pmd(mm, base)));
	assert_int_equal(folio_page(thp, 1)->content, 0);
	assert_int_equal(folio_page(thp, 2)->content, TAG(2));
}

static void madvise_collapse_still_refuses_holes_in_a_uffd_armed_vma(void **state)
{
	make_none(1);
	vma->vm_flags |= VM_UFFD_MISSING;
	assert_int_equal(madvise_collapse(vma, base, base + HPAGE_PMD_SIZE), -EBUSY);
	assert_int_equal(khugepaged_last_result, SCAN_EXCEED_NONE_PTE);
}

struct errno_case {
	const char *name;
	void (*pre)(void);
	long expect_errno;
	enum scan_result expect;
};

static void pre_nohugepage(void) { vma->vm_flags |= VM_NOHUGEPAGE; }

static const struct errno_case errno_cases[] = {
	{ "success", pre_populated, 0, SCAN_SUCCEED },
	{ "an armed RWP PTE", pre_armed_rwp_pte, -EINVAL, SCAN_PTE_UFFD },
	{ "a pinned folio", pre_pinned, -EAGAIN, SCAN_PAGE_COUNT },
	{ "a locked folio", pre_locked, -EAGAIN, SCAN_PAGE_LOCK },
	{ "a folio off the LRU", pre_not_lru, -EAGAIN, SCAN_PAGE_LRU },
	{ "a hole in a uffd-armed VMA", pre_none_armed_vma, -EBUSY, SCAN_EXCEED_NONE_PTE },
	{ "the huge allocation fails", pre_alloc_fails, -ENOMEM, SCAN_ALLOC_HUGE_PAGE_FAIL },
	{ "a non-anon folio", pre_not_anon, -EINVAL, SCAN_PAGE_ANON },
	{ "a hwpoisoned source page", pre_hwpoison, -EINVAL, SCAN_COPY_MC },
};

static void madvise_collapse_maps_each_result_to_its_errno(void **state)
{
	for (unsigned c = 0; c < sizeof(errno_cases) / sizeof(errno_cases[0]); c++) {
		teardown(state);
		setup(state);
		errno_cases[c].pre();
		long ret = madvise_collapse(vma, base, base + HPAGE_PMD_SIZE);
		if (ret != errno_cases[c].expect_errno ||
		    khugepaged_last_result != errno_cases[c].expect)
			fail_msg("%s: got %ld/%s", errno_cases[c].name, ret,
				 scan_result_strings[khugepaged_last_result]);
	}
	teardown(state);
	setup(state);
	pre_nohugepage();
	assert_int_equal(madvise_collapse(vma, base, base + HPAGE_PMD_SIZE), -EINVAL);
}

/* --- the race window where collapse_huge_page() runs without the mmap lock --- */
static unsigned race_calls;
static const char *race_point;

static void arm_one_pte(const char *point, void *arg)
{
	race_calls++;
	race_point = point;
	vma->vm_flags |= VM_UFFD_RWP;
	*ptep(100) = pte_mkuffd(pte_modify(*ptep(100), PAGE_NONE));
}

static void an_arming_that_races_the_allocation_is_caught_by_the_isolate_step(void **state)
{
	race_calls = 0;
	race_window_set(arm_one_pte, NULL);
	assert_int_equal(khugepaged_scan_address(mm, base), SCAN_PTE_UFFD);
	assert_int_equal(race_calls, 1);
	assert_string_equal(race_point, "collapse_huge_page:alloc");
	/* The PTEs are untouched, the armed one still armed. */
	assert_true(pmd_is_table(t_pmd(mm, base)));
	assert_true(pte_uffd(*ptep(100)) && pte_protnone(*ptep(100)));
	assert_int_equal(folio_page(folio_at(0), 0)->content, TAG(0));
	/* The isolation was undone: every folio is back on the LRU. */
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		assert_false(folio_at(i)->flags & (FOLIO_isolated | FOLIO_locked));
		assert_int_equal(folio_ref_count(folio_at(i)), 1);
	}
}

static void unmap_range(const char *point, void *arg)
{
	race_calls++;
	sys_munmap(mm, base, HPAGE_PMD_SIZE);
}

static void an_munmap_that_races_the_allocation_fails_the_revalidation(void **state)
{
	race_calls = 0;
	race_window_set(unmap_range, NULL);
	assert_int_equal(khugepaged_scan_address(mm, base), SCAN_VMA_NULL);
	assert_int_equal(race_calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(khugepaged_gives_each_scan_result_for_its_prestate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_collapse_copies_every_tag_and_moves_the_rmap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_swapped_page_is_brought_back_and_keeps_its_tag,
						setup, teardown),
		cmocka_unit_test_setup_teardown(madvise_collapse_ignores_the_khugepaged_limits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			madvise_collapse_still_refuses_holes_in_a_uffd_armed_vma, setup, teardown),
		cmocka_unit_test_setup_teardown(madvise_collapse_maps_each_result_to_its_errno,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			an_arming_that_races_the_allocation_is_caught_by_the_isolate_step, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			an_munmap_that_races_the_allocation_fails_the_revalidation, setup,
			teardown),
	};
	return cmocka_run_group_tests_name("khugepaged_anon", tests, NULL, NULL);
}
