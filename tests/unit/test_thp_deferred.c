/* tests/unit/test_thp_deferred.c - the deferred split of partially unmapped
 * large anon folios (sim/mm/huge_memory.c): deferred_split_folio() from the
 * zap path, deferred_split_scan() and __folio_split() through migration
 * entries. Each surviving PTE keeps its state exactly (an armed one stays
 * protnone with the bit, 07/15); refcounts and mapcounts stay exact and the
 * unmapped subpages are freed (rwp-series.md 2.7; kernel-paths.md 6).
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

/* A folio freed after it was queued leaves a stale slot the shrinker skips,
 * even when its frames are reused for a new large folio. */
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
	assert_int_equal(deferred_split_scan(), 0);
	assert_int_equal(folio_order(again), 4);
	assert_int_equal(folio_ref_count(again), NR);
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

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(split_keeps_every_pte_state_table),
		T(zap_queues_only_a_partly_mapped_folio),
		T(a_freed_queued_folio_is_skipped),
		T(an_extra_reference_keeps_the_folio_whole_and_queued),
	};
	return cmocka_run_group_tests_name("thp deferred split", tests, NULL, NULL);
}
