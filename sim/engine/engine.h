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
#include "patch.h"
#include "sched.h"
#include "trace/trace.h"

struct engine;
struct oracle;
struct violation;

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

/* What replay_opts.step_hook is told after one step. */
struct step_report {
	const struct step *step;
	guint index;	/* the step's index in trace->steps */
	unsigned depth; /* > 0: a race-window step, run inside an outer step */
	/* RESULT_* of an operation; -1 for an expectation and for a step that
	 * stopped the replay before it completed (bad input, failed path). */
	int result;
	/* The oracle's first violation, reported on this step; else NULL. */
	const struct violation *violation;
};

/* How to replay (engine_replay_with). */
struct replay_opts {
	bool verbose;	 /* every step and its result into out */
	bool oracle_on;	 /* run the oracle after every step */
	bool observe;	 /* an observation block per step into out (mmsim diff) */
	uint64_t frames; /* simulated RAM in 4 KiB frames; 0 for the default 1 GiB */
	/* Called once after the last step, before the machine is torn down,
	 * with the number of tasks still asleep in a userfault (mmsim explore
	 * hashes the final state here). */
	void (*at_end)(const struct world *w, unsigned sleeping, void *arg);
	void *at_end_arg;
	/* Called after every step that ran (expectations, race-window steps
	 * and the step that failed included) with the machine still in the
	 * state the step left, so mmsim report can snapshot it without
	 * parsing text. e->verdict and e->error tell whether the step failed.
	 * NULL costs nothing. */
	void (*step_hook)(const struct engine *e, const struct step_report *r, void *arg);
	void *step_hook_arg;
};

/* What made the last replay fail, for the search tools: the invariant (or
 * "expectation", "bad input"), the trace line, and the page it was seen on
 * when the oracle named one. */
struct engine_failure {
	const char *kind;
	uint32_t line;
	int cmd;	 /* enum cmd of the failing step, -1 if none */
	uint64_t advice; /* its advice= (madvise), else 0 */
	char region[48]; /* empty when the failure names no page */
	uint64_t page;
};

struct engine {
	const struct trace *trace;
	const struct replay_opts *opts;
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
	bool saved_hunks[NR_HUNKS]; /* the switches to restore at the end */
};

/* Replay a trace. The machine is set up and torn down inside. The patch
 * switches in force when this is called are used (hunk steps may change
 * them for the rest of the trace; they are restored afterwards). */
enum verdict engine_replay(const struct trace *t, bool verbose, bool oracle_on, GString *out,
			   GString *error);
enum verdict engine_replay_with(const struct trace *t, const struct replay_opts *opts, GString *out,
				GString *error);

/* The same in three parts, for callers that stop in the middle (mmsim
 * explore forks the process there to branch from one state): set the
 * machine up, run steps until step_index reaches `until` (or the verdict is
 * no longer PASS), tear down. e->trace may be replaced between runs by a
 * trace whose first step_index steps are the same. */
struct engine *engine_begin(const struct trace *t, const struct replay_opts *opts, GString *out,
			    GString *error);
enum verdict engine_run(struct engine *e, guint until);
enum verdict engine_end(struct engine *e);

/* What made the last replay fail: an oracle invariant's name,
 * "expectation" or "bad input"; NULL after a pass. */
extern const char *engine_failure_kind;
extern struct engine_failure engine_last_failure;

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
/* gup hold=1, unpin and the end-of-trace release (exec_pin.c): got holds
 * struct gup_held_page, moved into world.held (and emptied). */
void engine_hold_pages(struct engine *e, const struct region *r, GArray *got);
int engine_exec_unpin(struct engine *e, const struct step *s, struct region *r);
void engine_release_holds(struct engine *e);
/* "device-exclusive R": exec_device.c */
int engine_exec_device(struct engine *e, const struct step *s, struct region *r);
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
/* observe_pte_state()'s values are pte_state_names[] (0 none .. 13
 * device-exclusive-uffd); observe_page_state() adds two that need the VMA. */
enum {
	PAGE_STATE_ACCESSED = 14, /* present, no uffd bit, in a VM_UFFD_RWP VMA */
	PAGE_STATE_UNMAPPED = 15, /* no VMA covers the page (and no entry) */
	NR_PAGE_STATES
};
/* The state of page `page` of r for mmsim report: observe_pte_state()
 * refined by the VMA. *vma caches the VMA of the previous call (start
 * with NULL) so a walk over a region looks each VMA up once. */
int observe_page_state(struct region *r, uint64_t page, struct vm_area_struct **vma);
bool observe_content(struct region *r, uint64_t page, uint64_t *value);
/* The observation block of one step (observe.c): the result, each
 * region's page states run-length encoded, each uffd's queue. */
void engine_observe_step(struct engine *e, const struct step *s, int res);

#endif
