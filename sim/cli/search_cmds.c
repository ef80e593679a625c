/* sim/cli/search_cmds.c - mmsim fuzz, minimize and diff. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "patch.h"
#include "search/fuzz.h"
#include "search/search.h"

/* --- fuzz --- */

static gint64 fz_seed = 1, fz_runs = G_MININT64, fz_ops;
static gdouble fz_time;
static gchar *fz_patch, *fz_config, *fz_out, *fz_emit, *fz_kernel;
static gboolean fz_stop, fz_quiet, fz_verbose, fz_print, fz_host, fz_json;

static const GOptionEntry fuzz_entries[] = {
	{ "seed", 's', 0, G_OPTION_ARG_INT64, &fz_seed, "Campaign seed (default 1)", "S" },
	{ "time", 't', 0, G_OPTION_ARG_DOUBLE, &fz_time, "Stop after T seconds", "T" },
	{ "runs", 'n', 0, G_OPTION_ARG_INT64, &fz_runs, "Stop after N traces", "N" },
	{ "patch", 'p', 0, G_OPTION_ARG_STRING, &fz_patch, "Patch level (default v6)", "L" },
	{ "ops", 0, 0, G_OPTION_ARG_INT64, &fz_ops,
	  "Operations per trace after the setup (default: by config)", "N" },
	{ "config", 'c', 0, G_OPTION_ARG_STRING, &fz_config, "small (default), medium or large",
	  "C" },
	{ "out", 'o', 0, G_OPTION_ARG_FILENAME, &fz_out,
	  "Write each find and its minimized form here", "DIR" },
	{ "stop", 0, 0, G_OPTION_ARG_NONE, &fz_stop, "Stop at the first find", NULL },
	{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &fz_quiet, "No progress line", NULL },
	{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &fz_verbose,
	  "A line for every trace that fails or is refused", NULL },
	{ "print", 0, 0, G_OPTION_ARG_NONE, &fz_print,
	  "Print every generated trace and its verdict (to study the generator)", NULL },
	{ "host", 0, 0, G_OPTION_ARG_NONE, &fz_host,
	  "Only steps tools/hostreplay can run on a stock kernel (the conformance suite)", NULL },
	{ "kernel", 'k', 0, G_OPTION_ARG_STRING, &fz_kernel,
	  "Kernel semantics: rwp (default) or 6.18 (see mmsim replay --help)", "KERNEL" },
	{ "emit", 0, 0, G_OPTION_ARG_FILENAME, &fz_emit,
	  "Also write every generated trace to DIR/tNNNNN.trace", "DIR" },
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &fz_json,
	  "Print the campaign's figures and finds as one JSON document (docs/json.md)", NULL },
	G_OPTION_ENTRY_NULL
};

/* fuzz --json: the summary line's figures and every find (docs/json.md). */
static void fuzz_json(const struct fuzz_options *o, const struct fuzz_stats *st, GArray *finds)
{
	JsonBuilder *b = cli_json_begin("fuzz");

	cli_json_member_int(b, "seed", o->seed);
	cli_json_member_string(b, "config", fz_config ? fz_config : "small");
	cli_json_member_int(b, "ops", o->gen.ops); /* 0: by config */
	json_builder_set_member_name(b, "host");
	json_builder_add_boolean_value(b, o->gen.host);
	cli_json_member_int(b, "traces", (gint64)st->runs);
	cli_json_member_ms(b, "milliseconds", st->seconds);
	cli_json_member_rate(b, "traces_per_second", st->runs, st->seconds);
	cli_json_member_int(b, "pass", (gint64)st->pass);
	cli_json_member_int(b, "fail", (gint64)st->fail);
	cli_json_member_int(b, "bad_input", (gint64)st->bad_input);
	json_builder_set_member_name(b, "finds");
	json_builder_begin_array(b);
	for (guint i = 0; i < finds->len; i++) {
		const struct fuzz_find *f = &g_array_index(finds, struct fuzz_find, i);
		json_builder_begin_object(b);
		cli_json_member_string(b, "class", f->cls);
		cli_json_failure(b, "failure", &f->oc);
		cli_json_member_int(b, "trace", (gint64)f->trace);
		cli_json_member_int(b, "generator_seed", f->tseed);
		cli_json_member_ms(b, "after_milliseconds", f->at);
		cli_json_member_int(b, "steps", f->steps);
		cli_json_member_int(b, "minimized_steps", search_count_steps(f->minimized));
		cli_json_member_int(b, "minimizer_replays", f->replays);
		cli_json_member_string(b, "minimized", f->minimized);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	cli_json_member_int(b, "exit", finds->len ? 1 : 0);
	cli_json_print(b);
}

int cmd_fuzz(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- random traces under the oracle");
	g_autoptr(GError) error = NULL;
	struct fuzz_options o = { 0 };
	struct fuzz_stats st;

	g_option_context_add_main_entries(ctx, fuzz_entries, NULL);
	g_option_context_set_summary(
		ctx, "Generate random valid traces (same seed, same traces), replay each with the "
		     "full oracle, and minimize the first trace of each violation class.\n"
		     "A class is the patch-08 hunk that alone removes the violation (K1 08a, "
		     "K2 08b, R2 08c, G1 08d, G2 08e), else the invariant's name.\n"
		     "Without --time or --runs it runs 60 s. Exit status: 0 nothing found, "
		     "1 violations found, 2 bad options.");
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
		fprintf(stderr, "mmsim fuzz: %s\n", error ? error->message : "unexpected argument");
		return 2;
	}
	bool runs_given = fz_runs != G_MININT64;
	if (fz_seed < 0 || fz_seed > G_MAXUINT32 || (runs_given && fz_runs < 0) || fz_time < 0 ||
	    fz_ops < 0 || fz_ops > 100000) {
		fprintf(stderr, "mmsim fuzz: --seed, --runs, --time and --ops take values >= 0 "
				"(seed < 2^32, ops <= 100000)\n");
		return 2;
	}
	if (!gen_size_parse(fz_config ? fz_config : "small", &o.gen.size)) {
		fprintf(stderr, "mmsim fuzz: unknown --config '%s' (small, medium, large)\n",
			fz_config);
		return 2;
	}
	if (!cli_set_patch(fz_patch, NULL))
		return 2;
	if (fz_kernel && !patch_set_kernel(fz_kernel)) {
		fprintf(stderr, "mmsim fuzz: unknown --kernel '%s' (rwp, 6.18)\n", fz_kernel);
		return 2;
	}
	o.gen.host = fz_host;
	o.emit_dir = fz_emit;
	o.seed = (uint32_t)fz_seed;
	o.runs = runs_given ? (uint64_t)fz_runs : 0;
	o.seconds = fz_time ? fz_time : (runs_given ? 0 : 60);
	o.gen.ops = (unsigned)fz_ops;
	o.level = fz_patch ? fz_patch : "v6";
	o.out_dir = fz_out;
	o.stop_on_find = fz_stop;
	o.progress = !fz_quiet && isatty(2);
	o.verbose = fz_verbose && !fz_json;
	o.print = fz_print && !fz_json;
	g_autoptr(GArray) find_list = g_array_new(FALSE, TRUE, sizeof(struct fuzz_find));
	g_array_set_clear_func(find_list, fuzz_find_clear);
	o.finds = find_list;

	g_autoptr(GString) out = g_string_new(NULL);
	/* --runs 0 means none (fuzz_options.runs 0 means no limit). */
	unsigned finds =
		runs_given && !fz_runs ? (memset(&st, 0, sizeof(st)), 0) : fuzz_run(&o, out, &st);
	if (fz_json) {
		fuzz_json(&o, &st, find_list);
		return finds ? 1 : 0;
	}
	fputs(out->str, stdout);
	printf("fuzz --seed %u --patch %s --config %s: %" G_GUINT64_FORMAT " traces in %.1f s "
	       "(%.0f/s): %" G_GUINT64_FORMAT " pass, %" G_GUINT64_FORMAT
	       " fail, %" G_GUINT64_FORMAT " bad input; %u violation classes\n",
	       o.seed, o.level, fz_config ? fz_config : "small", st.runs, st.seconds,
	       st.seconds > 0 ? (double)st.runs / st.seconds : 0.0, st.pass, st.fail, st.bad_input,
	       finds);
	return finds ? 1 : 0;
}

/* --- minimize --- */

static gchar *mn_patch;
static gchar **mn_hunks;

static const GOptionEntry minimize_entries[] = {
	{ "patch", 'p', 0, G_OPTION_ARG_STRING, &mn_patch, "Patch level (default v6)", "L" },
	{ "hunk", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &mn_hunks, "Override one switch",
	  "NAME=on|off" },
	G_OPTION_ENTRY_NULL
};

int cmd_minimize(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("FILE - shrink a failing trace");
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GString) err = g_string_new(NULL);
	struct outcome want;

	g_option_context_add_main_entries(ctx, minimize_entries, NULL);
	g_option_context_set_summary(
		ctx, "Delta debugging over steps, then simpler ranges, values and flags, keeping "
		     "the same oracle invariant (and patch-08 kind) failing. Prints the result "
		     "in canonical form. Exit status: 0 minimized, 1 the trace does not fail "
		     "with an oracle violation, 2 bad input.");
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
		fprintf(stderr, "mmsim minimize: %s\n", error ? error->message : "give one FILE");
		return 2;
	}
	if (!cli_set_patch(mn_patch, mn_hunks))
		return 2;
	if (!g_file_get_contents(argv[1], &text, NULL, &error)) {
		fprintf(stderr, "mmsim minimize: %s\n", error->message);
		return 2;
	}
	search_replay_text(argv[1], text, &want, err);
	if (want.verdict == VERDICT_BAD_INPUT) {
		fprintf(stderr, "%s\n", err->str);
		return 2;
	}
	if (!outcome_is_violation(&want)) {
		fprintf(stderr, "mmsim minimize: %s %s at this patch level; nothing to keep\n",
			argv[1], want.verdict == VERDICT_PASS ? "passes" : "fails an expectation");
		return 1;
	}
	search_classify(text, &want);
	unsigned replays;
	g_autofree char *min = search_minimize(text, &want, &replays);
	printf("# minimized from %s: %u -> %u steps in %u replays; %s%s%s\n", argv[1],
	       search_count_steps(text), search_count_steps(min), replays, want.invariant,
	       want.kind[0] ? ", kind " : "", want.kind);
	fputs(min, stdout);
	return 0;
}

/* --- diff --- */

static gchar *df_patch;

static const GOptionEntry diff_entries[] = {
	{ "patch", 'p', 0, G_OPTION_ARG_STRING, &df_patch, "Two patch levels", "A,B" }, { 0 }
};

/* Replay at one level with observations; the blocks start with '@'. */
static enum verdict observe_at(const struct trace *t, const char *level, GPtrArray *blocks,
			       GString *error)
{
	const struct replay_opts opts = { .oracle_on = true, .observe = true };
	g_autoptr(GString) out = g_string_new(NULL);

	patch_set_level(level);
	enum verdict v = engine_replay_with(t, &opts, out, error);
	g_auto(GStrv) parts = g_strsplit(out->str, "\n@", -1);
	for (guint i = 0; parts[i]; i++)
		if (*parts[i])
			g_ptr_array_add(blocks,
					g_strconcat(i ? "@" : "", parts[i],
						    g_str_has_suffix(parts[i], "\n") ? "" : "\n",
						    NULL));
	return v;
}

static const char *verdict_word(enum verdict v)
{
	return v == VERDICT_PASS ? "PASS" : v == VERDICT_FAIL ? "FAIL" : "BAD";
}

int cmd_diff(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("FILE - compare two patch levels");
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) err = g_string_new(NULL);

	g_option_context_add_main_entries(ctx, diff_entries, NULL);
	g_option_context_set_summary(
		ctx, "Replay FILE at levels A and B and print the first step whose result, page "
		     "states, uffd queues or oracle verdict differ, with both observations.\n"
		     "Exit status: 0 no difference, 1 a difference, 2 bad input.");
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
		fprintf(stderr, "mmsim diff: %s\n", error ? error->message : "give one FILE");
		return 2;
	}
	g_auto(GStrv) levels = g_strsplit(df_patch ? df_patch : "", ",", -1);
	if (g_strv_length(levels) != 2 || !patch_set_level(levels[0]) ||
	    !patch_set_level(levels[1])) {
		fprintf(stderr,
			"mmsim diff: --patch takes two levels A,B (see mmsim list-patches)\n");
		return 2;
	}
	struct trace *t = trace_parse_file(argv[1], err);
	if (!t) {
		fprintf(stderr, "%s\n", err->str);
		return 2;
	}
	g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) err_b = g_string_new(NULL);
	enum verdict va = observe_at(t, levels[0], a, err);
	enum verdict vb = observe_at(t, levels[1], b, err_b);
	int status = 0;

	if (va == VERDICT_BAD_INPUT || vb == VERDICT_BAD_INPUT) {
		fprintf(stderr, "%s\n", va == VERDICT_BAD_INPUT ? err->str : err_b->str);
		trace_free(t);
		return 2;
	}
	for (guint k = 0; k < MAX(a->len, b->len); k++) {
		const char *x = k < a->len ? g_ptr_array_index(a, k) : NULL;
		const char *y = k < b->len ? g_ptr_array_index(b, k) : NULL;
		if (x && y && !strcmp(x, y))
			continue;
		const char *at = x ? x : y;
		unsigned line = (unsigned)strtoul(at + 1, NULL, 10);
		g_autoptr(GString) step = g_string_new(NULL);
		for (guint i = 0; i < t->steps->len; i++) {
			const struct step *s = &g_array_index(t->steps, struct step, i);
			if (s->line == line)
				trace_write_step(step, s);
		}
		printf("first difference at line %u: %s--- %s\n%s+++ %s\n%s", line, step->str,
		       levels[0], x ? x : "  (stopped earlier)\n", levels[1],
		       y ? y : "  (stopped earlier)\n");
		status = 1;
		break;
	}
	if (!status && va != vb)
		status = 1; /* a failed expectation after the last observed step */
	printf("verdicts: %s %s%s%s%s, %s %s%s%s%s\n", levels[0], verdict_word(va),
	       err->len ? " (" : "", err->str, err->len ? ")" : "", levels[1], verdict_word(vb),
	       err_b->len ? " (" : "", err_b->str, err_b->len ? ")" : "");
	if (!status)
		printf("no difference in %u steps\n", a->len);
	patch_set_level("v6");
	trace_free(t);
	return status;
}
