/* sim/mm/swapfile.c - swapoff (mm/swapfile.c): try_to_unuse() brings every
 * swapped page of every mm, and every swapped shmem page, back into memory.
 *
 * The model has one swap device that is never really removed: sys_swapoff()
 * empties it (as swapoff) and leaves it usable (as an immediate swapon).
 * unuse_pte() rebuilds the PTE from vm_page_prot with the swap entry's
 * soft-dirty and uffd bits; in an RWP VMA an entry with the uffd bit comes
 * back PAGE_NONE (RWP 07/15), so the page stays armed. There is no write
 * upgrade: the next write goes through do_wp_page() (or the RWP/WP fault).
 */
#include "internal.h"
#include "patch.h"

/*
 * models read_swap_cache_async() as swapin_readahead() uses it for
 * unuse_pte_range(): the swap-cache folio of slot, read from the device into
 * the swap cache when absent. Returns it with a reference, NULL on -ENOMEM.
 */
static struct folio *unuse_swapin_folio(uint64_t slot)
{
	struct folio *folio = swap_cache_get_folio(slot);

	if (folio) {
		folio_get(folio);
		return folio;
	}
	folio = folio_alloc(0);
	if (!folio)
		return NULL;
	folio_page(folio, 0)->content = swap_info.slots[slot].content;
	folio_set_flag(folio, FOLIO_swapbacked | FOLIO_uptodate);
	/* swap_cache_add_folio(): the cache's slot and folio references. */
	swap_dup(slot);
	swap_info.slots[slot].cache_pfn = (uint32_t)folio_pfn(folio);
	folio->swap = swp_entry(0, slot);
	folio_set_flag(folio, FOLIO_swapcache);
	folio_get(folio);
	return folio;
}

/* models unuse_pte() */
static void unuse_pte(struct vm_area_struct *vma, pte_t *ptep, uint64_t addr, struct folio *folio)
{
	pte_t old_pte = *ptep;
	uint64_t slot = swp_offset(pte_to_swp_entry(old_pte));
	struct page *page = folio_test_large(folio)
				    ? folio_page(folio, slot - swp_offset(folio->swap))
				    : folio_page(folio, 0);
	bool exclusive = pte_swp_exclusive(old_pte);
	pte_t new_pte;

	vma->vm_mm->nr_swapents--;
	folio_get(folio); /* the new mapping's reference */
	if (!folio_test_anon(folio)) {
		anon_vma_prepare(vma);
		folio_add_new_anon_rmap(folio, vma, addr, exclusive);
	}
	folio_add_anon_rmap_ptes(folio, page, 1, vma, exclusive);
	new_pte = pte_mkold(pfn_pte(page_to_pfn(page), vma->vm_page_prot));
	if (pte_swp_soft_dirty(old_pte))
		new_pte = __pte(pte_val(new_pte) | _PAGE_SOFT_DIRTY);
	if (pte_swp_uffd(old_pte)) {
		new_pte = pte_mkuffd(new_pte);
		/* RWP 07/15: an armed entry comes back armed. */
		if (userfaultfd_rwp(vma) && !patch_hunk(HUNK_SWAPOFF_NO_RESTORE))
			new_pte = pte_modify(new_pte, PAGE_NONE);
	}
	*ptep = new_pte;
	swap_free_slot(slot);
}

/* models unuse_pte_range() / unuse_pmd_range() ... unuse_vma(); returns
 * -ENOMEM when a page could not be read back */
static int unuse_vma(struct vm_area_struct *vma)
{
	for (uint64_t addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
		pmd_t *pmd = mm_find_pmd(vma->vm_mm, addr, false);
		pte_t *ptep;

		if (!pmd || !pmd_is_table(*pmd)) {
			addr = pmd_addr_end(addr, vma->vm_end) - PAGE_SIZE;
			continue;
		}
		ptep = pte_offset_map(pmd, addr);
		if (!is_swap_pte(*ptep) || non_swap_entry(pte_to_swp_entry(*ptep)))
			continue;
		uint64_t slot = swp_offset(pte_to_swp_entry(*ptep));
		struct folio *folio = unuse_swapin_folio(slot);

		if (!folio)
			return -ENOMEM;
		unuse_pte(vma, ptep, addr, folio);
		folio_free_swap(folio); /* when no other swap PTE needs the slot */
		folio_put(folio);
	}
	return 0;
}

/* models unuse_mm() */
static int unuse_mm(struct mm_struct *mm)
{
	for (guint i = 0; i < mm->vmas->len; i++) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, i);

		if (vma->anon_vma) {
			int ret = unuse_vma(vma);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* models try_to_unuse(): mms on the mmlist, then shmem (shmem_unuse), then
 * the folios left in the swap cache */
static int try_to_unuse(GPtrArray *mms, GPtrArray *files)
{
	for (guint i = 0; files && i < files->len; i++) {
		int ret = shmem_unuse(g_ptr_array_index(files, i));

		if (ret)
			return ret;
	}
	for (guint i = 0; mms && i < mms->len; i++) {
		int ret = unuse_mm(g_ptr_array_index(mms, i));

		if (ret)
			return ret;
	}
	for (uint64_t slot = 1; slot < swap_info.nr_slots; slot++) {
		struct folio *folio = swap_cache_get_folio(slot);

		if (folio)
			folio_free_swap(folio);
	}
	return swap_info.nr_used ? -EBUSY : 0;
}

/* models sys_swapoff() for the one swap device */
long sys_swapoff(GPtrArray *mms, GPtrArray *files) { return try_to_unuse(mms, files); }
