/* sim/mm/memory.c - the page-fault paths and zap (mm/memory.c), with the RWP
 * series: do_uffd_rwp(), the rwp_restore in do_swap_page(), the uffd-bit
 * skip in numa_rebuild_large_mapping() and fault-around off for RWP VMAs.
 */
#include "internal.h"
#include "patch.h"
#include "sched.h"

#define FAULT_AROUND_PAGES 16 /* fault_around_bytes = 64 KiB */

/* models mm_find_pmd() (with allocation, as the fault path's pmd_alloc) */
pmd_t *mm_find_pmd(struct mm_struct *mm, uint64_t addr, bool alloc)
{
	return pmd_lookup(mm->pgd, addr, alloc, mm->id);
}

/* models vm_normal_page(): NULL for the zero page and special mappings */
struct page *vm_normal_page(struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	uint64_t pfn = pte_pfn(pte);
	if (pte_special(pte) || is_zero_pfn(pfn) || !pfn || pfn >= mem_map.capacity)
		return NULL;
	return pfn_to_page(pfn);
}

/* models vm_normal_folio() */
struct folio *vm_normal_folio(struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	struct page *page = vm_normal_page(vma, addr, pte);
	return page ? page_folio(page) : NULL;
}

/*
 * models restore_exclusive_pte(): a device-exclusive entry becomes the
 * ordinary PTE again, old, from vm_page_prot, keeping soft-dirty and the uffd
 * bit. The entry kept the mapcount and the mapping's reference, so there is
 * no rmap to add. With RWP 07/15 an entry that carries the bit in an RWP VMA
 * gets PAGE_NONE back, so the access that triggered the restore is then
 * delivered as an RWP fault; otherwise the PTE is writable only where
 * can_change_pte_writable() allows (not protnone, not uffd-wp, exclusive
 * anon), and dirty only if the folio is. The caller holds the folio lock.
 */
static void restore_exclusive_pte(struct vm_area_struct *vma, struct folio *folio,
				  struct page *page, uint64_t address, pte_t *ptep, pte_t orig_pte)
{
	pte_t pte = pte_mkold(pfn_pte(page_to_pfn(page), vma->vm_page_prot));

	g_assert(folio_test_locked(folio));
	if (pte_swp_soft_dirty(orig_pte))
		pte = __pte(pte_val(pte) | _PAGE_SOFT_DIRTY);
	if (pte_swp_uffd(orig_pte))
		pte = pte_mkuffd(pte);
	/* RWP: see do_swap_page(), the same restore of PAGE_NONE. */
	if (pte_swp_uffd(orig_pte) && userfaultfd_rwp(vma) &&
	    !patch_hunk(HUNK_EXCLUSIVE_NO_RESTORE))
		pte = pte_modify(pte, PAGE_NONE);
	if ((vma->vm_flags & VM_WRITE) && can_change_pte_writable(vma, address, pte)) {
		if (folio_test_dirty(folio))
			pte = pte_mkdirty(pte);
		pte = pte_mkwrite(pte);
	}
	*ptep = pte;
}

/* models try_restore_exclusive_pte(): only if the folio lock can be taken
 * without sleeping (fork holds the page-table locks); -EBUSY otherwise */
static int try_restore_exclusive_pte(struct vm_area_struct *vma, uint64_t addr, pte_t *ptep,
				     pte_t orig_pte)
{
	struct page *page = pfn_to_page(swp_offset_pfn(pte_to_swp_entry(orig_pte)));
	struct folio *folio = page_folio(page);

	/* folio_trylock() */
	if (folio_test_locked(folio))
		return -EBUSY;
	folio_set_flag(folio, FOLIO_locked);
	restore_exclusive_pte(vma, folio, page, addr, ptep, orig_pte);
	folio_clear_flag(folio, FOLIO_locked);
	return 0;
}

/* models vmf_orig_pte_uffd_wp(): the faulting entry was a uffd-wp marker */
static bool vmf_orig_pte_uffd_wp(struct vm_fault *vmf)
{
	return (vmf->flags & FAULT_FLAG_ORIG_PTE_VALID) && pte_marker_uffd_wp(vmf->orig_pte);
}

/* models set_pte_range(): map nr pages of folio from page at addr */
static void set_pte_range(struct vm_fault *vmf, struct folio *folio, struct page *page, unsigned nr,
			  uint64_t addr)
{
	struct vm_area_struct *vma = vmf->vma;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pte_t *ptep = pte_offset_map(vmf->pmd, addr);

	for (unsigned i = 0; i < nr; i++) {
		/* x86 does not want old prefaulted PTEs: always young. */
		pte_t entry = pte_mkyoung(pfn_pte(page_to_pfn(page + i), vma->vm_page_prot));
		if (write && (vma->vm_flags & VM_WRITE))
			entry = pte_mkwrite(pte_mkdirty(entry));
		if (vmf_orig_pte_uffd_wp(vmf))
			entry = pte_mkuffd(entry);
		ptep[i] = entry;
	}
	if (folio_test_anon(folio))
		folio_add_anon_rmap_ptes(folio, page, (int)nr, vma, true);
	else
		folio_add_file_rmap_ptes(folio, page, (int)nr, vma);
}

/* models do_anonymous_page() */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	bool write = vmf->flags & FAULT_FLAG_WRITE;

	if (vma->vm_flags & VM_SHARED)
		return VM_FAULT_SIGBUS;
	if (!pte_alloc(vmf->pmd, vma->vm_mm->id))
		return 0; /* a huge PMD appeared: retry */
	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);
	if (!pte_none(*ptep) && !vmf_orig_pte_uffd_wp(vmf))
		return 0;

	if (!write) {
		/* Read fault: map the shared zero page. */
		if (userfaultfd_missing(vma))
			return handle_userfault(vmf, VM_UFFD_MISSING);
		pte_t entry = pte_mkspecial(pfn_pte(mem_map.zero_pfn, vma->vm_page_prot));
		if (vmf_orig_pte_uffd_wp(vmf))
			entry = pte_mkuffd(entry);
		*ptep = entry;
		return 0;
	}

	/* vmf_anon_prepare(): only for a page of our own. The zero page above
	 * leaves the VMA without an anon_vma, so that fork does not copy it
	 * (vma_needs_copy()). */
	anon_vma_prepare(vma);
	/* alloc_anon_folio(): mTHP only when no uffd registration (A5). */
	unsigned order = 0;
	uint64_t nr = 1, addr = vmf->address;
	if (thp_settings.mthp_order && !userfaultfd_armed(vma)) {
		uint64_t n = 1ULL << thp_settings.mthp_order;
		uint64_t a = vmf->address & ~(n * PAGE_SIZE - 1);
		pte_t *first = pte_offset_map(vmf->pmd, a);
		bool fits = a >= vma->vm_start && a + n * PAGE_SIZE <= vma->vm_end;
		for (uint64_t i = 0; fits && i < n; i++)
			fits = pte_none(first[i]);
		if (fits) {
			order = thp_settings.mthp_order;
			nr = n;
			addr = a;
		}
	}
	struct folio *folio = folio_alloc(order);
	if (!folio && order) {
		order = 0;
		nr = 1;
		addr = vmf->address;
		folio = folio_alloc(0);
	}
	if (!folio)
		return VM_FAULT_OOM;
	if (userfaultfd_missing(vma)) {
		folio_put(folio);
		return handle_userfault(vmf, VM_UFFD_MISSING);
	}
	folio_add_new_anon_rmap(folio, vma, addr, true);
	folio->refcount = (int)nr; /* one reference per PTE mapping */
	ptep = pte_offset_map(vmf->pmd, addr);
	for (uint64_t i = 0; i < nr; i++) {
		pte_t entry = pfn_pte(folio_pfn(folio) + i, vma->vm_page_prot);
		entry = pte_mkdirty(entry);
		if (vma->vm_flags & VM_WRITE)
			entry = pte_mkwrite(entry);
		if (addr + i * PAGE_SIZE == vmf->address)
			entry = pte_mkyoung(entry);
		if (vmf_orig_pte_uffd_wp(vmf))
			entry = pte_mkuffd(entry);
		ptep[i] = entry;
	}
	folio_add_anon_rmap_ptes(folio, folio_page(folio, 0), (int)nr, vma, true);
	return 0;
}

/* models do_set_pmd(): map a PMD-order page-cache folio with one PMD. The
 * PMD is built from vm_page_prot and never carries the uffd bit. */
vm_fault_t do_set_pmd(struct vm_fault *vmf, struct folio *folio, struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK;

	/* Only vma_thp_disabled() matters here, not the sysfs policy: a
	 * PMD-order folio already in the page cache is mapped whole. */
	if ((vma->vm_flags & VM_NOHUGEPAGE) || thp_settings.enabled == 2)
		return VM_FAULT_FALLBACK;
	if (folio_order(folio) != HPAGE_PMD_ORDER || haddr < vma->vm_start ||
	    haddr + PMD_SIZE > vma->vm_end || linear_page_index(vma, haddr) != folio->index)
		return VM_FAULT_FALLBACK;
	if (!pmd_none(*vmf->pmd))
		return VM_FAULT_FALLBACK;
	pmd_t entry = pmd_mkhuge(pfn_pmd(folio_pfn(folio), vma->vm_page_prot));
	entry = pmd_mkyoung(entry);
	if ((vmf->flags & FAULT_FLAG_WRITE) && (vma->vm_flags & VM_WRITE))
		entry = pmd_mkwrite(pmd_mkdirty(entry));
	folio_add_file_rmap_pmd(folio, vma);
	*vmf->pmd = entry;
	return 0;
}

/* models finish_fault(). A shmem folio is mapped whole by PTEs when it
 * lies inside the VMA and the PTE table and no uffd context is registered
 * (6.18); anything else, or a PTE already there, maps the one page. Shmem
 * is exempt from the i_size fallback, so such a folio may be mapped past
 * i_size. */
static vm_fault_t finish_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page = vmf->page;
	struct folio *folio = page_folio(page);
	bool needs_fallback = false;
	uint64_t addr, nr_pages;
	pte_t *ptep;

fallback:
	addr = vmf->address;
	page = vmf->page;
	if (pmd_none(*vmf->pmd)) {
		if (!needs_fallback && folio_test_pmd_mappable(folio) && !folio_test_anon(folio)) {
			vm_fault_t ret = do_set_pmd(vmf, folio, page);
			if (ret != VM_FAULT_FALLBACK)
				return ret;
		}
		if (!pte_alloc(vmf->pmd, vma->vm_mm->id)) {
			folio_put(folio);
			return 0;
		}
	}
	if (!pmd_is_table(*vmf->pmd)) {
		folio_put(folio); /* a PMD got there meanwhile */
		return VM_FAULT_NOPAGE;
	}

	nr_pages = folio_nr_pages(folio);
	if (!vma_is_shmem(vma) || userfaultfd_armed(vma) || needs_fallback) {
		nr_pages = 1;
	} else if (nr_pages > 1) {
		uint64_t idx = (uint64_t)(page - folio_page(folio, 0));
		uint64_t vma_off = vmf->pgoff - vma->vm_pgoff; /* page offset in the VMA */
		uint64_t pte_off = pte_index(vmf->address);    /* entry in the table */

		/* Per page when the folio reaches beyond the VMA or the table. */
		if (vma_off < idx || vma_off + (nr_pages - idx) > vma_pages(vma) || pte_off < idx ||
		    pte_off + (nr_pages - idx) > PTRS_PER_PTE) {
			nr_pages = 1;
		} else {
			addr = vmf->address - idx * PAGE_SIZE;
			page = folio_page(folio, 0);
		}
	}

	ptep = pte_offset_map(vmf->pmd, addr);
	if (nr_pages == 1) {
		/* vmf_pte_changed(): somebody mapped it meanwhile. */
		if ((vmf->flags & FAULT_FLAG_ORIG_PTE_VALID)
			    ? pte_val(*ptep) != pte_val(vmf->orig_pte)
			    : !pte_none(*ptep)) {
			folio_put(folio);
			return VM_FAULT_NOPAGE;
		}
	} else {
		for (uint64_t i = 0; i < nr_pages; i++)
			if (!pte_none(ptep[i])) {
				needs_fallback = true;
				goto fallback;
			}
	}
	folio->refcount += (int)nr_pages - 1; /* folio_ref_add(): one per PTE */
	set_pte_range(vmf, folio, page, (unsigned)nr_pages, addr);
	return 0;
}

/* models folio_within_vma(): the whole folio lies inside the VMA */
static bool folio_within_vma(const struct folio *folio, const struct vm_area_struct *vma)
{
	uint64_t addr;

	if (folio->index < vma->vm_pgoff || folio->index >= vma->vm_pgoff + vma_pages(vma))
		return false;
	addr = vma->vm_start + ((folio->index - vma->vm_pgoff) << PAGE_SHIFT);
	return vma->vm_end - addr >= folio_nr_pages(folio) * PAGE_SIZE;
}

/* models filemap_map_folio_range(): map the pages [start, start + nr) of the
 * folio (at addr) whose PTEs are none; the whole folio instead when it lies
 * inside the VMA and one PTE table (6.18). VM_FAULT_NOPAGE when the
 * faulting address got mapped. */
static vm_fault_t filemap_map_folio_range(struct vm_fault *vmf, struct folio *folio, uint64_t start,
					  uint64_t addr, uint64_t nr_pages, bool can_map_large)
{
	uint64_t addr0 = addr - (start << PAGE_SHIFT);
	struct vm_fault around = *vmf;
	vm_fault_t ret = 0;
	uint64_t count = 0;
	pte_t *ptep;

	if (can_map_large && folio_within_vma(folio, vmf->vma) &&
	    (addr0 & PMD_MASK) == ((addr0 + folio_nr_pages(folio) * PAGE_SIZE - 1) & PMD_MASK)) {
		start = 0;
		addr = addr0;
		nr_pages = folio_nr_pages(folio);
	}
	around.flags &= ~FAULT_FLAG_WRITE;
	ptep = pte_offset_map(vmf->pmd, addr);
	for (uint64_t i = 0; i <= nr_pages; i++) {
		if (i < nr_pages && pte_none(ptep[i]) &&
		    !(folio_page(folio, start + i)->flags & PG_hwpoison)) {
			count++;
			continue;
		}
		if (count) {
			uint64_t first = addr + (i - count) * PAGE_SIZE;

			folio->refcount += (int)count;
			set_pte_range(&around, folio, folio_page(folio, start + i - count),
				      (unsigned)count, first);
			if (vmf->address >= first && vmf->address < first + count * PAGE_SIZE)
				ret = VM_FAULT_NOPAGE;
		}
		count = 0;
	}
	return ret;
}

/* models next_uptodate_folio(): the next folio of the cache in [*index, end]
 * that fault-around may map; *index becomes where it was found */
static struct folio *next_uptodate_folio(struct address_space *mapping, uint64_t *index,
					 uint64_t end)
{
	for (uint64_t i = *index; i <= end && i < mapping->nr_slots;) {
		uint64_t e = mapping->i_pages[i];
		struct folio *folio;

		if (!e || xa_is_value(e)) {
			i++;
			continue;
		}
		folio = pfn_folio(xa_to_pfn(e));
		/* Beyond i_size (max_idx) nothing is looked at. */
		if (i >= mapping->nr_pages)
			return NULL;
		if (!folio_test_locked(folio) && (folio->flags & FOLIO_uptodate)) {
			*index = i;
			return folio;
		}
		i = folio->index + folio_nr_pages(folio);
	}
	return NULL;
}

/* models filemap_map_pages(): map what the page cache holds of the pages
 * [start_pgoff, end_pgoff] without faulting anything in; shmem maps large
 * folios whole (can_map_large), across i_size too */
static vm_fault_t filemap_map_pages(struct vm_fault *vmf, uint64_t start_pgoff, uint64_t end_pgoff)
{
	struct vm_area_struct *vma = vmf->vma;
	struct address_space *mapping = vma->vm_file;
	uint64_t index = start_pgoff;
	vm_fault_t ret = 0;
	struct folio *folio;

	if (!mapping->nr_pages)
		return 0;
	if (end_pgoff > mapping->nr_pages - 1)
		end_pgoff = mapping->nr_pages - 1;
	folio = next_uptodate_folio(mapping, &index, end_pgoff);
	if (!folio)
		return 0;

	/* filemap_map_pmd() */
	if (pmd_trans_huge(*vmf->pmd))
		return VM_FAULT_NOPAGE;
	if (pmd_none(*vmf->pmd) && folio_test_pmd_mappable(folio)) {
		struct vm_fault pmdf = *vmf;

		pmdf.flags &= ~FAULT_FLAG_WRITE;
		if (!do_set_pmd(&pmdf, folio, folio_page(folio, start_pgoff - folio->index))) {
			folio_get(folio); /* the PMD mapping's reference */
			return VM_FAULT_NOPAGE;
		}
	}
	if (pmd_none(*vmf->pmd) && !pte_alloc(vmf->pmd, vma->vm_mm->id))
		return 0;
	if (!pmd_is_table(*vmf->pmd))
		return 0;

	do {
		uint64_t end = folio->index + folio_nr_pages(folio) - 1;
		uint64_t nr = (end < end_pgoff ? end : end_pgoff) - index + 1;

		ret |= filemap_map_folio_range(vmf, folio, index - folio->index,
					       vma_address(vma, index), nr, true);
		index = end + 1;
	} while ((folio = next_uptodate_folio(mapping, &index, end_pgoff)));
	return ret;
}

/* models do_fault_around(): the fault_around_bytes window around the
 * address, clamped to the VMA and the PTE table */
static vm_fault_t do_fault_around(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t nr_pages = FAULT_AROUND_PAGES;
	uint64_t pte_off = pte_index(vmf->address);
	uint64_t vma_off = vmf->pgoff - vma->vm_pgoff;
	uint64_t from_pte, to_pte;

	from_pte = pte_off & ~(nr_pages - 1);
	if (from_pte < pte_off - MIN(pte_off, vma_off))
		from_pte = pte_off - MIN(pte_off, vma_off);
	to_pte = MIN(MIN(from_pte + nr_pages, (uint64_t)PTRS_PER_PTE),
		     pte_off + vma_pages(vma) - vma_off) -
		 1;
	return filemap_map_pages(vmf, vmf->pgoff + from_pte - pte_off,
				 vmf->pgoff + to_pte - pte_off);
}

/* models should_fault_around() */
static bool should_fault_around(struct vm_fault *vmf)
{
	return !uffd_disable_fault_around(vmf->vma);
}

/* models __do_fault() */
static vm_fault_t __do_fault(struct vm_fault *vmf) { return shmem_fault(vmf); }

/* models do_read_fault(): fault-around first; ->fault() only when that did
 * not map the faulting page */
static vm_fault_t do_read_fault(struct vm_fault *vmf)
{
	vm_fault_t ret = 0;

	if (should_fault_around(vmf)) {
		ret = do_fault_around(vmf);
		if (ret)
			return ret;
	}
	ret = __do_fault(vmf);
	if (ret)
		return ret;
	return finish_fault(vmf);
}

/* models do_cow_fault(): a private copy of a file page */
static vm_fault_t do_cow_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	vm_fault_t ret = __do_fault(vmf);
	if (ret)
		return ret;
	struct page *src = vmf->page;
	struct folio *new = folio_alloc(0);
	if (!new) {
		folio_put(page_folio(src));
		return VM_FAULT_OOM;
	}
	anon_vma_prepare(vma);
	folio_page(new, 0)->content = src->content;
	folio_put(page_folio(src));
	folio_add_new_anon_rmap(new, vma, vmf->address, true);
	vmf->page = folio_page(new, 0);
	return finish_fault(vmf);
}

/* models do_shared_fault() */
static vm_fault_t do_shared_fault(struct vm_fault *vmf)
{
	vm_fault_t ret = __do_fault(vmf);
	if (ret)
		return ret;
	folio_set_flag(page_folio(vmf->page), FOLIO_dirty);
	return finish_fault(vmf);
}

/* models do_fault() */
static vm_fault_t do_fault(struct vm_fault *vmf)
{
	if (!(vmf->flags & FAULT_FLAG_WRITE))
		return do_read_fault(vmf);
	if (!(vmf->vma->vm_flags & VM_SHARED))
		return do_cow_fault(vmf);
	return do_shared_fault(vmf);
}

/* models do_pte_missing() */
static vm_fault_t do_pte_missing(struct vm_fault *vmf)
{
	if (vma_is_anonymous(vmf->vma))
		return do_anonymous_page(vmf);
	return do_fault(vmf);
}

/* models wp_page_reuse() */
static vm_fault_t wp_page_reuse(struct vm_fault *vmf, pte_t *ptep)
{
	pte_t pte = pte_mkyoung(pte_mkdirty(*ptep));
	/* maybe_mkwrite(): a FOLL_FORCE write never makes the PTE writable
	 * in a VMA without VM_WRITE. */
	if (vmf->vma->vm_flags & VM_WRITE)
		pte = pte_mkwrite(pte);
	*ptep = pte;
	return 0;
}

/* models wp_page_copy(): COW into a new anon folio */
static vm_fault_t wp_page_copy(struct vm_fault *vmf, pte_t *ptep)
{
	struct vm_area_struct *vma = vmf->vma;
	pte_t orig = *ptep;
	struct folio *old = vm_normal_folio(vma, vmf->address, orig);
	struct folio *new = folio_alloc(0);
	if (!new)
		return VM_FAULT_OOM;
	anon_vma_prepare(vma);
	folio_page(new, 0)->content = old ? vm_normal_page(vma, vmf->address, orig)->content : 0;
	folio_add_new_anon_rmap(new, vma, vmf->address, true);
	pte_t entry = pte_mkyoung(pfn_pte(folio_pfn(new), vma->vm_page_prot));
	if (vmf->flags & FAULT_FLAG_UNSHARE) {
		if (pte_uffd(orig))
			entry = pte_mkuffd(entry);
	} else {
		entry = pte_mkdirty(entry);
		if (vma->vm_flags & VM_WRITE)
			entry = pte_mkwrite(entry);
	}
	if (old) {
		folio_remove_rmap_ptes(old, vm_normal_page(vma, vmf->address, orig), 1, vma);
		folio_put(old);
	}
	*ptep = entry;
	folio_add_anon_rmap_ptes(new, folio_page(new, 0), 1, vma, true);
	return 0;
}

/* models do_wp_page() */
static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);

	if (!(vmf->flags & FAULT_FLAG_UNSHARE) && userfaultfd_pte_wp(vma, *ptep)) {
		if (!userfaultfd_wp_async(vma))
			return handle_userfault(vmf, VM_UFFD_WP);
		/* WP_ASYNC: resolve in place, then go on with the write. */
		*ptep = pte_clear_uffd(*ptep);
		mm_event_emit((struct mm_event){ .kind = EV_WP_FAULT,
						 .mm_id = vma->vm_mm->id,
						 .address = vmf->address,
						 .write = true,
						 .async = true });
	}
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
		if (!(vma->vm_flags & VM_WRITE))
			return VM_FAULT_SIGSEGV;
		return wp_page_reuse(vmf, ptep);
	}
	struct page *page = vm_normal_page(vma, vmf->address, *ptep);
	struct folio *folio = page ? page_folio(page) : NULL;
	if (folio && folio_test_anon(folio) &&
	    (PageAnonExclusive(page) || (folio_ref_count(folio) == 1 && !folio_test_large(folio) &&
					 !folio_test_swapcache(folio)))) {
		page->flags |= PG_anon_exclusive;
		if (vmf->flags & FAULT_FLAG_UNSHARE)
			return 0;
		return wp_page_reuse(vmf, ptep);
	}
	return wp_page_copy(vmf, ptep);
}

/* models handle_pte_marker() */
static vm_fault_t handle_pte_marker(struct vm_fault *vmf)
{
	pte_marker m = pte_marker_get(pte_to_swp_entry(vmf->orig_pte));
	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);

	if (!m)
		return VM_FAULT_SIGBUS;
	if (m & PTE_MARKER_POISONED)
		return VM_FAULT_HWPOISON;
	if (m & PTE_MARKER_GUARD)
		return VM_FAULT_SIGSEGV;
	if (m & PTE_MARKER_UFFD_WP) {
		if (!userfaultfd_wp(vmf->vma)) {
			*ptep = __pte(0); /* a stale marker after unregister */
			return 0;
		}
		return do_pte_missing(vmf);
	}
	return VM_FAULT_SIGBUS;
}

/* models remove_device_exclusive_entry(): a CPU access (or GUP) revokes the
 * device's exclusive access; the access then retries on the restored PTE */
static vm_fault_t remove_device_exclusive_entry(struct vm_fault *vmf)
{
	struct folio *folio = page_folio(vmf->page);
	struct vm_area_struct *vma = vmf->vma;
	pte_t *ptep;

	/* folio_try_get(): a freed folio means the entry is gone already. */
	if (!folio->in_use || !folio_ref_count(folio))
		return 0;
	folio_get(folio);
	/* folio_lock_or_retry(): the model finds the folio locked only while
	 * its holder is suspended in a race window; the fault would wait for
	 * it (the engine refuses the step), so the holder's lock stays. */
	if (folio_test_locked(folio)) {
		race_window_would_wait("folio lock");
		folio_put(folio);
		return VM_FAULT_RETRY;
	}
	folio_set_flag(folio, FOLIO_locked);
	ptep = pte_offset_map(vmf->pmd, vmf->address);
	if (ptep && pte_val(*ptep) == pte_val(vmf->orig_pte))
		restore_exclusive_pte(vma, folio, vmf->page, vmf->address, ptep, vmf->orig_pte);
	folio_clear_flag(folio, FOLIO_locked);
	folio_put(folio);
	return 0;
}

/* models do_swap_page(), with the RWP rwp_restore of patch 07 */
vm_fault_t do_swap_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	swp_entry_t entry = pte_to_swp_entry(vmf->orig_pte);
	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);

	if (non_swap_entry(entry)) {
		if (is_migration_entry(entry)) {
			migration_entry_wait(); /* the migration finishes first */
			return 0;
		}
		if (is_device_exclusive_entry(entry)) {
			vmf->page = pfn_to_page(swp_offset_pfn(entry));
			return remove_device_exclusive_entry(vmf);
		}
		if (is_pte_marker_entry(entry))
			return handle_pte_marker(vmf);
		if (is_hwpoison_entry(entry))
			return VM_FAULT_HWPOISON;
		return VM_FAULT_SIGBUS;
	}

	uint64_t slot = swp_offset(entry);
	struct folio *folio = swap_cache_get_folio(slot);
	if (folio) {
		folio_get(folio);
	} else {
		folio = folio_alloc(0);
		if (!folio)
			return VM_FAULT_OOM;
		folio_page(folio, 0)->content = swap_info.slots[slot].content;
	}
	if (pte_val(*ptep) != pte_val(vmf->orig_pte)) {
		folio_put(folio);
		return 0;
	}
	struct page *page = folio_test_large(folio)
				    ? folio_page(folio, slot - swp_offset(folio->swap))
				    : folio_page(folio, 0);
	bool exclusive = pte_swp_exclusive(vmf->orig_pte);

	pte_t pte = pfn_pte(page_to_pfn(page), vma->vm_page_prot);
	if (pte_swp_soft_dirty(vmf->orig_pte))
		pte = __pte(pte_val(pte) | _PAGE_SOFT_DIRTY);
	bool rwp_restore = false;
	if (pte_swp_uffd(vmf->orig_pte)) {
		pte = pte_mkuffd(pte);
		/* RWP: an armed page comes back armed, and the access is then
		 * delivered as an RWP fault on the retry. */
		if (userfaultfd_rwp(vma) && !patch_hunk(HUNK_SWAPIN_NO_RESTORE)) {
			pte = pte_modify(pte, PAGE_NONE);
			rwp_restore = true;
		}
	}
	if (!rwp_restore && exclusive && (vma->vm_flags & VM_WRITE) &&
	    !userfaultfd_pte_wp(vma, pte)) {
		pte = pte_mkwrite(pte);
		if (vmf->flags & FAULT_FLAG_WRITE) {
			pte = pte_mkdirty(pte);
			vmf->flags &= ~FAULT_FLAG_WRITE;
		}
	}
	if (!rwp_restore)
		pte = pte_mkyoung(pte);
	if (!folio_test_anon(folio)) {
		anon_vma_prepare(vma);
		folio_add_new_anon_rmap(folio, vma, vmf->address, exclusive);
	}
	folio_add_anon_rmap_ptes(folio, page, 1, vma, exclusive);
	*ptep = pte;
	vma->vm_mm->nr_swapents--;
	swap_free_slot(slot);
	if (folio_test_swapcache(folio))
		folio_free_swap(folio);

	if (!rwp_restore && (vmf->flags & FAULT_FLAG_WRITE)) {
		vmf->orig_pte = *ptep;
		return do_wp_page(vmf);
	}
	return 0;
}

/* models numa_rebuild_single_mapping() / numa_rebuild_large_mapping(); RWP
 * 10/15 makes the large variant skip PTEs that carry the uffd bit. */
static void numa_rebuild_mapping(struct vm_fault *vmf, struct folio *folio, bool writable)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t start = vmf->address, end = vmf->address + PAGE_SIZE;

	if (folio && folio_test_large(folio)) {
		uint64_t pgoff_addr =
			vmf->address -
			((vm_normal_page(vma, vmf->address, vmf->orig_pte) - folio_page(folio, 0)) *
			 PAGE_SIZE);
		start = pgoff_addr > vma->vm_start ? pgoff_addr : vma->vm_start;
		if (start < (vmf->address & PMD_MASK))
			start = vmf->address & PMD_MASK;
		end = pgoff_addr + folio_nr_pages(folio) * PAGE_SIZE;
		if (end > vma->vm_end)
			end = vma->vm_end;
		if (end > pmd_addr_end(vmf->address, vma->vm_end))
			end = pmd_addr_end(vmf->address, vma->vm_end);
	}
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		pte_t *ptep = pte_offset_map(vmf->pmd, a);
		if (!pte_protnone(*ptep) ||
		    (a != vmf->address && pte_uffd(*ptep) && !patch_hunk(HUNK_NUMA_REBUILD_ALL)))
			continue;
		if (a != vmf->address && vm_normal_folio(vma, a, *ptep) != folio)
			continue;
		pte_t pte = pte_mkyoung(pte_modify(*ptep, vma->vm_page_prot));
		if (writable)
			pte = pte_mkwrite(pte);
		*ptep = pte;
	}
}

#define NUMA_NO_NODE (-1)

/* models numa_migrate_check() on a single-node machine: the folio counts as
 * misplaced only when the trace asked for it (numa-scan migrate-on-fault=1) */
static int numa_migrate_check(struct folio *folio, struct vm_fault *vmf)
{
	if (!numa_migrate_on_fault || folio_test_zero(folio))
		return NUMA_NO_NODE;
	return 1;
}

/* models do_numa_page(); it migrates only when numa_migrate_check() says so */
static vm_fault_t do_numa_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);
	if (pte_val(*ptep) != pte_val(vmf->orig_pte))
		return 0;
	pte_t pte = pte_modify(vmf->orig_pte, vma->vm_page_prot);
	bool writable = pte_write(pte);
	if (!writable && vma_wants_manual_pte_write_upgrade(vma) &&
	    can_change_pte_writable(vma, vmf->address, pte))
		writable = true;
	struct folio *folio = vm_normal_folio(vma, vmf->address, vmf->orig_pte);
	int target_nid = folio ? numa_migrate_check(folio, vmf) : NUMA_NO_NODE;
	if (target_nid != NUMA_NO_NODE &&
	    !migrate_misplaced_folio_prepare(folio, vma, target_nid)) {
		/* The PTL is dropped: every mapping of the folio, this one
		 * included, becomes a migration entry and is restored by
		 * remove_migration_pte() (uffd bit and PAGE_NONE kept). */
		if (!migrate_misplaced_folio(folio, target_nid))
			return 0;
		ptep = pte_offset_map(vmf->pmd, vmf->address);
		if (!ptep || pte_val(*ptep) != pte_val(vmf->orig_pte))
			return 0;
	}
	numa_rebuild_mapping(vmf, folio, writable);
	return 0;
}

/* models do_uffd_rwp() (RWP 10/15 + 12/15): a fault on an armed PTE */
static vm_fault_t do_uffd_rwp(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	if (!userfaultfd_rwp_async(vma))
		return handle_userfault(vmf, VM_UFFD_RWP);

	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);
	if (pte_val(*ptep) != pte_val(vmf->orig_pte))
		return 0; /* changed under us: retry */
	pte_t pte = pte_modify(vmf->orig_pte, vma->vm_page_prot);
	pte = pte_mkyoung(pte_clear_uffd(pte));
	if (!pte_write(pte) && vma_wants_manual_pte_write_upgrade(vma) &&
	    can_change_pte_writable(vma, vmf->address, pte))
		pte = pte_mkwrite(pte);
	*ptep = pte;
	mm_event_emit((struct mm_event){ .kind = EV_RWP_FAULT,
					 .mm_id = vma->vm_mm->id,
					 .address = vmf->address,
					 .write = vmf->flags & FAULT_FLAG_WRITE,
					 .async = true });
	return 0;
}

/* models handle_pte_fault() in the series' order */
static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	vmf->pte = pte_offset_map(vmf->pmd, vmf->address);
	if (vmf->pte) {
		vmf->orig_pte = *vmf->pte;
		vmf->flags |= FAULT_FLAG_ORIG_PTE_VALID;
		if (pte_none(vmf->orig_pte))
			vmf->pte = NULL;
	}
	if (!vmf->pte)
		return do_pte_missing(vmf);
	if (!pte_present(vmf->orig_pte))
		return do_swap_page(vmf);
	/* Protnone in an accessible VMA: an RWP marker or a NUMA hint; in a
	 * PROT_NONE VMA it carries no meaning and is not routed. */
	if (pte_protnone(vmf->orig_pte) && vma_is_accessible(vmf->vma)) {
		if (userfaultfd_pte_rwp(vmf->vma, vmf->orig_pte))
			return do_uffd_rwp(vmf);
		return do_numa_page(vmf);
	}
	pte_t *ptep = pte_offset_map(vmf->pmd, vmf->address);
	if (pte_val(*ptep) != pte_val(vmf->orig_pte))
		return 0;
	if (vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
		if (!pte_write(*ptep))
			return do_wp_page(vmf);
		if (vmf->flags & FAULT_FLAG_WRITE)
			*ptep = pte_mkdirty(*ptep);
	}
	*ptep = pte_mkyoung(*ptep);
	return 0;
}

/* models wp_huge_pmd() */
static vm_fault_t wp_huge_pmd(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	if (vma_is_anonymous(vma)) {
		if (!(vmf->flags & FAULT_FLAG_UNSHARE) &&
		    userfaultfd_huge_pmd_wp(vma, vmf->orig_pmd)) {
			if (!userfaultfd_wp_async(vma))
				return handle_userfault(vmf, VM_UFFD_WP);
			__split_huge_pmd(vma, vmf->pmd, vmf->address, false);
			return VM_FAULT_FALLBACK;
		}
		return do_huge_pmd_wp_page(vmf);
	}
	__split_huge_pmd(vma, vmf->pmd, vmf->address, false);
	return VM_FAULT_FALLBACK;
}

/* models __handle_mm_fault() */
static vm_fault_t __handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned flags)
{
	struct vm_fault vmf = {
		.vma = vma,
		.address = address & PAGE_MASK,
		.real_address = address,
		.flags = flags,
		.pgoff = linear_page_index(vma, address & PAGE_MASK),
	};
	vmf.pmd = mm_find_pmd(vma->vm_mm, address, true);

	if (pmd_none(*vmf.pmd) &&
	    thp_vma_allowable_order(vma, vma->vm_flags, false, HPAGE_PMD_ORDER) &&
	    vma_is_anonymous(vma)) {
		/* create_huge_pmd(); shmem has no ->huge_fault, finish_fault
		 * maps its PMD folios. */
		vm_fault_t ret = do_huge_pmd_anonymous_page(&vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
	} else {
		vmf.orig_pmd = *vmf.pmd;
		if (is_pmd_migration_entry(vmf.orig_pmd)) {
			migration_entry_wait(); /* pmd_migration_entry_wait() */
			return 0;
		}
		if (pmd_trans_huge(vmf.orig_pmd)) {
			if (pmd_protnone(vmf.orig_pmd) && vma_is_accessible(vma)) {
				if (userfaultfd_huge_pmd_rwp(vma, vmf.orig_pmd))
					return do_huge_pmd_uffd_rwp(&vmf);
				return do_huge_pmd_numa_page(&vmf);
			}
			if ((flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) &&
			    !pmd_write(vmf.orig_pmd)) {
				vm_fault_t ret = wp_huge_pmd(&vmf);
				if (!(ret & VM_FAULT_FALLBACK))
					return ret;
			} else {
				huge_pmd_set_accessed(&vmf);
				return 0;
			}
		}
	}
	return handle_pte_fault(&vmf);
}

/* models sanitize_fault_flags() */
static vm_fault_t sanitize_fault_flags(struct vm_area_struct *vma, unsigned *flags)
{
	if (*flags & FAULT_FLAG_UNSHARE) {
		if (!is_cow_mapping(vma->vm_flags))
			*flags &= ~FAULT_FLAG_UNSHARE;
	} else if (*flags & FAULT_FLAG_WRITE) {
		if (!(vma->vm_flags & VM_MAYWRITE))
			return VM_FAULT_SIGSEGV;
		if (!(vma->vm_flags & VM_WRITE) && !is_cow_mapping(vma->vm_flags))
			return VM_FAULT_SIGSEGV;
	}
	return 0;
}

/* models handle_mm_fault() */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned flags)
{
	vm_fault_t ret = sanitize_fault_flags(vma, &flags);
	if (ret)
		return ret;
	return __handle_mm_fault(vma, address, flags);
}

/* ------------------------------------------------------------------ zap */

/* models zap_install_uffd_wp_if_needed(): file uffd-wp keeps a marker */
static void zap_install_uffd_wp_if_needed(struct vm_area_struct *vma, pte_t *ptep, pte_t old,
					  bool drop_markers)
{
	/* RWP has no markers: its arming dies with the entry (drop permission). */
	bool marker_vma =
		patch_hunk(HUNK_ZAP_RWP_MARKER) ? userfaultfd_protected(vma) : userfaultfd_wp(vma);

	if (vma_is_anonymous(vma) || drop_markers || !marker_vma)
		return;
	if ((pte_present(old) && pte_uffd(old)) || pte_swp_uffd_any(old))
		*ptep = make_pte_marker(PTE_MARKER_UFFD_WP);
}

/* models zap_pte_range() for [addr, end) inside one PTE table */
static void zap_pte_range(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr, uint64_t end,
			  bool drop_markers)
{
	for (; addr < end; addr += PAGE_SIZE) {
		pte_t *ptep = pte_offset_map(pmd, addr);
		pte_t old = *ptep;
		if (pte_none(old))
			continue;
		if (pte_present(old)) {
			struct page *page = vm_normal_page(vma, addr, old);
			*ptep = __pte(0);
			if (page) {
				struct folio *folio = page_folio(page);
				if (pte_dirty(old))
					folio_set_flag(folio, FOLIO_dirty);
				/* queues a partly unmapped large anon folio */
				folio_remove_rmap_ptes(folio, page, 1, vma);
				folio_put(folio);
			}
			zap_install_uffd_wp_if_needed(vma, ptep, old, drop_markers);
			continue;
		}
		swp_entry_t entry = pte_to_swp_entry(old);
		if (!non_swap_entry(entry)) {
			/* free_swap_and_cache(): an unmapped swap-cache folio goes too. */
			struct folio *cached = swap_cache_get_folio(swp_offset(entry));
			*ptep = __pte(0);
			swap_free_slot(swp_offset(entry));
			if (cached && !folio_mapped(cached))
				folio_free_swap(cached);
			vma->vm_mm->nr_swapents--;
			zap_install_uffd_wp_if_needed(vma, ptep, old, drop_markers);
		} else if (is_device_exclusive_entry(entry)) {
			/* zap_nonpresent_ptes(): the entry maps its page (mapcount
			 * and reference); anon only, so no uffd-wp marker. */
			struct page *page = pfn_to_page(swp_offset_pfn(entry));
			struct folio *folio = page_folio(page);

			*ptep = __pte(0);
			folio_remove_rmap_ptes(folio, page, 1, vma);
			folio_put(folio);
			zap_install_uffd_wp_if_needed(vma, ptep, old, drop_markers);
		} else if (is_pte_marker_entry(entry)) {
			pte_marker m = pte_marker_get(entry);
			if (m & PTE_MARKER_POISONED)
				*ptep = __pte(0);
			else if ((m & PTE_MARKER_UFFD_WP) &&
				 (vma_is_anonymous(vma) || drop_markers))
				*ptep = __pte(0);
			else if ((m & PTE_MARKER_GUARD) && drop_markers)
				*ptep = __pte(0);
		} else {
			*ptep = __pte(0);
		}
	}
}

/* models zap_page_range_single() (zap_page_range_single_batched) */
void zap_page_range_single(struct vm_area_struct *vma, uint64_t start, uint64_t end,
			   bool drop_markers)
{
	struct mm_struct *mm = vma->vm_mm;
	if (start < vma->vm_start)
		start = vma->vm_start;
	if (end > vma->vm_end)
		end = vma->vm_end;
	for (uint64_t addr = start; addr < end;) {
		uint64_t next = pmd_addr_end(addr, end);
		pmd_t *pmd = mm_find_pmd(mm, addr, false);
		/* is_swap_pmd() || pmd_trans_huge(): a PMD migration entry too */
		if (pmd && (pmd_leaf(*pmd) || is_pmd_migration_entry(*pmd))) {
			if (!(addr & ~PMD_MASK) && next - addr == PMD_SIZE) {
				zap_huge_pmd(vma, pmd, addr);
				addr = next;
				continue;
			}
			__split_huge_pmd(vma, pmd, addr, false);
		}
		if (pmd && pmd_is_table(*pmd))
			zap_pte_range(vma, pmd, addr, next, drop_markers);
		addr = next;
	}
}

/* models zap_page_range_single_batched() with details->reclaim_pt
 * (madvise_dontneed_single_vma(), CONFIG_PT_RECLAIM=y on x86-64): a PTE
 * table whose whole PMD range the zap covers (reclaim_pt_is_enabled())
 * and that is left with only none entries is freed (try_to_free_pte()),
 * so the PMD becomes none. A kept marker keeps the table (any_skipped). */
void zap_page_range_reclaim_pt(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	struct mm_struct *mm = vma->vm_mm;

	if (start < vma->vm_start)
		start = vma->vm_start;
	if (end > vma->vm_end)
		end = vma->vm_end;
	zap_page_range_single(vma, start, end, false);
	for (uint64_t addr = start; addr < end;) {
		uint64_t next = pmd_addr_end(addr, end);
		pmd_t *pmd = mm_find_pmd(mm, addr, false);
		bool empty = true;

		if (next - addr >= PMD_SIZE && pmd && pmd_is_table(*pmd)) {
			pte_t *ptep = pte_offset_map(pmd, addr & PMD_MASK);

			for (unsigned i = 0; i < PTRS_PER_PTE && empty; i++)
				empty = pte_none(ptep[i]);
			if (empty) {
				uint64_t table = pmd_pgtable(*pmd);

				*pmd = __pmd(0);
				pt_free(table);
			}
		}
		addr = next;
	}
}

/* models unmap_mapping_pages(): zap every mapping of file pages [first, first+nr) */
void unmap_mapping_pages(struct address_space *mapping, uint64_t first, uint64_t nr, bool even_cows)
{
	g_autoptr(GPtrArray) vmas = g_ptr_array_copy(mapping->i_mmap, NULL, NULL);
	for (guint i = 0; i < vmas->len; i++) {
		struct vm_area_struct *vma = g_ptr_array_index(vmas, i);
		uint64_t v_first = vma->vm_pgoff, v_end = vma->vm_pgoff + vma_pages(vma);
		uint64_t lo = first > v_first ? first : v_first;
		uint64_t hi = first + nr < v_end ? first + nr : v_end;
		if (lo >= hi)
			continue;
		if (even_cows || (vma->vm_flags & VM_SHARED)) {
			zap_page_range_single(vma, vma_address(vma, lo), vma_address(vma, hi),
					      false);
			continue;
		}
		/* Private mapping: keep the CoW'd anon pages, zap file pages.
		 * zap_present_ptes() tests should_zap_folio() only on a normal
		 * page: the zero page (UFFDIO_ZEROPAGE) goes like a file page. */
		for (uint64_t idx = lo; idx < hi; idx++) {
			uint64_t a = vma_address(vma, idx);
			pte_t *ptep = pte_lookup(vma->vm_mm->pgd, a);
			bool present = ptep && pte_present(*ptep);
			struct folio *f = present ? vm_normal_folio(vma, a, *ptep) : NULL;
			pmd_t *pmd = mm_find_pmd(vma->vm_mm, a, false);
			if ((present && (!f || !folio_test_anon(f))) || (pmd && pmd_leaf(*pmd)))
				zap_page_range_single(vma, a, a + PAGE_SIZE, false);
		}
	}
}

/* ------------------------------------------------------------------ fork: copy_page_range */

/* VM_COPY_ON_FORK (include/linux/mm.h), with VM_UFFD_RWP from RWP 07/15:
 * without the copy a registered child would start with none entries and
 * lose every arming (VM_MAYBE_GUARD is not modelled). */
#define VM_COPY_ON_FORK (VM_PFNMAP | VM_MIXEDMAP | VM_UFFD_WP | VM_UFFD_RWP)

/* models copy_pte_marker() */
static pte_marker copy_pte_marker(swp_entry_t entry, struct vm_area_struct *dst_vma)
{
	pte_marker srcm = pte_marker_get(entry);
	/* Error and guard markers are always copied. */
	pte_marker dstm = srcm & (PTE_MARKER_POISONED | PTE_MARKER_GUARD);

	/* A uffd-wp marker only into a child that is still WP-registered. */
	if ((srcm & PTE_MARKER_UFFD_WP) && userfaultfd_wp(dst_vma))
		dstm |= PTE_MARKER_UFFD_WP;
	return dstm;
}

/* models copy_nonpresent_pte(); swap_duplicate() cannot fail in the model.
 * 0: copied; -ENOENT: a device-exclusive entry was restored in the source,
 * copy it as a present PTE; -EBUSY: its folio lock was taken. */
static int copy_nonpresent_pte(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			       pte_t *dst_pte, pte_t *src_pte, uint64_t addr)
{
	pte_t orig_pte = *src_pte, pte = orig_pte;
	swp_entry_t entry = pte_to_swp_entry(orig_pte);

	if (!non_swap_entry(entry)) {
		swap_dup(swp_offset(entry));
		/* Shared with the child now: neither side may reuse it on swap-in
		 * without COW. */
		if (pte_swp_exclusive(orig_pte)) {
			pte = pte_swp_clear_exclusive(orig_pte);
			*src_pte = pte;
		}
		dst_vma->vm_mm->nr_swapents++;
	} else if (is_migration_entry(entry)) {
		/* COW mappings need the page read-only in parent and child: a
		 * writable or exclusive entry becomes a readable one, keeping
		 * soft-dirty and the uffd bit. */
		if (!is_readable_migration_entry(entry) && is_cow_mapping(src_vma->vm_flags)) {
			entry = make_readable_migration_entry(swp_offset(entry));
			pte = swp_entry_to_pte(entry);
			if (pte_swp_soft_dirty(orig_pte))
				pte = pte_swp_mksoft_dirty(pte);
			if (pte_swp_uffd(orig_pte))
				pte = pte_swp_mkuffd(pte);
			*src_pte = pte;
		}
	} else if (is_device_exclusive_entry(entry)) {
		/* Only private (COW) mappings hold these: make the source present
		 * again, then the caller copies it like any present PTE. */
		g_assert(is_cow_mapping(src_vma->vm_flags));
		if (try_restore_exclusive_pte(src_vma, addr, src_pte, orig_pte))
			return -EBUSY;
		return -ENOENT;
	} else if (is_pte_marker_entry(entry)) {
		pte_marker marker = copy_pte_marker(entry, dst_vma);

		if (marker)
			*dst_pte = make_pte_marker(marker);
		return 0;
	}
	/* RWP 07/15: the swap uffd bit (uffd-wp, or an armed page) survives only
	 * into a child that is still protected. */
	if (!userfaultfd_protected(dst_vma))
		pte = pte_swp_clear_uffd(pte);
	*dst_pte = pte;
	return 0;
}

/* models copy_present_page(): the source page may be pinned (DMA may still
 * write it), so the child gets its own copy now */
static int copy_present_page(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			     pte_t *dst_pte, pte_t *src_pte, uint64_t addr, struct folio **prealloc,
			     struct page *page)
{
	struct folio *new_folio = *prealloc;
	pte_t pte;

	if (!new_folio)
		return -EAGAIN;
	*prealloc = NULL;
	folio_page(new_folio, 0)->content = page->content; /* copy_user_highpage() */
	folio_add_new_anon_rmap(new_folio, dst_vma, addr, true);
	folio_add_anon_rmap_ptes(new_folio, folio_page(new_folio, 0), 1, dst_vma, true);

	pte = pte_mkdirty(pfn_pte(folio_pfn(new_folio), dst_vma->vm_page_prot));
	if (dst_vma->vm_flags & VM_WRITE) /* maybe_mkwrite() */
		pte = pte_mkwrite(pte);
	/* uffd-wp and RWP arming are delivered to the child as well; an armed
	 * copy is re-forced to PAGE_NONE (RWP 07/15). */
	if (userfaultfd_protected(dst_vma) && pte_uffd(*src_pte)) {
		pte = pte_mkuffd(pte);
		if (userfaultfd_rwp(dst_vma))
			pte = pte_modify(pte, PAGE_NONE);
	}
	*dst_pte = pte;
	return 0;
}

/* models wrprotect_ptes() */
static void wrprotect_ptes(pte_t *ptep, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		ptep[i] = pte_wrprotect(ptep[i]);
}

/* models __copy_present_ptes(), with RWP 07/15 */
static void __copy_present_ptes(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
				pte_t *dst_pte, pte_t *src_pte, pte_t pte, uint64_t addr,
				unsigned nr)
{
	/* The source's writability, taken before any rewrite of pte: the COW
	 * write-protect below must not depend on the child's protection. */
	bool writable = pte_write(pte);

	if (!userfaultfd_protected(dst_vma) && !patch_hunk(HUNK_FORK_NO_NORMALISE)) {
		/* An unprotected child must not inherit an armed entry, which
		 * would read as a NUMA hint there: rebuild it from the child's
		 * protection. Entries without the bit keep theirs (a NUMA-hint
		 * protnone is copied as is). */
		if (userfaultfd_rwp(src_vma) && pte_uffd(pte))
			pte = pte_modify(pte, dst_vma->vm_page_prot);
		pte = pte_clear_uffd(pte);
	}
	/* A COW mapping is write-protected in both processes. */
	if (is_cow_mapping(src_vma->vm_flags) && writable) {
		wrprotect_ptes(src_pte, nr);
		pte = pte_wrprotect(pte);
	}
	/* A shared mapping is clean in the child. */
	if (src_vma->vm_flags & VM_SHARED)
		pte = pte_mkclean(pte);
	pte = pte_mkold(pte);
	set_ptes(dst_pte, pte, nr);
}

/* models folio_pte_batch_flags() with FPB_MERGE_WRITE, plus FPB_RESPECT_DIRTY
 * for private mappings (soft-dirty tracking is not modelled) */
static unsigned copy_pte_batch(struct folio *folio, struct vm_area_struct *src_vma, pte_t *src_pte,
			       pte_t pte, unsigned max_nr, bool *any_writable)
{
	unsigned nr = folio_pte_batch(folio, src_pte, pte, max_nr);

	*any_writable = false;
	for (unsigned i = 0; i < nr; i++) {
		if (!(src_vma->vm_flags & VM_SHARED) && pte_dirty(src_pte[i]) != pte_dirty(pte)) {
			nr = i;
			break;
		}
		if (pte_write(src_pte[i]))
			*any_writable = true;
	}
	return nr;
}

/* models copy_present_ptes(): returns the number of PTEs copied, or -EAGAIN
 * when copy_present_page() needs a preallocated folio */
static int copy_present_ptes(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			     pte_t *dst_pte, pte_t *src_pte, pte_t pte, uint64_t addr,
			     unsigned max_nr, struct folio **prealloc)
{
	struct page *page = vm_normal_page(src_vma, addr, pte);
	struct folio *folio;

	if (!page) {
		__copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, 1);
		return 1;
	}
	folio = page_folio(page);
	if (!*prealloc && folio_test_large(folio) && max_nr != 1) {
		bool any_writable;
		unsigned nr = copy_pte_batch(folio, src_vma, src_pte, pte, max_nr, &any_writable);

		folio->refcount += (int)nr;
		if (folio_test_anon(folio)) {
			/* Maybe pinned: no batching, the single-page path copies. */
			if (folio_try_dup_anon_rmap_ptes(folio, page, (int)nr, dst_vma, src_vma)) {
				folio->refcount -= (int)nr;
				return -EAGAIN;
			}
		} else {
			folio_dup_file_rmap_ptes(folio, page, (int)nr, dst_vma);
		}
		if (any_writable)
			pte = pte_mkwrite(pte);
		__copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, nr);
		return (int)nr;
	}
	folio_get(folio);
	if (folio_test_anon(folio)) {
		if (folio_try_dup_anon_rmap_ptes(folio, page, 1, dst_vma, src_vma)) {
			/* The page may be pinned: the child gets a copy. */
			folio_put(folio);
			int err = copy_present_page(dst_vma, src_vma, dst_pte, src_pte, addr,
						    prealloc, page);
			return err ? err : 1;
		}
	} else {
		folio_dup_file_rmap_ptes(folio, page, 1, dst_vma);
	}
	__copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, 1);
	return 1;
}

/* models copy_pte_range() */
static int copy_pte_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  pmd_t *dst_pmd, pmd_t *src_pmd, uint64_t addr, uint64_t end)
{
	struct folio *prealloc = NULL;
	int ret;

again:
	ret = 0;
	if (!pte_alloc(dst_pmd, dst_vma->vm_mm->id))
		return -ENOMEM;
	pte_t *src_pte = pte_offset_map(src_pmd, addr);
	pte_t *dst_pte = pte_offset_map(dst_pmd, addr);
	for (unsigned nr = 1; addr != end; src_pte += nr, dst_pte += nr, addr += nr * PAGE_SIZE) {
		pte_t ptent = *src_pte;

		nr = 1;
		if (pte_none(ptent))
			continue;
		if (!pte_present(ptent)) {
			ret = copy_nonpresent_pte(dst_vma, src_vma, dst_pte, src_pte, addr);
			if (ret == -EBUSY)
				break;
			if (!ret)
				continue;
			/* Device exclusive entry restored: copy the now present PTE. */
			ptent = *src_pte;
			g_assert(ret == -ENOENT && pte_present(ptent));
		}
		ret = copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, ptent, addr,
					(unsigned)((end - addr) >> PAGE_SHIFT), &prealloc);
		if (ret == -EAGAIN)
			break;
		if (prealloc) {
			folio_put(prealloc);
			prealloc = NULL;
		}
		nr = (unsigned)ret;
	}
	if (ret == -EAGAIN) {
		/* folio_prealloc(), then retry at the same PTE */
		prealloc = folio_alloc(0);
		if (!prealloc)
			return -ENOMEM;
		goto again;
	}
	if (prealloc)
		folio_put(prealloc);
	/* -EBUSY: a device-exclusive entry whose folio was locked. */
	return ret == -EBUSY ? ret : 0;
}

/* models copy_pmd_range() (and the pud/p4d levels above it) */
static int copy_pmd_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  uint64_t addr, uint64_t end)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;

	for (uint64_t next; addr < end; addr = next) {
		pmd_t *src_pmd = mm_find_pmd(src_mm, addr, false), *dst_pmd;

		next = pmd_addr_end(addr, end);
		if (!src_pmd || pmd_none(*src_pmd))
			continue;
		if (is_pmd_migration_entry(*src_pmd) || pmd_trans_huge(*src_pmd)) {
			dst_pmd = mm_find_pmd(dst_mm, addr, true);
			int err = copy_huge_pmd(dst_mm, src_mm, dst_pmd, src_pmd, addr, dst_vma,
						src_vma);
			if (err == -ENOMEM)
				return -ENOMEM;
			if (!err)
				continue;
			/* fall through: copy the PTEs of a split PMD */
		}
		if (!pmd_is_table(*src_pmd))
			continue;
		dst_pmd = mm_find_pmd(dst_mm, addr, true);
		if (copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next))
			return -ENOMEM;
	}
	return 0;
}

/* models vma_needs_copy() */
static bool vma_needs_copy(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	/* Tested on dst_vma: a child without UFFD_FEATURE_EVENT_FORK lost
	 * VM_UFFD_WP/RWP, and then refaults like any unregistered VMA. */
	if (dst_vma->vm_flags & VM_COPY_ON_FORK)
		return true;
	/* Anonymous pages have nothing to be refaulted from. */
	if (src_vma->anon_vma)
		return true;
	/* Shared and file mappings refault lazily in the child. */
	return false;
}

/* models copy_page_range() (no hugetlb, no PFN-map tracking in the model) */
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	if (!vma_needs_copy(dst_vma, src_vma))
		return 0;
	return copy_pmd_range(dst_vma, src_vma, src_vma->vm_start, src_vma->vm_end);
}
