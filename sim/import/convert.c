/* sim/import/convert.c - an event stream from a capture becomes trace steps.
 *
 * The converter keeps, per process, the address ranges each imported
 * mapping still covers (segments), the process's memfd and userfaultfd
 * descriptors and its program break. Every syscall over an address range
 * is cut at segment boundaries and becomes one step per region, with page
 * numbers relative to the start of the mapping that created the region, so
 * the trace never depends on where the program's memory happened to be.
 * Loads and stores (lackey) are batched per interval: the first access to a
 * page in an interval is kept, a store wins over a load. docs/import.md
 * lists what maps to what and what is dropped.
 */
#include "import/import_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/trace.h"

#define PAGE 4096ULL
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define MAX_SPANS_PER_LINE 128
#define MAX_NOTES 40

/* Every advice value, for decoding MADV_ names and counting what the model
 * lacks (the model's own are advice_names[] in sim/trace/commands.c). */
const struct flag_name imp_madv_names[] = {
	{ "NORMAL", 0 },	  { "RANDOM", 1 },
	{ "SEQUENTIAL", 2 },	  { "WILLNEED", 3 },
	{ "DONTNEED", 4 },	  { "FREE", 8 },
	{ "REMOVE", 9 },	  { "DONTFORK", 10 },
	{ "DOFORK", 11 },	  { "MERGEABLE", 12 },
	{ "UNMERGEABLE", 13 },	  { "HUGEPAGE", 14 },
	{ "NOHUGEPAGE", 15 },	  { "DONTDUMP", 16 },
	{ "DODUMP", 17 },	  { "WIPEONFORK", 18 },
	{ "KEEPONFORK", 19 },	  { "COLD", 20 },
	{ "PAGEOUT", 21 },	  { "POPULATE_READ", 22 },
	{ "POPULATE_WRITE", 23 }, { "DONTNEED_LOCKED", 24 },
	{ "COLLAPSE", 25 },	  { "HWPOISON", 100 },
	{ "SOFT_OFFLINE", 101 },  { "GUARD_INSTALL", 102 },
	{ "GUARD_REMOVE", 103 },  { NULL, 0 },
};

void imp_options_init(struct imp_options *o)
{
	memset(o, 0, sizeof(*o));
	o->interval = 64;
	o->long_every = 8;
	o->max_bytes = 900 * 1024;
}

void conv_line(struct imp_conv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_string_append_vprintf(c->body, fmt, ap);
	va_end(ap);
	g_string_append_c(c->body, '\n');
}

void imp_conv_skip(struct imp_conv *c, const char *what, uint32_t line)
{
	gpointer v = g_hash_table_lookup(c->skips, what);
	g_hash_table_insert(c->skips, g_strdup(what), GUINT_TO_POINTER(GPOINTER_TO_UINT(v) + 1));
	if (line && c->nnotes < MAX_NOTES && strstr(what, "undecoded")) {
		g_string_append_printf(c->notes, "#   line %u: %s\n", line, what);
		c->nnotes++;
	}
}

static void skipf(struct imp_conv *c, uint32_t line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void skipf(struct imp_conv *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	imp_conv_skip(c, what, line);
}

static void count(struct imp_conv *c, const char *what) { imp_conv_skip(c, what, 0); }

/* --- processes, regions, segments --- */

static struct cproc *proc_new(struct imp_conv *c)
{
	struct cproc *p = g_new0(struct cproc, 1);
	p->name = g_strdup_printf("p%u", ++c->nproc);
	p->segs = g_array_new(FALSE, FALSE, sizeof(struct seg));
	p->fds = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_ptr_array_add(c->procs, p);
	return p;
}

static struct cproc *proc_of(struct imp_conv *c, int pid)
{
	struct cproc *p = g_hash_table_lookup(c->pid_proc, GINT_TO_POINTER(pid));
	if (!p) {
		p = proc_new(c);
		conv_line(c, "process %s", p->name);
		g_hash_table_insert(c->pid_proc, GINT_TO_POINTER(pid), p);
		p->users = 1;
	}
	return p;
}

static struct creg *reg_new(struct imp_conv *c, struct cproc *p, char *name, uint64_t base,
			    uint64_t len, unsigned prot, bool shared)
{
	struct creg *r = g_new0(struct creg, 1);
	r->name = name;
	r->base = base;
	r->len = len;
	r->prot = prot;
	r->shared = shared;
	r->p = p;
	r->idx = c->regs->len;
	r->touched = !c->have_accesses;
	g_ptr_array_add(c->regs, r);
	p->used = true;
	return r;
}

/* Index of the first segment that ends after addr. */
static guint seg_lower(const struct cproc *p, uint64_t addr)
{
	guint lo = 0, hi = p->segs->len;
	while (lo < hi) {
		guint mid = (lo + hi) / 2;
		if (g_array_index(p->segs, struct seg, mid).end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void segs_remove(struct cproc *p, uint64_t a, uint64_t b)
{
	for (guint i = seg_lower(p, a); i < p->segs->len;) {
		struct seg *s = &g_array_index(p->segs, struct seg, i);
		if (s->start >= b)
			break;
		if (s->start < a && s->end > b) { /* a hole in the middle */
			struct seg tail = { b, s->end, s->r };
			s->end = a;
			g_array_insert_val(p->segs, i + 1, tail);
			return;
		}
		if (s->start < a) {
			s->end = a;
			i++;
		} else if (s->end > b) {
			s->start = b;
			i++;
		} else {
			g_array_remove_index(p->segs, i);
		}
	}
}

static void segs_add(struct cproc *p, uint64_t a, uint64_t b, struct creg *r)
{
	struct seg s = { a, b, r };
	g_array_insert_val(p->segs, seg_lower(p, a), s);
}

/* The parts of [a, b) imported regions cover, one piece per region run;
 * *unknown gets the bytes no region covers. */
static GArray *pieces(const struct cproc *p, uint64_t a, uint64_t b, uint64_t *unknown)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct piece));
	uint64_t covered = 0;
	for (guint i = seg_lower(p, a); a < b && i < p->segs->len; i++) {
		const struct seg *s = &g_array_index(p->segs, struct seg, i);
		if (s->start >= b)
			break;
		uint64_t lo = MAX(a, s->start), hi = MIN(b, s->end);
		struct piece pc = { s->r, (lo - s->r->base) / PAGE, (hi - s->r->base) / PAGE - 1 };
		covered += hi - lo;
		if (out->len) {
			struct piece *last = &g_array_index(out, struct piece, out->len - 1);
			if (last->r == pc.r && last->last + 1 == pc.first) {
				last->last = pc.last;
				continue;
			}
		}
		g_array_append_val(out, pc);
	}
	if (unknown)
		*unknown = (b > a ? b - a : 0) - covered;
	return out;
}

static const char *prot_str(unsigned prot)
{
	static const char *const s[] = { "none", "r", "w", "rw", "x", "rx", "wx", "rwx" };
	return s[prot & 7];
}

static void span(GString *s, uint64_t first, uint64_t last)
{
	if (first == last)
		g_string_append_printf(s, "%" PRIu64, first);
	else
		g_string_append_printf(s, "%" PRIu64 "-%" PRIu64, first, last);
}

static char *pages_of(const struct piece *pc)
{
	GString *s = g_string_new(NULL);
	span(s, pc->first, pc->last);
	return g_string_free(s, FALSE);
}

/* Unmap [a, b) of p: one munmap step per piece. */
static void unmap_range(struct imp_conv *c, struct cproc *p, uint64_t a, uint64_t b)
{
	g_autoptr(GArray) pcs = pieces(p, a, b, NULL);
	for (guint i = 0; i < pcs->len; i++) {
		const struct piece *pc = &g_array_index(pcs, struct piece, i);
		g_autofree char *pg = pages_of(pc);
		if (pc->first == 0 && (pc->last + 1) * PAGE >= pc->r->len)
			conv_line(c, "munmap %s", pc->r->name);
		else
			conv_line(c, "munmap %s pages=%s", pc->r->name, pg);
	}
	segs_remove(p, a, b);
}

/* A new anonymous private region over [a, a+len): the common case. */
static struct creg *map_anon(struct imp_conv *c, struct cproc *p, uint64_t a, uint64_t len,
			     unsigned prot)
{
	unmap_range(c, p, a, a + len); /* MAP_FIXED: what was there goes */
	struct creg *r = reg_new(c, p, g_strdup_printf("r%u", ++c->nreg), a, len, prot, false);
	conv_line(c, "mmap %s proc=%s len=%" PRIu64 " prot=%s map=private at=0x%" PRIx64, r->name,
		  p->name, len, prot_str(prot), a);
	segs_add(p, a, a + len, r);
	ov_region_added(c, r);
	return r;
}

static const char *errno_name(int err)
{
	const char *n = flag_name_of(result_names, (uint64_t)err);
	return err && n ? n : NULL;
}

/* --- the syscalls --- */

static struct cfd *fd_get(struct cproc *p, int fd)
{
	return g_hash_table_lookup(p->fds, GINT_TO_POINTER(fd));
}

static void ev_mmap(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	uint64_t a = (uint64_t)ev->ret, len = PAGE_UP(ev->len);
	unsigned type = (unsigned)ev->flags & 3;
	bool anon = ev->flags & IMP_MAP_ANONYMOUS;
	struct cfd *f = anon ? NULL : fd_get(p, ev->fd);

	if (!len || (a & (PAGE - 1))) {
		count(c, "mmap with a length or address the model cannot take");
		return;
	}
	unmap_range(c, p, a, a + len);
	if (type == IMP_MAP_PRIVATE || (!anon && (!f || f->kind != FD_MEMFD))) {
		if (!anon)
			count(c, type == IMP_MAP_PRIVATE
					 ? "mmap of a file, private: imported as anonymous"
					 : "mmap of a file, shared (not a memfd): imported "
					   "as anonymous private");
		map_anon(c, p, a, len, (unsigned)ev->prot);
		return;
	}
	/* Shared: a memfd, or MAP_SHARED|MAP_ANONYMOUS (shmem of its own). */
	uint64_t off = anon ? 0 : ev->arg;
	char *file;
	if (anon) {
		file = g_strdup_printf("f%u", ++c->nfile);
		conv_line(c, "file %s size=%" PRIu64, file, len);
	} else {
		if (!f->name) {
			f->name = g_strdup_printf("f%u", ++c->nfile);
			f->size = MAX(PAGE_UP(f->size), PAGE_UP(off + len));
			conv_line(c, "file %s size=%" PRIu64, f->name, f->size);
		} else if (off + len > f->size) {
			f->size = PAGE_UP(off + len);
			conv_line(c, "ftruncate %s size=%" PRIu64, f->name, f->size);
		}
		file = g_strdup(f->name);
	}
	struct creg *r =
		reg_new(c, p, g_strdup_printf("r%u", ++c->nreg), a, len, (unsigned)ev->prot, true);
	GString *l = g_string_new(NULL);
	g_string_printf(l, "mmap %s proc=%s len=%" PRIu64 " prot=%s map=shared file=%s", r->name,
			p->name, len, prot_str((unsigned)ev->prot), file);
	if (off)
		g_string_append_printf(l, " offset=%" PRIu64, off);
	conv_line(c, "%s at=0x%" PRIx64, l->str, a);
	g_string_free(l, TRUE);
	g_free(file);
	segs_add(p, a, a + len, r);
	ov_region_added(c, r);
}

/* One step per piece of a range syscall; a failed call keeps its errno as
 * an expectation when it touched exactly one region. */
static void ranged(struct imp_conv *c, const struct imp_event *ev, struct cproc *p,
		   const char *what, const char *fmt_tail)
{
	uint64_t unknown;
	g_autoptr(GArray) pcs = pieces(p, ev->addr, ev->addr + PAGE_UP(ev->len), &unknown);
	const char *en = errno_name(ev->err);

	if (ev->err && (!en || pcs->len != 1 || unknown)) {
		skipf(c, 0, "failed %s", what);
		return;
	}
	if (!pcs->len) {
		count(c, "call on a range no imported region covers");
		return;
	}
	if (unknown)
		count(c, "call partly outside imported regions (that part dropped)");
	for (guint i = 0; i < pcs->len; i++) {
		const struct piece *pc = &g_array_index(pcs, struct piece, i);
		g_autofree char *pg = pages_of(pc);
		conv_line(c, fmt_tail, pc->r->name, pg);
	}
	if (ev->scan[0])
		conv_line(c, "expect scan is=%s", ev->scan);
	if (en)
		conv_line(c, "expect result is=%s", en);
}

static void ev_mprotect(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	g_autofree char *fmt =
		g_strdup_printf("mprotect %%s pages=%%s prot=%s", prot_str((unsigned)ev->prot));
	ranged(c, ev, p, "mprotect", fmt);
	if (!ev->err) {
		g_autoptr(GArray) pcs = pieces(p, ev->addr, ev->addr + PAGE_UP(ev->len), NULL);
		for (guint i = 0; i < pcs->len; i++)
			g_array_index(pcs, struct piece, i).r->prot = (unsigned)ev->prot;
	}
}

static void ev_madvise(struct imp_conv *c, const struct imp_event *ev)
{
	const char *adv = flag_name_of(advice_names, ev->arg);
	if (!adv) {
		const char *o = flag_name_of(imp_madv_names, ev->arg);
		if (o)
			skipf(c, 0, "madvise MADV_%s (no model)", o);
		else
			skipf(c, 0, "madvise advice %" PRIu64 " (unknown)", ev->arg);
		return;
	}
	g_autofree char *fmt = g_strdup_printf("madvise %%s pages=%%s advice=%s", adv);
	ranged(c, ev, proc_of(c, ev->pid), "madvise", fmt);
}

static void ev_munmap(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	uint64_t unknown;
	/* (failed calls never get here: imp_conv_event() skips them) */
	g_autoptr(GArray) pcs = pieces(p, ev->addr, ev->addr + PAGE_UP(ev->len), &unknown);
	if (!pcs->len) {
		count(c, "call on a range no imported region covers");
		return;
	}
	unmap_range(c, p, ev->addr, ev->addr + PAGE_UP(ev->len));
}

static void ev_brk(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	uint64_t brk = (uint64_t)ev->ret;
	if (!p->brk_known) {
		p->brk_known = true;
		p->brk_end = brk;
		return;
	}
	uint64_t old = PAGE_UP(p->brk_end), now = PAGE_UP(brk);
	if (now > old)
		map_anon(c, p, old, now - old, IMP_PROT_READ | IMP_PROT_WRITE);
	else if (now < old)
		unmap_range(c, p, now, old);
	p->brk_end = brk;
}

/* mremap: a whole region that moves keeps its name's pages (mremap step);
 * growth adds a region for the new pages; anything else is unmap + map. */
static void ev_mremap(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	uint64_t old = ev->addr, olen = PAGE_UP(ev->len), nlen = PAGE_UP(ev->len2);
	uint64_t dst = (uint64_t)ev->ret;
	uint64_t unknown;

	g_autoptr(GArray) pcs = pieces(p, old, old + olen, &unknown);
	if (!pcs->len) {
		count(c, "call on a range no imported region covers");
		return;
	}
	const struct piece *pc = &g_array_index(pcs, struct piece, 0);
	struct creg *r = pc->r;
	unsigned prot = r->prot;
	if (dst == old) { /* in place */
		if (nlen < olen)
			unmap_range(c, p, old + nlen, old + olen);
		else if (nlen > olen) {
			count(c, "mremap growing in place: the new pages are a new region");
			map_anon(c, p, old + olen, nlen - olen, prot);
		}
		return;
	}
	bool whole = pcs->len == 1 && !unknown && pc->first == 0 && olen == r->len && !r->shared &&
		     !(ev->flags & IMP_MREMAP_DONTUNMAP) && nlen >= olen;
	/* Is the region still in one piece? */
	g_autoptr(GArray) all = pieces(p, r->base, r->base + r->len, NULL);
	whole = whole && all->len == 1 &&
		g_array_index(all, struct piece, 0).last + 1 == r->len / PAGE;
	if (!whole) {
		count(c, "mremap moving part of a region or a shared one: imported as munmap + "
			 "anonymous mmap (contents lost)");
		if (!(ev->flags & IMP_MREMAP_DONTUNMAP))
			unmap_range(c, p, old, old + olen);
		unmap_range(c, p, dst, dst + nlen);
		map_anon(c, p, dst, nlen, prot);
		return;
	}
	unmap_range(c, p, dst, dst + nlen);
	segs_remove(p, old, old + olen);
	struct creg *n = reg_new(c, p, g_strdup_printf("r%u", ++c->nreg), dst, olen, prot, false);
	n->touched = r->touched;
	conv_line(c, "mremap %s from=%s at=0x%" PRIx64, n->name, r->name, dst);
	segs_add(p, dst, dst + olen, n);
	ov_region_added(c, n);
	if (nlen > olen) {
		count(c, "mremap growing a region: the new pages are a new region");
		map_anon(c, p, dst + olen, nlen - olen, prot);
	}
}

static void fd_put(struct imp_conv *c, struct cfd *f)
{
	if (--f->refs == 0 && f->kind == FD_UFFD && f->name)
		conv_line(c, "uffd close %s", f->name);
}

static void ev_clone(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	int child = (int)ev->ret;
	if (ev->err || child <= 0) {
		count(c, "failed clone/fork");
		return;
	}
	if (ev->flags & IMP_CLONE_VM) { /* a thread, or a vfork child until execve */
		g_hash_table_insert(c->pid_proc, GINT_TO_POINTER(child), p);
		p->users++;
		return;
	}
	struct cproc *q = proc_new(c);
	q->users = 1;
	conv_line(c, "fork %s parent=%s", q->name, p->name);
	p->used = q->used = true;
	g_hash_table_insert(c->pid_proc, GINT_TO_POINTER(child), q);
	for (guint i = 0; i < p->segs->len; i++) {
		const struct seg *s = &g_array_index(p->segs, struct seg, i);
		struct creg *r = s->r, *cr = NULL;
		/* one child region per parent region */
		for (guint j = 0; j < i; j++)
			if (g_array_index(p->segs, struct seg, j).r == r)
				cr = g_array_index(q->segs, struct seg, j).r;
		if (!cr) {
			cr = reg_new(c, q, g_strdup_printf("%s.%s", q->name, r->name), r->base,
				     r->len, r->prot, r->shared);
			cr->touched = r->touched;
		}
		segs_add(q, s->start, s->end, cr);
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, p->fds);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		((struct cfd *)v)->refs++;
		g_hash_table_insert(q->fds, k, v);
	}
	/* the overlay's context is not inherited (no EVENT_FORK): a new one */
	for (guint i = 0; i < q->segs->len; i++) {
		struct creg *r = g_array_index(q->segs, struct seg, i).r;
		if (!r->ov_registered)
			ov_region_added(c, r);
	}
}

/* The pid stops using its mm (exit, execve). The last user's mm goes
 * away as exit_mmap() takes it: every region unmapped; its descriptors
 * are closed. */
static void proc_leave(struct imp_conv *c, int pid)
{
	struct cproc *p = g_hash_table_lookup(c->pid_proc, GINT_TO_POINTER(pid));
	g_hash_table_remove(c->pid_proc, GINT_TO_POINTER(pid));
	if (!p || --p->users)
		return;
	while (p->segs->len) {
		const struct seg *s = &g_array_index(p->segs, struct seg, 0);
		struct creg *r = s->r;
		unmap_range(c, p, r->base, r->base + r->len);
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, p->fds);
	while (g_hash_table_iter_next(&it, &k, &v))
		fd_put(c, v);
	g_hash_table_remove_all(p->fds);
}

static void ev_execve(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = g_hash_table_lookup(c->pid_proc, GINT_TO_POINTER(ev->pid));
	if (ev->err || !p)
		return;
	if (!p->used && p->users == 1)
		return; /* nothing imported yet: keep the (empty) process */
	/* a new mm; descriptors are dropped (uffd and memfd are O_CLOEXEC in practice) */
	proc_leave(c, ev->pid);
}

static void ev_fd(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	struct cfd *f;

	if (ev->err)
		return;
	switch (ev->op) {
	case IMP_MEMFD:
	case IMP_UFFD_OPEN:
		if ((f = fd_get(p, (int)ev->ret))) {
			g_hash_table_remove(p->fds, GINT_TO_POINTER((int)ev->ret));
			fd_put(c, f);
		}
		f = g_new0(struct cfd, 1);
		f->kind = ev->op == IMP_MEMFD ? FD_MEMFD : FD_UFFD;
		f->owner = p;
		f->refs = 1;
		g_ptr_array_add(c->fds, f);
		g_hash_table_insert(p->fds, GINT_TO_POINTER((int)ev->ret), f);
		if (f->kind == FD_UFFD) {
			f->name = g_strdup_printf("u%u", ++c->nuffd);
			conv_line(c, "uffd open %s proc=%s", f->name, p->name);
		}
		break;
	case IMP_FTRUNCATE:
		if (!(f = fd_get(p, ev->fd)) || f->kind != FD_MEMFD)
			return;
		f->size = PAGE_UP(ev->len);
		if (f->name && f->size)
			conv_line(c, "ftruncate %s size=%" PRIu64, f->name, f->size);
		break;
	case IMP_CLOSE:
		if (!(f = fd_get(p, ev->fd)))
			return;
		g_hash_table_remove(p->fds, GINT_TO_POINTER(ev->fd));
		fd_put(c, f);
		break;
	default:
		break;
	}
}

static void append_flags(GString *s, const struct flag_name *t, uint64_t v)
{
	bool first = true;
	for (; t->name; t++) {
		if (t->value && (v & t->value) == t->value) {
			g_string_append_printf(s, "%s%s", first ? "" : "|", t->name);
			first = false;
		}
	}
	if (first)
		g_string_append_c(s, '0');
}

static uint64_t known_bits(const struct flag_name *t)
{
	uint64_t m = 0;
	for (; t->name; t++)
		m |= t->value;
	return m;
}

static void ev_uffd(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = proc_of(c, ev->pid);
	struct cfd *f = fd_get(p, ev->fd);
	g_autoptr(GString) tail = g_string_new(NULL);
	const struct flag_name *modes = NULL;
	const char *cmd = NULL;

	if (!f || f->kind != FD_UFFD) {
		count(c, "uffd ioctl on a descriptor not opened by userfaultfd()");
		return;
	}
	if (ev->unknown_bits)
		count(c, "uffd flag bits strace printed as unknown (dropped)");
	switch (ev->uffd_cmd) {
	case UF_API:
		if (ev->err)
			return count(c, "failed UFFDIO_API");
		if (ev->arg & ~known_bits(feature_names))
			count(c, "UFFDIO_API feature bits the model lacks (dropped)");
		g_string_append(tail, " features=");
		append_flags(tail, feature_names, ev->arg);
		conv_line(c, "uffd api %s%s", f->name, tail->str);
		return;
	case UF_SET_MODE:
		g_string_append(tail, " enable=");
		append_flags(tail, feature_names, ev->arg);
		g_string_append(tail, " disable=");
		append_flags(tail, feature_names, ev->arg2);
		conv_line(c, "uffd set-mode %s%s", f->name, tail->str);
		if (errno_name(ev->err))
			conv_line(c, "expect result is=%s", errno_name(ev->err));
		return;
	case UF_REGISTER:
		cmd = "register";
		modes = register_mode_names;
		break;
	case UF_UNREGISTER:
		cmd = "unregister";
		break;
	case UF_WAKE:
		cmd = "wake";
		break;
	case UF_COPY:
		cmd = "copy";
		modes = copy_mode_names;
		break;
	case UF_ZEROPAGE:
		cmd = "zeropage";
		modes = copy_mode_names;
		break;
	case UF_CONTINUE:
		cmd = "continue";
		modes = copy_mode_names;
		break;
	case UF_WRITEPROTECT:
		cmd = "writeprotect";
		modes = wp_mode_names;
		break;
	case UF_RWPROTECT:
		cmd = "rwprotect";
		modes = rwp_mode_names;
		break;
	case UF_MOVE: {
		struct cproc *o = f->owner;
		uint64_t len = PAGE_UP(ev->len), u1, u2;
		g_autoptr(GArray) d = pieces(o, ev->addr, ev->addr + len, &u1);
		g_autoptr(GArray) s = pieces(o, ev->addr2, ev->addr2 + len, &u2);
		const struct piece *dp = d->len == 1 ? &g_array_index(d, struct piece, 0) : NULL;
		const struct piece *sp = s->len == 1 ? &g_array_index(s, struct piece, 0) : NULL;
		if (ev->err || u1 || u2 || !dp || !sp || dp->first != sp->first) {
			count(c, "UFFDIO_MOVE between different page numbers (not expressible)");
			return;
		}
		g_autofree char *pg = pages_of(dp);
		g_string_append(tail, " mode=");
		append_flags(tail, move_mode_names, ev->arg);
		conv_line(c, "uffd move %s %s src=%s pages=%s%s", f->name, dp->r->name, sp->r->name,
			  pg, tail->str);
		return;
	}
	default:
		return;
	}
	if (modes) {
		g_string_append(tail, " mode=");
		append_flags(tail, modes, ev->arg);
	}
	if (ev->uffd_cmd == UF_COPY) {
		g_autofree char *v = g_strdup_printf(" value=0x%x", ++c->value);
		g_string_prepend(tail, v);
	}
	g_autofree char *what = g_strdup_printf("UFFDIO_%s", cmd);
	g_autofree char *fmt =
		g_strdup_printf("uffd %s %s %%s pages=%%s%s", cmd, f->name, tail->str);
	struct imp_event e2 = *ev;
	ranged(c, &e2, f->owner, what, fmt);
}

/* --- accesses --- */

static int acc_cmp(gconstpointer a, gconstpointer b)
{
	const struct acc *x = a, *y = b;
	if (x->reg != y->reg)
		return x->reg < y->reg ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

static void emit_list(struct imp_conv *c, const char *head, const GArray *pages, const char *tail)
{
	GString *l = g_string_new(NULL);
	unsigned nspans = 0;
	for (guint i = 0; i < pages->len;) {
		uint64_t first = g_array_index(pages, uint64_t, i), last = first;
		for (i++; i < pages->len && g_array_index(pages, uint64_t, i) == last + 1; i++)
			last++;
		if (l->len)
			g_string_append_c(l, ',');
		span(l, first, last);
		if (++nspans == MAX_SPANS_PER_LINE || i == pages->len) {
			conv_line(c, "%s pages=%s%s", head, l->str, tail);
			g_string_truncate(l, 0);
			nspans = 0;
		}
	}
	g_string_free(l, TRUE);
}

/* Print the batch: per region one read of the pages only loaded and one
 * write of the pages stored to. */
void conv_flush(struct imp_conv *c)
{
	if (!c->batch->len)
		return;
	g_array_sort(c->batch, acc_cmp);
	g_autoptr(GArray) rd = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	g_autoptr(GArray) wr = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	for (guint i = 0; i < c->batch->len;) {
		const struct acc *a = &g_array_index(c->batch, struct acc, i);
		struct creg *r = g_ptr_array_index(c->regs, a->reg);
		g_array_set_size(rd, 0);
		g_array_set_size(wr, 0);
		for (; i < c->batch->len && g_array_index(c->batch, struct acc, i).reg == r->idx;) {
			uint64_t page = g_array_index(c->batch, struct acc, i).page;
			bool w = false;
			for (; i < c->batch->len &&
			       g_array_index(c->batch, struct acc, i).reg == r->idx &&
			       g_array_index(c->batch, struct acc, i).page == page;
			     i++)
				w |= g_array_index(c->batch, struct acc, i).write;
			g_array_append_val(w ? wr : rd, page);
		}
		g_autofree char *rh = g_strdup_printf("read %s", r->name);
		g_autofree char *wh = g_strdup_printf("write %s", r->name);
		g_autofree char *wt = g_strdup_printf(" value=0x%x", wr->len ? ++c->value : 0);
		if (rd->len)
			emit_list(c, rh, rd, "");
		if (wr->len)
			emit_list(c, wh, wr, wt);
	}
	g_array_set_size(c->batch, 0);
}

static void ev_access(struct imp_conv *c, const struct imp_event *ev)
{
	struct cproc *p = g_hash_table_lookup(c->pid_proc, GINT_TO_POINTER(ev->pid));
	if (!p) {
		count(c, "access outside imported regions (stack, program image, valgrind)");
		return;
	}
	const struct seg *s = c->last_seg;
	if (!s || c->last_seg_proc != p || ev->addr < s->start || ev->addr >= s->end) {
		guint i = seg_lower(p, ev->addr);
		s = i < p->segs->len ? &g_array_index(p->segs, struct seg, i) : NULL;
		if (!s || s->start > ev->addr) {
			c->last_seg = NULL;
			count(c,
			      "access outside imported regions (stack, program image, valgrind)");
			return;
		}
		c->last_seg = s;
		c->last_seg_proc = p;
	}
	struct acc a = { s->r->idx, (ev->addr - s->r->base) / PAGE, ev->write };
	if (c->have_last && a.reg == c->last.reg && a.page == c->last.page &&
	    (!a.write || c->last.write))
		return; /* the same page again: one run */
	c->last = a;
	c->have_last = true;
	if (c->capped) {
		c->dropped++;
		return;
	}
	s->r->touched = true;
	g_array_append_val(c->batch, a);
	if (c->batch->len >= c->o.interval) {
		conv_flush(c);
		c->have_last = false;
		ov_interval(c);
		if (c->body->len > c->o.max_bytes)
			c->capped = true;
	}
}

#define USER_END ((1ULL << 47) - PAGE) /* the model's TASK_SIZE */

static bool range_ok(uint64_t *addr, uint64_t *len)
{
	*len += *addr & (PAGE - 1);
	*addr &= ~(PAGE - 1);
	return *addr < USER_END && *len <= USER_END - *addr && PAGE_UP(*len) <= USER_END - *addr;
}

/* Page-align the ranges of an event and keep them inside the user address
 * space, so no arithmetic below can wrap. */
static bool sane(struct imp_event *e)
{
	uint64_t ret = (uint64_t)e->ret;
	switch (e->op) {
	case IMP_MMAP:
		return !(ret & (PAGE - 1)) && range_ok(&ret, &e->len);
	case IMP_MREMAP:
		return !(ret & (PAGE - 1)) && range_ok(&e->addr, &e->len) &&
		       range_ok(&ret, &e->len2);
	case IMP_MUNMAP:
	case IMP_MPROTECT:
	case IMP_MADVISE:
		return range_ok(&e->addr, &e->len);
	case IMP_BRK:
		return e->err || ret < USER_END;
	case IMP_UFFD_IOCTL:
		if (e->uffd_cmd == UF_API || e->uffd_cmd == UF_SET_MODE)
			return true;
		if (e->uffd_cmd == UF_COPY || e->uffd_cmd == UF_MOVE) {
			uint64_t l2 = e->len;
			if (!range_ok(&e->addr2, &l2))
				return false;
		}
		return range_ok(&e->addr, &e->len);
	default:
		return true;
	}
}

void imp_conv_event(struct imp_conv *c, const struct imp_event *event)
{
	struct imp_event e = *event;
	const struct imp_event *ev = &e;
	if (!e.err && e.op != IMP_ACCESS && e.op != IMP_SKIP && !sane(&e)) {
		count(c, "call with an address or length outside the user address space");
		return;
	}
	if (ev->op == IMP_ACCESS) {
		ev_access(c, ev);
		return;
	}
	if (ev->op == IMP_SKIP) { /* accesses need not be ordered against these */
		imp_conv_skip(c, ev->name, ev->line);
		return;
	}
	conv_flush(c);
	c->have_last = false;
	c->last_seg = NULL;
	if (ev->err && ev->op != IMP_MADVISE && ev->op != IMP_MPROTECT &&
	    ev->op != IMP_UFFD_IOCTL) {
		skipf(c, 0, "failed %s", ev->name[0] ? ev->name : "call");
		return;
	}
	switch (ev->op) {
	case IMP_MMAP:
		ev_mmap(c, ev);
		break;
	case IMP_MUNMAP:
		ev_munmap(c, ev);
		break;
	case IMP_MPROTECT:
		ev_mprotect(c, ev);
		break;
	case IMP_MADVISE:
		ev_madvise(c, ev);
		break;
	case IMP_MREMAP:
		ev_mremap(c, ev);
		break;
	case IMP_BRK:
		ev_brk(c, ev);
		break;
	case IMP_CLONE:
		ev_clone(c, ev);
		break;
	case IMP_EXECVE:
		ev_execve(c, ev);
		break;
	case IMP_EXIT:
		proc_leave(c, ev->pid);
		break;
	case IMP_MEMFD:
	case IMP_UFFD_OPEN:
	case IMP_FTRUNCATE:
	case IMP_CLOSE:
		ev_fd(c, ev);
		break;
	case IMP_UFFD_IOCTL:
		ev_uffd(c, ev);
		break;
	default:
		break;
	}
	if (!c->have_accesses && ++c->steps_since >= c->o.interval) {
		c->steps_since = 0;
		if (c->body->len <= c->o.max_bytes)
			ov_interval(c);
	}
}

/* --- life cycle --- */

struct imp_conv *imp_conv_new(const struct imp_options *o)
{
	struct imp_conv *c = g_new0(struct imp_conv, 1);
	c->o = *o;
	if (!c->o.interval)
		c->o.interval = 64;
	if (!c->o.long_every)
		c->o.long_every = 8;
	c->body = g_string_new(NULL);
	c->notes = g_string_new(NULL);
	c->pid_proc = g_hash_table_new(g_direct_hash, g_direct_equal);
	c->procs = g_ptr_array_new();
	c->regs = g_ptr_array_new();
	c->fds = g_ptr_array_new_with_free_func(g_free);
	c->skips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->batch = g_array_new(FALSE, FALSE, sizeof(struct acc));
	if (o->thp)
		conv_line(c, "thp enabled=%s", o->thp);
	return c;
}

void imp_conv_set_accesses(struct imp_conv *c) { c->have_accesses = true; }

void imp_conv_free(struct imp_conv *c)
{
	if (!c)
		return;
	for (guint i = 0; i < c->procs->len; i++) {
		struct cproc *p = g_ptr_array_index(c->procs, i);
		g_array_free(p->segs, TRUE);
		g_hash_table_destroy(p->fds);
		g_free(p->name);
		g_free(p->ov_uffd);
		g_free(p);
	}
	for (guint i = 0; i < c->regs->len; i++) {
		struct creg *r = g_ptr_array_index(c->regs, i);
		g_free(r->name);
		g_free(r);
	}
	for (guint i = 0; i < c->fds->len; i++)
		g_free(((struct cfd *)g_ptr_array_index(c->fds, i))->name);
	g_ptr_array_free(c->procs, TRUE);
	g_ptr_array_free(c->regs, TRUE);
	g_ptr_array_free(c->fds, TRUE);
	g_hash_table_destroy(c->pid_proc);
	g_hash_table_destroy(c->skips);
	g_array_free(c->batch, TRUE);
	g_string_free(c->body, TRUE);
	g_string_free(c->notes, TRUE);
	g_free(c);
}

static int cmp_strp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool imp_conv_finish(struct imp_conv *c, GString *out, GString *err)
{
	conv_flush(c);
	if (c->dropped) {
		g_autofree char *w =
			g_strdup_printf("accesses after the size cap (%" PRIu64 " KiB of steps)",
					c->o.max_bytes / 1024);
		for (uint64_t i = 0; i < c->dropped; i++)
			count(c, w);
	}
	g_autoptr(GString) body_err = g_string_new(NULL);
	struct trace *t = trace_parse_string("(imported)", c->body->str, body_err);
	if (!t) {
		g_string_printf(
			err, "mmsim import: internal error, the generated trace does not parse: %s",
			body_err->str);
		return false;
	}
	g_string_append_printf(out, "# imported by mmsim import from %s\n",
			       c->o.source ? c->o.source : "(input)");
	g_string_append_printf(out, "# %u processes, %u regions, %u steps%s\n", c->nproc, c->nreg,
			       t->steps->len, c->o.overlay_rwp ? ", RWP overlay" : "");
	if (c->o.overlay_rwp)
		g_string_append_printf(out, "# overlay: interval %u, khugepaged+reclaim every %u\n",
				       c->o.interval, c->o.long_every);
	if (g_hash_table_size(c->skips)) {
		g_autoptr(GPtrArray) keys = g_ptr_array_new();
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, c->skips);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_ptr_array_add(keys, k);
		g_ptr_array_sort(keys, cmp_strp);
		g_string_append(out, "# not imported as is (count, what):\n");
		for (guint i = 0; i < keys->len; i++)
			g_string_append_printf(
				out, "#   %u %s\n",
				GPOINTER_TO_UINT(g_hash_table_lookup(c->skips, keys->pdata[i])),
				(char *)keys->pdata[i]);
	}
	if (c->notes->len) {
		g_string_append(out, "# notes:\n");
		g_string_append(out, c->notes->str);
	}
	trace_write(out, t);
	trace_free(t);
	return true;
}

bool imp_read_lines(const char *path, imp_line_fn fn, void *ctx, GString *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		g_string_printf(err, "%s:0: cannot open: %s", path, g_strerror(errno));
		return false;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	uint32_t lineno = 0;
	bool ok = true;
	while (ok && (n = getline(&buf, &cap, f)) >= 0) {
		lineno++;
		if (n && buf[n - 1] == '\n')
			buf[--n] = 0;
		if ((size_t)n != strlen(buf)) {
			g_string_printf(err, "%s:%u: NUL byte in line", path, lineno);
			ok = false;
			break;
		}
		ok = fn(ctx, buf, lineno, err);
	}
	free(buf);
	fclose(f);
	return ok;
}
