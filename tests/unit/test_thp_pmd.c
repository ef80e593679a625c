/* tests/unit/test_thp_pmd.c - PMD-level THP paths (sim/mm/huge_memory.c):
 * thp_vma_allowable_order(), huge anon faults, do_huge_pmd_uffd_rwp(),
 * change_huge_pmd() arming / resolve / mprotect re-force, and
 * __split_huge_pmd() of armed, plain, NUMA, uffd-wp, file and zero PMDs
 * (rwp-series.md §2.4, §2.6-2.7; kernel-paths.md §4.1, §6.3).
 */
#include <inttypes.h>

#include "mmsim_test.h"
#include "trace/trace.h"

/* The process is t_proc; this is the region under test. */
struct fx {
	struct vm_area_struct *vma;
	uint64_t base;
};

static struct fx fx;

/* A 4 MiB PMD-aligned RW anon region with VM_HUGEPAGE. */
static void map_thp_region(void)
{
	fx.base = t_map_anon(t_proc.mm, 2 * PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	fx.vma = vma_lookup(t_proc.mm, fx.base);
	fx.vma->vm_flags |= VM_HUGEPAGE;
}

static pmd_t *pmdp(void)
{
	pmd_t *p = pmd_lookup(t_proc.mm->pgd, fx.base, false, 0);
	assert_non_null(p);
	return p;
}

/* A THP written with 0xbeef at fx.base: PMD-mapped, exclusive. */
static struct folio *anon_thp(void)
{
	map_thp_region();
	assert_int_equal(handle_mm_fault(fx.vma, fx.base + 5 * PAGE_SIZE, t_user_fault(true)), 0);
	assert_true(pmd_trans_huge(*pmdp()));
	struct folio *folio = pfn_folio(pmd_pfn(*pmdp()));
	folio_page(folio, 0)->content = 0xbeef;
	return folio;
}

static void thp_vma_allowable_order_follows_sysfs_madvise_and_alignment(void **state)
{
	static const struct {
		const char *name;
		int enabled;
		vm_flags_t flags;
		uint64_t len;
		bool forced, ok;
	} rows[] = {
		{ "always", 0, 0, 2 * PMD_SIZE, false, true },
		{ "madvise, no advice", 1, 0, 2 * PMD_SIZE, false, false },
		{ "madvise, MADV_HUGEPAGE", 1, VM_HUGEPAGE, 2 * PMD_SIZE, false, true },
		{ "never, MADV_HUGEPAGE", 2, VM_HUGEPAGE, 2 * PMD_SIZE, false, false },
		{ "never, forced (MADV_COLLAPSE)", 2, 0, 2 * PMD_SIZE, true, true },
		{ "always, MADV_NOHUGEPAGE", 0, VM_NOHUGEPAGE, 2 * PMD_SIZE, false, false },
		{ "always, forced, MADV_NOHUGEPAGE", 0, VM_NOHUGEPAGE, 2 * PMD_SIZE, true, false },
		{ "always, VMA smaller than a PMD", 0, 0, PMD_SIZE - PAGE_SIZE, false, false },
		{ "always, VM_IO", 0, VM_IO, 2 * PMD_SIZE, false, false },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		thp_settings.enabled = rows[i].enabled;
		fx.base = t_map_anon(t_proc.mm, rows[i].len, PROT_READ | PROT_WRITE, PMD_SIZE);
		fx.vma = vma_lookup(t_proc.mm, fx.base);
		fx.vma->vm_flags |= rows[i].flags;
		bool ok = thp_vma_allowable_order(fx.vma, fx.vma->vm_flags, rows[i].forced,
						  HPAGE_PMD_ORDER);
		if (ok != rows[i].ok)
			fail_msg("row %s: %d", rows[i].name, ok);
		/* A write fault agrees with the predicate when not forced. */
		if (!rows[i].forced && !(rows[i].flags & VM_IO)) {
			assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(true)), 0);
			assert_int_equal(pmd_trans_huge(*pmdp()), rows[i].ok);
		}
	}
	/* shmem: the file's huge= policy or MADV_HUGEPAGE, and a PMD-aligned
	 * file offset. */
	t_proc_restart(state);
	t_proc.file = shmem_file_alloc("f", 2048, false);
	int64_t a = sys_mmap(t_proc.mm, 0, 2 * PMD_SIZE, PROT_READ, MAP_SHARED, t_proc.file, 0,
			     PMD_SIZE);
	fx.vma = vma_lookup(t_proc.mm, (uint64_t)a);
	assert_false(thp_vma_allowable_order(fx.vma, fx.vma->vm_flags, false, HPAGE_PMD_ORDER));
	assert_true(thp_vma_allowable_order(fx.vma, fx.vma->vm_flags | VM_HUGEPAGE, false,
					    HPAGE_PMD_ORDER));
	assert_true(thp_vma_allowable_order(fx.vma, fx.vma->vm_flags, true, HPAGE_PMD_ORDER));
	t_proc.file->huge = true;
	assert_true(thp_vma_allowable_order(fx.vma, fx.vma->vm_flags, false, HPAGE_PMD_ORDER));
	fx.vma->vm_pgoff = 1;
	assert_false(thp_vma_allowable_order(fx.vma, fx.vma->vm_flags, false, HPAGE_PMD_ORDER));
}

/* do_huge_pmd_anonymous_page: a read maps the huge zero folio (with a
 * deposited table), a write a new exclusive THP; MISSING delivers first. */
static void huge_anon_fault_maps_zero_pmd_on_read_and_a_thp_on_write(void **state)
{
	map_thp_region();
	assert_int_equal(handle_mm_fault(fx.vma, fx.base + 3 * PAGE_SIZE, t_user_fault(false)), 0);
	assert_int_equal(pmd_val(*pmdp()), pmd_val(pmd_wrprotect(pmd_mkhuge(pfn_pmd(
						   mem_map.huge_zero_pfn, fx.vma->vm_page_prot)))));
	assert_int_equal(g_hash_table_size(t_proc.mm->deposit), 1);

	t_proc_restart(state);
	struct folio *folio = anon_thp();
	pmd_t want = pmd_mkwrite(pmd_mkdirty(
		pmd_mkyoung(pmd_mkhuge(pfn_pmd(folio_pfn(folio), fx.vma->vm_page_prot)))));
	assert_int_equal(pmd_val(*pmdp()), pmd_val(want));
	assert_int_equal(folio_order(folio), HPAGE_PMD_ORDER);
	assert_int_equal(folio->entire_mapcount, 1);
	assert_int_equal(folio_ref_count(folio), 1);
	assert_true(folio_test_anon(folio));
	assert_true(PageAnonExclusive(folio_page(folio, 511)));
	assert_int_equal(t_proc.mm->rss_anon, HPAGE_PMD_NR);
	assert_int_equal(g_hash_table_size(t_proc.mm->deposit), 1);

	t_proc_restart(state);
	map_thp_region();
	t_register_ctx(fx.vma, VM_UFFD_MISSING, 0);
	uint64_t used = mem_map.nr_used;
	for (int w = 0; w < 2; w++) {
		assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(w)), VM_FAULT_RETRY);
		struct uffd_msg msg;
		assert_true(uffd_msg_pop(t_proc.ctx, &msg));
		assert_int_equal(msg.flags, w ? UFFD_PAGEFAULT_FLAG_WRITE : 0);
		assert_true(pmd_none(*pmdp()));
		assert_int_equal(mem_map.nr_used, used); /* the THP went back */
	}
	assert_int_equal(g_hash_table_size(t_proc.mm->deposit), 0);
}

static pmd_t arm(void)
{
	assert_int_equal(change_huge_pmd(fx.vma, pmdp(), fx.base, PAGE_NONE, MM_CP_UFFD_RWP),
			 HPAGE_PMD_NR);
	return *pmdp();
}

/* do_huge_pmd_uffd_rwp (10/15, 12/15): sync queues one message for the
 * faulting page; async rewrites the whole PMD at once. */
static void armed_pmd_fault_delivers_sync_or_resolves_all_512_pages_async(void **state)
{
	for (int async = 0; async < 2; async++) {
		t_proc_restart(state);
		struct folio *folio = anon_thp();
		t_register_ctx(fx.vma, VM_UFFD_RWP,
			       UFFD_FEATURE_RWP | (async ? UFFD_FEATURE_RWP_ASYNC : 0));
		pmd_t armed = arm();
		assert_true(pmd_protnone(armed) && pmd_uffd(armed) && !pmd_write(armed));
		g_array_set_size(mm_events, 0);
		uint64_t addr = fx.base + 77 * PAGE_SIZE + 5;
		vm_fault_t ret = handle_mm_fault(fx.vma, addr, t_user_fault(true));
		if (!async) {
			struct uffd_msg msg;
			assert_int_equal(ret, VM_FAULT_RETRY);
			assert_int_equal(pmd_val(*pmdp()), pmd_val(armed));
			assert_true(uffd_msg_pop(t_proc.ctx, &msg));
			assert_int_equal(msg.address, fx.base + 77 * PAGE_SIZE);
			assert_int_equal(msg.flags,
					 UFFD_PAGEFAULT_FLAG_RWP | UFFD_PAGEFAULT_FLAG_WRITE);
			assert_true(t_proc.task.sleeping);
			continue;
		}
		assert_int_equal(ret, 0);
		pmd_t want = pmd_mkwrite(
			pmd_mkyoung(pmd_clear_uffd(pmd_modify(armed, fx.vma->vm_page_prot))));
		assert_int_equal(pmd_val(*pmdp()), pmd_val(want));
		assert_int_equal(pmd_pfn(*pmdp()), folio_pfn(folio));
		/* One fault, logged at the faulting page (the oracle widens an
		 * async PMD resolve to the whole PMD, EXC_ASYNC_PMD). */
		assert_int_equal(mm_events->len, 1);
		const struct mm_event *ev = &g_array_index(mm_events, struct mm_event, 0);
		assert_int_equal(ev->kind, EV_RWP_FAULT);
		assert_true(ev->async);
		assert_true(ev->write);
		assert_int_equal(ev->address, fx.base + 77 * PAGE_SIZE);
		assert_int_equal(t_proc.ctx->msgs->len, 0);
		/* The data is there for the retried access. */
		uint64_t v = 0;
		assert_int_equal(user_access(t_proc.mm, fx.base, false, 0, &v), RESULT_OK);
		assert_int_equal(v, 0xbeef);
	}
}

/* A NUMA-hint PMD (protnone, no uffd) in an RWP VMA is a NUMA fault. */
static void protnone_pmd_without_the_bit_is_a_numa_fault_even_in_an_rwp_vma(void **state)
{
	anon_thp();
	t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
	pmd_t numa = pmd_modify(*pmdp(), PAGE_NONE);
	*pmdp() = numa;
	assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(false)), 0);
	assert_int_equal(pmd_val(*pmdp()),
			 pmd_val(pmd_mkwrite(pmd_mkyoung(pmd_modify(numa, fx.vma->vm_page_prot)))));
	assert_int_equal(t_proc.ctx->msgs->len, 0);
}

enum pmd_pre { PP_PLAIN, PP_ARMED, PP_NUMA, PP_ZERO };
enum pmd_out { PO_SAME, PO_ARMED, PO_PROMOTED, PO_RESOLVED, PO_NUMA, PO_ARMED_ZERO };

/* change_huge_pmd (06/15, 07/15): arming, resolve, NUMA and mprotect, per
 * prestate. */
static void change_huge_pmd_arms_resolves_and_reforces_per_prestate(void **state)
{
	static const struct {
		const char *name;
		enum pmd_pre pre;
		unsigned cp;
		bool mprotect_ro; /* newprot = PAGE_COPY after an mprotect(PROT_READ) */
		enum pmd_out out;
	} rows[] = {
		{ "plain, arm", PP_PLAIN, MM_CP_UFFD_RWP, false, PO_ARMED },
		{ "armed, arm", PP_ARMED, MM_CP_UFFD_RWP, false, PO_SAME },
		{ "numa, arm", PP_NUMA, MM_CP_UFFD_RWP, false, PO_PROMOTED },
		{ "zero, arm", PP_ZERO, MM_CP_UFFD_RWP, false, PO_ARMED_ZERO },
		{ "armed, resolve", PP_ARMED, MM_CP_UFFD_RWP_RESOLVE | MM_CP_TRY_CHANGE_WRITABLE,
		  false, PO_RESOLVED },
		{ "plain, resolve", PP_PLAIN, MM_CP_UFFD_RWP_RESOLVE | MM_CP_TRY_CHANGE_WRITABLE,
		  false, PO_SAME },
		{ "armed, prot_numa", PP_ARMED, MM_CP_PROT_NUMA, false, PO_SAME },
		{ "plain, prot_numa", PP_PLAIN, MM_CP_PROT_NUMA, false, PO_NUMA },
		{ "zero, prot_numa", PP_ZERO, MM_CP_PROT_NUMA, false, PO_SAME },
		{ "armed, mprotect rw", PP_ARMED, MM_CP_TRY_CHANGE_WRITABLE, false, PO_SAME },
		{ "armed, mprotect r", PP_ARMED, 0, true, PO_SAME },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		if (rows[i].pre == PP_ZERO) {
			map_thp_region();
			assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(false)), 0);
		} else {
			anon_thp();
		}
		t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		if (rows[i].pre == PP_ARMED)
			arm();
		else if (rows[i].pre == PP_NUMA)
			*pmdp() = pmd_modify(*pmdp(), PAGE_NONE);
		pmd_t old = *pmdp();
		pgprot_t newprot = fx.vma->vm_page_prot;
		if (rows[i].cp & (MM_CP_UFFD_RWP | MM_CP_PROT_NUMA))
			newprot = PAGE_NONE;
		if (rows[i].mprotect_ro) {
			fx.vma->vm_flags &= ~VM_WRITE;
			fx.vma->vm_page_prot = vm_get_page_prot(fx.vma->vm_flags);
			newprot = fx.vma->vm_page_prot;
		}
		assert_int_equal(change_huge_pmd(fx.vma, pmdp(), fx.base, newprot, rows[i].cp),
				 HPAGE_PMD_NR);
		pmd_t want = old;
		switch (rows[i].out) {
		case PO_SAME:
			break;
		case PO_ARMED:
		case PO_ARMED_ZERO:
			want = pmd_mkuffd(pmd_modify(old, PAGE_NONE));
			break;
		case PO_PROMOTED:
			want = pmd_mkuffd(old);
			break;
		case PO_RESOLVED:
			want = pmd_mkwrite(pmd_clear_uffd(pmd_modify(old, fx.vma->vm_page_prot)));
			break;
		case PO_NUMA:
			want = pmd_modify(old, PAGE_NONE);
			break;
		}
		if (pmd_val(*pmdp()) != pmd_val(want))
			fail_msg("row %s: 0x%016" PRIx64 ", expected 0x%016" PRIx64, rows[i].name,
				 pmd_val(*pmdp()), pmd_val(want));
		assert_true(pmd_trans_huge(*pmdp()));
	}
}

enum split_pre { SP_PLAIN, SP_ARMED, SP_NUMA, SP_WP, SP_ZERO, SP_ZERO_ARMED };

/* __split_huge_pmd_locked (07/15): an armed anon PMD becomes 512 armed
 * PTEs, a NUMA hint is not carried over, uffd-wp is; zero PMDs likewise. */
static void splitting_an_anon_pmd_carries_its_uffd_state_into_every_pte(void **state)
{
	static const struct {
		const char *name;
		enum split_pre pre;
		bool protnone, uffd, write, zero;
	} rows[] = {
		{ "plain", SP_PLAIN, false, false, true, false },
		{ "armed", SP_ARMED, true, true, false, false },
		{ "numa", SP_NUMA, false, false, false, false },
		{ "uffd-wp", SP_WP, false, true, false, false },
		{ "huge zero", SP_ZERO, false, false, false, true },
		{ "armed huge zero", SP_ZERO_ARMED, true, true, false, true },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		struct folio *folio = NULL;
		if (rows[i].zero) {
			map_thp_region();
			assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(false)), 0);
		} else {
			folio = anon_thp();
		}
		switch (rows[i].pre) {
		case SP_ARMED:
		case SP_ZERO_ARMED:
			t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
			arm();
			break;
		case SP_NUMA:
			*pmdp() = pmd_modify(*pmdp(), PAGE_NONE);
			break;
		case SP_WP:
			t_register_ctx(fx.vma, VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
			*pmdp() = pmd_mkuffd(*pmdp());
			break;
		default:
			break;
		}
		__split_huge_pmd(fx.vma, pmdp(), fx.base + 9 * PAGE_SIZE, false);
		assert_true(pmd_is_table(*pmdp()));
		for (unsigned k = 0; k < HPAGE_PMD_NR; k++) {
			pte_t pte = t_pte(t_proc.mm, fx.base + k * PAGE_SIZE);
			uint64_t pfn = rows[i].zero ? mem_map.zero_pfn : folio_pfn(folio) + k;
			if (!pte_present(pte) || pte_pfn(pte) != pfn ||
			    pte_protnone(pte) != rows[i].protnone ||
			    pte_uffd(pte) != rows[i].uffd || pte_write(pte) != rows[i].write)
				fail_msg("row %s, pte %u: 0x%016" PRIx64, rows[i].name, k,
					 pte_val(pte));
			if (rows[i].zero)
				assert_true(pte_special(pte));
			else
				assert_int_equal(folio_page(folio, k)->mapcount, 1);
		}
		if (folio) {
			assert_int_equal(folio->entire_mapcount, 0);
			assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR);
			assert_true(PageAnonExclusive(folio_page(folio, 100)));
		}
		/* The deposited table became the PTE table. */
		assert_int_equal(g_hash_table_size(t_proc.mm->deposit), 0);
	}
}

/* An armed page of a split THP traps alone; its neighbours stay armed. */
static void after_a_split_each_armed_pte_faults_on_its_own(void **state)
{
	anon_thp();
	t_register_ctx(fx.vma, VM_UFFD_RWP, UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC);
	arm();
	split_huge_pmd_address(fx.vma, fx.base);
	assert_int_equal(user_access(t_proc.mm, fx.base + 3 * PAGE_SIZE, false, 0, NULL),
			 RESULT_OK);
	for (unsigned k = 0; k < 8; k++)
		assert_int_equal(pte_uffd(t_pte(t_proc.mm, fx.base + k * PAGE_SIZE)), k != 3);
}

/* A file PMD cannot carry the marker: its split zaps it (the range
 * refaults), no PTE table is filled. */
static void splitting_a_file_pmd_zaps_it_and_drops_only_the_mapping(void **state)
{
	t_proc.file = shmem_file_alloc("f", HPAGE_PMD_NR, true);
	int64_t a = sys_mmap(t_proc.mm, 0, PMD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			     t_proc.file, 0, PMD_SIZE);
	fx.base = (uint64_t)a;
	fx.vma = vma_lookup(t_proc.mm, fx.base);
	t_write_pages(t_proc.mm, fx.base, 1, 0x5151);
	assert_true(pmd_trans_huge(*pmdp()));
	struct folio *folio = filemap_get_folio(t_proc.file, 0);
	assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR + 1);

	__split_huge_pmd(fx.vma, pmdp(), fx.base, false);
	assert_true(pmd_none(*pmdp()));
	assert_int_equal(folio->entire_mapcount, 0);
	assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR);
	assert_true(folio_test_dirty(folio));
	assert_int_equal(t_proc.mm->rss_shmem, 0);
	uint64_t v = 0;
	assert_int_equal(user_access(t_proc.mm, fx.base + 7 * PAGE_SIZE, false, 0, &v), RESULT_OK);
	assert_int_equal(pfn_to_page(folio_pfn(folio))->content, 0x5151);
}

/* zap of a whole PMD removes it and frees the THP and its deposit; a
 * partial zap splits first and drops only the range. */
static void zapping_a_whole_pmd_frees_the_thp_and_a_partial_zap_splits(void **state)
{
	struct folio *folio = anon_thp();
	uint64_t pfn = folio_pfn(folio);
	zap_page_range_single(fx.vma, fx.base, fx.base + PMD_SIZE, false);
	assert_true(pmd_none(*pmdp()));
	assert_int_equal(mem_map.folios[pfn].refcount, 0);
	assert_int_equal(g_hash_table_size(t_proc.mm->deposit), 0);
	assert_int_equal(t_proc.mm->rss_anon, 0);

	t_proc_restart(state);
	folio = anon_thp();
	zap_page_range_single(fx.vma, fx.base + PAGE_SIZE, fx.base + 3 * PAGE_SIZE, false);
	assert_true(pmd_is_table(*pmdp()));
	assert_true(pte_none(t_pte(t_proc.mm, fx.base + PAGE_SIZE)));
	assert_true(pte_none(t_pte(t_proc.mm, fx.base + 2 * PAGE_SIZE)));
	assert_true(pte_present(t_pte(t_proc.mm, fx.base)));
	assert_true(pte_present(t_pte(t_proc.mm, fx.base + 3 * PAGE_SIZE)));
	assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR - 2);
	assert_int_equal(t_proc.mm->rss_anon, HPAGE_PMD_NR - 2);
}

/* Present PMD without protnone: a read sets young, a write to a read-only
 * exclusive THP reuses it, a uffd-wp PMD delivers WP (sync) or splits
 * (async) so the PTE level clears the bit. */
static void accessible_pmd_faults_set_young_reuse_or_deliver_wp(void **state)
{
	anon_thp();
	*pmdp() = pmd_mkold(pmd_wrprotect(*pmdp()));
	assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(false)), 0);
	assert_true(pmd_young(*pmdp()));
	assert_false(pmd_write(*pmdp()));
	assert_int_equal(handle_mm_fault(fx.vma, fx.base, t_user_fault(true)), 0);
	assert_true(pmd_trans_huge(*pmdp()) && pmd_write(*pmdp()) && pmd_dirty(*pmdp()));

	for (int async = 0; async < 2; async++) {
		t_proc_restart(state);
		anon_thp();
		t_register_ctx(fx.vma, VM_UFFD_WP,
			       UFFD_FEATURE_PAGEFAULT_FLAG_WP |
				       (async ? UFFD_FEATURE_WP_ASYNC : 0));
		*pmdp() = pmd_mkuffd(*pmdp());
		vm_fault_t ret = handle_mm_fault(fx.vma, fx.base + PAGE_SIZE, t_user_fault(true));
		if (!async) {
			assert_int_equal(ret, VM_FAULT_RETRY);
			assert_int_equal(t_proc.ctx->msgs->len, 1);
			assert_true(pmd_trans_huge(*pmdp()));
			continue;
		}
		assert_int_equal(ret, 0);
		assert_true(pmd_is_table(*pmdp()));
		assert_false(pte_uffd(t_pte(t_proc.mm, fx.base + PAGE_SIZE)));
		assert_true(pte_write(t_pte(t_proc.mm, fx.base + PAGE_SIZE)));
		assert_true(pte_uffd(t_pte(t_proc.mm, fx.base + 2 * PAGE_SIZE)));
		assert_int_equal(t_proc.ctx->msgs->len, 0);
	}
}

/* do_huge_pmd_wp_page reuses an exclusive THP with maybe_pmd_mkwrite(): a
 * FOLL_FORCE-style write fault in a VMA without VM_WRITE must not leave a
 * writable PMD behind. */
static void thp_reuse_in_a_vma_without_vm_write_never_makes_the_pmd_writable(void **state)
{
	anon_thp();
	*pmdp() = pmd_wrprotect(*pmdp());
	fx.vma->vm_flags &= ~VM_WRITE;
	fx.vma->vm_page_prot = vm_get_page_prot(fx.vma->vm_flags);
	assert_int_equal(handle_mm_fault(fx.vma, fx.base, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE), 0);
	assert_false(pmd_write(*pmdp()));
	assert_null(mmu_translate(t_proc.mm, fx.base, true));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_proc_setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(thp_vma_allowable_order_follows_sysfs_madvise_and_alignment),
		T(huge_anon_fault_maps_zero_pmd_on_read_and_a_thp_on_write),
		T(armed_pmd_fault_delivers_sync_or_resolves_all_512_pages_async),
		T(protnone_pmd_without_the_bit_is_a_numa_fault_even_in_an_rwp_vma),
		T(change_huge_pmd_arms_resolves_and_reforces_per_prestate),
		T(splitting_an_anon_pmd_carries_its_uffd_state_into_every_pte),
		T(after_a_split_each_armed_pte_faults_on_its_own),
		T(splitting_a_file_pmd_zaps_it_and_drops_only_the_mapping),
		T(zapping_a_whole_pmd_frees_the_thp_and_a_partial_zap_splits),
		T(accessible_pmd_faults_set_young_reuse_or_deliver_wp),
		T(thp_reuse_in_a_vma_without_vm_write_never_makes_the_pmd_writable),
	};
	return cmocka_run_group_tests_name("thp pmd", tests, NULL, NULL);
}
