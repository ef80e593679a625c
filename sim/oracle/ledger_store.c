/* sim/oracle/ledger_store.c - where the ledger's pages live: per mm, 2 MiB
 * chunks of 512 fixed-size pages in a hash by chunk, so a 64 GiB registered
 * guest costs 32 bytes a page and one hash lookup per 512 pages.
 *
 * Per-step fields are reset lazily by epoch (a chunk the step never looks
 * at costs nothing): perm, born_nested and the PERM_CACHE slots belong to
 * the step whose epoch is perm_epoch, and a chunk whose outermost
 * before_step found no page table records that once (none_epoch) instead
 * of writing before = 0 into every page.
 */
#include "oracle_internal.h"

#include <string.h>

static void lchunk_free(gpointer p)
{
	struct lchunk *c = p;
	g_free(c->cache);
	g_free(c);
}

struct mm_ledger *ledger_get(struct oracle *o, uint64_t mm_id, bool create)
{
	struct mm_ledger *l = g_hash_table_lookup(o->ledgers, &mm_id);
	if (!l && create) {
		l = g_new0(struct mm_ledger, 1);
		l->mm_id = mm_id;
		l->chunks = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, lchunk_free);
		g_hash_table_insert(o->ledgers, &l->mm_id, l);
	}
	return l;
}

void ledger_free(struct mm_ledger *l)
{
	g_hash_table_destroy(l->chunks);
	g_free(l);
}

struct lchunk *ledger_chunk(struct mm_ledger *l, uint64_t addr)
{
	uint64_t key = addr >> LCHUNK_SHIFT;
	return l ? g_hash_table_lookup(l->chunks, &key) : NULL;
}

void lchunk_touch(struct oracle *o, struct lchunk *c)
{
	c->dirty = true;
	if (c->perm_epoch != o->step_epoch) {
		for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
			c->p[i].perm = 0;
			c->p[i].born_nested = false;
		}
		g_free(c->cache);
		c->cache = NULL;
		c->perm_epoch = o->step_epoch;
	}
	if (c->none_epoch && c->none_epoch == o->step_epoch) {
		for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
			c->p[i].before = 0;
			c->p[i].before_huge = false;
		}
		c->none_epoch = 0;
	}
}

void lchunk_summarise(struct lchunk *c)
{
	bool first = true;
	c->quiet = c->uniform = true;
	for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
		if (!lchunk_has(c, i))
			continue;
		const struct lpage *lp = &c->p[i];
		if ((lp->rwp && lp->rwp_state == L_ARMED) || (lp->wp && lp->wp_state == W_PROT))
			c->quiet = false;
		if (first) {
			c->u_rwp = lp->rwp;
			c->u_wp = lp->wp;
			first = false;
		} else if (lp->rwp != c->u_rwp || lp->wp != c->u_wp) {
			c->uniform = false;
		}
	}
	c->dirty = false;
}

struct lpage *ledger_page(struct oracle *o, uint64_t mm_id, uint64_t addr, bool create)
{
	struct mm_ledger *l = ledger_get(o, mm_id, create);
	if (!l)
		return NULL;
	uint64_t key = addr >> LCHUNK_SHIFT;
	unsigned i = (addr >> PAGE_SHIFT) % LCHUNK_PAGES;
	struct lchunk *c = g_hash_table_lookup(l->chunks, &key);
	if (!c) {
		if (!create)
			return NULL;
		c = g_new0(struct lchunk, 1);
		c->key = key;
		c->base = key << LCHUNK_SHIFT;
		g_hash_table_insert(l->chunks, &c->key, c);
	}
	if (!lchunk_has(c, i) && !create)
		return NULL;
	lchunk_touch(o, c);
	struct lpage *lp = &c->p[i];
	if (!lchunk_has(c, i)) {
		memset(lp, 0, sizeof(*lp));
		lp->addr = addr;
		/* Born in a race window: its entry before the outer step is
		 * unknown (lp->before is not a snapshot). */
		lp->born_nested = o->depth > 0;
		c->present[i / 64] |= 1ull << (i % 64);
		c->nr++;
	}
	return lp;
}

static void chunk_clear(struct lchunk *c, unsigned i)
{
	c->present[i / 64] &= ~(1ull << (i % 64));
	c->nr--;
	c->dirty = true;
}

void ledger_remove(struct oracle *o, uint64_t mm_id, uint64_t addr)
{
	struct mm_ledger *l = ledger_get(o, mm_id, false);
	struct lchunk *c = ledger_chunk(l, addr);
	unsigned i = (addr >> PAGE_SHIFT) % LCHUNK_PAGES;
	if (!c || !lchunk_has(c, i))
		return;
	chunk_clear(c, i);
	if (!c->nr) {
		uint64_t key = addr >> LCHUNK_SHIFT;
		g_hash_table_remove(l->chunks, &key);
	}
}

void ledger_iter_init(struct ledger_iter *it, struct oracle *o, struct mm_ledger *l)
{
	it->o = o;
	g_hash_table_iter_init(&it->hi, l->chunks);
	it->c = NULL;
	it->i = 0;
}

struct lpage *ledger_iter_next(struct ledger_iter *it)
{
	for (;;) {
		if (it->c) {
			while (it->i < LCHUNK_PAGES && !lchunk_has(it->c, it->i))
				it->i++;
			if (it->i < LCHUNK_PAGES)
				return &it->c->p[it->i++];
			if (!it->c->nr)
				g_hash_table_iter_remove(&it->hi); /* emptied on the way */
		}
		gpointer k, v;
		if (!g_hash_table_iter_next(&it->hi, &k, &v)) {
			it->c = NULL;
			return NULL;
		}
		it->c = v;
		it->i = 0;
		lchunk_touch(it->o, it->c);
	}
}

void ledger_iter_remove(struct ledger_iter *it) { chunk_clear(it->c, it->i - 1); }
