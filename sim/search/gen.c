/* sim/search/gen.c - the random trace generator (see gen.h).
 *
 * The setup is a small machine an RWP user would build: one or two
 * processes, an anonymous region and one or two mappings of a shmem file,
 * populated, and a uffd context per process with random features. Then a
 * weighted sequence of operations over the whole command alphabet. The
 * weights favour what patch 08 is about (arming, collapse, GUP, reclaim,
 * splits) and page choices favour whole PMDs and the pages at their edges,
 * where batching and collapse decisions change.
 *
 * Valid mode never names something undeclared or outside a region, never
 * uses a closed context, and keeps race=N within the trace; a step can
 * still fail with an errno, as the syscall would. Bad-input mode (the
 * executor test) also writes such wrong steps on purpose, rarely.
 */
#include "gen.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/trace.h"

#define MAX_PROCS 4 /* P0, P1 and up to two fork children */
#define MAX_UFFDS 8
#define MAX_REGIONS 16

struct gregion {
	char name[24]; /* A, M0, R2 (mremap), C0.A (fork), C1.C0.A */
	int proc;      /* index into procs */
	unsigned npages;
	bool file;
	bool moved; /* mremap moved it away: its addresses are unmapped */
	bool split; /* a ranged step may have split its VMA: mremap may fail */
	bool held;  /* a gup hold=1 named it since its last unpin */
};

struct guffd {
	char name[24]; /* U0, U1, C0.U0 */
	int proc;
	bool event_fork; /* its api asked for EVENT_FORK */
	bool live;	 /* opened (or forked) and not closed */
	bool registered; /* some register step named it (dup_userfaultfd needs a VMA) */
};

struct gen {
	const struct gen_options *o;
	struct gen_source *src;
	GString *t;
	unsigned lines;
	int nprocs;
	char procs[MAX_PROCS][16];
	struct guffd uffds[MAX_UFFDS];
	int nuffds;
	struct gregion regions[MAX_REGIONS];
	int nregions;
	unsigned nforks, nremaps;
	unsigned file_pages;
	unsigned steps_left; /* steps still to generate, for race=N */
};

static const char *const features[] = {
	"RWP",		 "RWP_ASYNC",	"PAGEFAULT_FLAG_WP", "WP_ASYNC",   "WP_HUGETLBFS_SHMEM",
	"MISSING_SHMEM", "MINOR_SHMEM", "WP_UNPOPULATED",    "EVENT_FORK", "EVENT_REMAP",
	"MOVE",
};
static const char *const host_features[] = {
	"PAGEFAULT_FLAG_WP", "WP_ASYNC",   "WP_HUGETLBFS_SHMEM", "MISSING_SHMEM", "MINOR_SHMEM",
	"WP_UNPOPULATED",    "EVENT_FORK", "EVENT_REMAP",	 "MOVE",	  "EVENT_REMOVE",
	"EVENT_UNMAP",
};
static const char *const reg_modes[] = { "MISSING", "WP", "MINOR", "RWP" };
static const char *const host_reg_modes[] = { "MISSING", "WP", "MINOR" };
static const char *const wp_modes[] = { "WP", "DONTWAKE" };
static const char *const rwp_modes[] = { "RWP", "DONTWAKE" };
static const char *const copy_modes[] = { "DONTWAKE", "WP" };
static const char *const move_modes[] = { "DONTWAKE", "ALLOW_SRC_HOLES" };
static const char *const advices[] = { "DONTNEED", "FREE",	    "HUGEPAGE",	      "NOHUGEPAGE",
				       "PAGEOUT",  "POPULATE_READ", "POPULATE_WRITE", "COLLAPSE" };
static const char *const prots[] = { "none", "r", "rw" };
static const char *const host_callers[] = {
	"process_vm_readv", "process_vm_writev", "proc_mem_read", "proc_mem_write", "vmsplice",
};
static const char *const callers[] = {
	"get_user_pages",
	"get_user_pages_unlocked",
	"get_user_pages_remote",
	"pin_user_pages",
	"pin_user_pages_longterm",
	"get_dump_page",
	"process_vm_readv",
	"process_vm_writev",
	"proc_mem_read",
	"proc_mem_write",
	"ptrace_peek",
	"vmsplice",
	"kvm",
};
static const char *const foll[] = { "WRITE",
				    "GET",
				    "FORCE",
				    "NOWAIT",
				    "PIN",
				    "DUMP",
				    "LONGTERM",
				    "TOUCH",
				    "REMOTE",
				    "ANON",
				    "HONOR_NUMA_FAULT",
				    "SPLIT_PMD",
				    "NOFAULT",
				    "UNLOCKABLE",
				    "MADV_POPULATE",
				    "INTERRUPTIBLE" };
static const char *const categories[] = { "WPALLOWED", "WRITTEN", "FILE", "PRESENT",
					  "SWAPPED",   "PFNZERO", "HUGE", "SOFT_DIRTY",
					  "GUARD",     "ACCESSED" };
/* 6.18 has no PAGE_IS_ACCESSED, and the host's kernel is built without
 * CONFIG_MEM_SOFT_DIRTY (pagemap never reports it there). */
static const char *const host_categories[] = { "WPALLOWED", "WRITTEN", "FILE", "PRESENT",
					       "SWAPPED",   "PFNZERO", "HUGE", "GUARD" };
static const char *const hunks[] = { "08a",
				     "08b",
				     "08c",
				     "08d",
				     "08e",
				     "unsafe-batch",
				     "migrate-no-reforce",
				     "numa-rebuild-all",
				     "split-no-reforce",
				     "swapin-no-restore" };
static const char *const levels[] = { "no08", "v5", "v6" };
static const char *const pte_states[] = { "none",   "armed", "present",	  "wp",
					  "numa",   "swap",  "swap-uffd", "migration",
					  "marker", "pmd",   "pmd-armed", "no-table" };
static const char *const results[] = { "ok",	 "blocked", "sigbus", "sigsegv", "EINVAL",
				       "EAGAIN", "EFAULT",  "ENOENT", "EEXIST",	 "EBUSY" };
static const char *const msg_flags[] = { "WRITE", "WP", "MINOR", "RWP" };
static const char *const thp_modes[] = { "always", "madvise", "never" };

/* --- choices --- */

static bool source_exhausted(const struct gen *g)
{
	return g->src->data && g->src->pos >= g->src->len;
}

static unsigned rnd(struct gen *g, unsigned lo, unsigned hi) /* inclusive */
{
	struct gen_source *s = g->src;
	uint64_t span = (uint64_t)hi - lo + 1;

	if (hi <= lo)
		return lo;
	if (!s->data)
		return (unsigned)g_rand_int_range(s->rand, (gint32)lo, (gint32)hi + 1);
	/* Bytes: as many as the span needs, little-endian. */
	uint64_t v = 0;
	for (uint64_t need = span - 1, shift = 0; need; need >>= 8, shift += 8)
		v |= (uint64_t)(s->pos < s->len ? s->data[s->pos++] : 0) << shift;
	return lo + (unsigned)(v % span);
}

static bool chance(struct gen *g, unsigned percent) { return rnd(g, 0, 99) < percent; }

/* A wrong step on purpose, only in bad-input mode. */
static bool wrong(struct gen *g, unsigned percent) { return g->o->bad_input && chance(g, percent); }

#define PICK(g, arr) ((arr)[rnd((g), 0, G_N_ELEMENTS(arr) - 1)])

static void line(struct gen *g, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void line(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_string_append_vprintf(g->t, fmt, ap);
	va_end(ap);
	g_string_append_c(g->t, '\n');
	g->lines++;
}

/* A '|' joined random subset of names; "0" when empty. */
static void flags(struct gen *g, GString *out, const char *const *names, size_t n, unsigned percent)
{
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		if (!chance(g, percent))
			continue;
		if (out->len > start)
			g_string_append_c(out, '|');
		g_string_append(out, names[i]);
	}
	if (out->len == start)
		g_string_append_c(out, '0');
}

#define FLAGS(g, out, arr, pct) flags(g, out, arr, G_N_ELEMENTS(arr), pct)

/* Is name one of the '|' joined names of list? */
static bool has_flag(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == '|') && (p[n] == '|' || !p[n]))
			return true;
	return false;
}

/* A page range over n pages. Small traces favour the whole region and the
 * pages at the PMD's edges; now and then (bad-input mode) a page past the
 * end; for commands that take a list, now and then a list. */
static void range(struct gen *g, GString *out, unsigned n, bool list)
{
	unsigned lim = wrong(g, 1) ? n + rnd(g, 0, 8) : n - 1;
	unsigned a = rnd(g, 0, lim), b = rnd(g, 0, lim);

	if (g->o->size == GEN_SMALL && chance(g, 60)) {
		static const unsigned edge[] = { 0, 1, 2, 255, 510, 511 };
		switch (rnd(g, 0, 3)) {
		case 0:
			g_string_append_printf(out, "0-%u", n - 1);
			return;
		case 1:
			a = edge[rnd(g, 0, G_N_ELEMENTS(edge) - 1)] % n;
			g_string_append_printf(out, "%u", a);
			return;
		case 2:
			a = edge[rnd(g, 0, 2)] % n;
			b = rnd(g, 0, 1); /* stop short of the end by b, not before a */
			g_string_append_printf(out, "%u-%u", a, n - 1 >= a + b ? n - 1 - b : a);
			return;
		default:
			break;
		}
	}
	if (a > b) {
		unsigned tmp = a;
		a = b;
		b = tmp;
	}
	switch (rnd(g, 0, 5)) {
	case 0:
		g_string_append_printf(out, "%u", a);
		break;
	case 1:
		g_string_append_printf(out, "0-%u", lim);
		break;
	case 2:
		if (b > a + 2 && (list || wrong(g, 5)))
			g_string_append_printf(out, "%u,%u-%u", a, a + 2, b);
		else
			g_string_append_printf(out, "%u-%u", a, b);
		break;
	default:
		g_string_append_printf(out, "%u-%u", a, b);
		break;
	}
}

/* A region; one that mremap moved away only now and then (bad input in
 * valid mode would be the name of a region with nothing mapped: it is
 * still declared, so steps on it are legal and fail with an errno). */
static struct gregion *region(struct gen *g)
{
	struct gregion *r = &g->regions[rnd(g, 0, (unsigned)g->nregions - 1)];
	if (r->moved && !chance(g, 20))
		r = &g->regions[rnd(g, 0, (unsigned)g->nregions - 1)];
	return r;
}

/* " pages=..." or nothing (the whole region). */
static void pages_key(struct gen *g, GString *out, const struct gregion *rg, bool optional)
{
	if (optional && chance(g, 25))
		return;
	g_string_append(out, " pages=");
	range(g, out, rg->npages, false);
}

/* A live uffd of a region's own process; now and then another process's;
 * in bad-input mode now and then any declared one (closed, or a fork
 * child's that EVENT_FORK never created). NULL when valid mode has none. */
static const char *uffd_for(struct gen *g, const struct gregion *rg)
{
	int own[MAX_UFFDS], n = 0;
	if (!g->nuffds)
		return g->o->bad_input ? "U0" : NULL; /* never declared */
	for (int i = 0; i < g->nuffds; i++)
		if (g->uffds[i].live && g->uffds[i].proc == rg->proc)
			own[n++] = i;
	if (!n && g->o->bad_input) /* another process's live one */
		for (int i = 0; i < g->nuffds && !chance(g, 3); i++)
			if (g->uffds[i].live)
				own[n++] = i;
	if (wrong(g, 2) || (!n && g->o->bad_input))
		return g->uffds[rnd(g, 0, (unsigned)g->nuffds - 1)].name;
	if (!n)
		return NULL;
	return g->uffds[own[rnd(g, 0, (unsigned)n - 1)]].name;
}

static struct gregion *add_region(struct gen *g, const char *name, int proc, unsigned npages,
				  bool file)
{
	if (g->nregions == MAX_REGIONS)
		return NULL; /* declared in the trace; the generator just stops using more */
	struct gregion *r = &g->regions[g->nregions++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->proc = proc;
	r->npages = npages;
	r->file = file;
	return r;
}

static void add_uffd(struct gen *g, const char *name, int proc, bool event_fork, bool live)
{
	if (g->nuffds == MAX_UFFDS)
		return;
	struct guffd *u = &g->uffds[g->nuffds++];
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->proc = proc;
	u->event_fork = event_fork;
	u->live = live;
}

static struct guffd *uffd_named(struct gen *g, const char *name)
{
	for (int i = 0; name && i < g->nuffds; i++)
		if (!strcmp(g->uffds[i].name, name))
			return &g->uffds[i];
	return NULL;
}

/* fork C parent=P: the child gets C.R for every region and C.U for every
 * uffd of P declared so far; C.U exists only if U asked for EVENT_FORK. */
static void gen_fork(struct gen *g)
{
	if (g->nprocs == MAX_PROCS)
		return;
	int parent = (int)rnd(g, 0, (unsigned)g->nprocs - 1), child = g->nprocs++;
	snprintf(g->procs[child], sizeof(g->procs[child]), "C%u", g->nforks++);
	line(g, "fork %s parent=%s", g->procs[child], g->procs[parent]);
	int nr = g->nregions, nu = g->nuffds;
	for (int i = 0; i < nr; i++) {
		const struct gregion *r = &g->regions[i];
		if (r->proc != parent)
			continue;
		g_autofree char *n = g_strdup_printf("%s.%s", g->procs[child], r->name);
		struct gregion *c = add_region(g, n, child, r->npages, r->file);
		if (c) {
			c->moved = r->moved;
			c->split = r->split;
		}
	}
	for (int i = 0; i < nu; i++) {
		const struct guffd *u = &g->uffds[i];
		if (u->proc != parent)
			continue;
		bool created = u->live && u->event_fork && u->registered;
		/* In valid mode a context that may not exist is never named. */
		if (!created && !g->o->bad_input)
			continue;
		g_autofree char *n = g_strdup_printf("%s.%s", g->procs[child], u->name);
		add_uffd(g, n, child, u->event_fork, created);
	}
}

/* mremap S from=R: at a free gap, or now and then at a fixed address that
 * may land on another region (MREMAP_FIXED unmaps it) or on R itself. */
static void gen_mremap(struct gen *g, struct gregion *rg)
{
	char name[24];
	if ((rg->moved || rg->split) && !wrong(g, 5))
		return; /* nothing left to move: the new name would be undeclared */
	snprintf(name, sizeof(name), "R%u", g->nremaps++);
	if (!g->o->host && chance(g, 25)) {
		/* Valid mode: a place of its own, 256M apart, which cannot
		 * overlap R (EINVAL, and S would never be mapped). */
		uint64_t at = g->o->bad_input
				      ? 0x7f0000000000ULL + (uint64_t)rnd(g, 0, 16) * 0x100000ULL
				      : 0x7e0000000000ULL + (uint64_t)g->nremaps * 0x10000000ULL;
		if (chance(g, 30))
			at += (uint64_t)rnd(g, 1, 15) * 0x1000ULL;
		line(g, "mremap %s from=%s at=0x%llx", name, rg->name, (unsigned long long)at);
	} else {
		line(g, "mremap %s from=%s", name, rg->name);
	}
	int proc = rg->proc;
	unsigned npages = rg->npages;
	bool file = rg->file;
	rg->moved = true;
	add_region(g, name, proc, npages, file);
}

static void gen_expect(struct gen *g)
{
	g_autoptr(GString) s = g_string_new(NULL);
	const struct gregion *rg = region(g);
	const char *u = uffd_for(g, rg);
	switch (rnd(g, 0, 10)) {
	case 0:
		line(g, "expect result is=%s", PICK(g, results));
		break;
	case 1: {
		unsigned n = 0;
		while (scan_result_names[n].name)
			n++;
		line(g, "expect scan is=%s", scan_result_names[rnd(g, 0, n - 1)].name);
		break;
	}
	case 2:
		if (!u)
			break;
		FLAGS(g, s, msg_flags, 30);
		line(g, "expect msg %s %s page=%u flags=%s", u, rg->name, rnd(g, 0, rg->npages - 1),
		     s->str);
		break;
	case 3:
		if (u)
			line(g, "expect msgs %s count=%u", u, rnd(g, 0, 2));
		break;
	case 4:
		range(g, s, rg->npages, true);
		line(g, "expect pagemap %s pages=%s present=%u uffd=%u", rg->name, s->str,
		     rnd(g, 0, 1), rnd(g, 0, 1));
		break;
	case 5:
		range(g, s, rg->npages, true);
		line(g, "expect accessed %s pages=%s", rg->name, chance(g, 30) ? "none" : s->str);
		break;
	case 6:
		range(g, s, rg->npages, true);
		line(g, "expect content %s pages=%s value=%u", rg->name, s->str, rnd(g, 0, 3));
		break;
	case 7:
		range(g, s, rg->npages, true);
		line(g, "expect pte %s pages=%s state=%s", rg->name, s->str, PICK(g, pte_states));
		break;
	case 10:
		line(g, "expect scan-count count=%u", rnd(g, 0, 4));
		break;
	default:
		line(g, "expect blocked count=%u", rnd(g, 0, 1));
		break;
	}
}

/* race=N on a path with a race window, N no more than the steps left
 * (in bad-input mode now and then one more, which must be refused). */
static void race_key(struct gen *g, GString *out)
{
	if (g->o->host || !chance(g, g->o->bad_input ? 6 : 3) || !g->steps_left)
		return;
	unsigned n = rnd(g, 1, 2);
	if (n > g->steps_left && !wrong(g, 20))
		n = g->steps_left;
	g_string_append_printf(out, " race=%u", n);
}

/* --- operations: one function per group, picked by weight --- */

static void op_access(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	range(g, s, rg->npages, true);
	if (chance(g, 50))
		line(g, "write %s pages=%s value=%u", rg->name, s->str, rnd(g, 1, 9));
	else
		line(g, "read %s pages=%s", rg->name, s->str);
}

static void op_mprotect(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	pages_key(g, s, rg, true);
	line(g, "mprotect %s%s prot=%s", rg->name, s->str, PICK(g, prots));
	rg->split |= s->len > 0;
}

static void op_munmap(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	pages_key(g, s, rg, true);
	line(g, "munmap %s%s", rg->name, s->str);
	rg->split |= s->len > 0;
	rg->moved |= !s->len; /* all of it: nothing left for mremap to move */
}

static void op_madvise(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	const char *adv = PICK(g, advices);
	while (g->o->host && !strcmp(adv, "PAGEOUT")) /* no swap on the host */
		adv = PICK(g, advices);
	pages_key(g, s, rg, true);
	if (!strcmp(adv, "COLLAPSE"))
		race_key(g, s);
	line(g, "madvise %s%s advice=%s", rg->name, s->str, adv);
	rg->split |= strstr(s->str, "pages=") && strstr(adv, "HUGE");
}

static void op_collapse(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	race_key(g, s);
	line(g, "madvise %s advice=COLLAPSE%s", rg->name, s->str);
}

static void op_fallocate(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	if (!g->file_pages)
		return;
	range(g, s, g->file_pages, true);
	line(g, "fallocate F mode=punch pages=%s", s->str);
}

static void op_register(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	if (!u)
		return;
	pages_key(g, s, rg, true);
	g_autoptr(GString) m = g_string_new(NULL);
	if (g->o->host)
		FLAGS(g, m, host_reg_modes, 35);
	else
		FLAGS(g, m, reg_modes, 35);
	line(g, "uffd register %s %s%s mode=%s", u, rg->name, s->str, m->str);
	rg->split |= s->len > 0;
	if (uffd_named(g, u))
		uffd_named(g, u)->registered = true;
}

static void op_unregister(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	if (!u)
		return;
	pages_key(g, s, rg, true);
	line(g, "uffd unregister %s %s%s", u, rg->name, s->str);
	rg->split |= s->len > 0;
}

static void op_writeprotect(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	if (!u)
		return;
	pages_key(g, s, rg, true);
	g_autoptr(GString) m = g_string_new(NULL);
	FLAGS(g, m, wp_modes, 50);
	line(g, "uffd writeprotect %s %s%s mode=%s", u, rg->name, s->str, m->str);
}

static void op_rwprotect(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	if (!u)
		return;
	pages_key(g, s, rg, true);
	g_autoptr(GString) m = g_string_new(NULL);
	FLAGS(g, m, rwp_modes, 50);
	if (wrong(g, 3))
		g_string_assign(m, "RWP|BIT2");
	line(g, "uffd rwprotect %s %s%s mode=%s", u, rg->name, s->str, m->str);
}

static void op_set_mode(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)s;
	static const char *const async[] = { "RWP_ASYNC", "WP_ASYNC", "RWP" };
	g_autoptr(GString) en = g_string_new(NULL);
	g_autoptr(GString) dis = g_string_new(NULL);
	if (!u)
		return;
	FLAGS(g, en, async, 30);
	FLAGS(g, dis, async, 30);
	line(g, "uffd set-mode %s enable=%s disable=%s", u, en->str, dis->str);
}

static void op_fill(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	static const char *const fills[] = { "copy", "zeropage", "continue" };
	const char *f = PICK(g, fills);
	g_autoptr(GString) m = g_string_new(NULL);
	if (!u)
		return;
	FLAGS(g, m, copy_modes, 30);
	range(g, s, rg->npages, false);
	if (!strcmp(f, "copy"))
		line(g, "uffd copy %s %s pages=%s value=%u mode=%s", u, rg->name, s->str,
		     rnd(g, 1, 9), m->str);
	else
		line(g, "uffd %s %s %s pages=%s mode=%s", f, u, rg->name, s->str, m->str);
}

static void op_wake(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	if (!u)
		return;
	pages_key(g, s, rg, true);
	line(g, "uffd wake %s %s%s", u, rg->name, s->str);
}

/* Every later use of a closed uffd is bad input: valid mode then stops
 * naming it, which uffd_for() sees through `live`. */
static void op_close(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)s;
	if (!u || !chance(g, 10))
		return;
	line(g, "uffd close %s", u);
	if (uffd_named(g, u))
		uffd_named(g, u)->live = false;
}

static void op_serve(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)s;
	if (!u)
		return;
	if (chance(g, 50))
		line(g, "serve %s", u);
	else
		line(g, "serve %s count=%u value=%u", u, rnd(g, 0, 3), rnd(g, 0, 9));
}

static void op_khugepaged(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	race_key(g, s);
	if (chance(g, 40)) {
		line(g, "khugepaged pass %s%s", g->procs[rnd(g, 0, (unsigned)g->nprocs - 1)],
		     s->str);
		return;
	}
	unsigned page = rnd(g, 0, wrong(g, 3) ? rg->npages + 4 : rg->npages - 1);
	line(g, "khugepaged scan %s page=%u%s", rg->name, page, s->str);
}

static void op_reclaim(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	pages_key(g, s, rg, true);
	line(g, "reclaim %s%s", rg->name, s->str);
}

static void op_gup(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	range(g, s, rg->npages, true);
	if (g->o->host) {
		/* A process's own GUP callers; only vmsplice can hold (the pipe). */
		const char *c = PICK(g, host_callers);
		bool hold = !strcmp(c, "vmsplice") && chance(g, 30);
		line(g, "gup %s pages=%s caller=%s value=%u%s", rg->name, s->str, c, rnd(g, 0, 9),
		     hold ? " hold=1" : "");
		rg->held |= hold;
		return;
	}
	if (chance(g, 20)) {
		g_autoptr(GString) f = g_string_new(NULL);
		FLAGS(g, f, foll, 20);
		line(g, "gup %s pages=%s caller=explicit flags=%s value=%u", rg->name, s->str,
		     f->str, rnd(g, 0, 9));
		return;
	}
	/* proc= names the region's own process (or, rarely, another). */
	int p = !wrong(g, 10) ? rg->proc : (int)rnd(g, 0, (unsigned)g->nprocs - 1);
	bool with_proc = chance(g, 30);
	/* hold=1: the pins or references stay until an unpin step. */
	bool hold = chance(g, 20);
	line(g, "gup %s pages=%s caller=%s value=%u%s%s%s", rg->name, s->str, PICK(g, callers),
	     rnd(g, 0, 9), with_proc ? " proc=" : "", with_proc ? g->procs[p] : "",
	     hold ? " hold=1" : "");
	rg->held |= hold;
}

/* unpin R: in valid mode only of a region a gup hold=1 named (the GUP may
 * still have got no page, and then the step is refused); in bad-input mode
 * now and then of any region, or of a page range. */
static void op_unpin(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	int held[MAX_REGIONS], n = 0;
	for (int i = 0; i < g->nregions; i++)
		if (g->regions[i].held)
			held[n++] = i;
	if (n && !wrong(g, 10))
		rg = &g->regions[held[rnd(g, 0, (unsigned)n - 1)]];
	else if (!wrong(g, 20))
		return;
	if (wrong(g, 10)) {
		range(g, s, rg->npages, true);
		line(g, "unpin %s pages=%s", rg->name, s->str);
		return;
	}
	line(g, "unpin %s", rg->name);
	rg->held = false;
}

/* A device takes pages exclusively (make_device_exclusive). */
static void op_device(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	pages_key(g, s, rg, true);
	line(g, "device-exclusive %s%s", rg->name, s->str);
}

static void op_pagemap(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	if (chance(g, 40)) {
		pages_key(g, s, rg, true);
		line(g, "pagemap %s%s", rg->name, s->str);
		return;
	}
	g_autoptr(GString) c = g_string_new(NULL), i = g_string_new(NULL), a = g_string_new(NULL),
			   ret = g_string_new(NULL), f = g_string_new(NULL);
	pages_key(g, s, rg, true);
	const char *const *cats = g->o->host ? host_categories : categories;
	size_t ncats = g->o->host ? G_N_ELEMENTS(host_categories) : G_N_ELEMENTS(categories);
	flags(g, c, cats, ncats, 10);
	flags(g, i, cats, ncats, 5);
	flags(g, a, cats, ncats, 10);
	flags(g, ret, cats, ncats, 40);
	if (chance(g, 25)) {
		/* PM_SCAN_* flags; now and then an unknown one (-EINVAL). */
		static const char *const scan_flags[] = { "WP_MATCHING", "CHECK_WPASYNC" };
		g_string_append(f, " flags=");
		if (chance(g, 5))
			g_string_append(f, "BIT2");
		else
			FLAGS(g, f, scan_flags, 50);
	}
	line(g, "pagemap-scan %s%s category=%s inverted=%s anyof=%s return=%s max-pages=%u%s",
	     rg->name, s->str, c->str, i->str, a->str, ret->str, rnd(g, 0, 20), f->str);
}

static void op_hunk(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	(void)s;
	if (g->o->hunks)
		line(g, "hunk %s state=%s", PICK(g, hunks), chance(g, 50) ? "on" : "off");
}

static void op_thp(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	(void)s;
	static const unsigned mthp[] = { 0, 2, 3, 4 };
	line(g, "thp enabled=%s mthp=%u", PICK(g, thp_modes), PICK(g, mthp));
}

static void op_fork(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	(void)s;
	gen_fork(g);
}

static void op_mremap(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	(void)s;
	gen_mremap(g, rg);
}

static void op_migrate(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	pages_key(g, s, rg, true);
	if (chance(g, 40))
		g_string_append_printf(s, " split=%u", rnd(g, 0, 1));
	race_key(g, s);
	line(g, "migrate %s%s", rg->name, s->str);
}

static void op_numa(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)u;
	pages_key(g, s, rg, true);
	if (chance(g, 60))
		g_string_append_printf(s, " migrate-on-fault=%u", rnd(g, 0, 1));
	line(g, "numa-scan %s%s", rg->name, s->str);
}

/* UFFDIO_MOVE from another region of the same process, mostly. */
static void op_move(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	const struct gregion *src = region(g);
	if (!u)
		return;
	for (int tries = 0; src->proc != rg->proc && tries < 3; tries++)
		src = region(g);
	if (src->proc != rg->proc && !g->o->bad_input)
		return; /* another process's region: refused */
	g_autoptr(GString) m = g_string_new(NULL);
	FLAGS(g, m, move_modes, 40);
	range(g, s, rg->npages < src->npages ? rg->npages : src->npages, false);
	line(g, "uffd move %s %s src=%s pages=%s mode=%s", u, rg->name, src->name, s->str, m->str);
}

static void op_swapoff(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	(void)s;
	line(g, "swapoff");
}

static void op_ftruncate(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	(void)s;
	unsigned max = g->file_pages + (wrong(g, 20) ? 8 : 0);
	unsigned pages = rnd(g, 0, max);
	/* Valid mode only grows it back or trims the tail: fallocate past
	 * the end is bad input, and the generator tracks the size. */
	line(g, "ftruncate F size=%uK", pages * 4);
	g->file_pages = pages;
}

static void op_shrink(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	(void)rg;
	(void)u;
	(void)s;
	line(g, "shrink-deferred");
}

typedef void (*op_fn)(struct gen *g, struct gregion *rg, const char *u, GString *s);

struct op_weight {
	op_fn fn;
	unsigned weight;
	bool uffd; /* wants a region whose process has a live context */
	bool host; /* a stock 6.18 kernel can run it (gen_options.host) */
};

/* The weights: accesses and arming most, then the paths patch 08 and the
 * rewrite rules are about, then the rest. */
/* A region mapping the same memory as rg from another VMA (another mapping
 * of the file, or a fork child's copy), or rg itself when there is none. */
static struct gregion *sibling(struct gen *g, struct gregion *rg)
{
	int cand[MAX_REGIONS], n = 0;
	for (int i = 0; i < g->nregions; i++) {
		struct gregion *r = &g->regions[i];
		if (r != rg && !r->moved && r->file == rg->file &&
		    (rg->file || strstr(r->name, ".")))
			cand[n++] = i;
	}
	return n ? &g->regions[cand[rnd(g, 0, (unsigned)n - 1)]] : rg;
}

/* The shape of most RWP bugs: arm a region, let one path touch the memory
 * (through this VMA or a sibling one), then access what was armed. Random
 * sequences reach that order rarely; this motif makes it common. */
static void op_motif(struct gen *g, struct gregion *rg, const char *u, GString *s)
{
	static const op_fn disruptors[] = { op_collapse, op_khugepaged, op_reclaim, op_migrate,
					    op_numa,	 op_madvise,	op_gup,	    op_mprotect };
	static const unsigned edge[] = { 0, 1, 255, 510, 511 };
	g_autoptr(GString) d = g_string_new(NULL);

	if (!u || g->steps_left < 3)
		return;
	line(g, "uffd rwprotect %s %s mode=RWP", u, rg->name);
	g->steps_left--;
	struct gregion *target = chance(g, 50) ? sibling(g, rg) : rg;
	disruptors[rnd(g, 0, G_N_ELEMENTS(disruptors) - 1)](g, target, u, d);
	g->steps_left--;
	unsigned page = edge[rnd(g, 0, G_N_ELEMENTS(edge) - 1)] % rg->npages;
	if (chance(g, 50))
		line(g, "read %s pages=%u", rg->name, page);
	else
		line(g, "write %s pages=%u value=%u", rg->name, page, rnd(g, 1, 9));
	(void)s;
}

static const struct op_weight op_table[] = {
	{ op_access, 16, false, true },	    { op_mprotect, 4, false, true },
	{ op_munmap, 2, false, true },	    { op_madvise, 8, false, true },
	{ op_collapse, 2, false, true },    { op_fallocate, 3, false, true },
	{ op_register, 6, true, true },	    { op_unregister, 2, true, true },
	{ op_writeprotect, 4, true, true }, { op_rwprotect, 7, true, false },
	{ op_set_mode, 2, true, false },    { op_fill, 6, true, true },
	{ op_wake, 2, true, true },	    { op_close, 1, true, true },
	{ op_serve, 5, false, true },	    { op_khugepaged, 5, false, false },
	{ op_reclaim, 4, false, false },    { op_gup, 7, false, true },
	{ op_pagemap, 5, false, true },	    { op_hunk, 1, false, false },
	{ op_thp, 2, false, false },	    { op_fork, 2, false, true },
	{ op_mremap, 3, false, true },	    { op_migrate, 4, false, false },
	{ op_numa, 3, false, false },	    { op_move, 4, true, true },
	{ op_swapoff, 1, false, false },    { op_ftruncate, 1, false, true },
	{ op_shrink, 1, false, false },	    { op_unpin, 2, false, true },
	{ op_device, 2, false, false },	    { op_motif, 6, true, false },
};

static bool has_live_uffd(const struct gen *g, int proc)
{
	for (int i = 0; i < g->nuffds; i++)
		if (g->uffds[i].live && g->uffds[i].proc == proc)
			return true;
	return false;
}

/* The weight of op in this generator: 0 when it may not be used. */
static unsigned op_weight_of(const struct gen *g, const struct op_weight *op)
{
	return !g->o->host || op->host ? op->weight : 0;
}

static void gen_step(struct gen *g)
{
	unsigned total = 0;
	g_autoptr(GString) s = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(op_table); i++)
		total += op_weight_of(g, &op_table[i]);
	if (g->o->expects && chance(g, 2)) {
		gen_expect(g);
		return;
	}
	unsigned k = rnd(g, 0, total - 1);
	const struct op_weight *op = op_table;
	while (k >= op_weight_of(g, op)) {
		k -= op_weight_of(g, op);
		op++;
	}
	struct gregion *rg = region(g);
	/* uffd steps mostly on a region whose process has a live context */
	for (int tries = 0; op->uffd && tries < 4 && !has_live_uffd(g, rg->proc); tries++)
		rg = region(g);
	op->fn(g, rg, uffd_for(g, rg), s);
}

/* --- the setup --- */

struct setup_shape {
	unsigned anon_pages, file_pages;
	bool anon_thp, huge_file, two_procs, second_mapping;
};

static struct setup_shape pick_shape(struct gen *g)
{
	struct setup_shape sh = { 0 };
	switch (g->o->size) {
	case GEN_SMALL:
		sh.anon_pages = 512;
		sh.file_pages = 512;
		sh.anon_thp = chance(g, 60);
		sh.huge_file = chance(g, 60);
		sh.two_procs = chance(g, 30);
		/* A second mapping of the file is what page-table retraction
		 * (K2) needs: collapse through one VMA, retract another. */
		sh.second_mapping = chance(g, 75);
		break;
	case GEN_MEDIUM:
		sh.anon_thp = chance(g, 30);
		sh.anon_pages = sh.anon_thp && chance(g, 60) ? 512 : rnd(g, 16, 64);
		sh.huge_file = chance(g, 40);
		sh.file_pages = sh.huge_file && chance(g, 50) ? 512 : rnd(g, 16, 64);
		sh.two_procs = chance(g, 30);
		sh.second_mapping = chance(g, 50);
		break;
	case GEN_LARGE:
		sh.anon_thp = chance(g, 50);
		sh.anon_pages = sh.anon_thp ? 512 * rnd(g, 1, 4) : rnd(g, 64, 1024);
		sh.huge_file = chance(g, 50);
		sh.file_pages = sh.huge_file ? 512 * rnd(g, 1, 4) : rnd(g, 64, 1024);
		sh.two_procs = chance(g, 50);
		sh.second_mapping = chance(g, 70);
		break;
	}
	return sh;
}

static void gen_setup(struct gen *g)
{
	struct setup_shape sh = pick_shape(g);

	g->nprocs = sh.two_procs ? 2 : 1;
	for (int p = 0; p < g->nprocs; p++) {
		snprintf(g->procs[p], sizeof(g->procs[p]), "P%d", p);
		line(g, "process %s", g->procs[p]);
	}
	if (g->o->host)
		line(g, "thp enabled=madvise"); /* the host's setting, stated */
	else if (chance(g, 40))
		line(g, "thp enabled=%s", PICK(g, thp_modes));
	if (g->o->host)
		sh.huge_file = false; /* shmem_enabled is never on the host */

	g->file_pages = sh.file_pages;
	/* The host's shmem_enabled (never), stated like its thp mode: huge=0
	 * would be "advise", where MADV_HUGEPAGE gives PMD folios. */
	const char *huge = sh.huge_file ? " huge=1" : "";
	if (g->o->host)
		huge = " huge=never";
	line(g, "file F size=%uK%s", g->file_pages * 4, huge);

	/* The anonymous region. */
	struct gregion *a = add_region(g, "A", 0, sh.anon_pages, false);
	/* Host mode aligns every mapping: where a VMA starts inside its PMD
	 * decides fault-around windows and THP eligibility, and the host's
	 * own placement (ASLR, its libraries) cannot match the model's. */
	line(g, "mmap A proc=P0 len=%uK prot=rw map=private%s", a->npages * 4,
	     g->o->host || sh.anon_thp || a->npages % 512 == 0 ? " align=2M" : "");
	if (sh.anon_thp)
		line(g, "madvise A advice=HUGEPAGE");

	/* One or two mappings of the shmem file. */
	int nfile = sh.second_mapping ? 2 : 1;
	for (int i = 0; i < nfile; i++) {
		unsigned off = i && g->o->size != GEN_SMALL && chance(g, 30)
				       ? rnd(g, 0, g->file_pages / 2)
				       : 0;
		struct gregion *m = add_region(g, i ? "M1" : "M0", i && g->nprocs > 1 ? 1 : 0,
					       g->file_pages - off, true);
		bool shared = chance(g, 70);
		bool align = g->o->host || (!off && m->npages % 512 == 0);
		g_autofree char *offset =
			off ? g_strdup_printf(" offset=%uK", off * 4) : g_strdup("");
		g_autofree char *tail = g_strconcat(offset, align ? " align=2M" : "", NULL);
		line(g, "mmap %s proc=%s len=%uK prot=rw map=%s file=F%s", m->name,
		     g->procs[m->proc], m->npages * 4, shared ? "shared" : "private", tail);
	}

	/* Some data to work on: whole PMDs most of the time. */
	if (chance(g, 80))
		line(g, "write A pages=0-%u value=%u",
		     chance(g, 50) ? a->npages - 1 : rnd(g, 0, a->npages - 1), rnd(g, 1, 9));
	if (chance(g, 70))
		line(g, "write M0 pages=0-%u value=%u",
		     chance(g, 50) ? g->regions[1].npages - 1 : rnd(g, 0, g->regions[1].npages - 1),
		     rnd(g, 1, 9));

	for (int p = 0; p < g->nprocs; p++) {
		if (p && !chance(g, 60))
			continue;
		g_autoptr(GString) f = g_string_new(NULL);
		g_autofree char *u = g_strdup_printf("U%d", p);
		if (g->o->host)
			FLAGS(g, f, host_features, 40);
		else
			FLAGS(g, f, features, 40);
		/* RWP is what this is about: ask for it most of the time. */
		if (!g->o->host && !strstr(f->str, "RWP") && chance(g, 50))
			g_string_assign(f, chance(g, 50) ? "RWP" : "RWP|RWP_ASYNC");
		line(g, "uffd open %s proc=%s", u, g->procs[p]);
		line(g, "uffd api %s features=%s", u, f->str);
		/* UFFDIO_API refuses an async mode without its sync one, and
		 * then the context has no EVENT_FORK either. */
		bool api_ok =
			(!has_flag(f->str, "WP_ASYNC") || has_flag(f->str, "PAGEFAULT_FLAG_WP")) &&
			(!has_flag(f->str, "RWP_ASYNC") || has_flag(f->str, "RWP"));
		add_uffd(g, u, p, api_ok && has_flag(f->str, "EVENT_FORK"), true);
	}

	/* Register P0's regions now and then, mostly for RWP. */
	for (int i = 0; i < 2 && g->nuffds; i++) {
		static const char *const modes[] = { "RWP",	    "RWP",	 "RWP",	      "WP",
						     "MISSING|RWP", "MINOR|RWP", "MISSING|WP" };
		static const char *const host_modes[] = { "WP", "MISSING", "MISSING|WP", "MINOR",
							  "MINOR|WP" };
		if (!chance(g, 60))
			continue;
		line(g, "uffd register U0 %s mode=%s", g->regions[i].name,
		     g->o->host ? PICK(g, host_modes) : PICK(g, modes));
		g->uffds[0].registered = true;
	}
}

bool gen_size_parse(const char *name, enum gen_size *size)
{
	static const char *const names[] = { "small", "medium", "large" };
	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		if (name && !strcmp(name, names[i])) {
			*size = (enum gen_size)i;
			return true;
		}
	}
	return false;
}

unsigned gen_trace(const struct gen_options *o, struct gen_source *src, GString *out,
		   const char **level)
{
	static const unsigned default_ops[][2] = { { 8, 40 }, { 20, 60 }, { 40, 160 } };
	struct gen g = { .o = o, .src = src, .t = out };

	gen_setup(&g);
	unsigned n = o->ops ? o->ops : rnd(&g, default_ops[o->size][0], default_ops[o->size][1]);
	for (unsigned i = 0; i < n && !source_exhausted(&g); i++) {
		/* An operation may find nothing to do and write no line; try
		 * another, so that race=N always has its N steps to come. A
		 * motif writes several lines for one operation. */
		unsigned before = g.lines;
		for (unsigned tries = 0; g.lines == before && tries < 16 && !source_exhausted(&g);
		     tries++) {
			g.steps_left = n - i - 1;
			gen_step(&g);
		}
	}
	if (level)
		*level = o->levels ? PICK(&g, levels) : NULL;
	return g.lines;
}
