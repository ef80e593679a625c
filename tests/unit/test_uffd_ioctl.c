/* tests/unit/test_uffd_ioctl.c - userfaultfd ioctls and fault delivery:
 * the errno tables for API, REGISTER, RWPROTECT and SET_MODE, RWP arming and
 * resolving, unregister/close, UFFDIO_COPY/ZEROPAGE/CONTINUE and the
 * handle_userfault() message for RWP read and write faults.
 */
#include "mmsim_test.h"
#include "trace/trace.h"

#define ANON_LEN (4 * PAGE_SIZE)
#define ALL_RW (PROT_READ | PROT_WRITE)

struct env {
	struct mm_struct *mm;
	struct userfaultfd_ctx *ctx;
	uint64_t a;    /* anon RW, 4 pages */
	uint64_t none; /* anon PROT_NONE, 1 page */
	uint64_t b;    /* anon RW, 1 page, a hole below it */
	struct address_space *file;
	uint64_t shm; /* shmem shared RW, 4 pages */
};

static void env_init(struct env *e, uint64_t features)
{
	e->mm = mm_alloc("t");
	e->a = t_map_anon(e->mm, ANON_LEN, ALL_RW, 0);
	/* Mappings go top-down, so the layout a, none, hole, b is made with
	 * fixed addresses above a. */
	e->none = e->a + ANON_LEN;
	assert_int_equal(
		sys_mmap(e->mm, e->none, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_FIXED, NULL, 0, 0),
		(int64_t)e->none);
	e->b = e->none + 2 * PAGE_SIZE;
	assert_int_equal(
		sys_mmap(e->mm, e->b, PAGE_SIZE, ALL_RW, MAP_PRIVATE | MAP_FIXED, NULL, 0, 0),
		(int64_t)e->b);
	e->file = shmem_file_alloc("memfd", 4, false);
	e->shm = t_map_shmem(e->mm, e->file, 4 * PAGE_SIZE, ALL_RW, true, 0);
	e->ctx = sys_userfaultfd(e->mm);
	uint64_t f = features, ioctls;
	assert_int_equal(userfaultfd_api(e->ctx, &f, &ioctls), 0);
}

static void env_fini(struct env *e)
{
	userfaultfd_release(e->ctx);
	exit_mmap(e->mm);
	mm_free(e->mm);
	shmem_file_put(e->file);
	userfaultfd_ctx_free(e->ctx);
}

#define F_RWP (UFFD_FEATURE_RWP)
#define F_ALL                                                                           \
	(UFFD_FEATURE_RWP | UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_MINOR_SHMEM | \
	 UFFD_FEATURE_MISSING_SHMEM)
#define M_MISSING UFFDIO_REGISTER_MODE_MISSING
#define M_WP UFFDIO_REGISTER_MODE_WP
#define M_MINOR UFFDIO_REGISTER_MODE_MINOR
#define M_RWP UFFDIO_REGISTER_MODE_RWP

/* UFFDIO_REGISTER of [start, start + len) for mode, which must succeed. */
static void env_register(struct env *e, uint64_t start, uint64_t len, uint64_t mode)
{
	uint64_t ioctls;

	assert_int_equal(userfaultfd_register(e->ctx, start, len, mode, &ioctls), 0);
}

/* env_init() with every feature; value stored to the first n pages of a,
 * all of a registered for RWP and its first armed bytes RWPROTECTed. */
static void env_init_armed(struct env *e, uint64_t n, uint64_t value, uint64_t armed)
{
	env_init(e, F_ALL);
	t_write_pages(e->mm, e->a, n, value);
	env_register(e, e->a, ANON_LEN, M_RWP);
	assert_int_equal(userfaultfd_rwprotect(e->ctx, e->a, armed, UFFDIO_RWPROTECT_MODE_RWP), 0);
}

/* A sync RWP fault on the first page of a: it queues a message and leaves a
 * waiter; current is woken by hand so the test goes on. */
static struct vm_fault env_sync_fault(struct env *e)
{
	struct vm_fault vmf = { .vma = vma_lookup(e->mm, e->a),
				.address = e->a,
				.flags = FAULT_FLAG_ALLOW_RETRY };

	assert_int_equal(handle_userfault(&vmf, VM_UFFD_RWP), VM_FAULT_RETRY);
	current->sleeping = false;
	return vmf;
}

/* ---------------------------------------------------------------- UFFDIO_API */

struct api_row {
	const char *what;
	uint64_t features;
	long ret;
};

static const struct api_row api_rows[] = {
	{ "no features", 0, 0 },
	{ "RWP", UFFD_FEATURE_RWP, 0 },
	{ "RWP and RWP_ASYNC", UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC, 0 },
	{ "RWP_ASYNC without RWP", UFFD_FEATURE_RWP_ASYNC, -EINVAL },
	{ "WP_ASYNC with PAGEFAULT_FLAG_WP", UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	  0 },
	/* The running kernel accepts it (tools/conformance). */
	{ "WP_ASYNC without PAGEFAULT_FLAG_WP", UFFD_FEATURE_WP_ASYNC, 0 },
	{ "an unknown feature bit", 1ULL << 40, -EINVAL },
};

static void test_api_validates_features_and_zeroes_the_reply_on_error(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(api_rows); i++) {
		struct mm_struct *mm = mm_alloc("t");
		struct userfaultfd_ctx *ctx = sys_userfaultfd(mm);
		uint64_t f = api_rows[i].features, ioctls = 0;
		long ret = userfaultfd_api(ctx, &f, &ioctls);
		if (ret != api_rows[i].ret)
			fail_msg("%s: got %ld want %ld", api_rows[i].what, ret, api_rows[i].ret);
		if (ret) {
			assert_int_equal(f, 0);
			assert_int_equal(ioctls, 0);
			assert_false(ctx->api_done);
		} else {
			assert_true(f & UFFD_FEATURE_RWP);
			uint64_t fd_ioctls = (1ULL << _UFFDIO_REGISTER) |
					     (1ULL << _UFFDIO_UNREGISTER) | (1ULL << _UFFDIO_API);
			assert_int_equal(ioctls & fd_ioctls, fd_ioctls);
		}
		userfaultfd_ctx_free(ctx);
		mm_free(mm);
	}
}

static void test_a_second_api_call_fails(void **state)
{
	struct mm_struct *mm = mm_alloc("t");
	struct userfaultfd_ctx *ctx = sys_userfaultfd(mm);
	uint64_t f = UFFD_FEATURE_RWP, ioctls;
	assert_int_equal(userfaultfd_api(ctx, &f, &ioctls), 0);
	f = 0;
	assert_int_equal(userfaultfd_api(ctx, &f, &ioctls), -EINVAL);
	assert_int_equal(f, 0);
	/* The first negotiation stands. */
	assert_true(ctx->features & UFFD_FEATURE_RWP);
	userfaultfd_ctx_free(ctx);
	mm_free(mm);
}

static void test_ioctls_before_api_fail(void **state)
{
	struct mm_struct *mm = mm_alloc("t");
	uint64_t a = t_map_anon(mm, PAGE_SIZE, ALL_RW, 0);
	struct userfaultfd_ctx *ctx = sys_userfaultfd(mm);
	uint64_t ioctls;
	assert_int_equal(userfaultfd_register(ctx, a, PAGE_SIZE, M_MISSING, &ioctls), -EINVAL);
	assert_int_equal(userfaultfd_rwprotect(ctx, a, PAGE_SIZE, 0), -EINVAL);
	assert_int_equal(userfaultfd_set_mode(ctx, 0, 0), -EINVAL);
	userfaultfd_ctx_free(ctx);
	exit_mmap(mm);
	mm_free(mm);
}

/* ---------------------------------------------------------------- UFFDIO_REGISTER */

enum where { W_A, W_A_HALF, W_NONE, W_HOLE, W_SHM, W_UNALIGNED, W_ZERO, W_HIGH, W_EMPTY };

struct reg_row {
	const char *what;
	uint64_t features;
	enum where where;
	uint64_t mode;
	long ret;
};

static void range_of(struct env *e, enum where w, uint64_t *start, uint64_t *len)
{
	switch (w) {
	case W_A:
		*start = e->a, *len = ANON_LEN;
		return;
	case W_A_HALF:
		*start = e->a + PAGE_SIZE, *len = 2 * PAGE_SIZE;
		return;
	case W_NONE:
		*start = e->none, *len = PAGE_SIZE;
		return;
	case W_HOLE: /* none VMA, hole, b */
		*start = e->none, *len = 3 * PAGE_SIZE;
		return;
	case W_SHM:
		*start = e->shm, *len = 4 * PAGE_SIZE;
		return;
	case W_UNALIGNED:
		*start = e->a + 1, *len = PAGE_SIZE;
		return;
	case W_ZERO:
		*start = e->a, *len = 0;
		return;
	case W_HIGH:
		*start = TASK_SIZE - PAGE_SIZE, *len = 2 * PAGE_SIZE;
		return;
	case W_EMPTY:
		*start = e->none + PAGE_SIZE, *len = PAGE_SIZE;
		return;
	}
}

static const struct reg_row reg_rows[] = {
	{ "mode 0", F_ALL, W_A, 0, -EINVAL },
	{ "an unknown mode bit", F_ALL, W_A, 1ULL << 4, -EINVAL },
	{ "WP|RWP", F_ALL, W_A, M_WP | M_RWP, -EINVAL },
	{ "WP without PAGEFAULT_FLAG_WP", F_RWP, W_A, M_WP, 0 }, /* as the host kernel */
	{ "RWP without UFFD_FEATURE_RWP", UFFD_FEATURE_PAGEFAULT_FLAG_WP, W_A, M_RWP, -EINVAL },
	{ "MINOR on anon", F_ALL, W_A, M_MINOR, -EINVAL },
	{ "MINOR on shmem without MINOR_SHMEM", F_RWP, W_SHM, M_MINOR, 0 }, /* as the host */
	{ "an unaligned start", F_ALL, W_UNALIGNED, M_RWP, -EINVAL },
	{ "a zero length", F_ALL, W_ZERO, M_RWP, -EINVAL },
	{ "a range beyond TASK_SIZE", F_ALL, W_HIGH, M_RWP, -EINVAL },
	{ "no VMA in the range", F_ALL, W_EMPTY, M_MISSING, -EINVAL },
	{ "a hole in the range (skipped, as on the host)", F_ALL, W_HOLE, M_MISSING, 0 },
	{ "RWP on a PROT_NONE VMA", F_ALL, W_NONE, M_RWP, -EINVAL },
	{ "MISSING on a PROT_NONE VMA", F_ALL, W_NONE, M_MISSING, 0 },
	{ "RWP on anon", F_ALL, W_A, M_RWP, 0 },
	{ "RWP|MISSING on anon", F_ALL, W_A, M_RWP | M_MISSING, 0 },
	{ "RWP|MINOR on shmem", F_ALL, W_SHM, M_RWP | M_MINOR, 0 },
	{ "WP on shmem", F_ALL, W_SHM, M_WP, 0 },
	{ "RWP on part of a VMA", F_ALL, W_A_HALF, M_RWP, 0 },
};

static void test_register_errors_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(reg_rows); i++) {
		const struct reg_row *r = &reg_rows[i];
		struct env e;
		uint64_t start, len, ioctls = 0;

		env_init(&e, r->features);
		range_of(&e, r->where, &start, &len);
		long ret = userfaultfd_register(e.ctx, start, len, r->mode, &ioctls);
		if (ret != r->ret)
			fail_msg("%s: got %ld want %ld", r->what, ret, r->ret);
		if (!ret) {
			struct vm_area_struct *vma = vma_lookup(e.mm, start);
			assert_ptr_equal(vma->vm_userfaultfd_ctx, e.ctx);
			assert_int_equal(vma->vm_start, start);
			assert_int_equal(!!(ioctls & (1ULL << _UFFDIO_RWPROTECT)),
					 !!(r->mode & M_RWP));
			assert_int_equal(!!(ioctls & (1ULL << _UFFDIO_WRITEPROTECT)),
					 !!(r->mode & M_WP));
			assert_int_equal(!!(ioctls & (1ULL << _UFFDIO_CONTINUE)),
					 !!(r->mode & M_MINOR));
			assert_true(ioctls & (1ULL << _UFFDIO_WAKE));
		}
		env_fini(&e);
	}
}

static void test_register_with_another_ctx_is_busy(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	struct userfaultfd_ctx *other = sys_userfaultfd(e.mm);
	uint64_t f = F_ALL, ioctls;
	assert_int_equal(userfaultfd_api(other, &f, &ioctls), 0);
	env_register(&e, e.a, ANON_LEN, M_RWP);
	assert_int_equal(userfaultfd_register(other, e.a, ANON_LEN, M_RWP, &ioctls), -EBUSY);
	/* Same ctx: adding MISSING is fine, dropping RWP is not. */
	env_register(&e, e.a, ANON_LEN, M_RWP | M_MISSING);
	assert_int_equal(userfaultfd_register(e.ctx, e.a, ANON_LEN, M_MISSING, &ioctls), -EBUSY);
	assert_int_equal(vma_lookup(e.mm, e.a)->vm_flags & __VM_UFFD_FLAGS,
			 VM_UFFD_RWP | VM_UFFD_MISSING);
	userfaultfd_release(other);
	userfaultfd_ctx_free(other);
	env_fini(&e);
}

static void test_register_of_part_splits_and_unregister_merges(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	guint before = e.mm->vmas->len;
	env_register(&e, e.a + PAGE_SIZE, PAGE_SIZE, M_RWP);
	assert_int_equal(e.mm->vmas->len, before + 2);
	assert_int_equal(userfaultfd_unregister(e.ctx, e.a + PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(e.mm->vmas->len, before);
	assert_null(vma_lookup(e.mm, e.a)->vm_userfaultfd_ctx);
	env_fini(&e);
}

/* ---------------------------------------------------------------- UFFDIO_RWPROTECT */

struct rwp_row {
	const char *what;
	enum where where;
	uint64_t mode;
	bool mmap_changing;
	long ret;
};

static const struct rwp_row rwp_rows[] = {
	{ "arm", W_A, UFFDIO_RWPROTECT_MODE_RWP, false, 0 },
	{ "resolve", W_A, 0, false, 0 },
	{ "resolve without wake", W_A, UFFDIO_RWPROTECT_MODE_DONTWAKE, false, 0 },
	{ "RWP|DONTWAKE", W_A, UFFDIO_RWPROTECT_MODE_RWP | UFFDIO_RWPROTECT_MODE_DONTWAKE, false,
	  -EINVAL },
	{ "an unknown mode bit", W_A, 1ULL << 2, false, -EINVAL },
	{ "an unaligned start", W_UNALIGNED, UFFDIO_RWPROTECT_MODE_RWP, false, -EINVAL },
	{ "a zero length", W_ZERO, UFFDIO_RWPROTECT_MODE_RWP, false, -EINVAL },
	{ "beyond TASK_SIZE", W_HIGH, UFFDIO_RWPROTECT_MODE_RWP, false, -EINVAL },
	{ "mmap_changing", W_A, UFFDIO_RWPROTECT_MODE_RWP, true, -EAGAIN },
	{ "a VMA not registered for RWP", W_SHM, UFFDIO_RWPROTECT_MODE_RWP, false, -ENOENT },
	{ "no VMA at all", W_EMPTY, UFFDIO_RWPROTECT_MODE_RWP, false, -ENOENT },
};

static void test_rwprotect_errors_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rwp_rows); i++) {
		const struct rwp_row *r = &rwp_rows[i];
		struct env e;
		uint64_t start, len;

		env_init(&e, F_ALL);
		env_register(&e, e.a, ANON_LEN, M_RWP);
		env_register(&e, e.shm, 4 * PAGE_SIZE, M_MISSING);
		e.ctx->mmap_changing = r->mmap_changing;
		range_of(&e, r->where, &start, &len);
		long ret = userfaultfd_rwprotect(e.ctx, start, len, r->mode);
		if (ret != r->ret)
			fail_msg("%s: got %ld want %ld", r->what, ret, r->ret);
		e.ctx->mmap_changing = 0;
		env_fini(&e);
	}
}

static void test_rwprotect_prescan_changes_nothing_on_enoent(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	t_write_pages(e.mm, e.a, 4, 0x11);
	/* Register the first half only: the range's second VMA is not RWP. */
	env_register(&e, e.a, 2 * PAGE_SIZE, M_RWP);
	assert_int_equal(userfaultfd_rwprotect(e.ctx, e.a, ANON_LEN, UFFDIO_RWPROTECT_MODE_RWP),
			 -ENOENT);
	assert_false(pte_protnone(t_pte(e.mm, e.a)));
	/* Over a hole plus an RWP VMA: the hole is skipped. */
	env_register(&e, e.b, PAGE_SIZE, M_RWP);
	assert_int_equal(userfaultfd_rwprotect(e.ctx, e.b - PAGE_SIZE, 2 * PAGE_SIZE,
					       UFFDIO_RWPROTECT_MODE_RWP),
			 0);
	env_fini(&e);
}

static void test_rwprotect_arms_then_resolves_with_write_upgrade(void **state)
{
	struct env e;
	env_init_armed(&e, 4, 0x22, ANON_LEN);
	for (int i = 0; i < 4; i++) {
		pte_t p = t_pte(e.mm, e.a + i * PAGE_SIZE);
		assert_true(pte_protnone(p) && pte_uffd(p));
	}
	assert_int_equal(userfaultfd_rwprotect(e.ctx, e.a, 2 * PAGE_SIZE, 0), 0);
	for (int i = 0; i < 4; i++) {
		pte_t p = t_pte(e.mm, e.a + i * PAGE_SIZE);
		bool armed = i >= 2;
		assert_int_equal(pte_protnone(p) && pte_uffd(p), armed);
		if (!armed)
			assert_true(pte_write(p));
	}
	env_fini(&e);
}

/* ---------------------------------------------------------------- UFFDIO_SET_MODE */

struct mode_row {
	const char *what;
	uint64_t features, enable, disable;
	long ret;
};

static const struct mode_row mode_rows[] = {
	{ "enable RWP_ASYNC", F_RWP, UFFD_FEATURE_RWP_ASYNC, 0, 0 },
	{ "disable RWP_ASYNC", F_RWP, 0, UFFD_FEATURE_RWP_ASYNC, 0 },
	{ "nothing", F_RWP, 0, 0, 0 },
	{ "overlap", F_RWP, UFFD_FEATURE_RWP_ASYNC, UFFD_FEATURE_RWP_ASYNC, -EINVAL },
	{ "enable without RWP", UFFD_FEATURE_PAGEFAULT_FLAG_WP, UFFD_FEATURE_RWP_ASYNC, 0,
	  -EINVAL },
	{ "disable without RWP", UFFD_FEATURE_PAGEFAULT_FLAG_WP, 0, UFFD_FEATURE_RWP_ASYNC, 0 },
	{ "enable WP_ASYNC", F_ALL, UFFD_FEATURE_WP_ASYNC, 0, -EINVAL },
	{ "disable RWP", F_RWP, 0, UFFD_FEATURE_RWP, -EINVAL },
};

static void test_set_mode_errors_table(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(mode_rows); i++) {
		const struct mode_row *r = &mode_rows[i];
		struct env e;
		env_init(&e, r->features);
		uint64_t before = e.ctx->features;
		long ret = userfaultfd_set_mode(e.ctx, r->enable, r->disable);
		if (ret != r->ret)
			fail_msg("%s: got %ld want %ld", r->what, ret, r->ret);
		if (ret)
			assert_int_equal(e.ctx->features, before);
		else
			assert_int_equal(e.ctx->features, (before | r->enable) & ~r->disable);
		env_fini(&e);
	}
}

/* ---------------------------------------------------------------- fault delivery */

static void test_rwp_fault_message_flags_for_read_and_write(void **state)
{
	struct env e;
	env_init_armed(&e, 2, 0x33, ANON_LEN);
	struct vm_area_struct *vma = vma_lookup(e.mm, e.a);

	for (int w = 0; w < 2; w++) {
		uint64_t addr = e.a + (uint64_t)w * PAGE_SIZE;
		struct vm_fault vmf = { .vma = vma,
					.address = addr + 0x123,
					.flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_USER |
						 (w ? FAULT_FLAG_WRITE : 0) };
		g_array_set_size(mm_events, 0);
		assert_int_equal(handle_userfault(&vmf, VM_UFFD_RWP), VM_FAULT_RETRY);
		struct uffd_msg msg;
		assert_true(uffd_msg_pop(e.ctx, &msg));
		assert_int_equal(msg.event, UFFD_EVENT_PAGEFAULT);
		assert_int_equal(msg.address, addr);
		assert_int_equal(msg.flags,
				 UFFD_PAGEFAULT_FLAG_RWP | (w ? UFFD_PAGEFAULT_FLAG_WRITE : 0));
		assert_int_equal(mm_events->len, 1);
		struct mm_event *ev = &g_array_index(mm_events, struct mm_event, 0);
		assert_int_equal(ev->kind, EV_RWP_FAULT);
		assert_false(ev->async);
		assert_int_equal(ev->write, w);
		assert_true(current->sleeping);
		current->sleeping = false;
	}
	assert_int_equal(e.ctx->waiters->len, 2);
	/* Resolving page 0 wakes only its waiter. */
	assert_int_equal(userfaultfd_rwprotect(e.ctx, e.a, PAGE_SIZE, 0), 0);
	assert_int_equal(e.ctx->waiters->len, 1);
	/* Page 0 is resolved: a late fault does not wait or queue. */
	struct vm_fault vmf = { .vma = vma, .address = e.a, .flags = FAULT_FLAG_ALLOW_RETRY };
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_RWP), VM_FAULT_RETRY);
	assert_int_equal(e.ctx->msgs->len, 0);
	env_fini(&e);
}

static void test_handle_userfault_sigbus_and_retry_cases(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	env_register(&e, e.a, ANON_LEN, M_MISSING);
	struct vm_area_struct *vma = vma_lookup(e.mm, e.a);
	struct vm_fault vmf = { .vma = vma, .address = e.a };

	g_array_set_size(mm_events, 0);
	vmf.flags = 0; /* no ALLOW_RETRY */
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_MISSING), VM_FAULT_SIGBUS);
	assert_int_equal(g_array_index(mm_events, struct mm_event, 0).kind, EV_SIGBUS);
	vmf.flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_MISSING), VM_FAULT_RETRY);
	assert_int_equal(e.ctx->msgs->len, 0);
	e.ctx->features |= UFFD_FEATURE_SIGBUS;
	vmf.flags = FAULT_FLAG_ALLOW_RETRY;
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_MISSING), VM_FAULT_SIGBUS);
	e.ctx->features &= ~UFFD_FEATURE_SIGBUS;
	e.ctx->released = true;
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_MISSING), VM_FAULT_RETRY);
	assert_int_equal(e.ctx->msgs->len, 0);
	e.ctx->released = false;
	/* A none PTE with MISSING: the message is queued. */
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_MISSING), VM_FAULT_RETRY);
	struct uffd_msg msg;
	assert_true(uffd_msg_pop(e.ctx, &msg));
	assert_int_equal(msg.flags, 0);
	current->sleeping = false;
	vma->vm_userfaultfd_ctx = NULL;
	assert_int_equal(handle_userfault(&vmf, VM_UFFD_MISSING), VM_FAULT_SIGBUS);
	vma->vm_userfaultfd_ctx = e.ctx;
	env_fini(&e);
}

/* ---------------------------------------------------------------- unregister, close */

static void test_unregister_after_prot_none_succeeds_and_disarms(void **state)
{
	struct env e;
	env_init_armed(&e, 4, 0x44, ANON_LEN);
	assert_int_equal(sys_mprotect(e.mm, e.a, ANON_LEN, PROT_NONE), 0);
	assert_int_equal(userfaultfd_unregister(e.ctx, e.a, ANON_LEN), 0);
	struct vm_area_struct *vma = vma_lookup(e.mm, e.a);
	assert_int_equal(vma->vm_flags & __VM_UFFD_FLAGS, 0);
	assert_null(vma->vm_userfaultfd_ctx);
	for (int i = 0; i < 4; i++)
		assert_false(pte_uffd(t_pte(e.mm, e.a + i * PAGE_SIZE)));
	/* Back to RW: every page is accessible, none is a leftover arm. */
	assert_int_equal(sys_mprotect(e.mm, e.a, ANON_LEN, ALL_RW), 0);
	for (int i = 0; i < 4; i++) {
		pte_t p = t_pte(e.mm, e.a + i * PAGE_SIZE);
		assert_false(pte_protnone(p));
		assert_false(pte_uffd(p));
	}
	env_fini(&e);
}

static void test_close_disarms_everything_and_wakes_all(void **state)
{
	struct env e;
	env_init_armed(&e, 4, 0x55, ANON_LEN);
	env_sync_fault(&e);
	assert_int_equal(e.ctx->waiters->len, 1);
	userfaultfd_release(e.ctx);
	assert_int_equal(e.ctx->waiters->len, 0);
	for (int i = 0; i < 4; i++) {
		pte_t p = t_pte(e.mm, e.a + i * PAGE_SIZE);
		assert_false(pte_protnone(p) || pte_uffd(p));
		uint64_t v;
		assert_int_equal(user_access(e.mm, e.a + i * PAGE_SIZE, false, 0, &v), RESULT_OK);
		assert_int_equal(v, 0x55);
	}
	env_fini(&e);
}

static void test_set_mode_async_wakes_every_waiter(void **state)
{
	struct env e;
	env_init_armed(&e, 1, 0x66, PAGE_SIZE);
	struct vm_fault vmf = env_sync_fault(&e);
	assert_int_equal(e.ctx->waiters->len, 1);
	assert_int_equal(userfaultfd_set_mode(e.ctx, UFFD_FEATURE_RWP_ASYNC, 0), 0);
	assert_int_equal(e.ctx->waiters->len, 0);
	assert_true(userfaultfd_rwp_async(vmf.vma));
	env_fini(&e);
}

/* ---------------------------------------------------------------- COPY, ZEROPAGE, CONTINUE */

static void test_copy_into_an_rwp_vma_installs_an_unarmed_page(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	env_register(&e, e.a, ANON_LEN, M_RWP | M_MISSING);
	assert_int_equal(userfaultfd_copy(e.ctx, e.a, 2 * PAGE_SIZE, 0xabc, 0), 0);
	pte_t p = t_pte(e.mm, e.a);
	assert_true(pte_present(p) && !pte_protnone(p) && !pte_uffd(p) && pte_write(p));
	assert_int_equal(vm_normal_page(vma_lookup(e.mm, e.a), e.a, p)->content, 0xabc);
	/* A second copy onto a mapped page. */
	assert_int_equal(userfaultfd_copy(e.ctx, e.a, PAGE_SIZE, 1, 0), -EEXIST);
	/* COPY with MODE_WP needs a WP registration. */
	assert_int_equal(
		userfaultfd_copy(e.ctx, e.a + 2 * PAGE_SIZE, PAGE_SIZE, 1, UFFDIO_COPY_MODE_WP),
		-EINVAL);
	/* ZEROPAGE maps the shared zero page. */
	assert_int_equal(userfaultfd_zeropage(e.ctx, e.a + 3 * PAGE_SIZE, PAGE_SIZE, 0), 0);
	p = t_pte(e.mm, e.a + 3 * PAGE_SIZE);
	assert_true(pte_special(p) && is_zero_pfn(pte_pfn(p)) && !pte_write(p));
	/* Unregistered memory: -ENOENT. */
	assert_int_equal(userfaultfd_copy(e.ctx, e.b, PAGE_SIZE, 1, 0), -ENOENT);
	env_fini(&e);
}

static void test_copy_with_wp_sets_the_uffd_bit_and_replaces_a_marker(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	env_register(&e, e.shm, 4 * PAGE_SIZE, M_WP | M_MISSING);
	/* uffd-wp on a none shmem PTE installs a marker; COPY may replace it. */
	assert_int_equal(
		userfaultfd_writeprotect(e.ctx, e.shm, PAGE_SIZE, UFFDIO_WRITEPROTECT_MODE_WP), 0);
	assert_true(pte_marker_uffd_wp(t_pte(e.mm, e.shm)));
	assert_int_equal(userfaultfd_copy(e.ctx, e.shm, PAGE_SIZE, 0x99, UFFDIO_COPY_MODE_WP), 0);
	pte_t p = t_pte(e.mm, e.shm);
	assert_true(pte_present(p) && pte_uffd(p) && !pte_write(p));
	assert_non_null(filemap_get_folio(e.file, 0));
	assert_int_equal(filemap_get_folio(e.file, 0)->refcount, 2); /* cache + PTE */
	env_fini(&e);
}

static void test_continue_maps_the_cached_page_or_fails(void **state)
{
	struct env e;
	env_init(&e, F_ALL);
	/* Populate the cache through the mapping, then drop the PTE. */
	t_write_pages(e.mm, e.shm, 1, 0x5a);
	zap_page_range_single(vma_lookup(e.mm, e.shm), e.shm, e.shm + PAGE_SIZE, true);
	env_register(&e, e.shm, 4 * PAGE_SIZE, M_MINOR | M_RWP);
	assert_int_equal(userfaultfd_continue(e.ctx, e.shm, PAGE_SIZE, 0), 0);
	pte_t p = t_pte(e.mm, e.shm);
	assert_true(pte_present(p) && !pte_protnone(p) && !pte_uffd(p));
	assert_int_equal(vm_normal_page(vma_lookup(e.mm, e.shm), e.shm, p)->content, 0x5a);
	/* Nothing cached at index 1. */
	assert_int_equal(userfaultfd_continue(e.ctx, e.shm + PAGE_SIZE, PAGE_SIZE, 0), -EFAULT);
	/* CONTINUE on anon memory. */
	env_register(&e, e.a, ANON_LEN, M_RWP);
	assert_int_equal(userfaultfd_continue(e.ctx, e.a, PAGE_SIZE, 0), -EINVAL);
	env_fini(&e);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, mmsim_setup, mmsim_teardown)
	const struct CMUnitTest tests[] = {
		T(test_api_validates_features_and_zeroes_the_reply_on_error),
		T(test_a_second_api_call_fails),
		T(test_ioctls_before_api_fail),
		T(test_register_errors_table),
		T(test_register_with_another_ctx_is_busy),
		T(test_register_of_part_splits_and_unregister_merges),
		T(test_rwprotect_errors_table),
		T(test_rwprotect_prescan_changes_nothing_on_enoent),
		T(test_rwprotect_arms_then_resolves_with_write_upgrade),
		T(test_set_mode_errors_table),
		T(test_rwp_fault_message_flags_for_read_and_write),
		T(test_handle_userfault_sigbus_and_retry_cases),
		T(test_unregister_after_prot_none_succeeds_and_disarms),
		T(test_close_disarms_everything_and_wakes_all),
		T(test_set_mode_async_wakes_every_waiter),
		T(test_copy_into_an_rwp_vma_installs_an_unarmed_page),
		T(test_copy_with_wp_sets_the_uffd_bit_and_replaces_a_marker),
		T(test_continue_maps_the_cached_page_or_fails),
	};
#undef T
	return cmocka_run_group_tests_name("uffd", tests, NULL, NULL);
}
