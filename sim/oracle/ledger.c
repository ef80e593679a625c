/* sim/oracle/ledger.c - the RWP and WP ledgers: what a VMM using the uffd API
 * has been told about each registered page, compared with the page tables.
 *
 * The ledger moves only on user-visible events (registration, arm/resolve,
 * faults delivered or resolved in place, accesses). Drop permissions come
 * from the step itself (its command and range) and from state snapshots,
 * never from which kernel function ran.
 */
#include "oracle_internal.h"

#include "linux/mm.h"
#include "patch.h"

/* ------------------------------------------------------------ permissions */

static bool is_pagecache_step(const struct step *s)
{
	uint64_t adv = step_u64(s, "advice", 0);
	switch (s->cmd) {
	case CMD_RECLAIM:
	case CMD_KHUGEPAGED_PASS:
	case CMD_KHUGEPAGED_SCAN:
		return true;
	case CMD_MADVISE:
		return adv == O_MADV_PAGEOUT || adv == O_MADV_COLLAPSE;
	default:
		return false;
	}
}

static bool is_reclaim_step(const struct step *s)
{
	return s->cmd == CMD_RECLAIM ||
	       (s->cmd == CMD_MADVISE && step_u64(s, "advice", 0) == O_MADV_PAGEOUT);
}

/* A page of region r named by the step's "pages" (whole region if absent). */
static bool in_step_range(const struct step *s, const struct region *r, uint64_t mm_id,
			  uint64_t addr)
{
	if (!r || r->mm->id != mm_id || addr < r->start || addr >= r->start + r->len)
		return false;
	return step_page_in_range(s, "pages", (addr - r->start) / PAGE_SIZE);
}

/* The entry maps a page of a PMD-order folio (a THP, maybe PTE-mapped). */
static bool pv_maps_pmd_folio(const struct pview *pv)
{
	if (pv->kind != PV_PRESENT || !pv->pfn || pv->pfn >= mem_map.next_pfn)
		return false;
	const struct folio *f = pfn_folio(pv->pfn);
	return f->in_use && folio_test_pmd_mappable(f);
}

/* Anon lazyfree page that reclaim may discard: O_MADV_FREE'd and clean. */
static bool lazyfree_clean(const struct pview *pv)
{
	if (pv->kind != PV_PRESENT || !pv->pfn || pv->pfn >= mem_map.next_pfn)
		return false;
	struct folio *f = pfn_folio(pv->pfn);
	return f->in_use && folio_test_lazyfree(f) && !folio_test_dirty(f) &&
	       !(pv->val & _PAGE_DIRTY);
}

/* What a step's drop permissions depend on, looked up once per step. */
struct step_facts {
	struct region *r;
	uint64_t adv;
	struct address_space *punched;
	bool pagecache, reclaim;
};

static void step_facts(struct oracle *o, const struct step *s, struct step_facts *f)
{
	f->r = step_region(o, s);
	f->adv = step_u64(s, "advice", 0);
	f->punched = s->cmd == CMD_FALLOCATE ? step_file(o, s) : NULL;
	f->pagecache = is_pagecache_step(s);
	f->reclaim = is_reclaim_step(s);
}

/* Reclaim's try_to_unmap() drops every PTE of a shmem folio it picks, in
 * any VMA, and RWP leaves no marker (rwp-series §2.7, swap-out row: "the
 * PTE is dropped and the marker lost"), whether or not the folio is then
 * written out. True for a page of any mapping of a file folio that has a
 * page the step names (reclaim takes whole folios). */
static bool reclaims_file_page(const struct step *s, const struct region *r,
			       const struct vm_area_struct *vma, uint64_t addr)
{
	if (!r || !r->file || !vma || vma->vm_file != r->file)
		return false;
	const struct address_space *file = r->file;
	uint64_t idx = linear_page_index(vma, addr), first = idx, nr = 1;
	uint64_t e = idx < file->nr_slots ? file->i_pages[idx] : 0;
	if (e && !xa_is_value(e)) {
		const struct folio *f = page_folio(pfn_to_page(xa_to_pfn(e)));
		first = f->index;
		nr = folio_nr_pages(f);
	}
	for (uint64_t i = first; i < first + nr; i++)
		if (i >= r->file_pgoff && i < r->file_pgoff + r->len / PAGE_SIZE &&
		    step_page_in_range(s, "pages", i - r->file_pgoff))
			return true;
	return false;
}

static void page_permissions(struct oracle *o, const struct step *s, const struct step_facts *f,
			     struct mm_struct *mm, struct lchunk *c, struct lpage *lp,
			     const struct pview *pv)
{
	struct region *r = f->r;
	uint64_t adv = f->adv;

	switch (s->cmd) {
	case CMD_MUNMAP:
		if (in_step_range(s, r, mm->id, lp->addr))
			lp->perm |= PERM_DROP;
		break;
	case CMD_MADVISE:
		if (adv == O_MADV_DONTNEED && in_step_range(s, r, mm->id, lp->addr))
			lp->perm |= PERM_DROP;
		/* MADV_FREE discards a swapped-out page outright
		 * (madvise_free_pte_range frees the slot and clears the
		 * entry, leaving no marker): the user gave the data up. A
		 * present page only becomes lazyfree (see reclaim below). */
		if (adv == O_MADV_FREE && in_step_range(s, r, mm->id, lp->addr) &&
		    is_swap_pte(__pte(lp->before)) &&
		    !non_swap_entry(pte_to_swp_entry(__pte(lp->before))))
			lp->perm |= PERM_DROP;
		break;
	case CMD_FALLOCATE: {
		struct address_space *file = f->punched;
		struct vm_area_struct *vma = vma_lookup(mm, lp->addr);
		if (file && vma && vma->vm_file == file &&
		    step_page_in_range(s, "pages", linear_page_index(vma, lp->addr)))
			lp->perm |= PERM_DROP;
		break;
	}
	case CMD_FTRUNCATE: /* ledger_move.c */
		if (ftruncate_drops(o, s, vma_lookup(mm, lp->addr), lp->addr))
			lp->perm |= PERM_DROP;
		break;
	default:
		break;
	}

	if (f->pagecache && !(lp->perm & PERM_CACHE)) {
		struct vm_area_struct *vma = vma_lookup(mm, lp->addr);
		if (vma && vma->vm_file) {
			uint64_t idx = linear_page_index(vma, lp->addr);
			if (idx < vma->vm_file->nr_slots) {
				if (!c->cache)
					c->cache = g_new0(struct lcache, LCHUNK_PAGES);
				struct lcache *lc = &c->cache[lp - c->p];
				lp->perm |= PERM_CACHE;
				lc->file = vma->vm_file;
				lc->index = idx;
				lc->cache_before = vma->vm_file->i_pages[idx];
			}
		}
	}
	if (f->reclaim && lazyfree_clean(pv))
		lp->perm |= PERM_DROP;
	if (f->reclaim && reclaims_file_page(s, r, vma_lookup(mm, lp->addr), lp->addr))
		lp->perm |= PERM_FILE_UNMAP;
}

/* Commands whose pages page_permissions() may grant a drop to. */
static bool grants_drops(const struct step *s, const struct step_facts *f)
{
	return s->cmd == CMD_MUNMAP || s->cmd == CMD_MADVISE || s->cmd == CMD_FALLOCATE ||
	       s->cmd == CMD_FTRUNCATE || f->pagecache || f->reclaim;
}

/* Snapshot each page's entry (outermost step) and grant the step's drop
 * permissions. Permissions are only ever consulted for a page the ledger
 * has armed or write-protected, and a step without a race window cannot
 * make a page so and drop it again (its events come after it ran), so a
 * quiet chunk needs none; a chunk without a page table records that once.
 * Inside race windows every page gets them, as nested steps may arm. */
void ledger_step_begin(struct oracle *o, const struct step *s, bool outermost)
{
	GHashTableIter li;
	gpointer k, val;
	struct step_facts facts = { 0 };
	bool drops = false, all = o->depth > 1;
	struct pview pv[LCHUNK_PAGES];

	if (s) {
		step_facts(o, s, &facts);
		drops = grants_drops(s, &facts);
		all = all || step_u64(s, "race", 0);
	}
	g_hash_table_iter_init(&li, o->ledgers);
	while (g_hash_table_iter_next(&li, &k, &val)) {
		struct mm_ledger *l = val;
		struct mm_struct *mm = oracle_mm(o, l->mm_id);
		if (!mm)
			continue;
		uint64_t pos = 0;
		struct lchunk *c;
		while ((c = ledger_next_chunk(l, &pos))) {
			if (c->dirty)
				lchunk_summarise(c);
			bool perms = drops && (all || !c->quiet);
			if (!outermost && !perms)
				continue;
			if (outermost && !perms) {
				/* The snapshot alone: raw entries, no views. */
				struct pview top;
				const uint64_t *e = oracle_chunk_entries(mm, c->base, &top);
				if (!e && top.kind == PV_NOTABLE) {
					c->none_epoch = o->step_epoch;
					continue;
				}
				lchunk_refresh(o, c);
				for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
					c->p[i].before = e ? e[i] : top.val;
					c->p[i].before_huge =
						!e && top.huge && top.kind == PV_PRESENT;
				}
				continue;
			}
			lchunk_refresh(o, c);
			oracle_view_chunk(mm, c->base, pv);
			for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
				if (!lchunk_has(c, i))
					continue;
				struct lpage *lp = &c->p[i];
				if (outermost) {
					lp->before = pv[i].val;
					lp->before_huge = pv[i].huge && pv[i].kind == PV_PRESENT;
				}
				if (perms)
					page_permissions(o, s, &facts, mm, c, lp, &pv[i]);
			}
		}
	}
}

/* Per-step fields expire with the step epoch (ledger_store.c). */
void ledger_step_end(struct oracle *o) {}

static bool drop_permitted(const struct lchunk *c, const struct lpage *lp)
{
	if (lp->perm & PERM_DROP)
		return true;
	const struct lcache *lc = c->cache ? &c->cache[lp - c->p] : NULL;
	return (lp->perm & PERM_CACHE) && lc && lc->file &&
	       lc->file->i_pages[lc->index] != lc->cache_before;
}

/* ------------------------------------------------------------ events */

static const char *const rwp_state_names[] = { "untracked", "armed", "accessed", "dropped" };

/* WP protects none pages too where markers are used (shmem, WP_UNPOPULATED). */
static bool wp_uses_markers(struct oracle *o, const struct vm_area_struct *vma, uint32_t ctx_id)
{
	if (vma->vm_file)
		return true;
	for (guint i = 0; o->w->uffds && i < o->w->uffds->len; i++) {
		struct userfaultfd_ctx *c = g_ptr_array_index(o->w->uffds, i);
		if (c->id == ctx_id)
			return c->features & UFFD_FEATURE_WP_UNPOPULATED;
	}
	return false;
}

static uint64_t ev_pages(const struct mm_event *ev)
{
	return ev->len ? (ev->len + PAGE_SIZE - 1) / PAGE_SIZE : 1;
}

static void ev_register(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm)
{
	bool rwp = ev->mode & UFFDIO_REGISTER_MODE_RWP, wp = ev->mode & UFFDIO_REGISTER_MODE_WP;
	if (!mm)
		return;
	for (uint64_t i = 0; i < ev_pages(ev); i++) {
		uint64_t addr = ev->address + i * PAGE_SIZE;
		if (!vma_lookup(mm, addr))
			continue;
		struct lpage *lp = ledger_page(o, mm->id, addr, rwp || wp);
		if (!lp)
			continue;
		/* userfaultfd_register_range() leaves a VMA alone that this
		 * context registered with these modes already: exactly these
		 * under the series, at least these in 6.18 (the kernel's own
		 * rule, which a VMM sees in which modes stay in force). */
		if (lp->ctx_id == ev->ctx_id &&
		    (kernel_base->uffd_register_exact_mode ? lp->modes == ev->mode
							   : (lp->modes & ev->mode) == ev->mode))
			continue;
		lp->modes = (uint8_t)ev->mode;
		/* A re-register with a mode it did not have replaces the modes:
		 * one that drops WP (6.18 allows it; the series refuses it with
		 * EBUSY) ends its tracking. */
		if (!rwp)
			lp->rwp = false;
		if (!wp)
			lp->wp = false;
		/* Re-registering keeps what the page already is. */
		if (rwp && !lp->rwp) {
			lp->rwp = true;
			lp->rwp_state = L_UNTRACKED;
			lp->rwp_delivered = false;
		}
		if (wp && !lp->wp) {
			lp->wp = true;
			lp->wp_state = W_UNPROT;
			lp->wp_delivered = false;
		}
		lp->ctx_id = ev->ctx_id;
	}
}

static void ev_unregister(struct oracle *o, const struct mm_event *ev)
{
	for (uint64_t i = 0; i < ev_pages(ev); i++)
		ledger_remove(o, ev->mm_id, ev->address + i * PAGE_SIZE);
}

static void ev_close(struct oracle *o, const struct mm_event *ev)
{
	struct mm_ledger *l = ledger_get(o, ev->mm_id, false);
	struct ledger_iter it;
	struct lpage *lp;
	if (!l)
		return;
	ledger_iter_init(&it, o, l);
	while ((lp = ledger_iter_next(&it)))
		if (lp->ctx_id == ev->ctx_id)
			ledger_iter_remove(&it);
}

/* An armed or write-protected page: what makes a chunk not quiet. */
static bool lpage_loud(const struct lpage *lp)
{
	return (lp->rwp && lp->rwp_state == L_ARMED) || (lp->wp && lp->wp_state == W_PROT);
}

/* One chunk at a time: one walk per 512 pages, and none of a chunk without
 * a page table (a 64 GiB arm is mostly those). The chunk is not touched:
 * the per-step fields it reads are read through their epochs, and its
 * summary is kept up to date here rather than recomputed. */
static void ev_range(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm)
{
	static const struct pview notable = { .kind = PV_NOTABLE };
	struct mm_ledger *l = ledger_get(o, ev->mm_id, false);
	struct pview pvs[LCHUNK_PAGES];
	struct lchunk *c = NULL;
	bool tabled = false, nested = false, none = false;

	for (uint64_t i = 0; mm && l && i < ev_pages(ev); i++) {
		uint64_t addr = ev->address + i * PAGE_SIZE;
		unsigned ci = (addr >> PAGE_SHIFT) % LCHUNK_PAGES;
		if (!c || c->base != (addr & ~((1ull << LCHUNK_SHIFT) - 1))) {
			c = ledger_chunk(l, addr);
			if (!c) {
				/* the rest of this chunk is untracked */
				i += LCHUNK_PAGES - ci - 1;
				continue;
			}
			tabled = !oracle_view_chunk(mm, c->base, NULL);
			nested = c->perm_epoch == o->step_epoch;
			none = c->none_epoch && c->none_epoch == o->step_epoch;
			/* A whole chunk of registered pages, none armed, with no
			 * table now nor before the step: every page ends up
			 * dropped and unarmed (see below), so say that once and
			 * write it into the pages only if someone looks. */
			if (ev->kind == EV_UFFD_ARM && !tabled && none && !nested && !ci &&
			    ev_pages(ev) - i >= LCHUNK_PAGES && !c->dirty && c->quiet &&
			    c->uniform && c->u_rwp) {
				c->arm_pending = true;
				i += LCHUNK_PAGES - 1;
				continue;
			}
			lchunk_settle(c);
			if (tabled)
				oracle_view_chunk(mm, c->base, pvs);
		}
		if (!lchunk_has(c, ci))
			continue;
		struct lpage *lp = &c->p[ci];
		const struct pview *pv = tabled ? &pvs[ci] : &notable;
		bool loud = lpage_loud(lp);
		switch (ev->kind) {
		case EV_UFFD_ARM:
			/* A none page cannot be armed (no markers), but it must not be
			 * populated without an access either: fault-around is off for
			 * RWP VMAs and collapse must not fill none PTEs. */
			if (lp->rwp && pv_populated(pv))
				lp->rwp_state = L_ARMED;
			else if (lp->rwp && lp->rwp_state != L_ARMED)
				lp->rwp_state = L_DROPPED;
			lp->rwp_delivered = false;
			/* Exceptions table EXC_UNARMED_PMD: a page this arm did not
			 * arm (none before the step, or a file PMD the arm zapped) may
			 * be mapped whole by a neighbour's huge fault. A page armed and
			 * dropped by some path does not qualify: K2 is exactly that.
			 * Nor does one registered inside a race window, whose state
			 * before the step is unknown (K2-retract-race). */
			lp->unarmed_page = lp->rwp_state == L_DROPPED &&
					   !(nested && lp->born_nested) &&
					   (none || lp->before_huge || !lp->before);
			break;
		case EV_UFFD_RESOLVE:
			if (lp->rwp && lp->rwp_state == L_ARMED)
				lp->rwp_state = L_ACCESSED;
			lp->rwp_delivered = false;
			break;
		case EV_UFFD_WP: {
			struct vm_area_struct *vma = vma_lookup(mm, addr);
			if (lp->wp &&
			    (pv_populated(pv) || (vma && wp_uses_markers(o, vma, lp->ctx_id)))) {
				lp->wp_state = W_PROT;
				lp->wp_delivered = false;
			}
			break;
		}
		case EV_UFFD_UNWP:
			lp->wp_state = W_UNPROT;
			lp->wp_delivered = false;
			break;
		case EV_UFFD_FILL:
			/* An ioctl fill installs an unarmed entry (rwp-series §7.5). */
			if (lp->rwp)
				lp->rwp_state = L_ACCESSED;
			if (lp->wp)
				lp->wp_state = (ev->mode & UFFDIO_COPY_MODE_WP) ? W_PROT : W_UNPROT;
			break;
		default:
			break;
		}
		if (lpage_loud(lp))
			c->quiet = false;
		else if (loud)
			c->dirty = true; /* may have become quiet */
	}
}

/* The entry at addr now (for reports of event-time violations). */
static uint64_t cur_val(struct mm_struct *mm, uint64_t addr)
{
	return mm ? oracle_view(mm, addr).val : 0;
}

static bool ev_rwp_fault(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm)
{
	struct lpage *lp = ledger_page(o, ev->mm_id, ev->address, false);
	if (!lp || !lp->rwp || lp->rwp_state != L_ARMED)
		return oracle_fail(
			o, "false fault", ev->mm_id, ev->address, lp ? lp->before : 0,
			cur_val(mm, ev->address), "an RWP fault (%s) for a page the ledger has %s",
			ev->async ? "async" : "sync",
			!lp || !lp->rwp ? "not registered RWP" : rwp_state_names[lp->rwp_state]);
	if (!ev->async) {
		lp->rwp_delivered = true;
		return true;
	}
	lp->rwp_state = L_ACCESSED;
	lp->rwp_delivered = false;
	/* Exceptions table EXC_ASYNC_PMD: the whole PMD is resolved at once.
	 * It may be split later in the same step (a write then COWs a shared
	 * THP), so a PMD mapping before the step counts too. */
	struct pview pv = mm ? oracle_view(mm, ev->address) : (struct pview){ 0 };
	if ((pv.kind == PV_PRESENT && pv.huge) || lp->before_huge) {
		uint64_t haddr = ev->address & PMD_MASK;
		for (uint64_t i = 0; i < HPAGE_PMD_NR; i++) {
			struct lpage *q = ledger_page(o, ev->mm_id, haddr + i * PAGE_SIZE, false);
			if (q && q->rwp && q->rwp_state == L_ARMED) {
				q->rwp_state = L_ACCESSED;
				q->rwp_delivered = false;
			}
		}
	}
	return true;
}

static bool ev_wp_fault(struct oracle *o, const struct mm_event *ev)
{
	struct lpage *lp = ledger_page(o, ev->mm_id, ev->address, false);
	if (!lp || !lp->wp || lp->wp_state != W_PROT)
		return oracle_fail(o, "false fault", ev->mm_id, ev->address, 0, 0,
				   "a WP fault (%s) for a page the ledger has %s",
				   ev->async ? "async" : "sync",
				   !lp || !lp->wp ? "not registered WP" : "unprotected");
	if (ev->async) {
		lp->wp_state = W_UNPROT;
		lp->wp_delivered = false;
	} else {
		lp->wp_delivered = true;
	}
	return true;
}

static bool ev_access(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm)
{
	struct lpage *lp = ledger_page(o, ev->mm_id, ev->address, false);
	if (!lp)
		return true;
	if (lp->rwp) {
		if (lp->rwp_state == L_ARMED) {
			struct vm_area_struct *vma = mm ? vma_lookup(mm, ev->address) : NULL;
			/* E1 first: a FOLL_FORCE read through an inaccessible VMA
			 * leaves the arming (and a fault still pending) untouched. */
			if (exception_force_prot_none(ev, vma)) {
				/* nothing */
			} else if (lp->rwp_delivered) {
				lp->rwp_state = L_ACCESSED;
				lp->rwp_delivered = false;
			} else {
				return oracle_fail(o, "unobserved access", ev->mm_id, ev->address,
						   lp->before, cur_val(mm, ev->address),
						   "a %s %s of an armed page completed with no RWP "
						   "fault delivered or resolved since the arm",
						   ev->who == ACCESS_GUP ? "GUP" : "user",
						   ev->write ? "write" : "read");
			}
		} else if (lp->rwp_state == L_DROPPED) {
			lp->rwp_state = L_ACCESSED;
		}
	}
	if (lp->wp && ev->write && lp->wp_state == W_PROT) {
		if (!lp->wp_delivered)
			return oracle_fail(o, "unobserved write", ev->mm_id, ev->address,
					   lp->before, cur_val(mm, ev->address),
					   "a %s write to a write-protected page completed with no "
					   "WP fault",
					   ev->who == ACCESS_GUP ? "GUP" : "user");
		lp->wp_state = W_UNPROT;
		lp->wp_delivered = false;
	}
	return true;
}

bool ledger_event(struct oracle *o, const struct mm_event *ev)
{
	struct mm_struct *mm = oracle_mm(o, ev->mm_id);
	switch (ev->kind) {
	case EV_UFFD_REGISTER:
		ev_register(o, ev, mm);
		return true;
	case EV_UFFD_UNREGISTER:
		ev_unregister(o, ev);
		return true;
	case EV_UFFD_CLOSE:
		ev_close(o, ev);
		return true;
	case EV_UFFD_ARM:
	case EV_UFFD_RESOLVE:
	case EV_UFFD_WP:
	case EV_UFFD_UNWP:
	case EV_UFFD_FILL:
		ev_range(o, ev, mm);
		return true;
	case EV_RWP_FAULT:
		return ev_rwp_fault(o, ev, mm);
	case EV_WP_FAULT:
		return ev_wp_fault(o, ev);
	case EV_ACCESS:
		return ev_access(o, ev, mm);
	case EV_MREMAP:
		return ledger_mremap(o, ev, mm);
	case EV_FORK:
		return ledger_fork_event(o, ev);
	case EV_UFFD_MOVE:
		return ledger_uffd_move(o, ev, mm);
	default:
		return true;
	}
}

/* ------------------------------------------------------------ state check */

static bool check_rwp_page(struct oracle *o, struct mm_struct *mm, const struct lchunk *c,
			   struct lpage *lp, const struct pview *pv)
{
	switch (lp->rwp_state) {
	case L_ARMED:
		if (pv_rwp_armed(pv))
			return true;
		if (pv_pagemap_accessed(pv))
			return oracle_fail(
				o, "false access", mm->id, lp->addr, lp->before, pv->val,
				"ledger armed, but the entry is %s: PAGEMAP_SCAN reports "
				"ACCESSED with no RWP fault or resolve",
				pview_name(pv, true));
		if (pv_gone(pv) || pv->kind == PV_MARKER) {
			if (drop_permitted(c, lp) || (lp->perm & PERM_FILE_UNMAP)) {
				lp->rwp_state = L_DROPPED;
				/* A drop the user asked for (munmap, DONTNEED,
				 * punch...) ends the arming: a huge fault may now
				 * map the page unarmed (E3). */
				lp->unarmed_page = lp->perm & PERM_DROP;
				return true;
			}
			return oracle_fail(o, "lost arming", mm->id, lp->addr, lp->before, pv->val,
					   "ledger armed, entry now %s, and the step has no drop "
					   "permission for this page",
					   pview_name(pv, true));
		}
		return true; /* present+uffd without protnone: "rwp encoding" reports it */
	case L_DROPPED:
		if (pv_pagemap_accessed(pv)) {
			/* exceptions table EXC_UNARMED_PMD: mapped whole by a huge
			 * fault, possibly split since (FOLL_SPLIT_PMD) */
			if (lp->unarmed_page && (pv->huge || pv_maps_pmd_folio(pv))) {
				lp->rwp_state = L_ACCESSED;
				return true;
			}
			return oracle_fail(o, "false access", mm->id, lp->addr, lp->before, pv->val,
					   "ledger dropped (not accessed since), but the entry is "
					   "%s: PAGEMAP_SCAN reports ACCESSED with no access",
					   pview_name(pv, true));
		}
		/* fall through */
	default:
		if (pv_rwp_armed(pv))
			return oracle_fail(o, "false fault", mm->id, lp->addr, lp->before, pv->val,
					   "ledger %s, but the entry is armed: the next access "
					   "raises an RWP fault nobody asked for",
					   rwp_state_names[lp->rwp_state]);
		return true;
	}
}

static bool check_wp_page(struct oracle *o, struct mm_struct *mm, const struct lchunk *c,
			  struct lpage *lp, const struct pview *pv)
{
	if (lp->wp_state == W_UNPROT) {
		if (pv_wp_protected(pv))
			return oracle_fail(o, "false fault", mm->id, lp->addr, lp->before, pv->val,
					   "ledger unprotected, but the entry is write-protected "
					   "(%s)",
					   pview_name(pv, false));
		return true;
	}
	if (pv->kind == PV_PRESENT && pv->write)
		return oracle_fail(o, "unobserved write", mm->id, lp->addr, lp->before, pv->val,
				   "ledger write-protected, but the entry is writable");
	if (pv_wp_protected(pv))
		return true;
	if (pv_gone(pv) && drop_permitted(c, lp)) {
		lp->wp_state = W_UNPROT;
		return true;
	}
	return oracle_fail(o, "lost wp", mm->id, lp->addr, lp->before, pv->val,
			   "ledger write-protected, entry now %s without the uffd bit or marker",
			   pview_name(pv, false));
}

static bool check_page(struct oracle *o, struct mm_struct *mm, const struct vm_area_struct *vma,
		       const struct lchunk *c, struct lpage *lp, const struct pview *pv)
{
	if (lp->rwp && (vma->vm_flags & VM_UFFD_RWP) && !check_rwp_page(o, mm, c, lp, pv))
		return false;
	if (lp->wp && (vma->vm_flags & VM_UFFD_WP) && !check_wp_page(o, mm, c, lp, pv))
		return false;
	return true;
}

static bool check_registration(struct oracle *o, struct mm_struct *mm,
			       const struct vm_area_struct *vma, struct lpage *lp, uint64_t addr)
{
	bool rwp = vma->vm_flags & VM_UFFD_RWP, wp = vma->vm_flags & VM_UFFD_WP;
	bool lrwp = lp && lp->rwp, lwp = lp && lp->wp;
	if (rwp == lrwp && wp == lwp)
		return true;
	return oracle_fail(o, "registration", mm->id, addr, 0, 0,
			   "VMA [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
			   "x) has%s%s but the registration events say%s%s%s",
			   vma->vm_start, vma->vm_end, rwp ? " VM_UFFD_RWP" : "",
			   wp ? " VM_UFFD_WP" : "", lrwp ? " RWP" : "", lwp ? " WP" : "",
			   !lrwp && !lwp ? " unregistered" : "");
}

/* Pages [lo, hi) of chunk c, all in vma, pass without being read: every
 * one is registered as the VMA says, none is armed or protected, and no
 * page table covers them (each check would compare "nothing to lose" with
 * "no table"). */
static bool chunk_passes(const struct lchunk *c, const struct mm_struct *mm,
			 const struct vm_area_struct *vma, uint64_t lo, uint64_t hi)
{
	if (!c->quiet || !c->uniform || c->u_rwp != !!(vma->vm_flags & VM_UFFD_RWP) ||
	    c->u_wp != !!(vma->vm_flags & VM_UFFD_WP))
		return false;
	if (c->nr == LCHUNK_PAGES) /* the common case: a word test, not 512 */
		return oracle_view_chunk(mm, c->base, NULL);
	for (uint64_t a = lo; a < hi; a += PAGE_SIZE)
		if (!lchunk_has(c, (a >> PAGE_SHIFT) % LCHUNK_PAGES))
			return false;
	return oracle_view_chunk(mm, c->base, NULL);
}

bool ledger_check(struct oracle *o)
{
	struct pview pv[LCHUNK_PAGES];

	o->epoch++;
	for (guint m = 0; o->w->mms && m < o->w->mms->len; m++) {
		struct mm_struct *mm = g_ptr_array_index(o->w->mms, m);
		struct mm_ledger *l = ledger_get(o, mm->id, false);
		for (guint i = 0; i < mm->vmas->len; i++) {
			struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, i);
			if (!(vma->vm_flags & (VM_UFFD_RWP | VM_UFFD_WP)))
				continue;
			for (uint64_t lo = vma->vm_start, hi; lo < vma->vm_end; lo = hi) {
				uint64_t base = lo & ~((1ull << LCHUNK_SHIFT) - 1);
				hi = MIN(base + (1ull << LCHUNK_SHIFT), vma->vm_end);
				struct lchunk *c = ledger_chunk(l, lo);
				if (c && c->dirty)
					lchunk_summarise(c);
				if (c && chunk_passes(c, mm, vma, lo, hi)) {
					if (hi - lo == (uint64_t)c->nr * PAGE_SIZE)
						c->seen_all = o->epoch;
					else
						for (uint64_t a = lo; a < hi; a += PAGE_SIZE)
							c->p[(a >> PAGE_SHIFT) % LCHUNK_PAGES]
								.seen = o->epoch;
					continue;
				}
				if (c)
					lchunk_refresh(o, c);
				oracle_view_chunk(mm, base, pv);
				for (uint64_t a = lo; a < hi; a += PAGE_SIZE) {
					unsigned ci = (a >> PAGE_SHIFT) % LCHUNK_PAGES;
					struct lpage *lp =
						c && lchunk_has(c, ci) ? &c->p[ci] : NULL;
					if (!check_registration(o, mm, vma, lp, a))
						return false;
					lp->seen = o->epoch;
					bool loud = lpage_loud(lp);
					if (!check_page(o, mm, vma, c, lp, &pv[ci]))
						return false;
					if (loud != lpage_loud(lp))
						c->dirty = true; /* a drop ended an arming */
				}
			}
		}
	}

	/* Tracked pages whose VMA lost its flags: unmapped, or a stray clear. */
	GHashTableIter li;
	gpointer k, val;
	g_hash_table_iter_init(&li, o->ledgers);
	while (g_hash_table_iter_next(&li, &k, &val)) {
		struct mm_ledger *l = val;
		struct mm_struct *mm = oracle_mm(o, l->mm_id);
		uint64_t pos = 0;
		struct lchunk *c;
		while ((c = ledger_next_chunk(l, &pos))) {
			if (c->seen_all == o->epoch)
				continue;
			for (unsigned i = 0; i < LCHUNK_PAGES; i++) {
				struct lpage *lp = &c->p[i];
				if (!lchunk_has(c, i) || lp->seen == o->epoch)
					continue;
				struct vm_area_struct *vma = mm ? vma_lookup(mm, lp->addr) : NULL;
				if (!vma || (o->outer && o->outer->cmd == CMD_MMAP)) {
					/* unmapped: registration ends */
					c->present[i / 64] &= ~(1ull << (i % 64));
					c->nr--;
					c->dirty = true;
					continue;
				}
				if (!check_registration(o, mm, vma, lp, lp->addr))
					return false;
			}
			if (!c->nr)
				ledger_chunk_free(l, c);
		}
		ledger_compact(l);
	}
	return true;
}
