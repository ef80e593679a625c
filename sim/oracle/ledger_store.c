/* sim/oracle/ledger_store.c - where the ledger's pages live: per mm, 2 MiB
 * chunks of 512 fixed-size pages, indexed by address through sorted 1 GiB
 * directories, so a 64 GiB registered guest costs 32 bytes a page and
 * finding a chunk is an array index, not a hash lookup.
 *
 * Per-step fields are reset lazily by epoch (a chunk the step never looks
 * at costs nothing): perm, born_nested and the PERM_CACHE slots belong to
 * the step whose epoch is perm_epoch, and a chunk whose outermost
 * before_step found no page table records that once (none_epoch) instead
 * of writing before = 0 into every page.
 */
#include "oracle_internal.h"

#include <string.h>

static void lchunk_free(struct lchunk *c)
{
	g_free(c->cache);
	g_free(c->p);
	memset(c, 0, sizeof(*c));
}

static bool ldir_has(const struct ldir *d, unsigned i)
{
	return d->used[i / 64] & (1ull << (i % 64));
}

static void ldir_free(gpointer p)
{
	struct ldir *d = p;
	for (unsigned i = 0; i < LDIR_CHUNKS; i++)
		if (ldir_has(d, i))
			lchunk_free(&d->c[i]);
	g_free(d);
}

struct mm_ledger *ledger_get(struct oracle *o, uint64_t mm_id, bool create)
{
	struct mm_ledger *l = g_hash_table_lookup(o->ledgers, &mm_id);
	if (!l && create) {
		l = g_new0(struct mm_ledger, 1);
		l->mm_id = mm_id;
		l->dirs = g_ptr_array_new_with_free_func(ldir_free);
		g_hash_table_insert(o->ledgers, &l->mm_id, l);
	}
	return l;
}

void ledger_free(struct mm_ledger *l)
{
	g_ptr_array_free(l->dirs, TRUE);
	g_free(l);
}

/* The index of the first directory whose key is >= key. */
static guint dir_search(const struct mm_ledger *l, uint64_t key)
{
	guint lo = 0, hi = l->dirs->len;
	if (l->last < hi && ((struct ldir *)l->dirs->pdata[l->last])->key == key)
		return l->last;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (((struct ldir *)l->dirs->pdata[mid])->key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ldir *dir_get(struct mm_ledger *l, uint64_t addr, bool create)
{
	uint64_t key = addr >> LDIR_SHIFT;
	guint i = dir_search(l, key);
	struct ldir *d = i < l->dirs->len ? l->dirs->pdata[i] : NULL;
	if (d && d->key == key) {
		l->last = i;
		return d;
	}
	if (!create)
		return NULL;
	d = g_new0(struct ldir, 1);
	d->key = key;
	g_ptr_array_insert(l->dirs, (gint)i, d);
	l->last = i;
	return d;
}

struct lchunk *ledger_chunk(struct mm_ledger *l, uint64_t addr)
{
	struct ldir *d = l ? dir_get(l, addr, false) : NULL;
	unsigned i = (addr >> LCHUNK_SHIFT) % LDIR_CHUNKS;
	return d && ldir_has(d, i) ? &d->c[i] : NULL;
}

void ledger_chunk_free(struct mm_ledger *l, struct lchunk *c)
{
	struct ldir *d = dir_get(l, c->base, false);
	unsigned i = (c->base >> LCHUNK_SHIFT) % LDIR_CHUNKS;
	d->used[i / 64] &= ~(1ull << (i % 64));
	d->nr--;
	lchunk_free(c);
	if (!d->nr)
		l->holes = true;
}

void ledger_compact(struct mm_ledger *l)
{
	if (!l->holes)
		return;
	for (guint i = l->dirs->len; i-- > 0;)
		if (!((struct ldir *)l->dirs->pdata[i])->nr)
			g_ptr_array_remove_index(l->dirs, i);
	l->last = 0;
	l->holes = false;
}

/* pos: directory index << 9 | chunk index, the next slot to look at. */
struct lchunk *ledger_next_chunk(struct mm_ledger *l, uint64_t *pos)
{
	for (guint di = (guint)(*pos / LDIR_CHUNKS); di < l->dirs->len; di++) {
		const struct ldir *d = l->dirs->pdata[di];
		unsigned ci = di == *pos / LDIR_CHUNKS ? (unsigned)(*pos % LDIR_CHUNKS) : 0;
		for (unsigned w = ci / 64; w < LDIR_CHUNKS / 64; w++) {
			uint64_t bits = d->used[w];
			if (w == ci / 64)
				bits &= ~0ull << (ci % 64);
			if (bits) {
				unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
				*pos = (uint64_t)di * LDIR_CHUNKS + i + 1;
				return (struct lchunk *)&d->c[i];
			}
		}
	}
	*pos = (uint64_t)l->dirs->len * LDIR_CHUNKS;
	return NULL;
}

void lchunk_settle(struct lchunk *c)
{
	if (!c->arm_pending)
		return;
	/* What ev_range gives a page of an arm with no table under it, none
	 * before the step either, and not registered inside a race window. */
	for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
		struct lpage *lp = &c->p[i];
		if (!lchunk_has(c, i))
			continue;
		if (lp->rwp && lp->rwp_state != L_ARMED)
			lp->rwp_state = L_DROPPED;
		lp->rwp_delivered = false;
		lp->unarmed_page = lp->rwp_state == L_DROPPED;
	}
	c->arm_pending = false;
}

void lchunk_refresh(struct oracle *o, struct lchunk *c)
{
	lchunk_settle(c);
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

void lchunk_touch(struct oracle *o, struct lchunk *c)
{
	c->dirty = true;
	lchunk_refresh(o, c);
}

void lchunk_summarise(struct lchunk *c)
{
	bool first = true;
	lchunk_settle(c);
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
	struct ldir *d = dir_get(l, addr, create);
	unsigned di = key % LDIR_CHUNKS;
	struct lchunk *c = d && ldir_has(d, di) ? &d->c[di] : NULL;
	if (!c) {
		if (!create)
			return NULL;
		c = &d->c[di];
		c->p = g_new0(struct lpage, LCHUNK_PAGES);
		c->key = key;
		c->base = key << LCHUNK_SHIFT;
		d->used[di / 64] |= 1ull << (di % 64);
		d->nr++;
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
		ledger_chunk_free(l, c);
		ledger_compact(l);
	}
}

void ledger_iter_init(struct ledger_iter *it, struct oracle *o, struct mm_ledger *l)
{
	it->o = o;
	it->l = l;
	it->pos = 0;
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
				ledger_chunk_free(it->l, it->c); /* emptied on the way */
		}
		it->c = ledger_next_chunk(it->l, &it->pos);
		if (!it->c) {
			ledger_compact(it->l);
			return NULL;
		}
		it->i = 0;
		lchunk_touch(it->o, it->c);
	}
}

void ledger_iter_remove(struct ledger_iter *it) { chunk_clear(it->c, it->i - 1); }
