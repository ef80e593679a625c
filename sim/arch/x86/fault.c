/* sim/arch/x86/fault.c - the MMU walk and the user fault entry
 * (arch/x86/mm/fault.c: do_user_addr_fault, access_error).
 */
#include "mm/internal.h"
#include "sched.h"
#include "trace/trace.h"

/* The hardware page walk: present + user (+ RW for stores) at the leaf.
 * A protnone entry has _PAGE_PRESENT clear, so the MMU faults on it; the
 * walk sets the accessed and dirty bits as the CPU does. */
struct page *mmu_translate(struct mm_struct *mm, uint64_t addr, bool write)
{
	uint64_t need = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);

	if (!pmd || pmd_none(*pmd))
		return NULL;
	if (pmd_leaf(*pmd)) {
		if ((pmd_val(*pmd) & need) != need)
			return NULL;
		*pmd = pmd_mkyoung(*pmd);
		if (write)
			*pmd = pmd_mkdirty(*pmd);
		return pfn_to_page(pmd_pfn(*pmd) + pte_index(addr));
	}
	if (!pmd_is_table(*pmd))
		return NULL;
	pte_t *pte = pte_offset_map(pmd, addr);
	if ((pte_val(*pte) & need) != need)
		return NULL;
	*pte = pte_mkyoung(*pte);
	if (write)
		*pte = pte_mkdirty(*pte);
	return pfn_to_page(pte_pfn(*pte));
}

/* models access_error() */
static bool access_error(bool write, struct vm_area_struct *vma)
{
	if (write)
		return !(vma->vm_flags & VM_WRITE);
	return !vma_is_accessible(vma);
}

/* models do_user_addr_fault() followed by the retried access */
int user_access(struct mm_struct *mm, uint64_t addr, bool write, uint64_t value_in,
		uint64_t *value_out)
{
	unsigned flags = FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE |
			 FAULT_FLAG_INTERRUPTIBLE | (write ? FAULT_FLAG_WRITE : 0);

	for (int tries = 0; tries <= USER_FAULT_MAX_RETRIES; tries++) {
		struct page *page = mmu_translate(mm, addr, write);
		if (page) {
			if (write)
				page->content = value_in;
			else if (value_out)
				*value_out = page->content;
			mm_event_emit((struct mm_event){ .kind = EV_ACCESS,
							 .mm_id = mm->id,
							 .address = addr & PAGE_MASK,
							 .write = write,
							 .who = ACCESS_USER,
							 .value = page->content });
			return RESULT_OK;
		}
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		if (!vma || access_error(write, vma))
			return RESULT_SIGSEGV;
		vm_fault_t ret = handle_mm_fault(vma, addr, flags);
		if (ret & VM_FAULT_RETRY) {
			if (current->sleeping)
				return RESULT_BLOCKED;
			flags |= FAULT_FLAG_TRIED;
			continue;
		}
		if (ret & VM_FAULT_OOM)
			return ENOMEM;
		if (ret & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON))
			return RESULT_SIGBUS;
		if (ret & VM_FAULT_SIGSEGV)
			return RESULT_SIGSEGV;
	}
	mm_event_emit((struct mm_event){ .kind = EV_LIVELOCK,
					 .mm_id = mm->id,
					 .address = addr & PAGE_MASK,
					 .write = write });
	return RESULT_LIVELOCK;
}
