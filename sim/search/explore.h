/* sim/search/explore.h - exhaustive bounded exploration (mmsim explore). */
#ifndef MMSIM_SEARCH_EXPLORE_H
#define MMSIM_SEARCH_EXPLORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "search/search.h"

#define EXPLORE_MAX_DEPTH 12

/* A shortest counterexample of one invariant (explore_options.finds). */
struct explore_find {
	struct outcome oc;
	char *text, *error; /* the trace and the failure message (owned) */
	unsigned depth;
	double at; /* seconds into the run */
};

struct explore_options {
	unsigned depth;
	unsigned shard, nr_shards; /* explore only shard `shard` of nr_shards */
	const char *level;	   /* for the report */
	bool progress;		   /* a status line on a terminal */
	bool depth_lines;	   /* a line on stdout as each depth is finished */
	GArray *finds;		   /* if set, struct explore_find per violation (for --json) */
};

struct explore_stats {
	uint64_t states;   /* distinct states reached (the setup's included) */
	uint64_t replays;  /* sequences replayed (once per expanded state) */
	uint64_t branches; /* operations tried, each in a forked child */
	uint64_t crashes;  /* branches whose process died */
	uint64_t pruned;   /* sequences that reached a state seen before */
	uint64_t refused;  /* sequences refused as bad input */
	uint64_t per_depth[EXPLORE_MAX_DEPTH + 1]; /* new states per depth */
	double seconds;
	unsigned alphabet;
};

/* Free what an explore_find owns (a GArray clear func). */
void explore_find_clear(gpointer f);

/* Breadth-first over the small alphabet from the fixed setup; the first
 * counterexample of each invariant (hence a shortest one) goes to out.
 * Returns the number of invariants violated. */
unsigned explore_run(const struct explore_options *o, GString *out, struct explore_stats *st);

/* A 128-bit digest, fed 64-bit words (state_hash.c). */
struct state_hash {
	uint64_t a, b, n;
};
#define STATE_HASH_HEX 33 /* 32 hex digits and the NUL */
void state_hash_init(struct state_hash *c);
void state_hash_put(struct state_hash *c, uint64_t v);
void state_hash_hex(const struct state_hash *c, char out[STATE_HASH_HEX]);

/* The canonical digest of a machine state (state_hash.c). */
void search_state_digest(const struct world *w, unsigned sleeping, struct state_hash *c);

/* The setup and alphabet, for docs and tests. */
extern const char explore_setup[];
const char *explore_op_text(unsigned i);
extern const unsigned explore_alphabet_len;

#endif
