/* tests/unit/test_model_pte.c - the x86-64 PTE/PMD encoding facts of model/pte.h.
 *
 * Expected raw values are written out by hand from the x86-64 layout so that a
 * formula shared by the model and the test cannot hide a mistake.
 */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/mm_types.h"
#include "model/pte.h"

#define A _PAGE_ACCESSED
#define D _PAGE_DIRTY
#define SD _PAGE_SOFT_DIRTY
#define UF _PAGE_UFFD
#define SP _PAGE_SPECIAL

/* The x86-64 protections the model does not name. */
#define PAGE_READONLY_EXEC_VAL (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define PAGE_SHARED_EXEC_VAL (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

/* Raw entry for pfn with the given low/high flag bits: the PFN field is stored
 * inverted whenever the entry is non-zero and _PAGE_PRESENT is clear (L1TF). */
static uint64_t raw_entry(uint64_t pfn, uint64_t flags)
{
	uint64_t field = (pfn << PAGE_SHIFT) & PTE_PFN_MASK;

	if (flags && !(flags & _PAGE_PRESENT))
		field = ~field & PTE_PFN_MASK;
	return field | flags;
}

static void bit_numbers_match_the_x86_64_layout(void **state)
{
	const struct {
		const char *name;
		uint64_t mask, expect;
	} rows[] = {
		{ "PRESENT", _PAGE_PRESENT, 1ULL << 0 },
		{ "RW", _PAGE_RW, 1ULL << 1 },
		{ "USER", _PAGE_USER, 1ULL << 2 },
		{ "PWT", _PAGE_PWT, 1ULL << 3 },
		{ "PCD", _PAGE_PCD, 1ULL << 4 },
		{ "ACCESSED", _PAGE_ACCESSED, 1ULL << 5 },
		{ "DIRTY", _PAGE_DIRTY, 1ULL << 6 },
		{ "PSE", _PAGE_PSE, 1ULL << 7 },
		{ "GLOBAL", _PAGE_GLOBAL, 1ULL << 8 },
		{ "PROTNONE", _PAGE_PROTNONE, 1ULL << 8 },
		{ "SPECIAL", _PAGE_SPECIAL, 1ULL << 9 },
		{ "UFFD", _PAGE_UFFD, 1ULL << 10 },
		{ "SOFT_DIRTY", _PAGE_SOFT_DIRTY, 1ULL << 11 },
		{ "SAVED_DIRTY", _PAGE_SAVED_DIRTY, 1ULL << 58 },
		{ "NX", _PAGE_NX, 1ULL << 63 },
		{ "SWP_SOFT_DIRTY", _PAGE_SWP_SOFT_DIRTY, 1ULL << 1 },
		{ "SWP_UFFD", _PAGE_SWP_UFFD, 1ULL << 2 },
		{ "SWP_EXCLUSIVE", _PAGE_SWP_EXCLUSIVE, 1ULL << 3 },
		{ "PTE_PFN_MASK", PTE_PFN_MASK, 0x000ffffffffff000ULL },
		{ "PAGE_NONE", pgprot_val(PAGE_NONE), 0x120 },
		{ "PAGE_SHARED", pgprot_val(PAGE_SHARED), 0x8000000000000027ULL },
		{ "PAGE_COPY", pgprot_val(PAGE_COPY), 0x8000000000000025ULL },
		{ "PAGE_READONLY", pgprot_val(PAGE_READONLY), 0x8000000000000025ULL },
		{ "_PAGE_TABLE", _PAGE_TABLE, 0x67 },
		{ "_PAGE_CHG_MASK", _PAGE_CHG_MASK, 0x040ffffffffffe78ULL },
		{ "_HPAGE_CHG_MASK", _HPAGE_CHG_MASK, 0x040ffffffffffef8ULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (rows[i].mask != rows[i].expect)
			print_message("%s\n", rows[i].name);
		assert_int_equal(rows[i].mask, rows[i].expect);
	}
	assert_int_equal(HPAGE_PMD_NR, 512);
	assert_int_equal(HPAGE_PMD_ORDER, 9);
	assert_int_equal(PMD_SIZE, 2UL << 20);
}

/* Predicates over hand-built raw values. */
static void pte_predicates_read_the_raw_bits(void **state)
{
	static const struct {
		uint64_t raw;
		bool none, present, protnone, write, dirty, young, soft_dirty, uffd, special;
	} rows[] = {
		/* raw                                none   pres   pnone  write  dirty  young  sd
		   uffd   special */
		{ 0, true, false, false, false, false, false, false, false, false },
		{ 0x8000000012345025ULL, false, true, false, false, false, true, false, false,
		  false },
		{ 0x8000000012345027ULL, false, true, false, true, false, true, false, false,
		  false },
		{ 0x8000000012345867ULL, false, true, false, true, true, true, true, false, false },
		{ 0x8000000012345625ULL, false, true, false, false, false, true, false, true,
		  true },
		/* protnone: PRESENT clear, bit 8 set, PFN inverted */
		{ 0x000fffffedcba120ULL, false, true, true, false, false, true, false, false,
		  false },
		{ 0x000fffffedcba520ULL, false, true, true, false, false, true, false, true,
		  false },
		{ 0x000fffffedcbad60ULL, false, true, true, false, true, true, true, true, false },
		/* PRESENT and GLOBAL both set: present, not protnone */
		{ 0x0000000012345125ULL, false, true, false, false, false, true, false, false,
		  false },
		/* swap-format entries: neither bit 0 nor bit 8 */
		{ 0x07fffffffffffe00ULL, false, false, false, false, false, false, true, true,
		  true },
		{ 0x0000000000000002ULL, false, false, false, true, false, false, false, false,
		  false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		pte_t p = __pte(rows[i].raw);

		ROW_EQ(i, pte_none(p), rows[i].none);
		ROW_EQ(i, pte_present(p), rows[i].present);
		ROW_EQ(i, pte_protnone(p), rows[i].protnone);
		ROW_EQ(i, pte_write(p), rows[i].write);
		ROW_EQ(i, pte_dirty(p), rows[i].dirty);
		ROW_EQ(i, pte_young(p), rows[i].young);
		ROW_EQ(i, pte_soft_dirty(p), rows[i].soft_dirty);
		ROW_EQ(i, pte_uffd(p), rows[i].uffd);
		ROW_EQ(i, pte_special(p), rows[i].special);
	}
}

/* pte_pfn undoes the L1TF inversion of a protnone entry. */
static void pte_pfn_reads_inverted_pfn_of_protnone_entries(void **state)
{
	static const struct {
		uint64_t raw, pfn;
	} rows[] = {
		{ 0x8000000012345025ULL, 0x12345 },
		{ 0x000fffffedcba120ULL, 0x12345 },
		{ 0x000fffffedcba520ULL, 0x12345 },
		{ 0x0000000000001025ULL, 1 },
		{ 0x000fffffffffe120ULL, 1 },
		{ 0x000ffffffffff120ULL, 0 },
		{ 0x800ffffffffff025ULL, 0xffffffffffULL },
		{ 0x0000000000000120ULL, 0xffffffffffULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		ROW_EQ(i, pte_pfn(__pte(rows[i].raw)), rows[i].pfn);
		ROW_EQ(i, pmd_pfn(__pmd(rows[i].raw | _PAGE_PSE)), rows[i].pfn);
	}
}

static const uint64_t test_pfns[] = { 0, 1, 5, 0x12345, 0xabcdef012ULL, 0xffffffffffULL };

/* pfn_pte with a present protection stores the PFN as is. */
static void pfn_pte_round_trips_present_protections(void **state)
{
	const uint64_t prots[] = { pgprot_val(PAGE_COPY), pgprot_val(PAGE_SHARED),
				   PAGE_READONLY_EXEC_VAL, PAGE_SHARED_EXEC_VAL };

	for (size_t i = 0; i < G_N_ELEMENTS(test_pfns); i++) {
		for (size_t j = 0; j < G_N_ELEMENTS(prots); j++) {
			pte_t p = pfn_pte(test_pfns[i], __pgprot(prots[j]));
			pmd_t m = pmd_mkhuge(pfn_pmd(test_pfns[i], __pgprot(prots[j])));

			assert_int_equal(pte_val(p), (test_pfns[i] << PAGE_SHIFT) | prots[j]);
			assert_int_equal(pte_pfn(p), test_pfns[i]);
			assert_true(pte_present(p));
			assert_false(pte_protnone(p));
			assert_int_equal(pmd_val(m),
					 (test_pfns[i] << PAGE_SHIFT) | prots[j] | _PAGE_PSE);
			assert_int_equal(pmd_pfn(m), test_pfns[i]);
			assert_true(pmd_trans_huge(m));
		}
	}
	assert_int_equal(pte_val(pfn_pte(0x12345, PAGE_COPY)), 0x8000000012345025ULL);
	assert_int_equal(pte_val(pfn_pte(0x12345, PAGE_SHARED)), 0x8000000012345027ULL);
}

/* Regression: the PFN must be masked after the L1TF XOR, not before, or
 * pfn_pte(pfn, PAGE_NONE) sets every non-PFN bit, _PAGE_PRESENT included. */
static void pfn_pte_with_page_none_inverts_only_the_pfn_field(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(test_pfns); i++) {
		uint64_t pfn = test_pfns[i];
		pte_t p = pfn_pte(pfn, PAGE_NONE);
		pmd_t m = pmd_mkhuge(pfn_pmd(pfn, PAGE_NONE));

		assert_int_equal(pte_val(p), (~(pfn << PAGE_SHIFT) & PTE_PFN_MASK) | 0x120);
		assert_true(pte_protnone(p));
		assert_int_equal(pte_pfn(p), pfn);
		assert_int_equal(pmd_val(m),
				 (~(pfn << PAGE_SHIFT) & PTE_PFN_MASK) | 0x120 | _PAGE_PSE);
		assert_true(pmd_protnone(m));
		assert_int_equal(pmd_pfn(m), pfn);
	}
	assert_int_equal(pte_val(pfn_pte(0x12345, PAGE_NONE)), 0x000fffffedcba120ULL);
}

/*
 * pte_modify keeps PFN, A, D, soft-dirty, special and the uffd bit and takes
 * PRESENT/RW/USER/NX/PROTNONE from the new protection; the PFN field is
 * re-inverted exactly when the entry crosses present <-> protnone.
 */
static void pte_modify_keeps_chg_mask_and_takes_the_rest_from_newprot(void **state)
{
	const uint64_t prots[] = { pgprot_val(PAGE_NONE), pgprot_val(PAGE_COPY),
				   pgprot_val(PAGE_SHARED), PAGE_READONLY_EXEC_VAL,
				   PAGE_SHARED_EXEC_VAL };
	const uint64_t kept[] = { 0, D, SD, UF, D | SD, D | SD | UF | SP, UF | SP };
	const uint64_t pfns[] = { 1, 0x12345, 0xffffffffffULL };

	for (size_t f = 0; f < G_N_ELEMENTS(prots); f++)
		for (size_t t = 0; t < G_N_ELEMENTS(prots); t++)
			for (size_t k = 0; k < G_N_ELEMENTS(kept); k++)
				for (size_t n = 0; n < G_N_ELEMENTS(pfns); n++)
					for (int young = 0; young < 2; young++) {
						/* A lives in _PAGE_CHG_MASK: it follows the
						 * old entry, not newprot. */
						uint64_t a = young ? A : 0;
						uint64_t from = (prots[f] & ~A) | a | kept[k];
						uint64_t to = (prots[t] & ~A) | a | kept[k];
						pte_t old = __pte(raw_entry(pfns[n], from));
						pte_t new = pte_modify(old, __pgprot(prots[t]));

						assert_int_equal(pte_val(new),
								 raw_entry(pfns[n], to));
						assert_int_equal(pte_pfn(new), pfns[n]);
						assert_true(pte_present(new));
						assert_int_equal(pte_protnone(new),
								 prots[t] == pgprot_val(PAGE_NONE));
						assert_int_equal(pte_uffd(new), !!(kept[k] & UF));
						assert_int_equal(pte_dirty(new), !!(kept[k] & D));
						assert_int_equal(pte_soft_dirty(new),
								 !!(kept[k] & SD));
						assert_int_equal(pte_young(new), young);
						assert_int_equal(pte_write(new),
								 !!(prots[t] & _PAGE_RW));
						assert_int_equal(pgprot_val(pte_pgprot(new)) & ~A,
								 prots[t] & ~A);
					}
}

/* The armed RWP transitions, written out by hand. */
static void pte_modify_arms_and_disarms_rwp_with_exact_raw_values(void **state)
{
	static const struct {
		const char *what;
		uint64_t old;
		uint64_t prot;
		uint64_t expect;
	} rows[] = {
		{ "present rw dirty -> PAGE_NONE", 0x8000000012345867ULL, 0x120,
		  0x000fffffedcba960ULL },
		{ "armed uffd protnone -> PAGE_SHARED", 0x000fffffedcbad60ULL,
		  0x8000000000000027ULL, 0x8000000012345c67ULL },
		{ "armed uffd protnone -> PAGE_COPY", 0x000fffffedcba520ULL, 0x8000000000000025ULL,
		  0x8000000012345425ULL },
		{ "present without A -> PAGE_NONE gains no A", 0x8000000000001005ULL, 0x120,
		  0x000fffffffffe100ULL },
		{ "protnone -> PAGE_NONE keeps inversion", 0x000fffffedcba120ULL, 0x120,
		  0x000fffffedcba120ULL },
		{ "present -> present keeps PFN as is", 0x8000000012345027ULL,
		  0x8000000000000025ULL, 0x8000000012345025ULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		ROW_EQ(i, pte_val(pte_modify(__pte(rows[i].old), __pgprot(rows[i].prot))),
		       rows[i].expect);
		ROW_EQ(i,
		       pmd_val(pmd_modify(__pmd(rows[i].old | _PAGE_PSE), __pgprot(rows[i].prot))),
		       rows[i].expect | _PAGE_PSE);
	}
}

/* Flag modifiers change exactly their bits and never the PFN. */
static void pte_flag_modifiers_change_only_their_bits(void **state)
{
	const uint64_t bases[] = { raw_entry(0x12345, pgprot_val(PAGE_SHARED) | D),
				   raw_entry(0x12345, pgprot_val(PAGE_COPY)),
				   raw_entry(0x12345, pgprot_val(PAGE_NONE)),
				   raw_entry(0x12345, pgprot_val(PAGE_NONE) | UF | D | SD) };

	for (size_t i = 0; i < G_N_ELEMENTS(bases); i++) {
		pte_t p = __pte(bases[i]);
		uint64_t v = bases[i];

		assert_int_equal(pte_val(pte_mkuffd(p)), (v | UF) & ~_PAGE_RW);
		assert_int_equal(pte_val(pte_clear_uffd(p)), v & ~UF);
		assert_int_equal(pte_val(pte_clear_uffd(pte_mkuffd(p))), v & ~(UF | _PAGE_RW));
		assert_true(pte_uffd(pte_mkuffd(p)));
		assert_false(pte_write(pte_mkuffd(p)));
		assert_false(pte_uffd(pte_clear_uffd(p)));
		assert_int_equal(pte_pfn(pte_mkuffd(p)), 0x12345);
		assert_int_equal(pte_protnone(pte_mkuffd(p)), pte_protnone(p));
		assert_int_equal(pte_val(pte_mkwrite(p)), v | _PAGE_RW);
		assert_int_equal(pte_val(pte_wrprotect(p)), v & ~_PAGE_RW);
		assert_int_equal(pte_val(pte_mkdirty(p)), v | D | SD);
		assert_int_equal(pte_val(pte_mkclean(p)), v & ~D);
		assert_int_equal(pte_val(pte_mkyoung(p)), v | A);
		assert_int_equal(pte_val(pte_mkold(p)), v & ~A);
		assert_int_equal(pte_val(pte_mkspecial(p)), v | SP);
	}
	/* the armed RWP PTE: protnone + bit 10 */
	pte_t armed =
		pte_mkuffd(pte_modify(__pte(raw_entry(7, pgprot_val(PAGE_SHARED))), PAGE_NONE));
	assert_int_equal(pte_val(armed), raw_entry(7, 0x120 | UF));
	assert_true(pte_protnone(armed));
	assert_true(pte_uffd(armed));
	assert_int_equal(pte_pfn(armed), 7);
}

static void pmd_predicates_distinguish_table_leaf_and_protnone(void **state)
{
	static const struct {
		const char *what;
		uint64_t raw;
		bool none, present, leaf, trans_huge, protnone, is_table, uffd;
		uint64_t pgtable;
	} rows[] = {
		{ "none", 0, true, false, false, false, false, false, false, 0 },
		{ "table 7", 0x7067, false, true, false, false, false, true, false, 7 },
		{ "huge present", 0x80000000002000a5ULL, false, true, true, true, false, false,
		  false, 0 },
		{ "huge protnone", 0x000fffffffdff1a0ULL, false, true, true, true, true, false,
		  false, 0 },
		{ "huge protnone uffd", 0x000fffffffdff5a0ULL, false, true, true, true, true, false,
		  true, 0 },
		/* bit 10 of a swap-format entry is an offset bit: pmd_uffd reads it raw */
		{ "migration entry", 0xdffffffffffbfe00ULL, false, false, false, false, false,
		  false, true, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		pmd_t m = __pmd(rows[i].raw);

		ROW_EQ(i, pmd_none(m), rows[i].none);
		ROW_EQ(i, pmd_present(m), rows[i].present);
		ROW_EQ(i, pmd_leaf(m), rows[i].leaf);
		ROW_EQ(i, pmd_trans_huge(m), rows[i].trans_huge);
		ROW_EQ(i, pmd_protnone(m), rows[i].protnone);
		ROW_EQ(i, pmd_is_table(m), rows[i].is_table);
		ROW_EQ(i, pmd_uffd(m), rows[i].uffd);
		ROW_EQ(i, pmd_pgtable(m), rows[i].pgtable);
	}
	assert_int_equal(pmd_val(pmd_mktable(7)), 0x7067);
	assert_int_equal(pmd_pfn(__pmd(0x000fffffffdff1a0ULL)), 0x200);
}

/* pmd_modify mirrors pte_modify and also keeps _PAGE_PSE. */
static void pmd_modify_keeps_pse_and_crosses_protnone_both_ways(void **state)
{
	const uint64_t prots[] = { pgprot_val(PAGE_NONE), pgprot_val(PAGE_COPY),
				   pgprot_val(PAGE_SHARED) };
	const uint64_t kept[] = { A, A | D | SD, A | UF, D | SD | UF };

	for (size_t f = 0; f < G_N_ELEMENTS(prots); f++)
		for (size_t t = 0; t < G_N_ELEMENTS(prots); t++)
			for (size_t k = 0; k < G_N_ELEMENTS(kept); k++) {
				uint64_t from = (prots[f] & ~A) | kept[k] | _PAGE_PSE;
				uint64_t to = (prots[t] & ~A) | kept[k] | _PAGE_PSE;
				pmd_t old = __pmd(raw_entry(0x200, from));
				pmd_t new = pmd_modify(old, __pgprot(prots[t]));

				assert_int_equal(pmd_val(new), raw_entry(0x200, to));
				assert_int_equal(pmd_pfn(new), 0x200);
				assert_true(pmd_trans_huge(new));
				assert_int_equal(pmd_protnone(new),
						 prots[t] == pgprot_val(PAGE_NONE));
				assert_int_equal(pmd_uffd(new), !!(kept[k] & UF));
				assert_int_equal(pmd_dirty(new), !!(kept[k] & D));
				assert_int_equal(pmd_young(new), !!(kept[k] & A));
			}
}

static void pmd_mkuffd_sets_bit_10_and_write_protects(void **state)
{
	pmd_t m = __pmd(raw_entry(0x400, pgprot_val(PAGE_SHARED) | _PAGE_PSE | D));
	pmd_t armed = pmd_mkuffd(pmd_modify(m, PAGE_NONE));

	assert_int_equal(pmd_val(pmd_mkuffd(m)), (pmd_val(m) | UF) & ~_PAGE_RW);
	assert_int_equal(pmd_val(pmd_clear_uffd(pmd_mkuffd(m))), pmd_val(m) & ~_PAGE_RW);
	assert_int_equal(pmd_val(armed), raw_entry(0x400, 0x120 | _PAGE_PSE | D | UF));
	assert_true(pmd_protnone(armed));
	assert_true(pmd_uffd(armed));
	assert_true(pmd_trans_huge(armed));
	assert_int_equal(pmd_pfn(armed), 0x400);
	assert_int_equal(pmd_val(pmd_mkwrite(pmd_wrprotect(m))), pmd_val(m));
	assert_int_equal(pmd_val(pmd_mkdirty(pmd_mkold(m))), (pmd_val(m) | SD) & ~A);
	assert_int_equal(pmd_val(pmd_mkyoung(pmd_mkold(m))), pmd_val(m) | A);
}

/* arch/x86/mm/pgprot.c protection_map; private writable maps read-only (COW).
 * VM_SHARED|VM_WRITE|VM_EXEC rows are in the next test. */
static void vm_get_page_prot_follows_the_x86_protection_map(void **state)
{
	static const struct {
		vm_flags_t flags;
		uint64_t prot;
	} rows[] = {
		{ VM_NONE, 0x120 },
		{ VM_READ, 0x8000000000000025ULL },
		{ VM_WRITE, 0x8000000000000025ULL },
		{ VM_WRITE | VM_READ, 0x8000000000000025ULL },
		{ VM_EXEC, 0x25 },
		{ VM_EXEC | VM_READ, 0x25 },
		{ VM_EXEC | VM_WRITE, 0x25 },
		{ VM_EXEC | VM_WRITE | VM_READ, 0x25 },
		{ VM_SHARED, 0x120 },
		{ VM_SHARED | VM_READ, 0x8000000000000025ULL },
		{ VM_SHARED | VM_WRITE, 0x8000000000000027ULL },
		{ VM_SHARED | VM_WRITE | VM_READ, 0x8000000000000027ULL },
		{ VM_SHARED | VM_EXEC, 0x25 },
		{ VM_SHARED | VM_EXEC | VM_READ, 0x25 },
	};
	/* flags outside READ/WRITE/EXEC/SHARED never change the protection */
	const vm_flags_t noise[] = { 0, VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_MAYSHARE,
				     VM_UFFD_RWP, VM_UFFD_WP | VM_UFFD_MISSING | VM_UFFD_MINOR,
				     VM_HUGEPAGE | VM_LOCKED };

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		for (size_t n = 0; n < G_N_ELEMENTS(noise); n++) {
			assert_int_equal(pgprot_val(vm_get_page_prot(rows[i].flags | noise[n])),
					 rows[i].prot);
		}
}

/*
 * MODEL BUG (model/vma.c vm_get_page_prot): VM_SHARED|VM_WRITE|VM_EXEC (with or
 * without VM_READ) must be PAGE_SHARED_EXEC (NX clear), the model returns
 * PAGE_SHARED (NX set).
 */
static void vm_get_page_prot_shared_writable_exec_is_page_shared_exec(void **state)
{
	assert_int_equal(pgprot_val(vm_get_page_prot(VM_SHARED | VM_EXEC | VM_WRITE)),
			 PAGE_SHARED_EXEC_VAL);
	assert_int_equal(pgprot_val(vm_get_page_prot(VM_SHARED | VM_EXEC | VM_WRITE | VM_READ)),
			 PAGE_SHARED_EXEC_VAL);
}

static void address_index_helpers_split_the_address_into_nine_bit_slots(void **state)
{
	static const struct {
		uint64_t addr, pgd, pud, pmd, pte;
	} rows[] = {
		{ 0, 0, 0, 0, 0 },
		{ 0x1000, 0, 0, 0, 1 },
		{ 0x1fffff, 0, 0, 0, 511 },
		{ 0x200000, 0, 0, 1, 0 },
		{ 0x3fffffff, 0, 0, 511, 511 },
		{ 0x40000000, 0, 1, 0, 0 },
		{ 0x7fffffffff, 0, 511, 511, 511 },
		{ 0x8000000000, 1, 0, 0, 0 },
		{ 0x7f0000201000, 254, 0, 1, 1 },
		{ 0x7fffffffe000, 255, 511, 511, 510 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		assert_int_equal(pgd_index(rows[i].addr), rows[i].pgd);
		assert_int_equal(pud_index(rows[i].addr), rows[i].pud);
		assert_int_equal(pmd_index(rows[i].addr), rows[i].pmd);
		assert_int_equal(pte_index(rows[i].addr), rows[i].pte);
	}
	assert_int_equal(pmd_addr_end(0x201000, 0x800000), 0x400000);
	assert_int_equal(pmd_addr_end(0x201000, 0x300000), 0x300000);
	assert_int_equal(pmd_addr_end(0x200000, 0x400000), 0x400000);
	/* the wrap-safe compare: end 0 means the top of the address space */
	assert_int_equal(pmd_addr_end(0xffffffffffe00000ULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bit_numbers_match_the_x86_64_layout),
		cmocka_unit_test(pte_predicates_read_the_raw_bits),
		cmocka_unit_test(pte_pfn_reads_inverted_pfn_of_protnone_entries),
		cmocka_unit_test(pfn_pte_round_trips_present_protections),
		cmocka_unit_test(pfn_pte_with_page_none_inverts_only_the_pfn_field),
		cmocka_unit_test(pte_modify_keeps_chg_mask_and_takes_the_rest_from_newprot),
		cmocka_unit_test(pte_modify_arms_and_disarms_rwp_with_exact_raw_values),
		cmocka_unit_test(pte_flag_modifiers_change_only_their_bits),
		cmocka_unit_test(pmd_predicates_distinguish_table_leaf_and_protnone),
		cmocka_unit_test(pmd_modify_keeps_pse_and_crosses_protnone_both_ways),
		cmocka_unit_test(pmd_mkuffd_sets_bit_10_and_write_protects),
		cmocka_unit_test(vm_get_page_prot_follows_the_x86_protection_map),
		cmocka_unit_test(vm_get_page_prot_shared_writable_exec_is_page_shared_exec),
		cmocka_unit_test(address_index_helpers_split_the_address_into_nine_bit_slots),
	};

	return cmocka_run_group_tests_name("model_pte", tests, NULL, NULL);
}
