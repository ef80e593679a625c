/* tests/unit/test_search_explore.c - bounded exhaustive exploration
 * (sim/search/explore.c).
 *
 * Two operations after the fixed setup are enough to reach G1 without
 * patch 08 (arm, then pin_user_pages reads the armed page): explore must
 * find it at no08, as the shortest counterexample, and find nothing at
 * v6. The search is breadth first over a fixed alphabet, so its counts
 * are the same every run; shards split the second level between them and
 * together reach every state the whole search reaches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <string.h>

#include "patch.h"
#include "search/explore.h"
#include "search/search.h"

/* The report without its timing ("after 0.2 s"). */
static char *untimed(const char *report)
{
	g_autoptr(GRegex) re = g_regex_new("after [0-9.]+ s", 0, 0, NULL);
	return g_regex_replace_literal(re, report, -1, 0, "after T s", 0, NULL);
}

static unsigned explore(const char *level, unsigned depth, unsigned shard, unsigned nr_shards,
			struct explore_stats *st, char **report)
{
	struct explore_options o = {
		.depth = depth, .shard = shard, .nr_shards = nr_shards, .level = level
	};
	g_autoptr(GString) out = g_string_new(NULL);

	assert_true(patch_set_level(level));
	unsigned found = explore_run(&o, out, st);
	assert_int_equal(st->crashes, 0);
	assert_int_equal(st->alphabet, explore_alphabet_len);
	*report = untimed(out->str);
	assert_true(patch_set_level("v6"));
	return found;
}

static void assert_stats_equal(const struct explore_stats *a, const struct explore_stats *b)
{
	assert_int_equal(a->states, b->states);
	assert_int_equal(a->replays, b->replays);
	assert_int_equal(a->branches, b->branches);
	assert_int_equal(a->pruned, b->pruned);
	assert_int_equal(a->refused, b->refused);
	assert_memory_equal(a->per_depth, b->per_depth, sizeof(a->per_depth));
}

static struct explore_stats whole_no08;
static char *whole_no08_report;

static void depth2_finds_g1_at_no08(void **state)
{
	unsigned found = explore("no08", 2, 0, 1, &whole_no08, &whole_no08_report);
	print_message("%s", whole_no08_report);
	assert_true(found >= 1);
	const char *v =
		strstr(whole_no08_report, "violation 'unobserved access', kind G1 at depth ");
	assert_non_null(v);
	/* the counterexample is the setup, then at most two operations, the
	 * last a GUP */
	const char *trace = strstr(v, ":\n");
	assert_non_null(trace);
	assert_true(g_str_has_prefix(trace + 2, explore_setup));
	const char *ops = trace + 2 + strlen(explore_setup);
	const char *arrow = strstr(ops, "  -> ");
	assert_non_null(arrow);
	g_autofree char *tail = g_strndup(ops, (gsize)(arrow - ops));
	assert_non_null(strstr(tail, "gup "));
	unsigned n = 0;
	for (const char *p = tail; *p; p++)
		n += *p == '\n';
	assert_in_range(n, 1, 2);
	assert_non_null(strstr(arrow, "unobserved access"));
	/* the setup, the first level, the second */
	assert_int_equal(whole_no08.per_depth[0], 1);
	assert_true(whole_no08.per_depth[1] > 1);
	assert_true(whole_no08.per_depth[2] > whole_no08.per_depth[1]);
	assert_int_equal(whole_no08.per_depth[3], 0);
	assert_int_equal(whole_no08.states, whole_no08.per_depth[0] + whole_no08.per_depth[1] +
						    whole_no08.per_depth[2]);
	/* one replay per expanded state: the setup and the first level */
	assert_int_equal(whole_no08.replays, 1 + 1 + whole_no08.per_depth[1]);
}

static void depth2_finds_nothing_at_v6(void **state)
{
	struct explore_stats st;
	g_autofree char *report = NULL;
	assert_int_equal(explore("v6", 2, 0, 1, &st, &report), 0);
	assert_null(strstr(report, "violation"));
	assert_true(st.per_depth[2] > 0);
}

static void the_counts_are_the_same_every_run(void **state)
{
	struct explore_stats again;
	g_autofree char *report = NULL;
	assert_non_null(whole_no08_report);
	explore("no08", 2, 0, 1, &again, &report);
	assert_stats_equal(&whole_no08, &again);
	assert_string_equal(whole_no08_report, report);
}

static void two_shards_split_the_second_level_and_cover_it(void **state)
{
	struct explore_stats sh[2];
	g_autofree char *r0 = NULL, *r1 = NULL;

	assert_non_null(whole_no08_report);
	explore("no08", 2, 0, 2, &sh[0], &r0);
	explore("no08", 2, 1, 2, &sh[1], &r1);
	for (unsigned i = 0; i < 2; i++) {
		/* the first level is found whole by every shard */
		assert_int_equal(sh[i].per_depth[1], whole_no08.per_depth[1]);
		/* then each goes on from its share only */
		assert_true(sh[i].states < whole_no08.states);
		assert_true(sh[i].per_depth[2] < whole_no08.per_depth[2]);
		assert_true(sh[i].per_depth[2] > 0);
		assert_true(sh[i].replays < whole_no08.replays);
	}
	/* together at least every second-level state of the whole (a state
	 * reachable from both shares is counted by both) */
	assert_true(sh[0].per_depth[2] + sh[1].per_depth[2] >= whole_no08.per_depth[2]);
	/* and G1 is found by the shard whose share leads to it */
	assert_true(strstr(r0, "kind G1") || strstr(r1, "kind G1"));
}

static int teardown(void **state)
{
	g_free(whole_no08_report);
	return 0;
}

/* The digest replacing SHA-256: same words, same digest; any one word
 * changed, moved or added, another; always 32 hex digits. */
static void the_state_digest_tells_word_sequences_apart(void **state)
{
	(void)state;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char hex[STATE_HASH_HEX], again[STATE_HASH_HEX];
	struct state_hash h;

	/* Every sequence of up to 3 words from {0, 1, 2, 1 << 63}: 85 of them. */
	static const uint64_t words[] = { 0, 1, 2, 1ULL << 63 };
	for (unsigned n = 0; n <= 3; n++) {
		unsigned total = 1;
		for (unsigned i = 0; i < n; i++)
			total *= G_N_ELEMENTS(words);
		for (unsigned code = 0; code < total; code++) {
			state_hash_init(&h);
			for (unsigned i = 0, c = code; i < n; i++, c /= G_N_ELEMENTS(words))
				state_hash_put(&h, words[c % G_N_ELEMENTS(words)]);
			state_hash_hex(&h, hex);
			assert_int_equal(strlen(hex), 32);
			assert_true(g_hash_table_add(seen, g_strdup(hex)));
		}
	}
	assert_int_equal(g_hash_table_size(seen), 85);
	state_hash_init(&h);
	state_hash_put(&h, 42);
	state_hash_hex(&h, hex);
	state_hash_init(&h);
	state_hash_put(&h, 42);
	state_hash_hex(&h, again);
	assert_string_equal(hex, again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(depth2_finds_g1_at_no08),
		cmocka_unit_test(depth2_finds_nothing_at_v6),
		cmocka_unit_test(the_counts_are_the_same_every_run),
		cmocka_unit_test(two_shards_split_the_second_level_and_cover_it),
		cmocka_unit_test(the_state_digest_tells_word_sequences_apart),
	};

	return cmocka_run_group_tests_name("search_explore", tests, NULL, teardown);
}
