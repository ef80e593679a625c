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

#endif
