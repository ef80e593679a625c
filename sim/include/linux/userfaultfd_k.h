/* sim/include/linux/userfaultfd_k.h - VMA-level userfaultfd predicates
 * (include/linux/userfaultfd_k.h as of the RWP series, v7+ spelling).
 */
#ifndef MMSIM_LINUX_USERFAULTFD_K_H
#define MMSIM_LINUX_USERFAULTFD_K_H

#include "linux/mm.h"

/* models userfaultfd_missing() */
static inline bool userfaultfd_missing(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_UFFD_MISSING;
}
/* models userfaultfd_wp() */
static inline bool userfaultfd_wp(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_UFFD_WP;
}
/* models userfaultfd_minor() */
static inline bool userfaultfd_minor(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_UFFD_MINOR;
}
/* models userfaultfd_rwp() (RWP 05/15) */
static inline bool userfaultfd_rwp(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_UFFD_RWP;
}
/* models userfaultfd_protected() (RWP 05/15): WP or RWP */
static inline bool userfaultfd_protected(const struct vm_area_struct *vma)
{
	return userfaultfd_wp(vma) || userfaultfd_rwp(vma);
}
/* models userfaultfd_armed(): any uffd registration, RWP included */
static inline bool userfaultfd_armed(const struct vm_area_struct *vma)
{
	return vma->vm_flags & __VM_UFFD_FLAGS;
}
/* models userfaultfd_pte_wp() */
static inline bool userfaultfd_pte_wp(const struct vm_area_struct *vma, pte_t pte)
{
	return userfaultfd_wp(vma) && pte_uffd(pte);
}
/* models userfaultfd_huge_pmd_wp() */
static inline bool userfaultfd_huge_pmd_wp(const struct vm_area_struct *vma, pmd_t pmd)
{
	return userfaultfd_wp(vma) && pmd_uffd(pmd);
}
/* models userfaultfd_pte_rwp() (RWP 05/15) */
static inline bool userfaultfd_pte_rwp(const struct vm_area_struct *vma, pte_t pte)
{
	return userfaultfd_rwp(vma) && pte_uffd(pte);
}
/* models userfaultfd_huge_pmd_rwp() (RWP 05/15) */
static inline bool userfaultfd_huge_pmd_rwp(const struct vm_area_struct *vma, pmd_t pmd)
{
	return userfaultfd_rwp(vma) && pmd_uffd(pmd);
}
/* models userfaultfd_wp_async() */
static inline bool userfaultfd_wp_async(const struct vm_area_struct *vma)
{
	return vma->vm_userfaultfd_ctx &&
	       (vma->vm_userfaultfd_ctx->features & UFFD_FEATURE_WP_ASYNC);
}
/* models userfaultfd_rwp_async() (RWP 12/15): reads the context's features */
static inline bool userfaultfd_rwp_async(const struct vm_area_struct *vma)
{
	return vma->vm_userfaultfd_ctx &&
	       (vma->vm_userfaultfd_ctx->features & UFFD_FEATURE_RWP_ASYNC);
}
/* models userfaultfd_wp_use_markers() */
static inline bool userfaultfd_wp_use_markers(const struct vm_area_struct *vma)
{
	if (!userfaultfd_wp(vma))
		return false;
	if (!vma_is_anonymous(vma))
		return true;
	return vma->vm_userfaultfd_ctx &&
	       (vma->vm_userfaultfd_ctx->features & UFFD_FEATURE_WP_UNPOPULATED);
}
/* models uffd_disable_fault_around() (RWP 05/15 adds VM_UFFD_RWP) */
static inline bool uffd_disable_fault_around(const struct vm_area_struct *vma)
{
	return vma->vm_flags & (VM_UFFD_WP | VM_UFFD_MINOR | VM_UFFD_RWP);
}
/* models vma_has_uffd_without_event_remap() */
static inline bool vma_has_uffd_without_event_remap(const struct vm_area_struct *vma)
{
	return vma->vm_userfaultfd_ctx &&
	       !(vma->vm_userfaultfd_ctx->features & UFFD_FEATURE_EVENT_REMAP);
}

#endif
