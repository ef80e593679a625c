/* tests/unit/test_trace_fuzz.c - the parser survives any bytes: 20,000
 * deterministic mutations of a valid trace never crash (ASan/UBSan watch),
 * every rejection is "path:N: message" with N a line of the input, and every
 * accepted mutant round-trips through the writer. */
#include "trace_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_SEED /* -DFUZZ_SEED=N replays another run */
#define FUZZ_SEED 20250917u
#endif
#define FUZZ_ITERATIONS 20000

static const char base_trace[] =
	"# fuzz seed trace\n"
	"process vm\n"
	"file guest size=4M huge=1\n"
	"thp enabled=always\n"
	"hunk 08e state=off\n"
	"mmap mem proc=vm len=4M prot=rw map=shared file=guest align=2M\n"
	"mmap anon proc=vm len=2M prot=rwx map=private at=0x7f0000000000\n"
	"uffd open u proc=vm\n"
	"uffd api u features=RWP|RWP_ASYNC\n"
	"uffd register u mem pages=0-1023 mode=MISSING|RWP\n"
	"uffd rwprotect u mem mode=RWP\n"
	"write mem pages=0-3,8,10-11 value=0xdead\n"
	"read mem pages=0-511\n"
	"pagemap-scan mem category=ACCESSED return=ACCESSED|PRESENT max-pages=16\n"
	"expect accessed mem pages=0-3,8,10-11\n"
	"uffd set-mode u disable=RWP_ASYNC enable=0\n"
	"madvise mem pages=0-511 advice=COLLAPSE race=1\n"
	"expect scan is=pte_uffd_wp\n"
	"expect result is=EINVAL\n"
	"uffd copy u mem pages=5 value=7 mode=DONTWAKE|WP\n"
	"serve u count=1\n"
	"expect msg u mem page=3 flags=WRITE|RWP\n"
	"expect msgs u count=0\n"
	"gup mem pages=1 caller=explicit flags=WRITE|PIN proc=vm\n"
	"khugepaged pass vm race=0\n"
	"khugepaged scan anon page=0\n"
	"reclaim anon pages=none\n"
	"mprotect anon pages=1 prot=r\n"
	"munmap anon\n"
	"fallocate guest mode=punch pages=10-11\n"
	"expect pagemap mem pages=0 present=1 uffd=1\n"
	"expect content mem pages=0 value=0xdead\n"
	"expect pte mem pages=0-511 state=armed\n"
	"expect blocked count=0\n"
	"uffd close u\n";

/* Pieces that steer mutants toward the parser's corners. */
static const char *const vocab[] = {
	"process",
	"file",
	"mmap",
	"uffd",
	"open",
	"register",
	"expect",
	"result",
	"scan",
	"khugepaged",
	"pass",
	"pagemap-scan",
	"vm",
	"mem",
	"anon",
	"u",
	"guest",
	"08a",
	"pages=",
	"pages=0-",
	"pages=,",
	"pages=none",
	"pages=5-1",
	"value=0x",
	"value=-1",
	"len=4K",
	"len=99999999999G",
	"prot=rwx",
	"prot=xr",
	"mode=RWP|",
	"mode=|",
	"mode=0",
	"is=EINVAL",
	"is=",
	"=",
	"==",
	"#",
	"\t",
	" ",
	"0x",
	"18446744073709551616",
	"K",
	"|",
	",",
	"-",
	"proc=vm",
	"proc=mem",
	"size=",
	"huge=2",
	"state=armed",
	"\xff",
	"\x01",
	"\r",
	"\x7f",
};

/* Offsets of the starts of the whitespace-separated tokens. */
static void token_starts(const GString *s, GArray *starts)
{
	g_array_set_size(starts, 0);
	for (gsize i = 0; i < s->len; i++) {
		bool ws = s->str[i] == ' ' || s->str[i] == '\t' || s->str[i] == '\n';
		bool prev_ws = !i || s->str[i - 1] == ' ' || s->str[i - 1] == '\t' ||
			       s->str[i - 1] == '\n';

		if (!ws && prev_ws)
			g_array_append_val(starts, i);
	}
}

static gsize token_len(const GString *s, gsize at)
{
	gsize n = 0;

	while (at + n < s->len && !strchr(" \t\n", s->str[at + n]))
		n++;
	return n;
}

static gsize random_line_start(GRand *r, const GString *s)
{
	gsize at = (gsize)g_rand_int_range(r, 0, (gint32)s->len + 1);

	while (at > 0 && s->str[at - 1] != '\n')
		at--;
	return at;
}

static void mutate(GRand *r, GString *s)
{
	int kind = g_rand_int_range(r, 0, 8);
	g_autoptr(GArray) starts = g_array_new(FALSE, FALSE, sizeof(gsize));

	if (!s->len && kind != 5)
		kind = 5;
	switch (kind) {
	case 0:	  /* flip one bit */
	case 1: { /* overwrite one byte with anything */
		gsize at = (gsize)g_rand_int_range(r, 0, (gint32)s->len);

		if (kind == 0)
			s->str[at] ^= (char)(1u << g_rand_int_range(r, 0, 8));
		else
			s->str[at] = (char)g_rand_int_range(r, 0, 256);
		break;
	}
	case 2: /* truncate */
		g_string_truncate(s, (gsize)g_rand_int_range(r, 0, (gint32)s->len));
		break;
	case 3: { /* swap two tokens */
		token_starts(s, starts);
		if (starts->len < 2)
			break;
		gsize a = g_array_index(starts, gsize, g_rand_int_range(r, 0, (gint32)starts->len));
		gsize b = g_array_index(starts, gsize, g_rand_int_range(r, 0, (gint32)starts->len));
		if (a == b)
			break;
		if (a > b) {
			gsize t = a;
			a = b;
			b = t;
		}
		gsize la = token_len(s, a), lb = token_len(s, b);
		g_autofree char *ta = g_strndup(s->str + a, la);
		g_autofree char *tb = g_strndup(s->str + b, lb);
		g_string_erase(s, (gssize)b, (gssize)lb);
		g_string_insert(s, (gssize)b, ta);
		g_string_erase(s, (gssize)a, (gssize)la);
		g_string_insert(s, (gssize)a, tb);
		break;
	}
	case 4: { /* replace a token with a vocabulary piece */
		token_starts(s, starts);
		if (!starts->len)
			break;
		gsize a = g_array_index(starts, gsize, g_rand_int_range(r, 0, (gint32)starts->len));
		g_string_erase(s, (gssize)a, (gssize)token_len(s, a));
		g_string_insert(s, (gssize)a, vocab[g_rand_int_range(r, 0, G_N_ELEMENTS(vocab))]);
		break;
	}
	case 5: { /* insert a junk line */
		g_autoptr(GString) junk = g_string_new(NULL);
		int n = g_rand_int_range(r, 0, 6);

		for (int i = 0; i < n; i++) {
			if (g_rand_boolean(r)) {
				g_string_append(junk,
						vocab[g_rand_int_range(r, 0, G_N_ELEMENTS(vocab))]);
			} else {
				int m = g_rand_int_range(r, 1, 12);

				for (int j = 0; j < m; j++)
					g_string_append_c(junk, (char)g_rand_int_range(r, 1, 256));
			}
			g_string_append_c(junk, ' ');
		}
		g_string_append_c(junk, '\n');
		g_string_insert(s, (gssize)random_line_start(r, s), junk->str);
		break;
	}
	case 6: { /* delete a line */
		gsize at = random_line_start(r, s);
		const char *nl = memchr(s->str + at, '\n', s->len - at);

		g_string_erase(s, (gssize)at, nl ? (gssize)(nl - (s->str + at) + 1) : -1);
		break;
	}
	case 7: { /* duplicate a line (redeclarations, duplicate expects) */
		gsize at = random_line_start(r, s);
		const char *nl = memchr(s->str + at, '\n', s->len - at);
		gsize len = nl ? (gsize)(nl - (s->str + at) + 1) : s->len - at;
		g_autofree char *line = g_strndup(s->str + at, len);

		g_string_insert(s, (gssize)random_line_start(r, s), line);
		break;
	}
	}
}

static unsigned count_lines(const GString *s)
{
	unsigned n = 1;

	for (gsize i = 0; i < s->len; i++)
		n += s->str[i] == '\n';
	return n;
}

/* "path:N: message", N in [1, lines], one line. */
static void check_error(const char *path, const GString *err, const GString *input,
			unsigned iteration)
{
	size_t pl = strlen(path);
	const char *p = err->str + pl + 1;
	char *end;
	unsigned long n;

	if (strncmp(err->str, path, pl) || err->str[pl] != ':' || !g_ascii_isdigit(*p))
		fail_msg("iteration %u: malformed error '%s'", iteration, err->str);
	n = strtoul(p, &end, 10);
	if (end[0] != ':' || end[1] != ' ' || !end[2])
		fail_msg("iteration %u: malformed error '%s'", iteration, err->str);
	if (n < 1 || n > count_lines(input))
		fail_msg("iteration %u: line %lu outside the input: '%s'", iteration, n, err->str);
	if (strchr(err->str, '\n'))
		fail_msg("iteration %u: multi-line error '%s'", iteration, err->str);
}

static void check_roundtrip(const struct trace *t, unsigned iteration)
{
	g_autofree char *what = g_strdup_printf("iteration %u", iteration);

	g_free(t_trace_rewrite(t, "canon.trace", what));
}

static void mutated_traces_never_crash_and_fail_with_a_line_number(void **state)
{
	GRand *r = g_rand_new_with_seed(FUZZ_SEED);
	g_autoptr(GString) s = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	g_autofree char *tmp = NULL;
	unsigned accepted = 0, rejected = 0, via_file = 0;
	int fd = g_file_open_tmp("mmsim-fuzz-XXXXXX.trace", &tmp, NULL);

	assert_true(fd >= 0);
	close(fd);
	print_message("trace fuzz: seed %u, %u iterations\n", FUZZ_SEED, FUZZ_ITERATIONS);
	for (unsigned it = 0; it < FUZZ_ITERATIONS; it++) {
		int n = g_rand_int_range(r, 1, 5);
		bool file = (it % 16) == 0;
		const char *path = file ? tmp : "fuzz.trace";
		struct trace *t;

		g_string_assign(s, base_trace);
		for (int i = 0; i < n; i++)
			mutate(r, s);
		if (file) {
			/* Only a file can carry NUL bytes into the parser. */
			assert_true(g_file_set_contents(tmp, s->str, (gssize)s->len, NULL));
			t = trace_parse_file(tmp, err);
			via_file++;
		} else {
			/* A NUL ends a C string: the parser sees only the prefix. */
			g_string_truncate(s, strlen(s->str));
			t = trace_parse_string(path, s->str, err);
		}
		if (t) {
			accepted++;
			check_roundtrip(t, it);
			trace_free(t);
		} else {
			rejected++;
			check_error(path, err, s, it);
		}
	}
	print_message("trace fuzz: %u accepted, %u rejected, %u via files\n", accepted, rejected,
		      via_file);
	/* Both outcomes must be common, or the mutator has stopped testing. */
	assert_true(accepted > FUZZ_ITERATIONS / 50);
	assert_true(rejected > FUZZ_ITERATIONS / 2);
	unlink(tmp);
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mutated_traces_never_crash_and_fail_with_a_line_number),
	};

	return cmocka_run_group_tests_name("trace_fuzz", tests, NULL, NULL);
}
