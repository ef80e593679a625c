/* tests/support/trace_test.h - helpers for the trace-language tests.
 *
 * No machine and no mm/ headers: the parser tests keep building while those
 * change under them.
 */
#ifndef TRACE_TEST_H
#define TRACE_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include "trace/trace.h"

/* Same command, names and arguments; line numbers are not compared, as the
 * writer drops comments and blanks. */
bool t_steps_equal(const struct step *a, const struct step *b);

/* Writes t, parses the text back as path and asserts the same steps, then
 * that writing those is a fixed point. Returns the canonical text (g_free
 * it); what names the case in failure messages. */
char *t_trace_rewrite(const struct trace *t, const char *path, const char *what);

#endif
