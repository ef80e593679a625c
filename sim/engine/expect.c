/* sim/engine/expect.c - expectations, observations and the serve handler. */
#include "engine.h"

#include "linux/pagemap_uapi.h"
#include "mm/internal.h"

/* Page-table state of one address, as "expect pte" names it. */
int observe_pte_state(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
	if (!pmd || pmd_none(*pmd))
		return 11; /* no-table */
	if (is_pmd_migration_entry(*pmd))
		return 7; /* migration, whole PMD */
	if (pmd_trans_huge(*pmd))
		return pmd_protnone(*pmd) && pmd_uffd(*pmd) ? 10 : 9;
	pte_t *ptep = pte_offset_map(pmd, addr);
	if (!ptep)
		return 11;
	pte_t pte = *ptep;
	if (pte_none(pte))
		return 0;
	if (pte_present(pte)) {
		if (pte_protnone(pte))
			return pte_uffd(pte) ? 1 : 4;
		return pte_uffd(pte) ? 3 : 2;
	}
	swp_entry_t entry = pte_to_swp_entry(pte);
	if (is_pte_marker_entry(entry))
		return 8;
	if (is_migration_entry(entry))
		return 7;
	if (is_device_exclusive_entry(entry))
		return pte_swp_uffd(pte) ? 13 : 12;
	return pte_swp_uffd(pte) ? 6 : 5;
}

char observe_state_char(int state)
{
	/* . none, A armed, a accessible, w wp, n numa, s swap, S swap+uffd,
	 * m migration, k marker, H pmd, P armed pmd, _ no table,
	 * x device-exclusive, X device-exclusive+uffd */
	static const char map[] = ".AawnsSmkHP_xX";
	return state >= 0 && state < (int)sizeof(map) - 1 ? map[state] : '?';
}

/* The data of one page without an access: the page table first, then the
 * swap slot, then the page cache. */
bool observe_content(struct region *r, uint64_t page, uint64_t *value)
{
	uint64_t addr = region_page_addr(r, page);
	pmd_t *pmd = pmd_lookup(r->mm->pgd, addr, false, 0);
	if (pmd && pmd_trans_huge(*pmd)) {
		*value = pfn_to_page(pmd_pfn(*pmd) + pte_index(addr))->content;
		return true;
	}
	pte_t *ptep = pmd ? pte_offset_map(pmd, addr) : NULL;
	if (ptep && pte_present(*ptep)) {
		*value = pfn_to_page(pte_pfn(*ptep))->content;
		return true;
	}
	/* A device-exclusive entry still maps its page. */
	if (ptep && pte_is_device_exclusive(*ptep)) {
		*value = pfn_to_page(swp_offset_pfn(pte_to_swp_entry(*ptep)))->content;
		return true;
	}
	if (ptep && is_swap_pte(*ptep) && !non_swap_entry(pte_to_swp_entry(*ptep))) {
		*value = swap_info.slots[swp_offset(pte_to_swp_entry(*ptep))].content;
		return true;
	}
	if (r->file) {
		uint64_t index = r->file_pgoff + page;
		uint64_t e = index < r->file->nr_slots ? r->file->i_pages[index] : 0;
		if (e && xa_is_value(e))
			*value = swap_info.slots[e >> 1].content;
		else
			*value = e ? pfn_to_page(xa_to_pfn(e))->content : 0;
		return true;
	}
	*value = 0;
	return true;
}

static bool expect_pages(struct engine *e, const struct step *s, struct region *r,
			 bool (*check)(struct engine *, const struct step *, struct region *,
				       uint64_t))
{
	g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	if (!engine_pages(e, s, r, pages))
		return false;
	for (guint i = 0; i < pages->len; i++)
		if (!check(e, s, r, g_array_index(pages, uint64_t, i)))
			return false;
	return true;
}

static bool check_pte(struct engine *e, const struct step *s, struct region *r, uint64_t page)
{
	int want = (int)step_u64(s, "state", 0);
	int got = observe_pte_state(r->mm, region_page_addr(r, page));
	if (got == want)
		return true;
	engine_fail(e, s, "expect pte: %s page %" G_GUINT64_FORMAT " is %s, expected %s", r->name,
		    page, flag_name_of(pte_state_names, (uint64_t)got),
		    flag_name_of(pte_state_names, (uint64_t)want));
	return false;
}

static bool check_content(struct engine *e, const struct step *s, struct region *r, uint64_t page)
{
	uint64_t want = step_u64(s, "value", 0), got = 0;
	observe_content(r, page, &got);
	if (got == want)
		return true;
	engine_fail(e, s,
		    "expect content: %s page %" G_GUINT64_FORMAT " holds 0x%" G_GINT64_MODIFIER
		    "x, expected 0x%" G_GINT64_MODIFIER "x",
		    r->name, page, got, want);
	return false;
}

static bool check_pagemap(struct engine *e, const struct step *s, struct region *r, uint64_t page)
{
	static const struct {
		const char *key;
		uint64_t bit;
	} bits[] = { { "present", PM_PRESENT },
		     { "swap", PM_SWAP },
		     { "uffd", PM_UFFD_WP },
		     { "exclusive", PM_MMAP_EXCLUSIVE } };
	uint64_t word = pagemap_read_word(r->mm, region_page_addr(r, page));
	for (unsigned i = 0; i < G_N_ELEMENTS(bits); i++) {
		const struct arg_value *a = step_arg(s, bits[i].key);
		if (!a->present || !!(word & bits[i].bit) == !!a->u)
			continue;
		engine_fail(e, s,
			    "expect pagemap: %s page %" G_GUINT64_FORMAT
			    " has %s=%d (word 0x%016" G_GINT64_MODIFIER "x)",
			    r->name, page, bits[i].key, !!(word & bits[i].bit), word);
		return false;
	}
	return true;
}

static GString *pages_to_string(GArray *pages)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; i < pages->len;) {
		uint64_t first = g_array_index(pages, uint64_t, i), last = first;
		while (++i < pages->len && g_array_index(pages, uint64_t, i) == last + 1)
			last++;
		if (str->len)
			g_string_append_c(str, ',');
		if (first == last)
			g_string_append_printf(str, "%" G_GUINT64_FORMAT, first);
		else
			g_string_append_printf(str, "%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
					       first, last);
	}
	if (!str->len)
		g_string_append(str, "none");
	return str;
}

static bool expect_accessed(struct engine *e, const struct step *s, struct region *r)
{
	g_autoptr(GArray) want = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_autoptr(GArray) got = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	if (!engine_pages(e, s, r, want))
		return false;
	pagemap_scan(r->mm, r->start, r->start + r->len, PAGE_IS_ACCESSED, 0, 0, PAGE_IS_ACCESSED,
		     0, addrs);
	for (guint i = 0; i < addrs->len; i++) {
		uint64_t p = (g_array_index(addrs, uint64_t, i) - r->start) >> PAGE_SHIFT;
		g_array_append_val(got, p);
	}
	bool same = got->len == want->len;
	for (guint i = 0; same && i < got->len; i++)
		same = g_array_index(got, uint64_t, i) == g_array_index(want, uint64_t, i);
	if (!same) {
		g_autoptr(GString) gs = pages_to_string(got);
		g_autoptr(GString) ws = pages_to_string(want);
		engine_fail(e, s, "expect accessed: %s has ACCESSED pages %s, expected %s", r->name,
			    gs->str, ws->str);
	}
	return same;
}

bool engine_exec_expect(struct engine *e, const struct step *s)
{
	struct region *r = NULL;
	if (cmd_descs[s->cmd].positional[0] == NAME_REGION)
		r = engine_region(e, s, s->pos[0]);
	else if (cmd_descs[s->cmd].positional[1] == NAME_REGION)
		r = engine_region(e, s, s->pos[1]);
	if (e->verdict != VERDICT_PASS)
		return false;

	switch (s->cmd) {
	case CMD_EXPECT_RESULT: {
		int want = (int)step_u64(s, "is", 0);
		if (!e->have_result)
			return engine_bad_input(e, s, "expect result before any operation");
		if (e->last_result == want)
			return true;
		const char *got = flag_name_of(result_names, (uint64_t)e->last_result);
		engine_fail(e, s, "expect result: got %s (%d), expected %s", got ? got : "?",
			    e->last_result, flag_name_of(result_names, (uint64_t)want));
		return false;
	}
	case CMD_EXPECT_SCAN: {
		uint64_t want = step_u64(s, "is", 0);
		if (khugepaged_last_result == (enum scan_result)want)
			return true;
		engine_fail(e, s, "expect scan: got %s, expected %s",
			    scan_result_strings[khugepaged_last_result], scan_result_strings[want]);
		return false;
	}
	case CMD_EXPECT_MSG: {
		struct userfaultfd_ctx *ctx = engine_uffd(e, s, s->pos[0]);
		struct uffd_msg msg;
		if (!ctx)
			return false;
		uint64_t page = step_u64(s, "page", 0);
		if (page >= r->len >> PAGE_SHIFT)
			return engine_bad_input(e, s, "page outside region '%s'", r->name);
		if (!uffd_msg_pop(ctx, &msg)) {
			engine_fail(e, s, "expect msg: no message queued on %s", s->pos[0]);
			return false;
		}
		uint64_t want_addr = region_page_addr(r, page),
			 want_flags = step_u64(s, "flags", 0);
		if (msg.address == want_addr && (!step_has(s, "flags") || msg.flags == want_flags))
			return true;
		engine_fail(e, s,
			    "expect msg: got address 0x%" G_GINT64_MODIFIER
			    "x flags 0x%" G_GINT64_MODIFIER "x, expected 0x%" G_GINT64_MODIFIER
			    "x flags 0x%" G_GINT64_MODIFIER "x",
			    msg.address, msg.flags, want_addr, want_flags);
		return false;
	}
	case CMD_EXPECT_MSGS: {
		struct userfaultfd_ctx *ctx = engine_uffd(e, s, s->pos[0]);
		if (!ctx)
			return false;
		if (ctx->msgs->len == step_u64(s, "count", 0))
			return true;
		engine_fail(e, s, "expect msgs: %u queued, expected %" G_GUINT64_FORMAT,
			    ctx->msgs->len, step_u64(s, "count", 0));
		return false;
	}
	case CMD_EXPECT_PAGEMAP:
		return expect_pages(e, s, r, check_pagemap);
	case CMD_EXPECT_ACCESSED:
		return expect_accessed(e, s, r);
	case CMD_EXPECT_CONTENT:
		return expect_pages(e, s, r, check_content);
	case CMD_EXPECT_PTE:
		return expect_pages(e, s, r, check_pte);
	case CMD_EXPECT_BLOCKED: {
		uint64_t n = 0;
		for (guint i = 0; i < e->tasks->len; i++)
			n += ((struct pending_task *)g_ptr_array_index(e->tasks, i))->task.sleeping;
		if (n == step_u64(s, "count", 0))
			return true;
		engine_fail(e, s,
			    "expect blocked: %" G_GUINT64_FORMAT
			    " tasks asleep, expected %" G_GUINT64_FORMAT,
			    n, step_u64(s, "count", 0));
		return false;
	}
	case CMD_EXPECT_SCAN_COUNT:
		if (e->last_scan->len == step_u64(s, "count", 0))
			return true;
		engine_fail(e, s,
			    "expect scan-count: the last pagemap-scan returned %u pages, "
			    "expected %" G_GUINT64_FORMAT,
			    e->last_scan->len, step_u64(s, "count", 0));
		return false;
	default:
		return true;
	}
}

/* A handler thread: read messages and resolve each as the documented VMM
 * would: RWP -> UFFDIO_RWPROTECT(mode 0), WP -> UFFDIO_WRITEPROTECT(mode 0),
 * MINOR -> UFFDIO_CONTINUE, MISSING -> UFFDIO_COPY of value. */
int engine_serve(struct engine *e, const struct step *s)
{
	struct userfaultfd_ctx *ctx = engine_uffd(e, s, s->pos[0]);
	if (!ctx)
		return RESULT_OK;
	uint64_t count = step_u64(s, "count", UINT64_MAX), value = step_u64(s, "value", 0);
	struct uffd_msg msg;
	int res = RESULT_OK;

	for (uint64_t n = 0; n < count && uffd_msg_pop(ctx, &msg); n++) {
		long ret;
		/* A non-cooperative event (UFFD_EVENT_REMAP) is read, not resolved. */
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		struct mm_event ev = { .mm_id = ctx->mm->id,
				       .address = msg.address,
				       .len = PAGE_SIZE,
				       .ctx_id = ctx->id };
		if (msg.flags & UFFD_PAGEFAULT_FLAG_RWP) {
			ret = userfaultfd_rwprotect(ctx, msg.address, PAGE_SIZE, 0);
			ev.kind = EV_UFFD_RESOLVE;
		} else if (msg.flags & UFFD_PAGEFAULT_FLAG_WP) {
			/* WP and the fills report their own events. */
			ret = userfaultfd_writeprotect(ctx, msg.address, PAGE_SIZE, 0);
			ev.kind = EV_UFFD_CLOSE; /* marker: nothing to record */
		} else if (msg.flags & UFFD_PAGEFAULT_FLAG_MINOR) {
			ret = userfaultfd_continue(ctx, msg.address, PAGE_SIZE, 0);
			ev.kind = EV_UFFD_CLOSE;
		} else {
			ret = userfaultfd_copy(ctx, msg.address, PAGE_SIZE, value, 0);
			ev.kind = EV_UFFD_CLOSE;
			if (ret == -EEXIST) /* raced with another fill: only wake the faulter */
				ret = userfaultfd_wake(ctx, msg.address, PAGE_SIZE);
		}
		if (ret == 0 && ev.kind != EV_UFFD_CLOSE)
			mm_event_emit(ev);
		if (ret < 0 && res == RESULT_OK)
			res = (int)-ret;
		if (e->verbose)
			g_string_append_printf(e->out,
					       "      served 0x%" G_GINT64_MODIFIER
					       "x flags 0x%" G_GINT64_MODIFIER "x: %ld\n",
					       msg.address, msg.flags, ret);
	}
	return res;
}
