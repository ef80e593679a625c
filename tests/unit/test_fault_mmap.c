/* tests/unit/test_fault_mmap.c - mmap/munmap (sim/mm/mmap.c): argument
 * checks, the VMA a mapping gets, VMA splits (splitting a THP at the
 * boundary), unmap_region dropping pages and markers, free_pgtables and
 * exit_mmap.
 */
#include "mmsim_test.h"

struct fx {
	struct mm_struct *mm;
	struct address_space *file;
};

static struct fx fx;

static int setup(void **state)
{
	mmsim_setup(state);
	fx.mm = mm_alloc("mmap");
	fx.file = shmem_file_alloc("f", 16, false);
	return 0;
}

static int teardown(void **state)
{
	mm_discard(fx.mm);
	shmem_file_discard(fx.file);
	return mmsim_teardown(state);
}

static void mmap_rejects_bad_arguments_with_the_kernel_errno(void **state)
{
	static const struct {
		const char *name;
		uint64_t addr, len;
		unsigned prot, flags;
		bool file;
		uint64_t pgoff, align;
		int64_t ret;
	} rows[] = {
		{ "zero length", 0, 0, PROT_READ, MAP_PRIVATE, false, 0, 0, -EINVAL },
		{ "unaligned hint", 0x10001, PAGE_SIZE, PROT_READ, MAP_PRIVATE, false, 0, 0,
		  -EINVAL },
		{ "unknown prot", 0, PAGE_SIZE, 0x8, MAP_PRIVATE, false, 0, 0, -EINVAL },
		{ "shared and private", 0, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_PRIVATE, false, 0,
		  0, -EINVAL },
		{ "neither", 0, PAGE_SIZE, PROT_READ, 0, false, 0, 0, -EINVAL },
		{ "shared anon", 0, PAGE_SIZE, PROT_READ, MAP_SHARED, false, 0, 0, -EINVAL },
		{ "past the file", 0, 2 * PAGE_SIZE, PROT_READ, MAP_SHARED, true, 15, 0, -EINVAL },
		{ "align not a power of two", 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE, false, 0,
		  3 * PAGE_SIZE, -EINVAL },
		{ "fixed past TASK_SIZE", TASK_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ,
		  MAP_PRIVATE | MAP_FIXED, false, 0, 0, -ENOMEM },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		int64_t ret =
			sys_mmap(fx.mm, rows[i].addr, rows[i].len, rows[i].prot, rows[i].flags,
				 rows[i].file ? fx.file : NULL, rows[i].pgoff, rows[i].align);
		if (ret != rows[i].ret)
			fail_msg("row %s: %" G_GINT64_FORMAT, rows[i].name, ret);
	}
	assert_int_equal(fx.mm->vmas->len, 0);
}

static void mmap_builds_vm_flags_and_page_prot_from_prot_and_sharing(void **state)
{
	const struct {
		unsigned prot;
		bool shared;
		vm_flags_t flags;
		pgprot_t prot_bits;
	} rows[] = {
		{ PROT_READ, false, VM_READ, PAGE_COPY },
		{ PROT_READ | PROT_WRITE, false, VM_READ | VM_WRITE, PAGE_COPY },
		{ PROT_READ | PROT_WRITE, true, VM_READ | VM_WRITE | VM_SHARED | VM_MAYSHARE,
		  PAGE_SHARED },
		{ PROT_NONE, false, 0, PAGE_NONE },
		{ PROT_NONE, true, VM_SHARED | VM_MAYSHARE, PAGE_NONE },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t a = rows[i].shared
				     ? t_map_shmem(fx.mm, fx.file, PAGE_SIZE, rows[i].prot, true, 0)
				     : t_map_anon(fx.mm, PAGE_SIZE, rows[i].prot, 0);
		struct vm_area_struct *vma = vma_lookup(fx.mm, a);
		assert_non_null(vma);
		assert_int_equal(vma->vm_flags,
				 rows[i].flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
		assert_int_equal(pgprot_val(vma->vm_page_prot), pgprot_val(rows[i].prot_bits));
		assert_int_equal(vma->vm_end - vma->vm_start, PAGE_SIZE);
		if (!rows[i].shared)
			assert_int_equal(vma->vm_pgoff, a >> PAGE_SHIFT);
	}
	/* align= gives an aligned start. */
	uint64_t a = t_map_anon(fx.mm, PAGE_SIZE, PROT_READ, PMD_SIZE);
	assert_int_equal(a & ~PMD_MASK, 0);
}

/* munmap of the middle splits the VMA, frees the pages and keeps the rest;
 * MAP_FIXED over a mapping replaces it. */
static void munmap_splits_the_vma_and_frees_only_the_range(void **state)
{
	uint64_t a = t_map_anon(fx.mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(fx.mm, a, 4, 0x7);
	uint64_t pfn1 = pte_pfn(t_pte(fx.mm, a + PAGE_SIZE));
	assert_int_equal(sys_munmap(fx.mm, a + PAGE_SIZE, 2 * PAGE_SIZE), 0);
	assert_int_equal(fx.mm->vmas->len, 2);
	assert_null(vma_lookup(fx.mm, a + PAGE_SIZE));
	assert_int_equal(vma_lookup(fx.mm, a)->vm_end, a + PAGE_SIZE);
	assert_int_equal(vma_lookup(fx.mm, a + 3 * PAGE_SIZE)->vm_start, a + 3 * PAGE_SIZE);
	assert_true(pte_none(t_pte(fx.mm, a + PAGE_SIZE)));
	assert_int_equal(mem_map.folios[pfn1].refcount, 0);
	assert_int_equal(pfn_to_page(pte_pfn(t_pte(fx.mm, a + 3 * PAGE_SIZE)))->content, 0x7);
	assert_int_equal(fx.mm->rss_anon, 2);

	int64_t b = sys_mmap(fx.mm, a, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, NULL, 0, 0);
	assert_int_equal(b, (int64_t)a);
	assert_true(pte_none(t_pte(fx.mm, a)));
	assert_int_equal(vma_lookup(fx.mm, a)->vm_flags & VM_WRITE, 0);
	assert_int_equal(fx.mm->rss_anon, 1);
	assert_int_equal(sys_munmap(fx.mm, a + 1, PAGE_SIZE), -EINVAL);
	assert_int_equal(sys_munmap(fx.mm, a, 0), -EINVAL);
}

/* A VMA boundary inside a THP splits the PMD first (vma_adjust_trans_huge),
 * keeping both halves' data. */
static void a_vma_split_inside_a_thp_splits_the_pmd_first(void **state)
{
	uint64_t a = t_map_anon(fx.mm, PMD_SIZE, PROT_READ | PROT_WRITE, PMD_SIZE);
	vma_lookup(fx.mm, a)->vm_flags |= VM_HUGEPAGE;
	t_write_pages(fx.mm, a, 1, 0x9);
	assert_true(pmd_trans_huge(t_pmd(fx.mm, a)));
	uint64_t pfn = pmd_pfn(t_pmd(fx.mm, a));

	assert_int_equal(sys_munmap(fx.mm, a + 256 * PAGE_SIZE, 256 * PAGE_SIZE), 0);
	assert_true(pmd_is_table(t_pmd(fx.mm, a)));
	assert_int_equal(pte_pfn(t_pte(fx.mm, a + 255 * PAGE_SIZE)), pfn + 255);
	assert_true(pte_none(t_pte(fx.mm, a + 256 * PAGE_SIZE)));
	assert_int_equal(folio_ref_count(pfn_folio(pfn)), 256);
	assert_int_equal(pfn_to_page(pfn)->content, 0x9);
	assert_int_equal(fx.mm->rss_anon, 256);
}

/* munmap drops uffd-wp markers (ZAP_FLAG_DROP_MARKER) and frees page
 * tables no VMA uses; exit_mmap leaves nothing behind. */
static void munmap_drops_markers_and_frees_unused_tables_and_exit_clears_all(void **state)
{
	uint64_t live0 = pt_pool.nr_live;
	uint64_t a =
		t_map_shmem(fx.mm, fx.file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, PMD_SIZE);
	struct vm_area_struct *vma = vma_lookup(fx.mm, a);
	t_write_pages(fx.mm, a, 2, 0x3);
	vma->vm_flags |= VM_UFFD_WP;
	pte_t *p = pte_lookup(fx.mm->pgd, a + 2 * PAGE_SIZE);
	*p = make_pte_marker(PTE_MARKER_UFFD_WP);
	assert_true(pt_pool.nr_live > live0);

	assert_int_equal(sys_munmap(fx.mm, a, 4 * PAGE_SIZE), 0);
	pmd_t *pmd = pmd_lookup(fx.mm->pgd, a, false, 0);
	assert_true(!pmd || pmd_none(*pmd));
	assert_int_equal(fx.mm->rss_shmem, 0);
	/* The page cache keeps the data; only the mapping is gone. */
	assert_int_equal(folio_ref_count(filemap_get_folio(fx.file, 0)), 1);
	assert_int_equal(fx.file->i_mmap->len, 0);

	uint64_t b = t_map_anon(fx.mm, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_map_shmem(fx.mm, fx.file, 4 * PAGE_SIZE, PROT_READ, false, 0);
	t_write_pages(fx.mm, b, 8, 1);
	uint64_t used = mem_map.nr_used;
	exit_mmap(fx.mm);
	assert_int_equal(fx.mm->vmas->len, 0);
	assert_int_equal(fx.mm->rss_anon, 0);
	assert_int_equal(mem_map.nr_used, used - 8);
	assert_int_equal(g_hash_table_size(fx.mm->deposit), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(mmap_rejects_bad_arguments_with_the_kernel_errno),
		T(mmap_builds_vm_flags_and_page_prot_from_prot_and_sharing),
		T(munmap_splits_the_vma_and_frees_only_the_range),
		T(a_vma_split_inside_a_thp_splits_the_pmd_first),
		T(munmap_drops_markers_and_frees_unused_tables_and_exit_clears_all),
	};
	return cmocka_run_group_tests_name("fault mmap", tests, NULL, NULL);
}
