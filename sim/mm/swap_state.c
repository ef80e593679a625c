/* sim/mm/swap_state.c - the swap cache (mm/swap_state.c), and the slot
 * allocation reclaim needs from mm/swapfile.c.
 *
 * One swap device (type 0). A folio in the swap cache owns nr_pages
 * consecutive slots starting at swp_offset(folio->swap); page i uses slot
 * offset + i. The cache holds one slot reference per page (the kernel's
 * SWAP_HAS_CACHE) and nr_pages folio references; swap PTEs hold one slot
 * reference each. Page contents reach the slots at writeout (vmscan.c), not
 * here, so a folio still in the swap cache is the authoritative copy.
 */
#include "internal.h"

/*
 * models folio_alloc_swap() (mm/swapfile.c): order-0 folios take any free
 * slot; a large folio needs an order-aligned run of free slots, as the
 * kernel's cluster allocator hands out for THP_SWAP. Returns the first slot
 * or 0 when none fits (the caller then splits the folio).
 */
static uint64_t folio_alloc_swap(struct folio *folio)
{
	uint64_t nr = folio_nr_pages(folio);

	if (nr == 1)
		return swap_alloc_slot();
	for (uint64_t s = nr; s + nr <= swap_info.nr_slots; s += nr) {
		uint64_t i;

		for (i = 0; i < nr; i++)
			if (swap_info.slots[s + i].count)
				break;
		if (i < nr)
			continue;
		for (i = 0; i < nr; i++)
			swap_claim_slot(s + i);
		return s;
	}
	return 0;
}

/* models add_to_swap() -> folio_alloc_swap() + add_to_swap_cache() */
bool add_to_swap(struct folio *folio)
{
	uint64_t nr = folio_nr_pages(folio);
	uint64_t first;

	g_assert(folio_test_anon(folio) && folio_test_swapbacked(folio));
	g_assert(!folio_test_swapcache(folio));
	first = folio_alloc_swap(folio);
	if (!first)
		return false;
	/* The allocation's slot references become the cache's. */
	for (uint64_t i = 0; i < nr; i++)
		swap_info.slots[first + i].cache_pfn = (uint32_t)(folio_pfn(folio) + i);
	folio->swap = swp_entry(0, first);
	folio_set_flag(folio, FOLIO_swapcache);
	folio->refcount += (int32_t)nr; /* folio_ref_add() */
	/* Nothing is on the device yet: the folio must be written out. */
	folio_set_flag(folio, FOLIO_dirty);
	return true;
}

/* models swap_cache_get_folio(); unlike the kernel it takes no reference:
 * do_swap_page() takes the one its new mapping needs. */
struct folio *swap_cache_get_folio(uint64_t slot)
{
	if (!slot || slot >= swap_info.nr_slots || !swap_info.slots[slot].count ||
	    !swap_info.slots[slot].cache_pfn)
		return NULL;
	return pfn_folio(swap_info.slots[slot].cache_pfn);
}

/* models swap_cache_del_folio() (__delete_from_swap_cache + put_swap_folio) */
void swap_cache_del_folio(struct folio *folio)
{
	uint64_t nr = folio_nr_pages(folio);
	uint64_t first = swp_offset(folio->swap);

	g_assert(folio_test_swapcache(folio));
	for (uint64_t i = 0; i < nr; i++) {
		swap_info.slots[first + i].cache_pfn = 0;
		swap_free_slot(first + i);
	}
	folio->swap = swp_entry(0, 0);
	folio_clear_flag(folio, FOLIO_swapcache);
	folio_put_refs(folio, (int)nr);
}

/* models folio_free_swap() (mm/swapfile.c) */
bool folio_free_swap(struct folio *folio)
{
	uint64_t first = swp_offset(folio->swap);

	if (!folio_test_swapcache(folio))
		return false;
	/* folio_swapped(): a swap PTE still needs the slot to find the data. */
	for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
		if (swap_info.slots[first + i].count > 1)
			return false;
	swap_cache_del_folio(folio);
	return true;
}
