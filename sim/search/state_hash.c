/* sim/search/state_hash.c - a canonical digest of the simulated machine.
 *
 * mmsim explore visits each state once. Two runs reach "the same state"
 * when everything that can influence a later step or a later verdict is
 * equal, up to the identity of physical frames and swap slots (which the
 * allocator hands out in history-dependent order). So the digest covers,
 * per region page: the page-table state, the PTE/PMD flag bits without the
 * PFN or swap offset, the data, and the order of the folio mapped there;
 * per VMA: bounds, flags and which context it is registered with; per
 * context: features, the unread messages and the sleepers; per shmem file:
 * each index's presence, order and data. What it leaves out is listed in
 * docs/search.md (the oracle's own ledger among it).
 */
#include <string.h>

#include "model/pgtable.h"
#include "model/swapops.h"
#include "search/explore.h"

static void put(GChecksum *c, uint64_t v) { g_checksum_update(c, (const guchar *)&v, sizeof(v)); }

static uint64_t uffd_index(const struct world *w, const struct userfaultfd_ctx *ctx)
{
	for (guint i = 0; ctx && i < w->uffds->len; i++)
		if (g_ptr_array_index(w->uffds, i) == ctx)
			return i + 1;
	return 0;
}

static void hash_page(GChecksum *c, struct region *r, uint64_t page)
{
	uint64_t addr = region_page_addr(r, page), value = 0;
	pmd_t *pmd = pmd_lookup(r->mm->pgd, addr, false, 0);

	put(c, (uint64_t)observe_pte_state(r->mm, addr));
	put(c, observe_content(r, page, &value) ? value : ~0ULL);
	if (!pmd || pmd_none(*pmd))
		return;
	if (pmd_trans_huge(*pmd)) {
		put(c, pmd_val(*pmd) & ~PTE_PFN_MASK);
		return;
	}
	pte_t *ptep = pte_offset_map(pmd, addr);
	if (!ptep)
		return;
	if (pte_present(*ptep)) {
		struct folio *f = pfn_folio(pte_pfn(*ptep));
		put(c, pte_val(*ptep) & ~PTE_PFN_MASK);
		put(c, folio_order(f) | (uint64_t)folio_test_zero(f) << 8);
	} else {
		/* type and flag bits; the offset (slot or PFN) is history */
		swp_entry_t e = pte_to_swp_entry(*ptep);
		put(c, swp_type(e));
		put(c, pte_val(*ptep) & (_PAGE_SWP_UFFD | _PAGE_SWP_EXCLUSIVE));
	}
}

void search_state_digest(const struct world *w, unsigned sleeping, GChecksum *c)
{
	put(c, sleeping);
	for (guint i = 0; i < w->regions->len; i++) {
		struct region *r = g_ptr_array_index(w->regions, i);
		for (uint64_t p = 0; p < r->len / PAGE_SIZE; p++)
			hash_page(c, r, p);
	}
	for (guint i = 0; i < w->mms->len; i++) {
		struct mm_struct *mm = g_ptr_array_index(w->mms, i);
		put(c, mm->vmas->len);
		for (guint k = 0; k < mm->vmas->len; k++) {
			struct vm_area_struct *v = g_ptr_array_index(mm->vmas, k);
			put(c, v->vm_start);
			put(c, v->vm_end);
			put(c, v->vm_flags);
			put(c, uffd_index(w, v->vm_userfaultfd_ctx));
		}
	}
	for (guint i = 0; i < w->uffds->len; i++) {
		struct userfaultfd_ctx *ctx = g_ptr_array_index(w->uffds, i);
		put(c, ctx->features | (uint64_t)ctx->released << 63);
		put(c, ctx->waiters->len);
		for (guint k = 0; k < ctx->msgs->len; k++) {
			struct uffd_msg *m = &g_array_index(ctx->msgs, struct uffd_msg, k);
			put(c, m->event);
			put(c, m->flags);
			put(c, m->address);
		}
	}
	for (guint i = 0; i < w->files->len; i++) {
		struct address_space *f = g_ptr_array_index(w->files, i);
		put(c, f->nr_pages);
		for (uint64_t idx = 0; idx < f->nr_slots; idx++) {
			uint64_t e = f->i_pages[idx];
			if (!e || xa_is_value(e)) {
				put(c, e ? 1 : 0); /* swapped shmem: the slot is history */
				continue;
			}
			struct page *pg = pfn_to_page(xa_to_pfn(e));
			put(c, 2 | (uint64_t)folio_order(page_folio(pg)) << 8);
			put(c, pg->content);
		}
	}
}
