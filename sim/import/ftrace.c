/* sim/import/ftrace.c - huge_memory trace events, and matching them to the
 * MADV_COLLAPSE calls of an strace capture.
 *
 * Accepted line shapes (the event payload is the same in all three):
 *
 *   raw tracefs:      comm-PID [CPU] FLAGS TS: EVENT: payload
 *   trace-cmd report: comm-PID [CPU] [FLAGS] TS: EVENT: payload
 *   perf script:      comm PID [CPU] TS: huge_memory:EVENT: payload
 *
 * The payload is read as key=value pairs separated by commas or blanks, by
 * name, so the writable= era (v5.x), the order= era (mTHP collapse trees)
 * and the "status=%s order=%u" variant without a comma all parse. Lines that
 * are not huge_memory events (headers, other events) are counted; a
 * huge_memory event without its pid, timestamp or status field is an error.
 */
#include "import/import.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each event and the key that holds its outcome. */
static const struct {
	const char *name;
	const char *status_key;
	bool has_mm;
} ft_events[] = {
	{ "mm_khugepaged_scan_pmd", "status", true },
	{ "mm_collapse_huge_page_isolate", "status", false },
	{ "mm_collapse_huge_page_swapin", "ret", true },
	{ "mm_collapse_huge_page", "status", true },
	{ "mm_khugepaged_scan_file", "result", true },
	{ "mm_khugepaged_collapse_file", "result", true },
};

static bool ft_fail(GString *err, const char *path, uint32_t line, const char *msg)
{
	g_string_printf(err, "%s:%u: %s", path, line, msg);
	return false;
}

/* The value of key in a payload of key=value pairs, or NULL. */
static char *payload_value(const char *payload, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = payload; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ' && *p != ',')
			p++;
		if (*p != '=') {
			continue;
		}
		bool match = (size_t)(p - k) == kl && !strncmp(k, key, kl);
		const char *v = ++p;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (match)
			return g_strndup(v, p - v);
	}
	return NULL;
}

/* Parse the part before the event name: the pid and the timestamp. */
static bool ft_header(const char *line, size_t len, int *pid, double *ts)
{
	g_autofree char *h = g_strndup(line, len);
	g_strchomp(h);
	/* the last token is "TS:" */
	char *sp = strrchr(h, ' ');
	char *tok = sp ? sp + 1 : h;
	size_t tl = strlen(tok);
	if (tl < 2 || tok[tl - 1] != ':')
		return false;
	tok[tl - 1] = 0;
	char *end;
	*ts = strtod(tok, &end);
	if (*end || !isdigit((unsigned char)tok[0]))
		return false;
	/* the pid: the token before "[CPU]", as comm-PID or PID */
	char *br = strstr(h, " [");
	while (br && !isdigit((unsigned char)br[2]))
		br = strstr(br + 2, " [");
	if (!br)
		return false;
	*br = 0;
	g_strchomp(h);
	char *t = strrchr(h, ' ');
	t = t ? t + 1 : h;
	char *dash = strrchr(t, '-');
	const char *num = dash ? dash + 1 : t;
	if (!isdigit((unsigned char)*num))
		return false;
	*pid = (int)strtol(num, &end, 10);
	return !*end;
}

GPtrArray *imp_ftrace_parse(const char *path, const char *text, unsigned *other, GString *err)
{
	GPtrArray *evs = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	*other = 0;
	for (uint32_t ln = 0; lines[ln]; ln++) {
		const char *l = lines[ln];
		uint32_t lineno = ln + 1;
		const char *s = l;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#') {
			if (!*s && !lines[ln + 1])
				break;
			continue;
		}
		for (const char *q = l; *q; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t') {
				ft_fail(err, path, lineno, "control character in line");
				goto bad;
			}
		int which = -1;
		const char *at = NULL;
		for (size_t i = 0; i < G_N_ELEMENTS(ft_events) && which < 0; i++) {
			size_t nl = strlen(ft_events[i].name);
			for (const char *p = l; (p = strstr(p, ft_events[i].name)); p += nl) {
				/* at the start of the line it is still the event: its
				 * missing header is reported below */
				if (p[nl] == ':' && (p == l || p[-1] == ' ' || p[-1] == ':')) {
					which = (int)i;
					at = p;
					break;
				}
			}
		}
		if (which < 0) {
			(*other)++;
			continue;
		}
		struct imp_ft_event *e = g_new0(struct imp_ft_event, 1);
		g_ptr_array_add(evs, e);
		e->line = lineno;
		snprintf(e->event, sizeof(e->event), "%s", ft_events[which].name);
		/* "huge_memory:" (perf) belongs to the event, not the header */
		size_t hl = at - l;
		if (hl >= 12 && !strncmp(at - 12, "huge_memory:", 12))
			hl -= 12;
		if (!ft_header(l, hl, &e->pid, &e->ts)) {
			ft_fail(err, path, lineno,
				"huge_memory event without 'comm-PID [CPU] ... TIMESTAMP:' before "
				"it");
			goto bad;
		}
		const char *payload = at + strlen(e->event) + 1;
		g_autofree char *st = payload_value(payload, ft_events[which].status_key);
		g_autofree char *mm = payload_value(payload, "mm");
		g_autofree char *pfn = payload_value(payload, "scan_pfn");
		if (!pfn)
			pfn = payload_value(payload, "hpage_pfn");
		if (!pfn)
			pfn = payload_value(payload, "pfn");
		if (!st || !*st) {
			g_autofree char *m = g_strdup_printf("%s without %s=", e->event,
							     ft_events[which].status_key);
			ft_fail(err, path, lineno, m);
			goto bad;
		}
		if (ft_events[which].has_mm && (!mm || !*mm)) {
			g_autofree char *m = g_strdup_printf("%s without mm=", e->event);
			ft_fail(err, path, lineno, m);
			goto bad;
		}
		snprintf(e->status, sizeof(e->status), "%s", st);
		snprintf(e->mm, sizeof(e->mm), "%s", mm ? mm : "");
		e->pfn = UINT64_MAX;
		if (pfn) {
			char *end;
			uint64_t v = strtoull(pfn, &end, 0);
			if (*end || !isxdigit((unsigned char)pfn[0])) {
				ft_fail(err, path, lineno, "bad pfn value");
				goto bad;
			}
			e->pfn = v;
		}
	}
	return evs;
bad:
	g_ptr_array_free(evs, TRUE);
	return NULL;
}

const char *imp_ftrace_scan_name(const char *status)
{
	uint64_t v;
	if (!strcmp(status, "pmd_null") || !strcmp(status, "pmd_none"))
		return "no_pte_table";
	if (flag_lookup(scan_result_names, status, &v))
		return flag_name_of(scan_result_names, v);
	return NULL;
}

void imp_ftrace_summary(GString *out, const GPtrArray *evs, unsigned other)
{
	g_autoptr(GHashTable) mms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_string_append_printf(out, "# %u huge_memory events, %u other lines\n", evs->len, other);
	g_string_append(out, "# line time pid event mm pfn status [trace scan name]\n");
	for (guint i = 0; i < evs->len; i++) {
		const struct imp_ft_event *e = g_ptr_array_index(evs, i);
		const char *mm = "-";
		char mmbuf[16];
		if (e->mm[0]) {
			gpointer v = g_hash_table_lookup(mms, e->mm);
			if (!v) {
				v = GUINT_TO_POINTER(g_hash_table_size(mms) + 1);
				g_hash_table_insert(mms, g_strdup(e->mm), v);
			}
			snprintf(mmbuf, sizeof(mmbuf), "mm%u", GPOINTER_TO_UINT(v));
			mm = mmbuf;
		}
		g_string_append_printf(out, "%u %.6f %d %s %s ", e->line, e->ts, e->pid, e->event,
				       mm);
		if (e->pfn == UINT64_MAX)
			g_string_append(out, "-");
		else
			g_string_append_printf(out, "0x%" PRIx64, e->pfn);
		const char *sn = imp_ftrace_scan_name(e->status);
		g_string_append_printf(out, " %s", e->status);
		if (!strcmp(e->event, "mm_collapse_huge_page_swapin"))
			g_string_append(out, "\n");
		else if (!sn)
			g_string_append(out, " (no trace name)\n");
		else if (strcmp(sn, e->status))
			g_string_append_printf(out, " (%s)\n", sn);
		else
			g_string_append(out, "\n");
	}
}

#define SLACK 0.0002 /* seconds of strace/ftrace timestamp jitter */

static bool is_scan_event(const struct imp_ft_event *e)
{
	return !strcmp(e->event, "mm_khugepaged_scan_pmd") ||
	       !strcmp(e->event, "mm_khugepaged_scan_file");
}

/* One pid: its collapse calls (indices into events) and its ftrace events. */
static unsigned merge_pid(GArray *events, const GArray *calls, const GPtrArray *fe)
{
	guint nc = calls->len, ne = fe->len;
	double *s = g_new(double, nc), *e = g_new(double, nc);
	for (guint i = 0; i < nc; i++) {
		const struct imp_event *ev =
			&g_array_index(events, struct imp_event, g_array_index(calls, guint, i));
		s[i] = ev->ts;
		if (ev->dur >= 0)
			e[i] = ev->ts + ev->dur;
		else if (i + 1 < nc)
			e[i] = g_array_index(events, struct imp_event,
					     g_array_index(calls, guint, i + 1))
				       .ts;
		else
			e[i] = ev->ts + 1.0;
	}
	/* the clock offset (trace clock - wall clock) that puts the most
	 * events inside some call: the optimum is at a left end of some
	 * (call, event) feasibility interval [f - e_i, f - s_i] */
	double best = 0;
	guint best_n = 0;
	for (guint i = 0; i < nc && (uint64_t)nc * ne < 4096; i++) {
		for (guint j = 0; j < ne; j++) {
			const struct imp_ft_event *f = g_ptr_array_index(fe, j);
			double o = f->ts - e[i] - SLACK;
			guint n = 0;
			for (guint k = 0; k < ne; k++) {
				double t = ((const struct imp_ft_event *)g_ptr_array_index(fe, k))
						   ->ts -
					   o;
				for (guint m = 0; m < nc; m++)
					if (t >= s[m] - 2 * SLACK && t <= e[m] + 2 * SLACK) {
						n++;
						break;
					}
			}
			if (n > best_n) {
				best_n = n;
				best = o;
			}
		}
	}
	unsigned matched = 0;
	for (guint m = 0; m < nc && best_n; m++) {
		const struct imp_ft_event *pick = NULL;
		for (guint k = 0; k < ne; k++) {
			const struct imp_ft_event *f = g_ptr_array_index(fe, k);
			double t = f->ts - best;
			if (t < s[m] - 2 * SLACK || t > e[m] + 2 * SLACK)
				continue;
			if (!imp_ftrace_scan_name(f->status))
				continue;
			if (!pick || is_scan_event(f) || !is_scan_event(pick))
				pick = f;
		}
		if (pick) {
			struct imp_event *ev = &g_array_index(events, struct imp_event,
							      g_array_index(calls, guint, m));
			snprintf(ev->scan, sizeof(ev->scan), "%s",
				 imp_ftrace_scan_name(pick->status));
			matched++;
		}
	}
	g_free(s);
	g_free(e);
	return matched;
}

unsigned imp_ftrace_merge(const GPtrArray *ft, GArray *events)
{
	g_autoptr(GHashTable) pids = g_hash_table_new(g_direct_hash, g_direct_equal);
	unsigned matched = 0;
	for (guint i = 0; i < events->len; i++) {
		const struct imp_event *ev = &g_array_index(events, struct imp_event, i);
		if (ev->op == IMP_MADVISE && ev->arg == 25 && ev->ts >= 0)
			g_hash_table_add(pids, GINT_TO_POINTER(ev->pid));
	}
	g_autoptr(GList) keys = g_hash_table_get_keys(pids);
	for (GList *k = keys; k; k = k->next) {
		int pid = GPOINTER_TO_INT(k->data);
		g_autoptr(GArray) calls = g_array_new(FALSE, FALSE, sizeof(guint));
		g_autoptr(GPtrArray) fe = g_ptr_array_new();
		for (guint i = 0; i < events->len; i++) {
			const struct imp_event *ev = &g_array_index(events, struct imp_event, i);
			if (ev->op == IMP_MADVISE && ev->arg == 25 && ev->ts >= 0 && ev->pid == pid)
				g_array_append_val(calls, i);
		}
		for (guint j = 0; j < ft->len; j++) {
			struct imp_ft_event *f = g_ptr_array_index(ft, j);
			if (f->pid == pid || pid == 0) /* no -f: strace printed no pids */
				g_ptr_array_add(fe, f);
		}
		if (fe->len)
			matched += merge_pid(events, calls, fe);
	}
	return matched;
}
