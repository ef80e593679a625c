/* sim/search/minimize.c - shrink a failing trace, keeping its failure.
 *
 * Two phases, each repeated until nothing more can go:
 *  1. delta debugging over steps (Zeller's ddmin: drop ever smaller chunks
 *     of lines, then single lines), declarations included, since a setup
 *     step that the failure does not need is noise to a reader;
 *  2. simplification of each step's arguments: drop an optional key, drop
 *     one flag of a '|' list, narrow a page range to one of its ends or
 *     halves, bring a value down to 1.
 * A candidate is kept when it still fails with the same oracle invariant
 * (and, when the original had one, the same patch-08 kind). The result is
 * printed in canonical form. Every candidate is a full in-process replay;
 * the traces are short, so that costs milliseconds.
 */
#include <stdio.h>
#include <string.h>

#include "search/search.h"

#define MINIMIZE_MAX_REPLAYS 20000

struct minimizer {
	const struct outcome *want;
	unsigned replays;
	GString *err;
};

static char *join_lines(GPtrArray *lines)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < lines->len; i++)
		g_string_append(s, g_ptr_array_index(lines, i));
	return g_string_free(s, FALSE);
}

static bool still_fails(struct minimizer *m, GPtrArray *lines)
{
	g_autofree char *text = join_lines(lines);
	struct outcome o;

	if (m->replays >= MINIMIZE_MAX_REPLAYS)
		return false;
	m->replays++;
	search_replay_text("minimize", text, &o, m->err);
	if (!outcome_is_violation(&o) || strcmp(o.invariant, m->want->invariant))
		return false;
	if (!m->want->kind[0])
		return true;
	m->replays++;
	search_classify(text, &o);
	return !strcmp(o.kind, m->want->kind);
}

/* A copy of lines without [from, to). */
static GPtrArray *without(GPtrArray *lines, guint from, guint to)
{
	GPtrArray *c = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < lines->len; i++)
		if (i < from || i >= to)
			g_ptr_array_add(c, g_strdup(g_ptr_array_index(lines, i)));
	return c;
}

/* ddmin over lines; *lines is replaced by the reduced array. */
static void reduce_steps(struct minimizer *m, GPtrArray **lines)
{
	guint n = 2;
	while ((*lines)->len >= 2) {
		guint len = (*lines)->len, chunk = (len + n - 1) / n;
		bool reduced = false;
		for (guint start = 0; start < len; start += chunk) {
			GPtrArray *c = without(*lines, start, MIN(start + chunk, len));
			if (still_fails(m, c)) {
				g_ptr_array_unref(*lines);
				*lines = c;
				n = MAX(n - 1, 2);
				reduced = true;
				break;
			}
			g_ptr_array_unref(c);
		}
		if (reduced)
			continue;
		if (n >= len)
			break;
		n = MIN(n * 2, len);
	}
}

/* Try line i with token t replaced by repl (NULL: dropped). */
static bool try_token(struct minimizer *m, GPtrArray *lines, guint i, char **tokens, guint t,
		      const char *repl)
{
	GString *s = g_string_new(NULL);
	for (guint k = 0; tokens[k]; k++) {
		const char *tok = k == t ? repl : tokens[k];
		if (!tok)
			continue;
		if (s->len)
			g_string_append_c(s, ' ');
		g_string_append(s, tok);
	}
	g_string_append_c(s, '\n');
	char *old = lines->pdata[i];
	lines->pdata[i] = g_string_free(s, FALSE);
	if (still_fails(m, lines)) {
		g_free(old);
		return true;
	}
	g_free(lines->pdata[i]);
	lines->pdata[i] = old;
	return false;
}

static bool is_range(const char *v) { return *v && strspn(v, "0123456789-,") == strlen(v); }

/* Simpler forms of one key=value token, simplest first. */
static GPtrArray *simpler_values(const char *tok)
{
	GPtrArray *c = g_ptr_array_new_with_free_func(g_free);
	const char *eq = strchr(tok, '=');
	if (!eq)
		return c;
	g_autofree char *key = g_strndup(tok, (gsize)(eq - tok));
	const char *v = eq + 1;

	g_ptr_array_add(c, NULL); /* drop the key */
	if (strchr(v, '|')) {
		g_auto(GStrv) parts = g_strsplit(v, "|", -1);
		guint n = g_strv_length(parts);
		for (guint drop = 0; drop < n; drop++) {
			GString *s = g_string_new(NULL);
			g_string_append_printf(s, "%s=", key);
			bool first = true;
			for (guint k = 0; k < n; k++) {
				if (k == drop)
					continue;
				g_string_append_printf(s, "%s%s", first ? "" : "|", parts[k]);
				first = false;
			}
			g_ptr_array_add(c, g_string_free(s, FALSE));
		}
	} else if (is_range(v) && (strchr(v, '-') || strchr(v, ','))) {
		/* first page, last page, then each half of the first span */
		unsigned long a = strtoul(v, NULL, 10);
		const char *last_tok = v + strlen(v);
		while (last_tok > v && last_tok[-1] != '-' && last_tok[-1] != ',')
			last_tok--;
		unsigned long b = strtoul(last_tok, NULL, 10);
		g_ptr_array_add(c, g_strdup_printf("%s=%lu", key, a));
		g_ptr_array_add(c, g_strdup_printf("%s=%lu", key, b));
		if (b > a + 1) {
			unsigned long mid = a + (b - a) / 2;
			g_ptr_array_add(c, g_strdup_printf("%s=%lu-%lu", key, a, mid));
			g_ptr_array_add(c, g_strdup_printf("%s=%lu-%lu", key, mid + 1, b));
		}
	} else if (strspn(v, "0123456789") == strlen(v) && strtoul(v, NULL, 10) > 1) {
		g_ptr_array_add(c, g_strdup_printf("%s=1", key));
	}
	return c;
}

/* One pass over every token of every line; true if anything changed. */
static bool simplify_args(struct minimizer *m, GPtrArray *lines)
{
	bool changed = false;
	for (guint i = 0; i < lines->len; i++) {
		bool again = true;
		while (again) {
			again = false;
			g_autofree char *l = g_strchomp(g_strdup(lines->pdata[i]));
			g_auto(GStrv) tokens = g_strsplit(l, " ", -1);
			for (guint t = 1; tokens[t] && !again; t++) {
				g_autoptr(GPtrArray) cands = simpler_values(tokens[t]);
				for (guint k = 0; k < cands->len && !again; k++)
					again = try_token(m, lines, i, tokens, t,
							  g_ptr_array_index(cands, k));
			}
			changed |= again;
		}
	}
	return changed;
}

char *search_minimize(const char *text, const struct outcome *want, unsigned *replays)
{
	struct minimizer m = { .want = want, .err = g_string_new(NULL) };
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string("minimize", text, err);
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

	if (t) {
		/* Canonical lines, one step each (comments are gone). */
		for (guint i = 0; i < t->steps->len; i++) {
			GString *s = g_string_new(NULL);
			trace_write_step(s, &g_array_index(t->steps, struct step, i));
			g_ptr_array_add(lines, g_string_free(s, FALSE));
		}
		trace_free(t);
	}
	if (lines->len && still_fails(&m, lines)) {
		bool changed = true;
		while (changed) {
			guint before = lines->len;
			reduce_steps(&m, &lines);
			changed = simplify_args(&m, lines) || lines->len != before;
		}
	}
	char *out = join_lines(lines);
	g_ptr_array_unref(lines);
	g_string_free(m.err, TRUE);
	if (replays)
		*replays = m.replays;
	return out;
}
