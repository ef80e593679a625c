/* sim/engine/exec_device.c - the "device-exclusive R [pages=...]" step.
 *
 * What lib/test_hmm.c's HMM_DMIRROR_EXCLUSIVE ioctl (dmirror_exclusive())
 * does for a range: page by page, make_device_exclusive() (mm/rmap.c), which
 * faults the page in writable through GUP and replaces its PTE by a
 * device-exclusive entry; the driver maps the page for the device, then
 * unlocks the folio and drops GUP's reference. The first error ends the
 * step (the pages before it stay exclusive).
 *
 * The device's atomic accesses to a page it holds exclusively are logged as
 * one write access by the device (a GUP access for the oracle) right after
 * the conversion: they happen through the device's own mapping, with no CPU
 * page table involved, and are over before anything else may touch the
 * range, since any change to it (a CPU access, UFFDIO_RWPROTECT, munmap,
 * ...) invalidates the device mapping through the MMU notifier. The device
 * writes back what the page holds, so the data does not change.
 */
#include "engine.h"

#include "linux/mm.h"
#include "mm/internal.h"

int engine_exec_device(struct engine *e, const struct step *s, struct region *r)
{
	g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	if (!engine_pages(e, s, r, pages))
		return RESULT_OK;
	for (guint i = 0; i < pages->len; i++) {
		uint64_t addr = region_page_addr(r, g_array_index(pages, uint64_t, i));
		struct folio *folio = NULL;
		struct page *page = NULL;
		long ret = make_device_exclusive(r->mm, addr, &page, &folio);

		if (ret == -ELOOP)
			return RESULT_LIVELOCK;
		if (ret < 0)
			return (int)-ret;
		/* dmirror_atomic_map(): the device maps the page and uses it. */
		mm_event_emit((struct mm_event){ .kind = EV_ACCESS,
						 .mm_id = r->mm->id,
						 .address = addr,
						 .write = true,
						 .who = ACCESS_GUP,
						 .foll_flags = FOLL_GET | FOLL_WRITE |
							       FOLL_SPLIT_PMD | FOLL_TOUCH |
							       FOLL_REMOTE,
						 .value = page->content });
		folio_clear_flag(folio, FOLIO_locked); /* folio_unlock() */
		folio_put(folio);
	}
	return RESULT_OK;
}
