/* tests/unit/test_vmscan_split.c - reclaim of a PTE-mapped mTHP when swap has no
 * run of free slots for it: split, then each page to its own slot, or kept.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define VAL 0x7100
#define NR 16 /* an order-4 folio */

/* Fills the swap device, then frees every other slot: single slots are
 * free, no aligned run of NR is. Returns how many are free. */
static unsigned fragment_swap(void)
{
	unsigned free_slots = 0;
	uint64_t s;

	while ((s = swap_alloc_slot()))
		;
	for (s = 1; s < swap_info.nr_slots; s += 2, free_slots++)
		swap_free_slot(s);
	return free_slots;
}

/* NR written pages faulted in as one order-4 anon folio (thp mthp=4). */
static uint64_t map_mthp(struct mm_struct *mm, struct folio **folio)
{
	uint64_t addr = t_map_anon(mm, NR * PAGE_SIZE, PROT_READ | PROT_WRITE, NR * PAGE_SIZE);

	thp_settings.enabled = 2;
	thp_settings.mthp_order = 4;
	for (unsigned i = 0; i < NR; i++)
		t_write_pages(mm, addr + i * PAGE_SIZE, 1, VAL + i);
	*folio = pfn_folio(pte_pfn(t_pte(mm, addr)));
	assert_int_equal(folio_order(*folio), 4);
	return addr;
}

static void finish(struct mm_struct *mm)
{
	exit_mmap(mm);
	mm_free(mm);
}

static void a_split_mthp_goes_to_single_slots_and_reads_back(void **state)
{
	struct mm_struct *mm = mm_alloc("split");
	struct folio *folio;
	uint64_t addr = map_mthp(mm, &folio);

	fragment_swap();
	/* Every page of the split folio is reclaimed on its own. */
	assert_int_equal(reclaim_range(mm, addr, addr + NR * PAGE_SIZE), NR);
	for (unsigned i = 0; i < NR; i++) {
		pte_t pte = t_pte(mm, addr + i * PAGE_SIZE);
		uint64_t slot = swp_offset(pte_to_swp_entry(pte));

		assert_true(is_swap_pte(pte));
		assert_int_equal(slot % 2, 1); /* only the freed slots were free */
		assert_int_equal(swap_info.slots[slot].content, VAL + i);
	}
	assert_int_equal(mm->nr_swapents, NR);
	assert_int_equal(mm->rss_anon, 0);
	for (unsigned i = 0; i < NR; i++) {
		uint64_t v = 0;

		assert_int_equal(user_access(mm, addr + i * PAGE_SIZE, false, 0, &v), RESULT_OK);
		assert_int_equal(v, VAL + i);
		/* Swapped in page by page: small folios now. */
		assert_int_equal(folio_order(pfn_folio(pte_pfn(t_pte(mm, addr + i * PAGE_SIZE)))),
				 0);
	}
	finish(mm);
}

/* An extra reference (a GUP reference, say) makes the split fail: the folio
 * stays whole and mapped, nothing goes to swap. */
static void an_extra_reference_keeps_the_mthp_whole(void **state)
{
	struct mm_struct *mm = mm_alloc("ref");
	struct folio *folio;
	uint64_t addr = map_mthp(mm, &folio);
	unsigned free_slots = fragment_swap();

	folio_get(folio);
	assert_int_equal(reclaim_range(mm, addr, addr + NR * PAGE_SIZE), 0);
	assert_int_equal(folio_order(folio), 4);
	for (unsigned i = 0; i < NR; i++)
		assert_int_equal(pte_pfn(t_pte(mm, addr + i * PAGE_SIZE)), folio_pfn(folio) + i);
	assert_int_equal(swap_info.nr_used, swap_info.nr_slots - 1 - free_slots);
	assert_false(folio_test_locked(folio));
	folio_put(folio);
	finish(mm);
}

/* A full device: a small folio has nowhere to go and stays mapped. */
static void a_full_device_keeps_a_small_folio(void **state)
{
	struct mm_struct *mm = mm_alloc("full");
	uint64_t addr = t_map_anon(mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

	t_write_pages(mm, addr, 1, VAL);
	while (swap_alloc_slot())
		;
	assert_int_equal(reclaim_range(mm, addr, addr + PAGE_SIZE), 0);
	assert_true(pte_present(t_pte(mm, addr)));
	assert_int_equal(mm->nr_swapents, 0);
	finish(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_split_mthp_goes_to_single_slots_and_reads_back,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(an_extra_reference_keeps_the_mthp_whole,
						mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(a_full_device_keeps_a_small_folio, mmsim_setup,
						mmsim_teardown),
	};
	return cmocka_run_group_tests_name("vmscan_split", tests, NULL, NULL);
}
