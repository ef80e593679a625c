/* sim/sched.c - tasks, wakeups, race windows and the event log. */
#include "sched.h"

#include "model/uffd.h"

static struct task idle_task;
struct task *current = &idle_task;
GArray *mm_events;

static race_window_fn race_fn;
static void *race_arg;

void sched_init(void)
{
	if (!mm_events)
		mm_events = g_array_new(FALSE, TRUE, sizeof(struct mm_event));
	g_array_set_size(mm_events, 0);
	current = &idle_task;
	race_fn = NULL;
	race_wait_lock = NULL;
}

void sched_destroy(void)
{
	if (mm_events)
		g_array_free(mm_events, TRUE);
	mm_events = NULL;
}

void task_sleep_on(struct userfaultfd_ctx *ctx, uint64_t address)
{
	struct uffd_waiter w = { current->id, address };
	g_array_append_val(ctx->waiters, w);
	current->sleeping = true;
	current->woken = false;
	current->wait_ctx = ctx;
	current->wait_address = address;
}

/* Tasks are owned by the engine; it looks them up by id on wake. */
static struct task *(*task_lookup)(uint32_t id);
void sched_set_task_lookup(struct task *(*fn)(uint32_t id)) { task_lookup = fn; }

void userfaultfd_wake_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len)
{
	for (guint i = 0; i < ctx->waiters->len;) {
		struct uffd_waiter *w = &g_array_index(ctx->waiters, struct uffd_waiter, i);
		if (len && (w->address < start || w->address >= start + len)) {
			i++;
			continue;
		}
		struct task *t = task_lookup ? task_lookup(w->task) : NULL;
		/* __wake_userfault() also wakes (and autoremoves) the waiters
		 * still on fault_pending_wqh: a message not read yet is gone. */
		uffd_msg_drop_pagefault(ctx, w->address);
		if (t) {
			t->sleeping = false;
			t->woken = true;
			t->wait_ctx = NULL;
		}
		g_array_remove_index(ctx->waiters, i);
	}
}

void race_window(const char *point)
{
	if (race_fn) {
		race_window_fn fn = race_fn;
		race_fn = NULL; /* one window per armed race */
		fn(point, race_arg);
	}
}

const char *race_wait_lock;

void race_window_would_wait(const char *lock)
{
	if (!race_wait_lock)
		race_wait_lock = lock;
}

void race_window_set(race_window_fn fn, void *arg)
{
	race_fn = fn;
	race_arg = arg;
}

void mm_event_emit(struct mm_event ev) { g_array_append_val(mm_events, ev); }
