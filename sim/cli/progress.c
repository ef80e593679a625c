/* sim/cli/progress.c - the progress line of long replays (stderr, terminal only). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Below this a progress line would only flicker. */
#define PROGRESS_DELAY 1.0
#define PROGRESS_PERIOD 0.5

void cli_progress_start(struct cli_progress *p, const char *what, guint steps, bool on)
{
	/* MMSIM_PROGRESS_DELAY (seconds) lets a test see the line on a
	 * short trace. */
	const char *delay = getenv("MMSIM_PROGRESS_DELAY");

	*p = (struct cli_progress){ .on = on,
				    .what = what,
				    .steps = steps,
				    .delay = delay ? g_ascii_strtod(delay, NULL) : PROGRESS_DELAY,
				    .last = -PROGRESS_PERIOD };
	if (on)
		p->timer = g_timer_new();
}

void cli_progress_hook(const struct engine *e, const struct step_report *r, void *arg)
{
	struct cli_progress *p = arg;
	double now = g_timer_elapsed(p->timer, NULL);

	if (now < p->delay || now - p->last < PROGRESS_PERIOD)
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "\r%s: step %u of %u (line %u), %.0f s ", p->what, r->index + 1, p->steps,
		r->step->line, now);
}

void cli_progress_end(struct cli_progress *p)
{
	if (!p->on)
		return;
	if (p->shown)
		fputs("\r\033[K", stderr); /* erase the line: the verdict follows */
	g_timer_destroy(p->timer);
	p->timer = NULL;
}
