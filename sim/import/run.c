/* sim/import/run.c - one import from start to finish: a front end over the
 * lines of a file (or of a string, for the tests), then the converter. */
#include "import/import.h"

#include <string.h>

static bool strace_cb(void *ctx, const char *line, uint32_t lineno, GString *err)
{
	return imp_strace_line(ctx, line, lineno, err);
}

static bool lackey_cb(void *ctx, const char *line, uint32_t lineno, GString *err)
{
	return imp_lackey_line(ctx, line, lineno, err);
}

static bool text_lines(const char *text, imp_line_fn fn, void *ctx, GString *err)
{
	uint32_t lineno = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		g_autofree char *line = g_strndup(p, n);
		if (!fn(ctx, line, ++lineno, err))
			return false;
		p += n + (nl != NULL);
	}
	return true;
}

bool imp_run(const char *fmt, const char *path, const char *text, const struct imp_options *o,
	     const GPtrArray *ft, GString *out, GString *err)
{
	bool strace = !strcmp(fmt, "strace");
	struct imp_conv *c = imp_conv_new(o);
	struct imp_strace *s = strace ? imp_strace_new(path) : NULL;
	struct imp_lackey *l = strace ? NULL : imp_lackey_new(path, c);
	imp_line_fn fn = strace ? strace_cb : lackey_cb;
	void *ctx = strace ? (void *)s : (void *)l;
	bool ok = text ? text_lines(text, fn, ctx, err) : imp_read_lines(path, fn, ctx, err);

	if (ok) {
		if (strace)
			imp_strace_finish(s, c, ft);
		else
			imp_lackey_finish(l);
		ok = imp_conv_finish(c, out, err);
	}
	imp_strace_free(s);
	imp_lackey_free(l);
	imp_conv_free(c);
	return ok;
}
