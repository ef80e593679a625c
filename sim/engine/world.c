/* sim/engine/world.c - lookups over the named objects of a running trace.
 *
 * Written by the oracle owner because violation reports name regions; the
 * engine owner may extend this file.
 */
#include "world.h"

#include <string.h>

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

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *world_uffd_names(const struct world *w)
{
	GPtrArray *names = g_ptr_array_new();
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, w->uffd_by_name);
	while (g_hash_table_iter_next(&it, &key, &value))
		g_ptr_array_add(names, key);
	g_ptr_array_sort(names, compare_names);
	return names;
}
