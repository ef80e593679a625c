/* sim/import/strace.c - `strace -f [-tt|-ttt] [-T] -o FILE` text to events.
 *
 * A line is [PID prefix] [timestamp] BODY [<duration>], where the prefix is
 * "PID " (with -o) or "[pid N] " (on a terminal) and BODY is a complete call
 * "name(args) = ret", an interrupted one "name(args <unfinished ...>" later
 * completed by "<... name resumed>args) = ret" on the same pid, or a
 * "+++ exit +++" / "--- signal ---" line. Arguments are split at top-level
 * commas (quotes, braces, brackets and parentheses respected) and decoded
 * for the calls the converter takes; every other call is counted by name.
 * A line that fits none of these shapes, or a call whose needed argument
 * does not parse, is an error "path:line: message".
 */
#include "import/import.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pending {
	char name[40];
	GString *text; /* the arguments so far */
	uint32_t line;
	double ts;
};

struct imp_strace {
	char *path;
	GArray *events;	     /* struct imp_event */
	GHashTable *pending; /* pid -> struct pending */
};

static void pending_free(gpointer p)
{
	struct pending *pd = p;
	g_string_free(pd->text, TRUE);
	g_free(pd);
}

struct imp_strace *imp_strace_new(const char *path)
{
	struct imp_strace *s = g_new0(struct imp_strace, 1);
	s->path = g_strdup(path);
	s->events = g_array_new(FALSE, TRUE, sizeof(struct imp_event));
	s->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, pending_free);
	return s;
}

void imp_strace_free(struct imp_strace *s)
{
	if (!s)
		return;
	g_array_free(s->events, TRUE);
	g_hash_table_destroy(s->pending);
	g_free(s->path);
	g_free(s);
}

static bool fail(struct imp_strace *s, GString *err, uint32_t line, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
static bool fail(struct imp_strace *s, GString *err, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_string_printf(err, "%s:%u: %s", s->path, line, m);
	return false;
}

/* --- lexical helpers --- */

/* Index of the ')' that closes an argument list starting at text, or -1. */
static long args_end(const char *text)
{
	int depth = 0;
	bool quote = false;
	for (const char *p = text; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quote = false;
			continue;
		}
		switch (*p) {
		case '"':
			quote = true;
			break;
		case '(':
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			depth--;
			break;
		case ')':
			if (depth == 0)
				return p - text;
			depth--;
			break;
		}
	}
	return -1;
}

/* Split an argument list at top-level commas into trimmed strings. */
static GPtrArray *split_args(const char *text, size_t len)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	int depth = 0;
	bool quote = false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? text[i] : ',';
		if (quote) {
			if (ch == '\\' && i + 1 < len)
				i++;
			else if (ch == '"')
				quote = false;
			continue;
		}
		if (ch == '"')
			quote = true;
		else if (ch == '(' || ch == '[' || ch == '{')
			depth++;
		else if (ch == ')' || ch == ']' || ch == '}')
			depth--;
		else if (ch == ',' && depth <= 0) {
			g_autofree char *piece = g_strndup(text + start, i - start);
			g_ptr_array_add(a, g_strdup(g_strstrip(piece)));
			start = i + 1;
		}
	}
	if (a->len == 1 && !*(char *)a->pdata[0])
		g_ptr_array_set_size(a, 0);
	return a;
}

/* A number: NULL, decimal, 0x hex, possibly followed by a -y decoration
 * ("3</path>") or a comment. */
static bool num(const char *t, uint64_t *v)
{
	char *end;
	if (!t || !*t)
		return false;
	if (!strncmp(t, "NULL", 4) && (!t[4] || t[4] == ' ')) {
		*v = 0;
		return true;
	}
	if (!isdigit((unsigned char)*t))
		return false;
	errno = 0;
	*v = strtoull(t, &end, 0);
	if (errno)
		return false;
	return !*end || *end == '<' || *end == ' ' || *end == '/';
}

struct fname {
	const char *name;
	uint64_t value;
};

static const struct fname map_flags[] = {
	{ "MAP_SHARED", 0x01 },
	{ "MAP_PRIVATE", 0x02 },
	{ "MAP_SHARED_VALIDATE", 0x03 },
	{ "MAP_FIXED", 0x10 },
	{ "MAP_ANONYMOUS", 0x20 },
	{ "MAP_ANON", 0x20 },
	{ "MAP_FIXED_NOREPLACE", 0x100000 },
	{ NULL, 0 },
};
static const struct fname prot_flags[] = {
	{ "PROT_NONE", 0 }, { "PROT_READ", 1 }, { "PROT_WRITE", 2 },
	{ "PROT_EXEC", 4 }, { NULL, 0 },
};
static const struct fname mremap_flags[] = {
	{ "MREMAP_MAYMOVE", 1 },
	{ "MREMAP_FIXED", 2 },
	{ "MREMAP_DONTUNMAP", 4 },
	{ NULL, 0 },
};
static const struct fname clone_flags[] = {
	{ "CLONE_VM", IMP_CLONE_VM },
	{ "CLONE_VFORK", IMP_CLONE_VFORK },
	{ "CLONE_THREAD", IMP_CLONE_THREAD },
	{ NULL, 0 },
};

/* Strip a C comment and blanks from a flag expression in place. */
static void strip_comment(char *t)
{
	char *c = strstr(t, "/*");
	if (c)
		*c = 0;
	g_strstrip(t);
}

/* "A|B|0x40": names from table (or, with prefix, from a trace flag table
 * after removing prefix), numbers ORed in. Unknown names go to *unknown as
 * a count of names (their bits are not known). */
static bool flags_expr(const char *text, const struct fname *table, const char *const *prefixes,
		       const struct flag_name *ttable, uint64_t *v, uint64_t *unknown)
{
	g_autofree char *t = g_strdup(text ? text : "");
	strip_comment(t);
	*v = 0;
	if (!*t)
		return false;
	g_auto(GStrv) parts = g_strsplit(t, "|", -1);
	for (char **p = parts; *p; p++) {
		char *tok = g_strstrip(*p);
		uint64_t n;
		if (!*tok)
			return false;
		if (num(tok, &n)) {
			if (ttable) {
				uint64_t known = 0;
				for (const struct flag_name *f = ttable; f->name; f++)
					known |= f->value;
				if (n & ~known && unknown)
					*unknown |= n & ~known;
			}
			*v |= n;
			continue;
		}
		bool found = false;
		for (const struct fname *f = table; f && f->name; f++)
			if (!strcmp(tok, f->name)) {
				*v |= f->value;
				found = true;
			}
		for (const char *const *pre = prefixes; !found && pre && *pre; pre++) {
			size_t pl = strlen(*pre);
			if (strncmp(tok, *pre, pl))
				continue;
			if (flag_lookup(ttable, tok + pl, &n)) {
				*v |= n;
				found = true;
			}
		}
		if (!found) {
			if (!isalpha((unsigned char)tok[0]) && tok[0] != '_')
				return false;
			if (unknown && ttable)
				*unknown |= 1ULL << 63; /* a name the model has no bit for */
		}
	}
	return true;
}

/* The value of "key=" in a decoded struct (first occurrence, any depth). */
static char *field(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; (p = strstr(p, key)); p += kl) {
		if (p != text && p[-1] != '{' && p[-1] != ' ' && p[-1] != ',')
			continue;
		if (p[kl] != '=')
			continue;
		const char *v = p + kl + 1, *e = v;
		int depth = 0;
		while (*e && !(depth == 0 && (*e == ',' || *e == '}' || *e == ' '))) {
			if (*e == '{')
				depth++;
			else if (*e == '}')
				depth--;
			e++;
		}
		return g_strndup(v, e - v);
	}
	return NULL;
}

/* --- calls --- */

static const char *const uffd_prefixes[] = {
	"UFFDIO_REGISTER_MODE_",     "UFFDIO_COPY_MODE_",      "UFFDIO_ZEROPAGE_MODE_",
	"UFFDIO_WRITEPROTECT_MODE_", "UFFDIO_RWPROTECT_MODE_", "UFFDIO_CONTINUE_MODE_",
	"UFFDIO_MOVE_MODE_",	     "UFFD_FEATURE_",	       NULL
};

static const struct {
	const char *name;
	int cmd;
	unsigned nr;
} uffd_ioctls[] = {
	{ "UFFDIO_API", UF_API, 0x3f },
	{ "UFFDIO_REGISTER", UF_REGISTER, 0x00 },
	{ "UFFDIO_UNREGISTER", UF_UNREGISTER, 0x01 },
	{ "UFFDIO_WAKE", UF_WAKE, 0x02 },
	{ "UFFDIO_COPY", UF_COPY, 0x03 },
	{ "UFFDIO_ZEROPAGE", UF_ZEROPAGE, 0x04 },
	{ "UFFDIO_MOVE", UF_MOVE, 0x05 },
	{ "UFFDIO_WRITEPROTECT", UF_WRITEPROTECT, 0x06 },
	{ "UFFDIO_CONTINUE", UF_CONTINUE, 0x07 },
	{ "UFFDIO_POISON", -1, 0x08 },
	{ "UFFDIO_RWPROTECT", UF_RWPROTECT, 0x09 },
	{ "UFFDIO_SET_MODE", UF_SET_MODE, 0x0a },
};

/* Which uffd ioctl a request names: by name, _IOC(dir, 0xaa, nr, size) or a
 * raw number; -1 if it is not one. */
static int uffd_request(const char *req)
{
	for (size_t i = 0; i < G_N_ELEMENTS(uffd_ioctls); i++)
		if (!strcmp(req, uffd_ioctls[i].name))
			return (int)i;
	unsigned type, nr;
	uint64_t raw;
	const char *io = strstr(req, "_IOC(");
	if (io) {
		const char *c1 = strchr(io, ',');
		if (!c1 || sscanf(c1 + 1, " %x , %x", &type, &nr) != 2)
			return -1;
	} else if (num(req, &raw)) {
		type = (raw >> 8) & 0xff;
		nr = raw & 0xff;
	} else {
		return -1;
	}
	if (type != 0xaa)
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(uffd_ioctls); i++)
		if (uffd_ioctls[i].nr == nr)
			return (int)i;
	return -1;
}

static void skip_ev(struct imp_event *ev, const char *fmt, const char *what)
{
	ev->op = IMP_SKIP;
	snprintf(ev->name, sizeof(ev->name), fmt, what);
}

static bool decode_ioctl(struct imp_strace *s, struct imp_event *ev, GPtrArray *a, GString *err)
{
	uint64_t fd;
	if (a->len < 2 || !num(a->pdata[0], &fd))
		return fail(s, err, ev->line, "ioctl: bad arguments");
	const char *req = a->pdata[1];
	int i = uffd_request(req);
	if (i < 0) {
		g_autofree char *r = g_strndup(req, strcspn(req, " ,("));
		skip_ev(ev, "ioctl %s (not imported)", r);
		return true;
	}
	const char *arg = a->len > 2 ? a->pdata[2] : "";
	if (uffd_ioctls[i].cmd < 0) {
		skip_ev(ev, "%s (no model)", uffd_ioctls[i].name);
		return true;
	}
	if (arg[0] != '{') {
		skip_ev(ev, "%s with an undecoded argument", uffd_ioctls[i].name);
		return true;
	}
	ev->op = IMP_UFFD_IOCTL;
	ev->fd = (int)fd;
	ev->uffd_cmd = uffd_ioctls[i].cmd;
	g_autofree char *start = field(arg, "start");
	g_autofree char *len = field(arg, "len");
	g_autofree char *mode = field(arg, "mode");
	const struct flag_name *mt = NULL;
	bool need_range = true;
	switch (ev->uffd_cmd) {
	case UF_API: {
		g_autofree char *f = field(arg, "features");
		if (!f ||
		    !flags_expr(f, NULL, uffd_prefixes, feature_names, &ev->arg, &ev->unknown_bits))
			return fail(s, err, ev->line, "UFFDIO_API: bad features '%s'", f ? f : "");
		ev->unknown_bits = 0; /* the converter counts bits the model lacks */
		return true;
	}
	case UF_SET_MODE: {
		g_autofree char *en = field(arg, "enable");
		g_autofree char *dis = field(arg, "disable");
		if ((en && !flags_expr(en, NULL, uffd_prefixes, feature_names, &ev->arg,
				       &ev->unknown_bits)) ||
		    (dis && !flags_expr(dis, NULL, uffd_prefixes, feature_names, &ev->arg2,
					&ev->unknown_bits)))
			return fail(s, err, ev->line, "UFFDIO_SET_MODE: bad flags");
		return true;
	}
	case UF_REGISTER:
		mt = register_mode_names;
		break;
	case UF_COPY:
	case UF_MOVE: {
		g_autofree char *dst = field(arg, "dst");
		g_autofree char *src = field(arg, "src");
		if (!num(dst, &ev->addr) || !num(src, &ev->addr2) || !num(len, &ev->len))
			return fail(s, err, ev->line, "%s: bad dst/src/len", uffd_ioctls[i].name);
		need_range = false;
		mt = ev->uffd_cmd == UF_COPY ? copy_mode_names : move_mode_names;
		break;
	}
	case UF_ZEROPAGE:
	case UF_CONTINUE:
		mt = copy_mode_names;
		break;
	case UF_WRITEPROTECT:
		mt = wp_mode_names;
		break;
	case UF_RWPROTECT:
		mt = rwp_mode_names;
		break;
	default:
		break;
	}
	if (need_range && (!num(start, &ev->addr) || !num(len, &ev->len)))
		return fail(s, err, ev->line, "%s: bad range", uffd_ioctls[i].name);
	if (mt && mode && !flags_expr(mode, NULL, uffd_prefixes, mt, &ev->arg, &ev->unknown_bits))
		return fail(s, err, ev->line, "%s: bad mode '%s'", uffd_ioctls[i].name, mode);
	return true;
}

/* Decode one complete call into ev. */
static bool decode(struct imp_strace *s, struct imp_event *ev, const char *name, GPtrArray *a,
		   GString *err)
{
	uint64_t u = 0, unk = 0;
#define ARG(i) ((i) < a->len ? (const char *)a->pdata[i] : NULL)
#define NEED(n)                                                                                  \
	do {                                                                                     \
		if (a->len < (n))                                                                \
			return fail(s, err, ev->line, "%s: expected %d arguments, got %u", name, \
				    (n), a->len);                                                \
	} while (0)
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	if (!strcmp(name, "mmap") || !strcmp(name, "mmap2")) {
		NEED(6);
		ev->op = IMP_MMAP;
		if (!num(ARG(1), &ev->len))
			return fail(s, err, ev->line, "mmap: bad length '%s'", ARG(1));
		if (!flags_expr(ARG(2), prot_flags, NULL, NULL, &ev->prot, &unk) ||
		    !flags_expr(ARG(3), map_flags, NULL, NULL, &ev->flags, &unk))
			return fail(s, err, ev->line, "mmap: bad prot or flags");
		const char *fd = ARG(4);
		ev->fd = fd[0] == '-' ? -1 : (num(fd, &u) ? (int)u : -2);
		if (ev->fd == -2 || !num(ARG(5), &ev->arg))
			return fail(s, err, ev->line, "mmap: bad fd or offset");
		if (!strcmp(name, "mmap2"))
			ev->arg *= 4096;
	} else if (!strcmp(name, "munmap") || !strcmp(name, "mprotect") ||
		   !strcmp(name, "madvise") || !strcmp(name, "pkey_mprotect")) {
		NEED(2);
		ev->op = name[1] == 'u' ? IMP_MUNMAP : name[1] == 'a' ? IMP_MADVISE : IMP_MPROTECT;
		if (!num(ARG(0), &ev->addr) || !num(ARG(1), &ev->len))
			return fail(s, err, ev->line, "%s: bad address or length", name);
		if (ev->op == IMP_MPROTECT) {
			NEED(3);
			if (!flags_expr(ARG(2), prot_flags, NULL, NULL, &ev->prot, &unk))
				return fail(s, err, ev->line, "%s: bad prot '%s'", name, ARG(2));
		} else if (ev->op == IMP_MADVISE) {
			NEED(3);
			g_autofree char *adv = g_strdup(ARG(2));
			strip_comment(adv);
			if (!strncmp(adv, "MADV_", 5) && flag_lookup(imp_madv_names, adv + 5, &u))
				ev->arg = u;
			else if (num(adv, &u))
				ev->arg = u;
			else if (!strncmp(adv, "MADV_", 5))
				ev->arg = 1000; /* a newer advice: counted as unknown */
			else
				return fail(s, err, ev->line, "madvise: bad advice '%s'", adv);
		}
	} else if (!strcmp(name, "mremap")) {
		NEED(4);
		ev->op = IMP_MREMAP;
		if (!num(ARG(0), &ev->addr) || !num(ARG(1), &ev->len) || !num(ARG(2), &ev->len2) ||
		    !flags_expr(ARG(3), mremap_flags, NULL, NULL, &ev->flags, &unk))
			return fail(s, err, ev->line, "mremap: bad arguments");
	} else if (!strcmp(name, "brk")) {
		NEED(1);
		ev->op = IMP_BRK;
	} else if (!strcmp(name, "clone") || !strcmp(name, "clone3")) {
		ev->op = IMP_CLONE;
		const char *all = "";
		g_autofree char *joined = NULL;
		for (guint i = 0; i < a->len; i++)
			if (strstr(a->pdata[i], "flags=")) {
				all = a->pdata[i];
				break;
			}
		/* names other than CLONE_VM/VFORK/THREAD (SIGCHLD, ...) do not matter */
		joined = field(all[0] == '{' ? all + 1 : all, "flags");
		if (!joined || !flags_expr(joined, clone_flags, NULL, NULL, &ev->flags, &unk))
			ev->flags = 0;
	} else if (!strcmp(name, "fork")) {
		ev->op = IMP_CLONE;
	} else if (!strcmp(name, "vfork")) {
		ev->op = IMP_CLONE;
		ev->flags = IMP_CLONE_VM | IMP_CLONE_VFORK;
	} else if (!strcmp(name, "execve") || !strcmp(name, "execveat")) {
		ev->op = IMP_EXECVE;
	} else if (!strcmp(name, "memfd_create")) {
		ev->op = IMP_MEMFD;
	} else if (!strcmp(name, "userfaultfd")) {
		ev->op = IMP_UFFD_OPEN;
	} else if (!strcmp(name, "ftruncate") || !strcmp(name, "close")) {
		NEED(1);
		ev->op = name[0] == 'f' ? IMP_FTRUNCATE : IMP_CLOSE;
		if (!num(ARG(0), &u))
			return fail(s, err, ev->line, "%s: bad fd '%s'", name, ARG(0));
		ev->fd = (int)u;
		if (ev->op == IMP_FTRUNCATE) {
			NEED(2);
			if (!num(ARG(1), &ev->len))
				return fail(s, err, ev->line, "ftruncate: bad length '%s'", ARG(1));
		}
	} else if (!strcmp(name, "ioctl")) {
		return decode_ioctl(s, ev, a, err);
	} else {
		skip_ev(ev, "syscall %s (not imported)", name);
	}
	return true;
#undef ARG
#undef NEED
}

/* "= RET [ERRNO (text)] [(flags)] [<dur>]" after the closing parenthesis. */
static bool parse_result(struct imp_strace *s, struct imp_event *ev, const char *rest,
			 bool *unknown, GString *err)
{
	const char *p = rest;
	while (*p == ' ')
		p++;
	if (*p != '=' || p[1] != ' ')
		return fail(s, err, ev->line, "expected ' = RESULT' after the arguments");
	p += 2;
	while (*p == ' ')
		p++;
	*unknown = false;
	if (*p == '?') {
		*unknown = true;
	} else if (*p == '-' && isdigit((unsigned char)p[1])) {
		char *end;
		long long v = strtoll(p, &end, 10);
		ev->ret = v;
		const char *e = end;
		while (*e == ' ')
			e++;
		char name[24] = { 0 };
		size_t n = 0;
		while (n < sizeof(name) - 1 &&
		       (isupper((unsigned char)e[n]) || isdigit((unsigned char)e[n])))
			name[n] = e[n], n++;
		uint64_t en;
		if (n && flag_lookup(result_names, name, &en))
			ev->err = (int)en;
		else
			ev->err = 10000; /* an errno the trace cannot name */
	} else {
		uint64_t v;
		if (!num(p, &v) && !(isdigit((unsigned char)*p)))
			return fail(s, err, ev->line, "bad result '%.20s'", p);
		char *end;
		v = strtoull(p, &end, 0);
		ev->ret = (int64_t)v;
	}
	const char *lt = strrchr(p, '<');
	if (lt && lt[strlen(lt) - 1] == '>' && isdigit((unsigned char)lt[1]))
		ev->dur = strtod(lt + 1, NULL);
	return true;
}

static bool complete(struct imp_strace *s, int pid, const char *name, const char *text,
		     uint32_t line, uint32_t start_line, double ts, GString *err)
{
	long end = args_end(text);
	if (end < 0)
		return fail(s, err, line, "%s: no closing parenthesis", name);
	struct imp_event ev = { 0 };
	ev.line = line;
	ev.seq = line;
	ev.pid = pid;
	ev.ts = ts;
	ev.dur = -1;
	bool unknown = false;
	if (!parse_result(s, &ev, text + end + 1, &unknown, err))
		return false;
	if (unknown)
		return true; /* exit, execve of a vanished task: nothing to import */
	g_autoptr(GPtrArray) args = split_args(text, (size_t)end);
	if (!decode(s, &ev, name, args, err))
		return false;
	if (ev.op == IMP_CLONE)
		ev.seq = start_line; /* the child may print before the parent's call returns */
	g_array_append_val(s->events, ev);
	return true;
}

/* HH:MM:SS[.frac] or SECONDS.frac */
static bool timestamp(const char **pp, double *ts)
{
	const char *p = *pp;
	unsigned h, m;
	double sec;
	int n = 0;
	if (sscanf(p, "%2u:%2u:%lf%n", &h, &m, &sec, &n) == 3 && n > 5 && p[2] == ':') {
		*ts = h * 3600.0 + m * 60.0 + sec;
		*pp = p + n;
		return true;
	}
	if (isdigit((unsigned char)*p)) {
		char *end;
		double v = strtod(p, &end);
		if (*end == ' ' && strchr(p, '.') && strchr(p, '.') < end) {
			*ts = v;
			*pp = end;
			return true;
		}
	}
	return false;
}

bool imp_strace_line(struct imp_strace *s, const char *line, uint32_t lineno, GString *err)
{
	const char *p = line;
	int pid = 0;
	double ts = -1;

	while (*p == ' ')
		p++;
	if (!*p)
		return true;
	if (!strncmp(p, "strace: ", 8) || !strncmp(p, "[ ", 2) || *p == '#')
		return true; /* strace's own messages; '#' comments (fixtures) */
	if (!strncmp(p, "[pid ", 5)) {
		char *end;
		pid = (int)strtol(p + 5, &end, 10);
		if (*end != ']')
			return fail(s, err, lineno, "bad [pid N] prefix");
		p = end + 1;
	} else if (isdigit((unsigned char)*p)) {
		const char *q = p;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == ' ') { /* "PID  " */
			pid = atoi(p);
			p = q;
		}
	}
	while (*p == ' ')
		p++;
	if (isdigit((unsigned char)*p) && !timestamp(&p, &ts))
		return fail(s, err, lineno, "bad timestamp");
	while (*p == ' ')
		p++;
	if (!strncmp(p, "+++ exited", 10) || !strncmp(p, "+++ killed", 10)) {
		struct imp_event ev = { .op = IMP_EXIT, .line = lineno, .seq = lineno, .pid = pid };
		ev.ts = ts;
		ev.dur = -1;
		snprintf(ev.name, sizeof(ev.name), "exit");
		g_array_append_val(s->events, ev);
		return true;
	}
	if (!strncmp(p, "+++ ", 4) || !strncmp(p, "--- ", 4))
		return true;
	if (!strncmp(p, "<... ", 5)) {
		const char *nm = p + 5, *sp = strstr(nm, " resumed>");
		if (!sp)
			return fail(s, err, lineno, "bad '<... NAME resumed>'");
		g_autofree char *name = g_strndup(nm, sp - nm);
		struct pending *pd = g_hash_table_lookup(s->pending, GINT_TO_POINTER(pid));
		if (!pd || strcmp(pd->name, name))
			return fail(s, err, lineno, "'%s' resumed but not unfinished on this pid",
				    name);
		g_string_append(pd->text, sp + 9);
		g_autofree char *text = g_strdup(pd->text->str);
		uint32_t start = pd->line;
		double t0 = pd->ts;
		g_hash_table_remove(s->pending, GINT_TO_POINTER(pid));
		return complete(s, pid, name, text, lineno, start, t0, err);
	}
	const char *nm = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == nm || *p != '(')
		return fail(s, err, lineno, "not an strace line (expected NAME(...) = RESULT)");
	g_autofree char *name = g_strndup(nm, MIN((size_t)(p - nm), 39));
	p++;
	const char *unf = strstr(p, "<unfinished ...>");
	if (unf) {
		struct pending *pd = g_new0(struct pending, 1);
		snprintf(pd->name, sizeof(pd->name), "%s", name);
		pd->text = g_string_new_len(p, unf - p);
		pd->line = lineno;
		pd->ts = ts;
		g_hash_table_replace(s->pending, GINT_TO_POINTER(pid), pd);
		return true;
	}
	return complete(s, pid, name, p, lineno, lineno, ts, err);
}

static int ev_cmp(gconstpointer a, gconstpointer b)
{
	const struct imp_event *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void imp_strace_finish(struct imp_strace *s, struct imp_conv *c, const GPtrArray *ftrace)
{
	g_array_sort(s->events, ev_cmp);
	if (ftrace)
		imp_ftrace_merge(ftrace, s->events);
	for (guint i = 0; i < s->events->len; i++)
		imp_conv_event(c, &g_array_index(s->events, struct imp_event, i));
	for (guint i = 0; i < g_hash_table_size(s->pending); i++)
		imp_conv_skip(c, "call unfinished at the end of the capture (dropped)", 0);
}
