/* sim/engine/exec_mremap.c - the "mremap S from=R [at=ADDR]" step: move the
 * whole of region R with mremap(MREMAP_MAYMOVE|MREMAP_FIXED) and declare the
 * moved range as region S. R stays declared, over addresses now unmapped.
 * sys_mremap() reports EV_MREMAP for the oracle.
 */
#include "engine.h"

#include "mm/internal.h"

int engine_exec_mremap(struct engine *e, const struct step *s)
{
	struct world *w = &e->world;
	struct region *from = engine_region(e, s, step_arg(s, "from")->name);
	uint64_t new_addr;

	if (!from)
		return RESULT_OK;
	if (step_has(s, "at")) {
		new_addr = step_u64(s, "at", 0);
	} else {
		/* A free gap with from='s offset in its PMD, so a PMD-mapped
		 * range can move as a whole PMD (move_huge_pmd): as
		 * tools/hostreplay does it, reserve len + 2 PMDs with an
		 * anonymous mapping and move to the first PMD boundary in it
		 * plus that offset (the reservation is replaced and trimmed, so
		 * it is never mapped here). */
		uint64_t gap = get_unmapped_area(from->mm, NULL, 0, from->len + 2 * PMD_SIZE, 0);
		if (!gap)
			return ENOMEM;
		new_addr = ((gap + PMD_SIZE - 1) & PMD_MASK) + (from->start & ~PMD_MASK);
	}
	int64_t ret = sys_mremap(from->mm, from->start, from->len, from->len,
				 MREMAP_MAYMOVE | MREMAP_FIXED, new_addr);
	if (ret < 0)
		return (int)-ret;

	struct region *r = g_new0(struct region, 1);
	r->name = g_strdup(s->pos[0]);
	r->mm = from->mm;
	r->start = (uint64_t)ret;
	r->len = from->len;
	r->file = from->file;
	r->file_pgoff = from->file_pgoff;
	r->shared = from->shared;
	g_ptr_array_add(w->regions, r);
	g_hash_table_insert(w->region_by_name, r->name, r);
	return RESULT_OK;
}
