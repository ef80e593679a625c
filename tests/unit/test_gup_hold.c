/* tests/unit/test_gup_hold.c - GUP references and pins held past the
 * caller's step (gup_caller_run_hold(), gup_release_page(); the trace's
 * "gup ... hold=1" and "unpin"), and the paths that must see a held pin:
 * fork's copy_present_page(), GUP unshare, reclaim and migration; the
 * oracle's refcount check counting held references; bad unpin input.
 */
#include "mmsim_test.h"

#include <string.h>

#include "engine/engine.h"
#include "oracle/oracle.h"
#include "trace/trace.h"

#define NPAGES 4
#define CALLER_EXPLICIT 13

static struct folio *folio_at(struct mm_struct *mm, uint64_t addr)
{
	return page_folio(pfn_to_page(pte_pfn(t_pte(mm, addr))));
}

/* Every caller preset, and explicit PIN / GET: the held page, the kind of
 * grab (FOLL_PIN callers a pin plus a reference, FOLL_GET callers one
 * reference), the data the caller wrote, and the release giving back
 * exactly that. Without hold the step leaves no trace on the folio. */
static void every_caller_holds_its_kind_of_grab_until_released(void **state)
{
	static const struct {
		unsigned caller, flags;
		bool pin, write;
	} rows[] = {
		{ 0, 0, false, false },	 /* get_user_pages */
		{ 1, 0, false, false },	 /* get_user_pages_unlocked */
		{ 2, 0, false, false },	 /* get_user_pages_remote */
		{ 3, 0, true, false },	 /* pin_user_pages */
		{ 4, 0, true, true },	 /* pin_user_pages_longterm */
		{ 5, 0, false, false },	 /* get_dump_page */
		{ 6, 0, true, false },	 /* process_vm_readv */
		{ 7, 0, true, true },	 /* process_vm_writev */
		{ 8, 0, false, false },	 /* proc_mem_read */
		{ 9, 0, false, true },	 /* proc_mem_write */
		{ 10, 0, false, false }, /* ptrace_peek */
		{ 11, 0, false, false }, /* vmsplice (GUP-fast) */
		{ 12, 0, false, false }, /* kvm */
		{ CALLER_EXPLICIT, FOLL_PIN, true, false },
		{ CALLER_EXPLICIT, FOLL_WRITE, false, true },
	};
	g_assert_cmpuint(G_N_ELEMENTS(rows), ==, nr_gup_presets + 1);

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t base =
			t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t addr = base + PAGE_SIZE, done = 0;
		t_write_pages(t_proc.mm, base, NPAGES, 0x10);
		struct folio *f = folio_at(t_proc.mm, addr);
		int ref = f->refcount;

		/* Without hold: nothing kept. */
		ROW_EQ(i,
		       gup_caller_run(t_proc.mm, rows[i].caller, rows[i].flags, addr, 1, 0x20,
				      &done),
		       0);
		ROW_EQ(i, f->refcount, ref);
		ROW_EQ(i, f->pincount, 0);

		g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(struct gup_held_page));
		ROW_EQ(i,
		       gup_caller_run_hold(t_proc.mm, rows[i].caller, rows[i].flags, addr, 2, 0x30,
					   &done, held),
		       0);
		ROW_EQ(i, done, 2);
		ROW_EQ(i, held->len, 2);
		const struct gup_held_page *h = &g_array_index(held, struct gup_held_page, 0);
		ROW_EQ(i, h->addr, addr);
		ROW_EQ(i, h->page, pfn_to_page(pte_pfn(t_pte(t_proc.mm, addr))));
		ROW_EQ(i, h->pin, rows[i].pin);
		ROW_EQ(i, h[1].addr, addr + PAGE_SIZE);
		ROW_EQ(i, f->refcount, ref + 1);
		ROW_EQ(i, f->pincount, rows[i].pin);
		ROW_EQ(i, folio_maybe_dma_pinned(f), rows[i].pin);
		ROW_EQ(i, h->page->content, rows[i].write ? 0x30 : 0x10);

		gup_release_page(h[1].page, h[1].pin);
		gup_release_page(h->page, h->pin);
		ROW_EQ(i, f->refcount, ref);
		ROW_EQ(i, f->pincount, 0);
		ROW_EQ(i, folio_at(t_proc.mm, addr + PAGE_SIZE)->refcount, ref);
	}
}

/* Held pins stack: two holds of one page are two pins, released one by one. */
static void holds_of_one_page_stack(void **state)
{
	uint64_t base = t_map_anon(t_proc.mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0), done;
	t_write_pages(t_proc.mm, base, 1, 1);
	struct folio *f = folio_at(t_proc.mm, base);
	int ref = f->refcount;
	g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(struct gup_held_page));

	assert_int_equal(gup_caller_run_hold(t_proc.mm, 3, 0, base, 1, 0, &done, held), 0);
	assert_int_equal(gup_caller_run_hold(t_proc.mm, 3, 0, base, 1, 0, &done, held), 0);
	assert_int_equal(gup_caller_run_hold(t_proc.mm, 11, 0, base, 1, 0, &done, held), 0);
	assert_int_equal(f->pincount, 2);
	assert_int_equal(f->refcount, ref + 3);
	for (guint i = 0; i < held->len; i++) {
		const struct gup_held_page *h = &g_array_index(held, struct gup_held_page, i);
		gup_release_page(h->page, h->pin);
		assert_int_equal(f->refcount, ref + 2 - (int)i);
		assert_int_equal(f->pincount, i == 0 ? 1 : 0);
	}
}

/* fork with a held pin (copy_present_page()) against a held reference: the
 * pinned page is copied for the child, whatever the child's registration;
 * a referenced one is shared and write-protected in both (plain COW). An
 * armed pinned page's copy is armed in an RWP child (EVENT_FORK) and
 * rebuilt from the child's protection in an unregistered one. */
static void fork_copies_a_pinned_page_and_shares_a_referenced_one(void **state)
{
	static const struct {
		bool pin;
		uint64_t features; /* 0: no uffd */
		bool copy, child_armed;
	} rows[] = {
		{ true, 0, true, false },
		{ false, 0, false, false },
		{ true, UFFD_FEATURE_RWP | UFFD_FEATURE_EVENT_FORK, true, true },
		{ true, UFFD_FEATURE_RWP, true, false },
		{ false, UFFD_FEATURE_RWP | UFFD_FEATURE_EVENT_FORK, false, true },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t base =
			t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t done;
		t_write_pages(t_proc.mm, base, NPAGES, 0x77);
		g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(struct gup_held_page));
		ROW_EQ(i,
		       gup_caller_run_hold(t_proc.mm, rows[i].pin ? 3 : 11, 0, base, 1, 0, &done,
					   held),
		       0);
		if (rows[i].features) {
			t_register_ctx(vma_lookup(t_proc.mm, base), VM_UFFD_RWP, rows[i].features);
			ROW_EQ(i,
			       userfaultfd_rwprotect(t_proc.ctx, base, PAGE_SIZE,
						     UFFDIO_RWPROTECT_MODE_RWP),
			       0);
		}
		pte_t parent_before = t_pte(t_proc.mm, base);
		uint64_t pfn = pte_pfn(parent_before);

		g_autoptr(GArray) fcs =
			g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_fork_ctx));
		struct mm_struct *child = sys_fork(t_proc.mm, "C", fcs);
		assert_non_null(child);
		pte_t c = t_pte(child, base), p = t_pte(t_proc.mm, base);

		ROW_EQ(i, pte_pfn(c) != pfn, rows[i].copy);
		ROW_EQ(i, pte_pfn(p), pfn);
		ROW_EQ(i, pfn_to_page(pte_pfn(c))->content, 0x77);
		ROW_EQ(i, pte_uffd(c) && pte_protnone(c), rows[i].child_armed);
		ROW_EQ(i, pte_uffd(c), rows[i].child_armed);
		if (rows[i].copy) {
			/* The child's own exclusive page; the parent's entry is
			 * untouched (still writable unless armed). */
			ROW_EQ(i, PageAnonExclusive(pfn_to_page(pte_pfn(c))), true);
			ROW_EQ(i, PageAnonExclusive(pfn_to_page(pfn)), true);
			ROW_EQ(i, pte_val(p), pte_val(parent_before));
			ROW_EQ(i, pfn_to_page(pte_pfn(c))->mapcount, 1);
			ROW_EQ(i, pfn_to_page(pfn)->mapcount, 1);
			if (!rows[i].child_armed)
				ROW_EQ(i, pte_write(c), true);
		} else {
			ROW_EQ(i, pfn_to_page(pfn)->mapcount, 2);
			ROW_EQ(i, pte_write(c) || pte_write(p), false);
		}
		/* The other pages are shared as usual. */
		ROW_EQ(i, pte_pfn(t_pte(child, base + PAGE_SIZE)),
		       pte_pfn(t_pte(t_proc.mm, base + PAGE_SIZE)));

		const struct gup_held_page *h = &g_array_index(held, struct gup_held_page, 0);
		gup_release_page(h->page, h->pin);
		exit_mmap(child);
		mm_discard(child);
		for (guint j = 0; j < fcs->len; j++)
			userfaultfd_ctx_free(
				g_array_index(fcs, struct userfaultfd_fork_ctx, j).new);
	}
}

/* gup_must_unshare(): a read-only pin of an anon page shared with a fork
 * child first unshares it (FAULT_FLAG_UNSHARE), so the pin holds the
 * parent's own exclusive page; a later write by the parent reuses that
 * page, and the pin sees the write. A FOLL_GET reference does not unshare. */
static void a_read_only_pin_of_a_shared_page_unshares_it(void **state)
{
	static const struct {
		unsigned caller;
		bool unshare;
	} rows[] = { { 3, true }, { 6, true }, { 0, false }, { 11, false } };

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t base = t_map_anon(t_proc.mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0), done;
		t_write_pages(t_proc.mm, base, 1, 0x5);
		g_autoptr(GArray) fcs =
			g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_fork_ctx));
		struct mm_struct *child = sys_fork(t_proc.mm, "C", fcs);
		uint64_t shared = pte_pfn(t_pte(t_proc.mm, base));
		ROW_EQ(i, pte_pfn(t_pte(child, base)), shared);
		ROW_EQ(i, PageAnonExclusive(pfn_to_page(shared)), false);

		g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(struct gup_held_page));
		ROW_EQ(i,
		       gup_caller_run_hold(t_proc.mm, rows[i].caller, 0, base, 1, 0, &done, held),
		       0);
		const struct gup_held_page *h = &g_array_index(held, struct gup_held_page, 0);
		uint64_t mine = pte_pfn(t_pte(t_proc.mm, base));
		ROW_EQ(i, mine != shared, rows[i].unshare);
		ROW_EQ(i, page_to_pfn(h->page), mine);
		ROW_EQ(i, pte_pfn(t_pte(child, base)), shared);
		ROW_EQ(i, PageAnonExclusive(h->page), rows[i].unshare);
		ROW_EQ(i, h->page->content, 0x5);

		/* The parent's write: the unshared page is reused in place. */
		t_write_pages(t_proc.mm, base, 1, 0x6);
		if (rows[i].unshare) {
			ROW_EQ(i, pte_pfn(t_pte(t_proc.mm, base)), mine);
			ROW_EQ(i, h->page->content, 0x6);
		} else {
			/* COW away from the referenced page: it keeps the old data. */
			ROW_EQ(i, pte_pfn(t_pte(t_proc.mm, base)) != mine, true);
			ROW_EQ(i, h->page->content, 0x5);
		}
		ROW_EQ(i, pfn_to_page(shared)->content, 0x5);
		gup_release_page(h->page, h->pin);
		exit_mmap(child);
		mm_discard(child);
	}
}

/* Reclaim keeps a pinned anon page mapped (and armed); a referenced one is
 * unmapped to a swap entry with the uffd bit but stays in the swap cache.
 * Migration of either fails and leaves the entry as it was. */
static void reclaim_and_migration_leave_a_held_armed_page_in_place(void **state)
{
	static const struct {
		bool pin;
		bool swapped;
	} rows[] = { { true, false }, { false, true } };

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t base =
			t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t done;
		t_write_pages(t_proc.mm, base, NPAGES, 0x9);
		g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(struct gup_held_page));
		ROW_EQ(i,
		       gup_caller_run_hold(t_proc.mm, rows[i].pin ? 4 : 0, 0, base, 1, 0x9, &done,
					   held),
		       0);
		struct folio *f = folio_at(t_proc.mm, base);
		t_register_ctx(vma_lookup(t_proc.mm, base), VM_UFFD_RWP, UFFD_FEATURE_RWP);
		ROW_EQ(i,
		       userfaultfd_rwprotect(t_proc.ctx, base, NPAGES * PAGE_SIZE,
					     UFFDIO_RWPROTECT_MODE_RWP),
		       0);
		pte_t armed = t_pte(t_proc.mm, base);

		ROW_EQ(i, migrate_folio_sync(f, 0), -EAGAIN);
		ROW_EQ(i, pte_val(t_pte(t_proc.mm, base)), pte_val(armed));

		reclaim_range(t_proc.mm, base, base + NPAGES * PAGE_SIZE);
		pte_t after = t_pte(t_proc.mm, base);
		ROW_EQ(i, f->in_use, true);
		if (rows[i].swapped) {
			ROW_EQ(i, pte_present(after), false);
			ROW_EQ(i, pte_swp_uffd(after), true);
			ROW_EQ(i, folio_test_swapcache(f), true);
		} else {
			ROW_EQ(i, pte_val(after), pte_val(armed));
		}
		/* The unheld neighbour went to swap, armed. */
		pte_t n = t_pte(t_proc.mm, base + PAGE_SIZE);
		ROW_EQ(i, !pte_present(n) && pte_swp_uffd(n), true);
		const struct gup_held_page *h = &g_array_index(held, struct gup_held_page, 0);
		gup_release_page(h->page, h->pin);
	}
}

/* ------------------------------------------------------------ the oracle */

/* A bare world over t_proc for the oracle: one mm, no names. */
struct oworld {
	struct world w;
	struct oracle *o;
	struct step s;
};

static void oworld_init(struct oworld *ow)
{
	memset(ow, 0, sizeof(*ow));
	ow->w.mms = g_ptr_array_new();
	ow->w.regions = g_ptr_array_new();
	ow->w.files = g_ptr_array_new();
	ow->w.uffds = g_ptr_array_new();
	ow->w.region_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	ow->w.file_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	g_ptr_array_add(ow->w.mms, t_proc.mm);
	ow->o = oracle_new(&ow->w);
	ow->s.cmd = CMD_SHRINK_DEFERRED;
	ow->s.line = 1;
}

static void oworld_free(struct oworld *ow)
{
	oracle_free(ow->o);
	for (guint i = 0; i < ow->w.regions->len; i++)
		g_free(g_ptr_array_index(ow->w.regions, i));
	g_ptr_array_free(ow->w.mms, TRUE);
	g_ptr_array_free(ow->w.regions, TRUE);
	g_ptr_array_free(ow->w.files, TRUE);
	g_ptr_array_free(ow->w.uffds, TRUE);
	g_hash_table_destroy(ow->w.region_by_name);
	g_hash_table_destroy(ow->w.file_by_name);
	if (ow->w.held)
		g_array_free(ow->w.held, TRUE);
}

/* The invariant the oracle reports after one step, or NULL. */
static const char *oworld_check(struct oworld *ow)
{
	struct violation v = { 0 };
	oracle_before_step(ow->o, &ow->s);
	bool ok = oracle_after_step(ow->o, &ow->s, 0, &v);
	if (v.detail)
		g_string_free(v.detail, TRUE);
	g_array_set_size(mm_events, 0);
	return ok ? NULL : v.invariant;
}

/* structure.c: a held FOLL_GET reference is counted from world.held, and a
 * folio's pincount must equal the pins held on it. An unlisted reference,
 * an unlisted pin, a pin listed as a reference or a reference listed twice
 * is a refcount violation. */
static void the_oracle_counts_held_references_and_pins(void **state)
{
	static const struct {
		const char *name;
		unsigned caller; /* 0 get_user_pages, 3 pin_user_pages */
		int listed;	 /* held_ref entries for the page */
		bool listed_pin; /* their kind */
		bool ok;
	} rows[] = {
		{ "get listed", 0, 1, false, true },	{ "pin listed", 3, 1, true, true },
		{ "get unlisted", 0, 0, false, false }, { "pin unlisted", 3, 0, true, false },
		{ "pin as get", 3, 1, false, false },	{ "get as pin", 0, 1, true, false },
		{ "get twice", 0, 2, false, false },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		struct oworld ow;
		oworld_init(&ow);
		uint64_t base = t_map_anon(t_proc.mm, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t done;
		struct region *r = g_new0(struct region, 1);
		r->mm = t_proc.mm;
		r->start = base;
		r->len = 2 * PAGE_SIZE;
		g_ptr_array_add(ow.w.regions, r);
		t_write_pages(t_proc.mm, base, 2, 3);
		if (oworld_check(&ow))
			fail_msg("row %s: a violation before the hold", rows[i].name);

		g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(struct gup_held_page));
		ROW_EQ(i,
		       gup_caller_run_hold(t_proc.mm, rows[i].caller, 0, base, 1, 0, &done, held),
		       0);
		const struct gup_held_page *h = &g_array_index(held, struct gup_held_page, 0);
		for (int k = 0; k < rows[i].listed; k++) {
			if (!ow.w.held)
				ow.w.held = g_array_new(FALSE, FALSE, sizeof(struct held_ref));
			struct held_ref ref = { .r = r,
						.page = 0,
						.pfn = page_to_pfn(h->page),
						.pin = rows[i].listed_pin };
			g_array_append_val(ow.w.held, ref);
		}
		const char *inv = oworld_check(&ow);
		if (rows[i].ok ? inv != NULL : !inv || strcmp(inv, "refcount"))
			fail_msg("row %s: %s", rows[i].name, inv ? inv : "no violation");
		gup_release_page(h->page, h->pin);
		oworld_free(&ow);
	}
}

/* ------------------------------------------------------------ the engine */

static enum verdict replay(const char *text, GString *err)
{
	g_autoptr(GString) perr = g_string_new(NULL);
	struct trace *t = trace_parse_string("t.trace", text, perr);
	if (!t)
		fail_msg("parse: %s", perr->str);
	g_autoptr(GString) out = g_string_new(NULL);
	enum verdict v = engine_replay(t, false, true, out, err);
	trace_free(t);
	return v;
}

#define PROLOGUE                                      \
	"process P\n"                                 \
	"mmap A proc=P len=16K prot=rw map=private\n" \
	"write A pages=0-3 value=0x1\n"

/* A trace may keep references and pins to its end (released then, with the
 * oracle content at every step), release them by page or by region; an
 * unpin of a page that holds nothing is bad input, as is an unpin of a
 * region that holds nothing. */
static void unpin_releases_what_was_held_and_refuses_the_rest(void **state)
{
	static const struct {
		const char *body;
		enum verdict verdict;
		const char *error; /* a substring of the report */
	} rows[] = {
		{ "gup A pages=0-1 caller=vmsplice hold=1\n"
		  "gup A pages=1 caller=pin_user_pages hold=1\n",
		  VERDICT_PASS, NULL },
		{ "gup A pages=0-1 caller=get_user_pages hold=1\n"
		  "unpin A pages=1\n"
		  "unpin A pages=0\n",
		  VERDICT_PASS, NULL },
		{ "gup A pages=2 caller=pin_user_pages_longterm hold=1\n"
		  "gup A pages=2 caller=pin_user_pages hold=1\n"
		  "unpin A\n"
		  "madvise A advice=DONTNEED\n",
		  VERDICT_PASS, NULL },
		{ "gup A pages=0 caller=pin_user_pages hold=1\n"
		  "unpin A pages=0-1\n",
		  VERDICT_BAD_INPUT, "t.trace:5: page 1 of region 'A' holds no GUP pin" },
		{ "gup A pages=0 caller=pin_user_pages\n"
		  "unpin A\n",
		  VERDICT_BAD_INPUT, "t.trace:5: region 'A' holds no GUP pin or reference" },
		{ "gup A pages=0 caller=pin_user_pages hold=1\n"
		  "unpin A\n"
		  "unpin A pages=0\n",
		  VERDICT_BAD_INPUT, "t.trace:6: page 0 of region 'A'" },
		{ "unpin A pages=9\n", VERDICT_BAD_INPUT,
		  "t.trace:4: page 9 is outside region 'A'" },
		/* held pages outlive munmap; the oracle still accounts them */
		{ "gup A pages=0-3 caller=get_user_pages_remote hold=1\n"
		  "munmap A\n"
		  "unpin A pages=2\n",
		  VERDICT_PASS, NULL },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *text = g_strconcat(PROLOGUE, rows[i].body, NULL);
		g_autoptr(GString) err = g_string_new(NULL);
		enum verdict v = replay(text, err);
		if (v != rows[i].verdict || (rows[i].error && !strstr(err->str, rows[i].error)))
			fail_msg("row %u: verdict %d, report '%s'", i, v, err->str);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(every_caller_holds_its_kind_of_grab_until_released),
		T(holds_of_one_page_stack),
		T(fork_copies_a_pinned_page_and_shares_a_referenced_one),
		T(a_read_only_pin_of_a_shared_page_unshares_it),
		T(reclaim_and_migration_leave_a_held_armed_page_in_place),
		T(the_oracle_counts_held_references_and_pins),
		cmocka_unit_test(unpin_releases_what_was_held_and_refuses_the_rest),
	};
	return cmocka_run_group_tests_name("gup hold", tests, NULL, NULL);
}
