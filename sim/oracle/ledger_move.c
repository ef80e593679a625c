/* sim/oracle/ledger_move.c - what UFFDIO_MOVE and ftruncate do to the
 * ledgers and the data shadow.
 *
 * UFFDIO_MOVE (rwp-series.md §2.7): a moved page lands armed in an RWP
 * destination, whatever it was at the source; in a WP destination it lands
 * unprotected (the kernel rebuilds the entry writable). The source becomes a
 * hole: an armed or protected source page is no longer armed or protected.
 * The private data moves with the page.
 *
 * ftruncate: the pages of every mapping of the file beyond the new size may
 * go (a documented drop), and their data with them.
 */
#include "oracle_internal.h"

#include "linux/mm.h"

bool ledger_uffd_move(struct oracle *o, const struct mm_event *ev, struct mm_struct *mm)
{
	for (uint64_t off = 0; mm && off < ev->len; off += PAGE_SIZE) {
		struct lpage *sp = ledger_page(o, ev->mm_id, ev->new_address + off, false);
		struct lpage *dp = ledger_page(o, ev->mm_id, ev->address + off, false);
		struct pview pv = oracle_view(mm, ev->address + off);

		if (sp && sp->rwp && sp->rwp_state == L_ARMED)
			sp->rwp_state = L_DROPPED;
		if (sp) {
			sp->rwp_delivered = false;
			sp->wp_state = W_UNPROT;
			sp->wp_delivered = false;
		}
		if (!dp || !pv_populated(&pv))
			continue; /* a source hole (ALLOW_SRC_HOLES) */
		if (dp->rwp) {
			dp->rwp_state = L_ARMED;
			dp->rwp_delivered = false;
		}
		if (dp->wp) {
			dp->wp_state = W_UNPROT;
			dp->wp_delivered = false;
		}
	}
	return true;
}

/* The step is "ftruncate" of the file vma maps, and addr is beyond the new
 * size. */
bool ftruncate_drops(struct oracle *o, const struct step *s, const struct vm_area_struct *vma,
		     uint64_t addr)
{
	struct address_space *file = s->cmd == CMD_FTRUNCATE ? step_file(o, s) : NULL;

	return file && vma && vma->vm_file == file &&
	       linear_page_index(vma, addr) >= step_u64(s, "size", 0) / PAGE_SIZE;
}
