/* tests/unit/test_gup_follow.c - GUP in isolation: caller presets, the
 * gup_can_follow_protnone() truth table, the follow path on hand-built
 * entries, faultin_page()'s flag translation, the retry bound and GUP-fast.
 *
 * The fault handler is a mock: the test links with -Wl,--wrap for
 * handle_mm_fault(), vm_normal_page() and split_huge_pmd_address()
 * (tests/CMakeLists.txt), so every call GUP makes to them lands in the
 * __wrap_ functions below and every fault GUP takes is recorded and answered
 * by the test, whatever else the library links in. State is built directly in the page
 * tables, without sys_mmap. test_gup_faultpath.c runs the real fault path.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

/* ------------------------------------------------------------ the mock fault */

struct mock_fault {
	unsigned calls;
	unsigned last_flags;
	uint64_t last_address;
	vm_fault_t ret;
	/* What the "fault handler" does to the entry, or NULL for nothing. */
	void (*action)(struct vm_area_struct *vma, uint64_t address, unsigned flags);
};
static struct mock_fault mock;

vm_fault_t __wrap_handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned flags);
vm_fault_t __wrap_handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned flags)
{
	mock.calls++;
	mock.last_flags = flags;
	mock.last_address = address;
	if (mock.action)
		mock.action(vma, address, flags);
	return mock.ret;
}

struct page *__wrap_vm_normal_page(struct vm_area_struct *vma, uint64_t addr, pte_t pte);
struct page *__wrap_vm_normal_page(struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	if (is_zero_pfn(pte_pfn(pte)))
		return NULL;
	return pfn_to_page(pte_pfn(pte));
}

void __wrap_split_huge_pmd_address(struct vm_area_struct *vma, uint64_t address);
void __wrap_split_huge_pmd_address(struct vm_area_struct *vma, uint64_t address)
{
	fail_msg("no PMD split expected");
}

/* ------------------------------------------------------------ fixtures */

#define BASE 0x40000000ULL
#define RW (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE)

static struct mm_struct *mm;
static struct task task;

static int setup(void **state)
{
	machine_init(1 << 12, 64);
	patch_set_level("v6");
	mm = mm_alloc("gup");
	memset(&mock, 0, sizeof(mock));
	memset(&task, 0, sizeof(task));
	task.id = 7;
	current = &task;
	return 0;
}

static int teardown(void **state)
{
	mm_free(mm);
	machine_destroy();
	return 0;
}

static struct vm_area_struct *make_vma(uint64_t start, uint64_t npages, vm_flags_t flags)
{
	struct vm_area_struct *vma = vm_area_alloc(mm);

	vma->vm_start = start;
	vma->vm_end = start + npages * PAGE_SIZE;
	vma->vm_flags = flags;
	vma->vm_page_prot = vm_get_page_prot(flags);
	vma->vm_pgoff = start >> PAGE_SHIFT;
	vma_link(mm, vma);
	return vma;
}

/* An anon page mapped at addr with the VMA's protection. */
static struct page *map_page(struct vm_area_struct *vma, uint64_t addr, uint64_t content,
			     bool exclusive)
{
	struct folio *folio = folio_alloc(0);
	struct page *page = folio_page(folio, 0);

	folio_set_flag(folio, FOLIO_anon | FOLIO_swapbacked | FOLIO_uptodate);
	page->content = content;
	page->mapcount = 1;
	if (exclusive)
		page->flags |= PG_anon_exclusive;
	/* Through pte_modify(): model/pte.h pfn_pte() does not yet mask the
	 * L1TF inversion to the PFN bits for a PROT_NONE pgprot. */
	*t_ptep_alloc(mm, addr) =
		pte_modify(pte_mkyoung(pfn_pte(folio_pfn(folio), PAGE_COPY)), vma->vm_page_prot);
	return page;
}

/* UFFDIO_RWPROTECT's result on one PTE: protnone plus the uffd bit. */
static void arm(uint64_t addr)
{
	pte_t *pte = t_ptep_alloc(mm, addr);

	*pte = pte_mkuffd(pte_modify(*pte, PAGE_NONE));
}

/* ------------------------------------------------------------ presets */

static void each_preset_has_exactly_the_kernels_flags(void **state)
{
	static const struct {
		const char *name;
		unsigned flags;
		bool fast_first;
		const char *source; /* a substring of kernel_source */
	} want[] = {
		{ "get_user_pages", FOLL_TOUCH | FOLL_GET, false, "get_user_pages()" },
		{ "get_user_pages_unlocked", FOLL_TOUCH | FOLL_UNLOCKABLE | FOLL_GET, false,
		  "get_user_pages_unlocked()" },
		{ "get_user_pages_remote", FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE | FOLL_GET,
		  false, "get_user_pages_remote()" },
		{ "pin_user_pages", FOLL_PIN, false, "pin_user_pages()" },
		{ "pin_user_pages_longterm", FOLL_WRITE | FOLL_LONGTERM | FOLL_PIN, true,
		  "io_pin_pages()" },
		{ "get_dump_page", FOLL_FORCE | FOLL_DUMP | FOLL_GET, false, "get_dump_page()" },
		{ "process_vm_readv", FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE, false,
		  "process_vm_rw_single_vec()" },
		{ "process_vm_writev",
		  FOLL_WRITE | FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE, false,
		  "process_vm_rw_single_vec()" },
		{ "proc_mem_read", FOLL_FORCE | FOLL_TOUCH | FOLL_REMOTE | FOLL_GET, false,
		  "mem_rw()" },
		{ "proc_mem_write", FOLL_WRITE | FOLL_FORCE | FOLL_TOUCH | FOLL_REMOTE | FOLL_GET,
		  false, "mem_rw()" },
		{ "ptrace_peek", FOLL_FORCE | FOLL_TOUCH | FOLL_REMOTE | FOLL_GET, false,
		  "ptrace_access_vm(" },
		{ "vmsplice", FOLL_GET, true, "vmsplice_to_pipe()" },
		{ "kvm",
		  FOLL_HWPOISON | FOLL_HONOR_NUMA_FAULT | FOLL_TOUCH | FOLL_UNLOCKABLE | FOLL_GET,
		  false, "hva_to_pfn_slow()" },
		{ "explicit", 0, false, "flags=" },
	};

	assert_int_equal(nr_gup_presets, G_N_ELEMENTS(want));
	for (unsigned i = 0; gup_caller_names[i].name; i++) {
		const struct gup_preset *p = &gup_presets[gup_caller_names[i].value];

		assert_string_equal(p->name, gup_caller_names[i].name);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		const struct gup_preset *p = &gup_presets[i];

		assert_string_equal(p->name, want[i].name);
		if (p->flags != want[i].flags)
			fail_msg("%s: flags %#x, want %#x", p->name, p->flags, want[i].flags);
		assert_int_equal(p->fast_first, want[i].fast_first);
		assert_true(p->unpin);
		assert_non_null(strstr(p->kernel_source, want[i].source));
	}
}

static void only_kvm_honors_numa_hinting_faults(void **state)
{
	for (unsigned i = 0; i < nr_gup_presets; i++) {
		bool honor = gup_presets[i].flags & FOLL_HONOR_NUMA_FAULT;

		assert_int_equal(honor, !strcmp(gup_presets[i].name, "kvm"));
	}
}

static void extra_caller_flags_go_through_is_valid_gup_args(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 1, RW);
	uint64_t done = 99;

	map_page(vma, BASE, 5, true);
	*t_ptep_alloc(mm, BASE) = pte_mkdirty(pte_mkwrite(*t_ptep_alloc(mm, BASE)));
	/* Internal flags cannot be passed from outside ... */
	assert_int_equal(gup_caller_run(mm, 0, FOLL_TOUCH, BASE, 1, 0, &done), -EINVAL);
	/* ... nor GET with a PIN entry point, nor LONGTERM without PIN. */
	assert_int_equal(gup_caller_run(mm, 3, FOLL_GET, BASE, 1, 0, &done), -EINVAL);
	assert_int_equal(gup_caller_run(mm, 0, FOLL_LONGTERM, BASE, 1, 0, &done), -EINVAL);
	assert_int_equal(done, 0);
	/* A public flag is added: get_user_pages(FOLL_WRITE) writes. */
	assert_int_equal(gup_caller_run(mm, 0, FOLL_WRITE, BASE, 1, 77, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(t_last_event(EV_ACCESS)->foll_flags, FOLL_WRITE | FOLL_TOUCH | FOLL_GET);
	assert_int_equal(pfn_to_page(pte_pfn(*t_ptep_alloc(mm, BASE)))->content, 77);
}

/* ------------------------------------------------------------ gup_can_follow_protnone */

static void gup_can_follow_protnone_truth_table(void **state)
{
	static const struct {
		const char *level;
		bool rwp, accessible, honor, want;
	} rows[] = {
		/* no08: the base rule only. */
		{ "no08", false, true, false, true },
		{ "no08", false, true, true, false },
		{ "no08", false, false, false, true },
		{ "no08", false, false, true, true },
		{ "no08", true, true, false, true }, /* G1: reads armed pages silently */
		{ "no08", true, true, true, false },
		{ "no08", true, false, false, true },
		{ "no08", true, false, true, true },
		/* v5: RWP always faults, even when inaccessible. */
		{ "v5", false, true, false, true },
		{ "v5", false, true, true, false },
		{ "v5", false, false, false, true },
		{ "v5", false, false, true, true },
		{ "v5", true, true, false, false },
		{ "v5", true, true, true, false },
		{ "v5", true, false, false, false }, /* G2: the livelock */
		{ "v5", true, false, true, false },
		/* v6: RWP faults only while accessible. */
		{ "v6", false, true, false, true },
		{ "v6", false, true, true, false },
		{ "v6", false, false, false, true },
		{ "v6", false, false, true, true },
		{ "v6", true, true, false, false },
		{ "v6", true, true, true, false },
		{ "v6", true, false, false, true },
		{ "v6", true, false, true, true },
	};
	struct vm_area_struct vma = { 0 };

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		assert_true(patch_set_level(rows[i].level));
		vma.vm_flags = VM_MAYREAD | VM_MAYWRITE;
		if (rows[i].accessible)
			vma.vm_flags |= VM_READ | VM_WRITE;
		if (rows[i].rwp)
			vma.vm_flags |= VM_UFFD_RWP;
		bool got = gup_can_follow_protnone(
			&vma, FOLL_FORCE | (rows[i].honor ? FOLL_HONOR_NUMA_FAULT : 0));
		if (got != rows[i].want)
			fail_msg("row %u (%s rwp=%d acc=%d honor=%d): got %d", i, rows[i].level,
				 rows[i].rwp, rows[i].accessible, rows[i].honor, got);
	}
}

/* ------------------------------------------------------------ follow_page_pte */

enum entry { E_NONE, E_PRESENT, E_ARMED, E_WP, E_NUMA };

/* With FOLL_NOFAULT the fault path returns -EFAULT at once, so a GUP that
 * gets the page followed it, and -EFAULT means the follow asked for a fault. */
static void follow_page_pte_on_none_armed_accessible_and_wp_entries(void **state)
{
	static const struct {
		const char *level;
		enum entry entry;
		vm_flags_t extra_vm;
		unsigned flags;
		bool followed;
	} rows[] = {
		{ "v6", E_NONE, 0, 0, false },
		{ "v6", E_NONE, 0, FOLL_WRITE, false },
		{ "v6", E_PRESENT, 0, 0, true },
		{ "v6", E_PRESENT, 0, FOLL_WRITE, false }, /* R/O COW PTE: write fault first */
		{ "v6", E_PRESENT, 0, FOLL_HONOR_NUMA_FAULT, true },
		{ "v6", E_ARMED, VM_UFFD_RWP, 0, false },
		{ "v6", E_ARMED, VM_UFFD_RWP, FOLL_FORCE, false },
		{ "v6", E_ARMED, VM_UFFD_RWP, FOLL_HONOR_NUMA_FAULT, false },
		{ "v6", E_ARMED, VM_UFFD_RWP, FOLL_WRITE, false },
		{ "v5", E_ARMED, VM_UFFD_RWP, 0, false },
		{ "no08", E_ARMED, VM_UFFD_RWP, 0, true }, /* the G1 bypass */
		{ "no08", E_ARMED, VM_UFFD_RWP, FOLL_PIN, true },
		{ "no08", E_ARMED, VM_UFFD_RWP, FOLL_HONOR_NUMA_FAULT, false },
		{ "no08", E_ARMED, VM_UFFD_RWP, FOLL_WRITE, false },
		{ "v6", E_NUMA, 0, 0, true },
		{ "v6", E_NUMA, 0, FOLL_HONOR_NUMA_FAULT, false },
		{ "v6", E_WP, VM_UFFD_WP, 0, true },
		{ "v6", E_WP, VM_UFFD_WP, FOLL_PIN, true },
		{ "v6", E_WP, VM_UFFD_WP, FOLL_WRITE, false },
		{ "v6", E_WP, VM_UFFD_WP, FOLL_WRITE | FOLL_FORCE, false },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t addr = BASE + i * PMD_SIZE, done = 99;
		struct vm_area_struct *vma = make_vma(addr, 1, RW | rows[i].extra_vm);
		struct page *page = NULL, *got[1] = { NULL };
		int refs = 0;
		long ret;

		assert_true(patch_set_level(rows[i].level));
		if (rows[i].entry != E_NONE) {
			page = map_page(vma, addr, 100 + i, true);
			refs = folio_ref_count(page_folio(page));
		} else {
			t_ptep_alloc(mm, addr);
		}
		if (rows[i].entry == E_ARMED)
			arm(addr);
		if (rows[i].entry == E_WP)
			*t_ptep_alloc(mm, addr) = pte_mkuffd(*t_ptep_alloc(mm, addr));
		if (rows[i].entry == E_NUMA)
			*t_ptep_alloc(mm, addr) = pte_modify(*t_ptep_alloc(mm, addr), PAGE_NONE);
		pte_t before = *t_ptep_alloc(mm, addr);

		unsigned flags = rows[i].flags | FOLL_NOFAULT;
		if (!(flags & FOLL_PIN))
			flags |= FOLL_GET;
		ret = __get_user_pages(mm, addr, 1, flags, got, &done);
		if (rows[i].followed) {
			if (ret || done != 1 || got[0] != page)
				fail_msg("row %u: ret %ld done %lu", i, ret, (unsigned long)done);
			assert_int_equal(folio_ref_count(page_folio(page)), refs + 1);
			assert_int_equal(page_folio(page)->pincount, !!(flags & FOLL_PIN));
		} else {
			if (ret != -EFAULT || done != 0)
				fail_msg("row %u: ret %ld done %lu", i, ret, (unsigned long)done);
			if (page)
				assert_int_equal(folio_ref_count(page_folio(page)), refs);
		}
		/* Following never rewrites the PTE (the folio takes the touch). */
		assert_int_equal(pte_val(*t_ptep_alloc(mm, addr)), pte_val(before));
		assert_int_equal(mock.calls, 0);
	}
}

static void a_readonly_pin_of_a_shared_anon_page_asks_for_an_unshare_fault(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 1, RW);
	struct page *got[1];
	uint64_t done;

	map_page(vma, BASE, 1, false);
	mock.ret = VM_FAULT_SIGBUS;
	assert_int_equal(__get_user_pages(mm, BASE, 1, FOLL_PIN, got, &done), -EFAULT);
	assert_int_equal(mock.calls, 1);
	assert_true(mock.last_flags & FAULT_FLAG_UNSHARE);
	assert_false(mock.last_flags & FAULT_FLAG_WRITE);
	/* A GET does not need the unshare. */
	assert_int_equal(__get_user_pages(mm, BASE, 1, FOLL_GET, got, &done), 0);
	assert_int_equal(mock.calls, 1);
	folio_put(page_folio(got[0]));
}

static void foll_dump_on_an_anon_hole_fails_without_faulting(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 2, RW);
	struct page *got[2];
	uint64_t done;

	map_page(vma, BASE, 1, true);
	assert_int_equal(
		__get_user_pages(mm, BASE, 2, FOLL_DUMP | FOLL_FORCE | FOLL_GET, got, &done),
		-EFAULT);
	assert_int_equal(done, 1);
	assert_int_equal(mock.calls, 0);
	folio_put(page_folio(got[0]));
}

/* ------------------------------------------------------------ faultin_page */

static void faultin_page_translates_foll_flags_to_fault_flags(void **state)
{
	static const struct {
		unsigned foll;
		unsigned fault;
	} rows[] = {
		{ 0, 0 },
		{ FOLL_WRITE, FAULT_FLAG_WRITE },
		{ FOLL_REMOTE, FAULT_FLAG_REMOTE },
		{ FOLL_UNLOCKABLE, FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE },
		{ FOLL_UNLOCKABLE | FOLL_INTERRUPTIBLE,
		  FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_INTERRUPTIBLE },
		{ FOLL_INTERRUPTIBLE, 0 }, /* opt-in only together with UNLOCKABLE */
		{ FOLL_NOWAIT, FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT },
		{ FOLL_TRIED, FAULT_FLAG_TRIED },
		{ FOLL_FORCE | FOLL_TOUCH | FOLL_GET | FOLL_HONOR_NUMA_FAULT, 0 },
		{ FOLL_WRITE | FOLL_REMOTE | FOLL_UNLOCKABLE | FOLL_TRIED,
		  FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE | FAULT_FLAG_ALLOW_RETRY |
			  FAULT_FLAG_KILLABLE | FAULT_FLAG_TRIED },
	};
	struct page *got[1];
	uint64_t done;

	make_vma(BASE, 1, RW);
	mock.ret = VM_FAULT_SIGBUS;
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		mock.calls = 0;
		assert_int_equal(__get_user_pages(mm, BASE, 1, rows[i].foll | FOLL_GET, got, &done),
				 -EFAULT);
		assert_int_equal(mock.calls, 1);
		if (mock.last_flags != rows[i].fault)
			fail_msg("row %u: fault flags %#x, want %#x", i, mock.last_flags,
				 rows[i].fault);
		assert_int_equal(mock.last_address, BASE);
	}
	/* FOLL_NOFAULT never calls the fault handler. */
	mock.calls = 0;
	assert_int_equal(__get_user_pages(mm, BASE, 1, FOLL_NOFAULT | FOLL_GET, got, &done),
			 -EFAULT);
	assert_int_equal(mock.calls, 0);
}

static void vm_fault_errors_become_errnos(void **state)
{
	static const struct {
		vm_fault_t fault;
		unsigned foll;
		long want;
	} rows[] = {
		{ VM_FAULT_OOM, 0, -ENOMEM },
		{ VM_FAULT_SIGBUS, 0, -EFAULT },
		{ VM_FAULT_SIGSEGV, 0, -EFAULT },
		{ VM_FAULT_HWPOISON, 0, -EFAULT },
		{ VM_FAULT_HWPOISON, FOLL_HWPOISON, -EHWPOISON },
	};
	struct page *got[1];
	uint64_t done;

	make_vma(BASE, 1, RW);
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		mock.ret = rows[i].fault;
		assert_int_equal(__get_user_pages(mm, BASE, 1, rows[i].foll | FOLL_GET, got, &done),
				 rows[i].want);
	}
}

static void check_vma_flags_needs_force_for_inaccessible_vmas(void **state)
{
	static const struct {
		vm_flags_t vm;
		unsigned foll;
		long want;
	} rows[] = {
		{ VM_MAYREAD | VM_MAYWRITE, 0, -EFAULT },
		{ VM_MAYREAD | VM_MAYWRITE, FOLL_FORCE, 0 },
		{ VM_MAYWRITE, FOLL_FORCE, -EFAULT },
		{ VM_READ | VM_MAYREAD, FOLL_WRITE, -EFAULT },
		{ VM_READ | VM_MAYREAD | VM_MAYWRITE, FOLL_WRITE | FOLL_FORCE, 0 },
		{ VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE | VM_SHARED,
		  FOLL_WRITE | FOLL_FORCE, -EFAULT },
		{ RW | VM_IO, 0, -EFAULT },
	};
	struct page *got[1];
	uint64_t done;

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t addr = BASE + i * PMD_SIZE;
		struct vm_area_struct *vma = make_vma(addr, 1, rows[i].vm);

		map_page(vma, addr, 1, true);
		/* NOFAULT: a FORCE write would otherwise need a COW fault. */
		long ret = __get_user_pages(mm, addr, 1, rows[i].foll | FOLL_GET | FOLL_NOFAULT,
					    got, &done);
		if (rows[i].want == 0) {
			/* Allowed: the result is up to the follow. */
			assert_true(ret == 0 || ret == -EFAULT);
			if (!ret)
				folio_put(page_folio(got[0]));
		} else {
			assert_int_equal(ret, rows[i].want);
		}
	}
	/* No VMA at all. */
	assert_int_equal(__get_user_pages(mm, BASE - PAGE_SIZE, 1, FOLL_GET, got, &done), -EFAULT);
}

/* ------------------------------------------------------------ the retry bound */

static void fault_does_nothing(struct vm_area_struct *vma, uint64_t address, unsigned flags) {}

/* The async RWP resolve: clear the bit in place, restore vm_page_prot. */
static void fault_resolves_rwp(struct vm_area_struct *vma, uint64_t address, unsigned flags)
{
	pte_t *pte = t_ptep_alloc(mm, address);

	*pte = pte_clear_uffd(pte_modify(*pte, vma->vm_page_prot));
}

static void a_fault_that_changes_nothing_is_reported_as_a_livelock(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 1, RW | VM_UFFD_RWP);
	struct page *got[1];
	uint64_t done;

	map_page(vma, BASE, 1, true);
	arm(BASE);
	mock.action = fault_does_nothing;
	assert_int_equal(__get_user_pages(mm, BASE, 1, FOLL_GET, got, &done), -ELOOP);
	assert_int_equal(done, 0);
	assert_int_equal(mock.calls, GUP_MAX_RETRIES + 1);
	assert_int_equal(t_nr_events(EV_LIVELOCK), 1);
	assert_int_equal(t_last_event(EV_LIVELOCK)->address, BASE);
	assert_int_equal(t_last_event(EV_LIVELOCK)->mm_id, mm->id);
}

/* rwp-series.md §4.6 with the fault path's "no progress on protnone in an
 * inaccessible VMA" played by the mock. */
static void force_read_after_mprotect_none_livelocks_at_v5_only(void **state)
{
	static const struct {
		const char *level;
		long ret;
		unsigned faults;
	} rows[] = {
		{ "v5", -ELOOP, GUP_MAX_RETRIES + 1 },
		{ "v6", 0, 0 },
		{ "no08", 0, 0 },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t addr = BASE + i * PMD_SIZE, done = 99;
		struct vm_area_struct *vma = make_vma(addr, 1, RW | VM_UFFD_RWP);

		assert_true(patch_set_level(rows[i].level));
		map_page(vma, addr, 0xabc, true);
		arm(addr);
		/* mprotect(PROT_NONE): the armed PTE stays protnone+uffd. */
		vma->vm_flags &= ~(VM_READ | VM_WRITE);
		vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
		pte_t armed = *t_ptep_alloc(mm, addr);

		mock.calls = 0;
		mock.action = fault_does_nothing;
		g_array_set_size(mm_events, 0);
		/* PTRACE_PEEKDATA */
		assert_int_equal(gup_caller_run(mm, 10, 0, addr, 1, 0, &done), rows[i].ret);
		assert_int_equal(mock.calls, rows[i].faults);
		assert_int_equal(t_nr_events(EV_LIVELOCK), rows[i].ret == -ELOOP);
		assert_int_equal(t_nr_events(EV_ACCESS), rows[i].ret == 0);
		if (!rows[i].ret)
			assert_int_equal(t_last_event(EV_ACCESS)->value, 0xabc);
		/* Either way the arming is untouched. */
		assert_int_equal(pte_val(*t_ptep_alloc(mm, addr)), pte_val(armed));
	}
}

static void gup_reads_an_armed_page_after_the_rwp_fault_resolves_it(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 1, RW | VM_UFFD_RWP);
	struct page *page;
	uint64_t done;
	int refs;

	page = map_page(vma, BASE, 0xcd, true);
	refs = folio_ref_count(page_folio(page));
	arm(BASE);
	mock.action = fault_resolves_rwp;
	/* vmsplice: GUP-fast bails on protnone, the slow path faults. */
	assert_int_equal(gup_caller_run(mm, 11, 0, BASE, 1, 0, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(mock.calls, 1);
	assert_false(mock.last_flags & FAULT_FLAG_WRITE);
	assert_true(mock.last_flags & FAULT_FLAG_ALLOW_RETRY);
	assert_false(pte_uffd(*t_ptep_alloc(mm, BASE)));
	assert_int_equal(t_last_event(EV_ACCESS)->value, 0xcd);
	assert_int_equal(t_last_event(EV_ACCESS)->who, ACCESS_GUP);
	assert_int_equal(t_last_event(EV_ACCESS)->foll_flags,
			 FOLL_GET | FOLL_TOUCH | FOLL_UNLOCKABLE);
	/* The reference was dropped after the access. */
	assert_int_equal(folio_ref_count(page_folio(page)), refs);
}

static void fault_sleeps(struct vm_area_struct *vma, uint64_t address, unsigned flags)
{
	current->sleeping = true;
}

static void a_gup_that_sleeps_in_a_userfault_returns_ebusy_with_the_pages_done(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 3, RW | VM_UFFD_RWP);
	struct page *p0;
	uint64_t done;

	p0 = map_page(vma, BASE, 1, true);
	map_page(vma, BASE + PAGE_SIZE, 2, true);
	map_page(vma, BASE + 2 * PAGE_SIZE, 3, true);
	arm(BASE + PAGE_SIZE);
	mock.action = fault_sleeps;
	mock.ret = VM_FAULT_RETRY;
	/* process_vm_readv is FOLL_UNLOCKABLE. */
	assert_int_equal(gup_caller_run(mm, 6, 0, BASE, 3, 0, &done), -EBUSY);
	assert_int_equal(done, 1);
	assert_int_equal(mock.calls, 1);
	assert_int_equal(t_nr_events(EV_ACCESS), 1);
	assert_int_equal(page_folio(p0)->pincount, 0);
}

static void without_allow_retry_a_sigbus_userfault_fails_the_gup(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 1, RW | VM_UFFD_RWP);
	uint64_t done;

	map_page(vma, BASE, 1, true);
	arm(BASE);
	mock.ret = VM_FAULT_SIGBUS; /* handle_userfault without ALLOW_RETRY */
	/* ptrace: get_user_pages_remote(locked=NULL), no FOLL_UNLOCKABLE. */
	/* GUP's -EFAULT is the syscall's -EIO (nothing copied). */
	assert_int_equal(gup_caller_run(mm, 10, 0, BASE, 1, 0, &done), -EIO);
	assert_false(mock.last_flags & FAULT_FLAG_ALLOW_RETRY);
	assert_true(mock.last_flags & FAULT_FLAG_REMOTE);
	/* get_dump_page writes a hole instead. */
	assert_int_equal(gup_caller_run(mm, 5, 0, BASE, 1, 0, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(t_nr_events(EV_ACCESS), 0);
}

static void get_dump_page_skips_holes_and_dumps_the_rest(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 3, RW);
	uint64_t done;

	map_page(vma, BASE, 11, true);
	map_page(vma, BASE + 2 * PAGE_SIZE, 33, true);
	assert_int_equal(gup_caller_run(mm, 5, 0, BASE, 3, 0, &done), 0);
	assert_int_equal(done, 3);
	assert_int_equal(mock.calls, 0);
	assert_int_equal(t_nr_events(EV_ACCESS), 2);
	assert_int_equal(g_array_index(mm_events, struct mm_event, 0).value, 11);
	assert_int_equal(g_array_index(mm_events, struct mm_event, 1).value, 33);
	assert_int_equal(g_array_index(mm_events, struct mm_event, 1).address,
			 BASE + 2 * PAGE_SIZE);
}

/* ------------------------------------------------------------ GUP-fast */

static void gup_fast_bails_on_protnone_and_on_readonly_writes(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 4, RW | VM_UFFD_RWP);
	struct page *got[4], *p[4];

	for (unsigned i = 0; i < 4; i++)
		p[i] = map_page(vma, BASE + i * PAGE_SIZE, i, true);
	arm(BASE + 2 * PAGE_SIZE);
	/* Stops at the armed page, at every patch level. */
	assert_true(patch_set_level("no08"));
	assert_int_equal(gup_fast(mm, BASE, 4, FOLL_GET, got), 2);
	assert_ptr_equal(got[0], p[0]);
	assert_ptr_equal(got[1], p[1]);
	assert_int_equal(folio_ref_count(page_folio(p[0])), 2);
	assert_int_equal(folio_ref_count(page_folio(p[2])), 1);
	assert_true(page_folio(p[0])->flags & FOLIO_referenced);
	folio_put(page_folio(got[0]));
	folio_put(page_folio(got[1]));
	assert_int_equal(gup_fast(mm, BASE + 2 * PAGE_SIZE, 2, FOLL_GET, got), 0);
	/* A R/O (COW) PTE makes a write fall back; a pin pins. */
	assert_int_equal(gup_fast(mm, BASE, 1, FOLL_GET | FOLL_WRITE, got), 0);
	assert_int_equal(gup_fast(mm, BASE + 3 * PAGE_SIZE, 1, FOLL_PIN, got), 1);
	assert_int_equal(page_folio(p[3])->pincount, 1);
	assert_int_equal(folio_ref_count(page_folio(p[3])), 2);
	/* No table at all. */
	assert_int_equal(gup_fast(mm, BASE + PMD_SIZE, 1, FOLL_GET, got), 0);
	assert_int_equal(mock.calls, 0);
}

static void gup_fast_bails_on_a_numa_hint_even_without_honor(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 1, RW);
	struct page *got[1];
	uint64_t done;

	map_page(vma, BASE, 9, true);
	*t_ptep_alloc(mm, BASE) = pte_modify(*t_ptep_alloc(mm, BASE), PAGE_NONE);
	assert_int_equal(gup_fast(mm, BASE, 1, FOLL_GET, got), 0);
	/* ... while the slow path follows it without a fault. */
	assert_int_equal(gup_caller_run(mm, 11, 0, BASE, 1, 0, &done), 0);
	assert_int_equal(mock.calls, 0);
	assert_int_equal(t_last_event(EV_ACCESS)->value, 9);
}

/* ------------------------------------------------------------ faultin_page_range */

static void madv_populate_reports_vma_errors_its_own_way(void **state)
{
	struct vm_area_struct *vma = make_vma(BASE, 2, RW);
	uint64_t done;

	map_page(vma, BASE, 1, true);
	map_page(vma, BASE + PAGE_SIZE, 2, true);
	assert_int_equal(faultin_page_range(mm, BASE, BASE + 2 * PAGE_SIZE, false, &done), 0);
	assert_int_equal(done, 2);
	assert_int_equal(mock.calls, 0);
	/* A hole in the address space is -ENOMEM, a bad VMA -EINVAL. */
	assert_int_equal(faultin_page_range(mm, BASE, BASE + 3 * PAGE_SIZE, false, &done), -ENOMEM);
	assert_int_equal(done, 2);
	vma->vm_flags &= ~VM_WRITE;
	assert_int_equal(faultin_page_range(mm, BASE, BASE + PAGE_SIZE, true, &done), -EINVAL);
	/* POPULATE_WRITE of a R/O COW PTE takes a write fault. */
	vma->vm_flags |= VM_WRITE;
	mock.ret = VM_FAULT_SIGBUS;
	assert_int_equal(faultin_page_range(mm, BASE, BASE + PAGE_SIZE, true, &done), -EFAULT);
	assert_int_equal(mock.last_flags,
			 FAULT_FLAG_WRITE | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(each_preset_has_exactly_the_kernels_flags),
		T(only_kvm_honors_numa_hinting_faults),
		T(extra_caller_flags_go_through_is_valid_gup_args),
		T(gup_can_follow_protnone_truth_table),
		T(follow_page_pte_on_none_armed_accessible_and_wp_entries),
		T(a_readonly_pin_of_a_shared_anon_page_asks_for_an_unshare_fault),
		T(foll_dump_on_an_anon_hole_fails_without_faulting),
		T(faultin_page_translates_foll_flags_to_fault_flags),
		T(vm_fault_errors_become_errnos),
		T(check_vma_flags_needs_force_for_inaccessible_vmas),
		T(a_fault_that_changes_nothing_is_reported_as_a_livelock),
		T(force_read_after_mprotect_none_livelocks_at_v5_only),
		T(gup_reads_an_armed_page_after_the_rwp_fault_resolves_it),
		T(a_gup_that_sleeps_in_a_userfault_returns_ebusy_with_the_pages_done),
		T(without_allow_retry_a_sigbus_userfault_fails_the_gup),
		T(get_dump_page_skips_holes_and_dumps_the_rest),
		T(gup_fast_bails_on_protnone_and_on_readonly_writes),
		T(gup_fast_bails_on_a_numa_hint_even_without_honor),
		T(madv_populate_reports_vma_errors_its_own_way),
#undef T
	};

	return cmocka_run_group_tests_name("gup", tests, NULL, NULL);
}
