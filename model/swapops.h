/* model/swapops.h - swap-format entries: swap, migration, device and PTE markers.
 *
 * Generic swp_entry_t layout (include/linux/swapops.h): type in the top bits,
 * offset below. Arch layout on x86-64 (arch/x86/include/asm/pgtable_64.h):
 * type in bits 59..63, offset stored inverted in bits 9..58 (L1TF), and
 * the soft-dirty / uffd / exclusive software bits in bits 1, 2 and 3.
 */
#ifndef MMSIM_MODEL_SWAPOPS_H
#define MMSIM_MODEL_SWAPOPS_H

#include "pte.h"

typedef struct {
	uint64_t val;
} swp_entry_t;

#define MAX_SWAPFILES_SHIFT 5
#define SWP_DEVICE_NUM 3
#define SWP_MIGRATION_NUM 3
#define SWP_HWPOISON_NUM 1
#define SWP_PTE_MARKER_NUM 1
#define MAX_SWAPFILES                                                                         \
	((1 << MAX_SWAPFILES_SHIFT) - SWP_DEVICE_NUM - SWP_MIGRATION_NUM - SWP_HWPOISON_NUM - \
	 SWP_PTE_MARKER_NUM)
/* include/linux/swap.h order: hwpoison, migration, device, marker. */
#define SWP_HWPOISON (MAX_SWAPFILES)
#define SWP_MIGRATION_READ (MAX_SWAPFILES + SWP_HWPOISON_NUM)
#define SWP_MIGRATION_READ_EXCLUSIVE (MAX_SWAPFILES + SWP_HWPOISON_NUM + 1)
#define SWP_MIGRATION_WRITE (MAX_SWAPFILES + SWP_HWPOISON_NUM + 2)
#define SWP_DEVICE_PRIVATE_WRITE (MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM)
#define SWP_DEVICE_PRIVATE_READ (MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + 1)
#define SWP_DEVICE_EXCLUSIVE (MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + 2)
#define SWP_PTE_MARKER (MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + SWP_DEVICE_NUM)

#define SWP_TYPE_SHIFT 58 /* BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT */
#define SWP_OFFSET_MASK ((1ULL << SWP_TYPE_SHIFT) - 1)
#define SWP_PFN_BITS (52 - PAGE_SHIFT)
#define SWP_MIG_YOUNG (1ULL << SWP_PFN_BITS)
#define SWP_MIG_DIRTY (1ULL << (SWP_PFN_BITS + 1))
#define SWP_PFN_MASK ((1ULL << SWP_PFN_BITS) - 1)

/* PTE marker bits (include/linux/swapops.h / leafops.h). */
typedef uint64_t pte_marker;
#define PTE_MARKER_UFFD_WP (1ULL << 0)
#define PTE_MARKER_POISONED (1ULL << 1)
#define PTE_MARKER_GUARD (1ULL << 2)
#define PTE_MARKER_MASK ((1ULL << 3) - 1)

static inline swp_entry_t swp_entry(unsigned type, uint64_t offset)
{
	return (swp_entry_t){ ((uint64_t)type << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK) };
}
static inline unsigned swp_type(swp_entry_t e) { return e.val >> SWP_TYPE_SHIFT; }
static inline uint64_t swp_offset(swp_entry_t e) { return e.val & SWP_OFFSET_MASK; }

/* x86-64 arch encoding. */
#define SWP_TYPE_BITS 5
#define SWP_OFFSET_FIRST_BIT (_PAGE_BIT_PROTNONE + 1)
#define SWP_OFFSET_SHIFT (SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS)
static inline pte_t __swp_entry_to_pte(unsigned type, uint64_t offset)
{
	uint64_t v = (~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) |
		     ((uint64_t)type << (64 - SWP_TYPE_BITS));
	return __pte(v);
}
static inline unsigned __swp_type(pte_t p) { return pte_val(p) >> (64 - SWP_TYPE_BITS); }
static inline uint64_t __swp_offset(pte_t p)
{
	return ~pte_val(p) << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT;
}
#define __SWP_SW_BITS (_PAGE_SWP_SOFT_DIRTY | _PAGE_SWP_UFFD | _PAGE_SWP_EXCLUSIVE)

static inline pte_t swp_entry_to_pte(swp_entry_t e)
{
	return __swp_entry_to_pte(swp_type(e), swp_offset(e));
}
/* pte_to_swp_entry ignores the software bits (pte_swp_clear_flags). */
static inline swp_entry_t pte_to_swp_entry(pte_t p)
{
	pte_t c = __pte(pte_val(p) & ~__SWP_SW_BITS);
	return swp_entry(__swp_type(c), __swp_offset(c) & SWP_OFFSET_MASK);
}

/* A non-none, non-present PTE is in swap format. */
static inline bool is_swap_pte(pte_t p) { return !pte_none(p) && !pte_present(p); }
static inline bool pte_swp_uffd(pte_t p) { return pte_val(p) & _PAGE_SWP_UFFD; }
static inline pte_t pte_swp_mkuffd(pte_t p) { return __pte(pte_val(p) | _PAGE_SWP_UFFD); }
static inline pte_t pte_swp_clear_uffd(pte_t p) { return __pte(pte_val(p) & ~_PAGE_SWP_UFFD); }
static inline bool pte_swp_soft_dirty(pte_t p) { return pte_val(p) & _PAGE_SWP_SOFT_DIRTY; }
static inline pte_t pte_swp_mksoft_dirty(pte_t p)
{
	return __pte(pte_val(p) | _PAGE_SWP_SOFT_DIRTY);
}
static inline bool pte_swp_exclusive(pte_t p) { return pte_val(p) & _PAGE_SWP_EXCLUSIVE; }
static inline pte_t pte_swp_mkexclusive(pte_t p) { return __pte(pte_val(p) | _PAGE_SWP_EXCLUSIVE); }
static inline pte_t pte_swp_clear_exclusive(pte_t p)
{
	return __pte(pte_val(p) & ~_PAGE_SWP_EXCLUSIVE);
}

static inline bool non_swap_entry(swp_entry_t e) { return swp_type(e) >= MAX_SWAPFILES; }
static inline bool is_migration_entry(swp_entry_t e)
{
	unsigned t = swp_type(e);
	return t == SWP_MIGRATION_READ || t == SWP_MIGRATION_READ_EXCLUSIVE ||
	       t == SWP_MIGRATION_WRITE;
}
static inline bool is_writable_migration_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_MIGRATION_WRITE;
}
static inline bool is_readable_exclusive_migration_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_MIGRATION_READ_EXCLUSIVE;
}
static inline swp_entry_t make_readable_migration_entry(uint64_t pfn)
{
	return swp_entry(SWP_MIGRATION_READ, pfn);
}
static inline swp_entry_t make_readable_exclusive_migration_entry(uint64_t pfn)
{
	return swp_entry(SWP_MIGRATION_READ_EXCLUSIVE, pfn);
}
static inline swp_entry_t make_writable_migration_entry(uint64_t pfn)
{
	return swp_entry(SWP_MIGRATION_WRITE, pfn);
}
static inline uint64_t swp_offset_pfn(swp_entry_t e) { return swp_offset(e) & SWP_PFN_MASK; }
static inline bool is_hwpoison_entry(swp_entry_t e) { return swp_type(e) == SWP_HWPOISON; }
static inline bool is_device_exclusive_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_DEVICE_EXCLUSIVE;
}
/* Since 6.15 there is one device-exclusive type (no readable/writable pair):
 * only a writable PTE is ever converted, and restore_exclusive_pte() works
 * the writability out again. The offset is the PFN; soft-dirty and the uffd
 * bit ride in the swap-format software bits like on every other non-present
 * entry (pte_swp_mksoft_dirty(), pte_swp_mkuffd()). */
static inline swp_entry_t make_device_exclusive_entry(uint64_t pfn)
{
	return swp_entry(SWP_DEVICE_EXCLUSIVE, pfn);
}
static inline bool is_device_private_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_DEVICE_PRIVATE_WRITE || swp_type(e) == SWP_DEVICE_PRIVATE_READ;
}
/* An entry whose offset is a PFN that the entry still maps or migrates. */
static inline bool is_pfn_swap_entry(swp_entry_t e)
{
	return is_migration_entry(e) || is_device_private_entry(e) ||
	       is_device_exclusive_entry(e) || is_hwpoison_entry(e);
}
/* A PTE holding a device-exclusive entry (not a kernel helper; the kernel
 * open-codes is_swap_pte() && is_device_exclusive_entry()). */
static inline bool pte_is_device_exclusive(pte_t p)
{
	return is_swap_pte(p) && is_device_exclusive_entry(pte_to_swp_entry(p));
}

static inline bool is_pte_marker_entry(swp_entry_t e) { return swp_type(e) == SWP_PTE_MARKER; }
static inline pte_marker pte_marker_get(swp_entry_t e) { return swp_offset(e) & PTE_MARKER_MASK; }
static inline bool is_pte_marker(pte_t p)
{
	return is_swap_pte(p) && is_pte_marker_entry(pte_to_swp_entry(p));
}
static inline pte_t make_pte_marker(pte_marker m)
{
	return swp_entry_to_pte(swp_entry(SWP_PTE_MARKER, m));
}
static inline bool pte_marker_uffd_wp(pte_t p)
{
	return is_pte_marker(p) && (pte_marker_get(pte_to_swp_entry(p)) & PTE_MARKER_UFFD_WP);
}
/* Swap uffd bit or uffd-wp marker (RWP 03/15 name). */
static inline bool pte_swp_uffd_any(pte_t p)
{
	return is_swap_pte(p) && (pte_swp_uffd(p) || pte_marker_uffd_wp(p));
}

/* PMD swap-format (PMD migration entries). */
static inline bool is_pmd_migration_entry(pmd_t p)
{
	return !pmd_none(p) && !pmd_present(p) &&
	       is_migration_entry(pte_to_swp_entry(__pte(pmd_val(p))));
}
static inline bool pmd_swp_uffd(pmd_t p) { return pmd_val(p) & _PAGE_SWP_UFFD; }
static inline pmd_t pmd_swp_mkuffd(pmd_t p) { return __pmd(pmd_val(p) | _PAGE_SWP_UFFD); }
static inline bool pmd_swp_soft_dirty(pmd_t p) { return pmd_val(p) & _PAGE_SWP_SOFT_DIRTY; }
static inline pmd_t pmd_swp_mksoft_dirty(pmd_t p)
{
	return __pmd(pmd_val(p) | _PAGE_SWP_SOFT_DIRTY);
}
static inline pmd_t swp_entry_to_pmd(swp_entry_t e) { return __pmd(pte_val(swp_entry_to_pte(e))); }
static inline swp_entry_t pmd_to_swp_entry(pmd_t p) { return pte_to_swp_entry(__pte(pmd_val(p))); }

/* Migration entries keep the young and dirty bits above the PFN in the
 * offset (x86-64 has room: migration_entry_supports_ad()). */
static inline swp_entry_t make_migration_entry_young(swp_entry_t e)
{
	return swp_entry(swp_type(e), swp_offset(e) | SWP_MIG_YOUNG);
}
static inline swp_entry_t make_migration_entry_dirty(swp_entry_t e)
{
	return swp_entry(swp_type(e), swp_offset(e) | SWP_MIG_DIRTY);
}
static inline bool is_migration_entry_young(swp_entry_t e) { return swp_offset(e) & SWP_MIG_YOUNG; }
static inline bool is_migration_entry_dirty(swp_entry_t e) { return swp_offset(e) & SWP_MIG_DIRTY; }
static inline bool is_readable_migration_entry(swp_entry_t e)
{
	return swp_type(e) == SWP_MIGRATION_READ;
}

#endif
