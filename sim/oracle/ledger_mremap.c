/* sim/oracle/ledger_mremap.c - what mremap() does to the RWP/WP ledger.
 *
 * The user-visible contract (rwp-series.md §2.5, §3.9; kernel-paths.md
 * §6.2): a range that stays where it is (shrink, grow in place) keeps its
 * registration; a range that moves keeps it only when its context has
 * UFFD_FEATURE_EVENT_REMAP. Then every page keeps its ledger state at the
 * new address. Without it the destination is not registered: the pages are
 * no longer tracked, and pages that were armed or write-protected must come
 * out normalised — no uffd bit, and not protnone (an armed page becomes
 * accessible; it is not left as a NUMA hint). The rest of the old range and
 * whatever the destination held before is gone.
 */
#include "oracle_internal.h"

#include "linux/mm.h"

static bool ctx_has_event_remap(struct oracle *o, uint32_t ctx_id)
{
	for (guint i = 0; o->w->uffds && i < o->w->uffds->len; i++) {
		struct userfaultfd_ctx *c = g_ptr_array_index(o->w->uffds, i);
		if (c->id == ctx_id)
			return c->features & UFFD_FEATURE_EVENT_REMAP;
	}
	return false;
}

/* Take (copies of) the tracked pages of [start, start + len) out of the
 * ledger, with their per-step fields as they are now. */
static GArray *take_range(struct oracle *o, struct mm_ledger *l, uint64_t start, uint64_t len)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct lpage));
	struct ledger_iter it;
	struct lpage *lp;

	ledger_iter_init(&it, o, l);
	while ((lp = ledger_iter_next(&it))) {
		if (lp->addr < start || lp->addr >= start + len)
			continue;
		g_array_append_val(out, *lp);
		ledger_iter_remove(&it);
	}
	return out;
}

bool ledger_mremap(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm)
{
	struct mm_ledger *l = ledger_get(o, ev->mm_id, false);
	if (!l || !mm)
		return true;
	uint64_t moved = ev->len < ev->new_len ? ev->len : ev->new_len;
	bool in_place = ev->new_address == ev->address;
	g_autoptr(GArray) old = take_range(o, l, ev->address, ev->len);
	/* What the destination held is dropped. */
	G_GNUC_UNUSED g_autoptr(GArray) dst = take_range(o, l, ev->new_address, ev->new_len);
	struct lpage *proto = NULL; /* a page of the range, for the grown tail */

	for (guint i = 0; i < old->len; i++) {
		struct lpage *lp = &g_array_index(old, struct lpage, i);
		uint64_t off = lp->addr - ev->address;
		if (off >= moved)
			continue; /* shrunk away */
		uint64_t to = ev->new_address + off;
		if (!in_place && !ctx_has_event_remap(o, lp->ctx_id)) {
			/* Normalised: unregistered, and no longer armed or protected. */
			struct pview pv = oracle_view(mm, to);
			struct vm_area_struct *vma = vma_lookup(mm, to);
			bool armed = lp->rwp && lp->rwp_state == L_ARMED;
			bool prot = lp->wp && lp->wp_state == W_PROT;
			if ((armed || prot) && pv.uffd)
				return oracle_fail(
					o, "mremap normalise", mm->id, to, lp->before, pv.val,
					"mremap without UFFD_FEATURE_EVENT_REMAP kept the "
					"uffd bit of a moved %s entry",
					armed ? "armed" : "write-protected");
			if (armed && pv.kind == PV_PRESENT && pv.protnone && vma &&
			    vma_is_accessible(vma))
				return oracle_fail(
					o, "mremap normalise", mm->id, to, lp->before, pv.val,
					"mremap without UFFD_FEATURE_EVENT_REMAP left a moved "
					"armed page protnone (a NUMA hint) instead of "
					"rebuilding it from vm_page_prot");
			continue;
		}
		struct lpage *np = ledger_page(o, ev->mm_id, to, true);
		uint64_t addr = np->addr;
		*np = *lp;
		np->addr = addr;
		proto = np;
	}
	/* Grown: the new pages belong to the same, still registered VMA. */
	for (uint64_t off = moved; proto && off < ev->new_len; off += PAGE_SIZE) {
		struct lpage *np = ledger_page(o, ev->mm_id, ev->new_address + off, true);
		np->rwp = proto->rwp;
		np->wp = proto->wp;
		np->modes = proto->modes;
		np->rwp_state = L_UNTRACKED;
		np->wp_state = W_UNPROT;
		np->ctx_id = proto->ctx_id;
	}
	return true;
}
