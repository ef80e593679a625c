/* sim/include/linux/khugepaged.h - enum scan_result in the v7.x order
 * (include/trace/events/huge_memory.h, SCAN_STATUS), with the trace strings.
 * RWP 03/15 renames SCAN_PTE_UFFD_WP to SCAN_PTE_UFFD but keeps the string
 * "pte_uffd_wp". Compare results by name, never by number.
 */
#ifndef MMSIM_LINUX_KHUGEPAGED_H
#define MMSIM_LINUX_KHUGEPAGED_H

#define SCAN_STATUS(X)                                         \
	X(SCAN_FAIL, "failed")                                 \
	X(SCAN_SUCCEED, "succeeded")                           \
	X(SCAN_NO_PTE_TABLE, "no_pte_table")                   \
	X(SCAN_PMD_MAPPED, "page_pmd_mapped")                  \
	X(SCAN_EXCEED_NONE_PTE, "exceed_none_pte")             \
	X(SCAN_EXCEED_SWAP_PTE, "exceed_swap_pte")             \
	X(SCAN_EXCEED_SHARED_PTE, "exceed_shared_pte")         \
	X(SCAN_PTE_NON_PRESENT, "pte_non_present")             \
	X(SCAN_PTE_UFFD, "pte_uffd_wp")                        \
	X(SCAN_PTE_MAPPED_HUGEPAGE, "pte_mapped_hugepage")     \
	X(SCAN_LACK_REFERENCED_PAGE, "lack_referenced_page")   \
	X(SCAN_PAGE_NULL, "page_null")                         \
	X(SCAN_SCAN_ABORT, "scan_aborted")                     \
	X(SCAN_PAGE_COUNT, "not_suitable_page_count")          \
	X(SCAN_PAGE_LRU, "page_not_in_lru")                    \
	X(SCAN_PAGE_LOCK, "page_locked")                       \
	X(SCAN_PAGE_ANON, "page_not_anon")                     \
	X(SCAN_PAGE_LAZYFREE, "page_lazyfree")                 \
	X(SCAN_PAGE_COMPOUND, "page_compound")                 \
	X(SCAN_ANY_PROCESS, "no_process_for_page")             \
	X(SCAN_VMA_NULL, "vma_null")                           \
	X(SCAN_VMA_CHECK, "vma_check_failed")                  \
	X(SCAN_ADDRESS_RANGE, "not_suitable_address_range")    \
	X(SCAN_DEL_PAGE_LRU, "could_not_delete_page_from_lru") \
	X(SCAN_ALLOC_HUGE_PAGE_FAIL, "alloc_huge_page_failed") \
	X(SCAN_CGROUP_CHARGE_FAIL, "ccgroup_charge_failed")    \
	X(SCAN_TRUNCATED, "truncated")                         \
	X(SCAN_PAGE_HAS_PRIVATE, "page_has_private")           \
	X(SCAN_STORE_FAILED, "store_failed")                   \
	X(SCAN_COPY_MC, "copy_poisoned_page")                  \
	X(SCAN_PAGE_FILLED, "page_filled")                     \
	X(SCAN_PAGE_DIRTY_OR_WRITEBACK, "page_dirty_or_writeback")

#define SCAN_ENUM_ENTRY(e, s) e,
enum scan_result { SCAN_STATUS(SCAN_ENUM_ENTRY) NR_SCAN_RESULTS };
#undef SCAN_ENUM_ENTRY

extern const char *const scan_result_strings[NR_SCAN_RESULTS];

#endif
