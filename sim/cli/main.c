/* sim/cli/main.c - the mmsim command line: replay, verdicts, list-patches. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"
#include "patch.h"

static gchar *opt_patch;
static gchar **opt_hunks;
static gboolean opt_verbose;
static gboolean opt_no_oracle;
static gboolean opt_observe;
static gchar *opt_check;
static gchar *opt_kernel;
static gboolean opt_json;
static gboolean opt_quiet;

static const GOptionEntry replay_entries[] = {
	{ "patch", 'p', 0, G_OPTION_ARG_STRING, &opt_patch,
	  "Patch level: no08, v5 or v6 (default v6)", "LEVEL" },
	{ "hunk", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &opt_hunks,
	  "Override one switch, e.g. 08c=on (repeatable)", "NAME=on|off" },
	{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Print every step and its result",
	  NULL },
	{ "no-oracle", 0, 0, G_OPTION_ARG_NONE, &opt_no_oracle,
	  "Do not run the oracle (expectations only)", NULL },
	{ "observe", 'o', 0, G_OPTION_ARG_NONE, &opt_observe,
	  "After every step print its result, each region's page states and each uffd's queue",
	  NULL },
	{ "kernel", 'k', 0, G_OPTION_ARG_STRING, &opt_kernel,
	  "Kernel semantics: rwp (the series, default) or 6.18 (mainline: no RWP UAPI; "
	  "--observe then prints what tools/hostreplay can see)",
	  "KERNEL" },
	{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
	  "No progress line (it is only shown on a terminal, for traces that take over a second)",
	  NULL },
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
	  "Print one JSON document with every trace's verdict and failure (docs/json.md)", NULL },
	G_OPTION_ENTRY_NULL
};

static const GOptionEntry verdict_entries[] = {
	{ "check", 'c', 0, G_OPTION_ARG_FILENAME, &opt_check,
	  "Compare the table with this expected-verdicts file; exit 1 on any difference", "FILE" },
	G_OPTION_ENTRY_NULL
};

bool cli_set_patch(const char *level, gchar **hunks)
{
	if (!patch_set_level(level ? level : "v6")) {
		fprintf(stderr, "mmsim: unknown patch level '%s' (see mmsim list-patches)\n",
			level);
		return false;
	}
	for (gchar **h = hunks; h && *h; h++) {
		if (!patch_set_hunk(*h)) {
			fprintf(stderr,
				"mmsim: bad --hunk '%s' (NAME=on|off, see mmsim list-patches)\n",
				*h);
			return false;
		}
	}
	return true;
}

static bool apply_patch_options(void)
{
	if (opt_kernel && !patch_set_kernel(opt_kernel)) {
		fprintf(stderr, "mmsim: unknown kernel '%s' (see mmsim list-patches)\n",
			opt_kernel);
		return false;
	}
	return cli_set_patch(opt_patch, opt_hunks);
}

/* Replay one file; returns its verdict and fills first (first failure). */
static enum verdict replay_file(const char *path, bool verbose, GString *first)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_file(path, err);
	if (!t) {
		g_string_assign(first, err->str);
		return VERDICT_BAD_INPUT;
	}
	g_autoptr(GString) out = g_string_new(NULL);
	struct cli_progress progress;
	/* Progress only where a person watches, and not mixed into a
	 * step-by-step log on the same terminal. */
	cli_progress_start(&progress, path, t->steps->len,
			   !opt_quiet && !verbose && !opt_observe && isatty(2));
	const struct replay_opts opts = { .verbose = verbose,
					  .oracle_on = !opt_no_oracle,
					  .observe = opt_observe,
					  .step_hook = progress.on ? cli_progress_hook : NULL,
					  .step_hook_arg = &progress };
	enum verdict v = engine_replay_with(t, &opts, out, err);
	cli_progress_end(&progress);
	trace_free(t);
	if (verbose || opt_observe)
		fputs(out->str, stdout);
	g_string_assign(first, err->str);
	return v;
}

/* What engine_last_failure says about the last replay, as a search
 * outcome; a violation also gets its patch-08 kind (search_classify). */
static void last_outcome(enum verdict v, const char *path, const char *message, struct outcome *oc)
{
	memset(oc, 0, sizeof(*oc));
	oc->verdict = v;
	oc->cmd = -1;
	if (v == VERDICT_PASS)
		return;
	if (v == VERDICT_BAD_INPUT) {
		/* The parser may have refused it before the engine ran, so
		 * the line comes from the "FILE:LINE: message" text. */
		oc->invariant = "bad input";
		if (g_str_has_prefix(message, path) && message[strlen(path)] == ':')
			oc->line = (uint32_t)strtoul(message + strlen(path) + 1, NULL, 10);
		return;
	}
	oc->invariant = engine_failure_kind;
	oc->line = engine_last_failure.line;
	oc->cmd = engine_last_failure.cmd;
	oc->advice = engine_last_failure.advice;
	oc->page = engine_last_failure.page;
	g_strlcpy(oc->region, engine_last_failure.region, sizeof(oc->region));
	g_autofree char *text = NULL;
	if (outcome_is_violation(oc) && g_file_get_contents(path, &text, NULL, NULL))
		search_classify(text, oc);
}

/* replay --json: the same replays, one document (docs/json.md). */
static int replay_json(int argc, char **argv)
{
	JsonBuilder *b = cli_json_begin("replay");
	int status = 0;

	cli_json_member_string(b, "oracle", opt_no_oracle ? "off" : "on");
	json_builder_set_member_name(b, "traces");
	json_builder_begin_array(b);
	for (int i = 1; i < argc; i++) {
		g_autoptr(GString) first = g_string_new(NULL);
		enum verdict v = replay_file(argv[i], false, first);
		struct outcome oc;

		last_outcome(v, argv[i], first->str, &oc);
		json_builder_begin_object(b);
		cli_json_member_string(b, "file", argv[i]);
		cli_json_member_string(b, "verdict", cli_verdict_name(v));
		cli_json_member_string(b, "message", v == VERDICT_PASS ? NULL : first->str);
		cli_json_failure(b, "failure", &oc);
		json_builder_end_object(b);
		if (v == VERDICT_BAD_INPUT)
			status = 2;
		else if (v == VERDICT_FAIL && status == 0)
			status = 1;
	}
	json_builder_end_array(b);
	cli_json_member_int(b, "exit", status);
	cli_json_print(b);
	return status;
}

static int cmd_replay(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("FILE... - replay traces");
	g_option_context_add_main_entries(ctx, replay_entries, NULL);
	g_option_context_set_summary(ctx, "Replay each trace on a fresh simulated machine and "
					  "check the oracle after every step.\n"
					  "Exit status: 0 all pass, 1 a violation or failed "
					  "expectation, 2 bad input.");
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "mmsim replay: %s\n", error->message);
		return 2;
	}
	if (argc < 2) {
		fprintf(stderr, "mmsim replay: no trace given (see --help)\n");
		return 2;
	}
	if (!apply_patch_options())
		return 2;
	if (opt_json && (opt_verbose || opt_observe)) {
		fprintf(stderr, "mmsim replay: --json cannot be combined with --verbose or "
				"--observe\n");
		return 2;
	}
	if (opt_json)
		return replay_json(argc, argv);
	int status = 0;
	for (int i = 1; i < argc; i++) {
		g_autoptr(GString) first = g_string_new(NULL);
		enum verdict v = replay_file(argv[i], opt_verbose, first);
		if (v == VERDICT_BAD_INPUT) {
			fprintf(stderr, "%s\n", first->str);
			status = 2;
			continue;
		}
		printf("%s %s [%s%s%s]%s%s\n", v == VERDICT_PASS ? "PASS" : "FAIL", argv[i],
		       patch_current_level() ? patch_current_level() : "custom",
		       kernel_has_rwp() ? "" : ", kernel ",
		       kernel_has_rwp() ? "" : kernel_base->name, v == VERDICT_PASS ? "" : ": ",
		       first->str);
		if (v == VERDICT_FAIL && status == 0)
			status = 1;
	}
	return status;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every *.trace of a directory at every patch level; print the
 * verdict table; optionally compare it with an expected file. */
static int cmd_verdicts(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("DIR - the verdict table");
	g_option_context_add_main_entries(ctx, verdict_entries, NULL);
	g_option_context_set_summary(ctx, "Replay every DIR/*.trace at every patch level and print "
					  "PASS/FAIL per trace and level.");
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
		fprintf(stderr, "mmsim verdicts: %s\n", error ? error->message : "give one DIR");
		return 2;
	}
	g_autoptr(GDir) dir = g_dir_open(argv[1], 0, &error);
	if (!dir) {
		fprintf(stderr, "mmsim verdicts: %s\n", error->message);
		return 2;
	}
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	for (const char *n; (n = g_dir_read_name(dir));)
		if (g_str_has_suffix(n, ".trace"))
			g_ptr_array_add(files, g_build_filename(argv[1], n, NULL));
	g_ptr_array_sort(files, cmp_str);

	g_autoptr(GString) table = g_string_new(NULL);
	g_autoptr(GString) notes = g_string_new(NULL);
	g_autoptr(GString) kinds = g_string_new("\nfailures (trace @level: first failed check):\n");
	g_string_append_printf(table, "%-28s", "trace");
	for (unsigned l = 0; l < nr_patch_levels; l++)
		g_string_append_printf(table, " %-6s", patch_levels[l].name);
	g_string_append_c(table, '\n');
	int status = 0;
	for (guint i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		g_autofree char *base = g_path_get_basename(path);
		base[strlen(base) - strlen(".trace")] = 0;
		g_string_append_printf(table, "%-28s", base);
		for (unsigned l = 0; l < nr_patch_levels; l++) {
			patch_set_level(patch_levels[l].name);
			g_autoptr(GString) first = g_string_new(NULL);
			enum verdict v = replay_file(path, false, first);
			const char *word = v == VERDICT_PASS   ? "PASS"
					   : v == VERDICT_FAIL ? "FAIL"
							       : "BAD";
			g_string_append_printf(table, " %-6s", word);
			if (v != VERDICT_PASS) {
				g_string_append_printf(notes, "  %s @%s: %s\n", base,
						       patch_levels[l].name, first->str);
				g_string_append_printf(
					kinds, "  %s @%s: %s\n", base, patch_levels[l].name,
					engine_failure_kind ? engine_failure_kind : "?");
			}
			if (v == VERDICT_BAD_INPUT)
				status = 2;
		}
		g_string_append_c(table, '\n');
	}
	g_string_append(table, kinds->str);
	fputs(table->str, stdout);
	if (notes->len)
		printf("\ndetails:\n%s", notes->str);
	if (opt_check) {
		g_autofree char *want = NULL;
		if (!g_file_get_contents(opt_check, &want, NULL, &error)) {
			fprintf(stderr, "mmsim verdicts: %s\n", error->message);
			return 2;
		}
		if (strcmp(want, table->str)) {
			printf("\nverdict table differs from %s; expected:\n%s", opt_check, want);
			return status ? status : 1;
		}
		printf("\nverdict table matches %s\n", opt_check);
	}
	return status;
}

/* Print each trace in its canonical form (parse, then write). */
static int cmd_format(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "mmsim format: no trace given\n");
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		g_autoptr(GString) err = g_string_new(NULL);
		struct trace *t = trace_parse_file(argv[i], err);
		if (!t) {
			fprintf(stderr, "%s\n", err->str);
			status = 2;
			continue;
		}
		g_autoptr(GString) out = g_string_new(NULL);
		trace_write(out, t);
		fputs(out->str, stdout);
		trace_free(t);
	}
	return status;
}

static int cmd_list_patches(void)
{
	printf("patch levels (hunks on):\n");
	for (unsigned l = 0; l < nr_patch_levels; l++) {
		printf("  %-5s", patch_levels[l].name);
		for (int h = 0; h < NR_HUNKS; h++)
			if (patch_levels[l].hunks[h])
				printf(" %s", hunk_descs[h].name);
		printf("  - %s\n", patch_levels[l].summary);
	}
	printf("hunks:\n");
	for (int h = 0; h < NR_HUNKS; h++)
		printf("  %-13s %-30s %s\n", hunk_descs[h].name, hunk_descs[h].function,
		       hunk_descs[h].summary);
	printf("kernels (replay --kernel):\n");
	for (unsigned k = 0; k < nr_kernels; k++)
		printf("  %-5s %s\n", kernel_descs[k].name, kernel_descs[k].summary);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmsim COMMAND [OPTIONS]\n"
		   "  replay [--patch L] [--hunk H=on|off] [--kernel K] [--verbose] [--observe] "
		   "[--json] FILE...\n"
		   "  verdicts [--check FILE] DIR\n"
		   "  format FILE...      print traces in canonical form\n"
		   "  fuzz [--seed S] [--time T | --runs N] [--patch L] [--config C] [--out DIR] "
		   "[--json]\n"
		   "  minimize [--patch L] FILE   shrink a failing trace, same failure\n"
		   "  explore --depth D [--config small] [--patch L] [--shard i/N] [--json]\n"
		   "  diff --patch A,B FILE   first step where two patch levels differ\n"
		   "  import strace|lackey|ftrace FILE [--overlay rwp] [-o OUT]  capture to trace\n"
		   "  report [--patch L] [--hunk H=on|off] [--kernel K] FILE -o OUT  HTML page\n"
		   "  list-patches\n"
		   "  --version           mmsim's version and the kernel and series it models\n"
		   "Run 'mmsim COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version")) {
		/* What the model stands for: the kernels of `--kernel`, the
		 * series and its patch-08 levels (docs/fidelity.md). */
		printf("mmsim %s\n", MMSIM_VERSION);
		printf("models: Linux v6.18/v6.19 mm with the userfaultfd RWP series v6 "
		       "(Kiryl Shutsemau, 2026, 15 patches; patch 08 at levels");
		for (unsigned l = 0; l < nr_patch_levels; l++)
			printf(" %s", patch_levels[l].name);
		printf(")\nkernels (--kernel):");
		for (unsigned k = 0; k < nr_kernels; k++)
			printf(" %s", kernel_descs[k].name);
		printf("\n");
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verdicts"))
		return cmd_verdicts(argc - 1, argv + 1);
	if (!strcmp(argv[1], "format"))
		return cmd_format(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list-patches"))
		return cmd_list_patches();
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 1, argv + 1);
	if (!strcmp(argv[1], "minimize"))
		return cmd_minimize(argc - 1, argv + 1);
	if (!strcmp(argv[1], "explore"))
		return cmd_explore(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	fprintf(stderr, "mmsim: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
