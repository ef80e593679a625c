/* bench/bench_kernel.c - the running kernel's half of item a:
 * UFFDIO_WRITEPROTECT over N zero-page PTEs (see bench_rwp.c). Kept apart
 * because the host's UAPI headers clash with the model's own copies.
 */
#include "bench_kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_keep_best(struct bench_pair *best, struct bench_pair p)
{
	if (!best->arm || p.arm + p.resolve < best->arm + best->resolve)
		*best = p;
}

bool bench_kernel_wp(uint64_t n, int reps, struct bench_pair *best, const char **why)
{
	size_t len = n * 4096;
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		*why = errno == EPERM ? "userfaultfd: EPERM (not root and "
					"vm.unprivileged_userfaultfd=0)"
				      : "userfaultfd() unavailable";
		return false;
	}
	struct uffdio_api api = { .api = UFFD_API };
	if (ioctl(uffd, UFFDIO_API, &api)) {
		close(uffd);
		*why = "UFFDIO_API failed";
		return false;
	}
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		close(uffd);
		*why = "mmap failed";
		return false;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	if (madvise(p, len, MADV_POPULATE_READ)) {
		/* Before 5.14: read every page, which maps the zero page too. */
		for (size_t off = 0; off < len; off += 4096)
			(void)*(volatile char *)(p + off);
	}
	struct uffdio_register reg = { .range = { (uintptr_t)p, len },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	bool ok = !ioctl(uffd, UFFDIO_REGISTER, &reg);
	if (!ok)
		*why = "UFFDIO_REGISTER_MODE_WP refused";
	for (int i = 0; ok && i < reps; i++) {
		struct uffdio_writeprotect wp = { .range = { (uintptr_t)p, len },
						  .mode = UFFDIO_WRITEPROTECT_MODE_WP };
		uint64_t t0 = now_ns();
		ok = !ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
		uint64_t t1 = now_ns();
		wp.mode = 0;
		ok = ok && !ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
		uint64_t t2 = now_ns();
		if (!ok)
			*why = "UFFDIO_WRITEPROTECT failed";
		bench_keep_best(best, (struct bench_pair){ t1 - t0, t2 - t1 });
	}
	munmap(p, len);
	close(uffd);
	return ok;
}
