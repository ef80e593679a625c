/* sim/oracle/encoding.c - encoding invariants, per VMA and per leaf entry.
 *
 * The same bit means "write-protected" in a VM_UFFD_WP VMA and "armed" in a
 * VM_UFFD_RWP VMA; these checks make sure every entry can only be read one
 * way (rwp-series.md §2.1, §7.3; kernel-paths.md §8.1).
 */
#include "oracle_internal.h"

#include "model/swapops.h"
#include "patch.h"

bool encoding_check_vma(struct oracle *o, const struct vm_area_struct *vma)
{
	if ((vma->vm_flags & VM_UFFD_WP) && (vma->vm_flags & VM_UFFD_RWP))
		return oracle_fail(o, "wp-rwp exclusive", vma->vm_mm ? vma->vm_mm->id : 0,
				   vma->vm_start, 0, 0,
				   "VMA [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
				   "x) has both VM_UFFD_WP and VM_UFFD_RWP",
				   vma->vm_start, vma->vm_end);
	return true;
}

bool encoding_check_leaf(struct oracle *o, const struct vm_area_struct *vma, uint64_t addr,
			 uint64_t val, bool pmd)
{
	if (!vma)
		return true; /* a leaf outside every VMA is reported by "rmap" */
	uint64_t mm_id = vma->vm_mm ? vma->vm_mm->id : 0;
	bool rwp = vma->vm_flags & VM_UFFD_RWP;
	bool wp = vma->vm_flags & VM_UFFD_WP;
	bool registered = vma->vm_flags & (VM_UFFD_RWP | VM_UFFD_WP);
	bool present, protnone, uffd;

	if (pmd) {
		pmd_t p = __pmd(val);
		present = pmd_present(p);
		protnone = present && pmd_protnone(p);
		uffd = present ? pmd_uffd(p) : pmd_swp_uffd(p);
	} else {
		pte_t p = __pte(val);
		present = pte_present(p);
		protnone = present && pte_protnone(p);
		uffd = present ? pte_uffd(p) : pte_swp_uffd_any(p);
	}

	if (present && rwp && uffd && !protnone)
		return oracle_fail(o, "rwp encoding", mm_id, addr, 0, val,
				   "an entry with the uffd bit in an RWP VMA is not protnone");
	/* In a WP VMA protnone+uffd is a NUMA hint on a write-protected entry:
	 * the baseline's change_pte_range(MM_CP_PROT_NUMA) keeps the bit
	 * (kernel-paths §5, §8.1 E4) and do_numa_page() restores a uffd-wp
	 * entry. Register refuses to turn RWP into WP (dropping a mode), so an
	 * RWP leftover reaches a WP VMA only through a VMA with neither flag,
	 * which "stray uffd" checks. */
	if (present && !rwp && !wp && protnone && uffd && vma_is_accessible(vma))
		return oracle_fail(o, "stray protnone+uffd", mm_id, addr, 0, val,
				   "protnone+uffd in an accessible non-RWP VMA (it would be "
				   "taken for a NUMA hint)");
	if (present && pmd && vma->vm_file && uffd)
		return oracle_fail(o, "file pmd uffd", mm_id, addr, 0, val,
				   "a shmem PMD leaf carries the uffd bit");
	/* E4 (EXC_WP_LEFTOVER): 6.18 lets a re-register drop WP and keep its
	 * bits; only the RWP series refuses that. */
	if (!registered && uffd && kernel_has_rwp())
		return oracle_fail(o, "stray uffd", mm_id, addr, 0, val,
				   "a uffd bit or uffd-wp marker in a VMA with neither VM_UFFD_WP "
				   "nor VM_UFFD_RWP");
	return true;
}
