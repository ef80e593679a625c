/* sim/mm/migrate.c - page migration (mm/migrate.c) on a single-node machine,
 * with the RWP series: remove_migration_pte(), remove_migration_pmd() and
 * try_to_map_unused_to_zeropage() re-force PAGE_NONE on entries that carry
 * the swap uffd bit in an RWP VMA (07/15).
 *
 * One folio at a time, synchronously: isolate and lock it, allocate a
 * destination of the same order, try_to_migrate() every mapping into a
 * migration entry, move the page-cache slots (shmem), copy the content
 * tags, then restore every migration entry to the new folio. Between the
 * unmap and the move the kernel holds only the folio locks; the model opens
 * the race window "migrate:entries" there, so a trace can run other steps
 * while the migration entries are installed.
 */
#include "internal.h"
#include "patch.h"
#include "sched.h"

bool numa_migrate_on_fault;

/* models isolate_folio_to_list(): the migration's own reference, off the LRU */
static bool isolate_folio_to_list(struct folio *folio) { return folio_isolate_lru(folio); }

/* models try_to_map_unused_to_zeropage(): an all-zero subpage of a folio
 * being split is mapped to the shared zero page instead of a fresh page */
static bool try_to_map_unused_to_zeropage(struct vm_area_struct *vma, pte_t *ptep, pte_t old_pte,
					  struct folio *folio, uint64_t idx)
{
	struct page *page = folio_page(folio, idx);
	pte_t newpte;

	if (folio_test_large(folio) || !folio_test_anon(folio))
		return false;
	if (page->flags & PG_hwpoison)
		return false;
	if (vma->vm_flags & VM_LOCKED)
		return false;
	/* pages_identical(page, ZERO_PAGE(0)) */
	if (page->content)
		return false;

	newpte = pte_mkspecial(pfn_pte(mem_map.zero_pfn, vma->vm_page_prot));
	if (pte_swp_soft_dirty(old_pte))
		newpte = __pte(pte_val(newpte) | _PAGE_SOFT_DIRTY);
	if (pte_swp_uffd(old_pte))
		newpte = pte_mkuffd(newpte);
	/* RWP 07/15: an armed subpage stays armed on the zero page. */
	if (pte_swp_uffd(old_pte) && userfaultfd_rwp(vma) &&
	    !patch_hunk(HUNK_DEFERRED_SPLIT_NO_REFORCE))
		newpte = pte_modify(newpte, PAGE_NONE);
	/* dec_mm_counter(): the model's rss already dropped with the rmap. */
	*ptep = newpte;
	return true;
}

/* models remove_migration_pmd() (mm/huge_memory.c) */
static void remove_migration_pmd(struct folio *folio, struct vm_area_struct *vma, pmd_t *pmdp)
{
	pmd_t old = *pmdp;
	swp_entry_t entry = pmd_to_swp_entry(old);
	pmd_t pmde;

	folio_get(folio);
	pmde = pmd_mkhuge(pfn_pmd(folio_pfn(folio), vma->vm_page_prot));
	if (pmd_swp_soft_dirty(old))
		pmde = pmd_set_flags(pmde, _PAGE_SOFT_DIRTY);
	if (is_writable_migration_entry(entry))
		pmde = pmd_mkwrite(pmde);
	if (pmd_swp_uffd(old))
		pmde = pmd_mkuffd(pmde);
	if (!is_migration_entry_young(entry))
		pmde = pmd_mkold(pmde);
	if (folio_test_dirty(folio) && is_migration_entry_dirty(entry))
		pmde = pmd_mkdirty(pmde);
	/* RWP 07/15: vm_page_prot has no PAGE_NONE; an armed PMD must trap. */
	if (pmd_swp_uffd(old) && userfaultfd_rwp(vma) && !patch_hunk(HUNK_MIGRATE_NO_REFORCE))
		pmde = pmd_modify(pmde, PAGE_NONE);

	if (folio_test_anon(folio))
		folio_add_anon_rmap_pmd(folio, vma, !is_readable_migration_entry(entry));
	else
		folio_add_file_rmap_pmd(folio, vma);
	*pmdp = pmde;
}

struct rmap_walk_arg {
	struct folio *folio; /* the source: its PFNs are in the entries */
	bool map_unused_to_zeropage;
};

/* models remove_migration_pte(): called for the destination folio (which may
 * be the source itself when the migration is undone) in one VMA */
static bool remove_migration_pte(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
				 void *arg)
{
	struct rmap_walk_arg *rwa = arg;
	struct mm_struct *mm = vma->vm_mm;
	uint64_t src_pfn = folio_pfn(rwa->folio), nr = folio_nr_pages(folio);
	uint64_t first = vma->vm_pgoff > folio->index ? vma->vm_pgoff - folio->index : 0;
	uint64_t last = nr;

	(void)address;
	if (folio->index + last > vma->vm_pgoff + vma_pages(vma))
		last = vma->vm_pgoff + vma_pages(vma) - folio->index;

	/* page_vma_mapped_walk() with PVMW_SYNC | PVMW_MIGRATION */
	for (uint64_t i = first; i < last; i++) {
		uint64_t addr = vma_address(vma, folio->index + i);
		pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
		if (!pmd || pmd_none(*pmd))
			continue;
		if (is_pmd_migration_entry(*pmd)) {
			if (swp_offset_pfn(pmd_to_swp_entry(*pmd)) == src_pfn &&
			    !(addr & ~PMD_MASK))
				remove_migration_pmd(folio, vma, pmd);
			continue;
		}
		pte_t *ptep = pte_offset_map(pmd, addr);
		if (!ptep || !is_swap_pte(*ptep))
			continue;
		pte_t old_pte = *ptep;
		swp_entry_t entry = pte_to_swp_entry(old_pte);
		if (!is_migration_entry(entry) || swp_offset_pfn(entry) != src_pfn + i)
			continue;

		struct page *new = folio_page(folio, i);
		if (rwa->map_unused_to_zeropage &&
		    try_to_map_unused_to_zeropage(vma, ptep, old_pte, folio, i))
			continue;

		folio_get(folio);
		pte_t pte = pfn_pte(page_to_pfn(new), vma->vm_page_prot);
		if (!is_migration_entry_young(entry))
			pte = pte_mkold(pte);
		if (folio_test_dirty(folio) && is_migration_entry_dirty(entry))
			pte = pte_mkdirty(pte);
		if (pte_swp_soft_dirty(old_pte))
			pte = __pte(pte_val(pte) | _PAGE_SOFT_DIRTY);
		else
			pte = __pte(pte_val(pte) & ~_PAGE_SOFT_DIRTY);
		/* Write and uffd are exclusive by construction: a PTE with
		 * the bit is never writable, so its entry is never writable. */
		if (is_writable_migration_entry(entry))
			pte = pte_mkwrite(pte);
		else if (pte_swp_uffd(old_pte))
			pte = pte_mkuffd(pte);
		/* RWP 07/15 (see do_swap_page): restore PAGE_NONE. */
		if (pte_swp_uffd(old_pte) && userfaultfd_rwp(vma) &&
		    !patch_hunk(HUNK_MIGRATE_NO_REFORCE))
			pte = pte_modify(pte, PAGE_NONE);

		if (folio_test_anon(folio))
			folio_add_anon_rmap_ptes(folio, new, 1, vma,
						 !is_readable_migration_entry(entry));
		else
			folio_add_file_rmap_ptes(folio, new, 1, vma);
		*ptep = pte;
	}
	return true;
}

/* models remove_migration_ptes(): restore every migration entry of src
 * to dst (dst == src undoes a failed migration) */
void remove_migration_ptes(struct folio *src, struct folio *dst, unsigned flags)
{
	struct rmap_walk_arg rmap_walk_arg = {
		.folio = src,
		.map_unused_to_zeropage = flags & RMP_USE_SHARED_ZEROPAGE,
	};
	struct rmap_walk_control rwc = {
		.rmap_one = remove_migration_pte,
		.arg = &rmap_walk_arg,
	};

	rmap_walk(dst, &rwc);
}

/* models migration_entry_wait() / pmd_migration_entry_wait(): the fault
 * sleeps until the migration holding the entry has finished. Migration
 * entries exist only inside the "migrate:entries" race window, so the
 * waiting step cannot complete there. */
void migration_entry_wait(void) { race_window_would_wait("migration entry"); }

/* models folio_migrate_mapping(): false (-EAGAIN) when someone else holds
 * a reference the migration cannot account for */
static bool folio_migrate_mapping(struct address_space *mapping, struct folio *newfolio,
				  struct folio *folio)
{
	int expected = 1 + (mapping ? (int)folio_nr_pages(folio) : 0);

	if (folio_ref_count(folio) != expected)
		return false;
	newfolio->index = folio->index;
	newfolio->mapping = folio->mapping;
	if (folio_test_swapbacked(folio))
		folio_set_flag(newfolio, FOLIO_swapbacked);
	if (folio_test_anon(folio))
		folio_set_flag(newfolio, FOLIO_anon);
	if (!mapping)
		return true;
	uint64_t nr = folio_nr_pages(folio);
	for (uint64_t i = 0; i < nr; i++)
		mapping->i_pages[folio->index + i] = xa_mk_pfn(folio_pfn(newfolio) + i);
	newfolio->refcount += (int)nr; /* the cache's references move over */
	folio->refcount -= (int)nr;
	if (folio_test_dirty(folio)) {
		folio_clear_flag(folio, FOLIO_dirty);
		folio_set_flag(newfolio, FOLIO_dirty);
	}
	return true;
}

/* models folio_migrate_flags() with folio_copy() (folio_migrate_copy()) */
static void folio_migrate_copy(struct folio *newfolio, struct folio *folio)
{
	for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
		folio_page(newfolio, i)->content = folio_page(folio, i)->content;
	newfolio->flags |=
		folio->flags & (FOLIO_referenced | FOLIO_uptodate | FOLIO_dirty | FOLIO_young);
	/* PG_anon_exclusive travels in the migration entries, not here. */
}

/* models migrate_folio() */
static bool migrate_folio(struct address_space *mapping, struct folio *dst, struct folio *src)
{
	if (!folio_migrate_mapping(mapping, dst, src))
		return false;
	folio_migrate_copy(dst, src);
	return true;
}

/*
 * models migrate_pages() for one isolated folio (migrate_pages_batch():
 * migrate_folio_unmap() then migrate_folio_move()). Returns 0, -EAGAIN
 * (the folio stays where it was, its mappings restored) or -ENOMEM.
 */
static int migrate_one_folio(struct folio *src, enum ttu_flags ttu)
{
	struct address_space *mapping = folio_test_anon(src) ? NULL : src->mapping;
	struct anon_vma *anon_vma = NULL;
	struct folio *dst;
	bool was_mapped;

	/* The swap cache would have to move with the folio (not modelled). */
	if (folio_test_swapcache(src) || folio_test_locked(src))
		return -EAGAIN;
	dst = folio_alloc(folio_order(src));
	if (!dst)
		return -ENOMEM;

	/* migrate_folio_unmap() */
	folio_set_flag(src, FOLIO_locked);
	folio_set_flag(dst, FOLIO_locked);
	was_mapped = folio_mapped(src);
	/* Keeps the anon_vma (rmap_walk's VMA list) alive should every VMA go
	 * away while the PTEs are migration entries (munmap in the window). */
	anon_vma = folio_get_anon_vma(src);
	if (was_mapped)
		try_to_migrate(src, ttu);
	if (folio_mapped(src))
		goto undo; /* a pinned anon-exclusive page: restored */

	/* Only the folio locks are held from here to the move. */
	race_window("migrate:entries");

	/* migrate_folio_move() -> move_to_new_folio() */
	if (!migrate_folio(mapping, dst, src))
		goto undo;
	if (was_mapped)
		remove_migration_ptes(src, dst, 0);
	folio_clear_flag(dst, FOLIO_locked);
	folio_set_flag(dst, FOLIO_lru);
	folio_put(dst); /* the allocation's reference; the mappings hold theirs */
	folio_clear_flag(src, FOLIO_locked | FOLIO_isolated);
	folio_put(src); /* the isolation reference: src is freed */
	if (anon_vma)
		anon_vma_put(anon_vma); /* put_anon_vma() */
	return 0;

undo:
	if (was_mapped)
		remove_migration_ptes(src, src, 0);
	folio_clear_flag(src, FOLIO_locked);
	folio_clear_flag(dst, FOLIO_locked);
	folio_put(dst);
	if (anon_vma)
		anon_vma_put(anon_vma); /* put_anon_vma() */
	return -EAGAIN;
}

/* models migrate_pages() on a list of one folio isolated by the caller; on
 * failure the folio is put back on the LRU (putback_movable_pages()) */
int migrate_pages(struct folio *folio, enum ttu_flags ttu)
{
	int rc = migrate_one_folio(folio, ttu);

	if (rc)
		folio_putback_lru(folio);
	return rc;
}

/* The entry point of the trace's "migrate" step: isolate the folio (as
 * move_pages()/migrate_misplaced_folio_prepare() do) and migrate it. */
int migrate_folio_sync(struct folio *folio, enum ttu_flags ttu)
{
	if (!isolate_folio_to_list(folio))
		return -EBUSY;
	return migrate_pages(folio, ttu);
}

/* models migrate_misplaced_folio_prepare(): isolate a NUMA-faulting folio */
int migrate_misplaced_folio_prepare(struct folio *folio, struct vm_area_struct *vma, int node)
{
	(void)node;
	/* A shared executable (library text) is left where it is. */
	if (folio_maybe_mapped_shared(folio) && (vma->vm_flags & VM_EXEC))
		return -EACCES;
	if (!isolate_folio_to_list(folio))
		return -EAGAIN;
	return 0;
}

/* models migrate_misplaced_folio(): the folio was isolated by _prepare() */
int migrate_misplaced_folio(struct folio *folio, int node)
{
	(void)node;
	return migrate_pages(folio, 0);
}
