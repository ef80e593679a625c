/* tools/hostreplay/hostreplay.h - what the coordinator (hostreplay.c) and
 * the workers (worker.c) share: the request channel, the task table and
 * the parsed trace. See hostreplay.c for the design.
 */
#ifndef HOSTREPLAY_H
#define HOSTREPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../sim/trace/trace.h"

#define HR_PAGE 4096ULL
#define HR_PMD (2ULL << 20)
#define HR_ALTSTACK (64 * 1024)

/* gup caller= values (gup_caller_names[] in sim/trace/commands.c) */
enum {
	GUP_PROCESS_VM_READV = 6,
	GUP_PROCESS_VM_WRITEV = 7,
	GUP_PROC_MEM_READ = 8,
	GUP_PROC_MEM_WRITE = 9,
	GUP_VMSPLICE = 11,
};

/* Requests to a worker; a[] as each op says. */
enum hr_op {
	OP_MMAP,      /* at, len, prot, shared, fd, offset, align, has_at -> address */
	OP_MUNMAP,    /* addr, len */
	OP_MPROTECT,  /* addr, len, prot */
	OP_MADVISE,   /* addr, len, advice */
	OP_TASK,      /* step: region base, region pages (a thread runs the step) */
	OP_UFFD_OPEN, /* -> the fd, passed back with SCM_RIGHTS */
	OP_FORK,      /* the child's channel comes with SCM_RIGHTS -> child pid */
	OP_MREMAP,    /* old, len, has_at, at -> new address */
	OP_UNPIN,     /* step: region base, region pages */
	OP_UFFD_MOVE, /* dst, src, len, mode; the uffd comes with SCM_RIGHTS */
	OP_EXIT,
};

struct hr_req {
	int op;
	int step;
	uint64_t a[8];
};

struct hr_rep {
	int64_t ret; /* >= 0 a value, < 0 -errno */
};

/* One slot per trace step, in a MAP_SHARED mapping every worker inherits:
 * the thread running the step fills it, the coordinator reads it. */
enum { HR_TASK_FREE, HR_TASK_RUNNING, HR_TASK_DONE };
struct hr_task {
	int state;
	volatile pid_t pid, tid;
	volatile uint64_t addr; /* the page being accessed */
	volatile int result;
};

extern struct hr_task *hr_tasks;
extern const struct trace *hr_trace;

static inline const struct step *hr_step(int i)
{
	return &g_array_index(hr_trace->steps, struct step, i);
}

/* The page numbers of the step's pages= (all nr_pages when absent), in a
 * malloc()ed array; the count. */
size_t hr_step_pages(const struct step *s, uint64_t nr_pages, uint64_t **out);

ssize_t hr_send_fd(int sock, const void *buf, size_t len, int fd);
ssize_t hr_recv_fd(int sock, void *buf, size_t len, int *fd);

void hr_worker_main(int sock) __attribute__((noreturn));

#endif
