/* sim/import/import_internal.h - the converter's state, shared by
 * convert.c and overlay.c only. */
#ifndef MMSIM_IMPORT_INTERNAL_H
#define MMSIM_IMPORT_INTERNAL_H

#include "import/import.h"

struct cproc;

/* A region: what one mmap (or mremap, brk increment, fork copy) declared. */
struct creg {
	char *name;
	uint64_t base, len; /* the mapping the trace declared */
	unsigned prot;
	bool shared;
	struct cproc *p;
	guint idx;	    /* in imp_conv.regs */
	bool touched;	    /* accessed (the overlay arms only these) */
	bool ov_registered; /* the overlay registered it */
};

/* A live address range of a region (munmap cuts regions into segments). */
struct seg {
	uint64_t start, end;
	struct creg *r;
};

/* What a syscall range covers of one region: pages first..last. */
struct piece {
	struct creg *r;
	uint64_t first, last;
};

enum { FD_MEMFD, FD_UFFD };

struct cfd {
	int kind;
	char *name;	     /* the trace's file or uffd name (memfd: once mapped) */
	uint64_t size;	     /* memfd: the size ftruncate or mappings gave it */
	struct cproc *owner; /* uffd: the process whose mm it serves */
	unsigned refs;	     /* descriptors in fd tables (fork shares them) */
};

struct cproc {
	char *name;
	GArray *segs;	 /* struct seg, sorted, disjoint */
	GHashTable *fds; /* fd -> struct cfd */
	uint64_t brk_end;
	bool brk_known;
	bool used;	/* mapped something or forked: execve needs a new process */
	unsigned users; /* pids using this mm (threads, vfork children) */
	char *ov_uffd;	/* the overlay's context, once opened */
};

struct acc {
	guint reg;
	uint64_t page;
	bool write;
};

struct imp_conv {
	struct imp_options o;
	GString *body;	/* the steps, one per line */
	GString *notes; /* header notes */
	unsigned nnotes;
	GHashTable *pid_proc; /* pid -> struct cproc */
	GPtrArray *procs, *regs, *fds;
	unsigned nproc, nreg, nfile, nuffd, value;
	GHashTable *skips; /* what -> count */
	/* accesses */
	bool have_accesses;
	GArray *batch; /* struct acc of this interval */
	struct acc last;
	bool have_last;
	const struct seg *last_seg;
	const struct cproc *last_seg_proc;
	bool capped;
	uint64_t dropped;
	/* the overlay */
	unsigned intervals, steps_since;
};

void conv_line(struct imp_conv *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void conv_flush(struct imp_conv *c);

/* overlay.c: no-ops unless --overlay rwp */
void ov_region_added(struct imp_conv *c, struct creg *r);
void ov_interval(struct imp_conv *c);

#endif
