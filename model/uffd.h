/* model/uffd.h - userfaultfd UAPI constants and the context object.
 *
 * Values from include/uapi/linux/userfaultfd.h plus RWP patches 09-13.
 */
#ifndef MMSIM_MODEL_UFFD_H
#define MMSIM_MODEL_UFFD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define UFFD_API 0xAAULL

#define UFFD_FEATURE_PAGEFAULT_FLAG_WP (1ULL << 0)
#define UFFD_FEATURE_EVENT_FORK (1ULL << 1)
#define UFFD_FEATURE_EVENT_REMAP (1ULL << 2)
#define UFFD_FEATURE_EVENT_REMOVE (1ULL << 3)
#define UFFD_FEATURE_MISSING_HUGETLBFS (1ULL << 4)
#define UFFD_FEATURE_MISSING_SHMEM (1ULL << 5)
#define UFFD_FEATURE_EVENT_UNMAP (1ULL << 6)
#define UFFD_FEATURE_SIGBUS (1ULL << 7)
#define UFFD_FEATURE_THREAD_ID (1ULL << 8)
#define UFFD_FEATURE_MINOR_HUGETLBFS (1ULL << 9)
#define UFFD_FEATURE_MINOR_SHMEM (1ULL << 10)
#define UFFD_FEATURE_EXACT_ADDRESS (1ULL << 11)
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1ULL << 12)
#define UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)
#define UFFD_FEATURE_POISON (1ULL << 14)
#define UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#define UFFD_FEATURE_MOVE (1ULL << 16)
#define UFFD_FEATURE_RWP (1ULL << 17)
#define UFFD_FEATURE_RWP_ASYNC (1ULL << 18)
#define UFFD_API_FEATURES ((1ULL << 19) - 1)

#define UFFDIO_REGISTER_MODE_MISSING (1ULL << 0)
#define UFFDIO_REGISTER_MODE_WP (1ULL << 1)
#define UFFDIO_REGISTER_MODE_MINOR (1ULL << 2)
#define UFFDIO_REGISTER_MODE_RWP (1ULL << 3)

#define UFFD_PAGEFAULT_FLAG_WRITE (1ULL << 0)
#define UFFD_PAGEFAULT_FLAG_WP (1ULL << 1)
#define UFFD_PAGEFAULT_FLAG_MINOR (1ULL << 2)
#define UFFD_PAGEFAULT_FLAG_RWP (1ULL << 3)

#define UFFDIO_COPY_MODE_DONTWAKE (1ULL << 0)
#define UFFDIO_COPY_MODE_WP (1ULL << 1)
#define UFFDIO_ZEROPAGE_MODE_DONTWAKE (1ULL << 0)
#define UFFDIO_WRITEPROTECT_MODE_WP (1ULL << 0)
#define UFFDIO_WRITEPROTECT_MODE_DONTWAKE (1ULL << 1)
#define UFFDIO_RWPROTECT_MODE_RWP (1ULL << 0)
#define UFFDIO_RWPROTECT_MODE_DONTWAKE (1ULL << 1)
#define UFFDIO_MOVE_MODE_DONTWAKE (1ULL << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES (1ULL << 1)

/* ioctl numbers (bit positions in the returned ioctls masks). */
#define _UFFDIO_REGISTER 0x00
#define _UFFDIO_UNREGISTER 0x01
#define _UFFDIO_WAKE 0x02
#define _UFFDIO_COPY 0x03
#define _UFFDIO_ZEROPAGE 0x04
#define _UFFDIO_MOVE 0x05
#define _UFFDIO_WRITEPROTECT 0x06
#define _UFFDIO_CONTINUE 0x07
#define _UFFDIO_POISON 0x08
#define _UFFDIO_RWPROTECT 0x09
#define _UFFDIO_SET_MODE 0x0A
#define _UFFDIO_API 0x3F

#define UFFD_EVENT_PAGEFAULT 0x12
#define UFFD_EVENT_FORK 0x13
#define UFFD_EVENT_REMAP 0x14
#define UFFD_EVENT_REMOVE 0x15
#define UFFD_EVENT_UNMAP 0x16

struct uffd_msg {
	uint8_t event;
	uint64_t flags;	  /* UFFD_PAGEFAULT_FLAG_* */
	uint64_t address; /* page aligned (no UFFD_FEATURE_EXACT_ADDRESS) */
	struct {
		uint64_t from, to, len;
	} remap; /* UFFD_EVENT_REMAP */
	struct {
		uint32_t ufd; /* the child's context id (the kernel gives a new fd) */
	} fork;		      /* UFFD_EVENT_FORK */
	struct {
		uint64_t start, end;
	} remove; /* UFFD_EVENT_REMOVE and UFFD_EVENT_UNMAP */
};

struct mm_struct;

struct userfaultfd_ctx {
	uint32_t id;
	struct mm_struct *mm;
	uint64_t features; /* negotiated by UFFDIO_API (RWP_ASYNC may toggle) */
	bool api_done;	   /* UFFDIO_API succeeded */
	bool released;	   /* close() */
	int mmap_changing; /* a non-cooperative event is in flight */
	GArray *msgs;	   /* pending struct uffd_msg, FIFO */
	GArray *waiters;   /* struct uffd_waiter: tasks asleep in handle_userfault */
};

struct uffd_waiter {
	uint32_t task;
	uint64_t address;
};

/* Number contexts from 1 again (see mm_ids_reset()). */
void userfaultfd_ctx_ids_reset(void);
struct userfaultfd_ctx *userfaultfd_ctx_alloc(struct mm_struct *mm);
void userfaultfd_ctx_free(struct userfaultfd_ctx *ctx);
void uffd_msg_push(struct userfaultfd_ctx *ctx, struct uffd_msg msg);
/* Pop the oldest message; false when the queue is empty. */
bool uffd_msg_pop(struct userfaultfd_ctx *ctx, struct uffd_msg *out);
/* Drop the oldest unread page-fault message for this page (its waiter was
 * woken before the message was read); false when there is none. */
bool uffd_msg_drop_pagefault(struct userfaultfd_ctx *ctx, uint64_t address);

#endif
