/* sim/oracle/oracle.c - the oracle's driver: step bracketing, the page walk
 * it uses instead of the kernel's, and violation reports.
 */
#include "oracle_internal.h"

#include <stdarg.h>
#include <string.h>

#include "model/swapops.h"

bool oracle_enabled = true;

struct oracle *oracle_new(const struct world *w)
{
	struct oracle *o = g_new0(struct oracle, 1);
	o->w = w;
	o->ledgers = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					   (GDestroyNotify)ledger_free);
	data_init(o);
	return o;
}

void oracle_free(struct oracle *o)
{
	if (!o)
		return;
	g_hash_table_destroy(o->ledgers);
	data_free(o);
	structure_free(o);
	g_free(o);
}

struct mm_struct *oracle_mm(const struct oracle *o, uint64_t mm_id)
{
	for (guint i = 0; o->w->mms && i < o->w->mms->len; i++) {
		struct mm_struct *mm = g_ptr_array_index(o->w->mms, i);
		if (mm->id == mm_id)
			return mm;
	}
	return NULL;
}

bool oracle_fail(struct oracle *o, const char *invariant, uint64_t mm_id, uint64_t addr,
		 uint64_t before, uint64_t after, const char *fmt, ...)
{
	if (o->failed)
		return false;
	o->failed = true;
	struct violation *v = o->v;
	v->invariant = invariant;
	v->mm_id = mm_id;
	v->address = addr;
	v->before = before;
	v->after = after;
	v->detail = g_string_new(NULL);
	va_list ap;
	va_start(ap, fmt);
	g_string_append_vprintf(v->detail, fmt, ap);
	va_end(ap);
	return false;
}

struct region *step_region(const struct oracle *o, const struct step *s)
{
	if (!s->pos[0] || !o->w->region_by_name)
		return NULL;
	return g_hash_table_lookup(o->w->region_by_name, s->pos[0]);
}

struct address_space *step_file(const struct oracle *o, const struct step *s)
{
	if (!s->pos[0] || !o->w->file_by_name)
		return NULL;
	return g_hash_table_lookup(o->w->file_by_name, s->pos[0]);
}

bool step_page_in_range(const struct step *s, const char *key, uint64_t page)
{
	const struct arg_value *a = step_arg(s, key);
	if (!a || !a->present)
		return true; /* no range: the whole region */
	for (guint i = 0; a->spans && i < a->spans->len; i++) {
		struct page_span *sp = &g_array_index(a->spans, struct page_span, i);
		if (page >= sp->first && page <= sp->last)
			return true;
	}
	return false;
}

/* The next table under a non-leaf entry, or NULL; *bad when it is not live. */
static const struct pt_table *next_table(uint64_t entry, bool *bad)
{
	uint64_t nr = pt_entry_table(entry);
	if (!pt_is_live(nr)) {
		*bad = true;
		return NULL;
	}
	return pt_get(nr);
}

/* Walk to the PMD of addr. Fills *pv and returns NULL when the walk ends
 * above the PTE level (no table, a freed table, a PMD leaf or a PMD swap
 * entry); else returns the PTE table. */
static const struct pt_table *walk_pmd(const struct mm_struct *mm, uint64_t addr, struct pview *pv)
{
	bool bad = false;

	*pv = (struct pview){ .kind = PV_NOTABLE };
	if (!pt_is_live(mm->pgd)) {
		pv->kind = PV_BAD;
		return NULL;
	}
	const struct pt_table *t = pt_get(mm->pgd);
	uint64_t e = t->e[pgd_index(addr)];
	if (!e)
		return NULL;
	t = next_table(e, &bad);
	if (!t)
		goto out_bad;
	e = t->e[pud_index(addr)];
	if (!e)
		return NULL;
	t = next_table(e, &bad);
	if (!t)
		goto out_bad;
	pmd_t pmd = __pmd(t->e[pmd_index(addr)]);
	if (pmd_none(pmd))
		return NULL;
	if (pmd_leaf(pmd) || !pmd_present(pmd)) {
		pv->huge = true;
		pv->val = pmd_val(pmd);
		if (pmd_present(pmd)) {
			pv->kind = PV_PRESENT;
			pv->uffd = pmd_uffd(pmd);
			pv->protnone = pmd_protnone(pmd);
			pv->write = pmd_write(pmd);
			pv->pfn = pmd_pfn(pmd) + pte_index(addr);
		} else {
			pv->kind = PV_SWAP;
			pv->uffd = pmd_swp_uffd(pmd);
		}
		return NULL;
	}
	t = next_table(pmd_val(pmd), &bad);
	if (t)
		return t;
out_bad:
	pv->kind = PV_BAD;
	return NULL;
}

static void pte_view(pte_t pte, struct pview *pv)
{
	*pv = (struct pview){ .val = pte_val(pte) };
	if (pte_none(pte)) {
		pv->kind = PV_NONE;
	} else if (pte_present(pte)) {
		pv->kind = PV_PRESENT;
		pv->uffd = pte_uffd(pte);
		pv->protnone = pte_protnone(pte);
		pv->write = pte_write(pte);
		pv->pfn = pte_pfn(pte);
	} else {
		pv->kind = is_pte_marker(pte) ? PV_MARKER : PV_SWAP;
		pv->uffd = pte_swp_uffd_any(pte);
	}
}

struct pview oracle_view(const struct mm_struct *mm, uint64_t addr)
{
	struct pview pv;
	const struct pt_table *t = walk_pmd(mm, addr, &pv);
	if (t)
		pte_view(__pte(t->e[pte_index(addr)]), &pv);
	return pv;
}

bool oracle_view_chunk(const struct mm_struct *mm, uint64_t base, struct pview *pv)
{
	struct pview top;
	const struct pt_table *t = walk_pmd(mm, base, &top);
	if (!pv)
		return !t && top.kind == PV_NOTABLE;
	for (unsigned i = 0; i < PTRS_PER_PTE; i++) {
		if (t) {
			pte_view(__pte(t->e[i]), &pv[i]);
		} else {
			pv[i] = top;
			if (top.kind == PV_PRESENT)
				pv[i].pfn = top.pfn + i;
		}
	}
	return !t && top.kind == PV_NOTABLE;
}

const uint64_t *oracle_chunk_entries(const struct mm_struct *mm, uint64_t base, struct pview *top)
{
	const struct pt_table *t = walk_pmd(mm, base, top);
	return t ? t->e : NULL;
}

const char *pview_name(const struct pview *pv, bool rwp)
{
	switch (pv->kind) {
	case PV_NOTABLE:
		return "no table";
	case PV_NONE:
		return "none";
	case PV_BAD:
		return "freed table";
	case PV_MARKER:
		return pv->uffd ? "uffd-wp marker" : "marker";
	case PV_SWAP:
		if (!pv->huge && pte_is_device_exclusive(__pte(pv->val)))
			return pv->uffd ? "device-exclusive+uffd" : "device-exclusive";
		return pv->uffd ? "swap+uffd" : "swap";
	case PV_PRESENT:
		if (pv->protnone && pv->uffd)
			return pv->huge ? "pmd armed" : "armed";
		if (pv->protnone)
			return pv->huge ? "pmd protnone" : "protnone";
		if (pv->uffd)
			return pv->huge ? "pmd+uffd" : (rwp ? "present+uffd" : "wp");
		return pv->huge ? "pmd" : (pv->write ? "present rw" : "present ro");
	}
	return "?";
}

const char *entry_state_name(uint64_t val)
{
	pte_t p = __pte(val);
	if (pte_none(p))
		return "none";
	if (val & _PAGE_PSE) {
		pmd_t m = __pmd(val);
		if (pmd_protnone(m))
			return pmd_uffd(m) ? "pmd-armed" : "pmd-protnone";
		return pmd_uffd(m) ? "pmd+uffd" : "pmd";
	}
	if (!pte_present(p)) {
		if (is_pte_marker(p))
			return pte_marker_uffd_wp(p) ? "marker" : "other-marker";
		if (is_migration_entry(pte_to_swp_entry(p)))
			return pte_swp_uffd(p) ? "migration+uffd" : "migration";
		if (is_device_exclusive_entry(pte_to_swp_entry(p)))
			return pte_swp_uffd(p) ? "device-exclusive+uffd" : "device-exclusive";
		return pte_swp_uffd(p) ? "swap-uffd" : "swap";
	}
	if (pte_protnone(p))
		return pte_uffd(p) ? "armed" : "numa";
	if (pte_uffd(p))
		return "present+uffd";
	return pte_write(p) ? "present rw" : "present ro";
}

void oracle_before_step(struct oracle *o, const struct step *s)
{
	if (!oracle_enabled)
		return;
	bool outermost = o->depth == 0;
	if (outermost) {
		o->outer = s;
		o->cursor = 0;
		o->step_epoch++;
	}
	o->depth++;
	ledger_step_begin(o, s, outermost);
}

static bool same_event(const struct mm_event *a, const struct mm_event *b)
{
	return a->kind == b->kind && a->mm_id == b->mm_id && a->address == b->address &&
	       a->write == b->write && a->async == b->async && a->value == b->value &&
	       a->len == b->len && a->mode == b->mode && a->ctx_id == b->ctx_id;
}

/* Consume the events logged since the last call, in order. */
static bool consume_events(struct oracle *o)
{
	if (!mm_events)
		return true;
	/* A nested step's end may clear the log under the outer step. */
	if (o->cursor > mm_events->len ||
	    (o->cursor &&
	     !same_event(&g_array_index(mm_events, struct mm_event, o->cursor - 1), &o->last)))
		o->cursor = 0;
	for (; o->cursor < mm_events->len; o->cursor++) {
		const struct mm_event *ev = &g_array_index(mm_events, struct mm_event, o->cursor);
		o->last = *ev;
		if (ev->kind == EV_LIVELOCK)
			return oracle_fail(o, "livelock", ev->mm_id, ev->address, 0, 0,
					   "a retry bound was exceeded without progress");
		if (!ledger_event(o, ev) || !data_event(o, ev)) {
			o->cursor++;
			return false;
		}
	}
	return true;
}

bool oracle_after_step(struct oracle *o, const struct step *s, int result, struct violation *v)
{
	if (!oracle_enabled)
		return true;
	struct violation scratch;
	o->v = v ? v : &scratch;
	o->failed = false;
	memset(o->v, 0, sizeof(*o->v));
	if (o->depth > 0)
		o->depth--;
	bool outermost = o->depth == 0;
	const struct step *line_step = outermost && o->outer ? o->outer : s;
	o->v->line = line_step ? line_step->line : 0;

	bool ok = true;
	if (s)
		data_step_end(o, s, result);
	if (result == RESULT_LIVELOCK)
		ok = oracle_fail(o, "livelock", 0, 0, 0, 0,
				 "the step ended in a livelock (retry bound exceeded)");
	if (ok)
		ok = consume_events(o);
	if (outermost) {
		if (ok)
			ok = ledger_check(o);
		if (ok)
			ok = structure_check(o);
		ledger_step_end(o);
		o->outer = NULL;
		o->cursor = 0;
	}
	if (!v && o->failed && scratch.detail)
		g_string_free(scratch.detail, TRUE);
	o->v = NULL;
	return ok;
}

void violation_format(const struct violation *v, const struct world *w, GString *out)
{
	const char *mm_name = "?";
	struct mm_struct *mm = NULL;
	for (guint i = 0; w && w->mms && i < w->mms->len; i++) {
		struct mm_struct *m = g_ptr_array_index(w->mms, i);
		if (m->id == v->mm_id)
			mm = m;
	}
	if (mm && mm->name)
		mm_name = mm->name;
	g_string_append_printf(out, "line %u: %s", v->line, v->invariant);
	if (mm || v->address) {
		g_string_append_printf(out, " at %s:0x%" G_GINT64_MODIFIER "x", mm_name,
				       v->address);
		uint64_t page = 0;
		struct region *r = mm && w ? world_region_of(w, mm, v->address, &page) : NULL;
		if (r)
			g_string_append_printf(out, " (region %s page %" G_GUINT64_FORMAT ")",
					       r->name, page);
	}
	if (!strcmp(v->invariant, "data loss"))
		g_string_append_printf(
			out, ": expected 0x%" G_GINT64_MODIFIER "x read 0x%" G_GINT64_MODIFIER "x",
			v->before, v->after);
	else if (v->before || v->after)
		g_string_append_printf(out,
				       ": before 0x%" G_GINT64_MODIFIER
				       "x [%s] after 0x%" G_GINT64_MODIFIER "x [%s]",
				       v->before, entry_state_name(v->before), v->after,
				       entry_state_name(v->after));
	if (v->detail && v->detail->len)
		g_string_append_printf(out, " — %s", v->detail->str);
}
