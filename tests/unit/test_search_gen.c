/* tests/unit/test_search_gen.c - the random trace generator (sim/search/gen.c).
 *
 * The generator is only useful if it is reproducible (a seed, or a byte
 * string, names a trace), if what it writes parses, if valid mode is
 * valid (the replays test paths, not the bad-input checks), and if it
 * speaks the whole language: an operation added to the schema without
 * generator support is an operation no fuzz campaign ever tries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <string.h>

#include "patch.h"
#include "search/search.h"
#include "trace/trace.h"

static char *gen_text(const struct gen_options *o, uint32_t seed, unsigned *lines,
		      const char **level)
{
	struct gen_source src = { .rand = g_rand_new_with_seed(seed) };
	GString *t = g_string_new(NULL);
	unsigned n = gen_trace(o, &src, t, level);
	g_rand_free(src.rand);
	if (lines)
		*lines = n;
	return g_string_free(t, FALSE);
}

static char *gen_bytes(const struct gen_options *o, const uint8_t *data, size_t len)
{
	struct gen_source src = { .data = data, .len = len };
	GString *t = g_string_new(NULL);
	gen_trace(o, &src, t, NULL);
	return g_string_free(t, FALSE);
}

static unsigned count_lines(const char *text)
{
	unsigned n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* Parses, or fails the test naming the seed and the error. */
static struct trace *must_parse(const char *what, uint32_t seed, const char *text)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string("gen.trace", text, err);
	if (!t)
		fail_msg("%s seed %u: the generated trace does not parse: %s\n%s", what, seed,
			 err->str, text);
	return t;
}

static const struct gen_options valid_small = { .size = GEN_SMALL };
static const struct gen_options bad_medium = {
	.size = GEN_MEDIUM, .bad_input = true, .expects = true, .hunks = true, .levels = true
};

static void same_seed_same_text_and_different_seeds_differ(void **state)
{
	const struct gen_options *opts[] = { &valid_small, &bad_medium };
	for (unsigned k = 0; k < G_N_ELEMENTS(opts); k++) {
		g_autoptr(GHashTable) seen =
			g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		for (uint32_t seed = 1; seed <= 40; seed++) {
			const char *la = NULL, *lb = NULL;
			unsigned lines;
			char *a = gen_text(opts[k], seed, &lines, &la);
			g_autofree char *b = gen_text(opts[k], seed, NULL, &lb);
			assert_string_equal(a, b);
			assert_int_equal(lines, count_lines(a));
			/* levels=true picks a level from the same stream */
			assert_true(la == lb);
			assert_int_equal(la != NULL, opts[k]->levels);
			if (!g_hash_table_add(seen, a))
				fail_msg("options %u: seed %u repeats an earlier seed's trace:\n%s",
					 k, seed, b);
		}
	}
}

static void every_generated_trace_parses(void **state)
{
	for (int size = GEN_SMALL; size <= GEN_LARGE; size++) {
		for (int bad = 0; bad <= 1; bad++) {
			struct gen_options o = { .size = (enum gen_size)size,
						 .bad_input = bad,
						 .expects = bad,
						 .hunks = true,
						 .levels = bad };
			for (uint32_t seed = 0; seed < (size == GEN_LARGE ? 60u : 150u); seed++) {
				g_autofree char *text = gen_text(&o, seed, NULL, NULL);
				trace_free(must_parse(bad ? "bad-input" : "valid", seed, text));
			}
		}
	}
}

/* Whole lines a and b share from the start. */
static unsigned common_lines(const char *a, const char *b)
{
	unsigned n = 0;
	for (size_t i = 0; a[i] && a[i] == b[i]; i++)
		n += a[i] == '\n';
	return n;
}

/* ops= is the number of operations after the setup, each at most one
 * line: the setup is the same whatever the budget. */
static void ops_bounds_the_trace(void **state)
{
	for (uint32_t seed = 0; seed < 50; seed++) {
		struct gen_options o = { .size = GEN_SMALL, .ops = 3 };
		g_autofree char *few = gen_text(&o, seed, NULL, NULL);
		o.ops = 200;
		g_autofree char *many = gen_text(&o, seed, NULL, NULL);
		unsigned common = common_lines(few, many);
		assert_true(common >= 3); /* process, file, mmap at least */
		assert_in_range(count_lines(few) - common, 0, 3);
		if (count_lines(many) - common < 100)
			fail_msg("seed %u: 200 operations wrote only %u lines", seed,
				 count_lines(many) - common);
	}
}

static void a_byte_source_is_reproducible_and_empty_bytes_give_the_setup(void **state)
{
	uint8_t bytes[1024];
	for (size_t i = 0; i < sizeof(bytes); i++) /* any fixed string */
		bytes[i] = (uint8_t)(i * 167 + (i >> 3) * 29 + 11);
	g_autofree char *a = gen_bytes(&valid_small, bytes, sizeof(bytes));
	g_autofree char *b = gen_bytes(&valid_small, bytes, sizeof(bytes));
	assert_string_equal(a, b);
	trace_free(must_parse("bytes", 0, a));

	/* Used up at once: the lowest choice everywhere, the setup and no
	 * operation after it. */
	g_autofree char *empty = gen_bytes(&valid_small, (const uint8_t *)"", 0);
	g_autofree char *empty2 = gen_bytes(&valid_small, bytes, 0);
	assert_string_equal(empty, empty2);
	struct trace *t = must_parse("empty bytes", 0, empty);
	bool has_mmap = false;
	for (guint i = 0; i < t->steps->len; i++) {
		enum cmd c = g_array_index(t->steps, struct step, i).cmd;
		has_mmap |= c == CMD_MMAP;
		if (c != CMD_PROCESS && c != CMD_FILE && c != CMD_MMAP && c != CMD_THP &&
		    c != CMD_MADVISE && c != CMD_WRITE && c != CMD_UFFD_OPEN && c != CMD_UFFD_API &&
		    c != CMD_UFFD_REGISTER)
			fail_msg("empty bytes: '%s' is not a setup step:\n%s", cmd_descs[c].name,
				 empty);
	}
	assert_true(has_mmap);
	trace_free(t);
	/* the bytes trace went on past the setup */
	assert_true(search_count_steps(a) > search_count_steps(empty));
	/* and replays */
	struct outcome oc;
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(patch_set_level("v6"));
	assert_int_equal(search_replay_text("empty.trace", empty, &oc, err), VERDICT_PASS);
}

/* Bad input that valid mode must never write: names it has lost track of
 * (an mremap that cannot succeed leaves its new name unmapped, a fork
 * child's context of a parent without EVENT_FORK does not exist), pages
 * outside a region, a list where a span goes, another process's region or
 * context, a race past the end. Outcomes it cannot know in advance are
 * allowed: a GUP that got no page before its unpin, a race= the path did
 * not open, a step that would sleep inside a race window, a fork child's
 * context whose parent's registrations all failed. */
static const char *const generator_made[] = {
	"is not declared",
	"is not mapped",
	"lacked EVENT_FORK",
	"userfaultfd '",
	"is closed",
	"was closed",
	"is outside region",
	"page outside region",
	"not a list",
	"another process's region",
	"not in the userfaultfd's process",
	"must be in the userfaultfd's process",
	"but only",
	"flags= is given exactly",
	"ftruncate size must be",
	"mthp order",
	"empty page range",
};

static void valid_mode_is_valid(void **state)
{
	enum { SEEDS = 300 };
	unsigned bad = 0, fail = 0, own = 0;
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GHashTable) reasons =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	assert_true(patch_set_level("v6"));
	for (uint32_t seed = 0; seed < SEEDS; seed++) {
		g_autofree char *text = gen_text(&valid_small, seed, NULL, NULL);
		struct outcome oc;
		search_replay_text("gen.trace", text, &oc, err);
		if (oc.verdict == VERDICT_FAIL) {
			/* no expect steps: a failure is the oracle's */
			assert_true(outcome_is_violation(&oc));
			fail++;
		}
		if (oc.verdict != VERDICT_BAD_INPUT)
			continue;
		bad++;
		for (unsigned i = 0; i < G_N_ELEMENTS(generator_made); i++)
			if (strstr(err->str, generator_made[i])) {
				print_message("valid mode, seed %u: bad input of the generator's "
					      "own making: %s\n",
					      seed, err->str);
				own++;
			}
		const char *msg = strstr(err->str, ": ");
		g_hash_table_add(reasons, g_strdup(msg ? msg + 2 : err->str));
	}
	print_message("valid mode: %u of %u traces refused, %u fail at v6\n", bad, SEEDS, fail);
	if (bad * 5 >= SEEDS) {
		GHashTableIter it;
		gpointer k;
		g_hash_table_iter_init(&it, reasons);
		while (g_hash_table_iter_next(&it, &k, NULL))
			print_message("  refused: %s\n", (const char *)k);
	}
	assert_int_equal(own, 0);
	if (bad * 5 >= SEEDS)
		fail_msg("valid mode: %u of %u traces are bad input (limit 20%%)", bad, SEEDS);
}

/* Operations: every command but the declarations the setup writes and the
 * expectations (those are checked by expects=true traces parsing). */
static bool is_operation(enum cmd c)
{
	return c != CMD_PROCESS && c != CMD_FILE && c != CMD_MMAP && c != CMD_UFFD_OPEN &&
	       !g_str_has_prefix(cmd_descs[c].name, "expect ");
}

/* Every operation in valid mode (what mmsim fuzz runs), every key of it in
 * either mode (bad-input mode also names pages a hold may not cover). */
static void every_operation_and_key_of_the_language_is_generated(void **state)
{
	enum { SEEDS = 150 };
	bool seen_cmd[NR_CMDS] = { false };
	bool seen_key[NR_CMDS][MAX_KEYS] = { { false } };

	for (uint32_t seed = 0; seed < 2 * SEEDS; seed++) {
		bool bad = seed >= SEEDS;
		struct gen_options o = { .size = (enum gen_size)(seed % 3),
					 .bad_input = bad,
					 .expects = bad,
					 .hunks = true };
		g_autofree char *text = gen_text(&o, seed, NULL, NULL);
		struct trace *t = must_parse("coverage", seed, text);
		for (guint i = 0; i < t->steps->len; i++) {
			const struct step *s = &g_array_index(t->steps, struct step, i);
			seen_cmd[s->cmd] |= !bad;
			for (int k = 0; k < MAX_KEYS; k++)
				seen_key[s->cmd][k] |= s->args[k].present;
		}
		trace_free(t);
	}
	g_autoptr(GString) missing = g_string_new(NULL);
	unsigned ops = 0;
	for (int c = 0; c < NR_CMDS; c++) {
		if (!is_operation((enum cmd)c))
			continue;
		ops++;
		if (!seen_cmd[c]) {
			g_string_append_printf(missing, " '%s'", cmd_descs[c].name);
			continue;
		}
		for (int k = 0; k < MAX_KEYS && cmd_descs[c].keys[k].key; k++)
			if (!seen_key[c][k])
				g_string_append_printf(missing, " '%s %s='", cmd_descs[c].name,
						       cmd_descs[c].keys[k].key);
	}
	/* the exclusion list above must not have eaten the language */
	assert_true(ops >= 30);
	if (missing->len)
		fail_msg("no trace of %u seeds has these operations (valid mode) or keys; "
			 "teach sim/search/gen.c to write them:%s",
			 SEEDS, missing->str);
}

/* Host mode (the conformance suite's generator): every step is one a stock
 * 6.18 kernel runs through tools/hostreplay, and the model at --kernel 6.18
 * accepts nearly all of them. */
static void host_mode_writes_only_host_expressible_steps(void **state)
{
	static const enum cmd never[] = {
		CMD_UFFD_RWPROTECT,  CMD_UFFD_SET_MODE,	   CMD_KHUGEPAGED_PASS,
		CMD_KHUGEPAGED_SCAN, CMD_RECLAIM,	   CMD_HUNK,
		CMD_MIGRATE,	     CMD_NUMA_SCAN,	   CMD_SWAPOFF,
		CMD_SHRINK_DEFERRED, CMD_DEVICE_EXCLUSIVE,
	};
	static const char *const host_callers[] = { "process_vm_readv", "process_vm_writev",
						    "proc_mem_read", "proc_mem_write", "vmsplice" };
	const struct gen_options o = { .size = GEN_SMALL, .host = true };
	unsigned seen_ops = 0, bad = 0;
	g_autoptr(GString) err = g_string_new(NULL);

	assert_true(patch_set_kernel("6.18"));
	for (uint32_t seed = 0; seed < 200; seed++) {
		g_autofree char *text = gen_text(&o, seed, NULL, NULL);
		struct trace *t = must_parse("host", seed, text);
		for (guint i = 0; i < t->steps->len; i++) {
			const struct step *s = &g_array_index(t->steps, struct step, i);
			for (unsigned n = 0; n < G_N_ELEMENTS(never); n++)
				if (s->cmd == never[n])
					fail_msg("seed %u: host mode wrote '%s'", seed,
						 cmd_descs[s->cmd].name);
			assert_false(step_has(s, "race"));
			if (s->cmd == CMD_THP)
				assert_int_equal(step_u64(s, "enabled", 9), 1); /* madvise */
			/* huge=never: the host's shmem_enabled (huge=0 is the
			 * model's advise, which the host is not in) */
			if (s->cmd == CMD_FILE)
				assert_string_equal(
					flag_name_of(shmem_huge_names, step_u64(s, "huge", 0)),
					"never");
			if (s->cmd == CMD_MADVISE)
				assert_string_not_equal(
					flag_name_of(advice_names, (int)step_u64(s, "advice", 0)),
					"PAGEOUT");
			if (s->cmd == CMD_GUP) {
				const char *c = flag_name_of(gup_caller_names,
							     (int)step_u64(s, "caller", 0));
				bool ok = false;
				for (unsigned n = 0; n < G_N_ELEMENTS(host_callers); n++)
					ok |= !strcmp(c, host_callers[n]);
				if (!ok)
					fail_msg("seed %u: host mode GUP caller %s", seed, c);
			}
			if (s->cmd == CMD_UFFD_API)
				assert_false(step_u64(s, "features", 0) & (3ULL << 17)); /* RWP */
			if (s->cmd == CMD_UFFD_REGISTER)
				assert_false(step_u64(s, "mode", 0) & 8); /* MODE_RWP */
			seen_ops += s->cmd == CMD_FORK || s->cmd == CMD_MREMAP ||
				    s->cmd == CMD_UFFD_WRITEPROTECT || s->cmd == CMD_SERVE;
		}
		trace_free(t);
		struct outcome oc;
		search_replay_text("host.trace", text, &oc, err);
		bad += oc.verdict == VERDICT_BAD_INPUT;
		/* The oracle holds at 6.18 too: no RWP state to lose there. */
		if (oc.verdict == VERDICT_FAIL)
			fail_msg("seed %u fails at --kernel 6.18: %s", seed, err->str);
	}
	assert_true(patch_set_kernel("rwp"));
	assert_true(seen_ops > 100);
	print_message("host mode: %u of 200 traces refused by the model\n", bad);
	assert_true(bad * 10 < 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_same_text_and_different_seeds_differ),
		cmocka_unit_test(every_generated_trace_parses),
		cmocka_unit_test(ops_bounds_the_trace),
		cmocka_unit_test(a_byte_source_is_reproducible_and_empty_bytes_give_the_setup),
		cmocka_unit_test(valid_mode_is_valid),
		cmocka_unit_test(every_operation_and_key_of_the_language_is_generated),
		cmocka_unit_test(host_mode_writes_only_host_expressible_steps),
	};

	return cmocka_run_group_tests_name("search_gen", tests, NULL, NULL);
}
