/* tests/support/mmsim_test.c - shared fixtures for the CMocka unit tests. */
#include "mmsim_test.h"

#include "trace/trace.h"

int mmsim_setup(void **state)
{
	machine_init(1 << 16, 1 << 12);
	patch_set_level("v6");
	thp_settings.enabled = 1;
	*state = NULL;
	return 0;
}

int mmsim_teardown(void **state)
{
	machine_destroy();
	return 0;
}

uint64_t t_map_anon(struct mm_struct *mm, uint64_t len, unsigned prot, uint64_t align)
{
	int64_t addr = sys_mmap(mm, 0, len, prot, MAP_PRIVATE, NULL, 0, align);
	assert_true(addr > 0);
	return (uint64_t)addr;
}

uint64_t t_map_shmem(struct mm_struct *mm, struct address_space *file, uint64_t len,
		     unsigned prot, bool shared, uint64_t align)
{
	int64_t addr = sys_mmap(mm, 0, len, prot, shared ? MAP_SHARED : MAP_PRIVATE, file, 0,
				align);
	assert_true(addr > 0);
	return (uint64_t)addr;
}

void t_write_pages(struct mm_struct *mm, uint64_t addr, uint64_t n, uint64_t value)
{
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(user_access(mm, addr + i * PAGE_SIZE, true, value, NULL),
				 RESULT_OK);
}

pte_t t_pte(struct mm_struct *mm, uint64_t addr)
{
	pte_t *pte = pte_lookup(mm->pgd, addr);
	assert_non_null(pte);
	return *pte;
}

pmd_t t_pmd(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
	assert_non_null(pmd);
	return *pmd;
}
