/* sim/kernel/sched/fair.c - the NUMA-balancing scanner of kernel/sched/fair.c.
 *
 * The kernel's task_numa_work() runs from task_work with a scan window that
 * advances through the mm; the model runs it explicitly over a range named
 * by the trace (the "numa-scan" step), with the same per-VMA rules.
 */
#include "mm/internal.h"

/* models vma_migratable() (include/linux/mempolicy.h) */
static bool vma_migratable(struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return false;
	/* Hugetlb migration needs arch support the model does not give it. */
	if (vma->vm_flags & VM_HUGETLB)
		return false;
	return true;
}

/* models task_numa_work() over [start, end) of mm */
long task_numa_work_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	long pages = 0;

	for (guint i = 0; i < mm->vmas->len; i++) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, i);
		uint64_t s = start > vma->vm_start ? start : vma->vm_start;
		uint64_t e = end < vma->vm_end ? end : vma->vm_end;

		if (s >= e)
			continue;
		if (!vma_migratable(vma) || (vma->vm_flags & (VM_HUGETLB | VM_MIXEDMAP)))
			continue;
		/* Shared library text is not worth migrating. */
		if (vma->vm_file && (vma->vm_flags & (VM_READ | VM_WRITE)) == VM_READ)
			continue;
		/* Inaccessible VMAs: PROT_NONE must not be confused with a
		 * NUMA hint (and an RWP VMA's armed PTEs with either). */
		if (!vma_is_accessible(vma))
			continue;
		long n = change_prot_numa(vma, s, e);
		if (n > 0)
			pages += n;
	}
	return pages;
}
