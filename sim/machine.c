/* sim/machine.c - set up and tear down the whole simulated machine. */
#include "mm/internal.h"
#include "sched.h"

struct thp_settings thp_settings;

static void thp_settings_default(void)
{
	/* sysfs defaults (mm/khugepaged.c, mm/huge_memory.c). */
	thp_settings.enabled = 1; /* madvise */
	thp_settings.max_ptes_none = HPAGE_PMD_NR - 1;
	thp_settings.max_ptes_swap = HPAGE_PMD_NR / 8;
	thp_settings.max_ptes_shared = HPAGE_PMD_NR / 2;
	thp_settings.pages_to_scan = HPAGE_PMD_NR * 8;
}

void machine_init(uint64_t frames, uint64_t swap_slots)
{
	mem_map_init(frames);
	pt_pool_init();
	swap_init(swap_slots);
	sched_init();
	thp_settings_default();
	numa_migrate_on_fault = false;
	deferred_split_queue_reset();
	mm_ids_reset();
	userfaultfd_ctx_ids_reset();
}

void machine_destroy(void)
{
	deferred_split_queue_reset();
	sched_destroy();
	swap_destroy();
	pt_pool_destroy();
	mem_map_destroy();
}
