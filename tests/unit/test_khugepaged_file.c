/* tests/unit/test_khugepaged_file.c - the shmem side: hpage_collapse_scan_file(),
 * collapse_file(), retract_page_tables() with hunk 08b and its race window,
 * and try_collapse_pte_mapped_thp() with hunk 08a (traces K1 and K2).
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define TAG(i) (0xf11e0000ULL + (i))

static struct mm_struct *mm;
static struct address_space *file;

static int setup(void **state)
{
	mmsim_setup(state);
	mm = mm_alloc("t");
	file = shmem_file_alloc("f", HPAGE_PMD_NR, false);
	return 0;
}

static int teardown(void **state)
{
	exit_mmap(mm);
	mm_free(mm);
	shmem_file_put(file);
	return mmsim_teardown(state);
}

static uint64_t map_shared(void)
{
	return t_map_shmem(mm, file, HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE, true, HPAGE_PMD_SIZE);
}

/* MADV_HUGEPAGE, after any faults (which would otherwise allocate a THP). */
static void hugepage(uint64_t a) { vma_lookup(mm, a)->vm_flags |= VM_HUGEPAGE; }

static pte_t *ptep(uint64_t a, unsigned i) { return pte_lookup(mm->pgd, a + i * PAGE_SIZE); }

/* --------------------------------------------------------------- K1 (08a) */

/* The K1 prestate, built directly: one PMD-order folio in the page cache,
 * mapped by 512 PTEs of vma (armed RWP entries when armed). */
static struct folio *build_pte_mapped_thp(struct vm_area_struct *vma, bool armed)
{
	struct folio *folio = folio_alloc(HPAGE_PMD_ORDER);

	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		folio_page(folio, i)->content = TAG(i);
	shmem_add_to_page_cache(file, folio, 0);
	folio_put(folio);

	pmd_t *pmd = mm_find_pmd(mm, vma->vm_start, true);
	assert_true(pte_alloc(pmd, mm->id));
	pte_t *pte = pte_offset_map(pmd, vma->vm_start);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pte_t entry = pte_mkyoung(pfn_pte(folio_pfn(folio) + i, vma->vm_page_prot));

		/* Armed: protnone + uffd bit, as UFFDIO_RWPROTECT leaves it. */
		pte[i] = armed ? pte_mkuffd(pte_modify(entry, PAGE_NONE)) : entry;
	}
	folio_add_file_rmap_ptes(folio, folio_page(folio, 0), HPAGE_PMD_NR, vma);
	folio->refcount += HPAGE_PMD_NR;
	return folio;
}

struct k1_case {
	const char *name;
	vm_flags_t uffd;
	bool armed;
	const char *level;
	bool madvise; /* MADV_COLLAPSE (install_pmd) or khugepaged */
	enum scan_result expect;
	long expect_errno;
	bool kept; /* the PTE table and every PTE survive */
};

static const struct k1_case k1_cases[] = {
	{ "RWP, v6, MADV_COLLAPSE", VM_UFFD_RWP, true, "v6", true, SCAN_PTE_UFFD, -EINVAL, true },
	{ "RWP, v6, khugepaged", VM_UFFD_RWP, true, "v6", false, SCAN_PTE_UFFD, 0, true },
	{ "RWP, v5, MADV_COLLAPSE", VM_UFFD_RWP, true, "v5", true, SCAN_PTE_UFFD, -EINVAL, true },
	{ "RWP, no08, MADV_COLLAPSE", VM_UFFD_RWP, true, "no08", true, SCAN_SUCCEED, 0, false },
	{ "RWP, no08, khugepaged", VM_UFFD_RWP, true, "no08", false, SCAN_SUCCEED, 0, false },
	{ "WP, no08, MADV_COLLAPSE", VM_UFFD_WP, false, "no08", true, SCAN_PTE_UFFD, -EINVAL,
	  true },
	{ "unregistered, v6, MADV_COLLAPSE", 0, false, "v6", true, SCAN_SUCCEED, 0, false },
};

static void k1_try_collapse_pte_mapped_thp_follows_hunk_08a(void **state)
{
	for (unsigned c = 0; c < sizeof(k1_cases) / sizeof(k1_cases[0]); c++) {
		const struct k1_case *k = &k1_cases[c];

		teardown(state);
		setup(state);
		file->huge = true;
		assert_true(patch_set_level(k->level));
		uint64_t a = map_shared();
		struct vm_area_struct *vma = vma_lookup(mm, a);
		vma->vm_flags |= k->uffd;
		struct folio *folio = build_pte_mapped_thp(vma, k->armed);
		uint64_t table = pmd_pgtable(t_pmd(mm, a));
		pte_t snap[HPAGE_PMD_NR];
		for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
			snap[i] = *ptep(a, i);

		long ret = 0;
		enum scan_result r;
		if (k->madvise) {
			ret = madvise_collapse(vma, a, a + HPAGE_PMD_SIZE);
			r = khugepaged_last_result;
		} else {
			r = khugepaged_scan_address(mm, a);
		}
		if (r != k->expect || ret != k->expect_errno)
			fail_msg("%s: got %s/%ld", k->name, scan_result_strings[r], ret);
		assert_int_equal(khugepaged_last_result, k->expect);

		pmd_t pmd = t_pmd(mm, a);
		if (k->kept) {
			assert_int_equal(pmd_pgtable(pmd), table);
			for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
				assert_int_equal(pte_val(*ptep(a, i)), pte_val(snap[i]));
				assert_int_equal(folio_page(folio, i)->mapcount, 1);
			}
			assert_int_equal(folio_ref_count(folio), 2 * HPAGE_PMD_NR);
			continue;
		}
		/* Destroyed: the table is freed and no PTE maps the folio. */
		assert_false(pt_is_live(table));
		for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
			assert_int_equal(folio_page(folio, i)->mapcount, 0);
		if (k->madvise) {
			/* A PMD from vm_page_prot: accessible, no uffd bit. */
			assert_true(pmd_trans_huge(pmd));
			assert_false(pmd_uffd(pmd));
			assert_false(pmd_protnone(pmd));
			assert_int_equal(pmd_pfn(pmd), folio_pfn(folio));
			assert_int_equal(folio->entire_mapcount, 1);
			assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR + 1);
		} else {
			assert_true(pmd_none(pmd));
			assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR);
		}
	}
}

static void collapse_pte_mapped_thp_refuses_a_wrong_page_and_a_swap_pte(void **state)
{
	file->huge = true;
	uint64_t a = map_shared();
	struct vm_area_struct *vma = vma_lookup(mm, a);
	struct folio *folio = build_pte_mapped_thp(vma, false);

	/* PTE 3 maps another page (as after a private CoW). */
	pte_t orig = *ptep(a, 3);
	*ptep(a, 3) = pfn_pte(mem_map.zero_pfn, vma->vm_page_prot);
	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_FAIL);
	assert_int_equal(folio_page(folio, 0)->mapcount, 1);
	*ptep(a, 3) = orig;

	*ptep(a, 4) = make_pte_marker(PTE_MARKER_GUARD);
	folio_remove_rmap_ptes(folio, folio_page(folio, 4), 1, vma);
	folio_put(folio);
	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_PTE_NON_PRESENT);
	assert_true(pmd_is_table(t_pmd(mm, a)));
	assert_int_equal(folio_page(folio, 0)->mapcount, 1);
}

static void collapse_pte_mapped_thp_reports_a_small_folio_and_a_missing_one(void **state)
{
	uint64_t a = map_shared();
	struct folio *f;

	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_PAGE_NULL);
	assert_int_equal(shmem_get_folio(file, 0, SGP_CACHE, &f, NULL, NULL), 0);
	assert_int_equal(folio_order(f), 0);
	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_PAGE_COMPOUND);
	assert_int_equal(collapse_pte_mapped_thp(mm, a + HPAGE_PMD_SIZE, true), SCAN_VMA_CHECK);
	assert_false(folio_test_locked(f));
	assert_int_equal(folio_ref_count(f), 1);
}

/* --------------------------------------------------------------- K2 (08b) */

struct retractable_case {
	vm_flags_t uffd;
	bool anon_vma;
	const char *level;
	bool expect;
};

static const struct retractable_case retractable_cases[] = {
	{ 0, false, "v6", true },
	{ 0, true, "v6", false },
	{ VM_UFFD_WP, false, "v6", false },
	{ VM_UFFD_WP, false, "no08", false },
	{ VM_UFFD_RWP, false, "v6", false },
	{ VM_UFFD_RWP, false, "v5", false },
	{ VM_UFFD_RWP, false, "no08", true },
	{ VM_UFFD_MISSING, false, "v6", true },
	{ VM_UFFD_MINOR, false, "v6", true },
};

static void file_backed_vma_is_retractable_follows_hunk_08b(void **state)
{
	uint64_t a = map_shared();
	struct vm_area_struct *vma = vma_lookup(mm, a);
	vm_flags_t flags = vma->vm_flags;

	for (unsigned c = 0; c < sizeof(retractable_cases) / sizeof(retractable_cases[0]); c++) {
		const struct retractable_case *k = &retractable_cases[c];
		struct anon_vma av = { 0 };

		assert_true(patch_set_level(k->level));
		vma->vm_flags = flags | k->uffd;
		vma->anon_vma = k->anon_vma ? &av : NULL;
		if (file_backed_vma_is_retractable(vma) != k->expect)
			fail_msg("case %u: flags %#llx anon_vma %d at %s", c,
				 (unsigned long long)k->uffd, k->anon_vma, k->level);
	}
	vma->anon_vma = NULL;
	vma->vm_flags = flags;
}

/* The K2 prestate: A and B map the same 2 MiB of the file, A written with
 * small folios and registered RWP with every PTE armed, B mapping them too. */
static void build_k2(uint64_t *a, uint64_t *b, bool arm_a)
{
	*a = map_shared();
	*b = map_shared();
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		uint64_t v;
		assert_int_equal(user_access(mm, *a + i * PAGE_SIZE, true, TAG(i), NULL),
				 RESULT_OK);
		assert_int_equal(user_access(mm, *b + i * PAGE_SIZE, false, 0, &v), RESULT_OK);
		assert_int_equal(v, TAG(i));
	}
	assert_int_equal(folio_order(filemap_get_folio(file, 0)), 0);
	hugepage(*a);
	hugepage(*b);
	if (!arm_a)
		return;
	vma_lookup(mm, *a)->vm_flags |= VM_UFFD_RWP;
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		*ptep(*a, i) = pte_mkuffd(pte_modify(*ptep(*a, i), PAGE_NONE));
}

/* The K2 levels: with hunk 08b and without. */
static const char *const k2_levels[] = { "v6", "no08" };

/* A fresh machine at level with the K2 prestate. */
static void restart_k2(void **state, const char *level, uint64_t *a, uint64_t *b, bool arm_a)
{
	teardown(state);
	setup(state);
	assert_true(patch_set_level(level));
	build_k2(a, b, arm_a);
}

static void assert_page_cache_is_one_thp_with_the_tags(void)
{
	struct folio *thp = filemap_get_folio(file, 0);

	assert_non_null(thp);
	assert_int_equal(folio_order(thp), HPAGE_PMD_ORDER);
	assert_int_equal(thp->index, 0);
	assert_false(folio_test_locked(thp));
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		assert_int_equal(folio_page(thp, i)->content, TAG(i));
}

static void k2_collapse_file_keeps_the_rwp_vma_table_only_with_08b(void **state)
{
	for (unsigned l = 0; l < G_N_ELEMENTS(k2_levels); l++) {
		uint64_t a, b;
		restart_k2(state, k2_levels[l], &a, &b, true);
		uint64_t table_a = pmd_pgtable(t_pmd(mm, a)), table_b = pmd_pgtable(t_pmd(mm, b));

		assert_int_equal(khugepaged_scan_address(mm, b), SCAN_SUCCEED);
		assert_page_cache_is_one_thp_with_the_tags();
		/* B is always retracted; khugepaged does not install the PMD. */
		assert_true(pmd_none(t_pmd(mm, b)));
		assert_false(pt_is_live(table_b));
		if (l == 0) {
			/* 08b: A keeps its table (its PTEs were unmapped by try_to_unmap). */
			assert_int_equal(pmd_pgtable(t_pmd(mm, a)), table_a);
			for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
				assert_true(pte_none(*ptep(a, i)));
		} else {
			assert_true(pmd_none(t_pmd(mm, a)));
		}
	}
}

/* ------------------------------------------- the retract_page_tables window */

static unsigned race_calls;
static const char *race_point;
static bool table_live_in_window;
static uint64_t race_addr;

static void register_rwp_in_window(const char *point, void *arg)
{
	struct vm_area_struct *vma = vma_lookup(mm, race_addr);

	race_calls++;
	race_point = point;
	table_live_in_window = pmd_is_table(t_pmd(mm, race_addr));
	vma->vm_flags |= VM_UFFD_RWP;
}

static void a_registration_in_the_retract_window_is_seen_by_the_recheck(void **state)
{
	for (unsigned l = 0; l < G_N_ELEMENTS(k2_levels); l++) {
		uint64_t a, b;
		restart_k2(state, k2_levels[l], &a, &b, false);
		uint64_t table_a = pmd_pgtable(t_pmd(mm, a));

		race_calls = 0;
		race_addr = a;
		race_window_set(register_rwp_in_window, NULL);
		enum scan_result r = khugepaged_scan_address(mm, b);
		assert_int_equal(r, SCAN_SUCCEED);
		/* Called once, for A (first in i_mmap), after the lockless check
		 * passed and before anything was retracted. */
		assert_int_equal(race_calls, 1);
		assert_string_equal(race_point, "retract_page_tables:recheck");
		assert_true(table_live_in_window);
		if (l == 0)
			assert_int_equal(pmd_pgtable(t_pmd(mm, a)), table_a);
		else
			assert_true(pmd_none(t_pmd(mm, a)));
		assert_true(pmd_none(t_pmd(mm, b)));
	}
}

static void no_window_opens_for_a_vma_the_lockless_check_rejects(void **state)
{
	uint64_t a = map_shared();

	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		assert_int_equal(user_access(mm, a + i * PAGE_SIZE, true, TAG(i), NULL), RESULT_OK);
	hugepage(a);
	vma_lookup(mm, a)->vm_flags |= VM_UFFD_RWP;
	race_calls = 0;
	race_addr = a;
	race_window_set(register_rwp_in_window, NULL);
	/* khugepaged's collapse_file() success is final: no PMD install. */
	assert_int_equal(khugepaged_scan_address(mm, a), SCAN_SUCCEED);
	assert_int_equal(race_calls, 0);
	race_window_set(NULL, NULL);
	assert_true(pmd_is_table(t_pmd(mm, a)));
	assert_page_cache_is_one_thp_with_the_tags();
}

/* ------------------------------------------- scan_file and collapse_file results */

static void populate_cache(unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++) {
		struct folio *f;
		assert_int_equal(shmem_get_folio(file, i, SGP_CACHE, &f, NULL, NULL), 0);
		assert_int_equal(folio_order(f), 0);
		folio_page(f, 0)->content = TAG(i);
	}
}

static void pre_full(void) { populate_cache(0, HPAGE_PMD_NR); }
static void pre_empty(void) {}
static void pre_one_hole_max0(void)
{
	populate_cache(0, HPAGE_PMD_NR - 1);
	thp_settings.max_ptes_none = 0;
}
static void pre_swapped(void)
{
	pre_full();
	uint64_t slot = swap_alloc_slot();
	struct folio *f = filemap_get_folio(file, 9);
	swap_info.slots[slot].content = folio_page(f, 0)->content;
	filemap_remove_folio(file, f);
	file->i_pages[9] = (slot << 1) | XA_VALUE_BIT;
}
static void pre_swapped_max0(void)
{
	pre_swapped();
	thp_settings.max_ptes_swap = 0;
}
static void pre_not_lru(void)
{
	pre_full();
	folio_clear_flag(filemap_get_folio(file, 4), FOLIO_lru);
}
static void pre_extra_ref(void)
{
	pre_full();
	folio_get(filemap_get_folio(file, 4));
}
static void pre_locked(void)
{
	pre_full();
	folio_set_flag(filemap_get_folio(file, 4), FOLIO_locked);
}
static void pre_hole_missing_vma(void)
{
	populate_cache(0, HPAGE_PMD_NR - 1);
	((struct vm_area_struct *)g_ptr_array_index(mm->vmas, 0))->vm_flags |= VM_UFFD_MISSING;
}
static void pre_hole_minor_vma(void)
{
	populate_cache(0, HPAGE_PMD_NR - 1);
	((struct vm_area_struct *)g_ptr_array_index(mm->vmas, 0))->vm_flags |= VM_UFFD_MINOR;
}
static void pre_hwpoison(void)
{
	pre_full();
	folio_page(filemap_get_folio(file, 6), 0)->flags |= PG_hwpoison;
}

struct file_case {
	const char *name;
	void (*pre)(void);
	enum scan_result khugepaged;
	enum scan_result madvise;
	long madvise_errno;
	bool collapsed; /* the page cache ends up as one THP */
};

static const struct file_case file_cases[] = {
	{ "a full range", pre_full, SCAN_SUCCEED, SCAN_SUCCEED, 0, true },
	{ "an empty range", pre_empty, SCAN_EXCEED_NONE_PTE, SCAN_TRUNCATED, -EINVAL, false },
	{ "one hole over max_ptes_none=0", pre_one_hole_max0, SCAN_EXCEED_NONE_PTE, SCAN_SUCCEED, 0,
	  true },
	{ "a swapped page", pre_swapped, SCAN_SUCCEED, SCAN_SUCCEED, 0, true },
	{ "a swapped page over max_ptes_swap=0", pre_swapped_max0, SCAN_EXCEED_SWAP_PTE,
	  SCAN_SUCCEED, 0, true },
	{ "a folio off the LRU", pre_not_lru, SCAN_PAGE_LRU, SCAN_PAGE_LRU, -EAGAIN, false },
	{ "a folio with an extra reference", pre_extra_ref, SCAN_PAGE_COUNT, SCAN_PAGE_COUNT,
	  -EAGAIN, false },
	{ "a locked folio", pre_locked, SCAN_PAGE_LOCK, SCAN_PAGE_LOCK, -EAGAIN, false },
	{ "a hole under a MISSING registration", pre_hole_missing_vma, SCAN_EXCEED_NONE_PTE,
	  SCAN_EXCEED_NONE_PTE, -EBUSY, false },
	{ "a hole under a MINOR registration", pre_hole_minor_vma, SCAN_SUCCEED, SCAN_SUCCEED, 0,
	  true },
	{ "a hwpoisoned page", pre_hwpoison, SCAN_COPY_MC, SCAN_COPY_MC, -EINVAL, false },
};

static void collapse_file_gives_each_result_for_its_prestate(void **state)
{
	for (unsigned c = 0; c < sizeof(file_cases) / sizeof(file_cases[0]); c++) {
		const struct file_case *k = &file_cases[c];

		for (unsigned madv = 0; madv < 2; madv++) {
			teardown(state);
			setup(state);
			uint64_t a = map_shared();
			struct vm_area_struct *vma = vma_lookup(mm, a);
			hugepage(a);
			k->pre();
			uint64_t snap[HPAGE_PMD_NR];
			for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
				snap[i] = file->i_pages[i];

			enum scan_result r;
			long ret = 0;
			if (madv) {
				ret = madvise_collapse(vma, a, a + HPAGE_PMD_SIZE);
				r = khugepaged_last_result;
			} else {
				r = khugepaged_scan_address(mm, a);
			}
			enum scan_result want = madv ? k->madvise : k->khugepaged;
			if (r != want || (madv && ret != k->madvise_errno))
				fail_msg("%s (%s): got %s/%ld", k->name,
					 madv ? "MADV_COLLAPSE" : "khugepaged",
					 scan_result_strings[r], ret);
			struct folio *f0 = filemap_get_folio(file, 0);
			bool thp = f0 && folio_order(f0) == HPAGE_PMD_ORDER;
			if (thp !=
			    (k->collapsed && (madv ? k->madvise : k->khugepaged) == SCAN_SUCCEED))
				fail_msg("%s: page cache collapsed=%d", k->name, thp);
			if (thp) {
				for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
					assert_int_equal(folio_page(f0, i)->content,
							 snap[i] ? TAG(i) : 0);
				assert_int_equal(folio_ref_count(f0),
						 HPAGE_PMD_NR + (madv ? 1 : 0));
				/* MADV_COLLAPSE maps it with a PMD right away. */
				pmd_t *pmd = pmd_lookup(mm->pgd, a, false, 0);
				assert_int_equal(pmd && pmd_trans_huge(*pmd), madv);
			} else {
				/* Rollback: the page cache is as it was, folios unlocked. */
				for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
					assert_int_equal(file->i_pages[i], snap[i]);
					struct folio *f = filemap_get_folio(file, i);
					if (f)
						assert_false(f->flags & FOLIO_isolated);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(k1_try_collapse_pte_mapped_thp_follows_hunk_08a,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			collapse_pte_mapped_thp_refuses_a_wrong_page_and_a_swap_pte, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			collapse_pte_mapped_thp_reports_a_small_folio_and_a_missing_one, setup,
			teardown),
		cmocka_unit_test_setup_teardown(file_backed_vma_is_retractable_follows_hunk_08b,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			k2_collapse_file_keeps_the_rwp_vma_table_only_with_08b, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_registration_in_the_retract_window_is_seen_by_the_recheck, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			no_window_opens_for_a_vma_the_lockless_check_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(collapse_file_gives_each_result_for_its_prestate,
						setup, teardown),
	};
	return cmocka_run_group_tests_name("khugepaged_file", tests, NULL, NULL);
}
