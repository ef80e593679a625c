/* sim/engine/engine.h - the trace replay engine.
 *
 * Replays one parsed trace on a fresh machine at the current patch level:
 * declarations build the world, operations call the syscall-level entry
 * points in sim/mm, expectations compare observations, and the oracle is
 * consulted after every step. Tasks that sleep in a userfault are kept as
 * continuations and retried when woken.
 */
#ifndef MMSIM_ENGINE_H
#define MMSIM_ENGINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/world.h"
#include "sched.h"
#include "trace/trace.h"

struct oracle;

enum verdict {
	VERDICT_PASS = 0,
	VERDICT_FAIL = 1,     /* an oracle violation or a failed expectation */
	VERDICT_BAD_INPUT = 2 /* file:line: message */
};

struct pending_task {
	struct task task;
	const struct step *step;
	uint64_t next_page; /* index into the step's page list to resume at */
};

struct engine {
	const struct trace *trace;
	struct world world;
	struct oracle *oracle;
	bool verbose;
	bool oracle_on;
	GString *out;	 /* verbose log and the report */
	GString *error;	 /* the first failure or bad-input message */
	int last_result; /* RESULT_* of the last operation */
	bool have_result;
	GArray *last_scan; /* uint64_t addresses from the last pagemap-scan */
	GPtrArray *tasks;  /* struct pending_task *, blocked or runnable */
	uint32_t next_task_id;
	guint step_index;   /* next step to run */
	guint nested_until; /* steps consumed by a race window */
	unsigned depth;	    /* race-window nesting of the step being run */
	enum verdict verdict;
};

/* Replay a trace. The machine is set up and torn down inside. The patch
 * switches in force when this is called are used (hunk steps may change
 * them for the rest of the trace; they are restored afterwards). */
enum verdict engine_replay(const struct trace *t, bool verbose, bool oracle_on, GString *out,
			   GString *error);

/* What made the last replay fail: an oracle invariant's name,
 * "expectation" or "bad input"; NULL after a pass. */
extern const char *engine_failure_kind;

/* --- internal to sim/engine --- */
int engine_exec_op(struct engine *e, const struct step *s, struct pending_task *resume);
bool engine_exec_expect(struct engine *e, const struct step *s);
int engine_serve(struct engine *e, const struct step *s);
/* "mremap S from=R": exec_mremap.c */
int engine_exec_mremap(struct engine *e, const struct step *s);
/* migrate and numa-scan (exec_migrate.c) */
int engine_exec_migrate(struct engine *e, const struct step *s, struct region *r);
/* uffd move, swapoff, ftruncate (exec_move.c) */
int engine_exec_move(struct engine *e, const struct step *s, struct region *r);
void engine_retry_woken(struct engine *e);
bool engine_bad_input(struct engine *e, const struct step *s, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
void engine_fail(struct engine *e, const struct step *s, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Name lookups (NULL after engine_bad_input). */
struct region *engine_region(struct engine *e, const struct step *s, const char *name);
struct userfaultfd_ctx *engine_uffd(struct engine *e, const struct step *s, const char *name);

/* The page numbers of a step's `pages` range, or the whole region when the
 * key is absent. False (after engine_bad_input) when a page is outside. */
bool engine_pages(struct engine *e, const struct step *s, const struct region *r, GArray *pages);
/* The contiguous [start, len) of the step's pages (first to last). */
bool engine_span(struct engine *e, const struct step *s, const struct region *r, uint64_t *start,
		 uint64_t *len);

/* Observation helpers shared by expect and verbose output. */
int observe_pte_state(struct mm_struct *mm, uint64_t addr);
char observe_state_char(int state);
bool observe_content(struct region *r, uint64_t page, uint64_t *value);

#endif
