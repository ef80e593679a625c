/* bench/bench_guest.c - items d and e: the documented VMM working-set loop
 * (traces/workloads/vmm-loop.trace, rwp-series.md 7.4) on a large memfd
 * guest, and the simulator's memory per populated page.
 *
 * The loop is generated here rather than stored: its page numbers are those
 * of the 1 GiB trace scaled by the guest size, so the touched sets keep the
 * same share of the guest (about 1.2 % written before the first arm, 0.05 %
 * hot per cycle). Every cycle repeats the same detection: arm, VMM I/O
 * through the unregistered mapping, guest loads/stores/GUP, a khugepaged
 * pass, reclaim of a cold range, a NUMA scan, the freeze, the hot scan
 * (PAGEMAP_SCAN for ACCESSED, checked by expect), a fault on a cold page,
 * eviction (pwrite via io, punch, UFFDIO_WAKE), the fill, and the resume.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define GIB_PAGES 262144ull /* 4 KiB pages per GiB */

/* "A-B" for s pages starting at a. */
static void range(GString *t, uint64_t a, uint64_t n)
{
	g_string_append_printf(t, "%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, a, a + n - 1);
}

/* Appends one detection cycle; s = guest GiB (the 1 GiB trace's scale). */
static void cycle(GString *t, uint64_t s)
{
	g_string_append(t, "uffd rwprotect U guest mode=RWP\nexpect result is=ok\n");
	g_string_append(t, "read io pages=");
	range(t, 0, 1024 * s);
	g_string_append(t, "\nread guest pages=");
	range(t, 0, 100 * s);
	g_string_append(t, "\nwrite guest pages=");
	range(t, 131072 * s, 28 * s);
	g_string_append(t, " value=0x44\nexpect msgs U count=0\nkhugepaged pass vm\n");
	g_string_append(t, "reclaim guest pages=");
	range(t, 1000 * s, 24 * s);
	g_string_append(t, "\nnuma-scan guest\ngup guest pages=");
	range(t, 261120 * s, 10 * s);
	g_string_append(t, " caller=process_vm_readv\nexpect result is=ok\n");
	/* freeze, hot scan */
	g_string_append(t, "uffd set-mode U disable=RWP_ASYNC\nexpect result is=ok\n"
			   "pagemap-scan guest category=ACCESSED return=ACCESSED\n"
			   "expect accessed guest pages=");
	range(t, 0, 100 * s);
	g_string_append(t, ",");
	range(t, 131072 * s, 28 * s);
	g_string_append(t, ",");
	range(t, 261120 * s, 10 * s);
	/* a cold page faults; evict 600..999 (scaled); the faulter retries
	 * into MISSING, the VMM fills it */
	g_string_append_printf(t,
			       "\nread guest pages=%" G_GUINT64_FORMAT "\n"
			       "expect result is=blocked\nread io pages=",
			       700 * s);
	range(t, 600 * s, 400 * s);
	g_string_append(t, "\nfallocate G mode=punch pages=");
	range(t, 600 * s, 400 * s);
	g_string_append(t, "\nuffd wake U guest pages=");
	range(t, 600 * s, 400 * s);
	g_string_append(t, "\nexpect blocked count=1\nexpect msgs U count=1\nserve U value=0x11\n"
			   "expect blocked count=0\n");
	/* resume */
	g_string_append(t, "uffd set-mode U enable=RWP_ASYNC\nexpect result is=ok\n");
}

static char *guest_trace(uint64_t gib, bool populated)
{
	GString *t = g_string_new(NULL);
	uint64_t s = gib, pages = gib * GIB_PAGES;
	g_string_append_printf(
		t,
		"process vm\nfile G size=%" G_GUINT64_FORMAT "G\n"
		"mmap guest proc=vm len=%" G_GUINT64_FORMAT "G prot=rw map=shared file=G\n"
		"mmap io proc=vm len=%" G_GUINT64_FORMAT "G prot=rw map=shared file=G\n",
		gib, gib, gib);
	if (populated) {
		g_string_append(t, "write guest pages=");
		range(t, 0, pages);
		g_string_append(t, " value=0x1\n");
	}
	g_string_append(t, "write guest pages=");
	range(t, 0, 1024 * s);
	g_string_append(t, " value=0x11\nwrite guest pages=");
	range(t, 131072 * s, 1024 * s);
	g_string_append(t, " value=0x22\nwrite guest pages=");
	range(t, 261120 * s, 1024 * s);
	g_string_append(t, " value=0x33\n"
			   "uffd open U proc=vm\n"
			   "uffd api U features=RWP|RWP_ASYNC|MISSING_SHMEM|MINOR_SHMEM\n"
			   "expect result is=ok\n"
			   "uffd register U guest mode=MISSING|MINOR|RWP\nexpect result is=ok\n");
	return g_string_free(t, FALSE);
}

int bench_guest_main(int argc, char **argv)
{
	gint gib = 64, cycles = 3;
	gboolean populated = FALSE, no_oracle = FALSE, header = FALSE, print = FALSE, steps = FALSE;
	GOptionEntry entries[] = {
		{ "size", 0, 0, G_OPTION_ARG_INT, &gib, "Guest size in GiB (default 64)", "G" },
		{ "cycles", 0, 0, G_OPTION_ARG_INT, &cycles, "Detection cycles (default 3)", "C" },
		{ "populated", 0, 0, G_OPTION_ARG_NONE, &populated,
		  "Write every guest page once before registering", NULL },
		{ "no-oracle", 0, 0, G_OPTION_ARG_NONE, &no_oracle, "Run without the oracle",
		  NULL },
		{ "header", 0, 0, G_OPTION_ARG_NONE, &header, "Print the table header first",
		  NULL },
		{ "step-times", 0, 0, G_OPTION_ARG_NONE, &steps,
		  "Print each command's share of the cycle time on stderr", NULL },
		{ "print-trace", 0, 0, G_OPTION_ARG_NONE, &print,
		  "Print the generated trace and exit", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- benchmark item d");
	g_option_context_set_summary(
		ctx, "Replay the documented VMM loop on a memfd guest of G GiB and print one "
		     "Markdown row:\nsetup seconds, seconds per detection cycle (mean and "
		     "worst), peak RSS.\nRun one configuration per process: the peak RSS is the "
		     "process's.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_autoptr(GError) gerr = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "mmsim_bench guest: %s\n", gerr->message);
		return 2;
	}
	if (gib < 1 || gib > 256 || cycles < 1 || argc > 1) {
		fprintf(stderr, "mmsim_bench guest: need 1 <= --size <= 256, --cycles >= 1 and no "
				"arguments\n");
		return 2;
	}
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *head = guest_trace((uint64_t)gib, populated);
	g_string_append(text, head);
	for (int c = 0; c < cycles; c++) {
		GString *one = g_string_new(NULL);
		cycle(one, (uint64_t)gib);
		g_string_append_printf(text, "# ---- cycle %d\n%s", c + 1, one->str);
		g_string_free(one, TRUE);
	}
	if (print) {
		fputs(text->str, stdout);
		return 0;
	}
	/* Frames: the whole guest when populated, plus room for the io copies
	 * and fills; else the default 1 GiB of RAM is plenty. */
	uint64_t frames = populated ? (uint64_t)gib * GIB_PAGES + (1ull << 18) : 0;
	struct bench_run r;
	uint64_t t0 = bench_now_ns();
	if (!bench_begin(&r, "bench-guest", text->str, !no_oracle, frames))
		return 1;
	/* The first cycle starts at the first rwprotect step. */
	guint first = 0, len = r.trace->steps->len;
	while (first < len &&
	       g_array_index(r.trace->steps, struct step, first).cmd != CMD_UFFD_RWPROTECT)
		first++;
	guint per = (len - first) / (guint)cycles;
	bool ok = bench_run_to(&r, first);
	uint64_t t_setup = bench_now_ns() - t0, sum = 0, worst = 0, by_cmd[NR_CMDS] = { 0 };
	for (int c = 0; ok && c < cycles; c++) {
		uint64_t a = bench_now_ns();
		/* step by step: the time of each command, for --step-times */
		for (guint i = first + per * (guint)c; ok && i < first + per * (guint)(c + 1);
		     i++) {
			uint64_t b = bench_now_ns();
			ok = bench_run_to(&r, i + 1);
			by_cmd[g_array_index(r.trace->steps, struct step, i).cmd] +=
				bench_now_ns() - b;
		}
		uint64_t d = bench_now_ns() - a;
		sum += d;
		worst = MAX(worst, d);
		fprintf(stderr, "mmsim_bench guest: cycle %d: %.3f s\n", c + 1, d / 1e9);
	}
	bench_end(&r);
	if (!ok)
		return 1;
	for (int i = 0; steps && i < NR_CMDS; i++)
		if (by_cmd[i] * 100 >= sum)
			fprintf(stderr, "mmsim_bench guest: %-18s %5.1f %% of the cycle time\n",
				cmd_descs[i].name, by_cmd[i] * 100.0 / (double)sum);
	if (header)
		printf("| guest | populated | oracle | setup s | s/cycle (mean) | s/cycle (worst) "
		       "| "
		       "peak RSS MiB |\n|---|---|---|---|---|---|---|\n");
	printf("| %d GiB memfd | %s | %s | %.2f | %.3f | %.3f | %.0f |\n", gib,
	       populated ? "whole guest" : "touched sets", no_oracle ? "off" : "on", t_setup / 1e9,
	       sum / 1e9 / cycles, worst / 1e9, bench_peak_rss_kib() / 1024.0);
	return 0;
}

/* Item e: RSS growth per populated page for an anonymous and a shmem
 * mapping, registered RWP and armed (what a tracked guest costs), with the
 * oracle off and on. One process per row, so earlier rows' allocations do
 * not hide in freed-but-resident heap. */
int bench_mem_main(int argc, char **argv)
{
	gint log2 = 20;
	gchar *kind = NULL;
	gboolean no_oracle = FALSE, header = FALSE;
	GOptionEntry entries[] = {
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "anon or shmem (default anon)",
		  "KIND" },
		{ "log2", 0, 0, G_OPTION_ARG_INT, &log2, "Populate 2^K pages (default 20)", "K" },
		{ "no-oracle", 0, 0, G_OPTION_ARG_NONE, &no_oracle, "Run without the oracle",
		  NULL },
		{ "header", 0, 0, G_OPTION_ARG_NONE, &header, "Print the table header first",
		  NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- benchmark item e");
	g_option_context_set_summary(ctx, "Bytes of simulator memory (RSS growth) per "
					  "populated 4 KiB page, registered RWP and armed.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_autoptr(GError) gerr = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "mmsim_bench mem: %s\n", gerr->message);
		return 2;
	}
	bool shmem = kind && !strcmp(kind, "shmem");
	if ((kind && !shmem && strcmp(kind, "anon")) || log2 < 4 || log2 > 26 || argc > 1) {
		fprintf(stderr, "mmsim_bench mem: need --kind anon|shmem, 4 <= --log2 <= 26 and no "
				"arguments\n");
		g_free(kind);
		return 2;
	}
	g_free(kind);
	uint64_t n = 1ull << log2;
	g_autofree char *file =
		shmem ? g_strdup_printf("file F size=%" G_GUINT64_FORMAT "K\n", n * 4)
		      : g_strdup("");
	g_autofree char *text = g_strdup_printf(
		"process p\n%s"
		"mmap A proc=p len=%" G_GUINT64_FORMAT "K prot=rw map=%s%s\n"
		"madvise A advice=NOHUGEPAGE\n"
		"uffd open U proc=p\nuffd api U features=RWP|RWP_ASYNC\n"
		"uffd register U A mode=RWP\n"
		"write A pages=0-%" G_GUINT64_FORMAT " value=0x5\n"
		"uffd rwprotect U A mode=RWP\n",
		file, n * 4, shmem ? "shared" : "private", shmem ? " file=F" : "", n - 1);
	struct bench_run r;
	uint64_t frames = n + (1ull << 16);
	if (!bench_begin(&r, "bench-mem", text, !no_oracle, frames))
		return 1;
	/* Everything before the first write: the machine and the empty VMA. */
	guint w = 0;
	while (g_array_index(r.trace->steps, struct step, w).cmd != CMD_WRITE)
		w++;
	bool ok = bench_run_to(&r, w);
	uint64_t before = bench_rss_kib();
	ok = ok && bench_run_to(&r, G_MAXUINT);
	uint64_t after = bench_rss_kib();
	bench_end(&r);
	if (!ok)
		return 1;
	if (header)
		printf("| mapping | pages | oracle | bytes per populated page "
		       "|\n|---|---|---|---|\n");
	printf("| %s | 2^%d | %s | %.1f |\n", shmem ? "shmem (memfd, shared)" : "anon private",
	       log2, no_oracle ? "off" : "on", (double)(after - before) * 1024.0 / (double)n);
	return 0;
}
