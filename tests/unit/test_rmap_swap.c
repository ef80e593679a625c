/* tests/unit/test_rmap_swap.c - swap-out through reclaim and MADV_PAGEOUT,
 * MADV_FREE on armed and swapped pages, and madvise's argument checks.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define VAL 0x5000

static pte_t arm(pte_t pte) { return pte_mkuffd(pte_modify(pte, PAGE_NONE)); }

/* n written pages of an RWP VMA; the pages in armed_mask are armed by hand. */
static uint64_t map_rwp(struct mm_struct *mm, unsigned n, unsigned armed_mask)
{
	uint64_t addr = t_map_anon(mm, n * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

	for (unsigned i = 0; i < n; i++)
		t_write_pages(mm, addr + i * PAGE_SIZE, 1, VAL + i);
	vma_lookup(mm, addr)->vm_flags |= VM_UFFD_RWP;
	for (unsigned i = 0; i < n; i++)
		if (armed_mask & (1u << i)) {
			pte_t *ptep = pte_lookup(mm->pgd, addr + i * PAGE_SIZE);
			*ptep = arm(*ptep);
		}
	return addr;
}

static void finish(struct mm_struct *mm)
{
	exit_mmap(mm);
	mm_free(mm);
}

static void test_swap_out_keeps_the_uffd_bit_in_the_swap_pte_and_data_in_the_slot(void **state)
{
	static const int advices[] = { 0 /* reclaim step */, MADV_PAGEOUT };

	for (unsigned a = 0; a < G_N_ELEMENTS(advices); a++) {
		struct mm_struct *mm = mm_alloc("swap");
		uint64_t addr = map_rwp(mm, 4, 0x5); /* pages 0 and 2 armed */

		if (advices[a])
			assert_int_equal(sys_madvise(mm, addr, 4 * PAGE_SIZE, advices[a]), 0);
		else
			assert_int_equal(reclaim_range(mm, addr, addr + 4 * PAGE_SIZE), 4);
		for (unsigned i = 0; i < 4; i++) {
			pte_t pte = t_pte(mm, addr + i * PAGE_SIZE);
			uint64_t slot = swp_offset(pte_to_swp_entry(pte));

			assert_true(is_swap_pte(pte));
			assert_false(non_swap_entry(pte_to_swp_entry(pte)));
			assert_int_equal(pte_swp_uffd(pte), (0x5 >> i) & 1);
			assert_true(pte_swp_exclusive(pte));
			assert_int_equal(swap_info.slots[slot].content, VAL + i);
			assert_int_equal(swap_info.slots[slot].count, 1); /* the PTE's only */
			assert_null(swap_cache_get_folio(slot));
		}
		assert_int_equal(mm->nr_swapents, 4);
		assert_int_equal(mm->rss_anon, 0);
		finish(mm);
	}
}

static void test_swapped_unarmed_page_reads_back_its_data(void **state)
{
	struct mm_struct *mm = mm_alloc("swapin");
	uint64_t addr = map_rwp(mm, 2, 0x1), value = 0;

	assert_int_equal(reclaim_range(mm, addr, addr + 2 * PAGE_SIZE), 2);
	assert_int_equal(user_access(mm, addr + PAGE_SIZE, false, 0, &value), RESULT_OK);
	assert_int_equal(value, VAL + 1);
	assert_int_equal(mm->nr_swapents, 1);
	finish(mm);
}

static void test_large_folio_goes_to_consecutive_slots_one_swap_pte_each(void **state)
{
	struct mm_struct *mm = mm_alloc("mthp");
	uint64_t addr = t_map_anon(mm, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	struct folio *folio = folio_alloc(4);
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, true, mm->id);

	vma->vm_flags |= VM_UFFD_RWP;
	anon_vma_prepare(vma);
	assert_true(pte_alloc(pmd, mm->id));
	pte_t *ptep = pte_offset_map(pmd, addr);
	folio_add_new_anon_rmap(folio, vma, addr, true);
	folio_add_anon_rmap_ptes(folio, folio_page(folio, 0), 16, vma, true);
	folio->refcount = 16;
	for (int i = 0; i < 16; i++) {
		folio_page(folio, i)->content = VAL + i;
		ptep[i] =
			pte_mkdirty(pte_mkwrite(pfn_pte(folio_pfn(folio) + i, vma->vm_page_prot)));
		if (i & 1)
			ptep[i] = arm(ptep[i]);
	}
	assert_int_equal(reclaim_range(mm, addr, addr + 16 * PAGE_SIZE), 1);
	assert_int_equal(rmap_last_batch, 1); /* anon swapbacked never batches */
	uint64_t first = swp_offset(pte_to_swp_entry(ptep[0]));
	assert_int_equal(first % 16, 0);
	for (int i = 0; i < 16; i++) {
		assert_true(is_swap_pte(ptep[i]));
		assert_int_equal(swp_offset(pte_to_swp_entry(ptep[i])), first + i);
		assert_int_equal(pte_swp_uffd(ptep[i]), i & 1);
		assert_int_equal(swap_info.slots[first + i].content, VAL + i);
	}
	finish(mm);
}

static void test_madv_free_keeps_uffd_and_protnone_and_clears_young_dirty(void **state)
{
	struct mm_struct *mm = mm_alloc("free");
	uint64_t addr = map_rwp(mm, 2, 0x1);

	assert_int_equal(sys_madvise(mm, addr, 2 * PAGE_SIZE, MADV_FREE), 0);
	for (unsigned i = 0; i < 2; i++) {
		pte_t pte = t_pte(mm, addr + i * PAGE_SIZE);

		assert_true(pte_present(pte));
		assert_int_equal(pte_uffd(pte), i == 0);
		assert_int_equal(pte_protnone(pte), i == 0);
		assert_false(pte_young(pte) || pte_dirty(pte));
		assert_true(folio_test_lazyfree(pfn_folio(pte_pfn(pte))));
	}
	/* Clean lazyfree pages are then discarded, armed or not. */
	assert_int_equal(reclaim_range(mm, addr, addr + 2 * PAGE_SIZE), 2);
	assert_true(pte_none(t_pte(mm, addr)));
	assert_true(pte_none(t_pte(mm, addr + PAGE_SIZE)));
	finish(mm);
}

static void test_madv_free_drops_swap_entries_and_their_slots(void **state)
{
	struct mm_struct *mm = mm_alloc("freeswap");
	uint64_t addr = map_rwp(mm, 1, 0x1);

	assert_int_equal(reclaim_range(mm, addr, addr + PAGE_SIZE), 1);
	uint64_t slot = swp_offset(pte_to_swp_entry(t_pte(mm, addr)));
	assert_int_equal(sys_madvise(mm, addr, PAGE_SIZE, MADV_FREE), 0);
	assert_true(pte_none(t_pte(mm, addr)));
	assert_int_equal(swap_info.slots[slot].count, 0);
	assert_int_equal(mm->nr_swapents, 0);
	finish(mm);
}

static void test_reclaim_skips_a_pinned_folio(void **state)
{
	struct mm_struct *mm = mm_alloc("pin");
	uint64_t addr = map_rwp(mm, 1, 0);
	struct folio *folio = pfn_folio(pte_pfn(t_pte(mm, addr)));
	int refs = folio_ref_count(folio);

	folio->pincount = 1;
	folio_get(folio);
	assert_int_equal(reclaim_range(mm, addr, addr + PAGE_SIZE), 0);
	assert_true(pte_present(t_pte(mm, addr)));
	assert_int_equal(folio_ref_count(folio), refs + 1);
	folio->pincount = 0;
	folio_put(folio);
	finish(mm);
}

static const struct {
	const char *what;
	int64_t start_off; /* from the mapping */
	uint64_t len;
	int advice;
	long want;
} madvise_table[] = {
	{ "unaligned start", 1, PAGE_SIZE, MADV_DONTNEED, -EINVAL },
	{ "unknown advice", 0, PAGE_SIZE, 99, -EINVAL },
	{ "zero length", 0, 0, MADV_DONTNEED, 0 },
	{ "length wraps", 0, UINT64_MAX, MADV_DONTNEED, -EINVAL },
	{ "hole before the mapping", -(int64_t)PAGE_SIZE, 2 * PAGE_SIZE, MADV_DONTNEED, -ENOMEM },
	{ "hole after the mapping", 0, 8 * PAGE_SIZE, MADV_FREE, -ENOMEM },
	{ "all mapped", 0, 4 * PAGE_SIZE, MADV_FREE, 0 },
	{ "unaligned length rounds up", 0, 1, MADV_DONTNEED, 0 },
};

static void test_madvise_validates_like_the_kernel(void **state)
{
	for (unsigned t = 0; t < G_N_ELEMENTS(madvise_table); t++) {
		struct mm_struct *mm = mm_alloc("val");
		/* a guard gap below keeps the "hole before" row a hole */
		uint64_t addr = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
		long got = sys_madvise(mm, addr + madvise_table[t].start_off, madvise_table[t].len,
				       madvise_table[t].advice);

		if (got != madvise_table[t].want)
			fail_msg("%s: %ld, want %ld", madvise_table[t].what, got,
				 madvise_table[t].want);
		finish(mm);
	}
}

static void test_madv_free_on_shmem_is_einval(void **state)
{
	struct mm_struct *mm = mm_alloc("shm");
	struct address_space *file = shmem_file_alloc("f", 4, false);
	uint64_t addr = t_map_shmem(mm, file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);

	assert_int_equal(sys_madvise(mm, addr, 4 * PAGE_SIZE, MADV_FREE), -EINVAL);
	finish(mm);
	shmem_file_put(file);
}

static void test_madv_hugepage_splits_the_vma_and_registers_khugepaged(void **state)
{
	struct mm_struct *mm = mm_alloc("thp");
	uint64_t addr = t_map_anon(mm, 4 * PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);

	assert_int_equal(sys_madvise(mm, addr + PMD_SIZE, 2 * PMD_SIZE, MADV_HUGEPAGE), 0);
	assert_int_equal(mm->vmas->len, 3);
	struct vm_area_struct *vma = vma_lookup(mm, addr + PMD_SIZE);
	assert_int_equal(vma->vm_start, addr + PMD_SIZE);
	assert_int_equal(vma->vm_end, addr + 3 * PMD_SIZE);
	assert_true(vma->vm_flags & VM_HUGEPAGE);
	assert_false(vma_lookup(mm, addr)->vm_flags & VM_HUGEPAGE);
	assert_true(mm->khugepaged_registered);
	/* Undoing it merges the VMAs back. */
	assert_int_equal(sys_madvise(mm, addr + PMD_SIZE, 2 * PMD_SIZE, MADV_NOHUGEPAGE), 0);
	assert_true(vma_lookup(mm, addr + PMD_SIZE)->vm_flags & VM_NOHUGEPAGE);
	finish(mm);
}

static void test_madv_populate_write_faults_the_range_in(void **state)
{
	struct mm_struct *mm = mm_alloc("pop");
	uint64_t addr = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

	assert_int_equal(sys_madvise(mm, addr, 4 * PAGE_SIZE, MADV_POPULATE_WRITE), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_true(pte_write(t_pte(mm, addr + i * PAGE_SIZE)));
	assert_int_equal(sys_madvise(mm, addr, 8 * PAGE_SIZE, MADV_POPULATE_READ), -ENOMEM);
	finish(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_swap_out_keeps_the_uffd_bit_in_the_swap_pte_and_data_in_the_slot,
			mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_swapped_unarmed_page_reads_back_its_data,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_large_folio_goes_to_consecutive_slots_one_swap_pte_each, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_madv_free_keeps_uffd_and_protnone_and_clears_young_dirty, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_madv_free_drops_swap_entries_and_their_slots,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_skips_a_pinned_folio, mmsim_setup,
						mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_madvise_validates_like_the_kernel, mmsim_setup,
						mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_madv_free_on_shmem_is_einval, mmsim_setup,
						mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_madv_hugepage_splits_the_vma_and_registers_khugepaged, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_madv_populate_write_faults_the_range_in,
						mmsim_setup, mmsim_teardown),
	};
	return cmocka_run_group_tests_name("rmap_swap", tests, NULL, NULL);
}
