/* model/pgtable.c - page-table pool and walks (no policy). */
#include "pgtable.h"

#include <glib.h>
#include <string.h>

struct pt_pool pt_pool;

#define PT_POISON 0xdeadbeefdeadbeefULL

void pt_pool_init(void)
{
	pt_pool_destroy();
	pt_pool.cap = 64;
	pt_pool.tables = g_new0(struct pt_table *, pt_pool.cap);
	pt_pool.nr = 1;
}

void pt_pool_destroy(void)
{
	for (uint64_t i = 0; i < pt_pool.nr; i++)
		g_free(pt_pool.tables ? pt_pool.tables[i] : NULL);
	g_free(pt_pool.tables);
	g_free(pt_pool.free);
	memset(&pt_pool, 0, sizeof(pt_pool));
}

uint64_t pt_alloc(enum pt_level level, uint64_t owner)
{
	uint64_t nr;

	if (pt_pool.nr_free) {
		nr = pt_pool.free[--pt_pool.nr_free];
	} else {
		if (pt_pool.nr == pt_pool.cap) {
			pt_pool.cap *= 2;
			pt_pool.tables = g_renew(struct pt_table *, pt_pool.tables, pt_pool.cap);
		}
		nr = pt_pool.nr++;
		pt_pool.tables[nr] = g_new(struct pt_table, 1);
	}
	struct pt_table *t = pt_pool.tables[nr];
	memset(t, 0, sizeof(*t));
	t->level = level;
	t->in_use = 1;
	t->owner = owner;
	pt_pool.nr_live++;
	return nr;
}

void pt_free(uint64_t nr)
{
	struct pt_table *t = pt_pool.tables[nr];
	g_assert(t && t->in_use);
	for (int i = 0; i < 512; i++)
		t->e[i] = PT_POISON;
	t->in_use = 0;
	if (pt_pool.nr_free == pt_pool.free_cap) {
		pt_pool.free_cap = pt_pool.free_cap ? pt_pool.free_cap * 2 : 64;
		pt_pool.free = g_renew(uint64_t, pt_pool.free, pt_pool.free_cap);
	}
	pt_pool.free[pt_pool.nr_free++] = nr;
	pt_pool.nr_live--;
}

bool pt_is_live(uint64_t nr)
{
	return nr && nr < pt_pool.nr && pt_pool.tables[nr] && pt_pool.tables[nr]->in_use;
}

static uint64_t *next_level(uint64_t *slot, enum pt_level child, bool alloc, uint64_t owner)
{
	if (!*slot) {
		if (!alloc)
			return NULL;
		*slot = pt_mkentry(pt_alloc(child, owner));
	}
	return pt_get(pt_entry_table(*slot))->e;
}

pmd_t *pmd_lookup(uint64_t pgd_nr, uint64_t addr, bool alloc, uint64_t owner)
{
	uint64_t *pgd = pt_get(pgd_nr)->e;
	uint64_t *pud = next_level(&pgd[pgd_index(addr)], PT_PUD, alloc, owner);
	if (!pud)
		return NULL;
	uint64_t *pmd = next_level(&pud[pud_index(addr)], PT_PMD, alloc, owner);
	if (!pmd)
		return NULL;
	return (pmd_t *)&pmd[pmd_index(addr)];
}

pte_t *pte_offset_map(pmd_t *pmd, uint64_t addr)
{
	uint64_t nr = pmd_pgtable(*pmd);
	if (!nr)
		return NULL;
	return (pte_t *)&pt_get(nr)->e[pte_index(addr)];
}

pte_t *pte_lookup(uint64_t pgd_nr, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(pgd_nr, addr, false, 0);
	return pmd ? pte_offset_map(pmd, addr) : NULL;
}

bool pte_alloc(pmd_t *pmd, uint64_t owner)
{
	if (pmd_none(*pmd)) {
		*pmd = pmd_mktable(pt_alloc(PT_PTE, owner));
		return true;
	}
	return pmd_is_table(*pmd);
}

static void free_level(uint64_t nr)
{
	struct pt_table *t = pt_get(nr);
	if (t->level != PT_PTE) {
		for (int i = 0; i < 512; i++) {
			uint64_t e = t->e[i];
			if (e && (e & _PAGE_PRESENT) && !(e & _PAGE_PSE))
				free_level(pt_entry_table(e));
		}
	}
	pt_free(nr);
}

void pt_free_tree(uint64_t pgd_nr) { free_level(pgd_nr); }
