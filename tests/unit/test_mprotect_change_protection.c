/* tests/unit/test_mprotect_change_protection.c - change_protection() on every
 * entry type with every MM_CP flag, and mprotect() over armed RWP entries.
 *
 * One anon private PROT_READ|PROT_WRITE page at A; its vm_page_prot is
 * PAGE_COPY (read-only until a write fault or a write upgrade):
 *
 *   prestate   entry at A
 *   none       0
 *   present    pfn | PAGE_COPY | RW | D         (exclusive anon page)
 *   ro         pfn | PAGE_COPY | D
 *   armed      protnone + uffd                  (RWP)
 *   numa       protnone                         (NUMA hint)
 *   wp         present + uffd, RW clear         (uffd-wp)
 *   swap       swap entry, slot 5
 *   swapuffd   swap entry + swap uffd bit
 *   migr       writable migration entry
 *   migr_ro    readable-exclusive migration entry
 *   migr_uffd  readable-exclusive migration entry + swap uffd bit
 *   wpmarker   PTE_MARKER_UFFD_WP
 *   poison     PTE_MARKER_POISONED
 */
#include "mmsim_test.h"

enum st {
	ST_NONE,
	ST_PRESENT,
	ST_RO,
	ST_ARMED,
	ST_NUMA,
	ST_WP,
	ST_SWAP,
	ST_SWAPUFFD,
	ST_MIGR,
	ST_MIGR_RO,
	ST_MIGR_UFFD,
	ST_WPMARKER,
	ST_POISON,
};

static const char *const st_names[] = {
	"none",	    "present", "ro",	  "armed",     "numa",	   "wp",     "swap",
	"swapuffd", "migr",    "migr_ro", "migr_uffd", "wpmarker", "poison",
};

enum vmamode { V_PLAIN, V_RWP, V_WP };

struct fixture {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	uint64_t addr;
	struct folio *folio;
};

static pte_t make_entry(struct fixture *f, enum st st)
{
	uint64_t pfn = folio_pfn(f->folio);
	pte_t present = pte_mkwrite(pte_mkdirty(pfn_pte(pfn, f->vma->vm_page_prot)));
	pte_t swap = swp_entry_to_pte(swp_entry(0, 5));
	pte_t migr_ro = swp_entry_to_pte(make_readable_exclusive_migration_entry(pfn));

	switch (st) {
	case ST_NONE:
		return __pte(0);
	case ST_PRESENT:
		return present;
	case ST_RO:
		return pte_wrprotect(present);
	case ST_ARMED:
		return pte_mkuffd(pte_modify(present, PAGE_NONE));
	case ST_NUMA:
		return pte_modify(present, PAGE_NONE);
	case ST_WP:
		return pte_mkuffd(present);
	case ST_SWAP:
		return swap;
	case ST_SWAPUFFD:
		return pte_swp_mkuffd(swap);
	case ST_MIGR:
		return swp_entry_to_pte(make_writable_migration_entry(pfn));
	case ST_MIGR_RO:
		return migr_ro;
	case ST_MIGR_UFFD:
		return pte_swp_mkuffd(migr_ro);
	case ST_WPMARKER:
		return make_pte_marker(PTE_MARKER_UFFD_WP);
	case ST_POISON:
		return make_pte_marker(PTE_MARKER_POISONED);
	}
	return __pte(0);
}

static void fixture_init(struct fixture *f, enum vmamode mode)
{
	f->mm = mm_alloc("t");
	f->addr = t_map_anon(f->mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	f->vma = vma_lookup(f->mm, f->addr);
	if (mode == V_RWP)
		f->vma->vm_flags |= VM_UFFD_RWP;
	if (mode == V_WP)
		f->vma->vm_flags |= VM_UFFD_WP;
	anon_vma_prepare(f->vma);
	f->folio = folio_alloc(0);
	assert_non_null(f->folio);
	folio_add_new_anon_rmap(f->folio, f->vma, f->addr, true);
	folio_add_anon_rmap_ptes(f->folio, folio_page(f->folio, 0), 1, f->vma, true);
}

static pte_t *slot(struct fixture *f)
{
	pmd_t *pmd = pmd_lookup(f->mm->pgd, f->addr, true, f->mm->id);
	assert_true(pte_alloc(pmd, f->mm->id));
	return pte_offset_map(pmd, f->addr);
}

static void fixture_fini(struct fixture *f)
{
	/* Hand-made entries: clear them rather than let zap interpret them. */
	*slot(f) = __pte(0);
	mm_free(f->mm);
}

struct row {
	enum vmamode mode;
	unsigned cp_flags;
	enum st before, after;
};

#define RWP MM_CP_UFFD_RWP
#define RWPR MM_CP_UFFD_RWP_RESOLVE
#define WP MM_CP_UFFD_WP
#define WPR MM_CP_UFFD_WP_RESOLVE
#define NUMA MM_CP_PROT_NUMA
#define TRY MM_CP_TRY_CHANGE_WRITABLE

static const struct row rows[] = {
	/* Arm (MM_CP_UFFD_RWP) in an RWP VMA. */
	{ V_RWP, RWP, ST_NONE, ST_NONE },
	{ V_RWP, RWP, ST_PRESENT, ST_ARMED },
	{ V_RWP, RWP, ST_RO, ST_ARMED },
	{ V_RWP, RWP, ST_ARMED, ST_ARMED },
	{ V_RWP, RWP, ST_NUMA, ST_ARMED },
	{ V_RWP, RWP, ST_SWAP, ST_SWAPUFFD },
	{ V_RWP, RWP, ST_SWAPUFFD, ST_SWAPUFFD },
	{ V_RWP, RWP, ST_MIGR, ST_MIGR_UFFD },
	{ V_RWP, RWP, ST_MIGR_RO, ST_MIGR_UFFD },
	{ V_RWP, RWP, ST_WPMARKER, ST_WPMARKER },
	{ V_RWP, RWP, ST_POISON, ST_POISON },
	/* Resolve (MM_CP_UFFD_RWP_RESOLVE): only entries with the bit. */
	{ V_RWP, RWPR, ST_NONE, ST_NONE },
	{ V_RWP, RWPR, ST_PRESENT, ST_PRESENT },
	{ V_RWP, RWPR, ST_RO, ST_RO },
	{ V_RWP, RWPR, ST_ARMED, ST_RO },
	{ V_RWP, RWPR, ST_NUMA, ST_NUMA },
	{ V_RWP, RWPR, ST_SWAP, ST_SWAP },
	{ V_RWP, RWPR, ST_SWAPUFFD, ST_SWAP },
	{ V_RWP, RWPR, ST_MIGR, ST_MIGR_RO },
	{ V_RWP, RWPR, ST_MIGR_UFFD, ST_MIGR_RO },
	{ V_RWP, RWPR, ST_WPMARKER, ST_NONE },
	{ V_RWP, RWPR, ST_POISON, ST_POISON },
	/* Resolve with the write upgrade of an exclusive anon page. */
	{ V_RWP, RWPR | TRY, ST_ARMED, ST_PRESENT },
	{ V_RWP, RWPR | TRY, ST_NUMA, ST_NUMA },
	/* mprotect() (no uffd flag) in an RWP VMA never disarms. */
	{ V_RWP, 0, ST_ARMED, ST_ARMED },
	{ V_RWP, TRY, ST_ARMED, ST_ARMED },
	{ V_RWP, 0, ST_PRESENT, ST_RO },
	{ V_RWP, TRY, ST_RO, ST_PRESENT },
	{ V_RWP, 0, ST_NUMA, ST_RO },
	{ V_RWP, 0, ST_SWAPUFFD, ST_SWAPUFFD },
	{ V_RWP, 0, ST_MIGR, ST_MIGR_RO },
	/* NUMA hinting: armed entries are already protnone. */
	{ V_RWP, NUMA, ST_ARMED, ST_ARMED },
	{ V_RWP, NUMA, ST_PRESENT, ST_NUMA },
	{ V_PLAIN, NUMA, ST_NONE, ST_NONE },
	{ V_PLAIN, NUMA, ST_PRESENT, ST_NUMA },
	{ V_PLAIN, NUMA, ST_NUMA, ST_NUMA },
	{ V_PLAIN, NUMA, ST_SWAP, ST_SWAP },
	{ V_PLAIN, NUMA, ST_WPMARKER, ST_WPMARKER },
	{ V_PLAIN, NUMA, ST_POISON, ST_POISON },
	/* uffd-wp (baseline). Anon without WP_UNPOPULATED: no markers. */
	{ V_WP, WP, ST_NONE, ST_NONE },
	{ V_WP, WP, ST_PRESENT, ST_WP },
	{ V_WP, WP, ST_NUMA, ST_WP },
	{ V_WP, WP, ST_WP, ST_WP },
	{ V_WP, WP, ST_SWAP, ST_SWAPUFFD },
	{ V_WP, WP, ST_MIGR, ST_MIGR_UFFD },
	{ V_WP, WP, ST_WPMARKER, ST_WPMARKER },
	{ V_WP, WP, ST_POISON, ST_POISON },
	{ V_WP, WPR, ST_WP, ST_RO },
	{ V_WP, WPR, ST_PRESENT, ST_RO },
	{ V_WP, WPR, ST_NUMA, ST_RO },
	{ V_WP, WPR, ST_SWAPUFFD, ST_SWAP },
	{ V_WP, WPR, ST_WPMARKER, ST_NONE },
	{ V_WP, WPR, ST_POISON, ST_POISON },
	{ V_WP, WPR | TRY, ST_WP, ST_PRESENT },
	/* The unregister pass: the one allowed WP/RWP mix. */
	{ V_RWP, WPR | RWPR | TRY, ST_ARMED, ST_PRESENT },
	{ V_RWP, WPR | RWPR | TRY, ST_SWAPUFFD, ST_SWAP },
	{ V_WP, WPR | RWPR | TRY, ST_WP, ST_PRESENT },
	/* Mixed flags: warn and change nothing. */
	{ V_RWP, WP | RWP, ST_PRESENT, ST_PRESENT },
	{ V_RWP, RWP | RWPR, ST_ARMED, ST_ARMED },
	{ V_WP, WP | WPR, ST_WP, ST_WP },
	{ V_RWP, WPR | RWP, ST_PRESENT, ST_PRESENT },
};

static void test_each_prestate_and_flag_gives_the_exact_entry(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct fixture f;

		fixture_init(&f, r->mode);
		*slot(&f) = make_entry(&f, r->before);
		change_protection(f.vma, f.addr, f.addr + PAGE_SIZE, r->cp_flags);
		pte_t got = *slot(&f), want = make_entry(&f, r->after);
		if (pte_val(got) != pte_val(want))
			fail_msg("row %zu: mode %d flags 0x%x %s: got 0x%016llx want %s 0x%016llx",
				 i, r->mode, r->cp_flags, st_names[r->before],
				 (unsigned long long)pte_val(got), st_names[r->after],
				 (unsigned long long)pte_val(want));
		fixture_fini(&f);
	}
}

static void test_wp_markers_fill_none_ptes_when_the_vma_uses_markers(void **state)
{
	struct fixture f;
	fixture_init(&f, V_WP);
	struct userfaultfd_ctx *ctx = userfaultfd_ctx_alloc(f.mm);
	ctx->features = UFFD_FEATURE_WP_UNPOPULATED;
	f.vma->vm_userfaultfd_ctx = ctx;
	*slot(&f) = __pte(0);
	assert_int_equal(change_protection(f.vma, f.addr, f.addr + PAGE_SIZE, WP), 1);
	assert_true(pte_marker_uffd_wp(*slot(&f)));
	/* RWP arm never installs markers in a none PTE. */
	f.vma->vm_flags = (f.vma->vm_flags & ~VM_UFFD_WP) | VM_UFFD_RWP;
	*slot(&f) = __pte(0);
	assert_int_equal(change_protection(f.vma, f.addr, f.addr + PAGE_SIZE, RWP), 0);
	assert_true(pte_none(*slot(&f)));
	f.vma->vm_userfaultfd_ctx = NULL;
	fixture_fini(&f);
	userfaultfd_ctx_free(ctx);
}

/* test rwp-mprotect: mprotect(PROT_NONE) then mprotect(RW) keeps arming. */
static void test_mprotect_none_then_rw_keeps_armed_entries_armed(void **state)
{
	struct mm_struct *mm = mm_alloc("t");
	uint64_t a = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(mm, a, 4, 0x77);
	struct vm_area_struct *vma = vma_lookup(mm, a);
	vma->vm_flags |= VM_UFFD_RWP;
	/* Arm pages 0 and 1; pages 2 and 3 stay accessed. */
	change_protection(vma, a, a + 2 * PAGE_SIZE, RWP);

	assert_int_equal(sys_mprotect(mm, a, 4 * PAGE_SIZE, PROT_NONE), 0);
	for (int i = 0; i < 4; i++)
		assert_true(pte_protnone(t_pte(mm, a + i * PAGE_SIZE)));
	assert_int_equal(sys_mprotect(mm, a, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	for (int i = 0; i < 2; i++) {
		pte_t p = t_pte(mm, a + i * PAGE_SIZE);
		assert_true(pte_protnone(p) && pte_uffd(p));
	}
	for (int i = 2; i < 4; i++) {
		pte_t p = t_pte(mm, a + i * PAGE_SIZE);
		assert_false(pte_protnone(p) || pte_uffd(p));
		/* The exclusive dirty anon page got its write bit back. */
		assert_true(pte_write(p));
	}
	exit_mmap(mm);
	mm_free(mm);
}

static void test_mprotect_splits_and_merges_vmas_and_sets_vm_flags(void **state)
{
	struct mm_struct *mm = mm_alloc("t");
	uint64_t a = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

	assert_int_equal(sys_mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
	assert_int_equal(mm->vmas->len, 3);
	struct vm_area_struct *mid = vma_lookup(mm, a + PAGE_SIZE);
	assert_int_equal(mid->vm_flags & VM_ACCESS_FLAGS, VM_READ);
	assert_int_equal(pgprot_val(mid->vm_page_prot),
			 pgprot_val(vm_get_page_prot(mid->vm_flags)));
	assert_int_equal(sys_mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(mm->vmas->len, 1);
	exit_mmap(mm);
	mm_free(mm);
}

static void test_mprotect_errors_follow_the_kernel(void **state)
{
	struct mm_struct *mm = mm_alloc("t");
	uint64_t a = t_map_anon(mm, 2 * PAGE_SIZE, PROT_READ, 0);

	assert_int_equal(sys_mprotect(mm, a + 1, PAGE_SIZE, PROT_READ), -EINVAL);
	assert_int_equal(sys_mprotect(mm, a, PAGE_SIZE, 0x100), -EINVAL);
	assert_int_equal(sys_mprotect(mm, a, 0, PROT_READ), 0);
	/* A range running past the mapping: -ENOMEM. */
	assert_int_equal(sys_mprotect(mm, a, 3 * PAGE_SIZE, PROT_READ), -ENOMEM);
	assert_int_equal(sys_mprotect(mm, a - PAGE_SIZE, PAGE_SIZE, PROT_READ), -ENOMEM);
	exit_mmap(mm);
	mm_free(mm);
}

static void test_arming_a_huge_pmd_keeps_anon_and_zaps_shmem(void **state)
{
	struct mm_struct *mm = mm_alloc("t");
	uint64_t a = t_map_anon(mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	assert_int_equal(sys_madvise(mm, a, PMD_SIZE, MADV_HUGEPAGE), 0);
	t_write_pages(mm, a, 1, 0x1);
	if (!pmd_trans_huge(t_pmd(mm, a))) {
		exit_mmap(mm);
		mm_free(mm);
		skip();
	}
	struct vm_area_struct *vma = vma_lookup(mm, a);
	vma->vm_flags |= VM_UFFD_RWP;
	assert_int_equal(change_protection(vma, a, a + PMD_SIZE, RWP), HPAGE_PMD_NR);
	pmd_t pmd = t_pmd(mm, a);
	assert_true(pmd_trans_huge(pmd) && pmd_protnone(pmd) && pmd_uffd(pmd));
	/* Resolving part of the PMD splits it; the rest stays armed. */
	assert_int_equal(change_protection(vma, a, a + PAGE_SIZE, RWPR), 1);
	assert_false(pmd_trans_huge(t_pmd(mm, a)));
	pte_t p0 = t_pte(mm, a), p1 = t_pte(mm, a + PAGE_SIZE);
	assert_false(pte_protnone(p0) || pte_uffd(p0));
	assert_true(pte_protnone(p1) && pte_uffd(p1));
	exit_mmap(mm);
	mm_free(mm);

	/* A shmem PMD cannot carry the bit: arming zaps it (file-THP limitation). */
	mm = mm_alloc("t");
	struct address_space *file = shmem_file_alloc("huge", HPAGE_PMD_NR, true);
	uint64_t s = t_map_shmem(mm, file, PMD_SIZE, PROT_READ | PROT_WRITE, true, PMD_SIZE);
	t_write_pages(mm, s, 1, 0x2);
	if (pmd_trans_huge(t_pmd(mm, s))) {
		vma = vma_lookup(mm, s);
		vma->vm_flags |= VM_UFFD_RWP;
		change_protection(vma, s, s + PMD_SIZE, RWP);
		pmd_t sp = t_pmd(mm, s);
		assert_false(pmd_trans_huge(sp));
		pte_t *pte = pte_lookup(mm->pgd, s);
		assert_true(!pte || pte_none(*pte));
	}
	exit_mmap(mm);
	mm_free(mm);
	shmem_file_put(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_prestate_and_flag_gives_the_exact_entry,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_wp_markers_fill_none_ptes_when_the_vma_uses_markers, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_mprotect_none_then_rw_keeps_armed_entries_armed, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_mprotect_splits_and_merges_vmas_and_sets_vm_flags, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_mprotect_errors_follow_the_kernel, mmsim_setup,
						mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_arming_a_huge_pmd_keeps_anon_and_zaps_shmem,
						mmsim_setup, mmsim_teardown),
	};
	return cmocka_run_group_tests_name("mprotect", tests, NULL, NULL);
}
