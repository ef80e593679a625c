/* sim/fs/proc/task_mmu.c - /proc/pid/pagemap and PAGEMAP_SCAN
 * (fs/proc/task_mmu.c) with RWP 11/15: PAGE_IS_ACCESSED, WRITTEN narrowed to
 * WP VMAs, and bit 57 = the uffd bit in either mode. PAGEMAP_SCAN includes
 * its write-protect side (PM_SCAN_WP_MATCHING, PM_SCAN_CHECK_WPASYNC).
 *
 * Kernel followed: fs/proc/task_mmu.c of v6.18 with the pre-existing
 * pagemap fixes and RWP v6 11/15 (pte_none reports WRITTEN in WP VMAs, the
 * WRITTEN fast path is gated on userfaultfd_wp()).
 */
#include "linux/pagemap_uapi.h"
#include "mm/internal.h"
#include "patch.h"
#include "sched.h"

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
		/* Every non-present entry, markers included, reads as swap; a
		 * device-exclusive entry too, though it still maps its page. A
		 * PFN swap entry reports the bare PFN as its offset (no
		 * migration young/dirty bits). */
		flags |= PM_SWAP;
		if (!is_pte_marker_entry(e))
			frame = swp_type(e) |
				((is_pfn_swap_entry(e) ? swp_offset_pfn(e) : swp_offset(e)) << 5);
	}
	return flags | (frame & PM_PFRAME_MASK);
}

/* models pagemap_page_category() for one PTE inside a page table */
static uint64_t pagemap_page_category(struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	bool wp = userfaultfd_wp(vma), rwp = userfaultfd_rwp(vma);
	/* 6.18 reports WRITTEN for any entry without the bit, whatever the
	 * VMA; 11/15 narrows it to WP VMAs (the bit means RWP elsewhere). */
	bool written = wp || !kernel_has_rwp();
	uint64_t cat = 0;

	if (pte_none(pte))
		/* Not write-protected: "written" (in any VMA on 6.18, as the
		 * host shows; the series keeps it to WP VMAs: RWP has no
		 * marker, so a none PTE is not part of its working set). */
		return written ? PAGE_IS_WRITTEN : 0;
	if (pte_present(pte)) {
		cat |= PAGE_IS_PRESENT;
		struct page *page = vm_normal_page(vma, addr, pte);
		if (page && !folio_test_anon(page_folio(page)))
			cat |= PAGE_IS_FILE;
		if (is_zero_pfn(pte_pfn(pte)))
			cat |= PAGE_IS_PFNZERO;
		if (pte_soft_dirty(pte))
			cat |= PAGE_IS_SOFT_DIRTY;
		if (written && !pte_uffd(pte))
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
	if (written && !pte_swp_uffd_any(pte))
		cat |= PAGE_IS_WRITTEN;
	if (rwp && !pte_swp_uffd_any(pte))
		cat |= PAGE_IS_ACCESSED;
	return cat;
}

/* models pagemap_thp_category(): a PMD leaf or a PMD migration entry */
static uint64_t pagemap_thp_category(struct vm_area_struct *vma, pmd_t pmd)
{
	bool wp = userfaultfd_wp(vma), rwp = userfaultfd_rwp(vma);
	bool written = wp || !kernel_has_rwp(); /* as pagemap_page_category() */
	uint64_t cat = PAGE_IS_HUGE;

	if (pmd_present(pmd)) {
		cat |= PAGE_IS_PRESENT;
		if (!vma_is_anonymous(vma))
			cat |= PAGE_IS_FILE;
		if (is_huge_zero_pfn(pmd_pfn(pmd)))
			cat |= PAGE_IS_PFNZERO;
		if (pmd_val(pmd) & _PAGE_SOFT_DIRTY)
			cat |= PAGE_IS_SOFT_DIRTY;
		if (written && !pmd_uffd(pmd))
			cat |= PAGE_IS_WRITTEN;
		if (rwp && !pmd_uffd(pmd))
			cat |= PAGE_IS_ACCESSED;
		return cat;
	}
	cat |= PAGE_IS_SWAPPED;
	if (pmd_swp_soft_dirty(pmd))
		cat |= PAGE_IS_SOFT_DIRTY;
	if (written && !pmd_swp_uffd(pmd))
		cat |= PAGE_IS_WRITTEN;
	if (rwp && !pmd_swp_uffd(pmd))
		cat |= PAGE_IS_ACCESSED;
	return cat;
}

/* The state of one PAGEMAP_SCAN (struct pagemap_scan_private). */
struct pagemap_scan_private {
	const struct pm_scan_arg *arg;
	uint64_t cur_vma_category;
	uint64_t found_pages;
	GArray *out;
	/* The run of pages write-protected and not yet reported to the event
	 * log, in one VMA (the oracle learns WP_MATCHING as EV_UFFD_WP, the
	 * event UFFDIO_WRITEPROTECT gives). */
	struct vm_area_struct *wp_vma;
	uint64_t wp_start, wp_end;
};

static void pagemap_scan_wp_flush(struct pagemap_scan_private *p)
{
	if (p->wp_vma && p->wp_end > p->wp_start)
		mm_event_emit((struct mm_event){ .kind = EV_UFFD_WP,
						 .mm_id = p->wp_vma->vm_mm->id,
						 .address = p->wp_start,
						 .len = p->wp_end - p->wp_start,
						 .ctx_id = p->wp_vma->vm_userfaultfd_ctx->id,
						 .mode = UFFDIO_WRITEPROTECT_MODE_WP });
	p->wp_vma = NULL;
	p->wp_start = p->wp_end = 0;
}

static void pagemap_scan_wp_done(struct pagemap_scan_private *p, struct vm_area_struct *vma,
				 uint64_t start, uint64_t end)
{
	if (p->wp_vma != vma || p->wp_end != start) {
		pagemap_scan_wp_flush(p);
		p->wp_vma = vma;
		p->wp_start = start;
	}
	p->wp_end = end;
}

/* models make_uffd_wp_pte() */
static void make_uffd_wp_pte(struct vm_area_struct *vma, uint64_t addr, pte_t *ptep)
{
	pte_t ptent = *ptep;

	if (pte_present(ptent))
		/* ptep_modify_prot_start/commit: keeps A/D; pte_mkuffd() also
		 * write-protects. */
		*ptep = pte_mkuffd(ptent);
	else if (pte_none(ptent))
		*ptep = make_pte_marker(PTE_MARKER_UFFD_WP);
	else
		*ptep = pte_swp_mkuffd(ptent);
	(void)vma;
	(void)addr;
}

/* models make_uffd_wp_pmd() */
static void make_uffd_wp_pmd(struct vm_area_struct *vma, uint64_t addr, pmd_t *pmdp)
{
	pmd_t pmd = *pmdp;

	if (pmd_present(pmd))
		*pmdp = pmd_mkuffd(pmd); /* pmdp_invalidate_ad() + set_pmd_at() */
	else if (is_pmd_migration_entry(pmd))
		*pmdp = pmd_swp_mkuffd(pmd);
	(void)vma;
	(void)addr;
}

/* models pagemap_scan_is_interesting_page() */
static bool pagemap_scan_is_interesting_page(uint64_t cat, const struct pagemap_scan_private *p)
{
	cat ^= p->arg->category_inverted;
	if ((cat & p->arg->category_mask) != p->arg->category_mask)
		return false;
	if (p->arg->category_anyof_mask && !(cat & p->arg->category_anyof_mask))
		return false;
	return true;
}

/* models pagemap_scan_is_interesting_vma() */
static bool pagemap_scan_is_interesting_vma(uint64_t cat, const struct pagemap_scan_private *p)
{
	uint64_t required = p->arg->category_mask & PAGE_IS_WPALLOWED;

	cat ^= p->arg->category_inverted;
	return (cat & required) == required;
}

/* models pagemap_scan_test_walk(): 0 walk the VMA, 1 skip it, -EPERM */
static int pagemap_scan_test_walk(struct pagemap_scan_private *p, struct vm_area_struct *vma)
{
	/* RWP VMAs are never WP-allowed: userfaultfd_wp_use_markers() needs
	 * VM_UFFD_WP (rwp-series §3.10). */
	bool wp_allowed = userfaultfd_wp_async(vma) && userfaultfd_wp_use_markers(vma);
	uint64_t vma_category = 0;

	if (!wp_allowed) {
		/* The user asked to fail rather than skip. */
		if (p->arg->flags & PM_SCAN_CHECK_WPASYNC)
			return -EPERM;
		/* Write-protecting: silently skip what cannot be. */
		if (p->arg->flags & PM_SCAN_WP_MATCHING)
			return 1;
	}
	if (vma->vm_flags & VM_PFNMAP)
		return 1;
	if (wp_allowed)
		vma_category |= PAGE_IS_WPALLOWED;
	/* VM_SOFTDIRTY is not modelled. */
	if (!pagemap_scan_is_interesting_vma(vma_category, p))
		return 1;
	p->cur_vma_category = vma_category;
	return 0;
}

/* models pagemap_scan_output(): report [addr, *end) unless max_pages is
 * reached (then *end is cut back and -ENOSPC ends the walk) */
static int pagemap_scan_output(struct pagemap_scan_private *p, uint64_t addr, uint64_t *end)
{
	uint64_t n = (*end - addr) >> PAGE_SHIFT, max = p->arg->max_pages;
	int ret = 0;

	if (max && p->found_pages + n > max) {
		n = max - p->found_pages;
		*end = addr + (n << PAGE_SHIFT);
		ret = -ENOSPC;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = addr + (i << PAGE_SHIFT);
		g_array_append_val(p->out, a);
	}
	p->found_pages += n;
	return ret;
}

/* models pagemap_scan_backout_range(): take back what a THP reported
 * before it was split */
static void pagemap_scan_backout_range(struct pagemap_scan_private *p, uint64_t addr, uint64_t end)
{
	uint64_t n = (end - addr) >> PAGE_SHIFT;

	g_array_set_size(p->out, p->out->len - (guint)n);
	p->found_pages -= n;
}

/* models pagemap_scan_thp_entry(): -ENOENT when the PMD is not (or no
 * longer) a leaf, and the caller walks its PTEs */
static int pagemap_scan_thp_entry(struct pagemap_scan_private *p, struct vm_area_struct *vma,
				  pmd_t *pmd, uint64_t start, uint64_t end)
{
	uint64_t cat;
	int ret;

	if (!pmd_trans_huge(*pmd) && !is_pmd_migration_entry(*pmd))
		return -ENOENT;
	cat = p->cur_vma_category | pagemap_thp_category(vma, *pmd);
	if (!pagemap_scan_is_interesting_page(cat, p))
		return 0;
	ret = pagemap_scan_output(p, start, &end);
	if (start == end)
		return ret;
	if (!(p->arg->flags & PM_SCAN_WP_MATCHING) || !(cat & PAGE_IS_WRITTEN))
		return ret;
	/* Only part of the huge page is to be protected: split it and report
	 * it again as PTEs. */
	if (end != start + HPAGE_PMD_SIZE) {
		__split_huge_pmd(vma, pmd, start, false);
		pagemap_scan_backout_range(p, start, end);
		return -ENOENT;
	}
	make_uffd_wp_pmd(vma, start, pmd);
	pagemap_scan_wp_done(p, vma, start, end);
	return ret;
}

/* models pagemap_scan_pmd_entry() (the WRITTEN fast path reports and
 * protects the same pages as the general loop; there is no user-less
 * WP-only fast path, as the model always returns the pages) */
static int pagemap_scan_pmd_entry(struct pagemap_scan_private *p, struct vm_area_struct *vma,
				  pmd_t *pmd, uint64_t start, uint64_t end)
{
	int ret = pagemap_scan_thp_entry(p, vma, pmd, start, end);
	pte_t *ptep;

	if (ret != -ENOENT)
		return ret;
	ret = 0;
	ptep = pte_offset_map(pmd, start);
	if (!ptep)
		return 1; /* ACTION_AGAIN: a split left no table, walk it again */
	for (uint64_t addr = start; addr != end; ptep++, addr += PAGE_SIZE) {
		uint64_t cat = p->cur_vma_category | pagemap_page_category(vma, addr, *ptep);
		uint64_t next = addr + PAGE_SIZE;

		if (!pagemap_scan_is_interesting_page(cat, p))
			continue;
		ret = pagemap_scan_output(p, addr, &next);
		if (next == addr)
			break;
		if (!(p->arg->flags & PM_SCAN_WP_MATCHING) || !(cat & PAGE_IS_WRITTEN))
			continue;
		make_uffd_wp_pte(vma, addr, ptep);
		pagemap_scan_wp_done(p, vma, addr, next);
	}
	return ret;
}

/* models pagemap_scan_pte_hole(): no page table at all; the VMA's own
 * categories apply, and WP_MATCHING goes through uffd_wp_range(), which
 * populates the tables and installs markers. With the 2026 stable fix
 * "the anon-THP PMD-hole case" (Kiryl Shutsemau, follow-up to the pte_none
 * fix) a hole in a uffd-wp VMA reads as WRITTEN, like a none PTE; Linux
 * 6.18.44 has it (tools/conformance, traces/paths/pagemap-scan-wp-matching-shmem). */
static int pagemap_scan_pte_hole(struct pagemap_scan_private *p, struct vm_area_struct *vma,
				 uint64_t addr, uint64_t end)
{
	int ret;
	uint64_t cat = p->cur_vma_category;

	if (userfaultfd_wp(vma))
		cat |= PAGE_IS_WRITTEN;
	if (!pagemap_scan_is_interesting_page(cat, p))
		return 0;
	ret = pagemap_scan_output(p, addr, &end);
	if (addr == end || !(p->arg->flags & PM_SCAN_WP_MATCHING))
		return ret;
	long err = uffd_wp_range(vma, addr, end - addr, true);
	if (err < 0)
		return (int)err;
	pagemap_scan_wp_done(p, vma, addr, end);
	return ret;
}

/* models walk_page_range() over one VMA with pagemap_scan_ops */
static int pagemap_scan_walk_vma(struct pagemap_scan_private *p, struct vm_area_struct *vma,
				 uint64_t start, uint64_t end)
{
	struct mm_struct *mm = vma->vm_mm;
	int ret = 0;

	for (uint64_t addr = start, next; addr < end && !ret; addr = next) {
		next = pmd_addr_end(addr, end);
		pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);

		if (!pmd || pmd_none(*pmd)) {
			ret = pagemap_scan_pte_hole(p, vma, addr, next);
			continue;
		}
		ret = pagemap_scan_pmd_entry(p, vma, pmd, addr, next);
		/* ACTION_AGAIN: splitting a file PMD zaps it, so the range is a
		 * hole now. */
		if (ret == 1)
			ret = pmd_none(*pmd) ? pagemap_scan_pte_hole(p, vma, addr, next) : 0;
	}
	return ret;
}

/* models pagemap_scan_get_args() (no user pointers to check) */
static int pagemap_scan_get_args(const struct pm_scan_arg *arg)
{
	if (arg->flags & ~PM_SCAN_FLAGS)
		return -EINVAL;
	/* 6.18 has no PAGE_IS_ACCESSED (RWP 11/15 adds it). */
	uint64_t known =
		kernel_has_rwp() ? PM_SCAN_CATEGORIES : PM_SCAN_CATEGORIES & ~PAGE_IS_ACCESSED;
	if ((arg->category_inverted | arg->category_mask | arg->category_anyof_mask |
	     arg->return_mask) &
	    ~known)
		return -EINVAL;
	if ((arg->start & ~PAGE_MASK) || arg->end < arg->start)
		return -EINVAL;
	/* An empty return_mask is valid: the matching pages are still
	 * reported, as ranges whose categories are 0 (pagemap_scan_output()
	 * masks them with return_mask). */
	return 0;
}

/* models do_pagemap_scan(): returns the number of pages reported (the
 * kernel returns the number of page_region ranges) or -errno. A VMA that
 * fails PM_SCAN_CHECK_WPASYNC ends the scan with -EPERM after the VMAs
 * before it were scanned (and write-protected). */
long do_pagemap_scan(struct mm_struct *mm, const struct pm_scan_arg *arg, GArray *out)
{
	struct pagemap_scan_private p = { .arg = arg, .out = out };
	uint64_t end = (arg->end + PAGE_SIZE - 1) & PAGE_MASK;
	int ret = pagemap_scan_get_args(arg);

	if (ret)
		return ret;
	for (uint64_t addr = arg->start; addr < end && !ret;) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		/* Gaps between VMAs are pte holes without a VMA: ignored. */
		if (!vma || vma->vm_start >= end)
			break;
		uint64_t s = MAX(addr, vma->vm_start), e = MIN(end, vma->vm_end);
		int t = pagemap_scan_test_walk(&p, vma);

		if (t < 0)
			ret = t;
		else if (!t)
			ret = pagemap_scan_walk_vma(&p, vma, s, e);
		pagemap_scan_wp_flush(&p);
		addr = e;
	}
	/* -ENOSPC is the early stop at max_pages. */
	if (ret && ret != -ENOSPC)
		return ret;
	return (long)p.found_pages;
}

/* PAGEMAP_SCAN without flags: the form the expectations use. */
long pagemap_scan(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t category_mask,
		  uint64_t category_inverted, uint64_t category_anyof_mask, uint64_t return_mask,
		  uint64_t max_pages, GArray *out)
{
	const struct pm_scan_arg arg = { .start = start,
					 .end = end,
					 .category_mask = category_mask,
					 .category_inverted = category_inverted,
					 .category_anyof_mask = category_anyof_mask,
					 .return_mask = return_mask,
					 .max_pages = max_pages };

	return do_pagemap_scan(mm, &arg, out);
}
