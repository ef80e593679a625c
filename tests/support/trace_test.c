/* tests/support/trace_test.c - helpers for the trace-language tests. */
#include "trace_test.h"

#include <string.h>

static bool spans_equal(const GArray *a, const GArray *b)
{
	guint na = a ? a->len : 0, nb = b ? b->len : 0;

	return na == nb && (!na || !memcmp(a->data, b->data, na * sizeof(struct page_span)));
}

bool t_steps_equal(const struct step *a, const struct step *b)
{
	const struct cmd_desc *d = &cmd_descs[a->cmd];

	if (a->cmd != b->cmd)
		return false;
	for (int i = 0; i < MAX_POSITIONAL; i++)
		if (g_strcmp0(a->pos[i], b->pos[i]))
			return false;
	for (int i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
		const struct arg_value *x = &a->args[i], *y = &b->args[i];

		if (x->present != y->present)
			return false;
		if (!x->present)
			continue;
		if (x->u != y->u)
			return false;
		if (d->keys[i].type == ARG_RANGE && !spans_equal(x->spans, y->spans))
			return false;
		if (d->keys[i].type == ARG_NAME && g_strcmp0(x->name, y->name))
			return false;
	}
	return true;
}

char *t_trace_rewrite(const struct trace *t, const char *path, const char *what)
{
	g_autoptr(GString) err = g_string_new(NULL);
	g_autoptr(GString) w1 = g_string_new(NULL);
	g_autoptr(GString) w2 = g_string_new(NULL);
	struct trace *t2;

	trace_write(w1, t);
	t2 = trace_parse_string(path, w1->str, err);
	if (!t2)
		fail_msg("%s: canonical text does not parse: %s\n%s", what, err->str, w1->str);
	assert_int_equal(t->steps->len, t2->steps->len);
	for (guint i = 0; i < t->steps->len; i++) {
		const struct step *x = &g_array_index(t->steps, struct step, i);
		const struct step *y = &g_array_index(t2->steps, struct step, i);

		if (!t_steps_equal(x, y)) {
			g_autoptr(GString) sx = g_string_new(NULL);
			g_autoptr(GString) sy = g_string_new(NULL);

			trace_write_step(sx, x);
			trace_write_step(sy, y);
			fail_msg("%s: step %u differs:\n  %s  %s", what, i, sx->str, sy->str);
		}
	}
	trace_write(w2, t2);
	assert_string_equal(w1->str, w2->str);
	trace_free(t2);
	return g_strdup(w1->str);
}
