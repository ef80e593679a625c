/* sim/mm/mempolicy.c - the NUMA-hinting half of mm/mempolicy.c. */
#include "internal.h"

/* models change_prot_numa(): make the range trap into NUMA hinting faults.
 * change_pte_range() skips entries that are already protnone (so armed RWP
 * entries keep their bit and stay armed) and the zero page; an unarmed PTE
 * of an RWP VMA becomes a plain NUMA hint, without the uffd bit. */
long change_prot_numa(struct vm_area_struct *vma, uint64_t addr, uint64_t end)
{
	return change_protection(vma, addr, end, MM_CP_PROT_NUMA);
}
