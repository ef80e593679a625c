/* bench/bench_kernel.h - the kernel half of item a, free of model headers. */
#ifndef MMSIM_BENCH_KERNEL_H
#define MMSIM_BENCH_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

/* ns for arm and resolve over the whole range. */
struct bench_pair {
	uint64_t arm, resolve;
};
/* Keep the repetition with the smallest arm + resolve. */
void bench_keep_best(struct bench_pair *best, struct bench_pair p);

/* UFFDIO_WRITEPROTECT (mode WP, then 0) over n zero-page PTEs, best of reps;
 * false with *why set when the kernel cannot do it here. */
bool bench_kernel_wp(uint64_t n, int reps, struct bench_pair *best, const char **why);

#endif
