/* tests/unit/test_trace_docs.c - docs/trace-format.md documents the schema
 * it claims to: every command, key and allowed value, with the help text,
 * and its example traces parse. Found through MMSIM_SOURCE_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "trace/trace.h"

static char *doc;

static int load_doc(void **state)
{
	const char *src = getenv("MMSIM_SOURCE_DIR");
	g_autofree char *path = NULL;

	if (!src || !*src)
		return 0;
	path = g_build_filename(src, "docs", "trace-format.md", NULL);
	if (!g_file_get_contents(path, &doc, NULL, NULL)) {
		print_message("cannot read %s\n", path);
		return -1;
	}
	return 0;
}

static int free_doc(void **state)
{
	g_free(doc);
	doc = NULL;
	return 0;
}

static void need_doc(void)
{
	if (!doc) {
		print_message("MMSIM_SOURCE_DIR is not set: skipping the docs check\n");
		skip();
	}
}

/* The text from "### `name`" up to the next heading of level 2 or 3. */
static char *command_section(const char *name)
{
	g_autofree char *heading = g_strdup_printf("\n### `%s`\n", name);
	const char *start = strstr(doc, heading), *end, *end2;

	if (!start)
		return NULL;
	start += strlen(heading);
	end = strstr(start, "\n### ");
	end2 = strstr(start, "\n## ");
	if (!end || (end2 && end2 < end))
		end = end2;
	return end ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
}

static const char *const kind_upper[] = { "", "PROC", "FILE", "REGION", "UFFD", "HUNK" };
static const char *const kind_lower[] = { "", "process", "file", "region", "uffd", "hunk" };
static const char *const kind_declarer[] = { "", "process", "file", "mmap", "uffd open", "" };
static const char *const type_doc[] = { "number", "size", "page list", "flags",
					"enum",	  "name", "prot" };
static const char *const type_meta[] = { "N", "SIZE", "PAGES", "FLAGS", "NAME", "NAME", "PROT" };

static void gen_values(GString *o, const struct key_desc *k)
{
	bool hex = !strcmp(k->key, "value") || !strcmp(k->key, "at");

	switch (k->type) {
	case ARG_NAME:
		g_string_append_printf(o, "a %s name", kind_upper[k->name_kind]);
		break;
	case ARG_FLAGS:
	case ARG_ENUM:
		if (k->type == ARG_FLAGS)
			g_string_append(o, "`0` or ");
		for (const struct flag_name *f = k->table; f->name; f++)
			g_string_append_printf(o, "%s`%s`", f == k->table ? "" : ", ", f->name);
		if (k->type == ARG_FLAGS)
			g_string_append(o, ", joined by `\\|`");
		break;
	case ARG_U64:
		g_string_append(o, hex ? "decimal or `0x` hex; written in hex"
				       : "decimal or `0x` hex");
		break;
	case ARG_SIZE:
		g_string_append(o, "bytes, optional `K`/`M`/`G`");
		break;
	case ARG_RANGE:
		g_string_append(o, "`none` or items `N` / `A-B` joined by `,`");
		break;
	case ARG_PROT:
		g_string_append(o, "`none` or a subset of `rwx`");
		break;
	}
}

/* The command reference exactly as docs/trace-format.md must hold it. */
static void gen_reference(GString *o)
{
	for (int c = 0; c < NR_CMDS; c++) {
		const struct cmd_desc *d = &cmd_descs[c];
		int i;

		g_string_append_printf(o, "### `%s`\n\n%s.\n\n```\n%s", d->name, d->help, d->name);
		for (i = 0; i < MAX_POSITIONAL && d->positional[i]; i++)
			g_string_append_printf(o, " %s", kind_upper[d->positional[i]]);
		for (i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
			const struct key_desc *k = &d->keys[i];
			const char *m =
				k->type == ARG_NAME ? kind_upper[k->name_kind] : type_meta[k->type];

			g_string_append_printf(o, k->required ? " %s=%s" : " [%s=%s]", k->key, m);
		}
		g_string_append(o, "\n```\n\n");
		for (i = 0; i < MAX_POSITIONAL && d->positional[i]; i++) {
			enum name_kind nk = d->positional[i];

			if (i == 0 && d->declares) {
				g_string_append_printf(o, "- `%s`: declares a new %s name.\n",
						       kind_upper[nk], kind_lower[nk]);
			} else if (nk == NAME_HUNK) {
				g_string_append(o, "- `HUNK`: one of");
				for (int h = 0; h < NR_HUNKS; h++)
					g_string_append_printf(o, "%s `%s`", h ? "," : "",
							       hunk_descs[h].name);
				g_string_append(o, ".\n");
			} else {
				g_string_append_printf(
					o, "- `%s`: a %s declared earlier by `%s`.\n",
					kind_upper[nk], kind_lower[nk], kind_declarer[nk]);
			}
		}
		if (d->positional[0])
			g_string_append_c(o, '\n');
		if (!d->keys[0].key) {
			g_string_append(o, "No keys.\n\n");
			continue;
		}
		g_string_append(o,
				"| key | type | required | values |\n| --- | --- | --- | --- |\n");
		for (i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
			const struct key_desc *k = &d->keys[i];

			g_string_append_printf(o, "| `%s` | %s | %s | ", k->key, type_doc[k->type],
					       k->required ? "yes" : "no");
			gen_values(o, k);
			g_string_append(o, " |\n");
		}
		g_string_append_c(o, '\n');
	}
}

/* On a mismatch the expected text is written next to the test binary, so
 * updating the doc after a schema change is one copy. */
static void the_command_reference_is_exactly_the_generated_one(void **state)
{
	g_autoptr(GString) want = g_string_new(NULL);
	const char *start, *end;

	need_doc();
	gen_reference(want);
	start = strstr(doc, "\n## Command reference");
	assert_non_null(start);
	start = strstr(start, "\n### `");
	assert_non_null(start);
	start++;
	end = strstr(start, "## Example traces");
	assert_non_null(end);
	if ((size_t)(end - start) != want->len || memcmp(start, want->str, want->len)) {
		g_file_set_contents("trace-format.reference.md", want->str, (gssize)want->len,
				    NULL);
		fail_msg("docs/trace-format.md's command reference is not the one the schema "
			 "generates: replace it (from the first '### ' up to '## Example "
			 "traces') with trace-format.reference.md from the test's directory");
	}
}

static void every_command_and_key_name_appears_in_the_doc(void **state)
{
	need_doc();
	for (int c = 0; c < NR_CMDS; c++) {
		if (!strstr(doc, cmd_descs[c].name))
			fail_msg("docs/trace-format.md never mentions '%s'", cmd_descs[c].name);
		for (int i = 0; i < MAX_KEYS && cmd_descs[c].keys[i].key; i++)
			if (!strstr(doc, cmd_descs[c].keys[i].key))
				fail_msg("docs/trace-format.md never mentions key '%s'",
					 cmd_descs[c].keys[i].key);
	}
}

static void each_command_section_matches_the_schema(void **state)
{
	need_doc();
	for (int c = 0; c < NR_CMDS; c++) {
		const struct cmd_desc *d = &cmd_descs[c];
		g_autofree char *sec = command_section(d->name);

		if (!sec)
			fail_msg("no '### `%s`' section in docs/trace-format.md", d->name);
		if (!strstr(sec, d->help))
			fail_msg("section '%s' lacks the help text \"%s\"", d->name, d->help);
		for (int i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
			const struct key_desc *k = &d->keys[i];
			g_autofree char *cell = g_strdup_printf("| `%s` |", k->key);

			if (!strstr(sec, cell))
				fail_msg("section '%s' has no table row for key '%s'", d->name,
					 k->key);
			if (k->type != ARG_FLAGS && k->type != ARG_ENUM)
				continue;
			for (const struct flag_name *f = k->table; f->name; f++) {
				g_autofree char *v = g_strdup_printf("`%s`", f->name);

				if (!strstr(sec, v))
					fail_msg("section '%s' does not list %s= value '%s'",
						 d->name, k->key, f->name);
			}
		}
		if (d->positional[0] == NAME_HUNK)
			for (int h = 0; h < NR_HUNKS; h++) {
				g_autofree char *v = g_strdup_printf("`%s`", hunk_descs[h].name);

				if (!strstr(sec, v))
					fail_msg("section 'hunk' does not list hunk '%s'",
						 hunk_descs[h].name);
			}
	}
}

/* The doc must not describe commands the schema does not have. */
static void the_doc_has_no_stale_command_sections(void **state)
{
	const char *p;

	need_doc();
	p = strstr(doc, "\n## Command reference");
	assert_non_null(p);
	while ((p = strstr(p + 1, "\n### `"))) {
		const char *name = p + 6, *end = strchr(name, '`');
		g_autofree char *n = g_strndup(name, (gsize)(end - name));
		bool known = false;

		for (int c = 0; c < NR_CMDS; c++)
			known |= !strcmp(cmd_descs[c].name, n);
		if (!known)
			fail_msg("docs/trace-format.md documents unknown command '%s'", n);
	}
}

static void the_example_traces_parse(void **state)
{
	const char *p;
	unsigned n = 0;

	need_doc();
	p = strstr(doc, "\n## Example traces");
	assert_non_null(p);
	while ((p = strstr(p, "\n```\n"))) {
		const char *start = p + 5, *end = strstr(start, "\n```\n");
		g_autoptr(GString) err = g_string_new(NULL);

		assert_non_null(end);
		g_autofree char *text = g_strndup(start, (gsize)(end - start + 1));
		struct trace *t = trace_parse_string("example.trace", text, err);
		if (!t)
			fail_msg("example %u does not parse: %s", n + 1, err->str);
		assert_true(t->steps->len > 10);
		trace_free(t);
		n++;
		p = end + 4;
	}
	assert_true(n >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command_and_key_name_appears_in_the_doc),
		cmocka_unit_test(each_command_section_matches_the_schema),
		cmocka_unit_test(the_doc_has_no_stale_command_sections),
		cmocka_unit_test(the_example_traces_parse),
		cmocka_unit_test(the_command_reference_is_exactly_the_generated_one),
	};

	return cmocka_run_group_tests_name("trace_docs", tests, load_doc, free_doc);
}
