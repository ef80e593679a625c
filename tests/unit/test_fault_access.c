/* tests/unit/test_fault_access.c - the x86 MMU walk and user_access()
 * (arch/x86/mm/fault.c), mTHP in do_anonymous_page(), do_wp_page()
 * reuse/copy/uffd-wp, and do_numa_page()'s large-folio rebuild that skips
 * uffd-marked neighbours (RWP 10/15).
 */
#include <inttypes.h>

#include "mmsim_test.h"
#include "trace/trace.h"

enum mmu_pre { M_RW, M_RO, M_ARMED, M_NUMA, M_SWAP, M_NONE, M_NO_TABLE, M_PMD, M_PMD_ARMED };

/* mmu_translate: present + user (+ RW for stores) at the leaf; it sets
 * accessed, and dirty for stores, as the CPU does. */
static void the_mmu_walk_translates_only_present_user_entries_with_the_right_rw(void **state)
{
	static const struct {
		const char *name;
		enum mmu_pre pre;
		bool read_ok, write_ok;
	} rows[] = {
		{ "rw", M_RW, true, true },
		{ "ro", M_RO, true, false },
		{ "armed", M_ARMED, false, false },
		{ "numa", M_NUMA, false, false },
		{ "swap", M_SWAP, false, false },
		{ "none", M_NONE, false, false },
		{ "no table", M_NO_TABLE, false, false },
		{ "pmd", M_PMD, true, true },
		{ "armed pmd", M_PMD_ARMED, false, false },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		bool pmd = rows[i].pre >= M_PMD;
		uint64_t base = t_map_anon(t_proc.mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
		if (pmd)
			vma->vm_flags |= VM_HUGEPAGE;
		uint64_t addr = base + 3 * PAGE_SIZE;
		if (rows[i].pre != M_NO_TABLE)
			t_write_pages(t_proc.mm, base + (rows[i].pre == M_NONE ? 0 : 3 * PAGE_SIZE),
				      1, 0x33);
		uint64_t pfn = 0;
		if (pmd) {
			pmd_t *p = pmd_lookup(t_proc.mm->pgd, base, false, 0);
			assert_true(pmd_trans_huge(*p));
			pfn = pmd_pfn(*p) + 3;
			*p = pmd_mkold(pmd_clear_flags(*p, _PAGE_DIRTY));
			if (rows[i].pre == M_PMD_ARMED)
				*p = pmd_mkuffd(pmd_modify(*p, PAGE_NONE));
		} else if (rows[i].pre != M_NONE && rows[i].pre != M_NO_TABLE) {
			pte_t *p = t_ptep(t_proc.mm, addr);
			pfn = pte_pfn(*p);
			*p = pte_mkold(pte_mkclean(*p));
			if (rows[i].pre == M_RO)
				*p = pte_wrprotect(*p);
			else if (rows[i].pre == M_ARMED)
				*p = pte_mkuffd(pte_modify(*p, PAGE_NONE));
			else if (rows[i].pre == M_NUMA)
				*p = pte_modify(*p, PAGE_NONE);
			else if (rows[i].pre == M_SWAP)
				*p = swp_entry_to_pte(swp_entry(0, 1));
		}
		for (int w = 0; w < 2; w++) {
			bool ok = w ? rows[i].write_ok : rows[i].read_ok;
			struct page *page = mmu_translate(t_proc.mm, addr, w);
			if ((page != NULL) != ok)
				fail_msg("row %s, %s: %p", rows[i].name, w ? "write" : "read",
					 (void *)page);
			if (!page)
				continue;
			assert_int_equal(page_to_pfn(page), pfn);
			assert_int_equal(page->content, 0x33);
			if (pmd) {
				pmd_t e = *pmd_lookup(t_proc.mm->pgd, base, false, 0);
				assert_true(pmd_young(e));
				assert_int_equal(pmd_dirty(e), w);
			} else {
				assert_true(pte_young(*t_ptep(t_proc.mm, addr)));
				assert_int_equal(pte_dirty(*t_ptep(t_proc.mm, addr)), w);
			}
		}
	}
}

/* user_access: the result codes and the access event. */
static void user_access_returns_each_outcome_and_logs_completed_accesses(void **state)
{
	uint64_t rw = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	uint64_t ro = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ, 0);
	uint64_t none = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_NONE, 0);
	uint64_t v = 0;

	g_array_set_size(mm_events, 0);
	assert_int_equal(user_access(t_proc.mm, rw + 8, true, 0x99, NULL), RESULT_OK);
	assert_int_equal(user_access(t_proc.mm, rw, false, 0, &v), RESULT_OK);
	assert_int_equal(v, 0x99);
	assert_int_equal(t_nr_events(EV_ACCESS), 2);
	const struct mm_event *ev = &g_array_index(mm_events, struct mm_event, 1);
	assert_int_equal(ev->address, rw);
	assert_false(ev->write);
	assert_int_equal(ev->value, 0x99);
	assert_int_equal(ev->who, ACCESS_USER);

	assert_int_equal(user_access(t_proc.mm, ro, true, 1, NULL), RESULT_SIGSEGV);
	assert_int_equal(user_access(t_proc.mm, ro, false, 0, &v), RESULT_OK);
	assert_int_equal(v, 0);
	assert_int_equal(user_access(t_proc.mm, none, false, 0, &v), RESULT_SIGSEGV);
	assert_int_equal(user_access(t_proc.mm, none + 16 * PAGE_SIZE + (1ULL << 30), false, 0, &v),
			 RESULT_SIGSEGV);

	/* A migration entry never resolves here: the retry bound ends it. */
	pte_t *p = t_ptep(t_proc.mm, rw + PAGE_SIZE);
	assert_true(pte_none(*p));
	*p = swp_entry_to_pte(make_readable_migration_entry(pte_pfn(*t_ptep(t_proc.mm, rw))));
	g_array_set_size(mm_events, 0);
	assert_int_equal(user_access(t_proc.mm, rw + PAGE_SIZE, false, 0, &v), RESULT_LIVELOCK);
	assert_int_equal(t_nr_events(EV_LIVELOCK), 1);
	assert_int_equal(t_nr_events(EV_ACCESS), 0);
	*p = __pte(0);

	/* Out of memory. */
	mem_map.fail_alloc_after = mem_map.nr_allocs + 1;
	assert_int_equal(user_access(t_proc.mm, rw + 2 * PAGE_SIZE, true, 1, NULL), ENOMEM);
	mem_map.fail_alloc_after = 0;
	assert_int_equal(user_access(t_proc.mm, rw + 2 * PAGE_SIZE, true, 1, NULL), RESULT_OK);
}

/* Sync userfaults block (BLOCKED) unless UFFD_FEATURE_SIGBUS asks for
 * SIGBUS; async ones complete. */
static void user_access_on_an_armed_page_blocks_sigbuses_or_completes_by_mode(void **state)
{
	static const struct {
		const char *name;
		uint64_t features;
		int result;
	} rows[] = {
		{ "sync", UFFD_FEATURE_RWP, RESULT_BLOCKED },
		{ "sigbus", UFFD_FEATURE_RWP | UFFD_FEATURE_SIGBUS, RESULT_SIGBUS },
		{ "async", UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC, RESULT_OK },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		uint64_t a = t_map_anon(t_proc.mm, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		t_write_pages(t_proc.mm, a, 2, 0x21);
		t_register_ctx(vma_lookup(t_proc.mm, a), VM_UFFD_RWP, rows[i].features);
		pte_t *p = t_ptep(t_proc.mm, a);
		*p = pte_mkuffd(pte_modify(*p, PAGE_NONE));
		g_array_set_size(mm_events, 0);
		uint64_t v = 0;
		int res = user_access(t_proc.mm, a, false, 0, &v);
		if (res != rows[i].result)
			fail_msg("row %s: %d", rows[i].name, res);
		assert_int_equal(t_proc.task.sleeping, res == RESULT_BLOCKED);
		assert_int_equal(t_proc.ctx->msgs->len, res == RESULT_BLOCKED);
		assert_int_equal(t_nr_events(EV_ACCESS), res == RESULT_OK);
		assert_int_equal(v, res == RESULT_OK ? 0x21 : 0);
	}
}

/* alloc_anon_folio(): an mTHP folio when the aligned block is empty and in
 * the VMA, order 0 when any uffd mode is registered (userfaultfd_armed). */
static void anon_write_fault_allocates_mthp_only_outside_uffd_vmas(void **state)
{
	static const struct {
		const char *name;
		vm_flags_t mode;
		bool neighbour; /* a page of the block already mapped */
		uint64_t fault_page;
		unsigned order;
	} rows[] = {
		{ "plain", 0, false, 5, 2 },	      { "rwp", VM_UFFD_RWP, false, 5, 0 },
		{ "wp", VM_UFFD_WP, false, 5, 0 },    { "missing", VM_UFFD_MISSING, false, 5, 0 },
		{ "block not empty", 0, true, 5, 0 }, { "block past the VMA end", 0, false, 8, 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		thp_settings.mthp_order = 2;
		/* 9 pages from a 64K boundary: the last block is cut short. */
		uint64_t a = t_map_anon(t_proc.mm, 9 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0x10000);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, a);
		thp_settings.mthp_order = 0;
		t_write_pages(t_proc.mm, a, 1, 1); /* page 0: the PTE table */
		thp_settings.mthp_order = 2;
		if (rows[i].neighbour) {
			thp_settings.mthp_order = 0;
			t_write_pages(t_proc.mm, a + 6 * PAGE_SIZE, 1, 1);
			thp_settings.mthp_order = 2;
		}
		if (rows[i].mode)
			t_register_ctx(vma, rows[i].mode,
				       UFFD_FEATURE_RWP | UFFD_FEATURE_PAGEFAULT_FLAG_WP);
		uint64_t addr = a + rows[i].fault_page * PAGE_SIZE;
		vm_fault_t ret =
			handle_mm_fault(vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_ALLOW_RETRY);
		if (rows[i].mode == VM_UFFD_MISSING) {
			assert_int_equal(ret, VM_FAULT_RETRY);
			continue;
		}
		assert_int_equal(ret, 0);
		struct folio *folio = pfn_folio(pte_pfn(*t_ptep(t_proc.mm, addr)));
		if (folio_order(folio) != rows[i].order)
			fail_msg("row %s: order %u", rows[i].name, folio_order(folio));
		uint64_t nr = folio_nr_pages(folio);
		uint64_t first = addr & ~(nr * PAGE_SIZE - 1);
		assert_int_equal(folio_ref_count(folio), (int)nr);
		for (uint64_t k = 0; k < nr; k++) {
			pte_t pte = *t_ptep(t_proc.mm, first + k * PAGE_SIZE);
			assert_int_equal(pte_pfn(pte), folio_pfn(folio) + k);
			assert_true(pte_write(pte) && pte_dirty(pte));
			assert_int_equal(folio_page(folio, k)->mapcount, 1);
		}
		assert_int_equal(t_proc.mm->rss_anon, 1 + nr + rows[i].neighbour);
	}
}

/* do_wp_page: the zero page and a shared anon page are copied, an
 * exclusive page reused; uffd-wp delivers (sync) or clears the bit and goes
 * on (async). */
static void write_protect_faults_copy_reuse_or_deliver_uffd_wp(void **state)
{
	uint64_t a = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, a);

	/* Zero page -> a new zeroed page. */
	assert_int_equal(user_access(t_proc.mm, a, false, 0, NULL), RESULT_OK);
	assert_true(is_zero_pfn(pte_pfn(*t_ptep(t_proc.mm, a))));
	assert_int_equal(user_access(t_proc.mm, a, true, 0x5, NULL), RESULT_OK);
	assert_false(is_zero_pfn(pte_pfn(*t_ptep(t_proc.mm, a))));
	assert_int_equal(pfn_to_page(pte_pfn(*t_ptep(t_proc.mm, a)))->content, 0x5);

	/* A non-exclusive anon page with another reference -> copied. */
	t_write_pages(t_proc.mm, a + PAGE_SIZE, 1, 0x66);
	pte_t *p = t_ptep(t_proc.mm, a + PAGE_SIZE);
	struct page *old = pfn_to_page(pte_pfn(*p));
	struct folio *oldf = page_folio(old);
	old->flags &= ~PG_anon_exclusive;
	folio_get(oldf); /* as a fork child's mapping would */
	*p = pte_wrprotect(*p);
	assert_int_equal(handle_mm_fault(vma, a + PAGE_SIZE, FAULT_FLAG_WRITE), 0);
	struct page *new = pfn_to_page(pte_pfn(*p));
	assert_ptr_not_equal(new, old);
	assert_int_equal(new->content, 0x66);
	assert_true(PageAnonExclusive(new));
	assert_true(pte_write(*p) && pte_dirty(*p));
	assert_int_equal(folio_ref_count(oldf), 1);
	assert_int_equal(old->mapcount, 0);

	/* uffd-wp, sync and async. */
	t_write_pages(t_proc.mm, a + 2 * PAGE_SIZE, 1, 0x77);
	t_register_ctx(vma, VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	p = t_ptep(t_proc.mm, a + 2 * PAGE_SIZE);
	*p = pte_mkuffd(*p);
	pte_t wp = *p;
	assert_int_equal(user_access(t_proc.mm, a + 2 * PAGE_SIZE, false, 0, NULL), RESULT_OK);
	assert_int_equal(user_access(t_proc.mm, a + 2 * PAGE_SIZE, true, 1, NULL), RESULT_BLOCKED);
	assert_int_equal(pte_val(*p) & ~_PAGE_ACCESSED, pte_val(wp) & ~_PAGE_ACCESSED);
	struct uffd_msg msg;
	assert_true(uffd_msg_pop(t_proc.ctx, &msg));
	assert_int_equal(msg.flags, UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
	t_proc.task.sleeping = false;
	t_proc.ctx->features |= UFFD_FEATURE_WP_ASYNC;
	g_array_set_size(mm_events, 0);
	assert_int_equal(user_access(t_proc.mm, a + 2 * PAGE_SIZE, true, 0x78, NULL), RESULT_OK);
	assert_false(pte_uffd(*p));
	assert_true(pte_write(*p));
	assert_int_equal(t_nr_events(EV_WP_FAULT), 1);
	assert_int_equal(pfn_to_page(pte_pfn(*p))->content, 0x78);
}

/* numa_rebuild_large_mapping (10/15): a NUMA fault on one page of a large
 * folio rebuilds the folio's other protnone PTEs, but not those carrying
 * the uffd bit: armed neighbours stay armed. */
static void numa_fault_on_a_large_folio_rebuilds_neighbours_but_skips_armed_ones(void **state)
{
	for (int rwp = 0; rwp < 2; rwp++) {
		t_proc_restart(state);
		thp_settings.mthp_order = 2;
		uint64_t a = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0x4000);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, a);
		t_write_pages(t_proc.mm, a, 1, 0x44);
		struct folio *folio = pfn_folio(pte_pfn(*t_ptep(t_proc.mm, a)));
		assert_int_equal(folio_order(folio), 2);
		if (rwp)
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		pte_t orig[4];
		for (unsigned k = 0; k < 4; k++) {
			pte_t *p = t_ptep(t_proc.mm, a + k * PAGE_SIZE);
			*p = pte_modify(*p, PAGE_NONE);
			if (rwp && (k & 1))
				*p = pte_mkuffd(*p);
			orig[k] = *p;
		}
		assert_int_equal(handle_mm_fault(vma, a, FAULT_FLAG_ALLOW_RETRY), 0);
		for (unsigned k = 0; k < 4; k++) {
			pte_t got = *t_ptep(t_proc.mm, a + k * PAGE_SIZE);
			pte_t want = (rwp && (k & 1)) ? orig[k]
						      : pte_mkwrite(pte_mkyoung(pte_modify(
								orig[k], vma->vm_page_prot)));
			if (pte_val(got) != pte_val(want))
				fail_msg("rwp=%d page %u: 0x%016" PRIx64 ", expected 0x%016" PRIx64,
					 rwp, k, pte_val(got), pte_val(want));
		}
		if (t_proc.ctx)
			assert_int_equal(t_proc.ctx->msgs->len, 0);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(the_mmu_walk_translates_only_present_user_entries_with_the_right_rw),
		T(user_access_returns_each_outcome_and_logs_completed_accesses),
		T(user_access_on_an_armed_page_blocks_sigbuses_or_completes_by_mode),
		T(anon_write_fault_allocates_mthp_only_outside_uffd_vmas),
		T(write_protect_faults_copy_reuse_or_deliver_uffd_wp),
		T(numa_fault_on_a_large_folio_rebuilds_neighbours_but_skips_armed_ones),
	};
	return cmocka_run_group_tests_name("fault access", tests, NULL, NULL);
}
