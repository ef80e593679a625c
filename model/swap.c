/* model/swap.c - swap device slots (no policy). */
#include "swap.h"

#include <glib.h>
#include <string.h>

struct swap_info swap_info;

void swap_init(uint64_t nr_slots)
{
	swap_destroy();
	swap_info.slots = g_new0(struct swap_slot, nr_slots + 1);
	swap_info.nr_slots = nr_slots + 1;
	swap_info.next_free_hint = 1;
}

void swap_destroy(void)
{
	g_free(swap_info.slots);
	memset(&swap_info, 0, sizeof(swap_info));
}

uint64_t swap_alloc_slot(void)
{
	for (uint64_t n = 0; n + 1 < swap_info.nr_slots; n++) {
		uint64_t s = swap_info.next_free_hint + n;
		if (s >= swap_info.nr_slots)
			s -= swap_info.nr_slots - 1;
		if (!swap_info.slots[s].count) {
			swap_info.slots[s].count = 1;
			swap_info.slots[s].content = 0;
			swap_info.slots[s].cache_pfn = 0;
			swap_info.next_free_hint = s + 1;
			swap_info.nr_used++;
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
