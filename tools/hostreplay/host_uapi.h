/* tools/hostreplay/host_uapi.h - the userfaultfd and PAGEMAP_SCAN UAPI that
 * older libc kernel headers lack (Debian 12 ships 6.1 headers; the host runs
 * 6.18). Values are the kernel's UAPI constants; each block is only used
 * when the system header did not define it already.
 */
#ifndef HOSTREPLAY_HOST_UAPI_H
#define HOSTREPLAY_HOST_UAPI_H

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

#ifndef UFFDIO_MOVE
#define HR_UFFDIO_MOVE_NR 0x05
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, HR_UFFDIO_MOVE_NR, struct uffdio_move)
#endif

#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* The RWP series' UAPI bits, which the host kernel does not have. */
#define UFFD_FEATURE_RWP_BITS ((1ULL << 17) | (1ULL << 18))
#define HR_REGISTER_MODE_RWP (1ULL << 3)

#define HR_PAGE_IS_HUGE (1ULL << 6)
#define HR_PM_PRESENT (1ULL << 63)
#define HR_PM_SWAP (1ULL << 62)
#define HR_PM_UFFD_WP (1ULL << 57)

#endif
