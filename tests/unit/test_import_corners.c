/* tests/unit/test_import_corners.c - strace and lackey forms the recorded
 * captures lack: less common uffd ioctls and request spellings, memfd
 * mapped twice, fds reused, fork in odd shapes, calls the converter counts
 * instead of importing, a NUL byte in a file, the converter's defaults. */
#include "trace_test.h"

#include <glib/gstdio.h>
#include <string.h>

#include "import/import.h"

#define MMAP16                                                                           \
	"1 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = " \
	"0x7f0000000000\n"

static bool run(const char *fmt, const char *text, GString *out, GString *err)
{
	struct imp_options o;
	imp_options_init(&o);
	return imp_run(fmt, fmt[0] == 's' ? "t.strace" : "t.lackey", text, &o, NULL, out, err);
}

/* The steps only (no header comments); *hdr gets the header. */
static char *steps(const char *fmt, const char *text, GString *hdr)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	if (!run(fmt, text, out, err))
		fail_msg("import failed: %s", err->str);
	GString *s = g_string_new(NULL);
	g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (**l && **l != '#')
			g_string_append_printf(s, "%s\n", *l);
		else if (**l && hdr)
			g_string_append_printf(hdr, "%s\n", *l);
	}
	return g_string_free(s, FALSE);
}

static void has(const GString *hdr, const char *line)
{
	if (!strstr(hdr->str, line))
		fail_msg("header lacks '%s':\n%s", line, hdr->str);
}

static void error_is(const char *text, const char *want)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_false(run("strace", text, out, err));
	assert_string_equal(err->str, want);
}

static void test_uffd_ioctls(void **state)
{
	(void)state;
	g_autoptr(GString) hdr = g_string_new(NULL);
	/* UNREGISTER, CONTINUE, MOVE between two regions at the same page,
	 * a failed SET_MODE, a failed API, feature bits the model lacks, a raw
	 * request number, and requests that are not uffd ones */
	g_autofree char *s = steps(
		"strace",
		MMAP16
		"1 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) "
		"= 0x7f1000000000\n"
		"1 userfaultfd(O_CLOEXEC) = 4\n"
		"1 ioctl(4, UFFDIO_API, {api=0xaa, features=0}) = -1 EINVAL (Invalid "
		"argument)\n"
		"1 ioctl(4, UFFDIO_API, {api=0xaa, features=0x4000000|UFFD_FEATURE_RWP => "
		"features=0}) = 0\n"
		"1 ioctl(4, UFFDIO_REGISTER, {range={start=0x7f0000000000, len=0x4000}, "
		"mode=UFFDIO_REGISTER_MODE_MISSING}) = 0\n"
		"1 ioctl(4, UFFDIO_CONTINUE, {range={start=0x7f0000001000, len=0x1000}, "
		"mode=0, mapped=0x1000}) = -1 EEXIST (File exists)\n"
		"1 ioctl(4, UFFDIO_MOVE, {dst=0x7f0000002000, src=0x7f1000002000, len=0x1000, "
		"mode=0, move=0x1000}) = 0\n"
		"1 ioctl(4, 0xc020aa09, {range={start=0x7f0000003000, len=0x1000}, mode=0}) = "
		"0\n"
		"1 ioctl(4, UFFDIO_SET_MODE, {enable=UFFD_FEATURE_RWP_ASYNC, disable=0}) = -1 "
		"EINVAL (Invalid argument)\n"
		"1 ioctl(4, UFFDIO_UNREGISTER, {start=0x7f0000000000, len=0x4000}) = 0\n"
		"1 ioctl(4, UFFDIO_POISON, {range={start=0x7f0000000000, len=0x1000}}) = 0\n"
		"1 ioctl(4, 0x5401, 0x7ffe0) = 0\n"
		"1 ioctl(4, 0xaa20, 0x7ffe0) = 0\n"
		"1 ioctl(4, _IOC(_IOC_NONE), 0x7ffe0) = 0\n",
		hdr);
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=16K prot=rw map=private at=0x7f0000000000\n"
			       "mmap r2 proc=p1 len=16K prot=rw map=private at=0x7f1000000000\n"
			       "uffd open u1 proc=p1\n"
			       "uffd api u1 features=RWP\n"
			       "uffd register u1 r1 pages=0-3 mode=MISSING\n"
			       "uffd continue u1 r1 pages=1 mode=0\n"
			       "expect result is=EEXIST\n"
			       "uffd move u1 r1 src=r2 pages=2 mode=0\n"
			       "uffd rwprotect u1 r1 pages=3 mode=0\n"
			       "uffd set-mode u1 enable=RWP_ASYNC disable=0\n"
			       "expect result is=EINVAL\n"
			       "uffd unregister u1 r1 pages=0-3\n");
	has(hdr, "#   1 failed UFFDIO_API\n");
	has(hdr, "#   1 UFFDIO_API feature bits the model lacks (dropped)\n");
	has(hdr, "#   1 UFFDIO_POISON (no model)\n");
	has(hdr, "#   1 ioctl 0x5401 (not imported)\n");
	has(hdr, "#   1 ioctl 0xaa20 (not imported)\n");
	has(hdr, "#   1 ioctl _IOC (not imported)\n");
}

static void test_memfd_and_fds(void **state)
{
	(void)state;
	g_autoptr(GString) hdr = g_string_new(NULL);
	/* a memfd mapped at offset 0 and again past its size (the file grows),
	 * ftruncate of a mapped memfd, a uffd fd number reused without close, a
	 * quoted name with an escaped quote, an empty mmap, mmap2 */
	g_autofree char *s =
		steps("strace",
		      "1 memfd_create(\"a\\\"b, c\", MFD_CLOEXEC) = 3\n"
		      "1 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = "
		      "0x7f0000000000\n"
		      "1 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3, 8192) = 0x7f1000000000\n"
		      "1 ftruncate(3, 32768) = 0\n"
		      "1 userfaultfd(O_CLOEXEC) = 5\n"
		      "1 userfaultfd(O_CLOEXEC) = 5\n"
		      "1 mmap(NULL, 0, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
		      "0x7f2000000000\n"
		      "1 mmap2(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
		      "0x7f3000000000\n"
		      "1 munmap(NULL, 4096) = 0\n",
		      hdr);
	assert_string_equal(s,
			    "process p1\n"
			    "file f1 size=8K\n"
			    "mmap r1 proc=p1 len=8K prot=rw map=shared file=f1 at=0x7f0000000000\n"
			    "ftruncate f1 size=16K\n"
			    "mmap r2 proc=p1 len=8K prot=r map=shared file=f1 offset=8K "
			    "at=0x7f1000000000\n"
			    "ftruncate f1 size=32K\n"
			    "uffd open u1 proc=p1\n"
			    "uffd close u1\n"
			    "uffd open u2 proc=p1\n"
			    "mmap r3 proc=p1 len=4K prot=r map=private at=0x7f3000000000\n");
	has(hdr, "#   1 mmap with a length or address the model cannot take\n");
	has(hdr, "#   1 call on a range no imported region covers\n");
}

static void test_fork_shapes(void **state)
{
	(void)state;
	g_autoptr(GString) hdr = g_string_new(NULL);
	/* a region split in two by MAP_FIXED gives the child one region for
	 * both parts; fork() "= 0" is no child; execve before anything was
	 * imported keeps the process; a copy source outside user space is counted */
	g_autofree char *s = steps(
		"strace",
		"2 execve(\"/bin/prog\", [\"prog\"], 0x7ffe0 /* 1 var */) = 0\n"
		"2 brk(NULL) = 0x555555559000\n"
		"2 execve(\"/bin/prog\", [\"prog\"], 0x7ffe0 /* 1 var */) = 0\n" MMAP16
		"1 mmap(0x7f0000001000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, "
		"0) "
		"= 0x7f0000001000\n"
		"1 fork() = 0\n"
		"1 fork() = 7\n"
		"7 munmap(0x7f0000000000, 16384) = 0\n"
		"1 userfaultfd(0) = 3\n"
		"1 ioctl(3, UFFDIO_COPY, {dst=0x7f0000000000, src=0xfffffffffffff000, len=0x1000, "
		"mode=0}) = 0\n",
		hdr);
	assert_string_equal(s, "process p1\n"
			       "process p2\n"
			       "mmap r1 proc=p2 len=16K prot=rw map=private at=0x7f0000000000\n"
			       "munmap r1 pages=1\n"
			       "mmap r2 proc=p2 len=4K prot=r map=private at=0x7f0000001000\n"
			       "fork p3 parent=p2\n"
			       "munmap p3.r1 pages=0\n"
			       "munmap p3.r2\n"
			       "munmap p3.r1 pages=2-3\n"
			       "uffd open u1 proc=p2\n");
	has(hdr, "#   1 failed clone/fork\n");
	has(hdr, "#   1 call with an address or length outside the user address space\n");
}

static void test_lackey_syscalls(void **state)
{
	(void)state;
	g_autoptr(GString) hdr = g_string_new(NULL);
	/* clone (not CLONE_VM), vfork + execve, memfd, userfaultfd, an uffd
	 * ioctl lackey cannot decode */
	g_autofree char *s = steps(
		"lackey",
		"SYSCALL[7,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] "
		"Success(0x4835000) \n"
		"SYSCALL[7,1](56) sys_clone ( 0x1200011, 0x0, 0x0, 0x0, 0x0 ) --> [pre-success] "
		"Success(0x8) \n"
		"SYSCALL[7,1](58) sys_vfork ( ) --> [pre-success] Success(0x9) \n"
		"SYSCALL[9,9](59) sys_execve ( 0x4000, 0x4100, 0x4200 ) --> [pre-success] "
		"Success(0x0) \n"
		"SYSCALL[7,1](319) sys_memfd_create ( 0x4000, 1 ) --> [pre-success] Success(0x3) \n"
		"SYSCALL[7,1](323) sys_userfaultfd ( 0 ) --> [pre-success] Success(0x4) \n"
		"SYSCALL[7,1](16) sys_ioctl ( 4, 3222841865, 0x4300 ) --> [pre-success] "
		"Success(0x0) \n"
		"SYSCALL[7,1](57) sys_fork ( ) --> [pre-success] Success(0xa) \n",
		hdr);
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=8K prot=rw map=private at=0x4835000\n"
			       "fork p2 parent=p1\n"
			       "uffd open u1 proc=p1\n"
			       "fork p3 parent=p1\n");
	has(hdr, "#   1 uffd ioctl 0x9 with an undecoded argument\n");
}

static void test_errors(void **state)
{
	(void)state;
	error_is("1 userfaultfd(0) = 4\n"
		 "1 ioctl(4, UFFDIO_SET_MODE, {enable={1}, disable=0}) = 0\n",
		 "t.strace:2: UFFDIO_SET_MODE: bad flags");
}

static void test_nul_byte(void **state)
{
	(void)state;
	static const char text[] = "munmap(0x1000, 4096) = 0\nmun\0map(0x1000, 4096) = 0\n";
	g_autofree char *dir = g_dir_make_tmp("mmsim-import-XXXXXX", NULL);
	assert_non_null(dir);
	g_autofree char *path = g_build_filename(dir, "nul.strace", NULL);
	assert_true(g_file_set_contents(path, text, sizeof(text) - 1, NULL));
	struct imp_options o;
	imp_options_init(&o);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_false(imp_run("strace", path, NULL, &o, NULL, out, err));
	g_autofree char *want = g_strdup_printf("%s:2: NUL byte in line", path);
	assert_string_equal(err->str, want);
	g_unlink(path);
	g_rmdir(dir);
}

static void test_converter_defaults(void **state)
{
	(void)state;
	/* options left at zero get the documented interval and period */
	struct imp_options o = { .overlay_rwp = true };
	struct imp_conv *c = imp_conv_new(&o);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(imp_conv_finish(c, out, err));
	imp_conv_free(c);
	imp_conv_free(NULL);
	assert_non_null(strstr(out->str, "# overlay: interval 64, khugepaged+reclaim every 8\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uffd_ioctls),
		cmocka_unit_test(test_memfd_and_fds),
		cmocka_unit_test(test_fork_shapes),
		cmocka_unit_test(test_lackey_syscalls),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_converter_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
