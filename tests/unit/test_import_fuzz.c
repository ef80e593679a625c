/* tests/unit/test_import_fuzz.c - the importers survive any bytes: 3,000
 * deterministic mutations each of an strace capture, a valgrind lackey log
 * and an ftrace capture never crash (ASan/UBSan watch), every rejection is
 * "path:N: message" with N a line of the input, and every accepted input
 * gives a trace the parser takes (imp_run parses its own output; an
 * "internal error" would mean it produced one the parser rejects). */
#include "trace_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"

#define SEED 20260117u
#define ITERATIONS 3000

static const char strace_base[] =
	"100 10:00:00.000100 mmap(NULL, 4194304, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, "
	"-1, 0) = 0x7f0000000000 <0.000010>\n"
	"100 10:00:00.000200 madvise(0x7f0000000000, 2097152, MADV_POPULATE_WRITE) = 0\n"
	"100 10:00:00.000500 mprotect(0x7f0000002000, 4096, PROT_READ) = 0 <0.000004>\n"
	"100 10:00:00.000700 brk(NULL) = 0x555555559000\n"
	"100 10:00:00.000800 brk(0x55555557a000) = 0x55555557a000\n"
	"100 10:00:00.001000 memfd_create(\"guest\", MFD_CLOEXEC) = 3\n"
	"100 10:00:00.001100 ftruncate(3, 2097152) = 0\n"
	"100 10:00:00.001200 mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = "
	"0x7f1000000000\n"
	"100 10:00:00.001400 mremap(0x7f1000000000, 65536, 131072, MREMAP_MAYMOVE) = "
	"0x7f3000000000\n"
	"100 10:00:00.001800 userfaultfd(O_CLOEXEC|O_NONBLOCK) = 4\n"
	"100 10:00:00.001900 ioctl(4, UFFDIO_API, {api=0xaa, "
	"features=UFFD_FEATURE_EVENT_FORK|0x20000 "
	"=> features=0x20002}) = 0\n"
	"100 10:00:00.002000 ioctl(4, UFFDIO_REGISTER, {range={start=0x7f0000200000, "
	"len=0x200000}, "
	"mode=UFFDIO_REGISTER_MODE_MISSING|UFFDIO_REGISTER_MODE_RWP}) = 0\n"
	"100 10:00:00.002100 ioctl(4, UFFDIO_COPY, {dst=0x7f0000200000, src=0x5555, len=0x2000, "
	"mode=0, copy=0x2000}) = 0\n"
	"100 10:00:00.002400 ioctl(4, UFFDIO_RWPROTECT, {range={start=0x7f0000200000, len=0x1000}, "
	"mode=UFFDIO_RWPROTECT_MODE_RWP}) = 0\n"
	"100 10:00:00.002500 ioctl(4, UFFDIO_MOVE, {dst=0x7f0000201000, src=0x7f0000001000, "
	"len=0x1000, mode=0, move=0x1000}) = 0\n"
	"100 10:00:00.002900 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>\n"
	"101 10:00:00.003000 madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0\n"
	"100 10:00:00.003100 <... clone resumed>, child_tidptr=0x7f50) = 101 <0.000200>\n"
	"101 10:00:00.003400 +++ exited with 0 +++\n"
	"100 10:00:00.003700 madvise(0x7f0000200000, 2097152, MADV_COLLAPSE) = -1 EINVAL (x)\n"
	"100 10:00:00.004000 vfork() = 103\n"
	"103 10:00:00.004100 execve(\"/bin/true\", [\"true\"], 0x7ffe /* 10 vars */) = 0\n"
	"100 10:00:00.004300 munmap(0x7f0000200000, 1048576) = 0\n"
	"100 10:00:00.004500 close(4) = 0\n";

static const char lackey_base[] =
	"==7== Lackey\n"
	"SYSCALL[7,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) \n"
	"SYSCALL[7,1](9) sys_mmap ( 0x0, 16384, 3, 34, 4294967295, 0 ) --> [pre-success] "
	"Success(0x4835000) \n"
	"I  04001000,3\n S 04835008,8\n L 04835010,8\n M 04835ffc,8\n L 04837000,4\n"
	"SYSCALL[7,1](12) sys_brk ( 0x4056000 ) --> [pre-success] Success(0x4056000) \n"
	" S 04035000,8\n S 04036000,8\n"
	"SYSCALL[7,1](28) sys_madvise ( 0x4835000, 8192, 4 )[sync] --> Success(0x0) \n"
	"SYSCALL[7,1](257) sys_openat ( 4294967196, 0x4034bb0(/etc/x), 0 ) --> [async] ... \n"
	" L 04835000,8\n"
	"SYSCALL[7,1](257) ... [async] --> Success(0x3) \n"
	"SYSCALL[7,1](25) sys_mremap ( 0x4835000, 16384, 32768, 1 )[sync] --> Success(0x5000000) \n"
	" L 05000000,8\n"
	"SYSCALL[7,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";

static const char ftrace_base[] =
	"# tracer: nop\n"
	"  collapse-100 [001] ...1. 36000.000300: mm_collapse_huge_page_isolate: scan_pfn=0x11, "
	"none_or_zero=0, referenced=0, status=succeeded\n"
	"  collapse-100 [001] ..... 36000.003705: mm_khugepaged_scan_pmd: mm=000000004d28dd7d, "
	"scan_pfn=0x11, referenced=0, none_or_zero=0, status=pte_uffd_wp, unmapped=0\n"
	"  collapse 100 [001] 36000.003706: huge_memory:mm_collapse_huge_page: mm=4d, isolated=1, "
	"status=failed order=9\n"
	"  khugepaged-38 [000] ..... 36001.0: mm_khugepaged_collapse_file: mm=4d, hpage_pfn=0x1, "
	"index=0, addr=1, is_shmem=1, filename=x, nr=512, result=succeeded\n";

static const char *const vocab[] = {
	"<unfinished ...>",
	"<... mmap resumed>",
	"= -1 EINVAL (x)",
	"= ?",
	"[pid 9]",
	"+++ exited with 0 +++",
	"MAP_FIXED",
	"0x",
	"NULL",
	"-1",
	"{",
	"}",
	"(",
	")",
	"\"",
	"UFFDIO_WRITEPROTECT",
	"_IOC(_IOC_READ, 0xaa, 0x9, 0x18)",
	"MADV_COLLAPSE",
	"CLONE_VM",
	"18446744073709551615",
	"0xffffffffffffffff",
	" L ",
	" S 0,1",
	"SYSCALL[",
	"... [async]",
	"Success(",
	"status=",
	"mm=",
	"scan_pfn=",
	"[001]",
	"1.0:",
	"huge_memory:",
	"\t",
	",",
	"mm_khugepaged_scan_pmd:",
	"\xff",
	"\x01",
};

static void mutate(GRand *r, GString *s)
{
	int kind = g_rand_int_range(r, 0, 5);
	if (!s->len)
		kind = 3;
	gsize at = (gsize)g_rand_int_range(r, 0, (gint32)s->len + 1);
	switch (kind) {
	case 0:
		if (at < s->len)
			s->str[at] ^= (char)(1u << g_rand_int_range(r, 0, 8));
		break;
	case 1:
		if (at < s->len)
			s->str[at] = (char)g_rand_int_range(r, 1, 256);
		break;
	case 2:
		g_string_truncate(s, at);
		break;
	case 3:
		g_string_insert(s, (gssize)at, vocab[g_rand_int_range(r, 0, G_N_ELEMENTS(vocab))]);
		break;
	case 4: { /* delete a span */
		gsize n = (gsize)g_rand_int_range(r, 0, 40);
		if (at + n > s->len)
			n = s->len - at;
		g_string_erase(s, (gssize)at, (gssize)n);
		break;
	}
	}
}

static unsigned count_lines(const char *s)
{
	unsigned n = 1;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* An error names the input and a line in it. */
static void check_error(const GString *err, const char *path, const char *text)
{
	g_autofree char *prefix = g_strdup_printf("%s:", path);
	if (strncmp(err->str, prefix, strlen(prefix)))
		fail_msg("bad error '%s'", err->str);
	unsigned line = (unsigned)strtoul(err->str + strlen(prefix), NULL, 10);
	if (line < 1 || line > count_lines(text))
		fail_msg("error line %u outside the input (%u lines): %s", line, count_lines(text),
			 err->str);
}

static void fuzz(const char *fmt, const char *base)
{
	const char *env = getenv("MMSIM_FUZZ_SEED"); /* replays another run */
	g_autoptr(GRand) r = g_rand_new_with_seed(env ? (guint32)strtoul(env, NULL, 0) : SEED);
	unsigned accepted = 0, rejected = 0;
	for (int it = 0; it < ITERATIONS; it++) {
		g_autoptr(GString) s = g_string_new(base);
		for (int k = g_rand_int_range(r, 1, 5); k > 0; k--)
			mutate(r, s);
		g_autofree char *text = g_strndup(s->str, strlen(s->str)); /* up to a NUL */
		g_autoptr(GString) out = g_string_new(NULL);
		g_autoptr(GString) err = g_string_new(NULL);
		struct imp_options o;
		imp_options_init(&o);
		o.overlay_rwp = it & 1;
		o.interval = 1 + (unsigned)(it % 5);
		bool ok;
		if (!strcmp(fmt, "ftrace")) {
			unsigned other;
			GPtrArray *evs = imp_ftrace_parse("t.f", text, &other, err);
			ok = evs != NULL;
			if (ok) {
				imp_ftrace_summary(out, evs, other);
				/* and merged into the strace capture */
				g_autoptr(GString) o2 = g_string_new(NULL);
				if (!imp_run("strace", "t.s", strace_base, &o, evs, o2, err))
					fail_msg("strace + mutated ftrace: %s", err->str);
				g_ptr_array_free(evs, TRUE);
			}
		} else {
			ok = imp_run(fmt, "t.f", text, &o, NULL, out, err);
		}
		if (ok) {
			accepted++;
		} else {
			if (strstr(err->str, "internal error"))
				fail_msg("the importer wrote a trace the parser rejects: "
					 "%s\ninput:\n%s",
					 err->str, text);
			check_error(err, "t.f", text);
			rejected++;
		}
	}
	/* the mutations exercise both outcomes */
	assert_true(accepted > ITERATIONS / 20);
	assert_true(rejected > ITERATIONS / 20);
}

static void test_fuzz_strace(void **state)
{
	(void)state;
	fuzz("strace", strace_base);
}

static void test_fuzz_lackey(void **state)
{
	(void)state;
	fuzz("lackey", lackey_base);
}

static void test_fuzz_ftrace(void **state)
{
	(void)state;
	fuzz("ftrace", ftrace_base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_strace),
		cmocka_unit_test(test_fuzz_lackey),
		cmocka_unit_test(test_fuzz_ftrace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
