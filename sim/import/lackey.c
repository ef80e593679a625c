/* sim/import/lackey.c - a valgrind log of one program run with
 *
 *     valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --log-file=F
 *
 * to events. Lackey prints the client's data accesses (" L addr,size",
 * " S ...", " M ..." = load+store; "I  ..." instruction fetches are
 * ignored) and --trace-syscalls the client's syscalls with raw numeric
 * arguments ("SYSCALL[pid,tid](nr) sys_mmap ( 0x0, 8192, 3, 34, ... )
 * --> [pre-success] Success(0x4835000)", or "--> [async] ..." completed by
 * a later "SYSCALL[pid,tid](nr) ... [async] --> Success(...)"), both in
 * the order the client ran them and in the one address space valgrind gave
 * it, so accesses land on the regions the syscalls mapped. Lackey lines
 * carry no pid: the log must be of one process (accesses are attributed to
 * the pid of the latest SYSCALL line). Valgrind's own messages ("==PID==",
 * "--PID--") are skipped; any other line is an error.
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vg_pending {
	char name[40];
	uint64_t args[6];
	unsigned nargs;
	uint32_t line;
};

struct imp_lackey {
	char *path;
	struct imp_conv *c;
	int pid;
	GHashTable *pending; /* tid -> struct vg_pending */
	/* run collapse before the converter: the same page, same kind */
	uint64_t last_page;
	bool last_write, have_last;
};

struct imp_lackey *imp_lackey_new(const char *path, struct imp_conv *c)
{
	struct imp_lackey *l = g_new0(struct imp_lackey, 1);
	l->path = g_strdup(path);
	l->c = c;
	l->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	imp_conv_set_accesses(c);
	return l;
}

void imp_lackey_free(struct imp_lackey *l)
{
	if (!l)
		return;
	g_hash_table_destroy(l->pending);
	g_free(l->path);
	g_free(l);
}

void imp_lackey_finish(struct imp_lackey *l)
{
	for (guint i = 0; i < g_hash_table_size(l->pending); i++)
		imp_conv_skip(l->c, "call unfinished at the end of the capture (dropped)", 0);
}

static bool fail(struct imp_lackey *l, GString *err, uint32_t line, const char *msg)
{
	g_string_printf(err, "%s:%u: %s", l->path, line, msg);
	return false;
}

static void lk_access(struct imp_lackey *l, uint64_t addr, bool write, uint32_t line)
{
	uint64_t page = addr >> 12;
	if (l->have_last && page == l->last_page && (!write || l->last_write))
		return;
	l->have_last = true;
	l->last_page = page;
	l->last_write = write;
	struct imp_event ev = {
		.op = IMP_ACCESS, .line = line, .pid = l->pid, .addr = addr, .write = write
	};
	imp_conv_event(l->c, &ev);
}

/* " L 04035000,8": returns false on a malformed line. */
static bool access_line(struct imp_lackey *l, const char *p, uint32_t line)
{
	char kind = p[1];
	char *end;
	if (p[2] != ' ')
		return false;
	p += 3;
	while (*p == ' ')
		p++;
	if (!isxdigit((unsigned char)*p))
		return false;
	uint64_t addr = strtoull(p, &end, 16);
	if (*end != ',' || !isdigit((unsigned char)end[1]))
		return false;
	uint64_t size = strtoull(end + 1, &end, 10);
	if (*end && *end != ' ')
		return false;
	bool write = kind != 'L';
	lk_access(l, addr, write, line);
	if (size && ((addr + size - 1) >> 12) != (addr >> 12))
		lk_access(l, addr + size - 1, write, line);
	return true;
}

/* Numeric syscall arguments to an event, as strace.c would decode them. */
static void syscall_event(struct imp_lackey *l, const struct vg_pending *pd, bool ok, uint64_t res,
			  uint32_t line)
{
	struct imp_event ev = { 0 };
	const uint64_t *a = pd->args;
	ev.line = line;
	ev.seq = line;
	ev.pid = l->pid;
	ev.ts = ev.dur = -1;
	ev.ret = (int64_t)res;
	ev.err = ok ? 0 : (int)res;
	snprintf(ev.name, sizeof(ev.name), "%s", pd->name);
	unsigned n = pd->nargs;
	const char *nm = pd->name;
	if (!strcmp(nm, "mmap") && n >= 6) {
		ev.op = IMP_MMAP;
		ev.len = a[1];
		ev.prot = a[2];
		ev.flags = a[3];
		ev.fd = (int)(uint32_t)a[4];
		ev.arg = a[5];
	} else if ((!strcmp(nm, "munmap") && n >= 2) || (!strcmp(nm, "mprotect") && n >= 3) ||
		   (!strcmp(nm, "madvise") && n >= 3)) {
		ev.op = nm[1] == 'u' ? IMP_MUNMAP : nm[1] == 'a' ? IMP_MADVISE : IMP_MPROTECT;
		ev.addr = a[0];
		ev.len = a[1];
		ev.prot = ev.arg = n > 2 ? a[2] : 0;
	} else if (!strcmp(nm, "mremap") && n >= 4) {
		ev.op = IMP_MREMAP;
		ev.addr = a[0];
		ev.len = a[1];
		ev.len2 = a[2];
		ev.flags = a[3];
	} else if (!strcmp(nm, "brk")) {
		ev.op = IMP_BRK;
	} else if (!strcmp(nm, "clone") && n >= 1) {
		ev.op = IMP_CLONE;
		ev.flags = a[0];
	} else if (!strcmp(nm, "fork") || !strcmp(nm, "vfork")) {
		ev.op = IMP_CLONE;
		ev.flags = nm[0] == 'v' ? IMP_CLONE_VM | IMP_CLONE_VFORK : 0;
	} else if (!strcmp(nm, "execve")) {
		ev.op = IMP_EXECVE;
	} else if (!strcmp(nm, "exit_group")) {
		ev.op = IMP_EXIT;
	} else if (!strcmp(nm, "memfd_create")) {
		ev.op = IMP_MEMFD;
	} else if (!strcmp(nm, "userfaultfd")) {
		ev.op = IMP_UFFD_OPEN;
	} else if ((!strcmp(nm, "ftruncate") && n >= 2) || (!strcmp(nm, "close") && n >= 1)) {
		ev.op = nm[0] == 'f' ? IMP_FTRUNCATE : IMP_CLOSE;
		ev.fd = (int)a[0];
		ev.len = n > 1 ? a[1] : 0;
	} else if (!strcmp(nm, "ioctl") && n >= 2 && ((a[1] >> 8) & 0xff) == 0xaa) {
		ev.op = IMP_SKIP;
		snprintf(ev.name, sizeof(ev.name), "uffd ioctl 0x%x with an undecoded argument",
			 (unsigned)(a[1] & 0xff));
	} else {
		ev.op = IMP_SKIP;
		snprintf(ev.name, sizeof(ev.name), "syscall %.20s (not imported)", nm);
	}
	l->have_last = false;
	imp_conv_event(l->c, &ev);
}

/* "Success(0x..)" / "Failure(0x..)" somewhere in s. */
static bool result(const char *s, bool *ok, uint64_t *res)
{
	const char *p = strstr(s, "Success(");
	*ok = p != NULL;
	if (!p && !(p = strstr(s, "Failure(")))
		return false;
	char *end;
	*res = strtoull(p + 8, &end, 16);
	return *end == ')';
}

static bool syscall_line(struct imp_lackey *l, const char *p, uint32_t line, GString *err)
{
	int pid, tid, nr, n = 0;
	if (sscanf(p, "SYSCALL[%d,%d](%d) %n", &pid, &tid, &nr, &n) != 3 || !n)
		return fail(l, err, line, "bad SYSCALL line (expected SYSCALL[pid,tid](nr) ...)");
	l->pid = pid;
	p += n;
	bool ok;
	uint64_t res;
	if (!strncmp(p, "... [async]", 11)) { /* completion of an async call */
		struct vg_pending *pd = g_hash_table_lookup(l->pending, GINT_TO_POINTER(tid));
		if (!pd)
			return fail(l, err, line, "async completion without its call");
		if (!result(p, &ok, &res))
			return fail(l, err, line, "async completion without Success()/Failure()");
		syscall_event(l, pd, ok, res, line);
		g_hash_table_remove(l->pending, GINT_TO_POINTER(tid));
		return true;
	}
	if (!strncmp(p, "unimplemented", 13))
		return true;
	struct vg_pending pd = { 0 };
	pd.line = line;
	size_t nl = strcspn(p, " (");
	if (!nl)
		return fail(l, err, line, "bad SYSCALL line: no name");
	const char *nm = p;
	if (!strncmp(nm, "sys_", 4) && nl > 4)
		nm += 4, nl -= 4;
	snprintf(pd.name, sizeof(pd.name), "%.*s", (int)MIN(nl, 39), nm);
	const char *open = strchr(p, '('), *arrow = strstr(p, "-->");
	if (!open || !arrow || open > arrow)
		return fail(l, err, line, "bad SYSCALL line: no '( args ) -->'");
	/* numbers at the top level of the argument list */
	int depth = 0;
	bool fresh = true;
	for (const char *q = open + 1; q < arrow && pd.nargs < 6; q++) {
		if (*q == '(') {
			depth++;
		} else if (*q == ')') {
			if (depth-- == 0)
				break;
		} else if (*q == ',' && !depth) {
			fresh = true;
		} else if (fresh && !depth && isdigit((unsigned char)*q)) {
			char *end;
			pd.args[pd.nargs++] = strtoull(q, &end, 0);
			q = end - 1;
			fresh = false;
		}
	}
	if (strstr(arrow, "[async] ...")) {
		struct vg_pending *copy = g_memdup2(&pd, sizeof(pd));
		g_hash_table_replace(l->pending, GINT_TO_POINTER(tid), copy);
		return true;
	}
	if (!result(arrow, &ok, &res))
		return fail(l, err, line, "SYSCALL line without Success()/Failure()");
	syscall_event(l, &pd, ok, res, line);
	return true;
}

bool imp_lackey_line(struct imp_lackey *l, const char *p, uint32_t line, GString *err)
{
	if (p[0] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M')) {
		if (!access_line(l, p, line))
			return fail(l, err, line,
				    "bad lackey access line (expected ' L addr,size')");
		return true;
	}
	if (p[0] == 'I' && p[1] == ' ')
		return true;
	if (!strncmp(p, "SYSCALL[", 8))
		return syscall_line(l, p, line, err);
	if (!p[0] || !strncmp(p, "==", 2) || !strncmp(p, "--", 2) || !strncmp(p, " -->", 4) ||
	    !strncmp(p, "**", 2))
		return true;
	return fail(l, err, line, "not a valgrind lackey log line");
}
