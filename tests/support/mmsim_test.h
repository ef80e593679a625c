/* tests/support/mmsim_test.h - shared fixtures for the CMocka unit tests. */
#ifndef MMSIM_TEST_H
#define MMSIM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include <inttypes.h>

#include "mm/internal.h"
#include "patch.h"
#include "sched.h"

/* assert_int_equal that names the table row when it fails */
#define ROW_EQ(row, a, b)                                                                \
	do {                                                                             \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                         \
		if (a_ != b_)                                                            \
			print_message("row %zu: %s = %#" PRIx64 ", want %#" PRIx64 "\n", \
				      (size_t)(row), #a, a_, b_);                        \
		assert_int_equal(a_, b_);                                                \
	} while (0)

/* ------------------------------------------------- mmsim_test.c: the machine */

/* A fresh machine (64 Ki frames, 4 Ki swap slots) at patch level v6. */
int mmsim_setup(void **state);
int mmsim_teardown(void **state);

/* Map a region in mm; asserts success and returns its start address. */
uint64_t t_map_anon(struct mm_struct *mm, uint64_t len, unsigned prot, uint64_t align);
uint64_t t_map_shmem(struct mm_struct *mm, struct address_space *file, uint64_t len, unsigned prot,
		     bool shared, uint64_t align);
/* A user store of value to every page of [addr, addr + n pages); asserts
 * each completes. */
void t_write_pages(struct mm_struct *mm, uint64_t addr, uint64_t n, uint64_t value);

/* The flags of a user fault that may retry, a store when write. */
static inline unsigned t_user_fault(bool write)
{
	return FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | (write ? FAULT_FLAG_WRITE : 0);
}

/* The PTE at addr (asserts the table exists). */
pte_t t_pte(struct mm_struct *mm, uint64_t addr);
pmd_t t_pmd(struct mm_struct *mm, uint64_t addr);

/* ------------------------------------------------- mmsim_test.c: a process */

/* The process a fault-path test runs in. The scheduler wakes sleepers by task
 * id, so the task is registered with sched_set_task_lookup() while it is
 * current. One process at a time: the fixtures below set up t_proc. */
struct t_process {
	struct mm_struct *mm;
	struct userfaultfd_ctx *ctx; /* made by the first t_register_ctx() */
	struct address_space *file;  /* a test's shmem file, discarded with the mm */
	struct task task;
};

extern struct t_process t_proc;

/* mmsim_setup() plus t_proc: a fresh mm and current task, no ctx or file. */
int t_proc_setup(void **state);
/* Frees t_proc's ctx, mm and file, then the machine. */
int t_proc_teardown(void **state);
/* A fresh machine and process inside one test (one per table row). */
void t_proc_restart(void **state);
/* Registers vma for mode with t_proc's ctx, made on first use with features
 * (the API handshake done); later calls share it and ignore features. */
struct userfaultfd_ctx *t_register_ctx(struct vm_area_struct *vma, vm_flags_t mode,
				       uint64_t features);
/* The PTE slot at addr (asserts the table exists). */
pte_t *t_ptep(struct mm_struct *mm, uint64_t addr);

/* ------------------------------------------------- mmsim_state.c: state by hand */

/* These touch the page tables and the event log only, never a sim/mm path,
 * so a test that mocks the fault path (test_gup_follow.c) links without
 * sim/mm/memory.c. */

/* The PTE slot at addr, allocating the tables on the way. */
pte_t *t_ptep_alloc(struct mm_struct *mm, uint64_t addr);
/* How many events of kind are in mm_events, and the last one (or NULL). */
unsigned t_nr_events(enum mm_event_kind kind);
const struct mm_event *t_last_event(enum mm_event_kind kind);

/* ------------------------------------------------- mmsim_model.c: model only */

/* The model/ pieces a model test starts from, without a machine: a frame
 * map of frames (0: none), an empty page-table pool, a swap device of
 * swap_slots (0: none). t_model_teardown() destroys what was made. */
struct t_model {
	uint32_t frames;
	bool tables;
	uint32_t swap_slots;
};

int t_model_setup(struct t_model m);
int t_model_teardown(void **state);

#endif
