/* sim/cli/json_out.c - the --json documents of replay, fuzz and explore.
 *
 * Every document is one JSON object on stdout with the same head: mmsim's
 * version, the command, the kernel semantics and the patch switches in force,
 * so a consumer never has to guess which model produced a result. The
 * schema is in docs/json.md; field names only ever get added.
 */
#include <stdio.h>

#include "cli.h"
#include "patch.h"

JsonBuilder *cli_json_begin(const char *command)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "mmsim");
	json_builder_add_string_value(b, MMSIM_VERSION);
	json_builder_set_member_name(b, "command");
	json_builder_add_string_value(b, command);
	json_builder_set_member_name(b, "kernel");
	json_builder_add_string_value(b, kernel_base->name);
	/* null when --hunk overrides make the switches match no level */
	json_builder_set_member_name(b, "patch");
	if (patch_current_level())
		json_builder_add_string_value(b, patch_current_level());
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "hunks");
	json_builder_begin_object(b);
	for (int h = 0; h < NR_HUNKS; h++) {
		json_builder_set_member_name(b, hunk_descs[h].name);
		json_builder_add_boolean_value(b, patch_hunk(h));
	}
	json_builder_end_object(b);
	return b;
}

void cli_json_member_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

/* Times and rates are whole numbers: they are the only figures that vary
 * from run to run, and integers keep the documents easy to diff. */
void cli_json_member_ms(JsonBuilder *b, const char *name, double seconds)
{
	cli_json_member_int(b, name, (gint64)(seconds * 1000 + 0.5));
}

void cli_json_member_rate(JsonBuilder *b, const char *name, uint64_t count, double seconds)
{
	cli_json_member_int(b, name, seconds > 0 ? (gint64)((double)count / seconds + 0.5) : 0);
}

void cli_json_member_string(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	if (value)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

const char *cli_verdict_name(enum verdict v)
{
	return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "bad-input";
}

void cli_json_failure(JsonBuilder *b, const char *name, const struct outcome *oc)
{
	json_builder_set_member_name(b, name);
	if (!oc || oc->verdict == VERDICT_PASS) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	/* an oracle invariant (docs/invariants.md), "expectation" or "bad input" */
	cli_json_member_string(b, "invariant", oc->invariant);
	cli_json_member_string(b, "kind", oc->kind[0] ? oc->kind : NULL);
	cli_json_member_int(b, "line", oc->line);
	cli_json_member_string(b, "command",
			       oc->cmd >= 0 && oc->cmd < NR_CMDS ? cmd_descs[oc->cmd].name : NULL);
	cli_json_member_string(b, "region", oc->region[0] ? oc->region : NULL);
	json_builder_set_member_name(b, "page");
	if (oc->region[0])
		json_builder_add_int_value(b, (gint64)oc->page);
	else
		json_builder_add_null_value(b);
	json_builder_end_object(b);
}

void cli_json_print(JsonBuilder *b)
{
	json_builder_end_object(b);
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autoptr(JsonGenerator) gen = json_generator_new();

	json_generator_set_pretty(gen, TRUE);
	json_generator_set_indent(gen, 2);
	json_generator_set_root(gen, root);
	g_autofree char *text = json_generator_to_data(gen, NULL);
	puts(text);
	g_object_unref(b);
}
