/* UFFDIO_MOVE (move_pages): per source entry type x destination
 * registration, the destination entry; and the kernel's errors. */
#include "mmsim_test.h"

#include "mm/internal.h"
#include "model/swapops.h"

enum src { SRC_PRESENT, SRC_ZERO, SRC_SWAP };
enum want { W_PRESENT_RW, W_ARMED, W_ZERO, W_SWAP, W_SWAP_UFFD };

static const struct {
	enum src src;
	vm_flags_t mode;
	enum want want;
} rows[] = {
	{ SRC_PRESENT, VM_UFFD_MISSING, W_PRESENT_RW },
	{ SRC_PRESENT, VM_UFFD_RWP, W_ARMED },
	{ SRC_PRESENT, VM_UFFD_WP, W_PRESENT_RW },
	{ SRC_ZERO, VM_UFFD_MISSING, W_ZERO },
	{ SRC_ZERO, VM_UFFD_RWP, W_ARMED },
	{ SRC_SWAP, VM_UFFD_MISSING, W_SWAP },
	{ SRC_SWAP, VM_UFFD_RWP, W_SWAP_UFFD },
};

static void populate(struct mm_struct *mm, uint64_t addr, enum src src)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	uint64_t value;

	switch (src) {
	case SRC_PRESENT:
		t_write_pages(mm, addr, 1, 0x42);
		break;
	case SRC_ZERO:
		assert_int_equal(user_access(mm, addr, false, 0, &value), 0);
		break;
	case SRC_SWAP:
		t_write_pages(mm, addr, 1, 0x42);
		reclaim_range(mm, addr, addr + PAGE_SIZE);
		assert_true(is_swap_pte(t_pte(mm, addr)));
		break;
	}
	(void)vma;
}

static void move_entry_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		t_proc_restart(state);
		struct mm_struct *mm = t_proc.mm;
		uint64_t src = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t dst = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		uint64_t feat = UFFD_FEATURE_MOVE |
				(rows[i].mode & VM_UFFD_RWP ? UFFD_FEATURE_RWP : 0) |
				(rows[i].mode & VM_UFFD_WP ? UFFD_FEATURE_PAGEFAULT_FLAG_WP : 0);
		struct userfaultfd_ctx *ctx =
			t_register_ctx(vma_lookup(mm, dst), rows[i].mode, feat);

		populate(mm, src, rows[i].src);
		assert_int_equal(userfaultfd_move(ctx, dst, src, PAGE_SIZE, 0), 0);
		assert_true(pte_none(t_pte(mm, src)));
		pte_t pte = t_pte(mm, dst);
		switch (rows[i].want) {
		case W_PRESENT_RW:
			ROW_EQ(i, pte_present(pte) && pte_write(pte) && !pte_uffd(pte), true);
			break;
		case W_ARMED:
			ROW_EQ(i, pte_present(pte) && pte_protnone(pte) && pte_uffd(pte), true);
			break;
		case W_ZERO:
			ROW_EQ(i, pte_present(pte) && is_zero_pfn(pte_pfn(pte)), true);
			break;
		case W_SWAP:
			ROW_EQ(i, is_swap_pte(pte) && !pte_swp_uffd(pte), true);
			break;
		case W_SWAP_UFFD:
			ROW_EQ(i, is_swap_pte(pte) && pte_swp_uffd(pte), true);
			break;
		}
		const struct mm_event *ev = t_last_event(EV_UFFD_MOVE);
		assert_non_null(ev);
		ROW_EQ(i, ev->address == dst && ev->new_address == src && ev->len == PAGE_SIZE,
		       true);
	}
}

static void move_errors(void **state)
{
	struct mm_struct *mm = t_proc.mm;
	uint64_t src = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	uint64_t dst = t_map_anon(mm, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
	(void)state;

	t_write_pages(mm, src, 2, 7);
	t_write_pages(mm, dst + PAGE_SIZE, 1, 8);
	struct userfaultfd_ctx *ctx =
		t_register_ctx(vma_lookup(mm, dst), VM_UFFD_MISSING, UFFD_FEATURE_MOVE);
	assert_int_equal(userfaultfd_move(ctx, dst + 1, src, PAGE_SIZE, 0), -EINVAL);
	assert_int_equal(userfaultfd_move(ctx, dst, src, PAGE_SIZE, 1ULL << 2), -EINVAL);
	assert_int_equal(userfaultfd_move(ctx, dst + PAGE_SIZE, src, PAGE_SIZE, 0), -EEXIST);
	assert_int_equal(
		userfaultfd_move(ctx, dst + 2 * PAGE_SIZE, src + 2 * PAGE_SIZE, PAGE_SIZE, 0),
		-ENOENT);
	assert_int_equal(userfaultfd_move(ctx, dst + 2 * PAGE_SIZE, src + 2 * PAGE_SIZE, PAGE_SIZE,
					  UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES),
			 0);
	/* src is not registered with ctx as a destination */
	assert_int_equal(userfaultfd_move(ctx, src + 3 * PAGE_SIZE, dst + 3 * PAGE_SIZE, PAGE_SIZE,
					  UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES),
			 -EINVAL);
	/* a pinned folio cannot move */
	struct folio *folio = vm_normal_folio(vma_lookup(mm, src), src, t_pte(mm, src));
	folio->pincount++;
	folio->refcount++;
	assert_int_equal(userfaultfd_move(ctx, dst, src, PAGE_SIZE, 0), -EBUSY);
	folio->pincount--;
	folio->refcount--;
	/* a partial move: -EAGAIN after the first page */
	assert_int_equal(userfaultfd_move(ctx, dst, src, 2 * PAGE_SIZE, 0), -EAGAIN);
	assert_true(pte_present(t_pte(mm, dst)));
}

static void register_advertises_move_only_when_negotiated(void **state)
{
	for (int neg = 0; neg < 2; neg++) {
		t_proc_restart(state);
		uint64_t a = t_map_anon(t_proc.mm, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
		struct userfaultfd_ctx *ctx = sys_userfaultfd(t_proc.mm);
		uint64_t features = neg ? UFFD_FEATURE_MOVE : 0, ioctls = 0;

		assert_int_equal(userfaultfd_api(ctx, &features, &ioctls), 0);
		assert_int_equal(userfaultfd_register(ctx, a, PAGE_SIZE,
						      UFFDIO_REGISTER_MODE_MISSING, &ioctls),
				 0);
		ROW_EQ(neg, !!(ioctls & (1ULL << _UFFDIO_MOVE)), neg);
		userfaultfd_release(ctx);
		userfaultfd_ctx_free(ctx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(move_entry_table, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(move_errors, t_proc_setup, t_proc_teardown),
		cmocka_unit_test_setup_teardown(register_advertises_move_only_when_negotiated,
						t_proc_setup, t_proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
