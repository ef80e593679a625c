/* sim/search/gen.h - the random trace generator.
 *
 * One generator serves three users: `mmsim fuzz` (valid traces, no
 * expectations: the oracle is the judge), the executor fuzz test (also
 * wrong steps on purpose, to exercise bad-input handling) and the libFuzzer
 * entry point (the choices come from the fuzzer's bytes instead of a PRNG,
 * so its mutations steer the trace). The text it writes parses; the same
 * seed (or bytes) gives the same text, byte for byte.
 *
 * With host set it writes only what a stock 6.18 kernel can run
 * (tools/hostreplay): no RWP, no khugepaged, reclaim, migration, NUMA,
 * swap, device or switch steps, no race windows, the GUP callers a process
 * can drive (/proc/pid/mem, process_vm_*, vmsplice), THP in madvise mode
 * and no huge shmem file. That is the conformance suite's generator.
 */
#ifndef MMSIM_SEARCH_GEN_H
#define MMSIM_SEARCH_GEN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gen_size {
	GEN_SMALL,  /* one PMD per region, pages 0, 1, 511 and whole ranges */
	GEN_MEDIUM, /* the executor test's mix: 16-512 pages, two processes */
	GEN_LARGE,  /* more regions and processes, longer traces */
};

struct gen_options {
	enum gen_size size;
	unsigned ops;	/* operations after the setup; 0: the size's default */
	bool bad_input; /* now and then a step that must be refused */
	bool expects;	/* sprinkle random `expect` steps */
	bool hunks;	/* now and then flip a patch switch inside the trace */
	bool levels;	/* pick a patch level too (gen_trace's *level) */
	bool host;	/* only steps tools/hostreplay can run on the host kernel */
};

/* Where the choices come from: a PRNG, or a byte string (libFuzzer). A
 * byte source returns the lowest choice once it is used up, and the
 * generator stops adding operations. */
struct gen_source {
	GRand *rand;
	const uint8_t *data;
	size_t len, pos;
};

/* Append a whole trace to out. Returns the number of lines written. With
 * o->levels, *level is set to a patch level name to replay it at. */
unsigned gen_trace(const struct gen_options *o, struct gen_source *src, GString *out,
		   const char **level);

/* "small", "medium", "large" -> size; false if unknown. */
bool gen_size_parse(const char *name, enum gen_size *size);

#endif
