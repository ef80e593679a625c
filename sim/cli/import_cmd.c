/* sim/cli/import_cmd.c - mmsim import strace|lackey|ftrace (docs/import.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "import/import.h"

static gchar *opt_ftrace, *opt_lackey, *opt_overlay, *opt_out, *opt_thp;
static gint opt_interval = 64, opt_long_every = 8, opt_max_kib = 900;

static const GOptionEntry import_entries[] = {
	{ "ftrace", 'f', 0, G_OPTION_ARG_FILENAME, &opt_ftrace,
	  "strace only: huge_memory events of the same run; each MADV_COLLAPSE gets the "
	  "scan status the kernel logged as 'expect scan is=...'",
	  "FILE" },
	{ "lackey", 0, 0, G_OPTION_ARG_FILENAME, &opt_lackey,
	  "not with strace: record with valgrind --trace-syscalls=yes and use 'mmsim import "
	  "lackey' (see docs/import.md)",
	  "FILE" },
	{ "overlay", 0, 0, G_OPTION_ARG_STRING, &opt_overlay,
	  "rwp: register every region for RWP and run the working-set loop over the program",
	  "rwp" },
	{ "interval", 'k', 0, G_OPTION_ARG_INT, &opt_interval,
	  "Accesses per batch and overlay interval (default 64)", "K" },
	{ "long-every", 0, 0, G_OPTION_ARG_INT, &opt_long_every,
	  "Overlay: khugepaged pass and reclaim every N intervals (default 8)", "N" },
	{ "max-kib", 0, 0, G_OPTION_ARG_INT, &opt_max_kib,
	  "Stop emitting accesses once the trace has this many KiB (default 900)", "N" },
	{ "thp", 0, 0, G_OPTION_ARG_STRING, &opt_thp,
	  "Start the trace with 'thp enabled=MODE' (the recording machine's setting)", "MODE" },
	{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
	  "Write the trace here (default stdout)", "OUT" },
	G_OPTION_ENTRY_NULL
};

static GPtrArray *read_ftrace(const char *path, unsigned *other, GString *err)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) e = NULL;
	if (!g_file_get_contents(path, &text, NULL, &e)) {
		g_string_printf(err, "%s:0: %s", path, e->message);
		return NULL;
	}
	return imp_ftrace_parse(path, text, other, err);
}

static int write_out(const GString *out)
{
	if (!opt_out) {
		fputs(out->str, stdout);
		return 0;
	}
	g_autoptr(GError) e = NULL;
	if (!g_file_set_contents(opt_out, out->str, (gssize)out->len, &e)) {
		fprintf(stderr, "mmsim import: %s\n", e->message);
		return 2;
	}
	return 0;
}

int cmd_import(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("strace|lackey|ftrace FILE - convert a capture into a trace");
	g_option_context_add_main_entries(ctx, import_entries, NULL);
	g_option_context_set_summary(
		ctx,
		"strace: 'strace -f -tt -T -o FILE' text; lackey: a valgrind log of "
		"--tool=lackey --trace-mem=yes --trace-syscalls=yes; ftrace: huge_memory events "
		"(prints one line per event).\nBad input: FILE:LINE: message, exit 2.");
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "mmsim import: %s\n", error->message);
		return 2;
	}
	if (argc != 3) {
		fprintf(stderr,
			"mmsim import: give a format (strace, lackey, ftrace) and a FILE\n");
		return 2;
	}
	const char *fmt = argv[1], *path = argv[2];
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) out = g_string_new(NULL);

	if (opt_overlay && strcmp(opt_overlay, "rwp")) {
		fprintf(stderr, "mmsim import: unknown --overlay '%s' (only rwp)\n", opt_overlay);
		return 2;
	}
	if (opt_interval < 1 || opt_long_every < 1 || opt_max_kib < 1) {
		fprintf(stderr,
			"mmsim import: --interval, --long-every and --max-kib take N >= 1\n");
		return 2;
	}
	if (opt_thp && strcmp(opt_thp, "always") && strcmp(opt_thp, "madvise") &&
	    strcmp(opt_thp, "never")) {
		fprintf(stderr, "mmsim import: --thp takes always, madvise or never\n");
		return 2;
	}
	if (!strcmp(fmt, "ftrace")) {
		unsigned other;
		g_autoptr(GPtrArray) evs = read_ftrace(path, &other, err);
		if (!evs) {
			fprintf(stderr, "%s\n", err->str);
			return 2;
		}
		imp_ftrace_summary(out, evs, other);
		return write_out(out);
	}
	if (strcmp(fmt, "strace") && strcmp(fmt, "lackey")) {
		fprintf(stderr, "mmsim import: unknown format '%s' (strace, lackey, ftrace)\n",
			fmt);
		return 2;
	}
	if (opt_lackey) {
		fprintf(stderr,
			"mmsim import: --lackey: strace and a separate valgrind run see "
			"different address spaces; record with 'tools/record --lackey' and use "
			"'mmsim import lackey LOG'\n");
		return 2;
	}
	if (opt_ftrace && strcmp(fmt, "strace")) {
		fprintf(stderr, "mmsim import: --ftrace goes with an strace capture\n");
		return 2;
	}
	struct imp_options o;
	imp_options_init(&o);
	o.overlay_rwp = opt_overlay != NULL;
	o.interval = (unsigned)opt_interval;
	o.long_every = (unsigned)opt_long_every;
	o.max_bytes = (uint64_t)opt_max_kib * 1024;
	o.thp = opt_thp;
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *source = g_strdup_printf("%s capture %s", fmt, base);
	o.source = source;

	g_autoptr(GPtrArray) ft = NULL;
	if (opt_ftrace) {
		unsigned other;
		ft = read_ftrace(opt_ftrace, &other, err);
		if (!ft) {
			fprintf(stderr, "%s\n", err->str);
			return 2;
		}
	}
	bool ok = imp_run(fmt, path, NULL, &o, ft, out, err);
	if (!ok) {
		fprintf(stderr, "%s\n", err->str);
		return 2;
	}
	return write_out(out);
}
