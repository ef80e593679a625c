/* sim/cli/cli.h - what the mmsim subcommand files share. */
#ifndef MMSIM_CLI_H
#define MMSIM_CLI_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "engine/engine.h"
#include "search/search.h"

/* Select a patch level (NULL: v6) and apply NAME=on|off overrides; prints
 * the reason and returns false on a bad name. */
bool cli_set_patch(const char *level, gchar **hunks);

/* json_out.c: `--json` documents. cli_json_begin() opens the object with
 * the common head (version, command, kernel, patch switches);
 * cli_json_print() closes it, prints it and frees the builder. */
JsonBuilder *cli_json_begin(const char *command);
void cli_json_print(JsonBuilder *b);
void cli_json_member_int(JsonBuilder *b, const char *name, gint64 value);
void cli_json_member_string(JsonBuilder *b, const char *name, const char *value);
void cli_json_member_ms(JsonBuilder *b, const char *name, double seconds);
void cli_json_member_rate(JsonBuilder *b, const char *name, uint64_t count, double seconds);
/* The failure as an object {invariant, kind, line, command, region, page},
 * null for a pass or no outcome. */
void cli_json_failure(JsonBuilder *b, const char *name, const struct outcome *oc);
const char *cli_verdict_name(enum verdict v);

/* progress.c: a status line on stderr for a replay that takes long. It
 * appears after the first second (short replays print nothing) and is
 * refreshed at most twice a second; cli_progress_end() erases it. */
struct cli_progress {
	bool on, shown;
	const char *what;
	guint steps;
	GTimer *timer;
	double delay, last;
};
void cli_progress_start(struct cli_progress *p, const char *what, guint steps, bool on);
void cli_progress_hook(const struct engine *e, const struct step_report *r, void *arg);
void cli_progress_end(struct cli_progress *p);

/* search_cmds.c */
int cmd_fuzz(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_diff(int argc, char **argv);
/* explore_cmd.c */
int cmd_explore(int argc, char **argv);
/* import_cmd.c */
int cmd_import(int argc, char **argv);
/* report_cmd.c */
int cmd_report(int argc, char **argv);

#endif
