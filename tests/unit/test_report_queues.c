/* tests/unit/test_report_queues.c - mmsim report's queue snapshots for every
 * kind of userfaultfd message (fork, remap, remove, unmap, MINOR faults),
 * several contexts listed by name, and the JSON of a queue of many. */
#include <stdio.h>
#include <string.h>

#include "mmsim_test.h"
#include "report/report.h"
#include "trace/trace.h"

/* Non-cooperative events on V (sorted after U), a MINOR fault on U. */
static const char events_trace[] = "process P\n"
				   "mmap A proc=P len=64K prot=rw map=private\n"
				   "mmap B proc=P len=16K prot=rw map=private\n"
				   "file F size=32K\n"
				   "mmap G proc=P len=32K prot=rw map=shared file=F\n"
				   "write A pages=0-15 value=1\n"
				   "write B pages=0-3 value=2\n"
				   "write G pages=0-7 value=3\n"
				   "uffd open V proc=P\n"
				   "uffd api V features=EVENT_FORK|EVENT_REMAP|EVENT_REMOVE|"
				   "EVENT_UNMAP\n"
				   "uffd register V A mode=MISSING\n"
				   "uffd register V B mode=MISSING\n"
				   "uffd open U proc=P\n"
				   "uffd api U features=MINOR_SHMEM\n"
				   "uffd register U G mode=MINOR\n"
				   "madvise G pages=5 advice=DONTNEED\n"
				   "madvise A pages=0-1 advice=DONTNEED\n"
				   "munmap A pages=14-15\n"
				   "mremap B2 from=B\n"
				   "fork C parent=P\n"
				   "read G pages=5\n"
				   "expect result is=blocked\n"
				   "expect msgs V count=5\n"
				   "uffd continue U G pages=5\n"
				   "expect blocked count=0\n";

static int setup(void **state)
{
	(void)state;
	assert_true(patch_set_level("v6"));
	return 0;
}

static void test_event_messages(void **state)
{
	(void)state;
	g_autoptr(GString) err = g_string_new(NULL);
	struct trace *t = trace_parse_string("events.trace", events_trace, err);
	if (!t)
		fail_msg("parse: %s", err->str);
	struct report *rep = report_new(t);
	assert_int_equal(report_replay(rep), VERDICT_PASS);

	/* After the blocked read: queues listed by name, the child's C.V first. */
	guint blocked = 0;
	for (guint i = 0; i < rep->steps->len; i++)
		if (!strcmp(((struct report_step *)g_ptr_array_index(rep->steps, i))->result,
			    "blocked"))
			blocked = i + 1;
	assert_true(blocked > 0);
	const struct report_step *st = g_ptr_array_index(rep->steps, blocked - 1);
	assert_non_null(st->queues);
	assert_int_equal(st->queues->len, 3);
	const struct report_queue *cv = g_ptr_array_index(st->queues, 0);
	const struct report_queue *u = g_ptr_array_index(st->queues, 1);
	const struct report_queue *v = g_ptr_array_index(st->queues, 2);
	assert_string_equal(cv->name, "C.V");
	assert_int_equal(cv->msgs->len, 0);
	assert_string_equal(u->name, "U");
	assert_string_equal(v->name, "V");
	assert_int_equal(u->msgs->len, 1);
	assert_string_equal(g_ptr_array_index(u->msgs, 0), "pagefault MINOR G page 5");
	assert_int_equal(u->waiters, 1);
	assert_string_equal(g_ptr_array_index(u->waiting, 0), "task 21 at G page 5");
	/* (a task is named by the line of the step that runs it) */

	/* V holds one message per event, oldest first: madvise, munmap, then
	 * the mremap's remap and the unmap of its source in that order
	 * (do_mremap()'s notify_uffd() sends the REMAP before the unmap
	 * list), then fork. */
	assert_int_equal(v->msgs->len, 5);
	assert_true(g_str_has_prefix(g_ptr_array_index(v->msgs, 0), "remove 0x"));
	assert_true(g_str_has_prefix(g_ptr_array_index(v->msgs, 1), "unmap 0x"));
	const char *remap = g_ptr_array_index(v->msgs, 2);
	assert_true(g_str_has_prefix(remap, "remap 0x"));
	assert_true(g_str_has_suffix(remap, " len 0x4000"));
	assert_true(g_str_has_prefix(g_ptr_array_index(v->msgs, 3), "unmap 0x"));
	assert_true(g_str_has_prefix(g_ptr_array_index(v->msgs, 4), "fork (child context "));

	/* Two pages removed: the range is 0x2000 long. */
	const char *rm = g_ptr_array_index(v->msgs, 0);
	unsigned long long lo, hi;
	assert_int_equal(sscanf(rm, "remove 0x%llx-0x%llx", &lo, &hi), 2);
	assert_int_equal(hi - lo, 0x2000);

	/* The page lists the queue's messages as one JSON array. */
	GString *html = g_string_new(NULL);
	report_write_html(rep, html);
	g_autofree char *pair =
		g_strdup_printf("\"%s\",\"%s\"", rm, (char *)g_ptr_array_index(v->msgs, 1));
	assert_non_null(strstr(html->str, pair));
	g_string_free(html, TRUE);

	report_free(rep);
	report_free(NULL);
	trace_free(t);
}

static void test_json_tab(void **state)
{
	(void)state;
	g_autoptr(GString) out = g_string_new(NULL);
	report_json_string(out, "a\tb");
	assert_string_equal(out->str, "\"a\\tb\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_event_messages, setup),
		cmocka_unit_test(test_json_tab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
