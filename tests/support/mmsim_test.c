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

uint64_t t_map_shmem(struct mm_struct *mm, struct address_space *file, uint64_t len, unsigned prot,
		     bool shared, uint64_t align)
{
	int64_t addr =
		sys_mmap(mm, 0, len, prot, shared ? MAP_SHARED : MAP_PRIVATE, file, 0, align);
	assert_true(addr > 0);
	return (uint64_t)addr;
}

void t_write_pages(struct mm_struct *mm, uint64_t addr, uint64_t n, uint64_t value)
{
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(user_access(mm, addr + i * PAGE_SIZE, true, value, NULL),
				 RESULT_OK);
}

pte_t *t_ptep(struct mm_struct *mm, uint64_t addr)
{
	pte_t *pte = pte_lookup(mm->pgd, addr);
	assert_non_null(pte);
	return pte;
}

pte_t t_pte(struct mm_struct *mm, uint64_t addr) { return *t_ptep(mm, addr); }

pmd_t t_pmd(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, false, 0);
	assert_non_null(pmd);
	return *pmd;
}

struct t_process t_proc;

#define T_PROC_TASK_ID 5

static struct task *t_proc_task(uint32_t id) { return id == t_proc.task.id ? &t_proc.task : NULL; }

int t_proc_setup(void **state)
{
	mmsim_setup(state);
	memset(&t_proc, 0, sizeof(t_proc));
	t_proc.mm = mm_alloc("P");
	t_proc.task.id = T_PROC_TASK_ID;
	current = &t_proc.task;
	sched_set_task_lookup(t_proc_task);
	return 0;
}

int t_proc_teardown(void **state)
{
	if (t_proc.ctx)
		userfaultfd_ctx_free(t_proc.ctx);
	t_proc.ctx = NULL;
	mm_discard(t_proc.mm);
	if (t_proc.file)
		shmem_file_discard(t_proc.file);
	t_proc.file = NULL;
	sched_set_task_lookup(NULL);
	return mmsim_teardown(state);
}

void t_proc_restart(void **state)
{
	t_proc_teardown(state);
	t_proc_setup(state);
}

struct userfaultfd_ctx *t_register_ctx(struct vm_area_struct *vma, vm_flags_t mode,
				       uint64_t features)
{
	if (!t_proc.ctx) {
		t_proc.ctx = userfaultfd_ctx_alloc(t_proc.mm);
		t_proc.ctx->features = features;
		t_proc.ctx->api_done = true;
	}
	vma->vm_flags |= mode;
	vma->vm_userfaultfd_ctx = t_proc.ctx;
	return t_proc.ctx;
}
