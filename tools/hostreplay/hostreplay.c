/* tools/hostreplay/hostreplay.c - run an mmsim trace on the running kernel.
 *
 *     hostreplay [--timeout-ms N] FILE.trace
 *     hostreplay --check          (exit 0 if userfaultfd and MADV_COLLAPSE work, else 77)
 *
 * Executes a trace of the mmsim trace language (docs/trace-format.md) with
 * real processes, mappings and userfaultfd contexts, and prints after every
 * step that is not an `expect` the observation block that
 * `mmsim replay --observe --kernel 6.18` prints for the model:
 *
 *     @12 read -> blocked
 *       A aaaa.w3H512
 *       U msgs=1 waiters=1
 *
 * so the two outputs can be compared line by line (docs/hostreplay.md).
 *
 * Design. The coordinator (this file) parses the trace with mmsim's parser
 * and refuses it (exit 3) if a step has no host equivalent (RWP, khugepaged,
 * reclaim, migration, hunks, race windows, ...). It then forks one worker
 * process per `process` step (worker.c) and drives it over a socketpair:
 * mmap/munmap/mprotect/madvise/mremap/fork run in the worker's main
 * thread; accesses, MADV_POPULATE_* and GUP callers in a thread of their own
 * that may sleep in a userfault. The coordinator itself holds every
 * userfaultfd (the worker calls userfaultfd() and hands the fd over), does
 * the uffd ioctls (they act on the context's mm, whoever calls them; only
 * UFFDIO_MOVE must come from that mm, so the worker does it), reads
 * every message as soon as it arrives into a per-context FIFO (msgs= is what
 * `serve` has not popped, less the messages of faults woken meanwhile, which
 * the kernel drops while unread) and reads the page states
 * through /proc/PID/pagemap and PAGEMAP_SCAN.
 *
 * After each step it settles: it waits until every task thread has either
 * finished or sleeps in handle_userfault (/proc/PID/task/TID/wchan) and no
 * context has unread messages, at most --timeout-ms (default 2000).
 */
#define _GNU_SOURCE
#include "hostreplay.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_uapi.h"

#define EXIT_BAD_INPUT 2
#define EXIT_REFUSED 3
#define EXIT_SKIP 77

struct hr_task *hr_tasks;
const struct trace *hr_trace;

struct hproc {
	char *name;
	pid_t pid;
	int sock;
	int pagemap; /* /proc/PID/pagemap, opened on first use */
};

struct hfile {
	char *name;
	int fd;
	uint64_t pages;
};

struct hregion {
	char *name;
	int proc;
	uint64_t start, len;
};

struct huffd {
	char *name;
	int proc;
	int fd;
	bool closed;
	uint64_t features;
	GArray *msgs; /* struct uffd_msg read and not yet served */
	int fork_fd;  /* the child context of the last fork, until bound */
};

/* A range of a process registered with a context (for waiters=). */
struct reg_range {
	int proc;
	uint64_t start, end;
	int uffd;
};

static GPtrArray *procs, *files, *regions, *uffds;
/* The pages the last successful PAGEMAP_SCAN reported (region page numbers). */
static GArray *last_scan;
static GArray *ranges;
static const char *trace_path;
static unsigned timeout_ms = 2000;
static uint64_t nr_steps;
/* per step: the context its task sleeps on (-1 if none known), and where */
static int *task_uffd;
static uint64_t *task_uffd_addr;

/* ------------------------------------------------------------ helpers */

size_t hr_step_pages(const struct step *s, uint64_t nr_pages, uint64_t **out)
{
	const struct arg_value *a = step_arg(s, "pages");
	size_t n = 0, cap = 0;
	uint64_t *v = NULL;

	if (!a || !a->present) {
		v = malloc((nr_pages ? nr_pages : 1) * sizeof(*v));
		if (!v)
			abort();
		for (uint64_t p = 0; p < nr_pages; p++)
			v[n++] = p;
		*out = v;
		return n;
	}
	for (guint i = 0; i < a->spans->len; i++) {
		struct page_span sp = g_array_index(a->spans, struct page_span, i);
		for (uint64_t p = sp.first; p <= sp.last && p < nr_pages; p++) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					abort();
			}
			v[n++] = p;
		}
	}
	*out = v;
	return n;
}

ssize_t hr_send_fd(int sock, const void *buf, size_t len, int fd)
{
	struct iovec iov = { (void *)buf, len };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t hr_recv_fd(int sock, void *buf, size_t len, int *fd)
{
	struct iovec iov = { buf, len };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)
	};
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *read_small_file(const char *path)
{
	gchar *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return text;
}

/* The bracketed choice of a sysfs THP setting ("always [madvise] never"). */
static char *sysfs_choice(const char *path)
{
	g_autofree char *text = read_small_file(path);
	char *l = text ? strchr(text, '[') : NULL, *r = l ? strchr(l, ']') : NULL;
	return l && r ? g_strndup(l + 1, (gsize)(r - l - 1)) : NULL;
}

/* ------------------------------------------------------------ cleanup */

static bool cleaned;

static void cleanup(void)
{
	if (cleaned)
		return;
	cleaned = true;
	/* Closing the contexts wakes every task asleep on them. */
	for (guint i = 0; uffds && i < uffds->len; i++) {
		struct huffd *u = g_ptr_array_index(uffds, i);
		if (!u->closed)
			close(u->fd);
		u->closed = true;
		if (u->fork_fd >= 0)
			close(u->fork_fd);
		u->fork_fd = -1;
	}
	for (guint i = procs ? procs->len : 0; i-- > 0;) {
		struct hproc *p = g_ptr_array_index(procs, i);
		struct hr_req rq = { .op = OP_EXIT };
		if (p->sock >= 0) {
			hr_send_fd(p->sock, &rq, sizeof(rq), -1);
			close(p->sock);
			p->sock = -1;
		}
		if (p->pagemap >= 0)
			close(p->pagemap);
		p->pagemap = -1;
	}
	/* Workers are our children; their fork children come to us as the
	 * subreaper when their parent exits. */
	uint64_t deadline = now_ms() + 2000;
	bool killed = false;
	for (;;) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		if (pid < 0 && errno == ECHILD)
			break;
		if (pid > 0)
			continue;
		if (!killed && now_ms() > deadline) {
			for (guint i = 0; procs && i < procs->len; i++) {
				struct hproc *p = g_ptr_array_index(procs, i);
				if (p->pid > 0)
					kill(p->pid, SIGKILL);
			}
			killed = true;
		}
		usleep(1000);
	}
}

static void G_GNUC_PRINTF(3, 4) die(int code, const struct step *s, const char *fmt, ...);
#define bad_input(s, ...) die(EXIT_BAD_INPUT, s, __VA_ARGS__)

static void G_GNUC_PRINTF(3, 4) die(int code, const struct step *s, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s:%u: ", trace_path, s ? s->line : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(code);
}

/* ------------------------------------------------------------ refusal */

struct host_cfg {
	char *thp;   /* transparent_hugepage/enabled */
	char *shmem; /* transparent_hugepage/shmem_enabled */
	bool swap;
};

static void refuse(const struct step *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void refuse(const struct step *s, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: not host-expressible: ", trace_path, s ? s->line : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_REFUSED);
}

static void host_cfg_read(struct host_cfg *h)
{
	g_autofree char *swaps = read_small_file("/proc/swaps");
	h->thp = sysfs_choice("/sys/kernel/mm/transparent_hugepage/enabled");
	h->shmem = sysfs_choice("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
	/* a header line, then one line per swap area */
	char *nl = swaps ? strchr(swaps, '\n') : NULL;
	h->swap = nl && nl[1] != '\0';
}

/* The anon mTHP sizes (hugepages-<N>kB below the PMD size) the host has
 * enabled: the model only knows one order at a time (thp mthp=N), used
 * in every VMA; order 0 means none. */
static bool host_mthp_matches(unsigned order, char *why, size_t whylen)
{
	for (unsigned o = 2; o < 9; o++) {
		g_autofree char *path = g_strdup_printf(
			"/sys/kernel/mm/transparent_hugepage/hugepages-%ukB/enabled", 4u << o);
		g_autofree char *c = sysfs_choice(path);
		if (!c)
			continue;
		bool want = o == order;
		if (want ? strcmp(c, "always") != 0 : strcmp(c, "never") != 0) {
			snprintf(why, whylen,
				 "hugepages-%ukB/enabled is '%s', the trace needs '%s'", 4u << o, c,
				 want ? "always" : "never");
			return false;
		}
	}
	return true;
}

static void check_expressible(const struct trace *t)
{
	struct host_cfg h = { 0 };
	bool saw_thp = false;
	char why[160];
	/* huge=0 is shmem_enabled "advise" in the model: a VM_HUGEPAGE VMA of
	 * such a file gets PMD folios there. The regions mapping a file (with
	 * their mremap and fork names) and each file's huge= tell where a
	 * MADV_HUGEPAGE would differ on a host that is not in advise mode. */
	g_autoptr(GHashTable) file_huge = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) region_file =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) region_proc =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	host_cfg_read(&h);
	for (guint i = 0; i < t->steps->len; i++) {
		const struct step *s = &g_array_index(t->steps, struct step, i);
		const char *name = cmd_descs[s->cmd].name;

		if (s->cmd >= CMD_EXPECT_RESULT)
			continue;
		if (step_u64(s, "race", 0))
			refuse(s, "race= windows exist only in the model");
		switch (s->cmd) {
		case CMD_HUNK:
			refuse(s, "hunk switches exist only in the model");
			break;
		case CMD_KHUGEPAGED_PASS:
		case CMD_KHUGEPAGED_SCAN:
		case CMD_RECLAIM:
		case CMD_MIGRATE:
		case CMD_NUMA_SCAN:
		case CMD_SWAPOFF:
		case CMD_SHRINK_DEFERRED:
		case CMD_DEVICE_EXCLUSIVE:
		case CMD_UFFD_RWPROTECT:
		case CMD_UFFD_SET_MODE:
			refuse(s, "'%s' cannot be driven from user space", name);
			break;
		case CMD_UFFD_API:
			if (step_u64(s, "features", 0) & (UFFD_FEATURE_RWP_BITS))
				refuse(s, "features RWP/RWP_ASYNC are not in the host kernel");
			break;
		case CMD_UFFD_REGISTER:
			if (step_u64(s, "mode", 0) & HR_REGISTER_MODE_RWP)
				refuse(s, "register mode RWP is not in the host kernel");
			break;
		case CMD_MADVISE: {
			uint64_t adv = step_u64(s, "advice", 0);
			const char *fn = g_hash_table_lookup(region_file, s->pos[0]);
			if (adv == MADV_PAGEOUT && !h.swap)
				refuse(s, "MADV_PAGEOUT needs swap, and /proc/swaps lists none");
			if (fn && !strcmp(flag_name_of(advice_names, adv), "HUGEPAGE") &&
			    GPOINTER_TO_UINT(g_hash_table_lookup(file_huge, fn)) == 1 &&
			    (!h.shmem || strcmp(h.shmem, "advise")))
				refuse(s,
				       "MADV_HUGEPAGE on file %s, whose huge=0 is shmem_enabled "
				       "'advise', but the host's is '%s' (say huge=never)",
				       fn, h.shmem ? h.shmem : "?");
			break;
		}
		case CMD_MMAP: {
			const struct arg_value *fa = step_arg(s, "file");
			g_hash_table_insert(region_proc, g_strdup(s->pos[0]),
					    (gpointer)step_arg(s, "proc")->name);
			if (fa->present)
				g_hash_table_insert(region_file, g_strdup(s->pos[0]),
						    (gpointer)fa->name);
			break;
		}
		case CMD_MREMAP: {
			const char *from = step_arg(s, "from")->name;
			const char *fn = g_hash_table_lookup(region_file, from);
			g_hash_table_insert(region_proc, g_strdup(s->pos[0]),
					    g_hash_table_lookup(region_proc, from));
			if (fn)
				g_hash_table_insert(region_file, g_strdup(s->pos[0]), (gpointer)fn);
			break;
		}
		case CMD_FORK: {
			const char *parent = step_arg(s, "parent")->name;
			GList *names = g_hash_table_get_keys(region_proc);
			for (GList *l = names; l; l = l->next) {
				const char *rn = l->data;
				const char *pn = g_hash_table_lookup(region_proc, rn);
				const char *fn = g_hash_table_lookup(region_file, rn);
				char *cn = g_strdup_printf("%s.%s", s->pos[0], rn);
				if (!pn || strcmp(pn, parent)) {
					g_free(cn);
					continue;
				}
				if (fn)
					g_hash_table_insert(region_file, g_strdup(cn),
							    (gpointer)fn);
				g_hash_table_insert(region_proc, cn, (gpointer)s->pos[0]);
			}
			g_list_free(names);
			break;
		}
		case CMD_GUP: {
			uint64_t c = step_u64(s, "caller", 0);
			if (c != GUP_PROCESS_VM_READV && c != GUP_PROCESS_VM_WRITEV &&
			    c != GUP_PROC_MEM_READ && c != GUP_PROC_MEM_WRITE && c != GUP_VMSPLICE)
				refuse(s, "gup caller=%s has no user-space trigger",
				       flag_name_of(gup_caller_names, c));
			if (step_u64(s, "hold", 0) && c != GUP_VMSPLICE)
				refuse(s, "gup hold=1 is only expressible with caller=vmsplice");
			break;
		}
		case CMD_FILE: {
			uint64_t v = step_u64(s, "huge", 0);
			bool huge = v == 1;
			bool host_huge = h.shmem && (!strcmp(h.shmem, "always") ||
						     !strcmp(h.shmem, "within_size") ||
						     !strcmp(h.shmem, "force"));
			if (huge != host_huge)
				refuse(s, "file huge=%s but the host's shmem_enabled is '%s'",
				       flag_name_of(shmem_huge_names, v), h.shmem ? h.shmem : "?");
			if (v == 2 && (!h.shmem || strcmp(h.shmem, "never")))
				refuse(s, "file huge=never but the host's shmem_enabled is '%s'",
				       h.shmem ? h.shmem : "?");
			/* 1 + huge=, so that 0 is "not a file" */
			g_hash_table_insert(file_huge, (gpointer)s->pos[0],
					    GUINT_TO_POINTER(v + 1));
			break;
		}
		case CMD_THP: {
			const char *want = flag_name_of(thp_mode_names, step_u64(s, "enabled", 1));
			saw_thp = true;
			if (!h.thp || strcmp(want, h.thp))
				refuse(s, "thp enabled=%s but the host's is '%s'", want,
				       h.thp ? h.thp : "?");
			if (!host_mthp_matches((unsigned)step_u64(s, "mthp", 0), why, sizeof(why)))
				refuse(s, "%s", why);
			break;
		}
		default:
			break;
		}
	}
	if (!saw_thp && t->steps->len) {
		const struct step *s = &g_array_index(t->steps, struct step, 0);
		if (!h.thp || strcmp(h.thp, "madvise"))
			refuse(s, "the model starts in thp madvise mode but the host's is '%s'",
			       h.thp ? h.thp : "?");
		if (!host_mthp_matches(0, why, sizeof(why)))
			refuse(s, "%s", why);
	}
	g_free(h.thp);
	g_free(h.shmem);
}

/* ------------------------------------------------------------ names */

static struct hproc *proc_by_name(const char *name, int *idx)
{
	for (guint i = 0; i < procs->len; i++) {
		struct hproc *p = g_ptr_array_index(procs, i);
		if (!strcmp(p->name, name)) {
			if (idx)
				*idx = (int)i;
			return p;
		}
	}
	return NULL;
}

static struct hregion *region_by_name(const struct step *s, const char *name)
{
	for (guint i = 0; i < regions->len; i++) {
		struct hregion *r = g_ptr_array_index(regions, i);
		if (!strcmp(r->name, name))
			return r;
	}
	bad_input(s, "region '%s' is not mapped", name);
	return NULL;
}

static struct hfile *file_by_name(const char *name)
{
	for (guint i = 0; i < files->len; i++) {
		struct hfile *f = g_ptr_array_index(files, i);
		if (!strcmp(f->name, name))
			return f;
	}
	return NULL;
}

static int uffd_index(const struct step *s, const char *name)
{
	for (guint i = 0; i < uffds->len; i++) {
		struct huffd *u = g_ptr_array_index(uffds, i);
		if (strcmp(u->name, name))
			continue;
		if (u->closed)
			bad_input(s, "userfaultfd '%s' is closed", name);
		return (int)i;
	}
	bad_input(s, "userfaultfd '%s' does not exist", name);
	return -1;
}

static struct huffd *uffd_at(int i) { return g_ptr_array_index(uffds, (guint)i); }

/* The step's one contiguous page span of r: [*start, *start + *len). */
static void step_span(const struct step *s, const struct hregion *r, uint64_t *start, uint64_t *len)
{
	const struct arg_value *a = step_arg(s, "pages");
	uint64_t nr = r->len / HR_PAGE, first = 0, last = nr ? nr - 1 : 0;

	if (a && a->present) {
		if (!a->spans->len)
			bad_input(s, "empty page range");
		first = g_array_index(a->spans, struct page_span, 0).first;
		last = g_array_index(a->spans, struct page_span, a->spans->len - 1).last;
		if (last >= nr)
			bad_input(s, "page %" PRIu64 " is outside region '%s' (%" PRIu64 " pages)",
				  last, r->name, nr);
		if (a->spans->len != 1)
			bad_input(s, "%s takes one contiguous page range, not a list",
				  cmd_descs[s->cmd].name);
	} else if (!nr) {
		bad_input(s, "empty page range");
	}
	*start = r->start + first * HR_PAGE;
	*len = (last - first + 1) * HR_PAGE;
}

static void check_pages(const struct step *s, const struct hregion *r)
{
	const struct arg_value *a = step_arg(s, "pages");
	uint64_t nr = r->len / HR_PAGE;
	if (a && a->present && a->spans->len) {
		uint64_t last = g_array_index(a->spans, struct page_span, a->spans->len - 1).last;
		if (last >= nr)
			bad_input(s, "page %" PRIu64 " is outside region '%s' (%" PRIu64 " pages)",
				  last, r->name, nr);
	}
}

/* ------------------------------------------------------------ registered ranges */

static void ranges_remove(int proc, uint64_t start, uint64_t end, int uffd)
{
	for (guint i = 0; i < ranges->len;) {
		struct reg_range *g = &g_array_index(ranges, struct reg_range, i);
		if (g->proc != proc || (uffd >= 0 && g->uffd != uffd) || g->end <= start ||
		    g->start >= end) {
			i++;
			continue;
		}
		struct reg_range lo = *g, hi = *g;
		g_array_remove_index(ranges, i);
		if (lo.start < start) {
			lo.end = start;
			g_array_append_val(ranges, lo);
		}
		if (hi.end > end) {
			hi.start = end;
			g_array_append_val(ranges, hi);
		}
	}
}

static void ranges_add(int proc, uint64_t start, uint64_t end, int uffd)
{
	struct reg_range g = { proc, start, end, uffd };
	ranges_remove(proc, start, end, -1);
	g_array_append_val(ranges, g);
}

static int ranges_uffd_at(int proc, uint64_t addr)
{
	for (guint i = 0; i < ranges->len; i++) {
		struct reg_range *g = &g_array_index(ranges, struct reg_range, i);
		if (g->proc == proc && addr >= g->start && addr < g->end)
			return g->uffd;
	}
	return -1;
}

/* ------------------------------------------------------------ uffd messages */

/* The context of each thread's latest page-fault message (THREAD_ID): the
 * context a thread asleep in handle_userfault() waits on, also when the
 * step's task does not know the faulting page (MADV_POPULATE_*). Thread
 * id -> context index + 1. */
static GHashTable *fault_uffd_by_tid;

static void drain_uffds(void)
{
	for (guint i = 0; i < uffds->len; i++) {
		struct huffd *u = g_ptr_array_index(uffds, i);
		struct uffd_msg msg;
		while (!u->closed && read(u->fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
			if (msg.event == UFFD_EVENT_FORK) {
				if (u->fork_fd >= 0)
					close(u->fork_fd);
				u->fork_fd = (int)msg.arg.fork.ufd;
				fcntl(u->fork_fd, F_SETFD, FD_CLOEXEC);
				fcntl(u->fork_fd, F_SETFL, O_NONBLOCK);
			}
			if (msg.event == UFFD_EVENT_PAGEFAULT) {
				if (!fault_uffd_by_tid)
					fault_uffd_by_tid =
						g_hash_table_new(g_direct_hash, g_direct_equal);
				g_hash_table_insert(
					fault_uffd_by_tid,
					GINT_TO_POINTER((int)msg.arg.pagefault.feat.ptid),
					GINT_TO_POINTER((int)i + 1));
			}
			g_array_append_val(u->msgs, msg);
		}
	}
}

/* ------------------------------------------------------------ workers */

static int proc_index_of_pid(pid_t pid)
{
	for (guint i = 0; i < procs->len; i++)
		if (((struct hproc *)g_ptr_array_index(procs, i))->pid == pid)
			return (int)i;
	return -1;
}

/* Send a request and wait for the answer, reading uffd messages meanwhile
 * (fork, mremap, munmap and MADV_DONTNEED wait until their event is read). */
static int64_t call(const struct step *s, struct hproc *p, struct hr_req *rq, int fdsend,
		    int *fdrecv)
{
	struct hr_rep rp;
	int fd = -1;
	uint64_t deadline = now_ms() + timeout_ms;

	if (hr_send_fd(p->sock, rq, sizeof(*rq), fdsend) != (ssize_t)sizeof(*rq))
		die(1, s, "worker of '%s' is gone", p->name);
	for (;;) {
		struct pollfd pf = { .fd = p->sock, .events = POLLIN };
		drain_uffds();
		int n = poll(&pf, 1, 1);
		if (n > 0)
			break;
		if (now_ms() > deadline)
			die(1, s, "worker of '%s' did not answer within %u ms", p->name,
			    timeout_ms);
	}
	if (hr_recv_fd(p->sock, &rp, sizeof(rp), &fd) != (ssize_t)sizeof(rp))
		die(1, s, "worker of '%s' is gone", p->name);
	if (fdrecv)
		*fdrecv = fd;
	else if (fd >= 0)
		close(fd);
	return rp.ret;
}

static int result_of(int64_t ret) { return ret < 0 ? (int)-ret : RESULT_OK; }

static struct hproc *spawn_worker(const char *name)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die(1, NULL, "socketpair: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		die(1, NULL, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		for (guint i = 0; i < procs->len; i++)
			close(((struct hproc *)g_ptr_array_index(procs, i))->sock);
		hr_worker_main(sv[1]);
	}
	close(sv[1]);
	struct hproc *p = g_new0(struct hproc, 1);
	p->name = g_strdup(name);
	p->pid = pid;
	p->sock = sv[0];
	p->pagemap = -1;
	g_ptr_array_add(procs, p);
	return p;
}

/* ------------------------------------------------------------ settling */

static bool task_sleeps_in_userfault(const struct hr_task *t)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)t->pid, (int)t->tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return !strncmp(buf, "handle_userfault", 16);
}

static bool uffds_readable(void)
{
	for (guint i = 0; i < uffds->len; i++) {
		struct huffd *u = g_ptr_array_index(uffds, i);
		struct pollfd pf = { .fd = u->fd, .events = POLLIN };
		if (!u->closed && poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN))
			return true;
	}
	return false;
}

static void settle_quiet(const struct step *s);

/* The context (index) a sleeping task waits on, or -1 if it does not sleep
 * in a userfault. */
static int task_wait_uffd(const struct hr_task *t)
{
	size_t i = (size_t)(t - hr_tasks);
	if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) != HR_TASK_RUNNING || !t->tid ||
	    !task_sleeps_in_userfault(t)) {
		task_uffd[i] = -1;
		return -1;
	}
	/* The context that queued the thread's latest fault message is the
	 * one it sleeps on. */
	gpointer c = fault_uffd_by_tid
			     ? g_hash_table_lookup(fault_uffd_by_tid, GINT_TO_POINTER((int)t->tid))
			     : NULL;
	if (c) {
		task_uffd[i] = GPOINTER_TO_INT(c) - 1;
		task_uffd_addr[i] = t->addr;
		return task_uffd[i];
	}
	/* Otherwise the context is the one registered where the task faulted
	 * when it was first seen asleep there: a later munmap or unregister
	 * does not wake it, so it still waits on that context. */
	if (task_uffd[i] < 0 || task_uffd_addr[i] != t->addr) {
		task_uffd[i] = ranges_uffd_at(proc_index_of_pid(t->pid), t->addr & ~(HR_PAGE - 1));
		task_uffd_addr[i] = t->addr;
	}
	return task_uffd[i];
}

/*
 * The model's msgs= is the kernel's queue of messages no handler has read
 * yet, and `serve` is the handler. Waking a fault (UFFDIO_COPY, WAKE, a
 * close...) before it was read removes its message from that queue. We read
 * every message at once, so we drop here a page-fault message whose fault
 * no longer sleeps: messages carry the faulting thread (THREAD_ID, which
 * hostreplay always asks for), and only the newest message of a thread
 * that still sleeps in a userfault stays.
 */
static void prune_woken_messages(void)
{
	g_autoptr(GHashTable) sleeping = g_hash_table_new(g_direct_hash, g_direct_equal);

	for (uint64_t i = 0; i < nr_steps; i++) {
		struct hr_task *t = &hr_tasks[i];
		if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == HR_TASK_RUNNING && t->tid &&
		    task_sleeps_in_userfault(t))
			g_hash_table_add(sleeping, GINT_TO_POINTER(t->tid));
	}
	for (guint u = 0; u < uffds->len; u++) {
		struct huffd *c = g_ptr_array_index(uffds, u);
		g_autoptr(GHashTable) kept = g_hash_table_new(g_direct_hash, g_direct_equal);
		for (guint i = c->msgs->len; i-- > 0;) {
			struct uffd_msg *m = &g_array_index(c->msgs, struct uffd_msg, i);
			if (m->event != UFFD_EVENT_PAGEFAULT)
				continue;
			gpointer tid = GINT_TO_POINTER((int)m->arg.pagefault.feat.ptid);
			if (g_hash_table_contains(sleeping, tid) &&
			    !g_hash_table_contains(kept, tid)) {
				g_hash_table_add(kept, tid);
				continue;
			}
			g_array_remove_index(c->msgs, i);
		}
	}
}

/* Wait until every task has finished or sleeps in a userfault and every
 * message is read; twice in a row, 1 ms apart. */
static void settle(const struct step *s)
{
	settle_quiet(s);
	prune_woken_messages();
}

static void settle_quiet(const struct step *s)
{
	uint64_t deadline = now_ms() + timeout_ms;
	unsigned quiet = 0;

	while (quiet < 2) {
		bool busy = false;
		drain_uffds();
		for (uint64_t i = 0; i < nr_steps && !busy; i++) {
			struct hr_task *t = &hr_tasks[i];
			if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) != HR_TASK_RUNNING)
				continue;
			busy = !t->tid || !task_sleeps_in_userfault(t);
		}
		busy = busy || uffds_readable();
		quiet = busy ? 0 : quiet + 1;
		if (busy && now_ms() > deadline) {
			fprintf(stderr,
				"%s:%u: warning: tasks still running after %u ms; "
				"counted as blocked\n",
				trace_path, s->line, timeout_ms);
			return;
		}
		usleep(1000);
	}
}

/* ------------------------------------------------------------ observation */

static char page_letter(uint64_t word, bool huge)
{
	bool wp = word & HR_PM_UFFD_WP;
	if (word & HR_PM_PRESENT)
		return huge ? (wp ? 'W' : 'H') : (wp ? 'w' : 'a');
	if (word & HR_PM_SWAP)
		return wp ? 'S' : 's';
	return wp ? 'k' : '.';
}

static int proc_pagemap(struct hproc *p)
{
	if (p->pagemap < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)p->pid);
		p->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	}
	return p->pagemap;
}

static void append_region(GString *out, struct hregion *r)
{
	struct hproc *p = g_ptr_array_index(procs, (guint)r->proc);
	uint64_t nr = r->len / HR_PAGE;
	g_autofree uint64_t *words = g_new0(uint64_t, nr ? nr : 1);
	g_autofree bool *huge = g_new0(bool, nr ? nr : 1);
	int fd = proc_pagemap(p);

	if (fd >= 0) {
		if (pread(fd, words, nr * 8, (off_t)(r->start / HR_PAGE * 8)) != (ssize_t)(nr * 8))
			memset(words, 0, nr * 8);
		struct page_region vec[64];
		struct pm_scan_arg arg = { .size = sizeof(arg),
					   .start = r->start,
					   .end = r->start + r->len,
					   .vec = (uint64_t)(uintptr_t)vec,
					   .vec_len = G_N_ELEMENTS(vec),
					   .category_mask = HR_PAGE_IS_HUGE,
					   .return_mask = HR_PAGE_IS_HUGE };
		for (;;) {
			int n = ioctl(fd, PAGEMAP_SCAN, &arg);
			if (n < 0)
				break;
			for (int i = 0; i < n; i++)
				for (uint64_t a = vec[i].start; a < vec[i].end; a += HR_PAGE)
					if (a >= r->start && a < r->start + r->len)
						huge[(a - r->start) / HR_PAGE] = true;
			if (n < (int)G_N_ELEMENTS(vec) || arg.walk_end >= arg.end)
				break;
			arg.start = arg.walk_end;
		}
	}
	char prev = 0;
	uint64_t run = 0;
	for (uint64_t i = 0; i <= nr; i++) {
		char c = i < nr ? page_letter(words[i], huge[i]) : 0;
		if (c == prev && i < nr) {
			run++;
			continue;
		}
		if (prev) {
			g_string_append_c(out, prev);
			if (run > 1)
				g_string_append_printf(out, "%" PRIu64, run);
		}
		prev = c;
		run = 1;
	}
}

static gint compare_uffd_names(gconstpointer a, gconstpointer b)
{
	const struct huffd *x = *(const struct huffd *const *)a;
	const struct huffd *y = *(const struct huffd *const *)b;
	return strcmp(x->name, y->name);
}

static void observe(const struct step *s, int res)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	g_autofree unsigned *waiters = g_new0(unsigned, uffds->len + 1);
	const char *rn = flag_name_of(result_names, (uint64_t)res);

	g_string_append_printf(out, "@%u %s -> %s\n", s->line, cmd_descs[s->cmd].name,
			       rn ? rn : (res > 0 ? strerrorname_np(res) : "?"));
	if (s->cmd == CMD_PAGEMAP_SCAN && res == RESULT_OK) {
		g_string_append(out, "  scan ");
		trace_write_pages(out, (const uint64_t *)(const void *)last_scan->data,
				  last_scan->len);
		g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < regions->len; i++) {
		struct hregion *r = g_ptr_array_index(regions, i);
		g_string_append_printf(out, "  %s ", r->name);
		append_region(out, r);
		g_string_append_c(out, '\n');
	}
	for (uint64_t i = 0; i < nr_steps; i++) {
		int u = task_wait_uffd(&hr_tasks[i]);
		if (u >= 0)
			waiters[u]++;
	}
	for (guint i = 0; i < uffds->len; i++)
		g_ptr_array_add(sorted, g_ptr_array_index(uffds, i));
	g_ptr_array_sort(sorted, compare_uffd_names);
	for (guint i = 0; i < sorted->len; i++) {
		struct huffd *u = g_ptr_array_index(sorted, i);
		guint idx = 0;
		g_ptr_array_find(uffds, u, &idx);
		g_string_append_printf(out, "  %s msgs=%u waiters=%u\n", u->name, u->msgs->len,
				       waiters[idx]);
	}
	fputs(out->str, stdout);
	fflush(stdout);
}

/* ------------------------------------------------------------ steps */

static int run_task_step(const struct step *s, int idx, const struct hregion *r)
{
	struct hproc *p = g_ptr_array_index(procs, (guint)r->proc);
	struct hr_req rq = { .op = OP_TASK, .step = idx, .a = { r->start, r->len / HR_PAGE } };
	int64_t ret = call(s, p, &rq, -1, NULL);
	if (ret < 0)
		return result_of(ret);
	settle(s);
	struct hr_task *t = &hr_tasks[idx];
	if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == HR_TASK_DONE)
		return t->result;
	return RESULT_BLOCKED;
}

static int exec_mmap(const struct step *s)
{
	int pi = -1;
	struct hproc *p = proc_by_name(step_arg(s, "proc")->name, &pi);
	const struct arg_value *fa = step_arg(s, "file");
	struct hfile *f = fa->present ? file_by_name(fa->name) : NULL;
	uint64_t len = step_u64(s, "len", 0), off = step_u64(s, "offset", 0);

	if (off & (HR_PAGE - 1))
		bad_input(s, "offset must be page aligned");
	struct hr_req rq = { .op = OP_MMAP,
			     .step = (int)(s - hr_step(0)),
			     .a = { step_u64(s, "at", 0), len, step_u64(s, "prot", 0),
				    step_u64(s, "map", 0), (uint64_t)(int64_t)(f ? f->fd : -1), off,
				    step_u64(s, "align", 0), step_has(s, "at") } };
	int64_t ret = call(s, p, &rq, -1, NULL);
	if (ret < 0)
		return result_of(ret);
	struct hregion *r = g_new0(struct hregion, 1);
	r->name = g_strdup(s->pos[0]);
	r->proc = pi;
	r->start = (uint64_t)ret;
	r->len = (len + HR_PAGE - 1) & ~(HR_PAGE - 1);
	g_ptr_array_add(regions, r);
	return RESULT_OK;
}

static int exec_mremap(const struct step *s)
{
	struct hregion *from = region_by_name(s, step_arg(s, "from")->name);
	struct hproc *p = g_ptr_array_index(procs, (guint)from->proc);
	struct hr_req rq = { .op = OP_MREMAP,
			     .a = { from->start, from->len, step_has(s, "at"),
				    step_u64(s, "at", 0) } };
	int64_t ret = call(s, p, &rq, -1, NULL);
	if (ret < 0)
		return result_of(ret);
	uint64_t to = (uint64_t)ret;
	/* The registration moves with the VMA when the context has
	 * EVENT_REMAP; otherwise the moved VMA loses it. */
	g_autoptr(GArray) moved = g_array_new(FALSE, FALSE, sizeof(struct reg_range));
	for (guint i = 0; i < ranges->len; i++) {
		struct reg_range g = g_array_index(ranges, struct reg_range, i);
		if (g.proc != from->proc || g.end <= from->start ||
		    g.start >= from->start + from->len)
			continue;
		g.start = MAX(g.start, from->start);
		g.end = MIN(g.end, from->start + from->len);
		if (uffd_at(g.uffd)->features & UFFD_FEATURE_EVENT_REMAP) {
			g.start = g.start - from->start + to;
			g.end = g.end - from->start + to;
			g_array_append_val(moved, g);
		}
	}
	ranges_remove(from->proc, from->start, from->start + from->len, -1);
	ranges_remove(from->proc, to, to + from->len, -1);
	g_array_append_vals(ranges, moved->data, moved->len);

	struct hregion *r = g_new0(struct hregion, 1);
	r->name = g_strdup(s->pos[0]);
	r->proc = from->proc;
	r->start = to;
	r->len = from->len;
	g_ptr_array_add(regions, r);
	return RESULT_OK;
}

static int exec_fork(const struct step *s)
{
	int pi = -1;
	struct hproc *parent = proc_by_name(step_arg(s, "parent")->name, &pi);
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die(1, s, "socketpair: %s", strerror(errno));
	struct hr_req rq = { .op = OP_FORK };
	int64_t ret = call(s, parent, &rq, sv[1], NULL);
	close(sv[1]);
	if (ret < 0) {
		close(sv[0]);
		return result_of(ret);
	}
	struct hproc *c = g_new0(struct hproc, 1);
	c->name = g_strdup(s->pos[0]);
	c->pid = (pid_t)ret;
	c->sock = sv[0];
	c->pagemap = -1;
	g_ptr_array_add(procs, c);
	int ci = (int)procs->len - 1;

	for (guint i = 0, n = regions->len; i < n; i++) {
		struct hregion *pr = g_ptr_array_index(regions, i);
		if (pr->proc != pi)
			continue;
		struct hregion *r = g_new0(struct hregion, 1);
		*r = *pr;
		r->name = g_strconcat(s->pos[0], ".", pr->name, NULL);
		r->proc = ci;
		g_ptr_array_add(regions, r);
	}
	/* The child contexts arrived as UFFD_EVENT_FORK messages. */
	g_autofree int *child_of = g_new(int, uffds->len + 1);
	for (guint i = 0, n = uffds->len; i < n; i++) {
		struct huffd *u = g_ptr_array_index(uffds, i);
		child_of[i] = -1;
		if (u->proc != pi || u->fork_fd < 0)
			continue;
		struct huffd *cu = g_new0(struct huffd, 1);
		cu->name = g_strconcat(s->pos[0], ".", u->name, NULL);
		cu->proc = ci;
		cu->fd = u->fork_fd;
		cu->features = u->features;
		cu->msgs = g_array_new(FALSE, FALSE, sizeof(struct uffd_msg));
		cu->fork_fd = -1;
		u->fork_fd = -1;
		g_ptr_array_add(uffds, cu);
		child_of[i] = (int)uffds->len - 1;
	}
	for (guint i = 0, n = ranges->len; i < n; i++) {
		struct reg_range g = g_array_index(ranges, struct reg_range, i);
		if (g.proc != pi || child_of[g.uffd] < 0)
			continue;
		g.proc = ci;
		g.uffd = child_of[g.uffd];
		g_array_append_val(ranges, g);
	}
	return RESULT_OK;
}

static int exec_uffd_open(const struct step *s)
{
	int pi = -1, fd = -1;
	struct hproc *p = proc_by_name(step_arg(s, "proc")->name, &pi);
	struct hr_req rq = { .op = OP_UFFD_OPEN };
	int64_t ret = call(s, p, &rq, -1, &fd);
	if (ret < 0 || fd < 0)
		die(EXIT_SKIP, s, "cannot run: userfaultfd(2) failed: %s",
		    strerror(ret < 0 ? (int)-ret : EBADF));
	struct huffd *u = g_new0(struct huffd, 1);
	u->name = g_strdup(s->pos[0]);
	u->proc = pi;
	u->fd = fd;
	u->msgs = g_array_new(FALSE, FALSE, sizeof(struct uffd_msg));
	u->fork_fd = -1;
	g_ptr_array_add(uffds, u);
	return RESULT_OK;
}

static int uffd_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? errno : RESULT_OK;
}

static int exec_uffd(const struct step *s)
{
	int ui = uffd_index(s, s->pos[0]);
	struct huffd *u = uffd_at(ui);
	struct hregion *r = s->pos[1] ? region_by_name(s, s->pos[1]) : NULL;
	uint64_t start = 0, len = 0, mode = step_u64(s, "mode", 0);
	int res;

	if (r) {
		step_span(s, r, &start, &len);
		if (r->proc != u->proc)
			bad_input(s, "region '%s' is not in the userfaultfd's process", r->name);
	}
	struct uffdio_range range = { start, len };
	switch (s->cmd) {
	case CMD_UFFD_API: {
		/* THREAD_ID on top: each fault message names its thread, so
		 * prune_woken_messages() knows which faults still sleep. It
		 * changes nothing else the trace can observe. */
		struct uffdio_api api = { .api = UFFD_API,
					  .features = step_u64(s, "features", 0) |
						      UFFD_FEATURE_THREAD_ID };
		res = uffd_ioctl(u->fd, UFFDIO_API, &api);
		if (!res)
			u->features = step_u64(s, "features", 0);
		return res;
	}
	case CMD_UFFD_REGISTER: {
		struct uffdio_register reg = { .range = range, .mode = mode };
		res = uffd_ioctl(u->fd, UFFDIO_REGISTER, &reg);
		if (!res)
			ranges_add(u->proc, start, start + len, ui);
		return res;
	}
	case CMD_UFFD_UNREGISTER:
		res = uffd_ioctl(u->fd, UFFDIO_UNREGISTER, &range);
		if (!res)
			ranges_remove(u->proc, start, start + len, -1);
		return res;
	case CMD_UFFD_WRITEPROTECT: {
		struct uffdio_writeprotect wp = { .range = range, .mode = mode };
		return uffd_ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
	}
	case CMD_UFFD_COPY: {
		g_autofree uint64_t *src = g_malloc0(len);
		for (uint64_t o = 0; o < len; o += HR_PAGE)
			src[o / 8] = step_u64(s, "value", 0);
		struct uffdio_copy c = {
			.dst = start, .src = (uint64_t)(uintptr_t)src, .len = len, .mode = mode
		};
		return uffd_ioctl(u->fd, UFFDIO_COPY, &c);
	}
	case CMD_UFFD_ZEROPAGE: {
		struct uffdio_zeropage z = { .range = range, .mode = mode };
		return uffd_ioctl(u->fd, UFFDIO_ZEROPAGE, &z);
	}
	case CMD_UFFD_CONTINUE: {
		struct uffdio_continue c = { .range = range, .mode = mode };
		return uffd_ioctl(u->fd, UFFDIO_CONTINUE, &c);
	}
	case CMD_UFFD_WAKE:
		return uffd_ioctl(u->fd, UFFDIO_WAKE, &range);
	case CMD_UFFD_CLOSE:
		close(u->fd);
		u->closed = true;
		for (int p = 0; p < (int)procs->len; p++)
			ranges_remove(p, 0, UINT64_MAX, ui);
		return RESULT_OK;
	case CMD_UFFD_MOVE: {
		struct hregion *src = region_by_name(s, step_arg(s, "src")->name);
		uint64_t sstart, slen;
		step_span(s, src, &sstart, &slen);
		if (src->proc != u->proc)
			bad_input(s, "regions must be in the userfaultfd's process");
		uint64_t off = sstart - src->start;
		/* The kernel refuses UFFDIO_MOVE from outside the context's mm:
		 * the worker does it with a copy of the descriptor. */
		struct hr_req rq = { .op = OP_UFFD_MOVE,
				     .a = { r->start + off, src->start + off, slen, mode } };
		return result_of(
			call(s, g_ptr_array_index(procs, (guint)u->proc), &rq, u->fd, NULL));
	}
	default:
		return RESULT_OK;
	}
}

/*
 * A UFFDIO_COPY/CONTINUE/WRITEPROTECT/WAKE that wakes [addr, addr + len)
 * wakes every fault of the context in that range (userfaultfd_wake_function()
 * matches the message's address), and the kernel drops the message of a
 * woken fault that no handler has read yet. Within one `serve`, the next
 * message the kernel would hand to a handler reading one message at a time
 * is therefore never one of those: drop them from our FIFO right away.
 * prune_woken_messages() after the step cannot do it, because a serve with
 * count=N pops its next message before the step ends (conformance
 * s9-t00084, s9-t00136, s8-t00185).
 */
static void drop_woken_messages(struct huffd *u, uint64_t addr, uint64_t len)
{
	for (guint i = u->msgs->len; i-- > 0;) {
		struct uffd_msg *m = &g_array_index(u->msgs, struct uffd_msg, i);
		if (m->event == UFFD_EVENT_PAGEFAULT && m->arg.pagefault.address >= addr &&
		    m->arg.pagefault.address < addr + len)
			g_array_remove_index(u->msgs, i);
	}
}

/* serve U [count=N] [value=V]: what engine_serve() does, on the host. */
static int exec_serve(const struct step *s)
{
	struct huffd *u = uffd_at(uffd_index(s, s->pos[0]));
	uint64_t count = step_u64(s, "count", UINT64_MAX), value = step_u64(s, "value", 0);
	int res = RESULT_OK;
	g_autofree uint64_t *page = g_malloc0(HR_PAGE);

	page[0] = value;
	for (uint64_t n = 0; n < count && u->msgs->len; n++) {
		struct uffd_msg msg = g_array_index(u->msgs, struct uffd_msg, 0);
		int r;
		g_array_remove_index(u->msgs, 0);
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t addr = msg.arg.pagefault.address & ~(HR_PAGE - 1);
		uint64_t flags = msg.arg.pagefault.flags;
		struct uffdio_range range = { addr, HR_PAGE };
		if (flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect wp = { .range = range, .mode = 0 };
			r = uffd_ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
		} else if (flags & UFFD_PAGEFAULT_FLAG_MINOR) {
			struct uffdio_continue c = { .range = range, .mode = 0 };
			r = uffd_ioctl(u->fd, UFFDIO_CONTINUE, &c);
		} else {
			struct uffdio_copy c = { .dst = addr,
						 .src = (uint64_t)(uintptr_t)page,
						 .len = HR_PAGE,
						 .mode = 0 };
			r = uffd_ioctl(u->fd, UFFDIO_COPY, &c);
			if (r == EEXIST)
				r = uffd_ioctl(u->fd, UFFDIO_WAKE, &range);
		}
		/* Each of them woke the range when it succeeded. */
		if (!r)
			drop_woken_messages(u, addr, HR_PAGE);
		if (r && res == RESULT_OK)
			res = r;
	}
	return res;
}

static int exec_pagemap_scan(const struct step *s, struct hregion *r)
{
	struct hproc *p = g_ptr_array_index(procs, (guint)r->proc);
	uint64_t start, len;
	step_span(s, r, &start, &len);
	int fd = proc_pagemap(p);
	if (fd < 0)
		return errno;
	uint64_t nr = len / HR_PAGE;
	g_autofree struct page_region *vec = g_new0(struct page_region, nr);
	struct pm_scan_arg arg = { .size = sizeof(arg),
				   .flags = step_u64(s, "flags", 0),
				   .start = start,
				   .end = start + len,
				   .vec = (uint64_t)(uintptr_t)vec,
				   .vec_len = nr,
				   .max_pages = step_u64(s, "max-pages", 0),
				   .category_inverted = step_u64(s, "inverted", 0),
				   .category_mask = step_u64(s, "category", 0),
				   .category_anyof_mask = step_u64(s, "anyof", 0),
				   .return_mask = step_u64(s, "return", 0) };
	if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0)
		return errno;
	/* The reported pages, for observe(): page numbers of the region. */
	g_array_set_size(last_scan, 0);
	for (uint64_t i = 0; i < nr && vec[i].end > vec[i].start; i++)
		for (uint64_t a = vec[i].start; a < vec[i].end; a += HR_PAGE) {
			uint64_t page = (a - r->start) / HR_PAGE;
			g_array_append_val(last_scan, page);
		}
	return RESULT_OK;
}

static int exec_step(const struct step *s, int idx)
{
	struct hregion *r = NULL;
	if (cmd_descs[s->cmd].positional[0] == NAME_REGION && !cmd_descs[s->cmd].declares)
		r = region_by_name(s, s->pos[0]);
	else if (cmd_descs[s->cmd].positional[1] == NAME_REGION)
		r = region_by_name(s, s->pos[1]);
	struct hproc *p = r ? g_ptr_array_index(procs, (guint)r->proc) : NULL;
	uint64_t start, len;

	switch (s->cmd) {
	case CMD_PROCESS:
	case CMD_FILE:
	case CMD_THP:
		return RESULT_OK;
	case CMD_MMAP:
		return exec_mmap(s);
	case CMD_MUNMAP: {
		step_span(s, r, &start, &len);
		struct hr_req rq = { .op = OP_MUNMAP, .a = { start, len } };
		int res = result_of(call(s, p, &rq, -1, NULL));
		if (!res)
			ranges_remove(r->proc, start, start + len, -1);
		return res;
	}
	case CMD_MPROTECT: {
		step_span(s, r, &start, &len);
		struct hr_req rq = { .op = OP_MPROTECT,
				     .a = { start, len, step_u64(s, "prot", 0) } };
		return result_of(call(s, p, &rq, -1, NULL));
	}
	case CMD_MADVISE: {
		uint64_t adv = step_u64(s, "advice", 0);
		step_span(s, r, &start, &len);
		if (adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE)
			return run_task_step(s, idx, r);
		struct hr_req rq = { .op = OP_MADVISE, .a = { start, len, adv } };
		return result_of(call(s, p, &rq, -1, NULL));
	}
	case CMD_FALLOCATE: {
		struct hfile *f = file_by_name(s->pos[0]);
		const struct arg_value *a = step_arg(s, "pages");
		for (guint i = 0; i < a->spans->len; i++) {
			struct page_span sp = g_array_index(a->spans, struct page_span, i);
			if (sp.last >= f->pages)
				bad_input(s, "page %" PRIu64 " is beyond file '%s'", sp.last,
					  f->name);
			if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(sp.first * HR_PAGE),
				      (off_t)((sp.last - sp.first + 1) * HR_PAGE)))
				return errno;
		}
		return RESULT_OK;
	}
	case CMD_FTRUNCATE: {
		struct hfile *f = file_by_name(s->pos[0]);
		uint64_t size = step_u64(s, "size", 0);
		if ((size & (HR_PAGE - 1)) || size > (1ULL << 36))
			bad_input(s, "ftruncate size must be a multiple of 4K up to 64G");
		return ftruncate(f->fd, (off_t)size) ? errno : RESULT_OK;
	}
	case CMD_READ:
	case CMD_WRITE:
		check_pages(s, r);
		return run_task_step(s, idx, r);
	case CMD_GUP: {
		const struct arg_value *pa = step_arg(s, "proc");
		if (pa->present && strcmp(pa->name, p->name))
			bad_input(s, "GUP on another process's region: give its own proc");
		check_pages(s, r);
		return run_task_step(s, idx, r);
	}
	case CMD_UNPIN: {
		check_pages(s, r);
		struct hr_req rq = { .op = OP_UNPIN,
				     .step = idx,
				     .a = { r->start, r->len / HR_PAGE } };
		return result_of(call(s, p, &rq, -1, NULL));
	}
	case CMD_UFFD_OPEN:
		return exec_uffd_open(s);
	case CMD_UFFD_API:
	case CMD_UFFD_REGISTER:
	case CMD_UFFD_UNREGISTER:
	case CMD_UFFD_WRITEPROTECT:
	case CMD_UFFD_COPY:
	case CMD_UFFD_ZEROPAGE:
	case CMD_UFFD_CONTINUE:
	case CMD_UFFD_WAKE:
	case CMD_UFFD_CLOSE:
	case CMD_UFFD_MOVE:
		return exec_uffd(s);
	case CMD_SERVE:
		return exec_serve(s);
	case CMD_PAGEMAP:
		check_pages(s, r);
		return RESULT_OK;
	case CMD_PAGEMAP_SCAN:
		return exec_pagemap_scan(s, r);
	case CMD_MREMAP:
		return exec_mremap(s);
	case CMD_FORK:
		return exec_fork(s);
	default:
		die(1, s, "internal error: '%s' passed the refusal check", cmd_descs[s->cmd].name);
		return RESULT_OK;
	}
}

/* ------------------------------------------------------------ setup */

static void setup_files_and_procs(const struct trace *t)
{
	for (guint i = 0; i < t->steps->len; i++) {
		const struct step *s = &g_array_index(t->steps, struct step, i);
		if (s->cmd != CMD_FILE)
			continue;
		uint64_t size = step_u64(s, "size", 0);
		if (!size || (size & (HR_PAGE - 1)) || size > (1ULL << 36))
			bad_input(s, "file size must be a non-zero multiple of 4K up to 64G");
		struct hfile *f = g_new0(struct hfile, 1);
		f->name = g_strdup(s->pos[0]);
		f->fd = memfd_create(f->name, 0);
		if (f->fd < 0 || ftruncate(f->fd, (off_t)size))
			die(1, s, "memfd: %s", strerror(errno));
		f->pages = size / HR_PAGE;
		g_ptr_array_add(files, f);
	}
	/* Workers are forked before anything is mapped or any context exists,
	 * so they inherit only the memfds and the task table. */
	for (guint i = 0; i < t->steps->len; i++) {
		const struct step *s = &g_array_index(t->steps, struct step, i);
		if (s->cmd == CMD_PROCESS)
			spawn_worker(s->pos[0]);
	}
}

/* --check: userfaultfd(2) and MADV_COLLAPSE are usable. */
static int host_check(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		printf("hostreplay: userfaultfd(2) failed: %s (needs root or "
		       "vm.unprivileged_userfaultfd)\n",
		       strerror(errno));
		return EXIT_SKIP;
	}
	struct uffdio_api api = { .api = UFFD_API };
	int ok = ioctl(fd, UFFDIO_API, &api) == 0;
	close(fd);
	if (!ok) {
		printf("hostreplay: UFFDIO_API failed: %s\n", strerror(errno));
		return EXIT_SKIP;
	}
	void *r =
		mmap(NULL, 2 * HR_PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return EXIT_SKIP;
	uint64_t a = ((uint64_t)(uintptr_t)r + HR_PMD - 1) & ~(HR_PMD - 1);
	memset((void *)(uintptr_t)a, 1, HR_PAGE);
	int ret = madvise((void *)(uintptr_t)a, HR_PMD, 25 /* MADV_COLLAPSE */);
	int err = errno;
	munmap(r, 2 * HR_PMD);
	if (ret && err == EINVAL) {
		printf("hostreplay: MADV_COLLAPSE is not available\n");
		return EXIT_SKIP;
	}
	printf("hostreplay: userfaultfd and MADV_COLLAPSE are available\n");
	return 0;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool check = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			check = true;
		} else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || !v || v > 600000) {
				fprintf(stderr, "hostreplay: bad --timeout-ms '%s'\n", argv[i]);
				return EXIT_BAD_INPUT;
			}
			timeout_ms = (unsigned)v;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr,
				"usage: hostreplay [--timeout-ms N] FILE.trace | --check\n");
			return EXIT_BAD_INPUT;
		} else {
			path = argv[i];
		}
	}
	if (check)
		return host_check();
	if (!path) {
		fprintf(stderr, "usage: hostreplay [--timeout-ms N] FILE.trace | --check\n");
		return EXIT_BAD_INPUT;
	}
	trace_path = path;
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_file(path, err);
	if (!t) {
		fprintf(stderr, "%s\n", err->str);
		return EXIT_BAD_INPUT;
	}
	hr_trace = t;
	check_expressible(t);

	nr_steps = t->steps->len;
	hr_tasks = mmap(NULL, (nr_steps + 1) * sizeof(*hr_tasks), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (hr_tasks == MAP_FAILED) {
		perror("hostreplay: mmap");
		return 1;
	}
	task_uffd = g_new(int, nr_steps + 1);
	task_uffd_addr = g_new0(uint64_t, nr_steps + 1);
	for (uint64_t i = 0; i <= nr_steps; i++)
		task_uffd[i] = -1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	procs = g_ptr_array_new();
	files = g_ptr_array_new();
	regions = g_ptr_array_new();
	last_scan = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uffds = g_ptr_array_new();
	ranges = g_array_new(FALSE, FALSE, sizeof(struct reg_range));
	setup_files_and_procs(t);

	for (guint i = 0; i < t->steps->len; i++) {
		const struct step *s = &g_array_index(t->steps, struct step, i);
		if (s->cmd == CMD_EXPECT_MSG) {
			/* not evaluated, but it reads one message, as in the model */
			struct huffd *u = uffd_at(uffd_index(s, s->pos[0]));
			if (u->msgs->len)
				g_array_remove_index(u->msgs, 0);
			continue;
		}
		if (s->cmd >= CMD_EXPECT_RESULT)
			continue;
		int res = exec_step(s, (int)i);
		if (s->cmd != CMD_READ && s->cmd != CMD_WRITE && s->cmd != CMD_GUP &&
		    !(s->cmd == CMD_MADVISE && (step_u64(s, "advice", 0) == MADV_POPULATE_READ ||
						step_u64(s, "advice", 0) == MADV_POPULATE_WRITE)))
			settle(s);
		observe(s, res);
	}
	cleanup();
	for (guint i = 0; i < files->len; i++)
		close(((struct hfile *)g_ptr_array_index(files, i))->fd);
	trace_free(t);
	return 0;
}
