/* swapoff (try_to_unuse -> unuse_pte): per registration x armed/protected,
 * the PTE it rebuilds; shmem value entries come back to the page cache. */
#include "mmsim_test.h"

#include "mm/internal.h"
#include "model/swapops.h"

enum want { W_PRESENT, W_ARMED, W_WP };

static const struct {
	vm_flags_t mode; /* 0: unregistered */
	bool protect;	 /* armed (RWP) / write-protected (WP) before reclaim */
	enum want want;
} rows[] = {
	{ 0, false, W_PRESENT },	{ VM_UFFD_RWP, false, W_PRESENT },
	{ VM_UFFD_RWP, true, W_ARMED }, { VM_UFFD_WP, false, W_PRESENT },
	{ VM_UFFD_WP, true, W_WP },
};

static void unuse_pte_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		struct mm_struct *mm = t_proc.mm;
		uint64_t a = t_map_anon(mm, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		t_write_pages(mm, a, 2, 0x99);
		if (rows[i].mode) {
			bool rwp = rows[i].mode & VM_UFFD_RWP;
			struct userfaultfd_ctx *ctx = t_register_ctx(
				vma_lookup(mm, a), rows[i].mode,
				rwp ? UFFD_FEATURE_RWP : UFFD_FEATURE_PAGEFAULT_FLAG_WP);
			if (rows[i].protect && rwp)
				assert_int_equal(mrwprotect_range(ctx, a, PAGE_SIZE, true), 0);
			if (rows[i].protect && !rwp)
				assert_int_equal(mwriteprotect_range(ctx, a, PAGE_SIZE, true), 0);
		}
		reclaim_range(mm, a, a + 2 * PAGE_SIZE);
		assert_true(is_swap_pte(t_pte(mm, a)));
		ROW_EQ(i, pte_swp_uffd(t_pte(mm, a)), rows[i].protect);

		assert_int_equal(sys_swapoff(NULL, NULL), -EBUSY); /* no mm: slots stay */
		GPtrArray *mms = g_ptr_array_new();
		g_ptr_array_add(mms, mm);
		assert_int_equal(sys_swapoff(mms, NULL), 0);
		g_ptr_array_free(mms, TRUE);
		assert_int_equal(swap_info.nr_used, 0);
		assert_int_equal(mm->nr_swapents, 0);

		pte_t pte = t_pte(mm, a);
		ROW_EQ(i, pte_present(pte), true);
		ROW_EQ(i, pte_write(pte), false); /* no write upgrade */
		ROW_EQ(i, pte_uffd(pte), rows[i].want != W_PRESENT);
		ROW_EQ(i, pte_protnone(pte), rows[i].want == W_ARMED);
		ROW_EQ(i, pfn_to_page(pte_pfn(pte))->content, 0x99);
	}
}

static void shmem_unuse_reads_value_entries_back(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	struct address_space *f = shmem_file_alloc("f", 2, false);
	uint64_t a = t_map_shmem(mm, f, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	(void)state;

	t_proc.file = f;
	t_write_pages(mm, a, 2, 0x55);
	reclaim_range(mm, a, a + 2 * PAGE_SIZE);
	assert_true(xa_is_value(f->i_pages[0]) && xa_is_value(f->i_pages[1]));
	GPtrArray *files = g_ptr_array_new();
	g_ptr_array_add(files, f);
	assert_int_equal(sys_swapoff(NULL, files), 0);
	g_ptr_array_free(files, TRUE);
	for (int i = 0; i < 2; i++) {
		struct folio *folio = filemap_get_folio(f, (uint64_t)i);
		assert_non_null(folio);
		assert_int_equal(folio_page(folio, 0)->content, 0x55);
	}
	assert_int_equal(swap_info.nr_used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unuse_pte_table, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(shmem_unuse_reads_value_entries_back, t_proc_setup,
						t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
