/* model/folio.h - physical frames and folios.
 *
 * Every 4 KiB frame has a struct page (16 bytes: content tag, PTE mapcount,
 * flags and the distance to its folio head) and a struct folio slot that is
 * only meaningful at a folio head. Both live in flat arrays indexed by PFN so
 * that a 64 GiB guest (16 M frames) costs about 1 GiB and no pointer ever
 * moves: the arrays are reserved once at their full capacity and the kernel
 * only commits the parts that are touched.
 *
 * The 64-bit content tag stands for the page's data: user writes store a
 * value, reads return it, copies move it. A lost or stale tag is lost data.
 */
#ifndef MMSIM_MODEL_FOLIO_H
#define MMSIM_MODEL_FOLIO_H

#include <stdbool.h>
#include <stdint.h>

#include "swapops.h"

/* struct page flags */
#define PG_anon_exclusive (1u << 0)
#define PG_head (1u << 1)
#define PG_hwpoison (1u << 2)

struct page {
	uint64_t content;    /* data tag */
	int32_t mapcount;    /* number of PTE mappings of this page */
	uint16_t flags;	     /* PG_* above */
	uint16_t head_delta; /* pfn - folio head pfn */
};

/* struct folio flags */
#define FOLIO_anon (1u << 0)
#define FOLIO_dirty (1u << 1)
#define FOLIO_swapbacked (1u << 2)
#define FOLIO_locked (1u << 3)
#define FOLIO_lru (1u << 4)
#define FOLIO_uptodate (1u << 5)
#define FOLIO_swapcache (1u << 6)
#define FOLIO_referenced (1u << 7)
#define FOLIO_zero (1u << 8) /* the shared zero page or huge zero folio */
#define FOLIO_isolated (1u << 9)
#define FOLIO_young (1u << 10)
#define FOLIO_partially_mapped (1u << 11) /* on the deferred split queue */
#define FOLIO_mm_ids_shared (1u << 12)	  /* FOLIO_MM_IDS_SHARED_BIT of _mm_ids */

/* MM_ID_DUMMY: a free slot of a large folio's _mm_id[] */
#define MM_ID_DUMMY 0

struct folio {
	uint64_t index;	  /* pgoff in the mapping (anon: linear page index) */
	void *mapping;	  /* struct anon_vma * (anon) or struct address_space * */
	swp_entry_t swap; /* swap slot while in the swap cache */
	int32_t refcount;
	int32_t entire_mapcount; /* PMD mappings */
	int32_t pincount;
	uint16_t flags;
	uint8_t order;
	uint8_t in_use;
	/* CONFIG_MM_ID (large folios only): the two MMs the folio tracks and
	 * each one's number of mappings minus one (-1: the slot is free); an
	 * MM id is the low 16 bits of mm->id (MM_ID_DUMMY is never one). */
	uint16_t mm_id[2];
	int16_t mm_id_mapcount[2];
};

struct mem_map {
	struct page *pages;
	struct folio *folios;
	uint64_t capacity; /* frames reserved */
	uint64_t next_pfn; /* bump pointer */
	uint64_t nr_used;
	/* per order, a stack of free, order-aligned head pfns */
	uint64_t *free[HPAGE_PMD_ORDER + 1];
	uint64_t nr_free[HPAGE_PMD_ORDER + 1];
	uint64_t free_cap[HPAGE_PMD_ORDER + 1];
	uint64_t zero_pfn;	   /* the shared zero page */
	uint64_t huge_zero_pfn;	   /* the huge zero folio (order 9) */
	uint64_t fail_alloc_after; /* failure injection: 0 = never */
	uint64_t nr_allocs;
};

extern struct mem_map mem_map;

void mem_map_init(uint64_t capacity_frames);
void mem_map_destroy(void);

static inline struct page *pfn_to_page(uint64_t pfn) { return &mem_map.pages[pfn]; }
static inline uint64_t page_to_pfn(const struct page *p) { return (uint64_t)(p - mem_map.pages); }
static inline struct folio *pfn_folio(uint64_t pfn)
{
	return &mem_map.folios[pfn - mem_map.pages[pfn].head_delta];
}
static inline struct folio *page_folio(const struct page *p) { return pfn_folio(page_to_pfn(p)); }
static inline uint64_t folio_pfn(const struct folio *f) { return (uint64_t)(f - mem_map.folios); }
static inline struct page *folio_page(const struct folio *f, uint64_t n)
{
	return &mem_map.pages[folio_pfn(f) + n];
}
static inline uint64_t folio_nr_pages(const struct folio *f) { return 1ULL << f->order; }
static inline unsigned folio_order(const struct folio *f) { return f->order; }
static inline bool folio_test_large(const struct folio *f) { return f->order > 0; }
static inline bool folio_test_pmd_mappable(const struct folio *f)
{
	return f->order >= HPAGE_PMD_ORDER;
}
static inline bool folio_test_anon(const struct folio *f) { return f->flags & FOLIO_anon; }
static inline bool folio_test_dirty(const struct folio *f) { return f->flags & FOLIO_dirty; }
static inline bool folio_test_swapbacked(const struct folio *f)
{
	return f->flags & FOLIO_swapbacked;
}
static inline bool folio_test_locked(const struct folio *f) { return f->flags & FOLIO_locked; }
static inline bool folio_test_lru(const struct folio *f) { return f->flags & FOLIO_lru; }
static inline bool folio_test_swapcache(const struct folio *f)
{
	return f->flags & FOLIO_swapcache;
}
static inline bool folio_test_zero(const struct folio *f) { return f->flags & FOLIO_zero; }
/* Lazyfree = anon without swapbacked (after MADV_FREE). */
static inline bool folio_test_lazyfree(const struct folio *f)
{
	return folio_test_anon(f) && !folio_test_swapbacked(f);
}
static inline void folio_set_flag(struct folio *f, unsigned fl) { f->flags |= fl; }
static inline void folio_clear_flag(struct folio *f, unsigned fl) { f->flags &= ~fl; }
static inline int folio_ref_count(const struct folio *f) { return f->refcount; }
static inline void folio_get(struct folio *f) { f->refcount++; }
static inline bool folio_maybe_dma_pinned(const struct folio *f) { return f->pincount > 0; }
static inline bool is_zero_pfn(uint64_t pfn) { return pfn == mem_map.zero_pfn; }
static inline bool is_huge_zero_pfn(uint64_t pfn)
{
	return pfn >= mem_map.huge_zero_pfn && pfn < mem_map.huge_zero_pfn + HPAGE_PMD_NR;
}
static inline bool PageAnonExclusive(const struct page *p) { return p->flags & PG_anon_exclusive; }

/* Reference convention (as the kernel's folio_expected_ref_count()):
 * one reference per PTE mapping, one per PMD mapping, folio_nr_pages() for
 * the page cache or the swap cache, one per pin/isolation/GUP get.
 * folio_mapcount() is the number of mappings: PTE mappings plus PMD ones. */
int folio_mapcount(const struct folio *f);
bool folio_mapped(const struct folio *f);
/* folio_maybe_mapped_shared() under CONFIG_MM_ID: a large folio is
 * "maybe mapped shared" while FOLIO_mm_ids_shared is set, which the rmap
 * accounting (sim/mm/rmap.c) sets once a second MM maps it. */
bool folio_maybe_mapped_shared(const struct folio *f);
/* Reset the _mm_id[] slots of a new large folio (no MM maps it). */
void folio_reset_mm_ids(struct folio *f);

/* Allocate a folio of the given order with refcount 1, zero content, not
 * mapped. Returns NULL when out of frames or when failure injection fires. */
struct folio *folio_alloc(unsigned order);
/* Drop one reference; at zero the frames return to the free lists. */
void folio_put(struct folio *f);
void folio_put_refs(struct folio *f, int refs);
/* Split a large unmapped-or-mapped folio into order-0 folios (data model
 * only: the caller has already dealt with the mappings). */
void folio_split_to_order0(struct folio *f);
/* Split a large folio with no PMD mapping the non-uniform (buddy) way, as
 * __split_unmapped_folio(SPLIT_TYPE_NON_UNIFORM) to order 0: page `at` of it
 * becomes an order-0 folio, the rest the halves of decreasing order around
 * it (order 9 at 5: [5] [4] [6-7] [0-3] [8-15] ... [256-511]). Each new folio
 * holds one reference per PTE mapping of its pages; references beyond the
 * mappings (page cache, pins, isolation) stay with the folio of page 0, for
 * the caller to share out (data model only). */
void folio_split_nonuniform(struct folio *f, uint64_t at);

#endif
