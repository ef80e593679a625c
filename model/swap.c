/* model/swap.c - swap device slots (no policy). */
#include "swap.h"

#include <glib.h>
#include <string.h>

struct swap_info swap_info;

/* The last device's slots, kept for the next device of the same size (see
 * mem_map_init): only the slots below the high-water mark need clearing. */
static struct {
	struct swap_slot *slots;
	uint64_t nr_slots;
	uint64_t used; /* slots [0, used) may be non-zero */
} spare;

void swap_init(uint64_t nr_slots)
{
	swap_destroy();
	if (spare.slots && spare.nr_slots == nr_slots + 1) {
		memset(spare.slots, 0, spare.used * sizeof(struct swap_slot));
		swap_info.slots = spare.slots;
		spare.slots = NULL;
	} else {
		g_free(spare.slots);
		spare.slots = NULL;
		swap_info.slots = g_new0(struct swap_slot, nr_slots + 1);
	}
	swap_info.nr_slots = nr_slots + 1;
	swap_info.next_free_hint = 1;
	swap_info.high_water = 1;
}

void swap_destroy(void)
{
	if (swap_info.slots) {
		g_free(spare.slots);
		spare.slots = swap_info.slots;
		spare.nr_slots = swap_info.nr_slots;
		spare.used = MIN(swap_info.high_water, swap_info.nr_slots);
	}
	memset(&swap_info, 0, sizeof(swap_info));
}

void swap_claim_slot(uint64_t slot)
{
	g_assert(slot && slot < swap_info.nr_slots && !swap_info.slots[slot].count);
	swap_info.slots[slot].count = 1;
	swap_info.slots[slot].content = 0;
	swap_info.slots[slot].cache_pfn = 0;
	swap_info.nr_used++;
	if (slot >= swap_info.high_water)
		swap_info.high_water = slot + 1;
}

uint64_t swap_alloc_slot(void)
{
	for (uint64_t n = 0; n + 1 < swap_info.nr_slots; n++) {
		uint64_t s = swap_info.next_free_hint + n;
		if (s >= swap_info.nr_slots)
			s -= swap_info.nr_slots - 1;
		if (!swap_info.slots[s].count) {
			swap_claim_slot(s);
			swap_info.next_free_hint = s + 1;
			return s;
		}
	}
	return 0;
}

void swap_dup(uint64_t slot)
{
	g_assert(slot && slot < swap_info.nr_slots && swap_info.slots[slot].count);
	swap_info.slots[slot].count++;
}

void swap_free_slot(uint64_t slot)
{
	g_assert(slot && slot < swap_info.nr_slots && swap_info.slots[slot].count);
	if (--swap_info.slots[slot].count == 0) {
		swap_info.slots[slot].cache_pfn = 0;
		swap_info.nr_used--;
	}
}
