/* tests/unit/test_model_uffd.c - the userfaultfd context object and UAPI values of
 * model/uffd.c and model/uffd.h. */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/uffd.h"

/* Values from include/uapi/linux/userfaultfd.h and the RWP series (09-13). */
static void uapi_constants_match_the_rwp_series(void **state)
{
	const struct {
		const char *name;
		uint64_t value, want;
	} rows[] = {
		{ "UFFD_API", UFFD_API, 0xaa },
		{ "UFFD_FEATURE_PAGEFAULT_FLAG_WP", UFFD_FEATURE_PAGEFAULT_FLAG_WP, 1ULL << 0 },
		{ "UFFD_FEATURE_EVENT_FORK", UFFD_FEATURE_EVENT_FORK, 1ULL << 1 },
		{ "UFFD_FEATURE_MISSING_SHMEM", UFFD_FEATURE_MISSING_SHMEM, 1ULL << 5 },
		{ "UFFD_FEATURE_THREAD_ID", UFFD_FEATURE_THREAD_ID, 1ULL << 8 },
		{ "UFFD_FEATURE_MINOR_SHMEM", UFFD_FEATURE_MINOR_SHMEM, 1ULL << 10 },
		{ "UFFD_FEATURE_EXACT_ADDRESS", UFFD_FEATURE_EXACT_ADDRESS, 1ULL << 11 },
		{ "UFFD_FEATURE_WP_HUGETLBFS_SHMEM", UFFD_FEATURE_WP_HUGETLBFS_SHMEM, 1ULL << 12 },
		{ "UFFD_FEATURE_WP_UNPOPULATED", UFFD_FEATURE_WP_UNPOPULATED, 1ULL << 13 },
		{ "UFFD_FEATURE_POISON", UFFD_FEATURE_POISON, 1ULL << 14 },
		{ "UFFD_FEATURE_WP_ASYNC", UFFD_FEATURE_WP_ASYNC, 1ULL << 15 },
		{ "UFFD_FEATURE_MOVE", UFFD_FEATURE_MOVE, 1ULL << 16 },
		{ "UFFD_FEATURE_RWP", UFFD_FEATURE_RWP, 1ULL << 17 },
		{ "UFFD_FEATURE_RWP_ASYNC", UFFD_FEATURE_RWP_ASYNC, 1ULL << 18 },
		{ "UFFD_API_FEATURES", UFFD_API_FEATURES, 0x7ffff },
		{ "UFFDIO_REGISTER_MODE_MISSING", UFFDIO_REGISTER_MODE_MISSING, 1ULL << 0 },
		{ "UFFDIO_REGISTER_MODE_WP", UFFDIO_REGISTER_MODE_WP, 1ULL << 1 },
		{ "UFFDIO_REGISTER_MODE_MINOR", UFFDIO_REGISTER_MODE_MINOR, 1ULL << 2 },
		{ "UFFDIO_REGISTER_MODE_RWP", UFFDIO_REGISTER_MODE_RWP, 1ULL << 3 },
		{ "UFFD_PAGEFAULT_FLAG_WRITE", UFFD_PAGEFAULT_FLAG_WRITE, 1ULL << 0 },
		{ "UFFD_PAGEFAULT_FLAG_WP", UFFD_PAGEFAULT_FLAG_WP, 1ULL << 1 },
		{ "UFFD_PAGEFAULT_FLAG_MINOR", UFFD_PAGEFAULT_FLAG_MINOR, 1ULL << 2 },
		{ "UFFD_PAGEFAULT_FLAG_RWP", UFFD_PAGEFAULT_FLAG_RWP, 1ULL << 3 },
		{ "UFFDIO_RWPROTECT_MODE_RWP", UFFDIO_RWPROTECT_MODE_RWP, 1ULL << 0 },
		{ "UFFDIO_RWPROTECT_MODE_DONTWAKE", UFFDIO_RWPROTECT_MODE_DONTWAKE, 1ULL << 1 },
		{ "UFFDIO_WRITEPROTECT_MODE_WP", UFFDIO_WRITEPROTECT_MODE_WP, 1ULL << 0 },
		{ "UFFDIO_WRITEPROTECT_MODE_DONTWAKE", UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
		  1ULL << 1 },
		{ "UFFDIO_COPY_MODE_DONTWAKE", UFFDIO_COPY_MODE_DONTWAKE, 1ULL << 0 },
		{ "UFFDIO_COPY_MODE_WP", UFFDIO_COPY_MODE_WP, 1ULL << 1 },
		{ "_UFFDIO_REGISTER", _UFFDIO_REGISTER, 0x00 },
		{ "_UFFDIO_UNREGISTER", _UFFDIO_UNREGISTER, 0x01 },
		{ "_UFFDIO_WAKE", _UFFDIO_WAKE, 0x02 },
		{ "_UFFDIO_COPY", _UFFDIO_COPY, 0x03 },
		{ "_UFFDIO_ZEROPAGE", _UFFDIO_ZEROPAGE, 0x04 },
		{ "_UFFDIO_MOVE", _UFFDIO_MOVE, 0x05 },
		{ "_UFFDIO_WRITEPROTECT", _UFFDIO_WRITEPROTECT, 0x06 },
		{ "_UFFDIO_CONTINUE", _UFFDIO_CONTINUE, 0x07 },
		{ "_UFFDIO_POISON", _UFFDIO_POISON, 0x08 },
		{ "_UFFDIO_RWPROTECT", _UFFDIO_RWPROTECT, 0x09 },
		{ "_UFFDIO_SET_MODE", _UFFDIO_SET_MODE, 0x0a },
		{ "_UFFDIO_API", _UFFDIO_API, 0x3f },
		{ "UFFD_EVENT_PAGEFAULT", UFFD_EVENT_PAGEFAULT, 0x12 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (rows[i].value != rows[i].want)
			print_message("%s\n", rows[i].name);
		ROW_EQ(i, rows[i].value, rows[i].want);
	}
}

static void ctx_alloc_starts_empty_with_a_fresh_id(void **state)
{
	struct mm_struct *mm = (struct mm_struct *)&state; /* only stored, never used */
	struct userfaultfd_ctx *a = userfaultfd_ctx_alloc(mm);
	struct userfaultfd_ctx *b = userfaultfd_ctx_alloc(NULL);

	assert_int_equal(b->id, a->id + 1);
	assert_ptr_equal(a->mm, mm);
	assert_null(b->mm);
	assert_int_equal(a->features, 0);
	assert_false(a->api_done);
	assert_false(a->released);
	assert_int_equal(a->mmap_changing, 0);
	assert_int_equal(a->msgs->len, 0);
	assert_int_equal(a->waiters->len, 0);
	assert_int_equal(g_array_get_element_size(a->msgs), sizeof(struct uffd_msg));
	assert_int_equal(g_array_get_element_size(a->waiters), sizeof(struct uffd_waiter));
	assert_ptr_not_equal(a->msgs, b->msgs);
	userfaultfd_ctx_free(a);
	userfaultfd_ctx_free(b);
}

static void messages_come_out_in_fifo_order(void **state)
{
	struct userfaultfd_ctx *ctx = userfaultfd_ctx_alloc(NULL);
	const struct uffd_msg msgs[] = {
		{ .event = UFFD_EVENT_PAGEFAULT,
		  .flags = UFFD_PAGEFAULT_FLAG_RWP,
		  .address = 0x7f0000001000ULL },
		{ .event = UFFD_EVENT_PAGEFAULT,
		  .flags = UFFD_PAGEFAULT_FLAG_RWP | UFFD_PAGEFAULT_FLAG_WRITE,
		  .address = 0x7f0000002000ULL },
		{ .event = UFFD_EVENT_PAGEFAULT,
		  .flags = UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE,
		  .address = 0x7f0000001000ULL },
		{ .event = UFFD_EVENT_PAGEFAULT, .flags = 0, .address = 0x1000 },
		{ .event = UFFD_EVENT_PAGEFAULT,
		  .flags = UFFD_PAGEFAULT_FLAG_MINOR,
		  .address = 0x7fffffffe000ULL },
	};
	struct uffd_msg out = { .event = 0xee, .flags = 0xee, .address = 0xee };

	assert_false(uffd_msg_pop(ctx, &out));
	assert_int_equal(out.event, 0xee); /* untouched on an empty queue */
	assert_int_equal(out.address, 0xee);
	for (size_t i = 0; i < G_N_ELEMENTS(msgs); i++) {
		uffd_msg_push(ctx, msgs[i]);
		ROW_EQ(i, ctx->msgs->len, i + 1);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(msgs); i++) {
		assert_true(uffd_msg_pop(ctx, &out));
		ROW_EQ(i, out.event, msgs[i].event);
		ROW_EQ(i, out.flags, msgs[i].flags);
		ROW_EQ(i, out.address, msgs[i].address);
		ROW_EQ(i, ctx->msgs->len, G_N_ELEMENTS(msgs) - i - 1);
	}
	assert_false(uffd_msg_pop(ctx, &out));

	/* interleaved: push 0 1, pop -> 0, push 2, pop -> 1, pop -> 2 */
	uffd_msg_push(ctx, msgs[0]);
	uffd_msg_push(ctx, msgs[1]);
	assert_true(uffd_msg_pop(ctx, &out));
	assert_int_equal(out.address, msgs[0].address);
	uffd_msg_push(ctx, msgs[2]);
	assert_true(uffd_msg_pop(ctx, &out));
	assert_int_equal(out.flags, msgs[1].flags);
	assert_true(uffd_msg_pop(ctx, &out));
	assert_int_equal(out.flags, msgs[2].flags);
	assert_false(uffd_msg_pop(ctx, &out));

	/* free with messages still queued */
	uffd_msg_push(ctx, msgs[3]);
	userfaultfd_ctx_free(ctx);
}

static void waiters_array_holds_task_and_address(void **state)
{
	struct userfaultfd_ctx *ctx = userfaultfd_ctx_alloc(NULL);
	const struct uffd_waiter w[] = { { 1, 0x1000 }, { 2, 0x2000 }, { 3, 0x1000 } };

	for (size_t i = 0; i < G_N_ELEMENTS(w); i++)
		g_array_append_val(ctx->waiters, w[i]);
	assert_int_equal(ctx->waiters->len, 3);
	for (size_t i = 0; i < G_N_ELEMENTS(w); i++) {
		struct uffd_waiter *got = &g_array_index(ctx->waiters, struct uffd_waiter, i);

		ROW_EQ(i, got->task, w[i].task);
		ROW_EQ(i, got->address, w[i].address);
	}
	/* a wake of one task keeps the others in order */
	g_array_remove_index(ctx->waiters, 0);
	assert_int_equal(g_array_index(ctx->waiters, struct uffd_waiter, 0).task, 2);
	assert_int_equal(g_array_index(ctx->waiters, struct uffd_waiter, 1).task, 3);
	userfaultfd_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uapi_constants_match_the_rwp_series),
		cmocka_unit_test(ctx_alloc_starts_empty_with_a_fresh_id),
		cmocka_unit_test(messages_come_out_in_fifo_order),
		cmocka_unit_test(waiters_array_holds_task_and_address),
	};

	return cmocka_run_group_tests_name("model_uffd", tests, NULL, NULL);
}
