/* tests/data/coverage/sim/mm/demo.c - source behind sample.info (not built). */
int demo_gate(int a, int b);
int demo_unused(int a);

/* One call with a=1, b=0: the && is half taken. */
int demo_gate(int a, int b)
{
	if (a && b)
		return 1;
	return 0;
}

int demo_unused(int a) { return a + 1; }
