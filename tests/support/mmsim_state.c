/* tests/support/mmsim_state.c - test helpers that build or read state by hand.
 *
 * Kept apart from mmsim_test.c, which calls into the fault path: a test that
 * defines its own weak handle_mm_fault() pulls only this object from the
 * support library, so the linker never brings in sim/mm/memory.c for it.
 */
#include "mmsim_test.h"

pte_t *t_ptep_alloc(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, true, mm->id);

	assert_true(pte_alloc(pmd, mm->id));
	return pte_offset_map(pmd, addr);
}

unsigned t_nr_events(enum mm_event_kind kind)
{
	unsigned n = 0;

	for (guint i = 0; i < mm_events->len; i++)
		n += g_array_index(mm_events, struct mm_event, i).kind == kind;
	return n;
}

const struct mm_event *t_last_event(enum mm_event_kind kind)
{
	for (guint i = mm_events->len; i-- > 0;)
		if (g_array_index(mm_events, struct mm_event, i).kind == kind)
			return &g_array_index(mm_events, struct mm_event, i);
	return NULL;
}
