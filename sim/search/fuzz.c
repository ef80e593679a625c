/* sim/search/fuzz.c - the fuzzing loop behind `mmsim fuzz`.
 *
 * Trace i of a campaign is generated from its own seed, derived from the
 * campaign seed and i alone, so any trace can be regenerated without the
 * ones before it, and a campaign is byte-for-byte repeatable. Each trace
 * is replayed with the full oracle; a violation is classified by the
 * patch-08 hunk that removes it (search_classify), and the first of each
 * class is minimized and written out. Timing goes to the report, never
 * into the trace files, so the files stay reproducible.
 */
#include "search/fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "patch.h"
#include "search/search.h"

uint32_t fuzz_trace_seed(uint32_t s, uint64_t i)
{
	/* splitmix64 of (s, i): neighbouring campaigns share no traces */
	uint64_t z = ((uint64_t)s << 32 ^ i) + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)(z ^ (z >> 31));
}

static const char *size_name(enum gen_size s)
{
	static const char *const names[] = { "small", "medium", "large" };
	return names[s];
}

static void write_file(const char *dir, const char *name, const char *header, const char *body,
		       GString *out)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *text = g_strconcat(header, body, NULL);
	g_autoptr(GError) err = NULL;

	if (g_mkdir_with_parents(dir, 0755) || !g_file_set_contents(path, text, -1, &err)) {
		g_string_append_printf(out, "  cannot write %s: %s\n", path,
				       err ? err->message : g_strerror(errno));
		return;
	}
	g_string_append_printf(out, "  wrote %s\n", path);
}

void fuzz_find_clear(gpointer p) { g_free(((struct fuzz_find *)p)->minimized); }

/* Write a find and its minimized form, and say so. */
static void report_find(const struct fuzz_options *o, uint64_t i, uint32_t tseed, const char *text,
			const struct outcome *oc, const char *min, unsigned replays,
			const char *cls, double at, GString *out)
{
	g_autoptr(GString) hdr = g_string_new(NULL);
	g_autoptr(GString) where = g_string_new(NULL);
	g_autofree char *ops = o->gen.ops ? g_strdup_printf(" --ops %u", o->gen.ops) : g_strdup("");

	if (o->finds) {
		struct fuzz_find f = { .oc = *oc,
				       .trace = i,
				       .tseed = tseed,
				       .steps = search_count_steps(text),
				       .replays = replays,
				       .at = at,
				       .minimized = g_strdup(min) };
		g_strlcpy(f.cls, cls, sizeof(f.cls));
		g_array_append_val(o->finds, f);
	}
	if (oc->region[0])
		g_string_printf(where, " (region %s page %" G_GUINT64_FORMAT ")", oc->region,
				oc->page);
	g_string_append_printf(out,
			       "find %s: %s at line %u%s after %.2f s, trace %" G_GUINT64_FORMAT
			       " (generator seed %u), %u steps; minimized to %u steps in %u "
			       "replays\n",
			       cls, oc->invariant, oc->line, where->str, at, i, tseed,
			       search_count_steps(text), search_count_steps(min), replays);
	if (!o->out_dir) {
		g_string_append(out, min);
		return;
	}
	g_string_printf(hdr,
			"# found by: mmsim fuzz --seed %u --patch %s --config %s%s\n"
			"# trace %" G_GUINT64_FORMAT " of the campaign (generator seed %u)\n"
			"# violation: %s (class %s)\n",
			o->seed, o->level, size_name(o->gen.size), ops, i, tseed, oc->invariant,
			cls);
	g_autofree char *name =
		g_strdup_printf("%s-%u-%" G_GUINT64_FORMAT ".trace", cls, o->seed, i);
	g_autofree char *min_name =
		g_strdup_printf("%s-%u-%" G_GUINT64_FORMAT ".min.trace", cls, o->seed, i);
	write_file(o->out_dir, name, hdr->str, text, out);
	g_string_append_printf(hdr, "# minimized by mmsim minimize (%u replays)\n", replays);
	write_file(o->out_dir, min_name, hdr->str, min, out);
}

unsigned fuzz_run(const struct fuzz_options *o, GString *out, struct fuzz_stats *st)
{
	g_autoptr(GTimer) timer = g_timer_new();
	g_autoptr(GHashTable) classes =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GString) err = g_string_new(NULL);
	double last_progress = 0;

	memset(st, 0, sizeof(*st));
	for (uint64_t i = 0; !o->runs || i < o->runs; i++) {
		double now = g_timer_elapsed(timer, NULL);
		if (o->seconds > 0 && now >= o->seconds)
			break;
		if (o->progress && now - last_progress >= 0.5) {
			fprintf(stderr, "\rfuzz: %" G_GUINT64_FORMAT " traces, %.0f/s, %u finds ",
				st->runs, now > 0 ? (double)st->runs / now : 0.0, st->finds);
			last_progress = now;
		}

		uint32_t tseed = fuzz_trace_seed(o->seed, i);
		struct gen_source src = { .rand = g_rand_new_with_seed(tseed) };
		struct outcome oc;
		g_string_truncate(text, 0);
		gen_trace(&o->gen, &src, text, NULL);
		g_rand_free(src.rand);

		if (o->emit_dir) {
			/* The conformance suite's input: every trace, as generated. */
			g_autofree char *hdr = g_strdup_printf(
				"# mmsim fuzz --seed %u%s --config %s: trace %" G_GUINT64_FORMAT
				" (generator seed %u)\n",
				o->seed, o->gen.host ? " --host" : "", size_name(o->gen.size), i,
				tseed);
			g_autofree char *name =
				g_strdup_printf("t%05" G_GUINT64_FORMAT ".trace", i);
			g_autoptr(GString) quiet = g_string_new(NULL);
			write_file(o->emit_dir, name, hdr, text->str, quiet);
			if (strstr(quiet->str, "cannot write"))
				g_string_append(out, quiet->str);
		}
		search_replay_text("fuzz.trace", text->str, &oc, err);
		st->runs++;
		if (o->print)
			g_string_append_printf(
				out, "# trace %" G_GUINT64_FORMAT " (seed %u): %s %s\n%s\n", i,
				tseed,
				oc.verdict == VERDICT_PASS   ? "PASS"
				: oc.verdict == VERDICT_FAIL ? "FAIL"
							     : "BAD",
				oc.invariant ? oc.invariant : "", text->str);
		if (o->verbose && oc.verdict != VERDICT_PASS)
			g_string_append_printf(out, "trace %" G_GUINT64_FORMAT ": %s: %s\n", i,
					       oc.verdict == VERDICT_FAIL ? "FAIL" : "BAD",
					       err->str);
		if (oc.verdict == VERDICT_PASS) {
			st->pass++;
			continue;
		}
		if (oc.verdict == VERDICT_BAD_INPUT) {
			st->bad_input++;
			continue;
		}
		st->fail++;
		if (!outcome_is_violation(&oc))
			continue;
		char cls[96];
		search_classify(text->str, &oc);
		search_class(&oc, cls, sizeof(cls));
		if (g_hash_table_contains(classes, cls))
			continue;
		g_hash_table_add(classes, g_strdup(cls));

		/* A trace with a second problem may have no kind (the one hunk
		 * does not make it pass); its minimized form may. Report it
		 * under that, once. */
		unsigned replays = 0;
		g_autofree char *min = search_minimize(text->str, &oc, &replays);
		struct outcome min_oc;
		search_replay_text("minimized", min, &min_oc, err);
		if (!oc.kind[0] && outcome_is_violation(&min_oc)) {
			search_classify(min, &min_oc);
			if (min_oc.kind[0]) {
				if (g_hash_table_contains(classes, min_oc.kind))
					continue;
				g_hash_table_add(classes, g_strdup(min_oc.kind));
				g_strlcpy(cls, min_oc.kind, sizeof(cls));
			}
		}
		st->finds++;
		if (o->progress)
			fputc('\n', stderr);
		report_find(o, i, tseed, text->str, &oc, min, replays, cls,
			    g_timer_elapsed(timer, NULL), out);
		if (o->stop_on_find)
			break;
	}
	if (o->progress)
		fputc('\n', stderr);
	st->seconds = g_timer_elapsed(timer, NULL);
	return st->finds;
}
