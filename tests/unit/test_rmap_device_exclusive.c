/* tests/unit/test_rmap_device_exclusive.c - device-exclusive entries: the
 * encoding (model/swapops.h), make_device_exclusive() (sim/mm/rmap.c) by VMA
 * and arming, restore_exclusive_pte() by VMA, uffd bit and dirtiness
 * (sim/mm/memory.c), and what zap, reclaim, migration, GUP, pagemap and
 * MADV_COLLAPSE do with an entry that still maps its page.
 */
#include "mmsim_test.h"

#include "linux/pagemap_uapi.h"
#include "trace/trace.h"

#define VAL 0x5a00

/* ------------------------------------------------------------ encoding */

static void entry_type_and_flags_matrix(void **state)
{
	static const uint64_t pfns[] = { 1, 0x1234, SWP_PFN_MASK };

	for (size_t p = 0; p < G_N_ELEMENTS(pfns); p++) {
		for (unsigned bits = 0; bits < 4; bits++) {
			bool sd = bits & 1, uffd = bits & 2;
			size_t row = p * 4 + bits;
			pte_t pte = swp_entry_to_pte(make_device_exclusive_entry(pfns[p]));
			swp_entry_t e;

			if (sd)
				pte = pte_swp_mksoft_dirty(pte);
			if (uffd)
				pte = pte_swp_mkuffd(pte);
			e = pte_to_swp_entry(pte);
			ROW_EQ(row, is_swap_pte(pte), true);
			ROW_EQ(row, pte_present(pte), false);
			ROW_EQ(row, pte_protnone(pte), false);
			ROW_EQ(row, swp_type(e), SWP_DEVICE_EXCLUSIVE);
			ROW_EQ(row, non_swap_entry(e), true);
			ROW_EQ(row, is_device_exclusive_entry(e), true);
			ROW_EQ(row, pte_is_device_exclusive(pte), true);
			ROW_EQ(row, is_pfn_swap_entry(e), true);
			ROW_EQ(row, is_migration_entry(e), false);
			ROW_EQ(row, is_device_private_entry(e), false);
			ROW_EQ(row, is_pte_marker(pte), false);
			ROW_EQ(row, is_hwpoison_entry(e), false);
			/* the software bits never leak into the PFN */
			ROW_EQ(row, swp_offset_pfn(e), pfns[p]);
			ROW_EQ(row, swp_offset(e), pfns[p]);
			ROW_EQ(row, pte_swp_soft_dirty(pte), sd);
			ROW_EQ(row, pte_swp_uffd(pte), uffd);
			ROW_EQ(row, pte_swp_uffd_any(pte), uffd);
			ROW_EQ(row, pte_swp_exclusive(pte), false);
		}
	}
}

/* The other swap-form types are not device-exclusive; the PFN-carrying ones
 * are PFN swap entries. */
static void other_entry_types_are_told_apart(void **state)
{
	static const struct {
		unsigned type;
		bool pfn_entry;
	} rows[] = {
		{ 0, false },
		{ MAX_SWAPFILES - 1, false },
		{ SWP_HWPOISON, true },
		{ SWP_MIGRATION_READ, true },
		{ SWP_MIGRATION_READ_EXCLUSIVE, true },
		{ SWP_MIGRATION_WRITE, true },
		{ SWP_DEVICE_PRIVATE_WRITE, true },
		{ SWP_DEVICE_PRIVATE_READ, true },
		{ SWP_PTE_MARKER, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		pte_t pte = pte_swp_mkuffd(swp_entry_to_pte(swp_entry(rows[i].type, 7)));
		swp_entry_t e = pte_to_swp_entry(pte);

		ROW_EQ(i, is_device_exclusive_entry(e), false);
		ROW_EQ(i, pte_is_device_exclusive(pte), false);
		ROW_EQ(i, is_pfn_swap_entry(e), rows[i].pfn_entry);
	}
	/* a none PTE is not an entry at all */
	assert_false(pte_is_device_exclusive(__pte(0)));
	assert_int_equal(SWP_DEVICE_EXCLUSIVE, SWP_DEVICE_PRIVATE_READ + 1);
}

/* ------------------------------------------------------------ helpers */

/* n written pages of a private anon VMA (prot), registered for mode. */
static uint64_t map_written(unsigned n, unsigned prot, vm_flags_t mode, uint64_t features)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr = t_map_anon(mm, n * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

	t_write_pages(mm, addr, n, VAL);
	if (prot != (PROT_READ | PROT_WRITE))
		assert_int_equal(sys_mprotect(mm, addr, n * PAGE_SIZE, prot), 0);
	if (mode)
		t_register_ctx(vma_lookup(mm, addr), mode, features);
	return addr;
}

/* make_device_exclusive() as the test_hmm driver does it: then unlock, put. */
static long make_exclusive(uint64_t addr)
{
	struct folio *folio = NULL;
	struct page *page = NULL;
	long ret = make_device_exclusive(t_proc.mm, addr, &page, &folio);

	if (ret)
		return ret;
	assert_true(folio_test_locked(folio));
	assert_ptr_equal(page_folio(page), folio);
	/* the entry's reference and GUP's */
	assert_int_equal(folio_ref_count(folio), 2);
	assert_int_equal(page->mapcount, 1);
	folio_clear_flag(folio, FOLIO_locked);
	folio_put(folio);
	return 0;
}

static struct page *entry_page(pte_t pte)
{
	return pfn_to_page(swp_offset_pfn(pte_to_swp_entry(pte)));
}

/* ------------------------------------------------------------ make_device_exclusive */

enum want_state { W_EXCL, W_ARMED, W_WP, W_PRESENT };

#define NO_EVENT (-1)

static void make_device_exclusive_by_vma_and_arming(void **state)
{
	static const struct {
		const char *name;
		unsigned prot;
		vm_flags_t mode;
		uint64_t features;
		bool protect; /* RWPROTECT / WRITEPROTECT the page first */
		bool touched; /* the page was written before */
		long want;
		enum want_state after;
		int ev; /* the one fault event the step must log, or NO_EVENT */
	} rows[] = {
		{ "plain", PROT_READ | PROT_WRITE, 0, 0, false, true, 0, W_EXCL, NO_EVENT },
		{ "never touched", PROT_READ | PROT_WRITE, 0, 0, false, false, 0, W_EXCL,
		  NO_EVENT },
		{ "rwp unarmed", PROT_READ | PROT_WRITE, VM_UFFD_RWP, UFFD_FEATURE_RWP, false, true,
		  0, W_EXCL, NO_EVENT },
		{ "rwp armed sync", PROT_READ | PROT_WRITE, VM_UFFD_RWP, UFFD_FEATURE_RWP, true,
		  true, -EFAULT, W_ARMED, EV_SIGBUS },
		{ "rwp armed async", PROT_READ | PROT_WRITE, VM_UFFD_RWP,
		  UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC, true, true, 0, W_EXCL, EV_RWP_FAULT },
		{ "wp sync", PROT_READ | PROT_WRITE, VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP,
		  true, true, -EFAULT, W_WP, EV_SIGBUS },
		{ "wp async", PROT_READ | PROT_WRITE, VM_UFFD_WP,
		  UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_ASYNC, true, true, 0, W_EXCL,
		  EV_WP_FAULT },
		{ "read-only", PROT_READ, 0, 0, false, true, -EFAULT, W_PRESENT, NO_EVENT },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct mm_struct *mm;
		uint64_t addr;
		pte_t pte;

		t_proc_restart(state);
		mm = t_proc.mm;
		if (rows[i].touched) {
			addr = map_written(1, rows[i].prot, rows[i].mode, rows[i].features);
		} else {
			addr = t_map_anon(mm, PAGE_SIZE, rows[i].prot, 0);
		}
		if (rows[i].protect && rows[i].mode == VM_UFFD_RWP)
			assert_int_equal(mrwprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
		if (rows[i].protect && rows[i].mode == VM_UFFD_WP)
			assert_int_equal(mwriteprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
		g_array_set_size(mm_events, 0);

		if (make_exclusive(addr) != rows[i].want) {
			print_message("row %s\n", rows[i].name);
			fail();
		}
		pte = t_pte(mm, addr);
		switch (rows[i].after) {
		case W_EXCL:
			ROW_EQ(i, pte_is_device_exclusive(pte), true);
			/* made from a writable PTE: never carries the uffd bit */
			ROW_EQ(i, pte_swp_uffd(pte), false);
			/* the written PTE was dirty: soft-dirty moves over,
			 * the folio is marked dirty */
			ROW_EQ(i, pte_swp_soft_dirty(pte), true);
			ROW_EQ(i, folio_test_dirty(page_folio(entry_page(pte))), true);
			ROW_EQ(i, entry_page(pte)->mapcount, 1);
			ROW_EQ(i, folio_ref_count(page_folio(entry_page(pte))), 1);
			ROW_EQ(i, entry_page(pte)->content, rows[i].touched ? VAL : 0);
			ROW_EQ(i, mm->rss_anon, 1);
			break;
		case W_ARMED:
			ROW_EQ(i, pte_protnone(pte) && pte_uffd(pte), true);
			break;
		case W_WP:
			ROW_EQ(i, pte_present(pte) && !pte_protnone(pte) && pte_uffd(pte), true);
			ROW_EQ(i, pte_write(pte), false);
			break;
		case W_PRESENT:
			ROW_EQ(i, pte_present(pte) && !pte_protnone(pte), true);
			break;
		}
		ROW_EQ(i, t_nr_events(EV_SIGBUS), rows[i].ev == (int)EV_SIGBUS);
		ROW_EQ(i, t_nr_events(EV_RWP_FAULT), rows[i].ev == (int)EV_RWP_FAULT);
		ROW_EQ(i, t_nr_events(EV_WP_FAULT), rows[i].ev == (int)EV_WP_FAULT);
		if (rows[i].ev == (int)EV_RWP_FAULT || rows[i].ev == (int)EV_WP_FAULT)
			ROW_EQ(i, t_last_event((enum mm_event_kind)rows[i].ev)->async, true);
		/* nothing went to sleep: no FOLL_UNLOCKABLE, no waiting */
		ROW_EQ(i, current->sleeping, false);
		ROW_EQ(i, t_proc.ctx ? t_proc.ctx->msgs->len : 0, 0);
	}
}

/* A shmem page is not anonymous: -EOPNOTSUPP, and GUP's reference goes back. */
static void shmem_pages_are_refused(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	struct address_space *f = shmem_file_alloc("f", 4, false);
	uint64_t addr = t_map_shmem(mm, f, PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	struct folio *folio;

	t_proc.file = f;
	t_write_pages(mm, addr, 1, VAL);
	folio = vm_normal_folio(vma_lookup(mm, addr), addr, t_pte(mm, addr));
	int refs = folio_ref_count(folio);
	assert_int_equal(make_exclusive(addr), -EOPNOTSUPP);
	assert_true(pte_present(t_pte(mm, addr)));
	assert_int_equal(folio_ref_count(folio), refs);
	assert_false(folio_test_locked(folio));
}

/* An entry that is already device-exclusive is restored by GUP's fault and
 * made exclusive again: same page, one mapping. */
static void an_exclusive_page_can_be_taken_again(void **state)
{
	uint64_t addr = map_written(1, PROT_READ | PROT_WRITE, 0, 0);
	struct page *page;

	assert_int_equal(make_exclusive(addr), 0);
	page = entry_page(t_pte(t_proc.mm, addr));
	assert_int_equal(make_exclusive(addr), 0);
	assert_true(pte_is_device_exclusive(t_pte(t_proc.mm, addr)));
	assert_ptr_equal(entry_page(t_pte(t_proc.mm, addr)), page);
	assert_int_equal(page->mapcount, 1);
	assert_int_equal(folio_ref_count(page_folio(page)), 1);
}

/* ------------------------------------------------------------ restore_exclusive_pte */

static void restore_by_vma_bit_and_dirtiness(void **state)
{
	static const struct {
		const char *name;
		vm_flags_t mode;
		bool uffd, clean, write, mutation;
		bool protnone, want_uffd, writable, dirty;
	} rows[] = {
		{ "plain read", 0, false, false, false, false, false, false, true, true },
		{ "plain write", 0, false, false, true, false, false, false, true, true },
		{ "plain clean folio", 0, false, true, false, false, false, false, true, false },
		{ "rwp unarmed", VM_UFFD_RWP, false, false, false, false, false, false, true,
		  true },
		{ "rwp armed read", VM_UFFD_RWP, true, false, false, false, true, true, false,
		  false },
		{ "rwp armed write", VM_UFFD_RWP, true, false, true, false, true, true, false,
		  false },
		{ "rwp armed, mutation", VM_UFFD_RWP, true, false, false, true, false, true, true,
		  true },
		{ "wp unprotected", VM_UFFD_WP, false, false, true, false, false, false, true,
		  true },
		{ "wp protected", VM_UFFD_WP, true, false, true, false, false, true, false, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t features = rows[i].mode == VM_UFFD_WP ? UFFD_FEATURE_PAGEFAULT_FLAG_WP
							       : UFFD_FEATURE_RWP;
		struct mm_struct *mm;
		struct vm_area_struct *vma;
		struct page *page;
		uint64_t addr;
		pte_t pte;

		t_proc_restart(state);
		mm = t_proc.mm;
		addr = map_written(1, PROT_READ | PROT_WRITE, rows[i].mode, features);
		vma = vma_lookup(mm, addr);
		assert_int_equal(make_exclusive(addr), 0);
		page = entry_page(t_pte(mm, addr));
		/* the bit arrives through change_protection's non-present branch */
		if (rows[i].uffd && rows[i].mode == VM_UFFD_RWP)
			assert_int_equal(mrwprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
		if (rows[i].uffd && rows[i].mode == VM_UFFD_WP)
			assert_int_equal(mwriteprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
		ROW_EQ(i, pte_is_device_exclusive(t_pte(mm, addr)), true);
		ROW_EQ(i, pte_swp_uffd(t_pte(mm, addr)), rows[i].uffd);
		if (rows[i].clean)
			folio_clear_flag(page_folio(page), FOLIO_dirty);
		patch_hunks[HUNK_EXCLUSIVE_NO_RESTORE] = rows[i].mutation;

		/* one fault: do_swap_page -> remove_device_exclusive_entry */
		ROW_EQ(i, handle_mm_fault(vma, addr, t_user_fault(rows[i].write)), 0);
		patch_hunks[HUNK_EXCLUSIVE_NO_RESTORE] = false;
		pte = t_pte(mm, addr);
		if (!pte_present(pte))
			print_message("row %s\n", rows[i].name);
		ROW_EQ(i, pte_present(pte), true);
		ROW_EQ(i, pte_pfn(pte), page_to_pfn(page));
		ROW_EQ(i, pte_protnone(pte), rows[i].protnone);
		ROW_EQ(i, pte_uffd(pte), rows[i].want_uffd);
		ROW_EQ(i, pte_write(pte), rows[i].writable);
		ROW_EQ(i, pte_dirty(pte), rows[i].dirty);
		ROW_EQ(i, pte_young(pte), false); /* pte_mkold(): the device had it */
		ROW_EQ(i, pte_soft_dirty(pte), true);
		/* the entry already held the mapping: nothing added */
		ROW_EQ(i, page->mapcount, 1);
		ROW_EQ(i, folio_ref_count(page_folio(page)), 1);
		ROW_EQ(i, folio_test_locked(page_folio(page)), false);
		ROW_EQ(i, mm->rss_anon, 1);
		/* the restore itself delivers nothing */
		ROW_EQ(i, t_proc.ctx ? t_proc.ctx->msgs->len : 0, 0);
	}
}

/* ------------------------------------------------------------ zap, reclaim, migration */

static void zap_drops_the_mapping_and_the_reference(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr = map_written(2, PROT_READ | PROT_WRITE, 0, 0);
	struct page *page;
	struct folio *folio;

	assert_int_equal(make_exclusive(addr), 0);
	page = entry_page(t_pte(mm, addr));
	folio = page_folio(page);
	folio_get(folio); /* keep the struct readable after the zap */
	assert_int_equal(mm->rss_anon, 2);
	assert_int_equal(sys_madvise(mm, addr, PAGE_SIZE, MADV_DONTNEED), 0);
	assert_true(pte_none(t_pte(mm, addr)));
	assert_int_equal(page->mapcount, 0);
	assert_int_equal(folio_ref_count(folio), 1); /* only ours is left */
	assert_int_equal(mm->rss_anon, 1);
	folio_put(folio);
	assert_true(pte_present(t_pte(mm, addr + PAGE_SIZE)));
}

/* Reclaim finds the entry through the rmap (it maps the page): the swap PTE
 * keeps the uffd bit, and swap-in restores the arming. */
static void reclaim_swaps_an_armed_entry_out_armed(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr = map_written(1, PROT_READ | PROT_WRITE, VM_UFFD_RWP, UFFD_FEATURE_RWP);
	g_autoptr(GPtrArray) list = g_ptr_array_new();
	struct folio *folio;
	pte_t pte;

	assert_int_equal(make_exclusive(addr), 0);
	assert_int_equal(mrwprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
	folio = page_folio(entry_page(t_pte(mm, addr)));
	g_ptr_array_add(list, folio);
	assert_int_equal(reclaim_pages(list), 1);
	pte = t_pte(mm, addr);
	assert_true(is_swap_pte(pte));
	assert_false(non_swap_entry(pte_to_swp_entry(pte)));
	assert_true(pte_swp_uffd(pte));
	assert_true(pte_swp_soft_dirty(pte));
	assert_true(pte_swp_exclusive(pte));
	assert_int_equal(swap_info.slots[swp_offset(pte_to_swp_entry(pte))].content, VAL);
	assert_int_equal(mm->rss_anon, 0);
	assert_int_equal(mm->nr_swapents, 1);

	assert_int_equal(handle_mm_fault(vma_lookup(mm, addr), addr, t_user_fault(false)), 0);
	pte = t_pte(mm, addr);
	assert_true(pte_protnone(pte) && pte_uffd(pte));
}

/* Migration turns the entry into a migration entry (readable-exclusive: a
 * device-exclusive entry is never a writable one) and back into an ordinary
 * PTE on the new folio, armed if it was armed. */
static void migration_replaces_the_entry_by_a_present_pte(void **state)
{
	for (unsigned armed = 0; armed < 2; armed++) {
		struct mm_struct *mm;
		uint64_t addr, old_pfn;
		struct folio *folio;
		pte_t pte;

		t_proc_restart(state);
		mm = t_proc.mm;
		addr = map_written(1, PROT_READ | PROT_WRITE, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		assert_int_equal(make_exclusive(addr), 0);
		if (armed)
			assert_int_equal(mrwprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
		old_pfn = swp_offset_pfn(pte_to_swp_entry(t_pte(mm, addr)));
		folio = pfn_folio(old_pfn);
		assert_int_equal(migrate_folio_sync(folio, 0), 0);
		pte = t_pte(mm, addr);
		ROW_EQ(armed, pte_present(pte), true);
		ROW_EQ(armed, pte_pfn(pte) != old_pfn, true);
		ROW_EQ(armed, pte_protnone(pte), armed);
		ROW_EQ(armed, pte_uffd(pte), armed);
		ROW_EQ(armed, pte_write(pte), false);
		ROW_EQ(armed, pfn_to_page(pte_pfn(pte))->mapcount, 1);
		ROW_EQ(armed, pfn_to_page(pte_pfn(pte))->content, VAL);
		ROW_EQ(armed, PageAnonExclusive(pfn_to_page(pte_pfn(pte))), true);
		ROW_EQ(armed, mm->rss_anon, 1);
	}
}

/* ------------------------------------------------------------ GUP, pagemap, collapse */

/* follow_page_pte() does not follow the entry: GUP faults, which restores
 * it, and then gets the page. */
static void gup_faults_the_entry_back(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t addr = map_written(1, PROT_READ | PROT_WRITE, 0, 0), done = 0;
	struct page *page;

	assert_int_equal(make_exclusive(addr), 0);
	page = entry_page(t_pte(mm, addr));
	/* get_user_pages_remote, a read */
	assert_int_equal(gup_caller_run(mm, 2, 0, addr, 1, 0, &done), 0);
	assert_int_equal(done, 1);
	assert_true(pte_present(t_pte(mm, addr)));
	assert_int_equal(pte_pfn(t_pte(mm, addr)), page_to_pfn(page));
	assert_int_equal(folio_ref_count(page_folio(page)), 1);
	assert_int_equal(t_last_event(EV_ACCESS)->value, VAL);
}

static void pagemap_reads_the_entry_as_swap_with_its_pfn(void **state)
{
	for (unsigned armed = 0; armed < 2; armed++) {
		struct mm_struct *mm;
		uint64_t addr, word, pfn;

		t_proc_restart(state);
		mm = t_proc.mm;
		addr = map_written(1, PROT_READ | PROT_WRITE, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		assert_int_equal(make_exclusive(addr), 0);
		if (armed)
			assert_int_equal(mrwprotect_range(t_proc.ctx, addr, PAGE_SIZE, true), 0);
		pfn = swp_offset_pfn(pte_to_swp_entry(t_pte(mm, addr)));
		word = pagemap_read_word(mm, addr);
		ROW_EQ(armed, !!(word & PM_PRESENT), false);
		ROW_EQ(armed, !!(word & PM_SWAP), true);
		ROW_EQ(armed, !!(word & PM_UFFD_WP), armed);
		ROW_EQ(armed, word & PM_PFRAME_MASK, SWP_DEVICE_EXCLUSIVE | (pfn << 5));
	}
}

/* MADV_COLLAPSE counts the entry like a swap PTE: the swap-in step faults
 * it back (restore) and the range collapses; an entry with the uffd bit
 * stops the scan first (SCAN_PTE_UFFD), arming kept. */
static void collapse_restores_or_refuses_by_the_uffd_bit(void **state)
{
	for (unsigned armed = 0; armed < 2; armed++) {
		struct mm_struct *mm;
		struct vm_area_struct *vma;
		uint64_t addr;

		t_proc_restart(state);
		mm = t_proc.mm;
		addr = t_map_anon(mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
		vma = vma_lookup(mm, addr);
		t_write_pages(mm, addr, HPAGE_PMD_NR, VAL);
		if (armed)
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		assert_int_equal(make_exclusive(addr + 5 * PAGE_SIZE), 0);
		if (armed)
			assert_int_equal(
				mrwprotect_range(t_proc.ctx, addr + 5 * PAGE_SIZE, PAGE_SIZE, true),
				0);
		madvise_collapse(vma, addr, addr + PMD_SIZE);
		if (armed) {
			ROW_EQ(armed, khugepaged_last_result, SCAN_PTE_UFFD);
			ROW_EQ(armed, pte_is_device_exclusive(t_pte(mm, addr + 5 * PAGE_SIZE)),
			       true);
			ROW_EQ(armed, pte_swp_uffd(t_pte(mm, addr + 5 * PAGE_SIZE)), true);
		} else {
			ROW_EQ(armed, khugepaged_last_result, SCAN_SUCCEED);
			ROW_EQ(armed, pmd_trans_huge(t_pmd(mm, addr)), true);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entry_type_and_flags_matrix),
		cmocka_unit_test(other_entry_types_are_told_apart),
		cmocka_unit_test_setup_teardown(make_device_exclusive_by_vma_and_arming,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(shmem_pages_are_refused, t_proc_setup,
						t_proc_teardown),
		cmocka_unit_test_setup_teardown(an_exclusive_page_can_be_taken_again, t_proc_setup,
						t_proc_teardown),
		cmocka_unit_test_setup_teardown(restore_by_vma_bit_and_dirtiness, t_proc_setup,
						t_proc_teardown),
		cmocka_unit_test_setup_teardown(zap_drops_the_mapping_and_the_reference,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(reclaim_swaps_an_armed_entry_out_armed,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(migration_replaces_the_entry_by_a_present_pte,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(gup_faults_the_entry_back, t_proc_setup,
						t_proc_teardown),
		cmocka_unit_test_setup_teardown(pagemap_reads_the_entry_as_swap_with_its_pfn,
						t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(collapse_restores_or_refuses_by_the_uffd_bit,
						t_proc_setup, t_proc_teardown),
	};

	return cmocka_run_group_tests_name("rmap_device_exclusive", tests, NULL, NULL);
}
