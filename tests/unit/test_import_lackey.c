/* tests/unit/test_import_lackey.c - the valgrind lackey importer: syscalls
 * and accesses in one order, page-granular batches, the size cap, the RWP
 * overlay, and malformed lines. */
#include "trace_test.h"

#include <string.h>

#include "import/import.h"

#define MMAP4                                                                              \
	"SYSCALL[7,1](9) sys_mmap ( 0x0, 16384, 3, 34, 4294967295, 0 ) --> [pre-success] " \
	"Success(0x4835000) \n"

static char *steps(const char *text, const struct imp_options *o)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(imp_run("lackey", "t.lackey", text, o, NULL, out, err));
	GString *s = g_string_new(NULL);
	g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l; l++)
		if (**l && **l != '#')
			g_string_append_printf(s, "%s\n", *l);
	return g_string_free(s, FALSE);
}

static void test_batches(void **state)
{
	(void)state;
	struct imp_options o;
	imp_options_init(&o);
	o.interval = 2;
	/* runs on one page count once; a store wins over a load in a batch;
	 * an access across a page boundary touches both pages */
	g_autofree char *s = steps(MMAP4 " L 04835000,8\n L 04835008,8\n S 04835010,8\n"
					 " L 04836000,8\n"
					 " M 04836ffc,8\n"
					 "I  04001000,3\n"
					 " L 04900000,8\n",
				   &o);
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=16K prot=rw map=private at=0x4835000\n"
			       "write r1 pages=0 value=0x1\n"	/* L+S on page 0 */
			       "write r1 pages=1 value=0x2\n"	/* L, then M on page 1 */
			       "write r1 pages=2 value=0x3\n"); /* M's last bytes */
}

static void test_async_and_overlay(void **state)
{
	(void)state;
	struct imp_options o;
	imp_options_init(&o);
	o.interval = 1;
	o.long_every = 2;
	o.overlay_rwp = true;
	g_autofree char *s =
		steps(MMAP4 "SYSCALL[7,1](0) sys_read ( 3, 0x4835000, 10 ) --> [async] ... \n"
			    " L 04835000,8\n"
			    "SYSCALL[7,1](0) ... [async] --> Success(0xa) \n"
			    " L 04836000,8\n"
			    "SYSCALL[7,1](11) sys_munmap ( 0x4835000, 16384 )[sync] --> "
			    "Success(0x0) \n",
		      &o);
	assert_string_equal(s, "process p1\n"
			       "mmap r1 proc=p1 len=16K prot=rw map=private at=0x4835000\n"
			       "uffd open rwp_p1 proc=p1\n"
			       "uffd api rwp_p1 features=RWP|RWP_ASYNC\n"
			       "uffd register rwp_p1 r1 pages=0-3 mode=RWP\n"
			       "read r1 pages=0\n"
			       "uffd rwprotect rwp_p1 r1 pages=0-3 mode=RWP\n"
			       "read r1 pages=1\n"
			       "pagemap-scan r1 pages=0-3 category=ACCESSED return=ACCESSED\n"
			       "khugepaged pass p1\n"
			       "reclaim r1 pages=0-3\n"
			       "uffd rwprotect rwp_p1 r1 pages=0-3 mode=RWP\n"
			       "munmap r1\n");
}

static void test_cap(void **state)
{
	(void)state;
	struct imp_options o;
	imp_options_init(&o);
	o.interval = 1;
	o.max_bytes = 1; /* the first batch goes over */
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_true(imp_run("lackey", "t.lackey",
			    MMAP4 " L 04835000,8\n L 04836000,8\n L 04837000,8\n", &o, NULL, out,
			    err));
	assert_non_null(strstr(out->str, "#   2 accesses after the size cap (0 KiB of steps)\n"));
	assert_non_null(strstr(out->str, "read r1 pages=0\n"));
	assert_null(strstr(out->str, "read r1 pages=1\n"));
}

static void error_is(const char *text, const char *want)
{
	struct imp_options o;
	imp_options_init(&o);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	assert_false(imp_run("lackey", "t.lackey", text, &o, NULL, out, err));
	assert_string_equal(err->str, want);
}

static void test_errors(void **state)
{
	(void)state;
	error_is(MMAP4 " L 4835000\n",
		 "t.lackey:2: bad lackey access line (expected ' L addr,size')");
	error_is(" X 4835000,8\n", "t.lackey:1: not a valgrind lackey log line");
	error_is("SYSCALL[7](9) sys_mmap\n",
		 "t.lackey:1: bad SYSCALL line (expected SYSCALL[pid,tid](nr) ...)");
	error_is("SYSCALL[7,1](0) ... [async] --> Success(0x0)\n",
		 "t.lackey:1: async completion without its call");
	error_is("SYSCALL[7,1](9) sys_mmap ( 0x0 ) --> [pre-success] Sux\n",
		 "t.lackey:1: SYSCALL line without Success()/Failure()");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_async_and_overlay),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
