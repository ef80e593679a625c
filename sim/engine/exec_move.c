/* sim/engine/exec_move.c - the "uffd move", "swapoff" and "ftruncate" steps.
 *
 * uffd move U DST src=SRC [pages=...] moves the pages of region SRC to the
 * same page numbers of region DST (both must be in U's process); the pages
 * must form one contiguous range. userfaultfd_move() reports EV_UFFD_MOVE.
 */
#include "engine.h"

#include "mm/internal.h"

static int errno_of(long ret) { return ret < 0 ? (int)-ret : RESULT_OK; }

static int exec_uffd_move(struct engine *e, const struct step *s, struct region *dst)
{
	struct userfaultfd_ctx *ctx = engine_uffd(e, s, s->pos[0]);
	struct region *src = engine_region(e, s, step_arg(s, "src")->name);
	uint64_t start, len;

	if (!ctx || !dst || !src || !engine_span(e, s, dst, &start, &len) ||
	    !engine_span(e, s, src, &start, &len))
		return RESULT_OK;
	if (dst->mm != ctx->mm || src->mm != ctx->mm) {
		engine_bad_input(e, s, "regions must be in the userfaultfd's process");
		return RESULT_OK;
	}
	uint64_t off = start - src->start;
	return errno_of(userfaultfd_move(ctx, dst->start + off, src->start + off, len,
					 step_u64(s, "mode", 0)));
}

static int exec_ftruncate(struct engine *e, const struct step *s)
{
	struct address_space *f = g_hash_table_lookup(e->world.file_by_name, s->pos[0]);
	uint64_t size = step_u64(s, "size", 0);

	if ((size & ~PAGE_MASK) || size > (1ULL << 36)) {
		engine_bad_input(e, s, "ftruncate size must be a multiple of 4K up to 64G");
		return RESULT_OK;
	}
	return errno_of(shmem_setattr_size(f, size >> PAGE_SHIFT));
}

int engine_exec_move(struct engine *e, const struct step *s, struct region *r)
{
	switch (s->cmd) {
	case CMD_UFFD_MOVE:
		return exec_uffd_move(e, s, r);
	case CMD_SWAPOFF:
		return errno_of(sys_swapoff(e->world.mms, e->world.files));
	case CMD_FTRUNCATE:
		return exec_ftruncate(e, s);
	default:
		return RESULT_OK;
	}
}
