/* model/folio.c - frame pool and folio bookkeeping (no policy). */
#include "folio.h"

#include <glib.h>
#include <string.h>

struct mem_map mem_map;

/* The arrays of the last machine, kept for the next one of the same size:
 * a search replays thousands of traces on identical machines, and clearing
 * the frames a trace used (below its bump pointer) costs a fraction of a
 * fresh calloc of the whole capacity (1 MiB at 16,384 frames) each time. */
static struct {
	struct page *pages;
	struct folio *folios;
	uint64_t capacity;
	uint64_t used; /* entries [0, used) may be non-zero */
} spare;

/* A bigger machine (a benchmark's guest) is built once: give its memory
 * back rather than keep what it touched resident. */
#define SPARE_MAX_FRAMES (1ULL << 20)

static void spare_free(void)
{
	g_free(spare.pages);
	g_free(spare.folios);
	memset(&spare, 0, sizeof(spare));
}

void mem_map_init(uint64_t capacity)
{
	mem_map_destroy();
	if (spare.pages && spare.capacity == capacity) {
		memset(spare.pages, 0, spare.used * sizeof(struct page));
		memset(spare.folios, 0, spare.used * sizeof(struct folio));
		mem_map.pages = spare.pages;
		mem_map.folios = spare.folios;
		spare.pages = NULL;
		spare.folios = NULL;
	} else {
		spare_free();
		/* calloc of the full capacity: untouched frames cost no memory. */
		mem_map.pages = g_new0(struct page, capacity);
		mem_map.folios = g_new0(struct folio, capacity);
	}
	mem_map.capacity = capacity;
	/* pfn 0 is never handed out, so a zero PFN always means "no page". */
	mem_map.next_pfn = 1;

	struct folio *zero = folio_alloc(0);
	folio_set_flag(zero, FOLIO_zero | FOLIO_uptodate);
	zero->refcount = 1 << 30; /* never freed */
	mem_map.zero_pfn = folio_pfn(zero);

	struct folio *hzero = folio_alloc(HPAGE_PMD_ORDER);
	folio_set_flag(hzero, FOLIO_zero | FOLIO_uptodate);
	hzero->refcount = 1 << 30;
	mem_map.huge_zero_pfn = folio_pfn(hzero);
	mem_map.nr_allocs = 0;
}

void mem_map_destroy(void)
{
	if (mem_map.pages && mem_map.capacity <= SPARE_MAX_FRAMES) {
		spare_free();
		/* Frames are handed out below next_pfn only (take_frames). */
		spare.pages = mem_map.pages;
		spare.folios = mem_map.folios;
		spare.capacity = mem_map.capacity;
		spare.used = MIN(mem_map.next_pfn, mem_map.capacity);
	} else {
		g_free(mem_map.pages);
		g_free(mem_map.folios);
	}
	for (int o = 0; o <= HPAGE_PMD_ORDER; o++)
		g_free(mem_map.free[o]);
	memset(&mem_map, 0, sizeof(mem_map));
}

int folio_mapcount(const struct folio *f)
{
	int n = f->entire_mapcount;
	for (uint64_t i = 0; i < folio_nr_pages(f); i++)
		n += folio_page(f, i)->mapcount;
	return n;
}

bool folio_mapped(const struct folio *f)
{
	if (f->entire_mapcount)
		return true;
	for (uint64_t i = 0; i < folio_nr_pages(f); i++)
		if (folio_page(f, i)->mapcount)
			return true;
	return false;
}

bool folio_maybe_mapped_shared(const struct folio *f)
{
	int mapcount = folio_mapcount(f);

	if (!folio_test_large(f))
		return mapcount > 1;
	/* A single mapping implies "mapped exclusively", whatever the flag. */
	if (mapcount <= 1)
		return false;
	return f->flags & FOLIO_mm_ids_shared;
}

void folio_reset_mm_ids(struct folio *f)
{
	f->mm_id[0] = f->mm_id[1] = MM_ID_DUMMY;
	f->mm_id_mapcount[0] = f->mm_id_mapcount[1] = -1;
	f->flags &= (uint16_t)~FOLIO_mm_ids_shared;
}

static void push_free(unsigned order, uint64_t pfn)
{
	if (mem_map.nr_free[order] == mem_map.free_cap[order]) {
		mem_map.free_cap[order] =
			mem_map.free_cap[order] ? mem_map.free_cap[order] * 2 : 64;
		mem_map.free[order] =
			g_renew(uint64_t, mem_map.free[order], mem_map.free_cap[order]);
	}
	mem_map.free[order][mem_map.nr_free[order]++] = pfn;
}

static uint64_t take_frames(unsigned order)
{
	uint64_t nr = 1ULL << order;

	if (mem_map.nr_free[order])
		return mem_map.free[order][--mem_map.nr_free[order]];
	/* Split a larger free block rather than grow, so frames are reused. */
	for (unsigned o = order + 1; o <= HPAGE_PMD_ORDER; o++) {
		if (!mem_map.nr_free[o])
			continue;
		uint64_t pfn = mem_map.free[o][--mem_map.nr_free[o]];
		for (unsigned s = o; s > order; s--)
			push_free(s - 1, pfn + (1ULL << (s - 1)));
		return pfn;
	}
	uint64_t pfn = (mem_map.next_pfn + nr - 1) & ~(nr - 1);
	if (pfn + nr > mem_map.capacity)
		return 0;
	/* Keep the alignment gap usable as order-0 frames. */
	for (uint64_t p = mem_map.next_pfn; p < pfn; p++)
		push_free(0, p);
	mem_map.next_pfn = pfn + nr;
	return pfn;
}

struct folio *folio_alloc(unsigned order)
{
	if (mem_map.fail_alloc_after && mem_map.nr_allocs + 1 >= mem_map.fail_alloc_after)
		return NULL;
	uint64_t pfn = take_frames(order);
	if (!pfn)
		return NULL;
	mem_map.nr_allocs++;
	uint64_t nr = 1ULL << order;
	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = &mem_map.pages[pfn + i];
		memset(p, 0, sizeof(*p));
		p->head_delta = (uint16_t)i;
	}
	mem_map.pages[pfn].flags = PG_head;
	struct folio *f = &mem_map.folios[pfn];
	memset(f, 0, sizeof(*f));
	f->order = (uint8_t)order;
	f->refcount = 1;
	f->in_use = 1;
	f->flags = FOLIO_uptodate;
	folio_reset_mm_ids(f);
	mem_map.nr_used += nr;
	return f;
}

void folio_put_refs(struct folio *f, int refs)
{
	f->refcount -= refs;
	g_assert(f->refcount >= 0);
	if (f->refcount)
		return;
	uint64_t pfn = folio_pfn(f);
	unsigned order = f->order;
	memset(f, 0, sizeof(*f));
	mem_map.nr_used -= 1ULL << order;
	push_free(order, pfn);
}

void folio_put(struct folio *f) { folio_put_refs(f, 1); }

void folio_split_to_order0(struct folio *f)
{
	uint64_t nr = folio_nr_pages(f), pfn = folio_pfn(f);
	struct folio head = *f;
	int extra = head.refcount - folio_mapcount(f);

	for (uint64_t i = 0; i < nr; i++) {
		struct folio *t = &mem_map.folios[pfn + i];
		struct page *p = &mem_map.pages[pfn + i];
		*t = head;
		t->order = 0;
		t->index = head.index + i;
		t->entire_mapcount = 0;
		t->pincount = 0;
		/* Each new folio holds one reference per PTE mapping; references
		 * beyond the mappings (pins, isolation) stay with the head. */
		t->refcount = p->mapcount + (i == 0 && extra > 0 ? extra : 0);
		folio_reset_mm_ids(t);
		p->head_delta = 0;
		p->flags |= PG_head;
	}
	mem_map.folios[pfn].pincount = head.pincount;
}

/* One new folio of the split: frames [pfn, pfn + 2^order) of the old head. */
static void split_make_folio(const struct folio *head, uint64_t head_pfn, uint64_t pfn,
			     unsigned order)
{
	uint64_t nr = 1ULL << order;
	struct folio *t = &mem_map.folios[pfn];
	int refs = 0;

	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = &mem_map.pages[pfn + i];

		refs += p->mapcount;
		p->head_delta = (uint16_t)i;
		if (i) {
			p->flags &= (uint16_t)~PG_head;
			memset(&mem_map.folios[pfn + i], 0, sizeof(struct folio));
		} else {
			p->flags |= PG_head;
		}
	}
	*t = *head;
	t->order = (uint8_t)order;
	t->index = head->index + (pfn - head_pfn);
	t->entire_mapcount = 0;
	t->pincount = 0;
	t->refcount = refs;
	/* The kernel unmaps the folio before it splits it and the new folios
	 * get their MM slots back as they are mapped again; here the
	 * mappings stay. A folio one MM mapped alone stays that MM's; after a
	 * shared one the new folios stay "maybe shared" (untracked mappings)
	 * until they are unmapped. */
	folio_reset_mm_ids(t);
	if (refs && (head->flags & FOLIO_mm_ids_shared)) {
		t->flags |= FOLIO_mm_ids_shared;
	} else if (refs) {
		t->mm_id[0] = head->mm_id[0] != MM_ID_DUMMY ? head->mm_id[0] : head->mm_id[1];
		t->mm_id_mapcount[0] = (int16_t)(refs - 1);
	}
}

void folio_split_nonuniform(struct folio *f, uint64_t at)
{
	uint64_t pfn = folio_pfn(f), start = 0;
	struct folio head = *f;
	int extra = head.refcount - folio_mapcount(f);

	g_assert(!head.entire_mapcount && at < folio_nr_pages(f));
	for (unsigned o = head.order; o > 0; o--) {
		uint64_t half = 1ULL << (o - 1);
		bool low = at - start < half; /* at lies in the lower half */

		split_make_folio(&head, pfn, pfn + start + (low ? half : 0), o - 1);
		if (!low)
			start += half;
	}
	split_make_folio(&head, pfn, pfn + start, 0);
	mem_map.folios[pfn].refcount += extra;
	mem_map.folios[pfn].pincount = head.pincount;
}
