/* sim/mm/mremap.c - mremap(): moving and resizing a VMA (mm/mremap.c, about
 * v6.17, vma_remap_struct form) with the RWP series' rule for moved entries
 * (rwp-series.md §2.7, §3.9; kernel-paths.md §6.2): when the old VMA has a
 * uffd context without UFFD_FEATURE_EVENT_REMAP, every entry that carries the
 * uffd bit loses it, and an RWP one is rebuilt from vm_page_prot so it is not
 * left protnone (a NUMA hint) in the now unprotected VMA. Entries without the
 * bit, NUMA-hint protnone included, move unchanged. uffd-wp markers are
 * dropped. With EVENT_REMAP everything moves as it is, armed included.
 *
 * Supported: MREMAP_MAYMOVE and MREMAP_FIXED; same size, shrink (munmap of
 * the tail), grow in place, grow by a move. Not modelled: MREMAP_DONTUNMAP
 * and old_len 0 (-EINVAL), hugetlb, mlock, mseal, accounting, the map count
 * limit, and the page-table-level moves (move_normal_pmd/pud): entries are
 * always moved one by one, which is what the kernel does anyway whenever the
 * old VMA needs its uffd bits cleared.
 */
#include "internal.h"
#include "patch.h"
#include "model/swapops.h"
#include "sched.h"

/* Classify the kind of remap operation being performed. */
enum mremap_type {
	MREMAP_INVALID,	  /* Initial state. */
	MREMAP_NO_RESIZE, /* old_len == new_len, if not moved, do nothing. */
	MREMAP_SHRINK,	  /* old_len > new_len. */
	MREMAP_EXPAND,	  /* old_len < new_len. */
};

/* One mremap() operation, threaded through it. */
struct vma_remap_struct {
	uint64_t addr, old_len, new_len;
	unsigned flags;
	uint64_t new_addr;
	struct userfaultfd_ctx *uf; /* the ctx to send UFFD_EVENT_REMAP to */
	/* UFFD_EVENT_UNMAP messages: of the MREMAP_FIXED destination (sent
	 * before the REMAP) and of the source or shrunk tail (sent after). */
	GArray *uf_unmap_early, *uf_unmap;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	uint64_t delta;
	enum mremap_type remap_type;
};

struct pagetable_move_control {
	struct vm_area_struct *old, *new;
	uint64_t old_addr, old_end, new_addr, len_in;
};

/* models get_old_pmd() */
static pmd_t *get_old_pmd(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);

	if (!pmd || pmd_none(*pmd))
		return NULL;
	return pmd;
}

/* models alloc_new_pmd() */
static pmd_t *alloc_new_pmd(struct mm_struct *mm, uint64_t addr)
{
	return pmd_lookup(mm->pgd, addr, true, mm->id);
}

/* models move_soft_dirty_pte() (CONFIG_MEM_SOFT_DIRTY, as on x86-64) */
static pte_t move_soft_dirty_pte(pte_t pte)
{
	if (pte_present(pte))
		pte = pte_set_flags(pte, _PAGE_SOFT_DIRTY);
	else if (is_swap_pte(pte))
		pte = pte_swp_mksoft_dirty(pte);
	return pte;
}

/* models mremap_folio_pte_batch() */
static unsigned mremap_folio_pte_batch(struct vm_area_struct *vma, uint64_t addr, pte_t *ptep,
				       pte_t pte, unsigned max_nr)
{
	struct folio *folio;

	if (max_nr == 1)
		return 1;
	folio = vm_normal_folio(vma, addr, pte);
	if (!folio || !folio_test_large(folio))
		return 1;
	return folio_pte_batch(folio, ptep, pte, max_nr);
}

/* The RWP series' version of move_ptes()' pte_clear_uffd_wp(): only an entry
 * with the bit changes; an armed RWP entry is made accessible again. */
static pte_t move_pte_clear_uffd(struct vm_area_struct *vma, pte_t pte)
{
	if (!pte_uffd(pte) || patch_hunk(HUNK_MREMAP_NO_NORMALISE))
		return pte;
	if (userfaultfd_rwp(vma))
		pte = pte_modify(pte, vma->vm_page_prot);
	return pte_clear_uffd(pte);
}

/* models move_ptes() */
static int move_ptes(struct pagetable_move_control *pmc, uint64_t extent, pmd_t *old_pmd,
		     pmd_t *new_pmd)
{
	struct vm_area_struct *vma = pmc->old;
	bool need_clear_uffd_wp = vma_has_uffd_without_event_remap(vma);
	uint64_t old_addr = pmc->old_addr, new_addr = pmc->new_addr;
	uint64_t old_end = old_addr + extent;
	pte_t *old_ptep, *new_ptep;
	unsigned nr_ptes;

	old_ptep = pte_offset_map(old_pmd, old_addr);
	if (!old_ptep)
		return -EAGAIN;
	new_ptep = pte_offset_map(new_pmd, new_addr);
	if (!new_ptep)
		return -EAGAIN;

	for (; old_addr < old_end; old_ptep += nr_ptes, old_addr += nr_ptes * PAGE_SIZE,
				   new_ptep += nr_ptes, new_addr += nr_ptes * PAGE_SIZE) {
		unsigned max_nr_ptes = (unsigned)((old_end - old_addr) >> PAGE_SHIFT);
		pte_t old_pte = *old_ptep, pte;

		g_assert(pte_none(*new_ptep));
		nr_ptes = 1;
		if (pte_none(old_pte))
			continue;
		if (pte_present(old_pte))
			nr_ptes = mremap_folio_pte_batch(vma, old_addr, old_ptep, old_pte,
							 max_nr_ptes);
		pte = get_and_clear_full_ptes(old_ptep, nr_ptes);
		/* move_pte() is the identity on x86 */
		pte = move_soft_dirty_pte(pte);

		if (need_clear_uffd_wp && pte_marker_uffd_wp(pte)) {
			*new_ptep = __pte(0); /* pte_clear() */
			continue;
		}
		if (need_clear_uffd_wp) {
			if (pte_present(pte))
				pte = move_pte_clear_uffd(vma, pte);
			else if (is_swap_pte(pte))
				pte = pte_swp_clear_uffd(pte);
		}
		set_ptes(new_ptep, pte, nr_ptes);
	}
	return 0;
}

enum pgt_entry { NORMAL_PMD, HPAGE_PMD };

/* models get_extent(): up to the next PMD boundary of both old and new */
static uint64_t get_extent(enum pgt_entry entry, struct pagetable_move_control *pmc)
{
	uint64_t next, extent;

	(void)entry;
	next = (pmc->old_addr + PMD_SIZE) & PMD_MASK;
	extent = next - pmc->old_addr;
	if (extent > pmc->old_end - pmc->old_addr)
		extent = pmc->old_end - pmc->old_addr;
	next = (pmc->new_addr + PMD_SIZE) & PMD_MASK;
	if (extent > next - pmc->new_addr)
		extent = next - pmc->new_addr;
	return extent;
}

/* models move_pgt_entry(): only HPAGE_PMD (move_normal_pmd is not modelled) */
static bool move_pgt_entry(struct pagetable_move_control *pmc, enum pgt_entry entry,
			   pmd_t *old_entry, pmd_t *new_entry)
{
	if (entry != HPAGE_PMD)
		return false;
	return move_huge_pmd(pmc->old, pmc->old_addr, pmc->new_addr, old_entry, new_entry);
}

/* models pmc_progress() */
static uint64_t pmc_progress(struct pagetable_move_control *pmc)
{
	uint64_t orig_old_addr = pmc->old_end - pmc->len_in;

	return pmc->old_addr < orig_old_addr ? 0 : pmc->old_addr - orig_old_addr;
}

/* models move_page_tables(): returns the bytes moved */
static uint64_t move_page_tables(struct pagetable_move_control *pmc)
{
	struct mm_struct *mm = pmc->old->vm_mm;
	uint64_t extent;

	if (!pmc->len_in)
		return 0;
	/* try_realign_addr() only matters to move_normal_pmd(). */
	for (; pmc->old_addr < pmc->old_end; pmc->old_addr += extent, pmc->new_addr += extent) {
		pmd_t *old_pmd, *new_pmd;

		extent = get_extent(NORMAL_PMD, pmc);
		old_pmd = get_old_pmd(mm, pmc->old_addr);
		if (!old_pmd)
			continue;
		new_pmd = alloc_new_pmd(mm, pmc->new_addr);
		if (!new_pmd)
			break;
again:
		if (!pmd_present(*old_pmd) || pmd_leaf(*old_pmd)) {
			/* is_swap_pmd() || pmd_trans_huge() */
			if (extent == HPAGE_PMD_SIZE &&
			    move_pgt_entry(pmc, HPAGE_PMD, old_pmd, new_pmd))
				continue;
			split_huge_pmd_address(pmc->old, pmc->old_addr);
			/* A PMD migration entry is not split by the model. */
			if (!pmd_none(*old_pmd) && !pmd_is_table(*old_pmd))
				break;
		}
		/* move_normal_pmd() is not modelled: always PTE by PTE. */
		if (pmd_none(*old_pmd))
			continue;
		if (!pte_alloc(new_pmd, mm->id))
			break;
		if (move_ptes(pmc, extent, old_pmd, new_pmd) < 0)
			goto again;
	}
	return pmc_progress(pmc);
}

/* models vrm_set_delta() */
static void vrm_set_delta(struct vma_remap_struct *vrm)
{
	vrm->delta = vrm->old_len > vrm->new_len ? vrm->old_len - vrm->new_len
						 : vrm->new_len - vrm->old_len;
}

/* models vrm_remap_type() */
static enum mremap_type vrm_remap_type(struct vma_remap_struct *vrm)
{
	if (vrm->delta == 0)
		return MREMAP_NO_RESIZE;
	if (vrm->old_len > vrm->new_len)
		return MREMAP_SHRINK;
	return MREMAP_EXPAND;
}

/* models vrm_overlaps() */
static bool vrm_overlaps(struct vma_remap_struct *vrm)
{
	uint64_t start_old = vrm->addr, end_old = vrm->addr + vrm->old_len;
	uint64_t start_new = vrm->new_addr, end_new = vrm->new_addr + vrm->new_len;

	return end_old > start_new && end_new > start_old;
}

/* models vrm_implies_new_addr() */
static bool vrm_implies_new_addr(struct vma_remap_struct *vrm)
{
	return vrm->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP);
}

/* models vrm_set_new_addr(): get_unmapped_area(), MAP_FIXED or anywhere */
static long vrm_set_new_addr(struct vma_remap_struct *vrm)
{
	uint64_t res;

	if (vrm->flags & MREMAP_FIXED)
		return 0; /* checked against TASK_SIZE by mremap_to() */
	res = get_unmapped_area(vrm->mm, vrm->vma->vm_file, 0, vrm->new_len,
				vrm->vma->vm_pgoff +
					((vrm->addr - vrm->vma->vm_start) >> PAGE_SHIFT));
	if (!res)
		return -ENOMEM;
	vrm->new_addr = res;
	return 0;
}

/* models copy_vma(): a new VMA for the moved range, linked into the mm,
 * the anon_vma and the file's i_mmap. Merging with neighbours is done by
 * move_vma() once the uffd context is settled. */
static struct vm_area_struct *copy_vma(struct vm_area_struct *vma, uint64_t addr, uint64_t len,
				       uint64_t pgoff)
{
	struct vm_area_struct *new_vma = vm_area_alloc(vma->vm_mm);

	new_vma->vm_start = addr;
	new_vma->vm_end = addr + len;
	new_vma->vm_flags = vma->vm_flags;
	new_vma->vm_page_prot = vma->vm_page_prot;
	/* anon: folio->index is the linear index, so the pgoff moves along
	 * unchanged and rmap finds the pages at their new address */
	new_vma->vm_pgoff = pgoff;
	new_vma->vm_file = vma->vm_file;
	new_vma->anon_vma = vma->anon_vma; /* anon_vma_clone() */
	new_vma->anon_vma_own = vma->anon_vma_own;
	new_vma->anon_vma_chained = vma->anon_vma_chained;
	new_vma->vm_userfaultfd_ctx = vma->vm_userfaultfd_ctx;
	vma_link(vma->vm_mm, new_vma);
	return new_vma;
}

/* models copy_vma_and_data() */
static int copy_vma_and_data(struct vma_remap_struct *vrm, struct vm_area_struct **new_vma_ptr)
{
	struct vm_area_struct *vma = vrm->vma, *new_vma;
	uint64_t new_pgoff = vma->vm_pgoff + ((vrm->addr - vma->vm_start) >> PAGE_SHIFT);
	uint64_t moved_len;
	int err = 0;

	new_vma = copy_vma(vma, vrm->new_addr, vrm->new_len, new_pgoff);
	struct pagetable_move_control pmc = { .old = vma,
					      .new = new_vma,
					      .old_addr = vrm->addr,
					      .old_end = vrm->addr + vrm->old_len,
					      .new_addr = vrm->new_addr,
					      .len_in = vrm->old_len };
	moved_len = move_page_tables(&pmc);
	if (moved_len < vrm->old_len)
		err = -ENOMEM;

	if (err) {
		/* Move what was moved back, then unmap the new VMA instead. */
		struct pagetable_move_control revert = { .old = new_vma,
							 .new = vma,
							 .old_addr = vrm->new_addr,
							 .old_end = vrm->new_addr + moved_len,
							 .new_addr = vrm->addr,
							 .len_in = moved_len };
		move_page_tables(&revert);
		vrm->vma = new_vma;
		vrm->old_len = vrm->new_len;
		vrm->addr = vrm->new_addr;
	} else {
		mremap_userfaultfd_prep(new_vma, &vrm->uf);
	}
	*new_vma_ptr = new_vma;
	return err;
}

/* models unmap_source_vma() */
static void unmap_source_vma(struct vma_remap_struct *vrm)
{
	do_munmap(vrm->mm, vrm->addr, vrm->old_len, vrm->uf_unmap);
	vrm->vma = NULL; /* Invalidated. */
}

/* models move_vma() */
static int64_t move_vma(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *new_vma;
	int err;

	err = copy_vma_and_data(vrm, &new_vma);
	uint64_t new_addr = vrm->new_addr, new_len = vrm->new_len;
	unmap_source_vma(vrm);
	if (err)
		return err;
	/* vma_merge_new_range() in copy_vma(), after the uffd reset here */
	vma_merge_range(vrm->mm, new_addr, new_addr + new_len);
	return (int64_t)new_addr;
}

/* models remap_is_valid() */
static int remap_is_valid(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *vma = vrm->vma;

	/* Duplicating a shared mapping with old_len 0 is not modelled. */
	if (!vrm->old_len)
		return -EINVAL;
	/* We can't remap across vm area boundaries */
	if (vrm->old_len > vma->vm_end - vrm->addr)
		return -EFAULT;
	if (vrm->new_len == vrm->old_len)
		return 0;
	uint64_t pgoff = ((vrm->addr - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
	if (pgoff + (vrm->new_len >> PAGE_SHIFT) < pgoff)
		return -EINVAL;
	/* The model does not fault beyond i_size (sys_mmap refuses it too). */
	if (vma->vm_file && pgoff + (vrm->new_len >> PAGE_SHIFT) > vma->vm_file->nr_pages)
		return -EINVAL;
	return 0;
}

/* models shrink_vma() */
static long shrink_vma(struct vma_remap_struct *vrm)
{
	long res = do_munmap(vrm->mm, vrm->addr + vrm->new_len, vrm->delta, vrm->uf_unmap);

	vrm->vma = NULL; /* Invalidated. */
	if (res)
		return res;
	vrm->vma = vma_lookup(vrm->mm, vrm->addr);
	if (!vrm->vma)
		return -EFAULT;
	return 0;
}

/* models mremap_to() */
static int64_t mremap_to(struct vma_remap_struct *vrm)
{
	long err;

	/* Is the new length or address silly? */
	if (vrm->new_len > TASK_SIZE || vrm->new_addr > TASK_SIZE - vrm->new_len)
		return -EINVAL;
	if (vrm_overlaps(vrm))
		return -EINVAL;
	if (vrm->flags & MREMAP_FIXED) {
		/* The VMA moves to new_addr: munmap it first. */
		err = do_munmap(vrm->mm, vrm->new_addr, vrm->new_len, vrm->uf_unmap_early);
		vrm->vma = NULL;
		if (err)
			return err;
		vrm->vma = vma_lookup(vrm->mm, vrm->addr);
		if (!vrm->vma)
			return -EFAULT;
	}
	if (vrm->remap_type == MREMAP_SHRINK) {
		err = shrink_vma(vrm);
		if (err)
			return err;
		/* Set up for the move now shrink has been executed. */
		vrm->old_len = vrm->new_len;
	}
	err = remap_is_valid(vrm);
	if (err)
		return err;
	err = vrm_set_new_addr(vrm);
	if (err)
		return err;
	return move_vma(vrm);
}

/* models vma_expandable() */
static bool vma_expandable(struct vm_area_struct *vma, uint64_t delta)
{
	uint64_t end = vma->vm_end + delta;
	struct vm_area_struct *next;

	if (end < vma->vm_end || end > TASK_SIZE) /* overflow */
		return false;
	next = find_vma(vma->vm_mm, vma->vm_end);
	return !next || next->vm_start >= end; /* find_vma_intersection() */
}

/* models vrm_can_expand_in_place() */
static bool vrm_can_expand_in_place(struct vma_remap_struct *vrm)
{
	/* If end of range aligns to end of VMA, we can just expand in-place. */
	if (vrm->vma->vm_end - vrm->addr != vrm->old_len)
		return false;
	return vma_expandable(vrm->vma, vrm->delta);
}

/* models check_mremap_params() */
static long check_mremap_params(struct vma_remap_struct *vrm)
{
	/* Ensure no unexpected flag values. */
	if (vrm->flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
		return -EINVAL;
	/* MREMAP_DONTUNMAP is not modelled. */
	if (vrm->flags & MREMAP_DONTUNMAP)
		return -EINVAL;
	if (vrm->addr & ~PAGE_MASK)
		return -EINVAL;
	/* A zero new-len is nonsensical (and so is one that wraps). */
	if (!vrm->new_len || vrm->new_len > TASK_SIZE)
		return -EINVAL;
	if (!vrm_implies_new_addr(vrm))
		return 0;
	if (vrm->new_addr & ~PAGE_MASK)
		return -EINVAL;
	/* A fixed address implies a move. */
	if (!(vrm->flags & MREMAP_MAYMOVE))
		return -EINVAL;
	return 0;
}

/* models expand_vma_in_place(): vma_merge_extend() */
static long expand_vma_in_place(struct vma_remap_struct *vrm)
{
	struct vm_area_struct *vma = vrm->vma;

	vma->vm_end += vrm->delta;
	vma_merge_range(vrm->mm, vma->vm_start, vma->vm_end);
	vrm->vma = NULL;
	return 0;
}

/* models expand_vma() */
static int64_t expand_vma(struct vma_remap_struct *vrm)
{
	long err = remap_is_valid(vrm);

	if (err)
		return err;
	if (vrm_can_expand_in_place(vrm)) {
		err = expand_vma_in_place(vrm);
		if (err)
			return err;
		return (int64_t)vrm->addr;
	}
	/* We're not allowed to move the VMA, so error out. */
	if (!(vrm->flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	err = vrm_set_new_addr(vrm);
	if (err)
		return err;
	return move_vma(vrm);
}

/* models mremap_at() */
static int64_t mremap_at(struct vma_remap_struct *vrm)
{
	long res;

	switch (vrm->remap_type) {
	case MREMAP_NO_RESIZE:
		return (int64_t)vrm->addr;
	case MREMAP_SHRINK:
		res = shrink_vma(vrm);
		if (res)
			return res;
		return (int64_t)vrm->addr;
	case MREMAP_EXPAND:
		return expand_vma(vrm);
	default:
		return -EINVAL;
	}
}

/* models do_mremap() */
static int64_t do_mremap(struct vma_remap_struct *vrm)
{
	int64_t res = check_mremap_params(vrm);

	if (res)
		return res;
	vrm->old_len = (vrm->old_len + PAGE_SIZE - 1) & PAGE_MASK;
	vrm->new_len = (vrm->new_len + PAGE_SIZE - 1) & PAGE_MASK;
	vrm_set_delta(vrm);

	vrm->vma = vma_lookup(vrm->mm, vrm->addr);
	if (!vrm->vma) {
		res = -EFAULT;
		goto out;
	}
	vrm->remap_type = vrm_remap_type(vrm);
	res = vrm_implies_new_addr(vrm) ? mremap_to(vrm) : mremap_at(vrm);
out:
	/* notify_uffd(): the early unmaps, the remap, then the rest. */
	userfaultfd_unmap_complete(vrm->uf_unmap_early);
	mremap_userfaultfd_complete(&vrm->uf, vrm->addr, (uint64_t)res, vrm->old_len);
	userfaultfd_unmap_complete(vrm->uf_unmap);
	return res;
}

/* models SYSCALL_DEFINE5(mremap) */
int64_t sys_mremap(struct mm_struct *mm, uint64_t addr, uint64_t old_len, uint64_t new_len,
		   unsigned flags, uint64_t new_addr)
{
	g_autoptr(GArray) uf_unmap_early =
		g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_unmap_ctx));
	g_autoptr(GArray) uf_unmap =
		g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_unmap_ctx));
	struct vma_remap_struct vrm = { .addr = addr,
					.uf_unmap_early = uf_unmap_early,
					.uf_unmap = uf_unmap,
					.old_len = old_len,
					.new_len = new_len,
					.flags = flags,
					.new_addr = new_addr,
					.mm = mm,
					.remap_type = MREMAP_INVALID };
	int64_t res = do_mremap(&vrm);

	/* What user space sees changed, for the oracle's ledger and shadow. */
	uint64_t olen = (old_len + PAGE_SIZE - 1) & PAGE_MASK;
	uint64_t nlen = (new_len + PAGE_SIZE - 1) & PAGE_MASK;
	if (res >= 0 && ((uint64_t)res != addr || olen != nlen))
		mm_event_emit((struct mm_event){ .kind = EV_MREMAP,
						 .mm_id = mm->id,
						 .address = addr,
						 .len = olen,
						 .new_address = (uint64_t)res,
						 .new_len = nlen });
	return res;
}
