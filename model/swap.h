/* model/swap.h - one swap device: slots with a use count and saved contents.
 *
 * Anon folios reclaimed to swap store each page's content tag in its slot;
 * swap PTEs hold swp_entry(type 0, slot). The swap cache maps a slot back to
 * the folio while both exist.
 */
#ifndef MMSIM_MODEL_SWAP_H
#define MMSIM_MODEL_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "folio.h"

struct swap_slot {
	uint64_t content;
	uint32_t count;	    /* swap PTEs (and swap-cache references) using it */
	uint32_t cache_pfn; /* page pfn in the swap cache, 0 if none */
};

struct swap_info {
	struct swap_slot *slots; /* slot 0 is reserved, as the kernel's header page */
	uint64_t nr_slots;
	uint64_t next_free_hint;
	uint64_t nr_used;
	/* Every slot ever claimed is below it: a slot is written only after
	 * swap_claim_slot(), so the next device of this size clears no more. */
	uint64_t high_water;
};

extern struct swap_info swap_info;

void swap_init(uint64_t nr_slots);
void swap_destroy(void);
/* Take a free slot (count 1, no content, not in the swap cache); every
 * allocator goes through it. */
void swap_claim_slot(uint64_t slot);
/* Allocate one free slot (count 1); 0 when the device is full. */
uint64_t swap_alloc_slot(void);
/* swap_duplicate / swap_free on a slot. */
void swap_dup(uint64_t slot);
void swap_free_slot(uint64_t slot);

#endif
