/* tools/capture/collapse.c - the program tools/capture-ftrace records:
 * MADV_COLLAPSE on three 2 MiB-aligned anonymous ranges populated with
 * small pages (MADV_NOHUGEPAGE, MADV_POPULATE_WRITE, MADV_HUGEPAGE),
 *   (a) nothing else: the collapse succeeds;
 *   (b) one PTE made uffd-wp by UFFDIO_COPY with UFFDIO_COPY_MODE_WP (strace
 *       6.1 decodes it): the collapse fails, status pte_uffd_wp;
 *   (c) one PTE made uffd-wp by UFFDIO_WRITEPROTECT (strace 6.1 prints its
 *       argument as a bare pointer, so the importer cannot recover it).
 * Built and run by tools/capture-ftrace as root; not part of mmsim. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define PMD (2UL << 20)
#define PAGE 4096UL

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A 2 MiB-aligned range of small pages, every page written: with
 * MADV_POPULATE_WRITE rather than stores, so that strace sees it. */
static char *populated_range(void)
{
	char *raw = mmap(NULL, 2 * PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap");
	char *p = (char *)(((uintptr_t)raw + PMD - 1) & ~(PMD - 1));
	if (madvise(p, PMD, MADV_NOHUGEPAGE))
		die("madvise NOHUGEPAGE");
	if (madvise(p, PMD, MADV_POPULATE_WRITE))
		die("madvise POPULATE_WRITE");
	if (madvise(p, PMD, MADV_HUGEPAGE))
		die("madvise HUGEPAGE");
	return p;
}

static int uffd_wp(char *p)
{
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (uffd < 0)
		die("userfaultfd");
	struct uffdio_api api = { .api = UFFD_API };
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API");
	struct uffdio_register reg = {
		.range = { (uintptr_t)p, PMD },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	return uffd;
}

static void collapse(char *p, const char *what)
{
	int r = madvise(p, PMD, MADV_COLLAPSE);
	printf("%s: MADV_COLLAPSE = %d\n", what, r);
	usleep(50000); /* keeps the calls' trace events apart in time */
}

int main(void)
{
	static char src[PAGE];
	memset(src, 7, sizeof(src));

	char *a = populated_range();
	collapse(a, "a plain");

	char *b = populated_range();
	if (madvise(b + 5 * PAGE, PAGE, MADV_DONTNEED))
		die("madvise DONTNEED");
	int ub = uffd_wp(b);
	struct uffdio_copy copy = { .dst = (uintptr_t)b + 5 * PAGE,
				    .src = (uintptr_t)src,
				    .len = PAGE,
				    .mode = UFFDIO_COPY_MODE_WP };
	if (ioctl(ub, UFFDIO_COPY, &copy))
		die("UFFDIO_COPY");
	collapse(b, "b copy-wp");

	char *c = populated_range();
	int uc = uffd_wp(c);
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)c + 9 * PAGE, PAGE },
					  .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	if (ioctl(uc, UFFDIO_WRITEPROTECT, &wp))
		die("UFFDIO_WRITEPROTECT");
	collapse(c, "c writeprotect");
	return 0;
}
