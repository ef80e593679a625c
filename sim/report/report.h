/* sim/report/report.h - mmsim report: per-step snapshots and the HTML page.
 *
 * report.c replays a trace with the engine's step hook and keeps, for every
 * step that ran, only what changed: the pages of each region whose state
 * (observe_page_state()) differs from the step before, as runs, and each
 * userfaultfd's queue when it differs. html.c writes one self-contained
 * page (inline CSS, JS and a JSON blob) that replays those deltas.
 */
#ifndef MMSIM_REPORT_H
#define MMSIM_REPORT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "trace/trace.h"

/* One region, as the step that mapped it left it; pages start in
 * PAGE_STATE_UNMAPPED before that step. */
struct report_region {
	char *name;
	char *proc;
	char *file; /* NULL for anonymous memory */
	uint64_t start, pages;
	guint first_step; /* the report step it appeared in */
	guint8 *states;	  /* its pages after the last snapshot */
};

/* Pages [first, first + count) of region `region` changed to `state`. */
struct report_run {
	guint32 region;
	guint32 state;
	uint64_t first, count;
};

/* One userfaultfd context's queue after a step. */
struct report_queue {
	char *name;
	GPtrArray *msgs;    /* char *, oldest first ("pagefault RWP A page 7") */
	guint waiters;	    /* tasks asleep on it */
	GPtrArray *waiting; /* char *, what each sleeps on */
};

struct report_step {
	guint index; /* in trace->steps */
	uint32_t line;
	unsigned depth;	   /* > 0: ran inside the race window of an outer step */
	char *text;	   /* canonical step text */
	char *result;	   /* "ok", "EINVAL", "blocked", "expect ok", ... */
	GArray *runs;	   /* struct report_run: what changed */
	GPtrArray *queues; /* struct report_queue *, by name; NULL: unchanged */
	char *failure;	   /* the replay's failure message when this step failed */
};

/* The oracle's first violation, as the engine reported it. */
struct report_violation {
	guint step; /* report step */
	uint32_t line;
	char *invariant;
	char *proc; /* the mm's name ("?" if unknown) */
	uint64_t address;
	char *region; /* NULL when the address is in no region */
	uint64_t page;
	uint64_t before, after;
	char *detail;  /* why, in the oracle's words (may be empty) */
	char *message; /* violation_format(): all of the above in one line */
};

struct report {
	const struct trace *trace;
	char *level;	      /* patch level, or "custom" after --hunk */
	char *kernel;	      /* --kernel */
	GPtrArray *regions;   /* struct report_region *, world.regions order */
	GPtrArray *steps;     /* struct report_step *, in the order they ran */
	GHashTable *ran;      /* step indices that ran (GUINT_TO_POINTER(i + 1)) */
	GString *last_queues; /* the queues of the last step, to see changes */
	bool have_violation;
	struct report_violation violation;
	int failed_step; /* report step that failed the trace, or -1 */
	enum verdict verdict;
	GString *error;
};

struct report *report_new(const struct trace *t);
void report_free(struct report *rep);
/* Replay rep->trace with the oracle on (at the patch switches in force),
 * snapshotting every step; fills rep->verdict and rep->error. */
enum verdict report_replay(struct report *rep);
/* The engine step hook report_replay() installs (arg: the report). */
void report_step_hook(const struct engine *e, const struct step_report *r, void *arg);

/* html.c: the page. Same report, same bytes. */
void report_write_html(const struct report *rep, GString *out);
/* Append s as a JSON string (json-glib); <, > and & are written \u003c.. so no "</script>" or
 * "<!--" can end the page's data block early. */
void report_json_string(GString *out, const char *s);

#endif
