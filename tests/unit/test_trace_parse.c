/* tests/unit/test_trace_parse.c - the trace parser accepts the language of
 * the schema and rejects everything else with "path:line: message". */
/* No machine is needed, so not mmsim_test.h: the parser tests keep building
 * while the mm/ headers change under them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linux/khugepaged.h"
#include "model/uffd.h"
#include "trace/trace.h"

#define DECLS                     \
	"process p\n"             \
	"file f size=4M huge=1\n" \
	"uffd open u proc=p\n"    \
	"mmap r proc=p len=2M prot=rw map=private\n"
#define NR_DECL_LINES 4

/* One valid line per command, parsed after DECLS. */
static const char *const examples[NR_CMDS] = {
	[CMD_PROCESS] = "process q",
	[CMD_FILE] = "file g size=2M",
	[CMD_THP] = "thp enabled=madvise",
	[CMD_HUNK] = "hunk 08a state=off",
	[CMD_MMAP] = "mmap s proc=p len=4M prot=rw map=shared file=f offset=0 align=2M "
		     "at=0x7f0000000000",
	[CMD_MUNMAP] = "munmap r pages=0-3",
	[CMD_MPROTECT] = "mprotect r pages=4 prot=r",
	[CMD_MADVISE] = "madvise r pages=0-511 advice=COLLAPSE race=1",
	[CMD_FALLOCATE] = "fallocate f mode=punch pages=8-15",
	[CMD_READ] = "read r pages=0-3,8",
	[CMD_WRITE] = "write r pages=0 value=0xabc",
	[CMD_UFFD_OPEN] = "uffd open v proc=p",
	[CMD_UFFD_API] = "uffd api u features=RWP|RWP_ASYNC",
	[CMD_UFFD_REGISTER] = "uffd register u r mode=MISSING|RWP",
	[CMD_UFFD_UNREGISTER] = "uffd unregister u r pages=0-7",
	[CMD_UFFD_WRITEPROTECT] = "uffd writeprotect u r pages=1 mode=WP",
	[CMD_UFFD_RWPROTECT] = "uffd rwprotect u r mode=RWP|DONTWAKE",
	[CMD_UFFD_SET_MODE] = "uffd set-mode u disable=RWP_ASYNC",
	[CMD_UFFD_COPY] = "uffd copy u r pages=2 value=7 mode=DONTWAKE",
	[CMD_UFFD_ZEROPAGE] = "uffd zeropage u r pages=3",
	[CMD_UFFD_CONTINUE] = "uffd continue u r pages=4 mode=0",
	[CMD_UFFD_WAKE] = "uffd wake u r",
	[CMD_UFFD_CLOSE] = "uffd close u",
	[CMD_SERVE] = "serve u count=2 value=0x1",
	[CMD_KHUGEPAGED_PASS] = "khugepaged pass p race=0",
	[CMD_KHUGEPAGED_SCAN] = "khugepaged scan r page=17",
	[CMD_RECLAIM] = "reclaim r pages=0-511",
	[CMD_GUP] = "gup r pages=0 caller=explicit flags=WRITE|FORCE proc=p value=5",
	[CMD_UNPIN] = "unpin r pages=0-1",
	[CMD_MIGRATE] = "migrate r pages=0-511 split=1 race=0",
	[CMD_NUMA_SCAN] = "numa-scan r pages=0-3 migrate-on-fault=1",
	[CMD_PAGEMAP] = "pagemap r",
	[CMD_PAGEMAP_SCAN] = "pagemap-scan r pages=0-15 category=ACCESSED inverted=0 "
			     "anyof=PRESENT|SWAPPED return=ACCESSED max-pages=16",
	[CMD_EXPECT_RESULT] = "expect result is=EINVAL",
	[CMD_EXPECT_SCAN] = "expect scan is=pte_uffd_wp",
	[CMD_EXPECT_MSG] = "expect msg u r page=3 flags=RWP",
	[CMD_EXPECT_MSGS] = "expect msgs u count=0",
	[CMD_EXPECT_PAGEMAP] = "expect pagemap r pages=0 present=1 swap=0 uffd=1 exclusive=1",
	[CMD_EXPECT_ACCESSED] = "expect accessed r pages=none",
	[CMD_EXPECT_CONTENT] = "expect content r pages=0-1 value=0",
	[CMD_EXPECT_PTE] = "expect pte r pages=0-511 state=armed",
	[CMD_EXPECT_BLOCKED] = "expect blocked count=1",
	[CMD_MREMAP] = "mremap s2 from=r at=0x7f0000400000",
	[CMD_EXPECT_SCAN_COUNT] = "expect scan-count count=0",
	[CMD_FORK] = "fork c parent=p",
	[CMD_UFFD_MOVE] = "uffd move u r src=r pages=0-1 mode=ALLOW_SRC_HOLES",
	[CMD_SWAPOFF] = "swapoff",
	[CMD_FTRUNCATE] = "ftruncate f size=8K",
	[CMD_SHRINK_DEFERRED] = "shrink-deferred",
	[CMD_DEVICE_EXCLUSIVE] = "device-exclusive r pages=0-3",
};

static struct trace *parse_ok(const char *text)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string("t.trace", text, err);

	if (!t)
		fail_msg("unexpected parse error: %s\n--- input ---\n%s", err->str, text);
	return t;
}

static const struct step *step_at(const struct trace *t, guint i)
{
	assert_true(i < t->steps->len);
	return &g_array_index(t->steps, struct step, i);
}

static void every_command_parses_in_a_positive_example(void **state)
{
	for (int c = 0; c < NR_CMDS; c++) {
		assert_non_null(examples[c]);
		g_autofree char *text = g_strconcat(DECLS, examples[c], "\n", NULL);
		struct trace *t = parse_ok(text);

		assert_int_equal(t->steps->len, NR_DECL_LINES + 1);
		const struct step *s = step_at(t, NR_DECL_LINES);
		assert_int_equal(s->cmd, c);
		assert_int_equal(s->line, NR_DECL_LINES + 1);
		trace_free(t);
	}
}

static void declarations_record_their_names_and_lines(void **state)
{
	struct trace *t = parse_ok("# a comment\n\n" DECLS "\t  \n");

	assert_int_equal(t->steps->len, 4);
	assert_int_equal(step_at(t, 0)->cmd, CMD_PROCESS);
	assert_string_equal(step_at(t, 0)->pos[0], "p");
	assert_int_equal(step_at(t, 0)->line, 3);
	assert_int_equal(step_at(t, 2)->cmd, CMD_UFFD_OPEN);
	assert_string_equal(step_at(t, 2)->pos[0], "u");
	assert_string_equal(step_arg(step_at(t, 2), "proc")->name, "p");
	assert_int_equal(step_at(t, 3)->cmd, CMD_MMAP);
	assert_int_equal(step_at(t, 3)->line, 6);
	assert_string_equal(t->path, "t.trace");
	trace_free(t);
}

static void comments_and_tabs_separate_nothing_but_tokens(void **state)
{
	struct trace *t = parse_ok("process\tp# trailing comment\n"
				   "  mmap\tr  proc=p\t\tlen=8K prot=r map=private #x=1\n"
				   "read r pages=1#2\n");

	assert_int_equal(t->steps->len, 3);
	assert_string_equal(step_at(t, 0)->pos[0], "p");
	assert_int_equal(step_u64(step_at(t, 1), "len", 0), 8192);
	const GArray *sp = step_arg(step_at(t, 2), "pages")->spans;
	assert_int_equal(sp->len, 1);
	assert_int_equal(g_array_index(sp, struct page_span, 0).first, 1);
	assert_int_equal(g_array_index(sp, struct page_span, 0).last, 1);
	trace_free(t);
}

static void an_empty_trace_has_no_steps(void **state)
{
	const char *inputs[] = { "", "\n\n", "# only a comment", "   \t\n#\n" };

	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		struct trace *t = parse_ok(inputs[i]);

		assert_int_equal(t->steps->len, 0);
		trace_free(t);
	}
}

static void numbers_accept_decimal_and_hex_up_to_2_pow_64_minus_1(void **state)
{
	static const struct {
		const char *text;
		uint64_t v;
	} cases[] = {
		{ "0", 0 },
		{ "007", 7 },
		{ "0x0", 0 },
		{ "0xABCdef", 0xabcdef },
		{ "0X10", 16 },
		{ "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text =
			g_strdup_printf(DECLS "write r pages=0 value=%s\n", cases[i].text);
		struct trace *t = parse_ok(text);

		assert_true(step_u64(step_at(t, 4), "value", 1) == cases[i].v);
		trace_free(t);
	}
}

static void sizes_take_k_m_g_suffixes(void **state)
{
	static const struct {
		const char *text;
		uint64_t v;
	} cases[] = {
		{ "4096", 4096 },
		{ "4K", 4096 },
		{ "2M", 2 << 20 },
		{ "1G", 1 << 30 },
		{ "0x10K", 16 << 10 },
		{ "0K", 0 },
		{ "17179869183G", 17179869183ULL << 30 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = g_strdup_printf("file g size=%s\n", cases[i].text);
		struct trace *t = parse_ok(text);

		assert_true(step_u64(step_at(t, 0), "size", 1) == cases[i].v);
		trace_free(t);
	}
}

static void page_lists_are_sorted_and_merged(void **state)
{
	static const struct {
		const char *text;
		unsigned n;
		struct page_span spans[4];
	} cases[] = {
		{ "3", 1, { { 3, 3 } } },
		{ "0-511", 1, { { 0, 511 } } },
		{ "0-3,8,10-11", 3, { { 0, 3 }, { 8, 8 }, { 10, 11 } } },
		{ "10-11,8,0-3", 3, { { 0, 3 }, { 8, 8 }, { 10, 11 } } },
		{ "4-5,0-3", 1, { { 0, 5 } } },
		{ "0-9,2-3,9", 1, { { 0, 9 } } },
		{ "5,5,5", 1, { { 5, 5 } } },
		{ "none", 0, { { 0, 0 } } },
		{ "0x10-0x11", 1, { { 16, 17 } } },
		{ "18446744073709551614-18446744073709551615,0",
		  2,
		  { { 0, 0 }, { UINT64_MAX - 1, UINT64_MAX } } },
		{ "0-18446744073709551615,7", 1, { { 0, UINT64_MAX } } },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = g_strdup_printf(DECLS "read r pages=%s\n", cases[i].text);
		struct trace *t = parse_ok(text);
		const struct arg_value *a = step_arg(step_at(t, 4), "pages");

		assert_true(a->present);
		assert_non_null(a->spans);
		assert_int_equal(a->spans->len, cases[i].n);
		for (unsigned j = 0; j < cases[i].n; j++) {
			struct page_span sp = g_array_index(a->spans, struct page_span, j);

			assert_true(sp.first == cases[i].spans[j].first);
			assert_true(sp.last == cases[i].spans[j].last);
		}
		trace_free(t);
	}
}

static void flags_or_their_table_values_and_0_is_empty(void **state)
{
	struct trace *t = parse_ok(DECLS "uffd register u r mode=RWP|MISSING\n"
					 "uffd api u features=0\n"
					 "uffd api u features=RWP_ASYNC|RWP|WP_ASYNC\n");

	assert_true(step_u64(step_at(t, 4), "mode", 0) ==
		    (UFFDIO_REGISTER_MODE_RWP | UFFDIO_REGISTER_MODE_MISSING));
	assert_true(step_has(step_at(t, 5), "features"));
	assert_true(step_u64(step_at(t, 5), "features", 1) == 0);
	assert_true(step_u64(step_at(t, 6), "features", 0) ==
		    (UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC | UFFD_FEATURE_WP_ASYNC));
	trace_free(t);
}

static void prot_is_none_or_an_ordered_subset_of_rwx(void **state)
{
	static const struct {
		const char *text;
		uint64_t v;
	} cases[] = {
		{ "none", 0 }, { "r", 1 },  { "w", 2 },	 { "x", 4 },
		{ "rw", 3 },   { "rx", 5 }, { "wx", 6 }, { "rwx", 7 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text =
			g_strdup_printf(DECLS "mprotect r prot=%s\n", cases[i].text);
		struct trace *t = parse_ok(text);

		assert_true(step_u64(step_at(t, 4), "prot", 99) == cases[i].v);
		assert_false(step_has(step_at(t, 4), "pages"));
		trace_free(t);
	}
}

static void enums_store_their_table_value(void **state)
{
	struct trace *t = parse_ok(DECLS "expect result is=EINVAL\n"
					 "expect result is=blocked\n"
					 "expect scan is=pte_uffd_wp\n"
					 "expect pte r pages=0 state=swap-uffd\n"
					 "hunk unsafe-batch state=on\n");

	assert_int_equal(step_u64(step_at(t, 4), "is", 0), EINVAL);
	assert_int_equal(step_u64(step_at(t, 5), "is", 0), RESULT_BLOCKED);
	assert_int_equal(step_u64(step_at(t, 6), "is", 0), SCAN_PTE_UFFD);
	assert_int_equal(step_u64(step_at(t, 7), "state", 0), 6);
	assert_string_equal(step_at(t, 8)->pos[0], "unsafe-batch");
	assert_int_equal(step_u64(step_at(t, 8), "state", 0), 1);
	trace_free(t);
}

static void assert_bad(const char *text, unsigned line, const char *mention);

static void two_names_are_checked_in_order(void **state)
{
	struct trace *t = parse_ok(DECLS "uffd copy u r pages=0 value=1\n");

	assert_string_equal(step_at(t, 4)->pos[0], "u");
	assert_string_equal(step_at(t, 4)->pos[1], "r");
	trace_free(t);
	assert_bad(DECLS "uffd copy r u pages=0 value=1\n", 5, "uffd 'r' is a region");
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *mention; /* the message must contain this */
};

#define P "process p\nmmap r proc=p len=8K prot=rw map=private\n" /* lines 1-2 */
#define PU P "uffd open u proc=p\n"				  /* lines 1-3 */

static const struct bad_case bad_cases[] = {
	{ "frobnicate\n", 1, "unknown command 'frobnicate'" },
	{ "uffd frob u\n", 1, "unknown command 'uffd frob'" },
	{ "uffd\n", 1, "unknown command 'uffd' (expected one of: 'uffd open'" },
	{ "expect\n", 1, "'expect result'" },
	{ "Process p\n", 1, "unknown command 'Process'" },
	{ "process\n", 1, "'process' needs a process name" },
	{ "process p q\n", 1, "unexpected 'q'" },
	{ "process 9p\n", 1, "bad process name '9p'" },
	{ "process p!\n", 1, "bad process name 'p!'" },
	{ "process p\xff\n", 1, "bad process name 'p\\xff'" },
	{ "process p\nprocess p\n", 2, "'p' is already declared" },
	{ "process p\nfile p size=4K\n", 2, "'p' is already declared" },
	{ PU "uffd open u proc=p\n", 4, "'u' is already declared" },
	{ P "read q pages=0\n", 3, "region 'q' is not declared" },
	{ P "read p pages=0\n", 3, "region 'p' is a process, expected a region" },
	{ "mmap r proc=p len=4K prot=rw map=private\n", 1, "proc 'p' is not declared" },
	{ "mmap r proc=r len=4K prot=rw map=private\n", 1, "proc 'r' is not declared" },
	{ P "mmap s proc=r len=4K prot=rw map=private\n", 3,
	  "proc 'r' is a region, expected a process" },
	{ P "read r\n", 3, "'read' is missing required key pages=" },
	{ "file f\n", 1, "'file' is missing required key size=" },
	{ P "read r pages=0 pages=1\n", 3, "duplicate key 'pages'" },
	{ "thp enabled=always enabled=never\n", 1, "duplicate key 'enabled'" },
	{ P "read r page=0\n", 3, "unknown key 'page' for 'read'" },
	{ "process p x=1\n", 1, "unknown key 'x' for 'process' (it takes no keys)" },
	{ P "read r pages=\n", 3, "empty value for pages=" },
	{ P "read r =0\n", 3, "missing key before '='" },
	{ P "read pages=0 r\n", 3, "name 'r' after key=value" },
	{ P "read r pages=3-1\n", 3, "descending span in page list '3-1'" },
	{ P "read r pages=1,,2\n", 3, "empty item in page list '1,,2'" },
	{ P "read r pages=,1\n", 3, "empty item in page list ',1'" },
	{ P "read r pages=1,\n", 3, "stray trailing comma in page list '1,'" },
	{ P "read r pages=1-\n", 3, "bad page number after '-' in page list '1-'" },
	{ P "read r pages=a\n", 3, "bad page number in page list 'a'" },
	{ P "read r pages=-1\n", 3, "bad page number in page list '-1'" },
	{ P "read r pages=1-2-3\n", 3, "unexpected character in page list '1-2-3'" },
	{ P "read r pages=1;2\n", 3, "unexpected character in page list '1;2'" },
	{ P "read r pages=18446744073709551616\n", 3, "bad page number" },
	{ P "write r pages=0 value=-1\n", 3, "bad number '-1' for value=" },
	{ P "write r pages=0 value=+1\n", 3, "bad number '+1' for value=" },
	{ P "write r pages=0 value=0x\n", 3, "bad number '0x' for value=" },
	{ P "write r pages=0 value=18446744073709551616\n", 3,
	  "bad number '18446744073709551616'" },
	{ P "write r pages=0 value=0x10000000000000000\n", 3, "bad number '0x10000000000000000'" },
	{ P "write r pages=0 value=12abc\n", 3, "bad number '12abc'" },
	{ P "write r pages=0 value=1K\n", 3, "bad number '1K'" },
	{ "file f size=4X\n", 1, "bad size '4X' for size=" },
	{ "file f size=4k\n", 1, "bad size '4k' for size=" },
	{ "file f size=4KK\n", 1, "bad size '4KK' for size=" },
	{ "file f size=K\n", 1, "bad size 'K' for size=" },
	{ "file f size=17179869184G\n", 1, "bad size '17179869184G'" },
	{ "file f size=18014398509481984K\n", 1, "bad size '18014398509481984K'" },
	{ P "mprotect r prot=wr\n", 3, "bad prot 'wr' for prot=" },
	{ P "mprotect r prot=rwxr\n", 3, "bad prot 'rwxr'" },
	{ P "mprotect r prot=RW\n", 3, "bad prot 'RW'" },
	{ P "mprotect r prot=0\n", 3, "bad prot '0'" },
	{ "process p\nmmap r proc=p len=4K prot=rw map=both\n", 2,
	  "unknown value 'both' for map=" },
	{ PU "uffd register u r mode=WP|BOGUS\n", 4, "unknown flag 'BOGUS' for mode=" },
	{ PU "uffd register u r mode=WP|WP\n", 4, "duplicate flag 'WP' in mode=" },
	{ PU "uffd register u r mode=WP|\n", 4, "empty flag name in 'WP|' for mode=" },
	{ PU "uffd register u r mode=|WP\n", 4, "empty flag name in '|WP'" },
	{ PU "uffd register u r mode=0|WP\n", 4, "unknown flag '0' for mode=" },
	{ PU "uffd register u r mode=wp\n", 4, "unknown flag 'wp'" },
	{ PU "uffd register u\n", 4, "'uffd register' needs a region name as its second name" },
	{ PU "uffd register r r mode=WP\n", 4, "uffd 'r' is a region, expected a uffd" },
	{ PU "uffd register u u mode=WP\n", 4, "region 'u' is a uffd, expected a region" },
	{ PU "uffd register u r r mode=WP\n", 4, "unexpected 'r': 'uffd register' takes 2 names" },
	{ "hunk 99z state=on\n", 1, "unknown hunk '99z'" },
	{ "hunk 08a state=maybe\n", 1, "unknown value 'maybe' for state=" },
	{ "hunk state=on\n", 1, "'hunk' needs a hunk name" },
	{ "thp enabled=always extra\n", 1, "name 'extra' after key=value" },
	{ "thp extra enabled=always\n", 1, "unexpected 'extra': 'thp' takes 0 names" },
	{ "expect result is=EWHAT\n", 1, "unknown value 'EWHAT' for is=" },
	{ "expect result\n", 1, "'expect result' is missing required key is=" },
	{ "expect scan is=SCAN_PTE_UFFD\n", 1, "unknown value 'SCAN_PTE_UFFD' for is=" },
	{ "process p\n\n# c\nfrobnicate\n", 4, "unknown command 'frobnicate'" },
	{ "process p\r\n", 1, "carriage return at column 10" },
	{ "process p\x01\n", 1, "control character 0x01 at column 10" },
	{ "process p\x7f\n", 1, "control character 0x7f" },
	{ "# \x1b[31m\n", 1, "control character 0x1b at column 3" },
	{ "process p\nprocess q\x0b\n", 2, "control character 0x0b" },
};

static void assert_bad(const char *text, unsigned line, const char *mention)
{
	g_autoptr(GString) err = g_string_new("stale text");
	g_autofree char *prefix = g_strdup_printf("t.trace:%u: ", line);
	struct trace *t = trace_parse_string("t.trace", text, err);

	if (t) {
		trace_free(t);
		fail_msg("accepted bad input:\n%s", text);
	}
	if (!g_str_has_prefix(err->str, prefix) || !strstr(err->str, mention))
		fail_msg("input:\n%s\nerror:    %s\nexpected: %s...%s", text, err->str, prefix,
			 mention);
	assert_null(strchr(err->str, '\n'));
}

static void malformed_lines_fail_with_path_line_and_the_problem(void **state)
{
	assert_true(G_N_ELEMENTS(bad_cases) >= 40);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++)
		assert_bad(bad_cases[i].text, bad_cases[i].line, bad_cases[i].mention);
}

static void a_line_longer_than_4096_bytes_is_rejected(void **state)
{
	g_autoptr(GString) ok = g_string_new("process p #");
	g_autoptr(GString) err = g_string_new(NULL);

	while (ok->len < 4096)
		g_string_append_c(ok, 'x');
	struct trace *t = trace_parse_string("t.trace", ok->str, err);
	assert_non_null(t); /* exactly 4096 bytes is allowed */
	trace_free(t);

	g_string_append(ok, "x\n");
	g_autofree char *text = g_strconcat("process q\n", ok->str, NULL);
	assert_bad(text, 2, "line too long (4097 bytes, limit 4096)");
}

static void long_tokens_are_cut_in_messages(void **state)
{
	g_autoptr(GString) text = g_string_new("process ");
	g_autoptr(GString) err = g_string_new(NULL);

	for (int i = 0; i < 1000; i++)
		g_string_append_c(text, '!');
	assert_null(trace_parse_string("t.trace", text->str, err));
	assert_true(g_str_has_prefix(err->str, "t.trace:1: bad process name '!!!"));
	assert_non_null(strstr(err->str, "...'"));
	assert_true(err->len < 200);
}

static void a_nul_byte_in_a_file_is_rejected(void **state)
{
	static const char bytes[] = "process p\nprocess q\0x\n";
	g_autofree char *path = NULL;
	g_autoptr(GString) err = g_string_new(NULL);
	int fd = g_file_open_tmp("mmsim-trace-XXXXXX.trace", &path, NULL);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, sizeof(bytes) - 1), sizeof(bytes) - 1);
	close(fd);
	assert_null(trace_parse_file(path, err));
	g_autofree char *prefix = g_strdup_printf("%s:2: NUL byte at column 10", path);
	assert_string_equal(err->str, prefix);
	unlink(path);
}

static void a_file_parses_like_its_text(void **state)
{
	g_autofree char *path = NULL;
	g_autoptr(GString) err = g_string_new(NULL);
	int fd = g_file_open_tmp("mmsim-trace-XXXXXX.trace", &path, NULL);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, DECLS, strlen(DECLS)), strlen(DECLS));
	close(fd);
	struct trace *t = trace_parse_file(path, err);
	assert_non_null(t);
	assert_string_equal(t->path, path);
	assert_int_equal(t->steps->len, NR_DECL_LINES);
	trace_free(t);
	unlink(path);

	assert_null(trace_parse_file(path, err));
	g_autofree char *prefix = g_strdup_printf("%s:0: cannot read", path);
	assert_true(g_str_has_prefix(err->str, prefix));
}

static void errors_without_an_err_string_still_return_null(void **state)
{
	assert_null(trace_parse_string("t.trace", "frobnicate\n", NULL));
	assert_null(trace_parse_string("t.trace", NULL, NULL));
	trace_free(NULL);
}

static void the_first_error_wins(void **state)
{
	g_autoptr(GString) err = g_string_new(NULL);

	assert_null(trace_parse_string("t.trace", "process p\nbad1\nbad2\n", err));
	assert_string_equal(err->str, "t.trace:2: unknown command 'bad1'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command_parses_in_a_positive_example),
		cmocka_unit_test(declarations_record_their_names_and_lines),
		cmocka_unit_test(comments_and_tabs_separate_nothing_but_tokens),
		cmocka_unit_test(an_empty_trace_has_no_steps),
		cmocka_unit_test(numbers_accept_decimal_and_hex_up_to_2_pow_64_minus_1),
		cmocka_unit_test(sizes_take_k_m_g_suffixes),
		cmocka_unit_test(page_lists_are_sorted_and_merged),
		cmocka_unit_test(flags_or_their_table_values_and_0_is_empty),
		cmocka_unit_test(prot_is_none_or_an_ordered_subset_of_rwx),
		cmocka_unit_test(enums_store_their_table_value),
		cmocka_unit_test(two_names_are_checked_in_order),
		cmocka_unit_test(malformed_lines_fail_with_path_line_and_the_problem),
		cmocka_unit_test(a_line_longer_than_4096_bytes_is_rejected),
		cmocka_unit_test(long_tokens_are_cut_in_messages),
		cmocka_unit_test(a_nul_byte_in_a_file_is_rejected),
		cmocka_unit_test(a_file_parses_like_its_text),
		cmocka_unit_test(errors_without_an_err_string_still_return_null),
		cmocka_unit_test(the_first_error_wins),
	};

	return cmocka_run_group_tests_name("trace_parse", tests, NULL, NULL);
}
