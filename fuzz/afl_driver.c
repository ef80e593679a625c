/* fuzz/afl_driver.c - an AFL++ persistent-mode main for mmsim_fuzzer.c.
 *
 * Built instead of libFuzzer's main when the compiler is afl-clang-fast or
 * afl-clang-lto (fuzz/CMakeLists.txt; commands in docs/search.md).
 * Under afl-fuzz, test cases arrive in shared memory and one process runs
 * up to 10000 of them. Run by hand, it replays each file named on the
 * command line, or standard input when none is, which is how a crash in
 * out/default/crashes/ is reproduced. With a compiler that is not AFL++'s,
 * only the by-hand mode is built.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replay one file ("-" is standard input). */
static int run_file(const char *path)
{
	g_autoptr(GError) err = NULL;
	gchar *data = NULL;
	gsize len = 0;

	if (!strcmp(path, "-")) {
		GString *in = g_string_new(NULL);
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(in, buf, (gssize)n);
		len = in->len;
		data = g_string_free(in, FALSE);
	} else if (!g_file_get_contents(path, &data, &len, &err)) {
		fprintf(stderr, "%s\n", err->message);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	g_free(data);
	return 0;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

int main(int argc, char **argv)
{
	int status = 0;

	LLVMFuzzerInitialize(&argc, &argv);
#ifdef __AFL_FUZZ_TESTCASE_LEN
	if (argc < 2 || getenv("__AFL_SHM_ID")) {
		__AFL_INIT();
		const unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;

		while (__AFL_LOOP(10000))
			LLVMFuzzerTestOneInput(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
		return 0;
	}
#endif
	if (argc < 2)
		return run_file("-");
	for (int i = 1; i < argc; i++)
		status |= run_file(argv[i]);
	return status;
}
