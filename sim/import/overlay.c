/* sim/import/overlay.c - --overlay rwp: the imported program becomes the
 * working-set loop of an RWP user (docs/import.md).
 *
 * Each process gets one userfaultfd context with RWP|RWP_ASYNC the first
 * time one of its regions is mapped, and every region is registered with
 * MODE_RWP right after the step that maps it (a fork child, whose context
 * is not inherited without EVENT_FORK, gets a context of its own and
 * registers what it inherited; a moved region is registered again). Every
 * interval (--interval accesses, or steps without a lackey capture) each
 * registered region that was touched is re-armed (UFFDIO_RWPROTECT) and its
 * accessed set read back with PAGEMAP_SCAN; every --long-every intervals
 * khugepaged runs over each process and reclaim over the touched regions.
 */
#include "import/import_internal.h"

#include <inttypes.h>

static void ov_ctx(struct imp_conv *c, struct cproc *p)
{
	if (p->ov_uffd)
		return;
	p->ov_uffd = g_strdup_printf("rwp_%s", p->name);
	conv_line(c, "uffd open %s proc=%s", p->ov_uffd, p->name);
	conv_line(c, "uffd api %s features=RWP|RWP_ASYNC", p->ov_uffd);
}

void ov_region_added(struct imp_conv *c, struct creg *r)
{
	if (!c->o.overlay_rwp)
		return;
	struct cproc *p = r->p;
	ov_ctx(c, p);
	for (guint i = 0; i < p->segs->len; i++) {
		const struct seg *s = &g_array_index(p->segs, struct seg, i);
		if (s->r != r)
			continue;
		conv_line(c, "uffd register %s %s pages=%" PRIu64 "-%" PRIu64 " mode=RWP",
			  p->ov_uffd, r->name, (s->start - r->base) >> 12,
			  ((s->end - r->base) >> 12) - 1);
	}
	r->ov_registered = true;
}

/* fn(c, p, r, first, last) for every live segment of a touched, registered
 * region. */
static void each_armed(struct imp_conv *c, const char *fmt)
{
	for (guint i = 0; i < c->procs->len; i++) {
		struct cproc *p = g_ptr_array_index(c->procs, i);
		if (!p->ov_uffd)
			continue;
		for (guint j = 0; j < p->segs->len; j++) {
			const struct seg *s = &g_array_index(p->segs, struct seg, j);
			struct creg *r = s->r;
			if (!r->touched || !r->ov_registered)
				continue;
			uint64_t first = (s->start - r->base) >> 12,
				 last = ((s->end - r->base) >> 12) - 1;
			if (fmt[0] == 'u')
				conv_line(c,
					  "uffd rwprotect %s %s pages=%" PRIu64 "-%" PRIu64
					  " mode=RWP",
					  p->ov_uffd, r->name, first, last);
			else if (fmt[0] == 'p')
				conv_line(c,
					  "pagemap-scan %s pages=%" PRIu64 "-%" PRIu64
					  " category=ACCESSED return=ACCESSED",
					  r->name, first, last);
			else
				conv_line(c, "reclaim %s pages=%" PRIu64 "-%" PRIu64, r->name,
					  first, last);
		}
	}
}

void ov_interval(struct imp_conv *c)
{
	if (!c->o.overlay_rwp)
		return;
	c->intervals++;
	/* read back what the last interval touched, then re-arm */
	if (c->intervals > 1)
		each_armed(c, "pagemap-scan");
	if (c->intervals % c->o.long_every == 0) {
		for (guint i = 0; i < c->procs->len; i++) {
			struct cproc *p = g_ptr_array_index(c->procs, i);
			if (p->ov_uffd && p->segs->len)
				conv_line(c, "khugepaged pass %s", p->name);
		}
		each_armed(c, "reclaim");
	}
	each_armed(c, "uffd rwprotect");
}
