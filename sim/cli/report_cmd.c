/* sim/cli/report_cmd.c - mmsim report: one trace's replay as a static HTML page. */
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "patch.h"
#include "report/report.h"

static gchar *opt_patch;
static gchar **opt_hunks;
static gchar *opt_kernel;
static gchar *opt_out;

static const GOptionEntry report_entries[] = {
	{ "patch", 'p', 0, G_OPTION_ARG_STRING, &opt_patch,
	  "Patch level: no08, v5 or v6 (default v6)", "LEVEL" },
	{ "hunk", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &opt_hunks,
	  "Override one switch, e.g. 08c=on (repeatable)", "NAME=on|off" },
	{ "kernel", 'k', 0, G_OPTION_ARG_STRING, &opt_kernel,
	  "Kernel semantics: rwp (the series, default) or 6.18", "KERNEL" },
	{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Write the page here ('-': stdout)",
	  "OUT" },
	G_OPTION_ENTRY_NULL
};

int cmd_report(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("FILE -o OUT - a trace as an HTML page");
	g_option_context_add_main_entries(ctx, report_entries, NULL);
	g_option_context_set_summary(
		ctx, "Replay one trace with the oracle and write a self-contained HTML page:\n"
		     "the trace, each region's page states and each userfaultfd's queue after\n"
		     "every step, and the first violation (docs/report.md).\n"
		     "Exit status: 0 the trace passes, 1 it fails (the page is still written),\n"
		     "2 bad input.");
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "mmsim report: %s\n", error->message);
		return 2;
	}
	if (argc != 2 || !opt_out) {
		fprintf(stderr, "mmsim report: give one trace FILE and -o OUT (see --help)\n");
		return 2;
	}
	if (opt_kernel && !patch_set_kernel(opt_kernel)) {
		fprintf(stderr, "mmsim report: unknown kernel '%s' (see mmsim list-patches)\n",
			opt_kernel);
		return 2;
	}
	if (!cli_set_patch(opt_patch, opt_hunks))
		return 2;

	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_file(argv[1], err);
	if (!t) {
		fprintf(stderr, "%s\n", err->str);
		return 2;
	}
	struct report *rep = report_new(t);
	enum verdict v = report_replay(rep);
	int status = v == VERDICT_PASS ? 0 : v == VERDICT_FAIL ? 1 : 2;
	if (v == VERDICT_BAD_INPUT) {
		/* The trace itself is wrong: no page to read. */
		fprintf(stderr, "%s\n", rep->error->str);
	} else {
		g_autoptr(GString) page = g_string_new(NULL);
		bool to_stdout = !strcmp(opt_out, "-");
		report_write_html(rep, page);
		if (to_stdout) {
			fwrite(page->str, 1, page->len, stdout);
		} else if (!g_file_set_contents(opt_out, page->str, (gssize)page->len, &error)) {
			fprintf(stderr, "mmsim report: %s\n", error->message);
			report_free(rep);
			trace_free(t);
			return 2;
		}
		/* The verdict as mmsim replay prints it, then what was written
		 * (on stderr when stdout is the page). */
		fprintf(to_stdout ? stderr : stdout,
			"%s %s [%s]%s%s\nwrote %s: %u steps, %" G_GSIZE_FORMAT " bytes\n",
			v == VERDICT_PASS ? "PASS" : "FAIL", argv[1], rep->level,
			v == VERDICT_PASS ? "" : ": ", rep->error->str, opt_out, rep->steps->len,
			page->len);
	}
	report_free(rep);
	trace_free(t);
	return status;
}
