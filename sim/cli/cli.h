/* sim/cli/cli.h - what the mmsim subcommand files share. */
#ifndef MMSIM_CLI_H
#define MMSIM_CLI_H

#include <glib.h>
#include <stdbool.h>

/* Select a patch level (NULL: v6) and apply NAME=on|off overrides; prints
 * the reason and returns false on a bad name. */
bool cli_set_patch(const char *level, gchar **hunks);

/* search_cmds.c */
int cmd_fuzz(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_diff(int argc, char **argv);
/* explore_cmd.c */
int cmd_explore(int argc, char **argv);
/* import_cmd.c */
int cmd_import(int argc, char **argv);

#endif
