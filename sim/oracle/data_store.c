/* sim/oracle/data_store.c - where the data shadow's values live: per
 * backing, 512-page chunks of plain values and flag bitmaps in a hash by
 * chunk, so a written page costs about 8 bytes instead of a hash node and a
 * malloc'd value.
 */
#include "oracle_internal.h"

#include <string.h>

#define DCHUNK_SHIFT 9
#define DCHUNK_PAGES (1u << DCHUNK_SHIFT)
#define DCHUNK_WORDS (DCHUNK_PAGES / 64)

struct dchunk {
	uint64_t key; /* page >> DCHUNK_SHIFT, the hash key */
	unsigned nr;
	uint64_t present[DCHUNK_WORDS], lazy[DCHUNK_WORDS], zero[DCHUNK_WORDS];
	uint64_t value[DCHUNK_PAGES];
};

struct dmap {
	GHashTable *chunks; /* key -> struct dchunk * */
};

static inline bool bit(const uint64_t *w, unsigned i) { return w[i / 64] & (1ull << (i % 64)); }

static inline void put(uint64_t *w, unsigned i, bool on)
{
	if (on)
		w[i / 64] |= 1ull << (i % 64);
	else
		w[i / 64] &= ~(1ull << (i % 64));
}

struct dmap *dmap_new(void)
{
	struct dmap *m = g_new(struct dmap, 1);
	m->chunks = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	return m;
}

void dmap_free(struct dmap *m)
{
	if (!m)
		return;
	g_hash_table_destroy(m->chunks);
	g_free(m);
}

static struct dchunk *chunk_of(const struct dmap *m, uint64_t page)
{
	uint64_t key = page >> DCHUNK_SHIFT;
	return g_hash_table_lookup(m->chunks, &key);
}

static void get_at(const struct dchunk *c, unsigned i, struct dval *out)
{
	out->value = c->value[i];
	out->lazy = bit(c->lazy, i);
	out->zero = bit(c->zero, i);
}

static void set_at(struct dchunk *c, unsigned i, const struct dval *v)
{
	if (!bit(c->present, i)) {
		put(c->present, i, true);
		c->nr++;
	}
	c->value[i] = v->value;
	put(c->lazy, i, v->lazy);
	put(c->zero, i, v->zero);
}

bool dmap_get(const struct dmap *m, uint64_t page, struct dval *out)
{
	const struct dchunk *c = m ? chunk_of(m, page) : NULL;
	unsigned i = page % DCHUNK_PAGES;
	if (!c || !bit(c->present, i))
		return false;
	get_at(c, i, out);
	return true;
}

void dmap_set(struct dmap *m, uint64_t page, const struct dval *v)
{
	struct dchunk *c = chunk_of(m, page);
	if (!c) {
		c = g_new0(struct dchunk, 1);
		c->key = page >> DCHUNK_SHIFT;
		g_hash_table_insert(m->chunks, &c->key, c);
	}
	set_at(c, page % DCHUNK_PAGES, v);
}

void dmap_remove(struct dmap *m, uint64_t page)
{
	struct dchunk *c = m ? chunk_of(m, page) : NULL;
	unsigned i = page % DCHUNK_PAGES;
	if (!c || !bit(c->present, i))
		return;
	put(c->present, i, false);
	if (!--c->nr)
		g_hash_table_remove(m->chunks, &c->key);
}

void dmap_iter_init(struct dmap_iter *it, struct dmap *m)
{
	it->m = m;
	it->c = NULL;
	it->i = 0;
	if (m)
		g_hash_table_iter_init(&it->hi, m->chunks);
}

bool dmap_iter_next(struct dmap_iter *it, uint64_t *page, struct dval *v)
{
	if (!it->m)
		return false;
	for (;;) {
		struct dchunk *c = it->c;
		if (c) {
			while (it->i < DCHUNK_PAGES && !bit(c->present, it->i))
				it->i++;
			if (it->i < DCHUNK_PAGES) {
				*page = (c->key << DCHUNK_SHIFT) + it->i;
				get_at(c, it->i++, v);
				return true;
			}
			if (!c->nr)
				g_hash_table_iter_remove(&it->hi); /* emptied on the way */
		}
		gpointer k, val;
		if (!g_hash_table_iter_next(&it->hi, &k, &val)) {
			it->c = NULL;
			it->m = NULL;
			return false;
		}
		it->c = val;
		it->i = 0;
	}
}

void dmap_iter_set(struct dmap_iter *it, const struct dval *v) { set_at(it->c, it->i - 1, v); }

void dmap_iter_remove(struct dmap_iter *it)
{
	put(it->c->present, it->i - 1, false);
	it->c->nr--;
}
