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
	[EXC_UNARMED_PMD] =
		{
			"false access",
			"a fault may map a PMD-order folio whole, unarmed: an anon THP fault "
			"(do_huge_pmd_anonymous_page) or a shmem fault on a cached PMD-order folio "
			"(finish_fault -> do_set_pmd); neither checks for userfaultfd RWP. Pages "
			"the last arm did not arm (none then, or a file PMD the arm split and zapped) "
			"then read back as accessed without an access: allowed, since ACCESSED means "
			"\"accessed since the last RWPROTECT, or never armed\". Pages armed and "
			"dropped later by a path get no such leave (that is K2). docs/findings.md F2",
			"rwp-series.md §3.10, §2.4, §7.4 (15/15: \"file THP arming splits (zaps) the "
			"PMD\"); mm/huge_memory.c do_huge_pmd_anonymous_page, mm/memory.c "
			"finish_fault, do_set_pmd",
		},
	[EXC_WP_LEFTOVER] =
		{
			"stray uffd",
			"without the RWP series (kernel 6.18) a re-register of a WP VMA with "
			"modes that do not include WP replaces the modes and leaves the uffd-wp "
			"bits and markers in place; so does the unregister that follows, which "
			"resolves only while VM_UFFD_WP is set. A leftover reads as not "
			"write-protected (userfaultfd_pte_wp() needs VM_UFFD_WP, "
			"pte_marker_handle_uffd_wp() treats a marker as none). The series "
			"refuses the drop with EBUSY, so there it stays a violation",
			"fs/userfaultfd.c userfaultfd_register_range(), userfaultfd_clear_vma(); "
			"mm/memory.c pte_marker_handle_uffd_wp(); tools/conformance (host: "
			"markers stay after MINOR over WP)",
		},
};

bool exception_force_prot_none(const struct mm_event *ev, const struct vm_area_struct *vma)
{
	return ev->kind == EV_ACCESS && ev->who == ACCESS_GUP && (ev->foll_flags & FOLL_FORCE) &&
	       vma && !(vma->vm_flags & VM_ACCESS_FLAGS);
}
