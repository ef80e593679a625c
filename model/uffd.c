/* model/uffd.c - userfaultfd context object and message queue (no policy). */
#include "uffd.h"

static uint32_t next_ctx_id = 1;

struct userfaultfd_ctx *userfaultfd_ctx_alloc(struct mm_struct *mm)
{
	struct userfaultfd_ctx *ctx = g_new0(struct userfaultfd_ctx, 1);
	ctx->id = next_ctx_id++;
	ctx->mm = mm;
	ctx->msgs = g_array_new(FALSE, TRUE, sizeof(struct uffd_msg));
	ctx->waiters = g_array_new(FALSE, TRUE, sizeof(struct uffd_waiter));
	return ctx;
}

void userfaultfd_ctx_free(struct userfaultfd_ctx *ctx)
{
	g_array_free(ctx->msgs, TRUE);
	g_array_free(ctx->waiters, TRUE);
	g_free(ctx);
}

void uffd_msg_push(struct userfaultfd_ctx *ctx, struct uffd_msg msg)
{
	g_array_append_val(ctx->msgs, msg);
}

bool uffd_msg_pop(struct userfaultfd_ctx *ctx, struct uffd_msg *out)
{
	if (!ctx->msgs->len)
		return false;
	*out = g_array_index(ctx->msgs, struct uffd_msg, 0);
	g_array_remove_index(ctx->msgs, 0);
	return true;
}
