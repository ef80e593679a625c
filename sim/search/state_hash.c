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

/* Two 64-bit lanes, each an xxHash64-style round per word (multiply,
 * rotate, multiply), finished with the murmur3 avalanche: a 128-bit digest
 * at a few cycles a word. It only has to tell states apart, nobody crafts
 * them, so a cryptographic hash (SHA-256, ten times the cost) bought
 * nothing. */
static inline uint64_t rotl64(uint64_t x, unsigned r) { return x << r | x >> (64 - r); }

void state_hash_put(struct state_hash *c, uint64_t v)
{
	c->a = rotl64(c->a + v * 0xc2b2ae3d27d4eb4fULL, 31) * 0x9e3779b185ebca87ULL;
	c->b = rotl64(c->b ^ (v * 0x165667b19e3779f9ULL), 27) * 0xff51afd7ed558ccdULL +
	       0x27d4eb2f165667c5ULL;
	c->n++;
}

static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

void state_hash_init(struct state_hash *c)
{
	c->a = 0x9e3779b97f4a7c15ULL;
	c->b = 0x6a09e667f3bcc909ULL;
	c->n = 0;
}

void state_hash_hex(const struct state_hash *c, char out[STATE_HASH_HEX])
{
	uint64_t a = fmix64(c->a ^ c->n), b = fmix64(c->b + (c->n << 1));
	g_snprintf(out, STATE_HASH_HEX, "%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER "x",
		   a ^ (b >> 1), b);
}

static uint64_t uffd_index(const struct world *w, const struct userfaultfd_ctx *ctx)
{
	for (guint i = 0; ctx && i < w->uffds->len; i++)
		if (g_ptr_array_index(w->uffds, i) == ctx)
			return i + 1;
	return 0;
}

static void hash_page(struct state_hash *c, struct region *r, uint64_t page)
{
	uint64_t addr = region_page_addr(r, page), value = 0;
	pmd_t *pmd = pmd_lookup(r->mm->pgd, addr, false, 0);

	state_hash_put(c, (uint64_t)observe_pte_state(r->mm, addr));
	state_hash_put(c, observe_content(r, page, &value) ? value : ~0ULL);
	if (!pmd || pmd_none(*pmd))
		return;
	if (pmd_trans_huge(*pmd)) {
		state_hash_put(c, pmd_val(*pmd) & ~PTE_PFN_MASK);
		return;
	}
	pte_t *ptep = pte_offset_map(pmd, addr);
	if (!ptep)
		return;
	if (pte_present(*ptep)) {
		struct folio *f = pfn_folio(pte_pfn(*ptep));
		state_hash_put(c, pte_val(*ptep) & ~PTE_PFN_MASK);
		state_hash_put(c, folio_order(f) | (uint64_t)folio_test_zero(f) << 8);
	} else {
		/* type and flag bits; the offset (slot or PFN) is history */
		swp_entry_t e = pte_to_swp_entry(*ptep);
		state_hash_put(c, swp_type(e));
		state_hash_put(c, pte_val(*ptep) & (_PAGE_SWP_UFFD | _PAGE_SWP_EXCLUSIVE));
	}
}

void search_state_digest(const struct world *w, unsigned sleeping, struct state_hash *c)
{
	state_hash_put(c, sleeping);
	for (guint i = 0; i < w->regions->len; i++) {
		struct region *r = g_ptr_array_index(w->regions, i);
		for (uint64_t p = 0; p < r->len / PAGE_SIZE; p++)
			hash_page(c, r, p);
	}
	for (guint i = 0; i < w->mms->len; i++) {
		struct mm_struct *mm = g_ptr_array_index(w->mms, i);
		state_hash_put(c, mm->vmas->len);
		for (guint k = 0; k < mm->vmas->len; k++) {
			struct vm_area_struct *v = g_ptr_array_index(mm->vmas, k);
			state_hash_put(c, v->vm_start);
			state_hash_put(c, v->vm_end);
			state_hash_put(c, v->vm_flags);
			state_hash_put(c, uffd_index(w, v->vm_userfaultfd_ctx));
		}
	}
	for (guint i = 0; i < w->uffds->len; i++) {
		struct userfaultfd_ctx *ctx = g_ptr_array_index(w->uffds, i);
		state_hash_put(c, ctx->features | (uint64_t)ctx->released << 63);
		state_hash_put(c, ctx->waiters->len);
		for (guint k = 0; k < ctx->msgs->len; k++) {
			struct uffd_msg *m = &g_array_index(ctx->msgs, struct uffd_msg, k);
			state_hash_put(c, m->event);
			state_hash_put(c, m->flags);
			state_hash_put(c, m->address);
		}
	}
	for (guint i = 0; i < w->files->len; i++) {
		struct address_space *f = g_ptr_array_index(w->files, i);
		state_hash_put(c, f->nr_pages);
		for (uint64_t idx = 0; idx < f->nr_slots; idx++) {
			uint64_t e = f->i_pages[idx];
			if (!e || xa_is_value(e)) {
				state_hash_put(c,
					       e ? 1 : 0); /* swapped shmem: the slot is history */
				continue;
			}
			struct page *pg = pfn_to_page(xa_to_pfn(e));
			state_hash_put(c, 2 | (uint64_t)folio_order(page_folio(pg)) << 8);
			state_hash_put(c, pg->content);
		}
	}
}
