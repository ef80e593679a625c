/* sim/trace/parse.c - the trace language parser.
 *
 * Checks every line against the schema in commands.c and builds the list of
 * steps. Any input bytes are acceptable input: the parser either returns a
 * trace or NULL with exactly "path:line: message" in err, and frees whatever
 * it had built. Names must be declared before use, so an engine never sees a
 * reference it cannot resolve.
 */
#include "trace.h"

#include <string.h>

#include "patch.h"

#define MAX_LINE 4096
#define QUOTE_MAX 48 /* longest token echoed back in an error message */

struct parser {
	const char *path;
	uint32_t line;
	GString *err;
	GHashTable *names;  /* declared name -> GINT_TO_POINTER(enum name_kind) */
	GPtrArray *scratch; /* quoted tokens, freed with the parser */
	GHashTable *owner;  /* region/uffd name -> its process's name (for fork) */
	GPtrArray *owned;   /* the keys of owner, in declaration order */
	bool failed;
};

static const char *const kind_names[] = {
	[NAME_NONE] = "nothing",  [NAME_PROC] = "process", [NAME_FILE] = "file",
	[NAME_REGION] = "region", [NAME_UFFD] = "uffd",	   [NAME_HUNK] = "hunk",
};

static const char *const type_names[] = {
	[ARG_U64] = "a number",	     [ARG_SIZE] = "a size", [ARG_RANGE] = "a page list",
	[ARG_FLAGS] = "a flag list", [ARG_ENUM] = "a name", [ARG_NAME] = "a declared name",
	[ARG_PROT] = "a protection",
};

/* Echo a token safely: bytes that could corrupt a terminal or a log become
 * \xNN, and long tokens are cut, so an error message stays one short line. */
static const char *qs(struct parser *p, const char *tok)
{
	size_t len = strlen(tok), n = len > QUOTE_MAX ? QUOTE_MAX : len;
	GString *s = g_string_new("'");

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tok[i];

		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			g_string_append_printf(s, "\\x%02x", c);
		else
			g_string_append_c(s, (char)c);
	}
	if (n < len)
		g_string_append(s, "...");
	g_string_append_c(s, '\'');
	char *r = g_string_free(s, FALSE);
	g_ptr_array_add(p->scratch, r);
	return r;
}

/* Only the first error is kept: later ones are consequences of it. */
static bool G_GNUC_PRINTF(2, 3) fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return false;
	p->failed = true;
	if (!p->err)
		return false;
	g_string_printf(p->err, "%s:%u: ", p->path, p->line);
	va_start(ap, fmt);
	g_string_append_vprintf(p->err, fmt, ap);
	va_end(ap);
	return false;
}

static bool is_name(const char *s)
{
	if (!g_ascii_isalpha(*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* Decimal or 0x-hex, no sign, no empty string, no overflow. Stops at the
 * first character that is not a digit of the base: *end points to it. */
static bool scan_u64(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	unsigned base = 10;
	const char *d = s;
	int n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		d = s + 2;
	}
	for (;; d++, n++) {
		int digit = base == 16 ? g_ascii_xdigit_value(*d) : g_ascii_digit_value(*d);

		if (digit < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t)digit) / base)
			return false;
		v = v * base + (uint64_t)digit;
	}
	if (!n)
		return false;
	*out = v;
	*end = d;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	const char *end;

	return scan_u64(s, out, &end) && !*end;
}

static bool parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	unsigned shift = 0;

	if (!scan_u64(s, &v, &end))
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	default:
		return false;
	}
	if (shift && end[1])
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static gint span_cmp(gconstpointer a, gconstpointer b)
{
	const struct page_span *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

/* Sorted and merged, so the engine and the writer see one form whatever the
 * trace author wrote ("4-5,0-3" and "0-5" are the same list). */
static void normalise_spans(GArray *spans)
{
	guint out = 0;

	g_array_sort(spans, span_cmp);
	for (guint i = 0; i < spans->len; i++) {
		struct page_span cur = g_array_index(spans, struct page_span, i);
		struct page_span *prev =
			out ? &g_array_index(spans, struct page_span, out - 1) : NULL;

		if (prev && (prev->last == UINT64_MAX || cur.first <= prev->last + 1)) {
			if (cur.last > prev->last)
				prev->last = cur.last;
			continue;
		}
		g_array_index(spans, struct page_span, out++) = cur;
	}
	g_array_set_size(spans, out);
}

static bool parse_range(struct parser *p, const char *key, const char *s, GArray *spans)
{
	const char *c = s;

	if (!strcmp(s, "none"))
		return true;
	for (;;) {
		struct page_span sp;
		const char *end;

		if (*c == ',' || !*c)
			return fail(p, "empty item in page list %s for %s=", qs(p, s), key);
		if (!scan_u64(c, &sp.first, &end))
			return fail(p, "bad page number in page list %s for %s=", qs(p, s), key);
		sp.last = sp.first;
		if (*end == '-') {
			c = end + 1;
			if (!scan_u64(c, &sp.last, &end))
				return fail(p, "bad page number after '-' in page list %s for %s=",
					    qs(p, s), key);
			if (sp.first > sp.last)
				return fail(p, "descending span in page list %s for %s=", qs(p, s),
					    key);
		}
		g_array_append_val(spans, sp);
		if (!*end)
			break;
		if (*end != ',')
			return fail(p, "unexpected character in page list %s for %s=", qs(p, s),
				    key);
		c = end + 1;
		if (!*c)
			return fail(p, "stray trailing comma in page list %s for %s=", qs(p, s),
				    key);
	}
	normalise_spans(spans);
	return true;
}

static bool parse_flags(struct parser *p, const struct key_desc *k, const char *s, uint64_t *out)
{
	g_auto(GStrv) parts = NULL;
	uint64_t v = 0, bit;

	if (!strcmp(s, "0")) {
		*out = 0;
		return true;
	}
	parts = g_strsplit(s, "|", -1);
	for (int i = 0; parts[i]; i++) {
		if (!*parts[i])
			return fail(p, "empty flag name in %s for %s=", qs(p, s), k->key);
		if (!flag_lookup(k->table, parts[i], &bit)) {
			g_autoptr(GString) known = g_string_new(NULL);

			for (const struct flag_name *f = k->table; f && f->name; f++)
				g_string_append_printf(known, "%s%s", f == k->table ? "" : ", ",
						       f->name);
			return fail(p, "unknown flag %s for %s= (known: %s)", qs(p, parts[i]),
				    k->key, known->str);
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(parts[j], parts[i]))
				return fail(p, "duplicate flag '%s' in %s=", parts[i], k->key);
		v |= bit;
	}
	*out = v;
	return true;
}

static bool parse_enum(struct parser *p, const struct key_desc *k, const char *s, uint64_t *out)
{
	g_autoptr(GString) known = NULL;

	if (flag_lookup(k->table, s, out))
		return true;
	known = g_string_new(NULL);
	for (const struct flag_name *f = k->table; f && f->name; f++) {
		if (known->len > 200) {
			g_string_append(known, ", ...");
			break;
		}
		g_string_append_printf(known, "%s%s", f == k->table ? "" : ", ", f->name);
	}
	return fail(p, "unknown value %s for %s= (one of: %s)", qs(p, s), k->key, known->str);
}

static bool parse_prot(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!strcmp(s, "none")) {
		*out = 0;
		return true;
	}
	if (*s == 'r') {
		v |= 1;
		s++;
	}
	if (*s == 'w') {
		v |= 2;
		s++;
	}
	if (*s == 'x') {
		v |= 4;
		s++;
	}
	if (*s || !v)
		return false;
	*out = v;
	return true;
}

/* A reference must name something declared on an earlier line with the
 * kind the command expects; a hunk must name a patch switch. */
static bool check_ref(struct parser *p, enum name_kind kind, const char *name, const char *what)
{
	gpointer v;

	if (kind == NAME_HUNK) {
		for (int h = 0; h < NR_HUNKS; h++)
			if (!strcmp(hunk_descs[h].name, name))
				return true;
		g_autoptr(GString) known = g_string_new(NULL);
		for (int h = 0; h < NR_HUNKS; h++)
			g_string_append_printf(known, "%s%s", h ? ", " : "", hunk_descs[h].name);
		return fail(p, "unknown hunk %s (one of: %s)", qs(p, name), known->str);
	}
	if (!is_name(name))
		return fail(p, "bad %s name %s (names match [A-Za-z_][A-Za-z0-9_.-]*)", what,
			    qs(p, name));
	if (!g_hash_table_lookup_extended(p->names, name, NULL, &v))
		return fail(p, "%s '%s' is not declared (declare it with '%s' first)", what, name,
			    kind == NAME_PROC	  ? "process"
			    : kind == NAME_FILE	  ? "file"
			    : kind == NAME_REGION ? "mmap"
						  : "uffd open");
	if ((enum name_kind)GPOINTER_TO_INT(v) != kind)
		return fail(p, "%s '%s' is a %s, expected a %s", what, name,
			    kind_names[GPOINTER_TO_INT(v)], kind_names[kind]);
	return true;
}

static bool parse_value(struct parser *p, const struct key_desc *k, const char *s,
			struct arg_value *a)
{
	bool ok = true;

	switch (k->type) {
	case ARG_U64:
		ok = parse_u64(s, &a->u);
		break;
	case ARG_SIZE:
		ok = parse_size(s, &a->u);
		break;
	case ARG_RANGE:
		a->spans = g_array_new(FALSE, FALSE, sizeof(struct page_span));
		a->present = true; /* so trace_free releases spans on error */
		return parse_range(p, k->key, s, a->spans);
	case ARG_FLAGS:
		return parse_flags(p, k, s, &a->u);
	case ARG_ENUM:
		return parse_enum(p, k, s, &a->u);
	case ARG_NAME:
		if (!check_ref(p, k->name_kind, s, k->key))
			return false;
		a->name = g_strdup(s);
		return true;
	case ARG_PROT:
		if (parse_prot(s, &a->u))
			return true;
		return fail(
			p, "bad prot %s for %s= (none, or a non-empty subset of rwx in that order)",
			qs(p, s), k->key);
	}
	if (ok)
		return true;
	if (k->type == ARG_SIZE)
		return fail(p,
			    "bad size %s for %s= (decimal or 0x-hex bytes, optional K/M/G, "
			    "at most 2^64-1)",
			    qs(p, s), k->key);
	return fail(p, "bad number %s for %s= (decimal or 0x-hex, at most 2^64-1)", qs(p, s),
		    k->key);
}

static void step_clear(struct step *s)
{
	for (int i = 0; i < MAX_POSITIONAL; i++)
		g_free(s->pos[i]);
	for (int i = 0; i < MAX_KEYS; i++) {
		if (s->args[i].spans)
			g_array_free(s->args[i].spans, TRUE);
		g_free(s->args[i].name);
	}
	memset(s, 0, sizeof(*s));
}

static int nr_positional(const struct cmd_desc *d)
{
	int n = 0;

	while (n < MAX_POSITIONAL && d->positional[n] != NAME_NONE)
		n++;
	return n;
}

static int find_cmd(char **tok, int ntok, int *used)
{
	if (ntok >= 2) {
		g_autofree char *two = g_strconcat(tok[0], " ", tok[1], NULL);

		for (int c = 0; c < NR_CMDS; c++) {
			if (!strcmp(cmd_descs[c].name, two)) {
				*used = 2;
				return c;
			}
		}
	}
	for (int c = 0; c < NR_CMDS; c++) {
		if (!strcmp(cmd_descs[c].name, tok[0])) {
			*used = 1;
			return c;
		}
	}
	return -1;
}

static bool unknown_cmd(struct parser *p, char **tok, int ntok)
{
	g_autoptr(GString) alts = g_string_new(NULL);
	size_t l0 = strlen(tok[0]);

	/* A first word that starts two-word commands gets them listed. */
	for (int c = 0; c < NR_CMDS; c++) {
		const char *n = cmd_descs[c].name;

		if (!strncmp(n, tok[0], l0) && n[l0] == ' ')
			g_string_append_printf(alts, "%s'%s'", alts->len ? ", " : "", n);
	}
	if (alts->len && ntok > 1) {
		g_autofree char *two = g_strconcat(tok[0], " ", tok[1], NULL);

		return fail(p, "unknown command %s (expected one of: %s)", qs(p, two), alts->str);
	}
	if (alts->len)
		return fail(p, "unknown command %s (expected one of: %s)", qs(p, tok[0]),
			    alts->str);
	return fail(p, "unknown command %s", qs(p, tok[0]));
}

static bool parse_positional(struct parser *p, const struct cmd_desc *d, int ipos, const char *tok)
{
	enum name_kind kind = d->positional[ipos];

	if (ipos || !d->declares)
		return check_ref(p, kind, tok, kind_names[kind]);
	if (!is_name(tok))
		return fail(p, "bad %s name %s (names match [A-Za-z_][A-Za-z0-9_.-]*)",
			    kind_names[kind], qs(p, tok));
	if (g_hash_table_contains(p->names, tok))
		return fail(p, "'%s' is already declared", tok);
	return true;
}

static void record_owner(struct parser *p, const struct step *st);
static bool declare_fork_names(struct parser *p, const struct step *st);

static bool parse_line(struct parser *p, char *line, struct step *st)
{
	char *tok[MAX_LINE / 2 + 2];
	int ntok = 0, used = 0, c, npos, ipos = 0;
	bool seen_key = false;
	const struct cmd_desc *d;

	for (char *s = line; *s;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		tok[ntok++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	if (!ntok)
		return true;

	c = find_cmd(tok, ntok, &used);
	if (c < 0)
		return unknown_cmd(p, tok, ntok);
	d = &cmd_descs[c];
	st->cmd = (enum cmd)c;
	st->line = p->line;
	npos = nr_positional(d);

	for (int i = used; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		const struct key_desc *k;
		int ki;

		if (!eq) {
			if (seen_key)
				return fail(p, "name %s after key=value (names come first)",
					    qs(p, tok[i]));
			if (ipos >= npos)
				return fail(p, "unexpected %s: '%s' takes %d name%s", qs(p, tok[i]),
					    d->name, npos, npos == 1 ? "" : "s");
			if (!parse_positional(p, d, ipos, tok[i]))
				return false;
			st->pos[ipos++] = g_strdup(tok[i]);
			continue;
		}

		seen_key = true;
		*eq = '\0';
		if (!*tok[i])
			return fail(p, "missing key before '=' in %s", qs(p, eq + 1));
		ki = cmd_key_index((enum cmd)c, tok[i]);
		if (ki < 0) {
			g_autoptr(GString) known = g_string_new(NULL);

			for (int j = 0; j < MAX_KEYS && d->keys[j].key; j++)
				g_string_append_printf(known, "%s%s", j ? ", " : "",
						       d->keys[j].key);
			return fail(p, "unknown key %s for '%s' (%s%s)", qs(p, tok[i]), d->name,
				    known->len ? "keys: " : "it takes no keys", known->str);
		}
		k = &d->keys[ki];
		if (st->args[ki].present)
			return fail(p, "duplicate key '%s'", k->key);
		if (!eq[1])
			return fail(p, "empty value for %s= (expected %s)", k->key,
				    type_names[k->type]);
		if (!parse_value(p, k, eq + 1, &st->args[ki]))
			return false;
		st->args[ki].present = true;
	}

	if (ipos < npos)
		return fail(p, "'%s' needs a %s name%s", d->name, kind_names[d->positional[ipos]],
			    ipos ? " as its second name" : "");
	for (int j = 0; j < MAX_KEYS && d->keys[j].key; j++)
		if (d->keys[j].required && !st->args[j].present)
			return fail(p, "'%s' is missing required key %s=", d->name, d->keys[j].key);
	if (d->declares)
		g_hash_table_insert(p->names, g_strdup(st->pos[0]),
				    GINT_TO_POINTER(d->positional[0]));
	if (d->declares)
		record_owner(p, st);
	if (st->cmd == CMD_FORK)
		return declare_fork_names(p, st);
	return true;
}

/* The process a newly declared region or uffd belongs to: its proc= key, or
 * the owner of the first region/uffd it is made from (mremap from=). */
static void record_owner(struct parser *p, const struct step *st)
{
	const struct cmd_desc *d = &cmd_descs[st->cmd];
	const char *owner = NULL;

	if (d->positional[0] != NAME_REGION && d->positional[0] != NAME_UFFD)
		return;
	for (int j = 0; j < MAX_KEYS && d->keys[j].key && !owner; j++) {
		const struct key_desc *k = &d->keys[j];

		if (k->type != ARG_NAME || !st->args[j].present)
			continue;
		if (k->name_kind == NAME_PROC)
			owner = st->args[j].name;
		else if (k->name_kind == NAME_REGION || k->name_kind == NAME_UFFD)
			owner = g_hash_table_lookup(p->owner, st->args[j].name);
	}
	if (!owner)
		return;
	char *key = g_strdup(st->pos[0]);
	g_hash_table_insert(p->owner, key, g_strdup(owner));
	g_ptr_array_add(p->owned, key);
}

/* "fork C parent=P" also declares C.<name> for every region and uffd of P
 * declared so far (the engine refuses C.<uffd> when P's context had no
 * UFFD_FEATURE_EVENT_FORK). */
static bool declare_fork_names(struct parser *p, const struct step *st)
{
	const char *parent = step_arg(st, "parent")->name, *child = st->pos[0];
	guint n = p->owned->len;

	for (guint i = 0; i < n; i++) {
		const char *name = g_ptr_array_index(p->owned, i);
		gpointer kind;

		if (strcmp(g_hash_table_lookup(p->owner, name), parent))
			continue;
		g_autofree char *copy = g_strconcat(child, ".", name, NULL);
		if (g_hash_table_contains(p->names, copy))
			return fail(p, "'%s' (the child's copy of '%s') is already declared", copy,
				    name);
		g_hash_table_lookup_extended(p->names, name, NULL, &kind);
		g_hash_table_insert(p->names, g_strdup(copy), kind);
		char *key = g_strdup(copy);
		g_hash_table_insert(p->owner, key, g_strdup(child));
		g_ptr_array_add(p->owned, key);
	}
	return true;
}

/* Checks the raw bytes of one line before tokenising: length, NUL and
 * control characters (a CR is named, as CRLF files are the common case). */
static bool check_bytes(struct parser *p, const char *line, size_t len)
{
	if (len > MAX_LINE)
		return fail(p, "line too long (%zu bytes, limit %d)", len, MAX_LINE);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == '\0')
			return fail(p, "NUL byte at column %zu", i + 1);
		if (ch == '\r')
			return fail(p, "carriage return at column %zu (use LF line endings)",
				    i + 1);
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(p, "control character 0x%02x at column %zu", ch, i + 1);
	}
	return true;
}

static struct trace *parse_buffer(const char *path, const char *text, size_t size, GString *err)
{
	struct parser p = { .path = path ? path : "<string>", .err = err };
	struct trace *t = g_new0(struct trace, 1);
	char *buf = g_malloc(MAX_LINE + 1);
	size_t off = 0;

	t->path = g_strdup(p.path);
	t->steps = g_array_new(FALSE, TRUE, sizeof(struct step));
	p.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	p.scratch = g_ptr_array_new_with_free_func(g_free);
	p.owner = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	p.owned = g_ptr_array_new();

	while (off < size && !p.failed) {
		const char *nl = memchr(text + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (text + off)) : size - off;
		struct step st = { 0 };
		char *hash;

		p.line++;
		if (!check_bytes(&p, text + off, len))
			break;
		memcpy(buf, text + off, len);
		buf[len] = '\0';
		off += len + 1;
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		if (!parse_line(&p, buf, &st)) {
			step_clear(&st);
			break;
		}
		if (st.line)
			g_array_append_val(t->steps, st);
	}
	g_free(buf);
	g_hash_table_destroy(p.names);
	g_ptr_array_free(p.scratch, TRUE);
	g_ptr_array_free(p.owned, TRUE);
	g_hash_table_destroy(p.owner);
	if (p.failed) {
		trace_free(t);
		return NULL;
	}
	return t;
}

struct trace *trace_parse_string(const char *path, const char *text, GString *err)
{
	if (!text) {
		struct parser p = { .path = path ? path : "<string>", .err = err };

		fail(&p, "no text");
		return NULL;
	}
	return parse_buffer(path, text, strlen(text), err);
}

struct trace *trace_parse_file(const char *path, GString *err)
{
	g_autoptr(GError) gerr = NULL;
	g_autofree char *text = NULL;
	gsize size;

	if (!g_file_get_contents(path, &text, &size, &gerr)) {
		struct parser p = { .path = path ? path : "<file>", .err = err };

		fail(&p, "cannot read: %s", gerr->message);
		return NULL;
	}
	return parse_buffer(path, text, size, err);
}

void trace_free(struct trace *t)
{
	if (!t)
		return;
	for (guint i = 0; i < t->steps->len; i++)
		step_clear(&g_array_index(t->steps, struct step, i));
	g_array_free(t->steps, TRUE);
	g_free(t->path);
	g_free(t);
}
