/* sim/sched.h - tasks, sleeping in userfaults, race windows and the event log.
 *
 * The simulator is single-threaded and deterministic. A "task" is whatever
 * runs a trace step (a user thread touching memory, a GUP caller). When a
 * sync userfault makes it sleep, the step returns RESULT_BLOCKED and the
 * engine keeps the step as a continuation; a wake (resolve, COPY, WAKE,
 * SET_MODE to async, close) marks the task runnable and the engine retries
 * it. Kernel daemons (khugepaged, reclaim) are explicit trace steps.
 *
 * Race windows: a path that drops its locks between a check and the act
 * calls race_window("name"); the engine may run other trace steps there
 * (trace key race=N), which is how lock-free interleavings are replayed.
 *
 * The event log records what the kernel did that user space can observe
 * (a fault delivered or resolved in place) and what user space did to data
 * (an access). The oracle reads it; nothing in sim/mm reads it back.
 */
#ifndef MMSIM_SCHED_H
#define MMSIM_SCHED_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct userfaultfd_ctx;

struct task {
	uint32_t id;
	bool sleeping;
	bool woken;
	struct userfaultfd_ctx *wait_ctx;
	uint64_t wait_address;
};

extern struct task *current;

/* Called by handle_userfault: the current task sleeps on ctx at address. */
void task_sleep_on(struct userfaultfd_ctx *ctx, uint64_t address);
/* Wake every task sleeping on ctx for an address in [start, start+len);
 * len 0 wakes all of ctx (as the kernel's full-range wake). */
void userfaultfd_wake_range(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len);

typedef void (*race_window_fn)(const char *point, void *arg);
void race_window(const char *point);
void race_window_set(race_window_fn fn, void *arg);
/* A step run inside a race window would sleep on a lock (name) that the
 * suspended path holds, so it cannot complete there; the engine refuses the
 * step. Set by the path, read and cleared by the engine. */
void race_window_would_wait(const char *lock);
extern const char *race_wait_lock;

enum mm_event_kind {
	EV_RWP_FAULT, /* an RWP fault: message queued (sync) or resolved in place (async) */
	EV_WP_FAULT,  /* a WP fault: message queued or async bit clear */
	EV_MISSING_FAULT,
	EV_MINOR_FAULT,
	EV_ACCESS,   /* a user or GUP access to a page's data completed */
	EV_SIGBUS,   /* a userfault could not sleep (no FAULT_FLAG_ALLOW_RETRY) */
	EV_LIVELOCK, /* a retry bound was exceeded without progress */
	/* Successful userfaultfd ioctls, in the order the user issued them
	 * (trace steps and the serve handler alike): emitted by the engine,
	 * except WP/UNWP and FILL, which the paths emit for the part they
	 * changed (a range ioctl that fails midway keeps its prefix). */
	EV_UFFD_REGISTER, /* mode = UFFDIO_REGISTER_MODE_* */
	EV_UFFD_UNREGISTER,
	EV_UFFD_ARM,	 /* UFFDIO_RWPROTECT with MODE_RWP */
	EV_UFFD_RESOLVE, /* UFFDIO_RWPROTECT without MODE_RWP */
	EV_UFFD_WP,	 /* UFFDIO_WRITEPROTECT with MODE_WP */
	EV_UFFD_UNWP,	 /* UFFDIO_WRITEPROTECT without MODE_WP */
	EV_UFFD_FILL,	 /* UFFDIO_COPY (value) / ZEROPAGE (0) / CONTINUE */
	EV_UFFD_CLOSE,	 /* close(): mm_id is the ctx's mm */
	/* mremap() moved [address, address + len) to new_address (new_len
	 * bytes there): emitted by the syscall entry on success. */
	EV_MREMAP,
	/* fork(): emitted by sys_fork. mm_id = parent, value = child mm id.
	 * ctx_id 0: the mm-level event (first, once). Then one per parent
	 * context that got a child context (UFFD_FEATURE_EVENT_FORK): ctx_id
	 * = the parent's, mode = the child's. */
	EV_FORK,
	/* UFFDIO_MOVE moved [new_address, new_address + len) to address (the
	 * moved prefix): emitted by userfaultfd_move(). */
	EV_UFFD_MOVE,
};

/* Who performed an EV_ACCESS. */
#define ACCESS_USER 0
#define ACCESS_GUP 1

struct mm_event {
	enum mm_event_kind kind;
	uint64_t mm_id;
	uint64_t address; /* page aligned */
	bool write;
	bool async;  /* resolved in place, no message */
	uint8_t who; /* ACCESS_* */
	unsigned foll_flags;
	uint64_t value;	    /* data read or written; fill value */
	uint64_t len;	    /* bytes, for the EV_UFFD_* range events */
	uint64_t mode;	    /* register mode / ioctl mode */
	uint32_t ctx_id;    /* the userfaultfd context, for EV_UFFD_* */
	bool continue_fill; /* EV_UFFD_FILL from UFFDIO_CONTINUE (content unchanged) */
	bool zero_fill;	    /* EV_UFFD_FILL from UFFDIO_ZEROPAGE (the zero page) */
	/* EV_MREMAP: the destination */
	uint64_t new_address, new_len;
};

extern GArray *mm_events; /* struct mm_event, cleared by the engine per step */

void mm_event_emit(struct mm_event ev);
/* The engine owns tasks; wakeups find them through this lookup. */
void sched_set_task_lookup(struct task *(*fn)(uint32_t id));
void sched_init(void);
void sched_destroy(void);

#endif
