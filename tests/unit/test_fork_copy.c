/* tests/unit/test_fork_copy.c - fork: dup_userfaultfd() and copy_page_range()
 * for every entry type (present, armed, pinned, swap, migration, THP, huge
 * zero, uffd-wp, markers) against the child's registration: RWP or WP kept
 * with UFFD_FEATURE_EVENT_FORK, or lost without it. Every row asserts the
 * exact child and parent entries, the folio's references and mapcounts and
 * PG_anon_exclusive.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define VAL 0x7100

enum entry {
	E_PRESENT,	  /* a written page: writable, dirty, exclusive */
	E_ARMED,	  /* the same, armed (protnone + uffd) */
	E_WP,		  /* the same, uffd-wp protected */
	E_PINNED,	  /* writable and pinned */
	E_PINNED_ARMED,	  /* armed and pinned */
	E_SWAP,		  /* reclaimed */
	E_SWAP_ARMED,	  /* armed, then reclaimed */
	E_MIGRATION_UFFD, /* a writable migration entry with the uffd bit */
	NR_ENTRIES
};

static const char *const entry_names[] = { "present",	   "armed", "wp",	  "pinned",
					   "pinned-armed", "swap",  "swap-armed", "migration" };

enum child {
	C_RWP_EVENT, /* RWP registration, UFFD_FEATURE_EVENT_FORK */
	C_RWP_LOST,  /* RWP registration, no EVENT_FORK: the child is unregistered */
	C_WP_EVENT,
	C_WP_LOST,
	NR_CHILDREN
};

struct fork_fx {
	struct vm_area_struct *vma; /* the parent's */
	uint64_t addr;
	struct mm_struct *child;
	struct vm_area_struct *cvma;
	GArray *fcs;
};

static bool child_rwp(enum child c) { return c == C_RWP_EVENT || c == C_RWP_LOST; }
static bool child_event(enum child c) { return c == C_RWP_EVENT || c == C_WP_EVENT; }

static struct fork_fx fork_fx;

/* Fork t_proc into "C"; remember the child's VMA at fx->addr. */
static void do_fork(struct fork_fx *fx)
{
	fx->fcs = g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_fork_ctx));
	g_array_set_size(mm_events, 0);
	fx->child = sys_fork(t_proc.mm, "C", fx->fcs);
	assert_non_null(fx->child);
	fx->cvma = vma_lookup(fx->child, fx->addr);
	assert_non_null(fx->cvma);
}

static void fork_cleanup(struct fork_fx *fx)
{
	for (guint i = 0; i < fx->fcs->len; i++)
		userfaultfd_ctx_free(g_array_index(fx->fcs, struct userfaultfd_fork_ctx, i).new);
	g_array_free(fx->fcs, TRUE);
	mm_discard(fx->child);
	memset(fx, 0, sizeof(*fx));
}

/* One written page in an anon RWP or WP VMA, in the state of the row. */
static pte_t make_entry(struct fork_fx *fx, enum entry e, enum child c)
{
	vm_flags_t mode = child_rwp(c) ? VM_UFFD_RWP : VM_UFFD_WP;
	uint64_t feat = (child_rwp(c) ? UFFD_FEATURE_RWP : UFFD_FEATURE_PAGEFAULT_FLAG_WP) |
			(child_event(c) ? UFFD_FEATURE_EVENT_FORK : 0);
	bool armed = e == E_ARMED || e == E_PINNED_ARMED || e == E_SWAP_ARMED;

	fx->addr = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	fx->vma = vma_lookup(t_proc.mm, fx->addr);
	t_write_pages(t_proc.mm, fx->addr, 1, VAL);
	t_register_ctx(fx->vma, mode, feat);
	if (armed)
		assert_int_equal(change_protection(fx->vma, fx->addr, fx->addr + PAGE_SIZE,
						   child_rwp(c) ? MM_CP_UFFD_RWP : MM_CP_UFFD_WP),
				 1);
	if (e == E_WP)
		change_protection(fx->vma, fx->addr, fx->addr + PAGE_SIZE, MM_CP_UFFD_WP);
	pte_t *ptep = t_ptep(t_proc.mm, fx->addr);
	struct folio *folio = pfn_folio(pte_pfn(*ptep));
	if (e == E_PINNED || e == E_PINNED_ARMED) {
		folio->pincount++;
		folio->refcount++;
	}
	if (e == E_SWAP || e == E_SWAP_ARMED)
		assert_int_equal(reclaim_range(t_proc.mm, fx->addr, fx->addr + PAGE_SIZE), 1);
	if (e == E_MIGRATION_UFFD) {
		/* try_to_migrate_one() by hand: the mapping's reference goes. */
		uint64_t pfn = pte_pfn(*ptep);
		folio_remove_rmap_ptes(folio, folio_page(folio, 0), 1, fx->vma);
		folio_put(folio);
		*ptep = pte_swp_mkuffd(swp_entry_to_pte(make_writable_migration_entry(pfn)));
	}
	return *ptep;
}

static void copy_table(void **state)
{
	for (unsigned c = 0; c < NR_CHILDREN; c++) {
		for (unsigned e = 0; e < NR_ENTRIES; e++) {
			size_t row = c * NR_ENTRIES + e;
			struct fork_fx *fx = &fork_fx;

			if (e == E_WP && child_rwp(c))
				continue; /* the WP row is the WP children's */
			t_proc_restart(state);
			bool wp_row = !child_rwp(c);
			pte_t before = make_entry(fx, e, c);
			bool present = pte_present(before);
			struct folio *folio = present ? pfn_folio(pte_pfn(before)) : NULL;
			int ref0 = folio ? folio->refcount : 0;
			uint64_t slot =
				is_swap_pte(before) ? swp_offset(pte_to_swp_entry(before)) : 0;
			uint32_t swapcount0 = slot ? swap_info.slots[slot].count : 0;

			do_fork(fx);
			pte_t parent = t_pte(t_proc.mm, fx->addr);
			pte_t child = t_pte(fx->child, fx->addr);
			bool protected_child = child_event(c);
			bool had_bit = present ? pte_uffd(before) : pte_swp_uffd(before);
			/* In the WP children's rows "armed" means uffd-wp protected. */
			print_message("row %zu: %s, child %u\n", row, entry_names[e], c);

			/* The child's registration */
			ROW_EQ(row, !!(fx->cvma->vm_flags & (VM_UFFD_RWP | VM_UFFD_WP)),
			       protected_child);
			ROW_EQ(row, !!fx->cvma->vm_userfaultfd_ctx, protected_child);
			ROW_EQ(row, fx->fcs->len, protected_child);
			ROW_EQ(row, t_proc.ctx->msgs->len, protected_child);
			ROW_EQ(row, t_nr_events(EV_FORK), protected_child ? 2 : 1);
			if (protected_child) {
				struct userfaultfd_ctx *nctx =
					g_array_index(fx->fcs, struct userfaultfd_fork_ctx, 0).new;
				ROW_EQ(row, nctx, fx->cvma->vm_userfaultfd_ctx);
				ROW_EQ(row, nctx->features, t_proc.ctx->features);
				ROW_EQ(row, nctx->mm, fx->child);
				ROW_EQ(row,
				       g_array_index(t_proc.ctx->msgs, struct uffd_msg, 0).event,
				       UFFD_EVENT_FORK);
				ROW_EQ(row,
				       g_array_index(t_proc.ctx->msgs, struct uffd_msg, 0).fork.ufd,
				       nctx->id);
			}
			ROW_EQ(row, t_proc.ctx->mmap_changing, 0);

			switch (e) {
			case E_PRESENT:
			case E_ARMED:
			case E_WP: {
				/* Shared: one more mapping and reference, no longer exclusive. */
				pte_t want = before;
				if (!protected_child) {
					if (!wp_row && pte_uffd(want))
						want = pte_modify(want, fx->cvma->vm_page_prot);
					want = pte_clear_uffd(want);
				}
				want = pte_mkold(pte_wrprotect(want));
				ROW_EQ(row, pte_val(child), pte_val(want));
				ROW_EQ(row, pte_val(parent), pte_val(pte_wrprotect(before)));
				ROW_EQ(row, folio->refcount, ref0 + 1);
				ROW_EQ(row, folio_page(folio, 0)->mapcount, 2);
				ROW_EQ(row, PageAnonExclusive(folio_page(folio, 0)), 0);
				/* a writable source is write-protected in both */
				if (pte_write(before)) {
					ROW_EQ(row, pte_write(parent), 0);
					ROW_EQ(row, pte_write(child), 0);
				}
				if (e == E_ARMED && !wp_row && protected_child) {
					ROW_EQ(row, pte_protnone(child) && pte_uffd(child), 1);
				}
				if (e == E_ARMED && !protected_child) {
					ROW_EQ(row, pte_protnone(child), 0);
					ROW_EQ(row, pte_uffd(child), 0);
				}
				break;
			}
			case E_PINNED:
			case E_PINNED_ARMED: {
				/* copy_present_page(): the child gets its own page. */
				uint64_t npfn = pte_pfn(child);
				struct folio *nf = pfn_folio(npfn);
				ROW_EQ(row, npfn != pte_pfn(before), 1);
				ROW_EQ(row, folio_page(nf, 0)->content, VAL);
				ROW_EQ(row, nf->refcount, 1);
				ROW_EQ(row, folio_page(nf, 0)->mapcount, 1);
				ROW_EQ(row, PageAnonExclusive(folio_page(nf, 0)), 1);
				ROW_EQ(row, nf->mapping, fx->cvma->anon_vma);
				pte_t want = pte_mkwrite(
					pte_mkdirty(pfn_pte(npfn, fx->cvma->vm_page_prot)));
				if (protected_child && had_bit) {
					want = pte_mkuffd(want);
					if (!wp_row)
						want = pte_modify(want, PAGE_NONE);
				}
				ROW_EQ(row, pte_val(child), pte_val(want));
				/* the source keeps its entry, page and exclusivity */
				ROW_EQ(row, pte_val(parent), pte_val(before));
				ROW_EQ(row, folio->refcount, ref0);
				ROW_EQ(row, folio_page(folio, 0)->mapcount, 1);
				ROW_EQ(row, PageAnonExclusive(folio_page(folio, 0)), 1);
				folio->pincount--;
				folio->refcount--;
				break;
			}
			case E_SWAP:
			case E_SWAP_ARMED: {
				pte_t want = pte_swp_clear_exclusive(before);
				ROW_EQ(row, pte_val(parent), pte_val(want));
				if (!protected_child)
					want = pte_swp_clear_uffd(want);
				ROW_EQ(row, pte_val(child), pte_val(want));
				ROW_EQ(row, pte_swp_uffd(child), protected_child && had_bit);
				ROW_EQ(row, swap_info.slots[slot].count, swapcount0 + 1);
				ROW_EQ(row, fx->child->nr_swapents, 1);
				break;
			}
			case E_MIGRATION_UFFD: {
				/* COW: both sides get a readable entry, the bit kept in
				 * the source and only for a protected child. */
				swp_entry_t me = pte_to_swp_entry(parent);
				ROW_EQ(row, is_readable_migration_entry(me), 1);
				ROW_EQ(row, swp_offset_pfn(me),
				       swp_offset_pfn(pte_to_swp_entry(before)));
				ROW_EQ(row, pte_swp_uffd(parent), 1);
				pte_t want = parent;
				if (!protected_child)
					want = pte_swp_clear_uffd(want);
				ROW_EQ(row, pte_val(child), pte_val(want));
				break;
			}
			default:
				break;
			}
			fork_cleanup(fx);
		}
	}
}

/* A large folio's PTE batch: one copy for all, COW write-protect of every
 * source PTE, and the armed batch normalised or kept as a whole. */
static void large_folio_batch(void **state)
{
	for (unsigned c = 0; c < 2; c++) {
		struct fork_fx *fx = &fork_fx;
		t_proc_restart(state);
		thp_settings.mthp_order = 4;
		fx->addr = t_map_anon(t_proc.mm, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE,
				      16 * PAGE_SIZE);
		fx->vma = vma_lookup(t_proc.mm, fx->addr);
		t_write_pages(t_proc.mm, fx->addr, 1, VAL);
		struct folio *folio = pfn_folio(pte_pfn(t_pte(t_proc.mm, fx->addr)));
		assert_int_equal(folio_nr_pages(folio), 16);
		t_register_ctx(fx->vma, VM_UFFD_RWP,
			       UFFD_FEATURE_RWP | (c ? 0 : UFFD_FEATURE_EVENT_FORK));
		change_protection(fx->vma, fx->addr + 8 * PAGE_SIZE, fx->addr + 16 * PAGE_SIZE,
				  MM_CP_UFFD_RWP);
		do_fork(fx);
		assert_int_equal(folio->refcount, 32);
		for (unsigned i = 0; i < 16; i++) {
			uint64_t a = fx->addr + i * PAGE_SIZE;
			pte_t p = t_pte(t_proc.mm, a), ch = t_pte(fx->child, a);
			ROW_EQ(i, folio_page(folio, i)->mapcount, 2);
			ROW_EQ(i, PageAnonExclusive(folio_page(folio, i)), 0);
			ROW_EQ(i, pte_write(p), 0);
			ROW_EQ(i, pte_write(ch), 0);
			ROW_EQ(i, pte_pfn(ch), folio_pfn(folio) + i);
			ROW_EQ(i, pte_protnone(p) && pte_uffd(p), i >= 8);
			ROW_EQ(i, pte_protnone(ch) && pte_uffd(ch), i >= 8 && !c);
			ROW_EQ(i, pte_uffd(ch), i >= 8 && !c);
			ROW_EQ(i, pte_protnone(ch), i >= 8 && !c);
		}
		fork_cleanup(fx);
		thp_settings.mthp_order = 0;
	}
}

/* An armed anon THP PMD, a pinned one (split, then copied per page) and
 * the huge zero PMD. */
static void huge_pmd(void **state)
{
	enum { THP, THP_PINNED, HUGE_ZERO };
	for (unsigned kind = THP; kind <= HUGE_ZERO; kind++) {
		for (unsigned c = 0; c < 2; c++) {
			struct fork_fx *fx = &fork_fx;
			size_t row = kind * 2 + c;
			t_proc_restart(state);
			thp_settings.enabled = 0;
			fx->addr =
				t_map_anon(t_proc.mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
			fx->vma = vma_lookup(t_proc.mm, fx->addr);
			assert_int_equal(
				user_access(t_proc.mm, fx->addr, kind != HUGE_ZERO, VAL, NULL),
				RESULT_OK);
			pmd_t pmd0 = t_pmd(t_proc.mm, fx->addr);
			assert_true(pmd_trans_huge(pmd0));
			t_register_ctx(fx->vma, VM_UFFD_RWP,
				       UFFD_FEATURE_RWP | (c ? 0 : UFFD_FEATURE_EVENT_FORK));
			change_protection(fx->vma, fx->addr, fx->addr + PMD_SIZE, MM_CP_UFFD_RWP);
			pmd0 = t_pmd(t_proc.mm, fx->addr);
			ROW_EQ(row, pmd_protnone(pmd0) && pmd_uffd(pmd0), 1);
			struct folio *folio = pfn_folio(pmd_pfn(pmd0));
			if (kind == THP_PINNED) {
				folio->pincount++;
				folio->refcount++;
			}
			int ref0 = folio->refcount;
			do_fork(fx);
			pmd_t p = t_pmd(t_proc.mm, fx->addr), ch = t_pmd(fx->child, fx->addr);
			if (kind == THP_PINNED) {
				/* split in the parent: 512 armed PTEs, each copied */
				ROW_EQ(row, pmd_is_table(p), 1);
				pte_t p0 = t_pte(t_proc.mm, fx->addr);
				pte_t c0 = t_pte(fx->child, fx->addr);
				ROW_EQ(row, pte_protnone(p0) && pte_uffd(p0), 1);
				ROW_EQ(row, pte_protnone(c0) && pte_uffd(c0), !c);
				ROW_EQ(row, pte_pfn(c0) != pte_pfn(p0), 1);
				ROW_EQ(row, pfn_to_page(pte_pfn(c0))->content, VAL);
				ROW_EQ(row, folio_page(folio, 0)->mapcount, 1);
				folio->pincount--;
				folio->refcount--;
				fork_cleanup(fx);
				continue;
			}
			pmd_t want = pmd0;
			if (c) {
				want = pmd_clear_uffd(pmd_modify(want, fx->cvma->vm_page_prot));
			}
			want = pmd_mkold(pmd_wrprotect(want));
			ROW_EQ(row, pmd_val(ch), pmd_val(want));
			ROW_EQ(row, pmd_val(p), pmd_val(pmd_wrprotect(pmd0)));
			ROW_EQ(row, pmd_protnone(ch) && pmd_uffd(ch), !c);
			ROW_EQ(row, pmd_protnone(ch), !c);
			if (kind == THP) {
				ROW_EQ(row, folio->refcount, ref0 + 1);
				ROW_EQ(row, folio->entire_mapcount, 2);
				ROW_EQ(row, PageAnonExclusive(folio_page(folio, 0)), 0);
			}
			/* the child has its deposited table */
			uint64_t key = fx->addr;
			ROW_EQ(row, !!g_hash_table_lookup(fx->child->deposit, &key), 1);
			fork_cleanup(fx);
		}
	}
}

/* shmem: VM_COPY_ON_FORK copies a shared RWP or WP VMA's tables only for a
 * child that is still registered; a uffd-wp marker survives only then. */
static void shmem_copy_on_fork(void **state)
{
	for (unsigned c = 0; c < NR_CHILDREN; c++) {
		struct fork_fx *fx = &fork_fx;
		t_proc_restart(state);
		t_proc.file = shmem_file_alloc("F", 4, false);
		fx->addr = t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE,
				       PROT_READ | PROT_WRITE, true, 0);
		fx->vma = vma_lookup(t_proc.mm, fx->addr);
		t_write_pages(t_proc.mm, fx->addr, 1, VAL);
		bool rwp = child_rwp(c), ev = child_event(c);
		t_register_ctx(fx->vma, rwp ? VM_UFFD_RWP : VM_UFFD_WP,
			       (rwp ? UFFD_FEATURE_RWP : UFFD_FEATURE_PAGEFAULT_FLAG_WP) |
				       (ev ? UFFD_FEATURE_EVENT_FORK : 0));
		vma_set_page_prot(fx->vma);
		change_protection(fx->vma, fx->addr, fx->addr + 4 * PAGE_SIZE,
				  rwp ? MM_CP_UFFD_RWP : MM_CP_UFFD_WP);
		pte_t before = t_pte(t_proc.mm, fx->addr);
		if (!rwp)
			ROW_EQ(c, pte_marker_uffd_wp(t_pte(t_proc.mm, fx->addr + PAGE_SIZE)), 1);
		struct folio *folio = pfn_folio(pte_pfn(before));
		int ref0 = folio->refcount;
		do_fork(fx);
		pte_t *cp = pte_lookup(fx->child->pgd, fx->addr);
		if (!ev) {
			ROW_EQ(c, cp == NULL || pte_none(*cp), 1);
			ROW_EQ(c, folio->refcount, ref0);
			fork_cleanup(fx);
			continue;
		}
		ROW_EQ(c, pte_val(*cp), pte_val(pte_mkold(pte_mkclean(before))));
		ROW_EQ(c, folio->refcount, ref0 + 1);
		ROW_EQ(c, folio_page(folio, 0)->mapcount, 2);
		ROW_EQ(c, pte_val(t_pte(t_proc.mm, fx->addr)), pte_val(before));
		if (!rwp)
			ROW_EQ(c, pte_marker_uffd_wp(cp[1]), 1);
		fork_cleanup(fx);
	}
}

/* dup_userfaultfd(): one child context per parent context, whatever the
 * number of VMAs it registered. */
static void one_child_ctx_per_parent_ctx(void **state)
{
	struct fork_fx *fx = &fork_fx;
	t_proc_restart(state);
	uint64_t a = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	uint64_t b = t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ, 0);
	t_register_ctx(vma_lookup(t_proc.mm, a), VM_UFFD_RWP,
		       UFFD_FEATURE_RWP | UFFD_FEATURE_EVENT_FORK);
	t_register_ctx(vma_lookup(t_proc.mm, b), VM_UFFD_RWP, 0);
	fx->addr = a;
	do_fork(fx);
	assert_int_equal(fx->fcs->len, 1);
	assert_ptr_equal(vma_lookup(fx->child, a)->vm_userfaultfd_ctx,
			 vma_lookup(fx->child, b)->vm_userfaultfd_ctx);
	assert_int_equal(t_proc.ctx->msgs->len, 1);
	fork_cleanup(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(copy_table, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(large_folio_batch, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(huge_pmd, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(shmem_copy_on_fork, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(one_child_ctx_per_parent_ctx, t_proc_setup,
						t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
