/* tests/data/coverage/model/tiny.c - source behind sample.info (not built). */
int tiny(int x);

int tiny(int x) { return x < 0 ? -x : x; }
