/* model/pgtable.h - 4-level page tables (PGD/PUD/PMD/PTE, 512 entries each).
 *
 * Tables live in a pool and are named by a table number that is stored in
 * the PFN field of the parent entry, exactly where the kernel stores the
 * physical address of the next level. Table numbers and data PFNs are two
 * separate spaces: a table number is only ever reached through a non-leaf
 * entry. Freed tables are poisoned so a stale reference is detectable.
 */
#ifndef MMSIM_MODEL_PGTABLE_H
#define MMSIM_MODEL_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "pte.h"

enum pt_level { PT_PGD = 4, PT_PUD = 3, PT_PMD = 2, PT_PTE = 1 };

struct pt_table {
	uint64_t e[512];
	uint32_t level; /* enum pt_level of the entries held */
	uint32_t in_use;
	uint64_t owner;	       /* mm id, for the structure check */
	uint64_t next_deposit; /* chain of deposited tables (THP deposit) */
};

struct pt_pool {
	struct pt_table **tables; /* index = table number; 0 unused */
	uint64_t nr, cap;
	uint64_t *free;
	uint64_t nr_free, free_cap;
	uint64_t nr_live;
};

extern struct pt_pool pt_pool;

void pt_pool_init(void);
void pt_pool_destroy(void);

/* Allocate a zeroed table; returns its number (never 0). */
uint64_t pt_alloc(enum pt_level level, uint64_t owner);
/* Free a table (must not be referenced any more; the pool poisons it). */
void pt_free(uint64_t nr);
static inline struct pt_table *pt_get(uint64_t nr) { return pt_pool.tables[nr]; }
bool pt_is_live(uint64_t nr);

/* Table number referenced by a non-leaf entry. */
static inline uint64_t pt_entry_table(uint64_t entry)
{
	return (entry & PTE_PFN_MASK) >> PAGE_SHIFT;
}
static inline uint64_t pt_mkentry(uint64_t table_nr)
{
	return ((table_nr << PAGE_SHIFT) & PTE_PFN_MASK) | _PAGE_TABLE;
}

/* Lookups. pmd_lookup returns a pointer to the PMD slot or NULL when the
 * upper levels are missing; with alloc, the upper levels are created. */
pmd_t *pmd_lookup(uint64_t pgd_nr, uint64_t addr, bool alloc, uint64_t owner);
/* The PTE table number under a PMD slot, or 0 when the PMD is none/leaf. */
static inline uint64_t pmd_pgtable(pmd_t pmd)
{
	return pmd_is_table(pmd) ? pt_entry_table(pmd_val(pmd)) : 0;
}
/* pte_offset_map: pointer into the PTE table under *pmd, NULL if none. */
pte_t *pte_offset_map(pmd_t *pmd, uint64_t addr);
/* Walk to the PTE slot for addr, or NULL if any level is missing or the PMD
 * is a leaf. */
pte_t *pte_lookup(uint64_t pgd_nr, uint64_t addr);
/* pte_alloc: make sure *pmd points at a PTE table (allocating one). Returns
 * false if the PMD is a leaf. */
bool pte_alloc(pmd_t *pmd, uint64_t owner);

/* Free the whole tree below pgd (the tables, not the pages they map). */
void pt_free_tree(uint64_t pgd_nr);

#endif
