/* fuzz/mmsim_fuzzer.c - the libFuzzer (and AFL++) entry point.
 *
 * One input is one trace, replayed with the oracle on a small machine
 * (SEARCH_FRAMES, 64 MiB). Two input forms:
 *
 *  - Trace text: the first byte is '#' or a lowercase letter and the text
 *    parses. It is replayed as is at v6 (its `hunk` steps may change that),
 *    so the seed corpus of real traces works and libFuzzer's byte and
 *    dictionary mutations exercise the parser and the executor.
 *
 *  - Generator bytes: anything else. The first byte is the option byte
 *    (docs/search.md): bits 0-1 the patch level (0 no08, 1 v5, 2 and
 *    3 v6), bit 2 a medium trace (else small), bit 3 bad_input, bit 4
 *    expects, bit 5 hunks; bits 6-7 are ignored. The rest is the
 *    gen_source the generator takes its choices from, so a mutation of one
 *    byte changes one choice of the trace.
 *
 * The verdict is data: PASS, FAIL and BAD INPUT are all fine. What is a bug
 * is a crash, a leak, undefined behaviour, a hang (ASan, UBSan and
 * libFuzzer's -timeout report those) and a broken contract, which aborts
 * here: a generated trace that does not parse, a verdict outside the three,
 * a PASS with an error message, a FAIL without one, or a parse error or bad
 * input not reported as "fuzz.trace:N: message" with N a line of the trace.
 *
 * MMSIM_FUZZ_PRINT=1 in the environment prints each input's trace and
 * verdict to stderr (to see what a crash or corpus file replays).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "patch.h"
#include "search/gen.h"
#include "search/search.h"
#include "trace/trace.h"

#define FUZZ_PATH "fuzz.trace"

static const char *const fuzz_levels[] = { "no08", "v5", "v6", "v6" };

static bool fuzz_print;

static void contract(bool ok, const char *what, const char *err, const char *text)
{
	if (ok)
		return;
	fprintf(stderr, "mmsim_fuzzer: %s\nerror: '%s'\ntrace:\n%s\n", what, err, text);
	abort();
}

/* "fuzz.trace:N: message" with 1 <= N <= lines. */
static bool error_names_line(const char *err, unsigned lines)
{
	size_t n = strlen(FUZZ_PATH);
	char *end;

	if (strncmp(err, FUZZ_PATH ":", n + 1))
		return false;
	unsigned long l = strtoul(err + n + 1, &end, 10);
	return end != err + n + 1 && l >= 1 && l <= lines && !strncmp(end, ": ", 2) && end[2];
}

static unsigned count_lines(const char *text)
{
	unsigned n = 1;

	for (const char *p = text; *p; p++)
		if (*p == '\n' && p[1])
			n++;
	return n;
}

/* Replay a parsed trace with the oracle at the level set and check the
 * verdict's contract. */
static void fuzz_replay(const struct trace *t, const char *text)
{
	static const struct replay_opts opts = { .oracle_on = true, .frames = SEARCH_FRAMES };
	GString *out = g_string_new(NULL);
	GString *err = g_string_new(NULL);
	enum verdict v = engine_replay_with(t, &opts, out, err);

	if (fuzz_print)
		fprintf(stderr, "%s\nverdict %d (%s): %s\n", text, v,
			engine_failure_kind ? engine_failure_kind : "-", err->str);
	switch (v) {
	case VERDICT_PASS:
		contract(!err->len, "PASS with an error message", err->str, text);
		break;
	case VERDICT_FAIL:
		contract(err->len, "FAIL without a message", err->str, text);
		break;
	case VERDICT_BAD_INPUT:
		contract(error_names_line(err->str, count_lines(text)),
			 "bad input not reported as " FUZZ_PATH ":<line>: <message>", err->str,
			 text);
		break;
	default:
		contract(false, "a verdict that is not one of the three", err->str, text);
	}
	g_string_free(out, TRUE);
	g_string_free(err, TRUE);
}

/* Trace text, if it looks like one and parses. */
static bool fuzz_text(const uint8_t *data, size_t size)
{
	if (!size || !(data[0] == '#' || (data[0] >= 'a' && data[0] <= 'z')))
		return false;

	char *text = g_strndup((const char *)data, size);
	GString *err = g_string_new(NULL);
	struct trace *t = trace_parse_string(FUZZ_PATH, text, err);

	if (t) {
		patch_set_level("v6");
		fuzz_replay(t, text);
		trace_free(t);
	} else {
		contract(error_names_line(err->str, count_lines(text)),
			 "a parse error not reported as " FUZZ_PATH ":<line>: <message>", err->str,
			 text);
	}
	g_string_free(err, TRUE);
	g_free(text);
	return t != NULL;
}

/* Option byte and generator bytes. */
static void fuzz_generated(const uint8_t *data, size_t size)
{
	uint8_t opt = size ? data[0] : 0;
	struct gen_options o = {
		.size = opt & 0x04 ? GEN_MEDIUM : GEN_SMALL,
		.bad_input = opt & 0x08,
		.expects = opt & 0x10,
		.hunks = opt & 0x20,
	};
	struct gen_source src = { .data = size ? data + 1 : data, .len = size ? size - 1 : 0 };
	GString *text = g_string_new(NULL);
	GString *err = g_string_new(NULL);

	gen_trace(&o, &src, text, NULL);
	struct trace *t = trace_parse_string(FUZZ_PATH, text->str, err);
	contract(t, "the generator wrote a trace that does not parse", err->str, text->str);
	patch_set_level(fuzz_levels[opt & 3]);
	fuzz_replay(t, text->str);
	trace_free(t);
	patch_set_level("v6");
	g_string_free(text, TRUE);
	g_string_free(err, TRUE);
}

/* The libFuzzer interface (afl_driver.c calls the same two). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *p = getenv("MMSIM_FUZZ_PRINT");

	fuzz_print = p && *p && strcmp(p, "0");
	patch_set_level("v6");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_text(data, size))
		fuzz_generated(data, size);
	return 0;
}
