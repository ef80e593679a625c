/* tests/unit/test_rmap_lazyfree.c - traces R1 and R2 (rwp-series.md §4.4):
 * MADV_FREE on an order-4 anon folio in an RWP VMA, half of it armed, one
 * unarmed page redirtied, then reclaim. The restore must give every PTE
 * back its own (uffd, protnone) state.
 *
 *   page   0 1 2 3 4 5 6 7 8 9 a b c d e f
 *   low    A A A A A A A A . . . . . . . .   (armed half first, write to 8)
 *   high   . . . . . . . . A A A A A A A A   (unarmed half first, write to 0)
 */
#include "mmsim_test.h"

#define NR 16
#define DATA 0x1000

struct r1 {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	struct folio *folio;
	uint64_t addr;
	pte_t *ptep;
};

/* An RWP VMA of 16 pages with one order-4 folio mapped writable and dirty,
 * as after a write fault that allocated an mTHP. */
static void r1_build(struct r1 *r)
{
	r->mm = mm_alloc("r1");
	r->addr = t_map_anon(r->mm, NR * PAGE_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	r->vma = vma_lookup(r->mm, r->addr);
	r->vma->vm_flags |= VM_UFFD_RWP;
	anon_vma_prepare(r->vma);
	r->folio = folio_alloc(4);
	assert_non_null(r->folio);
	pmd_t *pmd = pmd_lookup(r->mm->pgd, r->addr, true, r->mm->id);
	assert_true(pte_alloc(pmd, r->mm->id));
	r->ptep = pte_offset_map(pmd, r->addr);
	folio_add_new_anon_rmap(r->folio, r->vma, r->addr, true);
	folio_add_anon_rmap_ptes(r->folio, folio_page(r->folio, 0), NR, r->vma, true);
	r->folio->refcount = NR;
	folio_set_flag(r->folio, FOLIO_dirty);
	for (int i = 0; i < NR; i++) {
		folio_page(r->folio, i)->content = DATA + i;
		r->ptep[i] = pte_mkyoung(pte_mkdirty(
			pte_mkwrite(pfn_pte(folio_pfn(r->folio) + i, r->vma->vm_page_prot))));
	}
}

static void r1_arm(struct r1 *r, int first)
{
	for (int i = first; i < first + NR / 2; i++)
		r->ptep[i] = pte_mkuffd(pte_modify(r->ptep[i], PAGE_NONE));
}

/* A user store through a present writable PTE: the MMU sets D, no fault. */
static void r1_write(struct r1 *r, int i, uint64_t value)
{
	assert_true(pte_present(r->ptep[i]) && !pte_protnone(r->ptep[i]) && pte_write(r->ptep[i]));
	r->ptep[i] = pte_mkdirty(pte_mkyoung(r->ptep[i]));
	pfn_to_page(pte_pfn(r->ptep[i]))->content = value;
}

struct pair {
	bool present, uffd, protnone;
	uint64_t pfn;
};

static void r1_snapshot(struct r1 *r, struct pair *p)
{
	for (int i = 0; i < NR; i++)
		p[i] = (struct pair){ pte_present(r->ptep[i]), pte_uffd(r->ptep[i]),
				      pte_protnone(r->ptep[i]), pte_pfn(r->ptep[i]) };
}

static void r1_finish(struct r1 *r)
{
	exit_mmap(r->mm);
	mm_free(r->mm);
}

/* R1: the positive trace. MADV_FREE the uniform folio, then arm half (the
 * order that keeps the folio whole), redirty an unarmed page, reclaim. */
static const struct {
	const char *level;
	int armed_first; /* first armed page */
	int written;	 /* the unarmed page written after MADV_FREE */
	unsigned batch;	 /* rmap_last_batch of the restoring unmap */
	int discarded;	 /* pages before the written one that reclaim discards */
} r1_table[] = {
	{ "v6", 8, 0, 1, 0 },
	{ "no08", 8, 0, 8, 0 },
	{ "v6", 0, 8, 1, 8 },
	{ "no08", 0, 8, 8, 8 },
};

static void test_r1_restore_keeps_each_ptes_uffd_and_protnone(void **state)
{
	for (unsigned t = 0; t < G_N_ELEMENTS(r1_table); t++) {
		struct r1 r;
		struct pair before[NR], after[NR];

		assert_true(patch_set_level(r1_table[t].level));
		r1_build(&r);
		assert_int_equal(sys_madvise(r.mm, r.addr, NR * PAGE_SIZE, MADV_FREE), 0);
		assert_true(folio_test_lazyfree(r.folio));
		r1_arm(&r, r1_table[t].armed_first);
		r1_write(&r, r1_table[t].written, 0xbeef);
		r1_snapshot(&r, before);

		assert_int_equal(reclaim_range(r.mm, r.addr, r.addr + NR * PAGE_SIZE), 0);
		r1_snapshot(&r, after);
		assert_int_equal(rmap_last_batch, r1_table[t].batch);
		for (int i = 0; i < NR; i++) {
			if (i < r1_table[t].discarded) {
				/* Clean lazyfree pages go: the MADV_FREE contract. */
				assert_true(pte_none(r.ptep[i]));
				continue;
			}
			if (before[i].present != after[i].present ||
			    before[i].uffd != after[i].uffd ||
			    before[i].protnone != after[i].protnone ||
			    before[i].pfn != after[i].pfn)
				fail_msg("%s: page %d was (p%d u%d n%d) is (p%d u%d n%d)",
					 r1_table[t].level, i, before[i].present, before[i].uffd,
					 before[i].protnone, after[i].present, after[i].uffd,
					 after[i].protnone);
		}
		assert_true(folio_test_swapbacked(r.folio)); /* restored: live data again */
		assert_int_equal(pfn_to_page(pte_pfn(r.ptep[r1_table[t].written]))->content,
				 0xbeef);
		r1_finish(&r);
	}
}

/* Arming first makes the batch compare see a mixed folio at MADV_FREE time,
 * so the kernel splits it and reclaim never batches it. */
static void test_madv_free_splits_a_folio_whose_ptes_differ_in_uffd_state(void **state)
{
	struct r1 r;

	r1_build(&r);
	r1_arm(&r, 8);
	assert_int_equal(sys_madvise(r.mm, r.addr, NR * PAGE_SIZE, MADV_FREE), 0);
	for (int i = 0; i < NR; i++) {
		struct folio *f = pfn_folio(pte_pfn(r.ptep[i]));

		assert_int_equal(folio_order(f), 0);
		assert_true(folio_test_lazyfree(f));
		assert_int_equal(pte_uffd(r.ptep[i]), i >= 8);
		assert_int_equal(pte_protnone(r.ptep[i]), i >= 8);
		assert_false(pte_dirty(r.ptep[i]) || pte_young(r.ptep[i]));
	}
	r1_finish(&r);
}

/* R2: the mutation. With a batch compare that ignores the uffd bit and the
 * protection, no08 restores one pteval over all 16 PTEs; 08c prevents it. */
static const struct {
	const char *level;
	int armed_first, written;
	bool all_armed_after; /* the state every restored PTE ends up with at no08 */
} r2_table[] = {
	{ "no08", 8, 0, false }, /* armed pages silently disarmed: lost tracking */
	{ "no08", 0, 8, true },	 /* unarmed pages spuriously armed */
	{ "v6", 8, 0, false },
	{ "v6", 0, 8, false },
};

static void test_r2_unsafe_batch_copies_one_state_unless_08c_caps_it(void **state)
{
	for (unsigned t = 0; t < G_N_ELEMENTS(r2_table); t++) {
		struct r1 r;
		struct pair before[NR];
		bool v6 = !strcmp(r2_table[t].level, "v6");

		assert_true(patch_set_level(r2_table[t].level));
		assert_true(patch_set_hunk("unsafe-batch=on"));
		r1_build(&r);
		assert_int_equal(sys_madvise(r.mm, r.addr, NR * PAGE_SIZE, MADV_FREE), 0);
		r1_arm(&r, r2_table[t].armed_first);
		r1_write(&r, r2_table[t].written, 0xbeef);
		r1_snapshot(&r, before);

		reclaim_range(r.mm, r.addr, r.addr + NR * PAGE_SIZE);
		assert_int_equal(rmap_last_batch, v6 ? 1 : NR);
		for (int i = 0; i < NR; i++) {
			if (v6) {
				if (i < r2_table[t].written) {
					assert_true(pte_none(r.ptep[i]));
					continue;
				}
				assert_int_equal(pte_uffd(r.ptep[i]), before[i].uffd);
				assert_int_equal(pte_protnone(r.ptep[i]), before[i].protnone);
			} else {
				assert_int_equal(pte_uffd(r.ptep[i]), r2_table[t].all_armed_after);
				assert_int_equal(pte_protnone(r.ptep[i]),
						 r2_table[t].all_armed_after);
				assert_int_equal(pte_pfn(r.ptep[i]), before[i].pfn);
			}
		}
		if (!v6) {
			/* The wrong state really is wrong for half the pages. */
			int changed = 0;
			for (int i = 0; i < NR; i++)
				changed += pte_uffd(r.ptep[i]) != before[i].uffd;
			assert_int_equal(changed, NR / 2);
		}
		r1_finish(&r);
	}
}

static void test_clean_lazyfree_folio_is_discarded_whole_in_one_batch(void **state)
{
	struct r1 r;
	uint64_t used;

	r1_build(&r);
	r.vma->vm_flags &= ~VM_UFFD_RWP;
	assert_int_equal(sys_madvise(r.mm, r.addr, NR * PAGE_SIZE, MADV_FREE), 0);
	used = mem_map.nr_used;
	assert_int_equal(reclaim_range(r.mm, r.addr, r.addr + NR * PAGE_SIZE), 1);
	assert_int_equal(rmap_last_batch, NR);
	for (int i = 0; i < NR; i++)
		assert_true(pte_none(r.ptep[i]));
	assert_int_equal(mem_map.nr_used, used - NR);
	assert_int_equal(r.mm->rss_anon, 0);
	r1_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_r1_restore_keeps_each_ptes_uffd_and_protnone,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_madv_free_splits_a_folio_whose_ptes_differ_in_uffd_state, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_r2_unsafe_batch_copies_one_state_unless_08c_caps_it, mmsim_setup,
			mmsim_teardown),
		cmocka_unit_test_setup_teardown(
			test_clean_lazyfree_folio_is_discarded_whole_in_one_batch, mmsim_setup,
			mmsim_teardown),
	};
	return cmocka_run_group_tests_name("rmap_lazyfree", tests, NULL, NULL);
}
