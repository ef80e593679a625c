/* tests/unit/test_model_swap.c - swap device slots of model/swap.c. */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/swap.h"

#define NR 8

static int swap_setup(void **state) { return t_model_setup((struct t_model){ .swap_slots = NR }); }

static void swap_init_reserves_slot_zero(void **state)
{
	assert_int_equal(swap_info.nr_slots, NR + 1);
	assert_int_equal(swap_info.next_free_hint, 1);
	assert_int_equal(swap_info.nr_used, 0);
	for (uint64_t s = 0; s <= NR; s++) {
		assert_int_equal(swap_info.slots[s].count, 0);
		assert_int_equal(swap_info.slots[s].content, 0);
		assert_int_equal(swap_info.slots[s].cache_pfn, 0);
	}
	/* a re-init starts over */
	assert_int_equal(swap_alloc_slot(), 1);
	swap_init(3);
	assert_int_equal(swap_info.nr_slots, 4);
	assert_int_equal(swap_info.nr_used, 0);
	assert_int_equal(swap_info.slots[1].count, 0);
	assert_int_equal(swap_alloc_slot(), 1);
}

static void slots_are_allocated_in_order_until_the_device_is_full(void **state)
{
	for (uint64_t s = 1; s <= NR; s++) {
		swap_info.slots[s].content = 0xdead; /* stale data from an earlier user */
		swap_info.slots[s].cache_pfn = 77;
	}
	swap_info.slots[0].content = 0xfeed;
	for (uint64_t s = 1; s <= NR; s++) {
		ROW_EQ(s, swap_alloc_slot(), s);
		ROW_EQ(s, swap_info.slots[s].count, 1);
		ROW_EQ(s, swap_info.slots[s].content, 0);
		ROW_EQ(s, swap_info.slots[s].cache_pfn, 0);
		ROW_EQ(s, swap_info.nr_used, s);
		ROW_EQ(s, swap_info.next_free_hint, s + 1);
	}
	/* full: 0 is "no slot", and nothing changes */
	assert_int_equal(swap_alloc_slot(), 0);
	assert_int_equal(swap_alloc_slot(), 0);
	assert_int_equal(swap_info.nr_used, NR);
	assert_int_equal(swap_info.slots[0].count, 0);
	assert_int_equal(swap_info.slots[0].content, 0xfeed);

	/* a device with no slots is always full */
	swap_init(0);
	assert_int_equal(swap_alloc_slot(), 0);
	assert_int_equal(swap_info.nr_used, 0);
}

/* A script of operations against one device, with the count and the number of
 * used slots after each step. */
static void dup_and_free_track_the_use_count(void **state)
{
	enum { ALLOC, DUP, FREE };
	const struct {
		int op;
		uint64_t slot; /* ALLOC: the slot expected */
		uint32_t count;
		uint64_t used;
	} steps[] = {
		{ ALLOC, 1, 1, 1 },
		{ ALLOC, 2, 1, 2 },
		{ ALLOC, 3, 1, 3 },
		{ DUP, 2, 2, 3 },
		{ DUP, 2, 3, 3 },
		{ FREE, 2, 2, 3 },
		{ FREE, 1, 0, 2 },
		{ ALLOC, 4, 1, 3 },
		{ FREE, 2, 1, 3 },
		{ FREE, 2, 0, 2 },
		{ ALLOC, 5, 1, 3 },
		{ ALLOC, 6, 1, 4 },
		{ ALLOC, 7, 1, 5 },
		{ ALLOC, 8, 1, 6 },
		/* the hint wraps past the end and finds the freed slots in order */
		{ ALLOC, 1, 1, 7 },
		{ ALLOC, 2, 1, 8 },
		{ ALLOC, 0, 0, 8 },
		{ FREE, 6, 0, 7 },
		{ DUP, 3, 2, 7 },
		{ ALLOC, 6, 1, 8 },
		{ FREE, 3, 1, 8 },
		{ FREE, 3, 0, 7 },
		{ ALLOC, 3, 1, 8 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
		uint64_t slot = steps[i].slot;

		switch (steps[i].op) {
		case ALLOC:
			ROW_EQ(i, swap_alloc_slot(), slot);
			break;
		case DUP:
			swap_dup(slot);
			break;
		case FREE:
			swap_free_slot(slot);
			break;
		}
		ROW_EQ(i, swap_info.slots[slot].count, steps[i].count);
		ROW_EQ(i, swap_info.nr_used, steps[i].used);
	}
}

static void freeing_the_last_reference_drops_the_swap_cache_link(void **state)
{
	uint64_t s = swap_alloc_slot();

	swap_info.slots[s].content = 0x1234;
	swap_info.slots[s].cache_pfn = 99;
	swap_dup(s);
	swap_free_slot(s);
	assert_int_equal(swap_info.slots[s].cache_pfn, 99);
	assert_int_equal(swap_info.slots[s].content, 0x1234);
	swap_free_slot(s);
	assert_int_equal(swap_info.slots[s].count, 0);
	assert_int_equal(swap_info.slots[s].cache_pfn, 0);
	assert_int_equal(swap_info.nr_used, 0);
}

/* A new device of the same size reuses the last one's slots and clears only
 * those below its high-water mark (model/swap.c): the result must be a fresh
 * device, whichever allocator claimed the slots. */
static void a_reinit_of_the_same_size_is_a_fresh_device(void **state)
{
	const uint64_t nr = 64; /* a size no other test leaves behind */

	swap_init(nr);
	g_autofree struct swap_slot *fresh =
		g_memdup2(swap_info.slots, (nr + 1) * sizeof(struct swap_slot));
	const struct swap_slot *slots = swap_info.slots;

	for (unsigned i = 0; i < 10; i++) {
		uint64_t s = swap_alloc_slot();
		swap_info.slots[s].content = 0x1000 + s;
		swap_info.slots[s].cache_pfn = 40 + i;
		if (i % 3 == 0)
			swap_free_slot(s);
	}
	/* an order-3 run, as folio_alloc_swap() claims for a large folio */
	for (uint64_t s = 48; s < 56; s++) {
		swap_claim_slot(s);
		swap_info.slots[s].content = 0x2000 + s;
	}
	assert_int_equal(swap_info.high_water, 56);
	assert_int_equal(swap_info.nr_used, 6 + 8);

	swap_destroy();
	swap_init(nr);
	assert_ptr_equal(swap_info.slots, slots); /* reused, not a new calloc */
	assert_int_equal(swap_info.nr_used, 0);
	assert_int_equal(swap_info.next_free_hint, 1);
	assert_int_equal(swap_info.high_water, 1);
	for (uint64_t s = 0; s <= nr; s++)
		ROW_EQ(s, memcmp(&swap_info.slots[s], &fresh[s], sizeof(*fresh)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(swap_init_reserves_slot_zero, swap_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(
			slots_are_allocated_in_order_until_the_device_is_full, swap_setup,
			t_model_teardown),
		cmocka_unit_test_setup_teardown(dup_and_free_track_the_use_count, swap_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(
			freeing_the_last_reference_drops_the_swap_cache_link, swap_setup,
			t_model_teardown),
		cmocka_unit_test_setup_teardown(a_reinit_of_the_same_size_is_a_fresh_device,
						swap_setup, t_model_teardown),
	};

	return cmocka_run_group_tests_name("model_swap", tests, NULL, NULL);
}
