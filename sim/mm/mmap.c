/* sim/mm/mmap.c - mmap, munmap and VMA range splitting (mm/mmap.c, mm/vma.c). */
#include "internal.h"

/* models calc_vm_prot_bits() */
vm_flags_t calc_vm_prot_bits(unsigned prot)
{
	vm_flags_t f = 0;
	if (prot & PROT_READ)
		f |= VM_READ;
	if (prot & PROT_WRITE)
		f |= VM_WRITE;
	if (prot & PROT_EXEC)
		f |= VM_EXEC;
	return f;
}

/* models do_mmap() for anonymous and shmem mappings */
int64_t sys_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
		 struct address_space *file, uint64_t pgoff, uint64_t align)
{
	bool shared = flags & MAP_SHARED;

	if (!len || (addr & ~PAGE_MASK) || (align & (align - 1)))
		return -EINVAL;
	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	if (len > TASK_SIZE || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	if (!!(flags & MAP_SHARED) == !!(flags & MAP_PRIVATE))
		return -EINVAL;
	if (file && pgoff + (len >> PAGE_SHIFT) > file->nr_pages)
		return -EINVAL; /* the model does not fault beyond i_size (SIGBUS) */
	if (flags & MAP_FIXED) {
		if (addr + len > TASK_SIZE)
			return -ENOMEM;
		sys_munmap(mm, addr, len);
	} else {
		/* __get_unmapped_area(): without a hint, an anonymous private
		 * mapping of a multiple of PMD_SIZE is PMD aligned (so THPs
		 * can map it); shmem's own get_unmapped_area is not modelled. */
		if (!align && !addr && !file && !shared && !(len & ~PMD_MASK))
			align = PMD_SIZE;
		addr = mm_get_unmapped_area(mm, addr, len, align ? align : PAGE_SIZE);
		if (!addr)
			return -ENOMEM;
	}

	struct vm_area_struct *vma = vm_area_alloc(mm);
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	vma->vm_flags = calc_vm_prot_bits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	if (shared)
		vma->vm_flags |= VM_SHARED | VM_MAYSHARE;
	if (file) {
		vma->vm_file = file;
		vma->vm_pgoff = pgoff;
	} else {
		vma->vm_pgoff = addr >> PAGE_SHIFT;
		if (shared) {
			/* MAP_SHARED|MAP_ANONYMOUS is shmem in the kernel; the
			 * model requires an explicit file for shared memory. */
			vm_area_free(vma);
			return -EINVAL;
		}
	}
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
	vma_link(mm, vma);
	return (int64_t)addr;
}

/* models split_vma() applied at both ends of a range; vma_adjust_trans_huge()
 * splits a huge PMD only where a boundary falls inside it */
void vma_split_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct vm_area_struct *vma = vma_lookup(mm, start);
	if (vma && vma->vm_start < start) {
		split_huge_pmd_if_needed(vma, start);
		vma_split(vma, start);
	}
	vma = vma_lookup(mm, end - 1);
	if (vma && vma->vm_end > end) {
		split_huge_pmd_if_needed(vma, end);
		vma_split(vma, end);
	}
}

/* models vma_merge_existing_range() over a range and its neighbours */
void vma_merge_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct vm_area_struct *vma = find_vma(mm, start ? start - 1 : 0);
	while (vma && vma->vm_start <= end) {
		if (!vma_try_merge_next(vma)) {
			vma = find_vma(mm, vma->vm_end);
			continue;
		}
	}
}

/* models unmap_region(): zap the pages, then free the empty page tables */
static void unmap_region(struct vm_area_struct *vma)
{
	/* munmap drops uffd-wp markers (ZAP_FLAG_DROP_MARKER). */
	zap_page_range_single(vma, vma->vm_start, vma->vm_end, true);
}

/* free_pgtables(): free the PTE tables wholly inside [start, end) that no
 * VMA uses any more. */
/* models free_pgtables() */
static void free_pgtables(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	for (uint64_t a = start & PMD_MASK; a < end; a += PMD_SIZE) {
		uint64_t lo = a, hi = a + PMD_SIZE;
		struct vm_area_struct *v = find_vma(mm, lo);
		if (v && v->vm_start < hi)
			continue; /* still used by a VMA */
		pmd_t *pmd = pmd_lookup(mm->pgd, a, false, 0);
		if (!pmd || !pmd_is_table(*pmd))
			continue;
		uint64_t table = pmd_pgtable(*pmd);
		*pmd = __pmd(0);
		pt_free(table);
		uint64_t dep;
		while ((dep = pgtable_trans_huge_withdraw(mm, a)))
			pt_free(dep);
	}
}

/* models do_vmi_munmap() */
long sys_munmap(struct mm_struct *mm, uint64_t start, uint64_t len)
{
	if ((start & ~PAGE_MASK) || !len || start + len > TASK_SIZE || start + len < start)
		return -EINVAL;
	uint64_t end = start + ((len + PAGE_SIZE - 1) & PAGE_MASK);

	vma_split_range(mm, start, end);
	struct vm_area_struct *vma;
	/* vms_gather_munmap_vmas(): the UFFD_EVENT_UNMAP list. Every caller
	 * (munmap, mmap MAP_FIXED, mremap) passes one in the kernel. */
	g_autoptr(GArray) uf = g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_unmap_ctx));
	for (uint64_t a = start; (vma = find_vma(mm, a)) && vma->vm_start < end; a = vma->vm_end)
		userfaultfd_unmap_prep(vma, start, end, uf);
	while ((vma = find_vma(mm, start)) && vma->vm_start < end) {
		unmap_region(vma);
		vma_unlink(vma);
		vm_area_free(vma);
	}
	free_pgtables(mm, start, end);
	userfaultfd_unmap_complete(uf);
	return 0;
}

/* models exit_mmap() */
void exit_mmap(struct mm_struct *mm)
{
	while (mm->vmas->len) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, 0);
		sys_munmap(mm, vma->vm_start, vma->vm_end - vma->vm_start);
	}
}
