/* tests/unit/test_model_folio.c - frames and folios of model/folio.c.
 *
 * Each test starts from a fresh mem_map of CAP frames. After mem_map_init the
 * layout is fixed: PFN 0 is never handed out, the zero page is PFN 1, the huge
 * zero folio is PFNs 512-1023, PFNs 2-511 sit on the order-0 free list and the
 * bump pointer is at 1024.
 */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/folio.h"

#define CAP (1u << 14)
#define JUNK 0xbadbadbadULL

static int map_setup(void **state) { return t_model_setup((struct t_model){ .frames = CAP }); }

/* Dirty every frame outside the zero folios, as a previous user would. */
static void taint_frames(void)
{
	for (uint64_t pfn = 2; pfn < CAP; pfn++) {
		if (is_huge_zero_pfn(pfn))
			continue;
		mem_map.pages[pfn].content = JUNK + pfn;
		mem_map.pages[pfn].mapcount = 7;
		mem_map.pages[pfn].flags = PG_anon_exclusive | PG_hwpoison;
		mem_map.pages[pfn].head_delta = 3;
	}
}

static void mem_map_init_reserves_the_zero_page_and_huge_zero_folio(void **state)
{
	struct folio *zero = pfn_folio(mem_map.zero_pfn);
	struct folio *hzero = pfn_folio(mem_map.huge_zero_pfn);

	assert_int_equal(mem_map.capacity, CAP);
	assert_int_equal(mem_map.zero_pfn, 1);
	assert_int_equal(mem_map.huge_zero_pfn, 512);
	assert_int_equal(folio_order(zero), 0);
	assert_int_equal(folio_order(hzero), HPAGE_PMD_ORDER);
	assert_int_equal(zero->flags, FOLIO_zero | FOLIO_uptodate);
	assert_int_equal(hzero->flags, FOLIO_zero | FOLIO_uptodate);
	assert_true(folio_test_zero(zero));
	assert_true(folio_test_zero(hzero));
	assert_int_equal(zero->refcount, 1 << 30);
	assert_int_equal(hzero->refcount, 1 << 30);
	assert_int_equal(zero->in_use, 1);
	assert_int_equal(hzero->in_use, 1);
	assert_int_equal(mem_map.nr_used, 1 + HPAGE_PMD_NR);
	assert_int_equal(mem_map.next_pfn, 1024);
	assert_int_equal(mem_map.nr_free[0], 510);
	for (unsigned o = 1; o <= HPAGE_PMD_ORDER; o++)
		assert_int_equal(mem_map.nr_free[o], 0);
	/* the zero folios do not count against failure injection */
	assert_int_equal(mem_map.nr_allocs, 0);
	assert_int_equal(mem_map.fail_alloc_after, 0);

	const struct {
		uint64_t pfn;
		bool zero, huge_zero;
	} rows[] = {
		{ 0, false, false },   { 1, true, false },     { 2, false, false },
		{ 511, false, false }, { 512, false, true },   { 700, false, true },
		{ 1023, false, true }, { 1024, false, false },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		ROW_EQ(i, is_zero_pfn(rows[i].pfn), rows[i].zero);
		ROW_EQ(i, is_huge_zero_pfn(rows[i].pfn), rows[i].huge_zero);
	}
	assert_ptr_equal(pfn_folio(700), hzero);
	assert_int_equal(folio_page(hzero, 188)->head_delta, 188);
}

static void folio_alloc_returns_aligned_distinct_zeroed_folios(void **state)
{
	const struct {
		unsigned order;
		uint64_t pfn; /* where the allocator puts it in a fresh map */
	} rows[] = {
		{ 0, 511 },			       /* top of the order-0 free list */
		{ 2, 1024 },			       /* bump */
		{ 3, 1032 },			       /* 1028-1031 go to the order-0 list */
		{ 4, 1040 }, { 9, 1536 }, { 0, 1535 }, /* from the alignment gap */
		{ 2, 2048 },
	};
	struct folio *f[G_N_ELEMENTS(rows)];

	taint_frames();
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t used = mem_map.nr_used, nr = 1ULL << rows[i].order;

		f[i] = folio_alloc(rows[i].order);
		assert_non_null(f[i]);
		uint64_t pfn = folio_pfn(f[i]);
		ROW_EQ(i, pfn, rows[i].pfn);
		ROW_EQ(i, pfn % nr, 0);
		ROW_EQ(i, folio_order(f[i]), rows[i].order);
		ROW_EQ(i, folio_nr_pages(f[i]), nr);
		ROW_EQ(i, folio_ref_count(f[i]), 1);
		ROW_EQ(i, f[i]->in_use, 1);
		ROW_EQ(i, f[i]->flags, FOLIO_uptodate);
		ROW_EQ(i, f[i]->entire_mapcount, 0);
		ROW_EQ(i, f[i]->pincount, 0);
		ROW_EQ(i, f[i]->index, 0);
		assert_null(f[i]->mapping);
		ROW_EQ(i, f[i]->swap.val, 0);
		ROW_EQ(i, mem_map.nr_used, used + nr);
		ROW_EQ(i, mem_map.nr_allocs, i + 1);
		ROW_EQ(i, folio_mapcount(f[i]), 0);
		ROW_EQ(i, folio_mapped(f[i]), false);
		for (uint64_t p = 0; p < nr; p++) {
			struct page *pg = folio_page(f[i], p);

			ROW_EQ(p, pg->content, 0);
			ROW_EQ(p, pg->mapcount, 0);
			ROW_EQ(p, pg->flags, p ? 0 : PG_head);
			ROW_EQ(p, pg->head_delta, p);
		}
		ROW_EQ(i,
		       is_zero_pfn(pfn) || is_huge_zero_pfn(pfn) || is_huge_zero_pfn(pfn + nr - 1),
		       false);
	}
	/* no two folios overlap */
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		for (size_t j = 0; j < i; j++) {
			uint64_t a = folio_pfn(f[i]), b = folio_pfn(f[j]);
			bool apart = a + folio_nr_pages(f[i]) <= b || b + folio_nr_pages(f[j]) <= a;

			ROW_EQ(i, apart, true);
		}
}

static void folio_put_frees_and_frames_are_reused(void **state)
{
	struct folio *f = folio_alloc(2);
	uint64_t pfn = folio_pfn(f), used = mem_map.nr_used;

	folio_get(f);
	folio_get(f);
	assert_int_equal(folio_ref_count(f), 3);
	folio_put(f);
	assert_int_equal(folio_ref_count(f), 2);
	assert_int_equal(f->in_use, 1);
	assert_int_equal(mem_map.nr_used, used);
	folio_put_refs(f, 2);
	assert_int_equal(f->refcount, 0);
	assert_int_equal(f->in_use, 0);
	assert_int_equal(f->order, 0);
	assert_int_equal(mem_map.nr_used, used - 4);
	assert_int_equal(mem_map.nr_free[2], 1);

	/* the same frames come back, zeroed again */
	folio_page(f, 3)->content = JUNK;
	struct folio *g = folio_alloc(2);
	assert_ptr_equal(g, f);
	assert_int_equal(folio_pfn(g), pfn);
	assert_int_equal(folio_page(g, 3)->content, 0);
	assert_int_equal(mem_map.nr_free[2], 0);
	folio_put(g);

	/* a free PMD-sized block is split for smaller orders before the map grows */
	struct folio *big = folio_alloc(HPAGE_PMD_ORDER);
	uint64_t base = folio_pfn(big), next = mem_map.next_pfn;
	folio_put(big);
	const struct {
		unsigned order;
		uint64_t off;
	} rows[] = { { 3, 0 }, { 3, 8 }, { 4, 16 }, { 8, 256 }, { 5, 32 }, { 6, 64 }, { 7, 128 } };
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct folio *s = folio_alloc(rows[i].order);

		assert_non_null(s);
		ROW_EQ(i, folio_pfn(s), base + rows[i].off);
		ROW_EQ(i, mem_map.next_pfn, next);
	}
	/* the block is used up: the next order-3 folio comes from the bump */
	assert_int_equal(folio_pfn(folio_alloc(3)), next);
}

static void page_folio_and_folio_page_are_inverse(void **state)
{
	const unsigned orders[] = { 0, 2, 4, 9 };

	for (size_t o = 0; o < G_N_ELEMENTS(orders); o++) {
		struct folio *f = folio_alloc(orders[o]);
		uint64_t pfn = folio_pfn(f), nr = folio_nr_pages(f);

		ROW_EQ(o, f, &mem_map.folios[pfn]);
		ROW_EQ(o, folio_test_large(f), orders[o] > 0);
		ROW_EQ(o, folio_test_pmd_mappable(f), orders[o] == HPAGE_PMD_ORDER);
		for (uint64_t i = 0; i < nr; i++) {
			struct page *p = folio_page(f, i);

			ROW_EQ(i, p, &mem_map.pages[pfn + i]);
			ROW_EQ(i, p, pfn_to_page(pfn + i));
			ROW_EQ(i, page_to_pfn(p), pfn + i);
			ROW_EQ(i, page_folio(p), f);
			ROW_EQ(i, pfn_folio(pfn + i), f);
			ROW_EQ(i, p->head_delta, i);
		}
	}
}

static void mapcounts_sum_pte_and_entire_mappings(void **state)
{
	const struct {
		int pte[4];
		int entire;
		int mapcount;
		bool mapped;
	} rows[] = {
		{ { 0, 0, 0, 0 }, 0, 0, false }, { { 1, 0, 0, 0 }, 0, 1, true },
		{ { 0, 0, 0, 1 }, 0, 1, true },	 { { 1, 1, 1, 1 }, 0, 4, true },
		{ { 2, 0, 0, 0 }, 0, 2, true },	 { { 1, 1, 3, 1 }, 0, 6, true },
		{ { 0, 0, 0, 0 }, 1, 1, true },	 { { 0, 0, 0, 0 }, 2, 2, true },
		{ { 1, 1, 1, 1 }, 1, 5, true },	 { { 0, 2, 0, 0 }, 1, 3, true },
	};
	struct folio *f = folio_alloc(2);

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		for (int p = 0; p < 4; p++)
			folio_page(f, p)->mapcount = rows[i].pte[p];
		f->entire_mapcount = rows[i].entire;
		ROW_EQ(i, folio_mapcount(f), rows[i].mapcount);
		ROW_EQ(i, folio_mapped(f), rows[i].mapped);
		/* CONFIG_MM_ID (6.15+, the host's 6.18: hostreplay s7-t00074):
		 * a large folio is maybe-shared only once a second MM mapped
		 * it (FOLIO_mm_ids_shared, kept by sim/mm/rmap.c), not because
		 * one MM maps a page twice; a single mapping is exclusive. */
		f->flags &= (uint16_t)~FOLIO_mm_ids_shared;
		ROW_EQ(i, folio_maybe_mapped_shared(f), false);
		f->flags |= FOLIO_mm_ids_shared;
		ROW_EQ(i, folio_maybe_mapped_shared(f), rows[i].mapcount > 1);
		f->flags &= (uint16_t)~FOLIO_mm_ids_shared;
	}
	/* an order-0 folio */
	struct folio *s = folio_alloc(0);
	assert_false(folio_mapped(s));
	folio_page(s, 0)->mapcount = 1;
	assert_int_equal(folio_mapcount(s), 1);
	assert_false(folio_maybe_mapped_shared(s));
	folio_page(s, 0)->mapcount = 2;
	assert_true(folio_maybe_mapped_shared(s));
}

static void folio_flag_helpers_read_the_flag_word(void **state)
{
	struct folio *f = folio_alloc(0);
	const struct {
		unsigned flag;
		bool (*test)(const struct folio *);
	} rows[] = {
		{ FOLIO_anon, folio_test_anon },
		{ FOLIO_dirty, folio_test_dirty },
		{ FOLIO_swapbacked, folio_test_swapbacked },
		{ FOLIO_locked, folio_test_locked },
		{ FOLIO_lru, folio_test_lru },
		{ FOLIO_swapcache, folio_test_swapcache },
		{ FOLIO_zero, folio_test_zero },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		ROW_EQ(i, rows[i].test(f), false);
		folio_set_flag(f, rows[i].flag);
		ROW_EQ(i, rows[i].test(f), true);
		folio_clear_flag(f, rows[i].flag);
		ROW_EQ(i, rows[i].test(f), false);
	}
	/* lazyfree = anon without swapbacked */
	f->flags = FOLIO_anon;
	assert_true(folio_test_lazyfree(f));
	f->flags = FOLIO_anon | FOLIO_swapbacked;
	assert_false(folio_test_lazyfree(f));
	f->flags = 0;
	assert_false(folio_test_lazyfree(f));
	f->pincount = 1;
	assert_true(folio_maybe_dma_pinned(f));
	assert_true(PageAnonExclusive(&(struct page){ .flags = PG_anon_exclusive }));
	assert_false(PageAnonExclusive(&(struct page){ .flags = PG_head }));
}

/* fail_alloc_after = N: allocation number N (counted since mem_map_init) and
 * every later one fail; failed attempts are not counted. */
static void failure_injection_and_exhaustion_return_null(void **state)
{
	assert_non_null(folio_alloc(0));
	assert_non_null(folio_alloc(2));
	mem_map.fail_alloc_after = mem_map.nr_allocs + 3;
	uint64_t used = mem_map.nr_used, next = mem_map.next_pfn;

	assert_non_null(folio_alloc(0));
	assert_non_null(folio_alloc(9));
	used = mem_map.nr_used;
	next = mem_map.next_pfn;
	const unsigned orders[] = { 0, 2, 9, 0 };
	for (size_t i = 0; i < G_N_ELEMENTS(orders); i++) {
		assert_null(folio_alloc(orders[i]));
		ROW_EQ(i, mem_map.nr_allocs, 4);
		ROW_EQ(i, mem_map.nr_used, used);
		ROW_EQ(i, mem_map.next_pfn, next);
	}
	mem_map.fail_alloc_after = 0;
	assert_non_null(folio_alloc(0));
	assert_int_equal(mem_map.nr_allocs, 5);

	/* a map with room for the zero folios and 8 more frames */
	mem_map_init(1024 + 8);
	assert_null(folio_alloc(HPAGE_PMD_ORDER));
	assert_int_equal(mem_map.nr_allocs, 0);
	assert_int_equal(mem_map.next_pfn, 1024);
	assert_int_equal(folio_pfn(folio_alloc(3)), 1024);
	assert_null(folio_alloc(1));
	for (int i = 0; i < 510; i++)
		assert_non_null(folio_alloc(0));
	assert_null(folio_alloc(0));
	assert_int_equal(mem_map.nr_used, 1024 + 8 - 1);
}

/*
 * Split of an order-2 folio: every page becomes an order-0 folio that keeps
 * its data, takes one reference per PTE mapping and the head keeps the
 * references beyond the mappings (pins, GUP, isolation, cache).
 */
static void folio_split_to_order0_keeps_data_and_spreads_references(void **state)
{
	const struct {
		const char *what;
		int pte[4];
		int extra, pin;
		int want_ref[4];
	} rows[] = {
		{ "mapped, no extras", { 1, 1, 1, 1 }, 0, 0, { 1, 1, 1, 1 } },
		{ "partly mapped + pin + GUP", { 1, 0, 2, 1 }, 2, 1, { 3, 0, 2, 1 } },
		{ "unmapped, isolated", { 0, 0, 0, 0 }, 1, 0, { 1, 0, 0, 0 } },
		{ "shared tail", { 0, 0, 0, 3 }, 1, 0, { 1, 0, 0, 3 } },
	};
	static int mapping_cookie;

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct folio *f = folio_alloc(2);
		uint64_t pfn = folio_pfn(f), used = mem_map.nr_used;
		int maps = 0;

		for (int p = 0; p < 4; p++) {
			folio_page(f, p)->content = 0x100 * (i + 1) + p;
			folio_page(f, p)->mapcount = rows[i].pte[p];
			maps += rows[i].pte[p];
		}
		folio_page(f, 2)->flags |= PG_anon_exclusive;
		f->refcount = maps + rows[i].extra;
		f->pincount = rows[i].pin;
		f->index = 100;
		f->mapping = &mapping_cookie;
		f->flags |= FOLIO_anon | FOLIO_swapbacked | FOLIO_dirty | FOLIO_locked;

		folio_split_to_order0(f);
		for (uint64_t p = 0; p < 4; p++) {
			struct folio *t = pfn_folio(pfn + p);
			struct page *pg = pfn_to_page(pfn + p);

			ROW_EQ(i, t, &mem_map.folios[pfn + p]);
			ROW_EQ(i, folio_order(t), 0);
			ROW_EQ(i, folio_ref_count(t), rows[i].want_ref[p]);
			ROW_EQ(i, folio_mapcount(t), rows[i].pte[p]);
			ROW_EQ(i, t->pincount, p ? 0 : rows[i].pin);
			ROW_EQ(i, t->index, 100 + p);
			ROW_EQ(i, t->mapping, &mapping_cookie);
			ROW_EQ(i, t->flags,
			       FOLIO_uptodate | FOLIO_anon | FOLIO_swapbacked | FOLIO_dirty |
				       FOLIO_locked);
			ROW_EQ(i, t->in_use, 1);
			ROW_EQ(i, t->entire_mapcount, 0);
			ROW_EQ(i, pg->content, 0x100 * (i + 1) + p);
			ROW_EQ(i, pg->head_delta, 0);
			ROW_EQ(i, pg->flags, PG_head | (p == 2 ? PG_anon_exclusive : 0));
			ROW_EQ(i, page_folio(pg), t);
		}
		ROW_EQ(i, mem_map.nr_used, used);
	}

	/* a PMD-sized folio splits into 512 independent order-0 folios */
	struct folio *big = folio_alloc(HPAGE_PMD_ORDER);
	uint64_t base = folio_pfn(big);
	for (uint64_t p = 0; p < HPAGE_PMD_NR; p++) {
		folio_page(big, p)->content = p;
		folio_page(big, p)->mapcount = 1;
	}
	big->refcount = HPAGE_PMD_NR;
	folio_split_to_order0(big);
	for (uint64_t p = 0; p < HPAGE_PMD_NR; p++) {
		struct folio *t = pfn_folio(base + p);

		ROW_EQ(p, folio_pfn(t), base + p);
		ROW_EQ(p, folio_nr_pages(t), 1);
		ROW_EQ(p, folio_ref_count(t), 1);
		ROW_EQ(p, folio_page(t, 0)->content, p);
	}
	/* an order-0 piece frees on its own */
	uint64_t used = mem_map.nr_used;
	folio_put(pfn_folio(base + 7));
	assert_int_equal(mem_map.nr_used, used - 1);
	assert_int_equal(pfn_folio(base + 8)->in_use, 1);
}

/* A search replays thousands of traces, each on a new machine of the same
 * size; mem_map_init() then reuses the last arrays and clears only the
 * frames the last user could have written. The result must be exactly a
 * fresh map. */
static void a_reinit_of_the_same_size_is_a_fresh_map(void **state)
{
	const uint64_t cap = CAP + 8; /* a size no other test leaves behind */

	mem_map_init(cap);
	g_autofree struct page *pages = g_memdup2(mem_map.pages, cap * sizeof(struct page));
	g_autofree struct folio *folios = g_memdup2(mem_map.folios, cap * sizeof(struct folio));
	const struct mem_map fresh = mem_map;
	const struct page *arrays = mem_map.pages;

	/* what a trace leaves: folios of every size, written, mapped, split
	 * and some freed, and the alignment gaps on the free lists */
	for (unsigned i = 0; i < 40; i++) {
		struct folio *f = folio_alloc(i % 3 ? 0 : (i % 2 ? 2 : HPAGE_PMD_ORDER));
		assert_non_null(f);
		for (uint64_t p = 0; p < folio_nr_pages(f); p++) {
			folio_page(f, p)->content = JUNK + p;
			folio_page(f, p)->mapcount = 3;
		}
		f->entire_mapcount = 2;
		f->flags |= FOLIO_anon | FOLIO_dirty;
		if (i % 4 == 1) {
			f->entire_mapcount = 0;
			for (uint64_t p = 0; p < folio_nr_pages(f); p++)
				folio_page(f, p)->mapcount = 0;
			folio_put(f);
		}
	}
	assert_true(mem_map.next_pfn > fresh.next_pfn);

	mem_map_destroy();
	mem_map_init(cap);
	assert_ptr_equal(mem_map.pages, arrays); /* reused, not a new calloc */
	assert_int_equal(mem_map.next_pfn, fresh.next_pfn);
	assert_int_equal(mem_map.nr_used, fresh.nr_used);
	for (unsigned o = 0; o <= HPAGE_PMD_ORDER; o++)
		ROW_EQ(o, mem_map.nr_free[o], fresh.nr_free[o]);
	for (uint64_t pfn = 0; pfn < cap; pfn++) {
		ROW_EQ(pfn, memcmp(&mem_map.pages[pfn], &pages[pfn], sizeof(*pages)), 0);
		ROW_EQ(pfn, memcmp(&mem_map.folios[pfn], &folios[pfn], sizeof(*folios)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			mem_map_init_reserves_the_zero_page_and_huge_zero_folio, map_setup,
			t_model_teardown),
		cmocka_unit_test_setup_teardown(folio_alloc_returns_aligned_distinct_zeroed_folios,
						map_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(folio_put_frees_and_frames_are_reused, map_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(page_folio_and_folio_page_are_inverse, map_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(mapcounts_sum_pte_and_entire_mappings, map_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(folio_flag_helpers_read_the_flag_word, map_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(failure_injection_and_exhaustion_return_null,
						map_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(
			folio_split_to_order0_keeps_data_and_spreads_references, map_setup,
			t_model_teardown),
		cmocka_unit_test_setup_teardown(a_reinit_of_the_same_size_is_a_fresh_map, map_setup,
						t_model_teardown),
	};

	return cmocka_run_group_tests_name("model_folio", tests, NULL, NULL);
}
