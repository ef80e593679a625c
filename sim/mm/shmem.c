/* sim/mm/shmem.c - shmem page cache, faults, hole punch and writeout (mm/shmem.c).
 *
 * A file's huge flag stands for shmem's huge= policy: huge=1 behaves like
 * "always" (a fault allocates a PMD-order folio when the aligned block fits
 * and is empty), huge=0 like "advise" (only VM_HUGEPAGE VMAs get PMD folios),
 * huge=never like "never" (only MADV_COLLAPSE makes PMD folios).
 */
#include "internal.h"

/* models filemap_add_folio()/shmem_add_to_page_cache() */
void shmem_add_to_page_cache(struct address_space *mapping, struct folio *folio, uint64_t index)
{
	uint64_t nr = folio_nr_pages(folio);
	g_assert(index + nr <= mapping->nr_slots);
	folio->mapping = mapping;
	folio->index = index;
	folio_set_flag(folio, FOLIO_swapbacked | FOLIO_lru | FOLIO_uptodate);
	folio_clear_flag(folio, FOLIO_anon);
	for (uint64_t i = 0; i < nr; i++)
		mapping->i_pages[index + i] = xa_mk_pfn(folio_pfn(folio) + i);
	folio->refcount += (int)nr;
}

/* models filemap_remove_folio() */
void filemap_remove_folio(struct address_space *mapping, struct folio *folio)
{
	uint64_t nr = folio_nr_pages(folio);
	for (uint64_t i = 0; i < nr; i++)
		mapping->i_pages[folio->index + i] = 0;
	folio->mapping = NULL;
	folio_clear_flag(folio, FOLIO_lru);
	folio_put_refs(folio, (int)nr);
}

/* models shmem_allowable_huge_orders() for one index */
static bool shmem_huge_allowed(struct address_space *mapping, struct vm_area_struct *vma,
			       uint64_t index)
{
	uint64_t start = index & ~(uint64_t)(HPAGE_PMD_NR - 1);

	if (start + HPAGE_PMD_NR > mapping->nr_pages || thp_settings.enabled == 2)
		return false;
	if (vma) {
		if (vma->vm_flags & VM_NOHUGEPAGE)
			return false;
		/* shmem_huge_global_enabled(): advise takes VM_HUGEPAGE,
		 * never nothing */
		if (!mapping->huge && (mapping->huge_never || !(vma->vm_flags & VM_HUGEPAGE)))
			return false;
		/* The whole aligned block must be mapped PMD-aligned by vma. */
		uint64_t haddr = vma_address(vma, start);
		if ((haddr & ~PMD_MASK) || start < vma->vm_pgoff || haddr + PMD_SIZE > vma->vm_end)
			return false;
	} else if (!mapping->huge) {
		return false;
	}
	for (uint64_t i = 0; i < HPAGE_PMD_NR; i++)
		if (mapping->i_pages[start + i])
			return false;
	return true;
}

/* models shmem_swapin_folio() */
static struct folio *shmem_swapin_folio(struct address_space *mapping, uint64_t index)
{
	uint64_t slot = mapping->i_pages[index] >> 1;
	struct folio *folio = folio_alloc(0);
	if (!folio)
		return NULL;
	folio_page(folio, 0)->content = swap_info.slots[slot].content;
	mapping->i_pages[index] = 0;
	swap_free_slot(slot);
	shmem_add_to_page_cache(mapping, folio, index);
	folio_put(folio); /* the cache holds it now */
	return folio;
}

/* models shmem_get_folio_gfp() */
int shmem_get_folio(struct address_space *mapping, uint64_t index, enum sgp_type sgp,
		    struct folio **foliop, struct vm_fault *vmf, vm_fault_t *fault_type)
{
	struct vm_area_struct *vma = vmf ? vmf->vma : NULL;
	*foliop = NULL;
	if (index >= mapping->nr_pages)
		return -EINVAL;

	uint64_t e = mapping->i_pages[index];
	if (e && xa_is_value(e)) {
		struct folio *f = shmem_swapin_folio(mapping, index);
		if (!f)
			return -ENOMEM;
		e = mapping->i_pages[index];
	}
	if (e) {
		struct folio *folio = pfn_folio(xa_to_pfn(e));
		/* A MINOR fault: the page is cached but not mapped here. */
		if (vma && userfaultfd_minor(vma)) {
			*fault_type = handle_userfault(vmf, VM_UFFD_MINOR);
			return 0;
		}
		*foliop = folio;
		return 0;
	}
	if (sgp == SGP_NOALLOC || sgp == SGP_READ)
		return 0;
	/* A MISSING fault: nothing in the page cache. */
	if (vma && userfaultfd_missing(vma)) {
		*fault_type = handle_userfault(vmf, VM_UFFD_MISSING);
		return 0;
	}
	unsigned order = shmem_huge_allowed(mapping, vma, index) ? HPAGE_PMD_ORDER : 0;
	struct folio *folio = folio_alloc(order);
	if (!folio && order)
		folio = folio_alloc(order = 0);
	if (!folio)
		return -ENOMEM;
	uint64_t start = order ? index & ~(uint64_t)(HPAGE_PMD_NR - 1) : index;
	shmem_add_to_page_cache(mapping, folio, start);
	folio_put(folio); /* the allocation reference; the cache holds nr */
	*foliop = folio;
	return 0;
}

/* models shmem_fault() */
vm_fault_t shmem_fault(struct vm_fault *vmf)
{
	struct folio *folio;
	vm_fault_t ret = 0;
	int err = shmem_get_folio(vmf->vma->vm_file, vmf->pgoff, SGP_CACHE, &folio, vmf, &ret);

	if (err)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	if (ret)
		return ret;
	if (!folio)
		return VM_FAULT_SIGBUS;
	/* shmem_get_folio_gfp() returns the folio locked. The model only finds
	 * it locked while its holder is suspended in a race window (collapse_file
	 * holds the new THP locked through retract_page_tables()): the fault
	 * would sleep until that path finishes. */
	if (folio_test_locked(folio))
		race_window_would_wait("folio lock");
	folio_get(folio); /* the fault's reference, consumed by the mapping */
	vmf->page = folio_page(folio, vmf->pgoff - folio->index);
	return 0;
}

/* models can_split_folio(): only the page cache's and the mappings'
 * references may be there; a pin or a GUP reference keeps it whole. */
static bool shmem_can_split(struct folio *folio)
{
	return folio_ref_count(folio) == folio_mapcount(folio) + (int)folio_nr_pages(folio);
}

/* Split a large page-cache folio that is no longer mapped anywhere, so
 * shmem_writeout() can swap its pages out one by one (split_folio()). */
static void shmem_split_unmapped(struct address_space *mapping, struct folio *folio)
{
	g_assert(!folio_mapped(folio));
	uint64_t index = folio->index, nr = folio_nr_pages(folio);
	folio_split_to_order0(folio);
	for (uint64_t i = 0; i < nr; i++) {
		struct folio *f = pfn_folio(xa_to_pfn(mapping->i_pages[index + i]));
		f->refcount = 1; /* the page cache's one reference */
		f->mapping = mapping;
	}
}

/* models try_folio_split_to_order(folio, split_at, 0) -> folio_split() for
 * a shmem folio: unmap_folio() unmaps a file folio everywhere (PMD mappings
 * split on the way; no migration entries, remap_page() does nothing for
 * file folios: the pages fault back in), then __split_unmapped_folio()
 * splits the non-uniform way around page `at`. -EAGAIN when
 * can_split_folio() sees other references, or the freeze fails. */
static int shmem_try_folio_split(struct address_space *mapping, struct folio *folio, uint64_t at)
{
	uint64_t index = folio->index, nr = folio_nr_pages(folio), pfn = folio_pfn(folio);

	if (!shmem_can_split(folio))
		return -EAGAIN;
	try_to_unmap(folio, TTU_SPLIT_HUGE_PMD | TTU_IGNORE_MLOCK | TTU_SYNC | TTU_BATCH_FLUSH);
	/* folio_ref_freeze(): only the page cache's references are left */
	if (folio_mapped(folio) || folio_ref_count(folio) != (int)nr)
		return -EAGAIN;
	folio_split_nonuniform(folio, at);
	/* The page cache's references stayed with the folio of page 0: give
	 * every new folio its own folio_nr_pages() of them (no folio_put()). */
	folio->refcount -= (int)nr;
	for (uint64_t i = 0; i < nr;) {
		struct folio *f = pfn_folio(pfn + i);

		f->refcount += (int)folio_nr_pages(f);
		i += folio_nr_pages(f);
	}
	g_assert(mapping->i_pages[index] == xa_mk_pfn(pfn));
	return 0;
}

/* models truncate_inode_folio(): drop a folio from the page cache, and its
 * mappings first (truncate_cleanup_folio() -> unmap_mapping_folio()) */
static void truncate_inode_folio(struct address_space *mapping, struct folio *folio)
{
	if (folio_mapped(folio))
		unmap_mapping_pages(mapping, folio->index, folio_nr_pages(folio), false);
	filemap_remove_folio(mapping, folio);
}

/* models truncate_inode_partial_folio() for the page range [first, end):
 * the covered pages are zeroed; a large folio is split at the first covered
 * page and the folio then at `end` split again, so shmem_undo_range() can
 * drop the covered pieces whole. false when the folio stays (the split
 * failed; shmem folios are dirty, so it is not truncated either). Shmem
 * keeps the folio mapped on failure (try_folio_split_or_unmap()). */
static bool truncate_inode_partial_folio(struct address_space *mapping, struct folio *folio,
					 uint64_t first, uint64_t end)
{
	uint64_t index = folio->index, nr = folio_nr_pages(folio);
	uint64_t offset = first > index ? first - index : 0;
	uint64_t length = MIN(end, index + nr) - index - offset;

	if (length == nr) {
		truncate_inode_folio(mapping, folio);
		return true;
	}
	for (uint64_t j = offset; j < offset + length; j++)
		folio_page(folio, j)->content = 0;
	if (!folio_test_large(folio))
		return true;
	if (!shmem_try_folio_split(mapping, folio, offset)) {
		/* Split again at the end of the range, so the covered pieces
		 * can be dropped whole. */
		if (offset + length < nr) {
			uint64_t e = mapping->i_pages[index + offset + length];
			struct folio *folio2 = pfn_folio(xa_to_pfn(e));

			if (folio_test_large(folio2) && !folio_test_locked(folio2))
				shmem_try_folio_split(mapping, folio2,
						      index + offset + length - folio2->index);
		}
		return true;
	}
	return false;
}

/* models shmem_get_partial_folio(): the folio in the cache at index, if any */
static struct folio *shmem_get_partial_folio(struct address_space *mapping, uint64_t index)
{
	uint64_t e = index < mapping->nr_slots ? mapping->i_pages[index] : 0;

	return e && !xa_is_value(e) ? pfn_folio(xa_to_pfn(e)) : NULL;
}

/* One entry of shmem_undo_range()'s walks: a hole is skipped, a swap
 * entry freed (both move *index on and give NULL); else the folio. */
static struct folio *shmem_undo_entry(struct address_space *mapping, uint64_t *index)
{
	uint64_t e = mapping->i_pages[*index];

	if (!e) {
		(*index)++;
		return NULL;
	}
	if (xa_is_value(e)) {
		swap_free_slot(e >> 1);
		mapping->i_pages[(*index)++] = 0;
		return NULL;
	}
	return pfn_folio(xa_to_pfn(e));
}

/* models shmem_undo_range() for the page range [first, end) of the cache;
 * to_eof for a truncate (lend == -1) */
static void shmem_undo_range(struct address_space *mapping, uint64_t first, uint64_t end,
			     bool to_eof)
{
	uint64_t start = first, index;
	bool same_folio;
	struct folio *folio;

	if (end > mapping->nr_slots)
		end = mapping->nr_slots;
	if (first >= end)
		return;
	/* find_lock_entries(): swap entries, and folios wholly inside */
	for (index = first; index < end;) {
		folio = shmem_undo_entry(mapping, &index);
		if (!folio)
			continue;
		index = folio->index + folio_nr_pages(folio);
		if (folio->index >= first && index <= end)
			truncate_inode_folio(mapping, folio);
	}

	same_folio = first == end - 1;
	folio = shmem_get_partial_folio(mapping, first);
	if (folio) {
		/* lend < folio_pos() + folio_size(): always true for a
		 * truncate, whose lend is (loff_t)-1 */
		same_folio = to_eof || end - 1 < folio->index + folio_nr_pages(folio);
		folio_set_flag(folio, FOLIO_dirty);
		if (!truncate_inode_partial_folio(mapping, folio, first, end)) {
			start = folio->index + folio_nr_pages(folio);
			if (same_folio)
				end = folio->index;
		}
		folio = NULL;
	}
	if (!same_folio)
		folio = shmem_get_partial_folio(mapping, end - 1);
	if (folio) {
		folio_set_flag(folio, FOLIO_dirty);
		if (!truncate_inode_partial_folio(mapping, folio, first, end))
			end = folio->index;
	}

	/* whole_folios: drop what the splits left inside the range */
	for (index = start; index < end;) {
		uint64_t e = mapping->i_pages[index];
		uint64_t next;

		folio = shmem_undo_entry(mapping, &index);
		if (!folio)
			continue;
		next = folio->index + folio_nr_pages(folio);
		if (!folio_test_large(folio))
			truncate_inode_folio(mapping, folio);
		else if (truncate_inode_partial_folio(mapping, folio, first, end) &&
			 mapping->i_pages[index] != e)
			continue; /* split: look at this index again */
		index = next;
	}
}

/* models shmem_fallocate(FALLOC_FL_PUNCH_HOLE) -> shmem_truncate_range() */
long shmem_fallocate_punch(struct address_space *mapping, uint64_t first, uint64_t nr)
{
	if (first >= mapping->nr_pages)
		return 0;
	if (first + nr > mapping->nr_pages)
		nr = mapping->nr_pages - first;
	/* shmem_undo_range() locks every folio it drops or splits: a folio a
	 * suspended path holds locked (migration between unmap and move)
	 * makes the punch sleep until that path finishes. */
	for (uint64_t i = first; i < first + nr; i++) {
		uint64_t e = mapping->i_pages[i];
		if (e && !xa_is_value(e) && folio_test_locked(pfn_folio(xa_to_pfn(e)))) {
			race_window_would_wait("folio lock");
			return -EAGAIN; /* the step is refused (engine.c) */
		}
	}
	/* unmap_mapping_range() first: the data goes, so do the mappings. */
	unmap_mapping_pages(mapping, first, nr, false);
	shmem_undo_range(mapping, first, first + nr, false);
	return 0;
}

/* models shmem_unuse() -> shmem_unuse_inode(): swapoff reads every value
 * entry of the file back into the page cache */
int shmem_unuse(struct address_space *mapping)
{
	for (uint64_t i = 0; i < mapping->nr_slots; i++)
		if (mapping->i_pages[i] && xa_is_value(mapping->i_pages[i]) &&
		    !shmem_swapin_folio(mapping, i))
			return -ENOMEM;
	return 0;
}

/* models shmem_setattr() for ATTR_SIZE: truncate_pagecache() (unmap even the
 * private COW copies) and shmem_truncate_range() beyond the new size when it
 * shrinks; only i_size when it grows. Faults beyond i_size get SIGBUS. */
long shmem_setattr_size(struct address_space *mapping, uint64_t new_pages)
{
	uint64_t old_pages = mapping->nr_pages, slots;

	if (new_pages < old_pages) {
		uint64_t nr = mapping->nr_slots - new_pages;

		/* shmem_undo_range() would sleep on a folio a suspended path
		 * holds locked: nothing changes (the step is refused). */
		for (uint64_t i = new_pages; i < mapping->nr_slots; i++) {
			uint64_t e = mapping->i_pages[i];
			if (e && !xa_is_value(e) && folio_test_locked(pfn_folio(xa_to_pfn(e)))) {
				race_window_would_wait("folio lock");
				return 0;
			}
		}
		/* A large folio across the new end that cannot be split stays
		 * whole, partly beyond i_size, with the part beyond zeroed
		 * (truncate_inode_partial_folio()); shmem keeps it mapped. */
		unmap_mapping_pages(mapping, new_pages, nr, true);
		shmem_undo_range(mapping, new_pages, mapping->nr_slots, true);
		unmap_mapping_pages(mapping, new_pages, nr, true);
	}
	/* The cache keeps whatever the truncate left beyond i_size. */
	slots = shmem_nr_slots(new_pages);
	for (uint64_t i = mapping->nr_slots; i > slots; i--)
		if (mapping->i_pages[i - 1]) {
			slots = shmem_nr_slots(i);
			break;
		}
	mapping->i_pages = g_renew(uint64_t, mapping->i_pages, slots);
	for (uint64_t i = mapping->nr_slots; i < slots; i++)
		mapping->i_pages[i] = 0;
	mapping->nr_pages = new_pages;
	mapping->nr_slots = slots;
	return 0;
}

/* models shmem_writeout(): an unmapped shmem folio goes to swap, leaving
 * value entries in the page cache (no PTE keeps any state). */
bool shmem_writeout(struct folio *folio)
{
	struct address_space *mapping = folio->mapping;
	if (!mapping || folio_mapped(folio) || folio_maybe_dma_pinned(folio))
		return false;
	uint64_t index = folio->index;
	uint64_t nr = folio_nr_pages(folio);
	if (folio_test_large(folio))
		shmem_split_unmapped(mapping, folio);
	for (uint64_t i = 0; i < nr; i++) {
		struct folio *f = pfn_folio(xa_to_pfn(mapping->i_pages[index + i]));
		if (folio_ref_count(f) != 1)
			continue; /* someone else holds it: skip this page */
		uint64_t slot = swap_alloc_slot();
		if (!slot)
			return false;
		swap_info.slots[slot].content = folio_page(f, 0)->content;
		filemap_remove_folio(mapping, f);
		mapping->i_pages[index + i] = (slot << 1) | XA_VALUE_BIT;
	}
	return true;
}
