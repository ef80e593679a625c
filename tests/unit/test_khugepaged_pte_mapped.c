/* tests/unit/test_khugepaged_pte_mapped.c - try_collapse_pte_mapped_thp() on the
 * VMAs it refuses and on a PTE table that maps nothing yet.
 */
#include "mmsim_test.h"

static struct mm_struct *mm;
static struct address_space *file;

static int setup(void **state)
{
	mmsim_setup(state);
	mm = mm_alloc("t");
	file = shmem_file_alloc("f", HPAGE_PMD_NR, false);
	file->huge = true;
	return 0;
}

static int teardown(void **state)
{
	exit_mmap(mm);
	mm_free(mm);
	shmem_file_put(file);
	return mmsim_teardown(state);
}

/* A PMD-order folio at file offset 0, in the page cache only. */
static struct folio *cache_thp(void)
{
	struct folio *folio = folio_alloc(HPAGE_PMD_ORDER);

	assert_non_null(folio);
	shmem_add_to_page_cache(file, folio, 0);
	folio_put(folio);
	return folio;
}

/* Maps all 512 pages of folio at vma->vm_start by PTEs, as a fault-around would. */
static void map_by_ptes(struct vm_area_struct *vma, struct folio *folio)
{
	pmd_t *pmd = mm_find_pmd(mm, vma->vm_start, true);

	assert_true(pte_alloc(pmd, mm->id));
	pte_t *pte = pte_offset_map(pmd, vma->vm_start);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		pte[i] = pte_mkyoung(pfn_pte(folio_pfn(folio) + i, vma->vm_page_prot));
	folio_add_file_rmap_ptes(folio, folio_page(folio, 0), HPAGE_PMD_NR, vma);
	folio->refcount += HPAGE_PMD_NR;
}

static pte_t *ptep(uint64_t a, unsigned i) { return pte_lookup(mm->pgd, a + i * PAGE_SIZE); }

/* Neither anon memory nor a VMA shorter than the PMD range is collapsed,
 * and the refusal leaves the page tables as they were. */
static void anon_and_short_vmas_are_refused(void **state)
{
	uint64_t anon = t_map_anon(mm, HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE, HPAGE_PMD_SIZE);

	t_write_pages(mm, anon, 1, 7);
	pte_t before = t_pte(mm, anon);
	assert_int_equal(collapse_pte_mapped_thp(mm, anon, true), SCAN_VMA_CHECK);
	assert_int_equal(khugepaged_last_result, SCAN_VMA_CHECK);
	assert_int_equal(pte_val(t_pte(mm, anon)), pte_val(before));

	/* 1 MiB of the file at a PMD-aligned address: the range runs past its end. */
	uint64_t half = t_map_shmem(mm, file, HPAGE_PMD_SIZE / 2, PROT_READ | PROT_WRITE, true,
				    HPAGE_PMD_SIZE);
	cache_thp();
	assert_int_equal(collapse_pte_mapped_thp(mm, half, true), SCAN_VMA_CHECK);
	assert_true(pmd_none(*mm_find_pmd(mm, half, true)));
}

/* MADV_NOHUGEPAGE: the PTE-mapped THP stays PTE-mapped, every PTE intact;
 * without it the THP is collapsed once. */
static void a_nohugepage_vma_keeps_its_ptes(void **state)
{
	uint64_t a =
		t_map_shmem(mm, file, HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE, true, HPAGE_PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(mm, a);
	struct folio *folio = cache_thp();

	map_by_ptes(vma, folio);
	vma->vm_flags |= VM_NOHUGEPAGE;
	uint64_t table = pmd_pgtable(t_pmd(mm, a));
	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_VMA_CHECK);
	assert_int_equal(pmd_pgtable(t_pmd(mm, a)), table);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		assert_int_equal(pte_pfn(*ptep(a, i)), folio_pfn(folio) + i);
	assert_int_equal(folio_page(folio, 0)->mapcount, 1);
	assert_int_equal(folio_ref_count(folio), 2 * HPAGE_PMD_NR);

	/* Without the flag the same state collapses: the refusal was the flag's. */
	vma->vm_flags &= ~VM_NOHUGEPAGE;
	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_SUCCEED);
	assert_true(pmd_trans_huge(t_pmd(mm, a)));
	/* Once PMD-mapped there is nothing left to do. */
	assert_int_equal(collapse_pte_mapped_thp(mm, a, true), SCAN_PMD_MAPPED);
	assert_int_equal(pmd_pfn(t_pmd(mm, a)), folio_pfn(folio));
}

/* A PTE table with no entry in it: the table goes (no reference to drop),
 * then MADV_COLLAPSE maps the folio by a PMD and khugepaged leaves it none. */
static void an_empty_pte_table_is_freed(void **state)
{
	for (int install = 0; install <= 1; install++) {
		teardown(state);
		setup(state);
		uint64_t a = t_map_shmem(mm, file, HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE, true,
					 HPAGE_PMD_SIZE);
		struct folio *folio = cache_thp();
		pmd_t *pmd = mm_find_pmd(mm, a, true);

		assert_true(pte_alloc(pmd, mm->id));
		uint64_t table = pmd_pgtable(*pmd);
		assert_int_equal(collapse_pte_mapped_thp(mm, a, install), SCAN_SUCCEED);
		assert_false(pt_is_live(table));
		if (install) {
			assert_true(pmd_trans_huge(*pmd));
			assert_int_equal(pmd_pfn(*pmd), folio_pfn(folio));
			assert_int_equal(folio->entire_mapcount, 1);
			assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR + 1);
		} else {
			assert_true(pmd_none(*pmd));
			assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR);
		}
		assert_false(folio_test_locked(folio));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(anon_and_short_vmas_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_nohugepage_vma_keeps_its_ptes, setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_pte_table_is_freed, setup, teardown),
	};
	return cmocka_run_group_tests_name("khugepaged_pte_mapped", tests, NULL, NULL);
}
