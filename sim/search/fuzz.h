/* sim/search/fuzz.h - `mmsim fuzz`: generate, replay, judge, minimize. */
#ifndef MMSIM_SEARCH_FUZZ_H
#define MMSIM_SEARCH_FUZZ_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "search/gen.h"
#include "search/search.h"

struct fuzz_options {
	uint32_t seed;
	double seconds; /* stop after this long (0: no limit) */
	uint64_t runs;	/* stop after this many traces (0: no limit) */
	struct gen_options gen;
	const char *level;    /* for the file headers */
	const char *out_dir;  /* NULL: do not write files */
	const char *emit_dir; /* write every generated trace here (NULL: none) */
	bool stop_on_find;    /* stop at the first violation */
	bool progress;	      /* a status line on a terminal */
	bool verbose;	      /* one line per trace that does not pass */
	bool print;	      /* every generated trace, with its verdict */
	GArray *finds;	      /* if set, struct fuzz_find per class (for --json) */
};

/* The first trace of one violation class, minimized (fuzz_options.finds). */
struct fuzz_find {
	char cls[96];
	struct outcome oc;
	uint64_t trace;	  /* index in the campaign */
	uint32_t tseed;	  /* its generator seed */
	unsigned steps;	  /* of the generated trace */
	unsigned replays; /* the minimizer's */
	double at;	  /* seconds into the campaign */
	char *minimized;  /* canonical text (owned) */
};

/* Free what a fuzz_find owns (a GArray clear func). */
void fuzz_find_clear(gpointer f);

struct fuzz_stats {
	uint64_t runs, pass, fail, bad_input;
	double seconds;
	unsigned finds; /* distinct violation classes */
};

/* Run the campaign; reports go to out (one block per distinct class).
 * Returns the number of distinct violation classes found. */
unsigned fuzz_run(const struct fuzz_options *o, GString *out, struct fuzz_stats *stats);

/* The generator seed of trace i of a campaign with seed s. */
uint32_t fuzz_trace_seed(uint32_t s, uint64_t i);

#endif
