/* sim/engine/world.h - the named objects of a running trace.
 *
 * The engine creates these from trace declarations; the oracle and the
 * observation code read them to find the model objects behind the names.
 */
#ifndef MMSIM_ENGINE_WORLD_H
#define MMSIM_ENGINE_WORLD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/mm_types.h"
#include "model/uffd.h"

/* A region is what one "mmap" step mapped: page ranges in a trace are
 * relative to its start, whatever VMA splits happen later. */
struct region {
	char *name;
	struct mm_struct *mm;
	uint64_t start, len;
	struct address_space *file; /* NULL for anonymous memory */
	uint64_t file_pgoff;
	bool shared;
};

/* A page a "gup ... hold=1" step kept its reference or pin on, until
 * "unpin" or the end of the trace (sim/engine/exec_pin.c). The oracle's
 * refcount check counts the FOLL_GET ones (pins are in folio->pincount). */
struct held_ref {
	const struct region *r; /* the region the gup step named */
	uint64_t page;		/* page index in r */
	uint64_t pfn;		/* the page GUP returned */
	bool pin;		/* FOLL_PIN; else a FOLL_GET reference */
};

struct world {
	GPtrArray *mms;		    /* struct mm_struct *, in declaration order */
	GPtrArray *regions;	    /* struct region *, in declaration order */
	GPtrArray *files;	    /* struct address_space * */
	GPtrArray *uffds;	    /* struct userfaultfd_ctx * */
	GHashTable *proc_by_name;   /* char * -> struct mm_struct * */
	GHashTable *region_by_name; /* char * -> struct region * */
	GHashTable *file_by_name;   /* char * -> struct address_space * */
	GHashTable *uffd_by_name;   /* char * -> struct userfaultfd_ctx * */
	GHashTable *uffd_gone;	    /* char * (owned) -> why the name has no context */
	GArray *held;		    /* struct held_ref; NULL until the first hold */
};

static inline uint64_t region_page_addr(const struct region *r, uint64_t page)
{
	return r->start + page * PAGE_SIZE;
}

/* The names of the userfaultfd contexts, sorted (hash order is not stable
 * across GLib versions); the caller frees the array, not the names. */
GPtrArray *world_uffd_names(const struct world *w);

/* The region (and page index in it) containing addr of mm, or NULL. */
struct region *world_region_of(const struct world *w, const struct mm_struct *mm, uint64_t addr,
			       uint64_t *page);

#endif
