/* sim/mm/gup.c - get_user_pages and friends (mm/gup.c), the GUP helpers that
 * live in include/linux/mm.h and mm/internal.h, and the FOLL_* flags the
 * kernel's GUP callers pass (the caller presets).
 *
 * Kernel followed: mm/gup.c of linux-mm at 0092cb388b08 (the tree patch 08
 * applies to) and torvalds/linux master for the callers. The sim follows one
 * page per follow_page_mask() call; the kernel batches contiguous PTEs and
 * whole PMDs, which changes nothing observable here.
 *
 * The mmap lock is not modelled: "the lock was dropped" (VM_FAULT_RETRY with
 * FAULT_FLAG_ALLOW_RETRY) shows up as -EBUSY, and when the fault put the task
 * to sleep in handle_userfault (current->sleeping) the GUP stops there and
 * the engine resumes it after the wake.
 *
 * The kernel's retry loops have no bound; a retry that never makes progress
 * hangs the task until a fatal signal. The sim bounds them (GUP_MAX_RETRIES
 * retries of one page without any change of its PTE/PMD) and reports -ELOOP
 * with EV_LIVELOCK instead: that is how patch 08 v5's FOLL_FORCE livelock
 * (rwp-series.md §4.6) is detected.
 */
#include "mm/internal.h"

#include "patch.h"
#include "sched.h"

/* ---------------------------------------------------------- include/linux/mm.h */

/* models gup_can_follow_protnone() (include/linux/mm.h, with RWP 08/15) */
bool gup_can_follow_protnone(struct vm_area_struct *vma, unsigned flags)
{
	/* RWP uses protnone to track accesses, not for NUMA hints: every GUP,
	 * read or write, must take the fault so userfaultfd sees the access. */
	if (patch_hunk(HUNK_08D) && userfaultfd_rwp(vma)) {
		/* v6 gate: in an inaccessible VMA handle_mm_fault() makes no
		 * progress on protnone, so forcing the fault would livelock a
		 * FOLL_FORCE GUP. v1-v5 lack the gate. */
		if (!patch_hunk(HUNK_08E) || vma_is_accessible(vma))
			return false;
	}
	/* Callers that do not honor NUMA hints follow protnone silently. */
	if (!(flags & FOLL_HONOR_NUMA_FAULT))
		return true;
	/* NUMA hinting faults are not processed in inaccessible VMAs. */
	return !vma_is_accessible(vma);
}

/* models vm_fault_to_errno() */
static int vm_fault_to_errno(vm_fault_t vm_fault, unsigned foll_flags)
{
	if (vm_fault & VM_FAULT_OOM)
		return -ENOMEM;
	if (vm_fault & VM_FAULT_HWPOISON)
		return (foll_flags & FOLL_HWPOISON) ? -EHWPOISON : -EFAULT;
	if (vm_fault & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV))
		return -EFAULT;
	return 0;
}

/* ------------------------------------------------------------ mm/internal.h */

/* models gup_must_unshare(): a R/O pin of a possibly shared anon page must
 * unshare first, or a later COW would leave the pin on the old page. KSM and
 * hugetlb special cases are not modelled. */
static bool gup_must_unshare(struct vm_area_struct *vma, unsigned flags, struct page *page)
{
	if ((flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN)
		return false;
	if (!folio_test_anon(page_folio(page)))
		return false;
	return !PageAnonExclusive(page);
}

/* ------------------------------------------------------------ arch/x86 pgtable.h */

/* models pte_access_permitted() (x86, without protection keys) */
static bool pte_access_permitted(pte_t pte, bool write)
{
	uint64_t need = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);

	return (pte_val(pte) & need) == need;
}

/* models pmd_access_permitted() (x86, without protection keys) */
static bool pmd_access_permitted(pmd_t pmd, bool write)
{
	uint64_t need = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);

	return (pmd_val(pmd) & need) == need;
}

/* ------------------------------------------------------------------ mm/gup.c */

/* The zero pages are never refcounted by GUP in the model (the kernel does
 * not pin them either; their refcount is meaningless). */
static bool gup_folio_is_zero(const struct folio *folio) { return folio_test_zero(folio); }

/* models gup_put_folio() */
static void gup_put_folio(struct folio *folio, int refs, unsigned flags)
{
	if (gup_folio_is_zero(folio))
		return;
	if (flags & FOLL_PIN) {
		folio->pincount -= refs;
		g_assert(folio->pincount >= 0);
	}
	folio_put_refs(folio, refs);
}

/* models try_grab_folio(): one reference per GET, and per PIN one pin plus
 * one reference (the model's refcount convention, model/folio.h). */
static int try_grab_folio(struct folio *folio, int refs, unsigned flags)
{
	if (!(flags & (FOLL_GET | FOLL_PIN)) || gup_folio_is_zero(folio))
		return 0;
	folio->refcount += refs;
	if (flags & FOLL_PIN)
		folio->pincount += refs;
	return 0;
}

/* models can_follow_write_common() */
static bool can_follow_write_common(struct page *page, struct vm_area_struct *vma, unsigned flags)
{
	/* Only FOLL_FORCE may write through a non-writable entry ... */
	if (!(flags & FOLL_FORCE))
		return false;
	/* ... and never in shared mappings ... */
	if (vma->vm_flags & (VM_MAYSHARE | VM_SHARED))
		return false;
	/* ... or read-only private ones ... */
	if (!(vma->vm_flags & VM_MAYWRITE))
		return false;
	/* ... or writable ones, which must take the write fault instead. */
	if (vma->vm_flags & VM_WRITE)
		return false;
	/* COW was broken: an exclusive anon page could be mapped writable. */
	return page && folio_test_anon(page_folio(page)) && PageAnonExclusive(page);
}

/* models no_page_table() */
static long no_page_table(struct vm_area_struct *vma, unsigned flags, uint64_t address)
{
	/* A core dump must not allocate: an anon hole is written as a hole.
	 * shmem has a fault handler that may find the page, so it faults. */
	if ((flags & FOLL_DUMP) && vma_is_anonymous(vma))
		return -EFAULT;
	return 0;
}

/* models can_follow_write_pmd() (soft-dirty tracking is not modelled) */
static bool can_follow_write_pmd(pmd_t pmd, struct page *page, struct vm_area_struct *vma,
				 unsigned flags)
{
	if (pmd_write(pmd))
		return true;
	if (!can_follow_write_common(page, vma, flags))
		return false;
	/* A uffd-wp PMD must take the write fault so the WP is delivered. */
	return !userfaultfd_huge_pmd_wp(vma, pmd);
}

/* models touch_pmd() */
static void touch_pmd(struct vm_area_struct *vma, uint64_t addr, pmd_t *pmd, bool write)
{
	pmd_t entry = pmd_mkyoung(*pmd);

	if (write)
		entry = pmd_mkdirty(entry);
	*pmd = entry;
}

/* models follow_huge_pmd(): 0 with *pagep NULL asks the caller to fault. */
static long follow_huge_pmd(struct vm_area_struct *vma, uint64_t addr, pmd_t *pmd, unsigned flags,
			    struct page **pagep)
{
	pmd_t pmdval = *pmd;
	struct page *page = pfn_to_page(pmd_pfn(pmdval));
	uint64_t off = (addr & ~HPAGE_PMD_MASK) >> PAGE_SHIFT;

	if ((flags & FOLL_WRITE) && !can_follow_write_pmd(pmdval, page, vma, flags))
		return 0;
	/* Avoid dumping the huge zero page. */
	if ((flags & FOLL_DUMP) && is_huge_zero_pfn(pmd_pfn(pmdval)))
		return -EFAULT;
	if (pmd_protnone(pmdval) && !gup_can_follow_protnone(vma, flags))
		return 0;
	if (!pmd_write(pmdval) && gup_must_unshare(vma, flags, page))
		return -EMLINK;
	try_grab_folio(page_folio(page), 1, flags);
	if (pmd_trans_huge(pmdval) && (flags & FOLL_TOUCH))
		touch_pmd(vma, addr, pmd, flags & FOLL_WRITE);
	*pagep = page + off;
	return 0;
}

/* models can_follow_write_pte() (soft-dirty tracking is not modelled) */
static bool can_follow_write_pte(pte_t pte, struct page *page, struct vm_area_struct *vma,
				 unsigned flags)
{
	if (pte_write(pte))
		return true;
	if (!can_follow_write_common(page, vma, flags))
		return false;
	/* A uffd-wp PTE must take the write fault so the WP is delivered. */
	return !userfaultfd_pte_wp(vma, pte);
}

/* models follow_page_pte() (as follow_one_pte() + follow_page_pte_commit()
 * for one PTE): 0 with *pagep NULL asks the caller to fault. */
static long follow_page_pte(struct vm_area_struct *vma, uint64_t address, pmd_t *pmd,
			    unsigned flags, struct page **pagep)
{
	pte_t *ptep = pte_offset_map(pmd, address);
	struct page *page;
	struct folio *folio;
	pte_t pte;

	if (!ptep)
		return no_page_table(vma, flags, address);
	pte = *ptep;
	if (!pte_present(pte))
		/* Swap, migration, device-exclusive and marker entries fault
		 * without the FOLL_DUMP shortcut (a device-exclusive entry is
		 * restored by that fault); only a none PTE is a hole. */
		return pte_none(pte) ? no_page_table(vma, flags, address) : 0;
	if (pte_protnone(pte) && !gup_can_follow_protnone(vma, flags))
		return 0;

	page = vm_normal_page(vma, address, pte);
	/* Only anon pages matter to can_follow_write_pte(). */
	if ((flags & FOLL_WRITE) && !can_follow_write_pte(pte, page, vma, flags))
		return 0;
	if (!page) {
		/* Avoid special pages (like the zero page) in core dumps. */
		if (flags & FOLL_DUMP)
			return -EFAULT;
		/* A PFN map: an entry but no struct page (follow_pfn_pte). */
		if (!is_zero_pfn(pte_pfn(pte)))
			return -EEXIST;
		page = pfn_to_page(pte_pfn(pte));
	}
	if (!pte_write(pte) && gup_must_unshare(vma, flags, page))
		return -EMLINK;

	folio = page_folio(page);
	try_grab_folio(folio, 1, flags);
	if (flags & FOLL_TOUCH) {
		/* The kernel marks the folio, not the PTE: pte_mkyoung would
		 * need atomic care not to lose the dirty bit. */
		if ((flags & FOLL_WRITE) && !pte_dirty(pte) && !folio_test_dirty(folio))
			folio_set_flag(folio, FOLIO_dirty);
		folio_set_flag(folio, FOLIO_referenced); /* folio_mark_accessed */
	}
	*pagep = page;
	return 0;
}

/* models follow_pmd_mask() */
static long follow_pmd_mask(struct vm_area_struct *vma, uint64_t address, unsigned flags,
			    struct page **pagep)
{
	struct mm_struct *mm = vma->vm_mm;
	pmd_t *pmd = pmd_lookup(mm->pgd, address, false, mm->id);
	pmd_t pmdval;

	if (!pmd)
		return no_page_table(vma, flags, address);
	pmdval = *pmd;
	if (pmd_none(pmdval))
		return no_page_table(vma, flags, address);
	/* Includes migration entries: the fault waits for them. */
	if (!pmd_present(pmdval))
		return no_page_table(vma, flags, address);
	if (!pmd_leaf(pmdval))
		return follow_page_pte(vma, address, pmd, flags, pagep);
	if (pmd_protnone(pmdval) && !gup_can_follow_protnone(vma, flags))
		return no_page_table(vma, flags, address);
	if (pmd_trans_huge(pmdval) && (flags & FOLL_SPLIT_PMD)) {
		split_huge_pmd_address(vma, address);
		/* If the PMD was left empty, stuff a page table in there. */
		if (!pte_alloc(pmd, mm->id))
			return -ENOMEM;
		return follow_page_pte(vma, address, pmd, flags, pagep);
	}
	return follow_huge_pmd(vma, address, pmd, flags, pagep);
}

/* models follow_page_mask(): the PGD/P4D/PUD levels never hold leaves in
 * the model, so the walk starts at the PMD. */
static long follow_page_mask(struct vm_area_struct *vma, uint64_t address, unsigned flags,
			     struct page **pagep)
{
	*pagep = NULL;
	return follow_pmd_mask(vma, address, flags, pagep);
}

/* models faultin_page(): 0 (fault handled, follow again), -EBUSY (the fault
 * dropped the lock: VM_FAULT_RETRY, maybe asleep in a userfault), -EAGAIN
 * (VM_FAULT_COMPLETED) or -errno. */
static int faultin_page(struct vm_area_struct *vma, uint64_t address, unsigned flags, bool unshare)
{
	unsigned fault_flags = 0;
	vm_fault_t ret;

	if (flags & FOLL_NOFAULT)
		return -EFAULT;
	if (flags & FOLL_WRITE)
		fault_flags |= FAULT_FLAG_WRITE;
	if (flags & FOLL_REMOTE)
		fault_flags |= FAULT_FLAG_REMOTE;
	if (flags & FOLL_UNLOCKABLE) {
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
		/* Opt-in: not every caller copes with non-fatal signals. */
		if (flags & FOLL_INTERRUPTIBLE)
			fault_flags |= FAULT_FLAG_INTERRUPTIBLE;
	}
	if (flags & FOLL_NOWAIT)
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
	if (flags & FOLL_TRIED)
		fault_flags |= FAULT_FLAG_TRIED;
	if (unshare) {
		fault_flags |= FAULT_FLAG_UNSHARE;
		g_assert(!(fault_flags & FAULT_FLAG_WRITE));
	}

	ret = handle_mm_fault(vma, address & PAGE_MASK, fault_flags);

	if (ret & VM_FAULT_COMPLETED)
		return -EAGAIN;
	if (ret & VM_FAULT_ERROR) {
		int err = vm_fault_to_errno(ret, flags);

		g_assert(err);
		return err;
	}
	if (ret & VM_FAULT_RETRY)
		return -EBUSY;
	return 0;
}

/* models vma_can_gup() */
static bool vma_can_gup(struct vm_area_struct *vma)
{
	return !(vma->vm_flags & (VM_IO | VM_PFNMAP));
}

/* models check_vma_flags() (no fsdax, secretmem, shadow stack or hugetlb in
 * the model; shmem needs no dirty tracking, so longterm write pins are
 * allowed on it) */
static int check_vma_flags(struct vm_area_struct *vma, unsigned gup_flags)
{
	vm_flags_t vm_flags = vma->vm_flags;
	bool write = gup_flags & FOLL_WRITE;

	if (!vma_can_gup(vma))
		return -EFAULT;
	if ((gup_flags & FOLL_ANON) && !vma_is_anonymous(vma))
		return -EFAULT;
	if (write) {
		if (!(vm_flags & VM_WRITE)) {
			if (!(gup_flags & FOLL_FORCE))
				return -EFAULT;
			/* FOLL_FORCE writes only break COW in private mappings. */
			if (!is_cow_mapping(vm_flags))
				return -EFAULT;
		}
	} else if (!(vm_flags & VM_READ)) {
		if (!(gup_flags & FOLL_FORCE))
			return -EFAULT;
		if (!(vm_flags & VM_MAYREAD))
			return -EFAULT;
	}
	return 0;
}

/* The entries a GUP retry looks at: no change between two tries of one page
 * means the fault made no progress. */
struct gup_snapshot {
	pmdval_t pmd;
	pteval_t pte;
};

static struct gup_snapshot gup_snapshot(struct mm_struct *mm, uint64_t addr)
{
	struct gup_snapshot s = { 0, 0 };
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, mm->id);
	pte_t *pte;

	if (!pmd)
		return s;
	s.pmd = pmd_val(*pmd);
	pte = pte_offset_map(pmd, addr);
	if (pte)
		s.pte = pte_val(*pte);
	return s;
}

static bool gup_snapshot_same(struct gup_snapshot a, struct gup_snapshot b)
{
	return a.pmd == b.pmd && a.pte == b.pte;
}

static long gup_livelock(struct mm_struct *mm, uint64_t addr, unsigned flags)
{
	mm_event_emit((struct mm_event){ .kind = EV_LIVELOCK,
					 .mm_id = mm->id,
					 .address = addr & PAGE_MASK,
					 .write = flags & FOLL_WRITE,
					 .who = ACCESS_GUP,
					 .foll_flags = flags });
	return -ELOOP;
}

/* models __get_user_pages() */
long __get_user_pages(struct mm_struct *mm, uint64_t start, uint64_t nr_pages, unsigned gup_flags,
		      struct page **pages, uint64_t *done)
{
	struct vm_area_struct *vma = NULL;
	uint64_t i = 0;
	long ret = 0;

	*done = 0;
	if (!nr_pages)
		return 0;
	start &= PAGE_MASK;
	/* Grabbing without an array to return the pages in would leak them
	 * (the kernel warns on that combination). */
	if (!pages)
		gup_flags &= ~(FOLL_GET | FOLL_PIN);

	do {
		struct page *page;
		unsigned stuck = 0, tries = 0;
		long nr;

		/* first iteration or crossing a VMA boundary */
		if (!vma || start >= vma->vm_end) {
			/* MADV_POPULATE_(READ|WRITE) reports VMA errors its own way. */
			if (gup_flags & FOLL_MADV_POPULATE) {
				vma = vma_lookup(mm, start);
				if (!vma) {
					ret = -ENOMEM;
					goto out;
				}
				if (check_vma_flags(vma, gup_flags)) {
					ret = -EINVAL;
					goto out;
				}
			} else {
				vma = vma_lookup(mm, start);
				if (!vma) {
					ret = -EFAULT;
					goto out;
				}
				ret = check_vma_flags(vma, gup_flags);
				if (ret)
					goto out;
			}
		}
retry:
		nr = follow_page_mask(vma, start, gup_flags, &page);
		if ((!nr && !page) || nr == -EMLINK) {
			struct gup_snapshot before = gup_snapshot(mm, start);

			ret = faultin_page(vma, start, gup_flags, nr == -EMLINK);
			switch (ret) {
			case 0:
				/* The kernel retries until a fatal signal; the
				 * model stops a retry that changes nothing. */
				if (gup_snapshot_same(before, gup_snapshot(mm, start)))
					stuck++;
				else
					stuck = 0;
				if (stuck > GUP_MAX_RETRIES || ++tries > 4 * GUP_MAX_RETRIES) {
					ret = gup_livelock(mm, start, gup_flags);
					goto out;
				}
				/* A resolved fault may have split or merged the VMA. */
				vma = vma_lookup(mm, start);
				if (!vma) {
					ret = -EFAULT;
					goto out;
				}
				goto retry;
			case -EBUSY:
			case -EAGAIN:
				/* The lock was dropped: __get_user_pages_locked()
				 * decides whether to retry. */
				goto out;
			default:
				goto out;
			}
		} else if (nr == -EEXIST) {
			/* A PFN map: no struct page to hand back. */
			if (pages) {
				ret = nr;
				goto out;
			}
		} else if (nr < 0) {
			ret = nr;
			goto out;
		}

		if (pages)
			pages[i] = page;
		/* MADV_POPULATE_* faults pages in "as if manually reading (or
		 * writing) each page": the populated page counts as accessed. */
		if ((gup_flags & FOLL_MADV_POPULATE) && page)
			mm_event_emit((struct mm_event){ .kind = EV_ACCESS,
							 .mm_id = mm->id,
							 .address = start,
							 .who = ACCESS_GUP,
							 .foll_flags = gup_flags,
							 .value = page->content });
		i++;
		start += PAGE_SIZE;
		nr_pages--;
	} while (nr_pages);
	ret = 0;
out:
	*done = i;
	return ret;
}

/* models __get_user_pages_locked(): the FOLL_UNLOCKABLE retry with
 * FOLL_TRIED after the fault dropped the lock. Returns 0 or -errno with
 * *done pages; -EBUSY when the task is asleep in a userfault. */
static long __get_user_pages_locked(struct mm_struct *mm, uint64_t start, uint64_t nr_pages,
				    struct page **pages, unsigned flags, uint64_t *done)
{
	uint64_t pages_done = 0, got;
	unsigned stuck = 0;
	long ret;

	*done = 0;
	if (!nr_pages)
		return 0;
	/* Traditional behaviour: pages wanted without PIN means GET. */
	if (pages && !(flags & FOLL_PIN))
		flags |= FOLL_GET;

	ret = __get_user_pages(mm, start, nr_pages, flags, pages, &got);
	for (;;) {
		pages_done += got;
		nr_pages -= got;
		if (!nr_pages || (ret != -EBUSY && ret != -EAGAIN))
			break;
		/* VM_FAULT_RETRY or COMPLETED without FOLL_UNLOCKABLE can only
		 * come from FOLL_NOWAIT: give back what we have. */
		if (!(flags & FOLL_UNLOCKABLE) || (flags & FOLL_NOWAIT))
			break;
		/* Asleep in handle_userfault: the engine resumes after the wake. */
		if (current->sleeping)
			break;
		if (got)
			stuck = 0;
		if (++stuck > GUP_MAX_RETRIES) {
			ret = gup_livelock(mm, start + pages_done * PAGE_SIZE, flags);
			break;
		}
		/* Repeat on the address that fired VM_FAULT_RETRY. */
		ret = __get_user_pages(mm, start + pages_done * PAGE_SIZE, 1, flags | FOLL_TRIED,
				       pages ? pages + pages_done : NULL, &got);
	}
	*done = pages_done;
	if (ret == -EBUSY && current->sleeping)
		return -EBUSY;
	if (ret == -EBUSY || ret == -EAGAIN)
		ret = 0;
	/* Pinning nothing means something went wrong (unless NOWAIT). */
	if (!ret && nr_pages && !pages_done && !(flags & FOLL_NOWAIT))
		ret = -EFAULT;
	return ret;
}

/* models faultin_page_range() (MADV_POPULATE_READ/WRITE): no FOLL_FORCE, so
 * proper access permissions are required. Returns 0, -errno, -EBUSY (asleep
 * in a userfault after *done pages) or -ELOOP. */
long faultin_page_range(struct mm_struct *mm, uint64_t start, uint64_t end, bool write,
			uint64_t *done)
{
	unsigned gup_flags = FOLL_TOUCH | FOLL_HWPOISON | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE;

	if (write)
		gup_flags |= FOLL_WRITE;
	return __get_user_pages_locked(mm, start & PAGE_MASK, (end - start) >> PAGE_SHIFT, NULL,
				       gup_flags, done);
}

#define INTERNAL_GUP_FLAGS                                                                     \
	(FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_PIN | FOLL_FAST_ONLY | FOLL_UNLOCKABLE | \
	 FOLL_MADV_POPULATE)

/* models is_valid_gup_args(): external flags plus what the entry point sets */
static bool is_valid_gup_args(bool pages, bool locked, unsigned *gup_flags_p, unsigned to_set)
{
	unsigned gup_flags = *gup_flags_p;

	if (gup_flags & INTERNAL_GUP_FLAGS)
		return false;
	gup_flags |= to_set;
	if (locked)
		gup_flags |= FOLL_UNLOCKABLE;
	if ((gup_flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET))
		return false;
	if (!(gup_flags & FOLL_PIN) && (gup_flags & FOLL_LONGTERM))
		return false;
	if ((gup_flags & (FOLL_GET | FOLL_PIN)) && !pages)
		return false;
	*gup_flags_p = gup_flags;
	return true;
}

/* models gup_fast_pte_range(): lockless; bail to the slow path on anything
 * that might need a fault or a VMA check. */
static uint64_t gup_fast_pte_range(pmd_t pmd, pmd_t *pmdp, uint64_t addr, uint64_t end,
				   unsigned flags, struct page **pages)
{
	pte_t *ptep = pte_offset_map(&pmd, addr);
	uint64_t nr_pages = 0;

	if (!ptep)
		return 0;
	do {
		pte_t pte = *ptep;
		struct page *page;
		struct folio *folio;

		/* Always fall back on PROT_NONE: GUP-fast has no VMA to ask
		 * gup_can_follow_protnone() or check VMA permissions with. */
		if (pte_protnone(pte))
			break;
		if (!pte_access_permitted(pte, flags & FOLL_WRITE))
			break;
		/* The zero page is special on x86. */
		if (pte_special(pte) || is_zero_pfn(pte_pfn(pte)))
			break;
		page = pfn_to_page(pte_pfn(pte));
		folio = page_folio(page);
		try_grab_folio(folio, 1, flags);

		/* Pairs with clear-then-check-pins writers and with
		 * pmdp_collapse_flush(): an entry changed under us means the
		 * page may already be gone from this mapping. */
		race_window("gup_fast_pte_range");
		if (pmd_val(pmd) != pmd_val(*pmdp) || pte_val(pte) != pte_val(*ptep)) {
			gup_put_folio(folio, 1, flags);
			break;
		}
		if (!pte_write(pte) && gup_must_unshare(NULL, flags, page)) {
			gup_put_folio(folio, 1, flags);
			break;
		}
		folio_set_flag(folio, FOLIO_referenced);
		pages[nr_pages++] = page;
	} while (ptep++, addr += PAGE_SIZE, addr != end);
	return nr_pages;
}

/* models gup_fast_pmd_leaf() */
static uint64_t gup_fast_pmd_leaf(pmd_t orig, pmd_t *pmdp, uint64_t addr, uint64_t end,
				  unsigned flags, struct page **pages)
{
	uint64_t nr_pages, i;
	struct page *page;
	struct folio *folio;

	if (pmd_protnone(orig))
		return 0;
	if (!pmd_access_permitted(orig, flags & FOLL_WRITE))
		return 0;
	if (is_huge_zero_pfn(pmd_pfn(orig)))
		return 0;
	nr_pages = (end - addr) >> PAGE_SHIFT;
	page = pfn_to_page(pmd_pfn(orig)) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	folio = page_folio(page);
	try_grab_folio(folio, (int)nr_pages, flags);

	race_window("gup_fast_pmd_leaf");
	if (pmd_val(orig) != pmd_val(*pmdp)) {
		gup_put_folio(folio, (int)nr_pages, flags);
		return 0;
	}
	if (!pmd_write(orig) && gup_must_unshare(NULL, flags, folio_page(folio, 0))) {
		gup_put_folio(folio, (int)nr_pages, flags);
		return 0;
	}
	for (i = 0; i < nr_pages; i++)
		pages[i] = page + i;
	folio_set_flag(folio, FOLIO_referenced);
	return nr_pages;
}

/* models gup_fast() / gup_fast_pgd_range() / gup_fast_pmd_range(): the
 * number of pages taken from start before the first entry that needs the
 * slow path. */
uint64_t gup_fast(struct mm_struct *mm, uint64_t start, uint64_t nr_pages, unsigned gup_flags,
		  struct page **pages)
{
	uint64_t addr = start & PAGE_MASK, end = addr + nr_pages * PAGE_SIZE, nr = 0;

	/* GUP-fast always takes a reference or a pin (into pages[]). */
	if (!pages || !(gup_flags & (FOLL_GET | FOLL_PIN)) || !nr_pages || end > TASK_SIZE)
		return 0;
	do {
		uint64_t next = pmd_addr_end(addr, end), chunk;
		pmd_t *pmdp = pmd_lookup(mm->pgd, addr, false, mm->id);
		pmd_t pmd;

		if (!pmdp)
			break;
		pmd = *pmdp;
		if (!pmd_present(pmd))
			break;
		if (pmd_leaf(pmd))
			chunk = gup_fast_pmd_leaf(pmd, pmdp, addr, next, gup_flags, pages + nr);
		else
			chunk = gup_fast_pte_range(pmd, pmdp, addr, next, gup_flags, pages + nr);
		nr += chunk;
		if (chunk != (next - addr) >> PAGE_SHIFT)
			break;
		addr = next;
	} while (addr != end);
	return nr;
}

/* ------------------------------------------------------------ GUP callers */

/*
 * The FOLL_* flags each caller ends up with inside __get_user_pages(), after
 * the entry point's is_valid_gup_args() to_set, FOLL_UNLOCKABLE for a
 * `locked` pointer and __get_user_pages_locked()'s FOLL_GET. For fast_first
 * callers the flags are those GUP-fast sees; gup_fast_fallback() adds
 * FOLL_TOUCH | FOLL_UNLOCKABLE for the slow remainder.
 *
 * None sets FOLL_HONOR_NUMA_FAULT but KVM: since "mm/gup: don't implicitly
 * set FOLL_HONOR_NUMA_FAULT" (2023), is_valid_gup_args() no longer adds it
 * and only virt/kvm/kvm_main.c hva_to_pfn_slow() passes it.
 */
const struct gup_preset gup_presets[] = {
	[0] = { "get_user_pages", FOLL_TOUCH | FOLL_GET, false, true,
		"mm/gup.c get_user_pages(): to_set FOLL_TOUCH, no locked, FOLL_GET for pages" },
	[1] = { "get_user_pages_unlocked", FOLL_TOUCH | FOLL_UNLOCKABLE | FOLL_GET, false, true,
		"mm/gup.c get_user_pages_unlocked(): to_set FOLL_TOUCH|FOLL_UNLOCKABLE" },
	[2] = { "get_user_pages_remote", FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE | FOLL_GET,
		false, true,
		"mm/gup.c get_user_pages_remote() with a locked pointer: to_set "
		"FOLL_TOUCH|FOLL_REMOTE, FOLL_UNLOCKABLE for locked" },
	[3] = { "pin_user_pages", FOLL_PIN, false, true,
		"mm/gup.c pin_user_pages(): to_set FOLL_PIN only (no FOLL_TOUCH), no locked" },
	[4] = { "pin_user_pages_longterm", FOLL_WRITE | FOLL_LONGTERM | FOLL_PIN, true, true,
		"io_uring/memmap.c io_pin_pages(): pin_user_pages_fast(FOLL_WRITE|FOLL_LONGTERM)" },
	[5] = { "get_dump_page", FOLL_FORCE | FOLL_DUMP | FOLL_GET, false, true,
		"mm/gup.c get_dump_page(): __get_user_pages_locked(FOLL_FORCE|FOLL_DUMP|FOLL_GET), "
		"no is_valid_gup_args, so no FOLL_TOUCH and no FOLL_UNLOCKABLE" },
	[6] = { "process_vm_readv", FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE, false,
		true,
		"mm/process_vm_access.c process_vm_rw_single_vec(): pin_user_pages_remote(0, "
		"&locked)" },
	[7] = { "process_vm_writev",
		FOLL_WRITE | FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE, false, true,
		"mm/process_vm_access.c process_vm_rw_single_vec(): pin_user_pages_remote("
		"FOLL_WRITE, &locked)" },
	[8] = { "proc_mem_read", FOLL_FORCE | FOLL_TOUCH | FOLL_REMOTE | FOLL_GET, false, true,
		"fs/proc/base.c mem_rw(): access_remote_vm(FOLL_FORCE) -> "
		"get_user_page_vma_remote() -> get_user_pages_remote(locked=NULL)" },
	[9] = { "proc_mem_write", FOLL_WRITE | FOLL_FORCE | FOLL_TOUCH | FOLL_REMOTE | FOLL_GET,
		false, true,
		"fs/proc/base.c mem_rw(): access_remote_vm(FOLL_FORCE|FOLL_WRITE) -> "
		"get_user_pages_remote(locked=NULL)" },
	[10] = { "ptrace_peek", FOLL_FORCE | FOLL_TOUCH | FOLL_REMOTE | FOLL_GET, false, true,
		 "kernel/ptrace.c generic_ptrace_peekdata(): ptrace_access_vm(FOLL_FORCE) -> "
		 "access_remote_vm() -> get_user_pages_remote(locked=NULL)" },
	[11] = { "vmsplice", FOLL_GET, true, true,
		 "fs/splice.c vmsplice_to_pipe() -> iov_iter_get_pages2() -> "
		 "get_user_pages_fast(0): to_set FOLL_GET" },
	[12] = { "kvm",
		 FOLL_HWPOISON | FOLL_HONOR_NUMA_FAULT | FOLL_TOUCH | FOLL_UNLOCKABLE | FOLL_GET,
		 false, true,
		 "virt/kvm/kvm_main.c hva_to_pfn_slow() (read fault): "
		 "get_user_pages_unlocked(FOLL_HWPOISON|FOLL_HONOR_NUMA_FAULT)" },
	[13] = { "explicit", 0, false, true,
		 "the trace's flags=, passed to __get_user_pages as is" },
};
const unsigned nr_gup_presets = sizeof(gup_presets) / sizeof(gup_presets[0]);

#define GUP_CALLER_GET_DUMP_PAGE 5
#define GUP_CALLER_PROC_MEM_READ 8
#define GUP_CALLER_PROC_MEM_WRITE 9
#define GUP_CALLER_PTRACE_PEEK 10
#define GUP_CALLER_EXPLICIT 13
#define GUP_CHUNK 16 /* process_vm_access.c's PVM_MAX_PP_ARRAY_COUNT */

/* What the caller does with each page it got: copy the data in or out. */
static void gup_access_page(struct mm_struct *mm, uint64_t addr, struct page *page, unsigned flags,
			    uint64_t write_value)
{
	bool write = flags & FOLL_WRITE;
	uint64_t value;

	if (write) {
		page->content = write_value;
		/* set_page_dirty_lock / unpin_user_pages_dirty_lock */
		folio_set_flag(page_folio(page), FOLIO_dirty);
		value = write_value;
	} else {
		value = page->content;
	}
	mm_event_emit((struct mm_event){ .kind = EV_ACCESS,
					 .mm_id = mm->id,
					 .address = addr & PAGE_MASK,
					 .write = write,
					 .who = ACCESS_GUP,
					 .foll_flags = flags,
					 .value = value });
}

/* Run a caller's GUP over [start, start + nr_pages pages): its chunked loop
 * (process_vm_rw_single_vec, mem_rw, dump_user_range, ...), GUP-fast first
 * when the entry point is a *_fast one, the data access, then put_page /
 * unpin. With held, nothing is put: each page goes to held (struct
 * gup_held_page) with the kind of grab it got, as a driver keeping a
 * long-term pin (io_uring buffers, VFIO, RDMA) or a pipe keeping vmsplice'd
 * pages does. Not a kernel function: the callers' common shape. */
long gup_caller_run_hold(struct mm_struct *mm, unsigned caller, unsigned explicit_flags,
			 uint64_t start, uint64_t nr_pages, uint64_t write_value, uint64_t *done,
			 GArray *held)
{
	struct page *pages[GUP_CHUNK];
	const struct gup_preset *p;
	unsigned flags;
	long ret = 0;

	*done = 0;
	if (caller >= nr_gup_presets)
		return -EINVAL;
	p = &gup_presets[caller];
	flags = p->flags;
	if (caller == GUP_CALLER_EXPLICIT) {
		flags = explicit_flags;
	} else if (explicit_flags) {
		/* Extra caller flags go through the entry point's checks. */
		unsigned extra = explicit_flags;

		if (!is_valid_gup_args(true, false, &extra, flags))
			return -EINVAL;
		flags = extra;
	}
	start &= PAGE_MASK;

	while (*done < nr_pages) {
		uint64_t addr = start + *done * PAGE_SIZE;
		uint64_t want = MIN(nr_pages - *done, (uint64_t)GUP_CHUNK), got = 0, slow = 0, fast;
		unsigned slow_flags = flags;

		/* A core dump takes one page at a time; a failure is a hole. */
		if (caller == GUP_CALLER_GET_DUMP_PAGE)
			want = 1;
		if (p->fast_first)
			got = gup_fast(mm, addr, want, flags, pages);
		fast = got;
		if (got < want) {
			/* gup_fast_fallback() */
			if (p->fast_first)
				slow_flags |= FOLL_TOUCH | FOLL_UNLOCKABLE;
			ret = __get_user_pages_locked(mm, addr + got * PAGE_SIZE, want - got,
						      pages + got, slow_flags, &slow);
			got += slow;
		}
		for (uint64_t i = 0; i < got; i++) {
			unsigned used = i < fast ? flags : slow_flags;

			/* __get_user_pages_locked() added FOLL_GET for pages[]. */
			if (!(used & FOLL_PIN))
				used |= FOLL_GET;
			gup_access_page(mm, addr + i * PAGE_SIZE, pages[i], used, write_value);
			if (held) {
				struct gup_held_page h = { .page = pages[i],
							   .addr = addr + i * PAGE_SIZE,
							   .pin = used & FOLL_PIN };
				g_array_append_val(held, h);
			} else if (p->unpin) {
				gup_put_folio(page_folio(pages[i]), 1, used);
			}
		}
		*done += got;
		if (caller == GUP_CALLER_GET_DUMP_PAGE && ret && ret != -EBUSY && ret != -ELOOP) {
			/* dump_skip(): the hole keeps the file aligned. */
			*done += 1;
			ret = 0;
			continue;
		}
		if (ret &&
		    (caller == GUP_CALLER_PROC_MEM_READ || caller == GUP_CALLER_PROC_MEM_WRITE ||
		     caller == GUP_CALLER_PTRACE_PEEK) &&
		    ret != -EBUSY && ret != -ELOOP)
			return -EIO; /* mem_rw(), ptrace_access_vm(): nothing copied */
		if (ret)
			return ret;
		/* FOLL_NOWAIT may give back nothing without an error. */
		if (!got)
			return -EAGAIN;
	}
	return 0;
}

long gup_caller_run(struct mm_struct *mm, unsigned caller, unsigned explicit_flags, uint64_t start,
		    uint64_t nr_pages, uint64_t write_value, uint64_t *done)
{
	return gup_caller_run_hold(mm, caller, explicit_flags, start, nr_pages, write_value, done,
				   NULL);
}

/* models unpin_user_page() (a FOLL_PIN grab) and put_page() (a FOLL_GET
 * one): give back what gup_caller_run_hold() kept. The zero pages were
 * never grabbed, so there is nothing to give back for them. */
void gup_release_page(struct page *page, bool pin)
{
	struct folio *folio = page_folio(page);

	/* sanity_check_pinned_pages(): a pinned page is still pinned. */
	g_assert(!pin || gup_folio_is_zero(folio) || folio->pincount > 0);
	gup_put_folio(folio, 1, pin ? FOLL_PIN : FOLL_GET);
}
