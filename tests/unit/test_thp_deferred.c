/* tests/unit/test_thp_deferred.c - the deferred split of partially unmapped
 * large anon folios (sim/mm/huge_memory.c): deferred_split_folio() queued by
 * __folio_remove_rmap() (sim/mm/rmap.c) whichever path unmaps, the callers
 * that must and must not queue, deferred_split_scan() and __folio_split()
 * through migration entries. Each surviving PTE keeps its state exactly (an
 * armed one stays protnone with the bit, 07/15), zero-filled subpages go to
 * the shared zero page with their uffd state (try_to_map_unused_to_zeropage);
 * refcounts and mapcounts stay exact and the unmapped subpages are freed
 * (rwp-series.md 2.3, 2.7; kernel-paths.md 6).
 */
#include "mmsim_test.h"

#define VAL 0x6100
#define NR 16 /* an order-4 mTHP */

enum prestate { S_WRITABLE, S_READONLY, S_ARMED, S_ARMED_YOUNG_DIRTY, S_WP };

static const struct row {
	const char *name;
	vm_flags_t mode; /* uffd registration */
	enum prestate state;
} rows[] = {
	{ "writable", 0, S_WRITABLE },
	{ "read-only exclusive", 0, S_READONLY },
	{ "armed", VM_UFFD_RWP, S_ARMED },
	{ "armed young dirty", VM_UFFD_RWP, S_ARMED_YOUNG_DIRTY },
	{ "uffd-wp", VM_UFFD_WP, S_WP },
};

/* A 64K anon region whose 16 pages one order-4 folio maps, written. */
static uint64_t mthp_region(struct folio **foliop)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr;

	thp_settings.enabled = 2;
	thp_settings.mthp_order = 4;
	addr = t_map_anon(mm, NR * PAGE_SIZE, PROT_READ | PROT_WRITE, NR * PAGE_SIZE);
	t_write_pages(mm, addr, NR, VAL);
	*foliop = pfn_folio(pte_pfn(t_pte(mm, addr)));
	assert_int_equal(folio_order(*foliop), 4);
	assert_int_equal(folio_ref_count(*foliop), NR);
	return addr;
}

static pte_t prestate_pte(enum prestate s, pte_t pte)
{
	switch (s) {
	case S_WRITABLE:
		return pte;
	case S_READONLY:
		return pte_wrprotect(pte);
	case S_ARMED:
		return pte_mkuffd(pte_modify(pte_mkold(pte_mkclean(pte)), PAGE_NONE));
	case S_ARMED_YOUNG_DIRTY:
		return pte_mkuffd(pte_modify(pte_mkyoung(pte_mkdirty(pte)), PAGE_NONE));
	case S_WP:
		return pte_mkuffd(pte_wrprotect(pte));
	}
	return pte;
}

/* Pages 0-7 in the row's state, 8-11 plain, 12-15 zapped; the shrinker
 * splits the folio and every surviving PTE is bit-for-bit what it was. */
static void split_keeps_every_pte_state_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct mm_struct *mm = t_proc.mm;
		struct folio *folio;
		uint64_t addr, pfn, used;
		pteval_t before[NR];

		t_proc_restart(state);
		mm = t_proc.mm;
		addr = mthp_region(&folio);
		pfn = folio_pfn(folio);
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		if (r->mode)
			t_register_ctx(vma, r->mode, r->mode == VM_UFFD_RWP ? UFFD_FEATURE_RWP : 0);
		for (unsigned p = 0; p < 8; p++) {
			pte_t *ptep = t_ptep(mm, addr + p * PAGE_SIZE);
			*ptep = prestate_pte(r->state, *ptep);
		}
		for (unsigned p = 0; p < NR; p++)
			before[p] = pte_val(t_pte(mm, addr + p * PAGE_SIZE));

		ROW_EQ(i, deferred_split_count(), 0);
		zap_page_range_single(vma, addr + 12 * PAGE_SIZE, addr + NR * PAGE_SIZE, false);
		ROW_EQ(i, deferred_split_count(), 1);
		ROW_EQ(i, folio_ref_count(folio), 12);
		used = mem_map.nr_used;

		ROW_EQ(i, deferred_split_scan(), 1);
		ROW_EQ(i, deferred_split_count(), 0);
		ROW_EQ(i, mem_map.nr_used, used - 4);
		for (unsigned p = 0; p < NR; p++) {
			pte_t pte = t_pte(mm, addr + p * PAGE_SIZE);
			struct folio *f = &mem_map.folios[pfn + p];
			if (p >= 12) {
				ROW_EQ(i, pte_none(pte), true);
				ROW_EQ(i, f->in_use, 0);
				continue;
			}
			ROW_EQ(i, pte_val(pte), before[p]);
			ROW_EQ(i, pfn_folio(pfn + p), f);
			ROW_EQ(i, folio_order(f), 0);
			ROW_EQ(i, folio_ref_count(f), 1);
			ROW_EQ(i, folio_mapcount(f), 1);
			ROW_EQ(i, PageAnonExclusive(folio_page(f, 0)), true);
			ROW_EQ(i, folio_page(f, 0)->content, VAL);
			ROW_EQ(i, !!(f->flags & (FOLIO_locked | FOLIO_partially_mapped)), 0);
		}
	}
}

/* Which zaps queue the folio: only one that leaves it partly mapped, once. */
static void zap_queues_only_a_partly_mapped_folio(void **state)
{
	static const struct {
		const char *name;
		unsigned first, n; /* pages zapped */
		unsigned long queued;
	} zrows[] = {
		{ "nothing", 0, 0, 0 },	     { "one page", 3, 1, 1 }, { "half", 8, 8, 1 },
		{ "all but one", 1, 15, 1 }, { "all", 0, 16, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(zrows); i++) {
		struct folio *folio;
		uint64_t addr, used;

		t_proc_restart(state);
		addr = mthp_region(&folio);
		used = mem_map.nr_used;
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, addr);
		uint64_t s = addr + zrows[i].first * PAGE_SIZE;
		zap_page_range_single(vma, s, s + zrows[i].n * PAGE_SIZE, false);
		ROW_EQ(i, deferred_split_count(), zrows[i].queued);
		/* A second zap of the same folio (page 0, not its last mapped
		 * page) does not queue it twice. */
		if (zrows[i].queued && zrows[i].first && zrows[i].n < NR - 1) {
			zap_page_range_single(vma, addr, addr + PAGE_SIZE, false);
			ROW_EQ(i, deferred_split_count(), 1);
		}
		ROW_EQ(i, deferred_split_scan(), zrows[i].queued);
		ROW_EQ(i, deferred_split_count(), 0);
		/* Every frame still in use is mapped exactly once. */
		uint64_t mapped = 0;
		for (unsigned p = 0; p < NR; p++)
			mapped += pte_present(t_pte(t_proc.mm, addr + p * PAGE_SIZE));
		if (zrows[i].queued)
			ROW_EQ(i, mem_map.nr_used, used - (NR - mapped));
		else if (zrows[i].n == NR)
			ROW_EQ(i, mem_map.nr_used, used - NR);
	}
}

/* A folio freed after it was queued leaves a stale slot the shrinker skips;
 * a new large folio on the same frames is queued once. */
static void a_freed_queued_folio_is_skipped(void **state)
{
	struct folio *folio, *again;
	uint64_t addr;

	(void)state;
	addr = mthp_region(&folio);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, addr);
	zap_page_range_single(vma, addr, addr + PAGE_SIZE, false);
	assert_int_equal(deferred_split_count(), 1);
	zap_page_range_single(vma, addr, addr + NR * PAGE_SIZE, false);
	assert_int_equal(deferred_split_count(), 0);
	/* The frames come back as a fresh, fully mapped order-4 folio. */
	t_write_pages(t_proc.mm, addr, NR, VAL);
	again = pfn_folio(pte_pfn(t_pte(t_proc.mm, addr)));
	assert_int_equal(folio_order(again), 4);
	assert_int_equal(deferred_split_count(), 0);
	/* Queued in its turn it gets one slot, though the stale slot of the
	 * freed folio names the same head PFN. */
	zap_page_range_single(vma, addr + 5 * PAGE_SIZE, addr + 6 * PAGE_SIZE, false);
	assert_int_equal(folio_pfn(again), folio_pfn(folio));
	assert_int_equal(deferred_split_count(), 1);
	assert_int_equal(deferred_split_scan(), 1);
	assert_int_equal(deferred_split_count(), 0);
	assert_int_equal(deferred_split_scan(), 0);
	assert_int_equal(folio_order(again), 0);
}

/* A folio with a reference beyond its mappings (a pin) cannot be split:
 * its PTEs are untouched and it stays queued for a later pass. */
static void an_extra_reference_keeps_the_folio_whole_and_queued(void **state)
{
	struct folio *folio;
	uint64_t addr;
	pteval_t before[NR];

	(void)state;
	addr = mthp_region(&folio);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, addr);
	zap_page_range_single(vma, addr + 4 * PAGE_SIZE, addr + 6 * PAGE_SIZE, false);
	for (unsigned p = 0; p < NR; p++)
		before[p] = pte_val(t_pte(t_proc.mm, addr + p * PAGE_SIZE));
	folio_get(folio);
	folio->pincount++;
	assert_int_equal(deferred_split_scan(), 0);
	assert_int_equal(folio_order(folio), 4);
	assert_int_equal(deferred_split_count(), 1);
	assert_int_equal(folio_ref_count(folio), NR - 2 + 1);
	for (unsigned p = 0; p < NR; p++)
		assert_int_equal(pte_val(t_pte(t_proc.mm, addr + p * PAGE_SIZE)), before[p]);
	/* Unpinned, the next pass splits it. */
	folio->pincount--;
	folio_put(folio);
	assert_int_equal(deferred_split_scan(), 1);
	assert_int_equal(folio_order(pfn_folio(pte_pfn(t_pte(t_proc.mm, addr)))), 0);
	assert_int_equal(folio_ref_count(pfn_folio(pte_pfn(t_pte(t_proc.mm, addr)))), 1);
}

/* ------------------------------------------------------------ caller matrix */

#define VAL_COW 0x6200

/* One large anon folio written in its first half (the second half stays
 * zero-filled), the operation of a row, maybe a forked child. */
struct cx {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	uint64_t addr, pfn;
	unsigned nr;
	struct mm_struct *child;
	GArray *fcs; /* the fork's userfaultfd_fork_ctx pairs (none here) */
};

static void cx_fork(struct cx *c)
{
	c->fcs = g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_fork_ctx));
	c->child = sys_fork(c->mm, "C", c->fcs);
	assert_non_null(c->child);
}

static void op_dontneed_written(struct cx *c)
{
	assert_int_equal(sys_madvise(c->mm, c->addr, PAGE_SIZE, MADV_DONTNEED), 0);
}

static void op_dontneed_zero_filled(struct cx *c)
{
	assert_int_equal(
		sys_madvise(c->mm, c->addr + (c->nr - 1) * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
}

static void op_munmap_tail(struct cx *c)
{
	assert_int_equal(sys_munmap(c->mm, c->addr + (c->nr - 2) * PAGE_SIZE, 2 * PAGE_SIZE), 0);
}

static void op_munmap_all(struct cx *c)
{
	assert_int_equal(sys_munmap(c->mm, c->addr, c->nr * PAGE_SIZE), 0);
}

/* wp_page_copy() in the child only: page 0 stays mapped by the parent. */
static void op_cow_child(struct cx *c)
{
	cx_fork(c);
	t_write_pages(c->child, c->addr, 1, VAL_COW);
}

/* ... and then in the parent: page 0 is mapped by nobody. */
static void op_cow_both(struct cx *c)
{
	op_cow_child(c);
	if (pmd_trans_huge(t_pmd(c->mm, c->addr)))
		split_huge_pmd_address(c->vma, c->addr);
	t_write_pages(c->mm, c->addr, 1, VAL_COW + 1);
}

/* try_to_migrate() unmaps PTE by PTE: the source is partially mapped on
 * the way (and queued), then freed; the destination is mapped whole. */
static void op_migrate(struct cx *c)
{
	assert_int_equal(migrate_folio_sync(pfn_folio(c->pfn), 0), 0);
}

static void op_split_pmd(struct cx *c) { split_huge_pmd_address(c->vma, c->addr); }

/* The child's PTEs map pages 1..511; the parent's PMD split adds its PTE
 * mappings before dropping the PMD one, so page 0 is never unmapped. */
static void op_cow_child_split_parent_pmd(struct cx *c)
{
	op_cow_child(c);
	split_huge_pmd_address(c->vma, c->addr);
}

/* ... while dropping the parent's PMD leaves page 0 unmapped: the PMD level
 * of __folio_remove_rmap() finds the folio partially mapped. */
static void op_cow_child_zap_parent_pmd(struct cx *c)
{
	op_cow_child(c);
	op_munmap_all(c);
}

static const struct caller_row {
	const char *name;
	unsigned order;
	void (*op)(struct cx *c);
	unsigned long queued; /* deferred_split_count() after op */
	bool child_survives;  /* check the child's mapping after the scan */
	unsigned zero_mapped; /* of the survivor's pages, mapped to the zero page */
} caller_rows[] = {
	{ "mTHP DONTNEED a written page", 4, op_dontneed_written, 1, false, 8 },
	{ "mTHP DONTNEED a zero-filled page", 4, op_dontneed_zero_filled, 1, false, 7 },
	{ "mTHP munmap of the tail", 4, op_munmap_tail, 1, false, 6 },
	{ "mTHP munmap of all of it", 4, op_munmap_all, 0, false, 0 },
	{ "mTHP COW in the child only", 4, op_cow_child, 0, true, 0 },
	{ "mTHP COW in child and parent", 4, op_cow_both, 1, false, 8 },
	{ "mTHP migration", 4, op_migrate, 0, false, 0 },
	{ "order-2 mTHP DONTNEED", 2, op_dontneed_written, 1, false, 2 },
	{ "PMD zapped whole", HPAGE_PMD_ORDER, op_munmap_all, 0, false, 0 },
	{ "PMD split", HPAGE_PMD_ORDER, op_split_pmd, 0, false, 0 },
	{ "PMD DONTNEED of one page", HPAGE_PMD_ORDER, op_dontneed_written, 1, false, 256 },
	{ "PMD COW in child and parent", HPAGE_PMD_ORDER, op_cow_both, 1, false, 256 },
	{ "PMD COW in child, parent PMD split", HPAGE_PMD_ORDER, op_cow_child_split_parent_pmd, 0,
	  true, 0 },
	{ "PMD COW in child, parent PMD zapped", HPAGE_PMD_ORDER, op_cow_child_zap_parent_pmd, 1,
	  true, 256 },
};

/* Every path that unmaps part of a large anon folio queues it through
 * __folio_remove_rmap(), once; paths that leave it whole or free it do not.
 * The shrinker then splits exactly the queued folios, and only a split maps
 * the zero-filled subpages to the zero page. */
static void every_caller_that_partially_unmaps_queues(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(caller_rows); i++) {
		const struct caller_row *r = &caller_rows[i];
		struct cx c = { 0 };
		uint64_t len;

		t_proc_restart(state);
		c.mm = t_proc.mm;
		c.nr = 1u << r->order;
		len = (uint64_t)c.nr * PAGE_SIZE;
		if (r->order == HPAGE_PMD_ORDER) {
			thp_settings.enabled = 0; /* always */
		} else {
			thp_settings.enabled = 2; /* never, mTHP only */
			thp_settings.mthp_order = r->order;
		}
		c.addr = t_map_anon(c.mm, len, PROT_READ | PROT_WRITE, len);
		c.vma = vma_lookup(c.mm, c.addr);
		t_write_pages(c.mm, c.addr, c.nr / 2, VAL);
		if (r->order == HPAGE_PMD_ORDER) {
			ROW_EQ(i, pmd_trans_huge(t_pmd(c.mm, c.addr)), true);
			c.pfn = pmd_pfn(t_pmd(c.mm, c.addr));
		} else {
			c.pfn = pte_pfn(t_pte(c.mm, c.addr));
		}
		ROW_EQ(i, folio_order(pfn_folio(c.pfn)), r->order);
		ROW_EQ(i, deferred_split_count(), 0);

		r->op(&c);
		ROW_EQ(i, deferred_split_count(), r->queued);
		if (r->queued)
			ROW_EQ(i, !!(mem_map.folios[c.pfn].flags & FOLIO_partially_mapped), true);

		ROW_EQ(i, deferred_split_scan(), r->queued);
		ROW_EQ(i, deferred_split_count(), 0);

		struct mm_struct *mm = r->child_survives ? c.child : c.mm;
		unsigned zero = 0;
		for (unsigned p = 0; p < c.nr; p++) {
			pte_t *ptep = pte_lookup(mm->pgd, c.addr + p * PAGE_SIZE);
			if (!ptep || !pte_present(*ptep))
				continue;
			uint64_t pfn = pte_pfn(*ptep);
			if (is_zero_pfn(pfn)) {
				zero++;
				ROW_EQ(i, p >= c.nr / 2, true); /* only zero-filled pages */
				continue;
			}
			/* A split leaves order-0 folios with one reference per
			 * mapping; an unsplit folio keeps its order. */
			if (pfn >= c.pfn && pfn < c.pfn + c.nr)
				ROW_EQ(i, folio_order(pfn_folio(pfn)), r->queued ? 0 : r->order);
			if (r->queued)
				ROW_EQ(i, folio_ref_count(pfn_folio(pfn)),
				       folio_mapcount(pfn_folio(pfn)));
		}
		ROW_EQ(i, zero, r->zero_mapped);
		if (c.child) {
			ROW_EQ(i, c.fcs->len, 0);
			g_array_free(c.fcs, TRUE);
			mm_discard(c.child);
		}
	}
}

/* deferred_split_folio() leaves a swap-cache folio to reclaim. */
static void a_swapcache_folio_is_not_queued(void **state)
{
	struct folio *folio;
	uint64_t addr;

	(void)state;
	addr = mthp_region(&folio);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, addr);
	folio_set_flag(folio, FOLIO_swapcache);
	zap_page_range_single(vma, addr, addr + PAGE_SIZE, false);
	assert_int_equal(deferred_split_count(), 0);
	assert_false(folio->flags & FOLIO_partially_mapped);
	folio_clear_flag(folio, FOLIO_swapcache);
	zap_page_range_single(vma, addr + PAGE_SIZE, addr + 2 * PAGE_SIZE, false);
	assert_int_equal(deferred_split_count(), 1);
}

/* Zero-filled subpages of a split folio are mapped to the zero page
 * (RMP_USE_SHARED_ZEROPAGE) with the state of their PTE: an armed one stays
 * protnone with the bit (07/15), a uffd-wp one keeps the bit, soft-dirty is
 * kept; a written page keeps its own frame. Mutation
 * deferred-split-no-reforce drops the PAGE_NONE. */
static void zero_filled_subpages_keep_their_state_on_the_zero_page(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows) * 2; i++) {
		const struct row *r = &rows[i % G_N_ELEMENTS(rows)];
		bool mutated = i >= G_N_ELEMENTS(rows);
		struct mm_struct *mm;
		struct folio *folio;
		uint64_t addr, pfn;

		t_proc_restart(state);
		mm = t_proc.mm;
		thp_settings.enabled = 2;
		thp_settings.mthp_order = 4;
		addr = t_map_anon(mm, NR * PAGE_SIZE, PROT_READ | PROT_WRITE, NR * PAGE_SIZE);
		t_write_pages(mm, addr, 1, VAL); /* page 0 written, 1-15 zero-filled */
		folio = pfn_folio(pte_pfn(t_pte(mm, addr)));
		pfn = folio_pfn(folio);
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		if (r->mode)
			t_register_ctx(vma, r->mode, r->mode == VM_UFFD_RWP ? UFFD_FEATURE_RWP : 0);
		for (unsigned p = 0; p < 8; p++) {
			pte_t *ptep = t_ptep(mm, addr + p * PAGE_SIZE);
			*ptep = prestate_pte(r->state, *ptep);
		}
		/* soft-dirty on page 5 only (pte_mkdirty() sets it too) */
		for (unsigned p = 1; p < NR; p++) {
			pte_t *ptep = t_ptep(mm, addr + p * PAGE_SIZE);
			*ptep = __pte(pte_val(*ptep) & ~_PAGE_SOFT_DIRTY);
			if (p == 5)
				*ptep = __pte(pte_val(*ptep) | _PAGE_SOFT_DIRTY);
		}
		zap_page_range_single(vma, addr + 15 * PAGE_SIZE, addr + NR * PAGE_SIZE, false);
		patch_hunks[HUNK_DEFERRED_SPLIT_NO_REFORCE] = mutated;
		ROW_EQ(i, deferred_split_scan(), 1);
		patch_hunks[HUNK_DEFERRED_SPLIT_NO_REFORCE] = false;

		/* Page 0 keeps its frame, its content and its PTE state. */
		ROW_EQ(i, pte_pfn(t_pte(mm, addr)), pfn);
		ROW_EQ(i, folio_page(folio, 0)->content, VAL);
		for (unsigned p = 1; p < 15; p++) {
			pte_t pte = t_pte(mm, addr + p * PAGE_SIZE);
			bool stated = p < 8; /* pages 0-7 are in the row's state */
			bool armed =
				stated && (r->state == S_ARMED || r->state == S_ARMED_YOUNG_DIRTY);
			bool uffd = stated && (armed || r->state == S_WP);

			ROW_EQ(i, pte_present(pte), true);
			ROW_EQ(i, is_zero_pfn(pte_pfn(pte)), true);
			ROW_EQ(i, pte_uffd(pte), uffd);
			ROW_EQ(i, pte_protnone(pte), armed && !mutated);
			ROW_EQ(i, pte_write(pte), false);
			ROW_EQ(i, pte_soft_dirty(pte), p == 5);
			/* the subpage's own frame is free */
			ROW_EQ(i, mem_map.folios[pfn + p].in_use, 0);
		}
		ROW_EQ(i, pte_none(t_pte(mm, addr + 15 * PAGE_SIZE)), true);
		ROW_EQ(i, folio_order(folio), 0);
		ROW_EQ(i, folio_ref_count(folio), 1);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(split_keeps_every_pte_state_table),
		T(zap_queues_only_a_partly_mapped_folio),
		T(a_freed_queued_folio_is_skipped),
		T(an_extra_reference_keeps_the_folio_whole_and_queued),
		T(every_caller_that_partially_unmaps_queues),
		T(a_swapcache_folio_is_not_queued),
		T(zero_filled_subpages_keep_their_state_on_the_zero_page),
	};
	return cmocka_run_group_tests_name("thp deferred split", tests, NULL, NULL);
}
