/* sim/mm/mprotect.c - change_protection() and mprotect() (mm/mprotect.c),
 * with the RWP series: MM_CP_UFFD_RWP / MM_CP_UFFD_RWP_RESOLVE (06/15) and
 * the re-forcing of PAGE_NONE on uffd-marked entries of RWP VMAs (07/15).
 *
 * The model has no TLB, no mmu_gather and no soft-dirty tracking; PTE
 * batching (mprotect_folio_pte_batch) is not modelled because every entry
 * of a batch gets the same treatment one by one.
 */
#include "internal.h"
#include "patch.h"

#include <glib.h>

/* models maybe_change_pte_writable() */
static bool maybe_change_pte_writable(struct vm_area_struct *vma, pte_t pte)
{
	/* The kernel WARNs: callers only ask for VM_WRITE VMAs. */
	if (!(vma->vm_flags & VM_WRITE))
		return false;
	/* An armed RWP entry or a NUMA hint must keep trapping. */
	if (pte_protnone(pte))
		return false;
	if (userfaultfd_pte_wp(vma, pte))
		return false;
	return true;
}

/* models can_change_private_pte_writable() */
static bool can_change_private_pte_writable(struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	if (!maybe_change_pte_writable(vma, pte))
		return false;
	/* Only an exclusive anon page can skip the COW write fault. */
	struct page *page = vm_normal_page(vma, addr, pte);
	return page && folio_test_anon(page_folio(page)) && PageAnonExclusive(page);
}

/* models can_change_shared_pte_writable() */
static bool can_change_shared_pte_writable(struct vm_area_struct *vma, pte_t pte)
{
	if (!maybe_change_pte_writable(vma, pte))
		return false;
	/* A clean shared page may still need its writenotify fault. */
	return pte_dirty(pte);
}

/* models can_change_pte_writable() */
bool can_change_pte_writable(struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	if (!(vma->vm_flags & VM_SHARED))
		return can_change_private_pte_writable(vma, addr, pte);
	return can_change_shared_pte_writable(vma, pte);
}

/* models can_change_pmd_writable() (mm/huge_memory.c) */
bool can_change_pmd_writable(struct vm_area_struct *vma, uint64_t addr, pmd_t pmd)
{
	if (!(vma->vm_flags & VM_WRITE))
		return false;
	if (pmd_protnone(pmd))
		return false;
	if (userfaultfd_huge_pmd_wp(vma, pmd))
		return false;
	if (!(vma->vm_flags & VM_SHARED)) {
		uint64_t pfn = pmd_pfn(pmd);
		if (is_huge_zero_pfn(pfn) || !pfn || pfn >= mem_map.capacity)
			return false;
		struct page *page = pfn_to_page(pfn);
		return folio_test_anon(page_folio(page)) && PageAnonExclusive(page);
	}
	return pmd_dirty(pmd);
}

/* models change_softleaf_pte() (was change_non_present_pte()) */
static long change_softleaf_pte(struct vm_area_struct *vma, uint64_t addr, pte_t *ptep,
				pte_t oldpte, unsigned cp_flags)
{
	const bool uffd_prot = cp_flags & (MM_CP_UFFD_WP | MM_CP_UFFD_RWP);
	const bool uffd_prot_resolve = cp_flags & (MM_CP_UFFD_WP_RESOLVE | MM_CP_UFFD_RWP_RESOLVE);
	swp_entry_t entry = pte_to_swp_entry(oldpte);
	pte_t newpte;

	if (is_writable_migration_entry(entry)) {
		/* Checking the new protection is hard: drop write, keep soft-dirty. */
		struct folio *folio = pfn_folio(swp_offset_pfn(entry));
		if (folio_test_anon(folio))
			entry = make_readable_exclusive_migration_entry(swp_offset(entry));
		else
			entry = make_readable_migration_entry(swp_offset(entry));
		newpte = swp_entry_to_pte(entry);
		if (pte_swp_soft_dirty(oldpte))
			newpte = pte_swp_mksoft_dirty(newpte);
	} else if (is_pte_marker_entry(entry)) {
		/* Any access to poison or guard faults anyway. */
		if (pte_marker_get(entry) & (PTE_MARKER_POISONED | PTE_MARKER_GUARD))
			return 0;
		/* A resolved uffd-wp marker goes; the next fault is a plain one. */
		if (uffd_prot_resolve) {
			*ptep = __pte(0);
			return 1;
		}
		return 0;
	} else {
		newpte = oldpte;
	}

	if (uffd_prot)
		newpte = pte_swp_mkuffd(newpte);
	else if (uffd_prot_resolve)
		newpte = pte_swp_clear_uffd(newpte);

	if (pte_val(newpte) != pte_val(oldpte)) {
		*ptep = newpte;
		return 1;
	}
	return 0;
}

/* models change_present_ptes() for one PTE (with set_write_prot_commit_flush_ptes()) */
static void change_present_ptes(struct vm_area_struct *vma, uint64_t addr, pte_t *ptep,
				pgprot_t newprot, unsigned cp_flags)
{
	const bool uffd_prot = cp_flags & (MM_CP_UFFD_WP | MM_CP_UFFD_RWP);
	const bool uffd_prot_resolve = cp_flags & (MM_CP_UFFD_WP_RESOLVE | MM_CP_UFFD_RWP_RESOLVE);
	pte_t oldpte = *ptep;
	pte_t ptent = pte_modify(oldpte, newprot);

	if (uffd_prot)
		ptent = pte_mkuffd(ptent);
	else if (uffd_prot_resolve)
		ptent = pte_clear_uffd(ptent);

	/* pte_modify() kept the bit but took the base protection from newprot:
	 * an armed entry must still trap on any access (07/15). */
	if (userfaultfd_rwp(vma) && pte_uffd(ptent) && !patch_hunk(HUNK_MPROTECT_NO_REFORCE))
		ptent = pte_modify(ptent, PAGE_NONE);

	if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && !pte_write(ptent) &&
	    can_change_pte_writable(vma, addr, ptent))
		ptent = pte_mkwrite(ptent);
	*ptep = ptent;
}

/* models folio_can_map_prot_numa() as far as the model has placement */
static bool folio_can_map_prot_numa(struct folio *folio)
{
	/* Faulting on the zero page or a special mapping gains nothing. */
	return folio && !folio_test_zero(folio);
}

/* models change_pte_range() */
static long change_pte_range(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr, uint64_t end,
			     pgprot_t newprot, unsigned cp_flags)
{
	const bool prot_numa = cp_flags & MM_CP_PROT_NUMA;
	const bool uffd_rwp = cp_flags & MM_CP_UFFD_RWP;
	const bool uffd_rwp_resolve = cp_flags & MM_CP_UFFD_RWP_RESOLVE;
	const bool uffd_wp = cp_flags & MM_CP_UFFD_WP;
	long pages = 0;
	pte_t *ptep = pte_offset_map(pmd, addr);

	if (!ptep)
		return -EAGAIN;
	for (; addr != end; addr += PAGE_SIZE, ptep++) {
		pte_t oldpte = *ptep;

		if (pte_present(oldpte)) {
			/* Already in the desired state. */
			if (prot_numa && pte_protnone(oldpte))
				continue;
			/* Already armed; a plain protnone entry is promoted. */
			if (uffd_rwp && pte_protnone(oldpte) && pte_uffd(oldpte))
				continue;
			/* Resolve touches only armed entries, so a NUMA hint
			 * (protnone without the bit) survives (rwp-series 2.6). */
			if (uffd_rwp_resolve && !pte_uffd(oldpte))
				continue;
			if (prot_numa &&
			    !folio_can_map_prot_numa(vm_normal_folio(vma, addr, oldpte)))
				continue;
			change_present_ptes(vma, addr, ptep, newprot, cp_flags);
			pages++;
		} else if (pte_none(oldpte)) {
			/* Only uffd-wp places anything in a none PTE; RWP has no marker. */
			if (!uffd_wp)
				continue;
			if (userfaultfd_wp_use_markers(vma)) {
				*ptep = make_pte_marker(PTE_MARKER_UFFD_WP);
				pages++;
			}
		} else {
			pages += change_softleaf_pte(vma, addr, ptep, oldpte, cp_flags);
		}
	}
	return pages;
}

/* models pgtable_split_needed() */
static bool pgtable_split_needed(struct vm_area_struct *vma, unsigned cp_flags)
{
	/* A file PMD cannot hold the uffd state, and splitting one zaps it. */
	return (cp_flags & (MM_CP_UFFD_WP | MM_CP_UFFD_RWP)) && !vma_is_anonymous(vma);
}

/* models pgtable_populate_needed() */
static bool pgtable_populate_needed(struct vm_area_struct *vma, unsigned cp_flags)
{
	if (!(cp_flags & MM_CP_UFFD_WP))
		return false;
	return userfaultfd_wp_use_markers(vma);
}

/* models change_pmd_prepare() */
static void change_pmd_prepare(struct vm_area_struct *vma, pmd_t *pmd, unsigned cp_flags)
{
	if (pgtable_populate_needed(vma, cp_flags) && pmd_none(*pmd))
		pte_alloc(pmd, vma->vm_mm->id);
}

/* models change_pmd_range() (with change_protection_range() above it) */
static long change_pmd_range(struct vm_area_struct *vma, uint64_t addr, uint64_t end,
			     pgprot_t newprot, unsigned cp_flags)
{
	struct mm_struct *mm = vma->vm_mm;
	bool populate = pgtable_populate_needed(vma, cp_flags);
	long pages = 0;

	for (uint64_t next; addr != end; addr = next) {
		next = pmd_addr_end(addr, end);
		pmd_t *pmd = pmd_lookup(mm->pgd, addr, populate, mm->id);
		if (!pmd)
			continue;
		change_pmd_prepare(vma, pmd, cp_flags);
		if (pmd_none(*pmd))
			continue;
		if (pmd_leaf(*pmd) || is_pmd_migration_entry(*pmd)) {
			if (next - addr != HPAGE_PMD_SIZE || pgtable_split_needed(vma, cp_flags)) {
				__split_huge_pmd(vma, pmd, addr, false);
				/* A file PMD was zapped: maybe give it a table again. */
				change_pmd_prepare(vma, pmd, cp_flags);
			} else {
				long ret = change_huge_pmd(vma, pmd, addr, newprot, cp_flags);
				if (ret) {
					if (ret == HPAGE_PMD_NR)
						pages += HPAGE_PMD_NR;
					continue;
				}
			}
		}
		long ret = change_pte_range(vma, pmd, addr, next, newprot, cp_flags);
		if (ret > 0)
			pages += ret;
		/* -EAGAIN: the table went away (file PMD zapped); nothing left. */
	}
	return pages;
}

/* models change_protection() */
long change_protection(struct vm_area_struct *vma, uint64_t start, uint64_t end, unsigned cp_flags)
{
	const unsigned wp = cp_flags & MM_CP_UFFD_WP_ALL, rwp = cp_flags & MM_CP_UFFD_RWP_ALL;
	pgprot_t newprot = vma->vm_page_prot;

	/* The unregister pass resolves whichever mode the VMA had: the one
	 * mix of WP and RWP flags that is allowed. */
	bool both_resolve = wp == MM_CP_UFFD_WP_RESOLVE && rwp == MM_CP_UFFD_RWP_RESOLVE;
	if (wp == MM_CP_UFFD_WP_ALL || rwp == MM_CP_UFFD_RWP_ALL || (wp && rwp && !both_resolve)) {
		g_warning("change_protection: mixed uffd flags 0x%x ignored", cp_flags);
		return 0;
	}
	if (cp_flags & (MM_CP_PROT_NUMA | MM_CP_UFFD_RWP))
		newprot = PAGE_NONE;
	return change_pmd_range(vma, start, end, newprot, cp_flags);
}

/* models vma_set_page_prot() (mm/mmap.c): writenotify drops write from a
 * shared uffd-wp VMA's vm_page_prot so that writes fault. */
void vma_set_page_prot(struct vm_area_struct *vma)
{
	vm_flags_t flags = vma->vm_flags;

	if ((flags & VM_SHARED) && userfaultfd_wp(vma))
		flags &= ~VM_SHARED;
	vma->vm_page_prot = vm_get_page_prot(flags);
}

/* models mprotect_fixup() */
static long mprotect_fixup(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
			   uint64_t end, vm_flags_t newflags)
{
	if (newflags == vma->vm_flags)
		return 0;
	vma_split_range(mm, start, end);
	vma = vma_lookup(mm, start);
	vma->vm_flags = newflags;
	vma_set_page_prot(vma);
	unsigned cp_flags = vma_wants_manual_pte_write_upgrade(vma) ? MM_CP_TRY_CHANGE_WRITABLE : 0;
	change_protection(vma, start, end, cp_flags);
	/* The kernel merges before changing the entries; the order does not
	 * matter here and merging last keeps vma valid for the walk. */
	vma_merge_range(mm, start, end);
	return 0;
}

/* models do_mprotect_pkey() */
long sys_mprotect(struct mm_struct *mm, uint64_t start, uint64_t len, unsigned prot)
{
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (!len)
		return 0;
	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	uint64_t end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;

	struct vm_area_struct *vma = find_vma(mm, start);
	if (!vma || vma->vm_start > start)
		return -ENOMEM;

	uint64_t nstart = start;
	for (;;) {
		vm_flags_t newflags = calc_vm_prot_bits(prot) | (vma->vm_flags & ~VM_ACCESS_FLAGS);
		uint64_t tmp = vma->vm_end < end ? vma->vm_end : end;
		long err = mprotect_fixup(mm, vma, nstart, tmp, newflags);
		if (err)
			return err;
		nstart = tmp;
		if (nstart >= end)
			return 0;
		/* A hole after some VMAs were already changed: the kernel
		 * leaves the changes made so far in place. */
		vma = find_vma(mm, nstart);
		/* vma_merge_range() may have merged the next VMA into the one
		 * just changed, so it can start below nstart. */
		if (!vma || vma->vm_start > nstart)
			return -ENOMEM;
	}
}
