/* sim/oracle/oracle_internal.h - state shared between the oracle's files.
 *
 * Not part of the engine API (that is oracle.h). Everything here is the
 * oracle's own: its page walk, its ledger and its data shadow.
 */
#ifndef MMSIM_ORACLE_INTERNAL_H
#define MMSIM_ORACLE_INTERNAL_H

#include "oracle.h"

#include "model/mm_types.h"
#include "model/swap.h"
#include "sched.h"

/* madvise advice values (UAPI, include/uapi/asm-generic/mman-common.h); the
 * oracle keeps its own copy rather than include sim/mm/internal.h. */
#define O_MADV_DONTNEED 4
#define O_MADV_FREE 8
#define O_MADV_PAGEOUT 21
#define O_MADV_COLLAPSE 25

/* ---------------------------------------------------------------- page view */
enum pv_kind {
	PV_NOTABLE, /* a level above the PTE is missing (PMD none included) */
	PV_NONE,    /* pte_none */
	PV_PRESENT, /* present PTE or PMD leaf (protnone included) */
	PV_SWAP,    /* swap, migration or device entry */
	PV_MARKER,  /* a PTE marker */
	PV_BAD,	    /* a table on the way is not live (reported by "freed table") */
};

struct pview {
	enum pv_kind kind;
	bool huge; /* mapped (or migrating) at PMD level */
	bool uffd; /* pte_uffd / pmd_uffd / pte_swp_uffd_any / pmd_swp_uffd */
	bool protnone;
	bool write;
	uint64_t pfn; /* present: the 4 KiB page mapped at the address */
	uint64_t val; /* raw entry (PTE, or PMD for huge) */
};

/* pt_is_live(), inline: the oracle asks it for every table of every walk. */
static inline bool o_table_live(uint64_t nr)
{
	return nr && nr < pt_pool.nr && pt_pool.tables[nr] && pt_pool.tables[nr]->in_use;
}

/* The oracle's own walk of mm's tables at addr (never allocates). */
struct pview oracle_view(const struct mm_struct *mm, uint64_t addr);
/* The views of the 512 pages of the 2 MiB range at base with one walk; true
 * when no table covers the range (all PV_NOTABLE). pv may be NULL to ask
 * only that. */
bool oracle_view_chunk(const struct mm_struct *mm, uint64_t base, struct pview *pv);
/* The raw PTEs of the 2 MiB range at base, or NULL with *top saying why
 * (no table, a freed table, or a PMD leaf or swap entry covering it). */
const uint64_t *oracle_chunk_entries(const struct mm_struct *mm, uint64_t base, struct pview *top);
const char *pview_name(const struct pview *pv, bool rwp);

static inline bool pv_populated(const struct pview *pv)
{
	return pv->kind == PV_PRESENT || pv->kind == PV_SWAP;
}
/* What PAGEMAP_SCAN reports as PAGE_IS_ACCESSED in an RWP VMA. */
static inline bool pv_pagemap_accessed(const struct pview *pv)
{
	return pv_populated(pv) && !pv->uffd;
}
/* The RWP-armed encoding: protnone + uffd, or a swap-form entry with the bit. */
static inline bool pv_rwp_armed(const struct pview *pv)
{
	return (pv->kind == PV_PRESENT && pv->protnone && pv->uffd) ||
	       (pv->kind == PV_SWAP && pv->uffd);
}
/* The WP-protected encoding: uffd bit on a present/swap entry, or a marker. */
static inline bool pv_wp_protected(const struct pview *pv)
{
	return (pv->kind == PV_PRESENT || pv->kind == PV_SWAP || pv->kind == PV_MARKER) && pv->uffd;
}
static inline bool pv_gone(const struct pview *pv)
{
	return pv->kind == PV_NOTABLE || pv->kind == PV_NONE || pv->kind == PV_BAD;
}

/* ---------------------------------------------------------------- ledger */
enum rwp_state { L_UNTRACKED, L_ARMED, L_ACCESSED, L_DROPPED };
enum wp_state { W_UNPROT, W_PROT };

/* Drop permissions of the current (outermost plus nested) step. */
#define PERM_DROP (1u << 0)	  /* munmap, DONTNEED, punch, lazyfree reclaim */
#define PERM_CACHE (1u << 1)	  /* allowed if the page-cache slot changes */
#define PERM_FILE_UNMAP (1u << 2) /* reclaim unmapped a file page: RWP keeps no marker */

/* One page of the ledger, 32 bytes: a 64 GiB guest registers 16 M of them.
 * perm and born_nested belong to the step whose epoch is the chunk's
 * perm_epoch; before is 0 while the chunk's none_epoch is the step's (see
 * ledger_store.c, which makes both true before handing a page out). */
struct lpage {
	uint64_t addr;
	uint64_t before; /* raw entry at the outermost before_step */
	uint32_t ctx_id;
	uint32_t seen; /* check epoch */
	uint8_t perm;
	uint8_t modes;	      /* UFFDIO_REGISTER_MODE_* of the last registration that changed it */
	bool rwp : 1, wp : 1; /* tracked in the RWP / WP ledger */
	unsigned rwp_state : 2; /* enum rwp_state */
	unsigned wp_state : 1;	/* enum wp_state */
	bool rwp_delivered : 1; /* a sync RWP fault was queued since the arm */
	bool wp_delivered : 1;
	bool before_huge : 1;  /* ... and it was a present PMD leaf */
	bool unarmed_page : 1; /* the last arm found it unpopulated (E3) */
	bool born_nested : 1;  /* created inside a race window of this step */
};

/* PERM_CACHE: the page-cache slot to compare, kept beside the chunk. */
struct lcache {
	struct address_space *file;
	uint64_t index;
	uint64_t cache_before;
};

/* The ledger pages of one 2 MiB (one PMD) range. The summary lets the
 * per-step work skip a chunk whose pages have no page table and nothing to
 * lose: then every check of its pages passes without reading them. */
#define LCHUNK_SHIFT 21
#define LCHUNK_PAGES 512
struct lchunk {
	uint64_t key; /* base >> LCHUNK_SHIFT */
	uint64_t base;
	uint64_t present[LCHUNK_PAGES / 64];
	uint32_t nr;
	uint32_t seen_all;   /* check epoch that covered every page */
	uint32_t perm_epoch; /* step epoch of perm, born_nested and cache */
	uint32_t none_epoch; /* step epoch whose begin found no table here */
	bool dirty;	     /* the summary is stale */
	bool quiet;	     /* summary: no page RWP-armed or WP-protected */
	bool uniform;	     /* summary: every page has rwp == u_rwp, wp == u_wp */
	bool u_rwp, u_wp;
	/* An arm found no table here and left every page dropped (see
	 * ev_range); not yet written into the pages (lchunk_settle). */
	bool arm_pending;
	struct lcache *cache; /* NULL, or LCHUNK_PAGES slots */
	/* Apart from the header, which lives in its directory: a per-step
	 * pass over 32 K chunk headers then reads 4 MiB in order, not one
	 * cache line and one TLB entry per 16 KiB. */
	struct lpage *p; /* LCHUNK_PAGES */
};

/* Chunks of 1 GiB of address space (512 chunks): the ledger keeps these
 * sorted by address, so finding a chunk is an array index (plus a binary
 * search over a handful of directories), never a hash of every chunk. */
#define LDIR_SHIFT 30
#define LDIR_CHUNKS 512
struct ldir {
	uint64_t key; /* base >> LDIR_SHIFT */
	unsigned nr;
	uint64_t used[LDIR_CHUNKS / 64]; /* which c[] are chunks */
	struct lchunk c[LDIR_CHUNKS];
};

struct mm_ledger {
	uint64_t mm_id;
	GPtrArray *dirs; /* struct ldir *, sorted by key */
	guint last;	 /* the directory found last (most lookups are near it) */
	bool holes;	 /* a directory may be empty (see ledger_compact) */
};

static inline bool lchunk_has(const struct lchunk *c, unsigned i)
{
	return c->present[i / 64] & (1ull << (i % 64));
}

/* Every chunk of a ledger in address order: *pos starts at 0. A chunk may
 * be freed (ledger_chunk_free) before asking for the next one. */
struct lchunk *ledger_next_chunk(struct mm_ledger *l, uint64_t *pos);
void ledger_chunk_free(struct mm_ledger *l, struct lchunk *c);
/* Drop the directories emptied since (never during a walk). */
void ledger_compact(struct mm_ledger *l);

/* Every page of the ledger, chunk by chunk (ledger_store.c). */
struct ledger_iter {
	struct oracle *o;
	struct mm_ledger *l;
	uint64_t pos;
	struct lchunk *c;
	unsigned i;
};
void ledger_iter_init(struct ledger_iter *it, struct oracle *o, struct mm_ledger *l);
struct lpage *ledger_iter_next(struct ledger_iter *it);
/* Remove the page ledger_iter_next returned last. */
void ledger_iter_remove(struct ledger_iter *it);

/* ---------------------------------------------------------------- oracle */
struct oracle {
	const struct world *w;
	GHashTable *ledgers; /* mm id -> struct mm_ledger * */
	int depth;	     /* nesting of before/after_step */
	const struct step *outer;
	guint cursor;	      /* next mm_events index to consume */
	struct mm_event last; /* the event at cursor - 1, to notice a cleared log */
	uint32_t epoch;
	uint32_t step_epoch; /* outermost steps begun */
	/* structure check scratch, grown (never per page) */
	int32_t *pte_maps, *pmd_maps, *pc_refs;
	uint64_t pfn_cap;
	uint64_t *pfn_touched; /* pfns with a nonzero count above */
	uint64_t nr_pfn_touched;
	uint32_t *slot_refs;
	uint64_t slot_cap;
	uint64_t *slot_touched; /* slots with a nonzero slot_refs */
	uint64_t nr_slot_touched;
	uint32_t *table_seen;
	uint64_t table_cap;
	uint32_t walk_epoch;
	/* data shadow */
	GHashTable *data_mm;   /* mm id -> struct dmap * (keyed by page address >> PAGE_SHIFT) */
	GHashTable *data_file; /* struct address_space * -> struct dmap * (by index) */
	/* the first violation of this check */
	struct violation *v;
	bool failed;
};

struct dval {
	uint64_t value;
	bool lazy; /* MADV_FREE'd and not written since: 0 is also allowed */
	bool zero; /* UFFDIO_ZEROPAGE in a private file mapping: the zero page,
		    * not a COW copy, so a punch of the file drops it */
};

/* data_store.c: page number -> struct dval, in 512-page chunks */
struct dmap;
struct dmap_iter {
	struct dmap *m;
	GHashTableIter hi;
	struct dchunk *c;
	unsigned i;
};
struct dmap *dmap_new(void);
void dmap_free(struct dmap *m);
bool dmap_get(const struct dmap *m, uint64_t page, struct dval *out);
void dmap_set(struct dmap *m, uint64_t page, const struct dval *v);
void dmap_remove(struct dmap *m, uint64_t page);
/* Every value, in no particular order; the map must not grow meanwhile. */
void dmap_iter_init(struct dmap_iter *it, struct dmap *m);
bool dmap_iter_next(struct dmap_iter *it, uint64_t *page, struct dval *v);
/* Replace or remove the value dmap_iter_next returned last. */
void dmap_iter_set(struct dmap_iter *it, const struct dval *v);
void dmap_iter_remove(struct dmap_iter *it);

/* oracle.c */
struct mm_struct *oracle_mm(const struct oracle *o, uint64_t mm_id);
/* Record the first violation; returns false so callers can "return fail(...)". */
bool oracle_fail(struct oracle *o, const char *invariant, uint64_t mm_id, uint64_t addr,
		 uint64_t before, uint64_t after, const char *fmt, ...) G_GNUC_PRINTF(7, 8);
/* The region and the page range (inclusive, region-relative) named by a step. */
struct region *step_region(const struct oracle *o, const struct step *s);
/* The file a step names first (fallocate, ftruncate), or NULL. */
struct address_space *step_file(const struct oracle *o, const struct step *s);
bool step_page_in_range(const struct step *s, const char *key, uint64_t page);

/* ledger_store.c */
struct mm_ledger *ledger_get(struct oracle *o, uint64_t mm_id, bool create);
struct lpage *ledger_page(struct oracle *o, uint64_t mm_id, uint64_t addr, bool create);
void ledger_remove(struct oracle *o, uint64_t mm_id, uint64_t addr);
void ledger_free(struct mm_ledger *l);
struct lchunk *ledger_chunk(struct mm_ledger *l, uint64_t addr);
/* Make the chunk's per-step fields those of the current step; touch also
 * marks its summary stale (for callers that may change what it sums up). */
void lchunk_refresh(struct oracle *o, struct lchunk *c);
/* Write a pending arm into the pages (refresh does it too). */
void lchunk_settle(struct lchunk *c);
void lchunk_touch(struct oracle *o, struct lchunk *c);
void lchunk_summarise(struct lchunk *c);
/* ledger.c */
void ledger_step_begin(struct oracle *o, const struct step *s, bool outermost);
bool ledger_event(struct oracle *o, const struct mm_event *ev);
bool ledger_check(struct oracle *o);
void ledger_step_end(struct oracle *o);
/* ledger_fork.c: EV_FORK */
bool ledger_fork_event(struct oracle *o, const struct mm_event *ev);
/* ledger_mremap.c: EV_MREMAP */
bool ledger_mremap(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm);
/* ledger_move.c: EV_UFFD_MOVE, and the ftruncate drop permission */
bool ledger_uffd_move(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm);
bool ftruncate_drops(struct oracle *o, const struct step *s, const struct vm_area_struct *vma,
		     uint64_t addr);

/* encoding.c + structure.c: one walk over every table of every mm */
bool structure_check(struct oracle *o);
void structure_free(struct oracle *o);
/* encoding.c: per VMA and per leaf */
bool encoding_check_vma(struct oracle *o, const struct vm_area_struct *vma);
bool encoding_check_leaf(struct oracle *o, const struct vm_area_struct *vma, uint64_t addr,
			 uint64_t val, bool pmd);

/* data.c */
void data_init(struct oracle *o);
void data_free(struct oracle *o);
void data_step_end(struct oracle *o, const struct step *s, int result);
bool data_event(struct oracle *o, const struct mm_event *ev);

/* exceptions.c */
enum exception_id {
	EXC_FORCE_PROT_NONE, /* FOLL_FORCE through an inaccessible VMA */
	EXC_ASYNC_PMD,	     /* async resolution of an armed PMD covers 2 MiB */
	EXC_UNARMED_PMD,     /* a huge fault may map pages the arm did not arm */
	EXC_WP_LEFTOVER,     /* 6.18: a re-register that drops WP leaves its bits */
	NR_EXCEPTIONS
};
struct oracle_exception {
	const char *invariant; /* the invariant it qualifies */
	const char *statement;
	const char *source;
};
extern const struct oracle_exception oracle_exceptions[NR_EXCEPTIONS];
bool exception_force_prot_none(const struct mm_event *ev, const struct vm_area_struct *vma);

#endif
