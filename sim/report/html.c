/* sim/report/html.c - write a report as one self-contained HTML page.
 *
 * The page is static: inline CSS and JS (page.css and page.js, embedded at
 * build time) and the report as a JSON blob in a <script type=
 * "application/json"> block, which page.js reads and renders. Nothing is
 * loaded from elsewhere, and the same report gives the same bytes (no
 * clock, no hash order).
 */
#include <string.h>

#include "oracle/oracle.h"
#include "report.h"
#include "report_assets.h"

/* The legend: index = observe_page_state() value. Red is kept for the
 * violation, so no state is red. */
static const struct {
	const char *name, *color, *what;
} page_states[NR_PAGE_STATES] = {
	{ "none", "#e4e4e4", "a page table, but no entry for the page" },
	{ "armed", "#1f5fbf", "RWP armed: protnone PTE with the uffd bit" },
	{ "present", "#9e9e9e", "present PTE, no uffd bit, VMA not registered for RWP" },
	{ "wp", "#8e44ad", "present PTE with the uffd bit: write-protected (uffd-wp)" },
	{ "numa", "#f39c12", "protnone PTE without the uffd bit: a NUMA hinting entry" },
	{ "swap", "#8d6e63", "swap entry" },
	{ "swap-uffd", "#4e342e", "swap entry with the uffd bit" },
	{ "migration", "#f1d515", "migration entry (PTE or whole PMD)" },
	{ "marker", "#e84393", "PTE marker (uffd-wp or poison)" },
	{ "pmd", "#16a085", "THP mapped by a PMD" },
	{ "pmd-armed", "#0b2f6b", "THP mapped by a protnone PMD with the uffd bit" },
	{ "no-table", "#ffffff", "inside a VMA, no PTE table" },
	{ "device-exclusive", "#b5b800", "device-exclusive entry" },
	{ "device-exclusive-uffd", "#6b6d00", "device-exclusive entry with the uffd bit" },
	[PAGE_STATE_ACCESSED] = { "accessed", "#2eb82e",
				  "present PTE in a VMA registered for RWP, uffd bit clear: "
				  "PAGEMAP_SCAN reports it accessed" },
	[PAGE_STATE_UNMAPPED] = { "unmapped", "#cdc6b4", "no VMA covers the page" },
};

void report_json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '<': /* "</script>", "<!--" */
		case '>':
		case '&':
			g_string_append_printf(out, "\\u%04x", *p);
			break;
		default:
			if (*p < 0x20)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

static void json_key(GString *out, const char *key)
{
	report_json_string(out, key);
	g_string_append_c(out, ':');
}

static void json_hex(GString *out, uint64_t v)
{
	/* As a string: a double cannot hold every 64-bit entry. */
	g_string_append_printf(out, "\"0x%" G_GINT64_MODIFIER "x\"", v);
}

static void json_strings(GString *out, const GPtrArray *a)
{
	g_string_append_c(out, '[');
	for (guint i = 0; i < a->len; i++) {
		if (i)
			g_string_append_c(out, ',');
		report_json_string(out, g_ptr_array_index(a, i));
	}
	g_string_append_c(out, ']');
}

static void write_states(GString *out)
{
	json_key(out, "states");
	g_string_append_c(out, '[');
	for (int s = 0; s < NR_PAGE_STATES; s++) {
		g_string_append(out, s ? ",\n{" : "\n{");
		json_key(out, "name");
		report_json_string(out, page_states[s].name);
		g_string_append_c(out, ',');
		json_key(out, "color");
		report_json_string(out, page_states[s].color);
		g_string_append_c(out, ',');
		json_key(out, "what");
		report_json_string(out, page_states[s].what);
		g_string_append_c(out, '}');
	}
	g_string_append(out, "],\n");
}

static void write_regions(GString *out, const struct report *rep)
{
	json_key(out, "regions");
	g_string_append_c(out, '[');
	for (guint i = 0; i < rep->regions->len; i++) {
		const struct report_region *rr = g_ptr_array_index(rep->regions, i);
		g_string_append(out, i ? ",\n{" : "\n{");
		json_key(out, "name");
		report_json_string(out, rr->name);
		g_string_append_c(out, ',');
		json_key(out, "proc");
		report_json_string(out, rr->proc);
		g_string_append_c(out, ',');
		json_key(out, "file");
		if (rr->file)
			report_json_string(out, rr->file);
		else
			g_string_append(out, "null");
		g_string_append_c(out, ',');
		json_key(out, "start");
		json_hex(out, rr->start);
		g_string_append_printf(out, ",\"pages\":%" G_GUINT64_FORMAT ",\"first\":%u}",
				       rr->pages, rr->first_step);
	}
	g_string_append(out, "],\n");
}

static void write_queues(GString *out, const GPtrArray *queues)
{
	g_string_append_c(out, '[');
	for (guint i = 0; i < queues->len; i++) {
		const struct report_queue *q = g_ptr_array_index(queues, i);
		g_string_append(out, i ? ",{" : "{");
		json_key(out, "name");
		report_json_string(out, q->name);
		g_string_append_c(out, ',');
		json_key(out, "msgs");
		json_strings(out, q->msgs);
		g_string_append_c(out, ',');
		json_key(out, "waiting");
		json_strings(out, q->waiting);
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
}

static void write_steps(GString *out, const struct report *rep)
{
	json_key(out, "steps");
	g_string_append_c(out, '[');
	for (guint i = 0; i < rep->steps->len; i++) {
		const struct report_step *st = g_ptr_array_index(rep->steps, i);
		g_string_append(out, i ? ",\n{" : "\n{");
		g_string_append_printf(out, "\"i\":%u,\"line\":%u,\"depth\":%u,", st->index,
				       st->line, st->depth);
		json_key(out, "text");
		report_json_string(out, st->text);
		g_string_append_c(out, ',');
		json_key(out, "res");
		report_json_string(out, st->result);
		/* Flat [region, first, count, state, ...]: the bulk of a big
		 * report, so no keys. */
		g_string_append(out, ",\"runs\":[");
		for (guint j = 0; j < st->runs->len; j++) {
			const struct report_run *run =
				&g_array_index(st->runs, struct report_run, j);
			g_string_append_printf(
				out, "%s%u,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%u",
				j ? "," : "", run->region, run->first, run->count, run->state);
		}
		g_string_append_c(out, ']');
		if (st->queues) {
			g_string_append(out, ",\"q\":");
			write_queues(out, st->queues);
		}
		if (st->failure) {
			g_string_append(out, ",\"fail\":");
			report_json_string(out, st->failure);
		}
		g_string_append_c(out, '}');
	}
	g_string_append(out, "],\n");
}

/* Trace steps that never ran (the replay stops at its first failure). */
static void write_not_run(GString *out, const struct report *rep)
{
	const GArray *steps = rep->trace->steps;
	bool first = true;

	json_key(out, "notrun");
	g_string_append_c(out, '[');
	for (guint i = 0; i < steps->len; i++) {
		const struct step *s = &g_array_index(steps, struct step, i);
		g_autoptr(GString) text = g_string_new(NULL);
		if (g_hash_table_contains(rep->ran, GUINT_TO_POINTER(i + 1)))
			continue;
		trace_write_step(text, s);
		g_strchomp(text->str);
		g_string_append_printf(out, "%s{\"line\":%u,\"text\":", first ? "\n" : ",\n",
				       s->line);
		report_json_string(out, text->str);
		g_string_append_c(out, '}');
		first = false;
	}
	g_string_append(out, "],\n");
}

static void write_violation(GString *out, const struct report *rep)
{
	const struct report_violation *v = &rep->violation;

	json_key(out, "violation");
	if (!rep->have_violation) {
		g_string_append(out, "null\n");
		return;
	}
	g_string_append_printf(out, "{\"step\":%u,\"line\":%u,", v->step, v->line);
	json_key(out, "invariant");
	report_json_string(out, v->invariant);
	g_string_append_c(out, ',');
	json_key(out, "proc");
	report_json_string(out, v->proc);
	g_string_append_c(out, ',');
	json_key(out, "address");
	json_hex(out, v->address);
	g_string_append_c(out, ',');
	json_key(out, "region");
	if (v->region)
		report_json_string(out, v->region);
	else
		g_string_append(out, "null");
	g_string_append_printf(out, ",\"page\":%" G_GUINT64_FORMAT ",", v->page);
	json_key(out, "before");
	json_hex(out, v->before);
	g_string_append_c(out, ',');
	json_key(out, "before_state");
	report_json_string(out, entry_state_name(v->before));
	g_string_append_c(out, ',');
	json_key(out, "after");
	json_hex(out, v->after);
	g_string_append_c(out, ',');
	json_key(out, "after_state");
	report_json_string(out, entry_state_name(v->after));
	g_string_append_c(out, ',');
	json_key(out, "detail");
	report_json_string(out, v->detail);
	g_string_append_c(out, ',');
	json_key(out, "message");
	report_json_string(out, v->message);
	g_string_append(out, "}\n");
}

static void write_data(GString *out, const struct report *rep)
{
	const char *verdict = rep->verdict == VERDICT_PASS   ? "PASS"
			      : rep->verdict == VERDICT_FAIL ? "FAIL"
							     : "BAD INPUT";
	g_string_append_c(out, '{');
	json_key(out, "trace");
	report_json_string(out, rep->trace->path);
	g_string_append_c(out, ',');
	json_key(out, "level");
	report_json_string(out, rep->level);
	g_string_append_c(out, ',');
	json_key(out, "kernel");
	report_json_string(out, rep->kernel);
	g_string_append_c(out, ',');
	json_key(out, "verdict");
	report_json_string(out, verdict);
	g_string_append_c(out, ',');
	json_key(out, "error");
	report_json_string(out, rep->error->str);
	g_string_append_printf(out, ",\"failed\":%d,\n", rep->failed_step);
	write_states(out);
	write_regions(out, rep);
	write_steps(out, rep);
	write_not_run(out, rep);
	write_violation(out, rep);
	g_string_append(out, "}");
}

void report_write_html(const struct report *rep, GString *out)
{
	g_autofree char *base = g_path_get_basename(rep->trace->path);
	g_autofree char *title = g_markup_escape_text(base, -1);
	g_autofree char *level = g_markup_escape_text(rep->level, -1);

	g_string_append_printf(
		out,
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>mmsim report: %s [%s]</title>\n<style>\n%s</style>\n"
		"</head>\n<body>\n",
		title, level, report_page_css);
	g_string_append(
		out,
		"<header><h1>mmsim report</h1><span id=\"summary\"></span></header>\n"
		"<div id=\"main\">\n<nav><ol id=\"steps\"></ol></nav>\n<section id=\"view\">\n"
		"<div id=\"controls\"><button id=\"first\" title=\"first step (Home)\">|&#9664;"
		"</button> <button id=\"prev\" title=\"previous step (left arrow)\">&#9664;"
		"</button> <input type=\"range\" id=\"slider\" aria-label=\"step\"> <button "
		"id=\"next\" title=\"next step (right arrow)\">&#9654;</button> <button "
		"id=\"last\" title=\"last step (End)\">&#9654;|</button> <button id=\"jump\" "
		"title=\"the failing step (v)\">jump to violation</button><span id=\"pos\">"
		"</span></div>\n"
		"<div id=\"violation\" class=\"box\" hidden></div>\n"
		"<div id=\"stepinfo\" class=\"box\"></div>\n<div id=\"legend\"></div>\n"
		"<div id=\"grids\"></div>\n<div id=\"queues\" class=\"box\"></div>\n"
		"</section>\n</div>\n<script type=\"application/json\" id=\"data\">\n");
	write_data(out, rep);
	g_string_append_printf(out, "\n</script>\n<script>\n%s</script>\n</body>\n</html>\n",
			       report_page_js);
}
