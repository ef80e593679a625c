/* tests/unit/test_gup_faultpath.c - GUP callers against the real fault path
 * and the userfaultfd API: the G1 and G2 traces of rwp-series.md §4.5-4.6,
 * async resolve in place, sync blocking and SIGBUS, MADV_POPULATE.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define NPAGES 4

enum {
	GUP = 0,
	GUP_REMOTE = 2,
	DUMP = 5,
	PVM_READ = 6,
	PROC_READ = 8,
	PTRACE = 10,
	VMSPLICE = 11,
	KVM = 12
};

/* The process is t_proc; base is its armed region (armed_region()). */
static uint64_t base;

/* An anon RW region filled with 0xc0 + page, registered MODE_RWP (async or
 * sync) and RWPROTECTed: every page armed. */
static void armed_region(bool async)
{
	uint64_t features = UFFD_FEATURE_RWP | (async ? UFFD_FEATURE_RWP_ASYNC : 0), ioctls;

	base = t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	for (unsigned i = 0; i < NPAGES; i++)
		t_write_pages(t_proc.mm, base + i * PAGE_SIZE, 1, 0xc0 + i);
	t_proc.ctx = sys_userfaultfd(t_proc.mm);
	assert_int_equal(userfaultfd_api(t_proc.ctx, &features, &ioctls), 0);
	assert_int_equal(userfaultfd_register(t_proc.ctx, base, NPAGES * PAGE_SIZE,
					      UFFDIO_REGISTER_MODE_RWP, &ioctls),
			 0);
	assert_int_equal(userfaultfd_rwprotect(t_proc.ctx, base, NPAGES * PAGE_SIZE,
					       UFFDIO_RWPROTECT_MODE_RWP),
			 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		pte_t pte = t_pte(t_proc.mm, base + i * PAGE_SIZE);

		assert_true(pte_protnone(pte) && pte_uffd(pte));
	}
	g_array_set_size(mm_events, 0);
}

/* rwp-series.md §4.6 (trace G2) */
static void force_read_after_mprotect_none_livelocks_at_v5_and_reads_through_at_v6(void **state)
{
	static const struct {
		const char *level;
		unsigned caller;
		long ret;
	} rows[] = {
		{ "v5", PTRACE, -ELOOP }, { "v5", PROC_READ, -ELOOP }, { "v5", DUMP, -ELOOP },
		{ "v6", PTRACE, 0 },	  { "v6", PROC_READ, 0 },      { "v6", DUMP, 0 },
		{ "no08", PTRACE, 0 },
	};

	armed_region(false);
	assert_int_equal(sys_mprotect(t_proc.mm, base, NPAGES * PAGE_SIZE, PROT_NONE), 0);
	pte_t armed = t_pte(t_proc.mm, base);
	assert_true(pte_protnone(armed) && pte_uffd(armed));

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t done = 99;

		assert_true(patch_set_level(rows[i].level));
		g_array_set_size(mm_events, 0);
		long ret = gup_caller_run(t_proc.mm, rows[i].caller, 0, base, 1, 0, &done);
		if (ret != rows[i].ret)
			fail_msg("row %u (%s %s): ret %ld", i, rows[i].level,
				 gup_presets[rows[i].caller].name, ret);
		assert_int_equal(t_nr_events(EV_LIVELOCK), ret == -ELOOP);
		assert_int_equal(t_nr_events(EV_RWP_FAULT), 0);
		assert_int_equal(t_proc.ctx->msgs->len, 0);
		if (!ret) {
			assert_int_equal(done, 1);
			assert_int_equal(t_last_event(EV_ACCESS)->value, 0xc0);
		}
		/* The arming is untouched either way. */
		assert_int_equal(pte_val(t_pte(t_proc.mm, base)), pte_val(armed));
	}
	/* Back to RW, the page is still armed: the next user access traps. */
	assert_true(patch_set_level("v6"));
	assert_int_equal(sys_mprotect(t_proc.mm, base, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE),
			 0);
	assert_true(pte_uffd(t_pte(t_proc.mm, base)));
	assert_int_equal(user_access(t_proc.mm, base, false, 0, NULL), RESULT_BLOCKED);
}

/* rwp-series.md §4.5 (trace G1) and test rwp-gup */
static void async_gup_resolves_the_armed_page_in_place_and_returns_its_data(void **state)
{
	static const struct {
		const char *level;
		unsigned caller;
		bool faults;
	} rows[] = {
		{ "v6", VMSPLICE, true },    { "v6", PVM_READ, true }, { "v6", GUP, true },
		{ "v6", PTRACE, true },	     { "v6", DUMP, true },     { "v5", VMSPLICE, true },
		{ "no08", VMSPLICE, false }, /* the bypass: read without a fault */
		{ "no08", DUMP, false },     { "no08", KVM, true }, /* the HONOR control */
	};

	armed_region(true);
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t addr = base + (i % NPAGES) * PAGE_SIZE, done = 99;
		struct folio *folio;
		int refs;

		assert_true(patch_set_level(rows[i].level));
		/* Re-arm the page for each row. */
		assert_int_equal(userfaultfd_rwprotect(t_proc.ctx, addr, PAGE_SIZE,
						       UFFDIO_RWPROTECT_MODE_RWP),
				 0);
		folio = page_folio(pfn_to_page(pte_pfn(t_pte(t_proc.mm, addr))));
		refs = folio_ref_count(folio);
		g_array_set_size(mm_events, 0);

		assert_int_equal(gup_caller_run(t_proc.mm, rows[i].caller, 0, addr, 1, 0, &done),
				 0);
		assert_int_equal(done, 1);
		assert_int_equal(t_last_event(EV_ACCESS)->value, 0xc0 + i % NPAGES);
		assert_int_equal(t_last_event(EV_ACCESS)->who, ACCESS_GUP);
		if (t_nr_events(EV_RWP_FAULT) != rows[i].faults)
			fail_msg("row %u (%s %s): %u RWP faults", i, rows[i].level,
				 gup_presets[rows[i].caller].name, t_nr_events(EV_RWP_FAULT));
		if (rows[i].faults)
			assert_true(t_last_event(EV_RWP_FAULT)->async);
		/* Resolved: the bit is gone; bypassed: the page still looks
		 * untouched although the kernel read it. */
		assert_int_equal(pte_uffd(t_pte(t_proc.mm, addr)), !rows[i].faults);
		assert_int_equal(folio_ref_count(folio), refs);
		assert_int_equal(folio->pincount, 0);
	}
}

static void sync_rwp_blocks_an_unlockable_gup_and_sigbuses_the_others(void **state)
{
	uint64_t done = 99;
	struct uffd_msg msg;

	armed_region(false);
	/* process_vm_readv may sleep: one message, the task blocks. */
	assert_int_equal(gup_caller_run(t_proc.mm, PVM_READ, 0, base, 2, 0, &done), -EBUSY);
	assert_int_equal(done, 0);
	assert_true(t_proc.task.sleeping);
	assert_int_equal(t_proc.ctx->msgs->len, 1);
	assert_true(uffd_msg_pop(t_proc.ctx, &msg));
	assert_int_equal(msg.address, base);
	assert_true(msg.flags & UFFD_PAGEFAULT_FLAG_RWP);
	/* The handler resolves the page and wakes the task; the engine resumes
	 * the GUP, which then stops at the next armed page. */
	assert_int_equal(userfaultfd_rwprotect(t_proc.ctx, base, PAGE_SIZE, 0), 0);
	assert_false(t_proc.task.sleeping);
	assert_int_equal(gup_caller_run(t_proc.mm, PVM_READ, 0, base, 2, 0, &done), -EBUSY);
	assert_int_equal(done, 1);
	assert_int_equal(t_last_event(EV_ACCESS)->value, 0xc0);
	t_proc.task.sleeping = false;

	/* ptrace cannot drop the lock: SIGBUS from handle_userfault, -EFAULT
	 * from GUP, which ptrace_access_vm() reports as -EIO. */
	g_array_set_size(mm_events, 0);
	assert_int_equal(gup_caller_run(t_proc.mm, PTRACE, 0, base + 2 * PAGE_SIZE, 1, 0, &done),
			 -EIO);
	assert_int_equal(t_nr_events(EV_SIGBUS), 1);
	assert_int_equal(t_nr_events(EV_ACCESS), 0);
	/* A core dump writes a hole instead. */
	assert_int_equal(gup_caller_run(t_proc.mm, DUMP, 0, base + 2 * PAGE_SIZE, 2, 0, &done), 0);
	assert_int_equal(done, 2);
	assert_int_equal(t_nr_events(EV_ACCESS), 0);
	assert_true(pte_uffd(t_pte(t_proc.mm, base + 2 * PAGE_SIZE)));
}

static void gup_fast_takes_mapped_pages_without_the_slow_path(void **state)
{
	uint64_t addr = t_map_anon(t_proc.mm, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0), done;

	t_write_pages(t_proc.mm, addr, NPAGES, 0x55);
	g_array_set_size(mm_events, 0);
	assert_int_equal(gup_caller_run(t_proc.mm, VMSPLICE, 0, addr, NPAGES, 0, &done), 0);
	assert_int_equal(done, NPAGES);
	assert_int_equal(t_nr_events(EV_ACCESS), NPAGES);
	/* Every access came through GUP-fast (plain FOLL_GET). */
	for (guint i = 0; i < mm_events->len; i++)
		assert_int_equal(g_array_index(mm_events, struct mm_event, i).foll_flags, FOLL_GET);
	/* A hole: GUP-fast stops, the slow path faults the page in. */
	assert_int_equal(sys_munmap(t_proc.mm, addr + 2 * PAGE_SIZE, PAGE_SIZE), 0);
	uint64_t hole = t_map_anon(t_proc.mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	g_array_set_size(mm_events, 0);
	assert_int_equal(gup_caller_run(t_proc.mm, VMSPLICE, 0, hole, 1, 0, &done), 0);
	assert_int_equal(t_last_event(EV_ACCESS)->foll_flags,
			 FOLL_GET | FOLL_TOUCH | FOLL_UNLOCKABLE);
	assert_int_equal(t_last_event(EV_ACCESS)->value, 0);
}

static void a_foll_force_write_breaks_cow_in_a_readonly_private_mapping(void **state)
{
	uint64_t addr = t_map_anon(t_proc.mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0), done;
	uint64_t v = 0;

	t_write_pages(t_proc.mm, addr, 1, 0x11);
	assert_int_equal(sys_mprotect(t_proc.mm, addr, PAGE_SIZE, PROT_READ), 0);
	/* /proc/pid/mem write: FOLL_FORCE|FOLL_WRITE on a !VM_WRITE COW VMA. */
	assert_int_equal(gup_caller_run(t_proc.mm, 9, 0, addr, 1, 0x22, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(user_access(t_proc.mm, addr, false, 0, &v), RESULT_OK);
	assert_int_equal(v, 0x22);
	assert_false(pte_write(t_pte(t_proc.mm, addr)));
	/* Without FOLL_FORCE the write is refused up front. */
	assert_int_equal(gup_caller_run(t_proc.mm, GUP, FOLL_WRITE, addr, 1, 0x33, &done), -EFAULT);
}

static void madv_populate_read_resolves_an_async_armed_range(void **state)
{
	uint64_t done = 99;

	armed_region(true);
	assert_int_equal(
		faultin_page_range(t_proc.mm, base, base + NPAGES * PAGE_SIZE, false, &done), 0);
	assert_int_equal(done, NPAGES);
	assert_int_equal(t_nr_events(EV_RWP_FAULT), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_false(pte_uffd(t_pte(t_proc.mm, base + i * PAGE_SIZE)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
		T(force_read_after_mprotect_none_livelocks_at_v5_and_reads_through_at_v6),
		T(async_gup_resolves_the_armed_page_in_place_and_returns_its_data),
		T(sync_rwp_blocks_an_unlockable_gup_and_sigbuses_the_others),
		T(gup_fast_takes_mapped_pages_without_the_slow_path),
		T(a_foll_force_write_breaks_cow_in_a_readonly_private_mapping),
		T(madv_populate_read_resolves_an_async_armed_range),
#undef T
	};

	return cmocka_run_group_tests_name("gup", tests, NULL, NULL);
}
