/* sim/mm/internal.h - functions shared between the modelled kernel files.
 *
 * Grouped by the kernel file that defines them (sim/mm/<file>.c mirrors
 * mm/<file>.c). The syscall-level entry points the trace engine calls are at
 * the end of each group and are named sys_* or after the ioctl.
 */
#ifndef MMSIM_MM_INTERNAL_H
#define MMSIM_MM_INTERNAL_H

#include "linux/khugepaged.h"
#include "linux/mm.h"
#include "linux/userfaultfd_k.h"
#include "model/swap.h"

/* ---------------------------------------------------------------- global state */
struct thp_settings {
	int enabled;	     /* 0 always, 1 madvise, 2 never */
	unsigned mthp_order; /* anon mTHP order enabled for faults (2-4), 0 none */
	unsigned max_ptes_none, max_ptes_swap, max_ptes_shared, pages_to_scan;
};
extern struct thp_settings thp_settings;

/* ------------------------------------------------------------- mm/memory.c */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned flags);
struct page *vm_normal_page(struct vm_area_struct *vma, uint64_t addr, pte_t pte);
struct folio *vm_normal_folio(struct vm_area_struct *vma, uint64_t addr, pte_t pte);
vm_fault_t do_swap_page(struct vm_fault *vmf);
vm_fault_t do_set_pmd(struct vm_fault *vmf, struct folio *folio, struct page *page);
/* Zap [start, end) of one VMA. drop_markers: ZAP_FLAG_DROP_MARKER. */
void zap_page_range_single(struct vm_area_struct *vma, uint64_t start, uint64_t end,
			   bool drop_markers);
void zap_page_range_reclaim_pt(struct vm_area_struct *vma, uint64_t start, uint64_t end);
/* unmap_mapping_range: zap every mapping of file pages [first, first+nr). */
void unmap_mapping_pages(struct address_space *mapping, uint64_t first, uint64_t nr,
			 bool even_cows);
/* The PMD slot of addr in vma's mm, allocating upper levels when alloc. */
pmd_t *mm_find_pmd(struct mm_struct *mm, uint64_t addr, bool alloc);
/* copy_page_range (fork): copy src_vma's tables into dst_vma's mm. Returns
 * 0 or -ENOMEM. */
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);

/* ------------------------------------------------------------- mm/rmap.c */
void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			     bool exclusive);
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, bool exclusive);
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma);
void folio_add_file_rmap_pmd(struct folio *folio, struct vm_area_struct *vma);
void folio_add_anon_rmap_pmd(struct folio *folio, struct vm_area_struct *vma, bool exclusive);
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma);
void folio_remove_rmap_pmd(struct folio *folio, struct vm_area_struct *vma);
/* anon_vma_prepare: give an anon (or private file) VMA its anon_vma. */
int anon_vma_prepare(struct vm_area_struct *vma);
/* folio_get_anon_vma: a reference on a mapped anon folio's anon_vma
 * (drop it with anon_vma_put, the model's put_anon_vma()). */
struct anon_vma *folio_get_anon_vma(struct folio *folio);
/* anon_vma_fork: the child VMA joins the parent's anon_vma (see rmap.c). */
int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma);
/* folio_try_dup_anon_rmap_ptes/_pmd (fork): -EBUSY when the folio may be
 * pinned and a page is exclusive (the child must get a copy). */
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);
int folio_try_dup_anon_rmap_pmd(struct folio *folio, struct page *page,
				struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);
void folio_dup_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *dst_vma);

struct rmap_walk_control {
	void *arg;
	/* Return false to stop the walk. */
	bool (*rmap_one)(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			 void *arg);
	bool (*done)(struct folio *folio);
};
void rmap_walk(struct folio *folio, struct rmap_walk_control *rwc);

enum ttu_flags {
	TTU_SPLIT_HUGE_PMD = 0x4,
	TTU_IGNORE_MLOCK = 0x8,
	TTU_SYNC = 0x10,
	TTU_HWPOISON = 0x20,
	TTU_BATCH_FLUSH = 0x40,
	TTU_RMAP_LOCKED = 0x80,
};
/* try_to_unmap: unmap folio from every VMA; true when it ends up unmapped. */
bool try_to_unmap(struct folio *folio, enum ttu_flags flags);
/* The batch folio_unmap_pte_batch() chose last (for tests and traces). */
extern unsigned rmap_last_batch;
/* get_and_clear_full_ptes (rmap.c): clear nr PTEs, return the first with
 * the batch's dirty and young bits ORed in (unmap and mremap batches) */
pte_t get_and_clear_full_ptes(pte_t *ptep, unsigned nr);
/* page_vma_mapped_walk: one mapping of a folio that try_to_unmap_one() is at. */
struct page_vma_mapped_walk {
	struct vm_area_struct *vma;
	uint64_t address;
	pmd_t *pmd;
	pte_t *pte; /* NULL when the folio is PMD-mapped here */
};
/* How many PTEs from pvmw->pte try_to_unmap_one() clears as one batch. */
unsigned folio_unmap_pte_batch(struct folio *folio, struct page_vma_mapped_walk *pvmw,
			       enum ttu_flags flags, pte_t pte);

/* folio_pte_batch (mm/internal.h): PTEs from ptep mapping consecutive pages
 * of folio identical but for the ignored bits; at most max_nr. */
unsigned folio_pte_batch(struct folio *folio, pte_t *ptep, pte_t pte, unsigned max_nr);
/* try_to_migrate: replace every mapping of folio by a migration entry
 * (TTU_SPLIT_HUGE_PMD splits PMD mappings first); check folio_mapped(). */
void try_to_migrate(struct folio *folio, enum ttu_flags flags);
/* make_device_exclusive: fault addr in writable (GUP FOLL_WRITE, no
 * FOLL_UNLOCKABLE: a userfault there is a SIGBUS, -EFAULT) and replace its
 * PTE by a device-exclusive entry. 0 with *pagep and its *foliop, locked and
 * referenced (the caller unlocks and puts it), or -errno (-EOPNOTSUPP: not
 * anon; -ELOOP: the retry bound). The kernel returns the page or ERR_PTR. */
long make_device_exclusive(struct mm_struct *mm, uint64_t addr, struct page **pagep,
			   struct folio **foliop);

/* ------------------------------------------------------------- mm/migrate.c */
#define RMP_USE_SHARED_ZEROPAGE (1u << 1)
/* remove_migration_ptes: restore src's migration entries to dst (== src to
 * undo); RMP_USE_SHARED_ZEROPAGE maps all-zero subpages to the zero page. */
void remove_migration_ptes(struct folio *src, struct folio *dst, unsigned flags);
/* migration_entry_wait: a fault found a migration entry (only possible
 * inside the "migrate:entries" race window; the step cannot complete). */
void migration_entry_wait(void);
/* migrate_pages for one folio the caller isolated; 0 or -errno (the folio
 * is put back on failure). */
int migrate_pages(struct folio *folio, enum ttu_flags ttu);
/* Isolate and migrate one folio (the trace's "migrate" step). */
int migrate_folio_sync(struct folio *folio, enum ttu_flags ttu);
int migrate_misplaced_folio_prepare(struct folio *folio, struct vm_area_struct *vma, int node);
int migrate_misplaced_folio(struct folio *folio, int node);
/* Trace switch (numa-scan migrate-on-fault=1): numa_migrate_check() picks
 * another node, so a NUMA hinting fault migrates the folio. */
extern bool numa_migrate_on_fault;

/* ------------------------------------------------------------- kernel/sched/fair.c */
/* task_numa_work over [start, end) of mm: change_prot_numa() on every VMA
 * the scanner would visit. Returns the number of PTEs/PMDs updated. */
long task_numa_work_range(struct mm_struct *mm, uint64_t start, uint64_t end);
/* change_prot_numa (mm/mempolicy.c): change_protection(MM_CP_PROT_NUMA) */
long change_prot_numa(struct vm_area_struct *vma, uint64_t addr, uint64_t end);

/* ------------------------------------------------------------- mm/huge_memory.c */
bool thp_vma_allowable_order(struct vm_area_struct *vma, vm_flags_t vm_flags, bool forced,
			     unsigned order);
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf);
vm_fault_t do_huge_pmd_uffd_rwp(struct vm_fault *vmf);
vm_fault_t do_huge_pmd_numa_page(struct vm_fault *vmf);
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf);
/* map_anon_folio_pmd_nopf: map a new anon PMD-order folio at haddr. */
void map_anon_folio_pmd_nopf(struct folio *folio, pmd_t *pmd, struct vm_area_struct *vma,
			     uint64_t haddr);
void huge_pmd_set_accessed(struct vm_fault *vmf);
/* change_huge_pmd: 0 when the PMD is no longer huge (caller falls back to PTEs). */
long change_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr, pgprot_t newprot,
		     unsigned cp_flags);
void __split_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t address, bool freeze);
void split_huge_pmd_address(struct vm_area_struct *vma, uint64_t address);
void split_huge_pmd_if_needed(struct vm_area_struct *vma, uint64_t address);
int zap_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t addr);
void pgtable_trans_huge_deposit(struct mm_struct *mm, uint64_t haddr, uint64_t table);
uint64_t pgtable_trans_huge_withdraw(struct mm_struct *mm, uint64_t haddr);
void set_huge_zero_folio_pmd(struct vm_area_struct *vma, pmd_t *pmd, uint64_t haddr);
/* copy_huge_pmd (fork): 0 copied or skipped, -EAGAIN when the caller must
 * copy PTEs (no longer huge, or split because maybe pinned). */
int copy_huge_pmd(struct mm_struct *dst_mm, struct mm_struct *src_mm, pmd_t *dst_pmd,
		  pmd_t *src_pmd, uint64_t addr, struct vm_area_struct *dst_vma,
		  struct vm_area_struct *src_vma);
/* move_huge_pmd (mremap): move one PMD leaf; false when *old_pmd is no
 * longer huge (the caller splits and moves PTEs). */
bool move_huge_pmd(struct vm_area_struct *vma, uint64_t old_addr, uint64_t new_addr, pmd_t *old_pmd,
		   pmd_t *new_pmd);
/* deferred_split_folio: queue a large anon folio some of whose pages were
 * unmapped (partially_mapped) for the deferred-split shrinker. */
void deferred_split_folio(struct folio *folio, bool partially_mapped);
/* split_folio: split a large anon folio into order-0 folios through
 * migration entries (the caller holds a reference). 0 or -EAGAIN/-EBUSY. */
int split_folio(struct folio *folio);
/* deferred_split_scan: the shrinker; returns how many folios were split. */
unsigned long deferred_split_scan(void);
/* deferred_split_count: folios queued (the shrinker's count_objects). */
unsigned long deferred_split_count(void);
/* Machine setup/teardown of the per-machine deferred split queue. */
void deferred_split_queue_reset(void);

/* ------------------------------------------------------------- mm/mprotect.c */
long change_protection(struct vm_area_struct *vma, uint64_t start, uint64_t end, unsigned cp_flags);
bool can_change_pte_writable(struct vm_area_struct *vma, uint64_t addr, pte_t pte);
bool can_change_pmd_writable(struct vm_area_struct *vma, uint64_t addr, pmd_t pmd);
long sys_mprotect(struct mm_struct *mm, uint64_t start, uint64_t len, unsigned prot);
/* vma_set_page_prot (mm/mmap.c; modelled in mprotect.c): vm_page_prot from
 * vm_flags, without write for a shared uffd-wp VMA (writenotify). */
void vma_set_page_prot(struct vm_area_struct *vma);

/* ------------------------------------------------------------- mm/mmap.c */
#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
vm_flags_t calc_vm_prot_bits(unsigned prot);
/* Returns the address, or a negative errno. align 0 means PAGE_SIZE. */
uint64_t get_unmapped_area(struct mm_struct *mm, struct address_space *file, uint64_t addr,
			   uint64_t len, uint64_t pgoff);
int64_t sys_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
		 struct address_space *file, uint64_t pgoff, uint64_t align);
long sys_munmap(struct mm_struct *mm, uint64_t start, uint64_t len);
/* munmap without sending the UFFD_EVENT_UNMAP messages: they are gathered
 * into uf (struct userfaultfd_unmap_ctx) for userfaultfd_unmap_complete(). */
long do_munmap(struct mm_struct *mm, uint64_t start, uint64_t len, GArray *uf);
/* Split VMAs so that [start, end) is covered by whole VMAs. */
void vma_split_range(struct mm_struct *mm, uint64_t start, uint64_t end);
/* Re-merge neighbours around [start, end) (vma_merge after a flag change). */
void vma_merge_range(struct mm_struct *mm, uint64_t start, uint64_t end);
/* Tear down a whole mm (exit_mmap). */
void exit_mmap(struct mm_struct *mm);

/* ------------------------------------------------------------- kernel/fork.c */
/* fork(): a new mm named name duplicating parent (dup_mm). fcs (may be NULL)
 * gets the userfaultfd_fork_ctx pairs. Emits EV_FORK. NULL on -ENOMEM. */
struct mm_struct *sys_fork(struct mm_struct *parent, const char *name, GArray *fcs);

/* ------------------------------------------------------------- mm/mremap.c */
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MREMAP_DONTUNMAP 4
/* mremap(): the new address, or a negative errno. Emits EV_MREMAP on success. */
int64_t sys_mremap(struct mm_struct *mm, uint64_t addr, uint64_t old_len, uint64_t new_len,
		   unsigned flags, uint64_t new_addr);

/* ------------------------------------------------------------- mm/madvise.c */
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15
#define MADV_PAGEOUT 21
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#define MADV_COLLAPSE 25
long sys_madvise(struct mm_struct *mm, uint64_t start, uint64_t len, int advice);

/* ------------------------------------------------------------- mm/shmem.c */
enum sgp_type { SGP_READ, SGP_NOALLOC, SGP_CACHE, SGP_WRITE, SGP_FALLOC };
/* Find or create the folio at index. May deliver MISSING/MINOR userfaults
 * when vmf is given. Returns 0 or a VM_FAULT_* code (vmf) / -errno. */
int shmem_get_folio(struct address_space *mapping, uint64_t index, enum sgp_type sgp,
		    struct folio **foliop, struct vm_fault *vmf, vm_fault_t *fault_type);
vm_fault_t shmem_fault(struct vm_fault *vmf);
/* Add a new folio to the page cache at index (takes the cache's references). */
void shmem_add_to_page_cache(struct address_space *mapping, struct folio *folio, uint64_t index);
/* Remove folio from the page cache (drops the cache's references). */
void filemap_remove_folio(struct address_space *mapping, struct folio *folio);
long shmem_fallocate_punch(struct address_space *mapping, uint64_t first, uint64_t nr);
/* shmem_writeout: move an unmapped shmem folio to swap (value entries). */
bool shmem_writeout(struct folio *folio);
/* shmem_unuse (swapoff): read every swapped page of the file back into the
 * page cache. 0 or -ENOMEM. */
int shmem_unuse(struct address_space *mapping);
/* shmem_setattr(ATTR_SIZE): ftruncate to new_pages pages. 0 or -errno. */
long shmem_setattr_size(struct address_space *mapping, uint64_t new_pages);

/* ------------------------------------------------------------- mm/swapfile.c */
/* swapoff: swap every swap PTE of mms and every swapped shmem page of files
 * back in (the one device stays usable). 0 or -errno. */
long sys_swapoff(GPtrArray *mms, GPtrArray *files);

/* ------------------------------------------------------------- mm/vmscan.c, mm/swap_state.c */
/* Reclaim the folios mapped in [start, end) of mm. Returns folios freed. */
long reclaim_range(struct mm_struct *mm, uint64_t start, uint64_t end);
/* folio_isolate_lru: take folio off the LRU with its own reference. */
bool folio_isolate_lru(struct folio *folio);
/* folio_putback_lru: undo folio_isolate_lru (may free the folio). */
void folio_putback_lru(struct folio *folio);
/* shrink_folio_list: try to reclaim each folio; returns the number freed. */
unsigned shrink_folio_list(GPtrArray *folios);
/* reclaim_pages: isolate each folio of the list (skipping those already
 * isolated or off the LRU), then shrink_folio_list(). Returns folios freed. */
unsigned reclaim_pages(GPtrArray *folios);
/* folio_free_swap: drop a folio from the swap cache when no swap PTE still
 * uses its slots (only the cache's own slot references remain). */
bool folio_free_swap(struct folio *folio);
/* add_to_swap: give an anon folio swap slots and put it in the swap cache. */
bool add_to_swap(struct folio *folio);
/* The swap-cache folio for a slot, or NULL. */
struct folio *swap_cache_get_folio(uint64_t slot);
void swap_cache_del_folio(struct folio *folio);
/* split_folio_to_list() for what reclaim and MADV_FREE split: a large anon
 * folio mapped by PTEs only, outside the swap cache. New folios of an
 * isolated folio inherit isolation and are appended to list (may be NULL).
 * Returns false when the folio cannot be split (pinned, extra references). */
bool split_anon_folio_ptemapped(struct folio *folio, GPtrArray *list);

/* ------------------------------------------------------------- mm/khugepaged.c */
struct collapse_control {
	bool is_khugepaged;
	enum scan_result last; /* result reported to the trace */
};
enum scan_result hpage_collapse_scan_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
					 uint64_t address, struct collapse_control *cc);
enum scan_result hpage_collapse_scan_file(struct mm_struct *mm, uint64_t addr,
					  struct address_space *file, uint64_t start,
					  struct collapse_control *cc);
enum scan_result collapse_pte_mapped_thp(struct mm_struct *mm, uint64_t addr, bool install_pmd);
bool file_backed_vma_is_retractable(struct vm_area_struct *vma);
/* One khugepaged_scan_mm_slot pass over every VMA of mm. */
enum scan_result khugepaged_scan_mm(struct mm_struct *mm);
/* khugepaged on the single PMD range containing addr. */
enum scan_result khugepaged_scan_address(struct mm_struct *mm, uint64_t addr);
/* MADV_COLLAPSE; returns 0 or -errno, and stores the last SCAN_* result. */
long madvise_collapse(struct vm_area_struct *vma, uint64_t start, uint64_t end);
extern enum scan_result khugepaged_last_result;

/* ------------------------------------------------------------- mm/gup.c */
bool gup_can_follow_protnone(struct vm_area_struct *vma, unsigned flags);
/* __get_user_pages over nr pages from start. On return *done holds the
 * number of pages obtained; pages[] (may be NULL) gets their struct page.
 * Returns 0, -errno, -EBUSY when the task went to sleep in a userfault,
 * or -ELOOP when the retry bound was exceeded (a livelock). */
long __get_user_pages(struct mm_struct *mm, uint64_t start, uint64_t nr_pages, unsigned gup_flags,
		      struct page **pages, uint64_t *done);
/* GUP-fast over the range: how many pages it could take without the slow path. */
uint64_t gup_fast(struct mm_struct *mm, uint64_t start, uint64_t nr_pages, unsigned gup_flags,
		  struct page **pages);
#define GUP_MAX_RETRIES 64
/* Caller presets; index = gup_caller_names[] value. */
struct gup_preset {
	const char *name;
	unsigned flags;		   /* exactly the kernel's FOLL_* for this caller */
	bool fast_first;	   /* tries GUP-fast before the slow path */
	bool unpin;		   /* pins are released after the access */
	const char *kernel_source; /* where the flags come from */
};
extern const struct gup_preset gup_presets[];
extern const unsigned nr_gup_presets;
/* Run a caller over [start, start + nr pages). write_value is stored for
 * write callers. Emits EV_ACCESS per page touched. Returns 0, -errno, -EBUSY
 * (blocked; *done pages were completed) or -ELOOP. */
long gup_caller_run(struct mm_struct *mm, unsigned caller, unsigned explicit_flags, uint64_t start,
		    uint64_t nr_pages, uint64_t write_value, uint64_t *done);
/* The same, keeping every page it got instead of releasing it: held (may be
 * NULL: release as above) gets one struct gup_held_page per page, in order. */
struct gup_held_page {
	struct page *page;
	uint64_t addr;
	bool pin; /* FOLL_PIN (a pin and a reference), else a FOLL_GET reference */
};
long gup_caller_run_hold(struct mm_struct *mm, unsigned caller, unsigned explicit_flags,
			 uint64_t start, uint64_t nr_pages, uint64_t write_value, uint64_t *done,
			 GArray *held);
/* unpin_user_page() / put_page() of one page gup_caller_run_hold() kept. */
void gup_release_page(struct page *page, bool pin);
/* faultin_page_range: MADV_POPULATE_READ/WRITE over [start, end). Returns 0,
 * -errno (-ENOMEM no VMA, -EINVAL bad VMA, -EFAULT/-EHWPOISON from a fault),
 * -EBUSY (asleep in a userfault after *done pages) or -ELOOP. */
long faultin_page_range(struct mm_struct *mm, uint64_t start, uint64_t end, bool write,
			uint64_t *done);

/* ------------------------------------------------------------- mm/userfaultfd.c */
long mfill_atomic_copy(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t value,
		       uint64_t mode);
long mfill_atomic_zeropage(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len);
long mfill_atomic_continue(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t mode);
long mwriteprotect_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, bool enable_wp);
long mrwprotect_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, bool enable_rwp);
long uffd_wp_range(struct vm_area_struct *vma, uint64_t start, uint64_t len, bool enable_wp);
void userfaultfd_clear_vma(struct vm_area_struct *vma, uint64_t start, uint64_t end);
/* Register [start, end) (already validated by userfaultfd_register) with
 * ctx and the VM_UFFD_* bits in vm_flags: split, set, merge. */
long userfaultfd_register_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t end,
				vm_flags_t vm_flags);
/* close(): clear every VMA of mm registered with ctx. */
void userfaultfd_release_all(struct mm_struct *mm, struct userfaultfd_ctx *ctx);
/* userfaultfd_set_vm_flags: set vm_flags, recomputing vm_page_prot when
 * VM_UFFD_WP changes on a shared VMA (writenotify). */
void userfaultfd_set_vm_flags(struct vm_area_struct *vma, vm_flags_t flags);
/* UFFDIO_MOVE of [src, src + len) to dst in ctx's mm: the bytes moved, or
 * -errno when none. */
long move_pages(struct userfaultfd_ctx *ctx, uint64_t dst_start, uint64_t src_start, uint64_t len,
		uint64_t mode);

/* ------------------------------------------------------------- fs/userfaultfd.c */
vm_fault_t handle_userfault(struct vm_fault *vmf, vm_flags_t reason);
struct userfaultfd_ctx *sys_userfaultfd(struct mm_struct *mm);
long userfaultfd_api(struct userfaultfd_ctx *ctx, uint64_t *features, uint64_t *ioctls);
long userfaultfd_register(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, uint64_t mode,
			  uint64_t *ioctls);
long userfaultfd_unregister(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len);
long userfaultfd_writeprotect(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len,
			      uint64_t mode);
long userfaultfd_rwprotect(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len,
			   uint64_t mode);
long userfaultfd_set_mode(struct userfaultfd_ctx *ctx, uint64_t enable, uint64_t disable);
long userfaultfd_copy(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t value,
		      uint64_t mode);
long userfaultfd_zeropage(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t mode);
long userfaultfd_continue(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t mode);
long userfaultfd_wake(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len);
long userfaultfd_move(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t src, uint64_t len,
		      uint64_t mode);
void userfaultfd_release(struct userfaultfd_ctx *ctx);
/* Drop vma's uffd ctx and __VM_UFFD_FLAGS (fork / mremap without the event). */
void userfaultfd_reset_ctx(struct vm_area_struct *vma);
/* mremap: *uf gets the ctx to notify (UFFD_FEATURE_EVENT_REMAP), else the
 * new VMA is reset; _complete queues UFFD_EVENT_REMAP. */
void mremap_userfaultfd_prep(struct vm_area_struct *new_vma, struct userfaultfd_ctx **uf);
void userfaultfd_remove(struct vm_area_struct *vma, uint64_t start, uint64_t end);
struct userfaultfd_unmap_ctx {
	struct userfaultfd_ctx *ctx;
	uint64_t start, end;
};
void userfaultfd_unmap_prep(struct vm_area_struct *vma, uint64_t start, uint64_t end, GArray *uf);
void userfaultfd_unmap_complete(GArray *uf);
void mremap_userfaultfd_complete(struct userfaultfd_ctx **uf, uint64_t from, uint64_t to,
				 uint64_t len);
/* fork: one entry per parent context that gets a child context. */
struct userfaultfd_fork_ctx {
	struct userfaultfd_ctx *orig, *new;
};
int dup_userfaultfd(struct vm_area_struct *vma, GArray *fcs);
void dup_userfaultfd_complete(GArray *fcs);

/* ------------------------------------------------------------- fs/proc/task_mmu.c */
uint64_t pagemap_read_word(struct mm_struct *mm, uint64_t addr);
/* PAGEMAP_SCAN: fills out[] with the matching page addresses (one per page,
 * in order) up to max_pages (0 = no limit); returns the count or -errno. */
long pagemap_scan(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t category_mask,
		  uint64_t category_inverted, uint64_t category_anyof_mask, uint64_t return_mask,
		  uint64_t max_pages, GArray *out);
/* PAGEMAP_SCAN with its flags (PM_SCAN_WP_MATCHING, PM_SCAN_CHECK_WPASYNC). */
struct pm_scan_arg;
long do_pagemap_scan(struct mm_struct *mm, const struct pm_scan_arg *arg, GArray *out);

/* ------------------------------------------------------------- arch/x86/mm/fault.c */
#define USER_FAULT_MAX_RETRIES 64
/* A user load (write=false) or store: do_user_addr_fault until the MMU can
 * translate, then access the data. Returns RESULT_* from trace.h. */
int user_access(struct mm_struct *mm, uint64_t addr, bool write, uint64_t value_in,
		uint64_t *value_out);
/* The hardware walk: the page addr translates to, for this access, or NULL. */
struct page *mmu_translate(struct mm_struct *mm, uint64_t addr, bool write);

/* ------------------------------------------------------------- sim/machine.c */
void machine_init(uint64_t frames, uint64_t swap_slots);
void machine_destroy(void);

#endif
