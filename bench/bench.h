/* bench/bench.h - shared helpers of the mmsim_bench subcommands. */
#ifndef MMSIM_BENCH_H
#define MMSIM_BENCH_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);
/* Resident set size now, and the peak so far (getrusage), in KiB. */
uint64_t bench_rss_kib(void);
uint64_t bench_peak_rss_kib(void);

/* A machine with the trace text parsed and replayed up to (not including)
 * step `until`; NULL after printing why on stderr. frames 0: the default. */
struct bench_run {
	struct trace *trace;
	struct replay_opts opts;
	struct engine *e;
	GString *out, *err;
};
bool bench_begin(struct bench_run *r, const char *name, const char *text, bool oracle,
		 uint64_t frames);
/* Run steps up to `until`; false (after printing the failure) unless all pass. */
bool bench_run_to(struct bench_run *r, guint until);
void bench_end(struct bench_run *r);

int bench_rwp_main(int argc, char **argv);
int bench_guest_main(int argc, char **argv);
int bench_mem_main(int argc, char **argv);

#endif
