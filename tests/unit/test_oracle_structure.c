/* tests/unit/test_oracle_structure.c - encoding and structure invariants
 * fire on hand-corrupted page tables, folios and swap slots.
 */
#include "test_oracle_fixture.h"

#define RW (VM_READ | VM_WRITE)

static struct vm_area_struct *anon(struct fx *fx, vm_flags_t extra, int npages)
{
	struct vm_area_struct *vma = fx_vma(fx, fx->mm, "A", FX_BASE, npages, RW | extra, NULL, 0);
	for (int i = 0; i < npages; i++)
		fx_anon_page(vma, FX_BASE + i * PAGE_SIZE, 0);
	return vma;
}

static void a_correct_hand_built_state_is_clean(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 4);
	struct address_space *file = fx_file(fx, "F", HPAGE_PMD_NR);
	struct vm_area_struct *v =
		fx_vma(fx, fx->mm, "B", FX_BASE + PMD_SIZE, 2, RW | VM_SHARED, file, 0);
	struct folio *f = fx_cache_folio(file, 0, 0);
	fx_file_pte(v, FX_BASE + PMD_SIZE, f, 0);
	assert_clean(fx, fx_events_step(fx));
}

static void wp_and_rwp_on_one_vma_is_reported(void **state)
{
	struct fx *fx = *state;
	anon(fx, VM_UFFD_WP | VM_UFFD_RWP, 1);
	fx_register(fx->mm, FX_BASE, PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP | UFFDIO_REGISTER_MODE_WP);
	assert_violation(fx, fx_events_step(fx), "wp-rwp exclusive");
}

static void uffd_bit_without_protnone_in_rwp_vma_is_bad_encoding(void **state)
{
	struct fx *fx = *state;
	anon(fx, VM_UFFD_RWP, 1);
	fx_register(fx->mm, FX_BASE, PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP);
	pte_t *p = fx_ptep(fx->mm, FX_BASE);
	*p = pte_mkuffd(*p);
	assert_violation(fx, fx_events_step(fx), "rwp encoding");
}

static void armed_pte_in_an_unregistered_vma_is_stray(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 1);
	pte_t *p = fx_ptep(fx->mm, FX_BASE);
	*p = fx_armed(*p);
	assert_violation(fx, fx_events_step(fx), "stray protnone+uffd");
}

static void swap_uffd_bit_in_an_unregistered_vma_is_stray(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 1, RW, NULL, 0);
	uint64_t slot = swap_alloc_slot();
	swap_info.slots[slot].cache_pfn = 0;
	*fx_ptep(fx->mm, FX_BASE) = pte_swp_mkuffd(swp_entry_to_pte(swp_entry(0, slot)));
	/* The slot's count is the PTE's reference (no swap cache). */
	assert_violation(fx, fx_events_step(fx), "stray uffd");
}

static void uffd_bit_on_a_shmem_pmd_is_reported(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", HPAGE_PMD_NR);
	struct vm_area_struct *v = fx_vma(fx, fx->mm, "A", FX_BASE, HPAGE_PMD_NR,
					  RW | VM_SHARED | VM_UFFD_WP, file, 0);
	fx_register(fx->mm, FX_BASE, PMD_SIZE, UFFDIO_REGISTER_MODE_WP);
	assert_true(fx_events_step(fx));
	struct folio *f = fx_cache_folio(file, 0, HPAGE_PMD_ORDER);
	folio_get(f);
	folio_add_file_rmap_pmd(f, v);
	pmd_t *pmd = pmd_lookup(fx->mm->pgd, FX_BASE, true, fx->mm->id);
	*pmd = pmd_mkuffd(pmd_mkhuge(pfn_pmd(folio_pfn(f), v->vm_page_prot)));
	fx_emit(EV_UFFD_WP, fx->mm, FX_BASE, PMD_SIZE); /* the ledger agrees it is protected */
	assert_violation(fx, fx_events_step(fx), "file pmd uffd");
}

static void pte_count_differing_from_mapcount_is_reported(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 2);
	/* An rmap add without a PTE (refcount kept consistent). */
	struct folio *f = pfn_folio(pte_pfn(*fx_ptep(fx->mm, FX_BASE)));
	folio_page(f, 0)->mapcount++;
	folio_get(f);
	assert_violation(fx, fx_events_step(fx), "mapcount");
}

static void pte_mapping_a_freed_frame_is_reported(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 1);
	struct folio *f = pfn_folio(pte_pfn(*fx_ptep(fx->mm, FX_BASE)));
	f->refcount = 1;
	folio_page(f, 0)->mapcount = 0;
	folio_put(f); /* freed while still mapped */
	assert_violation(fx, fx_events_step(fx), "mapcount");
}

static void extra_reference_is_a_refcount_violation(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 1);
	folio_get(pfn_folio(pte_pfn(*fx_ptep(fx->mm, FX_BASE)))); /* leaked get */
	assert_violation(fx, fx_events_step(fx), "refcount");
}

static void anon_folio_at_the_wrong_address_is_an_rmap_violation(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 2);
	struct folio *f = pfn_folio(pte_pfn(*fx_ptep(fx->mm, FX_BASE)));
	f->index += 1;
	assert_violation(fx, fx_events_step(fx), "rmap");
}

static void mapping_outside_every_vma_is_an_rmap_violation(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon(fx, 0, 1);
	vma->vm_end = vma->vm_start; /* as if unmapped without a zap */
	struct vm_area_struct *other = fx_vma(fx, fx->mm, "B", FX_BASE + PMD_SIZE, 1, RW, NULL, 0);
	(void)other;
	g_ptr_array_remove(fx->mm->vmas, vma);
	assert_violation(fx, fx_events_step(fx), "rmap");
}

static void file_page_in_a_vma_not_in_i_mmap_is_an_rmap_violation(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", 4);
	struct vm_area_struct *v = fx_vma(fx, fx->mm, "A", FX_BASE, 1, RW | VM_SHARED, file, 0);
	struct folio *f = fx_cache_folio(file, 0, 0);
	fx_file_pte(v, FX_BASE, f, 0);
	g_ptr_array_remove(file->i_mmap, v);
	assert_violation(fx, fx_events_step(fx), "rmap");
}

static void pmd_leaf_over_a_small_folio_is_reported(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = fx_vma(fx, fx->mm, "A", FX_BASE, HPAGE_PMD_NR, RW, NULL, 0);
	struct folio *f = folio_alloc(0);
	folio_add_new_anon_rmap(f, vma, FX_BASE, true);
	folio_add_anon_rmap_pmd(f, vma, true);
	pmd_t *pmd = pmd_lookup(fx->mm->pgd, FX_BASE, true, fx->mm->id);
	*pmd = pmd_mkhuge(pfn_pmd(folio_pfn(f), vma->vm_page_prot));
	assert_violation(fx, fx_events_step(fx), "pmd folio");
}

static void freed_pte_table_still_referenced_is_reported(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 1, RW, NULL, 0);
	pmd_t *pmd = pmd_lookup(fx->mm->pgd, FX_BASE, true, fx->mm->id);
	assert_true(pte_alloc(pmd, fx->mm->id));
	pt_free(pmd_pgtable(*pmd)); /* retracted but the PMD still points at it */
	assert_violation(fx, fx_events_step(fx), "freed table");
}

static void table_shared_by_two_pmds_is_reported(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 2 * HPAGE_PMD_NR, RW, NULL, 0);
	pmd_t *a = pmd_lookup(fx->mm->pgd, FX_BASE, true, fx->mm->id);
	assert_true(pte_alloc(a, fx->mm->id));
	*pmd_lookup(fx->mm->pgd, FX_BASE + PMD_SIZE, true, fx->mm->id) = *a;
	assert_violation(fx, fx_events_step(fx), "freed table");
}

static void table_of_another_mm_is_reported(void **state)
{
	struct fx *fx = *state;
	struct mm_struct *q = fx_mm(fx, "Q");
	fx_vma(fx, q, "B", FX_BASE, 1, RW, NULL, 0);
	pmd_t *pmd = pmd_lookup(q->pgd, FX_BASE, true, q->id);
	*pmd = pmd_mktable(pt_alloc(PT_PTE, fx->mm->id));
	assert_violation(fx, fx_events_step(fx), "freed table");
}

static void swap_count_not_matching_references_is_reported(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 2, RW, NULL, 0);
	uint64_t slot = swap_alloc_slot();
	*fx_ptep(fx->mm, FX_BASE) = swp_entry_to_pte(swp_entry(0, slot));
	assert_clean(fx, fx_events_step(fx));
	*fx_ptep(fx->mm, FX_BASE + PAGE_SIZE) = swp_entry_to_pte(swp_entry(0, slot));
	assert_violation(fx, fx_events_step(fx), "swap count"); /* no swap_dup */
	swap_dup(slot);
	assert_clean(fx, fx_events_step(fx));
}

static void shmem_value_entry_counts_as_a_swap_reference(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", 4);
	uint64_t slot = swap_alloc_slot();
	file->i_pages[2] = (slot << 1) | XA_VALUE_BIT;
	assert_clean(fx, fx_events_step(fx));
	file->i_pages[3] = (slot << 1) | XA_VALUE_BIT;
	assert_violation(fx, fx_events_step(fx), "swap count");
}

static void page_cache_slot_of_another_index_is_reported(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", 4);
	struct folio *f = fx_cache_folio(file, 0, 0);
	f->index = 1;
	assert_violation(fx, fx_events_step(fx), "rmap");
}

/* The check clears only the counts it made: a count left over from the
 * previous check (clean or failed half-way) must not stand in for a
 * mapping or a swap reference that is gone. */
static void counts_of_a_previous_check_do_not_carry_over(void **state)
{
	struct fx *fx = *state;
	anon(fx, 0, 2);
	pte_t *second = fx_ptep(fx->mm, FX_BASE + PAGE_SIZE);
	struct folio *f = pfn_folio(pte_pfn(*second));
	pte_t mapped = *second;

	assert_clean(fx, fx_events_step(fx));
	*second = __pte(0);
	assert_violation(fx, fx_events_step(fx), "mapcount"); /* the PTE is gone */
	*second = mapped;
	assert_clean(fx, fx_events_step(fx));

	uint64_t slot = swap_alloc_slot();
	*second = swp_entry_to_pte(swp_entry(0, slot));
	assert_violation(fx, fx_events_step(fx), "mapcount"); /* rmap still counts it */
	*second = mapped;
	assert_violation(fx, fx_events_step(fx), "swap count"); /* slot now unreferenced */
	*second = swp_entry_to_pte(swp_entry(0, slot));
	folio_page(f, 0)->mapcount = 0;
	folio_put(f);
	assert_clean(fx, fx_events_step(fx));
	*second = __pte(0); /* the slot's only reference goes, its count stays */
	assert_violation(fx, fx_events_step(fx), "swap count");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(a_correct_hand_built_state_is_clean),
		T(wp_and_rwp_on_one_vma_is_reported),
		T(uffd_bit_without_protnone_in_rwp_vma_is_bad_encoding),
		T(armed_pte_in_an_unregistered_vma_is_stray),
		T(swap_uffd_bit_in_an_unregistered_vma_is_stray),
		T(uffd_bit_on_a_shmem_pmd_is_reported),
		T(pte_count_differing_from_mapcount_is_reported),
		T(pte_mapping_a_freed_frame_is_reported),
		T(extra_reference_is_a_refcount_violation),
		T(anon_folio_at_the_wrong_address_is_an_rmap_violation),
		T(mapping_outside_every_vma_is_an_rmap_violation),
		T(file_page_in_a_vma_not_in_i_mmap_is_an_rmap_violation),
		T(pmd_leaf_over_a_small_folio_is_reported),
		T(freed_pte_table_still_referenced_is_reported),
		T(table_shared_by_two_pmds_is_reported),
		T(table_of_another_mm_is_reported),
		T(swap_count_not_matching_references_is_reported),
		T(shmem_value_entry_counts_as_a_swap_reference),
		T(counts_of_a_previous_check_do_not_carry_over),
		T(page_cache_slot_of_another_index_is_reported),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
