/* model/mm_types.h - mm_struct, VMAs, anon_vma, address_space, files.
 *
 * Data only. vm_flags values are the kernel's (include/linux/mm.h, 64-bit),
 * with VM_UFFD_RWP at bit 43 as RWP patch 05/15 defines it.
 */
#ifndef MMSIM_MODEL_MM_TYPES_H
#define MMSIM_MODEL_MM_TYPES_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "folio.h"
#include "pgtable.h"

typedef uint64_t vm_flags_t;

#define VM_NONE 0x00000000ULL
#define VM_READ 0x00000001ULL
#define VM_WRITE 0x00000002ULL
#define VM_EXEC 0x00000004ULL
#define VM_SHARED 0x00000008ULL
#define VM_MAYREAD 0x00000010ULL
#define VM_MAYWRITE 0x00000020ULL
#define VM_MAYEXEC 0x00000040ULL
#define VM_MAYSHARE 0x00000080ULL
#define VM_UFFD_MISSING 0x00000200ULL
#define VM_PFNMAP 0x00000400ULL
#define VM_UFFD_WP 0x00001000ULL
#define VM_LOCKED 0x00002000ULL
#define VM_IO 0x00004000ULL
#define VM_DONTCOPY 0x00020000ULL
#define VM_HUGETLB 0x00400000ULL
#define VM_MIXEDMAP 0x10000000ULL
#define VM_HUGEPAGE 0x20000000ULL
#define VM_NOHUGEPAGE 0x40000000ULL
#define VM_UFFD_MINOR_BIT 41
#define VM_UFFD_MINOR (1ULL << VM_UFFD_MINOR_BIT)
#define VMA_UFFD_RWP_BIT 43
#define VM_UFFD_RWP (1ULL << VMA_UFFD_RWP_BIT)
#define __VM_UFFD_FLAGS (VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR | VM_UFFD_RWP)
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)

struct mm_struct;
struct userfaultfd_ctx;

/* An anon_vma: the set of VMAs whose anon folios an rmap walk must visit. */
struct anon_vma {
	GPtrArray *vmas; /* struct vm_area_struct * */
	int refcount;
};

/* A shmem file (memfd): its page cache keyed by index and its i_mmap. */
#define XA_VALUE_BIT 1ULL /* low bit set: a value entry (swapped shmem page) */
struct address_space {
	char *name;
	uint64_t nr_pages; /* i_size in pages */
	/* i_pages entries: i_size rounded up to a PMD-order block, since a
	 * large shmem folio may extend past i_size (collapse_file() or a
	 * truncate whose split failed); faults still stop at nr_pages. */
	uint64_t nr_slots;
	uint64_t *i_pages; /* per index: 0, xa_mk_pfn(pfn of the page at index), or a value */
	GPtrArray *i_mmap; /* VMAs mapping the file */
	bool huge;	   /* shmem_enabled allows PMD folios (huge=always/within_size/advise) */
	bool huge_never;   /* shmem_enabled=never: VM_HUGEPAGE does not either (huge=never) */
	int refcount;
};
#define file address_space /* one object plays both roles in the model */

/* The page cache's extent for an i_size of nr_pages (see nr_slots). */
static inline uint64_t shmem_nr_slots(uint64_t nr_pages)
{
	uint64_t n = (nr_pages + HPAGE_PMD_NR - 1) & ~(uint64_t)(HPAGE_PMD_NR - 1);
	return n ? n : 1;
}
static inline bool xa_is_value(uint64_t e) { return e & XA_VALUE_BIT; }
static inline uint64_t xa_mk_pfn(uint64_t pfn) { return pfn << 1; }
static inline uint64_t xa_to_pfn(uint64_t e) { return e >> 1; }

struct vm_area_struct {
	uint64_t vm_start, vm_end;
	vm_flags_t vm_flags;
	pgprot_t vm_page_prot;
	uint64_t vm_pgoff; /* anon: linear page index of vm_start; file: offset */
	struct mm_struct *vm_mm;
	struct address_space *vm_file;
	struct anon_vma *anon_vma;
	struct userfaultfd_ctx *vm_userfaultfd_ctx;
	uint32_t id; /* stable identity for the trace engine and the oracle */
	/* The model's anon_vma is one flat set per fork tree (see
	 * anon_vma_fork()); for VMA merging, anon_vma_own names the anon_vma
	 * the kernel's VMA would point at, and anon_vma_chained says that its
	 * anon_vma_chain is longer than one (vma_had_uncowed_parents()). */
	uint64_t anon_vma_own;
	bool anon_vma_chained;
};

struct mm_struct {
	uint64_t id;
	char *name;
	uint64_t pgd;	     /* top-level table number */
	GPtrArray *vmas;     /* sorted by vm_start */
	GHashTable *deposit; /* PMD address -> deposited PTE table number */
	bool khugepaged_registered;
	uint64_t rss_anon, rss_file, rss_shmem, nr_swapents;
	int mm_users;
};

static inline bool vma_is_anonymous(const struct vm_area_struct *vma) { return !vma->vm_file; }
static inline bool vma_is_shmem(const struct vm_area_struct *vma) { return vma->vm_file != NULL; }
static inline bool vma_is_accessible(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_ACCESS_FLAGS;
}
static inline bool is_cow_mapping(vm_flags_t f)
{
	return (f & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}
static inline uint64_t vma_pages(const struct vm_area_struct *vma)
{
	return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}
/* The page-cache index (file) or linear page index (anon) of addr. */
static inline uint64_t linear_page_index(const struct vm_area_struct *vma, uint64_t addr)
{
	return ((addr - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}
/* Inverse of linear_page_index. */
static inline uint64_t vma_address(const struct vm_area_struct *vma, uint64_t pgoff)
{
	return vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
}

/* vm_get_page_prot: x86-64 protection_map (arch/x86/mm/pgprot.c). */
pgprot_t vm_get_page_prot(vm_flags_t vm_flags);

/* --- mm and VMA data operations (model/vma.c) --- */
/* Number mms and VMAs from 1 again: each machine starts afresh, so a trace
 * replays the same whatever ran before it in the process. */
void mm_ids_reset(void);
struct mm_struct *mm_alloc(const char *name);
void mm_free(struct mm_struct *mm); /* caller has zapped all mappings */
/* Free the host memory of an mm, its VMAs and anon_vmas without touching
 * page tables or frames (whole-machine teardown; the pools go next). */
void mm_discard(struct mm_struct *mm);
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr);	/* first with end > addr */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, uint64_t addr); /* containing addr */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
void vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
void vma_unlink(struct vm_area_struct *vma); /* removes from mm and i_mmap/anon_vma */
void vm_area_free(struct vm_area_struct *vma);
/* Split at addr (page aligned, strictly inside). Returns the new upper VMA. */
struct vm_area_struct *vma_split(struct vm_area_struct *vma, uint64_t addr);
/* Merge vma with its successor when they are compatible (same flags, file,
 * anon_vma, uffd ctx and contiguous pgoff). Returns true when merged. */
bool vma_try_merge_next(struct vm_area_struct *vma);
/* Find a free, align-aligned gap of len bytes at or above hint. */
uint64_t mm_get_unmapped_area(struct mm_struct *mm, uint64_t hint, uint64_t len, uint64_t align);

struct anon_vma *anon_vma_alloc(void);
/* A new anon_vma identity for vm_area_struct.anon_vma_own. */
uint64_t anon_vma_new_own(void);
void anon_vma_attach(struct anon_vma *av, struct vm_area_struct *vma);
void anon_vma_put(struct anon_vma *av);

struct address_space *shmem_file_alloc(const char *name, uint64_t nr_pages, bool huge);
void shmem_file_put(struct address_space *mapping);
/* Free a file's host memory without touching frames (machine teardown). */
void shmem_file_discard(struct address_space *mapping);
/* Page-cache lookup: the folio covering index, or NULL (value entries are NULL). */
struct folio *filemap_get_folio(struct address_space *mapping, uint64_t index);

#endif
