/* tests/unit/test_pagemap_scan.c - /proc/pid/pagemap words (bits 63, 62,
 * 57, 56) and PAGEMAP_SCAN categories with RWP 11/15: ACCESSED only in RWP
 * VMAs for entries without the uffd bit, WRITTEN only in WP VMAs, pte_none
 * neither in RWP VMAs; inverted and anyof masks; max_pages
 * (rwp-series.md §3.10).
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
	};
	return cmocka_run_group_tests_name("pagemap scan", tests, NULL, NULL);
}
