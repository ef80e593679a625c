/* bench/bench_rwp.c - item a: arm + resolve over N populated 4 KiB PTEs,
 * mmsim's modelled UFFDIO_RWPROTECT against the running kernel's
 * UFFDIO_WRITEPROTECT.
 *
 * Both sides use the same PTE state: an anonymous private range with
 * MADV_NOHUGEPAGE, populated by MADV_POPULATE_READ so every PTE maps the
 * shared zero page. That way the kernel can hold 2^24 PTEs (64 GiB of
 * address space) in 128 MiB of page tables on a machine with less RAM, and
 * the per-PTE work (walk, modify, write back) is the same as for a private
 * page. The kernel has no RWP UAPI before the series, so its closest path,
 * UFFDIO_WRITEPROTECT through change_protection(), is the reference.
 */
#include "bench.h"

#include "bench_kernel.h"

#include <stdio.h>

/* The same range in mmsim, armed (mode=RWP) and resolved (mode=0) through
 * the modelled ioctl; with the oracle, its check after each step is timed
 * too. Each repetition builds a fresh machine (not timed). */
static bool mmsim_rwp(uint64_t n, int reps, bool oracle, struct bench_pair *best)
{
	g_autofree char *text =
		g_strdup_printf("process p\n"
				"mmap A proc=p len=%" G_GUINT64_FORMAT "K prot=rw map=private\n"
				"madvise A advice=NOHUGEPAGE\n"
				"madvise A advice=POPULATE_READ\n"
				"uffd open U proc=p\n"
				"uffd api U features=RWP\n"
				"uffd register U A mode=RWP\n"
				"uffd rwprotect U A mode=RWP\n"
				"uffd rwprotect U A mode=0\n",
				n * 4);
	for (int i = 0; i < reps; i++) {
		struct bench_run r;
		if (!bench_begin(&r, "bench-rwp", text, oracle, 0))
			return false;
		guint arm = r.trace->steps->len - 2;
		bool ok = bench_run_to(&r, arm);
		uint64_t t0 = bench_now_ns();
		ok = ok && bench_run_to(&r, arm + 1);
		uint64_t t1 = bench_now_ns();
		ok = ok && bench_run_to(&r, arm + 2);
		uint64_t t2 = bench_now_ns();
		bench_end(&r);
		if (!ok)
			return false;
		bench_keep_best(best, (struct bench_pair){ t1 - t0, t2 - t1 });
	}
	return true;
}

static double per_pte(const struct bench_pair *p, uint64_t n)
{
	return (double)(p->arm + p->resolve) / (double)n;
}

int bench_rwp_main(int argc, char **argv)
{
	gint min_log2 = 14, max_log2 = 24, oracle_max = 0, reps = 3;
	gboolean no_kernel = FALSE, header = FALSE;
	GOptionEntry entries[] = {
		{ "min-log2", 0, 0, G_OPTION_ARG_INT, &min_log2, "Smallest N is 2^K (default 14)",
		  "K" },
		{ "max-log2", 0, 0, G_OPTION_ARG_INT, &max_log2, "Largest N is 2^K (default 24)",
		  "K" },
		{ "oracle-max-log2", 0, 0, G_OPTION_ARG_INT, &oracle_max,
		  "Largest N measured with the oracle on (default: --max-log2)", "K" },
		{ "reps", 0, 0, G_OPTION_ARG_INT, &reps, "Repetitions, best kept (default 3)",
		  "R" },
		{ "no-kernel", 0, 0, G_OPTION_ARG_NONE, &no_kernel,
		  "Skip the running kernel's half", NULL },
		{ "header", 0, 0, G_OPTION_ARG_NONE, &header, "Print the table header first",
		  NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- benchmark item a");
	g_option_context_set_summary(
		ctx, "Arm (UFFDIO_RWPROTECT mode=RWP) and resolve (mode=0) N populated 4 KiB PTEs "
		     "in mmsim, oracle off and on,\nagainst the running kernel's "
		     "UFFDIO_WRITEPROTECT over the same N. One Markdown row per N.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_autoptr(GError) gerr = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "mmsim_bench rwp: %s\n", gerr->message);
		return 2;
	}
	if (!oracle_max)
		oracle_max = max_log2;
	if (min_log2 < 0 || max_log2 > 30 || min_log2 > max_log2 || reps < 1 || argc > 1) {
		fprintf(stderr, "mmsim_bench rwp: need 0 <= --min-log2 <= --max-log2 <= 30, "
				"--reps >= 1 and no arguments\n");
		return 2;
	}
	if (header)
		printf("| N | kernel WP ns/PTE | mmsim RWP ns/PTE, oracle off | ratio | "
		       "mmsim RWP ns/PTE, oracle on | ratio |\n"
		       "|---|---|---|---|---|---|\n");
	for (int k = min_log2; k <= max_log2; k++) {
		uint64_t n = 1ull << k;
		struct bench_pair kern = { 0 }, off = { 0 }, on = { 0 };
		const char *why = NULL;
		bool have_kernel = !no_kernel && bench_kernel_wp(n, reps, &kern, &why);
		if (no_kernel)
			why = "--no-kernel";
		if (!mmsim_rwp(n, reps, false, &off))
			return 1;
		bool have_on = k <= oracle_max;
		if (have_on && !mmsim_rwp(n, reps, true, &on))
			return 1;
		GString *row = g_string_new(NULL);
		g_string_append_printf(row, "| 2^%d |", k);
		if (have_kernel)
			g_string_append_printf(row, " %.2f |", per_pte(&kern, n));
		else
			g_string_append_printf(row, " skipped (%s) |", why);
		g_string_append_printf(row, " %.2f |", per_pte(&off, n));
		if (have_kernel)
			g_string_append_printf(row, " %.2fx |",
					       per_pte(&off, n) / per_pte(&kern, n));
		else
			g_string_append(row, " - |");
		if (have_on)
			g_string_append_printf(row, " %.2f |", per_pte(&on, n));
		else
			g_string_append(row, " not run |");
		if (have_on && have_kernel)
			g_string_append_printf(row, " %.2fx |",
					       per_pte(&on, n) / per_pte(&kern, n));
		else
			g_string_append(row, " - |");
		printf("%s\n", row->str);
		fflush(stdout);
		g_string_free(row, TRUE);
	}
	return 0;
}
