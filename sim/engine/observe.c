/* sim/engine/observe.c - the observation block printed after each step.
 *
 * `mmsim diff` replays one trace at two patch levels and compares these
 * blocks step by step, so they hold what a user of the uffd API can see
 * (the step's result, messages and sleepers) plus the page-table state of
 * every region: a difference in either is a behavioural difference.
 *
 *   @12 gup -> ok
 *     scan 0-3,7             (pagemap-scan only: the pages it reported)
 *     verdict FAIL: ...      (only when the oracle failed this step)
 *     A aaaa.A3
 *     U msgs=1 waiters=0
 *
 * Region lines run-length encode the page states of `expect pte` (the
 * letters of observe_state_char(); a count follows a letter repeated).
 */
#include <string.h>

#include "engine.h"
#include "mm/internal.h"
#include "patch.h"

/*
 * What a host process can tell about one page through /proc/PID/pagemap
 * (present bit 63, swap bit 62, uffd-wp bit 57) and PAGEMAP_SCAN's
 * PAGE_IS_HUGE, so that `--kernel 6.18` observations compare line by line
 * with tools/hostreplay on the running kernel: `.` nothing (no PTE, or no
 * table), `a`/`w` a present PTE without/with the uffd
 * bit (protnone included: pagemap reports it present), `H`/`W` a PMD-mapped
 * THP without/with it, `s`/`S` a swap entry without/with it (migration
 * entries and uffd-wp markers are swap entries to pagemap too).
 */
static char observe_host_char(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
	if (!pmd || pmd_none(*pmd))
		return '.';
	if (is_pmd_migration_entry(*pmd))
		return pmd_swp_uffd(*pmd) ? 'S' : 's';
	if (pmd_trans_huge(*pmd))
		return pmd_uffd(*pmd) ? 'W' : 'H';
	pte_t *ptep = pte_offset_map(pmd, addr);
	if (!ptep || pte_none(*ptep))
		return '.';
	if (pte_present(*ptep))
		return pte_uffd(*ptep) ? 'w' : 'a';
	swp_entry_t entry = pte_to_swp_entry(*ptep);
	if (is_pte_marker_entry(entry))
		return 'S'; /* pte_to_pagemap_entry(): a marker is a swap entry */
	if (is_device_exclusive_entry(entry))
		return pte_swp_uffd(*ptep) ? 'w' : 'a';
	return pte_swp_uffd(*ptep) ? 'S' : 's';
}

static char observe_char(struct region *r, uint64_t page)
{
	uint64_t addr = region_page_addr(r, page);
	if (!kernel_has_rwp())
		return observe_host_char(r->mm, addr);
	return observe_state_char(observe_pte_state(r->mm, addr));
}

int observe_page_state(struct region *r, uint64_t page, struct vm_area_struct **vma)
{
	uint64_t addr = region_page_addr(r, page);
	struct vm_area_struct *v = *vma;
	int state = observe_pte_state(r->mm, addr);

	if (!v || addr < v->vm_start || addr >= v->vm_end)
		*vma = v = vma_lookup(r->mm, addr);
	/* What PAGEMAP_SCAN reports as PAGE_IS_ACCESSED: the bit is clear on
	 * a page the VMM registered for RWP tracking. */
	if (state == 2 && v && (v->vm_flags & VM_UFFD_RWP))
		return PAGE_STATE_ACCESSED;
	if ((state == 0 || state == 11) && !v)
		return PAGE_STATE_UNMAPPED;
	return state;
}

/* "AAAA.a" -> "A4.a" */
static void append_states_rle(GString *out, struct region *r)
{
	uint64_t pages = r->len / PAGE_SIZE, run = 0;
	char prev = 0;

	for (uint64_t p = 0; p <= pages; p++) {
		char c = p < pages ? observe_char(r, p) : 0;
		if (c == prev && p < pages) {
			run++;
			continue;
		}
		if (prev) {
			g_string_append_c(out, prev);
			if (run > 1)
				g_string_append_printf(out, "%" G_GUINT64_FORMAT, run);
		}
		prev = c;
		run = 1;
	}
}

void engine_observe_step(struct engine *e, const struct step *s, int res)
{
	const char *rn = flag_name_of(result_names, res);
	g_string_append_printf(e->out, "@%u %s -> %s\n", s->line, cmd_descs[s->cmd].name,
			       rn ? rn : "?");
	/* What a PAGEMAP_SCAN reported, as pages of its region. */
	if (s->cmd == CMD_PAGEMAP_SCAN && res == RESULT_OK) {
		struct region *r = g_hash_table_lookup(e->world.region_by_name, s->pos[0]);
		g_autofree uint64_t *pages = g_new0(uint64_t, e->last_scan->len + 1);
		for (guint i = 0; r && i < e->last_scan->len; i++)
			pages[i] =
				(g_array_index(e->last_scan, uint64_t, i) - r->start) >> PAGE_SHIFT;
		g_string_append(e->out, "  scan ");
		trace_write_pages(e->out, pages, r ? e->last_scan->len : 0);
		g_string_append_c(e->out, '\n');
	}
	if (e->verdict != VERDICT_PASS)
		g_string_append_printf(e->out, "  verdict %s: %s\n",
				       e->verdict == VERDICT_FAIL ? "FAIL" : "BAD", e->error->str);
	for (guint i = 0; i < e->world.regions->len; i++) {
		struct region *r = g_ptr_array_index(e->world.regions, i);
		g_string_append_printf(e->out, "  %s ", r->name);
		append_states_rle(e->out, r);
		g_string_append_c(e->out, '\n');
	}
	g_autoptr(GPtrArray) names = world_uffd_names(&e->world);
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		struct userfaultfd_ctx *ctx = g_hash_table_lookup(e->world.uffd_by_name, name);
		g_string_append_printf(e->out, "  %s msgs=%u waiters=%u\n", name, ctx->msgs->len,
				       ctx->waiters->len);
	}
}
