/* tests/unit/test_model_pgtable.c - the page-table pool and walks of model/pgtable.c.
 *
 * Each test starts from an empty pool (pt_pool_init) and builds its own tree.
 */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/pgtable.h"

#define POISON 0xdeadbeefdeadbeefULL
#define OWNER 42

/* 0x7f0000000000 is PGD slot 254, PUD slot 0, PMD slot 0. */
#define BASE 0x7f0000000000ULL
#define GiB (1ULL << 30)
#define GiB512 (1ULL << 39)

static int pool_setup(void **state) { return t_model_setup((struct t_model){ .tables = true }); }

static void pt_alloc_hands_out_zeroed_numbered_tables(void **state)
{
	assert_int_equal(pt_pool.nr_live, 0);
	assert_false(pt_is_live(0));
	assert_false(pt_is_live(1));

	const enum pt_level levels[] = { PT_PGD, PT_PUD, PT_PMD, PT_PTE };
	for (size_t i = 0; i < G_N_ELEMENTS(levels); i++) {
		uint64_t nr = pt_alloc(levels[i], OWNER + i);
		struct pt_table *t = pt_get(nr);

		/* table 0 is never used: a zero entry means "no table" */
		ROW_EQ(i, nr, i + 1);
		ROW_EQ(i, t->level, levels[i]);
		ROW_EQ(i, t->owner, OWNER + i);
		ROW_EQ(i, t->in_use, 1);
		ROW_EQ(i, t->next_deposit, 0);
		for (int e = 0; e < 512; e++)
			ROW_EQ(e, t->e[e], 0);
		ROW_EQ(i, pt_is_live(nr), true);
		ROW_EQ(i, pt_pool.nr_live, i + 1);
	}
	assert_false(pt_is_live(5));
	assert_false(pt_is_live(1000));
}

static void pt_free_poisons_and_the_number_is_reused(void **state)
{
	uint64_t a = pt_alloc(PT_PTE, OWNER);
	uint64_t b = pt_alloc(PT_PTE, OWNER);
	struct pt_table *tb = pt_get(b);

	for (int e = 0; e < 512; e++)
		tb->e[e] = 0x1000ULL * e + 0x25;
	tb->next_deposit = 77;
	pt_free(b);
	assert_false(pt_is_live(b));
	assert_true(pt_is_live(a));
	assert_int_equal(pt_pool.nr_live, 1);
	/* the freed table stays addressable so a stale user reads poison */
	assert_ptr_equal(pt_get(b), tb);
	assert_int_equal(tb->in_use, 0);
	for (int e = 0; e < 512; e++)
		assert_int_equal(tb->e[e], POISON);

	/* reuse: the same number, zeroed, with the new level and owner */
	uint64_t c = pt_alloc(PT_PMD, OWNER + 1);
	assert_int_equal(c, b);
	assert_true(pt_is_live(c));
	assert_int_equal(tb->level, PT_PMD);
	assert_int_equal(tb->owner, OWNER + 1);
	assert_int_equal(tb->next_deposit, 0);
	for (int e = 0; e < 512; e++)
		assert_int_equal(tb->e[e], 0);
	assert_int_equal(pt_pool.nr_live, 2);

	/* frees are reused last-in first-out */
	pt_free(a);
	pt_free(c);
	assert_int_equal(pt_pool.nr_live, 0);
	assert_int_equal(pt_alloc(PT_PTE, OWNER), c);
	assert_int_equal(pt_alloc(PT_PTE, OWNER), a);
	assert_int_equal(pt_alloc(PT_PTE, OWNER), 3);
}

static void pool_grows_past_its_initial_capacity(void **state)
{
	enum { N = 300 };
	uint64_t nrs[N];

	for (int i = 0; i < N; i++) {
		nrs[i] = pt_alloc(PT_PTE, OWNER);
		assert_int_equal(nrs[i], i + 1);
		pt_get(nrs[i])->e[0] = (uint64_t)i;
	}
	assert_int_equal(pt_pool.nr_live, N);
	for (int i = 0; i < N; i++) {
		assert_true(pt_is_live(nrs[i]));
		assert_int_equal(pt_get(nrs[i])->e[0], (uint64_t)i);
	}
	for (int i = 0; i < N; i += 2)
		pt_free(nrs[i]);
	assert_int_equal(pt_pool.nr_live, N / 2);
	for (int i = 0; i < N; i++)
		assert_int_equal(pt_is_live(nrs[i]), i % 2 == 1);
}

/* Entry encoding: a non-leaf entry holds the table number in the PFN field. */
static void table_entries_hold_the_table_number_in_the_pfn_field(void **state)
{
	const uint64_t nrs[] = { 1, 2, 0x1234, 0xffffffffffULL };

	for (size_t i = 0; i < G_N_ELEMENTS(nrs); i++) {
		ROW_EQ(i, pt_mkentry(nrs[i]), (nrs[i] << 12) | 0x67);
		ROW_EQ(i, pt_entry_table(pt_mkentry(nrs[i])), nrs[i]);
		ROW_EQ(i, pmd_val(pmd_mktable(nrs[i])), pt_mkentry(nrs[i]));
		ROW_EQ(i, pmd_pgtable(pmd_mktable(nrs[i])), nrs[i]);
	}
}

/*
 * pmd_lookup with alloc creates exactly the missing upper levels; without
 * alloc it creates nothing. Rows run in order against one tree.
 */
static void pmd_lookup_allocates_only_missing_levels(void **state)
{
	uint64_t pgd = pt_alloc(PT_PGD, OWNER);
	const struct {
		uint64_t addr;
		unsigned new_tables; /* PUD/PMD tables created by this lookup */
		int same_as;	     /* row whose PMD table this address shares, or -1 */
	} rows[] = {
		{ BASE + 0x200000, 2, -1 },		 /* 0: empty tree */
		{ BASE + 0x201000, 0, 0 },		 /* 1: same 2 MiB slot */
		{ BASE + 0x400000, 0, 0 },		 /* 2: next 2 MiB slot */
		{ BASE + GiB - 0x200000, 0, 0 },	 /* 3: last PMD slot of the PUD slot */
		{ BASE + GiB, 1, -1 },			 /* 4: next 1 GiB slot: new PMD table */
		{ BASE + GiB + 0x3ff000, 0, 4 },	 /* 5 */
		{ BASE + GiB512 - 0x200000, 1, -1 },	 /* 6: last PUD slot of the PGD slot */
		{ BASE + GiB512, 2, -1 },		 /* 7: next 512 GiB slot: PUD + PMD */
		{ BASE + GiB512 + 511 * GiB, 1, -1 },	 /* 8 */
		{ 0, 2, -1 },				 /* 9: PGD slot 0 */
		{ TASK_SIZE - PAGE_SIZE + 1, 0, 8 },	 /* 10: top of user space, as row 8 */
		{ BASE + 3 * GiB512 + 0x1fffff, 2, -1 }, /* 11 */
		{ BASE + 3 * GiB512, 0, 11 },		 /* 12 */
	};
	pmd_t *slot[G_N_ELEMENTS(rows)];

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t addr = rows[i].addr;
		uint64_t live = pt_pool.nr_live;
		bool existed = pmd_lookup(pgd, addr, false, 0) != NULL;

		ROW_EQ(i, pt_pool.nr_live, live); /* a failed lookup allocates nothing */
		ROW_EQ(i, existed, rows[i].new_tables == 0);
		slot[i] = pmd_lookup(pgd, addr, true, OWNER);
		assert_non_null(slot[i]);
		ROW_EQ(i, pt_pool.nr_live, live + rows[i].new_tables);
		/* the same slot again, with or without alloc */
		assert_ptr_equal(pmd_lookup(pgd, addr, false, 0), slot[i]);
		assert_ptr_equal(pmd_lookup(pgd, addr, true, OWNER), slot[i]);
		ROW_EQ(i, pt_pool.nr_live, live + rows[i].new_tables);

		/* walk the entries by hand: PGD -> PUD -> PMD */
		uint64_t pgde = pt_get(pgd)->e[pgd_index(addr)];
		ROW_EQ(i, pgde & ~PTE_PFN_MASK, _PAGE_TABLE);
		struct pt_table *pud = pt_get(pt_entry_table(pgde));
		ROW_EQ(i, pud->level, PT_PUD);
		ROW_EQ(i, pud->owner, OWNER);
		uint64_t pude = pud->e[pud_index(addr)];
		ROW_EQ(i, pude & ~PTE_PFN_MASK, _PAGE_TABLE);
		struct pt_table *pmd = pt_get(pt_entry_table(pude));
		ROW_EQ(i, pmd->level, PT_PMD);
		ROW_EQ(i, pmd->owner, OWNER);
		assert_ptr_equal(slot[i], (pmd_t *)&pmd->e[pmd_index(addr)]);
		ROW_EQ(i, pmd_none(*slot[i]), true);

		if (rows[i].same_as >= 0) {
			size_t j = (size_t)rows[i].same_as;
			ROW_EQ(i, slot[i] - slot[j],
			       (int64_t)pmd_index(addr) - (int64_t)pmd_index(rows[j].addr));
		}
	}
	assert_ptr_equal(slot[1], slot[0]);
	assert_ptr_equal(slot[2], slot[0] + 1);
	assert_ptr_not_equal(slot[4], slot[0]);
	/* 1 PGD + 2 + 1 + 1 + 2 + 1 + 2 + 2 */
	assert_int_equal(pt_pool.nr_live, 12);

	/* an address whose PUD exists but whose PMD table does not */
	uint64_t live = pt_pool.nr_live;
	assert_null(pmd_lookup(pgd, BASE + 2 * GiB, false, 0));
	assert_null(pte_lookup(pgd, BASE + 2 * GiB));
	assert_int_equal(pt_pool.nr_live, live);
}

/* pte_alloc on each PMD prestate, then pte_offset_map and pte_lookup. */
static void pte_alloc_fills_none_pmds_and_refuses_leaves(void **state)
{
	uint64_t pgd = pt_alloc(PT_PGD, OWNER);
	const struct {
		const char *what;
		uint64_t pmdval;
		bool ok, allocates;
	} rows[] = {
		{ "none", 0, true, true },
		{ "huge present", 0x80000000002000a5ULL, false, false },
		{ "huge protnone armed", 0x000fffffffdff5a0ULL, false, false },
		{ "migration entry", 0xeffffffffffbfe00ULL, false, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t addr = BASE + i * PMD_SIZE;
		pmd_t *pmd = pmd_lookup(pgd, addr, true, OWNER);
		uint64_t live;

		*pmd = __pmd(rows[i].pmdval);
		live = pt_pool.nr_live;
		if (!rows[i].ok)
			assert_null(pte_offset_map(pmd, addr));
		ROW_EQ(i, pte_alloc(pmd, OWNER), rows[i].ok);
		ROW_EQ(i, pt_pool.nr_live, live + rows[i].allocates);
		if (!rows[i].ok) {
			ROW_EQ(i, pmd_val(*pmd), rows[i].pmdval);
			assert_null(pte_offset_map(pmd, addr));
			assert_null(pte_lookup(pgd, addr));
			continue;
		}
		uint64_t nr = pmd_pgtable(*pmd);
		ROW_EQ(i, pmd_val(*pmd), pt_mkentry(nr));
		ROW_EQ(i, pmd_is_table(*pmd), true);
		ROW_EQ(i, pt_get(nr)->level, PT_PTE);
		ROW_EQ(i, pt_get(nr)->owner, OWNER);
		/* a second pte_alloc finds the table */
		ROW_EQ(i, pte_alloc(pmd, OWNER), true);
		ROW_EQ(i, pmd_pgtable(*pmd), nr);
		ROW_EQ(i, pt_pool.nr_live, live + 1);

		const uint64_t offs[] = { 0, PAGE_SIZE, 0x123456, PMD_SIZE - PAGE_SIZE };
		for (size_t o = 0; o < G_N_ELEMENTS(offs); o++) {
			uint64_t a = addr + offs[o];
			pte_t *pte = pte_offset_map(pmd, a);

			assert_ptr_equal(pte, (pte_t *)&pt_get(nr)->e[offs[o] >> PAGE_SHIFT]);
			assert_ptr_equal(pte_lookup(pgd, a), pte);
			ROW_EQ(o, pte_none(*pte), true);
			*pte = __pte(0x8000000000000025ULL | ((o + 1) << PAGE_SHIFT));
		}
		for (size_t o = 0; o < G_N_ELEMENTS(offs); o++)
			ROW_EQ(o, pte_pfn(*pte_lookup(pgd, addr + offs[o])), o + 1);
		/* any byte of a page selects its PTE */
		assert_ptr_equal(pte_offset_map(pmd, addr + PMD_SIZE - 1),
				 pte_offset_map(pmd, addr + PMD_SIZE - PAGE_SIZE));
		assert_ptr_equal(pte_offset_map(pmd, addr + 0x123fff),
				 pte_offset_map(pmd, addr + 0x123000));
	}
	/* pte_lookup with nothing above it */
	assert_null(pte_lookup(pgd, BASE + 5 * GiB512));
}

/* pt_free_tree frees every table level below the PGD and the PGD itself,
 * never following leaf or swap-format PMDs. */
static void pt_free_tree_frees_every_level(void **state)
{
	uint64_t start = pt_pool.nr_live;
	uint64_t unrelated = pt_alloc(PT_PTE, OWNER + 1);
	uint64_t pgd = pt_alloc(PT_PGD, OWNER);
	const uint64_t addrs[] = { BASE,
				   BASE + PMD_SIZE,
				   BASE + 511 * PMD_SIZE,
				   BASE + GiB,
				   BASE + 7 * GiB + 3 * PMD_SIZE,
				   BASE + GiB512,
				   BASE + 2 * GiB512 + 511 * GiB,
				   0 };
	GArray *tables = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	g_array_append_val(tables, pgd);
	for (size_t i = 0; i < G_N_ELEMENTS(addrs); i++) {
		pmd_t *pmd = pmd_lookup(pgd, addrs[i], true, OWNER);

		assert_true(pte_alloc(pmd, OWNER));
		pte_offset_map(pmd, addrs[i])->pte = 0x8000000000001025ULL;
	}
	/* leaves and swap-format PMDs hold data PFNs, not table numbers */
	*pmd_lookup(pgd, BASE + 2 * PMD_SIZE, true, OWNER) = __pmd(0x80000000002000a5ULL);
	*pmd_lookup(pgd, BASE + 3 * PMD_SIZE, true, OWNER) = __pmd(0x000fffffffdff5a0ULL);
	*pmd_lookup(pgd, BASE + 4 * PMD_SIZE, true, OWNER) = __pmd(0xeffffffffffbfe00ULL);

	/* every live table of this owner is reachable from pgd */
	for (uint64_t nr = 1; nr < pt_pool.nr; nr++)
		if (pt_is_live(nr) && pt_get(nr)->owner == OWNER && nr != pgd)
			g_array_append_val(tables, nr);
	/* PGD + PUDs (slots 254, 255, 256, 0) + PMDs (6) + PTE tables (8) */
	assert_int_equal(tables->len, 1 + 4 + 6 + 8);
	assert_int_equal(pt_pool.nr_live, start + 1 + tables->len);

	pt_free_tree(pgd);
	assert_int_equal(pt_pool.nr_live, start + 1);
	for (guint i = 0; i < tables->len; i++)
		assert_false(pt_is_live(g_array_index(tables, uint64_t, i)));
	assert_true(pt_is_live(unrelated));
	g_array_free(tables, TRUE);

	/* a bare PGD frees alone */
	pgd = pt_alloc(PT_PGD, OWNER);
	pt_free_tree(pgd);
	assert_int_equal(pt_pool.nr_live, start + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pt_alloc_hands_out_zeroed_numbered_tables,
						pool_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(pt_free_poisons_and_the_number_is_reused,
						pool_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(pool_grows_past_its_initial_capacity, pool_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(
			table_entries_hold_the_table_number_in_the_pfn_field, pool_setup,
			t_model_teardown),
		cmocka_unit_test_setup_teardown(pmd_lookup_allocates_only_missing_levels,
						pool_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(pte_alloc_fills_none_pmds_and_refuses_leaves,
						pool_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(pt_free_tree_frees_every_level, pool_setup,
						t_model_teardown),
	};

	return cmocka_run_group_tests_name("model_pgtable", tests, NULL, NULL);
}
