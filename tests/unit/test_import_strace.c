/* tests/unit/test_import_strace.c - the strace importer: line shapes,
 * unfinished/resumed pairs, regions and page numbers, what is dropped, and
 * "path:line: message" on malformed input. */
#include "trace_test.h"

#include <string.h>

#include "import/import.h"

static bool run(const char *text, const struct imp_options *o, GString *out, GString *err)
{
	struct imp_options d;
	imp_options_init(&d);
	return imp_run("strace", "t.strace", text, o ? o : &d, NULL, out, err);
}

/* The steps only (no header comments). */
static char *steps(const char *text)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(run(text, NULL, out, err));
	GString *s = g_string_new(NULL);
	g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l; l++)
		if (**l && **l != '#')
			g_string_append_printf(s, "%s\n", *l);
	return g_string_free(s, FALSE);
}

static void error_is(const char *text, const char *want)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_false(run(text, NULL, out, err));
	assert_string_equal(err->str, want);
}

static void test_prefixes_and_timestamps(void **state)
{
	(void)state;
	/* no pid, -tt, -ttt, [pid N], and -T durations all give the same steps */
	const char *forms[] = {
		"mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
		"0x7f0000000000\nmunmap(0x7f0000001000, 4096) = 0\n",
		"10:00:00.000001 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, "
		"-1, 0) = 0x7f0000000000 <0.000010>\n10:00:00.000002 munmap(0x7f0000001000, 4096) "
		"= 0\n",
		"[pid  42] 1700000000.000001 mmap(NULL, 8192, PROT_READ|PROT_WRITE, "
		"MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n[pid  42] "
		"munmap(0x7f0000001000, "
		"4096) = 0\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		g_autofree char *s = steps(forms[i]);
		assert_string_equal(s,
				    "process p1\n"
				    "mmap r1 proc=p1 len=8K prot=rw map=private at=0x7f0000000000\n"
				    "munmap r1 pages=1\n");
	}
}

static void test_split_per_region(void **state)
{
	(void)state;
	/* one mprotect over two mappings: one step per region, pages relative */
	g_autofree char *s = steps(
		"1 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
		"1 mmap(0x7f0000002000, 8192, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, "
		"0) "
		"= 0x7f0000002000\n"
		"1 mprotect(0x7f0000001000, 8192, PROT_READ|PROT_WRITE) = 0\n"
		"1 madvise(0x7f0000900000, 4096, MADV_DONTNEED) = 0\n");
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=8K prot=r map=private at=0x7f0000000000\n"
			       "mmap r2 proc=p1 len=8K prot=r map=private at=0x7f0000002000\n"
			       "mprotect r1 pages=1 prot=rw\n"
			       "mprotect r2 pages=0 prot=rw\n");
}

static void test_map_fixed_replaces(void **state)
{
	(void)state;
	/* the dynamic loader's pattern: a reservation, then MAP_FIXED pieces */
	g_autofree char *s = steps(
		"1 mmap(NULL, 16384, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7f0000000000\n"
		"1 mmap(0x7f0000001000, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|"
		"MAP_DENYWRITE, 3, 0x1000) = 0x7f0000001000\n");
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=16K prot=r map=private at=0x7f0000000000\n"
			       "munmap r1 pages=1-2\n"
			       "mmap r2 proc=p1 len=8K prot=rx map=private at=0x7f0000001000\n");
}

static void test_clone_before_resume(void **state)
{
	(void)state;
	/* the child prints before the parent's clone returns: fork comes first */
	g_autofree char *s = steps(
		"1 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
		"0x7f0000000000\n"
		"1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>\n"
		"2 munmap(0x7f0000000000, 4096) = 0\n"
		"1 <... clone resumed>, child_tidptr=0x7f0000000a10) = 2\n"
		"1 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 3\n"
		"3 munmap(0x7f0000000000, 4096) = 0\n");
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=4K prot=rw map=private at=0x7f0000000000\n"
			       "fork p2 parent=p1\n"
			       "munmap p2.r1\n"
			       "munmap r1\n");
}

static void test_uffd_and_failures(void **state)
{
	(void)state;
	g_autofree char *s = steps(
		"1 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
		"0x7f0000000000\n"
		"1 userfaultfd(O_CLOEXEC) = 3\n"
		"1 ioctl(3, UFFDIO_API, {api=0xaa, features=0x40000|UFFD_FEATURE_RWP => "
		"features=0x60000}) = 0\n"
		"1 ioctl(3, UFFDIO_REGISTER, {range={start=0x7f0000000000, len=0x2000}, "
		"mode=0x8}) = 0\n"
		"1 ioctl(3, UFFDIO_RWPROTECT, {range={start=0x7f0000001000, len=0x1000}, "
		"mode=UFFDIO_RWPROTECT_MODE_RWP}) = 0\n"
		"1 ioctl(3, UFFDIO_SET_MODE, {enable=0, disable=UFFD_FEATURE_RWP_ASYNC}) = 0\n"
		"1 ioctl(3, UFFDIO_WRITEPROTECT, 0x7ffe00000000) = 0\n"
		"1 madvise(0x7f0000000000, 8192, MADV_COLLAPSE) = -1 EINVAL (Invalid argument)\n"
		"1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (x)\n"
		"1 madvise(0x7f0000000000, 4096, MADV_WILLNEED) = 0\n"
		"1 close(3) = 0\n"
		"1 exit_group(0) = ?\n"
		"1 +++ exited with 0 +++\n");
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=8K prot=rw map=private at=0x7f0000000000\n"
			       "uffd open u1 proc=p1\n"
			       "uffd api u1 features=RWP|RWP_ASYNC\n"
			       "uffd register u1 r1 pages=0-1 mode=RWP\n"
			       "uffd rwprotect u1 r1 pages=1 mode=RWP\n"
			       "uffd set-mode u1 enable=0 disable=RWP_ASYNC\n"
			       "madvise r1 pages=0-1 advice=COLLAPSE\n"
			       "expect result is=EINVAL\n"
			       "uffd close u1\n"
			       "munmap r1\n");
}

static void test_header_counts(void **state)
{
	(void)state;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(run("1 ioctl(1, TCGETS, 0x7ffe0) = -1 ENOTTY (Inappropriate ioctl for device)\n"
			"1 ioctl(3, UFFDIO_WRITEPROTECT, 0x7ffe00000000) = 0\n"
			"1 wait4(-1, <unfinished ...>\n",
			NULL, out, err));
	assert_non_null(strstr(out->str, "#   1 ioctl TCGETS (not imported)\n"));
	assert_non_null(strstr(out->str, "#   1 UFFDIO_WRITEPROTECT with an undecoded argument\n"));
	assert_non_null(strstr(out->str, "#   1 call unfinished at the end of the capture"));
	assert_non_null(strstr(out->str, "#   line 2: UFFDIO_WRITEPROTECT"));
}

static void test_errors(void **state)
{
	(void)state;
	error_is("munmap(0x1000, 4096) = 0\nhello\n", "t.strace:2: not an strace line (expected "
						      "NAME(...) = RESULT)");
	error_is("munmap(0x1000, 4096\n", "t.strace:1: munmap: no closing parenthesis");
	error_is("munmap(0x1000, 4096) 0\n",
		 "t.strace:1: expected ' = RESULT' after the arguments");
	error_is("1 <... mmap resumed>) = 0\n",
		 "t.strace:1: 'mmap' resumed but not unfinished on this pid");
	error_is("mprotect(0x1000, 4096, PROT_BOGUS|) = 0\n", "t.strace:1: mprotect: bad prot "
							      "'PROT_BOGUS|'");
	error_is("\n\nmmap(NULL, 4096, PROT_READ) = 0x1000\n",
		 "t.strace:3: mmap: expected 6 arguments, got 3");
	error_is("[pid 12 mmap() = 0\n", "t.strace:1: bad [pid N] prefix");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes_and_timestamps),
		cmocka_unit_test(test_split_per_region),
		cmocka_unit_test(test_map_fixed_replaces),
		cmocka_unit_test(test_clone_before_resume),
		cmocka_unit_test(test_uffd_and_failures),
		cmocka_unit_test(test_header_counts),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
