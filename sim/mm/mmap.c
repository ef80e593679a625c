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

/* The model's mm->mmap_base: mmap_base() puts it below the stack gap; the
 * model has no stack, so it is a constant. A mapping without a fixed address
 * goes top-down from here, as on x86-64 (MMF_TOPDOWN). */
#define MMAP_BASE 0x7f0001000000ULL

/* models unmapped_area_topdown(): the highest gap in [low_limit,
 * high_limit) that holds len plus the alignment slack, and in it the highest
 * address aligned to align_mask + 1; 0 when none (-ENOMEM). No VMA grows
 * down in the model, so there are no stack guard gaps to keep. */
static uint64_t unmapped_area_topdown(struct mm_struct *mm, uint64_t len, uint64_t align_mask,
				      uint64_t low_limit, uint64_t high_limit)
{
	uint64_t length = len + align_mask;

	if (length < len)
		return 0;
	for (gint i = (gint)mm->vmas->len - 1; i >= -1; i--) {
		uint64_t gap_start =
			i >= 0 ? ((struct vm_area_struct *)g_ptr_array_index(mm->vmas, (guint)i))
					 ->vm_end
			       : 0;
		uint64_t gap_end = (guint)(i + 1) < mm->vmas->len
					   ? ((struct vm_area_struct *)g_ptr_array_index(
						      mm->vmas, (guint)(i + 1)))
						     ->vm_start
					   : UINT64_MAX;

		gap_start = MAX(gap_start, low_limit);
		gap_end = MIN(gap_end, high_limit);
		if (gap_end <= gap_start || gap_end - gap_start < length)
			continue;
		uint64_t gap = gap_end - len;
		gap -= gap & align_mask;
		return gap;
	}
	return 0;
}

/* models arch_get_unmapped_area_topdown() (x86-64, no randomisation): a
 * hint is taken when the range is free; otherwise the highest gap below
 * mmap_base, and bottom-up from TASK_UNMAPPED_BASE (the model's
 * mm_get_unmapped_area()) when nothing is free below it. */
static uint64_t arch_get_unmapped_area_topdown(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	if (len > TASK_SIZE)
		return 0;
	if (addr) {
		addr &= PAGE_MASK;
		struct vm_area_struct *vma = find_vma(mm, addr);
		if (addr <= TASK_SIZE - len && (!vma || addr + len <= vma->vm_start))
			return addr;
	}
	addr = unmapped_area_topdown(mm, len, 0, PAGE_SIZE, MMAP_BASE);
	if (addr)
		return addr;
	return mm_get_unmapped_area(mm, 0, len, PAGE_SIZE);
}

/* models __thp_get_unmapped_area(): search for len plus one PMD, then
 * place the mapping at the PMD-aligned address inside (top-down: the
 * upper one when the search result is aligned already) */
static uint64_t __thp_get_unmapped_area(struct mm_struct *mm, uint64_t len, uint64_t off)
{
	uint64_t len_pad = len + PMD_SIZE, ret, off_sub;

	if (len_pad < len)
		return 0;
	ret = arch_get_unmapped_area_topdown(mm, 0, len_pad);
	if (!ret)
		return 0;
	off_sub = (off - ret) & (PMD_SIZE - 1);
	if (!off_sub)
		return ret + PMD_SIZE; /* MMF_TOPDOWN */
	return ret + off_sub;
}

/* models __get_unmapped_area() for a mapping without MAP_FIXED: an
 * anonymous mapping of a multiple of PMD_SIZE without a hint is THP
 * aligned; shmem_get_unmapped_area() is not modelled (it adds no alignment
 * while shmem THP is off for the mapping, the hosts' setting). 0 is
 * -ENOMEM. */
uint64_t get_unmapped_area(struct mm_struct *mm, struct address_space *file, uint64_t addr,
			   uint64_t len, uint64_t pgoff)
{
	uint64_t ret;

	(void)pgoff;
	if (len > TASK_SIZE)
		return 0;
	if (!file && !addr && !(len & ~PMD_MASK))
		ret = __thp_get_unmapped_area(mm, len, 0);
	else
		ret = arch_get_unmapped_area_topdown(mm, addr, len);
	if (!ret || ret > TASK_SIZE - len)
		return 0;
	return ret;
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
		if (align > PAGE_SIZE && !addr) {
			/* align= is user space's over-map-and-trim idiom (as
			 * tools/hostreplay does it): reserve len + align
			 * anywhere with an anonymous mapping, map at the first
			 * aligned address in it, unmap the rest. */
			uint64_t rs = get_unmapped_area(mm, NULL, 0, len + align, 0);
			if (!rs || len + align < len)
				return -ENOMEM;
			addr = (rs + align - 1) & ~(align - 1);
		} else {
			addr = get_unmapped_area(mm, file, addr, len, pgoff);
		}
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

/* models do_vmi_munmap(): UFFD_EVENT_UNMAP messages are gathered into uf
 * (vms_gather_munmap_vmas()); the caller sends them, after whatever else
 * it has to report (mremap sends its REMAP first). */
long do_munmap(struct mm_struct *mm, uint64_t start, uint64_t len, GArray *uf)
{
	if ((start & ~PAGE_MASK) || !len || start + len > TASK_SIZE || start + len < start)
		return -EINVAL;
	uint64_t end = start + ((len + PAGE_SIZE - 1) & PAGE_MASK);

	vma_split_range(mm, start, end);
	struct vm_area_struct *vma;
	for (uint64_t a = start; (vma = find_vma(mm, a)) && vma->vm_start < end; a = vma->vm_end)
		userfaultfd_unmap_prep(vma, start, end, uf);
	while ((vma = find_vma(mm, start)) && vma->vm_start < end) {
		unmap_region(vma);
		vma_unlink(vma);
		vm_area_free(vma);
	}
	free_pgtables(mm, start, end);
	return 0;
}

/* models __vm_munmap(): unmap, then send the UNMAP messages. */
long sys_munmap(struct mm_struct *mm, uint64_t start, uint64_t len)
{
	g_autoptr(GArray) uf = g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_unmap_ctx));
	long ret = do_munmap(mm, start, len, uf);

	userfaultfd_unmap_complete(uf);
	return ret;
}

/* models exit_mmap() */
void exit_mmap(struct mm_struct *mm)
{
	while (mm->vmas->len) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, 0);
		sys_munmap(mm, vma->vm_start, vma->vm_end - vma->vm_start);
	}
}
