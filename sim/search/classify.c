/* sim/search/classify.c - replay text in-process and name a violation's kind.
 *
 * A violation found at a patch level is named after the hunk of patch 08
 * that removes it: replay with each hunk that is off turned on alone, and
 * the first that makes the trace pass names the class (K1 is what 08a
 * prevents, K2 08b, R2 08c, G1 08d, G2 08e; docs/patch08.md). That is the
 * question a reviewer asks of a finding: which part of the patch is it
 * about, or is it about none of them.
 */
#include <string.h>

#include "patch.h"
#include "search/search.h"

enum verdict search_replay_text(const char *name, const char *text, struct outcome *out,
				GString *error)
{
	static const struct replay_opts opts = { .oracle_on = true, .frames = SEARCH_FRAMES };
	g_autoptr(GString) sink = g_string_new(NULL);
	struct trace *t;

	memset(out, 0, sizeof(*out));
	g_string_truncate(error, 0);
	t = trace_parse_string(name, text, error);
	if (!t) {
		out->verdict = VERDICT_BAD_INPUT;
		out->invariant = "bad input";
		return out->verdict;
	}
	out->verdict = engine_replay_with(t, &opts, sink, error);
	out->invariant = engine_last_failure.kind;
	out->line = engine_last_failure.line;
	out->cmd = engine_last_failure.cmd;
	out->advice = engine_last_failure.advice;
	g_strlcpy(out->region, engine_last_failure.region, sizeof(out->region));
	out->page = engine_last_failure.page;
	trace_free(t);
	return out->verdict;
}

void search_classify(const char *text, struct outcome *out)
{
	static const struct {
		enum hunk hunk;
		const char *kind;
	} kinds[] = {
		{ HUNK_08A, "K1" }, { HUNK_08B, "K2" }, { HUNK_08C, "R2" },
		{ HUNK_08D, "G1" }, { HUNK_08E, "G2" },
	};
	bool saved[NR_HUNKS];
	g_autoptr(GString) err = g_string_new(NULL);

	out->kind[0] = 0;
	memcpy(saved, patch_hunks, sizeof(saved));
	for (unsigned i = 0; i < G_N_ELEMENTS(kinds) && !out->kind[0]; i++) {
		struct outcome o;

		if (saved[kinds[i].hunk])
			continue;
		memcpy(patch_hunks, saved, sizeof(saved));
		patch_hunks[kinds[i].hunk] = true;
		/* 08e only narrows 08d, so it is tried with 08d; when 08d was
		 * off too, the finding is 08d's (G1: GUP read through an armed
		 * PTE, which v5 would turn into the G2 livelock). */
		if (kinds[i].hunk == HUNK_08E)
			patch_hunks[HUNK_08D] = true;
		if (search_replay_text("classify", text, &o, err) == VERDICT_PASS)
			g_strlcpy(out->kind,
				  kinds[i].hunk == HUNK_08E && !saved[HUNK_08D] ? "G1"
										: kinds[i].kind,
				  sizeof(out->kind));
	}
	memcpy(patch_hunks, saved, sizeof(saved));
}

void search_class(const struct outcome *o, char *buf, size_t size)
{
	const char *adv = o->advice ? flag_name_of(advice_names, o->advice) : NULL;

	if (o->kind[0]) {
		g_strlcpy(buf, o->kind, size);
		return;
	}
	g_snprintf(buf, size, "%s@%s%s%s", o->invariant ? o->invariant : "?",
		   o->cmd >= 0 && o->cmd < NR_CMDS ? cmd_descs[o->cmd].name : "?", adv ? "-" : "",
		   adv ? adv : "");
	g_strdelimit(buf, " /", '-');
}

unsigned search_count_steps(const char *text)
{
	unsigned n = 0;
	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *q = p;
		while (q < p + len && (*q == ' ' || *q == '\t'))
			q++;
		if (q < p + len && *q != '#')
			n++;
		p += len + (eol ? 1 : 0);
	}
	return n;
}
