/* ftruncate (shmem_setattr_size): per page-cache entry kind beyond the new
 * size, what is left; faults beyond i_size are SIGBUS; growing is i_size only. */
#include "mmsim_test.h"

#include "mm/internal.h"
#include "model/swapops.h"

enum kind { K_HOLE, K_CACHED_MAPPED, K_CACHED_ARMED, K_SWAPPED };

static const struct {
	enum kind kind;
} rows[] = { { K_HOLE }, { K_CACHED_MAPPED }, { K_CACHED_ARMED }, { K_SWAPPED } };

static void truncate_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		struct mm_struct *mm = t_proc.mm;
		struct address_space *f = shmem_file_alloc("f", 4, false);
		t_proc.file = f;
		uint64_t a = t_map_shmem(mm, f, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
		uint64_t last = a + 3 * PAGE_SIZE;
		uint64_t used = swap_info.nr_used;

		t_write_pages(mm, a, 1, 0x10);
		if (rows[i].kind != K_HOLE)
			t_write_pages(mm, last, 1, 0x11);
		if (rows[i].kind == K_CACHED_ARMED) {
			struct userfaultfd_ctx *ctx =
				t_register_ctx(vma_lookup(mm, a), VM_UFFD_RWP, UFFD_FEATURE_RWP);
			assert_int_equal(mrwprotect_range(ctx, a, 4 * PAGE_SIZE, true), 0);
		}
		if (rows[i].kind == K_SWAPPED) {
			reclaim_range(mm, last, last + PAGE_SIZE);
			assert_true(xa_is_value(f->i_pages[3]));
			used = swap_info.nr_used - 1;
		}
		assert_int_equal(shmem_setattr_size(f, 2), 0);
		ROW_EQ(i, f->nr_pages, 2);
		ROW_EQ(i, swap_info.nr_used, used);
		pte_t *ptep = pte_lookup(mm->pgd, last);
		ROW_EQ(i, !ptep || pte_none(*ptep), true);
		ROW_EQ(i,
		       handle_mm_fault(vma_lookup(mm, last), last, t_user_fault(false)) &
			       VM_FAULT_SIGBUS,
		       VM_FAULT_SIGBUS);
		/* below the new size nothing changed */
		ROW_EQ(i, pfn_to_page(pte_pfn(t_pte(mm, a)))->content, 0x10);
		/* growing back: a zero-filled page */
		assert_int_equal(shmem_setattr_size(f, 4), 0);
		ROW_EQ(i, f->nr_pages, 4);
		ROW_EQ(i, f->i_pages[3], 0);
		uint64_t v = 1;
		ROW_EQ(i, user_access(mm, last, false, 0, &v), 0);
		ROW_EQ(i, v, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(truncate_table, t_proc_setup, t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
