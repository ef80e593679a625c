/* sim/engine/exec.c - operations: declarations, syscalls, ioctls, accesses,
 * kernel daemons. Results are RESULT_* (0, an errno, or an outcome).
 */
#include "engine.h"

#include "linux/pagemap_uapi.h"
#include "mm/internal.h"
#include "patch.h"

static int errno_result(long ret) { return ret < 0 ? (int)-ret : RESULT_OK; }

static void emit_uffd(struct userfaultfd_ctx *ctx, enum mm_event_kind kind, uint64_t start,
		      uint64_t len, uint64_t mode, uint64_t value)
{
	mm_event_emit((struct mm_event){ .kind = kind,
					 .mm_id = ctx->mm->id,
					 .address = start,
					 .len = len,
					 .mode = mode,
					 .ctx_id = ctx->id,
					 .value = value });
}

static int exec_declare(struct engine *e, const struct step *s)
{
	struct world *w = &e->world;
	switch (s->cmd) {
	case CMD_PROCESS: {
		struct mm_struct *mm = mm_alloc(s->pos[0]);
		g_ptr_array_add(w->mms, mm);
		g_hash_table_insert(w->proc_by_name, mm->name, mm);
		return RESULT_OK;
	}
	case CMD_FILE: {
		uint64_t size = step_u64(s, "size", 0);
		if (!size || (size & ~PAGE_MASK) || size > (1ULL << 36)) {
			engine_bad_input(e, s,
					 "file size must be a non-zero multiple of 4K up to 64G");
			return RESULT_OK;
		}
		uint64_t huge = step_u64(s, "huge", 0);
		struct address_space *f =
			shmem_file_alloc(s->pos[0], size >> PAGE_SHIFT, huge == 1);
		f->huge_never = huge == 2;
		g_ptr_array_add(w->files, f);
		g_hash_table_insert(w->file_by_name, f->name, f);
		return RESULT_OK;
	}
	case CMD_THP:
		thp_settings.enabled = (int)step_u64(s, "enabled", 1);
		thp_settings.mthp_order = (unsigned)step_u64(s, "mthp", 0);
		if (thp_settings.mthp_order == 1 || thp_settings.mthp_order >= HPAGE_PMD_ORDER)
			engine_bad_input(e, s, "mthp order must be 0 or 2..8");
		return RESULT_OK;
	case CMD_HUNK: {
		g_autofree char *spec =
			g_strdup_printf("%s=%s", s->pos[0], step_u64(s, "state", 0) ? "on" : "off");
		if (!patch_set_hunk(spec))
			engine_bad_input(e, s, "unknown hunk '%s'", s->pos[0]);
		return RESULT_OK;
	}
	case CMD_UFFD_OPEN: {
		const struct arg_value *p = step_arg(s, "proc");
		struct mm_struct *mm = g_hash_table_lookup(w->proc_by_name, p->name);
		struct userfaultfd_ctx *ctx = sys_userfaultfd(mm);
		g_ptr_array_add(w->uffds, ctx);
		g_hash_table_insert(w->uffd_by_name, (gpointer)s->pos[0], ctx);
		return RESULT_OK;
	}
	default:
		return RESULT_OK;
	}
}

static int exec_mmap(struct engine *e, const struct step *s)
{
	struct world *w = &e->world;
	struct mm_struct *mm = g_hash_table_lookup(w->proc_by_name, step_arg(s, "proc")->name);
	const struct arg_value *fa = step_arg(s, "file");
	struct address_space *file =
		fa->present ? g_hash_table_lookup(w->file_by_name, fa->name) : NULL;
	uint64_t len = step_u64(s, "len", 0), off = step_u64(s, "offset", 0);
	unsigned flags = step_u64(s, "map", 0) ? MAP_SHARED : MAP_PRIVATE;

	if (off & ~PAGE_MASK) {
		engine_bad_input(e, s, "offset must be page aligned");
		return RESULT_OK;
	}
	if (step_has(s, "at"))
		flags |= MAP_FIXED;
	int64_t addr = sys_mmap(mm, step_u64(s, "at", 0), len, (unsigned)step_u64(s, "prot", 0),
				flags, file, off >> PAGE_SHIFT, step_u64(s, "align", 0));
	if (addr < 0)
		return (int)-addr;
	struct region *r = g_new0(struct region, 1);
	r->name = g_strdup(s->pos[0]);
	r->mm = mm;
	r->start = (uint64_t)addr;
	r->len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	r->file = file;
	r->file_pgoff = off >> PAGE_SHIFT;
	r->shared = flags & MAP_SHARED;
	g_ptr_array_add(w->regions, r);
	g_hash_table_insert(w->region_by_name, r->name, r);
	return RESULT_OK;
}

/* fork C parent=P: the child's mm, a region C.R at the same place for every
 * region R of P, and C.U for every uffd U of P that got a child context
 * (UFFD_FEATURE_EVENT_FORK); other C.U names are recorded as gone. */
static int exec_fork(struct engine *e, const struct step *s)
{
	struct world *w = &e->world;
	struct mm_struct *parent =
		g_hash_table_lookup(w->proc_by_name, step_arg(s, "parent")->name);
	g_autoptr(GArray) fcs = g_array_new(FALSE, FALSE, sizeof(struct userfaultfd_fork_ctx));
	struct mm_struct *mm = sys_fork(parent, s->pos[0], fcs);

	for (guint i = 0; i < fcs->len; i++)
		g_ptr_array_add(w->uffds, g_array_index(fcs, struct userfaultfd_fork_ctx, i).new);
	if (!mm)
		return ENOMEM;
	g_ptr_array_add(w->mms, mm);
	g_hash_table_insert(w->proc_by_name, mm->name, mm);

	for (guint i = 0, n = w->regions->len; i < n; i++) {
		struct region *pr = g_ptr_array_index(w->regions, i);
		if (pr->mm != parent)
			continue;
		struct region *r = g_new0(struct region, 1);
		*r = *pr;
		r->name = g_strconcat(s->pos[0], ".", pr->name, NULL);
		r->mm = mm;
		g_ptr_array_add(w->regions, r);
		g_hash_table_insert(w->region_by_name, r->name, r);
	}

	GHashTableIter it;
	gpointer k, v;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_hash_table_iter_init(&it, w->uffd_by_name);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (((struct userfaultfd_ctx *)v)->mm == parent)
			g_ptr_array_add(names, k);
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		struct userfaultfd_ctx *octx = g_hash_table_lookup(w->uffd_by_name, name),
				       *ctx = NULL;
		g_autofree char *cname = g_strconcat(s->pos[0], ".", name, NULL);

		for (guint j = 0; j < fcs->len; j++)
			if (g_array_index(fcs, struct userfaultfd_fork_ctx, j).orig == octx)
				ctx = g_array_index(fcs, struct userfaultfd_fork_ctx, j).new;
		if (ctx) {
			/* Interned: the table does not own its keys. */
			g_hash_table_insert(w->uffd_by_name, (gpointer)g_intern_string(cname), ctx);
			continue;
		}
		const char *why = !(octx->features & UFFD_FEATURE_EVENT_FORK)
					  ? "the parent's context lacked EVENT_FORK"
				  : octx->released
					  ? "the parent's context was closed"
					  : "the parent's context had no registered VMA at fork";
		g_hash_table_insert(w->uffd_gone, g_steal_pointer(&cname), (gpointer)why);
	}
	return RESULT_OK;
}

/* User loads and stores, one per page; resumable after a sync userfault. */
static int exec_access(struct engine *e, const struct step *s, struct region *r,
		       struct pending_task *resume)
{
	g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	if (!engine_pages(e, s, r, pages))
		return RESULT_OK;
	bool write = s->cmd == CMD_WRITE;
	uint64_t value = step_u64(s, "value", 0);

	for (guint i = resume ? (guint)resume->next_page : 0; i < pages->len; i++) {
		uint64_t addr = region_page_addr(r, g_array_index(pages, uint64_t, i));
		int res = user_access(r->mm, addr, write, value, NULL);
		if (res == RESULT_BLOCKED) {
			resume->next_page = i;
			g_ptr_array_add(e->tasks, resume);
			return res;
		}
		if (res != RESULT_OK)
			return res;
	}
	return RESULT_OK;
}

static int exec_gup(struct engine *e, const struct step *s, struct region *r,
		    struct pending_task *resume)
{
	g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	if (!engine_pages(e, s, r, pages))
		return RESULT_OK;
	unsigned caller = (unsigned)step_u64(s, "caller", 0);
	const struct arg_value *fl = step_arg(s, "flags");
	if ((caller == nr_gup_presets - 1) != fl->present) {
		engine_bad_input(e, s, "flags= is given exactly when caller=explicit");
		return RESULT_OK;
	}
	struct mm_struct *mm = r->mm;
	const struct arg_value *p = step_arg(s, "proc");
	if (p->present)
		mm = g_hash_table_lookup(e->world.proc_by_name, p->name);
	if (mm != r->mm) {
		engine_bad_input(e, s, "GUP on another process's region: give its own proc");
		return RESULT_OK;
	}
	/* hold=1: the pages stay pinned (or referenced) after the step. */
	g_autoptr(GArray) held = step_u64(s, "hold", 0)
					 ? g_array_new(FALSE, FALSE, sizeof(struct gup_held_page))
					 : NULL;
	for (guint i = resume ? (guint)resume->next_page : 0; i < pages->len;) {
		/* One call per contiguous run of pages. */
		guint j = i + 1;
		while (j < pages->len && g_array_index(pages, uint64_t, j) ==
						 g_array_index(pages, uint64_t, j - 1) + 1)
			j++;
		uint64_t done = 0;
		long ret =
			gup_caller_run_hold(mm, caller, fl->present ? (unsigned)fl->u : 0,
					    region_page_addr(r, g_array_index(pages, uint64_t, i)),
					    j - i, step_u64(s, "value", 0), &done, held);
		engine_hold_pages(e, r, held);
		if (ret == -EBUSY && current->sleeping) {
			resume->next_page = i + done;
			g_ptr_array_add(e->tasks, resume);
			return RESULT_BLOCKED;
		}
		if (ret == -ELOOP)
			return RESULT_LIVELOCK;
		if (ret < 0)
			return (int)-ret;
		i = j;
	}
	return RESULT_OK;
}

static int exec_madvise(struct engine *e, const struct step *s, struct region *r,
			struct pending_task *resume)
{
	uint64_t start, len;
	if (!engine_span(e, s, r, &start, &len))
		return RESULT_OK;
	/* A woken MADV_POPULATE_* goes on at the page it slept on, as
	 * __get_user_pages_locked() repeats the address that fired
	 * VM_FAULT_RETRY: the pages before it are not faulted again. */
	uint64_t skip = resume ? resume->next_page * PAGE_SIZE : 0;
	if (skip >= len)
		skip = 0;
	long ret = sys_madvise(r->mm, start + skip, len - skip, (int)step_u64(s, "advice", 0));
	if (ret == -EBUSY && current->sleeping) {
		uint64_t at = current->wait_address & PAGE_MASK;
		resume->next_page = at >= start && at < start + len ? (at - start) / PAGE_SIZE : 0;
		g_ptr_array_add(e->tasks, resume);
		return RESULT_BLOCKED;
	}
	return errno_result(ret);
}

static int exec_uffd(struct engine *e, const struct step *s, struct region *r)
{
	struct userfaultfd_ctx *ctx = engine_uffd(e, s, s->pos[0]);
	uint64_t start = 0, len = 0, mode = step_u64(s, "mode", 0);
	if (!ctx || (r && !engine_span(e, s, r, &start, &len)))
		return RESULT_OK;
	if (r && r->mm != ctx->mm) {
		engine_bad_input(e, s, "region '%s' is not in the userfaultfd's process", r->name);
		return RESULT_OK;
	}
	long ret = 0;
	uint64_t out = 0;
	switch (s->cmd) {
	case CMD_UFFD_API:
		out = step_u64(s, "features", 0);
		ret = userfaultfd_api(ctx, &out, &len);
		break;
	case CMD_UFFD_REGISTER:
		ret = userfaultfd_register(ctx, start, len, mode, &out);
		if (!ret)
			emit_uffd(ctx, EV_UFFD_REGISTER, start, len, mode, 0);
		break;
	case CMD_UFFD_UNREGISTER:
		ret = userfaultfd_unregister(ctx, start, len);
		if (!ret)
			emit_uffd(ctx, EV_UFFD_UNREGISTER, start, len, 0, 0);
		break;
	case CMD_UFFD_WRITEPROTECT:
		/* mwriteprotect_range() reports EV_UFFD_WP/UNWP per VMA it changed. */
		ret = userfaultfd_writeprotect(ctx, start, len, mode);
		break;
	case CMD_UFFD_RWPROTECT:
		ret = userfaultfd_rwprotect(ctx, start, len, mode);
		if (!ret)
			emit_uffd(ctx,
				  mode & UFFDIO_RWPROTECT_MODE_RWP ? EV_UFFD_ARM : EV_UFFD_RESOLVE,
				  start, len, mode, 0);
		break;
	case CMD_UFFD_SET_MODE:
		ret = userfaultfd_set_mode(ctx, step_u64(s, "enable", 0),
					   step_u64(s, "disable", 0));
		break;
	/* The fills report EV_UFFD_FILL for what they filled themselves. */
	case CMD_UFFD_COPY:
		ret = userfaultfd_copy(ctx, start, len, step_u64(s, "value", 0), mode);
		break;
	case CMD_UFFD_ZEROPAGE:
		ret = userfaultfd_zeropage(ctx, start, len, mode);
		break;
	case CMD_UFFD_CONTINUE:
		ret = userfaultfd_continue(ctx, start, len, mode);
		break;
	case CMD_UFFD_WAKE:
		ret = userfaultfd_wake(ctx, start, len);
		break;
	case CMD_UFFD_CLOSE:
		userfaultfd_release(ctx);
		emit_uffd(ctx, EV_UFFD_CLOSE, 0, 0, 0, 0);
		break;
	default:
		break;
	}
	return errno_result(ret);
}

int engine_exec_op(struct engine *e, const struct step *s, struct pending_task *resume)
{
	struct pending_task *task = resume;
	if (!task) {
		task = g_new0(struct pending_task, 1);
		task->task.id = e->next_task_id++;
		task->step = s;
	}
	struct task *saved = current;
	current = &task->task;
	current->sleeping = false;
	current->woken = false;

	struct region *r = NULL;
	if (cmd_descs[s->cmd].positional[0] == NAME_REGION && !cmd_descs[s->cmd].declares)
		r = engine_region(e, s, s->pos[0]);
	else if (cmd_descs[s->cmd].positional[1] == NAME_REGION)
		r = engine_region(e, s, s->pos[1]);

	int res = RESULT_OK;
	if (e->verdict != VERDICT_PASS)
		goto out;
	switch (s->cmd) {
	case CMD_PROCESS:
	case CMD_FILE:
	case CMD_THP:
	case CMD_HUNK:
	case CMD_UFFD_OPEN:
		res = exec_declare(e, s);
		break;
	case CMD_MMAP:
		res = exec_mmap(e, s);
		break;
	case CMD_FORK:
		res = exec_fork(e, s);
		break;
	case CMD_MREMAP:
		res = engine_exec_mremap(e, s);
		break;
	case CMD_MUNMAP: {
		uint64_t start, len;
		if (engine_span(e, s, r, &start, &len))
			res = errno_result(sys_munmap(r->mm, start, len));
		break;
	}
	case CMD_MPROTECT: {
		uint64_t start, len;
		if (engine_span(e, s, r, &start, &len))
			res = errno_result(
				sys_mprotect(r->mm, start, len, (unsigned)step_u64(s, "prot", 0)));
		break;
	}
	case CMD_MADVISE:
		res = exec_madvise(e, s, r, task);
		break;
	case CMD_FALLOCATE: {
		struct address_space *f = g_hash_table_lookup(e->world.file_by_name, s->pos[0]);
		const struct arg_value *a = step_arg(s, "pages");
		for (guint i = 0; i < a->spans->len; i++) {
			struct page_span sp = g_array_index(a->spans, struct page_span, i);
			if (sp.last >= f->nr_pages) {
				engine_bad_input(e, s,
						 "page %" G_GUINT64_FORMAT " is beyond file '%s'",
						 sp.last, f->name);
				break;
			}
			shmem_fallocate_punch(f, sp.first, sp.last - sp.first + 1);
		}
		break;
	}
	case CMD_READ:
	case CMD_WRITE:
		res = exec_access(e, s, r, task);
		break;
	case CMD_UFFD_API:
	case CMD_UFFD_REGISTER:
	case CMD_UFFD_UNREGISTER:
	case CMD_UFFD_WRITEPROTECT:
	case CMD_UFFD_RWPROTECT:
	case CMD_UFFD_SET_MODE:
	case CMD_UFFD_COPY:
	case CMD_UFFD_ZEROPAGE:
	case CMD_UFFD_CONTINUE:
	case CMD_UFFD_WAKE:
	case CMD_UFFD_CLOSE:
		res = exec_uffd(e, s, r);
		break;
	case CMD_KHUGEPAGED_PASS: {
		struct mm_struct *mm = g_hash_table_lookup(e->world.proc_by_name, s->pos[0]);
		khugepaged_scan_mm(mm);
		break;
	}
	case CMD_KHUGEPAGED_SCAN: {
		uint64_t page = step_u64(s, "page", 0);
		if (page >= r->len >> PAGE_SHIFT) {
			engine_bad_input(e, s, "page %" G_GUINT64_FORMAT " is outside region '%s'",
					 page, r->name);
			break;
		}
		khugepaged_scan_address(r->mm, region_page_addr(r, page));
		break;
	}
	case CMD_RECLAIM: {
		uint64_t start, len;
		if (engine_span(e, s, r, &start, &len))
			reclaim_range(r->mm, start, start + len);
		break;
	}
	case CMD_GUP:
		res = exec_gup(e, s, r, task);
		break;
	case CMD_UNPIN:
		res = engine_exec_unpin(e, s, r);
		break;
	case CMD_PAGEMAP: {
		g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		if (!engine_pages(e, s, r, pages))
			break;
		for (guint i = 0; e->verbose && i < pages->len; i++) {
			uint64_t p = g_array_index(pages, uint64_t, i);
			g_string_append_printf(
				e->out,
				"      %s[%" G_GUINT64_FORMAT "] = 0x%016" G_GINT64_MODIFIER "x\n",
				r->name, p, pagemap_read_word(r->mm, region_page_addr(r, p)));
		}
		break;
	}
	case CMD_MIGRATE:
	case CMD_NUMA_SCAN:
		res = engine_exec_migrate(e, s, r);
		break;
	case CMD_UFFD_MOVE:
	case CMD_SWAPOFF:
	case CMD_FTRUNCATE:
		res = engine_exec_move(e, s, r);
		break;
	case CMD_SHRINK_DEFERRED:
		deferred_split_scan();
		break;
	case CMD_DEVICE_EXCLUSIVE:
		res = engine_exec_device(e, s, r);
		break;
	case CMD_PAGEMAP_SCAN: {
		uint64_t start, len;
		if (!engine_span(e, s, r, &start, &len))
			break;
		g_array_set_size(e->last_scan, 0);
		const struct pm_scan_arg arg = {
			.start = start,
			.end = start + len,
			.flags = step_u64(s, "flags", 0),
			.category_mask = step_u64(s, "category", 0),
			.category_inverted = step_u64(s, "inverted", 0),
			.category_anyof_mask = step_u64(s, "anyof", 0),
			.return_mask = step_u64(s, "return", 0),
			.max_pages = step_u64(s, "max-pages", 0),
		};
		long n = do_pagemap_scan(r->mm, &arg, e->last_scan);
		res = errno_result(n < 0 ? n : 0);
		break;
	}
	default:
		break;
	}
out:
	current = saved;
	if (!resume && res != RESULT_BLOCKED)
		g_free(task);
	return res;
}
