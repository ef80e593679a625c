/* sim/mm/huge_memory.c - PMD-level THP paths (mm/huge_memory.c) with the RWP
 * series: do_huge_pmd_uffd_rwp(), arming in change_huge_pmd(), and splits
 * that carry an armed PMD's state into every PTE.
 */
#include <string.h>

#include "internal.h"
#include "patch.h"
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
		/* shmem_allowable_huge_orders(): a forced collapse whatever
		 * shmem_enabled says (but deny), else always, or advise and
		 * VM_HUGEPAGE */
		return forced || vma->vm_file->huge ||
		       ((vm_flags & VM_HUGEPAGE) && !vma->vm_file->huge_never);
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
 * Async resolution rewrites the whole PMD: 2 MiB become accessed at once.
 * That is one fault, logged at the faulting page; the oracle widens it to
 * the PMD (exceptions table, EXC_ASYNC_PMD). */
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
	mm_event_emit((struct mm_event){ .kind = EV_RWP_FAULT,
					 .mm_id = vma->vm_mm->id,
					 .address = vmf->address,
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

/* models map_anon_folio_pmd_nopf()
 * The PMD comes from vm_page_prot: no per-PTE state (uffd bit, protnone,
 * young/dirty) survives. */
void map_anon_folio_pmd_nopf(struct folio *folio, pmd_t *pmd, struct vm_area_struct *vma,
			     uint64_t haddr)
{
	pmd_t entry = pmd_mkhuge(pfn_pmd(folio_pfn(folio), vma->vm_page_prot));

	entry = pmd_mkdirty(entry);
	if (vma->vm_flags & VM_WRITE) /* maybe_pmd_mkwrite() */
		entry = pmd_mkwrite(entry);
	folio_add_new_anon_rmap(folio, vma, haddr, true);
	folio_add_anon_rmap_pmd(folio, vma, true);
	*pmd = entry;
	deferred_split_folio(folio, false);
}

/* models do_huge_zero_wp_pmd() (6.14+): a write fault on the huge zero
 * PMD maps a new zeroed PMD-order folio in its place, keeping the table the
 * zero PMD deposited; only when no THP can be allocated does the caller
 * fall back to splitting. */
static vm_fault_t do_huge_zero_wp_pmd(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK;
	struct folio *folio = folio_alloc(HPAGE_PMD_ORDER); /* vma_alloc_anon_folio_pmd() */

	if (!folio)
		return VM_FAULT_FALLBACK;
	if (pmd_val(*vmf->pmd) != pmd_val(vmf->orig_pmd)) {
		folio_put(folio);
		return 0;
	}
	*vmf->pmd = __pmd(0);				      /* pmdp_huge_clear_flush() */
	map_anon_folio_pmd_nopf(folio, vmf->pmd, vma, haddr); /* map_anon_folio_pmd_pf() */
	return 0;
}

/* models do_huge_pmd_wp_page(): replace the huge zero PMD, reuse an
 * exclusive THP, else split */
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pmd_t pmd = *vmf->pmd;
	uint64_t pfn = pmd_pfn(pmd);

	if (is_huge_zero_pfn(pfn)) {
		vm_fault_t ret = do_huge_zero_wp_pmd(vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
		/* Fallback to splitting PMD if THP cannot be allocated */
	} else {
		struct folio *folio = pfn_folio(pfn);
		struct page *page = folio_page(folio, 0);
		bool reuse = PageAnonExclusive(page);

		/* Like do_wp_page(): a folio nobody else references is
		 * reused (its other mappings are gone, e.g. all COWed away
		 * after fork); the folio lock is not modelled. */
		if (!reuse &&
		    folio_ref_count(folio) <=
			    1 + folio_test_swapcache(folio) * (int)folio_nr_pages(folio)) {
			if (folio_test_swapcache(folio))
				folio_free_swap(folio);
			if (folio_ref_count(folio) == 1) {
				/* folio_move_anon_rmap() */
				page->flags |= PG_anon_exclusive; /* SetPageAnonExclusive() */
				reuse = true;
			}
		}
		if (reuse) {
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
	else if (userfaultfd_rwp(vma) && pmd_uffd(entry) && !patch_hunk(HUNK_HUGE_PMD_NO_REFORCE))
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
		if (armed && !patch_hunk(HUNK_SPLIT_NO_REFORCE))
			pte = pte_modify(pte, PAGE_NONE);
		t->e[i] = pte_val(pte);
	}
	/* The PTE mappings are added before the PMD one goes, so the folio
	 * is never seen partially mapped (no deferred split queueing). */
	folio_add_anon_rmap_ptes(folio, folio_page(folio, 0), HPAGE_PMD_NR, vma, exclusive);
	folio_remove_rmap_pmd(folio, vma);
	folio->refcount += HPAGE_PMD_NR - 1; /* one reference per PTE now */
	*pmdp = pmd_mktable(table);
}

/* models the pmd_migration branch of __split_huge_pmd_locked(): an anon
 * PMD migration entry becomes 512 PTE migration entries with the same
 * write/exclusive, young, dirty, soft-dirty and uffd bits (no rmap changes:
 * migration entries map nothing); a file one is just cleared, the page
 * cache refaults it. */
static void __split_huge_pmd_migration(struct vm_area_struct *vma, pmd_t *pmdp, uint64_t haddr)
{
	pmd_t old = *pmdp;
	swp_entry_t entry = pmd_to_swp_entry(old);
	uint64_t pfn = swp_offset_pfn(entry);
	uint64_t table = pgtable_trans_huge_withdraw(vma->vm_mm, haddr);

	if (!vma_is_anonymous(vma)) {
		*pmdp = __pmd(0);
		if (table)
			pt_free(table);
		return;
	}
	if (!table)
		table = pt_alloc(PT_PTE, vma->vm_mm->id);
	struct pt_table *t = pt_get(table);
	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		swp_entry_t e = is_writable_migration_entry(entry)
					? make_writable_migration_entry(pfn + i)
				: is_readable_exclusive_migration_entry(entry)
					? make_readable_exclusive_migration_entry(pfn + i)
					: make_readable_migration_entry(pfn + i);
		if (is_migration_entry_young(entry))
			e = make_migration_entry_young(e);
		if (is_migration_entry_dirty(entry))
			e = make_migration_entry_dirty(e);
		pte_t pte = swp_entry_to_pte(e);
		if (pmd_swp_soft_dirty(old))
			pte = pte_swp_mksoft_dirty(pte);
		if (pmd_swp_uffd(old))
			pte = pte_swp_mkuffd(pte);
		t->e[i] = pte_val(pte);
	}
	*pmdp = pmd_mktable(table);
}

/* models __split_huge_pmd() */
void __split_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t address, bool freeze)
{
	if (pmd_trans_huge(*pmd))
		__split_huge_pmd_locked(vma, pmd, address & HPAGE_PMD_MASK);
	else if (is_pmd_migration_entry(*pmd))
		__split_huge_pmd_migration(vma, pmd, address & HPAGE_PMD_MASK);
}

/* models split_huge_pmd_address() */
void split_huge_pmd_address(struct vm_area_struct *vma, uint64_t address)
{
	pmd_t *pmd = mm_find_pmd(vma->vm_mm, address, false);
	if (pmd && (pmd_trans_huge(*pmd) || is_pmd_migration_entry(*pmd)))
		__split_huge_pmd(vma, pmd, address, false);
}

/* models split_huge_pmd_if_needed(): a VMA boundary inside a PMD range
 * the VMA maps whole needs the PMD split; one on a PMD boundary does not
 * (the PMD past it belongs to the other VMA, untouched). */
void split_huge_pmd_if_needed(struct vm_area_struct *vma, uint64_t address)
{
	uint64_t lo = address & HPAGE_PMD_MASK, hi = lo + HPAGE_PMD_SIZE;

	if (address & ~HPAGE_PMD_MASK && lo >= vma->vm_start && hi <= vma->vm_end)
		split_huge_pmd_address(vma, address);
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

/* models move_soft_dirty_pmd() */
static pmd_t move_soft_dirty_pmd(pmd_t pmd)
{
	if (pmd_present(pmd))
		return pmd_set_flags(pmd, _PAGE_SOFT_DIRTY);
	return __pmd(pmd_val(pmd) | _PAGE_SWP_SOFT_DIRTY); /* pmd_swp_mksoft_dirty */
}

/* models clear_uffd_wp_pmd(), with the RWP series' rule: only an entry with
 * the bit changes, and an RWP one is rebuilt from vm_page_prot so it is not
 * left protnone (a NUMA hint) in the now unprotected VMA. */
static pmd_t clear_uffd_wp_pmd(struct vm_area_struct *vma, pmd_t pmd)
{
	if (pmd_present(pmd)) {
		if (!pmd_uffd(pmd))
			return pmd;
		if (userfaultfd_rwp(vma))
			pmd = pmd_modify(pmd, vma->vm_page_prot);
		return pmd_clear_uffd(pmd);
	}
	return __pmd(pmd_val(pmd) & ~_PAGE_SWP_UFFD); /* pmd_swp_clear_uffd_wp */
}

/* models move_huge_pmd(). The model keys deposits by PMD address, so the
 * deposited table always moves (pmd_move_must_withdraw() is true). */
bool move_huge_pmd(struct vm_area_struct *vma, uint64_t old_addr, uint64_t new_addr, pmd_t *old_pmd,
		   pmd_t *new_pmd)
{
	struct mm_struct *mm = vma->vm_mm;
	pmd_t pmd = *old_pmd;

	if (!pmd_none(*new_pmd))
		return false;
	/* __pmd_trans_huge_lock(): a huge PMD or a PMD swap/migration entry */
	if (pmd_none(pmd) || (pmd_present(pmd) && !pmd_leaf(pmd)))
		return false;
	*old_pmd = __pmd(0); /* pmdp_huge_get_and_clear() */
	uint64_t pgtable = pgtable_trans_huge_withdraw(mm, old_addr & HPAGE_PMD_MASK);
	if (pgtable)
		pgtable_trans_huge_deposit(mm, new_addr & HPAGE_PMD_MASK, pgtable);
	pmd = move_soft_dirty_pmd(pmd);
	if (vma_has_uffd_without_event_remap(vma))
		pmd = clear_uffd_wp_pmd(vma, pmd);
	*new_pmd = pmd;
	return true;
}

/* ------------------------------------------------------------------ fork */

/* models copy_huge_non_present_pmd(): a PMD migration entry */
static void copy_huge_non_present_pmd(struct mm_struct *dst_mm, uint64_t haddr, pmd_t *dst_pmd,
				      pmd_t *src_pmd, pmd_t pmd, struct vm_area_struct *dst_vma,
				      struct vm_area_struct *src_vma)
{
	swp_entry_t entry = pmd_to_swp_entry(pmd);

	if (!is_readable_migration_entry(entry) && is_cow_mapping(src_vma->vm_flags)) {
		entry = make_readable_migration_entry(swp_offset(entry));
		pmd = swp_entry_to_pmd(entry);
		if (pmd_swp_soft_dirty(*src_pmd))
			pmd = pmd_swp_mksoft_dirty(pmd);
		if (pmd_swp_uffd(*src_pmd))
			pmd = pmd_swp_mkuffd(pmd);
		*src_pmd = pmd;
	}
	pgtable_trans_huge_deposit(dst_mm, haddr, pt_alloc(PT_PTE, dst_mm->id));
	/* RWP 07/15: the bit survives only into a protected child
	 * (pmd_swp_clear_uffd). */
	if (!userfaultfd_protected(dst_vma))
		pmd = __pmd(pmd_val(pmd) & ~_PAGE_SWP_UFFD);
	*dst_pmd = pmd;
}

/* models copy_huge_pmd(): anon only (file PMDs refault in the child) */
int copy_huge_pmd(struct mm_struct *dst_mm, struct mm_struct *src_mm, pmd_t *dst_pmd,
		  pmd_t *src_pmd, uint64_t addr, struct vm_area_struct *dst_vma,
		  struct vm_area_struct *src_vma)
{
	uint64_t haddr = addr & HPAGE_PMD_MASK;
	pmd_t pmd = *src_pmd;

	(void)src_mm;
	if (!vma_is_anonymous(dst_vma))
		return 0;
	if (is_pmd_migration_entry(pmd)) {
		copy_huge_non_present_pmd(dst_mm, haddr, dst_pmd, src_pmd, pmd, dst_vma, src_vma);
		return 0;
	}
	if (!pmd_trans_huge(pmd))
		return -EAGAIN;
	if (!is_huge_zero_pfn(pmd_pfn(pmd))) {
		struct folio *src_folio = pfn_folio(pmd_pfn(pmd));

		folio_get(src_folio);
		if (folio_try_dup_anon_rmap_pmd(src_folio, folio_page(src_folio, 0), dst_vma,
						src_vma)) {
			/* Maybe pinned: split, and copy_pte_range() copies. */
			folio_put(src_folio);
			__split_huge_pmd(src_vma, src_pmd, addr, false);
			return -EAGAIN;
		}
	}
	/* out_zero_page: */
	pgtable_trans_huge_deposit(dst_mm, haddr, pt_alloc(PT_PTE, dst_mm->id));
	*src_pmd = pmd_wrprotect(*src_pmd); /* pmdp_set_wrprotect() */
	/* RWP 07/15: the rule of __copy_present_ptes() */
	if (!userfaultfd_protected(dst_vma)) {
		if (userfaultfd_rwp(src_vma) && pmd_uffd(pmd))
			pmd = pmd_modify(pmd, dst_vma->vm_page_prot);
		pmd = pmd_clear_uffd(pmd);
	}
	pmd = pmd_mkold(pmd_wrprotect(pmd));
	*dst_pmd = pmd;
	return 0;
}

/* -------------------------------------------------------- deferred split */

/*
 * The per-machine deferred split queue (struct deferred_split): head PFNs of
 * large anon folios some of whose pages were unmapped. As in the kernel the
 * queue holds no reference: a folio is queued while FOLIO_partially_mapped
 * is set, and a folio freed meanwhile loses the flag with its struct (the
 * model's folio_unqueue_deferred_split() on free), so the shrinker skips
 * its stale slot.
 */
static GArray *split_queue;

/* The queued folio at pfn, or NULL when the slot is stale. */
static struct folio *split_queue_folio(uint64_t pfn)
{
	struct folio *folio;

	if (pfn >= mem_map.capacity || pfn_to_page(pfn)->head_delta)
		return NULL;
	folio = &mem_map.folios[pfn];
	if (!folio->in_use || !folio_test_large(folio) || !(folio->flags & FOLIO_partially_mapped))
		return NULL;
	return folio;
}

void deferred_split_queue_reset(void)
{
	if (split_queue)
		g_array_free(split_queue, TRUE);
	split_queue = NULL;
}

/* list_add_tail() onto the queue. A stale slot left by a freed folio whose
 * head PFN now heads this one already names it: one slot per folio. */
static void split_queue_add(struct folio *folio)
{
	uint64_t pfn = folio_pfn(folio);

	if (!split_queue)
		split_queue = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	for (guint i = 0; i < split_queue->len; i++)
		if (g_array_index(split_queue, uint64_t, i) == pfn)
			return;
	g_array_append_val(split_queue, pfn);
}

/* models deferred_split_folio(); called from __folio_remove_rmap() when a
 * large anon folio becomes partially mapped */
void deferred_split_folio(struct folio *folio, bool partially_mapped)
{
	/* Order-1 folios have no room for the deferred list. */
	if (folio_order(folio) <= 1 || !partially_mapped)
		return;
	/* Reclaim is already handling a swap-cache folio. */
	if (folio_test_swapcache(folio))
		return;
	if (folio->flags & FOLIO_partially_mapped)
		return; /* already queued */
	folio_set_flag(folio, FOLIO_partially_mapped);
	split_queue_add(folio);
}

/* models deferred_split_count() */
unsigned long deferred_split_count(void)
{
	unsigned long n = 0;

	for (guint i = 0; split_queue && i < split_queue->len; i++)
		n += split_queue_folio(g_array_index(split_queue, uint64_t, i)) != NULL;
	return n;
}

/* models unmap_folio(): every mapping becomes a migration entry, a PMD
 * mapping is split first (the kernel's freeze=true split) */
static void unmap_folio(struct folio *folio)
{
	try_to_migrate(folio, TTU_SPLIT_HUGE_PMD | TTU_SYNC | TTU_BATCH_FLUSH);
}

/* models remap_page(): restore the migration entries of each folio the
 * split produced; an armed entry gets PAGE_NONE back (07/15) */
static void remap_page(struct folio *folio, uint64_t nr, unsigned flags)
{
	uint64_t pfn = folio_pfn(folio);

	for (uint64_t i = 0; i < nr;) {
		struct folio *f = pfn_folio(pfn + i);

		remove_migration_ptes(f, f, flags);
		i += folio_nr_pages(f);
	}
}

/* models __folio_split() to order 0 (split_huge_page_to_list_to_order()):
 * unmap_folio(), freeze, __split_unmapped_folio(), remap_page(), then the
 * new folios nobody maps any more are freed */
static int __folio_split(struct folio *folio)
{
	uint64_t nr = folio_nr_pages(folio), pfn = folio_pfn(folio);
	struct anon_vma *anon_vma;
	int ret = 0;

	if (!folio_test_large(folio))
		return 0;
	/* The swap cache would have to be split with it (not modelled). */
	if (!folio_test_anon(folio) || folio_test_swapcache(folio) || folio_test_locked(folio))
		return -EBUSY;
	anon_vma = folio_get_anon_vma(folio);
	if (!anon_vma)
		return -EBUSY;
	/* can_split_folio(): nothing but the mappings and our reference */
	if (folio_ref_count(folio) != folio_mapcount(folio) + 1) {
		ret = -EAGAIN;
		goto out;
	}
	folio_set_flag(folio, FOLIO_locked);
	unmap_folio(folio);
	/* folio_ref_freeze(folio, 1): a pinned exclusive page stayed mapped */
	if (folio_mapped(folio) || folio_ref_count(folio) != 1) {
		remap_page(folio, nr, 0);
		folio_clear_flag(folio, FOLIO_locked);
		ret = -EAGAIN;
		goto out;
	}
	/* folio_unqueue_deferred_split(), then __split_unmapped_folio() */
	folio_clear_flag(folio, FOLIO_partially_mapped);
	folio_split_to_order0(folio);
	/* folio_ref_unfreeze(new_folio, 1): the split's reference on each tail;
	 * the head keeps the caller's. */
	for (uint64_t i = 1; i < nr; i++)
		mem_map.folios[pfn + i].refcount = 1;
	/* A successful anon split maps zero-filled subpages to the shared
	 * zero page (try_to_map_unused_to_zeropage()). */
	remap_page(folio, nr, RMP_USE_SHARED_ZEROPAGE);
	for (uint64_t i = 0; i < nr; i++) {
		struct folio *f = &mem_map.folios[pfn + i];

		folio_clear_flag(f, FOLIO_locked);
		if (i)
			folio_put(f); /* frees the subpages nobody maps */
	}
out:
	anon_vma_put(anon_vma);
	return ret;
}

/* models split_folio() */
int split_folio(struct folio *folio) { return __folio_split(folio); }

/* models deferred_split_scan(): split every queued folio that is still
 * partially mapped; a folio that cannot be split now stays queued */
unsigned long deferred_split_scan(void)
{
	g_autoptr(GArray) list = split_queue;
	unsigned long split = 0;

	split_queue = NULL; /* list_splice_init() onto the local list */
	for (guint i = 0; list && i < list->len; i++) {
		uint64_t pfn = g_array_index(list, uint64_t, i);
		struct folio *folio = split_queue_folio(pfn);

		if (!folio)
			continue;
		folio_get(folio); /* folio_try_get() */
		if (!split_folio(folio))
			split++;
		else if (folio->flags & FOLIO_partially_mapped)
			split_queue_add(folio); /* requeue: still partially mapped */
		folio_put(folio);
	}
	return split;
}
