/* sim/patch.h - patch levels and the hunks of RWP patch 08/15 as data.
 *
 * Each hunk of "mm: handle VM_UFFD_RWP in khugepaged, rmap, and GUP" is one
 * named switch, consulted in exactly one place in sim/mm/. A patch level is
 * a named set of switches. Everything outside patch 08 always follows the
 * final series.
 */
#ifndef MMSIM_PATCH_H
#define MMSIM_PATCH_H

#include <stdbool.h>

enum hunk {
	HUNK_08A,		  /* try_collapse_pte_mapped_thp: userfaultfd_protected() */
	HUNK_08B,		  /* file_backed_vma_is_retractable: userfaultfd_protected() */
	HUNK_08C,		  /* folio_unmap_pte_batch: no batching in protected VMAs */
	HUNK_08D,		  /* gup_can_follow_protnone: RWP VMAs must fault */
	HUNK_08E,		  /* ... only when vma_is_accessible() (added in v6) */
	HUNK_UNSAFE_BATCH,	  /* mutation: batch comparison ignores the uffd bit */
	HUNK_MIGRATE_NO_REFORCE,  /* mutation: remove_migration_pte/pmd keep vm_page_prot */
	HUNK_NUMA_REBUILD_ALL,	  /* mutation: numa_rebuild_large_mapping without the uffd skip */
	HUNK_SPLIT_NO_REFORCE,	  /* mutation: __split_huge_pmd_locked keeps vm_page_prot */
	HUNK_SWAPIN_NO_RESTORE,	  /* mutation: do_swap_page without the rwp_restore */
	HUNK_FORK_NO_NORMALISE,	  /* mutation: an unprotected child inherits armed PTEs */
	HUNK_MREMAP_NO_NORMALISE, /* mutation: move_ptes keeps the bit without EVENT_REMAP */
	HUNK_MOVE_NO_ARM,	  /* mutation: UFFDIO_MOVE into RWP leaves the entry unarmed */
	HUNK_MPROTECT_NO_REFORCE, /* mutation: change_present_ptes keeps newprot for armed */
	HUNK_HUGE_PMD_NO_REFORCE, /* mutation: change_huge_pmd keeps newprot for an armed PMD */
	HUNK_SWAPOFF_NO_RESTORE,  /* mutation: unuse_pte without the PAGE_NONE re-force */
	HUNK_ZAP_RWP_MARKER,	  /* mutation: zap leaves a uffd-wp marker for RWP too */
	HUNK_DEFERRED_SPLIT_NO_REFORCE, /* mutation: zero-page remap of a split drops PAGE_NONE */
	HUNK_EXCLUSIVE_NO_RESTORE,	/* mutation: restore_exclusive_pte keeps vm_page_prot */
	NR_HUNKS
};

struct hunk_desc {
	const char *name;     /* "08a", ..., "unsafe-batch" */
	const char *function; /* the kernel function it changes */
	const char *summary;
};

struct patch_level_desc {
	const char *name; /* "no08", "v5", "v6" */
	const char *summary;
	bool hunks[NR_HUNKS];
};

extern const struct hunk_desc hunk_descs[NR_HUNKS];
extern const struct patch_level_desc patch_levels[];
extern const unsigned nr_patch_levels;

/* The switches in force. */
extern bool patch_hunks[NR_HUNKS];

static inline bool patch_hunk(enum hunk h) { return patch_hunks[h]; }

/* Select a level by name ("v6" is the default). Returns false if unknown. */
bool patch_set_level(const char *name);
/* Apply "NAME=on" or "NAME=off". Returns false if malformed or unknown. */
bool patch_set_hunk(const char *spec);
/* Name of the level whose switches equal the current ones, or NULL. */
const char *patch_current_level(void);

/*
 * The kernel the model stands for, besides patch 08. "rwp" is the kernel
 * with the whole series (the default); "6.18" is mainline Linux 6.18, which
 * has no RWP UAPI: UFFD_FEATURE_RWP/RWP_ASYNC, UFFDIO_REGISTER_MODE_RWP,
 * UFFDIO_RWPROTECT, UFFDIO_SET_MODE and PAGE_IS_ACCESSED are refused with
 * EINVAL there, as the 6.18 checks refuse unknown bits and ioctls. Every
 * other path of the series only differs for VM_UFFD_RWP VMAs, which then
 * cannot exist, so the model behaves as 6.18 does (tools/hostreplay checks
 * that against the running kernel; docs/hostreplay.md).
 */
struct kernel_desc {
	const char *name;
	const char *summary;
	bool rwp_uapi;
	/* userfaultfd_register_range() skips a VMA of this ctx only when its
	 * mode is exactly the requested one ("mm/userfaultfd: clear uffd-wp
	 * PTE state when re-registering without WP", 2026, under the series);
	 * 6.18 skips one whose mode is a superset. */
	bool uffd_register_exact_mode;
};

extern const struct kernel_desc kernel_descs[];
extern const unsigned nr_kernels;
extern const struct kernel_desc *kernel_base;

/* Select the kernel by name. Returns false if unknown. */
bool patch_set_kernel(const char *name);
static inline bool kernel_has_rwp(void) { return kernel_base->rwp_uapi; }

#endif
