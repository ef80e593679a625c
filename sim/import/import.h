/* sim/import/import.h - converting captures of real programs into traces.
 *
 * Three front ends read a capture line by line and hand the converter a
 * stream of events in one common, numeric form:
 *
 *   strace.c   `strace -f [-tt] [-T] -o F` text: memory, process and
 *              userfaultfd syscalls, decoded uffd ioctls
 *   lackey.c   a valgrind log written with --tool=lackey --trace-mem=yes
 *              --trace-syscalls=yes: the client's syscalls and its data
 *              loads and stores, in one address space and one order
 *   ftrace.c   huge_memory trace events (raw tracefs, trace-cmd report,
 *              perf script), keyed by field name
 *
 * convert.c turns the event stream into trace steps (regions named r1, r2,
 * ... with page numbers relative to the mapping; processes p1, p2, ...),
 * overlay.c adds the RWP working-set loop (--overlay rwp), and the result
 * is parsed back and printed in canonical form (docs/import.md).
 */
#ifndef MMSIM_IMPORT_H
#define MMSIM_IMPORT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "trace/trace.h"

/* x86-64 / asm-generic values the front ends decode into. */
#define IMP_PROT_READ 0x1
#define IMP_PROT_WRITE 0x2
#define IMP_PROT_EXEC 0x4
#define IMP_MAP_SHARED 0x01
#define IMP_MAP_PRIVATE 0x02
#define IMP_MAP_SHARED_VALIDATE 0x03
#define IMP_MAP_FIXED 0x10
#define IMP_MAP_ANONYMOUS 0x20
#define IMP_MAP_FIXED_NOREPLACE 0x100000
#define IMP_MREMAP_MAYMOVE 1
#define IMP_MREMAP_FIXED 2
#define IMP_MREMAP_DONTUNMAP 4
#define IMP_CLONE_VM 0x100
#define IMP_CLONE_VFORK 0x4000
#define IMP_CLONE_THREAD 0x10000

/* MADV_* names without the prefix and their values (all of them). */
extern const struct flag_name imp_madv_names[];

enum imp_op {
	IMP_MMAP,      /* addr=result len prot flags fd off=arg */
	IMP_MUNMAP,    /* addr len */
	IMP_MPROTECT,  /* addr len prot */
	IMP_MADVISE,   /* addr len arg=advice */
	IMP_MREMAP,    /* addr len -> addr2=result len2=new length, flags */
	IMP_BRK,       /* ret = the new break */
	IMP_CLONE,     /* ret = child pid, flags = clone flags */
	IMP_EXECVE,    /* the pid gets a fresh mm */
	IMP_EXIT,      /* the task ended: the last user of an mm unmaps it all */
	IMP_MEMFD,     /* ret = fd */
	IMP_FTRUNCATE, /* fd len */
	IMP_CLOSE,     /* fd */
	IMP_UFFD_OPEN, /* ret = fd */
	IMP_UFFD_IOCTL,
	IMP_ACCESS, /* addr, write */
	IMP_SKIP,   /* not imported: counted under name */
};

enum imp_uffd_cmd {
	UF_API,
	UF_REGISTER,	 /* addr len arg=mode */
	UF_UNREGISTER,	 /* addr len */
	UF_WAKE,	 /* addr len */
	UF_COPY,	 /* addr=dst addr2=src len arg=mode */
	UF_ZEROPAGE,	 /* addr len arg=mode */
	UF_WRITEPROTECT, /* addr len arg=mode */
	UF_CONTINUE,	 /* addr len arg=mode */
	UF_MOVE,	 /* addr=dst addr2=src len arg=mode */
	UF_RWPROTECT,	 /* addr len arg=mode */
	UF_SET_MODE,	 /* arg=enable arg2=disable */
};

struct imp_event {
	enum imp_op op;
	uint32_t line; /* input line of the call (its completion) */
	uint64_t seq;  /* order key: the line that starts a clone, else line */
	int pid;
	double ts;  /* start time in seconds (strace -tt/-ttt), or -1 */
	double dur; /* -T duration, or -1 */
	int64_t ret;
	int err; /* errno of a failed call; 0 on success */
	uint64_t addr, len, addr2, len2;
	uint64_t prot, flags, arg, arg2;
	int fd;
	int uffd_cmd;	       /* enum imp_uffd_cmd */
	uint64_t unknown_bits; /* flag bits the decoder could not name */
	bool write;	       /* IMP_ACCESS */
	char name[72];	       /* syscall name (IMP_SKIP, notes) */
	char scan[40];	       /* MADV_COLLAPSE: the scan status --ftrace matched */
};

/* Import options (mmsim import --help). */
struct imp_options {
	bool overlay_rwp;
	unsigned interval;   /* accesses per overlay interval / access batch */
	unsigned long_every; /* khugepaged pass + reclaim every N intervals */
	uint64_t max_bytes;  /* stop emitting accesses past this output size */
	const char *thp;     /* "always", "madvise", "never" or NULL */
	const char *source;  /* shown in the header */
};

void imp_options_init(struct imp_options *o);

/* --- the converter (convert.c) --- */
struct imp_conv;
struct imp_conv *imp_conv_new(const struct imp_options *o);
void imp_conv_free(struct imp_conv *c);
/* Feed one event, in order. */
void imp_conv_event(struct imp_conv *c, const struct imp_event *ev);
/* The capture has loads and stores (lackey): the overlay arms only the
 * regions they touch and counts its intervals in accesses. */
void imp_conv_set_accesses(struct imp_conv *c);
/* Count something not imported, with an optional note (line, text). */
void imp_conv_skip(struct imp_conv *c, const char *what, uint32_t line);
/* Finish: builds the trace text, parses it back (so it is valid by
 * construction) and writes header comments + canonical steps to out.
 * Returns false (message in err) only if the generated text does not
 * parse, which is a bug in the importer. */
bool imp_conv_finish(struct imp_conv *c, GString *out, GString *err);

/* --- strace (strace.c) --- */
struct imp_strace;
struct imp_strace *imp_strace_new(const char *path);
void imp_strace_free(struct imp_strace *s);
/* One line without its '\n'. false: err holds "path:line: message". */
bool imp_strace_line(struct imp_strace *s, const char *line, uint32_t lineno, GString *err);
/* End of input: sort the events into their order, attach the scan status
 * of each MADV_COLLAPSE from ftrace (struct imp_ft_event, may be NULL) and
 * feed them to c; calls still unfinished are dropped and counted. */
void imp_strace_finish(struct imp_strace *s, struct imp_conv *c, const GPtrArray *ftrace);

/* --- valgrind lackey log (lackey.c) --- */
struct imp_lackey;
struct imp_lackey *imp_lackey_new(const char *path, struct imp_conv *c);
void imp_lackey_free(struct imp_lackey *l);
bool imp_lackey_line(struct imp_lackey *l, const char *line, uint32_t lineno, GString *err);
void imp_lackey_finish(struct imp_lackey *l);

/* --- ftrace huge_memory events (ftrace.c) --- */
struct imp_ft_event {
	uint32_t line;
	int pid;
	double ts;
	char event[40];	 /* mm_khugepaged_scan_pmd, ... */
	char mm[24];	 /* the hashed mm pointer as printed */
	uint64_t pfn;	 /* scan_pfn / hpage_pfn; UINT64_MAX: none */
	char status[40]; /* status= or result= (ret= for swapin) */
};
/* Parse a whole capture into events (g_free-able). Lines that are not
 * huge_memory events are counted in *other. */
GPtrArray *imp_ftrace_parse(const char *path, const char *text, unsigned *other, GString *err);
/* The one-line-per-event summary. */
void imp_ftrace_summary(GString *out, const GPtrArray *evs, unsigned other);
/* The status string as a trace scan name (pmd_null -> no_pte_table), or
 * NULL when the model has no such result. */
const char *imp_ftrace_scan_name(const char *status);

/* Attach to each MADV_COLLAPSE event of events (struct imp_event) the
 * status of the scan the kernel logged for it (see docs/import.md: by
 * task pid and time window, the clock offset estimated). Returns how many
 * calls got one. */
unsigned imp_ftrace_merge(const GPtrArray *ft, GArray *events);

/* A whole import (fmt "strace" or "lackey") of path, or of text when it is
 * not NULL (path then only names it in messages); ft: --ftrace events or
 * NULL. The trace (header comments, canonical steps) goes to out; false:
 * "path:line: message" in err. */
bool imp_run(const char *fmt, const char *path, const char *text, const struct imp_options *o,
	     const GPtrArray *ft, GString *out, GString *err);

/* Shared: read a file line by line with a callback (lackey logs are
 * hundreds of MB: never read whole). Each line is handed over without its
 * '\n'; a NUL byte in a line is an error. */
typedef bool (*imp_line_fn)(void *ctx, const char *line, uint32_t lineno, GString *err);
bool imp_read_lines(const char *path, imp_line_fn fn, void *ctx, GString *err);

#endif
