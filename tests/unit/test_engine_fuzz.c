/* tests/unit/test_engine_fuzz.c - the executor survives random traces.
 *
 * A deterministic generator builds well-formed traces over the whole command
 * alphabet (plus some steps that are wrong on purpose: pages outside a
 * region, fallocate beyond the file, races past the end, a fork child's
 * C.U that EVENT_FORK never created, a region mremap moved away) and
 * replays each with the oracle on at a random patch level. Only survival is asserted: no
 * crash, abort or hang (ASan/UBSan watch in the asan build), a verdict that
 * is one of the three, bad input reported as "path:N: " with N a line of the
 * trace, and a failure that says why.
 *
 * Trace i uses seed FUZZ_SEED + i. To replay one: MMSIM_FUZZ_SEED=<seed>
 * MMSIM_FUZZ_RUNS=1 (MMSIM_FUZZ_PRINT=1 prints the trace and its verdict;
 * MMSIM_FUZZ_REPORT_ALL=1 names every v6 oracle violation, not each kind's
 * first).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "patch.h"
#include "trace/trace.h"

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_CALLBACK 1
#endif
#endif

#ifndef FUZZ_SEED /* -DFUZZ_SEED=N replays another run */
#define FUZZ_SEED 20250918u
#endif
#define FUZZ_RUNS 2000
#define FUZZ_HANG_SECONDS 20 /* one trace; the slowest take milliseconds */
#define PATH "fuzz.trace"

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
};

struct guffd {
	char name[24]; /* U0, U1, C0.U0 */
	int proc;
	bool event_fork; /* its api asked for EVENT_FORK */
	bool live;	 /* opened (or forked) and not closed */
	bool registered; /* some register step named it (dup_userfaultfd needs a VMA) */
};

struct gen {
	GRand *r;
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
static const char *const reg_modes[] = { "MISSING", "WP", "MINOR", "RWP" };
static const char *const wp_modes[] = { "WP", "DONTWAKE" };
static const char *const rwp_modes[] = { "RWP", "DONTWAKE" };
static const char *const copy_modes[] = { "DONTWAKE", "WP" };
static const char *const advices[] = { "DONTNEED", "FREE",	    "HUGEPAGE",	      "NOHUGEPAGE",
				       "PAGEOUT",  "POPULATE_READ", "POPULATE_WRITE", "COLLAPSE" };
static const char *const prots[] = { "none", "r", "rw" };
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

#define PICK(g, arr) ((arr)[g_rand_int_range((g)->r, 0, G_N_ELEMENTS(arr))])

static bool chance(struct gen *g, int percent) { return g_rand_int_range(g->r, 0, 100) < percent; }

static unsigned rnd(struct gen *g, unsigned lo, unsigned hi) /* inclusive */
{
	return (unsigned)g_rand_int_range(g->r, (gint32)lo, (gint32)hi + 1);
}

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
static void flags(struct gen *g, GString *out, const char *const *names, size_t n, int percent)
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

/* A page range over n pages; now and then one page past the end, and for
 * the syscall-like commands (one contiguous span) now and then a list. */
static void range(struct gen *g, GString *out, unsigned n, bool list)
{
	unsigned lim = chance(g, 1) ? n + rnd(g, 0, 8) : n - 1;
	unsigned a = rnd(g, 0, lim), b = rnd(g, 0, lim);
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
		if (b > a + 2 && (list || chance(g, 5)))
			g_string_append_printf(out, "%u,%u-%u", a, a + 2, b);
		else
			g_string_append_printf(out, "%u-%u", a, b);
		break;
	default:
		g_string_append_printf(out, "%u-%u", a, b);
		break;
	}
}

/* A region; one that mremap moved away only now and then. */
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

/* A live uffd of a region's own process, or now and then any declared one
 * (another process's, a closed one, a fork child's that EVENT_FORK never
 * created: bad input). */
static const char *uffd_for(struct gen *g, const struct gregion *rg)
{
	int own[MAX_UFFDS], n = 0;
	if (!g->nuffds)
		return "U0"; /* never declared */
	for (int i = 0; i < g->nuffds; i++)
		if (g->uffds[i].live && g->uffds[i].proc == rg->proc)
			own[n++] = i;
	if (!n) /* another process's live one, or rarely any declared one */
		for (int i = 0; i < g->nuffds && !chance(g, 3); i++)
			if (g->uffds[i].live)
				own[n++] = i;
	if (!n || chance(g, 2))
		return g->uffds[rnd(g, 0, (unsigned)g->nuffds - 1)].name;
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
	for (int i = 0; i < g->nuffds; i++)
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
		g_autofree char *n = g_strdup_printf("%s.%s", g->procs[child], u->name);
		add_uffd(g, n, child, u->event_fork, u->live && u->event_fork && u->registered);
	}
}

/* mremap S from=R: at a free gap, or now and then at a fixed address that
 * may land on another region (MREMAP_FIXED unmaps it) or on R itself. */
static void gen_mremap(struct gen *g, struct gregion *rg)
{
	char name[24];
	if ((rg->moved || rg->split) && !chance(g, 5))
		return; /* nothing left to move: the new name would be undeclared */
	snprintf(name, sizeof(name), "R%u", g->nremaps++);
	if (chance(g, 25)) {
		uint64_t at = 0x7f0000000000ULL + (uint64_t)rnd(g, 0, 16) * 0x100000ULL;
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
		FLAGS(g, s, msg_flags, 30);
		line(g, "expect msg %s %s page=%u flags=%s", uffd_for(g, rg), rg->name,
		     rnd(g, 0, rg->npages - 1), s->str);
		break;
	case 3:
		line(g, "expect msgs %s count=%u", uffd_for(g, rg), rnd(g, 0, 2));
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
 * (now and then one more, which must be refused). */
static void race_key(struct gen *g, GString *out)
{
	if (!chance(g, 6) || !g->steps_left)
		return;
	unsigned n = rnd(g, 1, 2);
	if (n > g->steps_left && !chance(g, 20))
		n = g->steps_left;
	g_string_append_printf(out, " race=%u", n);
}

static void gen_step(struct gen *g)
{
	g_autoptr(GString) s = g_string_new(NULL);
	struct gregion *rg = region(g);
	unsigned k = rnd(g, 0, 115);
	/* uffd steps mostly on a region whose process has a live context */
	for (int tries = 0; ((k >= 35 && k < 65) || (k >= 106 && k < 110)) && tries < 4; tries++) {
		bool has = false;
		for (int i = 0; i < g->nuffds; i++)
			has |= g->uffds[i].live && g->uffds[i].proc == rg->proc;
		if (has || chance(g, 5))
			break;
		rg = region(g);
	}
	const char *u = uffd_for(g, rg);

	if (k < 16) {
		bool w = chance(g, 50);
		range(g, s, rg->npages, true);
		if (w)
			line(g, "write %s pages=%s value=%u", rg->name, s->str, rnd(g, 1, 9));
		else
			line(g, "read %s pages=%s", rg->name, s->str);
	} else if (k < 20) {
		pages_key(g, s, rg, true);
		line(g, "mprotect %s%s prot=%s", rg->name, s->str, PICK(g, prots));
		rg->split |= s->len > 0;
	} else if (k < 22) {
		pages_key(g, s, rg, true);
		line(g, "munmap %s%s", rg->name, s->str);
		rg->split |= s->len > 0;
	} else if (k < 32) {
		const char *adv = PICK(g, advices);
		pages_key(g, s, rg, true);
		if (!strcmp(adv, "COLLAPSE"))
			race_key(g, s);
		line(g, "madvise %s%s advice=%s", rg->name, s->str, adv);
		rg->split |= strstr(s->str, "pages=") && strstr(adv, "HUGE");
	} else if (k < 35) {
		if (!g->file_pages)
			return;
		range(g, s, g->file_pages, true);
		line(g, "fallocate F mode=punch pages=%s", s->str);
	} else if (k < 41) {
		pages_key(g, s, rg, true);
		g_autoptr(GString) m = g_string_new(NULL);
		FLAGS(g, m, reg_modes, 35);
		line(g, "uffd register %s %s%s mode=%s", u, rg->name, s->str, m->str);
		rg->split |= s->len > 0;
		if (uffd_named(g, u))
			uffd_named(g, u)->registered = true;
	} else if (k < 43) {
		pages_key(g, s, rg, true);
		line(g, "uffd unregister %s %s%s", u, rg->name, s->str);
		rg->split |= s->len > 0;
	} else if (k < 47) {
		pages_key(g, s, rg, true);
		g_autoptr(GString) m = g_string_new(NULL);
		FLAGS(g, m, wp_modes, 50);
		line(g, "uffd writeprotect %s %s%s mode=%s", u, rg->name, s->str, m->str);
	} else if (k < 54) {
		pages_key(g, s, rg, true);
		g_autoptr(GString) m = g_string_new(NULL);
		FLAGS(g, m, rwp_modes, 50);
		if (chance(g, 3))
			g_string_assign(m, "RWP|BIT2");
		line(g, "uffd rwprotect %s %s%s mode=%s", u, rg->name, s->str, m->str);
	} else if (k < 56) {
		static const char *const async[] = { "RWP_ASYNC", "WP_ASYNC", "RWP" };
		g_autoptr(GString) en = g_string_new(NULL);
		g_autoptr(GString) dis = g_string_new(NULL);
		FLAGS(g, en, async, 30);
		FLAGS(g, dis, async, 30);
		line(g, "uffd set-mode %s enable=%s disable=%s", u, en->str, dis->str);
	} else if (k < 62) {
		static const char *const fills[] = { "copy", "zeropage", "continue" };
		const char *f = PICK(g, fills);
		g_autoptr(GString) m = g_string_new(NULL);
		FLAGS(g, m, copy_modes, 30);
		range(g, s, rg->npages, false);
		if (!strcmp(f, "copy"))
			line(g, "uffd copy %s %s pages=%s value=%u mode=%s", u, rg->name, s->str,
			     rnd(g, 1, 9), m->str);
		else
			line(g, "uffd %s %s %s pages=%s mode=%s", f, u, rg->name, s->str, m->str);
	} else if (k < 64) {
		pages_key(g, s, rg, true);
		line(g, "uffd wake %s %s%s", u, rg->name, s->str);
	} else if (k < 65) {
		/* Every later use of a closed uffd is bad input: close rarely. */
		if (chance(g, 10)) {
			line(g, "uffd close %s", u);
			if (uffd_named(g, u))
				uffd_named(g, u)->live = false;
		}
	} else if (k < 70) {
		if (chance(g, 50))
			line(g, "serve %s", u);
		else
			line(g, "serve %s count=%u value=%u", u, rnd(g, 0, 3), rnd(g, 0, 9));
	} else if (k < 72) {
		race_key(g, s);
		line(g, "khugepaged pass %s%s", g->procs[rnd(g, 0, (unsigned)g->nprocs - 1)],
		     s->str);
	} else if (k < 75) {
		race_key(g, s);
		unsigned page = rnd(g, 0, chance(g, 3) ? rg->npages + 4 : rg->npages - 1);
		line(g, "khugepaged scan %s page=%u%s", rg->name, page, s->str);
	} else if (k < 79) {
		pages_key(g, s, rg, true);
		line(g, "reclaim %s%s", rg->name, s->str);
	} else if (k < 86) {
		range(g, s, rg->npages, true);
		if (chance(g, 20)) {
			g_autoptr(GString) f = g_string_new(NULL);
			FLAGS(g, f, foll, 20);
			line(g, "gup %s pages=%s caller=explicit flags=%s value=%u", rg->name,
			     s->str, f->str, rnd(g, 0, 9));
		} else {
			/* proc= names the region's own process (or, rarely, another). */
			int p = chance(g, 90) ? rg->proc : (int)rnd(g, 0, (unsigned)g->nprocs - 1);
			bool with_proc = chance(g, 30);
			line(g, "gup %s pages=%s caller=%s value=%u%s%s", rg->name, s->str,
			     PICK(g, callers), rnd(g, 0, 9), with_proc ? " proc=" : "",
			     with_proc ? g->procs[p] : "");
		}
	} else if (k < 88) {
		pages_key(g, s, rg, true);
		line(g, "pagemap %s%s", rg->name, s->str);
	} else if (k < 91) {
		g_autoptr(GString) c = g_string_new(NULL), i = g_string_new(NULL),
				   a = g_string_new(NULL), ret = g_string_new(NULL);
		pages_key(g, s, rg, true);
		FLAGS(g, c, categories, 10);
		FLAGS(g, i, categories, 5);
		FLAGS(g, a, categories, 10);
		FLAGS(g, ret, categories, 40);
		line(g, "pagemap-scan %s%s category=%s inverted=%s anyof=%s return=%s max-pages=%u",
		     rg->name, s->str, c->str, i->str, a->str, ret->str, rnd(g, 0, 20));
	} else if (k < 92) {
		line(g, "hunk %s state=%s", PICK(g, hunks), chance(g, 50) ? "on" : "off");
	} else if (k < 94) {
		static const char *const thp[] = { "always", "madvise", "never" };
		static const unsigned mthp[] = { 0, 2, 3, 4 };
		line(g, "thp enabled=%s mthp=%u", PICK(g, thp), PICK(g, mthp));
	} else if (k < 96) {
		gen_fork(g);
	} else if (k < 99) {
		gen_mremap(g, rg);
	} else if (k < 103) {
		pages_key(g, s, rg, true);
		if (chance(g, 40))
			g_string_append_printf(s, " split=%u", rnd(g, 0, 1));
		race_key(g, s);
		line(g, "migrate %s%s", rg->name, s->str);
	} else if (k < 106) {
		pages_key(g, s, rg, true);
		if (chance(g, 60))
			g_string_append_printf(s, " migrate-on-fault=%u", rnd(g, 0, 1));
		line(g, "numa-scan %s%s", rg->name, s->str);
	} else if (k < 110) {
		/* UFFDIO_MOVE from another region of the same process, mostly */
		static const char *const move_modes[] = { "DONTWAKE", "ALLOW_SRC_HOLES" };
		const struct gregion *src = region(g);
		for (int tries = 0; src->proc != rg->proc && tries < 3; tries++)
			src = region(g);
		g_autoptr(GString) m = g_string_new(NULL);
		FLAGS(g, m, move_modes, 40);
		range(g, s, rg->npages < src->npages ? rg->npages : src->npages, false);
		line(g, "uffd move %s %s src=%s pages=%s mode=%s", u, rg->name, src->name, s->str,
		     m->str);
	} else if (k < 111) {
		line(g, "swapoff");
	} else if (k < 112) {
		unsigned pages = rnd(g, 0, g->file_pages + (chance(g, 20) ? 8 : 0));
		line(g, "ftruncate F size=%uK", pages * 4);
		g->file_pages = pages; /* fallocate past it is bad input */
	} else if (chance(g, 25)) {
		gen_expect(g);
	} else {
		/* Most steps are operations: a failed expectation ends the trace. */
		range(g, s, rg->npages, true);
		line(g, "read %s pages=%s", rg->name, s->str);
	}
}

static void gen_trace(struct gen *g)
{
	g->nprocs = chance(g, 30) ? 2 : 1;
	for (int p = 0; p < g->nprocs; p++) {
		snprintf(g->procs[p], sizeof(g->procs[p]), "P%d", p);
		line(g, "process %s", g->procs[p]);
	}
	if (chance(g, 40)) {
		static const char *const thp[] = { "always", "madvise", "never" };
		line(g, "thp enabled=%s", PICK(g, thp));
	}

	bool huge_file = chance(g, 40);
	g->file_pages = huge_file && chance(g, 50) ? 512 : rnd(g, 16, 64);
	line(g, "file F size=%uK%s", g->file_pages * 4, huge_file ? " huge=1" : "");

	/* The anonymous region. */
	bool thp = chance(g, 30);
	struct gregion *a =
		add_region(g, "A", 0, thp && chance(g, 60) ? 512 : rnd(g, 16, 64), false);
	line(g, "mmap A proc=P0 len=%uK prot=rw map=private%s", a->npages * 4,
	     thp ? " align=2M" : "");
	if (thp)
		line(g, "madvise A advice=HUGEPAGE");

	/* One or two regions of the shmem file. */
	int nfile = chance(g, 50) ? 2 : 1;
	for (int i = 0; i < nfile; i++) {
		unsigned off = i && chance(g, 30) ? rnd(g, 0, g->file_pages / 2) : 0;
		struct gregion *m = add_region(g, i ? "M1" : "M0", i && g->nprocs > 1 ? 1 : 0,
					       g->file_pages - off, true);
		bool shared = chance(g, 70);
		g_autofree char *tail = off ? g_strdup_printf(" offset=%uK", off * 4)
					    : g_strdup(m->npages == 512 ? " align=2M" : "");
		line(g, "mmap %s proc=%s len=%uK prot=rw map=%s file=F%s", m->name,
		     g->procs[m->proc], m->npages * 4, shared ? "shared" : "private", tail);
	}

	/* Some data to work on. */
	if (chance(g, 80))
		line(g, "write A pages=0-%u value=%u", rnd(g, 0, a->npages - 1), rnd(g, 1, 9));
	if (chance(g, 60))
		line(g, "write M0 pages=0-%u value=%u", rnd(g, 0, g->regions[1].npages - 1),
		     rnd(g, 1, 9));

	for (int p = 0; p < g->nprocs; p++) {
		if (p && !chance(g, 60))
			continue;
		g_autoptr(GString) f = g_string_new(NULL);
		FLAGS(g, f, features, 40);
		g_autofree char *u = g_strdup_printf("U%d", p);
		line(g, "uffd open %s proc=%s", u, g->procs[p]);
		line(g, "uffd api %s features=%s", u, f->str);
		add_uffd(g, u, p, strstr(f->str, "EVENT_FORK") != NULL, true);
	}

	unsigned n = rnd(g, 20, 60);
	for (unsigned i = 0; i < n; i++) {
		g->steps_left = n - i - 1;
		gen_step(g);
	}
}

/* Crash reporting: which trace was running. */
static char *current_text;
static guint32 current_seed;

static void report_current(void)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "\nengine fuzz: died on seed %u:\n", current_seed);
	if (write(2, buf, (size_t)n) < 0)
		return;
	if (current_text && write(2, current_text, strlen(current_text)) < 0)
		return;
}

static void on_signal(int sig)
{
	report_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A failure is reported here, not by the death callback. */
#define FUZZ_FAIL(...)                 \
	do {                           \
		current_text = NULL;   \
		fail_msg(__VA_ARGS__); \
	} while (0)

static guint32 env_u32(const char *name, guint32 dflt)
{
	const char *v = getenv(name);
	return v && *v ? (guint32)strtoul(v, NULL, 0) : dflt;
}

/* "PATH:N: " with 1 <= N <= lines. */
static bool error_has_line(const char *err, unsigned lines)
{
	size_t n = strlen(PATH);
	if (strncmp(err, PATH ":", n + 1))
		return false;
	char *end;
	unsigned long l = strtoul(err + n + 1, &end, 10);
	return end != err + n + 1 && l >= 1 && l <= lines && !strncmp(end, ": ", 2) && end[2];
}

static void random_traces_never_crash_and_end_in_one_of_three_verdicts(void **state)
{
	guint32 base = env_u32("MMSIM_FUZZ_SEED", FUZZ_SEED);
	guint32 runs = env_u32("MMSIM_FUZZ_RUNS", FUZZ_RUNS);
	bool print = getenv("MMSIM_FUZZ_PRINT") != NULL;
	bool report_all = getenv("MMSIM_FUZZ_REPORT_ALL") != NULL; /* not only each kind's first */
	unsigned counts[3] = { 0 }, v6_violations = 0;
	g_autoptr(GHashTable) kinds = g_hash_table_new(g_str_hash, g_str_equal);

	/* Keep each replay's large zeroed mem_map on fresh mmap pages: glibc's
	 * dynamic threshold would otherwise memset it from the heap every time. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#ifdef HAVE_SANITIZER_CALLBACK
	__sanitizer_set_death_callback(report_current);
#endif
	signal(SIGSEGV, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGFPE, on_signal);
	signal(SIGALRM, on_signal);

	for (guint32 i = 0; i < runs; i++) {
		guint32 seed = base + i;
		struct gen g = { .r = g_rand_new_with_seed(seed), .t = g_string_new(NULL) };
		gen_trace(&g);
		const char *level = PICK(&g, levels);
		current_seed = seed;
		current_text = g.t->str;

		g_autoptr(GString) perr = g_string_new(NULL);
		struct trace *t = trace_parse_string(PATH, g.t->str, perr);
		if (!t)
			FUZZ_FAIL(
				"seed %u: the generator wrote a trace that does not parse: %s\n%s",
				seed, perr->str, g.t->str);
		assert_true(patch_set_level(level));
		g_autoptr(GString) out = g_string_new(NULL);
		g_autoptr(GString) err = g_string_new(NULL);
		alarm(FUZZ_HANG_SECONDS);
		enum verdict v = engine_replay(t, false, true, out, err);
		alarm(0);
		const char *kind = engine_failure_kind;
		if (print)
			printf("seed %u level %s verdict %d (%s): %s\n%s\n", seed, level, v,
			       kind ? kind : "-", err->str, g.t->str);

		switch (v) {
		case VERDICT_PASS:
			if (err->len)
				FUZZ_FAIL("seed %u: PASS with an error '%s'\n%s", seed, err->str,
					  g.t->str);
			break;
		case VERDICT_FAIL:
			if (!err->len)
				FUZZ_FAIL("seed %u: FAIL without a message\n%s", seed, g.t->str);
			if (!strcmp(level, "v6") && kind && strcmp(kind, "expectation") &&
			    !strstr(g.t->str, "hunk ")) {
				v6_violations++;
				if (report_all || !g_hash_table_contains(kinds, kind)) {
					g_hash_table_add(kinds, (gpointer)kind);
					print_message(
						"engine fuzz: v6 oracle violation '%s' on seed "
						"%u: %s\n",
						kind, seed, err->str);
				}
			}
			break;
		case VERDICT_BAD_INPUT:
			if (!error_has_line(err->str, g.lines))
				FUZZ_FAIL("seed %u: bad input without '%s:<line>: ': '%s'\n%s",
					  seed, PATH, err->str, g.t->str);
			break;
		default:
			FUZZ_FAIL("seed %u: verdict %d is not one of the three\n%s", seed, v,
				  g.t->str);
		}
		counts[v]++;
		current_text = NULL;
		trace_free(t);
		g_string_free(g.t, TRUE);
		g_rand_free(g.r);
	}
	assert_true(patch_set_level("v6"));
	print_message("engine fuzz: seeds %u..%u: %u pass, %u fail, %u bad input; %u v6 oracle "
		      "violations\n",
		      base, base + runs - 1, counts[0], counts[1], counts[2], v6_violations);
	/* Every verdict must stay common, or the generator has stopped testing. */
	if (runs >= 1000) {
		assert_true(counts[VERDICT_PASS] > runs / 20);
		assert_true(counts[VERDICT_BAD_INPUT] > runs / 50);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_traces_never_crash_and_end_in_one_of_three_verdicts),
	};

	return cmocka_run_group_tests_name("engine_fuzz", tests, NULL, NULL);
}
