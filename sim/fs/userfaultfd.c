/* sim/fs/userfaultfd.c - the userfaultfd file: fault delivery and the ioctls
 * (fs/userfaultfd.c), with the RWP series: MODE_RWP registration and
 * UFFDIO_RWPROTECT (09/15), RWP fault messages and must_wait (10/15),
 * RWP_ASYNC (12/15) and UFFDIO_SET_MODE (13/15).
 *
 * An ioctl's user structure is passed as arguments; copy_from_user and
 * mmget_not_zero cannot fail in the model (no -EFAULT, no -ESRCH).
 */
#include "mm/internal.h"
#include "patch.h"
#include "sched.h"

#define UFFDIO_CONTINUE_MODE_DONTWAKE (1ULL << 0)
#define UFFDIO_CONTINUE_MODE_WP (1ULL << 1)

/* UFFD_API_REGISTER_MODES with RWP (10/15) */
#define UFFD_API_REGISTER_MODES                                                                \
	(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR | \
	 UFFDIO_REGISTER_MODE_RWP)
/* UFFD_API_IOCTLS with _UFFDIO_SET_MODE (13/15) */
#define UFFD_API_IOCTLS                                                                           \
	((1ULL << _UFFDIO_REGISTER) | (1ULL << _UFFDIO_UNREGISTER) | (1ULL << _UFFDIO_SET_MODE) | \
	 (1ULL << _UFFDIO_API))
/* The range ioctls the model implements: WAKE, COPY, ZEROPAGE, WRITEPROTECT,
 * CONTINUE and RWPROTECT (MOVE and POISON are not modelled). */
#define UFFD_API_RANGE_IOCTLS                                                           \
	((1ULL << _UFFDIO_WAKE) | (1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_ZEROPAGE) | \
	 (1ULL << _UFFDIO_WRITEPROTECT) | (1ULL << _UFFDIO_CONTINUE) |                  \
	 (1ULL << _UFFDIO_RWPROTECT))
/* Features UFFDIO_SET_MODE may toggle (13/15). */
#define UFFD_FEATURE_TOGGLEABLE UFFD_FEATURE_RWP_ASYNC
/* mmap_min_addr default */
#define MMAP_MIN_ADDR 0x10000ULL

/* models userfault_msg() */
static struct uffd_msg userfault_msg(uint64_t address, unsigned flags, vm_flags_t reason)
{
	struct uffd_msg msg = { .event = UFFD_EVENT_PAGEFAULT };

	/* Without UFFD_FEATURE_EXACT_ADDRESS the address is page aligned. */
	msg.address = address & PAGE_MASK;
	if (flags & FAULT_FLAG_WRITE)
		msg.flags |= UFFD_PAGEFAULT_FLAG_WRITE;
	if (reason & VM_UFFD_WP)
		msg.flags |= UFFD_PAGEFAULT_FLAG_WP;
	if (reason & VM_UFFD_RWP)
		msg.flags |= UFFD_PAGEFAULT_FLAG_RWP;
	if (reason & VM_UFFD_MINOR)
		msg.flags |= UFFD_PAGEFAULT_FLAG_MINOR;
	return msg;
}

/* models userfaultfd_must_wait() (with 10/15's protnone+uffd re-check) */
static bool userfaultfd_must_wait(struct userfaultfd_ctx *ctx, struct vm_fault *vmf,
				  vm_flags_t reason)
{
	struct mm_struct *mm = ctx->mm;
	pmd_t *pmd = pmd_lookup(mm->pgd, vmf->address, false, 0);

	if (!pmd || pmd_none(*pmd))
		return true;
	if (!pmd_present(*pmd))
		return false;
	if (pmd_trans_huge(*pmd)) {
		if (!pmd_write(*pmd) && (reason & VM_UFFD_WP))
			return true;
		if ((reason & VM_UFFD_RWP) && pmd_protnone(*pmd) && pmd_uffd(*pmd))
			return true;
		return false;
	}
	pte_t *ptep = pte_offset_map(pmd, vmf->address);
	if (!ptep)
		return true;
	pte_t ptent = *ptep;
	/* A marker is as good as none: the page is still missing. */
	if (pte_none(ptent) || is_pte_marker(ptent))
		return true;
	if (!pte_write(ptent) && (reason & VM_UFFD_WP))
		return true;
	if ((reason & VM_UFFD_RWP) && pte_protnone(ptent) && pte_uffd(ptent))
		return true;
	return false;
}

/* The event a delivered userfault is logged as. */
static enum mm_event_kind userfault_event_kind(vm_flags_t reason)
{
	if (reason & VM_UFFD_RWP)
		return EV_RWP_FAULT;
	if (reason & VM_UFFD_WP)
		return EV_WP_FAULT;
	if (reason & VM_UFFD_MINOR)
		return EV_MINOR_FAULT;
	return EV_MISSING_FAULT;
}

/* models handle_userfault() */
vm_fault_t handle_userfault(struct vm_fault *vmf, vm_flags_t reason)
{
	struct vm_area_struct *vma = vmf->vma;
	struct userfaultfd_ctx *ctx = vma->vm_userfaultfd_ctx;
	uint64_t address = vmf->address & PAGE_MASK;

	if (!ctx)
		return VM_FAULT_SIGBUS;
	if (ctx->features & UFFD_FEATURE_SIGBUS)
		return VM_FAULT_SIGBUS;
	/* Without ALLOW_RETRY the fault cannot drop the mmap lock to sleep. */
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		mm_event_emit((struct mm_event){ .kind = EV_SIGBUS,
						 .mm_id = vma->vm_mm->id,
						 .address = address,
						 .write = vmf->flags & FAULT_FLAG_WRITE,
						 .ctx_id = ctx->id });
		return VM_FAULT_SIGBUS;
	}
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;
	/* A closed uffd: retry rather than SIGBUS, so a manager may close
	 * after its last UFFDIO_COPY without unregistering first. */
	if (ctx->released)
		return VM_FAULT_RETRY;

	if (userfaultfd_must_wait(ctx, vmf, reason)) {
		uffd_msg_push(ctx, userfault_msg(vmf->address, vmf->flags, reason));
		mm_event_emit((struct mm_event){ .kind = userfault_event_kind(reason),
						 .mm_id = vma->vm_mm->id,
						 .address = address,
						 .write = vmf->flags & FAULT_FLAG_WRITE,
						 .async = false,
						 .ctx_id = ctx->id });
		task_sleep_on(ctx, address);
	}
	return VM_FAULT_RETRY;
}

/* models userfaultfd_reset_ctx() */
void userfaultfd_reset_ctx(struct vm_area_struct *vma)
{
	vma->vm_userfaultfd_ctx = NULL;
	userfaultfd_set_vm_flags(vma, vma->vm_flags & ~__VM_UFFD_FLAGS);
}

/* models dup_userfaultfd(): the child VMA keeps its registration only when
 * its context has UFFD_FEATURE_EVENT_FORK, and then gets a new context (one
 * per parent context) with the same features; otherwise the child VMA is
 * reset (no context, no __VM_UFFD_FLAGS) before its tables are copied. */
int dup_userfaultfd(struct vm_area_struct *vma, GArray *fcs)
{
	struct userfaultfd_ctx *octx = vma->vm_userfaultfd_ctx, *ctx = NULL;

	if (!octx)
		return 0;
	if (!(octx->features & UFFD_FEATURE_EVENT_FORK)) {
		userfaultfd_reset_ctx(vma);
		return 0;
	}
	for (guint i = 0; i < fcs->len; i++) {
		struct userfaultfd_fork_ctx *fctx =
			&g_array_index(fcs, struct userfaultfd_fork_ctx, i);
		if (fctx->orig == octx) {
			ctx = fctx->new;
			break;
		}
	}
	if (!ctx) {
		struct userfaultfd_fork_ctx fctx;

		ctx = userfaultfd_ctx_alloc(vma->vm_mm);
		ctx->features = octx->features;
		ctx->api_done = octx->api_done;
		/* UFFDIO_* on the parent's context return -EAGAIN until the
		 * fork event is delivered. */
		octx->mmap_changing++;
		fctx.orig = octx;
		fctx.new = ctx;
		g_array_append_val(fcs, fctx);
	}
	vma->vm_userfaultfd_ctx = ctx;
	return 0;
}

/* models dup_fctx(): UFFD_EVENT_FORK on the parent's context. The kernel's
 * forking task then sleeps in userfaultfd_event_wait_completion() until the
 * manager reads the message; the model queues it and completes at once. */
static void dup_fctx(struct userfaultfd_fork_ctx *fctx)
{
	struct userfaultfd_ctx *ctx = fctx->orig;
	struct uffd_msg msg = { .event = UFFD_EVENT_FORK };

	msg.fork.ufd = fctx->new->id;
	if (!ctx->released)
		uffd_msg_push(ctx, msg);
	ctx->mmap_changing--;
}

/* models dup_userfaultfd_complete() */
void dup_userfaultfd_complete(GArray *fcs)
{
	for (guint i = 0; i < fcs->len; i++)
		dup_fctx(&g_array_index(fcs, struct userfaultfd_fork_ctx, i));
}

/* models mremap_userfaultfd_prep() */
void mremap_userfaultfd_prep(struct vm_area_struct *vma, struct userfaultfd_ctx **vm_ctx)
{
	struct userfaultfd_ctx *ctx = vma->vm_userfaultfd_ctx;

	if (!ctx)
		return;
	if (ctx->features & UFFD_FEATURE_EVENT_REMAP) {
		*vm_ctx = ctx;
		/* UFFDIO_* return -EAGAIN until the event is delivered. */
		ctx->mmap_changing++;
	} else {
		/* Drop the uffd context if the remap feature is not enabled. */
		userfaultfd_reset_ctx(vma);
	}
}

/* models mremap_userfaultfd_complete(). The kernel's caller then sleeps in
 * userfaultfd_event_wait_completion() until the manager reads the message;
 * the model queues it and completes at once (mmap_changing drops now). */
void mremap_userfaultfd_complete(struct userfaultfd_ctx **vm_ctx, uint64_t from, uint64_t to,
				 uint64_t len)
{
	struct userfaultfd_ctx *ctx = *vm_ctx;

	if (!ctx)
		return;
	if (!(to & ~PAGE_MASK) && !ctx->released) {
		struct uffd_msg msg = { .event = UFFD_EVENT_REMAP };
		msg.remap.from = from;
		msg.remap.to = to;
		msg.remap.len = len;
		uffd_msg_push(ctx, msg);
	}
	ctx->mmap_changing--;
	*vm_ctx = NULL;
}

/* models userfaultfd_remove(): MADV_DONTNEED and MADV_FREE tell a context
 * with UFFD_FEATURE_EVENT_REMOVE. The kernel's caller sleeps until the
 * manager reads the message (and then looks its VMA up again); the model
 * queues it and goes on. */
void userfaultfd_remove(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	struct userfaultfd_ctx *ctx = vma->vm_userfaultfd_ctx;

	if (!ctx || !(ctx->features & UFFD_FEATURE_EVENT_REMOVE) || ctx->released)
		return;
	struct uffd_msg msg = { .event = UFFD_EVENT_REMOVE };
	msg.remove.start = start;
	msg.remove.end = end;
	uffd_msg_push(ctx, msg);
}

/* models userfaultfd_unmap_prep(): one UFFD_EVENT_UNMAP per context with
 * UFFD_FEATURE_EVENT_UNMAP, carrying the whole unmapped range (not the
 * VMA's part of it), once per context and range. */
void userfaultfd_unmap_prep(struct vm_area_struct *vma, uint64_t start, uint64_t end, GArray *uf)
{
	struct userfaultfd_ctx *ctx = vma->vm_userfaultfd_ctx;

	if (!ctx || !(ctx->features & UFFD_FEATURE_EVENT_UNMAP))
		return;
	for (guint i = 0; i < uf->len; i++) {
		struct userfaultfd_unmap_ctx *u =
			&g_array_index(uf, struct userfaultfd_unmap_ctx, i);
		if (u->ctx == ctx && u->start == start && u->end == end)
			return; /* has_unmap_ctx() */
	}
	struct userfaultfd_unmap_ctx u = { .ctx = ctx, .start = start, .end = end };
	g_array_append_val(uf, u);
}

/* models userfaultfd_unmap_complete() */
void userfaultfd_unmap_complete(GArray *uf)
{
	for (guint i = 0; i < uf->len; i++) {
		struct userfaultfd_unmap_ctx *u =
			&g_array_index(uf, struct userfaultfd_unmap_ctx, i);
		if (u->ctx->released)
			continue;
		struct uffd_msg msg = { .event = UFFD_EVENT_UNMAP };
		msg.remove.start = u->start;
		msg.remove.end = u->end;
		uffd_msg_push(u->ctx, msg);
	}
}

/* models userfaultfd_release() */
void userfaultfd_release(struct userfaultfd_ctx *ctx)
{
	ctx->released = true;
	/* Every armed entry becomes accessible again (test rwp-close). */
	userfaultfd_release_all(ctx->mm, ctx);
	/* len 0: flush every fault still waiting on this ctx. */
	userfaultfd_wake_range(ctx, 0, 0);
}

/* models validate_unaligned_range() and validate_range() */
static long validate_range(uint64_t start, uint64_t len)
{
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (len & ~PAGE_MASK)
		return -EINVAL;
	if (!len)
		return -EINVAL;
	if (start < MMAP_MIN_ADDR)
		return -EINVAL;
	if (start >= TASK_SIZE)
		return -EINVAL;
	if (len > TASK_SIZE - start)
		return -EINVAL;
	return 0;
}

/* The checks every range ioctl that changes mappings starts with: the API
 * handshake done, no non-cooperative event in flight (-EAGAIN until the
 * manager has read it), and a valid range. */
static long uffd_range_ioctl_check(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len)
{
	if (!ctx->api_done)
		return -EINVAL;
	if (ctx->mmap_changing)
		return -EAGAIN;
	return validate_range(start, len);
}

/* models vma_can_userfault() */
static bool vma_can_userfault(struct vm_area_struct *vma, vm_flags_t vm_flags, bool wp_async)
{
	vm_flags &= __VM_UFFD_FLAGS;
	if ((vm_flags & VM_UFFD_MINOR) && !vma_is_shmem(vma))
		return false;
	if (wp_async && vm_flags == VM_UFFD_WP)
		return true;
	/* anon and shmem are all the model has; both may userfault. */
	return true;
}

/* models userfaultfd_register() */
long userfaultfd_register(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, uint64_t mode,
			  uint64_t *ioctls)
{
	struct mm_struct *mm = ctx->mm;
	bool wp_async = ctx->features & UFFD_FEATURE_WP_ASYNC;
	vm_flags_t vm_flags = 0;
	long ret;

	/* userfaultfd_ioctl(): nothing but UFFDIO_API before the handshake. */
	if (!ctx->api_done)
		return -EINVAL;
	if (!mode || (mode & ~UFFD_API_REGISTER_MODES))
		return -EINVAL;
	if ((mode & UFFDIO_REGISTER_MODE_RWP) && !kernel_has_rwp())
		return -EINVAL;
	if (mode & UFFDIO_REGISTER_MODE_MISSING)
		vm_flags |= VM_UFFD_MISSING;
	/* No feature check for WP (the host accepts MODE_WP on a context
	 * without PAGEFAULT_FLAG_WP: traces/host/selftest-wp-async-init-anon). */
	if (mode & UFFDIO_REGISTER_MODE_WP)
		vm_flags |= VM_UFFD_WP;
	if (mode & UFFDIO_REGISTER_MODE_RWP) {
		if (!(ctx->features & UFFD_FEATURE_RWP))
			return -EINVAL;
		vm_flags |= VM_UFFD_RWP;
	}
	/* WP and RWP would give the one uffd PTE bit two meanings. */
	if ((vm_flags & VM_UFFD_WP) && (vm_flags & VM_UFFD_RWP))
		return -EINVAL;
	if (mode & UFFDIO_REGISTER_MODE_MINOR)
		vm_flags |= VM_UFFD_MINOR;

	ret = validate_range(start, len);
	if (ret)
		return ret;
	uint64_t end = start + len;

	struct vm_area_struct *cur = find_vma(mm, start);
	if (!cur || cur->vm_start >= end)
		return -EINVAL;
	/* Pre-scan: refuse before changing any VMA. */
	/* Holes between the VMAs are skipped, as for_each_vma_range() does
	 * (the running kernel registers over them). */
	for (; cur && cur->vm_start < end; cur = find_vma(mm, cur->vm_end)) {
		if (!vma_can_userfault(cur, vm_flags, wp_async))
			return -EINVAL;
		/* RWP resolves to vm_page_prot, which is PAGE_NONE here; checked
		 * at register time only so unregister still works later. */
		if ((vm_flags & VM_UFFD_RWP) && !vma_is_accessible(cur))
			return -EINVAL;
		/* UFFDIO_COPY fills holes even without PROT_WRITE. */
		if (!(cur->vm_flags & VM_MAYWRITE))
			return -EPERM;
		if (cur->vm_userfaultfd_ctx && cur->vm_userfaultfd_ctx != ctx)
			return -EBUSY;
		/* Dropping WP or RWP would strand the per-PTE state (09/15;
		 * 6.18 lets a re-register drop WP). */
		if (kernel_has_rwp() && cur->vm_userfaultfd_ctx == ctx &&
		    (cur->vm_flags & (VM_UFFD_WP | VM_UFFD_RWP) & ~vm_flags))
			return -EBUSY;
	}

	ret = userfaultfd_register_range(ctx, start, end, vm_flags);
	if (ret)
		return ret;

	uint64_t ioctls_out = UFFD_API_RANGE_IOCTLS;
	if (!(mode & UFFDIO_REGISTER_MODE_WP))
		ioctls_out &= ~(1ULL << _UFFDIO_WRITEPROTECT);
	if (!(mode & UFFDIO_REGISTER_MODE_MINOR))
		ioctls_out &= ~(1ULL << _UFFDIO_CONTINUE);
	if (!(mode & UFFDIO_REGISTER_MODE_RWP))
		ioctls_out &= ~(1ULL << _UFFDIO_RWPROTECT);
	/* UFFDIO_MOVE is advertised only to a context that negotiated it. */
	if (ctx->features & UFFD_FEATURE_MOVE)
		ioctls_out |= 1ULL << _UFFDIO_MOVE;
	if (ioctls)
		*ioctls = ioctls_out;
	return 0;
}

/* models userfaultfd_unregister() */
long userfaultfd_unregister(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len)
{
	struct mm_struct *mm = ctx->mm;
	bool wp_async = ctx->features & UFFD_FEATURE_WP_ASYNC;
	struct vm_area_struct *vma;
	long ret;

	if (!ctx->api_done)
		return -EINVAL;
	ret = validate_range(start, len);
	if (ret)
		return ret;
	uint64_t end = start + len;

	vma = find_vma(mm, start);
	if (!vma || vma->vm_start >= end)
		return -EINVAL;
	for (struct vm_area_struct *cur = vma; cur && cur->vm_start < end;
	     cur = find_vma(mm, cur->vm_end)) {
		/* No accessibility check: a VMA made PROT_NONE after
		 * registration must still unregister. */
		if (!vma_can_userfault(cur, cur->vm_flags, wp_async))
			return -EINVAL;
	}

	for (uint64_t addr = start;
	     addr < end && (vma = find_vma(mm, addr)) && vma->vm_start < end;) {
		uint64_t vma_start = vma->vm_start > start ? vma->vm_start : start;
		uint64_t vma_end = vma->vm_end < end ? vma->vm_end : end;

		if (!vma->vm_userfaultfd_ctx) {
			addr = vma->vm_end;
			continue;
		}
		/* Wake MISSING waiters so they do not hang after unregister. */
		if (userfaultfd_missing(vma))
			userfaultfd_wake_range(vma->vm_userfaultfd_ctx, vma_start,
					       vma_end - vma_start);
		userfaultfd_clear_vma(vma, vma_start, vma_end);
		addr = vma_end;
	}
	return 0;
}

/* models userfaultfd_wake() */
long userfaultfd_wake(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len)
{
	if (!ctx->api_done)
		return -EINVAL;
	long ret = validate_range(start, len);
	if (ret)
		return ret;
	userfaultfd_wake_range(ctx, start, len);
	return 0;
}

/* The filled prefix, for the oracle: a fill that stops early (-EAGAIN with
 * copy/mapped < len) has still filled it. */
static void uffd_fill_event(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t done, uint64_t mode,
			    uint64_t value, bool continue_fill, bool zero_fill)
{
	if (done)
		mm_event_emit((struct mm_event){ .kind = EV_UFFD_FILL,
						 .mm_id = ctx->mm->id,
						 .address = dst,
						 .len = done,
						 .mode = mode,
						 .ctx_id = ctx->id,
						 .value = value,
						 .continue_fill = continue_fill,
						 .zero_fill = zero_fill });
}

/* models userfaultfd_copy() */
long userfaultfd_copy(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t value,
		      uint64_t mode)
{
	long ret = uffd_range_ioctl_check(ctx, dst, len);
	if (ret)
		return ret;
	if (mode & ~(UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP))
		return -EINVAL;
	ret = mfill_atomic_copy(ctx, dst, len, value, mode);
	if (ret < 0)
		return ret;
	uffd_fill_event(ctx, dst, (uint64_t)ret, mode, value, false, false);
	/* Wake only what was filled: len 0 would wake everything. */
	if (!(mode & UFFDIO_COPY_MODE_DONTWAKE))
		userfaultfd_wake_range(ctx, dst, (uint64_t)ret);
	return (uint64_t)ret == len ? 0 : -EAGAIN;
}

/* models userfaultfd_zeropage() */
long userfaultfd_zeropage(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t mode)
{
	long ret = uffd_range_ioctl_check(ctx, dst, len);
	if (ret)
		return ret;
	if (mode & ~UFFDIO_ZEROPAGE_MODE_DONTWAKE)
		return -EINVAL;
	ret = mfill_atomic_zeropage(ctx, dst, len);
	if (ret < 0)
		return ret;
	uffd_fill_event(ctx, dst, (uint64_t)ret, mode, 0, false, true);
	if (!(mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE))
		userfaultfd_wake_range(ctx, dst, (uint64_t)ret);
	return (uint64_t)ret == len ? 0 : -EAGAIN;
}

/* The common shape of the two protect ioctls (userfaultfd_writeprotect()
 * and userfaultfd_rwprotect()): validate, apply, then wake the range on a
 * resolve unless DONTWAKE. Protecting with DONTWAKE is invalid: a protect
 * has no waiters to leave asleep. */
static long uffd_protect_ioctl(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len,
			       uint64_t mode, uint64_t mode_protect, uint64_t mode_dontwake,
			       long (*apply)(struct userfaultfd_ctx *, uint64_t, uint64_t, bool))
{
	long ret = uffd_range_ioctl_check(ctx, start, len);
	if (ret)
		return ret;
	if (mode & ~(mode_dontwake | mode_protect))
		return -EINVAL;
	bool protect = mode & mode_protect, dontwake = mode & mode_dontwake;
	if (protect && dontwake)
		return -EINVAL;
	ret = apply(ctx, start, len, protect);
	if (ret)
		return ret;
	if (!protect && !dontwake)
		userfaultfd_wake_range(ctx, start, len);
	return 0;
}

/* models userfaultfd_writeprotect() */
long userfaultfd_writeprotect(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len,
			      uint64_t mode)
{
	return uffd_protect_ioctl(ctx, start, len, mode, UFFDIO_WRITEPROTECT_MODE_WP,
				  UFFDIO_WRITEPROTECT_MODE_DONTWAKE, mwriteprotect_range);
}

/* models userfaultfd_rwprotect() (RWP 09/15) */
long userfaultfd_rwprotect(struct userfaultfd_ctx *ctx, uint64_t start, uint64_t len, uint64_t mode)
{
	if (!kernel_has_rwp()) /* 6.18's userfaultfd_ioctl(): unknown command */
		return -EINVAL;
	return uffd_protect_ioctl(ctx, start, len, mode, UFFDIO_RWPROTECT_MODE_RWP,
				  UFFDIO_RWPROTECT_MODE_DONTWAKE, mrwprotect_range);
}

/* models uffd_api_available_features() (13/15) */
static uint64_t uffd_api_available_features(void)
{
	/* x86-64 has protnone, the uffd PTE bit and WP markers: everything
	 * (6.18 knows no bit past MOVE). */
	if (!kernel_has_rwp())
		return UFFD_API_FEATURES & ~(UFFD_FEATURE_RWP | UFFD_FEATURE_RWP_ASYNC);
	return UFFD_API_FEATURES;
}

/* models userfaultfd_set_mode() (RWP 13/15) */
long userfaultfd_set_mode(struct userfaultfd_ctx *ctx, uint64_t enable, uint64_t disable)
{
	if (!kernel_has_rwp()) /* 6.18's userfaultfd_ioctl(): unknown command */
		return -EINVAL;
	if (!ctx->api_done)
		return -EINVAL;
	if (enable & disable)
		return -EINVAL;
	if ((enable | disable) & ~(uffd_api_available_features() & UFFD_FEATURE_TOGGLEABLE))
		return -EINVAL;
	if ((enable & UFFD_FEATURE_RWP_ASYNC) && !(ctx->features & UFFD_FEATURE_RWP))
		return -EINVAL;
	/* Under the mmap write lock and every VMA's write lock: a fault sees
	 * one mode for its whole duration. */
	ctx->features = (ctx->features | enable) & ~disable;
	/* Sleeping sync faulters retry and resolve in place. */
	if (enable & UFFD_FEATURE_RWP_ASYNC)
		userfaultfd_wake_range(ctx, 0, 0);
	return 0;
}

/* models userfaultfd_continue() */
long userfaultfd_continue(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t len, uint64_t mode)
{
	long ret = uffd_range_ioctl_check(ctx, dst, len);
	if (ret)
		return ret;
	if (mode & ~(UFFDIO_CONTINUE_MODE_DONTWAKE | UFFDIO_CONTINUE_MODE_WP))
		return -EINVAL;
	ret = mfill_atomic_continue(ctx, dst, len, mode);
	if (ret < 0)
		return ret;
	uffd_fill_event(ctx, dst, (uint64_t)ret, mode, 0, true, false);
	if (!(mode & UFFDIO_CONTINUE_MODE_DONTWAKE))
		userfaultfd_wake_range(ctx, dst, (uint64_t)ret);
	return (uint64_t)ret == len ? 0 : -EAGAIN;
}

/* models userfaultfd_move(); emits EV_UFFD_MOVE for the moved prefix */
long userfaultfd_move(struct userfaultfd_ctx *ctx, uint64_t dst, uint64_t src, uint64_t len,
		      uint64_t mode)
{
	long ret = uffd_range_ioctl_check(ctx, dst, len);
	if (ret)
		return ret;
	ret = validate_range(src, len);
	if (ret)
		return ret;
	if (mode & ~(UFFDIO_MOVE_MODE_DONTWAKE | UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES))
		return -EINVAL;
	ret = move_pages(ctx, dst, src, len, mode);
	if (ret < 0)
		return ret;
	mm_event_emit((struct mm_event){ .kind = EV_UFFD_MOVE,
					 .mm_id = ctx->mm->id,
					 .address = dst,
					 .len = (uint64_t)ret,
					 .mode = mode,
					 .ctx_id = ctx->id,
					 .new_address = src });
	if (!(mode & UFFDIO_MOVE_MODE_DONTWAKE))
		userfaultfd_wake_range(ctx, dst, (uint64_t)ret);
	return (uint64_t)ret == len ? 0 : -EAGAIN;
}

/* models userfaultfd_api() */
long userfaultfd_api(struct userfaultfd_ctx *ctx, uint64_t *features, uint64_t *ioctls)
{
	uint64_t requested = *features;
	uint64_t available = uffd_api_available_features();

	/* WP_ASYNC relies on WP_UNPOPULATED: chosen unconditionally. */
	if (requested & UFFD_FEATURE_WP_ASYNC)
		requested |= UFFD_FEATURE_WP_UNPOPULATED;
	if (requested & ~available)
		goto err_out;
	if ((requested & UFFD_FEATURE_RWP_ASYNC) && !(requested & UFFD_FEATURE_RWP))
		goto err_out;
	/* The features can be set once (the kernel's cmpxchg from 0). */
	if (ctx->api_done)
		goto err_out;
	ctx->features = requested;
	ctx->api_done = true;
	*features = available;
	*ioctls = UFFD_API_IOCTLS;
	return 0;

err_out:
	/* The user's uffdio_api comes back zeroed. */
	*features = 0;
	*ioctls = 0;
	return -EINVAL;
}

/* models userfaultfd() / new_userfaultfd() */
struct userfaultfd_ctx *sys_userfaultfd(struct mm_struct *mm) { return userfaultfd_ctx_alloc(mm); }
