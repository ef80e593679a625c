/* sim/trace/commands.c - the trace command schema and its name tables.
 *
 * This table is the single definition of the trace language: the parser
 * validates against it, the writer prints in its key order, the engine
 * dispatches on enum cmd, and docs/trace-format.md documents it.
 */
#include "trace.h"

#include <string.h>

#include "linux/khugepaged.h"
#include "linux/mm.h"
#include "linux/pagemap_uapi.h"
#include "model/uffd.h"

const struct flag_name prot_names[] = { { "none", 0 },
					{ NULL, 0 } }; /* ARG_PROT parses rwx itself */

const struct flag_name map_names[] = { { "private", 0 }, { "shared", 1 }, { NULL, 0 } };

const struct flag_name feature_names[] = {
	{ "PAGEFAULT_FLAG_WP", UFFD_FEATURE_PAGEFAULT_FLAG_WP },
	{ "EVENT_FORK", UFFD_FEATURE_EVENT_FORK },
	{ "EVENT_REMAP", UFFD_FEATURE_EVENT_REMAP },
	{ "EVENT_REMOVE", UFFD_FEATURE_EVENT_REMOVE },
	{ "MISSING_HUGETLBFS", UFFD_FEATURE_MISSING_HUGETLBFS },
	{ "MISSING_SHMEM", UFFD_FEATURE_MISSING_SHMEM },
	{ "EVENT_UNMAP", UFFD_FEATURE_EVENT_UNMAP },
	{ "SIGBUS", UFFD_FEATURE_SIGBUS },
	{ "THREAD_ID", UFFD_FEATURE_THREAD_ID },
	{ "MINOR_HUGETLBFS", UFFD_FEATURE_MINOR_HUGETLBFS },
	{ "MINOR_SHMEM", UFFD_FEATURE_MINOR_SHMEM },
	{ "EXACT_ADDRESS", UFFD_FEATURE_EXACT_ADDRESS },
	{ "WP_HUGETLBFS_SHMEM", UFFD_FEATURE_WP_HUGETLBFS_SHMEM },
	{ "WP_UNPOPULATED", UFFD_FEATURE_WP_UNPOPULATED },
	{ "POISON", UFFD_FEATURE_POISON },
	{ "WP_ASYNC", UFFD_FEATURE_WP_ASYNC },
	{ "MOVE", UFFD_FEATURE_MOVE },
	{ "RWP", UFFD_FEATURE_RWP },
	{ "RWP_ASYNC", UFFD_FEATURE_RWP_ASYNC },
	{ NULL, 0 },
};

const struct flag_name register_mode_names[] = {
	{ "MISSING", UFFDIO_REGISTER_MODE_MISSING },
	{ "WP", UFFDIO_REGISTER_MODE_WP },
	{ "MINOR", UFFDIO_REGISTER_MODE_MINOR },
	{ "RWP", UFFDIO_REGISTER_MODE_RWP },
	{ NULL, 0 },
};

const struct flag_name wp_mode_names[] = {
	{ "WP", UFFDIO_WRITEPROTECT_MODE_WP },
	{ "DONTWAKE", UFFDIO_WRITEPROTECT_MODE_DONTWAKE },
	{ NULL, 0 },
};

const struct flag_name rwp_mode_names[] = {
	{ "RWP", UFFDIO_RWPROTECT_MODE_RWP },
	{ "DONTWAKE", UFFDIO_RWPROTECT_MODE_DONTWAKE },
	{ "BIT2", 1ULL << 2 }, /* an unknown mode bit, for the -EINVAL test */
	{ NULL, 0 },
};

const struct flag_name copy_mode_names[] = {
	{ "DONTWAKE", UFFDIO_COPY_MODE_DONTWAKE },
	{ "WP", UFFDIO_COPY_MODE_WP },
	{ NULL, 0 },
};

const struct flag_name move_mode_names[] = {
	{ "DONTWAKE", UFFDIO_MOVE_MODE_DONTWAKE },
	{ "ALLOW_SRC_HOLES", UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES },
	{ NULL, 0 },
};

/* madvise advice values (include/uapi/asm-generic/mman-common.h). */
const struct flag_name advice_names[] = {
	{ "DONTNEED", 4 },	  { "FREE", 8 },      { "HUGEPAGE", 14 },
	{ "NOHUGEPAGE", 15 },	  { "PAGEOUT", 21 },  { "POPULATE_READ", 22 },
	{ "POPULATE_WRITE", 23 }, { "COLLAPSE", 25 }, { NULL, 0 },
};

const struct flag_name foll_names[] = {
	{ "WRITE", FOLL_WRITE },
	{ "GET", FOLL_GET },
	{ "DUMP", FOLL_DUMP },
	{ "FORCE", FOLL_FORCE },
	{ "NOWAIT", FOLL_NOWAIT },
	{ "NOFAULT", FOLL_NOFAULT },
	{ "HWPOISON", FOLL_HWPOISON },
	{ "ANON", FOLL_ANON },
	{ "LONGTERM", FOLL_LONGTERM },
	{ "SPLIT_PMD", FOLL_SPLIT_PMD },
	{ "INTERRUPTIBLE", FOLL_INTERRUPTIBLE },
	{ "HONOR_NUMA_FAULT", FOLL_HONOR_NUMA_FAULT },
	{ "TOUCH", FOLL_TOUCH },
	{ "TRIED", FOLL_TRIED },
	{ "REMOTE", FOLL_REMOTE },
	{ "PIN", FOLL_PIN },
	{ "FAST_ONLY", FOLL_FAST_ONLY },
	{ "UNLOCKABLE", FOLL_UNLOCKABLE },
	{ "MADV_POPULATE", FOLL_MADV_POPULATE },
	{ NULL, 0 },
};

/* GUP callers; the values index gup_presets[] in sim/mm/gup.c. */
const struct flag_name gup_caller_names[] = {
	{ "get_user_pages", 0 },
	{ "get_user_pages_unlocked", 1 },
	{ "get_user_pages_remote", 2 },
	{ "pin_user_pages", 3 },
	{ "pin_user_pages_longterm", 4 },
	{ "get_dump_page", 5 },
	{ "process_vm_readv", 6 },
	{ "process_vm_writev", 7 },
	{ "proc_mem_read", 8 },
	{ "proc_mem_write", 9 },
	{ "ptrace_peek", 10 },
	{ "vmsplice", 11 },
	{ "kvm", 12 },
	{ "explicit", 13 }, /* flags= given in the trace */
	{ NULL, 0 },
};

const struct flag_name pagemap_category_names[] = {
	{ "WPALLOWED", PAGE_IS_WPALLOWED },
	{ "WRITTEN", PAGE_IS_WRITTEN },
	{ "FILE", PAGE_IS_FILE },
	{ "PRESENT", PAGE_IS_PRESENT },
	{ "SWAPPED", PAGE_IS_SWAPPED },
	{ "PFNZERO", PAGE_IS_PFNZERO },
	{ "HUGE", PAGE_IS_HUGE },
	{ "SOFT_DIRTY", PAGE_IS_SOFT_DIRTY },
	{ "GUARD", PAGE_IS_GUARD },
	{ "ACCESSED", PAGE_IS_ACCESSED },
	{ NULL, 0 },
};

/* PAGEMAP_SCAN's pm_scan_arg.flags (include/uapi/linux/fs.h). */
const struct flag_name pagemap_scan_flag_names[] = {
	{ "WP_MATCHING", PM_SCAN_WP_MATCHING },
	{ "CHECK_WPASYNC", PM_SCAN_CHECK_WPASYNC },
	{ "BIT2", 1ULL << 2 }, /* an unknown flag, for the -EINVAL test */
	{ NULL, 0 },
};

const struct flag_name result_names[] = {
	{ "ok", RESULT_OK },
	{ "blocked", RESULT_BLOCKED },
	{ "sigbus", RESULT_SIGBUS },
	{ "sigsegv", RESULT_SIGSEGV },
	{ "livelock", RESULT_LIVELOCK },
	{ "EPERM", EPERM },
	{ "ENOENT", ENOENT },
	{ "ESRCH", ESRCH },
	{ "EINTR", EINTR },
	{ "EIO", EIO },
	{ "EAGAIN", EAGAIN },
	{ "ENOMEM", ENOMEM },
	{ "EFAULT", EFAULT },
	{ "EBUSY", EBUSY },
	{ "EEXIST", EEXIST },
	{ "EINVAL", EINVAL },
	{ "ENOSPC", ENOSPC },
	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "EHWPOISON", EHWPOISON },
	{ NULL, 0 },
};

#define SCAN_NAME_ENTRY(e, s) { s, e },
const struct flag_name scan_result_names[] = { SCAN_STATUS(SCAN_NAME_ENTRY){ NULL, 0 } };
#undef SCAN_NAME_ENTRY

#define SCAN_STRING_ENTRY(e, s) [e] = s,
const char *const scan_result_strings[NR_SCAN_RESULTS] = { SCAN_STATUS(SCAN_STRING_ENTRY) };
#undef SCAN_STRING_ENTRY

const struct flag_name msg_flag_names[] = {
	{ "WRITE", UFFD_PAGEFAULT_FLAG_WRITE },
	{ "WP", UFFD_PAGEFAULT_FLAG_WP },
	{ "MINOR", UFFD_PAGEFAULT_FLAG_MINOR },
	{ "RWP", UFFD_PAGEFAULT_FLAG_RWP },
	{ NULL, 0 },
};

/* States "expect pte" can name; see sim/engine/observe.c for their meaning. */
const struct flag_name pte_state_names[] = {
	{ "none", 0 },
	{ "armed", 1 },
	{ "present", 2 },
	{ "wp", 3 },
	{ "numa", 4 },
	{ "swap", 5 },
	{ "swap-uffd", 6 },
	{ "migration", 7 },
	{ "marker", 8 },
	{ "pmd", 9 },
	{ "pmd-armed", 10 },
	{ "no-table", 11 },
	{ "device-exclusive", 12 },
	{ "device-exclusive-uffd", 13 },
	{ NULL, 0 },
};

const struct flag_name thp_mode_names[] = {
	{ "always", 0 },
	{ "madvise", 1 },
	{ "never", 2 },
	{ NULL, 0 },
};

const struct flag_name onoff_names[] = { { "off", 0 }, { "on", 1 }, { NULL, 0 } };

const struct flag_name fallocate_mode_names[] = { { "punch", 1 }, { NULL, 0 } };

const struct flag_name bool_names[] = { { "0", 0 }, { "1", 1 }, { NULL, 0 } };
/* file huge=: shmem_enabled advise (0), always (1) or never */
const struct flag_name shmem_huge_names[] = { { "0", 0 }, { "1", 1 }, { "never", 2 }, { NULL, 0 } };

#define K(name, type)                              \
	{                                          \
		name, type, false, NULL, NAME_NONE \
	}
#define KR(name, type)                            \
	{                                         \
		name, type, true, NULL, NAME_NONE \
	}
#define KT(name, type, table)                       \
	{                                           \
		name, type, false, table, NAME_NONE \
	}
#define KTR(name, type, table)                     \
	{                                          \
		name, type, true, table, NAME_NONE \
	}
#define KN(name, kind)                            \
	{                                         \
		name, ARG_NAME, false, NULL, kind \
	}
#define KNR(name, kind)                          \
	{                                        \
		name, ARG_NAME, true, NULL, kind \
	}

const struct cmd_desc cmd_descs[NR_CMDS] = {
	[CMD_PROCESS] = { "process", { NAME_PROC }, true, { { 0 } }, "declare a process (an mm)" },
	[CMD_FILE] = { "file",
		       { NAME_FILE },
		       true,
		       { KR("size", ARG_SIZE), KT("huge", ARG_ENUM, shmem_huge_names) },
		       "declare a shmem file (memfd); huge= is shmem_enabled: 0 advise, 1 always, "
		       "never" },
	[CMD_THP] = { "thp",
		      { NAME_NONE },
		      false,
		      { KTR("enabled", ARG_ENUM, thp_mode_names), K("mthp", ARG_U64) },
		      "set transparent_hugepage/enabled; mthp=N enables anon mTHP of order N "
		      "(2-4)" },
	[CMD_HUNK] = { "hunk",
		       { NAME_HUNK },
		       false,
		       { KTR("state", ARG_ENUM, onoff_names) },
		       "override one patch switch for this trace" },
	[CMD_MMAP] = { "mmap",
		       { NAME_REGION },
		       true,
		       { KNR("proc", NAME_PROC), KR("len", ARG_SIZE), KR("prot", ARG_PROT),
			 KTR("map", ARG_ENUM, map_names), KN("file", NAME_FILE),
			 K("offset", ARG_SIZE), K("align", ARG_SIZE), K("at", ARG_U64) },
		       "map a region: anonymous, or file= for shmem" },
	[CMD_MUNMAP] = { "munmap",
			 { NAME_REGION },
			 false,
			 { K("pages", ARG_RANGE) },
			 "munmap (part of) a region" },
	[CMD_MPROTECT] = { "mprotect",
			   { NAME_REGION },
			   false,
			   { K("pages", ARG_RANGE), KR("prot", ARG_PROT) },
			   "mprotect" },
	[CMD_MADVISE] = { "madvise",
			  { NAME_REGION },
			  false,
			  { K("pages", ARG_RANGE), KTR("advice", ARG_ENUM, advice_names),
			    K("race", ARG_U64) },
			  "madvise; race=N runs the next N steps inside the path's race window" },
	[CMD_FALLOCATE] = { "fallocate",
			    { NAME_FILE },
			    false,
			    { KTR("mode", ARG_ENUM, fallocate_mode_names), KR("pages", ARG_RANGE) },
			    "fallocate(PUNCH_HOLE|KEEP_SIZE) over file pages" },
	[CMD_READ] = { "read",
		       { NAME_REGION },
		       false,
		       { KR("pages", ARG_RANGE) },
		       "user loads, one per page" },
	[CMD_WRITE] = { "write",
			{ NAME_REGION },
			false,
			{ KR("pages", ARG_RANGE), KR("value", ARG_U64) },
			"user stores of value, one per page" },
	[CMD_UFFD_OPEN] = { "uffd open",
			    { NAME_UFFD },
			    true,
			    { KNR("proc", NAME_PROC) },
			    "userfaultfd() in a process" },
	[CMD_UFFD_API] = { "uffd api",
			   { NAME_UFFD },
			   false,
			   { KT("features", ARG_FLAGS, feature_names) },
			   "UFFDIO_API" },
	[CMD_UFFD_REGISTER] = { "uffd register",
				{ NAME_UFFD, NAME_REGION },
				false,
				{ K("pages", ARG_RANGE),
				  KTR("mode", ARG_FLAGS, register_mode_names) },
				"UFFDIO_REGISTER" },
	[CMD_UFFD_UNREGISTER] = { "uffd unregister",
				  { NAME_UFFD, NAME_REGION },
				  false,
				  { K("pages", ARG_RANGE) },
				  "UFFDIO_UNREGISTER" },
	[CMD_UFFD_WRITEPROTECT] = { "uffd writeprotect",
				    { NAME_UFFD, NAME_REGION },
				    false,
				    { K("pages", ARG_RANGE),
				      KTR("mode", ARG_FLAGS, wp_mode_names) },
				    "UFFDIO_WRITEPROTECT" },
	[CMD_UFFD_RWPROTECT] = { "uffd rwprotect",
				 { NAME_UFFD, NAME_REGION },
				 false,
				 { K("pages", ARG_RANGE), KTR("mode", ARG_FLAGS, rwp_mode_names) },
				 "UFFDIO_RWPROTECT" },
	[CMD_UFFD_SET_MODE] = { "uffd set-mode",
				{ NAME_UFFD },
				false,
				{ KT("enable", ARG_FLAGS, feature_names),
				  KT("disable", ARG_FLAGS, feature_names) },
				"UFFDIO_SET_MODE" },
	[CMD_UFFD_COPY] = { "uffd copy",
			    { NAME_UFFD, NAME_REGION },
			    false,
			    { KR("pages", ARG_RANGE), KR("value", ARG_U64),
			      KT("mode", ARG_FLAGS, copy_mode_names) },
			    "UFFDIO_COPY of pages filled with value" },
	[CMD_UFFD_ZEROPAGE] = { "uffd zeropage",
				{ NAME_UFFD, NAME_REGION },
				false,
				{ KR("pages", ARG_RANGE), KT("mode", ARG_FLAGS, copy_mode_names) },
				"UFFDIO_ZEROPAGE" },
	[CMD_UFFD_CONTINUE] = { "uffd continue",
				{ NAME_UFFD, NAME_REGION },
				false,
				{ KR("pages", ARG_RANGE), KT("mode", ARG_FLAGS, copy_mode_names) },
				"UFFDIO_CONTINUE" },
	[CMD_UFFD_WAKE] = { "uffd wake",
			    { NAME_UFFD, NAME_REGION },
			    false,
			    { K("pages", ARG_RANGE) },
			    "UFFDIO_WAKE" },
	[CMD_UFFD_CLOSE] = { "uffd close", { NAME_UFFD }, false, { { 0 } }, "close(uffd)" },
	[CMD_SERVE] = { "serve",
			{ NAME_UFFD },
			false,
			{ K("count", ARG_U64), K("value", ARG_U64) },
			"read messages and resolve them as a handler would (default: all)" },
	[CMD_KHUGEPAGED_PASS] = { "khugepaged pass",
				  { NAME_PROC },
				  false,
				  { K("race", ARG_U64) },
				  "one khugepaged_scan_mm_slot pass over the whole mm" },
	[CMD_KHUGEPAGED_SCAN] = { "khugepaged scan",
				  { NAME_REGION },
				  false,
				  { KR("page", ARG_U64), K("race", ARG_U64) },
				  "khugepaged on the PMD range containing one page" },
	[CMD_RECLAIM] = { "reclaim",
			  { NAME_REGION },
			  false,
			  { K("pages", ARG_RANGE) },
			  "shrink_folio_list on the folios mapped in the range" },
	[CMD_GUP] = { "gup",
		      { NAME_REGION },
		      false,
		      { KR("pages", ARG_RANGE), KTR("caller", ARG_ENUM, gup_caller_names),
			KT("flags", ARG_FLAGS, foll_names), KN("proc", NAME_PROC),
			K("value", ARG_U64), KT("hold", ARG_ENUM, bool_names) },
		      "GUP by a caller preset (or caller=explicit flags=...); hold=1 keeps the "
		      "pins (FOLL_PIN callers) or references (FOLL_GET callers) until unpin" },
	[CMD_UNPIN] = { "unpin",
			{ NAME_REGION },
			false,
			{ K("pages", ARG_RANGE) },
			"unpin_user_pages / put_page of what gup hold=1 kept on these pages "
			"(default: every page of the region that holds one)" },
	[CMD_PAGEMAP] = { "pagemap",
			  { NAME_REGION },
			  false,
			  { K("pages", ARG_RANGE) },
			  "read /proc/pid/pagemap words (printed with --verbose)" },
	[CMD_PAGEMAP_SCAN] = { "pagemap-scan",
			       { NAME_REGION },
			       false,
			       { K("pages", ARG_RANGE),
				 KT("category", ARG_FLAGS, pagemap_category_names),
				 KT("inverted", ARG_FLAGS, pagemap_category_names),
				 KT("anyof", ARG_FLAGS, pagemap_category_names),
				 KTR("return", ARG_FLAGS, pagemap_category_names),
				 K("max-pages", ARG_U64),
				 KT("flags", ARG_FLAGS, pagemap_scan_flag_names) },
			       "PAGEMAP_SCAN ioctl; the result is kept for expect; "
			       "flags=WP_MATCHING "
			       "write-protects the pages it reports as WRITTEN (async uffd-wp VMAs "
			       "only)" },
	[CMD_MIGRATE] = { "migrate",
			  { NAME_REGION },
			  false,
			  { K("pages", ARG_RANGE), KT("split", ARG_ENUM, bool_names),
			    K("race", ARG_U64) },
			  "migrate every folio mapped in the range (split=1: TTU_SPLIT_HUGE_PMD); "
			  "race=N runs the next N steps while the migration entries are in place" },
	[CMD_NUMA_SCAN] = { "numa-scan",
			    { NAME_REGION },
			    false,
			    { K("pages", ARG_RANGE), KT("migrate-on-fault", ARG_ENUM, bool_names) },
			    "task_numa_work: change_prot_numa over the range; migrate-on-fault=1 "
			    "makes later NUMA hinting faults migrate the folio" },
	[CMD_MREMAP] = { "mremap",
			 { NAME_REGION },
			 true,
			 { KNR("from", NAME_REGION), K("at", ARG_U64) },
			 "move the whole of region from= to at= (MREMAP_MAYMOVE|MREMAP_FIXED; "
			 "without at= a free gap the engine picks, PMD-aligned like from=); "
			 "declares the moved region" },
	[CMD_FORK] = { "fork",
		       { NAME_PROC },
		       true,
		       { KNR("parent", NAME_PROC) },
		       "fork(): declares the child process and, for every region R and uffd U "
		       "of the parent so far, C.R (same address) and C.U (the child's context; "
		       "only with UFFD_FEATURE_EVENT_FORK)" },
	[CMD_UFFD_MOVE] = { "uffd move",
			    { NAME_UFFD, NAME_REGION },
			    false,
			    { KNR("src", NAME_REGION), K("pages", ARG_RANGE),
			      KT("mode", ARG_FLAGS, move_mode_names) },
			    "UFFDIO_MOVE: the pages of src= to the same page numbers of the "
			    "destination region (one contiguous range)" },
	[CMD_SWAPOFF] = { "swapoff",
			  { NAME_NONE },
			  false,
			  { { 0 } },
			  "swapoff: every swapped page (anon PTEs and shmem) comes back; the "
			  "device stays usable" },
	[CMD_FTRUNCATE] = { "ftruncate",
			    { NAME_FILE },
			    false,
			    { KR("size", ARG_SIZE) },
			    "ftruncate(2) of a shmem file to size= (a multiple of 4K)" },
	[CMD_SHRINK_DEFERRED] = { "shrink-deferred",
				  { NAME_NONE },
				  false,
				  { { 0 } },
				  "the deferred-split shrinker: split every queued, partially "
				  "unmapped large anon folio into order-0 folios" },
	[CMD_DEVICE_EXCLUSIVE] = { "device-exclusive",
				   { NAME_REGION },
				   false,
				   { K("pages", ARG_RANGE) },
				   "a device takes the pages exclusively (test_hmm's "
				   "HMM_DMIRROR_EXCLUSIVE): make_device_exclusive() page by page, "
				   "each faulted in writable first; an error ends the step" },
	[CMD_EXPECT_RESULT] = { "expect result",
				{ NAME_NONE },
				false,
				{ KTR("is", ARG_ENUM, result_names) },
				"the previous step's outcome" },
	[CMD_EXPECT_SCAN] = { "expect scan",
			      { NAME_NONE },
			      false,
			      { KTR("is", ARG_ENUM, scan_result_names) },
			      "the last khugepaged/collapse SCAN_* result, by trace string" },
	[CMD_EXPECT_MSG] = { "expect msg",
			     { NAME_UFFD, NAME_REGION },
			     false,
			     { KR("page", ARG_U64), KT("flags", ARG_FLAGS, msg_flag_names) },
			     "read(uffd) returns a page-fault message for this page" },
	[CMD_EXPECT_MSGS] = { "expect msgs",
			      { NAME_UFFD },
			      false,
			      { KR("count", ARG_U64) },
			      "number of unread messages" },
	[CMD_EXPECT_PAGEMAP] = { "expect pagemap",
				 { NAME_REGION },
				 false,
				 { KR("pages", ARG_RANGE), KT("present", ARG_ENUM, bool_names),
				   KT("swap", ARG_ENUM, bool_names),
				   KT("uffd", ARG_ENUM, bool_names),
				   KT("exclusive", ARG_ENUM, bool_names) },
				 "/proc/pid/pagemap bits of these pages" },
	[CMD_EXPECT_ACCESSED] = { "expect accessed",
				  { NAME_REGION },
				  false,
				  { KR("pages", ARG_RANGE) },
				  "the PAGEMAP_SCAN PAGE_IS_ACCESSED set of the region is exactly "
				  "this" },
	[CMD_EXPECT_CONTENT] = { "expect content",
				 { NAME_REGION },
				 false,
				 { KR("pages", ARG_RANGE), KR("value", ARG_U64) },
				 "the data of these pages, looked up without an access" },
	[CMD_EXPECT_PTE] = { "expect pte",
			     { NAME_REGION },
			     false,
			     { KR("pages", ARG_RANGE), KTR("state", ARG_ENUM, pte_state_names) },
			     "the page-table state of these pages" },
	[CMD_EXPECT_BLOCKED] = { "expect blocked",
				 { NAME_NONE },
				 false,
				 { KR("count", ARG_U64) },
				 "number of tasks asleep in userfaults" },
	[CMD_EXPECT_SCAN_COUNT] = { "expect scan-count",
				    { NAME_NONE },
				    false,
				    { KR("count", ARG_U64) },
				    "number of pages the last pagemap-scan returned" },
};

bool flag_lookup(const struct flag_name *t, const char *name, uint64_t *out)
{
	for (; t && t->name; t++) {
		if (!strcmp(t->name, name)) {
			*out = t->value;
			return true;
		}
	}
	return false;
}

const char *flag_name_of(const struct flag_name *t, uint64_t value)
{
	for (; t && t->name; t++)
		if (t->value == value)
			return t->name;
	return NULL;
}

int cmd_key_index(enum cmd cmd, const char *key)
{
	for (int i = 0; i < MAX_KEYS && cmd_descs[cmd].keys[i].key; i++)
		if (!strcmp(cmd_descs[cmd].keys[i].key, key))
			return i;
	return -1;
}

const struct arg_value *step_arg(const struct step *s, const char *key)
{
	int i = cmd_key_index(s->cmd, key);
	return i < 0 ? NULL : &s->args[i];
}

uint64_t step_u64(const struct step *s, const char *key, uint64_t dflt)
{
	const struct arg_value *a = step_arg(s, key);
	return a && a->present ? a->u : dflt;
}
