/* tests/unit/test_mremap_move.c - mremap(): move_ptes() and move_huge_pmd()
 * on every entry type, in RWP and WP VMAs, with and without
 * UFFD_FEATURE_EVENT_REMAP (rwp-series.md 2.7 mremap row, kernel-paths.md
 * 6.2), and sys_mremap()'s resize and error cases.
 *
 * One anon private PROT_READ|PROT_WRITE page at A, moved with
 * MREMAP_MAYMOVE|MREMAP_FIXED to N. The expected entry at N is derived from
 * the one at A:
 *
 *   keep       A's entry | soft-dirty (move_soft_dirty_pte)
 *   normalise  pte_modify(vm_page_prot) without the uffd bit | soft-dirty
 *   clearbit   A's entry without the (swap) uffd bit | soft-dirty
 *   drop       none (a uffd-wp marker without EVENT_REMAP)
 */
#include "mmsim_test.h"

#include "model/swapops.h"

enum st { ST_NONE, ST_PRESENT, ST_RO, ST_ARMED, ST_NUMA, ST_WP, ST_SWAP, ST_SWAPUFFD, ST_WPMARKER };

static const char *const st_names[] = {
	"none", "present", "ro", "armed", "numa", "wp", "swap", "swapuffd", "wpmarker",
};

enum outcome { O_KEEP, O_NORMALISE, O_CLEARBIT, O_DROP };

struct fixture {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	struct userfaultfd_ctx *ctx;
	uint64_t addr, pgoff;
	pgprot_t prot; /* the old VMA's vm_page_prot */
	struct folio *folio;
};

#define NEW_ADDR 0x7f4000000000ULL

static bool st_present(enum st st) { return st >= ST_PRESENT && st <= ST_WP; }

static pte_t make_entry(struct fixture *f, enum st st)
{
	uint64_t pfn = folio_pfn(f->folio);
	pte_t present = pte_mkwrite(pte_mkdirty(pfn_pte(pfn, f->vma->vm_page_prot)));
	pte_t swap = swp_entry_to_pte(swp_entry(0, 5));

	switch (st) {
	case ST_NONE:
		return __pte(0);
	case ST_PRESENT:
		return present;
	case ST_RO:
		return pte_wrprotect(present);
	case ST_ARMED:
		return pte_mkuffd(pte_modify(present, PAGE_NONE));
	case ST_NUMA:
		return pte_modify(present, PAGE_NONE);
	case ST_WP:
		return pte_mkuffd(present);
	case ST_SWAP:
		return swap;
	case ST_SWAPUFFD:
		return pte_swp_mkuffd(swap);
	case ST_WPMARKER:
		return make_pte_marker(PTE_MARKER_UFFD_WP);
	}
	return __pte(0);
}

static void fixture_init(struct fixture *f, vm_flags_t mode, uint64_t features, enum st st)
{
	f->mm = mm_alloc("t");
	f->addr = t_map_anon(f->mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	f->vma = vma_lookup(f->mm, f->addr);
	f->pgoff = f->vma->vm_pgoff;
	f->prot = f->vma->vm_page_prot;
	f->ctx = userfaultfd_ctx_alloc(f->mm);
	f->ctx->features = features;
	f->ctx->api_done = true;
	f->vma->vm_flags |= mode;
	f->vma->vm_userfaultfd_ctx = f->ctx;
	anon_vma_prepare(f->vma);
	f->folio = folio_alloc(0);
	assert_non_null(f->folio);
	folio_add_new_anon_rmap(f->folio, f->vma, f->addr, true);
	if (st_present(st))
		folio_add_anon_rmap_ptes(f->folio, folio_page(f->folio, 0), 1, f->vma, true);
	pmd_t *pmd = pmd_lookup(f->mm->pgd, f->addr, true, f->mm->id);
	assert_true(pte_alloc(pmd, f->mm->id));
	*pte_offset_map(pmd, f->addr) = make_entry(f, st);
}

static void fixture_fini(struct fixture *f)
{
	/* Hand-made entries: clear them rather than let zap interpret them. */
	pte_t *p = pte_lookup(f->mm->pgd, NEW_ADDR);
	if (p)
		*p = __pte(0);
	p = pte_lookup(f->mm->pgd, f->addr);
	if (p)
		*p = __pte(0);
	exit_mmap(f->mm);
	mm_free(f->mm);
	userfaultfd_ctx_free(f->ctx);
}

static pte_t expected(struct fixture *f, pte_t old, enum outcome o)
{
	pte_t p = old;

	switch (o) {
	case O_DROP:
		return __pte(0);
	case O_NORMALISE:
		p = pte_clear_uffd(pte_modify(old, f->prot));
		break;
	case O_CLEARBIT:
		p = pte_present(old) ? pte_clear_uffd(old) : pte_swp_clear_uffd(old);
		break;
	case O_KEEP:
		break;
	}
	if (pte_none(p))
		return p;
	return pte_present(p) ? pte_set_flags(p, _PAGE_SOFT_DIRTY) : pte_swp_mksoft_dirty(p);
}

#define RWP VM_UFFD_RWP
#define WP VM_UFFD_WP
#define EV UFFD_FEATURE_EVENT_REMAP
#define NOEV 0

struct row {
	vm_flags_t mode;
	uint64_t features;
	enum st before;
	enum outcome after;
};

static const struct row rows[] = {
	/* RWP with EVENT_REMAP: everything moves as it is. */
	{ RWP, EV, ST_NONE, O_KEEP },
	{ RWP, EV, ST_PRESENT, O_KEEP },
	{ RWP, EV, ST_RO, O_KEEP },
	{ RWP, EV, ST_ARMED, O_KEEP },
	{ RWP, EV, ST_NUMA, O_KEEP },
	{ RWP, EV, ST_SWAP, O_KEEP },
	{ RWP, EV, ST_SWAPUFFD, O_KEEP },
	/* RWP without: only entries with the bit change; armed -> vm_page_prot. */
	{ RWP, NOEV, ST_NONE, O_KEEP },
	{ RWP, NOEV, ST_PRESENT, O_KEEP },
	{ RWP, NOEV, ST_RO, O_KEEP },
	{ RWP, NOEV, ST_ARMED, O_NORMALISE },
	{ RWP, NOEV, ST_NUMA, O_KEEP },
	{ RWP, NOEV, ST_SWAP, O_KEEP },
	{ RWP, NOEV, ST_SWAPUFFD, O_CLEARBIT },
	/* WP with EVENT_REMAP: bits and markers move. */
	{ WP, EV | UFFD_FEATURE_WP_UNPOPULATED, ST_WP, O_KEEP },
	{ WP, EV | UFFD_FEATURE_WP_UNPOPULATED, ST_PRESENT, O_KEEP },
	{ WP, EV | UFFD_FEATURE_WP_UNPOPULATED, ST_NUMA, O_KEEP },
	{ WP, EV | UFFD_FEATURE_WP_UNPOPULATED, ST_SWAPUFFD, O_KEEP },
	{ WP, EV | UFFD_FEATURE_WP_UNPOPULATED, ST_WPMARKER, O_KEEP },
	/* WP without: the bit is cleared (no pte_modify), markers dropped. */
	{ WP, UFFD_FEATURE_WP_UNPOPULATED, ST_WP, O_CLEARBIT },
	{ WP, UFFD_FEATURE_WP_UNPOPULATED, ST_PRESENT, O_KEEP },
	{ WP, UFFD_FEATURE_WP_UNPOPULATED, ST_NUMA, O_KEEP },
	{ WP, UFFD_FEATURE_WP_UNPOPULATED, ST_SWAPUFFD, O_CLEARBIT },
	{ WP, UFFD_FEATURE_WP_UNPOPULATED, ST_WPMARKER, O_DROP },
	/* Not registered at all: no context, nothing changes. */
	{ 0, 0, ST_NUMA, O_KEEP },
};

static bool find_new_addr(struct folio *folio, struct vm_area_struct *vma, uint64_t address,
			  void *arg)
{
	*(uint64_t *)arg = address;
	return true;
}

static void move_ptes_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct fixture f;

		fixture_init(&f, r->mode, r->features, r->before);
		if (!r->mode)
			f.vma->vm_userfaultfd_ctx = NULL;
		pte_t old = *t_ptep(f.mm, f.addr);
		int refs = folio_ref_count(f.folio), maps = folio_mapcount(f.folio);
		unsigned evs = t_nr_events(EV_MREMAP);
		int64_t ret = sys_mremap(f.mm, f.addr, PAGE_SIZE, PAGE_SIZE,
					 MREMAP_MAYMOVE | MREMAP_FIXED, NEW_ADDR);

		print_message("row %zu: %s\n", i, st_names[r->before]);
		ROW_EQ(i, ret, NEW_ADDR);
		/* the old range is gone, the entry is where the outcome says */
		ROW_EQ(i, vma_lookup(f.mm, f.addr) == NULL, 1);
		pte_t *oldp = pte_lookup(f.mm->pgd, f.addr);
		ROW_EQ(i, oldp ? pte_val(*oldp) : 0, 0);
		pte_t *newp = pte_lookup(f.mm->pgd, NEW_ADDR);
		ROW_EQ(i, newp ? pte_val(*newp) : 0, pte_val(expected(&f, old, r->after)));
		/* the new VMA: same pgoff and anon_vma; registration by the rule */
		struct vm_area_struct *nv = vma_lookup(f.mm, NEW_ADDR);
		assert_non_null(nv);
		bool keep_ctx = r->mode && (r->features & EV);
		ROW_EQ(i, nv->vm_pgoff, f.pgoff);
		ROW_EQ(i, nv->vm_flags & __VM_UFFD_FLAGS, keep_ctx ? r->mode : 0);
		ROW_EQ(i, nv->vm_userfaultfd_ctx == f.ctx, keep_ctx);
		ROW_EQ(i, nv->anon_vma == f.folio->mapping, 1);
		/* UFFD_EVENT_REMAP queued exactly with the feature; the
		 * non-cooperative window is closed again */
		ROW_EQ(i, f.ctx->msgs->len, keep_ctx);
		if (keep_ctx) {
			struct uffd_msg m = g_array_index(f.ctx->msgs, struct uffd_msg, 0);
			ROW_EQ(i, m.event, UFFD_EVENT_REMAP);
			ROW_EQ(i, m.remap.from, f.addr);
			ROW_EQ(i, m.remap.to, NEW_ADDR);
			ROW_EQ(i, m.remap.len, PAGE_SIZE);
		}
		ROW_EQ(i, f.ctx->mmap_changing, 0);
		ROW_EQ(i, t_nr_events(EV_MREMAP), evs + 1);
		const struct mm_event *ev = t_last_event(EV_MREMAP);
		ROW_EQ(i, ev->address, f.addr);
		ROW_EQ(i, ev->new_address, NEW_ADDR);
		ROW_EQ(i, ev->len, PAGE_SIZE);
		ROW_EQ(i, ev->new_len, PAGE_SIZE);
		/* mapcount and references unchanged; rmap finds the new address */
		ROW_EQ(i, folio_ref_count(f.folio), refs);
		ROW_EQ(i, folio_mapcount(f.folio), maps);
		if (st_present(r->before)) {
			uint64_t found = 0;
			struct rmap_walk_control rwc = { .arg = &found, .rmap_one = find_new_addr };
			rmap_walk(f.folio, &rwc);
			ROW_EQ(i, found, NEW_ADDR);
		}
		fixture_fini(&f);
	}
}

/* An armed anon THP moves as one PMD (move_huge_pmd) with its deposited
 * table when both addresses are PMD-aligned; without EVENT_REMAP it comes
 * out pmd_modify(vm_page_prot) without the bit; unaligned, it is split and
 * every PTE moves armed. */
static void move_huge_pmd_table(void **state)
{
	static const struct {
		uint64_t features;
		uint64_t dst_off; /* 0: PMD-aligned */
	} hrows[] = { { EV, 0 }, { NOEV, 0 }, { EV, PAGE_SIZE }, { NOEV, PAGE_SIZE } };

	for (size_t i = 0; i < G_N_ELEMENTS(hrows); i++) {
		t_proc_restart(state);
		thp_settings.enabled = 0;
		struct mm_struct *mm = t_proc.mm;
		uint64_t a = t_map_anon(mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
		t_write_pages(mm, a, 1, 0x77);
		pmd_t before = t_pmd(mm, a);
		assert_true(pmd_trans_huge(before));
		struct vm_area_struct *vma = vma_lookup(mm, a);
		struct userfaultfd_ctx *ctx =
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP | hrows[i].features);
		change_protection(vma, a, a + PMD_SIZE, MM_CP_UFFD_RWP);
		pmd_t armed = t_pmd(mm, a);
		assert_true(pmd_protnone(armed) && pmd_uffd(armed));
		struct folio *folio = pfn_folio(pmd_pfn(armed));
		int refs = folio_ref_count(folio), maps = folio_mapcount(folio);
		uint64_t n = NEW_ADDR + hrows[i].dst_off;
		uint64_t key = a, nkey = NEW_ADDR;

		assert_non_null(g_hash_table_lookup(mm->deposit, &key));
		ROW_EQ(i, sys_mremap(mm, a, PMD_SIZE, PMD_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, n),
		       n);
		bool ev = hrows[i].features & EV;
		if (!hrows[i].dst_off) {
			pmd_t want = pmd_set_flags(armed, _PAGE_SOFT_DIRTY);
			if (!ev)
				want = pmd_clear_uffd(
					pmd_modify(want, vma_lookup(mm, n)->vm_page_prot));
			ROW_EQ(i, pmd_val(t_pmd(mm, n)), pmd_val(want));
			ROW_EQ(i, g_hash_table_lookup(mm->deposit, &key) == NULL, 1);
			ROW_EQ(i, g_hash_table_lookup(mm->deposit, &nkey) != NULL, 1);
		} else {
			for (uint64_t p = 0; p < HPAGE_PMD_NR; p++) {
				pte_t pte = t_pte(mm, n + p * PAGE_SIZE);
				ROW_EQ(i, pte_pfn(pte), folio_pfn(folio) + p);
				ROW_EQ(i, pte_protnone(pte), ev);
				ROW_EQ(i, pte_uffd(pte), ev);
			}
		}
		ROW_EQ(i, folio_ref_count(folio),
		       hrows[i].dst_off ? refs + HPAGE_PMD_NR - 1 : refs);
		ROW_EQ(i, folio_mapcount(folio), hrows[i].dst_off ? HPAGE_PMD_NR : maps);
		uint64_t found = 0;
		struct rmap_walk_control rwc = { .arg = &found, .rmap_one = find_new_addr };
		rmap_walk(folio, &rwc);
		ROW_EQ(i, found, n);
		ROW_EQ(i, vma_lookup(mm, n)->vm_userfaultfd_ctx == ctx, ev);
	}
}

/* sys_mremap()'s resize and error cases, as do_mremap() checks them. */
static void resize_and_errors(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	/* Mappings go top-down (arch_get_unmapped_area_topdown()): b first,
	 * so that a lands right below it and cannot grow in place. */
	uint64_t b = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	uint64_t a = t_map_anon(mm, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(mm, a, 8, 0x5);

	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, PAGE_SIZE, 0x8, 0), -EINVAL);
	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, PAGE_SIZE, MREMAP_DONTUNMAP, 0), -EINVAL);
	assert_int_equal(sys_mremap(mm, a + 1, PAGE_SIZE, PAGE_SIZE, 0, 0), -EINVAL);
	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, 0, 0, 0), -EINVAL);
	/* a fixed address implies a move */
	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, PAGE_SIZE, MREMAP_FIXED, NEW_ADDR), -EINVAL);
	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
				    NEW_ADDR + 1),
			 -EINVAL);
	/* overlapping old and new ranges */
	assert_int_equal(sys_mremap(mm, a, 4 * PAGE_SIZE, 4 * PAGE_SIZE,
				    MREMAP_MAYMOVE | MREMAP_FIXED, a + 2 * PAGE_SIZE),
			 -EINVAL);
	/* no VMA, and across a VMA's end */
	assert_int_equal(sys_mremap(mm, NEW_ADDR, PAGE_SIZE, PAGE_SIZE, MREMAP_MAYMOVE, 0),
			 -EFAULT);
	assert_int_equal(sys_mremap(mm, a, 9 * PAGE_SIZE, 9 * PAGE_SIZE,
				    MREMAP_MAYMOVE | MREMAP_FIXED, NEW_ADDR),
			 -EFAULT);
	assert_int_equal(t_nr_events(EV_MREMAP), 0);

	/* same size without a fixed address: nothing to do */
	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, PAGE_SIZE, MREMAP_MAYMOVE, 0), (int64_t)a);
	assert_int_equal(t_nr_events(EV_MREMAP), 0);
	/* shrink: the tail is unmapped */
	assert_int_equal(sys_mremap(mm, a, 8 * PAGE_SIZE, 6 * PAGE_SIZE, 0, 0), (int64_t)a);
	assert_int_equal(vma_lookup(mm, a)->vm_end, a + 6 * PAGE_SIZE);
	assert_null(vma_lookup(mm, a + 6 * PAGE_SIZE));
	assert_int_equal(t_nr_events(EV_MREMAP), 1);
	/* grow in place into the hole just made */
	assert_int_equal(sys_mremap(mm, a, 6 * PAGE_SIZE, 7 * PAGE_SIZE, 0, 0), (int64_t)a);
	assert_int_equal(vma_lookup(mm, a)->vm_end, a + 7 * PAGE_SIZE);
	/* growth blocked by b (mapped right after a, or elsewhere) */
	struct vm_area_struct *next = find_vma(mm, a + 7 * PAGE_SIZE);
	if (next && next->vm_start < a + 16 * PAGE_SIZE) {
		assert_int_equal(sys_mremap(mm, a, 7 * PAGE_SIZE, 16 * PAGE_SIZE, 0, 0), -ENOMEM);
	}
	/* MAYMOVE: a grow that does not fit moves, contents and all */
	int64_t moved = sys_mremap(mm, b, 4 * PAGE_SIZE, 64 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
	assert_true(moved > 0);
	assert_int_equal(vma_lookup(mm, (uint64_t)moved)->vm_end, (uint64_t)moved + 64 * PAGE_SIZE);
	moved = sys_mremap(mm, a, 7 * PAGE_SIZE, 32 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
	assert_true(moved > 0 && (uint64_t)moved != a);
	assert_null(vma_lookup(mm, a));
	for (uint64_t p = 0; p < 6; p++) { /* page 6 was shrunk away and regrown empty */
		pte_t pte = t_pte(mm, (uint64_t)moved + p * PAGE_SIZE);
		assert_true(pte_present(pte));
		assert_int_equal(page_folio(pfn_to_page(pte_pfn(pte)))->index,
				 (a >> PAGE_SHIFT) + p);
	}
	/* mremap_to with a shrink: the tail goes first, then the move */
	assert_int_equal(sys_mremap(mm, (uint64_t)moved, 32 * PAGE_SIZE, 2 * PAGE_SIZE,
				    MREMAP_MAYMOVE | MREMAP_FIXED, NEW_ADDR),
			 (int64_t)NEW_ADDR);
	assert_int_equal(vma_lookup(mm, NEW_ADDR)->vm_end, NEW_ADDR + 2 * PAGE_SIZE);
	assert_true(pte_present(t_pte(mm, NEW_ADDR + PAGE_SIZE)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(move_ptes_table, mmsim_setup, mmsim_teardown),
		cmocka_unit_test_setup_teardown(move_huge_pmd_table, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(resize_and_errors, t_proc_setup, t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
