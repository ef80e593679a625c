/* tools/coverage-exit.c - coverage builds only: _exit() writes the gcov counters first. */
#include <stdnoreturn.h>

/* libgcov's flush; atexit() runs it, but _exit() skips atexit handlers. */
void __gcov_dump(void);
noreturn void __real__exit(int status);
noreturn void __wrap__exit(int status);

/* Linked with -Wl,--wrap=_exit: explore's branch processes end with _exit(),
 * and without this the lines they run would be measured as never run. */
noreturn void __wrap__exit(int status)
{
	__gcov_dump();
	__real__exit(status);
}
