/* sim/engine/exec_pin.c - GUP references and pins kept across steps.
 *
 * "gup R ... hold=1" keeps what the caller got instead of releasing it at
 * the end of the step: a pin for FOLL_PIN callers (pin_user_pages*,
 * process_vm_*), a reference for FOLL_GET ones (get_user_pages*, vmsplice,
 * /proc/pid/mem, ...), as a driver holding a long-term DMA pin or a pipe
 * holding vmsplice'd pages does. "unpin R [pages=...]" releases them
 * (unpin_user_pages() / put_page()); whatever is still held when the trace
 * ends is released then.
 *
 * The table is world->held, one struct held_ref per page in the order they
 * were taken, so the oracle's refcount check can count the held FOLL_GET
 * references (a pin is in folio->pincount already).
 */
#include "engine.h"

#include "mm/internal.h"

void engine_hold_pages(struct engine *e, const struct region *r, GArray *got)
{
	struct world *w = &e->world;

	if (!got || !got->len)
		return;
	if (!w->held)
		w->held = g_array_new(FALSE, FALSE, sizeof(struct held_ref));
	for (guint i = 0; i < got->len; i++) {
		const struct gup_held_page *h = &g_array_index(got, struct gup_held_page, i);
		struct held_ref ref = { .r = r,
					.page = (h->addr - r->start) >> PAGE_SHIFT,
					.pfn = page_to_pfn(h->page),
					.pin = h->pin };
		g_array_append_val(w->held, ref);
	}
	g_array_set_size(got, 0);
}

static bool held_on(const struct held_ref *h, const struct region *r, uint64_t page)
{
	return h->r == r && h->page == page;
}

/* unpin R [pages=...]: every hold on the named pages (default: every page
 * of R that has one); a page without one is bad input. */
int engine_exec_unpin(struct engine *e, const struct step *s, struct region *r)
{
	g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	GArray *held = e->world.held;
	bool all = !step_has(s, "pages");
	guint kept = 0, released = 0;

	if (!engine_pages(e, s, r, pages))
		return RESULT_OK;
	/* Check first: a bad step changes nothing. */
	for (guint i = 0; !all && i < pages->len; i++) {
		uint64_t p = g_array_index(pages, uint64_t, i);
		bool found = false;

		for (guint j = 0; held && j < held->len && !found; j++)
			found = held_on(&g_array_index(held, struct held_ref, j), r, p);
		if (!found) {
			engine_bad_input(e, s,
					 "page %" G_GUINT64_FORMAT
					 " of region '%s' holds no GUP pin or reference "
					 "(gup ... hold=1 takes one)",
					 p, r->name);
			return RESULT_OK;
		}
	}
	for (guint j = 0; held && j < held->len; j++) {
		struct held_ref h = g_array_index(held, struct held_ref, j);
		bool match = false;

		for (guint i = 0; i < pages->len && !match; i++)
			match = held_on(&h, r, g_array_index(pages, uint64_t, i));
		if (!match) {
			g_array_index(held, struct held_ref, kept++) = h;
			continue;
		}
		gup_release_page(pfn_to_page(h.pfn), h.pin);
		released++;
	}
	if (held)
		g_array_set_size(held, kept);
	if (all && !released)
		engine_bad_input(e, s, "region '%s' holds no GUP pin or reference", r->name);
	return RESULT_OK;
}

void engine_release_holds(struct engine *e)
{
	GArray *held = e->world.held;

	if (!held)
		return;
	/* After a failure the state may be broken: machine_destroy() frees
	 * every frame anyway. */
	for (guint i = 0; e->verdict == VERDICT_PASS && i < held->len; i++) {
		const struct held_ref *h = &g_array_index(held, struct held_ref, i);

		gup_release_page(pfn_to_page(h->pfn), h->pin);
	}
	g_array_free(held, TRUE);
	e->world.held = NULL;
}
