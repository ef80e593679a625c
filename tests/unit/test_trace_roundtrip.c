/* tests/unit/test_trace_roundtrip.c - the writer prints one canonical line
 * per step, parse(write(parse(x))) == parse(x), and write is a fixed point. */
/* No machine is needed, so not mmsim_test.h: the parser tests keep building
 * while the mm/ headers change under them. */
#include "trace_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/uffd.h"
#include "patch.h"

/* Parses text, writes it, and checks both round-trip properties; returns
 * the canonical text. */
static char *roundtrip(const char *path, const char *text)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string(path, text, err);

	if (!t)
		fail_msg("%s", err->str);
	char *canon = t_trace_rewrite(t, path, path);
	trace_free(t);
	return canon;
}

static const char rich_trace[] =
	"# a trace using every command, in non-canonical spellings\n"
	"\n"
	"process\tvm   # the VMM\n"
	"file guest size=0x400000 huge=1\n"
	"thp enabled=always\n"
	"hunk 08e state=off\n"
	"hunk unsafe-batch state=on\n"
	"mmap io proc=vm len=4194304 prot=rw map=shared file=guest\n"
	"mmap mem map=shared prot=rw len=4M proc=vm file=guest offset=0 align=2097152 "
	"at=140737488355328\n"
	"mmap anon proc=vm len=1025K prot=rwx map=private\n"
	"mmap odd proc=vm len=3 prot=none map=private at=0X0\n"
	"uffd open u proc=vm\n"
	"uffd api u features=RWP_ASYNC|MISSING_SHMEM|RWP\n"
	"uffd register u mem mode=RWP|MISSING pages=0-1023\n"
	"uffd unregister u anon pages=9,8,7\n"
	"uffd writeprotect u anon pages=0 mode=DONTWAKE|WP\n"
	"uffd rwprotect u mem mode=BIT2|RWP pages=0-0\n"
	"uffd set-mode u disable=RWP_ASYNC enable=0\n"
	"write mem pages=0-3,4-7,100 value=3735928559\n"
	"read mem pages=512-1023,0-511\n"
	"pagemap-scan mem return=ACCESSED max-pages=0x10 anyof=SWAPPED|PRESENT category=0 "
	"inverted=FILE\n"
	"expect accessed mem pages=0-7,100\n"
	"madvise mem pages=0-511 advice=COLLAPSE race=0\n"
	"expect scan is=pte_uffd_wp\n"
	"expect result is=EINVAL\n"
	"uffd copy u mem pages=5 value=0 mode=WP|DONTWAKE\n"
	"uffd zeropage u mem pages=6 mode=0\n"
	"uffd continue u mem pages=7\n"
	"uffd wake u mem\n"
	"uffd move u mem pages=1-2 mode=ALLOW_SRC_HOLES|DONTWAKE src=io\n"
	"swapoff\n"
	"ftruncate guest size=0x200000\n"
	"shrink-deferred\n"
	"device-exclusive mem pages=1-2\n"
	"serve u value=0xDEAD count=01\n"
	"expect msg u mem page=0x3 flags=WRITE|RWP\n"
	"expect msgs u count=0\n"
	"expect blocked count=0\n"
	"expect scan-count count=00\n"
	"fallocate guest pages=10-11 mode=punch\n"
	"mprotect anon prot=r\n"
	"munmap anon pages=none\n"
	"munmap odd\n"
	"khugepaged pass vm\n"
	"khugepaged scan mem page=512 race=2\n"
	"migrate mem split=1 pages=0x0-1\n"
	"numa-scan mem migrate-on-fault=0 pages=2\n"
	"reclaim mem pages=0-1\n"
	"gup mem pages=1 caller=pin_user_pages_longterm\n"
	"gup mem pages=1 caller=explicit flags=PIN|LONGTERM|WRITE proc=vm value=1\n"
	"gup mem hold=1 pages=2,1 caller=vmsplice\n"
	"unpin mem pages=1-1,2\n"
	"pagemap-scan mem flags=CHECK_WPASYNC|WP_MATCHING return=WRITTEN\n"
	"pagemap mem pages=3\n"
	"expect pagemap mem pages=0 exclusive=0 uffd=1 swap=0 present=1\n"
	"expect content mem pages=0-3 value=0xdeadbeef\n"
	"expect pte mem pages=0-511 state=pmd-armed\n"
	"expect result is=ok\n"
	"mremap moved at=0X7f0000000000 from=io\n"
	"fork   child  parent=vm\n"
	"expect pte child.mem pages=0 state=pmd-armed\n"
	"uffd close u\n";

static const char rich_canonical[] =
	"process vm\n"
	"file guest size=4M huge=1\n"
	"thp enabled=always\n"
	"hunk 08e state=off\n"
	"hunk unsafe-batch state=on\n"
	"mmap io proc=vm len=4M prot=rw map=shared file=guest\n"
	"mmap mem proc=vm len=4M prot=rw map=shared file=guest offset=0 align=2M "
	"at=0x800000000000\n"
	"mmap anon proc=vm len=1025K prot=rwx map=private\n"
	"mmap odd proc=vm len=3 prot=none map=private at=0x0\n"
	"uffd open u proc=vm\n"
	"uffd api u features=MISSING_SHMEM|RWP|RWP_ASYNC\n"
	"uffd register u mem pages=0-1023 mode=MISSING|RWP\n"
	"uffd unregister u anon pages=7-9\n"
	"uffd writeprotect u anon pages=0 mode=WP|DONTWAKE\n"
	"uffd rwprotect u mem pages=0 mode=RWP|BIT2\n"
	"uffd set-mode u enable=0 disable=RWP_ASYNC\n"
	"write mem pages=0-7,100 value=0xdeadbeef\n"
	"read mem pages=0-1023\n"
	"pagemap-scan mem category=0 inverted=FILE anyof=PRESENT|SWAPPED return=ACCESSED "
	"max-pages=16\n"
	"expect accessed mem pages=0-7,100\n"
	"madvise mem pages=0-511 advice=COLLAPSE race=0\n"
	"expect scan is=pte_uffd_wp\n"
	"expect result is=EINVAL\n"
	"uffd copy u mem pages=5 value=0x0 mode=DONTWAKE|WP\n"
	"uffd zeropage u mem pages=6 mode=0\n"
	"uffd continue u mem pages=7\n"
	"uffd wake u mem\n"
	"uffd move u mem src=io pages=1-2 mode=DONTWAKE|ALLOW_SRC_HOLES\n"
	"swapoff\n"
	"ftruncate guest size=2M\n"
	"shrink-deferred\n"
	"device-exclusive mem pages=1-2\n"
	"serve u count=1 value=0xdead\n"
	"expect msg u mem page=3 flags=WRITE|RWP\n"
	"expect msgs u count=0\n"
	"expect blocked count=0\n"
	"expect scan-count count=0\n"
	"fallocate guest mode=punch pages=10-11\n"
	"mprotect anon prot=r\n"
	"munmap anon pages=none\n"
	"munmap odd\n"
	"khugepaged pass vm\n"
	"khugepaged scan mem page=512 race=2\n"
	"migrate mem pages=0-1 split=1\n"
	"numa-scan mem pages=2 migrate-on-fault=0\n"
	"reclaim mem pages=0-1\n"
	"gup mem pages=1 caller=pin_user_pages_longterm\n"
	"gup mem pages=1 caller=explicit flags=WRITE|LONGTERM|PIN proc=vm value=0x1\n"
	"gup mem pages=1-2 caller=vmsplice hold=1\n"
	"unpin mem pages=1-2\n"
	"pagemap-scan mem return=WRITTEN flags=WP_MATCHING|CHECK_WPASYNC\n"
	"pagemap mem pages=3\n"
	"expect pagemap mem pages=0 present=1 swap=0 uffd=1 exclusive=0\n"
	"expect content mem pages=0-3 value=0xdeadbeef\n"
	"expect pte mem pages=0-511 state=pmd-armed\n"
	"expect result is=ok\n"
	"mremap moved from=io at=0x7f0000000000\n"
	"fork child parent=vm\n"
	"expect pte child.mem pages=0 state=pmd-armed\n"
	"uffd close u\n";

static void a_rich_trace_writes_in_canonical_form(void **state)
{
	g_autofree char *canon = roundtrip("rich.trace", rich_trace);

	assert_string_equal(canon, rich_canonical);
}

static void the_rich_trace_uses_every_command(void **state)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string("rich.trace", rich_trace, err);
	bool seen[NR_CMDS] = { false };

	assert_non_null(t);
	for (guint i = 0; i < t->steps->len; i++)
		seen[g_array_index(t->steps, struct step, i).cmd] = true;
	for (int c = 0; c < NR_CMDS; c++)
		if (!seen[c])
			fail_msg("rich trace does not use '%s'", cmd_descs[c].name);
	trace_free(t);
}

static void canonical_text_is_a_fixed_point(void **state)
{
	g_autofree char *again = roundtrip("canon.trace", rich_canonical);

	assert_string_equal(again, rich_canonical);
}

struct rewrite_case {
	const char *in, *out;
};

/* Each case's in, put into fmt (one %s), writes back as fmt with its out. */
static void assert_cases_write_as(const char *fmt, const struct rewrite_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_autofree char *in = g_strdup_printf(fmt, cases[i].in);
		g_autofree char *want = g_strdup_printf(fmt, cases[i].out);
		g_autofree char *got = roundtrip("t.trace", in);

		assert_string_equal(got, want);
	}
}

static void sizes_use_the_largest_exact_suffix(void **state)
{
	static const struct rewrite_case cases[] = {
		{ "0", "0" },
		{ "1", "1" },
		{ "1023", "1023" },
		{ "1024", "1K" },
		{ "1536K", "1536K" },
		{ "2048K", "2M" },
		{ "1048576", "1M" },
		{ "1024M", "1G" },
		{ "3G", "3G" },
		{ "0x40000000", "1G" },
		{ "4097", "4097" },
		{ "18446744073709551615", "18446744073709551615" },
		{ "17179869183G", "17179869183G" },
	};

	assert_cases_write_as("file f size=%s\n", cases, G_N_ELEMENTS(cases));
}

static void numbers_are_decimal_but_value_and_at_are_hex(void **state)
{
	g_autofree char *got =
		roundtrip("t.trace", "process p\n"
				     "mmap r proc=p len=4K prot=r map=private at=4096\n"
				     "write r pages=0x10 value=18446744073709551615\n"
				     "khugepaged scan r page=0x200 race=0x1\n"
				     "expect content r pages=0 value=0\n");

	assert_string_equal(got, "process p\n"
				 "mmap r proc=p len=4K prot=r map=private at=0x1000\n"
				 "write r pages=16 value=0xffffffffffffffff\n"
				 "khugepaged scan r page=512 race=1\n"
				 "expect content r pages=0 value=0x0\n");
}

static void ranges_are_written_merged_and_sorted(void **state)
{
	static const struct rewrite_case cases[] = {
		{ "3", "3" },
		{ "3-3", "3" },
		{ "5,4,3", "3-5" },
		{ "0-3,8,10-11", "0-3,8,10-11" },
		{ "10-11,0-3,8", "0-3,8,10-11" },
		{ "0-5,3-9", "0-9" },
		{ "none", "none" },
		{ "0x0-0x1ff", "0-511" },
	};

	assert_cases_write_as("process p\n"
			      "mmap r proc=p len=4K prot=r map=private\n"
			      "reclaim r pages=%s\n",
			      cases, G_N_ELEMENTS(cases));
}

static void prot_is_written_as_rwx_in_order(void **state)
{
	static const char *const prots[] = { "none", "r", "w", "x", "rw", "rx", "wx", "rwx" };

	for (size_t i = 0; i < G_N_ELEMENTS(prots); i++) {
		g_autofree char *in = g_strdup_printf("process p\n"
						      "mmap r proc=p len=4K prot=%s map=private\n",
						      prots[i]);
		g_autofree char *got = roundtrip("t.trace", in);

		assert_string_equal(got, in);
	}
}

static void a_hand_built_step_is_written_in_schema_order(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	struct step s = { .cmd = CMD_UFFD_REGISTER, .pos = { "u", "r" } };
	int mode = cmd_key_index(CMD_UFFD_REGISTER, "mode");
	int pages = cmd_key_index(CMD_UFFD_REGISTER, "pages");
	struct page_span sp[] = { { 0, 3 }, { 5, 5 } };

	assert_true(mode >= 0 && pages >= 0);
	s.args[mode].present = true;
	s.args[mode].u = UFFDIO_REGISTER_MODE_RWP;
	s.args[pages].present = true;
	s.args[pages].spans = g_array_new(FALSE, FALSE, sizeof(struct page_span));
	g_array_append_vals(s.args[pages].spans, sp, 2);
	trace_write_step(out, &s);
	assert_string_equal(out->str, "uffd register u r pages=0-3,5 mode=RWP\n");
	g_array_free(s.args[pages].spans, TRUE);
}

/* A random valid line of command c, values spelt in any accepted way; the
 * values it meant are stored in want (indexed like the schema keys). */
static void gen_line(GRand *r, int c, unsigned serial, GString *out, uint64_t *want, bool *given)
{
	static const char *const kind_ref[] = { NULL, "p", "f", "r", "u", NULL };
	static const char *const prots[] = { "none", "r", "w", "x", "rw", "rx", "wx", "rwx" };
	static const uint64_t prot_values[] = { 0, 1, 2, 4, 3, 5, 6, 7 };
	const struct cmd_desc *d = &cmd_descs[c];

	g_string_append(out, d->name);
	for (int i = 0; i < MAX_POSITIONAL && d->positional[i] != NAME_NONE; i++) {
		if (i == 0 && d->declares)
			g_string_append_printf(out, " n%u", serial);
		else if (d->positional[i] == NAME_HUNK)
			g_string_append_printf(out, " %s",
					       hunk_descs[g_rand_int_range(r, 0, NR_HUNKS)].name);
		else
			g_string_append_printf(out, " %s", kind_ref[d->positional[i]]);
	}
	for (int i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
		const struct key_desc *k = &d->keys[i];
		uint64_t v = 0;

		given[i] = k->required || g_rand_boolean(r);
		if (!given[i])
			continue;
		g_string_append_printf(out, " %s=", k->key);
		switch (k->type) {
		case ARG_U64:
			v = ((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) >>
			    g_rand_int_range(r, 0, 64);
			g_string_append_printf(out, g_rand_boolean(r) ? "%" PRIu64 : "0x%" PRIX64,
					       v);
			break;
		case ARG_SIZE: {
			static const char units[] = { 0, 'K', 'M', 'G' };
			int u = g_rand_int_range(r, 0, 4);
			uint64_t n = g_rand_int_range(r, 0, 5000);

			v = n << (10 * u);
			g_string_append_printf(out, "%" PRIu64, n);
			if (units[u])
				g_string_append_c(out, units[u]);
			break;
		}
		case ARG_RANGE: {
			int n = g_rand_int_range(r, 0, 5);

			if (!n)
				g_string_append(out, "none");
			for (int j = 0; j < n; j++) {
				uint64_t a = g_rand_int_range(r, 0, 600);
				uint64_t b =
					a + g_rand_int_range(r, 0, 3) * g_rand_int_range(r, 0, 40);

				g_string_append_printf(out, j ? ",%" PRIu64 : "%" PRIu64, a);
				if (b != a || g_rand_boolean(r))
					g_string_append_printf(out, "-%" PRIu64, b);
			}
			break;
		}
		case ARG_FLAGS: {
			int n = 0, seen = 0;

			while (k->table[n].name)
				n++;
			for (int j = 0; j < n; j++) {
				const struct flag_name *f = &k->table[(j + serial) % n];

				if (g_rand_int_range(r, 0, 3))
					continue;
				g_string_append_printf(out, seen++ ? "|%s" : "%s", f->name);
				v |= f->value;
			}
			if (!seen)
				g_string_append_c(out, '0');
			break;
		}
		case ARG_ENUM: {
			int n = 0;

			while (k->table[n].name)
				n++;
			n = g_rand_int_range(r, 0, n);
			g_string_append(out, k->table[n].name);
			v = k->table[n].value;
			break;
		}
		case ARG_NAME:
			g_string_append(out, kind_ref[k->name_kind]);
			break;
		case ARG_PROT:
			v = (uint64_t)g_rand_int_range(r, 0, 8);
			g_string_append(out, prots[v]);
			v = prot_values[v];
			break;
		}
		want[i] = v;
	}
	g_string_append_c(out, '\n');
}

#define GEN_SEED 4242u
#define GEN_ROUNDS 300

static void random_valid_lines_of_every_command_round_trip(void **state)
{
	GRand *r = g_rand_new_with_seed(GEN_SEED);
	unsigned serial = 0;

	for (int round = 0; round < GEN_ROUNDS; round++) {
		for (int c = 0; c < NR_CMDS; c++) {
			g_autoptr(GString) text =
				g_string_new("process p\n"
					     "file f size=4M\n"
					     "mmap r proc=p len=4M prot=rw map=private\n"
					     "uffd open u proc=p\n");
			g_autoptr(GString) err = g_string_new(NULL);
			uint64_t want[MAX_KEYS] = { 0 };
			bool given[MAX_KEYS] = { false };
			const struct cmd_desc *d = &cmd_descs[c];

			gen_line(r, c, serial++, text, want, given);
			struct trace *t = trace_parse_string("gen.trace", text->str, err);
			if (!t)
				fail_msg("generated line rejected: %s", err->str);
			const struct step *s = &g_array_index(t->steps, struct step, 4);
			assert_int_equal(s->cmd, c);
			for (int i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
				assert_int_equal(s->args[i].present, given[i]);
				if (given[i] && d->keys[i].type != ARG_RANGE &&
				    d->keys[i].type != ARG_NAME && s->args[i].u != want[i])
					fail_msg("%s %s=: parsed %" PRIu64 ", meant %" PRIu64
						 "\n%s",
						 d->name, d->keys[i].key, s->args[i].u, want[i],
						 text->str);
			}
			trace_free(t);
			g_free(roundtrip("gen.trace", text->str));
		}
	}
	g_rand_free(r);
}

static void collect_traces(const char *dir, GPtrArray *out)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (!d)
		return;
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			collect_traces(path, out);
		else if (g_str_has_suffix(name, ".trace"))
			g_ptr_array_add(out, g_steal_pointer(&path));
	}
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void every_shipped_trace_round_trips(void **state)
{
	const char *src = getenv("MMSIM_SOURCE_DIR");
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	char *root;

	if (!src || !*src) {
		g_ptr_array_free(files, TRUE);
		print_message("MMSIM_SOURCE_DIR is not set: skipping the traces/ round trip\n");
		skip();
	}
	root = g_build_filename(src, "traces", NULL);
	collect_traces(root, files);
	g_ptr_array_sort(files, cmp_str);
	if (!files->len) {
		print_message("no *.trace files under %s: nothing to round-trip\n", root);
		g_ptr_array_free(files, TRUE);
		g_free(root);
		skip();
	}
	unsigned good = 0, bad = 0;

	for (guint i = 0; i < files->len; i++) {
		const char *path = files->pdata[i];
		g_autofree char *text = NULL;
		g_autofree char *prefix = g_strdup_printf("%s:", path);
		g_autoptr(GString) err = g_string_new(NULL);
		g_autoptr(GString) w = g_string_new(NULL);
		/* traces/bad/ holds malformed traces; some are only wrong for the
		 * engine (a page outside its region), so they may still parse. */
		bool may_fail = strstr(path, "/bad/") != NULL;

		assert_true(g_file_get_contents(path, &text, NULL, NULL));
		struct trace *t = trace_parse_file(path, err);
		if (!t && may_fail) {
			if (!g_str_has_prefix(err->str, prefix) ||
			    !g_ascii_isdigit(err->str[strlen(prefix)]))
				fail_msg("malformed error for %s: %s", path, err->str);
			bad++;
			continue;
		}
		if (!t)
			fail_msg("%s", err->str);
		trace_write(w, t);
		trace_free(t);
		g_autofree char *canon = roundtrip(path, text);
		assert_string_equal(canon, w->str);
		good++;
	}
	print_message("%u traces round-trip, %u under bad/ rejected by the parser\n", good, bad);
	g_ptr_array_free(files, TRUE);
	g_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_rich_trace_writes_in_canonical_form),
		cmocka_unit_test(the_rich_trace_uses_every_command),
		cmocka_unit_test(canonical_text_is_a_fixed_point),
		cmocka_unit_test(sizes_use_the_largest_exact_suffix),
		cmocka_unit_test(numbers_are_decimal_but_value_and_at_are_hex),
		cmocka_unit_test(ranges_are_written_merged_and_sorted),
		cmocka_unit_test(prot_is_written_as_rwx_in_order),
		cmocka_unit_test(a_hand_built_step_is_written_in_schema_order),
		cmocka_unit_test(random_valid_lines_of_every_command_round_trip),
		cmocka_unit_test(every_shipped_trace_round_trips),
	};

	return cmocka_run_group_tests_name("trace_roundtrip", tests, NULL, NULL);
}
