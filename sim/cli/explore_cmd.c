/* sim/cli/explore_cmd.c - mmsim explore. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "search/explore.h"

static gint ex_depth = 4;
static gchar *ex_config, *ex_patch, *ex_shard;
static gboolean ex_quiet, ex_list, ex_json;

static const GOptionEntry explore_entries[] = {
	{ "depth", 'd', 0, G_OPTION_ARG_INT, &ex_depth, "Operations after the setup (default 4)",
	  "D" },
	{ "config", 'c', 0, G_OPTION_ARG_STRING, &ex_config, "small (the only one so far)", "C" },
	{ "patch", 'p', 0, G_OPTION_ARG_STRING, &ex_patch, "Patch level (default v6)", "L" },
	{ "shard", 0, 0, G_OPTION_ARG_STRING, &ex_shard,
	  "Explore shard i of N (0 <= i < N) of the first level's states", "i/N" },
	{ "list", 0, 0, G_OPTION_ARG_NONE, &ex_list, "Print the setup and the alphabet", NULL },
	{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &ex_quiet, "No progress line", NULL },
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &ex_json,
	  "Print the figures and counterexamples as one JSON document (docs/json.md)", NULL },
	G_OPTION_ENTRY_NULL
};

/* explore --json: the summary line's figures and each shortest
 * counterexample (docs/json.md). */
static int explore_json(const struct explore_options *o, const struct explore_stats *st,
			GArray *finds, unsigned found)
{
	JsonBuilder *b = cli_json_begin("explore");
	int status = found || st->crashes ? 1 : 0;

	cli_json_member_int(b, "depth", o->depth);
	json_builder_set_member_name(b, "shard");
	json_builder_begin_array(b);
	json_builder_add_int_value(b, o->shard);
	json_builder_add_int_value(b, o->nr_shards);
	json_builder_end_array(b);
	cli_json_member_int(b, "states", (gint64)st->states);
	json_builder_set_member_name(b, "states_per_depth");
	json_builder_begin_array(b);
	for (unsigned d = 0; d <= o->depth; d++)
		json_builder_add_int_value(b, (gint64)st->per_depth[d]);
	json_builder_end_array(b);
	cli_json_member_int(b, "branches", (gint64)st->branches);
	cli_json_member_int(b, "replayed", (gint64)st->replays);
	cli_json_member_int(b, "pruned", (gint64)st->pruned);
	cli_json_member_int(b, "refused", (gint64)st->refused);
	cli_json_member_int(b, "crashed", (gint64)st->crashes);
	cli_json_member_int(b, "alphabet", st->alphabet);
	cli_json_member_ms(b, "milliseconds", st->seconds);
	cli_json_member_rate(b, "states_per_second", st->states, st->seconds);
	cli_json_member_rate(b, "branches_per_second", st->branches, st->seconds);
	json_builder_set_member_name(b, "violations");
	json_builder_begin_array(b);
	for (guint i = 0; i < finds->len; i++) {
		const struct explore_find *f = &g_array_index(finds, struct explore_find, i);
		json_builder_begin_object(b);
		cli_json_failure(b, "failure", &f->oc);
		cli_json_member_int(b, "depth", f->depth);
		cli_json_member_ms(b, "after_milliseconds", f->at);
		cli_json_member_string(b, "message", f->error);
		cli_json_member_string(b, "trace", f->text);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	cli_json_member_int(b, "exit", status);
	cli_json_print(b);
	return status;
}

int cmd_explore(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- exhaustive bounded search");
	g_autoptr(GError) error = NULL;
	struct explore_options o = { .nr_shards = 1 };
	struct explore_stats st;

	g_option_context_add_main_entries(ctx, explore_entries, NULL);
	g_option_context_set_summary(
		ctx, "Every sequence of up to D operations over a fixed alphabet, from a fixed "
		     "setup, breadth first; a state reached before is not extended. Prints "
		     "states, states per second and the shortest counterexample per invariant.\n"
		     "Exit status: 0 nothing found, 1 violations found, 2 bad options.");
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
		fprintf(stderr, "mmsim explore: %s\n",
			error ? error->message : "unexpected argument");
		return 2;
	}
	if (ex_depth < 0 || ex_depth > EXPLORE_MAX_DEPTH) {
		fprintf(stderr, "mmsim explore: --depth must be 0..%d\n", EXPLORE_MAX_DEPTH);
		return 2;
	}
	if (ex_config && strcmp(ex_config, "small")) {
		fprintf(stderr, "mmsim explore: unknown --config '%s' (small)\n", ex_config);
		return 2;
	}
	if (ex_shard) {
		char *end;
		unsigned long i = strtoul(ex_shard, &end, 10), n = 0;
		if (*end == '/')
			n = strtoul(end + 1, &end, 10);
		if (*end || !n || i >= n || n > 1000000) {
			fprintf(stderr, "mmsim explore: --shard takes i/N with 0 <= i < N\n");
			return 2;
		}
		o.shard = (unsigned)i;
		o.nr_shards = (unsigned)n;
	}
	if (ex_list) {
		printf("setup:\n%salphabet:\n", explore_setup);
		for (unsigned i = 0; explore_op_text(i); i++)
			printf("  %s\n", explore_op_text(i));
		return 0;
	}
	if (!cli_set_patch(ex_patch, NULL))
		return 2;
	o.depth = (unsigned)ex_depth;
	o.level = ex_patch ? ex_patch : "v6";
	o.progress = !ex_quiet && isatty(2);
	o.depth_lines = !ex_json;
	g_autoptr(GArray) finds = g_array_new(FALSE, TRUE, sizeof(struct explore_find));
	g_array_set_clear_func(finds, explore_find_clear);
	o.finds = finds;

	g_autoptr(GString) out = g_string_new(NULL);
	unsigned found = explore_run(&o, out, &st);
	if (ex_json)
		return explore_json(&o, &st, finds, found);
	fputs(out->str, stdout);
	printf("explore --depth %u --patch %s", o.depth, o.level);
	if (o.nr_shards > 1)
		printf(" --shard %u/%u", o.shard, o.nr_shards);
	printf(": %" G_GUINT64_FORMAT " states (", st.states);
	for (unsigned d = 0; d <= o.depth; d++)
		printf("%s%" G_GUINT64_FORMAT, d ? " " : "", st.per_depth[d]);
	printf(" per depth), %" G_GUINT64_FORMAT " branches from %" G_GUINT64_FORMAT
	       " replayed states, %" G_GUINT64_FORMAT " pruned, %" G_GUINT64_FORMAT
	       " refused, alphabet %u, %.1f s (%.0f states/s, %.0f branches/s); %u "
	       "invariants violated\n",
	       st.branches, st.replays, st.pruned, st.refused, st.alphabet, st.seconds,
	       st.seconds > 0 ? (double)st.states / st.seconds : 0.0,
	       st.seconds > 0 ? (double)st.branches / st.seconds : 0.0, found);
	if (st.crashes)
		printf("%" G_GUINT64_FORMAT " branch processes died (see above)\n", st.crashes);
	return found || st.crashes ? 1 : 0;
}
