/* tests/unit/test_trace_schema.c - the schema in commands.c is well formed,
 * so the parser can check against it and the writer can print from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "trace/trace.h"

static bool is_lower_word(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_islower(s[i]) && s[i] != '-')
			return false;
	return true;
}

static void command_names_are_unique_lowercase_one_or_two_words(void **state)
{
	for (int c = 0; c < NR_CMDS; c++) {
		const char *n = cmd_descs[c].name, *sp;

		assert_non_null(n);
		sp = strchr(n, ' ');
		if (sp) {
			assert_true(is_lower_word(n, (size_t)(sp - n)));
			assert_true(is_lower_word(sp + 1, strlen(sp + 1)));
		} else {
			assert_true(is_lower_word(n, strlen(n)));
		}
		assert_non_null(cmd_descs[c].help);
		assert_true(cmd_descs[c].help[0]);
		for (int o = 0; o < c; o++)
			assert_string_not_equal(cmd_descs[o].name, n);
	}
}

/* A one-word command that is also the first word of a two-word one would
 * make "uffd open" ambiguous with "uffd" plus a name. */
static void no_one_word_command_prefixes_a_two_word_one(void **state)
{
	for (int c = 0; c < NR_CMDS; c++) {
		size_t l = strlen(cmd_descs[c].name);

		if (strchr(cmd_descs[c].name, ' '))
			continue;
		for (int o = 0; o < NR_CMDS; o++)
			assert_false(!strncmp(cmd_descs[o].name, cmd_descs[c].name, l) &&
				     cmd_descs[o].name[l] == ' ');
	}
}

static void positional_kinds_are_packed_and_declarers_are_unique(void **state)
{
	int declarers[NAME_HUNK + 1] = { 0 };

	for (int c = 0; c < NR_CMDS; c++) {
		const struct cmd_desc *d = &cmd_descs[c];
		bool ended = false;

		for (int i = 0; i < MAX_POSITIONAL; i++) {
			if (d->positional[i] == NAME_NONE)
				ended = true;
			else
				assert_false(ended);
			assert_true(d->positional[i] <= NAME_HUNK);
		}
		if (d->declares) {
			assert_true(d->positional[0] != NAME_NONE && d->positional[0] != NAME_HUNK);
			declarers[d->positional[0]]++;
		}
	}
	assert_int_equal(declarers[NAME_PROC], 2); /* process, fork */
	assert_int_equal(declarers[NAME_FILE], 1);
	assert_int_equal(declarers[NAME_REGION], 2); /* mmap, mremap */
	assert_int_equal(declarers[NAME_UFFD], 1);
}

static void keys_are_unique_and_typed_consistently(void **state)
{
	for (int c = 0; c < NR_CMDS; c++) {
		const struct cmd_desc *d = &cmd_descs[c];
		bool ended = false;

		for (int i = 0; i < MAX_KEYS; i++) {
			const struct key_desc *k = &d->keys[i];

			if (!k->key) {
				ended = true;
				continue;
			}
			assert_false(ended);
			assert_true(is_lower_word(k->key, strlen(k->key)));
			assert_int_equal(cmd_key_index((enum cmd)c, k->key), i);
			if (k->type == ARG_FLAGS || k->type == ARG_ENUM)
				assert_non_null(k->table);
			else
				assert_null(k->table);
			if (k->type == ARG_NAME)
				assert_true(k->name_kind != NAME_NONE && k->name_kind != NAME_HUNK);
			else
				assert_int_equal(k->name_kind, NAME_NONE);
		}
	}
}

/* The writer prints flags from the value: that is only faithful if every
 * name has its own non-zero bits. Enums must map names and values 1:1. */
static void flag_tables_are_disjoint_and_enum_tables_are_one_to_one(void **state)
{
	for (int c = 0; c < NR_CMDS; c++) {
		for (int i = 0; i < MAX_KEYS && cmd_descs[c].keys[i].key; i++) {
			const struct key_desc *k = &cmd_descs[c].keys[i];

			if (k->type != ARG_FLAGS && k->type != ARG_ENUM)
				continue;
			for (const struct flag_name *f = k->table; f->name; f++) {
				assert_true(f->name[0]);
				assert_null(strpbrk(f->name, " \t|=#,"));
				if (k->type == ARG_FLAGS) {
					assert_true(f->value != 0);
					assert_string_not_equal(f->name, "0");
				}
				for (const struct flag_name *o = k->table; o != f; o++) {
					assert_string_not_equal(o->name, f->name);
					if (k->type == ARG_FLAGS && (o->value & f->value))
						fail_msg("%s=: '%s' and '%s' share bits", k->key,
							 o->name, f->name);
					if (k->type == ARG_ENUM && o->value == f->value)
						fail_msg("%s=: '%s' and '%s' share a value", k->key,
							 o->name, f->name);
				}
			}
		}
	}
}

static void lookups_find_names_and_values(void **state)
{
	uint64_t v = 99;

	assert_true(flag_lookup(result_names, "EINVAL", &v));
	assert_int_equal(v, EINVAL);
	assert_false(flag_lookup(result_names, "einval", &v));
	assert_false(flag_lookup(NULL, "x", &v));
	assert_string_equal(flag_name_of(result_names, RESULT_LIVELOCK), "livelock");
	assert_null(flag_name_of(result_names, 424242));
	assert_int_equal(cmd_key_index(CMD_MMAP, "nope"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(command_names_are_unique_lowercase_one_or_two_words),
		cmocka_unit_test(no_one_word_command_prefixes_a_two_word_one),
		cmocka_unit_test(positional_kinds_are_packed_and_declarers_are_unique),
		cmocka_unit_test(keys_are_unique_and_typed_consistently),
		cmocka_unit_test(flag_tables_are_disjoint_and_enum_tables_are_one_to_one),
		cmocka_unit_test(lookups_find_names_and_values),
	};

	return cmocka_run_group_tests_name("trace_schema", tests, NULL, NULL);
}
