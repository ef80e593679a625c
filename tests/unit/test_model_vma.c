/* tests/unit/test_model_vma.c - mm_struct, VMAs, anon_vma and shmem files of model/vma.c.
 *
 * Each test gets a fresh frame map and page-table pool; VMAs are built by hand
 * with vm_area_alloc + vma_link, never through mmap, so only model/ runs.
 */
#include "mmsim_test.h"

#include <inttypes.h>

#include "model/mm_types.h"
#include "model/uffd.h"

#define BASE 0x7f0000000000ULL
#define RW (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE)

static int vma_setup(void **state)
{
	return t_model_setup((struct t_model){ .frames = 1 << 12, .tables = true });
}

static struct vm_area_struct *make_vma(struct mm_struct *mm, uint64_t start, uint64_t end,
				       vm_flags_t flags, struct address_space *file, uint64_t pgoff,
				       struct anon_vma *av)
{
	struct vm_area_struct *vma = vm_area_alloc(mm);

	vma->vm_start = start;
	vma->vm_end = end;
	vma->vm_flags = flags;
	vma->vm_page_prot = vm_get_page_prot(flags);
	vma->vm_file = file;
	vma->vm_pgoff = pgoff;
	vma->anon_vma = av;
	vma_link(mm, vma);
	return vma;
}

static bool ptr_array_has(GPtrArray *a, const void *p) { return g_ptr_array_find(a, p, NULL); }

static void assert_sorted_and_disjoint(struct mm_struct *mm)
{
	for (guint i = 0; i < mm->vmas->len; i++) {
		struct vm_area_struct *v = g_ptr_array_index(mm->vmas, i);

		assert_true(v->vm_start < v->vm_end);
		assert_ptr_equal(v->vm_mm, mm);
		if (i) {
			struct vm_area_struct *p = g_ptr_array_index(mm->vmas, i - 1);
			assert_true(p->vm_end <= v->vm_start);
		}
	}
}

static void mm_alloc_gives_each_mm_an_id_and_a_pgd(void **state)
{
	uint64_t live = pt_pool.nr_live;
	struct mm_struct *a = mm_alloc("a");
	struct mm_struct *b = mm_alloc("b");

	assert_int_equal(b->id, a->id + 1);
	assert_string_equal(a->name, "a");
	assert_int_equal(a->mm_users, 1);
	assert_int_equal(a->vmas->len, 0);
	assert_int_equal(g_hash_table_size(a->deposit), 0);
	assert_false(a->khugepaged_registered);
	assert_int_equal(a->rss_anon + a->rss_file + a->rss_shmem + a->nr_swapents, 0);
	assert_true(pt_is_live(a->pgd));
	assert_int_not_equal(a->pgd, b->pgd);
	assert_int_equal(pt_get(a->pgd)->level, PT_PGD);
	assert_int_equal(pt_get(a->pgd)->owner, a->id);
	assert_int_equal(pt_get(b->pgd)->owner, b->id);
	assert_int_equal(pt_pool.nr_live, live + 2);
	mm_free(a);
	mm_free(b);
	assert_int_equal(pt_pool.nr_live, live);
}

static void find_vma_and_vma_lookup_follow_address_order(void **state)
{
	struct mm_struct *mm = mm_alloc("mm");
	/* linked out of order on purpose */
	struct vm_area_struct *c = make_vma(mm, 0x40000, 0x50000, RW, NULL, 0x40, NULL);
	struct vm_area_struct *a = make_vma(mm, 0x10000, 0x20000, RW, NULL, 0x10, NULL);
	struct vm_area_struct *d = make_vma(mm, BASE, BASE + PMD_SIZE, RW, NULL, BASE >> 12, NULL);
	struct vm_area_struct *b = make_vma(mm, 0x20000, 0x30000, VM_READ, NULL, 0x20, NULL);
	const struct {
		uint64_t addr;
		struct vm_area_struct *find, *lookup;
	} rows[] = {
		{ 0, a, NULL },
		{ 0xffff, a, NULL },
		{ 0x10000, a, a },
		{ 0x1ffff, a, a },
		{ 0x20000, b, b },
		{ 0x2ffff, b, b },
		{ 0x30000, c, NULL },
		{ 0x3ffff, c, NULL },
		{ 0x40000, c, c },
		{ 0x4ffff, c, c },
		{ 0x50000, d, NULL },
		{ BASE - 1, d, NULL },
		{ BASE, d, d },
		{ BASE + PMD_SIZE - 1, d, d },
		{ BASE + PMD_SIZE, NULL, NULL },
		{ TASK_SIZE, NULL, NULL },
	};

	assert_int_equal(mm->vmas->len, 4);
	assert_ptr_equal(g_ptr_array_index(mm->vmas, 0), a);
	assert_ptr_equal(g_ptr_array_index(mm->vmas, 1), b);
	assert_ptr_equal(g_ptr_array_index(mm->vmas, 2), c);
	assert_ptr_equal(g_ptr_array_index(mm->vmas, 3), d);
	assert_sorted_and_disjoint(mm);
	/* ids are unique and increase with allocation */
	assert_true(c->id < a->id && a->id < d->id && d->id < b->id);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		ROW_EQ(i, find_vma(mm, rows[i].addr), rows[i].find);
		ROW_EQ(i, vma_lookup(mm, rows[i].addr), rows[i].lookup);
	}
	/* helpers on one VMA */
	assert_int_equal(vma_pages(d), 512);
	assert_int_equal(linear_page_index(d, BASE + 0x5000), (BASE >> 12) + 5);
	assert_int_equal(vma_address(d, (BASE >> 12) + 5), BASE + 0x5000);
	assert_true(vma_is_anonymous(d));
	assert_false(vma_is_shmem(d));
	assert_true(vma_is_accessible(d));
	d->vm_flags = VM_MAYREAD;
	assert_false(vma_is_accessible(d));
	assert_true(is_cow_mapping(VM_MAYWRITE));
	assert_true(is_cow_mapping(VM_WRITE | VM_MAYWRITE));
	assert_false(is_cow_mapping(VM_SHARED | VM_MAYWRITE));
	assert_false(is_cow_mapping(VM_READ));

	/* unlinking keeps the order of the rest */
	vma_unlink(b);
	vm_area_free(b);
	assert_ptr_equal(find_vma(mm, 0x20000), c);
	assert_null(vma_lookup(mm, 0x20000));
	assert_int_equal(mm->vmas->len, 3);
	mm_free(mm);
}

/* vma_link/vma_unlink keep i_mmap, the file refcount and anon_vma in step. */
static void vma_link_and_unlink_maintain_i_mmap_and_anon_vma(void **state)
{
	struct mm_struct *mm = mm_alloc("mm");
	struct address_space *file = shmem_file_alloc("memfd", 16, false);
	struct anon_vma *av = anon_vma_alloc();

	assert_int_equal(file->refcount, 1);
	assert_int_equal(av->refcount, 0);
	struct vm_area_struct *f1 =
		make_vma(mm, BASE, BASE + 0x4000, RW | VM_SHARED | VM_MAYSHARE, file, 0, NULL);
	struct vm_area_struct *f2 = make_vma(mm, BASE + 0x10000, BASE + 0x14000, RW, file, 4, av);
	struct vm_area_struct *a1 = make_vma(mm, 0x10000, 0x20000, RW, NULL, 0x10, av);

	assert_int_equal(file->refcount, 3);
	assert_int_equal(file->i_mmap->len, 2);
	assert_true(ptr_array_has(file->i_mmap, f1));
	assert_true(ptr_array_has(file->i_mmap, f2));
	assert_false(ptr_array_has(file->i_mmap, a1));
	assert_int_equal(av->refcount, 2);
	assert_int_equal(av->vmas->len, 2);
	assert_true(ptr_array_has(av->vmas, f2));
	assert_true(ptr_array_has(av->vmas, a1));
	assert_true(vma_is_shmem(f1));
	/* attaching the same VMA twice is a no-op */
	anon_vma_attach(av, a1);
	assert_int_equal(av->refcount, 2);
	assert_int_equal(av->vmas->len, 2);

	vma_unlink(f2);
	assert_int_equal(file->refcount, 2);
	assert_false(ptr_array_has(file->i_mmap, f2));
	assert_int_equal(av->refcount, 1);
	assert_false(ptr_array_has(av->vmas, f2));
	assert_null(f2->anon_vma);
	assert_int_equal(mm->vmas->len, 2);
	assert_null(vma_lookup(mm, BASE + 0x10000));
	vm_area_free(f2);

	vma_unlink(f1);
	vm_area_free(f1);
	assert_int_equal(file->refcount, 1);
	assert_int_equal(file->i_mmap->len, 0);
	mm_free(mm); /* drops a1 and with it the last anon_vma reference */
	shmem_file_put(file);
}

static void vma_split_gives_the_upper_half_the_matching_pgoff(void **state)
{
	const struct {
		uint64_t start, end, pgoff, split;
		bool file, anon_vma;
	} rows[] = {
		{ BASE, BASE + 0x400000, BASE >> 12, BASE + 0x1000, false, true },
		{ BASE, BASE + 0x400000, BASE >> 12, BASE + 0x200000, false, true },
		{ BASE, BASE + 0x400000, BASE >> 12, BASE + 0x3ff000, false, false },
		{ BASE + 0x100000, BASE + 0x500000, 10, BASE + 0x200000, true, true },
		{ BASE + 0x100000, BASE + 0x500000, 0, BASE + 0x101000, true, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct mm_struct *mm = mm_alloc("mm");
		struct address_space *file =
			rows[i].file ? shmem_file_alloc("f", 4096, true) : NULL;
		struct anon_vma *av = rows[i].anon_vma ? anon_vma_alloc() : NULL;
		struct userfaultfd_ctx *ctx = userfaultfd_ctx_alloc(mm);
		vm_flags_t flags = RW | VM_UFFD_RWP;
		struct vm_area_struct *before =
			make_vma(mm, 0x1000, 0x2000, RW, NULL, 1, NULL); /* a neighbour below */
		struct vm_area_struct *vma =
			make_vma(mm, rows[i].start, rows[i].end, flags, file, rows[i].pgoff, av);
		struct vm_area_struct *after = make_vma(mm, TASK_SIZE - 0x1000, TASK_SIZE, RW, NULL,
							(TASK_SIZE - 0x1000) >> 12, NULL);
		vma->vm_userfaultfd_ctx = ctx;
		uint64_t probes[] = { rows[i].start, rows[i].split - PAGE_SIZE, rows[i].split,
				      rows[i].end - PAGE_SIZE };
		uint64_t index[G_N_ELEMENTS(probes)];
		for (size_t p = 0; p < G_N_ELEMENTS(probes); p++)
			index[p] = linear_page_index(vma, probes[p]);

		struct vm_area_struct *upper = vma_split(vma, rows[i].split);

		ROW_EQ(i, vma->vm_start, rows[i].start);
		ROW_EQ(i, vma->vm_end, rows[i].split);
		ROW_EQ(i, vma->vm_pgoff, rows[i].pgoff);
		ROW_EQ(i, upper->vm_start, rows[i].split);
		ROW_EQ(i, upper->vm_end, rows[i].end);
		ROW_EQ(i, upper->vm_pgoff,
		       rows[i].pgoff + ((rows[i].split - rows[i].start) >> PAGE_SHIFT));
		/* every page keeps its index, whichever half it is in */
		for (size_t p = 0; p < G_N_ELEMENTS(probes); p++) {
			struct vm_area_struct *half = vma_lookup(mm, probes[p]);

			ROW_EQ(p, half, probes[p] < rows[i].split ? vma : upper);
			ROW_EQ(p, linear_page_index(half, probes[p]), index[p]);
		}
		ROW_EQ(i, upper->vm_flags, flags);
		ROW_EQ(i, pgprot_val(upper->vm_page_prot), pgprot_val(vma->vm_page_prot));
		ROW_EQ(i, upper->vm_file, file);
		ROW_EQ(i, upper->vm_userfaultfd_ctx, ctx);
		ROW_EQ(i, upper->vm_mm, mm);
		ROW_EQ(i, upper->anon_vma, av);
		ROW_EQ(i, vma->anon_vma, av);
		ROW_EQ(i, upper->id != vma->id, true);
		ROW_EQ(i, upper->id > after->id, true);
		ROW_EQ(i, mm->vmas->len, 4);
		ROW_EQ(i, g_ptr_array_index(mm->vmas, 0), before);
		ROW_EQ(i, g_ptr_array_index(mm->vmas, 1), vma);
		ROW_EQ(i, g_ptr_array_index(mm->vmas, 2), upper);
		ROW_EQ(i, g_ptr_array_index(mm->vmas, 3), after);
		assert_sorted_and_disjoint(mm);
		if (file) {
			ROW_EQ(i, file->i_mmap->len, 2);
			ROW_EQ(i, ptr_array_has(file->i_mmap, vma), true);
			ROW_EQ(i, ptr_array_has(file->i_mmap, upper), true);
			ROW_EQ(i, file->refcount, 3);
		}
		if (av) {
			ROW_EQ(i, av->refcount, 2);
			ROW_EQ(i, av->vmas->len, 2);
			ROW_EQ(i, ptr_array_has(av->vmas, vma), true);
			ROW_EQ(i, ptr_array_has(av->vmas, upper), true);
		}
		mm_free(mm);
		if (file) {
			ROW_EQ(i, file->refcount, 1);
			shmem_file_put(file);
		}
		userfaultfd_ctx_free(ctx);
	}
}

/* vma_try_merge_next: one prestate per row, each in a fresh mm. */
static void vma_try_merge_next_merges_only_compatible_neighbours(void **state)
{
	enum { SAME, OTHER, NONE };
	const struct {
		const char *what;
		uint64_t next_start;   /* offset of the next VMA from BASE */
		vm_flags_t next_flags; /* xor'ed into the flags */
		int file;	       /* next's file: SAME as vma's, OTHER, NONE */
		bool vma_file;	       /* vma has a file */
		int64_t pgoff_delta;   /* added to the contiguous pgoff */
		int ctx;	       /* next's uffd ctx: SAME, OTHER, NONE (vma has one) */
		int vma_av, next_av;   /* 0 = none, 1 = av1, 2 = av2 */
		bool merged;
	} rows[] = {
		{ "identical anon", 0x200000, 0, NONE, false, 0, SAME, 1, 1, true },
		{ "identical file", 0x200000, 0, SAME, true, 0, SAME, 0, 0, true },
		{ "gap of one page", 0x201000, 0, NONE, false, 0, SAME, 1, 1, false },
		{ "VM_UFFD_RWP differs", 0x200000, VM_UFFD_RWP, NONE, false, 0, SAME, 1, 1, false },
		{ "VM_WRITE differs", 0x200000, VM_WRITE, NONE, false, 0, SAME, 1, 1, false },
		{ "VM_HUGEPAGE differs", 0x200000, VM_HUGEPAGE, NONE, false, 0, SAME, 0, 0, false },
		{ "other file", 0x200000, 0, OTHER, true, 0, SAME, 0, 0, false },
		{ "anon then file", 0x200000, 0, OTHER, false, 0, SAME, 0, 0, false },
		{ "file then anon", 0x200000, 0, NONE, true, 0, SAME, 0, 0, false },
		{ "pgoff jumps forward", 0x200000, 0, SAME, true, 1, SAME, 0, 0, false },
		{ "pgoff jumps back", 0x200000, 0, SAME, true, -1, SAME, 0, 0, false },
		{ "anon pgoff discontiguous", 0x200000, 0, NONE, false, 512, SAME, 0, 0, false },
		{ "other uffd ctx", 0x200000, 0, NONE, false, 0, OTHER, 0, 0, false },
		{ "next has no uffd ctx", 0x200000, 0, NONE, false, 0, NONE, 0, 0, false },
		{ "different anon_vmas", 0x200000, 0, NONE, false, 0, SAME, 1, 2, false },
		{ "only next has anon_vma", 0x200000, 0, NONE, false, 0, SAME, 0, 2, true },
		{ "only vma has anon_vma", 0x200000, 0, NONE, false, 0, SAME, 1, 0, true },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct mm_struct *mm = mm_alloc("mm");
		struct address_space *f1 = shmem_file_alloc("f1", 4096, false);
		struct address_space *f2 = shmem_file_alloc("f2", 4096, false);
		struct anon_vma *avs[3] = { NULL, anon_vma_alloc(), anon_vma_alloc() };
		struct userfaultfd_ctx *c1 = userfaultfd_ctx_alloc(mm);
		struct userfaultfd_ctx *c2 = userfaultfd_ctx_alloc(mm);
		vm_flags_t flags = RW | VM_UFFD_RWP;
		uint64_t pgoff = rows[i].vma_file ? 100 : BASE >> 12;
		struct address_space *nf = rows[i].file == SAME	   ? (rows[i].vma_file ? f1 : NULL)
					   : rows[i].file == OTHER ? f2
								   : NULL;
		struct vm_area_struct *vma =
			make_vma(mm, BASE, BASE + 0x200000, flags, rows[i].vma_file ? f1 : NULL,
				 pgoff, avs[rows[i].vma_av]);
		uint64_t next_pgoff = pgoff + ((rows[i].next_start) >> PAGE_SHIFT) +
				      (uint64_t)rows[i].pgoff_delta;
		struct vm_area_struct *next = make_vma(
			mm, BASE + rows[i].next_start, BASE + rows[i].next_start + 0x200000,
			flags ^ rows[i].next_flags, nf, next_pgoff, avs[rows[i].next_av]);
		struct vm_area_struct *far = make_vma(mm, BASE + 0x1000000, BASE + 0x1001000, flags,
						      NULL, (BASE + 0x1000000) >> 12, NULL);
		vma->vm_userfaultfd_ctx = c1;
		next->vm_userfaultfd_ctx = rows[i].ctx == SAME	  ? c1
					   : rows[i].ctx == OTHER ? c2
								  : NULL;
		far->vm_userfaultfd_ctx = c1;
		uint64_t next_end = next->vm_end;
		int f1_ref = f1->refcount;

		bool merged = vma_try_merge_next(vma);

		if (merged != rows[i].merged)
			print_message("%s\n", rows[i].what);
		ROW_EQ(i, merged, rows[i].merged);
		if (rows[i].merged) {
			struct anon_vma *av =
				avs[rows[i].vma_av ? rows[i].vma_av : rows[i].next_av];

			ROW_EQ(i, vma->vm_end, next_end);
			ROW_EQ(i, mm->vmas->len, 2);
			ROW_EQ(i, vma_lookup(mm, next_end - 1), vma);
			ROW_EQ(i, vma->vm_pgoff, pgoff);
			ROW_EQ(i, vma->anon_vma, av);
			if (av) {
				ROW_EQ(i, av->vmas->len, 1);
				ROW_EQ(i, g_ptr_array_index(av->vmas, 0), vma);
				ROW_EQ(i, av->refcount, 1);
			}
			if (rows[i].vma_file) {
				ROW_EQ(i, f1->i_mmap->len, 1);
				ROW_EQ(i, f1->refcount, f1_ref - 1);
			}
		} else {
			ROW_EQ(i, vma->vm_end, BASE + 0x200000);
			ROW_EQ(i, mm->vmas->len, 3);
			ROW_EQ(i, vma_lookup(mm, next_end - 1), next);
			ROW_EQ(i, vma->anon_vma, avs[rows[i].vma_av]);
		}
		/* the merged VMA never reaches the far one */
		ROW_EQ(i, vma_try_merge_next(far), false);
		assert_sorted_and_disjoint(mm);
		/* anon_vmas no VMA holds were never attached: free by hand */
		for (int a = 1; a <= 2; a++)
			if (!avs[a]->refcount) {
				avs[a]->refcount = 1;
				anon_vma_put(avs[a]);
			}
		mm_free(mm);
		shmem_file_put(f1);
		shmem_file_put(f2);
		userfaultfd_ctx_free(c1);
		userfaultfd_ctx_free(c2);
	}
}

static void mm_get_unmapped_area_finds_aligned_gaps(void **state)
{
	struct mm_struct *mm = mm_alloc("mm");
	const struct {
		uint64_t hint, len, align, want;
	} empty[] = {
		{ 0, 0x1000, 0, BASE },
		{ 0, 0x1000, 1, BASE },
		{ 0x1000, 0x1000, 0, 0x1000 },
		{ 0x1234, 0x1000, 0, 0x2000 },
		{ 0x1000, PMD_SIZE, PMD_SIZE, PMD_SIZE },
		{ 0x1000, PMD_SIZE, 1ULL << 30, 1ULL << 30 },
		{ TASK_SIZE - 0x1000, 0x1000, 0, TASK_SIZE - 0x1000 },
		{ TASK_SIZE - 0x1000, 0x2000, 0, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(empty); i++)
		ROW_EQ(i, mm_get_unmapped_area(mm, empty[i].hint, empty[i].len, empty[i].align),
		       empty[i].want);

	make_vma(mm, BASE, BASE + 0x3000, RW, NULL, 0, NULL);
	make_vma(mm, BASE + 0x4000, BASE + 0x5000, RW, NULL, 0, NULL);
	make_vma(mm, BASE + PMD_SIZE, BASE + 2 * PMD_SIZE, RW, NULL, 0, NULL);
	make_vma(mm, TASK_SIZE - 0x2000, TASK_SIZE, RW, NULL, 0, NULL);
	const struct {
		uint64_t hint, len, align, want;
	} rows[] = {
		{ 0, 0x1000, 0, BASE + 0x3000 },		  /* the one-page hole */
		{ 0, 0x2000, 0, BASE + 0x5000 },		  /* too big for it */
		{ 0, PMD_SIZE - 0x5000, 0, BASE + 0x5000 },	  /* exactly fills the gap */
		{ 0, PMD_SIZE - 0x4000, 0, BASE + 2 * PMD_SIZE }, /* one page too many */
		{ 0, PMD_SIZE, PMD_SIZE, BASE + 2 * PMD_SIZE },
		{ 0, 0x1000, PMD_SIZE, BASE + 2 * PMD_SIZE },
		{ BASE + 0x3000, 0x1000, 0, BASE + 0x3000 },
		{ BASE + 0x3000, 0x2000, 0, BASE + 0x5000 },
		{ BASE + 0x4000, 0x1000, 0, BASE + 0x5000 }, /* hint inside a VMA */
		{ BASE - 0x1000, 0x1000, 0, BASE - 0x1000 },
		{ BASE - 0x1000, 0x2000, 0, BASE + 0x5000 },
		{ 0x10000, 0x1000, 0, 0x10000 },
		{ TASK_SIZE - 0x3000, 0x1000, 0, TASK_SIZE - 0x3000 },
		{ TASK_SIZE - 0x3000, 0x2000, 0, 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		ROW_EQ(i, mm_get_unmapped_area(mm, rows[i].hint, rows[i].len, rows[i].align),
		       rows[i].want);
	mm_free(mm);
}

static void shmem_files_hold_pfns_and_value_entries(void **state)
{
	struct address_space *m = shmem_file_alloc("memfd", 8, true);
	uint64_t used = mem_map.nr_used;

	assert_string_equal(m->name, "memfd");
	assert_int_equal(m->nr_pages, 8);
	assert_true(m->huge);
	assert_int_equal(m->refcount, 1);
	assert_int_equal(m->i_mmap->len, 0);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(m->i_pages[i], 0);

	assert_int_equal(xa_mk_pfn(5), 10);
	assert_int_equal(xa_to_pfn(10), 5);
	assert_false(xa_is_value(xa_mk_pfn(0x12345)));
	assert_true(xa_is_value((7 << 1) | XA_VALUE_BIT));

	/* index 4-7: one order-2 folio; index 2: an order-0 folio with an extra
	 * GUP reference; index 1: a swapped-out page (value entry of slot 7) */
	struct folio *big = folio_alloc(2);
	struct folio *small = folio_alloc(0);
	big->refcount = 4;
	big->index = 4;
	big->mapping = m;
	for (uint64_t i = 0; i < 4; i++)
		m->i_pages[4 + i] = xa_mk_pfn(folio_pfn(big) + i);
	small->refcount = 2;
	small->index = 2;
	small->mapping = m;
	m->i_pages[2] = xa_mk_pfn(folio_pfn(small));
	m->i_pages[1] = (7 << 1) | XA_VALUE_BIT;
	const struct {
		uint64_t index;
		struct folio *want;
	} rows[] = {
		{ 0, NULL }, { 1, NULL }, { 2, small }, { 3, NULL },	{ 4, big },
		{ 5, big },  { 7, big },  { 8, NULL },	{ 1000, NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		ROW_EQ(i, filemap_get_folio(m, rows[i].index), rows[i].want);
	assert_int_equal(filemap_get_folio(m, 6)->index + 2, 6);

	/* the last put drops the page cache's references */
	m->refcount++;
	shmem_file_put(m);
	assert_int_equal(big->refcount, 4);
	shmem_file_put(m);
	assert_int_equal(big->in_use, 0);
	assert_int_equal(small->refcount, 1);
	assert_null(small->mapping);
	assert_int_equal(mem_map.nr_used, used + 1);
	folio_put(small);
	assert_int_equal(mem_map.nr_used, used);

	/* a zero-length file still gets an i_pages array */
	struct address_space *z = shmem_file_alloc("empty", 0, false);
	assert_non_null(z->i_pages);
	assert_null(filemap_get_folio(z, 0));
	shmem_file_put(z);
}

/* mm_free drops every VMA, file and anon_vma reference and every table,
 * deposited THP tables included. */
static void mm_free_releases_tables_and_deposits(void **state)
{
	uint64_t live = pt_pool.nr_live;
	struct mm_struct *mm = mm_alloc("mm");
	struct address_space *file = shmem_file_alloc("f", 16, false);
	struct anon_vma *av = anon_vma_alloc();

	make_vma(mm, BASE, BASE + PMD_SIZE, RW, NULL, BASE >> 12, av);
	make_vma(mm, BASE + PMD_SIZE, BASE + PMD_SIZE + 0x4000, RW | VM_SHARED, file, 0, NULL);
	assert_true(pte_alloc(pmd_lookup(mm->pgd, BASE, true, mm->id), mm->id));
	assert_true(pte_alloc(pmd_lookup(mm->pgd, BASE + (1ULL << 30), true, mm->id), mm->id));
	/* two deposited tables chained under one PMD address */
	uint64_t t1 = pt_alloc(PT_PTE, mm->id), t2 = pt_alloc(PT_PTE, mm->id);
	uint64_t *key = g_new(uint64_t, 1);
	*key = BASE;
	pt_get(t1)->next_deposit = t2;
	g_hash_table_insert(mm->deposit, key, (gpointer)(uintptr_t)t1);
	/* PGD + PUD + PMD + PTE, another PMD + PTE, two deposits */
	assert_int_equal(pt_pool.nr_live, live + 8);
	assert_int_equal(file->refcount, 2);

	mm_free(mm);
	assert_int_equal(pt_pool.nr_live, live);
	assert_false(pt_is_live(t1));
	assert_false(pt_is_live(t2));
	assert_int_equal(file->refcount, 1);
	assert_int_equal(file->i_mmap->len, 0);
	shmem_file_put(file);
}

/* mm_discard frees host memory only: page tables stay for the pool to drop,
 * the file keeps its page cache, and another mm's VMAs keep their anon_vma. */
static void mm_discard_frees_host_memory_only(void **state)
{
	struct mm_struct *mm = mm_alloc("mm");
	struct address_space *file = shmem_file_alloc("f", 16, false);
	uint64_t pgd = mm->pgd;

	make_vma(mm, BASE, BASE + 0x4000, RW | VM_SHARED, file, 0, NULL);
	make_vma(mm, BASE + 0x4000, BASE + 0x8000, RW, NULL, 0, NULL);
	assert_true(pte_alloc(pmd_lookup(mm->pgd, BASE, true, mm->id), mm->id));
	uint64_t live = pt_pool.nr_live;
	assert_int_equal(file->i_mmap->len, 1);

	mm_discard(mm);
	assert_int_equal(file->i_mmap->len, 0);
	assert_int_equal(pt_pool.nr_live, live);
	assert_true(pt_is_live(pgd));
	shmem_file_discard(file);
}

/*
 * MODEL BUG (model/vma.c mm_discard): the first loop g_free()s every VMA, then
 * the anon_vma loop reads ->vm_mm through av->vmas, which still points at
 * those freed VMAs (heap-use-after-free; visible with -DMMSIM_SANITIZE=ON).
 * Fix: drop this mm's VMAs from their anon_vma before freeing them.
 */
static void mm_discard_keeps_another_mms_share_of_an_anon_vma(void **state)
{
	struct mm_struct *parent = mm_alloc("parent");
	struct mm_struct *child = mm_alloc("child");
	struct anon_vma *av = anon_vma_alloc();

	make_vma(parent, BASE, BASE + 0x4000, RW, NULL, BASE >> 12, av);
	make_vma(parent, BASE + 0x8000, BASE + 0xc000, RW, NULL, (BASE + 0x8000) >> 12, av);
	struct vm_area_struct *c = make_vma(child, BASE, BASE + 0x4000, RW, NULL, BASE >> 12, av);
	assert_int_equal(av->refcount, 3);

	mm_discard(parent);
	assert_int_equal(av->refcount, 1);
	assert_int_equal(av->vmas->len, 1);
	assert_ptr_equal(g_ptr_array_index(av->vmas, 0), c);
	mm_discard(child);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(mm_alloc_gives_each_mm_an_id_and_a_pgd, vma_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(find_vma_and_vma_lookup_follow_address_order,
						vma_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(vma_link_and_unlink_maintain_i_mmap_and_anon_vma,
						vma_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(vma_split_gives_the_upper_half_the_matching_pgoff,
						vma_setup, t_model_teardown),
		cmocka_unit_test_setup_teardown(
			vma_try_merge_next_merges_only_compatible_neighbours, vma_setup,
			t_model_teardown),
		cmocka_unit_test_setup_teardown(mm_get_unmapped_area_finds_aligned_gaps, vma_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(shmem_files_hold_pfns_and_value_entries, vma_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(mm_free_releases_tables_and_deposits, vma_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(mm_discard_frees_host_memory_only, vma_setup,
						t_model_teardown),
		cmocka_unit_test_setup_teardown(mm_discard_keeps_another_mms_share_of_an_anon_vma,
						vma_setup, t_model_teardown),
	};

	return cmocka_run_group_tests_name("model_vma", tests, NULL, NULL);
}
