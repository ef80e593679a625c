/* model/uffd.c - userfaultfd context object and message queue (no policy). */
#include "uffd.h"

static uint32_t next_ctx_id = 1;

void userfaultfd_ctx_ids_reset(void) { next_ctx_id = 1; }

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

bool uffd_msg_drop_pagefault(struct userfaultfd_ctx *ctx, uint64_t address)
{
	for (guint i = 0; i < ctx->msgs->len; i++) {
		struct uffd_msg *m = &g_array_index(ctx->msgs, struct uffd_msg, i);
		if (m->event == UFFD_EVENT_PAGEFAULT && m->address == address) {
			g_array_remove_index(ctx->msgs, i);
			return true;
		}
	}
	return false;
}
