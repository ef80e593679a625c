/* tests/unit/test_oracle_data.c - the content shadow catches reads that do
 * not return the last value stored to their backing.
 */
#include "test_oracle_fixture.h"

#define RW (VM_READ | VM_WRITE)

/* Anon "A" of 2 pages, v0 and v1 stored to them in a step of their own. */
static void written_pair(struct fx *fx, uint64_t v0, uint64_t v1)
{
	fx_vma(fx, fx->mm, "A", FX_BASE, 2, RW, NULL, 0);
	fx_access(fx->mm, FX_BASE, true, v0, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, true, v1, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
}

static void read_back_of_the_last_write_is_clean(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 2, RW, NULL, 0);
	fx_access(fx->mm, FX_BASE, true, 0x11, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE, false, 0x11, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, false, 0, ACCESS_GUP, FOLL_GET);
	assert_clean(fx, fx_events_step(fx));
}

static void stale_read_is_data_loss(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 1, RW, NULL, 0);
	fx_access(fx->mm, FX_BASE, true, 0x11, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "data loss");
	assert_int_equal(fx->v.before, 0x11);
	assert_int_equal(fx->v.after, 0);
}

/* Values live in 512-page chunks: pages on both sides of a boundary, and
 * a DONTNEED over a range crossing it, keep their own values. */
static void values_across_a_shadow_chunk_boundary(void **state)
{
	struct fx *fx = *state;
	fx_vma(fx, fx->mm, "A", FX_BASE, 1024, RW, NULL, 0);
	for (uint64_t i = 500; i < 520; i++)
		fx_access(fx->mm, FX_BASE + i * PAGE_SIZE, true, 0x100 + i, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	for (uint64_t i = 500; i < 520; i++)
		fx_access(fx->mm, FX_BASE + i * PAGE_SIZE, false, 0x100 + i, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	struct step *s = fx_madvise(fx, MADV_DONTNEED);
	fx_pages(s, 510, 513);
	assert_clean(fx, fx_run(fx, s, RESULT_OK));
	fx_access(fx->mm, FX_BASE + 509 * PAGE_SIZE, false, 0x100 + 509, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE + 512 * PAGE_SIZE, false, 0, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE + 514 * PAGE_SIZE, false, 0x100 + 514, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_access(fx->mm, FX_BASE + 515 * PAGE_SIZE, false, 0x100 + 516, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "data loss");
	assert_int_equal(fx->v.before, 0x100 + 515);
}

static void dontneed_on_private_anon_reads_zero_afterwards(void **state)
{
	struct fx *fx = *state;
	written_pair(fx, 0x11, 0x22);
	struct step *s = fx_madvise(fx, MADV_DONTNEED);
	fx_pages(s, 0, 0);
	assert_clean(fx, fx_run(fx, s, RESULT_OK));
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, false, 0x22, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, false, 0, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "data loss");
}

static void shared_shmem_is_one_backing_for_every_mapping(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", 4);
	struct mm_struct *q = fx_mm(fx, "Q");
	fx_vma(fx, fx->mm, "A", FX_BASE, 4, RW | VM_SHARED, file, 0);
	fx_vma(fx, q, "B", FX_BASE + PMD_SIZE, 2, RW | VM_SHARED, file, 2);
	fx_access(fx->mm, FX_BASE + 3 * PAGE_SIZE, true, 0x33, ACCESS_USER, 0);
	fx_access(q, FX_BASE + PMD_SIZE + PAGE_SIZE, false, 0x33, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	/* DONTNEED of a shared mapping keeps the page cache's data. */
	struct step *s = fx_madvise(fx, MADV_DONTNEED);
	assert_clean(fx, fx_run(fx, s, RESULT_OK));
	fx_access(fx->mm, FX_BASE + 3 * PAGE_SIZE, false, 0, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "data loss");
}

static void punch_zeroes_the_file_but_not_private_copies(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", 4);
	struct mm_struct *q = fx_mm(fx, "Q");
	fx_vma(fx, fx->mm, "A", FX_BASE, 4, RW | VM_SHARED, file, 0);
	fx_vma(fx, q, "B", FX_BASE, 4, RW, file, 0); /* private mapping of the file */
	fx_access(fx->mm, FX_BASE, true, 0x44, ACCESS_USER, 0);
	fx_access(q, FX_BASE + PAGE_SIZE, true, 0x55, ACCESS_USER, 0); /* COW copy */
	fx_access(q, FX_BASE, false, 0x44, ACCESS_USER, 0); /* reads through to the file */
	assert_clean(fx, fx_events_step(fx));
	struct step *s = fx_step(fx, CMD_FALLOCATE, "F");
	fx_arg(s, "mode", 1);
	fx_pages(s, 0, 3);
	assert_clean(fx, fx_run(fx, s, RESULT_OK));
	fx_access(q, FX_BASE, false, 0, ACCESS_USER, 0);
	fx_access(q, FX_BASE + PAGE_SIZE, false, 0x55, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_access(fx->mm, FX_BASE, false, 0x44, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "data loss");
}

static void lazyfree_page_may_read_zero_until_written(void **state)
{
	struct fx *fx = *state;
	written_pair(fx, 0x66, 0x77);
	struct step *s = fx_madvise(fx, MADV_FREE);
	assert_clean(fx, fx_run(fx, s, RESULT_OK));
	fx_access(fx->mm, FX_BASE, false, 0x66, ACCESS_USER, 0); /* not yet discarded */
	fx_access(fx->mm, FX_BASE, false, 0, ACCESS_USER, 0);	 /* discarded */
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, true, 0x88, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, false, 0, ACCESS_USER, 0); /* written since */
	assert_violation(fx, fx_events_step(fx), "data loss");
	fx_access(fx->mm, FX_BASE, false, 0x66, ACCESS_USER, 0); /* once 0, stays 0 */
	assert_violation(fx, fx_events_step(fx), "data loss");
}

static void uffd_copy_sets_the_value_and_continue_does_not(void **state)
{
	struct fx *fx = *state;
	struct address_space *file = fx_file(fx, "F", 4);
	fx_vma(fx, fx->mm, "A", FX_BASE, 2, RW, NULL, 0);
	fx_vma(fx, fx->mm, "B", FX_BASE + PMD_SIZE, 2, RW | VM_SHARED, file, 0);
	mm_event_emit((struct mm_event){ .kind = EV_UFFD_FILL,
					 .mm_id = fx->mm->id,
					 .address = FX_BASE,
					 .len = 2 * PAGE_SIZE,
					 .value = 0x99 });
	mm_event_emit((struct mm_event){ .kind = EV_UFFD_FILL,
					 .mm_id = fx->mm->id,
					 .address = FX_BASE + PMD_SIZE,
					 .len = PAGE_SIZE,
					 .value = 0xaa,
					 .continue_fill = true });
	fx_access(fx->mm, FX_BASE + PAGE_SIZE, false, 0x99, ACCESS_USER, 0);
	fx_access(fx->mm, FX_BASE + PMD_SIZE, false, 0, ACCESS_USER, 0);
	assert_clean(fx, fx_events_step(fx));
	fx_access(fx->mm, FX_BASE + PMD_SIZE, false, 0xaa, ACCESS_USER, 0);
	assert_violation(fx, fx_events_step(fx), "data loss");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(read_back_of_the_last_write_is_clean),
		T(stale_read_is_data_loss),
		T(values_across_a_shadow_chunk_boundary),
		T(dontneed_on_private_anon_reads_zero_afterwards),
		T(shared_shmem_is_one_backing_for_every_mapping),
		T(punch_zeroes_the_file_but_not_private_copies),
		T(lazyfree_page_may_read_zero_until_written),
		T(uffd_copy_sets_the_value_and_continue_does_not),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
