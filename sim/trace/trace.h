/* sim/trace/trace.h - the parsed form of a trace and the command schema.
 *
 * A trace is a list of steps, one per non-blank, non-comment line:
 *
 *     COMMAND [NAME...] [key=value...]
 *
 * Commands may be one or two words ("uffd register", "expect pte"). The
 * schema table (commands.c) says, per command, how many positional names it
 * takes and of which kind, and which keys it accepts with their types. The
 * parser checks a line against it; the writer prints a step back in one
 * canonical form (schema key order, normalised numbers and ranges), so
 * parse -> write -> parse is the identity. See docs/trace-format.md.
 */
#ifndef MMSIM_TRACE_H
#define MMSIM_TRACE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum cmd {
	CMD_PROCESS,
	CMD_FILE,
	CMD_THP,
	CMD_HUNK,
	CMD_MMAP,
	CMD_MUNMAP,
	CMD_MPROTECT,
	CMD_MADVISE,
	CMD_FALLOCATE,
	CMD_READ,
	CMD_WRITE,
	CMD_UFFD_OPEN,
	CMD_UFFD_API,
	CMD_UFFD_REGISTER,
	CMD_UFFD_UNREGISTER,
	CMD_UFFD_WRITEPROTECT,
	CMD_UFFD_RWPROTECT,
	CMD_UFFD_SET_MODE,
	CMD_UFFD_COPY,
	CMD_UFFD_ZEROPAGE,
	CMD_UFFD_CONTINUE,
	CMD_UFFD_WAKE,
	CMD_UFFD_CLOSE,
	CMD_SERVE,
	CMD_KHUGEPAGED_PASS,
	CMD_KHUGEPAGED_SCAN,
	CMD_RECLAIM,
	CMD_GUP,
	CMD_UNPIN,
	CMD_PAGEMAP,
	CMD_PAGEMAP_SCAN,
	CMD_MIGRATE,
	CMD_NUMA_SCAN,
	CMD_MREMAP,
	CMD_FORK,
	CMD_UFFD_MOVE,
	CMD_SWAPOFF,
	CMD_FTRUNCATE,
	CMD_SHRINK_DEFERRED,
	CMD_DEVICE_EXCLUSIVE,
	CMD_EXPECT_RESULT,
	CMD_EXPECT_SCAN,
	CMD_EXPECT_MSG,
	CMD_EXPECT_MSGS,
	CMD_EXPECT_PAGEMAP,
	CMD_EXPECT_ACCESSED,
	CMD_EXPECT_CONTENT,
	CMD_EXPECT_PTE,
	CMD_EXPECT_BLOCKED,
	CMD_EXPECT_SCAN_COUNT,
	NR_CMDS
};

/* Kinds of positional names; the parser checks they are declared earlier. */
enum name_kind {
	NAME_NONE,
	NAME_PROC,   /* declared by "process" */
	NAME_FILE,   /* declared by "file" */
	NAME_REGION, /* declared by "mmap" */
	NAME_UFFD,   /* declared by "uffd open" */
	NAME_HUNK,   /* a hunk name from sim/patch.c */
};

enum arg_type {
	ARG_U64,   /* decimal or 0x hex */
	ARG_SIZE,  /* bytes, with optional K/M/G suffix */
	ARG_RANGE, /* page list: "3", "0-511", "0-3,8,10-11"; "none" is empty */
	ARG_FLAGS, /* names from a flag table joined by '|'; "0" is empty */
	ARG_ENUM,  /* one name from a table */
	ARG_NAME,  /* a reference to a declared name (see name_kind) */
	ARG_PROT,  /* "none" or a subset of "rwx" in that order */
};

struct flag_name {
	const char *name;
	uint64_t value;
};

struct key_desc {
	const char *key;
	enum arg_type type;
	bool required;
	const struct flag_name *table; /* for ARG_FLAGS / ARG_ENUM */
	enum name_kind name_kind;      /* for ARG_NAME */
};

#define MAX_POSITIONAL 2
#define MAX_KEYS 8

struct cmd_desc {
	const char *name; /* "uffd register" */
	enum name_kind positional[MAX_POSITIONAL];
	bool declares; /* the first positional name is a new declaration */
	struct key_desc keys[MAX_KEYS];
	const char *help;
};

extern const struct cmd_desc cmd_descs[NR_CMDS];

struct page_span {
	uint64_t first, last; /* inclusive */
};

struct arg_value {
	bool present;
	uint64_t u;    /* U64, SIZE, FLAGS, ENUM (the table value), PROT */
	GArray *spans; /* RANGE: struct page_span, sorted, merged */
	char *name;    /* NAME */
};

struct step {
	enum cmd cmd;
	uint32_t line;
	char *pos[MAX_POSITIONAL];
	struct arg_value args[MAX_KEYS]; /* indexed like cmd_descs[cmd].keys */
};

struct trace {
	char *path;
	GArray *steps; /* struct step */
};

/* Step results: 0 is success, a positive value is an errno, the rest are
 * outcomes that are not errnos. */
#define RESULT_OK 0
#define RESULT_BLOCKED 1000 /* the task sleeps in handle_userfault */
#define RESULT_SIGBUS 1001
#define RESULT_SIGSEGV 1002
#define RESULT_LIVELOCK 1003 /* a retry bound was exceeded without progress */

/* Flag and enum tables shared by the parser, the writer and the engine. */
extern const struct flag_name prot_names[];    /* PROT_* */
extern const struct flag_name map_names[];     /* private, shared */
extern const struct flag_name feature_names[]; /* UFFD_FEATURE_* */
extern const struct flag_name register_mode_names[];
extern const struct flag_name wp_mode_names[];
extern const struct flag_name rwp_mode_names[];
extern const struct flag_name copy_mode_names[];
extern const struct flag_name move_mode_names[];
extern const struct flag_name advice_names[];
extern const struct flag_name foll_names[];
extern const struct flag_name gup_caller_names[];
extern const struct flag_name pagemap_category_names[];
extern const struct flag_name pagemap_scan_flag_names[]; /* PM_SCAN_* */
extern const struct flag_name result_names[];
extern const struct flag_name scan_result_names[];
extern const struct flag_name msg_flag_names[];
extern const struct flag_name pte_state_names[];
extern const struct flag_name thp_mode_names[];
extern const struct flag_name onoff_names[];
extern const struct flag_name fallocate_mode_names[];
extern const struct flag_name bool_names[];
extern const struct flag_name shmem_huge_names[];

/* Parse a whole trace. On error, writes "path:line: message" to *err and
 * returns NULL. Never aborts on bad input. */
struct trace *trace_parse_file(const char *path, GString *err);
struct trace *trace_parse_string(const char *path, const char *text, GString *err);
void trace_free(struct trace *t);
/* Canonical text of one step / a whole trace. */
void trace_write_step(GString *out, const struct step *s);
/* A sorted array of page numbers as a canonical page list ("none", "0-3,7"). */
void trace_write_pages(GString *out, const uint64_t *pages, guint n);
void trace_write(GString *out, const struct trace *t);

/* Accessors for the engine: index of a key in the step's command schema. */
int cmd_key_index(enum cmd cmd, const char *key);
const struct arg_value *step_arg(const struct step *s, const char *key);
static inline bool step_has(const struct step *s, const char *key)
{
	const struct arg_value *a = step_arg(s, key);
	return a && a->present;
}
uint64_t step_u64(const struct step *s, const char *key, uint64_t dflt);
/* Look a name up in a flag table; false if unknown. */
bool flag_lookup(const struct flag_name *table, const char *name, uint64_t *out);
/* The name of value in an enum table, or NULL. */
const char *flag_name_of(const struct flag_name *table, uint64_t value);

#endif
