/* sim/include/linux/pagemap_uapi.h - /proc/pid/pagemap bits and PAGEMAP_SCAN
 * categories (fs/proc/task_mmu.c, include/uapi/linux/fs.h, RWP 11/15).
 */
#ifndef MMSIM_LINUX_PAGEMAP_UAPI_H
#define MMSIM_LINUX_PAGEMAP_UAPI_H

#define PM_PFRAME_MASK ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_MMAP_EXCLUSIVE (1ULL << 56)
#define PM_UFFD_WP (1ULL << 57)
#define PM_FILE (1ULL << 61)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)

#define PAGE_IS_WPALLOWED (1ULL << 0)
#define PAGE_IS_WRITTEN (1ULL << 1)
#define PAGE_IS_FILE (1ULL << 2)
#define PAGE_IS_PRESENT (1ULL << 3)
#define PAGE_IS_SWAPPED (1ULL << 4)
#define PAGE_IS_PFNZERO (1ULL << 5)
#define PAGE_IS_HUGE (1ULL << 6)
#define PAGE_IS_SOFT_DIRTY (1ULL << 7)
#define PAGE_IS_GUARD (1ULL << 8)
#define PAGE_IS_ACCESSED (1ULL << 9)

/* fs/proc/task_mmu.c: the categories and flags PAGEMAP_SCAN accepts. */
#define PM_SCAN_CATEGORIES ((PAGE_IS_ACCESSED << 1) - 1)

/* struct pm_scan_arg.flags (include/uapi/linux/fs.h) */
#define PM_SCAN_WP_MATCHING (1ULL << 0)	  /* write-protect the pages that match */
#define PM_SCAN_CHECK_WPASYNC (1ULL << 1) /* -EPERM on a VMA that is not async uffd-wp */
#define PM_SCAN_FLAGS (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC)

#include <stdint.h>

/* The part of struct pm_scan_arg the model uses: [start, end), the
 * masks, max_pages (0: no limit) and flags. No user vector: the matching
 * page addresses are returned one per page (the kernel merges them into
 * struct page_region ranges). */
struct pm_scan_arg {
	uint64_t start, end;
	uint64_t flags;
	uint64_t category_mask, category_inverted, category_anyof_mask, return_mask;
	uint64_t max_pages;
};

#endif
