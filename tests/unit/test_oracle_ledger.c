/* tests/unit/test_oracle_ledger.c - the RWP and WP ledgers fire on
 * hand-corrupted states and stay quiet on correct ones.
 */
#include "test_oracle_fixture.h"

#define RW (VM_READ | VM_WRITE)

/* Anon RWP VMA "A" of 4 pages, all populated, registered; returns the VMA. */
static struct vm_area_struct *anon_rwp(struct fx *fx)
{
	struct vm_area_struct *vma = fx_vma(fx, fx->mm, "A", FX_BASE, 4, RW | VM_UFFD_RWP, NULL, 0);
	for (int i = 0; i < 4; i++)
		fx_anon_page(vma, FX_BASE + i * PAGE_SIZE, 0);
	fx_register(fx->mm, FX_BASE, 4 * PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP);
	assert_true(fx_events_step(fx));
	return vma;
}

/* The event of an RWP fault at addr. */
static void rwp_fault(struct fx *fx, uint64_t addr, bool async)
{
	mm_event_emit((struct mm_event){
		.kind = EV_RWP_FAULT, .mm_id = fx->mm->id, .address = addr, .async = async });
}

/* Arm all 4 pages as UFFDIO_RWPROTECT would, with its event. */
static void arm_all(struct fx *fx)
{
	for (int i = 0; i < 4; i++) {
		pte_t *p = fx_ptep(fx->mm, FX_BASE + i * PAGE_SIZE);
		*p = fx_armed(*p);
	}
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, 4 * PAGE_SIZE);
	assert_true(fx_events_step(fx));
}

static void arming_then_async_fault_is_clean(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon_rwp(fx);
	arm_all(fx);
	pte_t *p = fx_ptep(fx->mm, FX_BASE);
	*p = pte_mkyoung(pte_clear_uffd(pte_modify(*p, vma->vm_page_prot)));
	rwp_fault(fx, FX_BASE, true);
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
}

static void sync_fault_then_resolve_is_clean(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon_rwp(fx);
	arm_all(fx);
	rwp_fault(fx, FX_BASE + PAGE_SIZE, false);
	assert_clean(fx, fx_events_step(fx));
	pte_t *p = fx_ptep(fx->mm, FX_BASE + PAGE_SIZE);
	*p = pte_clear_uffd(pte_modify(*p, vma->vm_page_prot));
	fx_emit(EV_UFFD_RESOLVE, fx->mm, FX_BASE + PAGE_SIZE, PAGE_SIZE);
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, true, 5, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
}

static void rwp_fault_on_an_unarmed_page_is_a_false_fault(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	rwp_fault(fx, FX_BASE, true);
	assert_violation(fx, fx_events_step(fx), "false fault");
}

static void armed_encoding_on_an_accessed_page_is_a_false_fault(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	pte_t *p = fx_ptep(fx->mm, FX_BASE + 2 * PAGE_SIZE);
	*p = fx_armed(*p); /* armed with no UFFDIO_RWPROTECT */
	assert_violation(fx, fx_events_step(fx), "false fault");
	assert_int_equal(fx->v.address, FX_BASE + 2 * PAGE_SIZE);
}

static void gup_read_through_an_armed_pte_is_an_unobserved_access(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	arm_all(fx);
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_GUP, FOLL_GET | FOLL_DUMP | FOLL_FORCE);
	assert_violation(fx, fx_events_step(fx), "unobserved access");
}

static void force_read_through_a_prot_none_vma_is_an_exception(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon_rwp(fx);
	arm_all(fx);
	vma->vm_flags &= ~VM_ACCESS_FLAGS; /* mprotect(PROT_NONE) after arming */
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_GUP, FOLL_GET | FOLL_FORCE);
	assert_clean(fx, fx_events_step(fx));
	/* Without FOLL_FORCE the exception does not apply. */
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_GUP, FOLL_GET);
	assert_violation(fx, fx_events_step(fx), "unobserved access");
}

static void armed_page_rebuilt_accessible_is_a_false_access(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon_rwp(fx);
	arm_all(fx);
	pte_t *p = fx_ptep(fx->mm, FX_BASE + 3 * PAGE_SIZE);
	*p = pte_clear_uffd(pte_modify(*p, vma->vm_page_prot)); /* disarmed silently */
	assert_violation(fx, fx_events_step(fx), "false access");
	assert_int_equal(fx->v.address, FX_BASE + 3 * PAGE_SIZE);
}

/* Clear page 1's PTE (as a zap would) inside step s. */
static bool zap_page1_in(struct fx *fx, struct step *s)
{
	oracle_before_step(fx->o, s);
	pte_t *p = fx_ptep(fx->mm, FX_BASE + PAGE_SIZE);
	struct folio *f = pfn_folio(pte_pfn(*p));
	struct vm_area_struct *vma = vma_lookup(fx->mm, FX_BASE);
	*p = __pte(0);
	folio_remove_rmap_ptes(f, folio_page(f, 0), 1, vma);
	folio_put(f);
	return fx_after(fx, s, RESULT_OK);
}

static void anon_zap_by_dontneed_is_a_documented_drop(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	arm_all(fx);
	struct step *s = fx_madvise(fx, MADV_DONTNEED);
	fx_pages(s, 1, 1);
	assert_clean(fx, zap_page1_in(fx, s));
}

static void anon_zap_by_reclaim_is_lost_arming(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	arm_all(fx);
	struct step *s = fx_step(fx, CMD_RECLAIM, "A");
	assert_violation(fx, zap_page1_in(fx, s), "lost arming");
	assert_int_equal(fx->v.address, FX_BASE + PAGE_SIZE);
}

static void dontneed_outside_its_range_is_lost_arming(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	arm_all(fx);
	struct step *s = fx_madvise(fx, MADV_DONTNEED);
	fx_pages(s, 2, 3);
	assert_violation(fx, zap_page1_in(fx, s), "lost arming");
}

static void lazyfree_clean_page_discarded_by_reclaim_is_a_drop(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	arm_all(fx);
	struct folio *f = pfn_folio(pte_pfn(*fx_ptep(fx->mm, FX_BASE + PAGE_SIZE)));
	folio_clear_flag(f, FOLIO_swapbacked | FOLIO_dirty); /* MADV_FREE'd */
	struct step *s = fx_step(fx, CMD_RECLAIM, "A");
	assert_clean(fx, zap_page1_in(fx, s));
}

/* Shmem RWP VMA "A" mapping 4 pages of a 512-page file by PTEs, armed. */
static struct folio *shmem_rwp_armed(struct fx *fx, struct address_space *file)
{
	struct vm_area_struct *vma =
		fx_vma(fx, fx->mm, "A", FX_BASE, 4, RW | VM_SHARED | VM_UFFD_RWP, file, 0);
	struct folio *f = fx_cache_folio(file, 0, HPAGE_PMD_ORDER);
	for (int i = 0; i < 4; i++)
		fx_file_pte(vma, FX_BASE + i * PAGE_SIZE, f, i);
	fx_register(fx->mm, FX_BASE, 4 * PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP);
	assert_true(fx_events_step(fx));
	arm_all(fx);
	return f;
}

/* Zap all 4 armed PTEs of the shmem mapping (leave the page cache alone). */
static void zap_shmem_ptes(struct fx *fx, struct folio *f)
{
	struct vm_area_struct *vma = vma_lookup(fx->mm, FX_BASE);
	for (int i = 0; i < 4; i++) {
		*fx_ptep(fx->mm, FX_BASE + i * PAGE_SIZE) = __pte(0);
		folio_remove_rmap_ptes(f, folio_page(f, i), 1, vma);
		folio_put(f);
	}
}

static void k1_collapse_zapping_armed_ptes_of_a_cached_folio_is_lost_arming(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", HPAGE_PMD_NR);
	struct folio *f = shmem_rwp_armed(fx, file);
	struct step *s = fx_madvise(fx, MADV_COLLAPSE);
	oracle_before_step(fx->o, s);
	zap_shmem_ptes(fx, f); /* try_collapse_pte_mapped_thp without 08a */
	assert_violation(fx, fx_after(fx, s, RESULT_OK), "lost arming");
}

static void collapse_file_replacing_the_cached_folio_is_a_drop(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", HPAGE_PMD_NR);
	struct folio *f = shmem_rwp_armed(fx, file);
	struct step *s = fx_step(fx, CMD_KHUGEPAGED_SCAN, "A");
	oracle_before_step(fx->o, s);
	zap_shmem_ptes(fx, f);
	/* collapse_file: a new folio replaces the old one in the page cache. */
	struct folio *g = fx_cache_folio(file, 0, HPAGE_PMD_ORDER);
	folio_put_refs(f, HPAGE_PMD_NR);
	assert_ptr_not_equal(f, g);
	assert_clean(fx, fx_after(fx, s, RESULT_OK));

	/* K2 without 08b: one touch maps the new folio with a PMD over dropped
	 * pages; the three untouched pages read as accessed. */
	pt_free(pmd_pgtable(*pmd_lookup(fx->mm->pgd, FX_BASE, false, 0)));
	pmd_t *pmd = pmd_lookup(fx->mm->pgd, FX_BASE, false, 0);
	struct vm_area_struct *vma = vma_lookup(fx->mm, FX_BASE);
	*pmd = pmd_mkhuge(pfn_pmd(folio_pfn(g), vma->vm_page_prot));
	folio_get(g);
	folio_add_file_rmap_pmd(g, vma);
	s = fx_step(fx, CMD_READ, "A");
	fx_pages(s, 0, 0);
	oracle_before_step(fx->o, s);
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_USER, 0);
	assert_violation(fx, fx_after(fx, s, RESULT_OK), "false access");
	assert_int_equal(fx->v.address, FX_BASE + PAGE_SIZE);
}

static void punch_is_a_drop_for_every_mapping_of_the_file_pages(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", HPAGE_PMD_NR);
	struct folio *f = shmem_rwp_armed(fx, file);
	struct step *s = fx_step(fx, CMD_FALLOCATE, "F");
	fx_arg(s, "mode", 1);
	fx_pages(s, 0, 3);
	oracle_before_step(fx->o, s);
	zap_shmem_ptes(fx, f);
	assert_clean(fx, fx_after(fx, s, RESULT_OK));
}

static void unregistered_flag_change_is_a_registration_violation(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon_rwp(fx);
	vma->vm_flags &= ~VM_UFFD_RWP; /* cleared with no UNREGISTER event */
	assert_violation(fx, fx_events_step(fx), "registration");
	vma->vm_flags |= VM_UFFD_RWP;
	fx_emit(EV_UFFD_UNREGISTER, fx->mm, FX_BASE, 4 * PAGE_SIZE);
	assert_violation(fx, fx_events_step(fx), "registration");
}

static void unregister_event_with_cleared_flags_is_clean(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = anon_rwp(fx);
	vma->vm_flags &= ~VM_UFFD_RWP;
	fx_emit(EV_UFFD_UNREGISTER, fx->mm, FX_BASE, 4 * PAGE_SIZE);
	assert_clean(fx, fx_events_step(fx));
}

static void async_pmd_resolution_covers_the_whole_pmd(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma =
		fx_vma(fx, fx->mm, "A", FX_BASE, HPAGE_PMD_NR, RW | VM_UFFD_RWP, NULL, 0);
	struct folio *f = folio_alloc(HPAGE_PMD_ORDER);
	folio_add_new_anon_rmap(f, vma, FX_BASE, true);
	folio_add_anon_rmap_pmd(f, vma, true);
	pmd_t *pmd = pmd_lookup(fx->mm->pgd, FX_BASE, true, fx->mm->id);
	*pmd = pmd_mkuffd(
		pmd_modify(pmd_mkhuge(pfn_pmd(folio_pfn(f), vma->vm_page_prot)), PAGE_NONE));
	fx_register(fx->mm, FX_BASE, PMD_SIZE, UFFDIO_REGISTER_MODE_RWP);
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, PMD_SIZE);
	assert_clean(fx, fx_events_step(fx));
	*pmd = pmd_mkyoung(pmd_clear_uffd(pmd_modify(*pmd, vma->vm_page_prot)));
	rwp_fault(fx, FX_BASE + 7 * PAGE_SIZE, true);
	assert_clean(fx, fx_events_step(fx));
}

static void none_page_armed_then_populated_without_access_is_a_false_access(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma = fx_vma(fx, fx->mm, "A", FX_BASE, 2, RW | VM_UFFD_RWP, NULL, 0);
	fx_register(fx->mm, FX_BASE, 2 * PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP);
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, 2 * PAGE_SIZE); /* both pages none */
	assert_clean(fx, fx_events_step(fx));
	fx_anon_page(vma, FX_BASE, 1); /* an ordinary fault with its access */
	fx_access(fx->mm, FX_BASE, true, 1, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_anon_page(vma, FX_BASE + PAGE_SIZE, 0); /* populated by a neighbour's fault */
	assert_violation(fx, fx_events_step(fx), "false access");
	assert_int_equal(fx->v.address, FX_BASE + PAGE_SIZE);
}

/* An arm over whole 2 MiB chunks with no page table is recorded per chunk
 * and written into the pages only when one is looked at: a page populated
 * there later without an access must still be caught... */
static void whole_chunks_armed_without_a_table_then_populated_is_a_false_access(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma =
		fx_vma(fx, fx->mm, "A", FX_BASE, 1024, RW | VM_UFFD_RWP, NULL, 0);
	fx_register(fx->mm, FX_BASE, 1024 * PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP);
	assert_clean(fx, fx_events_step(fx));
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, 1024 * PAGE_SIZE);
	assert_clean(fx, fx_events_step(fx));
	assert_clean(fx, fx_events_step(fx)); /* and stays clean */
	fx_anon_page(vma, FX_BASE + 600 * PAGE_SIZE, 0);
	assert_violation(fx, fx_events_step(fx), "false access");
	assert_int_equal(fx->v.address, FX_BASE + 600 * PAGE_SIZE);
}

/* ... while one faulted in with its access is clean, and the next arm arms
 * it (an armed encoding is then required). */
static void whole_chunk_armed_without_a_table_then_accessed_is_clean(void **state)
{
	struct fx *fx = *state;
	struct vm_area_struct *vma =
		fx_vma(fx, fx->mm, "A", FX_BASE, 512, RW | VM_UFFD_RWP, NULL, 0);
	fx_register(fx->mm, FX_BASE, 512 * PAGE_SIZE, UFFDIO_REGISTER_MODE_RWP);
	assert_clean(fx, fx_events_step(fx));
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, 512 * PAGE_SIZE);
	assert_clean(fx, fx_events_step(fx));
	fx_anon_page(vma, FX_BASE + 5 * PAGE_SIZE, 1);
	fx_access(fx->mm, FX_BASE + 5 * PAGE_SIZE, true, 1, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, 512 * PAGE_SIZE);
	assert_violation(fx, fx_events_step(fx), "false access");
	pte_t *p = fx_ptep(fx->mm, FX_BASE + 5 * PAGE_SIZE);
	*p = fx_armed(*p);
	fx_emit(EV_UFFD_ARM, fx->mm, FX_BASE, 512 * PAGE_SIZE);
	assert_clean(fx, fx_events_step(fx));
}

/* Anon WP VMA "A" of npages, registered, page 0 populated and
 * write-protected with its event; returns page 0's PTE. */
static pte_t *wp_protected(struct fx *fx, uint64_t npages)
{
	struct vm_area_struct *vma =
		fx_vma(fx, fx->mm, "A", FX_BASE, npages, RW | VM_UFFD_WP, NULL, 0);
	fx_anon_page(vma, FX_BASE, 0);
	fx_register(fx->mm, FX_BASE, npages * PAGE_SIZE, UFFDIO_REGISTER_MODE_WP);
	pte_t *p = fx_ptep(fx->mm, FX_BASE);
	*p = pte_mkuffd(*p);
	fx_emit(EV_UFFD_WP, fx->mm, FX_BASE, npages * PAGE_SIZE);
	assert_clean(fx, fx_events_step(fx));
	return p;
}

static void wp_write_without_fault_is_an_unobserved_write(void **state)
{
	struct fx *fx = *state;
	wp_protected(fx, 2);
	fx_access(fx->mm, FX_BASE, true, 1, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "unobserved write");
}

static void wp_protected_page_made_writable_is_an_unobserved_write(void **state)
{
	struct fx *fx = *state;
	pte_t *p = wp_protected(fx, 1);
	*p = pte_mkwrite(*p);
	assert_violation(fx, fx_events_step(fx), "unobserved write");
}

static void wp_bit_cleared_silently_is_lost_wp(void **state)
{
	struct fx *fx = *state;
	pte_t *p = wp_protected(fx, 1);
	*p = pte_clear_uffd(*p);
	assert_violation(fx, fx_events_step(fx), "lost wp");
}

static void livelock_event_and_result_are_reported(void **state)
{
	struct fx *fx = *state;
	fx_emit(EV_LIVELOCK, fx->mm, FX_BASE, 0);
	assert_violation(fx, fx_events_step(fx), "livelock");
	struct step *s = fx_step(fx, CMD_GUP, "A");
	assert_violation(fx, fx_run(fx, s, RESULT_LIVELOCK), "livelock");
	s = fx_step(fx, CMD_GUP, "A");
	assert_clean(fx, fx_run(fx, s, RESULT_OK));
}

static void violation_names_the_region_and_page(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	arm_all(fx);
	struct step *s = fx_step(fx, CMD_RECLAIM, "A");
	assert_false(zap_page1_in(fx, s));
	g_autoptr(GString) out = g_string_new(NULL);
	violation_format(&fx->v, &fx->w, out);
	assert_non_null(strstr(out->str, "lost arming at P:0x7f0000001000 (region A page 1)"));
	assert_non_null(strstr(out->str, "[armed]"));
	assert_non_null(strstr(out->str, "after 0x0 [none]"));
}

static void disabled_oracle_checks_nothing(void **state)
{
	struct fx *fx = *state;
	anon_rwp(fx);
	oracle_enabled = false;
	fx_emit(EV_LIVELOCK, fx->mm, FX_BASE, 0);
	bool ok = fx_events_step(fx);
	oracle_enabled = true;
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(arming_then_async_fault_is_clean),
		T(sync_fault_then_resolve_is_clean),
		T(rwp_fault_on_an_unarmed_page_is_a_false_fault),
		T(armed_encoding_on_an_accessed_page_is_a_false_fault),
		T(gup_read_through_an_armed_pte_is_an_unobserved_access),
		T(force_read_through_a_prot_none_vma_is_an_exception),
		T(armed_page_rebuilt_accessible_is_a_false_access),
		T(anon_zap_by_dontneed_is_a_documented_drop),
		T(anon_zap_by_reclaim_is_lost_arming),
		T(dontneed_outside_its_range_is_lost_arming),
		T(lazyfree_clean_page_discarded_by_reclaim_is_a_drop),
		T(k1_collapse_zapping_armed_ptes_of_a_cached_folio_is_lost_arming),
		T(collapse_file_replacing_the_cached_folio_is_a_drop),
		T(punch_is_a_drop_for_every_mapping_of_the_file_pages),
		T(unregistered_flag_change_is_a_registration_violation),
		T(unregister_event_with_cleared_flags_is_clean),
		T(async_pmd_resolution_covers_the_whole_pmd),
		T(none_page_armed_then_populated_without_access_is_a_false_access),
		T(whole_chunks_armed_without_a_table_then_populated_is_a_false_access),
		T(whole_chunk_armed_without_a_table_then_accessed_is_clean),
		T(wp_write_without_fault_is_an_unobserved_write),
		T(wp_protected_page_made_writable_is_an_unobserved_write),
		T(wp_bit_cleared_silently_is_lost_wp),
		T(livelock_event_and_result_are_reported),
		T(violation_names_the_region_and_page),
		T(disabled_oracle_checks_nothing),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
