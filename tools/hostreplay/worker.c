/* tools/hostreplay/worker.c - the process that stands for one trace process.
 *
 * A worker is forked from the coordinator (or, for `fork C parent=P`, from
 * P's worker) and serves requests on a SOCK_SEQPACKET channel: mmap,
 * munmap, mprotect, madvise, mremap, userfaultfd(), fork, unpin, exit.
 * Accesses, MADV_POPULATE_* and GUP callers run in a detached thread each,
 * because they may sleep in handle_userfault(); the thread reports through
 * the shared task table (struct hr_task) and the main thread keeps serving.
 * A SIGSEGV or SIGBUS in such a thread ends its step with sigsegv/sigbus at
 * the faulting page (per-thread sigsetjmp, handler on an alternate stack).
 *
 * Nothing here uses GLib: a worker may be forked from a multi-threaded
 * worker, so it keeps to plain system calls.
 */
#define _GNU_SOURCE
#include "hostreplay.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host_uapi.h"

/* A page vmsplice()d into a pipe by `gup ... caller=vmsplice hold=1`: the
 * pipe keeps its page reference until `unpin` closes it. */
struct held_pipe {
	uint64_t addr;
	int rfd, wfd;
};

static int w_sock = -1;

/* At most this many vmsplice() calls in flight (one per task thread). */
#define HR_MAX_INFLIGHT 256

/* Task threads get their stack and signal stack from a pool reserved when
 * the worker starts, one slot per trace step, and all threads share the
 * main malloc arena: glibc would otherwise mmap() an 8 MiB stack and a
 * 64 MiB arena per thread while the trace runs, and the kernel places them
 * in the holes that munmap and mremap leave in the trace's regions, where a
 * later mprotect, access or GUP of the unmapped range would find them. */
#define HR_TASK_STACK (256 * 1024)
#define HR_TASK_SLOT (HR_TASK_STACK + HR_ALTSTACK)
static char *w_stacks;
static size_t w_nstacks;
static struct held_pipe *w_held;
static size_t w_nheld, w_cap;
static pthread_mutex_t w_held_lock = PTHREAD_MUTEX_INITIALIZER;

static __thread sigjmp_buf tl_jmp;
static __thread volatile sig_atomic_t tl_armed;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (tl_armed) {
		tl_armed = 0;
		siglongjmp(tl_jmp, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One user load or store; the result of the access. */
static int __attribute__((noinline)) touch(uint64_t addr, bool write, uint64_t value)
{
	int sig = sigsetjmp(tl_jmp, 1);
	if (sig)
		return sig == SIGBUS ? RESULT_SIGBUS : RESULT_SIGSEGV;
	tl_armed = 1;
	if (write)
		*(volatile uint64_t *)(uintptr_t)addr = value;
	else
		(void)*(volatile uint64_t *)(uintptr_t)addr;
	tl_armed = 0;
	return RESULT_OK;
}

static void held_add(uint64_t addr, int rfd, int wfd)
{
	pthread_mutex_lock(&w_held_lock);
	if (w_nheld == w_cap) {
		w_cap = w_cap ? 2 * w_cap : 64;
		w_held = realloc(w_held, w_cap * sizeof(*w_held));
		if (!w_held)
			abort();
	}
	w_held[w_nheld++] = (struct held_pipe){ addr, rfd, wfd };
	pthread_mutex_unlock(&w_held_lock);
}

/* Close the held pipes of pages [addr, addr + len) (the whole table when
 * len is 0). */
static void held_release(uint64_t addr, uint64_t len)
{
	pthread_mutex_lock(&w_held_lock);
	for (size_t i = 0; i < w_nheld;) {
		if (len && (w_held[i].addr < addr || w_held[i].addr >= addr + len)) {
			i++;
			continue;
		}
		close(w_held[i].rfd);
		close(w_held[i].wfd);
		w_held[i] = w_held[--w_nheld];
	}
	pthread_mutex_unlock(&w_held_lock);
}

/* The pipe of a vmsplice() in flight: a task may sleep in a userfault inside
 * vmsplice() while its worker forks, and a fork child that kept the pipe's
 * descriptors would keep the page reference the pipe takes once the task
 * is woken (MADV_COLLAPSE then fails with EAGAIN on the extra reference:
 * conformance s10-t00045). Open under w_held_lock, which do_fork() holds
 * across fork(), so the child knows every in-flight pipe and closes it. */
static struct held_pipe w_inflight[HR_MAX_INFLIGHT];

static int inflight_open(int p[2])
{
	int ret = -1;

	pthread_mutex_lock(&w_held_lock);
	for (size_t i = 0; i < HR_MAX_INFLIGHT; i++) {
		if (w_inflight[i].rfd > 0)
			continue;
		ret = pipe2(p, O_CLOEXEC);
		if (!ret)
			w_inflight[i] = (struct held_pipe){ 0, p[0], p[1] };
		break;
	}
	pthread_mutex_unlock(&w_held_lock);
	if (ret && !errno)
		errno = EMFILE;
	return ret;
}

/* Forget an in-flight pipe; close its descriptors unless close_fds is false
 * (they became a held pipe). In a fork child, close all (rfd < 0). */
static void inflight_done(int rfd, bool close_fds)
{
	pthread_mutex_lock(&w_held_lock);
	for (size_t i = 0; i < HR_MAX_INFLIGHT; i++) {
		if (w_inflight[i].rfd <= 0 || (rfd >= 0 && w_inflight[i].rfd != rfd))
			continue;
		if (close_fds) {
			close(w_inflight[i].rfd);
			close(w_inflight[i].wfd);
		}
		w_inflight[i] = (struct held_pipe){ 0, 0, 0 };
	}
	pthread_mutex_unlock(&w_held_lock);
}

static int gup_one(unsigned caller, int memfd, uint64_t addr, uint64_t value, bool hold)
{
	uint64_t v = value;
	struct iovec local = { &v, sizeof(v) }, remote = { (void *)(uintptr_t)addr, sizeof(v) };
	ssize_t n;

	switch (caller) {
	case GUP_PROCESS_VM_READV:
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		break;
	case GUP_PROCESS_VM_WRITEV:
		n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
		break;
	case GUP_PROC_MEM_READ:
		n = pread(memfd, &v, sizeof(v), (off_t)addr);
		break;
	case GUP_PROC_MEM_WRITE:
		n = pwrite(memfd, &v, sizeof(v), (off_t)addr);
		break;
	case GUP_VMSPLICE: {
		int p[2];
		struct iovec iov = { (void *)(uintptr_t)addr, HR_PAGE };
		if (inflight_open(p))
			return errno;
		n = vmsplice(p[1], &iov, 1, 0);
		if (n < 0) {
			int err = errno;
			inflight_done(p[0], true);
			return err;
		}
		if (hold) {
			held_add(addr, p[0], p[1]);
			inflight_done(p[0], false);
		} else {
			inflight_done(p[0], true);
		}
		return RESULT_OK;
	}
	default:
		return EINVAL;
	}
	if (n < 0)
		return errno;
	return n == 0 ? EIO : RESULT_OK;
}

struct task_arg {
	int step;
	uint64_t base, nr_pages;
};

static int run_task(const struct step *s, struct hr_task *t, uint64_t base, uint64_t nr_pages)
{
	uint64_t *pages = NULL;
	size_t n = hr_step_pages(s, nr_pages, &pages);
	int res = RESULT_OK;

	switch (s->cmd) {
	case CMD_READ:
	case CMD_WRITE:
		for (size_t i = 0; i < n && res == RESULT_OK; i++) {
			t->addr = base + pages[i] * HR_PAGE;
			res = touch(t->addr, s->cmd == CMD_WRITE, step_u64(s, "value", 0));
		}
		break;
	case CMD_MADVISE: {
		uint64_t first = n ? pages[0] : 0, last = n ? pages[n - 1] : 0;
		t->addr = base + first * HR_PAGE;
		if (madvise((void *)(uintptr_t)t->addr, (last - first + 1) * HR_PAGE,
			    (int)step_u64(s, "advice", 0)))
			res = errno;
		break;
	}
	case CMD_GUP: {
		unsigned caller = (unsigned)step_u64(s, "caller", 0);
		int memfd = -1;
		if (caller == GUP_PROC_MEM_READ || caller == GUP_PROC_MEM_WRITE) {
			memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
			if (memfd < 0) {
				res = errno;
				break;
			}
		}
		for (size_t i = 0; i < n && res == RESULT_OK; i++) {
			t->addr = base + pages[i] * HR_PAGE;
			res = gup_one(caller, memfd, t->addr, step_u64(s, "value", 0),
				      step_u64(s, "hold", 0));
		}
		if (memfd >= 0)
			close(memfd);
		break;
	}
	default:
		res = EINVAL;
	}
	free(pages);
	return res;
}

static void *task_main(void *p)
{
	struct task_arg *ta = p;
	struct hr_task *t = &hr_tasks[ta->step];
	const struct step *s = hr_step(ta->step);
	stack_t ss = { .ss_size = HR_ALTSTACK };

	ss.ss_sp = w_stacks + (size_t)ta->step * HR_TASK_SLOT + HR_TASK_STACK;
	sigaltstack(&ss, NULL);
	t->tid = (pid_t)syscall(SYS_gettid);
	int res = run_task(s, t, ta->base, ta->nr_pages);
	t->result = res;
	__atomic_store_n(&t->state, HR_TASK_DONE, __ATOMIC_SEQ_CST);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(ta);
	return NULL;
}

static int64_t start_task(const struct hr_req *rq)
{
	struct task_arg *ta = malloc(sizeof(*ta));
	pthread_attr_t attr;
	pthread_t th;

	if (!ta)
		return -ENOMEM;
	if ((size_t)rq->step >= w_nstacks) {
		free(ta);
		return -ENOMEM;
	}
	*ta = (struct task_arg){ rq->step, rq->a[0], rq->a[1] };
	struct hr_task *t = &hr_tasks[rq->step];
	t->pid = getpid();
	t->tid = 0;
	t->addr = rq->a[0];
	t->result = 0;
	__atomic_store_n(&t->state, HR_TASK_RUNNING, __ATOMIC_SEQ_CST);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstack(&attr, w_stacks + (size_t)rq->step * HR_TASK_SLOT, HR_TASK_STACK);
	int err = pthread_create(&th, &attr, task_main, ta);
	pthread_attr_destroy(&attr);
	if (err) {
		free(ta);
		t->state = HR_TASK_FREE;
		return -err;
	}
	return 0;
}

static int64_t do_mmap(const struct hr_req *rq)
{
	uint64_t at = rq->a[0], len = rq->a[1], align = rq->a[6];
	int prot = (int)rq->a[2], fd = (int)(int64_t)rq->a[4];
	int flags = (rq->a[3] ? MAP_SHARED : MAP_PRIVATE) | (fd < 0 ? MAP_ANONYMOUS : 0);
	off_t off = (off_t)rq->a[5];
	void *p;

	if (rq->a[7]) { /* at= */
		p = mmap((void *)(uintptr_t)at, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);
		if (p == MAP_FAILED)
			return -errno;
		if ((uint64_t)(uintptr_t)p != at) { /* a kernel without NOREPLACE */
			munmap(p, len);
			return -EEXIST;
		}
		return (int64_t)(uintptr_t)p;
	}
	if (align > HR_PAGE) {
		uint64_t span = len + align;
		void *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		if (r == MAP_FAILED)
			return -errno;
		uint64_t rs = (uint64_t)(uintptr_t)r, a = (rs + align - 1) & ~(align - 1);
		p = mmap((void *)(uintptr_t)a, len, prot, flags | MAP_FIXED, fd, off);
		if (p == MAP_FAILED) {
			int err = errno;
			munmap(r, span);
			return -err;
		}
		if (a > rs)
			munmap(r, a - rs);
		if (rs + span > a + len)
			munmap((void *)(uintptr_t)(a + len), rs + span - (a + len));
		return (int64_t)a;
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	return p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p;
}

/* mremap(MREMAP_MAYMOVE|MREMAP_FIXED): to at= when given, else to a free
 * PMD-aligned gap at from's offset in its PMD (the model's choice),
 * reserved with a PROT_NONE mapping that the move replaces. */
static int64_t do_mremap(const struct hr_req *rq)
{
	uint64_t old = rq->a[0], len = rq->a[1], to = rq->a[3];
	void *r = NULL;
	uint64_t span = 0, rs = 0;

	if (!rq->a[2]) {
		span = len + 2 * HR_PMD;
		r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			return -errno;
		rs = (uint64_t)(uintptr_t)r;
		to = ((rs + HR_PMD - 1) & ~(HR_PMD - 1)) + (old & (HR_PMD - 1));
	}
	void *p = mremap((void *)(uintptr_t)old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			 (void *)(uintptr_t)to);
	int err = p == MAP_FAILED ? errno : 0;
	if (r) {
		if (err) {
			munmap(r, span);
		} else {
			if (to > rs)
				munmap(r, to - rs);
			if (rs + span > to + len)
				munmap((void *)(uintptr_t)(to + len), rs + span - (to + len));
		}
	}
	return err ? -err : (int64_t)(uintptr_t)p;
}

static int64_t do_unpin(const struct hr_req *rq)
{
	const struct step *s = hr_step(rq->step);
	uint64_t *pages = NULL;
	size_t n = hr_step_pages(s, rq->a[1], &pages);

	for (size_t i = 0; i < n; i++)
		held_release(rq->a[0] + pages[i] * HR_PAGE, HR_PAGE);
	free(pages);
	return 0;
}

static void worker_loop(void);

/* fork(): the child serves the channel it was handed; it drops the parent's
 * channel and the parent's held pipes (their references are the parent's). */
static int64_t do_fork(int newsock)
{
	/* No pipe is half-registered while we fork (see inflight_open()). */
	pthread_mutex_lock(&w_held_lock);
	pid_t pid = fork();
	pthread_mutex_unlock(&w_held_lock);
	if (pid < 0) {
		int err = errno;
		close(newsock);
		return -err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(w_sock);
		w_sock = newsock;
		held_release(0, 0);
		inflight_done(-1, true);
		worker_loop();
		_exit(0);
	}
	close(newsock);
	return pid;
}

static void worker_loop(void)
{
	for (;;) {
		struct hr_req rq;
		struct hr_rep rp = { 0 };
		int fdin = -1, fdout = -1;

		if (hr_recv_fd(w_sock, &rq, sizeof(rq), &fdin) != (ssize_t)sizeof(rq))
			_exit(0);
		switch (rq.op) {
		case OP_MMAP:
			rp.ret = do_mmap(&rq);
			break;
		case OP_MUNMAP:
			rp.ret = munmap((void *)(uintptr_t)rq.a[0], rq.a[1]) ? -errno : 0;
			break;
		case OP_MPROTECT:
			rp.ret = mprotect((void *)(uintptr_t)rq.a[0], rq.a[1], (int)rq.a[2])
					 ? -errno
					 : 0;
			break;
		case OP_MADVISE:
			rp.ret = madvise((void *)(uintptr_t)rq.a[0], rq.a[1], (int)rq.a[2]) ? -errno
											    : 0;
			break;
		case OP_TASK:
			rp.ret = start_task(&rq);
			break;
		case OP_UFFD_OPEN:
			fdout = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
			rp.ret = fdout < 0 ? -errno : 0;
			break;
		case OP_FORK:
			rp.ret = fdin < 0 ? -EBADF : do_fork(fdin);
			fdin = -1;
			break;
		case OP_MREMAP:
			rp.ret = do_mremap(&rq);
			break;
		case OP_UNPIN:
			rp.ret = do_unpin(&rq);
			break;
		case OP_UFFD_MOVE: {
			/* UFFDIO_MOVE refuses a caller outside the context's mm */
			struct uffdio_move m = { rq.a[0], rq.a[1], rq.a[2], rq.a[3], 0 };
			rp.ret = fdin < 0 ? -EBADF : ioctl(fdin, UFFDIO_MOVE, &m) < 0 ? -errno : 0;
			break;
		}
		case OP_EXIT:
		default:
			_exit(0);
		}
		if (fdin >= 0)
			close(fdin);
		if (hr_send_fd(w_sock, &rp, sizeof(rp), fdout) < 0)
			_exit(0);
		if (fdout >= 0)
			close(fdout);
	}
}

void hr_worker_main(int sock)
{
	struct sigaction sa = { 0 };
	struct rlimit rl;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	w_sock = sock;
	mallopt(M_ARENA_MAX, 1);
	w_nstacks = hr_trace->steps->len + 1;
	w_stacks = mmap(NULL, w_nstacks * HR_TASK_SLOT, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (w_stacks == MAP_FAILED)
		_exit(1);
	/* held vmsplice pipes cost two descriptors per page */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	worker_loop();
	_exit(0);
}
