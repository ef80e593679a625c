/* sim/mm/vmscan.c - page reclaim (mm/vmscan.c): isolate folios, unmap them
 * through rmap, write anon folios to swap and shmem folios through
 * shmem_writeout(), and free what nothing references any more.
 *
 * Reclaim here is always the MADV_PAGEOUT / reclaim_pages() flavour: folio
 * references (young bits, FOLIO_referenced) are ignored, every folio handed
 * in is a candidate, and writeback completes synchronously.
 */
#include "internal.h"
#include "sched.h"

/* models folio_isolate_lru(): reclaim's own reference, off the LRU */
bool folio_isolate_lru(struct folio *folio)
{
	if (!folio_test_lru(folio) || (folio->flags & FOLIO_isolated))
		return false;
	folio_clear_flag(folio, FOLIO_lru);
	folio_set_flag(folio, FOLIO_isolated);
	folio_get(folio);
	return true;
}

/* models folio_putback_lru(): drop isolation; may free the folio */
void folio_putback_lru(struct folio *folio)
{
	folio_clear_flag(folio, FOLIO_isolated);
	folio_set_flag(folio, FOLIO_lru);
	folio_put(folio);
}

/* models split_folio_to_list() for a PTE-mapped anon folio (see internal.h) */
bool split_anon_folio_ptemapped(struct folio *folio, GPtrArray *list)
{
	uint64_t nr = folio_nr_pages(folio), pfn = folio_pfn(folio);
	int isolated = folio->flags & FOLIO_isolated ? 1 : 0;

	if (!folio_test_large(folio))
		return true;
	if (!folio_test_anon(folio) || folio_test_swapcache(folio) || folio->entire_mapcount)
		return false;
	/* can_split_folio(): a pin or a GUP reference must keep the folio whole. */
	if (folio_maybe_dma_pinned(folio) ||
	    folio_ref_count(folio) != folio_mapcount(folio) + isolated)
		return false;
	folio_split_to_order0(folio);
	for (uint64_t i = 1; i < nr; i++) {
		struct folio *t = pfn_folio(pfn + i);

		folio_clear_flag(t, FOLIO_locked); /* only the caller's folio stays locked */
		if (isolated) {
			folio_get(t);
			g_ptr_array_add(list, t);
		} else if (!folio_ref_count(t)) {
			folio_put_refs(t, 0); /* an unmapped tail is freed by the split */
		}
	}
	return true;
}

/* models swap_writeout() / swap_writepage(): the device gets each page's data */
static void swap_writeout(struct folio *folio)
{
	uint64_t first = swp_offset(folio->swap);

	for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
		swap_info.slots[first + i].content = folio_page(folio, i)->content;
	folio_clear_flag(folio, FOLIO_dirty);
}

/*
 * Reclaim one isolated, unlocked folio. Returns true when it was freed. New
 * folios from a split are appended to list and reclaimed in their turn.
 */
static bool shrink_folio(struct folio *folio, GPtrArray *list)
{
	enum ttu_flags flags = 0;
	uint64_t nr = folio_nr_pages(folio);
	bool freed = false;

	if (folio_test_locked(folio))
		goto keep; /* folio_trylock() failed: someone else is working on it */
	folio_set_flag(folio, FOLIO_locked);
	/* A pinned folio could only be unmapped to be mapped again. */
	if (folio_maybe_dma_pinned(folio))
		goto keep_locked;

	if (folio_test_anon(folio) && folio_test_swapbacked(folio) &&
	    !folio_test_swapcache(folio)) {
		if (!add_to_swap(folio)) {
			/* No run of slots for the whole folio: split and retry. */
			if (!folio_test_large(folio) || !split_anon_folio_ptemapped(folio, list))
				goto keep_locked;
			nr = 1;
			if (!add_to_swap(folio))
				goto keep_locked;
		}
	}

	if (folio_test_pmd_mappable(folio))
		flags |= TTU_SPLIT_HUGE_PMD;
	if (folio_mapped(folio) && !try_to_unmap(folio, flags))
		goto keep_locked; /* a restore (redirtied lazyfree) or an abort */

	/* Reclaim holds no mm lock: faults may run here and find the swap cache. */
	race_window("shrink_folio_list:unmapped");

	if (folio_test_lazyfree(folio)) {
		/* folio_ref_freeze(folio, 1): only the isolation reference left. */
		if (folio_ref_count(folio) != 1 || folio_mapped(folio))
			goto keep_locked;
		freed = true;
		goto keep_locked;
	}

	if (folio_test_anon(folio)) {
		if (!folio_test_swapcache(folio))
			goto keep_locked;
		if (folio_test_dirty(folio))
			swap_writeout(folio);
		/* __remove_mapping(): isolation plus the swap cache, nothing else. */
		if (folio_mapped(folio) || folio_ref_count(folio) != 1 + (int)nr ||
		    folio_test_dirty(folio))
			goto keep_locked;
		swap_cache_del_folio(folio);
		freed = true;
		goto keep_locked;
	}

	if (folio->mapping && folio_test_swapbacked(folio)) {
		struct address_space *mapping = folio->mapping;
		uint64_t index = folio->index;

		/* shmem: isolation plus the page cache, nothing else. */
		if (folio_mapped(folio) || folio_ref_count(folio) != 1 + (int)nr)
			goto keep_locked;
		/* shmem_writeout() expects the page cache's references only. */
		folio_clear_flag(folio, FOLIO_locked | FOLIO_isolated);
		folio_put(folio);
		shmem_writeout(folio);
		return xa_is_value(mapping->i_pages[index]);
	}

keep_locked:
	folio_clear_flag(folio, FOLIO_locked);
keep:
	folio_putback_lru(folio);
	return freed;
}

/* models shrink_folio_list() (with reclaim_pages()'s ignore_references) */
unsigned shrink_folio_list(GPtrArray *folios)
{
	unsigned nr_reclaimed = 0;

	/* folios may grow while we walk it: splits append their new folios. */
	for (guint i = 0; i < folios->len; i++)
		if (shrink_folio(g_ptr_array_index(folios, i), folios))
			nr_reclaimed++;
	return nr_reclaimed;
}

/* models reclaim_pages(), here also doing the callers' folio_isolate_lru() */
unsigned reclaim_pages(GPtrArray *folios)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new();

	for (guint i = 0; i < folios->len; i++) {
		struct folio *folio = g_ptr_array_index(folios, i);

		if (!folio_test_zero(folio) && folio_isolate_lru(folio))
			g_ptr_array_add(list, folio);
	}
	return shrink_folio_list(list);
}

static void collect_folio(struct folio *folio, GHashTable *seen, GPtrArray *list)
{
	if (!folio || folio_test_zero(folio) || g_hash_table_contains(seen, folio))
		return;
	g_hash_table_add(seen, folio);
	g_ptr_array_add(list, folio);
}

/* The reclaim trace step: memory pressure on exactly the folios of a range. */
long reclaim_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

	for (guint v = 0; v < mm->vmas->len; v++) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, v);
		uint64_t addr = start > vma->vm_start ? start : vma->vm_start;
		uint64_t stop = end < vma->vm_end ? end : vma->vm_end;

		while (addr < stop) {
			uint64_t next = pmd_addr_end(addr, stop);
			pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);

			if (pmd && pmd_trans_huge(*pmd)) {
				if (!is_huge_zero_pfn(pmd_pfn(*pmd)))
					collect_folio(pfn_folio(pmd_pfn(*pmd)), seen, list);
			} else if (pmd && pmd_is_table(*pmd)) {
				for (uint64_t a = addr; a < next; a += PAGE_SIZE) {
					pte_t pte = *pte_offset_map(pmd, a);

					if (pte_present(pte))
						collect_folio(vm_normal_folio(vma, a, pte), seen,
							      list);
				}
			}
			addr = next;
		}
	}
	return reclaim_pages(list);
}
