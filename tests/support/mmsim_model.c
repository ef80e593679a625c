/* tests/support/mmsim_model.c - model-only fixtures: the test_model_*.c files
 * exercise model/ alone, so these build no machine and run no sim/ code. */
#include "mmsim_test.h"

static struct t_model made;

int t_model_setup(struct t_model m)
{
	made = m;
	if (m.frames)
		mem_map_init(m.frames);
	if (m.tables)
		pt_pool_init();
	if (m.swap_slots)
		swap_init(m.swap_slots);
	return 0;
}

int t_model_teardown(void **state)
{
	if (made.swap_slots)
		swap_destroy();
	if (made.tables)
		pt_pool_destroy();
	if (made.frames)
		mem_map_destroy();
	made = (struct t_model){ 0 };
	return 0;
}
