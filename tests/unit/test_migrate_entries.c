/* tests/unit/test_migrate_entries.c - try_to_migrate_one() and
 * remove_migration_pte()/pmd(): the migration entry chosen for each PTE
 * state (writable, readable, readable-exclusive; young, dirty; uffd in an
 * RWP or a WP VMA) and the PTE rebuilt from it, plus migration of whole
 * folios, the zero-page remap and the NUMA scanner's VMA rules.
 */
#include "mmsim_test.h"

#define VAL 0x7000

enum row_kind { R_WRITABLE, R_READ_EXCL, R_READ_SHARED, R_ARMED, R_ARMED_SHARED, R_WP };

struct row {
	const char *name;
	enum row_kind kind;
	bool young, dirty;
	/* the migration entry */
	unsigned type;
	bool swp_uffd;
	/* the restored PTE */
	bool write, uffd, protnone, exclusive;
};

#define RD SWP_MIGRATION_READ
#define RX SWP_MIGRATION_READ_EXCLUSIVE
#define WR SWP_MIGRATION_WRITE

static const struct row rows[] = {
	{ "writable", R_WRITABLE, true, true, WR, false, true, false, false, true },
	{ "writable old clean", R_WRITABLE, false, false, WR, false, true, false, false, true },
	{ "readable exclusive", R_READ_EXCL, true, false, RX, false, false, false, false, true },
	{ "readable shared", R_READ_SHARED, false, true, RD, false, false, false, false, false },
	{ "armed", R_ARMED, false, false, RX, true, false, true, true, true },
	{ "armed young dirty", R_ARMED, true, true, RX, true, false, true, true, true },
	{ "armed shared", R_ARMED_SHARED, false, false, RD, true, false, true, true, false },
	{ "uffd-wp", R_WP, true, false, RX, true, false, true, false, true },
};

/* One written anon page in a fresh VMA, its PTE rewritten to the row's state. */
static uint64_t setup_row(const struct row *r, struct folio **foliop)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr = t_map_anon(mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	struct vm_area_struct *vma;
	pte_t *ptep, pte;

	t_write_pages(mm, addr, 1, VAL);
	vma = vma_lookup(mm, addr);
	if (r->kind == R_ARMED || r->kind == R_ARMED_SHARED)
		t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
	if (r->kind == R_WP)
		t_register_ctx(vma, VM_UFFD_WP, 0);
	ptep = t_ptep(mm, addr);
	pte = pte_mkold(pte_mkclean(*ptep));
	if (r->young)
		pte = pte_mkyoung(pte);
	if (r->dirty)
		pte = pte_mkdirty(pte);
	switch (r->kind) {
	case R_WRITABLE:
		pte = pte_mkwrite(pte);
		break;
	case R_READ_EXCL:
		pte = pte_wrprotect(pte);
		break;
	case R_READ_SHARED:
	case R_ARMED_SHARED:
		pte = pte_wrprotect(pte);
		pfn_to_page(pte_pfn(pte))->flags &= ~PG_anon_exclusive;
		break;
	default:
		break;
	}
	if (r->kind == R_ARMED || r->kind == R_ARMED_SHARED)
		pte = pte_mkuffd(pte_modify(pte, PAGE_NONE));
	if (r->kind == R_WP)
		pte = pte_mkuffd(pte);
	*ptep = pte;
	*foliop = pfn_folio(pte_pfn(pte));
	folio_clear_flag(*foliop, FOLIO_dirty);
	return addr;
}

static void check_restored(size_t i, const struct row *r, pte_t pte, struct folio *folio)
{
	ROW_EQ(i, pte_present(pte), true);
	ROW_EQ(i, pte_pfn(pte), folio_pfn(folio));
	ROW_EQ(i, pte_write(pte), r->write);
	ROW_EQ(i, pte_uffd(pte), r->uffd);
	ROW_EQ(i, pte_protnone(pte), r->protnone);
	ROW_EQ(i, pte_young(pte), r->young);
	ROW_EQ(i, pte_dirty(pte), r->dirty);
	ROW_EQ(i, PageAnonExclusive(folio_page(folio, 0)), r->exclusive);
	ROW_EQ(i, folio_page(folio, 0)->mapcount, 1);
	ROW_EQ(i, folio_page(folio, 0)->content, VAL);
}

/* try_to_migrate() then the undo (remove_migration_ptes(src, src)). */
static void test_try_to_migrate_one_entry_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct folio *folio;
		uint64_t addr;

		t_proc_restart(state);
		addr = setup_row(r, &folio);
		folio_get(folio); /* the caller's (isolation) reference */
		try_to_migrate(folio, 0);
		ROW_EQ(i, folio_mapped(folio), false);
		ROW_EQ(i, folio_ref_count(folio), 1);
		pte_t e = t_pte(t_proc.mm, addr);
		swp_entry_t entry = pte_to_swp_entry(e);
		ROW_EQ(i, is_swap_pte(e), true);
		ROW_EQ(i, swp_type(entry), r->type);
		ROW_EQ(i, swp_offset_pfn(entry), folio_pfn(folio));
		ROW_EQ(i, pte_swp_uffd(e), r->swp_uffd);
		ROW_EQ(i, is_migration_entry_young(entry), r->young);
		ROW_EQ(i, is_migration_entry_dirty(entry), r->dirty);
		ROW_EQ(i, folio_test_dirty(folio), r->dirty);
		ROW_EQ(i, PageAnonExclusive(folio_page(folio, 0)), false);

		remove_migration_ptes(folio, folio, 0);
		check_restored(i, r, t_pte(t_proc.mm, addr), folio);
		folio_put(folio);
	}
}

/* The whole migration: a new folio, the same restored state. */
static void test_migrate_folio_restores_each_row_on_a_new_folio(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct folio *folio;
		uint64_t addr;

		t_proc_restart(state);
		addr = setup_row(r, &folio);
		uint64_t old_pfn = folio_pfn(folio);
		ROW_EQ(i, migrate_folio_sync(folio, 0), 0);
		pte_t pte = t_pte(t_proc.mm, addr);
		struct folio *nf = pfn_folio(pte_pfn(pte));
		ROW_EQ(i, folio_pfn(nf) != old_pfn, true);
		ROW_EQ(i, folio_ref_count(nf), 1);
		ROW_EQ(i, folio_test_anon(nf), true);
		ROW_EQ(i, folio_test_lru(nf), true);
		check_restored(i, r, pte, nf);
	}
}

/* Hunk migrate-no-reforce drops exactly the PAGE_NONE of the armed rows. */
static void test_no_reforce_mutation_leaves_armed_rows_accessible(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct folio *folio;

		t_proc_restart(state);
		patch_hunks[HUNK_MIGRATE_NO_REFORCE] = true;
		uint64_t addr = setup_row(r, &folio);
		ROW_EQ(i, migrate_folio_sync(folio, 0), 0);
		pte_t pte = t_pte(t_proc.mm, addr);
		patch_hunks[HUNK_MIGRATE_NO_REFORCE] = false;
		ROW_EQ(i, pte_uffd(pte), r->uffd);
		ROW_EQ(i, pte_protnone(pte), false);
	}
}

/* folio_try_share_anon_rmap_pte() refuses a pinned exclusive page: the PTE
 * is restored untouched and the migration fails. */
static void test_pinned_exclusive_page_aborts_and_keeps_its_pte(void **state)
{
	static const enum row_kind kinds[] = { R_WRITABLE, R_ARMED };

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		const struct row r = { "pinned", kinds[i], true, true, 0, 0, 0, 0, 0, 0 };
		struct folio *folio;

		t_proc_restart(state);
		uint64_t addr = setup_row(&r, &folio);
		pte_t before = t_pte(t_proc.mm, addr);
		folio->pincount++;
		folio_get(folio);
		ROW_EQ(i, migrate_folio_sync(folio, 0), -EAGAIN);
		ROW_EQ(i, pte_val(t_pte(t_proc.mm, addr)), pte_val(before));
		ROW_EQ(i, PageAnonExclusive(folio_page(folio, 0)), true);
		ROW_EQ(i, folio_page(folio, 0)->mapcount, 1);
		ROW_EQ(i, folio_ref_count(folio), 2);
		ROW_EQ(i, folio_test_lru(folio), true);
		folio->pincount--;
		folio_put(folio);
	}
}

/* An armed or writable PMD: PMD migration entry, then a PMD again. */
static void test_pmd_migration_entry_and_remove_migration_pmd(void **state)
{
	static const bool armed_rows[] = { false, true };

	for (size_t i = 0; i < G_N_ELEMENTS(armed_rows); i++) {
		t_proc_restart(state);
		thp_settings.enabled = 0;
		struct mm_struct *mm = t_proc.mm;
		uint64_t addr = t_map_anon(mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
		t_write_pages(mm, addr, 1, VAL);
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		pmd_t *pmdp = mm_find_pmd(mm, addr, false);
		ROW_EQ(i, pmd_trans_huge(*pmdp), true);
		if (armed_rows[i]) {
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
			*pmdp = pmd_mkuffd(pmd_modify(*pmdp, PAGE_NONE));
		}
		struct folio *folio = pfn_folio(pmd_pfn(*pmdp));
		folio_get(folio);
		try_to_migrate(folio, 0);
		pmd_t e = *pmdp;
		ROW_EQ(i, is_pmd_migration_entry(e), true);
		ROW_EQ(i, swp_type(pmd_to_swp_entry(e)), armed_rows[i] ? RX : WR);
		ROW_EQ(i, pmd_swp_uffd(e), armed_rows[i]);
		ROW_EQ(i, folio->entire_mapcount, 0);
		remove_migration_ptes(folio, folio, 0);
		pmd_t p = *pmdp;
		ROW_EQ(i, pmd_trans_huge(p), true);
		ROW_EQ(i, pmd_uffd(p), armed_rows[i]);
		ROW_EQ(i, pmd_protnone(p), armed_rows[i]);
		ROW_EQ(i, pmd_write(p), !armed_rows[i]);
		ROW_EQ(i, folio->entire_mapcount, 1);
		folio_put(folio);

		/* And a full migration with TTU_SPLIT_HUGE_PMD: 512 PTEs. */
		folio = pfn_folio(pmd_pfn(*pmdp));
		ROW_EQ(i, migrate_folio_sync(folio, TTU_SPLIT_HUGE_PMD), 0);
		ROW_EQ(i, pmd_is_table(*pmdp), true);
		for (unsigned k = 0; k < HPAGE_PMD_NR; k += 73) {
			pte_t pte = t_pte(mm, addr + k * PAGE_SIZE);
			ROW_EQ(i, pte_uffd(pte), armed_rows[i]);
			ROW_EQ(i, pte_protnone(pte), armed_rows[i]);
		}
		ROW_EQ(i, folio_page(pfn_folio(pte_pfn(t_pte(mm, addr))), 0)->content, VAL);
	}
}

/* try_to_map_unused_to_zeropage(): an all-zero subpage goes to the zero
 * page, keeping the uffd bit and (RWP) PAGE_NONE. */
static void test_unused_subpage_maps_the_zero_page_armed(void **state)
{
	static const struct {
		uint64_t value;
		bool armed, zero;
	} zrows[] = {
		{ 0, true, true },
		{ 0, false, true },
		{ VAL, true, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(zrows); i++) {
		t_proc_restart(state);
		struct mm_struct *mm = t_proc.mm;
		uint64_t addr = t_map_anon(mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		t_write_pages(mm, addr, 1, zrows[i].value);
		pte_t *ptep = t_ptep(mm, addr);
		if (zrows[i].armed) {
			t_register_ctx(vma_lookup(mm, addr), VM_UFFD_RWP, UFFD_FEATURE_RWP);
			*ptep = pte_mkuffd(pte_modify(*ptep, PAGE_NONE));
		}
		struct folio *folio = pfn_folio(pte_pfn(*ptep));
		folio_get(folio);
		try_to_migrate(folio, 0);
		remove_migration_ptes(folio, folio, RMP_USE_SHARED_ZEROPAGE);
		pte_t pte = *ptep;
		ROW_EQ(i, is_zero_pfn(pte_pfn(pte)), zrows[i].zero);
		ROW_EQ(i, pte_uffd(pte), zrows[i].armed);
		ROW_EQ(i, pte_protnone(pte), zrows[i].armed);
		ROW_EQ(i, folio_mapped(folio), !zrows[i].zero);
		folio_put(folio);
	}
}

/* change_prot_numa through the scanner: armed PTEs untouched, unarmed ones
 * become hints without the bit; inaccessible VMAs are not scanned. */
static void test_numa_scan_skips_armed_and_inaccessible(void **state)
{
	t_proc_restart(state);
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(mm, addr, 4, VAL);
	t_register_ctx(vma_lookup(mm, addr), VM_UFFD_RWP, UFFD_FEATURE_RWP);
	pte_t *ptep = t_ptep(mm, addr);
	pte_t armed = pte_mkuffd(pte_modify(*ptep, PAGE_NONE));
	*ptep = armed;
	assert_int_equal(task_numa_work_range(mm, addr, addr + 4 * PAGE_SIZE), 3);
	assert_int_equal(pte_val(t_pte(mm, addr)), pte_val(armed));
	for (unsigned k = 1; k < 4; k++) {
		pte_t pte = t_pte(mm, addr + k * PAGE_SIZE);
		assert_true(pte_protnone(pte));
		assert_false(pte_uffd(pte));
	}
	/* Already hints: nothing to do. */
	assert_int_equal(task_numa_work_range(mm, addr, addr + 4 * PAGE_SIZE), 0);

	uint64_t none = t_map_anon(mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(mm, none, 1, VAL);
	assert_int_equal(sys_mprotect(mm, none, PAGE_SIZE, PROT_NONE), 0);
	assert_int_equal(task_numa_work_range(mm, none, none + PAGE_SIZE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_try_to_migrate_one_entry_table, t_proc_setup,
						t_proc_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_folio_restores_each_row_on_a_new_folio,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(
			test_no_reforce_mutation_leaves_armed_rows_accessible, t_proc_setup,
			t_proc_teardown),
		cmocka_unit_test_setup_teardown(test_pinned_exclusive_page_aborts_and_keeps_its_pte,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(test_pmd_migration_entry_and_remove_migration_pmd,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(test_unused_subpage_maps_the_zero_page_armed,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(test_numa_scan_skips_armed_and_inaccessible,
						t_proc_setup, t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
