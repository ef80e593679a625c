/* sim/trace/write.c - the canonical text of a trace.
 *
 * One line per step: command, positional names, then the present keys in
 * schema order. Values are printed in exactly one spelling each, so the
 * writer is a fixed point and parse(write(t)) == t: shrunk or generated
 * traces diff cleanly against hand-written ones after one rewrite.
 */
#include "trace.h"

#include <inttypes.h>
#include <string.h>

/* Data values and addresses read better in hex; counts and pages in decimal. */
static bool key_is_hex(const char *key) { return !strcmp(key, "value") || !strcmp(key, "at"); }

static void write_size(GString *out, uint64_t v)
{
	static const struct {
		unsigned shift;
		char suffix;
	} units[] = { { 30, 'G' }, { 20, 'M' }, { 10, 'K' } };

	for (unsigned i = 0; v && i < G_N_ELEMENTS(units); i++) {
		if (!(v & ((1ULL << units[i].shift) - 1))) {
			g_string_append_printf(out, "%" PRIu64 "%c", v >> units[i].shift,
					       units[i].suffix);
			return;
		}
	}
	g_string_append_printf(out, "%" PRIu64, v);
}

static void write_range(GString *out, const GArray *spans)
{
	if (!spans || !spans->len) {
		g_string_append(out, "none");
		return;
	}
	for (guint i = 0; i < spans->len; i++) {
		const struct page_span *sp = &g_array_index(spans, struct page_span, i);

		if (i)
			g_string_append_c(out, ',');
		if (sp->first == sp->last)
			g_string_append_printf(out, "%" PRIu64, sp->first);
		else
			g_string_append_printf(out, "%" PRIu64 "-%" PRIu64, sp->first, sp->last);
	}
}

void trace_write_pages(GString *out, const uint64_t *pages, guint n)
{
	g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(struct page_span));

	for (guint i = 0; i < n; i++) {
		struct page_span *last =
			spans->len ? &g_array_index(spans, struct page_span, spans->len - 1) : NULL;
		if (last && pages[i] == last->last + 1) {
			last->last = pages[i];
			continue;
		}
		struct page_span sp = { pages[i], pages[i] };
		g_array_append_val(spans, sp);
	}
	write_range(out, spans);
}

/* Bits with no name in the table cannot come from the parser; they are
 * still printed (as hex) so a hand-built step never loses information. */
static void write_flags(GString *out, const struct flag_name *table, uint64_t v)
{
	uint64_t left = v;
	bool first = true;

	for (const struct flag_name *f = table; f && f->name; f++) {
		if (f->value && (v & f->value) == f->value && (left & f->value)) {
			g_string_append_printf(out, "%s%s", first ? "" : "|", f->name);
			left &= ~f->value;
			first = false;
		}
	}
	if (left)
		g_string_append_printf(out, "%s0x%" PRIx64, first ? "" : "|", left);
	else if (first)
		g_string_append_c(out, '0');
}

static void write_prot(GString *out, uint64_t v)
{
	if (!(v & 7)) {
		g_string_append(out, "none");
		return;
	}
	if (v & 1)
		g_string_append_c(out, 'r');
	if (v & 2)
		g_string_append_c(out, 'w');
	if (v & 4)
		g_string_append_c(out, 'x');
}

static void write_value(GString *out, const struct key_desc *k, const struct arg_value *a)
{
	const char *name;

	switch (k->type) {
	case ARG_U64:
		if (key_is_hex(k->key))
			g_string_append_printf(out, "0x%" PRIx64, a->u);
		else
			g_string_append_printf(out, "%" PRIu64, a->u);
		break;
	case ARG_SIZE:
		write_size(out, a->u);
		break;
	case ARG_RANGE:
		write_range(out, a->spans);
		break;
	case ARG_FLAGS:
		write_flags(out, k->table, a->u);
		break;
	case ARG_ENUM:
		name = flag_name_of(k->table, a->u);
		if (name)
			g_string_append(out, name);
		else
			g_string_append_printf(out, "%" PRIu64, a->u);
		break;
	case ARG_NAME:
		g_string_append(out, a->name ? a->name : "");
		break;
	case ARG_PROT:
		write_prot(out, a->u);
		break;
	}
}

void trace_write_step(GString *out, const struct step *s)
{
	const struct cmd_desc *d = &cmd_descs[s->cmd];

	g_string_append(out, d->name);
	for (int i = 0; i < MAX_POSITIONAL && d->positional[i] != NAME_NONE; i++)
		if (s->pos[i])
			g_string_append_printf(out, " %s", s->pos[i]);
	for (int i = 0; i < MAX_KEYS && d->keys[i].key; i++) {
		if (!s->args[i].present)
			continue;
		g_string_append_printf(out, " %s=", d->keys[i].key);
		write_value(out, &d->keys[i], &s->args[i]);
	}
	g_string_append_c(out, '\n');
}

void trace_write(GString *out, const struct trace *t)
{
	for (guint i = 0; i < t->steps->len; i++)
		trace_write_step(out, &g_array_index(t->steps, struct step, i));
}
