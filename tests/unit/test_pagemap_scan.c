/* tests/unit/test_pagemap_scan.c - /proc/pid/pagemap words (bits 63, 62,
 * 57, 56) and PAGEMAP_SCAN categories with RWP 11/15: ACCESSED only in RWP
 * VMAs for entries without the uffd bit, WRITTEN only in WP VMAs, pte_none
 * neither in RWP VMAs; inverted and anyof masks; max_pages
 * (rwp-series.md §3.10). The write-protect side: PM_SCAN_WP_MATCHING per
 * entry kind, THP whole or split, holes, bounded by what is reported;
 * PM_SCAN_CHECK_WPASYNC and the VMAs that are not WP-allowed (RWP ones
 * included); unknown flags.
 */
#include <inttypes.h>

#include "mmsim_test.h"
#include "linux/pagemap_uapi.h"

#define NPAGES 8

/* Page i of the region is in state i:
 * 0 present, 1 present+uffd (armed in RWP / wp in WP), 2 swap, 3 swap+uffd,
 * 4 pte_none with a table, 5 zero page, 6 present, 7 present. */
enum { P_PRESENT, P_UFFD, P_SWAP, P_SWAP_UFFD, P_NONE, P_ZERO };

static uint64_t slots[NPAGES];

static uint64_t build_region(vm_flags_t mode)
{
	uint64_t base = t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
	t_write_pages(t_proc.mm, base, NPAGES, 0x42);
	assert_int_equal(user_access(t_proc.mm, base + P_ZERO * PAGE_SIZE, false, 0, NULL), 0);
	if (mode)
		t_register_ctx(vma, mode,
			       mode == VM_UFFD_WP
				       ? UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC |
						 UFFD_FEATURE_WP_UNPOPULATED
				       : UFFD_FEATURE_RWP);
	for (unsigned i = P_UFFD; i <= P_ZERO; i++) {
		uint64_t a = base + i * PAGE_SIZE;
		pte_t *p = t_ptep(t_proc.mm, a);
		if (i == P_UFFD) {
			*p = mode == VM_UFFD_RWP ? pte_mkuffd(pte_modify(*p, PAGE_NONE))
						 : pte_mkuffd(*p);
			continue;
		}
		/* Drop the page: zap, then put a swap entry or the zero page. */
		zap_page_range_single(vma, a, a + PAGE_SIZE, true);
		if (i == P_SWAP || i == P_SWAP_UFFD) {
			slots[i] = swap_alloc_slot();
			pte_t swp = swp_entry_to_pte(swp_entry(0, slots[i]));
			*p = i == P_SWAP_UFFD ? pte_swp_mkuffd(swp) : swp;
			t_proc.mm->nr_swapents++;
		} else if (i == P_ZERO) {
			*p = pte_mkspecial(pfn_pte(mem_map.zero_pfn, vma->vm_page_prot));
		}
	}
	return base;
}

/* pagemap_read_word: present (63), swap (62), the uffd bit (57) in either
 * mode, exclusive (56), and the PFN or swap type/offset. */
static void pagemap_word_reports_present_swap_uffd_and_exclusive_bits(void **state)
{
	uint64_t base = build_region(VM_UFFD_RWP);
	for (unsigned i = 0; i < NPAGES; i++) {
		uint64_t a = base + i * PAGE_SIZE, w = pagemap_read_word(t_proc.mm, a), want;
		pte_t pte = *t_ptep(t_proc.mm, a);
		switch (i) {
		case P_UFFD:
			want = PM_PRESENT | PM_UFFD_WP | PM_MMAP_EXCLUSIVE | pte_pfn(pte);
			break;
		case P_SWAP:
		case P_SWAP_UFFD:
			want = PM_SWAP | (i == P_SWAP_UFFD ? PM_UFFD_WP : 0) | (slots[i] << 5);
			break;
		case P_NONE:
			want = 0;
			break;
		case P_ZERO:
			want = PM_PRESENT | mem_map.zero_pfn;
			break;
		default:
			want = PM_PRESENT | PM_MMAP_EXCLUSIVE | pte_pfn(pte);
		}
		/* Soft-dirty is covered by its own test below. */
		w &= ~PM_SOFT_DIRTY;
		if (w != want)
			fail_msg("page %u: 0x%016" PRIx64 ", expected 0x%016" PRIx64, i, w, want);
	}
	/* Outside any VMA. */
	assert_int_equal(pagemap_read_word(t_proc.mm, base + NPAGES * PAGE_SIZE), 0);
}

/* A shmem page is PM_FILE; a page mapped twice is not exclusive. */
static void pagemap_word_marks_file_pages_and_shared_mappings(void **state)
{
	t_proc.file = shmem_file_alloc("f", 4, false);
	uint64_t a =
		t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	uint64_t b =
		t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	t_write_pages(t_proc.mm, a, 2, 1);
	uint64_t pfn = pte_pfn(t_pte(t_proc.mm, a));
	assert_int_equal(pagemap_read_word(t_proc.mm, a) & ~PM_SOFT_DIRTY,
			 PM_PRESENT | PM_FILE | PM_MMAP_EXCLUSIVE | pfn);
	assert_int_equal(user_access(t_proc.mm, b, false, 0, NULL), 0);
	assert_int_equal(pagemap_read_word(t_proc.mm, a) & ~PM_SOFT_DIRTY,
			 PM_PRESENT | PM_FILE | pfn);
	assert_int_equal(pagemap_read_word(t_proc.mm, b) & ~PM_SOFT_DIRTY,
			 PM_PRESENT | PM_FILE | pfn);
}

/* Bit 55 and PAGE_IS_SOFT_DIRTY read the same PTE bit and must agree. */
static void pagemap_soft_dirty_bit_agrees_with_the_scan_category(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(t_proc.mm, base, 1, 1);
	assert_true(pte_soft_dirty(t_pte(t_proc.mm, base)));
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	assert_int_equal(pagemap_scan(t_proc.mm, base, base + PAGE_SIZE, PAGE_IS_SOFT_DIRTY, 0, 0,
				      PAGE_IS_SOFT_DIRTY, 0, out),
			 1);
	assert_true(pagemap_read_word(t_proc.mm, base) & PM_SOFT_DIRTY);
}

static uint64_t scan_set(uint64_t base, uint64_t mask, uint64_t inverted, uint64_t anyof,
			 uint64_t ret, uint64_t max)
{
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	long n = pagemap_scan(t_proc.mm, base, base + NPAGES * PAGE_SIZE, mask, inverted, anyof,
			      ret, max, out);
	assert_true(n >= 0);
	assert_int_equal((guint)n, out->len);
	uint64_t set = 0;
	for (guint i = 0; i < out->len; i++)
		set |= 1ULL << ((g_array_index(out, uint64_t, i) - base) >> PAGE_SHIFT);
	return set;
}

#define B(i) (1ULL << (i))

/* The category of every entry kind in plain, WP and RWP VMAs, one
 * category at a time (bitmask of matching pages 0..7). */
static void scan_categories_per_entry_kind_and_vma_mode(void **state)
{
	const uint64_t present = B(0) | B(1) | B(5) | B(6) | B(7);
	const uint64_t swapped = B(2) | B(3);
	const uint64_t plain = B(0) | B(6) | B(7) | B(5);
	static const struct {
		const char *name;
		vm_flags_t mode;
		uint64_t cat;
		uint64_t pages;
	} rows[] = {
		{ "plain ACCESSED", 0, PAGE_IS_ACCESSED, 0 },
		{ "plain WRITTEN", 0, PAGE_IS_WRITTEN, 0 },
		{ "plain WPALLOWED", 0, PAGE_IS_WPALLOWED, 0 },
		{ "wp ACCESSED", VM_UFFD_WP, PAGE_IS_ACCESSED, 0 },
		{ "wp WRITTEN", VM_UFFD_WP, PAGE_IS_WRITTEN,
		  B(0) | B(2) | B(4) | B(5) | B(6) | B(7) },
		{ "wp WPALLOWED", VM_UFFD_WP, PAGE_IS_WPALLOWED, 0xff },
		{ "rwp ACCESSED", VM_UFFD_RWP, PAGE_IS_ACCESSED, plain | B(2) },
		{ "rwp WRITTEN", VM_UFFD_RWP, PAGE_IS_WRITTEN, 0 },
		{ "rwp WPALLOWED", VM_UFFD_RWP, PAGE_IS_WPALLOWED, 0 },
		{ "rwp PRESENT", VM_UFFD_RWP, PAGE_IS_PRESENT, present },
		{ "rwp SWAPPED", VM_UFFD_RWP, PAGE_IS_SWAPPED, swapped },
		{ "rwp PFNZERO", VM_UFFD_RWP, PAGE_IS_PFNZERO, B(5) },
		{ "rwp FILE", VM_UFFD_RWP, PAGE_IS_FILE, 0 },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t base = build_region(rows[i].mode);
		uint64_t got = scan_set(base, rows[i].cat, 0, 0, rows[i].cat, 0);
		if (got != rows[i].pages)
			fail_msg("row %s: pages 0x%02" PRIx64 ", expected 0x%02" PRIx64,
				 rows[i].name, got, rows[i].pages);
	}
}

/* Hot scan, cold scan (inverted), anyof and max_pages in an RWP VMA. */
static void inverted_anyof_and_max_pages_select_and_bound_the_result(void **state)
{
	uint64_t base = build_region(VM_UFFD_RWP);
	const uint64_t hot = B(0) | B(2) | B(5) | B(6) | B(7);
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED, 0, 0, PAGE_IS_ACCESSED, 0), hot);
	/* Cold = not accessed: the armed page, the armed swap entry and the
	 * none entry. */
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED, PAGE_IS_ACCESSED, 0, PAGE_IS_ACCESSED, 0),
			 0xff & ~hot);
	/* Cold and resident. */
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED | PAGE_IS_PRESENT, PAGE_IS_ACCESSED, 0,
				  PAGE_IS_ACCESSED, 0),
			 B(1));
	/* anyof: present or swapped, whatever the access state. */
	assert_int_equal(scan_set(base, 0, 0, PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
				  PAGE_IS_PRESENT | PAGE_IS_SWAPPED, 0),
			 0xff & ~B(4));
	/* max_pages keeps the first matches in address order. */
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED, 0, 0, PAGE_IS_ACCESSED, 2), B(0) | B(2));
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED, 0, 0, PAGE_IS_ACCESSED, 1), B(0));
}

/* Resolving a page is what moves it into the hot set. */
static void async_rwp_fault_moves_a_page_from_cold_to_hot(void **state)
{
	uint64_t base = build_region(VM_UFFD_RWP);
	t_proc.ctx->features |= UFFD_FEATURE_RWP_ASYNC;
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED, 0, 0, PAGE_IS_ACCESSED, 0) & B(1), 0);
	assert_int_equal(pagemap_read_word(t_proc.mm, base + PAGE_SIZE) & PM_UFFD_WP, PM_UFFD_WP);
	assert_int_equal(user_access(t_proc.mm, base + PAGE_SIZE, false, 0, NULL), 0);
	assert_int_equal(scan_set(base, PAGE_IS_ACCESSED, 0, 0, PAGE_IS_ACCESSED, 0) & B(1), B(1));
	assert_int_equal(pagemap_read_word(t_proc.mm, base + PAGE_SIZE) & PM_UFFD_WP, 0);
}

/* THP PMDs: HUGE, ACCESSED unless armed, PFNZERO for the huge zero page. */
static void pmd_mapped_pages_report_huge_and_accessed_unless_armed(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, 2 * PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
	vma->vm_flags |= VM_HUGEPAGE;
	t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
	t_write_pages(t_proc.mm, base, 1, 3);
	assert_int_equal(user_access(t_proc.mm, base + PMD_SIZE, false, 0, NULL), 0);
	pmd_t *pmd = pmd_lookup(t_proc.mm->pgd, base, false, 0);
	assert_true(pmd_trans_huge(*pmd));
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	assert_int_equal(pagemap_scan(t_proc.mm, base, base + 2 * PMD_SIZE, PAGE_IS_HUGE, 0, 0,
				      PAGE_IS_HUGE, 0, out),
			 2 * HPAGE_PMD_NR);
	g_array_set_size(out, 0);
	assert_int_equal(pagemap_scan(t_proc.mm, base, base + 2 * PMD_SIZE, PAGE_IS_PFNZERO, 0, 0,
				      PAGE_IS_PFNZERO, 0, out),
			 HPAGE_PMD_NR);
	assert_int_equal(g_array_index(out, uint64_t, 0), base + PMD_SIZE);
	assert_int_equal(change_huge_pmd(vma, pmd, base, PAGE_NONE, MM_CP_UFFD_RWP), HPAGE_PMD_NR);
	g_array_set_size(out, 0);
	assert_int_equal(pagemap_scan(t_proc.mm, base, base + PMD_SIZE, PAGE_IS_ACCESSED, 0, 0,
				      PAGE_IS_ACCESSED, 0, out),
			 0);
	uint64_t w = pagemap_read_word(t_proc.mm, base + 3 * PAGE_SIZE) & ~PM_SOFT_DIRTY;
	assert_int_equal(w, PM_PRESENT | PM_UFFD_WP | PM_MMAP_EXCLUSIVE | (pmd_pfn(*pmd) + 3));
}

/* The scan's arguments are checked before any walk. */
static void scan_rejects_unaligned_ranges_and_unknown_categories(void **state)
{
	uint64_t base = build_region(0);
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	assert_int_equal(pagemap_scan(t_proc.mm, base + 1, base + PAGE_SIZE, 0, 0, 0,
				      PAGE_IS_PRESENT, 0, out),
			 -EINVAL);
	assert_int_equal(pagemap_scan(t_proc.mm, base, base + PAGE_SIZE, PAGE_IS_ACCESSED << 1, 0,
				      0, PAGE_IS_PRESENT, 0, out),
			 -EINVAL);
	assert_int_equal(out->len, 0);
}

/* pagemap_scan_test_walk(): PAGE_IS_WPALLOWED is a VMA category given only
 * where the scan could write-protect: an async uffd-wp VMA using markers. */
static void wpallowed_is_only_given_to_async_uffd_wp_vmas(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_register_ctx(vma_lookup(t_proc.mm, base), VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	assert_int_equal(scan_set(base, PAGE_IS_WPALLOWED, 0, 0, PAGE_IS_WPALLOWED, 0), 0);
}

/* pte_to_pagemap_entry() / pagemap_page_category(): every non-present,
 * non-none entry is a "swap" entry to pagemap, markers included; a uffd-wp
 * marker has bit 57 and is not WRITTEN, a guard marker is GUARD. */
static void markers_are_reported_as_swap_entries_as_the_kernel_does(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_register_ctx(vma_lookup(t_proc.mm, base), VM_UFFD_WP,
		       UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC |
			       UFFD_FEATURE_WP_UNPOPULATED);
	t_write_pages(t_proc.mm, base, 1, 1);
	*t_ptep(t_proc.mm, base + PAGE_SIZE) = make_pte_marker(PTE_MARKER_UFFD_WP);
	*t_ptep(t_proc.mm, base + 2 * PAGE_SIZE) = make_pte_marker(PTE_MARKER_GUARD);

	uint64_t w = pagemap_read_word(t_proc.mm, base + PAGE_SIZE);
	assert_int_equal(w & (PM_PRESENT | PM_SWAP | PM_UFFD_WP), PM_SWAP | PM_UFFD_WP);
	w = pagemap_read_word(t_proc.mm, base + 2 * PAGE_SIZE);
	assert_int_equal(w & (PM_PRESENT | PM_SWAP | PM_UFFD_WP), PM_SWAP);

	uint64_t m = B(1) | B(2);
	assert_int_equal(scan_set(base, PAGE_IS_SWAPPED, 0, 0, PAGE_IS_SWAPPED, 0) & m, m);
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0) & m, B(2));
	assert_int_equal(scan_set(base, PAGE_IS_GUARD, 0, 0, PAGE_IS_GUARD, 0), B(2));
}

/* ------------------------------------------------ PM_SCAN_WP_MATCHING etc. */

static long scan_flags(uint64_t start, uint64_t end, uint64_t flags, uint64_t mask,
		       uint64_t inverted, uint64_t ret, uint64_t max, GArray *out)
{
	const struct pm_scan_arg arg = { .start = start,
					 .end = end,
					 .flags = flags,
					 .category_mask = mask,
					 .category_inverted = inverted,
					 .return_mask = ret,
					 .max_pages = max };
	return do_pagemap_scan(t_proc.mm, &arg, out);
}

/* pagemap_scan_get_args(): flags outside PM_SCAN_FLAGS are -EINVAL before
 * anything is walked or protected. */
static void scan_rejects_unknown_flags(void **state)
{
	uint64_t base = build_region(VM_UFFD_WP);
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	pte_t before = t_pte(t_proc.mm, base);

	assert_int_equal(scan_flags(base, base + NPAGES * PAGE_SIZE, PM_SCAN_WP_MATCHING | (1 << 2),
				    PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, 0, out),
			 -EINVAL);
	assert_int_equal(out->len, 0);
	assert_int_equal(pte_val(t_pte(t_proc.mm, base)), pte_val(before));
}

/* pagemap_scan_test_walk(): which VMAs are WP-allowed (async uffd-wp with
 * markers), and what CHECK_WPASYNC and WP_MATCHING do with the others:
 * -EPERM, or a silent skip. An RWP VMA is never WP-allowed, even when its
 * context has UFFD_FEATURE_WP_ASYNC (rwp-series §3.10). */
static void check_wpasync_and_wp_matching_per_vma_mode(void **state)
{
	static const struct {
		const char *name;
		vm_flags_t mode;
		uint64_t features;
		long check, match; /* results with CHECK_WPASYNC, with WP_MATCHING */
	} rows[] = {
		{ "plain", 0, 0, -EPERM, 0 },
		{ "wp sync", VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP, -EPERM, 0 },
		{ "wp async", VM_UFFD_WP,
		  UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC |
			  UFFD_FEATURE_WP_UNPOPULATED,
		  NPAGES, NPAGES },
		{ "rwp", VM_UFFD_RWP, UFFD_FEATURE_RWP, -EPERM, 0 },
		{ "rwp async, ctx with WP_ASYNC", VM_UFFD_RWP,
		  UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC | UFFD_FEATURE_WP_ASYNC, -EPERM, 0 },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t base =
			t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t end = base + NPAGES * PAGE_SIZE;
		t_write_pages(t_proc.mm, base, NPAGES, 1);
		if (rows[i].mode)
			t_register_ctx(vma_lookup(t_proc.mm, base), rows[i].mode, rows[i].features);
		if (rows[i].mode == VM_UFFD_RWP)
			assert_int_equal(userfaultfd_rwprotect(t_proc.ctx, base, PAGE_SIZE,
							       UFFDIO_RWPROTECT_MODE_RWP),
					 0);
		pte_t before[NPAGES];
		for (unsigned k = 0; k < NPAGES; k++)
			before[k] = t_pte(t_proc.mm, base + k * PAGE_SIZE);
		g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		g_array_set_size(mm_events, 0);

		long r =
			scan_flags(base, end, PM_SCAN_CHECK_WPASYNC, 0, 0, PAGE_IS_PRESENT, 0, out);
		if (r != rows[i].check)
			fail_msg("row %s: CHECK_WPASYNC gave %ld", rows[i].name, r);
		g_array_set_size(out, 0);
		r = scan_flags(base, end, PM_SCAN_WP_MATCHING, PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN,
			       0, out);
		if (r != rows[i].match)
			fail_msg("row %s: WP_MATCHING gave %ld", rows[i].name, r);
		bool wp_allowed = rows[i].match > 0;
		for (unsigned k = 0; k < NPAGES; k++) {
			pte_t p = t_pte(t_proc.mm, base + k * PAGE_SIZE);
			if (wp_allowed) {
				ROW_EQ(i, pte_uffd(p) && !pte_write(p), true);
				ROW_EQ(i, pte_pfn(p), pte_pfn(before[k]));
			} else {
				ROW_EQ(i, pte_val(p), pte_val(before[k]));
			}
		}
		/* The ledger learns it as UFFDIO_WRITEPROTECT: one EV_UFFD_WP over
		 * the run of pages protected. */
		ROW_EQ(i, t_nr_events(EV_UFFD_WP), wp_allowed);
		if (wp_allowed) {
			const struct mm_event *ev = t_last_event(EV_UFFD_WP);
			ROW_EQ(i, ev->address, base);
			ROW_EQ(i, ev->len, NPAGES * PAGE_SIZE);
			ROW_EQ(i, ev->ctx_id, t_proc.ctx->id);
		}
	}
}

/* make_uffd_wp_pte() on every entry kind the WRITTEN category matches in an
 * async uffd-wp VMA: present (bit + write-protect, same page), swap (swap
 * bit), none (a uffd-wp marker), the zero page; an entry already protected
 * is neither reported nor touched. */
static void wp_matching_protects_each_entry_kind(void **state)
{
	uint64_t base = build_region(VM_UFFD_WP), end = base + NPAGES * PAGE_SIZE;
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	pte_t before[NPAGES];

	for (unsigned k = 0; k < NPAGES; k++)
		before[k] = t_pte(t_proc.mm, base + k * PAGE_SIZE);
	g_array_set_size(mm_events, 0);
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0),
			 0xff & ~(B(P_UFFD) | B(P_SWAP_UFFD)));
	assert_int_equal(scan_flags(base, end, PM_SCAN_WP_MATCHING, PAGE_IS_WRITTEN, 0,
				    PAGE_IS_WRITTEN, 0, out),
			 NPAGES - 2);
	for (unsigned k = 0; k < NPAGES; k++) {
		pte_t p = t_pte(t_proc.mm, base + k * PAGE_SIZE);
		switch (k) {
		case P_UFFD:
		case P_SWAP_UFFD:
			ROW_EQ(k, pte_val(p), pte_val(before[k]));
			break;
		case P_SWAP:
			ROW_EQ(k, pte_val(p), pte_val(pte_swp_mkuffd(before[k])));
			break;
		case P_NONE:
			ROW_EQ(k, pte_val(p), pte_val(make_pte_marker(PTE_MARKER_UFFD_WP)));
			break;
		default: /* present, zero page included */
			ROW_EQ(k, pte_present(p) && pte_uffd(p) && !pte_write(p), true);
			ROW_EQ(k, pte_pfn(p), pte_pfn(before[k]));
		}
	}
	/* Two runs around the already-protected page 1 and 3: 0, 2, 4-7. */
	assert_int_equal(t_nr_events(EV_UFFD_WP), 3);
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0), 0);
}

/* max_pages bounds the protection too, and a page that does not match the
 * masks is not protected. */
static void wp_matching_protects_only_what_it_reports(void **state)
{
	uint64_t base = build_region(VM_UFFD_WP), end = base + NPAGES * PAGE_SIZE;
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	/* Only present written pages (0, 5, 6, 7), and at most two of them. */
	assert_int_equal(scan_flags(base, end, PM_SCAN_WP_MATCHING,
				    PAGE_IS_WRITTEN | PAGE_IS_PRESENT, 0, PAGE_IS_WRITTEN, 2, out),
			 2);
	assert_int_equal(g_array_index(out, uint64_t, 0), base);
	assert_int_equal(g_array_index(out, uint64_t, 1), base + P_ZERO * PAGE_SIZE);
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0),
			 B(P_SWAP) | B(P_NONE) | B(6) | B(7));
	/* Inverted: "not written" pages match; WP_MATCHING protects only
	 * WRITTEN ones, so nothing changes. */
	g_array_set_size(out, 0);
	assert_int_equal(scan_flags(base, end, PM_SCAN_WP_MATCHING, PAGE_IS_WRITTEN,
				    PAGE_IS_WRITTEN, PAGE_IS_WRITTEN, 0, out),
			 4);
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0),
			 B(P_SWAP) | B(P_NONE) | B(6) | B(7));
}

/* pagemap_scan_pte_hole(): without a page table the VMA's categories apply,
 * plus WRITTEN in a uffd-wp VMA (the 2026 PMD-hole fix, which the running
 * 6.18.44 kernel has); a matching hole is protected by uffd_wp_range(),
 * which installs markers, and then reads as not written. */
static void holes_are_written_in_wp_vmas_and_get_markers(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	uint64_t end = base + NPAGES * PAGE_SIZE;
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	t_register_ctx(vma_lookup(t_proc.mm, base), VM_UFFD_WP,
		       UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC |
			       UFFD_FEATURE_WP_UNPOPULATED);
	pmd_t *pmd = pmd_lookup(t_proc.mm->pgd, base, false, 0);
	assert_true(!pmd || pmd_none(*pmd));
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0),
			 (1ULL << NPAGES) - 1);
	assert_int_equal(scan_flags(base, end, PM_SCAN_WP_MATCHING, PAGE_IS_WPALLOWED, 0,
				    PAGE_IS_WPALLOWED, 0, out),
			 NPAGES);
	for (unsigned k = 0; k < NPAGES; k++)
		ROW_EQ(k, pte_val(t_pte(t_proc.mm, base + k * PAGE_SIZE)),
		       pte_val(make_pte_marker(PTE_MARKER_UFFD_WP)));
	assert_int_equal(scan_set(base, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0), 0);
}

/* pagemap_scan_thp_entry(): a PMD covered whole is protected as a PMD; one
 * covered in part is split and only the covered PTEs are protected (and
 * reported once, as PTEs). */
static void wp_matching_protects_a_whole_pmd_and_splits_a_partial_one(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, 2 * PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
	vma->vm_flags |= VM_HUGEPAGE;
	t_write_pages(t_proc.mm, base, 1, 3);
	t_write_pages(t_proc.mm, base + PMD_SIZE, 1, 4);
	assert_true(pmd_trans_huge(t_pmd(t_proc.mm, base)));
	assert_true(pmd_trans_huge(t_pmd(t_proc.mm, base + PMD_SIZE)));
	t_register_ctx(vma, VM_UFFD_WP,
		       UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC |
			       UFFD_FEATURE_WP_UNPOPULATED);
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	assert_int_equal(scan_flags(base, base + PMD_SIZE, PM_SCAN_WP_MATCHING, PAGE_IS_WRITTEN, 0,
				    PAGE_IS_WRITTEN, 0, out),
			 HPAGE_PMD_NR);
	pmd_t pmd = t_pmd(t_proc.mm, base);
	assert_true(pmd_trans_huge(pmd) && pmd_uffd(pmd) && !pmd_write(pmd));

	g_array_set_size(out, 0);
	uint64_t half = base + PMD_SIZE + PMD_SIZE / 2;
	assert_int_equal(scan_flags(base + PMD_SIZE, half, PM_SCAN_WP_MATCHING, PAGE_IS_WRITTEN, 0,
				    PAGE_IS_WRITTEN, 0, out),
			 HPAGE_PMD_NR / 2);
	assert_int_equal(out->len, HPAGE_PMD_NR / 2);
	assert_int_equal(g_array_index(out, uint64_t, out->len - 1), half - PAGE_SIZE);
	assert_false(pmd_trans_huge(t_pmd(t_proc.mm, base + PMD_SIZE)));
	assert_true(pte_uffd(t_pte(t_proc.mm, half - PAGE_SIZE)));
	assert_false(pte_uffd(t_pte(t_proc.mm, half)));
	/* scan_set() looks at NPAGES pages: protected before half, not after */
	assert_int_equal(scan_set(base + PMD_SIZE, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0), 0);
	assert_int_equal(scan_set(half, PAGE_IS_WRITTEN, 0, 0, PAGE_IS_WRITTEN, 0), 0xff);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(pagemap_word_reports_present_swap_uffd_and_exclusive_bits),
		T(pagemap_word_marks_file_pages_and_shared_mappings),
		T(pagemap_soft_dirty_bit_agrees_with_the_scan_category),
		T(scan_categories_per_entry_kind_and_vma_mode),
		T(inverted_anyof_and_max_pages_select_and_bound_the_result),
		T(async_rwp_fault_moves_a_page_from_cold_to_hot),
		T(pmd_mapped_pages_report_huge_and_accessed_unless_armed),
		T(scan_rejects_unaligned_ranges_and_unknown_categories),
		T(wpallowed_is_only_given_to_async_uffd_wp_vmas),
		T(markers_are_reported_as_swap_entries_as_the_kernel_does),
		T(scan_rejects_unknown_flags),
		T(check_wpasync_and_wp_matching_per_vma_mode),
		T(wp_matching_protects_each_entry_kind),
		T(wp_matching_protects_only_what_it_reports),
		T(holes_are_written_in_wp_vmas_and_get_markers),
		T(wp_matching_protects_a_whole_pmd_and_splits_a_partial_one),
	};
	return cmocka_run_group_tests_name("pagemap scan", tests, NULL, NULL);
}
