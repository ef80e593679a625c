/* tests/unit/test_mremap_checks.c - sys_mremap()'s argument and range
 * checks that test_mremap_move.c leaves out: a zero old length, a fixed
 * destination past TASK_SIZE, growing the middle of a VMA, growing at the
 * top of the address space, growing a shmem VMA past i_size. Each failure
 * leaves the VMA and its pages as they were and logs no EV_MREMAP. */
#include "mmsim_test.h"

#define FILE_PAGES 8

static void unchanged(struct mm_struct *mm, uint64_t a, uint64_t pages)
{
	struct vm_area_struct *vma = vma_lookup(mm, a);
	assert_non_null(vma);
	assert_int_equal(vma->vm_start, a);
	assert_int_equal(vma->vm_end, a + pages * PAGE_SIZE);
	for (uint64_t p = 0; p < pages; p++)
		assert_true(pte_present(t_pte(mm, a + p * PAGE_SIZE)));
	assert_int_equal(t_nr_events(EV_MREMAP), 0);
}

static void anon_checks(void **state)
{
	(void)state;
	struct mm_struct *mm = t_proc.mm;
	uint64_t a = t_map_anon(mm, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	t_write_pages(mm, a, 8, 0x5);

	/* old_len 0 (duplicating a private mapping): refused */
	assert_int_equal(sys_mremap(mm, a, 0, 2 * PAGE_SIZE, MREMAP_MAYMOVE, 0), -EINVAL);
	/* a fixed destination whose end is past TASK_SIZE */
	assert_int_equal(sys_mremap(mm, a, PAGE_SIZE, 2 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
				    TASK_SIZE - PAGE_SIZE),
			 -EINVAL);
	/* growing a range that ends inside the VMA cannot be done in place */
	assert_int_equal(sys_mremap(mm, a, 2 * PAGE_SIZE, 3 * PAGE_SIZE, 0, 0), -ENOMEM);
	unchanged(mm, a, 8);

	/* with MAYMOVE the grown range moves; the rest of the VMA stays */
	int64_t moved = sys_mremap(mm, a, 2 * PAGE_SIZE, 3 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
	assert_true(moved > 0 && (uint64_t)moved != a);
	assert_null(vma_lookup(mm, a));
	assert_non_null(vma_lookup(mm, a + 2 * PAGE_SIZE));
	assert_true(pte_present(t_pte(mm, (uint64_t)moved + PAGE_SIZE)));
	assert_int_equal(t_nr_events(EV_MREMAP), 1);
}

static void top_of_address_space(void **state)
{
	(void)state;
	struct mm_struct *mm = t_proc.mm;
	uint64_t top = TASK_SIZE - 2 * PAGE_SIZE;
	int64_t a = sys_mmap(mm, top, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_FIXED, NULL, 0, 0);
	assert_int_equal(a, (int64_t)top);
	t_write_pages(mm, top, 2, 0x7);
	/* growing past TASK_SIZE cannot be done in place */
	assert_int_equal(sys_mremap(mm, top, 2 * PAGE_SIZE, 3 * PAGE_SIZE, 0, 0), -ENOMEM);
	unchanged(mm, top, 2);
}

static void shmem_past_size(void **state)
{
	(void)state;
	struct mm_struct *mm = t_proc.mm;
	t_proc.file = shmem_file_alloc("F", FILE_PAGES, false);
	uint64_t a = t_map_shmem(mm, t_proc.file, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, true, 0);
	t_write_pages(mm, a, 4, 0x9);
	/* up to i_size is fine to ask for, past it the model refuses */
	assert_int_equal(
		sys_mremap(mm, a, 4 * PAGE_SIZE, (FILE_PAGES + 1) * PAGE_SIZE, MREMAP_MAYMOVE, 0),
		-EINVAL);
	unchanged(mm, a, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(anon_checks, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(top_of_address_space, t_proc_setup,
						t_proc_teardown),
		cmocka_unit_test_setup_teardown(shmem_past_size, t_proc_setup, t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
