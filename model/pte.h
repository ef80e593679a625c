/* model/pte.h - x86-64 PTE and PMD encodings and accessors.
 *
 * Data and encodings only: every helper here is a pure function of the entry
 * value, with the kernel's name and meaning (arch/x86/include/asm/pgtable*.h
 * after RWP patches 02-03, which rename the uffd-wp bit to "uffd").
 *
 * Two x86 facts matter for RWP and are modelled exactly:
 *  - PROT_NONE entries have _PAGE_PRESENT clear and _PAGE_PROTNONE (the
 *    GLOBAL bit) set; pte_present() is still true for them.
 *  - L1TF inversion: for any non-zero entry without _PAGE_PRESENT (protnone,
 *    swap, migration, marker) the PFN/offset bits are stored inverted.
 */
#ifndef MMSIM_MODEL_PTE_H
#define MMSIM_MODEL_PTE_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PMD_SHIFT 21
#define PMD_SIZE (1UL << PMD_SHIFT)
#define PMD_MASK (~(PMD_SIZE - 1))
#define PUD_SHIFT 30
#define PGDIR_SHIFT 39
#define PTRS_PER_PTE 512
#define PTRS_PER_PMD 512
#define PTRS_PER_PUD 512
#define PTRS_PER_PGD 512
#define HPAGE_PMD_ORDER (PMD_SHIFT - PAGE_SHIFT)
#define HPAGE_PMD_NR (1 << HPAGE_PMD_ORDER)
#define HPAGE_PMD_SIZE PMD_SIZE
#define HPAGE_PMD_MASK PMD_MASK
#define TASK_SIZE ((1UL << 47) - PAGE_SIZE)

typedef uint64_t pteval_t;
typedef uint64_t pmdval_t;
typedef struct {
	pteval_t pte;
} pte_t;
typedef struct {
	pmdval_t pmd;
} pmd_t;
typedef struct {
	pteval_t pgprot;
} pgprot_t;

#define pte_val(x) ((x).pte)
#define pmd_val(x) ((x).pmd)
#define pgprot_val(x) ((x).pgprot)
static inline pte_t __pte(pteval_t v) { return (pte_t){ v }; }
static inline pmd_t __pmd(pmdval_t v) { return (pmd_t){ v }; }
static inline pgprot_t __pgprot(pteval_t v) { return (pgprot_t){ v }; }

/* Bit numbers (arch/x86/include/asm/pgtable_types.h). */
#define _PAGE_BIT_PRESENT 0
#define _PAGE_BIT_RW 1
#define _PAGE_BIT_USER 2
#define _PAGE_BIT_PWT 3
#define _PAGE_BIT_PCD 4
#define _PAGE_BIT_ACCESSED 5
#define _PAGE_BIT_DIRTY 6
#define _PAGE_BIT_PSE 7
#define _PAGE_BIT_GLOBAL 8
#define _PAGE_BIT_SOFTW1 9
#define _PAGE_BIT_SOFTW2 10
#define _PAGE_BIT_SOFTW3 11
#define _PAGE_BIT_PAT_LARGE 12
#define _PAGE_BIT_SOFTW4 57
#define _PAGE_BIT_SOFTW5 58
#define _PAGE_BIT_NX 63
#define _PAGE_BIT_SPECIAL _PAGE_BIT_SOFTW1
#define _PAGE_BIT_UFFD _PAGE_BIT_SOFTW2 /* RWP 02/15: was _PAGE_BIT_UFFD_WP */
#define _PAGE_BIT_SOFT_DIRTY _PAGE_BIT_SOFTW3
#define _PAGE_BIT_SAVED_DIRTY _PAGE_BIT_SOFTW5
#define _PAGE_BIT_PROTNONE _PAGE_BIT_GLOBAL

#define _PAGE_PRESENT (1ULL << _PAGE_BIT_PRESENT)
#define _PAGE_RW (1ULL << _PAGE_BIT_RW)
#define _PAGE_USER (1ULL << _PAGE_BIT_USER)
#define _PAGE_PWT (1ULL << _PAGE_BIT_PWT)
#define _PAGE_PCD (1ULL << _PAGE_BIT_PCD)
#define _PAGE_ACCESSED (1ULL << _PAGE_BIT_ACCESSED)
#define _PAGE_DIRTY (1ULL << _PAGE_BIT_DIRTY)
#define _PAGE_PSE (1ULL << _PAGE_BIT_PSE)
#define _PAGE_GLOBAL (1ULL << _PAGE_BIT_GLOBAL)
#define _PAGE_SPECIAL (1ULL << _PAGE_BIT_SPECIAL)
#define _PAGE_UFFD (1ULL << _PAGE_BIT_UFFD)
#define _PAGE_SOFT_DIRTY (1ULL << _PAGE_BIT_SOFT_DIRTY)
#define _PAGE_SAVED_DIRTY (1ULL << _PAGE_BIT_SAVED_DIRTY)
#define _PAGE_NX (1ULL << _PAGE_BIT_NX)
#define _PAGE_PROTNONE (1ULL << _PAGE_BIT_PROTNONE)

/* Swap-format bits: the uffd bit of a swap PTE is _PAGE_USER (bit 2). */
#define _PAGE_SWP_SOFT_DIRTY _PAGE_RW
#define _PAGE_SWP_UFFD _PAGE_USER
#define _PAGE_SWP_EXCLUSIVE _PAGE_PWT

#define PTE_PFN_MASK 0x000ffffffffff000ULL
#define _PAGE_CHG_MASK                                                                         \
	(PTE_PFN_MASK | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL | _PAGE_ACCESSED | _PAGE_DIRTY | \
	 _PAGE_SOFT_DIRTY | _PAGE_UFFD | _PAGE_SAVED_DIRTY)
#define _HPAGE_CHG_MASK (_PAGE_CHG_MASK | _PAGE_PSE)
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

/* Protections (arch/x86/include/asm/pgtable_types.h). */
#define PAGE_NONE __pgprot(_PAGE_PROTNONE | _PAGE_ACCESSED)
#define PAGE_SHARED __pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_COPY __pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_READONLY PAGE_COPY

/* --- L1TF inversion (arch/x86/include/asm/pgtable-invert.h) --- */
static inline bool __pte_needs_invert(uint64_t val) { return val && !(val & _PAGE_PRESENT); }
static inline uint64_t protnone_mask(uint64_t val) { return __pte_needs_invert(val) ? ~0ULL : 0; }
static inline uint64_t flip_protnone_guard(uint64_t oldval, uint64_t val, uint64_t mask)
{
	/* Re-invert the PFN when the present bit changes between old and new. */
	if (__pte_needs_invert(oldval) != __pte_needs_invert(val))
		val = (val & ~mask) | (~val & mask);
	return val;
}

/* --- PTE predicates --- */
static inline bool pte_none(pte_t p) { return !pte_val(p); }
static inline bool pte_present(pte_t p) { return pte_val(p) & (_PAGE_PRESENT | _PAGE_PROTNONE); }
static inline bool pte_protnone(pte_t p)
{
	return (pte_val(p) & (_PAGE_PROTNONE | _PAGE_PRESENT)) == _PAGE_PROTNONE;
}
static inline bool pte_write(pte_t p) { return pte_val(p) & _PAGE_RW; }
static inline bool pte_dirty(pte_t p) { return pte_val(p) & _PAGE_DIRTY; }
static inline bool pte_young(pte_t p) { return pte_val(p) & _PAGE_ACCESSED; }
static inline bool pte_special(pte_t p) { return pte_val(p) & _PAGE_SPECIAL; }
static inline bool pte_soft_dirty(pte_t p) { return pte_val(p) & _PAGE_SOFT_DIRTY; }
static inline bool pte_uffd(pte_t p) { return pte_val(p) & _PAGE_UFFD; }
static inline uint64_t pte_pfn(pte_t p)
{
	uint64_t v = pte_val(p) ^ protnone_mask(pte_val(p));
	return (v & PTE_PFN_MASK) >> PAGE_SHIFT;
}
static inline pte_t pfn_pte(uint64_t pfn, pgprot_t prot)
{
	uint64_t v = ((pfn << PAGE_SHIFT) ^ protnone_mask(pgprot_val(prot))) & PTE_PFN_MASK;
	return __pte(v | pgprot_val(prot));
}

/* --- PTE modifiers --- */
static inline pte_t pte_set_flags(pte_t p, uint64_t f) { return __pte(pte_val(p) | f); }
static inline pte_t pte_clear_flags(pte_t p, uint64_t f) { return __pte(pte_val(p) & ~f); }
static inline pte_t pte_mkwrite(pte_t p) { return pte_set_flags(p, _PAGE_RW); }
static inline pte_t pte_wrprotect(pte_t p) { return pte_clear_flags(p, _PAGE_RW); }
static inline pte_t pte_mkdirty(pte_t p)
{
	return pte_set_flags(p, _PAGE_DIRTY | _PAGE_SOFT_DIRTY);
}
static inline pte_t pte_mkclean(pte_t p) { return pte_clear_flags(p, _PAGE_DIRTY); }
static inline pte_t pte_mkyoung(pte_t p) { return pte_set_flags(p, _PAGE_ACCESSED); }
static inline pte_t pte_mkold(pte_t p) { return pte_clear_flags(p, _PAGE_ACCESSED); }
static inline pte_t pte_mkspecial(pte_t p) { return pte_set_flags(p, _PAGE_SPECIAL); }
/* pte_mkuffd() also write-protects, as pte_mkuffd_wp() always did. */
static inline pte_t pte_mkuffd(pte_t p) { return pte_wrprotect(pte_set_flags(p, _PAGE_UFFD)); }
static inline pte_t pte_clear_uffd(pte_t p) { return pte_clear_flags(p, _PAGE_UFFD); }

/* pte_modify keeps _PAGE_CHG_MASK (PFN, A, D, soft-dirty and the uffd bit) and
 * takes everything else, including PRESENT/PROTNONE/RW, from newprot. */
static inline pte_t pte_modify(pte_t p, pgprot_t newprot)
{
	uint64_t old = pte_val(p);
	uint64_t val = old & _PAGE_CHG_MASK;
	val |= pgprot_val(newprot) & ~_PAGE_CHG_MASK;
	val = flip_protnone_guard(old, val, PTE_PFN_MASK);
	return __pte(val);
}
static inline pgprot_t pte_pgprot(pte_t p) { return __pgprot(pte_val(p) & ~_PAGE_CHG_MASK); }

/* pte_advance_pfn(): the same entry for the page nr frames further on (the
 * PFN is stored inverted in a protnone entry, L1TF). */
static inline pte_t pte_advance_pfn(pte_t pte, uint64_t nr)
{
	uint64_t v = pte_val(pte);
	uint64_t bits = (((pte_pfn(pte) + nr) << PAGE_SHIFT) ^ protnone_mask(v)) & PTE_PFN_MASK;
	return __pte((v & ~PTE_PFN_MASK) | bits);
}

/* set_ptes(): nr entries for consecutive pages from one value. */
static inline void set_ptes(pte_t *ptep, pte_t pte, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		ptep[i] = pte_advance_pfn(pte, i);
}

/* --- PMD --- */
static inline bool pmd_none(pmd_t p) { return !pmd_val(p); }
static inline bool pmd_present(pmd_t p)
{
	return pmd_val(p) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE);
}
static inline bool pmd_leaf(pmd_t p) { return pmd_val(p) & _PAGE_PSE; }
static inline bool pmd_trans_huge(pmd_t p) { return pmd_present(p) && pmd_leaf(p); }
static inline bool pmd_protnone(pmd_t p)
{
	return (pmd_val(p) & (_PAGE_PROTNONE | _PAGE_PRESENT)) == _PAGE_PROTNONE;
}
static inline bool pmd_write(pmd_t p) { return pmd_val(p) & _PAGE_RW; }
static inline bool pmd_dirty(pmd_t p) { return pmd_val(p) & _PAGE_DIRTY; }
static inline bool pmd_young(pmd_t p) { return pmd_val(p) & _PAGE_ACCESSED; }
static inline bool pmd_uffd(pmd_t p) { return pmd_val(p) & _PAGE_UFFD; }
static inline uint64_t pmd_pfn(pmd_t p)
{
	uint64_t v = pmd_val(p) ^ protnone_mask(pmd_val(p));
	return (v & PTE_PFN_MASK) >> PAGE_SHIFT;
}
static inline pmd_t pfn_pmd(uint64_t pfn, pgprot_t prot)
{
	uint64_t v = ((pfn << PAGE_SHIFT) ^ protnone_mask(pgprot_val(prot))) & PTE_PFN_MASK;
	return __pmd(v | pgprot_val(prot));
}
static inline pmd_t pmd_set_flags(pmd_t p, uint64_t f) { return __pmd(pmd_val(p) | f); }
static inline pmd_t pmd_clear_flags(pmd_t p, uint64_t f) { return __pmd(pmd_val(p) & ~f); }
static inline pmd_t pmd_mkhuge(pmd_t p) { return pmd_set_flags(p, _PAGE_PSE); }
static inline pmd_t pmd_mkwrite(pmd_t p) { return pmd_set_flags(p, _PAGE_RW); }
static inline pmd_t pmd_wrprotect(pmd_t p) { return pmd_clear_flags(p, _PAGE_RW); }
static inline pmd_t pmd_mkdirty(pmd_t p)
{
	return pmd_set_flags(p, _PAGE_DIRTY | _PAGE_SOFT_DIRTY);
}
static inline pmd_t pmd_mkyoung(pmd_t p) { return pmd_set_flags(p, _PAGE_ACCESSED); }
static inline pmd_t pmd_mkold(pmd_t p) { return pmd_clear_flags(p, _PAGE_ACCESSED); }
static inline pmd_t pmd_mkuffd(pmd_t p) { return pmd_wrprotect(pmd_set_flags(p, _PAGE_UFFD)); }
static inline pmd_t pmd_clear_uffd(pmd_t p) { return pmd_clear_flags(p, _PAGE_UFFD); }
static inline pmd_t pmd_modify(pmd_t p, pgprot_t newprot)
{
	uint64_t old = pmd_val(p);
	uint64_t val = old & _HPAGE_CHG_MASK;
	val |= pgprot_val(newprot) & ~_HPAGE_CHG_MASK;
	val = flip_protnone_guard(old, val, PTE_PFN_MASK);
	return __pmd(val);
}
/* A non-leaf PMD pointing at a page table (pmd_populate). */
static inline pmd_t pmd_mktable(uint64_t table_pfn)
{
	return __pmd(((table_pfn << PAGE_SHIFT) & PTE_PFN_MASK) | _PAGE_TABLE);
}
static inline bool pmd_is_table(pmd_t p) { return (pmd_val(p) & _PAGE_PRESENT) && !pmd_leaf(p); }

/* Address helpers. */
static inline uint64_t pte_index(uint64_t addr)
{
	return (addr >> PAGE_SHIFT) & (PTRS_PER_PTE - 1);
}
static inline uint64_t pmd_index(uint64_t addr) { return (addr >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline uint64_t pud_index(uint64_t addr) { return (addr >> PUD_SHIFT) & (PTRS_PER_PUD - 1); }
static inline uint64_t pgd_index(uint64_t addr)
{
	return (addr >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1);
}
static inline uint64_t pmd_addr_end(uint64_t addr, uint64_t end)
{
	uint64_t b = (addr + PMD_SIZE) & PMD_MASK;
	return (b - 1 < end - 1) ? b : end;
}

#endif
