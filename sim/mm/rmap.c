/* sim/mm/rmap.c - reverse mapping: rmap accounting, rmap_walk and unmapping
 * (mm/rmap.c). The accounting helpers keep folio mapcounts and references
 * in step with the page tables; the oracle re-derives both independently.
 */
#include "internal.h"
#include "patch.h"

/* folio_mm_id(): the model's MM id of vma's mm */
static inline uint16_t vma_mm_id(const struct vm_area_struct *vma)
{
	uint16_t id = (uint16_t)vma->vm_mm->id;

	return id != MM_ID_DUMMY ? id : 1;
}

/*
 * models folio_add_return_large_mapcount() (include/linux/rmap.h,
 * CONFIG_MM_ID): called after the model's own mapcounts were raised by
 * diff. The first MM takes slot 0, a second one slot 1 and marks the folio
 * maybe-mapped-shared; a third one is not tracked.
 */
static void folio_add_large_mapcount(struct folio *folio, int diff, struct vm_area_struct *vma)
{
	const uint16_t mm_id = vma_mm_id(vma);
	int new_mapcount_val;

	if (!folio_test_large(folio))
		return;
	new_mapcount_val = folio_mapcount(folio) - 1;
	if (folio->mm_id[0] == mm_id) {
		folio->mm_id_mapcount[0] = (int16_t)(folio->mm_id_mapcount[0] + diff);
	} else if (folio->mm_id[1] == mm_id) {
		folio->mm_id_mapcount[1] = (int16_t)(folio->mm_id_mapcount[1] + diff);
	} else if (folio->mm_id[0] == MM_ID_DUMMY) {
		folio->mm_id[0] = mm_id;
		folio->mm_id_mapcount[0] = (int16_t)(diff - 1);
		/* We might have other mappings already. */
		if (new_mapcount_val != diff - 1)
			folio_set_flag(folio, FOLIO_mm_ids_shared);
	} else if (folio->mm_id[1] == MM_ID_DUMMY) {
		folio->mm_id[1] = mm_id;
		folio->mm_id_mapcount[1] = (int16_t)(diff - 1);
		/* Slot 0 certainly has mappings as well. */
		folio_set_flag(folio, FOLIO_mm_ids_shared);
	}
}

/*
 * models folio_sub_return_large_mapcount(): called after the model's own
 * mapcounts were lowered by diff. A slot whose MM maps nothing any more is
 * freed; once one slot owns every mapping the folio is exclusive again.
 */
static void folio_sub_large_mapcount(struct folio *folio, int diff, struct vm_area_struct *vma)
{
	const uint16_t mm_id = vma_mm_id(vma);
	int new_mapcount_val;

	if (!folio_test_large(folio))
		return;
	new_mapcount_val = folio_mapcount(folio) - 1;
	for (int i = 0; i < 2; i++) {
		if (folio->mm_id[i] != mm_id)
			continue;
		folio->mm_id_mapcount[i] = (int16_t)(folio->mm_id_mapcount[i] - diff);
		if (folio->mm_id_mapcount[i] >= 0)
			return;
		folio->mm_id_mapcount[i] = -1;
		folio->mm_id[i] = MM_ID_DUMMY;
		break;
	}
	if (folio->mm_id_mapcount[0] == new_mapcount_val ||
	    folio->mm_id_mapcount[1] == new_mapcount_val)
		folio_clear_flag(folio, FOLIO_mm_ids_shared);
}

/* models __folio_set_anon()/anon rmap bookkeeping of folio_add_new_anon_rmap() */
void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			     bool exclusive)
{
	folio->mapping = vma->anon_vma;
	folio->index = linear_page_index(vma, address);
	folio_set_flag(folio, FOLIO_anon | FOLIO_swapbacked | FOLIO_lru);
	/* The mapcounts are added by the _ptes/_pmd helpers by the caller. */
	for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
		if (exclusive)
			folio_page(folio, i)->flags |= PG_anon_exclusive;
}

/* models folio_add_anon_rmap_ptes() */
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, bool exclusive)
{
	for (int i = 0; i < nr; i++) {
		page[i].mapcount++;
		if (exclusive)
			page[i].flags |= PG_anon_exclusive;
	}
	folio_add_large_mapcount(folio, nr, vma);
	vma->vm_mm->rss_anon += nr;
}

/* models folio_add_file_rmap_ptes() */
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma)
{
	for (int i = 0; i < nr; i++)
		page[i].mapcount++;
	folio_add_large_mapcount(folio, nr, vma);
	vma->vm_mm->rss_shmem += nr;
}

/* models folio_add_file_rmap_pmd() */
void folio_add_file_rmap_pmd(struct folio *folio, struct vm_area_struct *vma)
{
	folio->entire_mapcount++;
	folio_add_large_mapcount(folio, 1, vma);
	vma->vm_mm->rss_shmem += HPAGE_PMD_NR;
}

/* models folio_add_anon_rmap_pmd() */
void folio_add_anon_rmap_pmd(struct folio *folio, struct vm_area_struct *vma, bool exclusive)
{
	folio->entire_mapcount++;
	if (exclusive)
		for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
			folio_page(folio, i)->flags |= PG_anon_exclusive;
	folio_add_large_mapcount(folio, 1, vma);
	vma->vm_mm->rss_anon += HPAGE_PMD_NR;
}

/* The pages of a large folio that no PTE maps (the kernel's nr_pages minus
 * _nr_pages_mapped without the ENTIRELY_MAPPED bias). */
static uint64_t folio_nr_pages_unmapped_by_ptes(struct folio *folio)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
		n += folio_page(folio, i)->mapcount == 0;
	return n;
}

/* Only an anon folio not yet flagged can be queued by the check below:
 * the others skip the page scan (the kernel's counters make it free). */
static inline bool deferred_split_candidate(const struct folio *folio)
{
	return folio_test_anon(folio) && !(folio->flags & FOLIO_partially_mapped);
}

enum rmap_level { RMAP_LEVEL_PTE, RMAP_LEVEL_PMD };

/*
 * models __folio_remove_rmap(). The model keeps a mapcount per page (the
 * kernel's CONFIG_PAGE_MAPCOUNT accounting): a PTE removal that takes pages
 * to no mapping while the folio has no PMD mapping and some other page is
 * still PTE-mapped leaves the folio partially mapped; so does the removal of
 * the last PMD mapping while only some pages are PTE-mapped. A large anon
 * folio partially mapped for the first time goes on the deferred split
 * queue, whoever unmapped it (zap, COW, reclaim, migration, split).
 */
static void __folio_remove_rmap(struct folio *folio, struct page *page, int nr_pages,
				struct vm_area_struct *vma, enum rmap_level level)
{
	bool partially_mapped = false;
	uint64_t nr = 0;

	if (level == RMAP_LEVEL_PTE) {
		for (int i = 0; i < nr_pages; i++) {
			g_assert(page[i].mapcount > 0);
			page[i].mapcount--;
			if (page[i].mapcount)
				continue;
			nr++;
			if (folio_test_anon(folio) && !folio->entire_mapcount)
				page[i].flags &= ~PG_anon_exclusive;
		}
		/* nr counts only while no PMD maps the folio entirely; the
		 * page scan is needed only for a folio that could be queued. */
		if (folio->entire_mapcount)
			nr = 0;
		if (nr && folio_test_large(folio) && deferred_split_candidate(folio))
			partially_mapped =
				folio_nr_pages_unmapped_by_ptes(folio) < folio_nr_pages(folio);
	} else {
		g_assert(folio->entire_mapcount > 0);
		folio->entire_mapcount--;
		if (!folio->entire_mapcount && deferred_split_candidate(folio)) {
			nr = folio_nr_pages_unmapped_by_ptes(folio);
			partially_mapped = nr && nr < folio_nr_pages(folio);
		}
	}

	folio_sub_large_mapcount(folio, level == RMAP_LEVEL_PMD ? 1 : nr_pages, vma);

	if (partially_mapped && folio_test_anon(folio) && !(folio->flags & FOLIO_partially_mapped))
		deferred_split_folio(folio, true);

	/* __folio_mod_stat(): the model's counters are the mm's rss. */
	if (folio_test_anon(folio))
		vma->vm_mm->rss_anon -= nr_pages;
	else
		vma->vm_mm->rss_shmem -= nr_pages;
}

/* models folio_remove_rmap_ptes() */
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma)
{
	__folio_remove_rmap(folio, page, nr, vma, RMAP_LEVEL_PTE);
}

/* models folio_remove_rmap_pmd() */
void folio_remove_rmap_pmd(struct folio *folio, struct vm_area_struct *vma)
{
	__folio_remove_rmap(folio, folio_page(folio, 0), HPAGE_PMD_NR, vma, RMAP_LEVEL_PMD);
}

/* models folio_needs_cow_for_dma(): the model has no MMF_HAS_PINNED, so
 * any pin of the folio counts */
static bool folio_needs_cow_for_dma(struct vm_area_struct *vma, struct folio *folio)
{
	(void)vma;
	return folio_maybe_dma_pinned(folio);
}

/* models folio_try_dup_anon_rmap_ptes() -> __folio_try_dup_anon_rmap() at
 * PTE level: the pages become shared by parent and child and lose
 * PG_anon_exclusive, unless the folio may be pinned and a page is exclusive
 * (-EBUSY: the child must get its own copy, copy_present_page()). */
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	if (folio_needs_cow_for_dma(src_vma, folio))
		for (int i = 0; i < nr; i++)
			if (PageAnonExclusive(&page[i]))
				return -EBUSY;
	for (int i = 0; i < nr; i++) {
		page[i].flags &= ~PG_anon_exclusive;
		page[i].mapcount++;
	}
	folio_add_large_mapcount(folio, nr, dst_vma);
	dst_vma->vm_mm->rss_anon += nr;
	return 0;
}

/* models folio_try_dup_anon_rmap_pmd(); the model keeps PG_anon_exclusive
 * on every page of a PMD-mapped folio, so all of them are cleared */
int folio_try_dup_anon_rmap_pmd(struct folio *folio, struct page *page,
				struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	if (PageAnonExclusive(page)) {
		if (folio_needs_cow_for_dma(src_vma, folio))
			return -EBUSY;
		for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
			folio_page(folio, i)->flags &= ~PG_anon_exclusive;
	}
	folio->entire_mapcount++;
	folio_add_large_mapcount(folio, 1, dst_vma);
	dst_vma->vm_mm->rss_anon += HPAGE_PMD_NR;
	return 0;
}

/* models folio_dup_file_rmap_ptes() */
void folio_dup_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *dst_vma)
{
	for (int i = 0; i < nr; i++)
		page[i].mapcount++;
	folio_add_large_mapcount(folio, nr, dst_vma);
	dst_vma->vm_mm->rss_shmem += nr;
}

/* models anon_vma_prepare() */
int anon_vma_prepare(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		return 0;
	vma->anon_vma = anon_vma_alloc();
	vma->anon_vma_own = anon_vma_new_own();
	vma->anon_vma_chained = false;
	anon_vma_attach(vma->anon_vma, vma);
	return 0;
}

/* models anon_vma_fork(). The kernel gives the child VMA its own anon_vma,
 * chained under the parent's, so that an rmap walk from a folio shared since
 * the fork reaches parent and child, and one from a folio the child
 * allocated later reaches the child only. The model's anon_vma is a flat set
 * of VMAs: the child VMA joins the parent's (vma_link attaches it). Walks
 * then visit a superset of the kernel's VMAs; every rmap_one checks that the
 * entry maps the folio, so the extra VMAs are skipped. */
int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma)
{
	vma->anon_vma = pvma->anon_vma;
	/* For merging: its own anon_vma, chained under the parent's. */
	if (vma->anon_vma) {
		vma->anon_vma_own = anon_vma_new_own();
		vma->anon_vma_chained = true;
	}
	return 0;
}

/* models folio_get_anon_vma(): a reference that keeps the anon_vma of a
 * mapped anon folio alive after its last VMA is unmapped (migration holds
 * it across the window in which the folio's PTEs are migration entries) */
struct anon_vma *folio_get_anon_vma(struct folio *folio)
{
	struct anon_vma *anon_vma = folio->mapping;

	if (!folio_test_anon(folio) || !anon_vma || !folio_mapped(folio))
		return NULL;
	anon_vma->refcount++;
	return anon_vma;
}

/* models rmap_walk() -> rmap_walk_anon()/rmap_walk_file() */
void rmap_walk(struct folio *folio, struct rmap_walk_control *rwc)
{
	uint64_t pgoff_start = folio->index;
	uint64_t pgoff_end = pgoff_start + folio_nr_pages(folio) - 1;
	GPtrArray *vmas;

	if (folio_test_anon(folio)) {
		struct anon_vma *av = folio->mapping;
		if (!av)
			return;
		vmas = av->vmas;
	} else {
		struct address_space *m = folio->mapping;
		if (!m)
			return;
		vmas = m->i_mmap;
	}
	/* Walk a snapshot: rmap_one may split or unlink VMAs. */
	g_autoptr(GPtrArray) snap = g_ptr_array_copy(vmas, NULL, NULL);
	for (guint i = 0; i < snap->len; i++) {
		struct vm_area_struct *vma = g_ptr_array_index(snap, i);
		uint64_t v_first = vma->vm_pgoff, v_last = vma->vm_pgoff + vma_pages(vma) - 1;
		if (v_last < pgoff_start || v_first > pgoff_end)
			continue;
		uint64_t pgoff = pgoff_start > v_first ? pgoff_start : v_first;
		if (!rwc->rmap_one(folio, vma, vma_address(vma, pgoff), rwc->arg))
			break;
		if (rwc->done && rwc->done(folio))
			break;
	}
}

/* ------------------------------------------------------------------ unmapping */

unsigned rmap_last_batch;

/*
 * The bits folio_pte_batch() ignores when comparing neighbours. The
 * HUNK_UNSAFE_BATCH mutation models an arch whose compare also drops the uffd
 * bit and the protection, which is what makes a single-pteval restore able
 * to copy one PTE's armed state over another's (trace R2).
 */
static inline pteval_t pte_batch_ignored_bits(void)
{
	pteval_t ign = _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_RW;

	if (patch_hunk(HUNK_UNSAFE_BATCH))
		ign |= _PAGE_UFFD | _PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_USER | _PAGE_NX;
	return ign;
}

/* models folio_pte_batch() */
unsigned folio_pte_batch(struct folio *folio, pte_t *ptep, pte_t pte, unsigned max_nr)
{
	/* Compare with the PFN taken out: L1TF stores it inverted in protnone
	 * entries, and the unsafe compare must still see consecutive pages. */
	const pteval_t keep = ~(pte_batch_ignored_bits() | PTE_PFN_MASK);
	uint64_t pfn = pte_pfn(pte);
	uint64_t folio_end = folio_pfn(folio) + folio_nr_pages(folio);
	unsigned nr;

	if (pfn + max_nr > folio_end)
		max_nr = (unsigned)(folio_end - pfn);
	for (nr = 1; nr < max_nr; nr++) {
		pte_t next = ptep[nr];

		if (!pte_present(next) || pte_pfn(next) != pfn + nr)
			break;
		if ((pte_val(next) & keep) != (pte_val(pte) & keep))
			break;
	}
	return nr;
}

/* models folio_unmap_pte_batch() */
unsigned folio_unmap_pte_batch(struct folio *folio, struct page_vma_mapped_walk *pvmw,
			       enum ttu_flags flags, pte_t pte)
{
	struct vm_area_struct *vma = pvmw->vma;
	uint64_t end_addr;
	unsigned max_nr, nr = 1;
	bool protected_vma;

	if (flags & TTU_HWPOISON)
		goto out;
	if (!folio_test_large(folio))
		goto out;
	/* Anon folios going to swap get one swap entry per PTE. */
	if (folio_test_anon(folio) && folio_test_swapbacked(folio))
		goto out;
	/* The kernel's pte_unused() cap is left out: x86 has no such hint. */

	/*
	 * Hunk 08c: the restore and marker paths handle one pteval per batch,
	 * so a VMA with per-PTE uffd state (WP or RWP) must not batch.
	 */
	protected_vma = patch_hunk(HUNK_08C) ? userfaultfd_protected(vma) : userfaultfd_wp(vma);
	if (protected_vma)
		goto out;
	/* One VMA and one page table at most. */
	end_addr = pmd_addr_end(pvmw->address, vma->vm_end);
	max_nr = (unsigned)((end_addr - pvmw->address) >> PAGE_SHIFT);
	nr = folio_pte_batch(folio, pvmw->pte, pte, max_nr);
out:
	rmap_last_batch = nr;
	return nr;
}

/*
 * models get_and_clear_full_ptes(): one value for the whole batch, the first
 * PTE's bits with the batch's dirty and young ORed in. Every other per-PTE
 * bit of the neighbours is gone from here on.
 */
pte_t get_and_clear_full_ptes(pte_t *ptep, unsigned nr)
{
	pte_t pteval = ptep[0];

	for (unsigned i = 0; i < nr; i++) {
		pteval = pte_set_flags(pteval, pte_val(ptep[i]) & (_PAGE_DIRTY | _PAGE_ACCESSED));
		ptep[i] = __pte(0);
	}
	return pteval;
}

/* models pte_install_uffd_wp_if_needed() (mm_inline.h): one PTE only */
static void pte_install_uffd_wp_if_needed(struct vm_area_struct *vma, pte_t *ptep, pte_t pteval)
{
	bool arm;

	/* Anon memory carries the bit in the swap entry instead. */
	if (vma_is_anonymous(vma) || !userfaultfd_wp(vma))
		return;
	if (!pte_none(*ptep))
		return;
	arm = pte_present(pteval) ? pte_uffd(pteval) : pte_swp_uffd_any(pteval);
	if (arm)
		*ptep = make_pte_marker(PTE_MARKER_UFFD_WP);
}

/* models unmap_huge_pmd_locked() -> __discard_anon_folio_pmd_locked() */
static bool discard_lazyfree_pmd(struct vm_area_struct *vma, uint64_t haddr, pmd_t *pmdp,
				 struct folio *folio)
{
	struct mm_struct *mm = vma->vm_mm;
	int ref_count = folio_ref_count(folio);
	int expected = folio_mapcount(folio) + (folio->flags & FOLIO_isolated ? 1 : 0);

	/* Redirtied or referenced elsewhere since MADV_FREE: it is live data. */
	if (pmd_dirty(*pmdp) || folio_test_dirty(folio) || ref_count != expected) {
		folio_set_flag(folio, FOLIO_swapbacked);
		return false;
	}
	*pmdp = __pmd(0);
	uint64_t table = pgtable_trans_huge_withdraw(mm, haddr);
	if (table)
		pt_free(table);
	folio_remove_rmap_pmd(folio, vma);
	folio_put(folio);
	return true;
}

struct ttu_arg {
	enum ttu_flags flags;
};

/* models page_swap_entry(): the swap slot backing page i of a swap-cache folio */
static inline swp_entry_t page_swap_entry(struct folio *folio, uint64_t i)
{
	return swp_entry(swp_type(folio->swap), swp_offset(folio->swap) + i);
}

/* The soft-dirty and uffd bits a swap or migration entry takes over from
 * the entry it replaces: a present PTE's (the existing path that keeps the
 * RWP/WP bit across swap-out and migration; protnone has no swap encoding
 * and is rebuilt at swap-in or by remove_migration_pte()), or a
 * device-exclusive entry's as they are (an armed entry stays armed). */
static pte_t swp_pte_carry_bits(pte_t swp_pte, pte_t pteval)
{
	bool present = pte_present(pteval);

	if (present ? pte_soft_dirty(pteval) : pte_swp_soft_dirty(pteval))
		swp_pte = pte_swp_mksoft_dirty(swp_pte);
	if (present ? pte_uffd(pteval) : pte_swp_uffd(pteval))
		swp_pte = pte_swp_mkuffd(swp_pte);
	return swp_pte;
}

/*
 * Unmap the PTE batch at pvmw. Returns false to abort the whole walk (the
 * PTEs were restored).
 */
static bool try_to_unmap_pte(struct folio *folio, struct page_vma_mapped_walk *pvmw,
			     enum ttu_flags flags, unsigned *nr_out)
{
	struct vm_area_struct *vma = pvmw->vma;
	struct mm_struct *mm = vma->vm_mm;
	pte_t *ptep = pvmw->pte;
	bool present = pte_present(*ptep);
	/* A PFN swap PTE that maps the page: a device-exclusive entry. */
	uint64_t idx = (present ? pte_pfn(*ptep) : swp_offset_pfn(pte_to_swp_entry(*ptep))) -
		       folio_pfn(folio);
	struct page *page = folio_page(folio, idx);
	unsigned nr = 1;
	pte_t pteval;

	if (present) {
		nr = folio_unmap_pte_batch(folio, pvmw, flags, *ptep);
		pteval = get_and_clear_full_ptes(ptep, nr);
	} else {
		pteval = *ptep; /* pte_clear() */
		*ptep = __pte(0);
	}

	*nr_out = nr;
	pte_install_uffd_wp_if_needed(vma, ptep, pteval);
	if (present && pte_dirty(pteval))
		folio_set_flag(folio, FOLIO_dirty);

	if (flags & TTU_HWPOISON) {
		/* Deliberately overwrites any marker: the WP state dies with the page. */
		*ptep = swp_entry_to_pte(swp_entry(SWP_HWPOISON, page_to_pfn(page)));
		goto discard;
	}
	/* The kernel's discard of pte_unused() PTEs is left out: never on x86. */

	if (!folio_test_anon(folio))
		goto discard; /* file: the PTE stays none (or a uffd-wp marker) */

	if (!folio_test_swapbacked(folio)) {
		/* Lazyfree: freeable only if nothing but the mappings (and the
		 * isolation) holds it and nobody wrote to it since MADV_FREE. */
		int ref_count = folio_ref_count(folio);
		int map_count = folio_mapcount(folio);
		int isolated = folio->flags & FOLIO_isolated ? 1 : 0;

		if (ref_count == map_count + isolated && !folio_test_dirty(folio))
			goto discard;
		set_ptes(ptep, pteval, nr);
		folio_set_flag(folio, FOLIO_swapbacked);
		return false;
	}

	if (!folio_test_swapcache(folio)) {
		/* swapbacked without swapcache: the kernel WARNs and restores. */
		set_ptes(ptep, pteval, nr);
		return false;
	}
	g_assert(nr == 1);
	swp_entry_t entry = page_swap_entry(folio, idx);
	bool anon_exclusive = PageAnonExclusive(page);

	/* folio_try_share_anon_rmap_pte() refuses a pinned exclusive page. */
	if (anon_exclusive && folio_maybe_dma_pinned(folio)) {
		set_ptes(ptep, pteval, nr);
		return false;
	}
	swap_dup(swp_offset(entry));
	if (anon_exclusive)
		page->flags &= ~PG_anon_exclusive;
	mm->nr_swapents++;

	pte_t swp_pte = swp_entry_to_pte(entry);
	if (anon_exclusive)
		swp_pte = pte_swp_mkexclusive(swp_pte);
	*ptep = swp_pte_carry_bits(swp_pte, pteval);

discard:
	folio_remove_rmap_ptes(folio, page, (int)nr, vma);
	folio_put_refs(folio, (int)nr);
	return true;
}

/* models check_pte() (mm/page_vma_mapped.c) without PVMW_MIGRATION: the PTE
 * maps pfn, present or through a device-exclusive entry (which keeps the
 * mapping since 6.15); device-private entries are not modelled. */
static bool check_pte(pte_t pte, uint64_t pfn)
{
	if (pte_is_device_exclusive(pte))
		return swp_offset_pfn(pte_to_swp_entry(pte)) == pfn;
	return pte_present(pte) && pte_pfn(pte) == pfn;
}

/* The pages [*first, *last) of folio that can be mapped in vma: the part of
 * page_vma_mapped_walk()'s range that lies inside the VMA. */
static void folio_pages_in_vma(const struct folio *folio, const struct vm_area_struct *vma,
			       uint64_t *first, uint64_t *last)
{
	uint64_t vma_end_pgoff = vma->vm_pgoff + vma_pages(vma);

	*first = vma->vm_pgoff > folio->index ? vma->vm_pgoff - folio->index : 0;
	*last = folio_nr_pages(folio);
	if (folio->index + *last > vma_end_pgoff)
		*last = vma_end_pgoff - folio->index;
}

/* models try_to_unmap_one() */
static bool try_to_unmap_one(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			     void *arg)
{
	struct ttu_arg *ta = arg;
	/* Per VMA, as in the kernel: splitting one VMA's PMD must not stop
	 * the next VMA's from being split. */
	enum ttu_flags flags = ta->flags;
	struct mm_struct *mm = vma->vm_mm;
	uint64_t nr_pages = folio_nr_pages(folio);
	uint64_t pfn0 = folio_pfn(folio);
	uint64_t first, last;

	(void)address;
	folio_pages_in_vma(folio, vma, &first, &last);

	/* mlock: kernel moves the folio to the unevictable list and aborts. */
	if ((vma->vm_flags & VM_LOCKED) && !(flags & TTU_IGNORE_MLOCK))
		return false;

	for (uint64_t i = first; i < last;) {
		uint64_t addr = vma_address(vma, folio->index + i);
		struct page_vma_mapped_walk pvmw = { .vma = vma, .address = addr };

		pvmw.pmd = pmd_lookup(mm->pgd, addr, false, 0);
		if (!pvmw.pmd || pmd_none(*pvmw.pmd)) {
			i = (pmd_addr_end(addr, vma->vm_end) - vma->vm_start) / PAGE_SIZE +
			    vma->vm_pgoff - folio->index;
			continue;
		}
		if (pmd_trans_huge(*pvmw.pmd)) {
			if (pmd_pfn(*pvmw.pmd) != pfn0 || !folio_test_pmd_mappable(folio)) {
				i = (pmd_addr_end(addr, vma->vm_end) - vma->vm_start) / PAGE_SIZE +
				    vma->vm_pgoff - folio->index;
				continue;
			}
			if (folio_test_lazyfree(folio))
				return discard_lazyfree_pmd(vma, addr & HPAGE_PMD_MASK, pvmw.pmd,
							    folio);
			if (!(flags & TTU_SPLIT_HUGE_PMD))
				return false; /* VM_BUG_ON in the kernel */
			split_huge_pmd_address(vma, addr);
			flags &= ~TTU_SPLIT_HUGE_PMD;
			continue; /* restart at the same page, now PTE-mapped */
		}
		pvmw.pte = pte_offset_map(pvmw.pmd, addr);
		if (!pvmw.pte || !check_pte(*pvmw.pte, pfn0 + i)) {
			i++;
			continue;
		}
		unsigned nr = 1;
		if (!try_to_unmap_pte(folio, &pvmw, flags, &nr))
			return false;
		if (nr == nr_pages)
			break; /* the whole folio went in one batch: this VMA is done */
		i += nr;
	}
	return true;
}

/* models folio_not_mapped() */
static bool folio_not_mapped(struct folio *folio) { return !folio_mapped(folio); }

/* models try_to_unmap() */
bool try_to_unmap(struct folio *folio, enum ttu_flags flags)
{
	struct ttu_arg ta = { .flags = flags };
	struct rmap_walk_control rwc = {
		.arg = &ta,
		.rmap_one = try_to_unmap_one,
		.done = folio_not_mapped,
	};

	rmap_walk(folio, &rwc);
	return !folio_mapped(folio);
}

/* ------------------------------------------------------------------ migration */

struct ttm_arg {
	enum ttu_flags flags;
};

/* models set_pmd_migration_entry() (mm/huge_memory.c, called from here):
 * false (-EBUSY) when a pinned anon-exclusive folio cannot be shared. */
static bool set_pmd_migration_entry(struct folio *folio, struct vm_area_struct *vma, uint64_t haddr,
				    pmd_t *pmdp)
{
	uint64_t pfn = folio_pfn(folio);
	pmd_t pmdval = *pmdp; /* pmdp_invalidate() */
	bool anon_exclusive;
	swp_entry_t entry;
	pmd_t pmdswp;

	(void)haddr;
	*pmdp = __pmd(0);
	if (pmd_dirty(pmdval))
		folio_set_flag(folio, FOLIO_dirty);
	anon_exclusive = folio_test_anon(folio) && PageAnonExclusive(folio_page(folio, 0));
	if (anon_exclusive) {
		/* folio_try_share_anon_rmap_pmd() */
		if (folio_maybe_dma_pinned(folio)) {
			*pmdp = pmdval;
			return false;
		}
		for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
			folio_page(folio, i)->flags &= ~PG_anon_exclusive;
	}
	if (pmd_write(pmdval))
		entry = make_writable_migration_entry(pfn);
	else if (anon_exclusive)
		entry = make_readable_exclusive_migration_entry(pfn);
	else
		entry = make_readable_migration_entry(pfn);
	if (pmd_young(pmdval))
		entry = make_migration_entry_young(entry);
	if (pmd_dirty(pmdval))
		entry = make_migration_entry_dirty(entry);
	pmdswp = swp_entry_to_pmd(entry);
	if (pmd_val(pmdval) & _PAGE_SOFT_DIRTY)
		pmdswp = pmd_swp_mksoft_dirty(pmdswp);
	/* The PMD form of the bit moves into the swap form: an armed PMD
	 * stays armed while it migrates (protnone has no swap encoding). */
	if (pmd_uffd(pmdval))
		pmdswp = pmd_swp_mkuffd(pmdswp);
	*pmdp = pmdswp;
	folio_remove_rmap_pmd(folio, vma);
	folio_put(folio);
	return true;
}

/*
 * The PTE half of try_to_migrate_one() for one PTE mapping page idx of
 * folio. Returns false to abort the walk (the PTE was restored).
 */
static bool try_to_migrate_pte(struct folio *folio, struct vm_area_struct *vma, pte_t *ptep,
			       uint64_t idx)
{
	struct page *page = folio_page(folio, idx);
	pte_t pteval = *ptep; /* ptep_clear_flush(), or pte_clear() */
	bool present = pte_present(pteval);
	/* A device-exclusive entry is never a writable one. */
	bool writable = present && pte_write(pteval);
	bool anon_exclusive;
	swp_entry_t entry;
	pte_t swp_pte;

	*ptep = __pte(0);
	if (present && pte_dirty(pteval))
		folio_set_flag(folio, FOLIO_dirty);
	/* The kernel's discard of pte_unused() PTEs is left out: never on x86. */

	anon_exclusive = folio_test_anon(folio) && PageAnonExclusive(page);
	if (anon_exclusive) {
		/* folio_try_share_anon_rmap_pte(): a pinned page must stay
		 * exclusive, so the migration of this folio is abandoned. */
		if (folio_maybe_dma_pinned(folio)) {
			*ptep = pteval;
			return false;
		}
		page->flags &= ~PG_anon_exclusive;
	}

	if (writable)
		entry = make_writable_migration_entry(page_to_pfn(page));
	else if (anon_exclusive)
		entry = make_readable_exclusive_migration_entry(page_to_pfn(page));
	else
		entry = make_readable_migration_entry(page_to_pfn(page));
	if (present && pte_young(pteval))
		entry = make_migration_entry_young(entry);
	if (present && pte_dirty(pteval))
		entry = make_migration_entry_dirty(entry);
	swp_pte = swp_entry_to_pte(entry);
	*ptep = swp_pte_carry_bits(swp_pte, pteval);
	folio_remove_rmap_ptes(folio, page, 1, vma);
	folio_put(folio);
	return true;
}

/* models try_to_migrate_one() */
static bool try_to_migrate_one(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			       void *arg)
{
	struct ttm_arg *ta = arg;
	enum ttu_flags flags = ta->flags; /* per VMA, see try_to_unmap_one() */
	struct mm_struct *mm = vma->vm_mm;
	uint64_t pfn0 = folio_pfn(folio);
	uint64_t first, last;

	(void)address;
	folio_pages_in_vma(folio, vma, &first, &last);

	/* page_vma_mapped_walk() over the pages of the folio in this VMA. */
	for (uint64_t i = first; i < last;) {
		uint64_t addr = vma_address(vma, folio->index + i);
		pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
		uint64_t next_pmd = (pmd_addr_end(addr, vma->vm_end) - vma->vm_start) / PAGE_SIZE +
				    vma->vm_pgoff - folio->index;

		if (!pmd || pmd_none(*pmd)) {
			i = next_pmd;
			continue;
		}
		if (pmd_trans_huge(*pmd)) {
			if (pmd_pfn(*pmd) != pfn0 || !folio_test_pmd_mappable(folio)) {
				i = next_pmd;
				continue;
			}
			if (flags & TTU_SPLIT_HUGE_PMD) {
				/* The kernel splits with freeze=true, turning the
				 * PMD straight into migration PTEs; splitting and
				 * then migrating each PTE gives the same entries. */
				split_huge_pmd_address(vma, addr);
				flags &= ~TTU_SPLIT_HUGE_PMD;
				continue;
			}
			if (!set_pmd_migration_entry(folio, vma, addr & HPAGE_PMD_MASK, pmd))
				return false;
			i = next_pmd;
			continue;
		}
		pte_t *ptep = pte_offset_map(pmd, addr);
		if (!ptep || !check_pte(*ptep, pfn0 + i) ||
		    (pte_present(*ptep) && vm_normal_page(vma, addr, *ptep) == NULL)) {
			i++;
			continue;
		}
		if (!try_to_migrate_pte(folio, vma, ptep, i))
			return false;
		i++;
	}
	return true;
}

/* models try_to_migrate(): replace every mapping of folio by a migration
 * entry. The caller holds the folio locked and checks folio_mapped(). */
void try_to_migrate(struct folio *folio, enum ttu_flags flags)
{
	struct ttm_arg ta = { .flags = flags };
	struct rmap_walk_control rwc = {
		.arg = &ta,
		.rmap_one = try_to_migrate_one,
		.done = folio_not_mapped,
	};

	g_assert(!(flags & ~(TTU_RMAP_LOCKED | TTU_SPLIT_HUGE_PMD | TTU_SYNC | TTU_BATCH_FLUSH)));
	rmap_walk(folio, &rwc);
}

/* ------------------------------------------------------------------ device-exclusive */

/* models get_user_page_vma_remote() (include/linux/mm.h): one page through
 * get_user_pages_remote() with no "locked" pointer, so without
 * FOLL_UNLOCKABLE: the fault may not drop the mmap lock, and a userfault on
 * the way is a SIGBUS (-EFAULT) rather than a sleep. */
static long get_user_page_vma_remote(struct mm_struct *mm, uint64_t addr, unsigned gup_flags,
				     struct page **pagep, struct vm_area_struct **vmap)
{
	struct page *page = NULL;
	uint64_t done = 0;
	long ret;

	/* is_valid_gup_args() of get_user_pages_remote(): FOLL_TOUCH|FOLL_REMOTE */
	ret = __get_user_pages(mm, addr, 1, gup_flags | FOLL_TOUCH | FOLL_REMOTE, &page, &done);
	if (ret < 0)
		return ret;
	if (!done)
		return -EFAULT;
	*vmap = vma_lookup(mm, addr);
	*pagep = page;
	return 0;
}

#define DEVICE_EXCLUSIVE_MAX_RETRIES 64

/*
 * models make_device_exclusive() (the folio_walk form since 6.15, one page):
 * fault the page in writable through GUP (which first undoes an existing
 * device-exclusive entry, resolves an async RWP or WP fault in place, and
 * fails with -EFAULT where a sync userfault would be needed), lock the
 * folio, check with a second walk that the same page is still mapped
 * writable by a PTE (else retry), then clear the PTE and store a
 * device-exclusive entry with its PFN and soft-dirty. The PTE was writable,
 * so it carried no uffd bit: a device-exclusive entry gets one only from a
 * later UFFDIO_RWPROTECT/WRITEPROTECT (change_softleaf_pte()). The entry
 * keeps the mapcount and the mapping's reference; GUP's own reference and
 * the folio lock go back to the caller. No secondary MMUs are modelled, so
 * the MMU_NOTIFY_EXCLUSIVE range is not either.
 */
long make_device_exclusive(struct mm_struct *mm, uint64_t addr, struct page **pagep,
			   struct folio **foliop)
{
	addr &= PAGE_MASK;
	for (unsigned tries = 0;; tries++) {
		struct vm_area_struct *vma = NULL;
		struct page *page = NULL;
		struct folio *folio;
		pte_t *ptep = NULL, pte, swp_pte;
		pmd_t *pmd;
		long ret;

		ret = get_user_page_vma_remote(mm, addr, FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD,
					       &page, &vma);
		if (ret)
			return ret;
		/* The GUP faulted the page in for the device: an access the
		 * user can see (PAGEMAP_SCAN), even if the folio is refused. */
		mm_event_emit((struct mm_event){ .kind = EV_ACCESS,
						 .mm_id = mm->id,
						 .address = addr & PAGE_MASK,
						 .who = ACCESS_GUP,
						 .foll_flags = FOLL_GET | FOLL_SPLIT_PMD,
						 .value = page->content });
		folio = page_folio(page);
		if (!folio_test_anon(folio)) {
			folio_put(folio);
			return -EOPNOTSUPP;
		}
		/* folio_lock_killable(): held only by a path suspended in a race
		 * window, which would finish first (the engine refuses the step;
		 * the holder's lock stays). */
		if (folio_test_locked(folio)) {
			race_window_would_wait("folio lock");
			folio_put(folio);
			return -EAGAIN;
		}
		folio_set_flag(folio, FOLIO_locked);

		/* folio_walk_start(): the same page, PTE-mapped and writable. */
		pmd = mm_find_pmd(mm, addr, false);
		if (pmd && pmd_is_table(*pmd))
			ptep = pte_offset_map(pmd, addr);
		if (!ptep || !pte_present(*ptep) || !pte_write(*ptep) ||
		    vm_normal_page(vma, addr, *ptep) != page) {
			folio_clear_flag(folio, FOLIO_locked);
			folio_put(folio);
			if (tries >= DEVICE_EXCLUSIVE_MAX_RETRIES) {
				mm_event_emit((struct mm_event){ .kind = EV_LIVELOCK,
								 .mm_id = mm->id,
								 .address = addr,
								 .write = true,
								 .who = ACCESS_GUP });
				return -ELOOP;
			}
			continue; /* goto retry */
		}

		/* ptep_clear_flush(), for the up-to-date dirty bit */
		pte = *ptep;
		*ptep = __pte(0);
		if (pte_dirty(pte))
			folio_set_flag(folio, FOLIO_dirty);
		swp_pte = swp_entry_to_pte(make_device_exclusive_entry(page_to_pfn(page)));
		if (pte_soft_dirty(pte))
			swp_pte = pte_swp_mksoft_dirty(swp_pte);
		*ptep = swp_pte;
		*pagep = page;
		*foliop = folio;
		return 0;
	}
}
