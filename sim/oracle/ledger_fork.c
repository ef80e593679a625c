/* sim/oracle/ledger_fork.c - what fork() means for the RWP and WP ledgers.
 *
 * Re-derived from the uffd API, not from the paths: a child page stays
 * tracked exactly when the parent page was tracked under a context that
 * negotiated UFFD_FEATURE_EVENT_FORK (rwp-series §3.9), and it then starts in
 * the parent's state (armed stays armed, accessed stays accessed, dropped
 * stays dropped; WP-protected stays protected). Without the feature the child
 * range is unregistered and untracked; the parent's ledger never changes.
 * The encoding checks ("stray protnone+uffd", "stray uffd") then catch an
 * arming that leaked into an unregistered child, and "registration" a child
 * VMA whose flags disagree with this.
 */
#include "oracle_internal.h"

static const struct userfaultfd_ctx *ctx_by_id(const struct oracle *o, uint32_t id)
{
	for (guint i = 0; o->w->uffds && i < o->w->uffds->len; i++) {
		const struct userfaultfd_ctx *c = g_ptr_array_index(o->w->uffds, i);
		if (c->id == id)
			return c;
	}
	return NULL;
}

/* The mm-level event: copy every page whose context has EVENT_FORK. The
 * child page keeps the parent's context id until the per-context event names
 * the child's context. */
static void fork_pages(struct oracle *o, const struct mm_event *ev)
{
	struct mm_ledger *pl = ledger_get(o, ev->mm_id, false);
	struct ledger_iter it;
	const struct lpage *lp;

	if (!pl)
		return;
	ledger_iter_init(&it, o, pl);
	while ((lp = ledger_iter_next(&it))) {
		const struct userfaultfd_ctx *c = ctx_by_id(o, lp->ctx_id);

		if (!c || !(c->features & UFFD_FEATURE_EVENT_FORK))
			continue;
		struct lpage *cp = ledger_page(o, ev->value, lp->addr, true);
		cp->rwp = lp->rwp;
		cp->wp = lp->wp;
		cp->modes = lp->modes;
		cp->rwp_state = lp->rwp_state;
		cp->unarmed_page = lp->unarmed_page;
		cp->wp_state = lp->wp_state;
		/* A fault delivered to the parent's task is not the child's. */
		cp->rwp_delivered = false;
		cp->wp_delivered = false;
		cp->ctx_id = lp->ctx_id;
	}
}

bool ledger_fork_event(struct oracle *o, const struct mm_event *ev)
{
	if (!ev->ctx_id) {
		fork_pages(o, ev);
		return true;
	}
	const struct userfaultfd_ctx *c = ctx_by_id(o, ev->ctx_id);
	if (!c || !(c->features & UFFD_FEATURE_EVENT_FORK))
		return oracle_fail(o, "registration", ev->value, 0, 0, 0,
				   "fork gave the child a context for parent context %u, which "
				   "has no UFFD_FEATURE_EVENT_FORK",
				   ev->ctx_id);
	struct mm_ledger *cl = ledger_get(o, ev->value, false);
	struct ledger_iter it;
	struct lpage *cp;
	if (!cl)
		return true;
	ledger_iter_init(&it, o, cl);
	while ((cp = ledger_iter_next(&it))) {
		if (cp->ctx_id == ev->ctx_id)
			cp->ctx_id = (uint32_t)ev->mode;
	}
	return true;
}
