/* tests/unit/test_sched_wake.c - sleeping in userfaults, wakeups, race windows. */
#include "mmsim_test.h"

static struct task tasks[4];

static struct task *lookup(uint32_t id)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(tasks); i++)
		if (tasks[i].id == id)
			return &tasks[i];
	return NULL;
}

static int setup(void **state)
{
	mmsim_setup(state);
	for (unsigned i = 0; i < G_N_ELEMENTS(tasks); i++)
		tasks[i] = (struct task){ .id = i + 1 };
	sched_set_task_lookup(lookup);
	return 0;
}

static int teardown(void **state)
{
	sched_set_task_lookup(NULL);
	current = NULL;
	return mmsim_teardown(state);
}

static void sleep_on(struct userfaultfd_ctx *ctx, unsigned t, uint64_t addr)
{
	struct task *saved = current;
	current = &tasks[t];
	task_sleep_on(ctx, addr);
	current = saved;
}

/* Ranged wakes wake exactly the tasks sleeping inside the range. */
static void a_ranged_wake_wakes_only_tasks_in_the_range(void **state)
{
	struct userfaultfd_ctx *ctx = userfaultfd_ctx_alloc(NULL);
	sleep_on(ctx, 0, 0x1000);
	sleep_on(ctx, 1, 0x2000);
	sleep_on(ctx, 2, 0x3000);
	assert_true(tasks[0].sleeping && tasks[1].sleeping && tasks[2].sleeping);
	assert_int_equal(ctx->waiters->len, 3);

	userfaultfd_wake_range(ctx, 0x2000, PAGE_SIZE);
	assert_true(tasks[0].sleeping);
	assert_false(tasks[1].sleeping);
	assert_true(tasks[1].woken);
	assert_true(tasks[2].sleeping);
	assert_int_equal(ctx->waiters->len, 2);

	userfaultfd_wake_range(ctx, 0x4000, PAGE_SIZE); /* nobody there */
	assert_int_equal(ctx->waiters->len, 2);

	userfaultfd_wake_range(ctx, 0, 0); /* len 0: everyone */
	assert_false(tasks[0].sleeping || tasks[2].sleeping);
	assert_int_equal(ctx->waiters->len, 0);
	userfaultfd_ctx_free(ctx);
}

static void a_wake_on_another_context_wakes_nobody(void **state)
{
	struct userfaultfd_ctx *a = userfaultfd_ctx_alloc(NULL), *b = userfaultfd_ctx_alloc(NULL);
	sleep_on(a, 0, 0x1000);
	userfaultfd_wake_range(b, 0, 0);
	assert_true(tasks[0].sleeping);
	assert_ptr_equal(tasks[0].wait_ctx, a);
	assert_int_equal(tasks[0].wait_address, 0x1000);
	userfaultfd_ctx_free(a);
	userfaultfd_ctx_free(b);
}

/* __wake_userfault() wakes the waiters still on fault_pending_wqh too and
 * autoremoves them: a page-fault message not read yet disappears with its
 * waiter; read messages, other pages' and non-fault events stay. */
static void a_wake_drops_the_unread_message_of_each_woken_waiter(void **state)
{
	static const struct {
		uint64_t wake_start, wake_len;
		bool read_first; /* the handler read the message before the wake */
		unsigned left;	 /* messages still queued after the wake */
	} rows[] = {
		{ 0x2000, PAGE_SIZE, false, 2 }, /* 0x2000's fault message dropped */
		{ 0x2000, PAGE_SIZE, true, 3 },	 /* already read: nothing to drop */
		{ 0x4000, PAGE_SIZE, false, 3 }, /* nobody woken */
		{ 0, 0, false, 1 },		 /* everyone: only the event stays */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct userfaultfd_ctx *ctx = userfaultfd_ctx_alloc(NULL);
		struct uffd_msg m, ev = { .event = UFFD_EVENT_REMAP, .address = 0x2000 };
		uffd_msg_push(ctx, ev);
		for (unsigned t = 0; t < 2; t++) {
			uffd_msg_push(ctx, (struct uffd_msg){ .event = UFFD_EVENT_PAGEFAULT,
							      .address = 0x2000 + t * 0x1000 });
			sleep_on(ctx, t, 0x2000 + t * 0x1000);
		}
		if (rows[i].read_first) {
			/* read the REMAP event and 0x2000's fault message */
			assert_true(uffd_msg_pop(ctx, &m));
			assert_true(uffd_msg_pop(ctx, &m));
			assert_int_equal(m.address, 0x2000);
		}
		userfaultfd_wake_range(ctx, rows[i].wake_start, rows[i].wake_len);
		unsigned left = ctx->msgs->len + (rows[i].read_first ? 2 : 0);
		assert_int_equal(left, rows[i].left);
		for (guint k = 0; k < ctx->msgs->len; k++) {
			struct uffd_msg *q = &g_array_index(ctx->msgs, struct uffd_msg, k);
			if (q->event == UFFD_EVENT_PAGEFAULT && !rows[i].read_first)
				assert_true(q->address < rows[i].wake_start ||
					    q->address >= rows[i].wake_start + rows[i].wake_len ||
					    !rows[i].wake_len);
		}
		userfaultfd_ctx_free(ctx);
		for (unsigned t = 0; t < G_N_ELEMENTS(tasks); t++)
			tasks[t] = (struct task){ .id = t + 1 };
	}
}

static int window_calls;
static const char *window_point;
static void window(const char *point, void *arg)
{
	window_calls++;
	window_point = point;
	assert_ptr_equal(arg, &window_calls);
}

/* An armed race window runs once, at the first window the path opens. */
static void a_race_window_fires_once(void **state)
{
	window_calls = 0;
	race_window("nobody-armed-me");
	assert_int_equal(window_calls, 0);
	race_window_set(window, &window_calls);
	race_window("retract_page_tables:recheck");
	race_window("retract_page_tables:recheck");
	assert_int_equal(window_calls, 1);
	assert_string_equal(window_point, "retract_page_tables:recheck");
}

static void events_are_logged_in_order(void **state)
{
	assert_int_equal(mm_events->len, 0);
	mm_event_emit((struct mm_event){ .kind = EV_RWP_FAULT, .address = 0x1000 });
	mm_event_emit((struct mm_event){ .kind = EV_ACCESS, .address = 0x2000, .write = true });
	assert_int_equal(mm_events->len, 2);
	assert_int_equal(g_array_index(mm_events, struct mm_event, 0).kind, EV_RWP_FAULT);
	assert_int_equal(g_array_index(mm_events, struct mm_event, 1).address, 0x2000);
	assert_true(g_array_index(mm_events, struct mm_event, 1).write);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_ranged_wake_wakes_only_tasks_in_the_range, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_wake_on_another_context_wakes_nobody, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_wake_drops_the_unread_message_of_each_woken_waiter, setup, teardown),
		cmocka_unit_test_setup_teardown(a_race_window_fires_once, setup, teardown),
		cmocka_unit_test_setup_teardown(events_are_logged_in_order, setup, teardown),
	};
	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
