/* tests/data/coverage/sim/oracle/check.c - source behind sample.info (not built). */
int check_sum(int n);

int check_sum(int n)
{
	int s = 0;

	for (int i = 0; i < n; i++)
		s += i;
	return s;
}
