/* sim/engine/world.c - lookups over the named objects of a running trace.
 *
 * Written by the oracle owner because violation reports name regions; the
 * engine owner may extend this file.
 */
#include "world.h"

struct region *world_region_of(const struct world *w, const struct mm_struct *mm, uint64_t addr,
			       uint64_t *page)
{
	/* Later declarations win: a region mapped over an older one hides it. */
	for (guint i = w && w->regions ? w->regions->len : 0; i-- > 0;) {
		struct region *r = g_ptr_array_index(w->regions, i);
		if (r->mm != mm || addr < r->start || addr >= r->start + r->len)
			continue;
		if (page)
			*page = (addr - r->start) / PAGE_SIZE;
		return r;
	}
	return NULL;
}
