/* sim/mm/huge_memory.c - PMD-level THP paths (mm/huge_memory.c) with the RWP
 * series: do_huge_pmd_uffd_rwp(), arming in change_huge_pmd(), and splits
 * that carry an armed PMD's state into every PTE.
 */
#include <string.h>

#include "internal.h"
#include "sched.h"

/* models thp_vma_allowable_order() for PMD order (TVA_PAGEFAULT /
 * TVA_KHUGEPAGED, or TVA_FORCED_COLLAPSE when forced) */
bool thp_vma_allowable_order(struct vm_area_struct *vma, vm_flags_t vm_flags, bool forced,
			     unsigned order)
{
	uint64_t hstart = (vma->vm_start + PMD_SIZE - 1) & PMD_MASK;

	if (vm_flags & (VM_NOHUGEPAGE | VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP | VM_IO))
		return false;
	if (hstart + PMD_SIZE > vma->vm_end)
		return false; /* no aligned PMD range inside the VMA */
	if (vma_is_shmem(vma)) {
		uint64_t off = (vma->vm_pgoff & (HPAGE_PMD_NR - 1));
		if (off != ((vma->vm_start >> PAGE_SHIFT) & (HPAGE_PMD_NR - 1)))
			return false; /* file offset not PMD-aligned with the address */
		return forced || vma->vm_file->huge || (vm_flags & VM_HUGEPAGE);
	}
	if (forced)
		return true;
	if (thp_settings.enabled == 0)
		return true;
	return thp_settings.enabled == 1 && (vm_flags & VM_HUGEPAGE);
}

/* models pgtable_trans_huge_deposit() */
void pgtable_trans_huge_deposit(struct mm_struct *mm, uint64_t haddr, uint64_t table)
{
	uint64_t key = haddr;
	uint64_t *k = g_new(uint64_t, 1);

	pt_get(table)->next_deposit = (uint64_t)(uintptr_t)g_hash_table_lookup(mm->deposit, &key);
	*k = haddr;
	g_hash_table_replace(mm->deposit, k, (gpointer)(uintptr_t)table);
}

/* models pgtable_trans_huge_withdraw(); 0 when nothing is deposited */
uint64_t pgtable_trans_huge_withdraw(struct mm_struct *mm, uint64_t haddr)
{
	uint64_t key = haddr;
	gpointer v = g_hash_table_lookup(mm->deposit, &key);
	if (!v)
		return 0;
	uint64_t table = (uint64_t)(uintptr_t)v;
	uint64_t next = pt_get(table)->next_deposit;
	pt_get(table)->next_deposit = 0;
	if (next) {
		uint64_t *k = g_new(uint64_t, 1);
		*k = haddr;
		g_hash_table_replace(mm->deposit, k, (gpointer)(uintptr_t)next);
	} else {
		g_hash_table_remove(mm->deposit, &key);
	}
	memset(pt_get(table)->e, 0, sizeof(pt_get(table)->e));
	return table;
}

/* models set_huge_zero_folio() */
void set_huge_zero_folio_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t haddr)
{
	pmd_t entry = pmd_mkhuge(pfn_pmd(mem_map.huge_zero_pfn, vma->vm_page_prot));
	pgtable_trans_huge_deposit(vma->vm_mm, haddr, pt_alloc(PT_PTE, vma->vm_mm->id));
	*pmd = pmd_wrprotect(entry);
}

/* models do_huge_pmd_anonymous_page() */
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK;

	if (haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	anon_vma_prepare(vma);
	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		if (userfaultfd_missing(vma))
			return handle_userfault(vmf, VM_UFFD_MISSING);
		set_huge_zero_folio_pmd(vma, vmf->pmd, haddr);
		return 0;
	}
	struct folio *folio = folio_alloc(HPAGE_PMD_ORDER);
	if (!folio)
		return VM_FAULT_FALLBACK;
	if (userfaultfd_missing(vma)) {
		folio_put(folio);
		return handle_userfault(vmf, VM_UFFD_MISSING);
	}
	folio_add_new_anon_rmap(folio, vma, haddr, true);
	folio_add_anon_rmap_pmd(folio, vma, true);
	pmd_t entry =
		pmd_mkdirty(pmd_mkyoung(pmd_mkhuge(pfn_pmd(folio_pfn(folio), vma->vm_page_prot))));
	if (vma->vm_flags & VM_WRITE)
		entry = pmd_mkwrite(entry);
	pgtable_trans_huge_deposit(vma->vm_mm, haddr, pt_alloc(PT_PTE, vma->vm_mm->id));
	*vmf->pmd = entry;
	return 0;
}

/* models do_huge_pmd_uffd_rwp() (RWP 10/15 + 12/15): an armed anon PMD.
 * Async resolution rewrites the whole PMD: 2 MiB become accessed at once. */
vm_fault_t do_huge_pmd_uffd_rwp(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK;

	if (!userfaultfd_rwp_async(vma))
		return handle_userfault(vmf, VM_UFFD_RWP);
	if (pmd_val(*vmf->pmd) != pmd_val(vmf->orig_pmd))
		return 0;
	pmd_t pmd = pmd_mkyoung(pmd_clear_uffd(pmd_modify(vmf->orig_pmd, vma->vm_page_prot)));
	if (!pmd_write(pmd) && vma_wants_manual_pte_write_upgrade(vma) &&
	    can_change_pmd_writable(vma, haddr, pmd))
		pmd = pmd_mkwrite(pmd);
	*vmf->pmd = pmd;
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
		mm_event_emit((struct mm_event){ .kind = EV_RWP_FAULT,
						 .mm_id = vma->vm_mm->id,
						 .address = haddr + i * PAGE_SIZE,
						 .write = vmf->flags & FAULT_FLAG_WRITE,
						 .async = true });
	return 0;
}

/* models do_huge_pmd_numa_page() on a single-node machine */
vm_fault_t do_huge_pmd_numa_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	if (pmd_val(*vmf->pmd) != pmd_val(vmf->orig_pmd))
		return 0;
	pmd_t pmd = pmd_mkyoung(pmd_modify(vmf->orig_pmd, vma->vm_page_prot));
	if (!pmd_write(pmd) && vma_wants_manual_pte_write_upgrade(vma) &&
	    can_change_pmd_writable(vma, vmf->address & HPAGE_PMD_MASK, pmd))
		pmd = pmd_mkwrite(pmd);
	*vmf->pmd = pmd;
	return 0;
}

/* models do_huge_pmd_wp_page(): reuse an exclusive THP, else split */
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pmd_t pmd = *vmf->pmd;
	uint64_t pfn = pmd_pfn(pmd);

	if (!is_huge_zero_pfn(pfn)) {
		struct folio *folio = pfn_folio(pfn);
		if (PageAnonExclusive(folio_page(folio, 0))) {
			if (vmf->flags & FAULT_FLAG_UNSHARE)
				return 0;
			pmd = pmd_mkyoung(pmd_mkdirty(pmd));
			if (vma->vm_flags & VM_WRITE) /* maybe_pmd_mkwrite() */
				pmd = pmd_mkwrite(pmd);
			*vmf->pmd = pmd;
			return 0;
		}
	}
	__split_huge_pmd(vma, vmf->pmd, vmf->address, false);
	return VM_FAULT_FALLBACK;
}

/* models huge_pmd_set_accessed() */
void huge_pmd_set_accessed(struct vm_fault *vmf)
{
	pmd_t pmd = pmd_mkyoung(*vmf->pmd);
	if (vmf->flags & FAULT_FLAG_WRITE)
		pmd = pmd_mkdirty(pmd);
	*vmf->pmd = pmd;
}

/* models change_huge_pmd(), with the RWP arm/resolve of 06/15 and the
 * PAGE_NONE re-force of 07/15 */
long change_huge_pmd(struct vm_area_struct *vma, pmd_t *pmdp, uint64_t addr, pgprot_t newprot,
		     unsigned cp_flags)
{
	pmd_t old = *pmdp;
	bool prot_numa = cp_flags & MM_CP_PROT_NUMA;

	if (is_pmd_migration_entry(old)) {
		/* change_non_present_huge_pmd(): writable becomes readable; the
		 * uffd bit lives in the swap-format bit. */
		swp_entry_t e = pte_to_swp_entry(__pte(pmd_val(old)));
		pmdval_t v = pmd_val(old);
		if (is_writable_migration_entry(e)) {
			uint64_t pfn = swp_offset_pfn(e);
			e = vma_is_anonymous(vma) ? make_readable_exclusive_migration_entry(pfn)
						  : make_readable_migration_entry(pfn);
			v = pte_val(swp_entry_to_pte(e)) | (v & __SWP_SW_BITS);
		}
		if (cp_flags & (MM_CP_UFFD_WP | MM_CP_UFFD_RWP))
			v |= _PAGE_SWP_UFFD;
		else if (cp_flags & (MM_CP_UFFD_WP_RESOLVE | MM_CP_UFFD_RWP_RESOLVE))
			v &= ~_PAGE_SWP_UFFD;
		*pmdp = __pmd(v);
		return HPAGE_PMD_NR;
	}
	if (!pmd_trans_huge(old))
		return 0;
	if (prot_numa && (is_huge_zero_pfn(pmd_pfn(old)) || pmd_protnone(old)))
		return HPAGE_PMD_NR;
	if ((cp_flags & MM_CP_UFFD_RWP) && pmd_protnone(old) && pmd_uffd(old))
		return HPAGE_PMD_NR; /* already armed */

	pmd_t entry;
	if ((cp_flags & MM_CP_UFFD_RWP) && pmd_protnone(old))
		entry = pmd_mkuffd(old); /* a NUMA hint is promoted to RWP */
	else
		entry = pmd_modify(old, newprot);

	if (cp_flags & MM_CP_UFFD_WP)
		entry = pmd_mkuffd(entry);
	else if (cp_flags & MM_CP_UFFD_WP_RESOLVE)
		entry = pmd_clear_uffd(entry);
	if (cp_flags & MM_CP_UFFD_RWP)
		entry = pmd_mkuffd(entry);
	else if ((cp_flags & MM_CP_UFFD_RWP_RESOLVE) && pmd_uffd(old) && userfaultfd_rwp(vma))
		entry = pmd_clear_uffd(pmd_modify(old, vma->vm_page_prot));
	else if (userfaultfd_rwp(vma) && pmd_uffd(entry))
		entry = pmd_modify(entry, PAGE_NONE); /* mprotect never disarms */

	if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && !pmd_write(entry) &&
	    can_change_pmd_writable(vma, addr, entry))
		entry = pmd_mkwrite(entry);
	*pmdp = entry;
	return HPAGE_PMD_NR;
}

/* models __split_huge_zero_page_pmd() */
static void __split_huge_zero_page_pmd(struct vm_area_struct *vma, pmd_t *pmdp, uint64_t haddr)
{
	pmd_t old = *pmdp;
	uint64_t table = pgtable_trans_huge_withdraw(vma->vm_mm, haddr);
	if (!table)
		table = pt_alloc(PT_PTE, vma->vm_mm->id);
	struct pt_table *t = pt_get(table);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pte_t pte = pte_mkspecial(pfn_pte(mem_map.zero_pfn, vma->vm_page_prot));
		if (pmd_uffd(old)) {
			pte = pte_mkuffd(pte);
			if (userfaultfd_rwp(vma))
				pte = pte_modify(pte, PAGE_NONE);
		}
		t->e[i] = pte_val(pte);
	}
	*pmdp = pmd_mktable(table);
}

/* models __split_huge_pmd_locked(): an armed anon PMD becomes 512 armed
 * PTEs (07/15); a file PMD is zapped and its range refaults. */
static void __split_huge_pmd_locked(struct vm_area_struct *vma, pmd_t *pmdp, uint64_t haddr)
{
	pmd_t old = *pmdp;
	uint64_t pfn = pmd_pfn(old);

	if (!vma_is_anonymous(vma)) {
		struct folio *folio = pfn_folio(pfn);
		*pmdp = __pmd(0);
		if (pmd_dirty(old))
			folio_set_flag(folio, FOLIO_dirty);
		folio_remove_rmap_pmd(folio, vma);
		folio_put(folio);
		uint64_t dep = pgtable_trans_huge_withdraw(vma->vm_mm, haddr);
		if (dep)
			pt_free(dep);
		return;
	}
	if (is_huge_zero_pfn(pfn)) {
		__split_huge_zero_page_pmd(vma, pmdp, haddr);
		return;
	}
	struct folio *folio = pfn_folio(pfn);
	bool armed = pmd_uffd(old) && pmd_protnone(old) && userfaultfd_rwp(vma);
	uint64_t table = pgtable_trans_huge_withdraw(vma->vm_mm, haddr);
	if (!table)
		table = pt_alloc(PT_PTE, vma->vm_mm->id);
	struct pt_table *t = pt_get(table);
	bool exclusive = PageAnonExclusive(folio_page(folio, 0));

	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		/* Access restrictions of a NUMA hint are not carried over,
		 * but an RWP arming is: 07/15 re-forces PAGE_NONE. */
		pte_t pte = pfn_pte(pfn + i, vma->vm_page_prot);
		if (pmd_write(old))
			pte = pte_mkwrite(pte);
		if (pmd_young(old))
			pte = pte_mkyoung(pte);
		if (pmd_dirty(old))
			pte = pte_mkdirty(pte);
		if (pmd_uffd(old))
			pte = pte_mkuffd(pte);
		if (armed)
			pte = pte_modify(pte, PAGE_NONE);
		t->e[i] = pte_val(pte);
	}
	folio_remove_rmap_pmd(folio, vma);
	folio_add_anon_rmap_ptes(folio, folio_page(folio, 0), HPAGE_PMD_NR, vma, exclusive);
	folio->refcount += HPAGE_PMD_NR - 1; /* one reference per PTE now */
	*pmdp = pmd_mktable(table);
}

/* models __split_huge_pmd() */
void __split_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t address, bool freeze)
{
	if (pmd_trans_huge(*pmd))
		__split_huge_pmd_locked(vma, pmd, address & HPAGE_PMD_MASK);
}

/* models split_huge_pmd_address() */
void split_huge_pmd_address(struct vm_area_struct *vma, uint64_t address)
{
	pmd_t *pmd = mm_find_pmd(vma->vm_mm, address, false);
	if (pmd && pmd_trans_huge(*pmd))
		__split_huge_pmd(vma, pmd, address, false);
}

/* models zap_huge_pmd(): anon and file PMDs are simply removed */
int zap_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr)
{
	pmd_t old = *pmd;
	*pmd = __pmd(0);
	uint64_t dep = pgtable_trans_huge_withdraw(vma->vm_mm, addr & HPAGE_PMD_MASK);
	if (dep)
		pt_free(dep);
	if (!pmd_present(old) || is_huge_zero_pfn(pmd_pfn(old)))
		return 1;
	struct folio *folio = pfn_folio(pmd_pfn(old));
	if (pmd_dirty(old))
		folio_set_flag(folio, FOLIO_dirty);
	folio_remove_rmap_pmd(folio, vma);
	folio_put(folio);
	return 1;
}
