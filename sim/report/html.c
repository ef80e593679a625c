/* sim/report/html.c - write a report as one self-contained HTML page.
 *
 * The page is static: inline CSS and JS (page.css and page.js, embedded at
 * build time) and the report as a JSON blob in a <script type=
 * "application/json"> block, which page.js reads and renders. Nothing is
 * loaded from elsewhere, and the same report gives the same bytes (no
 * clock, no hash order).
 */
#include <json-glib/json-glib.h>
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

/* "</script>" or "<!--" inside the data would end or disturb the block:
 * '<', '>' and '&' only ever occur inside JSON strings, where \u escapes
 * mean the same characters. */
static void append_escaped_json(GString *out, const char *json)
{
	for (const char *p = json; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			g_string_append_printf(out, "\\u%04x", (unsigned char)*p);
		else
			g_string_append_c(out, *p);
	}
}

static void append_json(GString *out, JsonNode *root)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();

	json_generator_set_root(gen, root);
	g_autofree char *text = json_generator_to_data(gen, NULL);
	append_escaped_json(out, text);
}

void report_json_string(GString *out, const char *s)
{
	g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), s ? s : "");

	append_json(out, node);
}

static void add_string(JsonBuilder *b, const char *key, const char *value)
{
	json_builder_set_member_name(b, key);
	if (value)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void add_int(JsonBuilder *b, const char *key, gint64 value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_int_value(b, value);
}

/* As a string: a double cannot hold every 64-bit entry. */
static void add_hex(JsonBuilder *b, const char *key, uint64_t v)
{
	g_autofree char *hex = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v);

	add_string(b, key, hex);
}

static void add_strings(JsonBuilder *b, const char *key, const GPtrArray *a)
{
	json_builder_set_member_name(b, key);
	json_builder_begin_array(b);
	for (guint i = 0; i < a->len; i++)
		json_builder_add_string_value(b, g_ptr_array_index(a, i));
	json_builder_end_array(b);
}

static void write_states(JsonBuilder *b)
{
	json_builder_set_member_name(b, "states");
	json_builder_begin_array(b);
	for (int s = 0; s < NR_PAGE_STATES; s++) {
		json_builder_begin_object(b);
		add_string(b, "name", page_states[s].name);
		add_string(b, "color", page_states[s].color);
		add_string(b, "what", page_states[s].what);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void write_regions(JsonBuilder *b, const struct report *rep)
{
	json_builder_set_member_name(b, "regions");
	json_builder_begin_array(b);
	for (guint i = 0; i < rep->regions->len; i++) {
		const struct report_region *rr = g_ptr_array_index(rep->regions, i);
		json_builder_begin_object(b);
		add_string(b, "name", rr->name);
		add_string(b, "proc", rr->proc);
		add_string(b, "file", rr->file);
		add_hex(b, "start", rr->start);
		add_int(b, "pages", (gint64)rr->pages);
		add_int(b, "first", rr->first_step);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void write_queues(JsonBuilder *b, const GPtrArray *queues)
{
	json_builder_set_member_name(b, "q");
	json_builder_begin_array(b);
	for (guint i = 0; i < queues->len; i++) {
		const struct report_queue *q = g_ptr_array_index(queues, i);
		json_builder_begin_object(b);
		add_string(b, "name", q->name);
		add_strings(b, "msgs", q->msgs);
		add_strings(b, "waiting", q->waiting);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void write_steps(JsonBuilder *b, const struct report *rep)
{
	json_builder_set_member_name(b, "steps");
	json_builder_begin_array(b);
	for (guint i = 0; i < rep->steps->len; i++) {
		const struct report_step *st = g_ptr_array_index(rep->steps, i);
		json_builder_begin_object(b);
		add_int(b, "i", st->index);
		add_int(b, "line", st->line);
		add_int(b, "depth", st->depth);
		add_string(b, "text", st->text);
		add_string(b, "res", st->result);
		/* Flat [region, first, count, state, ...]: the bulk of a big
		 * report, so no keys. */
		json_builder_set_member_name(b, "runs");
		json_builder_begin_array(b);
		for (guint j = 0; j < st->runs->len; j++) {
			const struct report_run *run =
				&g_array_index(st->runs, struct report_run, j);
			json_builder_add_int_value(b, run->region);
			json_builder_add_int_value(b, (gint64)run->first);
			json_builder_add_int_value(b, (gint64)run->count);
			json_builder_add_int_value(b, run->state);
		}
		json_builder_end_array(b);
		if (st->queues)
			write_queues(b, st->queues);
		if (st->failure)
			add_string(b, "fail", st->failure);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

/* Trace steps that never ran (the replay stops at its first failure). */
static void write_not_run(JsonBuilder *b, const struct report *rep)
{
	const GArray *steps = rep->trace->steps;

	json_builder_set_member_name(b, "notrun");
	json_builder_begin_array(b);
	for (guint i = 0; i < steps->len; i++) {
		const struct step *s = &g_array_index(steps, struct step, i);
		g_autoptr(GString) text = g_string_new(NULL);
		if (g_hash_table_contains(rep->ran, GUINT_TO_POINTER(i + 1)))
			continue;
		trace_write_step(text, s);
		g_strchomp(text->str);
		json_builder_begin_object(b);
		add_int(b, "line", s->line);
		add_string(b, "text", text->str);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void write_violation(JsonBuilder *b, const struct report *rep)
{
	const struct report_violation *v = &rep->violation;

	json_builder_set_member_name(b, "violation");
	if (!rep->have_violation) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	add_int(b, "step", v->step);
	add_int(b, "line", v->line);
	add_string(b, "invariant", v->invariant);
	add_string(b, "proc", v->proc);
	add_hex(b, "address", v->address);
	add_string(b, "region", v->region);
	add_int(b, "page", (gint64)v->page);
	add_hex(b, "before", v->before);
	add_string(b, "before_state", entry_state_name(v->before));
	add_hex(b, "after", v->after);
	add_string(b, "after_state", entry_state_name(v->after));
	add_string(b, "detail", v->detail);
	add_string(b, "message", v->message);
	json_builder_end_object(b);
}

static void write_data(GString *out, const struct report *rep)
{
	const char *verdict = rep->verdict == VERDICT_PASS   ? "PASS"
			      : rep->verdict == VERDICT_FAIL ? "FAIL"
							     : "BAD INPUT";
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	add_string(b, "trace", rep->trace->path);
	add_string(b, "level", rep->level);
	add_string(b, "kernel", rep->kernel);
	add_string(b, "verdict", verdict);
	add_string(b, "error", rep->error->str);
	add_int(b, "failed", rep->failed_step);
	write_states(b);
	write_regions(b, rep);
	write_steps(b, rep);
	write_not_run(b, rep);
	write_violation(b, rep);
	json_builder_end_object(b);
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	append_json(out, root);
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
