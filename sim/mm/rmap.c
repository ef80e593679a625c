/* sim/mm/rmap.c - reverse mapping: rmap accounting, rmap_walk and unmapping
 * (mm/rmap.c). The accounting helpers keep folio mapcounts and references
 * in step with the page tables; the oracle re-derives both independently.
 */
#include "internal.h"

/* models __folio_set_anon()/anon rmap bookkeeping of folio_add_new_anon_rmap() */
void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			     bool exclusive)
{
	folio->mapping = vma->anon_vma;
	folio->index = linear_page_index(vma, address);
	folio_set_flag(folio, FOLIO_anon | FOLIO_swapbacked | FOLIO_lru);
	/* The mapcounts are added by the _ptes/_pmd helpers by the caller. */
	for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
		if (exclusive)
			folio_page(folio, i)->flags |= PG_anon_exclusive;
}

/* models folio_add_anon_rmap_ptes() */
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, bool exclusive)
{
	for (int i = 0; i < nr; i++) {
		page[i].mapcount++;
		if (exclusive)
			page[i].flags |= PG_anon_exclusive;
	}
	vma->vm_mm->rss_anon += nr;
}

/* models folio_add_file_rmap_ptes() */
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma)
{
	for (int i = 0; i < nr; i++)
		page[i].mapcount++;
	vma->vm_mm->rss_shmem += nr;
}

/* models folio_add_file_rmap_pmd() */
void folio_add_file_rmap_pmd(struct folio *folio, struct vm_area_struct *vma)
{
	folio->entire_mapcount++;
	vma->vm_mm->rss_shmem += HPAGE_PMD_NR;
}

/* models folio_add_anon_rmap_pmd() */
void folio_add_anon_rmap_pmd(struct folio *folio, struct vm_area_struct *vma, bool exclusive)
{
	folio->entire_mapcount++;
	if (exclusive)
		for (uint64_t i = 0; i < folio_nr_pages(folio); i++)
			folio_page(folio, i)->flags |= PG_anon_exclusive;
	vma->vm_mm->rss_anon += HPAGE_PMD_NR;
}

/* models folio_remove_rmap_ptes() */
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma)
{
	for (int i = 0; i < nr; i++) {
		g_assert(page[i].mapcount > 0);
		page[i].mapcount--;
		if (folio_test_anon(folio) && !page[i].mapcount && !folio->entire_mapcount)
			page[i].flags &= ~PG_anon_exclusive;
	}
	if (folio_test_anon(folio))
		vma->vm_mm->rss_anon -= nr;
	else
		vma->vm_mm->rss_shmem -= nr;
}

/* models folio_remove_rmap_pmd() */
void folio_remove_rmap_pmd(struct folio *folio, struct vm_area_struct *vma)
{
	g_assert(folio->entire_mapcount > 0);
	folio->entire_mapcount--;
	if (folio_test_anon(folio))
		vma->vm_mm->rss_anon -= HPAGE_PMD_NR;
	else
		vma->vm_mm->rss_shmem -= HPAGE_PMD_NR;
}

/* models anon_vma_prepare() */
int anon_vma_prepare(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		return 0;
	vma->anon_vma = anon_vma_alloc();
	anon_vma_attach(vma->anon_vma, vma);
	return 0;
}

/* models rmap_walk() -> rmap_walk_anon()/rmap_walk_file() */
void rmap_walk(struct folio *folio, struct rmap_walk_control *rwc)
{
	uint64_t pgoff_start = folio->index;
	uint64_t pgoff_end = pgoff_start + folio_nr_pages(folio) - 1;
	GPtrArray *vmas;

	if (folio_test_anon(folio)) {
		struct anon_vma *av = folio->mapping;
		if (!av)
			return;
		vmas = av->vmas;
	} else {
		struct address_space *m = folio->mapping;
		if (!m)
			return;
		vmas = m->i_mmap;
	}
	/* Walk a snapshot: rmap_one may split or unlink VMAs. */
	g_autoptr(GPtrArray) snap = g_ptr_array_copy(vmas, NULL, NULL);
	for (guint i = 0; i < snap->len; i++) {
		struct vm_area_struct *vma = g_ptr_array_index(snap, i);
		uint64_t v_first = vma->vm_pgoff, v_last = vma->vm_pgoff + vma_pages(vma) - 1;
		if (v_last < pgoff_start || v_first > pgoff_end)
			continue;
		uint64_t pgoff = pgoff_start > v_first ? pgoff_start : v_first;
		if (!rwc->rmap_one(folio, vma, vma_address(vma, pgoff), rwc->arg))
			break;
		if (rwc->done && rwc->done(folio))
			break;
	}
}
