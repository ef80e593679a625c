/* sim/search/search.h - fuzzing, minimization, exploration and diff.
 *
 * Everything here replays traces in-process through engine_replay_with()
 * and judges them by the oracle's verdict; nothing calls path code.
 */
#ifndef MMSIM_SEARCH_H
#define MMSIM_SEARCH_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/engine.h"
#include "search/gen.h"

/* Simulated RAM for search replays: 64 MiB is plenty for the generator's
 * regions and keeps each replay's setup cheap. */
#define SEARCH_FRAMES (1ULL << 14)

/* One replay's outcome. */
struct outcome {
	enum verdict verdict;
	const char *invariant; /* the oracle invariant, "expectation", "bad input" or NULL */
	uint32_t line;
	int cmd;	 /* enum cmd of the failing step, -1 if none */
	uint64_t advice; /* its advice= */
	char region[48];
	uint64_t page;
	char kind[8]; /* K1, K2, R2, G1, G2: the patch-08 hunk that removes it; "" if none */
};

/* Replay trace text at the switches in force. */
enum verdict search_replay_text(const char *name, const char *text, struct outcome *out,
				GString *error);

/* A violation's kind: the hunk of patch 08, off now, that alone makes the
 * trace pass (08a K1, 08b K2, 08c R2, 08d G1, 08e G2). Fills out->kind;
 * the switches are restored. */
void search_classify(const char *text, struct outcome *out);

/* The class a search reports a violation under: its kind when it has
 * one, else "invariant@command" ("lost-arming@madvise-COLLAPSE"). */
void search_class(const struct outcome *o, char *buf, size_t size);

/* Is o an oracle violation (not a failed expectation or bad input)? */
static inline bool outcome_is_violation(const struct outcome *o)
{
	return o->verdict == VERDICT_FAIL && o->invariant && strcmp(o->invariant, "expectation") &&
	       strcmp(o->invariant, "bad input");
}

/* Minimize trace text that fails with `want` (same invariant, and the same
 * kind when want has one) at the switches in force. Returns the canonical
 * text of the smallest trace found (caller frees); *replays counts the
 * replays it took. */
char *search_minimize(const char *text, const struct outcome *want, unsigned *replays);

/* Number of steps in trace text (lines that are not blank or comments). */
unsigned search_count_steps(const char *text);

#endif
