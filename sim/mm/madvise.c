/* sim/mm/madvise.c - madvise(2) (mm/madvise.c): DONTNEED, FREE, PAGEOUT,
 * HUGEPAGE/NOHUGEPAGE, COLLAPSE and POPULATE_READ/WRITE.
 *
 * The RWP-relevant part is MADV_FREE: it cleans PTEs in place (young and
 * dirty go, the uffd bit and protnone stay) and marks the folio lazyfree,
 * which later sends reclaim down try_to_unmap_one()'s discard-or-restore
 * path.
 */
#include "internal.h"

/* models madvise_behavior_valid() for the advices the model implements */
static bool madvise_behavior_valid(int behavior)
{
	switch (behavior) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_PAGEOUT:
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
	case MADV_COLLAPSE:
		return true;
	default:
		return false;
	}
}

/* models khugepaged_enter_vma() (mm/khugepaged.c) */
static void khugepaged_enter_vma(struct vm_area_struct *vma, vm_flags_t vm_flags)
{
	struct mm_struct *mm = vma->vm_mm;

	/* hugepage_pmd_enabled(): THP not globally "never". */
	if (mm->khugepaged_registered || thp_settings.enabled == 2)
		return;
	if (thp_vma_allowable_order(vma, vm_flags, false, HPAGE_PMD_ORDER))
		mm->khugepaged_registered = true;
}

/* models hugepage_madvise() (mm/khugepaged.c) */
static void hugepage_madvise(struct vm_area_struct *vma, vm_flags_t *vm_flags, int advice)
{
	if (advice == MADV_HUGEPAGE) {
		*vm_flags &= ~VM_NOHUGEPAGE;
		*vm_flags |= VM_HUGEPAGE;
		/* Registered against the VMA as it is before the split, as the
		 * kernel does. */
		khugepaged_enter_vma(vma, *vm_flags);
	} else {
		*vm_flags &= ~VM_HUGEPAGE;
		*vm_flags |= VM_NOHUGEPAGE;
	}
}

/* models madvise_update_vma(): split at the range, set flags, re-merge */
static long madvise_update_vma(struct vm_area_struct *vma, uint64_t start, uint64_t end,
			       vm_flags_t new_flags)
{
	struct mm_struct *mm = vma->vm_mm;

	if (new_flags == vma->vm_flags)
		return 0;
	vma_split_range(mm, start, end);
	vma = vma_lookup(mm, start);
	g_assert(vma && vma->vm_start == start && vma->vm_end == end);
	vma->vm_flags = new_flags;
	vma_merge_range(mm, start, end);
	return 0;
}

/* models free_swap_and_cache_nr() for one entry (mm/swapfile.c) */
static void free_swap_and_cache(swp_entry_t entry)
{
	uint64_t slot = swp_offset(entry);
	struct folio *folio = swap_cache_get_folio(slot);

	swap_free_slot(slot);
	/* __try_to_reclaim_swap(TTRS_UNMAPPED): an unmapped cached copy goes too. */
	if (folio && !folio_mapped(folio) && !folio_test_locked(folio) &&
	    !(folio->flags & FOLIO_isolated))
		folio_free_swap(folio);
}

/* models folio_mark_lazyfree() (mm/swap.c) */
static void folio_mark_lazyfree(struct folio *folio)
{
	if (folio_test_anon(folio) && folio_test_swapbacked(folio) && !folio_test_swapcache(folio))
		folio_clear_flag(folio, FOLIO_swapbacked);
}

/*
 * models madvise_folio_pte_batch(): the number of PTEs from ptep (at most up
 * to end) that map folio's pages as one batch. It uses the same compare
 * as reclaim, so a folio with armed and unarmed PTEs is "not fully mapped"
 * and gets split before it can become a mixed lazyfree folio.
 */
static unsigned madvise_folio_pte_batch(uint64_t addr, uint64_t end, struct folio *folio,
					pte_t *ptep)
{
	return folio_pte_batch(folio, ptep, *ptep, (unsigned)((end - addr) >> PAGE_SHIFT));
}

/* models madvise_free_huge_pmd() (mm/huge_memory.c); true when done at PMD
 * level. A false return with the PMD still huge leaves the range alone: the
 * caller's pte_offset_map_lock() finds no table. */
static bool madvise_free_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr,
				  uint64_t next)
{
	struct folio *folio;

	(void)vma;
	if (is_huge_zero_pfn(pmd_pfn(*pmd)))
		return false;
	folio = pfn_folio(pmd_pfn(*pmd));
	/* Another MM maps part of it (CONFIG_MM_ID): leave it alone. */
	if (folio_maybe_mapped_shared(folio))
		return false;
	if (folio_test_locked(folio)) /* folio_trylock() */
		return false;
	if (next - addr != HPAGE_PMD_SIZE) {
		/* Partly covered: split the folio itself (not just the PMD), so
		 * that its zero-filled pages become zero-page PTEs; when the
		 * split fails the PMD stays and nothing is freed. */
		folio_get(folio);
		split_folio(folio);
		folio_put(folio);
		return false;
	}
	if (folio_test_swapcache(folio) && !folio_free_swap(folio))
		return true;
	folio_clear_flag(folio, FOLIO_dirty);
	/* Young and dirty go; the uffd bit and protnone stay. */
	*pmd = pmd_clear_flags(*pmd, _PAGE_ACCESSED | _PAGE_DIRTY);
	folio_mark_lazyfree(folio);
	return true;
}

/* models madvise_free_pte_range() */
static void madvise_free_pte_range(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr,
				   uint64_t end)
{
	struct mm_struct *mm = vma->vm_mm;

	if (pmd_trans_huge(*pmd) && madvise_free_huge_pmd(vma, pmd, addr, end))
		return;
	if (!pmd_is_table(*pmd))
		return;
	for (unsigned nr = 1; addr < end; addr += (uint64_t)nr * PAGE_SIZE) {
		pte_t *ptep = pte_offset_map(pmd, addr);
		pte_t ptent = *ptep;
		struct folio *folio;

		nr = 1;
		if (pte_none(ptent))
			continue;
		if (!pte_present(ptent)) {
			swp_entry_t entry = pte_to_swp_entry(ptent);

			if (!non_swap_entry(entry)) {
				/* The swp uffd bit goes with it: anon has no marker. */
				free_swap_and_cache(entry);
				*ptep = __pte(0);
				mm->nr_swapents--;
			} else if (is_hwpoison_entry(entry) ||
				   (is_pte_marker_entry(entry) &&
				    (pte_marker_get(entry) & PTE_MARKER_POISONED))) {
				*ptep = __pte(0);
			}
			continue;
		}
		folio = vm_normal_folio(vma, addr, ptent);
		if (!folio || folio_test_zero(folio))
			continue;
		if (folio_test_large(folio)) {
			nr = madvise_folio_pte_batch(addr, end, folio, ptep);
			if (nr < folio_nr_pages(folio)) {
				/* Only a folio fully covered here may go lazyfree
				 * whole; split an exclusive one and look again. */
				if (folio_maybe_mapped_shared(folio) || folio_test_locked(folio))
					continue;
				folio_get(folio);
				if (!split_folio(folio))
					nr = 0;
				folio_put(folio);
				continue;
			}
		}
		if (folio_test_swapcache(folio) || folio_test_dirty(folio)) {
			if (folio_test_locked(folio) || folio_maybe_mapped_shared(folio))
				continue;
			if (folio_test_swapcache(folio) && !folio_free_swap(folio))
				continue;
			folio_clear_flag(folio, FOLIO_dirty);
		}
		/* clear_young_dirty_ptes(): each PTE keeps its own other bits. */
		for (unsigned i = 0; i < nr; i++)
			ptep[i] = pte_clear_flags(ptep[i], _PAGE_ACCESSED | _PAGE_DIRTY);
		folio_mark_lazyfree(folio);
	}
}

/* models madvise_free_single_vma() */
static long madvise_free_single_vma(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	struct mm_struct *mm = vma->vm_mm;

	if (!vma_is_anonymous(vma))
		return -EINVAL;
	for (uint64_t addr = start; addr < end;) {
		uint64_t next = pmd_addr_end(addr, end);
		pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);

		if (pmd && !pmd_none(*pmd))
			madvise_free_pte_range(vma, pmd, addr, next);
		addr = next;
	}
	return 0;
}

/* models madvise_dontneed_free_valid_vma() */
static bool madvise_dontneed_free_valid_vma(struct vm_area_struct *vma)
{
	return !(vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB));
}

static void pageout_collect(struct folio *folio, GHashTable *seen, GPtrArray *list)
{
	if (g_hash_table_contains(seen, folio))
		return;
	g_hash_table_add(seen, folio);
	folio_clear_flag(folio, FOLIO_referenced);
	g_ptr_array_add(list, folio);
}

/* models madvise_cold_or_pageout_pte_range() with pageout = true */
static void madvise_pageout_pte_range(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr,
				      uint64_t end, GHashTable *seen, GPtrArray *list)
{
	if (pmd_trans_huge(*pmd)) {
		struct folio *folio;

		if (is_huge_zero_pfn(pmd_pfn(*pmd)))
			return;
		folio = pfn_folio(pmd_pfn(*pmd));
		if (folio_maybe_mapped_shared(folio))
			return;
		if (end - addr == HPAGE_PMD_SIZE) {
			pageout_collect(folio, seen, list);
			return;
		}
		/* Partly covered: split_folio(); on failure nothing is done.
		 * The model splits anon folios only (__folio_split()); a shmem
		 * one keeps the older approximation: its PMD is split. */
		if (folio_test_anon(folio)) {
			folio_get(folio);
			int err = split_folio(folio);
			folio_put(folio);
			if (err)
				return;
		} else {
			split_huge_pmd_address(vma, addr);
		}
	}
	if (!pmd_is_table(*pmd))
		return;
	for (unsigned nr = 1; addr < end; addr += (uint64_t)nr * PAGE_SIZE) {
		pte_t *ptep = pte_offset_map(pmd, addr);
		struct folio *folio;

		nr = 1;
		if (!pte_present(*ptep))
			continue;
		folio = vm_normal_folio(vma, addr, *ptep);
		if (!folio || folio_test_zero(folio))
			continue;
		if (folio_test_large(folio)) {
			if (folio_maybe_mapped_shared(folio))
				continue;
			nr = madvise_folio_pte_batch(addr, end, folio, ptep);
			if (nr < folio_nr_pages(folio)) {
				if (!folio_test_anon(folio) || folio_test_locked(folio))
					continue;
				folio_get(folio);
				if (!split_folio(folio))
					nr = 0;
				folio_put(folio);
				continue;
			}
		}
		pageout_collect(folio, seen, list);
	}
}

/* models madvise_pageout() */
static long madvise_pageout(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	struct mm_struct *mm = vma->vm_mm;
	g_autoptr(GPtrArray) list = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

	/* can_madv_lru_vma() */
	if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))
		return -EINVAL;
	for (uint64_t addr = start; addr < end;) {
		uint64_t next = pmd_addr_end(addr, end);
		pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);

		if (pmd && !pmd_none(*pmd))
			madvise_pageout_pte_range(vma, pmd, addr, next, seen, list);
		addr = next;
	}
	reclaim_pages(list);
	return 0;
}

/* models madvise_vma_behavior() */
static long madvise_vma_behavior(struct vm_area_struct *vma, uint64_t start, uint64_t end,
				 int behavior)
{
	vm_flags_t new_flags = vma->vm_flags;

	switch (behavior) {
	case MADV_DONTNEED:
		if (!madvise_dontneed_free_valid_vma(vma))
			return -EINVAL;
		userfaultfd_remove(vma, start, end);
		/* No ZAP_FLAG_DROP_MARKER: file uffd-wp markers survive;
		 * reclaim_pt frees the tables the zap empties. */
		zap_page_range_reclaim_pt(vma, start, end);
		return 0;
	case MADV_FREE:
		if (!madvise_dontneed_free_valid_vma(vma))
			return -EINVAL;
		userfaultfd_remove(vma, start, end);
		return madvise_free_single_vma(vma, start, end);
	case MADV_PAGEOUT:
		return madvise_pageout(vma, start, end);
	case MADV_COLLAPSE:
		return madvise_collapse(vma, start, end);
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
		hugepage_madvise(vma, &new_flags, behavior);
		return madvise_update_vma(vma, start, end, new_flags);
	default:
		return -EINVAL;
	}
}

/* models madvise_populate(): faultin_page_range()'s errors as madvise reports them */
static long madvise_populate(struct mm_struct *mm, uint64_t start, uint64_t end, int behavior)
{
	uint64_t done = 0;
	long ret = faultin_page_range(mm, start, end, behavior == MADV_POPULATE_WRITE, &done);

	switch (ret) {
	case 0:
	case -EINTR:
	case -EINVAL: /* incompatible mappings or permissions */
	case -EHWPOISON:
	case -EFAULT: /* VM_FAULT_SIGBUS or VM_FAULT_SIGSEGV */
	case -EBUSY:  /* asleep in a userfault: the engine retries the step */
	case -ELOOP:  /* the model's livelock report */
		return ret;
	default:
		return -ENOMEM; /* no VMA, or out of memory */
	}
}

/* models do_madvise() -> madvise_walk_vmas() */
long sys_madvise(struct mm_struct *mm, uint64_t start, uint64_t len_in, int behavior)
{
	uint64_t len, end;
	long unmapped_error = 0;

	if (!madvise_behavior_valid(behavior))
		return -EINVAL;
	if (start & ~PAGE_MASK)
		return -EINVAL;
	len = (len_in + PAGE_SIZE - 1) & PAGE_MASK;
	if (len_in && !len)
		return -EINVAL;
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if (behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE)
		return madvise_populate(mm, start, end, behavior);

	for (;;) {
		/* Re-looked up each time: the previous step may split or merge. */
		struct vm_area_struct *vma = find_vma(mm, start);
		uint64_t tmp;
		long error;

		if (!vma || vma->vm_start >= end)
			return -ENOMEM;
		if (start < vma->vm_start) {
			unmapped_error = -ENOMEM; /* a hole: still advise the rest */
			start = vma->vm_start;
		}
		tmp = vma->vm_end < end ? vma->vm_end : end;
		error = madvise_vma_behavior(vma, start, tmp, behavior);
		if (error)
			return error;
		start = tmp;
		if (start >= end)
			break;
	}
	return unmapped_error;
}
