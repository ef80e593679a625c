/* sim/include/linux/mm.h - fault, GUP and change_protection flags, struct
 * vm_fault and the small mm predicates (include/linux/mm.h, mm_types.h,
 * mm/internal.h). Policy lives here and in sim/mm/, never in model/.
 */
#ifndef MMSIM_LINUX_MM_H
#define MMSIM_LINUX_MM_H

#include "model/mm_types.h"
#include "model/swapops.h"
#include "model/uffd.h"

/* enum fault_flag */
#define FAULT_FLAG_WRITE (1u << 0)
#define FAULT_FLAG_MKWRITE (1u << 1)
#define FAULT_FLAG_ALLOW_RETRY (1u << 2)
#define FAULT_FLAG_RETRY_NOWAIT (1u << 3)
#define FAULT_FLAG_KILLABLE (1u << 4)
#define FAULT_FLAG_TRIED (1u << 5)
#define FAULT_FLAG_USER (1u << 6)
#define FAULT_FLAG_REMOTE (1u << 7)
#define FAULT_FLAG_INSTRUCTION (1u << 8)
#define FAULT_FLAG_INTERRUPTIBLE (1u << 9)
#define FAULT_FLAG_UNSHARE (1u << 10)
#define FAULT_FLAG_ORIG_PTE_VALID (1u << 11)
#define FAULT_FLAG_VMA_LOCK (1u << 12)

/* vm_fault_t bits */
typedef unsigned vm_fault_t;
#define VM_FAULT_OOM 0x000001
#define VM_FAULT_SIGBUS 0x000002
#define VM_FAULT_MAJOR 0x000004
#define VM_FAULT_HWPOISON 0x000010
#define VM_FAULT_SIGSEGV 0x000040
#define VM_FAULT_NOPAGE 0x000100
#define VM_FAULT_LOCKED 0x000200
#define VM_FAULT_RETRY 0x000400
#define VM_FAULT_FALLBACK 0x000800
#define VM_FAULT_DONE_COW 0x001000
#define VM_FAULT_COMPLETED 0x004000
#define VM_FAULT_ERROR (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON)

/* GUP flags: public (mm_types.h) then internal (mm/internal.h). */
#define FOLL_WRITE (1u << 0)
#define FOLL_GET (1u << 1)
#define FOLL_DUMP (1u << 2)
#define FOLL_FORCE (1u << 3)
#define FOLL_NOWAIT (1u << 4)
#define FOLL_NOFAULT (1u << 5)
#define FOLL_HWPOISON (1u << 6)
#define FOLL_ANON (1u << 7)
#define FOLL_LONGTERM (1u << 8)
#define FOLL_SPLIT_PMD (1u << 9)
#define FOLL_PCI_P2PDMA (1u << 10)
#define FOLL_INTERRUPTIBLE (1u << 11)
#define FOLL_HONOR_NUMA_FAULT (1u << 12)
#define FOLL_TOUCH (1u << 16)
#define FOLL_TRIED (1u << 17)
#define FOLL_REMOTE (1u << 18)
#define FOLL_PIN (1u << 19)
#define FOLL_FAST_ONLY (1u << 20)
#define FOLL_UNLOCKABLE (1u << 21)
#define FOLL_MADV_POPULATE (1u << 22)

/* change_protection() cp_flags, with RWP patch 06/15. */
#define MM_CP_TRY_CHANGE_WRITABLE (1u << 0)
#define MM_CP_PROT_NUMA (1u << 1)
#define MM_CP_UFFD_WP (1u << 2)
#define MM_CP_UFFD_WP_RESOLVE (1u << 3)
#define MM_CP_UFFD_WP_ALL (MM_CP_UFFD_WP | MM_CP_UFFD_WP_RESOLVE)
#define MM_CP_UFFD_RWP (1u << 4)
#define MM_CP_UFFD_RWP_RESOLVE (1u << 5)
#define MM_CP_UFFD_RWP_ALL (MM_CP_UFFD_RWP | MM_CP_UFFD_RWP_RESOLVE)

struct vm_fault {
	struct vm_area_struct *vma;
	unsigned flags;	  /* FAULT_FLAG_* */
	uint64_t address; /* faulting address, page aligned */
	uint64_t real_address;
	uint64_t pgoff;
	pmd_t *pmd;
	pte_t *pte; /* NULL when no table or pte_none */
	pte_t orig_pte;
	pmd_t orig_pmd;
	struct page *page;
};

/* vma_wants_manual_pte_write_upgrade: shared mappings (no writenotify in
 * the model: shmem has no dirty accounting) and private VM_WRITE ones. */
static inline bool vma_wants_manual_pte_write_upgrade(const struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_SHARED)
		return !(vma->vm_flags & VM_UFFD_WP); /* uffd-wp turns writenotify on */
	return vma->vm_flags & VM_WRITE;
}

/* Errno values used across the model (Linux numbering). */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define EOPNOTSUPP 95
#define EHWPOISON 133
#define ELOOP 40 /* used for the GUP livelock report, never returned by Linux GUP */

#endif
