/* tests/unit/test_fault_dispatch.c - handle_mm_fault()/handle_pte_fault()
 * dispatch in the series' order (kernel-paths.md §4.2, rwp-series.md §2.2):
 * one table of PTE prestate x {read, write}, each row naming the handler
 * that must run by the entry it leaves, the message it queues and the
 * events it emits.
 */
#include <inttypes.h>

#include "mmsim_test.h"
#include "trace/trace.h"

#define NPAGES 4
#define DATA 0xabcULL
#define SWAPPED 0x5aULL
#define NO_MSG UINT64_MAX
#define NO_EVENT (-1)

/* The process is t_proc; this is the region under test. */
struct fx {
	struct vm_area_struct *vma;
	uint64_t base, addr; /* the region and its target page (page 1) */
	pte_t orig, neighbour;
	uint64_t slot;
};

static struct fx fx;

static pte_t *target(void) { return t_ptep(t_proc.mm, fx.addr); }

/* A private RW anon region; page 0 is written so the PTE table exists. */
static void map_region(void)
{
	fx.base = t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	fx.addr = fx.base + PAGE_SIZE;
	fx.vma = vma_lookup(t_proc.mm, fx.base);
	t_write_pages(t_proc.mm, fx.base, 1, 0x11);
}

static void populate(void) { t_write_pages(t_proc.mm, fx.addr, 1, DATA); }

/* Swap the target page out by hand: an exclusive swap PTE on a fresh slot. */
static void swap_out_by_hand(bool uffd)
{
	fx.slot = swap_alloc_slot();
	assert_true(fx.slot != 0);
	swap_info.slots[fx.slot].content = SWAPPED;
	pte_t swp = pte_swp_mkexclusive(swp_entry_to_pte(swp_entry(0, fx.slot)));
	if (uffd)
		swp = pte_swp_mkuffd(swp);
	*target() = swp;
	t_proc.mm->nr_swapents++;
}

enum pre {
	PRE_NONE,
	PRE_PRESENT_OLD,     /* RW page, accessed bit cleared */
	PRE_PRESENT_RO,	     /* exclusive anon page, write-protected */
	PRE_RWP_SYNC,	     /* protnone + uffd in an RWP VMA */
	PRE_RWP_ASYNC,	     /* the same with RWP_ASYNC */
	PRE_NUMA,	     /* protnone, no uffd, plain VMA */
	PRE_NUMA_IN_RWP,     /* protnone, no uffd, RWP VMA */
	PRE_ORPHAN_UFFD,     /* protnone + uffd in an accessible non-RWP VMA */
	PRE_ARMED_PROT_NONE, /* protnone + uffd, RWP VMA made PROT_NONE */
	PRE_SWAP,	     /* exclusive swap entry */
	PRE_SWAP_UFFD_RWP,   /* swap entry with the swap uffd bit, RWP VMA */
	PRE_SWAP_UFFD_WP,    /* swap entry with the swap uffd bit, WP VMA */
	PRE_WP_MARKER,	     /* uffd-wp marker in a WP VMA */
	PRE_STALE_WP_MARKER, /* uffd-wp marker left in an unregistered VMA */
};

static const char *const pre_names[] = {
	"none",		 "present-old",	 "present-ro",	"rwp-sync",	   "rwp-async",
	"numa",		 "numa-in-rwp",	 "orphan-uffd", "armed-prot-none", "swap",
	"swap-uffd-rwp", "swap-uffd-wp", "wp-marker",	"stale-wp-marker",
};

static void build(enum pre pre)
{
	map_region();
	switch (pre) {
	case PRE_NONE:
		break;
	case PRE_PRESENT_OLD:
		populate();
		*target() = pte_mkold(*target());
		break;
	case PRE_PRESENT_RO:
		populate();
		*target() = pte_wrprotect(*target());
		break;
	case PRE_RWP_SYNC:
	case PRE_RWP_ASYNC:
		populate();
		t_register_ctx(fx.vma, VM_UFFD_RWP,
			       UFFD_FEATURE_RWP |
				       (pre == PRE_RWP_ASYNC ? UFFD_FEATURE_RWP_ASYNC : 0));
		*target() = pte_mkuffd(pte_modify(*target(), PAGE_NONE));
		break;
	case PRE_NUMA:
		populate();
		*target() = pte_modify(*target(), PAGE_NONE);
		break;
	case PRE_NUMA_IN_RWP:
		populate();
		t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		*target() = pte_modify(*target(), PAGE_NONE);
		break;
	case PRE_ORPHAN_UFFD:
		populate();
		*target() = pte_mkuffd(pte_modify(*target(), PAGE_NONE));
		break;
	case PRE_ARMED_PROT_NONE:
		populate();
		t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		*target() = pte_mkuffd(pte_modify(*target(), PAGE_NONE));
		fx.vma->vm_flags &= ~VM_ACCESS_FLAGS;
		fx.vma->vm_page_prot = vm_get_page_prot(fx.vma->vm_flags);
		break;
	case PRE_SWAP:
		swap_out_by_hand(false);
		break;
	case PRE_SWAP_UFFD_RWP:
		t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		swap_out_by_hand(true);
		break;
	case PRE_SWAP_UFFD_WP:
		t_register_ctx(fx.vma, VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
		swap_out_by_hand(true);
		break;
	case PRE_WP_MARKER:
		t_register_ctx(fx.vma, VM_UFFD_WP,
			       UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_UNPOPULATED);
		*target() = make_pte_marker(PTE_MARKER_UFFD_WP);
		break;
	case PRE_STALE_WP_MARKER:
		*target() = make_pte_marker(PTE_MARKER_UFFD_WP);
		break;
	}
	fx.orig = *target();
	fx.neighbour = t_pte(t_proc.mm, fx.base);
	g_array_set_size(mm_events, 0);
	t_proc.task.sleeping = false;
}

/* What the entry must be afterwards; pfn is the page now mapped. */
enum out {
	OUT_SAME,
	OUT_YOUNG,
	OUT_YOUNG_DIRTY,
	OUT_REUSED,	   /* do_wp_page -> wp_page_reuse */
	OUT_ZERO,	   /* do_anonymous_page read: the zero page */
	OUT_ZERO_UFFD,	   /* ... keeping the uffd-wp marker's bit */
	OUT_NEW_ANON,	   /* do_anonymous_page write */
	OUT_NEW_ANON_UFFD, /* ... on a uffd-wp marker: read-only + uffd */
	OUT_RWP_RESOLVED,  /* do_uffd_rwp async: accessible, bit clear, writable */
	OUT_NUMA,	   /* do_numa_page: accessible, uffd bit kept as it was */
	OUT_SWAPIN,	   /* do_swap_page, exclusive: writable */
	OUT_SWAPIN_DIRTY,  /* ... on a write fault */
	OUT_SWAPIN_ARMED,  /* do_swap_page rwp_restore: armed again */
	OUT_SWAPIN_WP,	   /* do_swap_page with uffd-wp: read-only + uffd */
	OUT_CLEARED,
};

static pte_t expected(enum out out, uint64_t pfn)
{
	pgprot_t prot = fx.vma->vm_page_prot;
	switch (out) {
	case OUT_SAME:
		return fx.orig;
	case OUT_YOUNG:
		return pte_mkyoung(fx.orig);
	case OUT_YOUNG_DIRTY:
		return pte_mkyoung(pte_mkdirty(fx.orig));
	case OUT_REUSED:
		return pte_mkyoung(pte_mkwrite(pte_mkdirty(fx.orig)));
	case OUT_ZERO:
		return pte_mkspecial(pfn_pte(mem_map.zero_pfn, prot));
	case OUT_ZERO_UFFD:
		return pte_mkuffd(pte_mkspecial(pfn_pte(mem_map.zero_pfn, prot)));
	case OUT_NEW_ANON:
		return pte_mkwrite(pte_mkdirty(pfn_pte(pfn, prot)));
	case OUT_NEW_ANON_UFFD:
		return pte_mkuffd(pte_mkdirty(pfn_pte(pfn, prot)));
	case OUT_RWP_RESOLVED:
		return pte_mkwrite(pte_mkyoung(pte_clear_uffd(pte_modify(fx.orig, prot))));
	case OUT_NUMA:
		return pte_mkwrite(pte_mkyoung(pte_modify(fx.orig, prot)));
	case OUT_SWAPIN:
		return pte_mkwrite(pfn_pte(pfn, prot));
	case OUT_SWAPIN_DIRTY:
		return pte_mkdirty(pte_mkwrite(pfn_pte(pfn, prot)));
	case OUT_SWAPIN_ARMED:
		return pte_mkuffd(pfn_pte(pfn, PAGE_NONE));
	case OUT_SWAPIN_WP:
		return pte_mkuffd(pfn_pte(pfn, prot));
	case OUT_CLEARED:
		return __pte(0);
	}
	return __pte(0);
}

struct row {
	enum pre pre;
	bool write;
	vm_fault_t ret;
	enum out out;
	uint64_t msg_flags; /* NO_MSG: nothing queued */
	int event;	    /* mm_event_kind or NO_EVENT */
	bool async;
};

#define RD false
#define WR true
#define F_RWP UFFD_PAGEFAULT_FLAG_RWP
#define F_WP UFFD_PAGEFAULT_FLAG_WP
#define F_W UFFD_PAGEFAULT_FLAG_WRITE

static const struct row rows[] = {
	{ PRE_NONE, RD, 0, OUT_ZERO, NO_MSG, NO_EVENT, false },
	{ PRE_NONE, WR, 0, OUT_NEW_ANON, NO_MSG, NO_EVENT, false },
	{ PRE_PRESENT_OLD, RD, 0, OUT_YOUNG, NO_MSG, NO_EVENT, false },
	{ PRE_PRESENT_OLD, WR, 0, OUT_YOUNG_DIRTY, NO_MSG, NO_EVENT, false },
	{ PRE_PRESENT_RO, RD, 0, OUT_YOUNG, NO_MSG, NO_EVENT, false },
	{ PRE_PRESENT_RO, WR, 0, OUT_REUSED, NO_MSG, NO_EVENT, false },
	{ PRE_RWP_SYNC, RD, VM_FAULT_RETRY, OUT_SAME, F_RWP, EV_RWP_FAULT, false },
	{ PRE_RWP_SYNC, WR, VM_FAULT_RETRY, OUT_SAME, F_RWP | F_W, EV_RWP_FAULT, false },
	{ PRE_RWP_ASYNC, RD, 0, OUT_RWP_RESOLVED, NO_MSG, EV_RWP_FAULT, true },
	{ PRE_RWP_ASYNC, WR, 0, OUT_RWP_RESOLVED, NO_MSG, EV_RWP_FAULT, true },
	{ PRE_NUMA, RD, 0, OUT_NUMA, NO_MSG, NO_EVENT, false },
	{ PRE_NUMA, WR, 0, OUT_NUMA, NO_MSG, NO_EVENT, false },
	{ PRE_NUMA_IN_RWP, RD, 0, OUT_NUMA, NO_MSG, NO_EVENT, false },
	{ PRE_NUMA_IN_RWP, WR, 0, OUT_NUMA, NO_MSG, NO_EVENT, false },
	{ PRE_ORPHAN_UFFD, RD, 0, OUT_NUMA, NO_MSG, NO_EVENT, false },
	{ PRE_ORPHAN_UFFD, WR, 0, OUT_NUMA, NO_MSG, NO_EVENT, false },
	{ PRE_ARMED_PROT_NONE, RD, 0, OUT_SAME, NO_MSG, NO_EVENT, false },
	{ PRE_SWAP, RD, 0, OUT_SWAPIN, NO_MSG, NO_EVENT, false },
	{ PRE_SWAP, WR, 0, OUT_SWAPIN_DIRTY, NO_MSG, NO_EVENT, false },
	{ PRE_SWAP_UFFD_RWP, RD, 0, OUT_SWAPIN_ARMED, NO_MSG, NO_EVENT, false },
	{ PRE_SWAP_UFFD_RWP, WR, 0, OUT_SWAPIN_ARMED, NO_MSG, NO_EVENT, false },
	{ PRE_SWAP_UFFD_WP, RD, 0, OUT_SWAPIN_WP, NO_MSG, NO_EVENT, false },
	{ PRE_SWAP_UFFD_WP, WR, VM_FAULT_RETRY, OUT_SWAPIN_WP, F_WP | F_W, EV_WP_FAULT, false },
	{ PRE_WP_MARKER, RD, 0, OUT_ZERO_UFFD, NO_MSG, NO_EVENT, false },
	{ PRE_WP_MARKER, WR, 0, OUT_NEW_ANON_UFFD, NO_MSG, NO_EVENT, false },
	{ PRE_STALE_WP_MARKER, RD, 0, OUT_CLEARED, NO_MSG, NO_EVENT, false },
	{ PRE_STALE_WP_MARKER, WR, 0, OUT_CLEARED, NO_MSG, NO_EVENT, false },
};

static unsigned user_flags(bool write)
{
	return FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE |
	       (write ? FAULT_FLAG_WRITE : 0);
}

static void check_row(unsigned i, const struct row *r)
{
	const char *rw = r->write ? "write" : "read";
	vm_fault_t ret = handle_mm_fault(fx.vma, fx.addr, user_flags(r->write));
	pte_t got = *target();
	pte_t want = expected(r->out, pte_present(got) ? pte_pfn(got) : 0);

	if (ret != r->ret)
		fail_msg("row %u (%s, %s): returned 0x%x, expected 0x%x", i, pre_names[r->pre], rw,
			 ret, r->ret);
	if (pte_val(got) != pte_val(want))
		fail_msg("row %u (%s, %s): PTE 0x%016" PRIx64 ", expected 0x%016" PRIx64, i,
			 pre_names[r->pre], rw, pte_val(got), pte_val(want));
	/* No handler touches the neighbouring page. */
	assert_int_equal(pte_val(t_pte(t_proc.mm, fx.base)), pte_val(fx.neighbour));

	unsigned nmsgs = t_proc.ctx ? t_proc.ctx->msgs->len : 0;
	if (r->msg_flags == NO_MSG) {
		if (nmsgs)
			fail_msg("row %u (%s, %s): %u unexpected messages", i, pre_names[r->pre],
				 rw, nmsgs);
		assert_false(t_proc.task.sleeping);
	} else {
		struct uffd_msg msg;
		if (nmsgs != 1)
			fail_msg("row %u (%s, %s): %u messages, expected 1", i, pre_names[r->pre],
				 rw, nmsgs);
		assert_true(uffd_msg_pop(t_proc.ctx, &msg));
		assert_int_equal(msg.event, UFFD_EVENT_PAGEFAULT);
		assert_int_equal(msg.address, fx.addr);
		if (msg.flags != r->msg_flags)
			fail_msg("row %u (%s, %s): message flags 0x%" PRIx64
				 ", expected 0x%" PRIx64,
				 i, pre_names[r->pre], rw, msg.flags, r->msg_flags);
		assert_true(t_proc.task.sleeping);
		assert_int_equal(t_proc.task.wait_address, fx.addr);
	}

	unsigned nuffd = 0;
	for (guint k = 0; k < mm_events->len; k++) {
		const struct mm_event *ev = &g_array_index(mm_events, struct mm_event, k);
		if (ev->kind != EV_RWP_FAULT && ev->kind != EV_WP_FAULT &&
		    ev->kind != EV_MISSING_FAULT && ev->kind != EV_MINOR_FAULT)
			continue;
		nuffd++;
		if ((int)ev->kind != r->event)
			fail_msg("row %u (%s, %s): event kind %d, expected %d", i,
				 pre_names[r->pre], rw, ev->kind, r->event);
		assert_int_equal(ev->address, fx.addr);
		assert_int_equal(ev->write, r->write);
		assert_int_equal(ev->async, r->async);
		assert_int_equal(ev->mm_id, t_proc.mm->id);
	}
	if (nuffd != (r->event == NO_EVENT ? 0u : 1u))
		fail_msg("row %u (%s, %s): %u userfault events", i, pre_names[r->pre], rw, nuffd);
}

static void each_prestate_and_access_reaches_the_handler_the_series_orders(void **state)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		build(rows[i].pre);
		check_row(i, &rows[i]);
		t_proc_restart(state);
	}
}

/* The new page of a write fault is one exclusive anon folio, one reference
 * and one mapping; swap-in frees the slot and brings the data back. */
static void anon_write_and_swap_in_keep_refcounts_and_data(void **state)
{
	build(PRE_NONE);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, user_flags(true)), 0);
	struct page *page = pfn_to_page(pte_pfn(*target()));
	struct folio *folio = page_folio(page);
	assert_true(folio_test_anon(folio));
	assert_int_equal(folio_order(folio), 0);
	assert_int_equal(folio_ref_count(folio), 1);
	assert_int_equal(page->mapcount, 1);
	assert_true(PageAnonExclusive(page));
	assert_ptr_equal(folio->mapping, fx.vma->anon_vma);
	assert_int_equal(folio->index, linear_page_index(fx.vma, fx.addr));

	t_proc_restart(state);
	build(PRE_SWAP);
	assert_int_equal(t_proc.mm->nr_swapents, 1);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, user_flags(false)), 0);
	page = pfn_to_page(pte_pfn(*target()));
	assert_int_equal(page->content, SWAPPED);
	assert_int_equal(page->mapcount, 1);
	assert_int_equal(folio_ref_count(page_folio(page)), 1);
	assert_int_equal(swap_info.slots[fx.slot].count, 0);
	assert_int_equal(t_proc.mm->nr_swapents, 0);
}

/* rwp-series.md §2.3: the rwp_restore skips the write upgrade and the COW,
 * so the retried access is delivered as an RWP fault. */
static void swapped_armed_page_comes_back_armed_and_the_retry_is_an_rwp_fault(void **state)
{
	build(PRE_SWAP_UFFD_RWP);
	assert_int_equal(user_access(t_proc.mm, fx.addr, true, 0x77, NULL), RESULT_BLOCKED);
	struct uffd_msg msg;
	assert_int_equal(t_proc.ctx->msgs->len, 1);
	assert_true(uffd_msg_pop(t_proc.ctx, &msg));
	assert_int_equal(msg.flags, F_RWP | F_W);
	assert_int_equal(msg.address, fx.addr);
	pte_t pte = *target();
	assert_true(pte_protnone(pte) && pte_uffd(pte) && !pte_write(pte));
	/* The data is the swapped data: the store never landed. */
	assert_int_equal(pfn_to_page(pte_pfn(pte))->content, SWAPPED);
}

/* kernel-paths.md §4.2: in a PROT_NONE VMA protnone carries no meaning.
 * A (FOLL_FORCE-like) write fault reaches do_wp_page; wp_page_reuse uses
 * maybe_mkwrite(), so the entry must not become writable in a VMA without
 * VM_WRITE. */
static void write_fault_in_a_vma_without_vm_write_never_makes_the_pte_writable(void **state)
{
	build(PRE_PRESENT_RO);
	fx.vma->vm_flags &= ~VM_WRITE;
	fx.vma->vm_page_prot = vm_get_page_prot(fx.vma->vm_flags);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE), 0);
	pte_t pte = *target();
	assert_int_equal(pte_pfn(pte), pte_pfn(fx.orig)); /* reused, exclusive */
	assert_true(pte_dirty(pte));
	assert_false(pte_write(pte));
	assert_null(mmu_translate(t_proc.mm, fx.addr, true));
}

static void write_fault_on_an_armed_pte_of_a_prot_none_vma_keeps_it_protnone(void **state)
{
	build(PRE_ARMED_PROT_NONE);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE), 0);
	pte_t pte = *target();
	assert_true(pte_protnone(pte));
	assert_true(pte_uffd(pte));
	assert_false(pte_write(pte));
	assert_int_equal(t_proc.ctx->msgs->len, 0);
}

/* sanitize_fault_flags(): a write needs VM_MAYWRITE, and VM_WRITE unless
 * the mapping is COW. */
static void write_fault_without_maywrite_or_on_a_shared_read_only_vma_is_sigsegv(void **state)
{
	map_region();
	fx.vma->vm_flags &= ~(VM_WRITE | VM_MAYWRITE);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	fx.vma->vm_flags |= VM_MAYWRITE | VM_SHARED | VM_MAYSHARE;
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, FAULT_FLAG_WRITE), VM_FAULT_SIGSEGV);
	/* A read fault still works. */
	fx.vma->vm_flags &= ~(VM_SHARED | VM_MAYSHARE);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, 0), 0);
	assert_true(is_zero_pfn(pte_pfn(*target())));
}

/* Without FAULT_FLAG_ALLOW_RETRY a sync userfault cannot sleep: SIGBUS. */
static void sync_rwp_fault_without_allow_retry_is_sigbus_and_queues_nothing(void **state)
{
	build(PRE_RWP_SYNC);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, FAULT_FLAG_USER), VM_FAULT_SIGBUS);
	assert_int_equal(t_proc.ctx->msgs->len, 0);
	assert_false(t_proc.task.sleeping);
	assert_int_equal(pte_val(*target()), pte_val(fx.orig));
}

/* handle_userfault's must_wait: an entry already resolved does not sleep. */
static void async_resolution_is_idempotent_once_the_bit_is_clear(void **state)
{
	build(PRE_RWP_ASYNC);
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, user_flags(false)), 0);
	pte_t once = *target();
	g_array_set_size(mm_events, 0);
	/* The retried access no longer faults at all. */
	assert_non_null(mmu_translate(t_proc.mm, fx.addr, false));
	assert_int_equal(handle_mm_fault(fx.vma, fx.addr, user_flags(false)), 0);
	assert_int_equal(pte_val(*target()) & ~_PAGE_ACCESSED, pte_val(once) & ~_PAGE_ACCESSED);
	assert_int_equal(mm_events->len, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(each_prestate_and_access_reaches_the_handler_the_series_orders),
		T(anon_write_and_swap_in_keep_refcounts_and_data),
		T(swapped_armed_page_comes_back_armed_and_the_retry_is_an_rwp_fault),
		T(write_fault_in_a_vma_without_vm_write_never_makes_the_pte_writable),
		T(write_fault_on_an_armed_pte_of_a_prot_none_vma_keeps_it_protnone),
		T(write_fault_without_maywrite_or_on_a_shared_read_only_vma_is_sigsegv),
		T(sync_rwp_fault_without_allow_retry_is_sigbus_and_queues_nothing),
		T(async_resolution_is_idempotent_once_the_bit_is_clear),
	};
	return cmocka_run_group_tests_name("fault dispatch", tests, NULL, NULL);
}
