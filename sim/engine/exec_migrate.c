/* sim/engine/exec_migrate.c - the "migrate" and "numa-scan" steps.
 *
 * migrate: every folio mapped in the range (PTE or PMD, the zero page
 * excepted), each once, in address order, is isolated and migrated to a
 * new folio of the same order (mm/migrate.c). The step's race=N runs the
 * next N steps while the first folio's migration entries are installed.
 *
 * numa-scan: task_numa_work over the range (kernel/sched/fair.c), which
 * calls change_prot_numa() on each VMA the scanner visits.
 * migrate-on-fault=0|1 sets whether NUMA hinting faults from now on find
 * their folio misplaced and migrate it (numa_migrate_check()).
 */
#include "engine.h"

#include "mm/internal.h"

static struct folio *mapped_folio(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	pmd_t *pmd = mm_find_pmd(mm, addr, false);

	if (!vma || !pmd || pmd_none(*pmd))
		return NULL;
	if (pmd_trans_huge(*pmd)) {
		uint64_t pfn = pmd_pfn(*pmd);
		return is_huge_zero_pfn(pfn) ? NULL : pfn_folio(pfn);
	}
	pte_t *ptep = pte_offset_map(pmd, addr);
	if (!ptep || !pte_present(*ptep))
		return NULL;
	return vm_normal_folio(vma, addr, *ptep);
}

static int exec_migrate_range(struct engine *e, const struct step *s, struct region *r)
{
	g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_autoptr(GPtrArray) folios = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	enum ttu_flags ttu = step_u64(s, "split", 0) ? TTU_SPLIT_HUGE_PMD : 0;
	int res = RESULT_OK;

	if (!engine_pages(e, s, r, pages))
		return RESULT_OK;
	for (guint i = 0; i < pages->len; i++) {
		uint64_t addr = region_page_addr(r, g_array_index(pages, uint64_t, i));
		struct folio *folio = mapped_folio(r->mm, addr);
		if (!folio || g_hash_table_contains(seen, folio))
			continue;
		g_hash_table_add(seen, folio);
		g_ptr_array_add(folios, folio);
	}
	for (guint i = 0; i < folios->len; i++) {
		int rc = migrate_folio_sync(g_ptr_array_index(folios, i), ttu);
		if (rc && res == RESULT_OK)
			res = -rc;
	}
	return res;
}

int engine_exec_migrate(struct engine *e, const struct step *s, struct region *r)
{
	uint64_t start, len;

	if (s->cmd == CMD_MIGRATE)
		return exec_migrate_range(e, s, r);
	if (!engine_span(e, s, r, &start, &len))
		return RESULT_OK;
	if (step_has(s, "migrate-on-fault"))
		numa_migrate_on_fault = step_u64(s, "migrate-on-fault", 0);
	task_numa_work_range(r->mm, start, start + len);
	return RESULT_OK;
}
