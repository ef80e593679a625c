/* tests/unit/test_fault_file.c - shmem faults (do_read_fault with and
 * without fault-around, do_cow_fault, do_shared_fault, finish_fault and
 * do_set_pmd), MISSING/MINOR delivery, shmem_get_folio()'s PMD-order
 * allocation rules, hole punch, writeout, zap_page_range_single() and
 * unmap_mapping_pages() (kernel-paths.md §4.2, §6.5; rwp-series.md §2.5).
 */
#include <inttypes.h>

#include "mmsim_test.h"
#include "trace/trace.h"

#define FILE_PAGES 2048

/* t_proc with a FILE_PAGES shmem file, huge or not. */
static int setup_huge(void **state, bool huge)
{
	t_proc_setup(state);
	t_proc.file = shmem_file_alloc("memfd", FILE_PAGES, huge);
	return 0;
}

static int setup(void **state) { return setup_huge(state, false); }

static void restart(void **state, bool huge)
{
	t_proc_teardown(state);
	setup_huge(state, huge);
}

/* Put a page with content value in the page cache at index, as a write
 * through another mapping would. */
static struct folio *cache_page(uint64_t index, uint64_t value)
{
	struct folio *folio = NULL;
	vm_fault_t ft = 0;
	assert_int_equal(shmem_get_folio(t_proc.file, index, SGP_CACHE, &folio, NULL, &ft), 0);
	assert_non_null(folio);
	folio_page(folio, index - folio->index)->content = value;
	return folio;
}

/* A read fault: do_read_fault() returns VM_FAULT_NOPAGE when fault-around
 * mapped the faulting page itself (6.18 calls ->map_pages() first), 0 when
 * ->fault() and finish_fault() did; both are success. */
static vm_fault_t read_fault(struct vm_area_struct *vma, uint64_t addr)
{
	return handle_mm_fault(vma, addr, t_user_fault(false)) & ~VM_FAULT_NOPAGE;
}

static bool mapped(uint64_t addr)
{
	pte_t *p = pte_lookup(t_proc.mm->pgd, addr);
	return p && pte_present(*p);
}

/* do_read_fault maps the cached page from vm_page_prot, young, with one
 * reference and one PTE mapping per mapping; the page cache keeps its own. */
static void shared_read_fault_maps_the_cached_page_from_vm_page_prot(void **state)
{
	struct folio *folio = cache_page(3, 0x33);
	uint64_t base =
		t_map_shmem(t_proc.mm, t_proc.file, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);

	assert_int_equal(folio_ref_count(folio), 1);
	assert_int_equal(read_fault(vma, base + 3 * PAGE_SIZE), 0);
	pte_t pte = t_pte(t_proc.mm, base + 3 * PAGE_SIZE);
	assert_int_equal(pte_val(pte),
			 pte_val(pte_mkyoung(pfn_pte(folio_pfn(folio), vma->vm_page_prot))));
	assert_int_equal(folio_ref_count(folio), 2);
	assert_int_equal(folio_page(folio, 0)->mapcount, 1);
	assert_false(folio_test_anon(folio));
}

/* Fault-around (should_fault_around / uffd_disable_fault_around, 05/15):
 * maps the other cached pages of the 16-page window, never past it, and
 * never in a WP, MINOR or RWP VMA. */
static void fault_around_maps_cached_neighbours_except_in_wp_minor_and_rwp_vmas(void **state)
{
	static const struct {
		const char *name;
		vm_flags_t mode;
		uint64_t features;
		bool around;
	} rows[] = {
		{ "plain", 0, 0, true },
		{ "missing", VM_UFFD_MISSING, UFFD_FEATURE_MISSING_SHMEM, true },
		{ "wp", VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP, false },
		{ "minor", VM_UFFD_MINOR, UFFD_FEATURE_MINOR_SHMEM, false },
		{ "rwp", VM_UFFD_RWP, UFFD_FEATURE_RWP, false },
		{ "rwp|missing", VM_UFFD_RWP | VM_UFFD_MISSING, UFFD_FEATURE_RWP, false },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		restart(state, false);
		/* MINOR would trap on a cached faulting page: leave it uncached. */
		bool minor = rows[i].mode & VM_UFFD_MINOR;
		for (uint64_t idx = 0; idx < 32; idx++)
			if (idx != 5 || !minor)
				cache_page(idx, 0x100 + idx);
		uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, 64 * PAGE_SIZE, PROT_READ, true,
					    PMD_SIZE);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
		if (rows[i].mode)
			t_register_ctx(vma, rows[i].mode, rows[i].features);
		if (minor)
			assert_int_equal(
				user_access(t_proc.mm, base + 5 * PAGE_SIZE, false, 0, NULL),
				RESULT_OK);
		else
			assert_int_equal(read_fault(vma, base + 5 * PAGE_SIZE), 0);
		assert_true(mapped(base + 5 * PAGE_SIZE));
		unsigned n = 0;
		for (uint64_t idx = 0; idx < 32; idx++)
			n += idx != 5 && mapped(base + idx * PAGE_SIZE);
		if (n != (rows[i].around ? 15u : 0u))
			fail_msg("row %s: %u neighbours mapped", rows[i].name, n);
		for (uint64_t idx = 16; idx < 32; idx++)
			assert_false(mapped(base + idx * PAGE_SIZE));
		if (t_proc.ctx)
			assert_int_equal(t_proc.ctx->msgs->len, 0);
	}
}

/* set_pte_range(): prefaulted PTEs are old only where the arch asks for it
 * (arch_wants_old_prefaulted_pte(), arm64); on x86 they are young. */
static void fault_around_maps_neighbours_young_on_x86(void **state)
{
	for (uint64_t idx = 0; idx < 16; idx++)
		cache_page(idx, 0x100 + idx);
	uint64_t base =
		t_map_shmem(t_proc.mm, t_proc.file, 16 * PAGE_SIZE, PROT_READ, true, PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
	assert_int_equal(read_fault(vma, base), 0);
	pte_t pte = t_pte(t_proc.mm, base + 7 * PAGE_SIZE);
	struct folio *folio = filemap_get_folio(t_proc.file, 7);
	assert_int_equal(pte_val(pte), pte_val(pfn_pte(folio_pfn(folio), vma->vm_page_prot)));
	assert_true(pte_young(pte));
}

/* do_cow_fault: a private write copies the cache page into a new exclusive
 * anon page; the page cache keeps the original data. */
static void private_write_fault_copies_the_cache_page_into_an_anon_page(void **state)
{
	struct folio *cached = cache_page(2, 0x42);
	uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
				    false, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);

	assert_int_equal(handle_mm_fault(vma, base + 2 * PAGE_SIZE, t_user_fault(true)), 0);
	pte_t pte = t_pte(t_proc.mm, base + 2 * PAGE_SIZE);
	struct page *page = pfn_to_page(pte_pfn(pte));
	struct folio *anon = page_folio(page);
	assert_ptr_not_equal(anon, cached);
	assert_true(folio_test_anon(anon));
	assert_true(PageAnonExclusive(page));
	assert_int_equal(page->content, 0x42);
	assert_int_equal(pte_val(pte), pte_val(pte_mkwrite(pte_mkdirty(pte_mkyoung(
					       pfn_pte(folio_pfn(anon), vma->vm_page_prot))))));
	assert_int_equal(folio_ref_count(anon), 1);
	assert_int_equal(folio_ref_count(cached), 1);
	assert_int_equal(folio_page(cached, 0)->mapcount, 0);

	assert_int_equal(user_access(t_proc.mm, base + 2 * PAGE_SIZE, true, 0x99, NULL), RESULT_OK);
	assert_int_equal(page->content, 0x99);
	assert_int_equal(folio_page(cached, 0)->content, 0x42);
}

/* do_shared_fault: the cache page itself, dirty and writable. */
static void shared_write_fault_dirties_and_maps_the_cache_page_writable(void **state)
{
	uint64_t base =
		t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);

	assert_int_equal(user_access(t_proc.mm, base + PAGE_SIZE, true, 0x55, NULL), RESULT_OK);
	struct folio *folio = filemap_get_folio(t_proc.file, 1);
	assert_non_null(folio);
	assert_true(folio_test_dirty(folio));
	assert_int_equal(folio_page(folio, 0)->content, 0x55);
	pte_t pte = t_pte(t_proc.mm, base + PAGE_SIZE);
	assert_int_equal(pte_pfn(pte), folio_pfn(folio));
	assert_true(pte_write(pte) && pte_dirty(pte) && pte_young(pte));
	assert_int_equal(pte_val(pte) & ~(_PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_ACCESSED),
			 pte_val(pfn_pte(folio_pfn(folio), vma->vm_page_prot)) & ~_PAGE_ACCESSED);
	/* A private mapping of the same file sees the write. */
	uint64_t priv = t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE, PROT_READ, false, 0);
	uint64_t v = 0;
	assert_int_equal(user_access(t_proc.mm, priv + PAGE_SIZE, false, 0, &v), RESULT_OK);
	assert_int_equal(v, 0x55);
}

/* shmem_get_folio MISSING / MINOR and RWP's lack of a marker: a cached,
 * unmapped page in an RWP-only VMA maps without any userfault. */
static void missing_minor_and_rwp_faults_on_unmapped_shmem_pages(void **state)
{
	static const struct {
		const char *name;
		vm_flags_t mode;
		bool cached;
		vm_fault_t ret;
		uint64_t msg; /* UINT64_MAX: none */
	} rows[] = {
		{ "missing, uncached", VM_UFFD_MISSING, false, VM_FAULT_RETRY, 0 },
		/* fault-around maps the cached page: VM_FAULT_NOPAGE (do_read_fault()) */
		{ "missing, cached", VM_UFFD_MISSING, true, VM_FAULT_NOPAGE, UINT64_MAX },
		{ "minor, cached", VM_UFFD_MINOR, true, VM_FAULT_RETRY, UFFD_PAGEFAULT_FLAG_MINOR },
		{ "minor, uncached", VM_UFFD_MINOR, false, 0, UINT64_MAX },
		{ "rwp, cached", VM_UFFD_RWP, true, 0, UINT64_MAX },
		{ "rwp, uncached", VM_UFFD_RWP, false, 0, UINT64_MAX },
		{ "rwp|minor, cached", VM_UFFD_RWP | VM_UFFD_MINOR, true, VM_FAULT_RETRY,
		  UFFD_PAGEFAULT_FLAG_MINOR },
		{ "rwp|missing, uncached", VM_UFFD_RWP | VM_UFFD_MISSING, false, VM_FAULT_RETRY,
		  0 },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		restart(state, false);
		if (rows[i].cached)
			cache_page(1, 0x77);
		uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE,
					    PROT_READ | PROT_WRITE, true, 0);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
		t_register_ctx(vma, rows[i].mode,
			       UFFD_FEATURE_RWP | UFFD_FEATURE_MINOR_SHMEM |
				       UFFD_FEATURE_MISSING_SHMEM);
		vm_fault_t ret = handle_mm_fault(vma, base + PAGE_SIZE, t_user_fault(false));
		if (ret != rows[i].ret)
			fail_msg("row %s: ret 0x%x", rows[i].name, ret);
		struct uffd_msg msg;
		if (rows[i].msg == UINT64_MAX) {
			assert_int_equal(t_proc.ctx->msgs->len, 0);
			assert_true(mapped(base + PAGE_SIZE));
			assert_false(pte_uffd(t_pte(t_proc.mm, base + PAGE_SIZE)));
		} else {
			assert_true(uffd_msg_pop(t_proc.ctx, &msg));
			if (msg.flags != rows[i].msg)
				fail_msg("row %s: flags 0x%" PRIx64, rows[i].name, msg.flags);
			assert_int_equal(msg.address, base + PAGE_SIZE);
			assert_true(t_proc.task.sleeping);
			assert_false(mapped(base + PAGE_SIZE));
			/* MISSING allocates nothing. */
			assert_int_equal(filemap_get_folio(t_proc.file, 1) != NULL, rows[i].cached);
		}
	}
}

/* shmem_get_folio(): which faults get a PMD-order folio. */
static void shmem_allocates_pmd_folios_only_for_empty_aligned_allowed_blocks(void **state)
{
	static const struct {
		const char *name;
		bool huge;
		int thp;	    /* thp_settings.enabled */
		vm_flags_t extra;   /* added to the VMA */
		uint64_t vma_pgoff; /* file offset of the mapping, pages */
		bool prefill;	    /* another page of the block already cached */
		unsigned order;
	} rows[] = {
		{ "huge=1", true, 1, 0, 0, false, HPAGE_PMD_ORDER },
		{ "huge=0", false, 1, 0, 0, false, 0 },
		{ "huge=0, MADV_HUGEPAGE", false, 1, VM_HUGEPAGE, 0, false, HPAGE_PMD_ORDER },
		{ "huge=1, MADV_NOHUGEPAGE", true, 1, VM_NOHUGEPAGE, 0, false, 0 },
		{ "huge=1, block partly cached", true, 1, 0, 0, true, 0 },
		{ "huge=1, mapping misaligned", true, 1, 0, 1, false, 0 },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		restart(state, rows[i].huge);
		thp_settings.enabled = rows[i].thp;
		if (rows[i].prefill) {
			/* An order-0 page of the block, as a non-huge write made it. */
			struct folio *small = folio_alloc(0);
			shmem_add_to_page_cache(t_proc.file, small, HPAGE_PMD_NR + 7);
			folio_put(small);
		}
		int64_t base = sys_mmap(t_proc.mm, 0, 2 * PMD_SIZE, PROT_READ | PROT_WRITE,
					MAP_SHARED, t_proc.file, rows[i].vma_pgoff, PMD_SIZE);
		assert_true(base > 0);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, (uint64_t)base);
		vma->vm_flags |= rows[i].extra;
		/* Fault the page at file index 512 + 3. */
		uint64_t addr = vma_address(vma, HPAGE_PMD_NR + 3);
		assert_int_equal(handle_mm_fault(vma, addr, t_user_fault(true)), 0);
		struct folio *folio = filemap_get_folio(t_proc.file, HPAGE_PMD_NR + 3);
		assert_non_null(folio);
		if (folio_order(folio) != rows[i].order)
			fail_msg("row %s: order %u", rows[i].name, folio_order(folio));
		assert_ptr_equal(mmu_translate(t_proc.mm, addr, false),
				 folio_page(folio, HPAGE_PMD_NR + 3 - folio->index));
		assert_int_equal(pmd_trans_huge(t_pmd(t_proc.mm, addr)), rows[i].order != 0);
	}
}

/* finish_fault -> do_set_pmd: a PMD-order cache folio maps with one PMD
 * from vm_page_prot, without the uffd bit, also in an RWP VMA (the
 * "file-THP limitation", rwp-series.md §2.4). */
static void pmd_order_cache_folio_maps_with_one_plain_pmd_even_in_an_rwp_vma(void **state)
{
	for (int rwp = 0; rwp < 2; rwp++) {
		restart(state, true);
		uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, PMD_SIZE,
					    PROT_READ | PROT_WRITE, true, PMD_SIZE);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
		if (rwp)
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
		assert_int_equal(handle_mm_fault(vma, base + 9 * PAGE_SIZE, t_user_fault(false)),
				 0);
		struct folio *folio = filemap_get_folio(t_proc.file, 9);
		assert_int_equal(folio_order(folio), HPAGE_PMD_ORDER);
		pmd_t pmd = t_pmd(t_proc.mm, base);
		assert_int_equal(pmd_val(pmd), pmd_val(pmd_mkyoung(pmd_mkhuge(pfn_pmd(
						       folio_pfn(folio), vma->vm_page_prot)))));
		assert_false(pmd_uffd(pmd));
		assert_int_equal(folio->entire_mapcount, 1);
		assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR + 1);
		assert_non_null(mmu_translate(t_proc.mm, base + 100 * PAGE_SIZE, true));
	}
}

/* A cache folio that cannot be PMD-mapped here (the VMA covers 16 pages of
 * the block) is mapped by PTEs: finish_fault's fallback, and fault-around
 * maps the rest of the 16-page window from the same folio. */
static void pmd_folio_in_a_vma_too_small_for_a_pmd_is_mapped_by_a_pte(void **state)
{
	restart(state, true);
	cache_page(0, 0); /* allocates the whole 2 MiB folio (no VMA to object) */
	struct folio *folio = filemap_get_folio(t_proc.file, 0);
	assert_int_equal(folio_order(folio), HPAGE_PMD_ORDER);
	uint64_t base =
		t_map_shmem(t_proc.mm, t_proc.file, 16 * PAGE_SIZE, PROT_READ, true, PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
	assert_int_equal(read_fault(vma, base + 4 * PAGE_SIZE), 0);
	assert_true(pmd_is_table(t_pmd(t_proc.mm, base)));
	assert_int_equal(pte_pfn(t_pte(t_proc.mm, base + 4 * PAGE_SIZE)), folio_pfn(folio) + 4);
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(pte_pfn(t_pte(t_proc.mm, base + i * PAGE_SIZE)),
				 folio_pfn(folio) + i);
		assert_int_equal(folio_page(folio, i)->mapcount, 1);
	}
	assert_int_equal(folio_page(folio, 16)->mapcount, 0);
	assert_int_equal(folio_ref_count(folio), HPAGE_PMD_NR + 16);
}

enum zpre {
	Z_ANON_ARMED,
	Z_ANON_SWAP_UFFD,
	Z_ANON_WP_MARKER,
	Z_FILE_WP_PTE,
	Z_FILE_WP_MARKER,
	Z_GUARD,
	Z_POISON,
	Z_FILE_ARMED
};

/* zap_pte_range (kernel-paths.md §6.5): which entries survive a zap with
 * and without ZAP_FLAG_DROP_MARKER. RWP leaves no marker anywhere. */
static void zap_drops_or_keeps_each_entry_kind_as_zap_details_say(void **state)
{
	static const struct {
		const char *name;
		enum zpre pre;
		bool drop;
		bool marker_after; /* a uffd-wp / guard marker remains */
	} rows[] = {
		{ "anon armed", Z_ANON_ARMED, false, false },
		{ "anon swap+uffd", Z_ANON_SWAP_UFFD, false, false },
		{ "anon wp marker", Z_ANON_WP_MARKER, false, false },
		{ "file wp pte", Z_FILE_WP_PTE, false, true },
		{ "file wp pte, drop", Z_FILE_WP_PTE, true, false },
		{ "file wp marker", Z_FILE_WP_MARKER, false, true },
		{ "file wp marker, drop", Z_FILE_WP_MARKER, true, false },
		{ "guard", Z_GUARD, false, true },
		{ "guard, drop", Z_GUARD, true, false },
		{ "poison", Z_POISON, false, false },
		{ "file armed", Z_FILE_ARMED, false, false },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		restart(state, false);
		bool file = rows[i].pre >= Z_FILE_WP_PTE;
		uint64_t base =
			file ? t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE,
					   PROT_READ | PROT_WRITE, true, 0)
			     : t_map_anon(t_proc.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
		t_write_pages(t_proc.mm, base, 2, 0x10 + i);
		pte_t *ptep = t_ptep(t_proc.mm, base + PAGE_SIZE);
		struct folio *folio = vm_normal_folio(vma, base + PAGE_SIZE, *ptep);
		int refs = folio_ref_count(folio);
		uint64_t slot = 0;
		switch (rows[i].pre) {
		case Z_ANON_ARMED:
		case Z_FILE_ARMED:
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
			*ptep = pte_mkuffd(pte_modify(*ptep, PAGE_NONE));
			break;
		case Z_ANON_SWAP_UFFD:
			t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP);
			folio_remove_rmap_ptes(folio, folio_page(folio, 0), 1, vma);
			folio_put(folio);
			folio = NULL;
			slot = swap_alloc_slot();
			*ptep = pte_swp_mkuffd(swp_entry_to_pte(swp_entry(0, slot)));
			t_proc.mm->nr_swapents++;
			break;
		case Z_ANON_WP_MARKER:
		case Z_FILE_WP_MARKER:
		case Z_GUARD:
		case Z_POISON:
			if (rows[i].pre != Z_GUARD && rows[i].pre != Z_POISON)
				t_register_ctx(vma, VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
			folio_remove_rmap_ptes(folio, folio_page(folio, 0), 1, vma);
			folio_put(folio);
			folio = NULL;
			*ptep = make_pte_marker(rows[i].pre == Z_GUARD	  ? PTE_MARKER_GUARD
						: rows[i].pre == Z_POISON ? PTE_MARKER_POISONED
									  : PTE_MARKER_UFFD_WP);
			break;
		case Z_FILE_WP_PTE:
			t_register_ctx(vma, VM_UFFD_WP, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
			*ptep = pte_mkuffd(*ptep);
			break;
		}
		pte_t before = *ptep;
		zap_page_range_single(vma, base + PAGE_SIZE, base + 2 * PAGE_SIZE, rows[i].drop);
		pte_t after = *ptep;
		if (rows[i].marker_after) {
			if (!is_pte_marker(after))
				fail_msg("row %s: 0x%" PRIx64 " is not a marker", rows[i].name,
					 pte_val(after));
			pte_marker want =
				rows[i].pre == Z_GUARD ? PTE_MARKER_GUARD : PTE_MARKER_UFFD_WP;
			assert_int_equal(pte_marker_get(pte_to_swp_entry(after)), want);
		} else if (!pte_none(after)) {
			fail_msg("row %s: 0x%" PRIx64 " left (was 0x%" PRIx64 ")", rows[i].name,
				 pte_val(after), pte_val(before));
		}
		if (folio)
			assert_int_equal(folio_ref_count(folio), refs - 1); /* anon: freed */
		if (slot)
			assert_int_equal(swap_info.slots[slot].count, 0);
		assert_int_equal(t_proc.mm->nr_swapents, 0);
		/* Page 0 is outside the range. */
		assert_true(mapped(base));
	}
}

/* unmap_mapping_pages(even_cows=false), as hole punch uses it: file pages
 * and PMDs go, private CoW copies stay; even_cows=true zaps them too. */
static void unmap_mapping_pages_keeps_private_cow_pages_unless_even_cows(void **state)
{
	for (int even = 0; even < 2; even++) {
		restart(state, false);
		cache_page(0, 0xa0);
		cache_page(1, 0xa1);
		uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, 2 * PAGE_SIZE,
					    PROT_READ | PROT_WRITE, false, 0);
		uint64_t v;
		assert_int_equal(user_access(t_proc.mm, base, false, 0, &v), RESULT_OK);
		assert_int_equal(v, 0xa0);
		assert_int_equal(user_access(t_proc.mm, base + PAGE_SIZE, true, 0xc1, NULL),
				 RESULT_OK);
		unmap_mapping_pages(t_proc.file, 0, 2, even);
		assert_false(mapped(base));
		assert_int_equal(mapped(base + PAGE_SIZE), !even);
		if (!even)
			assert_int_equal(
				pfn_to_page(pte_pfn(t_pte(t_proc.mm, base + PAGE_SIZE)))->content,
				0xc1);
	}
}

/* Hole punch drops mappings and cache pages; an armed RWP PTE leaves
 * nothing behind (no persistent marker), a uffd-wp PTE leaves a marker. */
static void punch_hole_leaves_none_for_rwp_and_a_marker_for_wp(void **state)
{
	static const struct {
		const char *name;
		vm_flags_t mode;
		bool marker;
	} rows[] = {
		{ "plain", 0, false },
		{ "rwp armed", VM_UFFD_RWP, false },
		{ "wp protected", VM_UFFD_WP, true },
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		restart(state, false);
		uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, 4 * PAGE_SIZE,
					    PROT_READ | PROT_WRITE, true, 0);
		struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
		t_write_pages(t_proc.mm, base, 4, 0xee);
		struct folio *folio = filemap_get_folio(t_proc.file, 2);
		uint64_t pfn = folio_pfn(folio);
		if (rows[i].mode) {
			t_register_ctx(vma, rows[i].mode, UFFD_FEATURE_RWP);
			pte_t *p = t_ptep(t_proc.mm, base + 2 * PAGE_SIZE);
			*p = rows[i].mode == VM_UFFD_RWP ? pte_mkuffd(pte_modify(*p, PAGE_NONE))
							 : pte_mkuffd(*p);
		}
		assert_int_equal(shmem_fallocate_punch(t_proc.file, 2, 1), 0);
		pte_t after = t_pte(t_proc.mm, base + 2 * PAGE_SIZE);
		if (rows[i].marker)
			assert_true(pte_marker_uffd_wp(after));
		else
			assert_true(pte_none(after));
		assert_null(filemap_get_folio(t_proc.file, 2));
		assert_int_equal(mem_map.folios[pfn].refcount, 0);
		/* Neighbours are untouched; the next access refaults a zero page. */
		assert_true(mapped(base + PAGE_SIZE) && mapped(base + 3 * PAGE_SIZE));
		if (!rows[i].marker) {
			uint64_t v = 1;
			assert_int_equal(user_access(t_proc.mm, base + 2 * PAGE_SIZE, false, 0, &v),
					 RESULT_OK);
			assert_int_equal(v, 0);
			assert_false(pte_uffd(t_pte(t_proc.mm, base + 2 * PAGE_SIZE)));
		}
	}
}

/* Punching one page of a PMD-mapped folio zaps the PMD (a file PMD split
 * leaves no PTEs), splits the folio and keeps the other 511 cached. The
 * split is non-uniform (6.18 truncate_inode_partial_folio() ->
 * try_folio_split_to_order(), checked on the host: a fault then maps a whole
 * piece): at page 5, then at 6 (the end of the hole), so the pieces are
 * [0-3] [4] [6] [7] [8-15] [16-31] ... [256-511]. */
static void punching_one_page_of_a_pmd_mapped_folio_zaps_the_pmd_and_splits(void **state)
{
	restart(state, true);
	uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, PMD_SIZE, PROT_READ | PROT_WRITE, true,
				    PMD_SIZE);
	t_write_pages(t_proc.mm, base, 1, 0xf0);
	struct folio *folio = filemap_get_folio(t_proc.file, 0);
	assert_int_equal(folio_order(folio), HPAGE_PMD_ORDER);
	uint64_t pfn = folio_pfn(folio);
	assert_true(pmd_trans_huge(t_pmd(t_proc.mm, base)));

	assert_int_equal(shmem_fallocate_punch(t_proc.file, 5, 1), 0);
	pmd_t pmd = t_pmd(t_proc.mm, base);
	assert_false(pmd_trans_huge(pmd));
	if (pmd_is_table(pmd))
		for (unsigned i = 0; i < HPAGE_PMD_NR; i++)
			assert_true(pte_none(t_pte(t_proc.mm, base + i * PAGE_SIZE)));
	assert_null(filemap_get_folio(t_proc.file, 5));
	for (uint64_t idx = 0; idx < HPAGE_PMD_NR; idx++) {
		if (idx == 5)
			continue;
		struct folio *f = filemap_get_folio(t_proc.file, idx);
		unsigned order = idx < 4 ? 2 : idx < 8 ? 0 : (unsigned)g_bit_nth_msf(idx, -1);
		assert_non_null(f);
		assert_int_equal(folio_order(f), order);
		assert_int_equal(folio_pfn(f), pfn + f->index);
		assert_int_equal(f->index, idx & ~((1ULL << order) - 1));
		assert_int_equal(folio_ref_count(f), 1 << order);
	}
	assert_int_equal(filemap_get_folio(t_proc.file, 0)
				 ? folio_page(filemap_get_folio(t_proc.file, 0), 0)->content
				 : 0,
			 0xf0);
	assert_int_equal(t_proc.mm->rss_shmem, 0);
}

/* shmem_writeout: only an unmapped folio goes to swap; a fault reads it back
 * as a plain mapping (the RWP arming of the old PTE is gone for good). */
static void writeout_needs_an_unmapped_folio_and_swapin_restores_the_data(void **state)
{
	uint64_t base =
		t_map_shmem(t_proc.mm, t_proc.file, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);
	t_register_ctx(vma, VM_UFFD_RWP, UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC);
	t_write_pages(t_proc.mm, base, 1, 0xd00d);
	pte_t *ptep = t_ptep(t_proc.mm, base);
	*ptep = pte_mkuffd(pte_modify(*ptep, PAGE_NONE));
	struct folio *folio = filemap_get_folio(t_proc.file, 0);

	assert_false(shmem_writeout(folio));
	assert_int_equal(t_proc.file->i_pages[0], xa_mk_pfn(folio_pfn(folio)));

	zap_page_range_single(vma, base, base + PAGE_SIZE, false);
	assert_true(shmem_writeout(folio));
	uint64_t e = t_proc.file->i_pages[0];
	assert_true(xa_is_value(e));
	assert_int_equal(swap_info.slots[e >> 1].content, 0xd00d);
	assert_null(filemap_get_folio(t_proc.file, 0));

	g_array_set_size(mm_events, 0);
	uint64_t v = 0;
	assert_int_equal(user_access(t_proc.mm, base, false, 0, &v), RESULT_OK);
	assert_int_equal(v, 0xd00d);
	pte_t pte = t_pte(t_proc.mm, base);
	assert_false(pte_uffd(pte));
	assert_false(pte_protnone(pte));
	for (guint i = 0; i < mm_events->len; i++)
		assert_int_not_equal(g_array_index(mm_events, struct mm_event, i).kind,
				     EV_RWP_FAULT);
	assert_int_equal(swap_info.slots[e >> 1].count, 0);
	assert_false(xa_is_value(t_proc.file->i_pages[0]));
}

/* A folio held locked (only ever by a path suspended in a race window, such
 * as collapse_file() during retract_page_tables()): fault-around skips it as
 * next_uptodate_folio()'s trylock does, and a fault on it reports that it
 * would sleep on the lock, which the engine turns into bad input. */
static void locked_cache_folio_is_skipped_by_fault_around_and_a_fault_on_it_would_wait(void **state)
{
	for (uint64_t idx = 0; idx < 16; idx++)
		cache_page(idx, 0x200 + idx);
	struct folio *locked = cache_page(7, 0x207);
	uint64_t base = t_map_shmem(t_proc.mm, t_proc.file, 16 * PAGE_SIZE, PROT_READ, true, 0);
	struct vm_area_struct *vma = vma_lookup(t_proc.mm, base);

	folio_set_flag(locked, FOLIO_locked);
	assert_int_equal(read_fault(vma, base + 2 * PAGE_SIZE), 0);
	assert_null(race_wait_lock);
	assert_true(mapped(base + 6 * PAGE_SIZE));
	assert_false(mapped(base + 7 * PAGE_SIZE));
	assert_true(mapped(base + 8 * PAGE_SIZE));

	assert_int_equal(handle_mm_fault(vma, base + 7 * PAGE_SIZE, t_user_fault(false)), 0);
	assert_string_equal(race_wait_lock, "folio lock");
	race_wait_lock = NULL;
	folio_clear_flag(locked, FOLIO_locked);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, t_proc_teardown)
	const struct CMUnitTest tests[] = {
		T(shared_read_fault_maps_the_cached_page_from_vm_page_prot),
		T(fault_around_maps_cached_neighbours_except_in_wp_minor_and_rwp_vmas),
		T(fault_around_maps_neighbours_young_on_x86),
		T(private_write_fault_copies_the_cache_page_into_an_anon_page),
		T(shared_write_fault_dirties_and_maps_the_cache_page_writable),
		T(missing_minor_and_rwp_faults_on_unmapped_shmem_pages),
		T(shmem_allocates_pmd_folios_only_for_empty_aligned_allowed_blocks),
		T(pmd_order_cache_folio_maps_with_one_plain_pmd_even_in_an_rwp_vma),
		T(pmd_folio_in_a_vma_too_small_for_a_pmd_is_mapped_by_a_pte),
		T(zap_drops_or_keeps_each_entry_kind_as_zap_details_say),
		T(unmap_mapping_pages_keeps_private_cow_pages_unless_even_cows),
		T(punch_hole_leaves_none_for_rwp_and_a_marker_for_wp),
		T(punching_one_page_of_a_pmd_mapped_folio_zaps_the_pmd_and_splits),
		T(writeout_needs_an_unmapped_folio_and_swapin_restores_the_data),
		T(locked_cache_folio_is_skipped_by_fault_around_and_a_fault_on_it_would_wait),
	};
	return cmocka_run_group_tests_name("fault file", tests, NULL, NULL);
}
