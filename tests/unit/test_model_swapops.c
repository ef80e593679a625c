/* tests/unit/test_model_swapops.c - swap-format entries of model/swapops.h:
 * generic swp_entry_t, the x86-64 swap PTE layout, software bits, migration
 * entries, PTE markers and PMD migration entries.
 *
 * x86-64 swap PTE: | TYPE (59-63) | ~OFFSET (9-58) | 0 (4-8) | E (3) | F (2) | SD (1) | 0 |
 */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/swapops.h"

#define ARCH_OFFSET_BITS 50 /* bits 9..58 */

/* The model's type numbers (see also the kernel-order test at the end). */
static void swap_type_numbers_reserve_the_top_eight_types(void **state)
{
	assert_int_equal(MAX_SWAPFILES, 24);
	assert_int_equal(SWP_PTE_MARKER, 31);
	assert_int_equal(SWP_TYPE_SHIFT, 58);
	assert_int_equal(SWP_OFFSET_MASK, (1ULL << 58) - 1);
	assert_int_equal(SWP_PFN_BITS, 40);
	assert_int_equal(SWP_MIG_YOUNG, 1ULL << 40);
	assert_int_equal(SWP_MIG_DIRTY, 1ULL << 41);
	assert_int_equal(SWP_OFFSET_FIRST_BIT, 9);
	assert_int_equal(SWP_OFFSET_SHIFT, 14);
	assert_int_equal(__SWP_SW_BITS, 0xe);
	assert_int_equal(PTE_MARKER_UFFD_WP, 1);
	assert_int_equal(PTE_MARKER_POISONED, 2);
	assert_int_equal(PTE_MARKER_GUARD, 4);
	/* every special type is distinct and above the real swap files */
	const unsigned special[] = { SWP_DEVICE_PRIVATE_READ,
				     SWP_DEVICE_PRIVATE_WRITE,
				     SWP_DEVICE_EXCLUSIVE,
				     SWP_MIGRATION_READ,
				     SWP_MIGRATION_READ_EXCLUSIVE,
				     SWP_MIGRATION_WRITE,
				     SWP_HWPOISON,
				     SWP_PTE_MARKER };
	for (size_t i = 0; i < G_N_ELEMENTS(special); i++) {
		assert_true(special[i] >= MAX_SWAPFILES && special[i] < 32);
		assert_true(non_swap_entry(swp_entry(special[i], 0)));
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(special[i], special[j]);
	}
	assert_false(non_swap_entry(swp_entry(MAX_SWAPFILES - 1, 0)));
	assert_false(non_swap_entry(swp_entry(0, 0)));
}

static void swp_entry_round_trips_type_and_offset(void **state)
{
	const unsigned types[] = {
		0, 1, 23, SWP_MIGRATION_READ, SWP_MIGRATION_WRITE, SWP_PTE_MARKER
	};
	const uint64_t offsets[] = { 0,
				     1,
				     0x12345,
				     1ULL << 32,
				     (1ULL << 40) - 1,
				     1ULL << 49,
				     (1ULL << ARCH_OFFSET_BITS) - 1 };

	for (size_t t = 0; t < G_N_ELEMENTS(types); t++)
		for (size_t o = 0; o < G_N_ELEMENTS(offsets); o++) {
			swp_entry_t e = swp_entry(types[t], offsets[o]);
			swp_entry_t back = pte_to_swp_entry(swp_entry_to_pte(e));

			ROW_EQ(o, e.val, ((uint64_t)types[t] << 58) | offsets[o]);
			ROW_EQ(o, swp_type(e), types[t]);
			ROW_EQ(o, swp_offset(e), offsets[o]);
			ROW_EQ(o, back.val, e.val);
			ROW_EQ(o, __swp_type(swp_entry_to_pte(e)), types[t]);
			ROW_EQ(o, __swp_offset(swp_entry_to_pte(e)), offsets[o]);
		}
}

/* The generic entry holds 58 offset bits, the x86 PTE only 50. */
static void offsets_beyond_the_arch_field_are_truncated(void **state)
{
	assert_int_equal(swp_offset(swp_entry(3, 1ULL << 57)), 1ULL << 57);
	assert_int_equal(swp_offset(swp_entry(3, 1ULL << 58)), 0);
	assert_int_equal(swp_type(swp_entry(3, ~0ULL)), 3);
	assert_int_equal(swp_offset(pte_to_swp_entry(swp_entry_to_pte(swp_entry(3, 1ULL << 50)))),
			 0);
	assert_int_equal(
		swp_offset(pte_to_swp_entry(swp_entry_to_pte(swp_entry(3, (1ULL << 50) | 5)))), 5);
	assert_int_equal(swp_type(pte_to_swp_entry(swp_entry_to_pte(swp_entry(3, 1ULL << 55)))), 3);
}

/* Raw values computed by hand from the layout in the header comment above. */
static void x86_swap_pte_layout_matches_hand_computed_values(void **state)
{
	static const struct {
		unsigned type;
		uint64_t offset, raw;
	} rows[] = {
		{ 0, 0, 0x07fffffffffffe00ULL },
		{ 1, 1, 0x0ffffffffffffc00ULL },
		{ 0, 0x12345, 0x07fffffffdb97400ULL },
		{ 5, 0xabcdef, 0x2ffffffea8642000ULL },
		{ 0, 1ULL << 40, 0x07fdfffffffffe00ULL },
		{ 23, (1ULL << 50) - 1, 0xb800000000000000ULL },
		{ 31, 1, 0xfffffffffffffc00ULL },
		{ 31, 2, 0xfffffffffffffa00ULL },
		{ 31, 4, 0xfffffffffffff600ULL },
		{ 31, 5, 0xfffffffffffff400ULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		pte_t p = __swp_entry_to_pte(rows[i].type, rows[i].offset);
		uint64_t formula = ((~rows[i].offset & ((1ULL << ARCH_OFFSET_BITS) - 1)) << 9) |
				   ((uint64_t)rows[i].type << 59);

		ROW_EQ(i, pte_val(p), rows[i].raw);
		ROW_EQ(i, formula, rows[i].raw);
		ROW_EQ(i, pte_val(swp_entry_to_pte(swp_entry(rows[i].type, rows[i].offset))),
		       rows[i].raw);
		/* bits 0-8 are never used by the type or offset */
		ROW_EQ(i, pte_val(p) & 0x1ff, 0);
		ROW_EQ(i, __swp_type(p), rows[i].type);
		ROW_EQ(i, __swp_offset(p), rows[i].offset);
		ROW_EQ(i, is_swap_pte(p), true);
		ROW_EQ(i, pte_present(p), false);
		ROW_EQ(i, pte_none(p), false);
		ROW_EQ(i, pte_protnone(p), false);
	}
}

/* Soft-dirty (bit 1), uffd (bit 2) and exclusive (bit 3) ride on the swap PTE
 * without changing the entry it decodes to. */
static void swap_pte_software_bits_are_independent_of_the_entry(void **state)
{
	const swp_entry_t entries[] = { swp_entry(0, 0), swp_entry(0, 0x12345),
					swp_entry(7, (1ULL << 50) - 1),
					make_writable_migration_entry(0x200),
					swp_entry(SWP_PTE_MARKER, PTE_MARKER_GUARD) };

	for (size_t i = 0; i < G_N_ELEMENTS(entries); i++)
		for (unsigned bits = 0; bits < 8; bits++) {
			pte_t p = swp_entry_to_pte(entries[i]);
			uint64_t base = pte_val(p);
			uint64_t want = base;

			if (bits & 1) {
				p = pte_swp_mksoft_dirty(p);
				want |= 1ULL << 1;
			}
			if (bits & 2) {
				p = pte_swp_mkuffd(p);
				want |= 1ULL << 2;
			}
			if (bits & 4) {
				p = pte_swp_mkexclusive(p);
				want |= 1ULL << 3;
			}
			ROW_EQ(i, pte_val(p), want);
			ROW_EQ(i, pte_swp_soft_dirty(p), !!(bits & 1));
			ROW_EQ(i, pte_swp_uffd(p), !!(bits & 2));
			ROW_EQ(i, pte_swp_exclusive(p), !!(bits & 4));
			ROW_EQ(i, pte_to_swp_entry(p).val, entries[i].val);
			ROW_EQ(i, is_swap_pte(p), true);
			ROW_EQ(i, pte_present(p), false);
			ROW_EQ(i, pte_none(p), false);
			ROW_EQ(i, pte_val(pte_swp_clear_uffd(p)), want & ~(1ULL << 2));
			ROW_EQ(i, pte_val(pte_swp_clear_exclusive(p)), want & ~(1ULL << 3));
			/* the swap uffd bit is not the present-PTE uffd bit */
			ROW_EQ(i, pte_val(p) & _PAGE_UFFD, base & _PAGE_UFFD);
		}
	/* a hand-built example: type 0 offset 0 with all three bits */
	assert_int_equal(pte_val(pte_swp_mkexclusive(pte_swp_mkuffd(
				 pte_swp_mksoft_dirty(swp_entry_to_pte(swp_entry(0, 0)))))),
			 0x07fffffffffffe0eULL);
}

static void migration_entries_encode_kind_and_pfn(void **state)
{
	const uint64_t pfns[] = { 1, 0x200, 0x12345, (1ULL << 40) - 1 };
	const uint64_t extra[] = { 0, SWP_MIG_YOUNG, SWP_MIG_DIRTY, SWP_MIG_YOUNG | SWP_MIG_DIRTY };

	for (size_t n = 0; n < G_N_ELEMENTS(pfns); n++)
		for (size_t x = 0; x < G_N_ELEMENTS(extra); x++) {
			const struct {
				swp_entry_t e;
				unsigned type;
				bool writable, read_exclusive;
			} rows[] = {
				{ make_readable_migration_entry(pfns[n] | extra[x]),
				  SWP_MIGRATION_READ, false, false },
				{ make_readable_exclusive_migration_entry(pfns[n] | extra[x]),
				  SWP_MIGRATION_READ_EXCLUSIVE, false, true },
				{ make_writable_migration_entry(pfns[n] | extra[x]),
				  SWP_MIGRATION_WRITE, true, false },
			};

			for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
				swp_entry_t e = rows[i].e;
				pte_t p = swp_entry_to_pte(e);

				ROW_EQ(i, swp_type(e), rows[i].type);
				ROW_EQ(i, swp_offset(e), pfns[n] | extra[x]);
				ROW_EQ(i, swp_offset_pfn(e), pfns[n]);
				ROW_EQ(i, is_migration_entry(e), true);
				ROW_EQ(i, is_writable_migration_entry(e), rows[i].writable);
				ROW_EQ(i, is_readable_exclusive_migration_entry(e),
				       rows[i].read_exclusive);
				ROW_EQ(i, non_swap_entry(e), true);
				ROW_EQ(i, is_pte_marker_entry(e), false);
				ROW_EQ(i, is_hwpoison_entry(e), false);
				ROW_EQ(i, is_device_exclusive_entry(e), false);
				ROW_EQ(i, is_swap_pte(p), true);
				ROW_EQ(i, is_pte_marker(p), false);
				ROW_EQ(i, pte_swp_uffd_any(p), false);
				ROW_EQ(i, pte_to_swp_entry(p).val, e.val);
				ROW_EQ(i, swp_offset_pfn(pte_to_swp_entry(p)), pfns[n]);
			}
		}
	/* neither a real swap entry nor the other special types is migration */
	const unsigned others[] = {
		0, 1, MAX_SWAPFILES - 1, SWP_HWPOISON, SWP_PTE_MARKER, SWP_DEVICE_EXCLUSIVE
	};
	for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
		swp_entry_t e = swp_entry(others[i], 0x200);

		ROW_EQ(i, is_migration_entry(e), false);
		ROW_EQ(i, is_writable_migration_entry(e), false);
		ROW_EQ(i, is_readable_exclusive_migration_entry(e), false);
	}
	assert_true(is_hwpoison_entry(swp_entry(SWP_HWPOISON, 5)));
	assert_true(is_device_exclusive_entry(swp_entry(SWP_DEVICE_EXCLUSIVE, 5)));
	assert_int_equal(pte_val(swp_entry_to_pte(make_writable_migration_entry(0x200))),
			 ((uint64_t)SWP_MIGRATION_WRITE << 59) | 0x07fffffffffbfe00ULL);
}

/* Markers and the RWP 03/15 "uffd anywhere in a non-present PTE" test. */
static void pte_markers_and_pte_swp_uffd_any(void **state)
{
	pte_t present = __pte(0x8000000012345027ULL);
	pte_t present_user = __pte(0x8000000012345025ULL); /* bit 2 set: _PAGE_USER */
	pte_t armed = __pte(0x000fffffedcba520ULL);	   /* protnone + _PAGE_UFFD */
	pte_t swap = swp_entry_to_pte(swp_entry(0, 9));
	const struct {
		const char *what;
		pte_t p;
		bool marker;
		pte_marker m;
		bool uffd_wp, swp_uffd_any;
	} rows[] = {
		{ "uffd-wp marker", make_pte_marker(PTE_MARKER_UFFD_WP), true, 1, true, true },
		{ "poisoned marker", make_pte_marker(PTE_MARKER_POISONED), true, 2, false, false },
		{ "guard marker", make_pte_marker(PTE_MARKER_GUARD), true, 4, false, false },
		{ "uffd-wp|poisoned marker",
		  make_pte_marker(PTE_MARKER_UFFD_WP | PTE_MARKER_POISONED), true, 3, true, true },
		{ "guard marker with swap uffd bit",
		  pte_swp_mkuffd(make_pte_marker(PTE_MARKER_GUARD)), true, 4, false, true },
		{ "swap entry", swap, false, 0, false, false },
		{ "swap entry with uffd bit", pte_swp_mkuffd(swap), false, 0, false, true },
		{ "migration entry with uffd bit",
		  pte_swp_mkuffd(swp_entry_to_pte(make_readable_migration_entry(3))), false, 0,
		  false, true },
		{ "none", __pte(0), false, 0, false, false },
		{ "present", present, false, 0, false, false },
		{ "present with bit 2", present_user, false, 0, false, false },
		{ "armed protnone", armed, false, 0, false, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		pte_t p = rows[i].p;

		if (is_pte_marker(p) != rows[i].marker ||
		    pte_marker_uffd_wp(p) != rows[i].uffd_wp ||
		    pte_swp_uffd_any(p) != rows[i].swp_uffd_any)
			print_message("%s\n", rows[i].what);
		ROW_EQ(i, is_pte_marker(p), rows[i].marker);
		ROW_EQ(i, pte_marker_uffd_wp(p), rows[i].uffd_wp);
		ROW_EQ(i, pte_swp_uffd_any(p), rows[i].swp_uffd_any);
		if (rows[i].marker) {
			ROW_EQ(i, pte_marker_get(pte_to_swp_entry(p)), rows[i].m);
			ROW_EQ(i, is_pte_marker_entry(pte_to_swp_entry(p)), true);
			ROW_EQ(i, swp_type(pte_to_swp_entry(p)), SWP_PTE_MARKER);
		}
	}
	assert_int_equal(pte_val(make_pte_marker(PTE_MARKER_UFFD_WP)), 0xfffffffffffffc00ULL);
	assert_int_equal(pte_val(make_pte_marker(PTE_MARKER_GUARD)), 0xfffffffffffff600ULL);
	/* pte_marker_get masks to the defined marker bits */
	assert_int_equal(pte_marker_get(swp_entry(SWP_PTE_MARKER, 0xff)), 7);
}

static void pmd_migration_entries_are_recognised(void **state)
{
	const struct {
		const char *what;
		pmd_t m;
		bool migration, swp_uffd;
	} rows[] = {
		{ "write migration",
		  __pmd(pte_val(swp_entry_to_pte(make_writable_migration_entry(0x200)))), true,
		  false },
		{ "read migration",
		  __pmd(pte_val(swp_entry_to_pte(make_readable_migration_entry(0x400)))), true,
		  false },
		{ "read-exclusive migration with uffd",
		  __pmd(pte_val(pte_swp_mkuffd(
			  swp_entry_to_pte(make_readable_exclusive_migration_entry(0x600))))),
		  true, true },
		{ "swap entry", __pmd(pte_val(swp_entry_to_pte(swp_entry(0, 0x200)))), false,
		  false },
		{ "marker", __pmd(pte_val(make_pte_marker(PTE_MARKER_UFFD_WP))), false, false },
		{ "none", __pmd(0), false, false },
		{ "table", pmd_mktable(7), false, true /* _PAGE_USER of the table entry */ },
		{ "huge present", __pmd(0x80000000002000a5ULL), false, true },
		{ "huge protnone", __pmd(0x000fffffffdff1a0ULL), false, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (is_pmd_migration_entry(rows[i].m) != rows[i].migration)
			print_message("%s\n", rows[i].what);
		ROW_EQ(i, is_pmd_migration_entry(rows[i].m), rows[i].migration);
		ROW_EQ(i, pmd_swp_uffd(rows[i].m), rows[i].swp_uffd);
		if (rows[i].migration) {
			ROW_EQ(i, pmd_present(rows[i].m), false);
			ROW_EQ(i, pmd_trans_huge(rows[i].m), false);
		}
	}
}

/*
 * MODEL DIFFERENCE (model/swapops.h): the kernel numbers the special types
 * SWP_HWPOISON = MAX_SWAPFILES, then the three migration types, then the
 * device types (WRITE, READ, EXCLUSIVE), then SWP_PTE_MARKER. The model puts
 * the device types first and hwpoison last, so raw migration PTEs differ from
 * the kernel's.
 */
static void swap_types_are_numbered_in_the_kernel_order(void **state)
{
	assert_int_equal(SWP_HWPOISON, 24);
	assert_int_equal(SWP_MIGRATION_READ, 25);
	assert_int_equal(SWP_MIGRATION_READ_EXCLUSIVE, 26);
	assert_int_equal(SWP_MIGRATION_WRITE, 27);
	assert_int_equal(SWP_DEVICE_PRIVATE_WRITE, 28);
	assert_int_equal(SWP_DEVICE_PRIVATE_READ, 29);
	assert_int_equal(SWP_DEVICE_EXCLUSIVE, 30);
	assert_int_equal(SWP_PTE_MARKER, 31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(swap_type_numbers_reserve_the_top_eight_types),
		cmocka_unit_test(swp_entry_round_trips_type_and_offset),
		cmocka_unit_test(offsets_beyond_the_arch_field_are_truncated),
		cmocka_unit_test(x86_swap_pte_layout_matches_hand_computed_values),
		cmocka_unit_test(swap_pte_software_bits_are_independent_of_the_entry),
		cmocka_unit_test(migration_entries_encode_kind_and_pfn),
		cmocka_unit_test(pte_markers_and_pte_swp_uffd_any),
		cmocka_unit_test(pmd_migration_entries_are_recognised),
		cmocka_unit_test(swap_types_are_numbered_in_the_kernel_order),
	};

	return cmocka_run_group_tests_name("model_swapops", tests, NULL, NULL);
}
