/* sim/oracle/oracle.h - the independent checker run after every trace step.
 *
 * The oracle never calls sim/mm path code. It reads model data (page tables,
 * folios, VMAs, the page cache, swap slots) and the event log (mm_events),
 * keeps its own ledger of what a VMM using the uffd API has been told, and
 * re-derives every invariant in docs/invariants.md from that.
 *
 * Engine contract:
 *  - oracle_before_step(s) before a step runs, oracle_after_step(s) after it,
 *    before mm_events is cleared. Nested steps (race=N) may be bracketed the
 *    same way from inside the outer step's race window; the oracle then only
 *    consumes their events and defers every state check to the outermost
 *    oracle_after_step. mm_events must not be cleared until the outermost
 *    step is done.
 *  - On a violation oracle_after_step returns false and fills *v; the caller
 *    owns v->detail (g_string_free).
 */
#ifndef MMSIM_ORACLE_H
#define MMSIM_ORACLE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/world.h"
#include "trace/trace.h"

struct oracle;

struct violation {
	uint32_t line;	       /* trace line of the (outermost) step */
	const char *invariant; /* catalogue name, docs/invariants.md */
	uint64_t mm_id;
	uint64_t address;
	uint64_t before; /* entry (or value) before the step */
	uint64_t after;	 /* entry (or value) after the step */
	GString *detail;
};

struct oracle *oracle_new(const struct world *w);
void oracle_free(struct oracle *o);
void oracle_before_step(struct oracle *o, const struct step *s);
bool oracle_after_step(struct oracle *o, const struct step *s, int result, struct violation *v);
void violation_format(const struct violation *v, const struct world *w, GString *out);
/* Name the state a raw entry value encodes ("armed", "present", ...), as
 * violation_format() prints before and after (mmsim report shows them too). */
const char *entry_state_name(uint64_t val);

/* Global switch for benchmarks; default true. */
extern bool oracle_enabled;

#endif
