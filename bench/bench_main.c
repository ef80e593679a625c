/* bench/bench_main.c - mmsim_bench: the benchmark subcommands and helpers.
 *
 * Benchmarks are programs, never timed tests: tools/bench runs them and
 * docs/performance.md records what they printed. Every subcommand prints
 * Markdown table rows on stdout and progress on stderr.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rss_kib(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

uint64_t bench_peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_maxrss;
}

bool bench_begin(struct bench_run *r, const char *name, const char *text, bool oracle,
		 uint64_t frames)
{
	memset(r, 0, sizeof(*r));
	r->out = g_string_new(NULL);
	r->err = g_string_new(NULL);
	r->trace = trace_parse_string(name, text, r->err);
	if (!r->trace) {
		fprintf(stderr, "mmsim_bench: %s\n", r->err->str);
		return false;
	}
	r->opts.oracle_on = oracle;
	r->opts.frames = frames;
	r->e = engine_begin(r->trace, &r->opts, r->out, r->err);
	return true;
}

bool bench_run_to(struct bench_run *r, guint until)
{
	if (engine_run(r->e, until) == VERDICT_PASS)
		return true;
	fprintf(stderr, "mmsim_bench: the benchmark trace failed: %s%s\n", r->err->str,
		r->out->str);
	return false;
}

void bench_end(struct bench_run *r)
{
	if (r->e)
		engine_end(r->e);
	if (r->trace)
		trace_free(r->trace);
	g_string_free(r->out, TRUE);
	g_string_free(r->err, TRUE);
	memset(r, 0, sizeof(*r));
}

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *what;
} subcommands[] = {
	{ "rwp", bench_rwp_main, "UFFDIO_RWPROTECT arm+resolve in mmsim vs the kernel's WP (a)" },
	{ "guest", bench_guest_main, "the VMM loop on a large memfd guest: RSS, s/cycle (d)" },
	{ "mem", bench_mem_main, "simulator bytes per populated 4 KiB page (e)" },
};

int main(int argc, char **argv)
{
	if (argc >= 2) {
		for (size_t i = 0; i < G_N_ELEMENTS(subcommands); i++)
			if (!strcmp(argv[1], subcommands[i].name))
				return subcommands[i].main(argc - 1, argv + 1);
	}
	FILE *out =
		argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? stderr : stdout;
	if (out == stderr && argc >= 2)
		fprintf(stderr, "mmsim_bench: unknown subcommand '%s'\n", argv[1]);
	fprintf(out, "Usage: mmsim_bench SUBCOMMAND [OPTION...] (SUBCOMMAND --help for options)\n");
	for (size_t i = 0; i < G_N_ELEMENTS(subcommands); i++)
		fprintf(out, "  %-6s %s\n", subcommands[i].name, subcommands[i].what);
	return out == stdout ? 0 : 2;
}
