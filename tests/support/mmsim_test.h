/* tests/support/mmsim_test.h - shared fixtures for the CMocka unit tests. */
#ifndef MMSIM_TEST_H
#define MMSIM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include "mm/internal.h"
#include "patch.h"
#include "sched.h"

/* A fresh machine (64 Ki frames, 4 Ki swap slots) at patch level v6. */
int mmsim_setup(void **state);
int mmsim_teardown(void **state);

/* Map a region in mm; asserts success and returns its start address. */
uint64_t t_map_anon(struct mm_struct *mm, uint64_t len, unsigned prot, uint64_t align);
uint64_t t_map_shmem(struct mm_struct *mm, struct address_space *file, uint64_t len,
		     unsigned prot, bool shared, uint64_t align);
/* A user store of value to every page of [addr, addr + n pages); asserts
 * each completes. */
void t_write_pages(struct mm_struct *mm, uint64_t addr, uint64_t n, uint64_t value);
/* The PTE at addr (asserts the table exists). */
pte_t t_pte(struct mm_struct *mm, uint64_t addr);
pmd_t t_pmd(struct mm_struct *mm, uint64_t addr);

#endif
