/* sim/kernel/fork.c - fork's duplication of an mm (kernel/fork.c dup_mm(),
 * with dup_mmap() and vm_area_dup() as they stood there before their move to
 * mm/mmap.c and mm/vma_init.c), under the RWP series: dup_userfaultfd()
 * decides per VMA whether the child stays registered, and copy_page_range()
 * keeps or normalises each entry's uffd bit accordingly (RWP 07/15).
 *
 * Only the mm is modelled: a "process" is an mm, so fork is dup_mm(). No
 * CLONE_VM, VM_DONTCOPY/VM_WIPEONFORK from madvise, or mm locks.
 */
#include "mm/internal.h"
#include "sched.h"

/* models vm_area_dup(): same flags, file, pgoff, ctx; anon_vma set by
 * anon_vma_fork() */
static struct vm_area_struct *vm_area_dup(struct vm_area_struct *orig, struct mm_struct *mm)
{
	struct vm_area_struct *new = vm_area_alloc(mm);
	uint32_t id = new->id;

	*new = *orig;
	new->id = id;
	new->vm_mm = mm;
	new->anon_vma = NULL;
	return new;
}

/* models dup_mmap() */
static int dup_mmap(struct mm_struct *mm, struct mm_struct *oldmm, GArray *fcs)
{
	int retval = 0;

	for (guint i = 0; i < oldmm->vmas->len; i++) {
		struct vm_area_struct *mpnt = g_ptr_array_index(oldmm->vmas, i);
		struct vm_area_struct *tmp;

		if (mpnt->vm_flags & VM_DONTCOPY)
			continue;
		tmp = vm_area_dup(mpnt, mm);
		/* Before the copy: the tables follow the child's registration. */
		retval = dup_userfaultfd(tmp, fcs);
		if (retval) {
			vm_area_free(tmp);
			break;
		}
		anon_vma_fork(tmp, mpnt);
		tmp->vm_flags &= ~VM_LOCKED; /* VM_LOCKED_MASK */
		vma_link(mm, tmp);
		retval = copy_page_range(tmp, mpnt);
		if (retval)
			break;
	}
	if (!retval)
		dup_userfaultfd_complete(fcs);
	return retval;
}

/* models dup_mm() */
static struct mm_struct *dup_mm(struct mm_struct *oldmm, const char *name, GArray *fcs)
{
	struct mm_struct *mm = mm_alloc(name);

	if (dup_mmap(mm, oldmm, fcs)) {
		/* dup_userfaultfd_fail() and mmput(): the new contexts are the
		 * caller's to free (they are in fcs). */
		exit_mmap(mm);
		mm_free(mm);
		return NULL;
	}
	/* khugepaged_fork() */
	mm->khugepaged_registered = oldmm->khugepaged_registered;
	return mm;
}

/* models kernel_clone() -> copy_process() -> copy_mm() for fork(): the child
 * gets its own mm (no CLONE_VM) */
struct mm_struct *sys_fork(struct mm_struct *parent, const char *name, GArray *fcs)
{
	struct mm_struct *mm = dup_mm(parent, name, fcs);

	if (!mm)
		return NULL;
	mm_event_emit((struct mm_event){ .kind = EV_FORK, .mm_id = parent->id, .value = mm->id });
	for (guint i = 0; i < fcs->len; i++) {
		struct userfaultfd_fork_ctx *fctx =
			&g_array_index(fcs, struct userfaultfd_fork_ctx, i);
		mm_event_emit((struct mm_event){ .kind = EV_FORK,
						 .mm_id = parent->id,
						 .value = mm->id,
						 .ctx_id = fctx->orig->id,
						 .mode = fctx->new->id });
	}
	return mm;
}
