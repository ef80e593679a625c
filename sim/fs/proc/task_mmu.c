/* sim/fs/proc/task_mmu.c - /proc/pid/pagemap and PAGEMAP_SCAN
 * (fs/proc/task_mmu.c) with RWP 11/15: PAGE_IS_ACCESSED, WRITTEN narrowed to
 * WP VMAs, and bit 57 = the uffd bit in either mode.
 */
#include "linux/pagemap_uapi.h"
#include "mm/internal.h"

/* models pte_to_pagemap_entry() / pagemap_pmd_range() for one page */
uint64_t pagemap_read_word(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	if (!vma)
		return 0;
	uint64_t flags = 0, frame = 0;
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
	if (pmd && pmd_trans_huge(*pmd)) {
		frame = pmd_pfn(*pmd) + pte_index(addr);
		flags |= PM_PRESENT;
		if (pmd_uffd(*pmd))
			flags |= PM_UFFD_WP;
		if (pmd_val(*pmd) & _PAGE_SOFT_DIRTY)
			flags |= PM_SOFT_DIRTY;
		if (!vma_is_anonymous(vma))
			flags |= PM_FILE;
		struct folio *f = pfn_folio(pmd_pfn(*pmd));
		if (!is_huge_zero_pfn(pmd_pfn(*pmd)) && f->entire_mapcount == 1)
			flags |= PM_MMAP_EXCLUSIVE;
		return flags | (frame & PM_PFRAME_MASK);
	}
	pte_t *ptep = pmd ? pte_offset_map(pmd, addr) : NULL;
	if (!ptep || pte_none(*ptep))
		return 0;
	pte_t pte = *ptep;
	if (pte_present(pte)) {
		frame = pte_pfn(pte);
		flags |= PM_PRESENT;
		if (pte_uffd(pte))
			flags |= PM_UFFD_WP;
		if (pte_soft_dirty(pte))
			flags |= PM_SOFT_DIRTY;
		struct page *page = vm_normal_page(vma, addr, pte);
		if (page && !folio_test_anon(page_folio(page)))
			flags |= PM_FILE;
		if (page && page->mapcount == 1)
			flags |= PM_MMAP_EXCLUSIVE;
	} else {
		swp_entry_t e = pte_to_swp_entry(pte);
		if (pte_swp_uffd_any(pte))
			flags |= PM_UFFD_WP;
		if (pte_swp_soft_dirty(pte))
			flags |= PM_SOFT_DIRTY;
		/* Every non-present entry, markers included, reads as swap. */
		flags |= PM_SWAP;
		if (!is_pte_marker_entry(e))
			frame = swp_type(e) | (swp_offset(e) << 5);
	}
	return flags | (frame & PM_PFRAME_MASK);
}

/* models pagemap_page_category() / pagemap_thp_category() for one page */
static uint64_t pagemap_page_category(struct vm_area_struct *vma, uint64_t addr)
{
	bool wp = userfaultfd_wp(vma), rwp = userfaultfd_rwp(vma);
	uint64_t cat = 0;
	pmd_t *pmd = pmd_lookup(vma->vm_mm->pgd, addr, false, 0);

	/* pagemap_scan_test_walk(): only async uffd-wp VMAs with markers. */
	if (userfaultfd_wp_async(vma) && userfaultfd_wp_use_markers(vma))
		cat |= PAGE_IS_WPALLOWED;
	if (pmd && pmd_trans_huge(*pmd)) {
		cat |= PAGE_IS_PRESENT | PAGE_IS_HUGE;
		if (!vma_is_anonymous(vma))
			cat |= PAGE_IS_FILE;
		if (is_huge_zero_pfn(pmd_pfn(*pmd)))
			cat |= PAGE_IS_PFNZERO;
		if (wp && !pmd_uffd(*pmd))
			cat |= PAGE_IS_WRITTEN;
		if (rwp && !pmd_uffd(*pmd))
			cat |= PAGE_IS_ACCESSED;
		return cat;
	}
	pte_t *ptep = pmd ? pte_offset_map(pmd, addr) : NULL;
	if (!ptep || pte_none(*ptep)) {
		if (wp)
			cat |= PAGE_IS_WRITTEN; /* pte_none is "written" only in WP VMAs */
		return cat;
	}
	pte_t pte = *ptep;
	if (pte_present(pte)) {
		cat |= PAGE_IS_PRESENT;
		struct page *page = vm_normal_page(vma, addr, pte);
		if (page && !folio_test_anon(page_folio(page)))
			cat |= PAGE_IS_FILE;
		if (is_zero_pfn(pte_pfn(pte)))
			cat |= PAGE_IS_PFNZERO;
		if (pte_soft_dirty(pte))
			cat |= PAGE_IS_SOFT_DIRTY;
		if (wp && !pte_uffd(pte))
			cat |= PAGE_IS_WRITTEN;
		if (rwp && !pte_uffd(pte))
			cat |= PAGE_IS_ACCESSED;
		return cat;
	}
	swp_entry_t e = pte_to_swp_entry(pte);
	if (is_pte_marker_entry(e) && (pte_marker_get(e) & PTE_MARKER_GUARD))
		cat |= PAGE_IS_GUARD;
	cat |= PAGE_IS_SWAPPED;
	if (pte_swp_soft_dirty(pte))
		cat |= PAGE_IS_SOFT_DIRTY;
	if (wp && !pte_swp_uffd_any(pte))
		cat |= PAGE_IS_WRITTEN;
	if (rwp && !pte_swp_uffd_any(pte))
		cat |= PAGE_IS_ACCESSED;
	return cat;
}

/* models pagemap_scan_is_interesting_page() */
static bool pagemap_scan_is_interesting(uint64_t cat, uint64_t mask, uint64_t inverted,
					uint64_t anyof)
{
	cat ^= inverted;
	if ((cat & mask) != mask)
		return false;
	if (anyof && !(cat & anyof))
		return false;
	return true;
}

/* models do_pagemap_scan() (without the write-protect side) */
long pagemap_scan(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t category_mask,
		  uint64_t category_inverted, uint64_t category_anyof_mask, uint64_t return_mask,
		  uint64_t max_pages, GArray *out)
{
	uint64_t all = (PAGE_IS_ACCESSED << 1) - 1;
	if ((start & ~PAGE_MASK) || end < start ||
	    (category_mask | category_inverted | category_anyof_mask | return_mask) & ~all)
		return -EINVAL;
	if (!return_mask)
		return -EINVAL;
	long n = 0;
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		struct vm_area_struct *vma = vma_lookup(mm, a);
		if (!vma)
			continue;
		uint64_t cat = pagemap_page_category(vma, a);
		if (!pagemap_scan_is_interesting(cat, category_mask, category_inverted,
						 category_anyof_mask))
			continue;
		if (!((cat ^ category_inverted) & return_mask) && !(cat & return_mask))
			continue;
		if (max_pages && (uint64_t)n >= max_pages)
			break;
		g_array_append_val(out, a);
		n++;
	}
	return n;
}
