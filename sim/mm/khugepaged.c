/* sim/mm/khugepaged.c - khugepaged and MADV_COLLAPSE (mm/khugepaged.c).
 *
 * Follows the linux-mm tree that carries the RWP series (v7.x names:
 * collapse_check_pte, try_collapse_pte_mapped_thp, file_backed_vma_is_
 * retractable), PMD order only: the mTHP collapse of that tree is not
 * modelled. The simulator is single-threaded; the places where the kernel
 * drops its locks between a check and the act are race_window() calls, so a
 * trace can run other steps there.
 */
#include "internal.h"
#include "patch.h"
#include "sched.h"

enum scan_result khugepaged_last_result = SCAN_FAIL;

/* Set by hpage_collapse_scan_pmd() when it went on to collapse_huge_page(),
 * which is where the kernel drops the mmap lock (its *lock_dropped). */
static bool collapse_dropped_mmap_lock;

/* ------------------------------------------------ helpers from other kernel files */

/* models folio_expected_ref_count() (include/linux/mm.h) */
static int folio_expected_ref_count(const struct folio *folio)
{
	int ref = 0;

	if (folio_test_anon(folio))
		ref = folio_test_swapcache(folio) ? (int)folio_nr_pages(folio) : 0;
	else if (folio->mapping)
		ref = (int)folio_nr_pages(folio);
	return ref + folio_mapcount(folio);
}

/* models folio_trylock() (include/linux/pagemap.h) */
static bool folio_trylock(struct folio *folio)
{
	if (folio_test_locked(folio))
		return false;
	folio_set_flag(folio, FOLIO_locked);
	return true;
}

/* models folio_unlock() (mm/filemap.c) */
static void folio_unlock(struct folio *folio) { folio_clear_flag(folio, FOLIO_locked); }

static bool folio_test_uptodate(const struct folio *folio) { return folio->flags & FOLIO_uptodate; }

/* models free_swap_cache() (mm/swap_state.c) */
static void free_swap_cache(struct folio *folio)
{
	if (folio_test_swapcache(folio) && !folio_mapped(folio) && !folio_test_locked(folio))
		swap_cache_del_folio(folio);
}

/* models filemap_lock_folio() (include/linux/pagemap.h): locked, referenced */
static struct folio *filemap_lock_folio(struct address_space *mapping, uint64_t index)
{
	struct folio *folio = filemap_get_folio(mapping, index);

	if (!folio)
		return NULL;
	folio_get(folio);
	folio_set_flag(folio, FOLIO_locked);
	return folio;
}

/* models thp_vma_suitable_order() (include/linux/huge_mm.h) */
static bool thp_vma_suitable_order(struct vm_area_struct *vma, uint64_t addr, unsigned order)
{
	uint64_t size = PAGE_SIZE << order;
	uint64_t haddr = addr & ~(size - 1);

	/* A file VMA must map the huge page at a huge-aligned file offset. */
	if (!vma_is_anonymous(vma) &&
	    (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) & ((1ULL << order) - 1)))
		return false;
	return haddr >= vma->vm_start && haddr + size <= vma->vm_end;
}

/* ------------------------------------------------------------- mm/khugepaged.c */

/* models pte_none_or_zero() */
static bool pte_none_or_zero(pte_t pte)
{
	if (pte_none(pte))
		return true;
	return pte_present(pte) && is_zero_pfn(pte_pfn(pte));
}

/* models collapse_max_ptes_none()
 * A uffd-armed VMA never has holes filled: userspace may expect the faults. */
static unsigned collapse_max_ptes_none(struct collapse_control *cc, struct vm_area_struct *vma)
{
	if (vma && userfaultfd_armed(vma))
		return 0;
	if (!cc->is_khugepaged)
		return HPAGE_PMD_NR;
	return thp_settings.max_ptes_none;
}

/* models collapse_max_ptes_shared() */
static unsigned collapse_max_ptes_shared(struct collapse_control *cc)
{
	return cc->is_khugepaged ? thp_settings.max_ptes_shared : HPAGE_PMD_NR;
}

/* models collapse_max_ptes_swap() */
static unsigned collapse_max_ptes_swap(struct collapse_control *cc)
{
	return cc->is_khugepaged ? thp_settings.max_ptes_swap : HPAGE_PMD_NR;
}

/* models collapse_test_exit() */
static bool collapse_test_exit(struct mm_struct *mm) { return mm->mm_users == 0; }

/* models collapse_test_exit_or_disable() (no MMF_DISABLE_THP_COMPLETELY in the model) */
static bool collapse_test_exit_or_disable(struct mm_struct *mm) { return collapse_test_exit(mm); }

/* The compound_pagelist of the isolate/copy steps. */
struct compound_pagelist {
	struct folio *f[HPAGE_PMD_NR];
	unsigned nr;
};

/* models release_pte_folio() */
static void release_pte_folio(struct folio *folio)
{
	folio_unlock(folio);
	folio_putback_lru(folio);
}

/* models release_pte_pages(): put back what was isolated before _pte */
static void release_pte_pages(pte_t *pte, pte_t *_pte, struct compound_pagelist *cl)
{
	while (--_pte >= pte) {
		pte_t pteval = *_pte;

		if (pte_none(pteval) || !pte_present(pteval))
			continue;
		uint64_t pfn = pte_pfn(pteval);
		if (is_zero_pfn(pfn))
			continue;
		struct folio *folio = pfn_folio(pfn);
		if (folio_test_large(folio))
			continue;
		release_pte_folio(folio);
	}
	for (unsigned i = 0; i < cl->nr; i++)
		release_pte_folio(cl->f[i]);
	cl->nr = 0;
}

/* models pte_is_referenced() (no mmu notifiers in the model) */
static bool pte_is_referenced(struct collapse_control *cc, pte_t pteval, struct folio *folio)
{
	return cc->is_khugepaged && (pte_young(pteval) || (folio->flags & FOLIO_young) ||
				     (folio->flags & FOLIO_referenced));
}

enum pte_check_result {
	PTE_CHECK_SUCCEED,
	PTE_CHECK_FAIL,
	PTE_CHECK_CONTINUE,
};

struct pte_check_context {
	struct collapse_control *cc;
	struct vm_area_struct *vma;
	struct folio *folio;
	int none_or_zero;
	int shared;
	int unmapped; /* -1: the isolate step, where swap PTEs must be gone */
	enum scan_result result;
	unsigned max_ptes_none, max_ptes_swap, max_ptes_shared;
};

static enum pte_check_result pte_check_fail(struct pte_check_context *ctx, enum scan_result r)
{
	ctx->result = r;
	return PTE_CHECK_FAIL;
}

/* models collapse_check_pte()
 * Shared by the scan and the isolate step, so an arming that races in
 * between (RWPROTECT sets the uffd bit) is caught by the second pass too. */
static enum pte_check_result collapse_check_pte(pte_t pteval, uint64_t addr,
						struct pte_check_context *ctx)
{
	ctx->folio = NULL;
	if (pte_none_or_zero(pteval)) {
		if ((unsigned)++ctx->none_or_zero > ctx->max_ptes_none)
			return pte_check_fail(ctx, SCAN_EXCEED_NONE_PTE);
		return PTE_CHECK_CONTINUE;
	}
	if (!pte_present(pteval)) {
		if (ctx->unmapped == -1)
			return pte_check_fail(ctx, SCAN_PTE_NON_PRESENT);
		if ((unsigned)++ctx->unmapped > ctx->max_ptes_swap)
			return pte_check_fail(ctx, SCAN_EXCEED_SWAP_PTE);
		if (pte_swp_uffd_any(pteval))
			return pte_check_fail(ctx, SCAN_PTE_UFFD);
		return PTE_CHECK_CONTINUE;
	}
	/* An armed RWP entry is protnone, hence "present", and carries the bit. */
	if (pte_uffd(pteval))
		return pte_check_fail(ctx, SCAN_PTE_UFFD);

	ctx->folio = vm_normal_folio(ctx->vma, addr, pteval);
	if (!ctx->folio)
		return pte_check_fail(ctx, SCAN_PAGE_NULL);

	/* No VM_DROPPABLE in the model. */
	if (ctx->cc->is_khugepaged && folio_test_lazyfree(ctx->folio) && !pte_dirty(pteval))
		return pte_check_fail(ctx, SCAN_PAGE_LAZYFREE);

	if (!folio_test_anon(ctx->folio))
		return pte_check_fail(ctx, SCAN_PAGE_ANON);

	if (folio_maybe_mapped_shared(ctx->folio)) {
		if ((unsigned)++ctx->shared > ctx->max_ptes_shared)
			return pte_check_fail(ctx, SCAN_EXCEED_SHARED_PTE);
	}
	return PTE_CHECK_SUCCEED;
}

static bool compound_pagelist_has(struct compound_pagelist *cl, struct folio *folio)
{
	for (unsigned i = 0; i < cl->nr; i++)
		if (cl->f[i] == folio)
			return true;
	return false;
}

/* models __collapse_huge_page_isolate() */
static enum scan_result __collapse_huge_page_isolate(struct vm_area_struct *vma,
						     uint64_t start_addr, pte_t *pte,
						     struct collapse_control *cc,
						     struct compound_pagelist *cl)
{
	uint64_t addr = start_addr;
	pte_t *_pte;
	int referenced = 0;
	enum scan_result result = SCAN_FAIL;
	struct pte_check_context ctx = {
		.cc = cc,
		.vma = vma,
		.unmapped = -1,
		.max_ptes_none = collapse_max_ptes_none(cc, vma),
		.max_ptes_shared = collapse_max_ptes_shared(cc),
	};

	for (_pte = pte; _pte < pte + HPAGE_PMD_NR; _pte++, addr += PAGE_SIZE) {
		pte_t pteval = *_pte;
		enum pte_check_result check = collapse_check_pte(pteval, addr, &ctx);
		struct folio *folio = ctx.folio;

		if (check == PTE_CHECK_FAIL) {
			result = ctx.result;
			goto out;
		}
		if (check == PTE_CHECK_CONTINUE)
			continue;

		if (folio_test_large(folio) && compound_pagelist_has(cl, folio))
			goto next;

		if (!folio_trylock(folio)) {
			result = SCAN_PAGE_LOCK;
			goto out;
		}
		/* Any GUP pin or other extra reference blocks the collapse. */
		if (folio_expected_ref_count(folio) != folio_ref_count(folio)) {
			folio_unlock(folio);
			result = SCAN_PAGE_COUNT;
			goto out;
		}
		if (!folio_isolate_lru(folio)) {
			folio_unlock(folio);
			result = SCAN_DEL_PAGE_LRU;
			goto out;
		}
		if (folio_test_large(folio))
			cl->f[cl->nr++] = folio;
next:
		if (pte_is_referenced(cc, pteval, folio))
			referenced++;
	}

	if (cc->is_khugepaged && !referenced) {
		result = SCAN_LACK_REFERENCED_PAGE;
	} else {
		return SCAN_SUCCEED;
	}
out:
	release_pte_pages(pte, _pte, cl);
	return result;
}

/* models __collapse_huge_page_copy_succeeded()
 * The old PTEs go, with their rmap and references; the table is kept empty
 * for the deposit. The model's rmap helpers keep the RSS counters. */
static void __collapse_huge_page_copy_succeeded(pte_t *pte, struct vm_area_struct *vma,
						uint64_t address, struct compound_pagelist *cl)
{
	uint64_t end = address + HPAGE_PMD_SIZE;
	unsigned nr_ptes;

	for (pte_t *_pte = pte; _pte < pte + HPAGE_PMD_NR;
	     _pte += nr_ptes, address += nr_ptes * PAGE_SIZE) {
		pte_t pteval = *_pte;

		nr_ptes = 1;
		if (pte_none_or_zero(pteval)) {
			*_pte = __pte(0);
			continue;
		}
		struct page *src_page = pfn_to_page(pte_pfn(pteval));
		struct folio *src = page_folio(src_page);

		if (folio_test_large(src))
			nr_ptes = folio_pte_batch(src, _pte, pteval,
						  (unsigned)((end - address) >> PAGE_SHIFT));
		else
			release_pte_folio(src);
		for (unsigned i = 0; i < nr_ptes; i++)
			_pte[i] = __pte(0);
		folio_remove_rmap_ptes(src, src_page, (int)nr_ptes, vma);
		free_swap_cache(src);
		folio_put_refs(src, (int)nr_ptes);
	}
	for (unsigned i = 0; i < cl->nr; i++) {
		struct folio *src = cl->f[i];

		folio_unlock(src);
		free_swap_cache(src);
		folio_putback_lru(src);
	}
	cl->nr = 0;
}

/* models __collapse_huge_page_copy_failed(): the old table goes back */
static void __collapse_huge_page_copy_failed(pte_t *pte, pmd_t *pmd, pmd_t orig_pmd,
					     struct compound_pagelist *cl)
{
	*pmd = orig_pmd;
	release_pte_pages(pte, pte + HPAGE_PMD_NR, cl);
}

/* models __collapse_huge_page_copy()
 * The content tag is the data: none and zero entries give 0, a hwpoisoned
 * source is the machine check of copy_mc_user_highpage(). */
static enum scan_result __collapse_huge_page_copy(pte_t *pte, struct folio *folio, pmd_t *pmd,
						  pmd_t orig_pmd, struct vm_area_struct *vma,
						  uint64_t address, struct compound_pagelist *cl)
{
	enum scan_result result = SCAN_SUCCEED;

	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		pte_t pteval = pte[i];
		struct page *page = folio_page(folio, i);

		if (pte_none_or_zero(pteval)) {
			page->content = 0;
			continue;
		}
		struct page *src_page = pfn_to_page(pte_pfn(pteval));
		if (src_page->flags & PG_hwpoison) {
			result = SCAN_COPY_MC;
			break;
		}
		page->content = src_page->content;
	}
	if (result == SCAN_SUCCEED)
		__collapse_huge_page_copy_succeeded(pte, vma, address, cl);
	else
		__collapse_huge_page_copy_failed(pte, pmd, orig_pmd, cl);
	return result;
}

/* models hugepage_vma_revalidate() */
static enum scan_result hugepage_vma_revalidate(struct mm_struct *mm, uint64_t address,
						bool expect_anon, struct vm_area_struct **vmap,
						struct collapse_control *cc)
{
	struct vm_area_struct *vma;

	if (collapse_test_exit_or_disable(mm))
		return SCAN_ANY_PROCESS;
	*vmap = vma = find_vma(mm, address);
	if (!vma)
		return SCAN_VMA_NULL;
	if (!thp_vma_suitable_order(vma, address, HPAGE_PMD_ORDER))
		return SCAN_ADDRESS_RANGE;
	if (!thp_vma_allowable_order(vma, vma->vm_flags, !cc->is_khugepaged, HPAGE_PMD_ORDER))
		return SCAN_VMA_CHECK;
	/* The range may have been unmapped and remapped to a file meanwhile. */
	if (expect_anon && (!vma->anon_vma || !vma_is_anonymous(vma)))
		return SCAN_PAGE_ANON;
	return SCAN_SUCCEED;
}

/* models check_pmd_state() */
static enum scan_result check_pmd_state(pmd_t *pmd)
{
	pmd_t pmde = *pmd;

	if (pmd_none(pmde))
		return SCAN_NO_PTE_TABLE;
	/* A PMD under migration ends up PMD-mapped again either way. */
	if (is_pmd_migration_entry(pmde))
		return SCAN_PMD_MAPPED;
	if (!pmd_present(pmde))
		return SCAN_NO_PTE_TABLE;
	if (pmd_trans_huge(pmde))
		return SCAN_PMD_MAPPED;
	if (!pmd_is_table(pmde)) /* pmd_bad() */
		return SCAN_NO_PTE_TABLE;
	return SCAN_SUCCEED;
}

/* models find_pmd_or_thp_or_none() */
static enum scan_result find_pmd_or_thp_or_none(struct mm_struct *mm, uint64_t address, pmd_t **pmd)
{
	*pmd = mm_find_pmd(mm, address, false);
	if (!*pmd)
		return SCAN_NO_PTE_TABLE;
	return check_pmd_state(*pmd);
}

/* models check_pmd_still_valid() */
static enum scan_result check_pmd_still_valid(struct mm_struct *mm, uint64_t address, pmd_t *pmd)
{
	pmd_t *new_pmd;
	enum scan_result result = find_pmd_or_thp_or_none(mm, address, &new_pmd);

	if (result != SCAN_SUCCEED)
		return result;
	if (new_pmd != pmd)
		return SCAN_FAIL;
	return SCAN_SUCCEED;
}

/* models __collapse_huge_page_swapin()
 * The real fault path: whatever do_swap_page() restores (the uffd bit from
 * the swap PTE included) is what the isolate step then sees. */
static enum scan_result __collapse_huge_page_swapin(struct mm_struct *mm,
						    struct vm_area_struct *vma, uint64_t start_addr,
						    pmd_t *pmd, int referenced)
{
	for (uint64_t addr = start_addr; addr < start_addr + HPAGE_PMD_SIZE; addr += PAGE_SIZE) {
		pte_t *pte = pte_offset_map(pmd, addr);

		if (!pte)
			return SCAN_NO_PTE_TABLE;
		if (pte_none(*pte) || pte_present(*pte))
			continue;

		struct vm_fault vmf = {
			.vma = vma,
			.address = addr,
			.real_address = addr,
			.pgoff = linear_page_index(vma, addr),
			.flags = FAULT_FLAG_ALLOW_RETRY,
			.pmd = pmd,
			.pte = pte,
			.orig_pte = *pte,
		};
		vm_fault_t ret = do_swap_page(&vmf);

		/* No retry here: the swap entry would stay and fail later. */
		if (ret & VM_FAULT_RETRY)
			return SCAN_PAGE_LOCK;
		if (ret & VM_FAULT_ERROR)
			return SCAN_FAIL;
	}
	return SCAN_SUCCEED;
}

/* models alloc_charge_folio() (no memcg in the model) */
static enum scan_result alloc_charge_folio(struct folio **foliop, struct mm_struct *mm,
					   struct collapse_control *cc)
{
	*foliop = folio_alloc(HPAGE_PMD_ORDER);
	if (!*foliop)
		return SCAN_ALLOC_HUGE_PAGE_FAIL;
	return SCAN_SUCCEED;
}

/* models collapse_huge_page()
 * Entered with the mmap lock dropped (the allocation may reclaim), so the
 * VMA is looked up again after the race window. */
static enum scan_result collapse_huge_page(struct mm_struct *mm, uint64_t address, int referenced,
					   int unmapped, struct collapse_control *cc)
{
	struct compound_pagelist cl = { .nr = 0 };
	struct vm_area_struct *vma;
	struct folio *folio;
	pmd_t *pmd, _pmd;
	pte_t *pte;
	enum scan_result result;

	address &= HPAGE_PMD_MASK;
	result = alloc_charge_folio(&folio, mm, cc);
	if (result != SCAN_SUCCEED)
		goto out_nolock;

	race_window("collapse_huge_page:alloc");

	result = hugepage_vma_revalidate(mm, address, true, &vma, cc);
	if (result != SCAN_SUCCEED)
		goto out_nolock;
	result = find_pmd_or_thp_or_none(mm, address, &pmd);
	if (result != SCAN_SUCCEED)
		goto out_nolock;
	if (unmapped) {
		result = __collapse_huge_page_swapin(mm, vma, address, pmd, referenced);
		if (result != SCAN_SUCCEED)
			goto out_nolock;
	}

	/* mmap write lock from here: revalidate once more. */
	result = hugepage_vma_revalidate(mm, address, true, &vma, cc);
	if (result != SCAN_SUCCEED)
		goto out_nolock;
	result = check_pmd_still_valid(mm, address, pmd);
	if (result != SCAN_SUCCEED)
		goto out_nolock;

	/* pmdp_collapse_flush(): the table is detached while isolating. */
	_pmd = *pmd;
	*pmd = __pmd(0);

	pte = pte_offset_map(&_pmd, address);
	if (pte)
		result = __collapse_huge_page_isolate(vma, address, pte, cc, &cl);
	else
		result = SCAN_NO_PTE_TABLE;
	if (result != SCAN_SUCCEED) {
		*pmd = _pmd; /* pmd_populate(): the PTEs were not touched */
		goto out_nolock;
	}

	result = __collapse_huge_page_copy(pte, folio, pmd, _pmd, vma, address, &cl);
	if (result != SCAN_SUCCEED)
		goto out_nolock;

	folio_set_flag(folio, FOLIO_uptodate);
	pgtable_trans_huge_deposit(mm, address, pmd_pgtable(_pmd));
	map_anon_folio_pmd_nopf(folio, pmd, vma, address);
	folio = NULL;
	result = SCAN_SUCCEED;
out_nolock:
	if (folio)
		folio_put(folio);
	return result;
}

/* models collapse_scan_pmd() (hpage_collapse_scan_pmd() before v7) */
enum scan_result hpage_collapse_scan_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
					 uint64_t address, struct collapse_control *cc)
{
	struct pte_check_context ctx = {
		.cc = cc,
		.vma = vma,
		.max_ptes_none = collapse_max_ptes_none(cc, vma),
		.max_ptes_swap = collapse_max_ptes_swap(cc),
		.max_ptes_shared = collapse_max_ptes_shared(cc),
	};
	enum scan_result result;
	int referenced = 0;
	pmd_t *pmd;
	pte_t *pte;

	address &= HPAGE_PMD_MASK;
	result = find_pmd_or_thp_or_none(mm, address, &pmd);
	if (result != SCAN_SUCCEED)
		goto out;
	pte = pte_offset_map(pmd, address);
	if (!pte) {
		result = SCAN_NO_PTE_TABLE;
		goto out;
	}

	for (unsigned i = 0; i < HPAGE_PMD_NR; i++) {
		uint64_t addr = address + i * PAGE_SIZE;
		pte_t pteval = pte[i];
		enum pte_check_result check = collapse_check_pte(pteval, addr, &ctx);
		struct folio *folio = ctx.folio;

		if (check == PTE_CHECK_FAIL) {
			result = ctx.result;
			goto out;
		}
		if (check == PTE_CHECK_CONTINUE)
			continue;
		/* One node in the model: collapse_scan_abort() never fires. */
		if (!folio_test_lru(folio)) {
			result = SCAN_PAGE_LRU;
			goto out;
		}
		if (folio_test_locked(folio)) {
			result = SCAN_PAGE_LOCK;
			goto out;
		}
		if (folio_expected_ref_count(folio) != folio_ref_count(folio)) {
			result = SCAN_PAGE_COUNT;
			goto out;
		}
		if (pte_is_referenced(cc, pteval, folio))
			referenced++;
	}
	if (cc->is_khugepaged && (!referenced || (ctx.unmapped && referenced < HPAGE_PMD_NR / 2)))
		result = SCAN_LACK_REFERENCED_PAGE;
	else
		result = SCAN_SUCCEED;

	if (result == SCAN_SUCCEED) {
		collapse_dropped_mmap_lock = true;
		result = collapse_huge_page(mm, address, referenced, ctx.unmapped, cc);
	}
out:
	cc->last = result;
	return result;
}

/* models set_huge_pmd()
 * do_set_pmd() builds the PMD from vm_page_prot, not from the old PTEs. */
static enum scan_result set_huge_pmd(struct vm_area_struct *vma, uint64_t addr, pmd_t *pmdp,
				     struct folio *folio, struct page *page)
{
	struct vm_fault vmf = {
		.vma = vma,
		.address = addr,
		.real_address = addr,
		.pgoff = linear_page_index(vma, addr),
		.flags = 0,
	};

	if (!pmdp)
		pmdp = mm_find_pmd(vma->vm_mm, addr, true);
	if (!pmdp)
		return SCAN_FAIL;
	vmf.pmd = pmdp;
	if (do_set_pmd(&vmf, folio, page))
		return SCAN_FAIL;
	folio_get(folio); /* the PMD mapping's reference */
	return SCAN_SUCCEED;
}

/* models try_collapse_pte_mapped_thp()
 * Step 1 accepts any PTE that is none or maps the right subpage: protnone
 * and the uffd bit are not looked at, so the VMA-level check (hunk 08a) is
 * all that keeps armed RWP PTEs from being cleared here. */
static enum scan_result try_collapse_pte_mapped_thp(struct mm_struct *mm, uint64_t addr,
						    bool install_pmd)
{
	enum scan_result result;
	int nr_mapped_ptes = 0;
	uint64_t haddr = addr & HPAGE_PMD_MASK;
	uint64_t end = haddr + HPAGE_PMD_SIZE;
	struct vm_area_struct *vma = vma_lookup(mm, haddr);
	struct folio *folio;
	pte_t *start_pte, *pte;
	pmd_t *pmd;
	unsigned i, nr_batch_ptes;

	/* vma_lookup() found the VMA holding haddr: only its end can fall short. */
	if (!vma || !vma->vm_file || end > vma->vm_end)
		return SCAN_VMA_CHECK;

	result = find_pmd_or_thp_or_none(mm, haddr, &pmd);
	if (result == SCAN_PMD_MAPPED)
		return result;

	/* Faulting the folio in would map it by a PMD whatever sysfs says. */
	if (!thp_vma_allowable_order(vma, vma->vm_flags, true, HPAGE_PMD_ORDER))
		return SCAN_VMA_CHECK;

	/* Hunk 08a: keep the PTE table while the uffd bit is in use. */
	if (patch_hunk(HUNK_08A) ? userfaultfd_protected(vma) : userfaultfd_wp(vma))
		return SCAN_PTE_UFFD;

	folio = filemap_lock_folio(vma->vm_file, linear_page_index(vma, haddr));
	if (!folio)
		return SCAN_PAGE_NULL;
	if (folio_order(folio) != HPAGE_PMD_ORDER) {
		result = SCAN_PAGE_COMPOUND;
		goto drop_folio;
	}

	/* The kernel looks again after the folio lock, which may sleep; the
	 * model has no race window in between, so the PMD is still a table
	 * (SCAN_SUCCEED) or none, and a table always maps. */
	result = find_pmd_or_thp_or_none(mm, haddr, &pmd);
	if (result == SCAN_NO_PTE_TABLE)
		goto maybe_install_pmd;

	result = SCAN_FAIL;
	start_pte = pte_offset_map(pmd, haddr);

	/* step 1: check all mapped PTEs are to the right huge page */
	for (i = 0, addr = haddr, pte = start_pte; i < HPAGE_PMD_NR;
	     i++, addr += PAGE_SIZE, pte++) {
		pte_t ptent = *pte;

		if (pte_none(ptent))
			continue;
		if (!pte_present(ptent)) {
			result = SCAN_PTE_NON_PRESENT;
			goto drop_folio;
		}
		if (folio_page(folio, i) != vm_normal_page(vma, addr, ptent))
			goto drop_folio;
	}

	/* step 2: clear page table and adjust rmap
	 * The kernel re-checks each PTE here under the PTL; nothing runs
	 * between the two steps in the model, so step 1's checks still hold. */
	for (i = 0, addr = haddr, pte = start_pte; i < HPAGE_PMD_NR;
	     i += nr_batch_ptes, addr += nr_batch_ptes * PAGE_SIZE, pte += nr_batch_ptes) {
		pte_t ptent = *pte;
		struct page *page;

		nr_batch_ptes = 1;
		if (pte_none(ptent))
			continue;
		page = vm_normal_page(vma, addr, ptent);
		nr_batch_ptes =
			folio_pte_batch(folio, pte, ptent, (unsigned)((end - addr) >> PAGE_SHIFT));
		for (unsigned j = 0; j < nr_batch_ptes; j++)
			pte[j] = __pte(0);
		folio_remove_rmap_ptes(folio, page, (int)nr_batch_ptes, vma);
		nr_mapped_ptes += (int)nr_batch_ptes;
	}

	/* step 3: set proper refcount (the model's rmap keeps the counters) */
	if (nr_mapped_ptes)
		folio_put_refs(folio, nr_mapped_ptes);

	/* step 4: remove empty page table (pmdp_collapse_flush + pte_free_defer) */
	{
		uint64_t table = pmd_pgtable(*pmd);

		*pmd = __pmd(0);
		pt_free(table);
	}

maybe_install_pmd:
	/* step 5: install pmd entry */
	result = install_pmd ? set_huge_pmd(vma, haddr, pmd, folio, folio_page(folio, 0))
			     : SCAN_SUCCEED;
drop_folio:
	folio_unlock(folio);
	folio_put(folio);
	return result;
}

/* models collapse_pte_mapped_thp() */
enum scan_result collapse_pte_mapped_thp(struct mm_struct *mm, uint64_t addr, bool install_pmd)
{
	enum scan_result result = try_collapse_pte_mapped_thp(mm, addr, install_pmd);

	khugepaged_last_result = result;
	return result;
}

/* models file_backed_vma_is_retractable()
 * No VM_MAYBE_GUARD in the model: guard regions do not block a retract. */
bool file_backed_vma_is_retractable(struct vm_area_struct *vma)
{
	/* A written MAP_PRIVATE mapping may hold CoW anon pages in its PTEs. */
	if (vma->anon_vma)
		return false;
	/* Hunk 08b: the table may hold markers or per-PTE uffd state. */
	if (patch_hunk(HUNK_08B) ? userfaultfd_protected(vma) : userfaultfd_wp(vma))
		return false;
	return true;
}

/* models retract_page_tables()
 * No PTE is examined: collapse_file() unmapped them all, so a table freed
 * here with live PTEs is the modelled failure for the oracle to report. */
static void retract_page_tables(struct address_space *mapping, uint64_t pgoff)
{
	/* The i_mmap lock is held in the kernel: no VMA can leave meanwhile;
	 * walk a snapshot and skip any a race step unlinked. */
	g_autoptr(GPtrArray) snap = g_ptr_array_copy(mapping->i_mmap, NULL, NULL);

	for (guint v = 0; v < snap->len; v++) {
		struct vm_area_struct *vma = g_ptr_array_index(snap, v);
		struct mm_struct *mm;
		uint64_t addr, table;
		pmd_t *pmd;

		if (!g_ptr_array_find(mapping->i_mmap, vma, NULL))
			continue;
		if (pgoff < vma->vm_pgoff || pgoff >= vma->vm_pgoff + vma_pages(vma))
			continue;
		addr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
		if ((addr & ~HPAGE_PMD_MASK) || vma->vm_end < addr + HPAGE_PMD_SIZE)
			continue;

		mm = vma->vm_mm;
		if (find_pmd_or_thp_or_none(mm, addr, &pmd) != SCAN_SUCCEED)
			continue;
		if (collapse_test_exit(mm))
			continue;
		if (!file_backed_vma_is_retractable(vma))
			continue;

		/* Between the lockless check and pmd lock + PTL: a racing
		 * UFFDIO_REGISTER lands here (trace K2, race variant). */
		race_window("retract_page_tables:recheck");

		if (!g_ptr_array_find(mapping->i_mmap, vma, NULL))
			continue;
		pmd = mm_find_pmd(mm, addr, false);
		if (!pmd || check_pmd_state(pmd) != SCAN_SUCCEED)
			continue;
		if (!file_backed_vma_is_retractable(vma))
			continue;

		/* pmdp_collapse_flush() + pte_free_defer() */
		table = pmd_pgtable(*pmd);
		*pmd = __pmd(0);
		pt_free(table);
	}
}

/* The pagelist of collapse_file(): old folios, locked, pinned and isolated. */
struct collapse_pagelist {
	struct folio *f[HPAGE_PMD_NR];
	unsigned nr;
};

static bool page_cache_range_empty(struct address_space *mapping, uint64_t start, uint64_t end)
{
	for (uint64_t i = start; i < end; i++)
		if (mapping->i_pages[i])
			return false;
	return true;
}

/* models collapse_file() for shmem (no regular-file page cache in the model) */
static enum scan_result collapse_file(struct mm_struct *mm, uint64_t addr,
				      struct address_space *mapping, uint64_t start,
				      struct collapse_control *cc)
{
	struct collapse_pagelist pagelist = { .nr = 0 };
	uint64_t index, end = start + HPAGE_PMD_NR;
	struct folio *new_folio, *folio;
	enum scan_result result;
	int nr_none = 0;

	result = alloc_charge_folio(&new_folio, mm, cc);
	if (result != SCAN_SUCCEED)
		return result;
	folio_set_flag(new_folio, FOLIO_locked | FOLIO_swapbacked);
	folio_clear_flag(new_folio, FOLIO_uptodate);
	new_folio->index = start;
	new_folio->mapping = mapping;

	/* i_size is not looked at: the new folio may extend past it (shmem
	 * maps such folios whole, across i_size). A range wholly past the
	 * model's cache extent is all holes: truncated. */
	if (end > mapping->nr_slots) {
		result = SCAN_TRUNCATED;
		goto rollback;
	}

	for (index = start; index < end;) {
		uint64_t e = mapping->i_pages[index];

		if (!e) {
			/* Truncated or hole-punched, and now completely empty. */
			if (index == start && page_cache_range_empty(mapping, start, end)) {
				result = SCAN_TRUNCATED;
				break;
			}
			nr_none++;
			index++;
			continue;
		}
		folio = xa_is_value(e) ? NULL : pfn_folio(xa_to_pfn(e));
		if (!folio || !folio_test_uptodate(folio)) {
			/* swap in or instantiate fallocated page */
			if (shmem_get_folio(mapping, index, SGP_NOALLOC, &folio, NULL, NULL) ||
			    !folio) {
				result = SCAN_FAIL;
				break;
			}
			/* The kernel's shmem_get_folio() returns it locked and
			 * referenced; the model's returns it bare. */
			if (!folio_trylock(folio)) {
				result = SCAN_PAGE_LOCK;
				break;
			}
			folio_get(folio);
		} else if (folio_trylock(folio)) {
			folio_get(folio);
		} else {
			result = SCAN_PAGE_LOCK;
			break;
		}

		if (!folio_test_uptodate(folio))
			result = SCAN_FAIL;
		else if (folio_order(folio) == HPAGE_PMD_ORDER)
			/* A THP is already there (truncate-and-extend race). */
			result = SCAN_PTE_MAPPED_HUGEPAGE;
		else if (folio->mapping != mapping)
			result = SCAN_TRUNCATED;
		else if (!folio_isolate_lru(folio))
			result = SCAN_DEL_PAGE_LRU;
		if (result != SCAN_SUCCEED)
			goto out_unlock;

		if (folio_mapped(folio))
			try_to_unmap(folio, TTU_IGNORE_MLOCK | TTU_BATCH_FLUSH);

		/* Our pin, the isolation and the page cache: nothing else. */
		if (folio_ref_count(folio) != 2 + (int)folio_nr_pages(folio)) {
			result = SCAN_PAGE_COUNT;
			folio_putback_lru(folio);
			goto out_unlock;
		}
		pagelist.f[pagelist.nr++] = folio;
		index = folio->index + folio_nr_pages(folio);
		continue;
out_unlock:
		folio_unlock(folio);
		folio_put(folio);
		break;
	}

	if (result != SCAN_SUCCEED) {
		nr_none = 0;
		goto rollback;
	}

	/* Copy: the old folios are locked and will not change any more. */
	index = start;
	for (unsigned k = 0; k < pagelist.nr; k++) {
		folio = pagelist.f[k];
		for (; index < folio->index; index++)
			folio_page(new_folio, index - start)->content = 0;
		for (uint64_t i = 0; i < folio_nr_pages(folio); i++, index++) {
			if (folio_page(folio, i)->flags & PG_hwpoison) {
				result = SCAN_COPY_MC;
				goto rollback;
			}
			folio_page(new_folio, index - start)->content =
				folio_page(folio, i)->content;
		}
	}
	for (; index < end; index++)
		folio_page(new_folio, index - start)->content = 0;

	if (nr_none) {
		int nr_none_check = 0;

		/* The kernel stores XA_RETRY_ENTRY in the holes here; nothing
		 * runs in between in the model, so counting them is enough. */
		for (index = start; index < end; index++)
			if (!mapping->i_pages[index])
				nr_none_check++;
		if (nr_none != nr_none_check) {
			result = SCAN_PAGE_FILLED;
			goto rollback;
		}
		/* A MISSING registration may expect a fault for a hole;
		 * WP, MINOR and RWP ones do not care. */
		for (guint v = 0; v < mapping->i_mmap->len; v++) {
			struct vm_area_struct *vma = g_ptr_array_index(mapping->i_mmap, v);
			uint64_t first = vma->vm_pgoff, last = vma->vm_pgoff + vma_pages(vma);

			if (last <= start || first >= end)
				continue;
			if (userfaultfd_missing(vma)) {
				result = SCAN_EXCEED_NONE_PTE;
				goto rollback;
			}
		}
	}

	/* Join all the small entries into a single multi-index entry. */
	for (unsigned k = 0; k < pagelist.nr; k++)
		filemap_remove_folio(mapping, pagelist.f[k]);
	shmem_add_to_page_cache(mapping, new_folio, start);
	folio_put(new_folio); /* the allocation's reference is one of the cache's */
	folio_set_flag(new_folio, FOLIO_uptodate | FOLIO_dirty);

	/* Remove pte page tables, so we can re-fault the page as huge. */
	retract_page_tables(mapping, start);
	if (cc && !cc->is_khugepaged)
		result = SCAN_PTE_MAPPED_HUGEPAGE;
	folio_unlock(new_folio);

	/* Free the old folios: our pin and the isolation are left. */
	for (unsigned k = 0; k < pagelist.nr; k++) {
		folio = pagelist.f[k];
		folio_clear_flag(folio, FOLIO_isolated);
		folio_unlock(folio);
		folio_put_refs(folio, 2);
	}
	return result;

rollback:
	/* Unmapped old folios simply fault back in. */
	for (unsigned k = 0; k < pagelist.nr; k++) {
		folio = pagelist.f[k];
		folio_unlock(folio);
		folio_putback_lru(folio);
		folio_put(folio);
	}
	new_folio->mapping = NULL;
	folio_unlock(new_folio);
	folio_put(new_folio);
	return result;
}

/* models collapse_scan_file() (hpage_collapse_scan_file() before v7)
 * Only the page cache is looked at, never a PTE: the uffd protection of the
 * file path lives in collapse_file(), try_collapse_pte_mapped_thp() and
 * retract_page_tables(). */
enum scan_result hpage_collapse_scan_file(struct mm_struct *mm, uint64_t addr,
					  struct address_space *file, uint64_t start,
					  struct collapse_control *cc)
{
	struct address_space *mapping = file;
	const unsigned max_ptes_none = collapse_max_ptes_none(cc, NULL);
	const unsigned max_ptes_swap = collapse_max_ptes_swap(cc);
	enum scan_result result = SCAN_SUCCEED;
	unsigned present = 0, swap = 0;
	uint64_t end = start + HPAGE_PMD_NR;

	if (end > mapping->nr_slots)
		end = mapping->nr_slots;
	for (uint64_t index = start; index < end;) {
		uint64_t e = mapping->i_pages[index];
		struct folio *folio;

		if (!e) {
			index++;
			continue;
		}
		if (xa_is_value(e)) {
			if (++swap > max_ptes_swap) {
				result = SCAN_EXCEED_SWAP_PTE;
				break;
			}
			index++;
			continue;
		}
		folio = pfn_folio(xa_to_pfn(e));
		folio_get(folio); /* folio_try_get() */
		if (folio_order(folio) == HPAGE_PMD_ORDER) {
			/* Already a THP: only the PTE table can be retracted. */
			result = SCAN_PTE_MAPPED_HUGEPAGE;
			folio_put(folio);
			break;
		}
		if (!folio_test_lru(folio)) {
			result = SCAN_PAGE_LRU;
			folio_put(folio);
			break;
		}
		if (folio_expected_ref_count(folio) + 1 != folio_ref_count(folio)) {
			result = SCAN_PAGE_COUNT;
			folio_put(folio);
			break;
		}
		present += (unsigned)folio_nr_pages(folio);
		index = folio->index + folio_nr_pages(folio);
		folio_put(folio);
	}

	if (result == SCAN_SUCCEED) {
		if (present < HPAGE_PMD_NR - max_ptes_none)
			result = SCAN_EXCEED_NONE_PTE;
		else
			result = collapse_file(mm, addr, mapping, start, cc);
	}
	cc->last = result;
	return result;
}

/* models collapse_single_pmd() */
static enum scan_result collapse_single_pmd(uint64_t addr, struct vm_area_struct *vma,
					    bool *lock_dropped, struct collapse_control *cc)
{
	struct mm_struct *mm = vma->vm_mm;
	enum scan_result result;

	if (vma_is_anonymous(vma)) {
		collapse_dropped_mmap_lock = false;
		result = hpage_collapse_scan_pmd(mm, vma, addr, cc);
		if (collapse_dropped_mmap_lock)
			*lock_dropped = true;
		return result;
	}

	/* The file scan runs without the mmap lock. */
	*lock_dropped = true;
	result = hpage_collapse_scan_file(mm, addr, vma->vm_file, linear_page_index(vma, addr), cc);
	if (result == SCAN_PTE_MAPPED_HUGEPAGE) {
		if (collapse_test_exit_or_disable(mm))
			result = SCAN_ANY_PROCESS;
		else
			result = try_collapse_pte_mapped_thp(mm, addr, !cc->is_khugepaged);
		if (result == SCAN_PMD_MAPPED)
			result = SCAN_SUCCEED;
	}
	return result;
}

/* models khugepaged_scan_mm_slot() (collapse_scan_mm_slot() in v7)
 * One pass over the whole mm: the kernel's pages_to_scan budget and the
 * per-mm cursor across wakeups are not modelled, nor is khugepaged_enter:
 * every mm the trace names is scanned. The VMA is looked up again for each
 * range, as the kernel does after dropping the mmap lock. */
enum scan_result khugepaged_scan_mm(struct mm_struct *mm)
{
	struct collapse_control cc = { .is_khugepaged = true, .last = SCAN_FAIL };
	enum scan_result result = SCAN_FAIL;
	uint64_t addr = 0;
	struct vm_area_struct *vma;

	while (!collapse_test_exit_or_disable(mm) && (vma = find_vma(mm, addr))) {
		uint64_t hstart = (vma->vm_start + HPAGE_PMD_SIZE - 1) & HPAGE_PMD_MASK;
		uint64_t hend = vma->vm_end & HPAGE_PMD_MASK;
		bool lock_dropped = false;

		if (!thp_vma_allowable_order(vma, vma->vm_flags, false, HPAGE_PMD_ORDER)) {
			addr = vma->vm_end;
			continue;
		}
		if (addr < hstart)
			addr = hstart;
		if (addr >= hend) {
			addr = vma->vm_end;
			continue;
		}
		result = collapse_single_pmd(addr, vma, &lock_dropped, &cc);
		addr += HPAGE_PMD_SIZE;
	}
	khugepaged_last_result = result;
	return result;
}

/* models khugepaged_scan_mm_slot() restricted to the PMD range of one address */
enum scan_result khugepaged_scan_address(struct mm_struct *mm, uint64_t addr)
{
	struct collapse_control cc = { .is_khugepaged = true, .last = SCAN_FAIL };
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	uint64_t haddr = addr & HPAGE_PMD_MASK;
	enum scan_result result;
	bool lock_dropped = false;

	if (collapse_test_exit_or_disable(mm))
		result = SCAN_ANY_PROCESS;
	else if (!vma)
		result = SCAN_VMA_NULL;
	else if (!thp_vma_allowable_order(vma, vma->vm_flags, false, HPAGE_PMD_ORDER))
		result = SCAN_VMA_CHECK;
	else if (haddr < vma->vm_start || haddr + HPAGE_PMD_SIZE > vma->vm_end)
		result = SCAN_ADDRESS_RANGE;
	else
		result = collapse_single_pmd(haddr, vma, &lock_dropped, &cc);
	khugepaged_last_result = result;
	return result;
}

/* models madvise_collapse_errno() */
static long madvise_collapse_errno(enum scan_result r)
{
	/* MADV_COLLAPSE tells the caller what kind of failure it was. */
	switch (r) {
	case SCAN_ALLOC_HUGE_PAGE_FAIL:
		return -ENOMEM;
	case SCAN_CGROUP_CHARGE_FAIL:
	case SCAN_EXCEED_NONE_PTE:
		return -EBUSY;
	case SCAN_PAGE_COUNT:
	case SCAN_PAGE_LOCK:
	case SCAN_PAGE_LRU:
	case SCAN_DEL_PAGE_LRU:
	case SCAN_PAGE_FILLED:
	case SCAN_PAGE_HAS_PRIVATE:
	case SCAN_PAGE_DIRTY_OR_WRITEBACK:
		return -EAGAIN;
	default:
		return -EINVAL;
	}
}

/* models madvise_collapse() */
long madvise_collapse(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	struct collapse_control cc = { .is_khugepaged = false, .last = SCAN_FAIL };
	struct mm_struct *mm = vma->vm_mm;
	enum scan_result last_fail = SCAN_FAIL;
	uint64_t hstart, hend, addr;
	bool mmap_unlocked = false;
	uint64_t thps = 0;

	if (!thp_vma_allowable_order(vma, vma->vm_flags, true, HPAGE_PMD_ORDER))
		return -EINVAL;

	hstart = (start + HPAGE_PMD_SIZE - 1) & HPAGE_PMD_MASK;
	hend = end & HPAGE_PMD_MASK;
	/* No early return for an empty range: a range that holds no whole
	 * PMD ends with hend - hstart as computed below, 0 (ok) when the
	 * range meets a PMD boundary, else a huge unsigned count that no
	 * thps matches, so -EINVAL (the running 6.18 kernel agrees: a range
	 * inside one PMD is EINVAL, one straddling a boundary ok). */

	for (addr = hstart; addr < hend; addr += HPAGE_PMD_SIZE) {
		enum scan_result result;

		if (mmap_unlocked) {
			mmap_unlocked = false;
			result = hugepage_vma_revalidate(mm, addr, false, &vma, &cc);
			if (result != SCAN_SUCCEED) {
				khugepaged_last_result = last_fail = result;
				goto out;
			}
			if (hend > (vma->vm_end & HPAGE_PMD_MASK))
				hend = vma->vm_end & HPAGE_PMD_MASK;
		}

		result = collapse_single_pmd(addr, vma, &mmap_unlocked, &cc);
		khugepaged_last_result = result;

		switch (result) {
		case SCAN_SUCCEED:
		case SCAN_PMD_MAPPED:
			++thps;
			break;
		/* Whitelisted set of results where continuing OK */
		case SCAN_NO_PTE_TABLE:
		case SCAN_PTE_NON_PRESENT:
		case SCAN_PTE_UFFD:
		case SCAN_LACK_REFERENCED_PAGE:
		case SCAN_PAGE_NULL:
		case SCAN_PAGE_COUNT:
		case SCAN_PAGE_LOCK:
		case SCAN_PAGE_COMPOUND:
		case SCAN_PAGE_LRU:
		case SCAN_DEL_PAGE_LRU:
			last_fail = result;
			break;
		default:
			last_fail = result;
			goto out;
		}
	}
out:
	return thps == ((hend - hstart) >> PMD_SHIFT) ? 0 : madvise_collapse_errno(last_fail);
}
