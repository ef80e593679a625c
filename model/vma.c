/* model/vma.c - mm_struct, VMA tree, anon_vma and shmem file objects (no policy). */
#include "mm_types.h"

#include <string.h>

static uint64_t next_mm_id = 1;
static uint32_t next_vma_id = 1;
static uint64_t next_anon_vma_own = 1;

uint64_t anon_vma_new_own(void) { return next_anon_vma_own++; }

void mm_ids_reset(void)
{
	next_mm_id = 1;
	next_vma_id = 1;
}

pgprot_t vm_get_page_prot(vm_flags_t f)
{
	/* x86-64 protection_map: private writable maps read-only (COW). */
	switch (f & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)) {
	case 0:
	case VM_SHARED:
		return PAGE_NONE;
	case VM_WRITE | VM_SHARED:
	case VM_WRITE | VM_READ | VM_SHARED:
		return PAGE_SHARED;
	case VM_WRITE | VM_SHARED | VM_EXEC:
	case VM_WRITE | VM_READ | VM_SHARED | VM_EXEC:
		return __pgprot(pgprot_val(PAGE_SHARED) & ~_PAGE_NX); /* PAGE_SHARED_EXEC */
	default: {
		pgprot_t p = PAGE_COPY;
		if (f & VM_EXEC)
			p.pgprot &= ~_PAGE_NX;
		return p;
	}
	}
}

struct mm_struct *mm_alloc(const char *name)
{
	struct mm_struct *mm = g_new0(struct mm_struct, 1);
	mm->id = next_mm_id++;
	mm->name = g_strdup(name);
	mm->pgd = pt_alloc(PT_PGD, mm->id);
	mm->vmas = g_ptr_array_new();
	mm->deposit = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	mm->mm_users = 1;
	return mm;
}

void mm_free(struct mm_struct *mm)
{
	while (mm->vmas->len) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, 0);
		vma_unlink(vma);
		vm_area_free(vma);
	}
	g_ptr_array_free(mm->vmas, TRUE);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, mm->deposit);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		uint64_t t = (uint64_t)(uintptr_t)v;
		while (t) {
			uint64_t next = pt_get(t)->next_deposit;
			pt_free(t);
			t = next;
		}
	}
	g_hash_table_destroy(mm->deposit);
	pt_free_tree(mm->pgd);
	g_free(mm->name);
	g_free(mm);
}

/* Index of the first VMA with vm_end > addr. */
static guint vma_search(struct mm_struct *mm, uint64_t addr)
{
	guint lo = 0, hi = mm->vmas->len;
	while (lo < hi) {
		guint mid = (lo + hi) / 2;
		struct vm_area_struct *v = g_ptr_array_index(mm->vmas, mid);
		if (v->vm_end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
	guint i = vma_search(mm, addr);
	return i < mm->vmas->len ? g_ptr_array_index(mm->vmas, i) : NULL;
}

struct vm_area_struct *vma_lookup(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *v = find_vma(mm, addr);
	return v && v->vm_start <= addr ? v : NULL;
}

struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *vma = g_new0(struct vm_area_struct, 1);
	vma->vm_mm = mm;
	vma->id = next_vma_id++;
	return vma;
}

void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	g_ptr_array_insert(mm->vmas, (gint)vma_search(mm, vma->vm_start), vma);
	if (vma->vm_file) {
		g_ptr_array_add(vma->vm_file->i_mmap, vma);
		vma->vm_file->refcount++;
	}
	if (vma->anon_vma)
		anon_vma_attach(vma->anon_vma, vma);
}

void vma_unlink(struct vm_area_struct *vma)
{
	g_ptr_array_remove(vma->vm_mm->vmas, vma);
	if (vma->vm_file) {
		g_ptr_array_remove(vma->vm_file->i_mmap, vma);
		shmem_file_put(vma->vm_file);
	}
	if (vma->anon_vma) {
		g_ptr_array_remove(vma->anon_vma->vmas, vma);
		anon_vma_put(vma->anon_vma);
		vma->anon_vma = NULL;
	}
}

void vm_area_free(struct vm_area_struct *vma) { g_free(vma); }

struct vm_area_struct *vma_split(struct vm_area_struct *vma, uint64_t addr)
{
	g_assert(addr > vma->vm_start && addr < vma->vm_end && !(addr & ~PAGE_MASK));
	struct vm_area_struct *upper = vm_area_alloc(vma->vm_mm);
	uint32_t id = upper->id;
	*upper = *vma;
	upper->id = id;
	upper->vm_start = addr;
	upper->vm_pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	vma->vm_end = addr;
	struct anon_vma *av = upper->anon_vma;
	upper->anon_vma = NULL;
	g_ptr_array_insert(vma->vm_mm->vmas, (gint)vma_search(vma->vm_mm, addr), upper);
	if (upper->vm_file) {
		g_ptr_array_add(upper->vm_file->i_mmap, upper);
		upper->vm_file->refcount++;
	}
	if (av) {
		/* Both halves share the anon_vma, as a split does in the kernel. */
		upper->anon_vma = av;
		anon_vma_attach(av, upper);
	}
	return upper;
}

bool vma_try_merge_next(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	guint i = vma_search(mm, vma->vm_start);
	if (i + 1 >= mm->vmas->len)
		return false;
	struct vm_area_struct *next = g_ptr_array_index(mm->vmas, i + 1);
	if (next->vm_start != vma->vm_end || next->vm_flags != vma->vm_flags ||
	    next->vm_file != vma->vm_file || next->vm_userfaultfd_ctx != vma->vm_userfaultfd_ctx ||
	    next->vm_pgoff != vma->vm_pgoff + vma_pages(vma))
		return false;
	/* is_mergeable_anon_vma(): the same anon_vma, or one side without
	 * one and the other not chained to a parent's (the kernel's VMAs of
	 * a fork child each have their own anon_vma). */
	if (next->anon_vma && vma->anon_vma &&
	    (next->anon_vma != vma->anon_vma || next->anon_vma_own != vma->anon_vma_own))
		return false;
	if ((next->anon_vma && !vma->anon_vma && next->anon_vma_chained) ||
	    (vma->anon_vma && !next->anon_vma && vma->anon_vma_chained))
		return false;
	if (next->anon_vma && !vma->anon_vma) {
		vma->anon_vma = next->anon_vma;
		vma->anon_vma_own = next->anon_vma_own;
		vma->anon_vma_chained = next->anon_vma_chained;
		anon_vma_attach(vma->anon_vma, vma);
	}
	vma->vm_end = next->vm_end;
	vma_unlink(next);
	vm_area_free(next);
	return true;
}

uint64_t mm_get_unmapped_area(struct mm_struct *mm, uint64_t hint, uint64_t len, uint64_t align)
{
	uint64_t addr = hint ? hint : 0x7f0000000000ULL;
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	addr = (addr + align - 1) & ~(align - 1);
	for (guint i = vma_search(mm, addr); i < mm->vmas->len; i++) {
		struct vm_area_struct *v = g_ptr_array_index(mm->vmas, i);
		if (v->vm_start >= addr + len)
			break;
		addr = (v->vm_end + align - 1) & ~(align - 1);
	}
	return addr + len <= TASK_SIZE ? addr : 0;
}

struct anon_vma *anon_vma_alloc(void)
{
	struct anon_vma *av = g_new0(struct anon_vma, 1);
	av->vmas = g_ptr_array_new();
	return av;
}

void anon_vma_attach(struct anon_vma *av, struct vm_area_struct *vma)
{
	if (!g_ptr_array_find(av->vmas, vma, NULL)) {
		g_ptr_array_add(av->vmas, vma);
		av->refcount++;
	}
}

void anon_vma_put(struct anon_vma *av)
{
	if (--av->refcount > 0)
		return;
	g_ptr_array_free(av->vmas, TRUE);
	g_free(av);
}

struct address_space *shmem_file_alloc(const char *name, uint64_t nr_pages, bool huge)
{
	struct address_space *m = g_new0(struct address_space, 1);
	m->name = g_strdup(name);
	m->nr_pages = nr_pages;
	m->nr_slots = shmem_nr_slots(nr_pages);
	m->i_pages = g_new0(uint64_t, m->nr_slots);
	m->i_mmap = g_ptr_array_new();
	m->huge = huge;
	m->refcount = 1;
	return m;
}

void shmem_file_put(struct address_space *m)
{
	if (--m->refcount > 0)
		return;
	/* Drop the page cache's references. */
	for (uint64_t i = 0; i < m->nr_slots; i++) {
		uint64_t e = m->i_pages[i];
		if (!e || xa_is_value(e))
			continue;
		struct folio *f = pfn_folio(xa_to_pfn(e));
		if (f->index == i) {
			uint64_t n = folio_nr_pages(f);
			f->mapping = NULL;
			folio_put_refs(f, (int)n);
		}
	}
	g_ptr_array_free(m->i_mmap, TRUE);
	g_free(m->i_pages);
	g_free(m->name);
	g_free(m);
}

struct folio *filemap_get_folio(struct address_space *m, uint64_t index)
{
	if (index >= m->nr_slots)
		return NULL;
	uint64_t e = m->i_pages[index];
	if (!e || xa_is_value(e))
		return NULL;
	return pfn_folio(xa_to_pfn(e));
}

void mm_discard(struct mm_struct *mm)
{
	/* First take this mm's VMAs out of their anon_vmas, then free them. */
	for (guint i = 0; i < mm->vmas->len; i++) {
		struct vm_area_struct *vma = g_ptr_array_index(mm->vmas, i);
		struct anon_vma *av = vma->anon_vma;
		if (vma->vm_file)
			g_ptr_array_remove(vma->vm_file->i_mmap, vma);
		if (av && g_ptr_array_remove(av->vmas, vma) && --av->refcount <= 0) {
			g_ptr_array_free(av->vmas, TRUE);
			g_free(av);
		}
	}
	for (guint i = 0; i < mm->vmas->len; i++)
		g_free(g_ptr_array_index(mm->vmas, i));
	g_ptr_array_free(mm->vmas, TRUE);
	g_hash_table_destroy(mm->deposit);
	g_free(mm->name);
	g_free(mm);
}

void shmem_file_discard(struct address_space *m)
{
	g_ptr_array_free(m->i_mmap, TRUE);
	g_free(m->i_pages);
	g_free(m->name);
	g_free(m);
}
