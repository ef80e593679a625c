/* sim/oracle/exceptions.c - the documented exceptions to the ledger rules.
 *
 * One table, each row with its source. A rule in ledger.c that tolerates a
 * state the plain ledger would flag must name its row here.
 */
#include "oracle_internal.h"

#include "linux/mm.h"

const struct oracle_exception oracle_exceptions[NR_EXCEPTIONS] = {
	[EXC_FORCE_PROT_NONE] =
		{
			"unobserved access",
			"FOLL_FORCE access through an inaccessible (PROT_NONE) VMA is not an RWP "
			"access; "
			"arming untouched",
			"rwp-series.md §4.6, §3.11 (v6 vma_is_accessible gate in "
			"gup_can_follow_protnone)",
		},
	[EXC_ASYNC_PMD] =
		{
			"false access",
			"async resolution of an armed anon PMD rewrites the whole PMD: all 512 "
			"pages become "
			"accessed at once",
			"rwp-series.md §2.4 (\"the 2 MiB becomes accessed at once\"), §3.3",
		},
	[EXC_FILE_THP] =
		{
			"false access",
			"arming a file (shmem) PMD splits it, which zaps it; the next fault may map the "
			"cached PMD-order folio whole again, unarmed, so its pages read back as accessed "
			"(the documented file-THP limitation)",
			"rwp-series.md §2.4, §7.4 (15/15: \"file THP arming splits (zaps) the PMD\")",
		},
};

bool exception_force_prot_none(const struct mm_event *ev, const struct vm_area_struct *vma)
{
	return ev->kind == EV_ACCESS && ev->who == ACCESS_GUP && (ev->foll_flags & FOLL_FORCE) &&
	       vma && !(vma->vm_flags & VM_ACCESS_FLAGS);
}
