/* tests/unit/test_engine_fuzz.c - the executor survives random traces.
 *
 * The search generator (sim/search/gen.c) in its bad-input mode builds
 * well-formed traces over the whole command alphabet, with random expect
 * steps and hunk switches, plus some steps that are wrong on purpose (pages
 * outside a region, fallocate beyond the file, races past the end, a fork
 * child's C.U that EVENT_FORK never created, a closed context, a region
 * mremap moved away), and picks a patch level for each; every trace is
 * replayed with the oracle on. Only survival is asserted: no
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
#include "search/gen.h"
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
	/* The executor test's mix: 16-512 pages, two processes, everything on. */
	static const struct gen_options opts = { .size = GEN_MEDIUM,
						 .bad_input = true,
						 .expects = true,
						 .hunks = true,
						 .levels = true };

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
		struct gen_source src = { .rand = g_rand_new_with_seed(seed) };
		g_autoptr(GString) text = g_string_new(NULL);
		const char *level = NULL;
		unsigned lines = gen_trace(&opts, &src, text, &level);
		g_rand_free(src.rand);
		current_seed = seed;
		current_text = text->str;

		g_autoptr(GString) perr = g_string_new(NULL);
		struct trace *t = trace_parse_string(PATH, text->str, perr);
		if (!t)
			FUZZ_FAIL(
				"seed %u: the generator wrote a trace that does not parse: %s\n%s",
				seed, perr->str, text->str);
		assert_true(patch_set_level(level));
		g_autoptr(GString) out = g_string_new(NULL);
		g_autoptr(GString) err = g_string_new(NULL);
		alarm(FUZZ_HANG_SECONDS);
		enum verdict v = engine_replay(t, false, true, out, err);
		alarm(0);
		const char *kind = engine_failure_kind;
		if (print)
			printf("seed %u level %s verdict %d (%s): %s\n%s\n", seed, level, v,
			       kind ? kind : "-", err->str, text->str);

		switch (v) {
		case VERDICT_PASS:
			if (err->len)
				FUZZ_FAIL("seed %u: PASS with an error '%s'\n%s", seed, err->str,
					  text->str);
			break;
		case VERDICT_FAIL:
			if (!err->len)
				FUZZ_FAIL("seed %u: FAIL without a message\n%s", seed, text->str);
			if (!strcmp(level, "v6") && kind && strcmp(kind, "expectation") &&
			    !strstr(text->str, "hunk ")) {
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
			if (!error_has_line(err->str, lines))
				FUZZ_FAIL("seed %u: bad input without '%s:<line>: ': '%s'\n%s",
					  seed, PATH, err->str, text->str);
			break;
		default:
			FUZZ_FAIL("seed %u: verdict %d is not one of the three\n%s", seed, v,
				  text->str);
		}
		if ((unsigned)v < G_N_ELEMENTS(counts)) /* fail_msg() does not return */
			counts[v]++;
		current_text = NULL;
		trace_free(t);
	}
	assert_true(patch_set_level("v6"));
	print_message("engine fuzz: seeds %u..%u: %u pass, %u fail, %u bad input; %u v6 oracle "
		      "violations\n",
		      base, base + runs - 1, counts[0], counts[1], counts[2], v6_violations);
	/* Every verdict must stay common, or the generator has stopped testing. */
	if (runs >= 1000) {
		assert_true(counts[VERDICT_PASS] > runs / 20);
		assert_true(counts[VERDICT_FAIL] > runs / 50);
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
