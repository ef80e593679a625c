/* tests/unit/test_rmap_batch.c - folio_pte_batch() and folio_unmap_pte_batch():
 * what a batch may span, and every condition that caps it at one PTE.
 */
#include "mmsim_test.h"

#define NR 16

/* 16 PTEs mapping an order-4 folio, all alike: present, writable, young, dirty. */
static struct folio *make_batch(pte_t *ptes)
{
	struct folio *folio = folio_alloc(4);

	assert_non_null(folio);
	folio_set_flag(folio, FOLIO_anon);
	for (int i = 0; i < NR; i++)
		ptes[i] = pte_mkyoung(
			pte_mkdirty(pte_mkwrite(pfn_pte(folio_pfn(folio) + i, PAGE_COPY))));
	return folio;
}

static pte_t arm(pte_t pte) { return pte_mkuffd(pte_modify(pte, PAGE_NONE)); }

enum change {
	C_YOUNG,
	C_DIRTY,
	C_SOFT_DIRTY,
	C_WRITE,
	C_UFFD,
	C_PROTNONE,
	C_ARMED,
	C_PFN_GAP,
	C_NONE
};

static pte_t apply(pte_t pte, enum change c)
{
	switch (c) {
	case C_YOUNG:
		return pte_mkold(pte);
	case C_DIRTY:
		return pte_mkclean(pte);
	case C_SOFT_DIRTY:
		return pte_set_flags(pte, _PAGE_SOFT_DIRTY);
	case C_WRITE:
		return pte_wrprotect(pte);
	case C_UFFD:
		return pte_set_flags(pte, _PAGE_UFFD);
	case C_PROTNONE:
		return pte_modify(pte, PAGE_NONE);
	case C_ARMED:
		return arm(pte);
	case C_PFN_GAP:
		return pfn_pte(pte_pfn(pte) + 1, pte_pgprot(pte));
	case C_NONE:
		return __pte(0);
	}
	return pte;
}

static const struct {
	const char *what;
	enum change change;
	unsigned safe, unsafe; /* batch from PTE 0 when PTE 5 differs */
} batch_table[] = {
	{ "young", C_YOUNG, NR, NR },
	{ "dirty", C_DIRTY, NR, NR },
	{ "soft-dirty", C_SOFT_DIRTY, NR, NR },
	{ "write", C_WRITE, NR, NR },
	{ "uffd bit", C_UFFD, 5, NR },
	{ "protnone", C_PROTNONE, 5, NR },
	{ "armed (uffd + protnone)", C_ARMED, 5, NR },
	{ "pfn not consecutive", C_PFN_GAP, 5, 5 },
	{ "pte none", C_NONE, 5, 5 },
};

static void test_batch_ignores_access_bits_but_respects_uffd_and_protnone(void **state)
{
	for (unsigned t = 0; t < G_N_ELEMENTS(batch_table); t++) {
		for (int unsafe = 0; unsafe <= 1; unsafe++) {
			pte_t ptes[NR];
			struct folio *folio = make_batch(ptes);

			patch_hunks[HUNK_UNSAFE_BATCH] = unsafe;
			ptes[5] = apply(ptes[5], batch_table[t].change);
			unsigned got = folio_pte_batch(folio, ptes, ptes[0], NR);
			unsigned want = unsafe ? batch_table[t].unsafe : batch_table[t].safe;
			if (got != want)
				fail_msg("%s differs at 5, unsafe=%d: batch %u, want %u",
					 batch_table[t].what, unsafe, got, want);
			folio_put(folio);
		}
	}
}

static void test_batch_of_armed_ptes_spans_the_armed_run_only(void **state)
{
	pte_t ptes[NR];
	struct folio *folio = make_batch(ptes);

	for (int i = 0; i < 8; i++)
		ptes[i] = arm(ptes[i]);
	/* protnone PTEs store the PFN inverted; the batch still sees pages 0..7. */
	assert_int_equal(folio_pte_batch(folio, ptes, ptes[0], NR), 8);
	assert_int_equal(folio_pte_batch(folio, ptes + 8, ptes[8], 8), 8);
	patch_hunks[HUNK_UNSAFE_BATCH] = true;
	assert_int_equal(folio_pte_batch(folio, ptes, ptes[0], NR), NR);
	folio_put(folio);
}

static void test_batch_stops_at_max_nr_and_at_the_folio_end(void **state)
{
	pte_t ptes[NR + 4];
	struct folio *folio = make_batch(ptes);

	assert_int_equal(folio_pte_batch(folio, ptes, ptes[0], 3), 3);
	assert_int_equal(folio_pte_batch(folio, ptes + 10, ptes[10], NR), 6);
	/* A following PTE mapping the next frame is not part of the folio. */
	for (int i = NR; i < NR + 4; i++)
		ptes[i] = pfn_pte(folio_pfn(folio) + i, pte_pgprot(ptes[0]));
	assert_int_equal(folio_pte_batch(folio, ptes, ptes[0], NR + 4), NR);
	folio_put(folio);
}

/* folio_unmap_pte_batch: one row per cap condition. */
enum kind { K_LAZYFREE, K_SWAPBACKED, K_SMALL, K_FILE };

static const struct {
	const char *what;
	enum kind kind;
	vm_flags_t vm_flags;
	enum ttu_flags ttu;
	uint64_t vma_pages;  /* VMA length from the first PTE */
	uint64_t pmd_offset; /* pages of the PMD before the first PTE */
	bool hunk08c;
	unsigned want;
} unmap_table[] = {
	{ "lazyfree batches the whole folio", K_LAZYFREE, 0, 0, 64, 0, true, NR },
	{ "TTU_HWPOISON caps", K_LAZYFREE, 0, TTU_HWPOISON, 64, 0, true, 1 },
	{ "a small folio is one PTE", K_SMALL, 0, 0, 64, 0, true, 1 },
	{ "anon swapbacked caps (one swap entry each)", K_SWAPBACKED, 0, 0, 64, 0, true, 1 },
	{ "a file folio batches the whole folio", K_FILE, 0, 0, 64, 0, true, NR },
	{ "RWP caps a file folio with 08c", K_FILE, VM_UFFD_RWP, 0, 64, 0, true, 1 },
	{ "the VMA end caps", K_LAZYFREE, 0, 0, 8, 0, true, 8 },
	{ "the PMD end caps", K_LAZYFREE, 0, 0, 64, PTRS_PER_PTE - 8, true, 8 },
	{ "uffd-wp caps with 08c", K_LAZYFREE, VM_UFFD_WP, 0, 64, 0, true, 1 },
	{ "uffd-wp caps without 08c", K_LAZYFREE, VM_UFFD_WP, 0, 64, 0, false, 1 },
	{ "RWP caps with 08c", K_LAZYFREE, VM_UFFD_RWP, 0, 64, 0, true, 1 },
	{ "RWP batches without 08c", K_LAZYFREE, VM_UFFD_RWP, 0, 64, 0, false, NR },
	{ "MISSING-only never caps", K_LAZYFREE, VM_UFFD_MISSING, 0, 64, 0, true, NR },
};

static void test_unmap_batch_is_capped_by_every_condition(void **state)
{
	for (unsigned t = 0; t < G_N_ELEMENTS(unmap_table); t++) {
		pte_t ptes[NR];
		struct folio *folio =
			unmap_table[t].kind == K_SMALL ? folio_alloc(0) : make_batch(ptes);
		uint64_t addr = (1ULL << 30) + unmap_table[t].pmd_offset * PAGE_SIZE;
		struct vm_area_struct vma = {
			.vm_start = addr,
			.vm_end = addr + unmap_table[t].vma_pages * PAGE_SIZE,
			.vm_flags = VM_READ | VM_WRITE | unmap_table[t].vm_flags,
		};
		struct page_vma_mapped_walk pvmw = { .vma = &vma, .address = addr, .pte = ptes };

		if (unmap_table[t].kind == K_SMALL)
			ptes[0] = pfn_pte(folio_pfn(folio), PAGE_COPY);
		if (unmap_table[t].kind != K_FILE)
			folio_set_flag(folio, FOLIO_anon);
		else
			folio_clear_flag(folio, FOLIO_anon);
		if (unmap_table[t].kind == K_SWAPBACKED)
			folio_set_flag(folio, FOLIO_swapbacked);
		patch_hunks[HUNK_08C] = unmap_table[t].hunk08c;
		rmap_last_batch = 0;
		unsigned got = folio_unmap_pte_batch(folio, &pvmw, unmap_table[t].ttu, ptes[0]);
		if (got != unmap_table[t].want || rmap_last_batch != got)
			fail_msg("%s: batch %u (last %u), want %u", unmap_table[t].what, got,
				 rmap_last_batch, unmap_table[t].want);
		folio_put(folio);
	}
}

static void test_unsafe_batch_in_an_rwp_vma_is_stopped_only_by_08c(void **state)
{
	pte_t ptes[NR];
	struct folio *folio = make_batch(ptes);
	struct vm_area_struct vma = { .vm_start = 1ULL << 30,
				      .vm_end = (1ULL << 30) + NR * PAGE_SIZE,
				      .vm_flags = VM_READ | VM_WRITE | VM_UFFD_RWP };
	struct page_vma_mapped_walk pvmw = { .vma = &vma, .address = vma.vm_start, .pte = ptes };

	folio_set_flag(folio, FOLIO_anon);
	for (int i = 8; i < NR; i++)
		ptes[i] = arm(ptes[i]);
	patch_hunks[HUNK_UNSAFE_BATCH] = true;
	assert_true(patch_set_hunk("08c=off"));
	assert_int_equal(folio_unmap_pte_batch(folio, &pvmw, 0, ptes[0]), NR);
	assert_true(patch_set_hunk("08c=on"));
	assert_int_equal(folio_unmap_pte_batch(folio, &pvmw, 0, ptes[0]), 1);
	folio_put(folio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_batch_ignores_access_bits_but_respects_uffd_and_protnone, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_batch_of_armed_ptes_spans_the_armed_run_only,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_batch_stops_at_max_nr_and_at_the_folio_end,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(test_unmap_batch_is_capped_by_every_condition,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_unsafe_batch_in_an_rwp_vma_is_stopped_only_by_08c, mmsim_setup,
			mmsim_teardown),
	};
	return cmocka_run_group_tests_name("rmap_batch", tests, NULL, NULL);
}
