/* sim/mm/userfaultfd.c - UFFDIO_COPY/ZEROPAGE/CONTINUE, (R)WP range changes
 * and the VMA side of register/unregister (mm/userfaultfd.c), with the RWP
 * series: mrwprotect_range() (09/15) and the combined resolve pass of
 * userfaultfd_clear_vma().
 *
 * No mmap lock, map_changing_lock or PTL exists in the model; the
 * mmap_changing check is kept because user space can observe its -EAGAIN.
 */
#include "internal.h"
#include "patch.h"

#ifndef EIO
#define EIO 5 /* not in the shared errno list: only CONTINUE onto hwpoison returns it */
#endif

/* MFILL_ATOMIC_WP: UFFDIO_COPY_MODE_WP and UFFDIO_CONTINUE_MODE_WP share bit 1. */
#define MFILL_ATOMIC_WP (1ULL << 1)

enum mfill_atomic_mode { MFILL_ATOMIC_COPY, MFILL_ATOMIC_ZEROPAGE, MFILL_ATOMIC_CONTINUE };

/* models validate_dst_vma() */
static bool validate_dst_vma(struct vm_area_struct *dst_vma, uint64_t dst_end)
{
	if (dst_end > dst_vma->vm_end)
		return false;
	/* Registration is where VM_MAYWRITE was checked. */
	return dst_vma->vm_userfaultfd_ctx != NULL;
}

/* models find_vma_and_prepare_anon(): a private VMA gets its anon_vma at
 * lookup, before any check on the range or the registration, so that even
 * a UFFDIO_* call that then fails leaves it there (fork copies such a VMA's
 * page tables: vma_needs_copy()). */
static struct vm_area_struct *find_vma_and_prepare_anon(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (vma && !(vma->vm_flags & VM_SHARED))
		anon_vma_prepare(vma);
	return vma;
}

/* models uffd_mfill_lock() (uffd_lock_vma(): NULL is -ENOENT) */
static struct vm_area_struct *uffd_mfill_lock(struct mm_struct *dst_mm, uint64_t dst_start,
					      uint64_t len)
{
	struct vm_area_struct *dst_vma = find_vma_and_prepare_anon(dst_mm, dst_start);

	if (!dst_vma || !validate_dst_vma(dst_vma, dst_start + len))
		return NULL;
	return dst_vma;
}

/* models mfill_file_over_size(): a fill into a file mapping beyond i_size */
static bool mfill_file_over_size(struct vm_area_struct *dst_vma, uint64_t dst_addr)
{
	if (!dst_vma->vm_file)
		return false;
	return linear_page_index(dst_vma, dst_addr) >= dst_vma->vm_file->nr_pages;
}

/* models mfill_atomic_install_pte() */
static long mfill_atomic_install_pte(pte_t *dst_pte, struct vm_area_struct *dst_vma,
				     uint64_t dst_addr, struct page *page, uint64_t flags)
{
	struct folio *folio = page_folio(page);
	bool page_in_cache = !folio_test_anon(folio) && folio->mapping;
	bool vm_shared = dst_vma->vm_flags & VM_SHARED;
	bool writable;

	if (mfill_file_over_size(dst_vma, dst_addr))
		return -EFAULT;
	/* A uffd-wp marker may be overwritten: MISSING|WP on a none PTE. */
	if (!pte_none(*dst_pte) && !pte_marker_uffd_wp(*dst_pte))
		return -EEXIST;

	/* The entry comes from vm_page_prot: into an RWP VMA it is unarmed. */
	pte_t entry = pte_mkdirty(pfn_pte(page_to_pfn(page), dst_vma->vm_page_prot));
	if (page_in_cache && !vm_shared)
		writable = false; /* a private mapping of a cache page: COW later */
	else
		writable = dst_vma->vm_flags & VM_WRITE;
	if (writable)
		entry = pte_mkwrite(entry);
	if (flags & MFILL_ATOMIC_WP)
		entry = pte_mkuffd(entry);

	if (page_in_cache) {
		folio_add_file_rmap_ptes(folio, page, 1, dst_vma);
	} else {
		folio_add_new_anon_rmap(folio, dst_vma, dst_addr, true);
		folio_add_anon_rmap_ptes(folio, page, 1, dst_vma, true);
	}
	*dst_pte = entry;
	return 0;
}

/* models mfill_atomic_pte_copy() */
static long mfill_atomic_pte_copy(pte_t *dst_pte, struct vm_area_struct *dst_vma, uint64_t dst_addr,
				  uint64_t value, uint64_t flags)
{
	if (!pte_none(*dst_pte) && !pte_marker_uffd_wp(*dst_pte))
		return -EEXIST;
	struct folio *folio = folio_alloc(0);
	if (!folio)
		return -ENOMEM;
	folio_page(folio, 0)->content = value;
	/* The allocation reference becomes the PTE mapping's reference. */
	long ret =
		mfill_atomic_install_pte(dst_pte, dst_vma, dst_addr, folio_page(folio, 0), flags);
	if (ret)
		folio_put(folio);
	return ret;
}

/* models mfill_atomic_pte_zeropage(): unlike mfill_atomic_install_pte()
 * (pte_none_mostly()), only a none PTE is filled; a uffd-wp marker is
 * -EEXIST */
static long mfill_atomic_pte_zeropage(pte_t *dst_pte, struct vm_area_struct *dst_vma,
				      uint64_t dst_addr)
{
	if (mfill_file_over_size(dst_vma, dst_addr))
		return -EFAULT;
	if (!pte_none(*dst_pte))
		return -EEXIST;
	*dst_pte = pte_mkspecial(pfn_pte(mem_map.zero_pfn, dst_vma->vm_page_prot));
	return 0;
}

/* models mfill_atomic_pte_continue() */
static long mfill_atomic_pte_continue(pte_t *dst_pte, struct vm_area_struct *dst_vma,
				      uint64_t dst_addr, uint64_t flags)
{
	struct folio *folio;
	uint64_t pgoff = linear_page_index(dst_vma, dst_addr);
	int ret = shmem_get_folio(dst_vma->vm_file, pgoff, SGP_NOALLOC, &folio, NULL, NULL);

	/* Not in the page cache: the caller reports -EFAULT. Other errors
	 * pass through: beyond i_size shmem_get_folio() says -EINVAL. */
	if (ret == -ENOENT)
		ret = -EFAULT;
	if (ret)
		return ret;
	if (!folio)
		return -EFAULT;
	/* Returned locked in the kernel: see shmem_fault(). */
	if (folio_test_locked(folio))
		race_window_would_wait("folio lock");
	struct page *page = folio_page(folio, pgoff - folio->index);
	if (page->flags & PG_hwpoison)
		return -EIO;
	folio_get(folio);
	long err = mfill_atomic_install_pte(dst_pte, dst_vma, dst_addr, page, flags);
	if (err)
		folio_put(folio);
	return err;
}

/* models shmem_mfill_atomic_pte() (mm/shmem.c) */
static long shmem_mfill_atomic_pte(pte_t *dst_pte, struct vm_area_struct *dst_vma,
				   uint64_t dst_addr, uint64_t value, bool zeropage, uint64_t flags)
{
	struct address_space *mapping = dst_vma->vm_file;
	uint64_t pgoff = linear_page_index(dst_vma, dst_addr);

	if (pgoff >= mapping->nr_pages)
		return -EFAULT;
	/* shmem_add_to_page_cache() fails on an occupied index. */
	if (mapping->i_pages[pgoff])
		return -EEXIST;
	/* The kernel finds a busy PTE only after adding to the cache and
	 * then deletes the folio again; checking first has the same result. */
	if (!pte_none(*dst_pte) && !pte_marker_uffd_wp(*dst_pte))
		return -EEXIST;
	struct folio *folio = folio_alloc(0);
	if (!folio)
		return -ENOMEM;
	folio_page(folio, 0)->content = zeropage ? 0 : value;
	shmem_add_to_page_cache(mapping, folio, pgoff);
	return mfill_atomic_install_pte(dst_pte, dst_vma, dst_addr, folio_page(folio, 0), flags);
}

/* models mfill_atomic_pte() */
static long mfill_atomic_pte(pte_t *dst_pte, struct vm_area_struct *dst_vma, uint64_t dst_addr,
			     uint64_t value, enum mfill_atomic_mode mode, uint64_t flags)
{
	if (mode == MFILL_ATOMIC_CONTINUE)
		return mfill_atomic_pte_continue(dst_pte, dst_vma, dst_addr, flags);
	/* A private mapping (anon or private shmem) gets anonymous pages. */
	if (!(dst_vma->vm_flags & VM_SHARED)) {
		if (mode == MFILL_ATOMIC_COPY)
			return mfill_atomic_pte_copy(dst_pte, dst_vma, dst_addr, value, flags);
		return mfill_atomic_pte_zeropage(dst_pte, dst_vma, dst_addr);
	}
	return shmem_mfill_atomic_pte(dst_pte, dst_vma, dst_addr, value,
				      mode == MFILL_ATOMIC_ZEROPAGE, flags);
}

/* models mfill_atomic(): returns the bytes filled, or -errno if none */
static long mfill_atomic(struct userfaultfd_ctx *ctx, uint64_t dst_start, uint64_t len,
			 uint64_t value, enum mfill_atomic_mode mode, uint64_t flags)
{
	struct mm_struct *dst_mm = ctx->mm;
	uint64_t copied = 0;
	long err;

	struct vm_area_struct *dst_vma = uffd_mfill_lock(dst_mm, dst_start, len);
	if (!dst_vma)
		return -ENOENT;
	if (ctx->mmap_changing)
		return -EAGAIN;
	/* Shared anon memory is shmem in the kernel; the model has none. */
	if (vma_is_anonymous(dst_vma) && (dst_vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* A write-protected fill needs a WP registration. */
	if ((flags & MFILL_ATOMIC_WP) && !(dst_vma->vm_flags & VM_UFFD_WP))
		return -EINVAL;
	if (!vma_is_shmem(dst_vma) && mode == MFILL_ATOMIC_CONTINUE)
		return -EINVAL;

	for (uint64_t dst_addr = dst_start; dst_addr < dst_start + len; dst_addr += PAGE_SIZE) {
		pmd_t *dst_pmd = pmd_lookup(dst_mm->pgd, dst_addr, true, dst_mm->id);
		/* A huge PMD is already a mapping: nothing to fill. */
		if (pmd_leaf(*dst_pmd) || is_pmd_migration_entry(*dst_pmd)) {
			err = -EEXIST;
			break;
		}
		pte_alloc(dst_pmd, dst_mm->id);
		pte_t *dst_pte = pte_offset_map(dst_pmd, dst_addr);
		err = mfill_atomic_pte(dst_pte, dst_vma, dst_addr, value, mode, flags);
		if (err)
			break;
		copied += PAGE_SIZE;
	}
	return copied ? (long)copied : err;
}

/* models mfill_atomic_copy() */
long mfill_atomic_copy(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t value,
		       uint64_t mode)
{
	return mfill_atomic(ctx, dst, len, value, MFILL_ATOMIC_COPY, mode & MFILL_ATOMIC_WP);
}

/* models mfill_atomic_zeropage() */
long mfill_atomic_zeropage(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len)
{
	return mfill_atomic(ctx, dst, len, 0, MFILL_ATOMIC_ZEROPAGE, 0);
}

/* models mfill_atomic_continue() */
long mfill_atomic_continue(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t mode)
{
	return mfill_atomic(ctx, dst, len, 0, MFILL_ATOMIC_CONTINUE, mode & MFILL_ATOMIC_WP);
}

/* models uffd_wp_range() */
long uffd_wp_range(struct vm_area_struct *dst_vma, uint64_t start, uint64_t len, bool enable_wp)
{
	unsigned mm_cp_flags = enable_wp ? MM_CP_UFFD_WP : MM_CP_UFFD_WP_RESOLVE;

	/* vm_page_prot is already write-protected where needed; only try to
	 * upgrade what the fault handler could upgrade anyway. */
	if (!enable_wp && vma_wants_manual_pte_write_upgrade(dst_vma))
		mm_cp_flags |= MM_CP_TRY_CHANGE_WRITABLE;
	return change_protection(dst_vma, start, start + len, mm_cp_flags);
}

/* models mwriteprotect_range() */
long mwriteprotect_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, bool enable_wp)
{
	struct mm_struct *dst_mm = ctx->mm;
	uint64_t end = start + len;
	long err = -ENOENT;

	if (ctx->mmap_changing)
		return -EAGAIN;
	/* No pre-scan: VMAs before a non-WP one stay changed. */
	for (uint64_t addr = start; addr < end;) {
		struct vm_area_struct *dst_vma = find_vma(dst_mm, addr);
		if (!dst_vma || dst_vma->vm_start >= end)
			break;
		if (!userfaultfd_wp(dst_vma))
			return -ENOENT;
		uint64_t _start = dst_vma->vm_start > start ? dst_vma->vm_start : start;
		uint64_t _end = dst_vma->vm_end < end ? dst_vma->vm_end : end;
		err = uffd_wp_range(dst_vma, _start, _end - _start, enable_wp);
		if (err < 0)
			return err;
		/* Reported per VMA: a later non-WP VMA fails the ioctl with
		 * -ENOENT, but this part stays changed. */
		mm_event_emit(
			(struct mm_event){ .kind = enable_wp ? EV_UFFD_WP : EV_UFFD_UNWP,
					   .mm_id = dst_mm->id,
					   .address = _start,
					   .len = _end - _start,
					   .ctx_id = ctx->id,
					   .mode = enable_wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0 });
		err = 0;
		addr = _end;
	}
	return err;
}

/* models mrwprotect_range() (RWP 09/15) */
long mrwprotect_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, bool enable_rwp)
{
	struct mm_struct *dst_mm = ctx->mm;
	uint64_t end = start + len;
	unsigned mm_cp_flags = enable_rwp ? MM_CP_UFFD_RWP : MM_CP_UFFD_RWP_RESOLVE;
	bool found = false;
	struct vm_area_struct *dst_vma;

	if (ctx->mmap_changing)
		return -EAGAIN;
	/* Validate every VMA first, so a failure cannot leave only a prefix
	 * of the range changed. Holes are skipped. */
	for (uint64_t addr = start; (dst_vma = find_vma(dst_mm, addr)) && dst_vma->vm_start < end;
	     addr = dst_vma->vm_end) {
		if (!userfaultfd_rwp(dst_vma) || dst_vma->vm_userfaultfd_ctx != ctx)
			return -ENOENT;
		found = true;
	}
	if (!found)
		return -ENOENT;

	for (uint64_t addr = start; (dst_vma = find_vma(dst_mm, addr)) && dst_vma->vm_start < end;
	     addr = dst_vma->vm_end) {
		uint64_t vma_start = dst_vma->vm_start > start ? dst_vma->vm_start : start;
		uint64_t vma_end = dst_vma->vm_end < end ? dst_vma->vm_end : end;
		unsigned flags = mm_cp_flags;

		/* Per VMA: RWP may be registered on a read-only mapping. */
		if (!enable_rwp && vma_wants_manual_pte_write_upgrade(dst_vma))
			flags |= MM_CP_TRY_CHANGE_WRITABLE;
		change_protection(dst_vma, vma_start, vma_end, flags);
	}
	return 0;
}

/* models userfaultfd_set_vm_flags() */
void userfaultfd_set_vm_flags(struct vm_area_struct *vma, vm_flags_t flags)
{
	const bool uffd_wp_changed = (vma->vm_flags ^ flags) & VM_UFFD_WP;

	vma->vm_flags = flags;
	/* Shared mappings need writenotify exactly while uffd-wp is on. */
	if ((vma->vm_flags & VM_SHARED) && uffd_wp_changed)
		vma_set_page_prot(vma);
}

/* models userfaultfd_clear_vma() */
void userfaultfd_clear_vma(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	struct mm_struct *mm = vma->vm_mm;

	/* One pass for whichever mode the VMA had; it must work even when
	 * the VMA was made PROT_NONE after registration. */
	if (userfaultfd_protected(vma)) {
		unsigned mm_cp_flags = 0;

		if (userfaultfd_wp(vma))
			mm_cp_flags |= MM_CP_UFFD_WP_RESOLVE;
		if (userfaultfd_rwp(vma))
			mm_cp_flags |= MM_CP_UFFD_RWP_RESOLVE;
		if (vma_wants_manual_pte_write_upgrade(vma))
			mm_cp_flags |= MM_CP_TRY_CHANGE_WRITABLE;
		change_protection(vma, start, end, mm_cp_flags);
	}

	vma_split_range(mm, start, end);
	vma = vma_lookup(mm, start);
	userfaultfd_set_vm_flags(vma, vma->vm_flags & ~__VM_UFFD_FLAGS);
	vma->vm_userfaultfd_ctx = NULL;
	vma_merge_range(mm, start, end);
}

/* models userfaultfd_register_range() */
long userfaultfd_register_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t end,
				vm_flags_t vm_flags)
{
	struct mm_struct *mm = ctx->mm;
	struct vm_area_struct *vma;

	for (uint64_t addr = start;
	     addr < end && (vma = find_vma(mm, addr)) && vma->vm_start < end;) {
		uint64_t vma_start = vma->vm_start > start ? vma->vm_start : start;
		uint64_t vma_end = vma->vm_end < end ? vma->vm_end : end;

		/* Nothing to do: already registered with this ctx in this
		 * mode. 6.18 skips a VMA whose modes include the requested
		 * ones (so a registration with fewer modes keeps the others);
		 * under the series, after "mm/userfaultfd: clear uffd-wp PTE
		 * state when re-registering without WP" (2026), only an exact
		 * match is skipped. */
		if (vma->vm_userfaultfd_ctx == ctx &&
		    (kernel_base->uffd_register_exact_mode
			     ? (vma->vm_flags & __VM_UFFD_FLAGS) == vm_flags
			     : (vma->vm_flags & vm_flags) == vm_flags)) {
			addr = vma->vm_end;
			continue;
		}
		vma_split_range(mm, vma_start, vma_end);
		vma = vma_lookup(mm, vma_start);
		userfaultfd_set_vm_flags(vma, (vma->vm_flags & ~__VM_UFFD_FLAGS) | vm_flags);
		vma->vm_userfaultfd_ctx = ctx;
		vma_merge_range(mm, vma_start, vma_end);
		addr = vma_end;
	}
	return 0;
}

/* models userfaultfd_release_all() */
void userfaultfd_release_all(struct mm_struct *mm, struct userfaultfd_ctx *ctx)
{
	struct vm_area_struct *vma;

	for (uint64_t addr = 0; (vma = find_vma(mm, addr));) {
		uint64_t start = vma->vm_start, end = vma->vm_end;

		if (vma->vm_userfaultfd_ctx != ctx) {
			addr = end;
			continue;
		}
		userfaultfd_clear_vma(vma, start, end);
		addr = end;
	}
}

/*
 * UFFDIO_MOVE. The RWP series arms whatever lands in an RWP destination
 * (rwp-series.md §2.7): a present entry becomes PAGE_NONE + uffd, a swap
 * entry gets the swap uffd bit. Elsewhere the moved entry follows mremap():
 * dirty, writable when the VMA is, no uffd bit.
 */

/* models the RWP arming of a moved present entry (move_present_ptes() and
 * move_zeropage_pte() with RWP) */
static pte_t move_arm_pte(struct vm_area_struct *dst_vma, pte_t pte)
{
	if (userfaultfd_rwp(dst_vma) && !patch_hunk(HUNK_MOVE_NO_ARM))
		pte = pte_modify(pte_mkuffd(pte), PAGE_NONE);
	return pte;
}

/* models folio_move_anon_rmap() (mm/rmap.c) with the index update of
 * move_present_ptes() */
static void folio_move_anon_rmap(struct folio *folio, struct vm_area_struct *dst_vma,
				 uint64_t dst_addr)
{
	folio->mapping = dst_vma->anon_vma;
	folio->index = linear_page_index(dst_vma, dst_addr);
}

/* models move_present_ptes() for one order-0 page */
static long move_present_ptes(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			      uint64_t dst_addr, uint64_t src_addr, pte_t *dst_pte, pte_t *src_pte)
{
	pte_t orig_src_pte = *src_pte;
	struct folio *folio = vm_normal_folio(src_vma, src_addr, orig_src_pte);
	pte_t orig_dst_pte;

	if (!folio || !folio_test_anon(folio) || folio_test_large(folio))
		return -EBUSY; /* large folios: the split is not modelled */
	if (folio_maybe_dma_pinned(folio) || !PageAnonExclusive(folio_page(folio, 0)))
		return -EBUSY;
	if ((folio->flags & FOLIO_isolated) || folio_test_locked(folio))
		return -EAGAIN;
	*src_pte = __pte(0);
	folio_move_anon_rmap(folio, dst_vma, dst_addr);
	orig_dst_pte = pfn_pte(folio_pfn(folio), dst_vma->vm_page_prot);
	/* Follow mremap() behaviour and treat the entry dirty after the move. */
	orig_dst_pte = pte_mkdirty(orig_dst_pte);
	if (dst_vma->vm_flags & VM_WRITE)
		orig_dst_pte = pte_mkwrite(orig_dst_pte);
	if (pte_val(orig_src_pte) & _PAGE_SOFT_DIRTY)
		orig_dst_pte = __pte(pte_val(orig_dst_pte) | _PAGE_SOFT_DIRTY);
	*dst_pte = move_arm_pte(dst_vma, orig_dst_pte);
	return 0;
}

/* models move_swap_pte() */
static long move_swap_pte(struct vm_area_struct *dst_vma, pte_t *dst_pte, pte_t *src_pte)
{
	pte_t orig_src_pte = *src_pte;
	swp_entry_t entry = pte_to_swp_entry(orig_src_pte);
	uint64_t slot = swp_offset(entry);

	if (non_swap_entry(entry))
		return is_migration_entry(entry) ? -EAGAIN : -EFAULT;
	/* A swap-cache folio would have its rmap moved too: not modelled. */
	if (swap_info.slots[slot].count != 1 || swap_cache_get_folio(slot))
		return -EBUSY;
	*src_pte = __pte(0);
	orig_src_pte = pte_swp_clear_uffd(orig_src_pte);
	if (userfaultfd_rwp(dst_vma))
		orig_src_pte = pte_swp_mkuffd(orig_src_pte);
	*dst_pte = orig_src_pte;
	return 0;
}

/* models move_zeropage_pte() */
static long move_zeropage_pte(struct vm_area_struct *dst_vma, pte_t *dst_pte, pte_t *src_pte)
{
	pte_t zero_pte = pte_mkspecial(pfn_pte(mem_map.zero_pfn, dst_vma->vm_page_prot));

	*src_pte = __pte(0);
	*dst_pte = move_arm_pte(dst_vma, zero_pte);
	return 0;
}

/* models move_pages_pte() with the PMD checks of move_pages()' loop before
 * it: one page. 0 moved (or a hole skipped with ALLOW_SRC_HOLES), -ENOENT a
 * source hole, or an error */
static long move_pages_pte(struct mm_struct *mm, struct vm_area_struct *dst_vma,
			   struct vm_area_struct *src_vma, uint64_t dst_addr, uint64_t src_addr,
			   uint64_t mode)
{
	bool holes = mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES;
	pmd_t *src_pmd = mm_find_pmd(mm, src_addr, false);
	pmd_t *dst_pmd;
	pte_t *src_pte, *dst_pte;

	if (!src_pmd) {
		if (!holes)
			return -ENOENT;
		src_pmd = mm_find_pmd(mm, src_addr, true); /* mm_alloc_pmd() */
	}
	dst_pmd = mm_find_pmd(mm, dst_addr, true);
	if (!src_pmd || !dst_pmd)
		return -ENOMEM;
	/* A THP at the destination is not overridden, whatever the source. */
	if (pmd_leaf(*dst_pmd) || is_pmd_migration_entry(*dst_pmd))
		return -EEXIST;
	if (!pmd_none(*src_pmd) && !pmd_is_table(*src_pmd))
		return -EBUSY; /* a huge PMD: move_pages_huge_pmd() is not modelled */
	if (pmd_none(*src_pmd)) {
		if (!holes)
			return -ENOENT;
		if (!pte_alloc(src_pmd, mm->id))
			return -ENOMEM;
	}
	if (!pte_alloc(dst_pmd, mm->id))
		return -ENOMEM;
	src_pte = pte_offset_map(src_pmd, src_addr);
	dst_pte = pte_offset_map(dst_pmd, dst_addr);
	/* The destination is checked before the source, as the kernel does. */
	if (!pte_none(*dst_pte))
		return -EEXIST;
	if (pte_none(*src_pte))
		return holes ? 0 : -ENOENT; /* nothing to do to move a hole */
	if (!pte_present(*src_pte))
		return move_swap_pte(dst_vma, dst_pte, src_pte);
	if (is_zero_pfn(pte_pfn(*src_pte)))
		return move_zeropage_pte(dst_vma, dst_pte, src_pte);
	return move_present_ptes(dst_vma, src_vma, dst_addr, src_addr, dst_pte, src_pte);
}

/* models vma_move_compatible() and validate_move_areas() */
static long validate_move_areas(struct userfaultfd_ctx *ctx, struct vm_area_struct *src_vma,
				struct vm_area_struct *dst_vma)
{
	const vm_flags_t bad = VM_PFNMAP | VM_IO | VM_HUGETLB | VM_MIXEDMAP;

	if ((src_vma->vm_flags & bad) || (dst_vma->vm_flags & bad))
		return -EINVAL;
	if ((src_vma->vm_flags & VM_ACCESS_FLAGS) != (dst_vma->vm_flags & VM_ACCESS_FLAGS) ||
	    (src_vma->vm_flags & VM_LOCKED) != (dst_vma->vm_flags & VM_LOCKED))
		return -EINVAL;
	if (!(src_vma->vm_flags & VM_WRITE))
		return -EINVAL;
	if ((src_vma->vm_flags & VM_SHARED) || (dst_vma->vm_flags & VM_SHARED) ||
	    !vma_is_anonymous(src_vma) || !vma_is_anonymous(dst_vma))
		return -EINVAL;
	if (dst_vma->vm_userfaultfd_ctx != ctx)
		return -EINVAL;
	return 0;
}

/* models move_pages(): the bytes moved, or -errno when none */
long move_pages(struct userfaultfd_ctx *ctx, uint64_t dst_start, uint64_t src_start, uint64_t len,
		uint64_t mode)
{
	struct mm_struct *mm = ctx->mm;
	struct vm_area_struct *src_vma, *dst_vma;
	uint64_t moved = 0;
	long err;

	/* Sanitize the command parameters. */
	if ((src_start & ~PAGE_MASK) || (dst_start & ~PAGE_MASK) || (len & ~PAGE_MASK) || !len)
		return -EINVAL;
	if (src_start + len <= src_start || dst_start + len <= dst_start)
		return -EINVAL;
	/* uffd_move_lock() -> find_vmas_mm_locked(): the destination gets its
	 * anon_vma at lookup, whatever the checks below then say. */
	dst_vma = find_vma_and_prepare_anon(mm, dst_start);
	if (!dst_vma)
		return -ENOENT;
	src_vma = vma_lookup(mm, src_start);
	if (!src_vma)
		return -ENOENT;
	if (src_start + len > src_vma->vm_end || dst_start + len > dst_vma->vm_end)
		return -EINVAL;
	err = validate_move_areas(ctx, src_vma, dst_vma);
	if (err)
		return err;
	/* No overlap check: the running kernel moves a range onto itself
	 * page by page (EEXIST for a present destination, ENOENT for a hole). */
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		err = move_pages_pte(mm, dst_vma, src_vma, dst_start + off, src_start + off, mode);
		if (err)
			break;
		moved += PAGE_SIZE;
	}
	return moved ? (long)moved : err;
}
