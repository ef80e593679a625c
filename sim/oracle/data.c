/* sim/oracle/data.c - the content shadow: the last value written per backing.
 *
 * Backings: shared shmem is (file, index); private anon is (mm, page
 * address); private shmem is its own writes (COW copies), else the file's.
 * Reads must return the expected value; a page never written reads 0.
 */
#include "oracle_internal.h"

#include "linux/mm.h"

void data_init(struct oracle *o)
{
	o->data_mm = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					   (GDestroyNotify)dmap_free);
	o->data_file = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					     (GDestroyNotify)dmap_free);
}

void data_free(struct oracle *o)
{
	g_hash_table_destroy(o->data_mm);
	g_hash_table_destroy(o->data_file);
}

/* A process's own copies, keyed by page address >> PAGE_SHIFT. */
static struct dmap *mm_table(struct oracle *o, uint64_t mm_id, bool create)
{
	struct dmap *t = g_hash_table_lookup(o->data_mm, &mm_id);
	if (!t && create) {
		uint64_t *key = g_new(uint64_t, 1);
		*key = mm_id;
		t = dmap_new();
		g_hash_table_insert(o->data_mm, key, t);
	}
	return t;
}

static struct dmap *file_table(struct oracle *o, struct address_space *f, bool create)
{
	struct dmap *t = g_hash_table_lookup(o->data_file, f);
	if (!t && create) {
		t = dmap_new();
		g_hash_table_insert(o->data_file, f, t);
	}
	return t;
}

static void set_value(struct dmap *t, uint64_t key, uint64_t value)
{
	dmap_set(t, key, &(struct dval){ .value = value });
}

/* The shadow slot a write at addr lands in. */
static struct dmap *write_table(struct oracle *o, const struct vm_area_struct *vma, uint64_t mm_id,
				uint64_t addr, uint64_t *key)
{
	if (vma->vm_file && (vma->vm_flags & VM_SHARED)) {
		*key = linear_page_index(vma, addr);
		return file_table(o, vma->vm_file, true);
	}
	*key = addr >> PAGE_SHIFT;
	return mm_table(o, mm_id, true);
}

/* The value a read at addr must return (own copy first, then the file);
 * *t and *key say where it is kept. */
static bool expected(struct oracle *o, const struct vm_area_struct *vma, uint64_t mm_id,
		     uint64_t addr, struct dval *d, struct dmap **t, uint64_t *key)
{
	if (!(vma->vm_file && (vma->vm_flags & VM_SHARED))) {
		*t = mm_table(o, mm_id, false);
		*key = addr >> PAGE_SHIFT;
		bool found = dmap_get(*t, *key, d);
		if (found || !vma->vm_file)
			return found;
	}
	*t = file_table(o, vma->vm_file, false);
	*key = linear_page_index(vma, addr);
	return dmap_get(*t, *key, d);
}

/* mremap: the process's own copies (private anon, private shmem COW pages)
 * follow the move; the shrunk-away tail and what the destination held are
 * gone. Shared shmem is keyed by file index and does not move. */
static void data_mremap(struct oracle *o, const struct mm_event *ev)
{
	struct dmap *t = mm_table(o, ev->mm_id, false);
	uint64_t moved = ev->len < ev->new_len ? ev->len : ev->new_len;
	struct dmap_iter it;
	uint64_t page;
	struct dval v;

	if (!t)
		return;
	struct moved_val {
		uint64_t page;
		struct dval v;
	};
	g_autoptr(GArray) moved_vals = g_array_new(FALSE, FALSE, sizeof(struct moved_val));
	dmap_iter_init(&it, t);
	while (dmap_iter_next(&it, &page, &v)) {
		uint64_t addr = page << PAGE_SHIFT;
		bool in_old = addr >= ev->address && addr < ev->address + ev->len;
		bool in_new = addr >= ev->new_address && addr < ev->new_address + ev->new_len;
		if (!in_old && !in_new)
			continue;
		if (in_old && addr - ev->address < moved) {
			struct moved_val mv = {
				(addr - ev->address + ev->new_address) >> PAGE_SHIFT, v
			};
			g_array_append_val(moved_vals, mv);
		}
		dmap_iter_remove(&it);
	}
	for (guint i = 0; i < moved_vals->len; i++) {
		const struct moved_val *mv = &g_array_index(moved_vals, struct moved_val, i);
		dmap_set(t, mv->page, &mv->v);
	}
}

/* fork (the mm-level EV_FORK): the child's private memory reads what the
 * parent's did (COW copies of anon and private shmem pages, same addresses);
 * shared shmem stays keyed by the file, so it is shared with the child. */
static bool data_fork(struct oracle *o, const struct mm_event *ev)
{
	struct dmap *pt = ev->ctx_id ? NULL : mm_table(o, ev->mm_id, false);
	struct dmap_iter it;
	uint64_t page;
	struct dval d;

	if (!pt)
		return true;
	struct dmap *ct = mm_table(o, ev->value, true);
	dmap_iter_init(&it, pt);
	while (dmap_iter_next(&it, &page, &d))
		dmap_set(ct, page, &(struct dval){ .value = d.value, .lazy = d.lazy });
	return true;
}

/* UFFDIO_MOVE: the private value follows the page (ledger_move.c). */
static void data_uffd_move(struct oracle *o, const struct mm_event *ev)
{
	struct dmap *t = mm_table(o, ev->mm_id, false);

	for (uint64_t off = 0; t && off < ev->len; off += PAGE_SIZE) {
		uint64_t src = (ev->new_address + off) >> PAGE_SHIFT;
		uint64_t dst = (ev->address + off) >> PAGE_SHIFT;
		struct dval v;
		bool had = dmap_get(t, src, &v);

		dmap_remove(t, src);
		dmap_remove(t, dst);
		if (had)
			dmap_set(t, dst, &v);
	}
}

/* A punch hole unmaps the file's pages from every mapping but keeps private
 * COW copies (unmap_mapping_range() without even_cows). The zero page a
 * UFFDIO_ZEROPAGE put into a private mapping is no COW copy (no normal
 * page: zap_present_ptes() does not ask should_zap_folio()), so it goes,
 * and the page reads the file again (host-checked: traces/host/
 * hostreplay-punch-zeropage-private-shmem). */
static void data_punch_zero_fills(struct oracle *o, const struct step *s, struct address_space *f)
{
	for (guint m = 0; o->w->mms && m < o->w->mms->len; m++) {
		struct mm_struct *mm = g_ptr_array_index(o->w->mms, m);
		struct dmap_iter it;
		uint64_t page;
		struct dval v;

		dmap_iter_init(&it, mm_table(o, mm->id, false));
		while (dmap_iter_next(&it, &page, &v)) {
			uint64_t addr = page << PAGE_SHIFT;
			struct vm_area_struct *vma = vma_lookup(mm, addr);

			if (v.zero && vma && vma->vm_file == f &&
			    step_page_in_range(s, "pages", linear_page_index(vma, addr)))
				dmap_iter_remove(&it);
		}
	}
}

/* ftruncate: the file's data beyond the new size and the private COW copies
 * of it (truncate unmaps even_cows) are gone. */
static void data_ftruncate(struct oracle *o, const struct step *s)
{
	struct address_space *f = step_file(o, s);
	struct dmap_iter it;
	uint64_t page;
	struct dval v;

	if (!f)
		return;
	dmap_iter_init(&it, file_table(o, f, false));
	while (dmap_iter_next(&it, &page, &v))
		if (page >= f->nr_pages)
			dmap_iter_remove(&it);
	for (guint m = 0; o->w->mms && m < o->w->mms->len; m++) {
		struct mm_struct *mm = g_ptr_array_index(o->w->mms, m);

		dmap_iter_init(&it, mm_table(o, mm->id, false));
		while (dmap_iter_next(&it, &page, &v)) {
			uint64_t addr = page << PAGE_SHIFT;
			struct vm_area_struct *vma = vma_lookup(mm, addr);

			if (vma && vma->vm_file == f && linear_page_index(vma, addr) >= f->nr_pages)
				dmap_iter_remove(&it);
		}
	}
}

bool data_event(struct oracle *o, const struct mm_event *ev)
{
	if (ev->kind == EV_UFFD_MOVE) {
		data_uffd_move(o, ev);
		return true;
	}
	if (ev->kind == EV_FORK)
		return data_fork(o, ev);
	if (ev->kind == EV_MREMAP) {
		data_mremap(o, ev);
		return true;
	}
	if (ev->kind != EV_ACCESS && !(ev->kind == EV_UFFD_FILL && !ev->continue_fill))
		return true;
	struct mm_struct *mm = oracle_mm(o, ev->mm_id);
	if (!mm)
		return true;
	uint64_t n =
		ev->kind == EV_UFFD_FILL && ev->len ? (ev->len + PAGE_SIZE - 1) / PAGE_SIZE : 1;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t addr = ev->address + i * PAGE_SIZE, key;
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		if (!vma)
			continue;
		if (ev->kind == EV_UFFD_FILL || ev->write) {
			struct dmap *t = write_table(o, vma, mm->id, addr, &key);
			dmap_set(t, key,
				 &(struct dval){ .value = ev->value,
						 .zero = ev->zero_fill && vma->vm_file &&
							 !(vma->vm_flags & VM_SHARED) });
			continue;
		}
		struct dval dv;
		struct dmap *dt;
		const struct dval *d = expected(o, vma, mm->id, addr, &dv, &dt, &key) ? &dv : NULL;
		uint64_t want = d ? d->value : 0;
		/* A FOLL_WRITE access that stores nothing (MADV_POPULATE_WRITE)
		 * still breaks COW in a private file mapping: from now on the
		 * page holds its own copy, and later file writes do not show. */
		if (ev->value == want && (ev->foll_flags & FOLL_WRITE) && vma->vm_file &&
		    !(vma->vm_flags & VM_SHARED)) {
			set_value(mm_table(o, mm->id, true), addr >> PAGE_SHIFT, want);
			continue;
		}
		if (ev->value == want)
			continue;
		if (d && d->lazy && ev->value == 0) {
			/* discarded: it reads 0 until written */
			dmap_set(dt, key, &(struct dval){ .zero = d->zero });
			continue;
		}
		return oracle_fail(
			o, "data loss", mm->id, addr, want, ev->value,
			"a %s read returned 0x%" G_GINT64_MODIFIER
			"x, the last value stored to this backing is 0x%" G_GINT64_MODIFIER "x%s",
			ev->who == ACCESS_GUP ? "GUP" : "user", ev->value, want,
			d && d->lazy ? " (lazyfree: 0 also allowed)" : "");
	}
	return true;
}

/* Drop the shadow entries of mm table t inside the step's range. */
static void range_drop(struct dmap *t, const struct step *s, const struct region *r)
{
	struct dmap_iter it;
	uint64_t page;
	struct dval v;

	dmap_iter_init(&it, t);
	while (dmap_iter_next(&it, &page, &v)) {
		uint64_t addr = page << PAGE_SHIFT;
		if (addr < r->start || addr >= r->start + r->len)
			continue;
		if (s && !step_page_in_range(s, "pages", (addr - r->start) / PAGE_SIZE))
			continue;
		dmap_iter_remove(&it);
	}
}

/* madvise acts on whatever VMAs cover the range (madvise_walk_vmas()), not
 * on what the step's region name once mapped: after an mremap a stale name
 * may cover another mapping. MADV_FREE applies to anonymous VMAs only
 * (madvise_free_single_vma()); MADV_DONTNEED drops private copies. */
static void data_madvise(struct oracle *o, const struct step *s, const struct region *r,
			 uint64_t adv)
{
	struct dmap *t = mm_table(o, r->mm->id, false);
	struct dmap_iter it;
	uint64_t page;
	struct dval v;

	if (!t || (adv != O_MADV_FREE && adv != O_MADV_DONTNEED))
		return;
	dmap_iter_init(&it, t);
	while (dmap_iter_next(&it, &page, &v)) {
		uint64_t addr = page << PAGE_SHIFT;
		struct vm_area_struct *vma;

		if (addr < r->start || addr >= r->start + r->len ||
		    !step_page_in_range(s, "pages", (addr - r->start) / PAGE_SIZE))
			continue;
		vma = vma_lookup(r->mm, addr);
		if (adv == O_MADV_FREE && vma && vma_is_anonymous(vma)) {
			v.lazy = true;
			dmap_iter_set(&it, &v);
		}
		if (adv == O_MADV_DONTNEED && !(vma && vma->vm_file && (vma->vm_flags & VM_SHARED)))
			dmap_iter_remove(&it);
	}
}

void data_step_end(struct oracle *o, const struct step *s, int result)
{
	/* madvise_walk_vmas() advises every mapped part of a range with holes
	 * and only then fails with -ENOMEM. */
	if (result != RESULT_OK && !(s->cmd == CMD_MADVISE && result == ENOMEM))
		return;
	struct region *r;
	uint64_t adv = step_u64(s, "advice", 0);

	switch (s->cmd) {
	case CMD_MMAP: /* fresh memory over whatever was there */
		r = step_region(o, s);
		if (r)
			range_drop(mm_table(o, r->mm->id, false), NULL, r);
		break;
	case CMD_MUNMAP:
	case CMD_MADVISE:
		r = step_region(o, s);
		if (!r)
			break;
		if (s->cmd == CMD_MADVISE) {
			data_madvise(o, s, r, adv);
			break;
		}
		/* Private memory (anon, or private COW copies of shmem) goes back to
		 * zero-fill or to the file; shared shmem keeps its page cache. */
		if (!(r->file && r->shared))
			range_drop(mm_table(o, r->mm->id, false), s, r);
		break;
	case CMD_FTRUNCATE:
		data_ftruncate(o, s);
		break;
	case CMD_FALLOCATE: {
		struct address_space *f = step_file(o, s);
		struct dmap_iter it;
		uint64_t page;
		struct dval v;
		if (!f)
			break;
		data_punch_zero_fills(o, s, f);
		dmap_iter_init(&it, file_table(o, f, false));
		while (dmap_iter_next(&it, &page, &v))
			if (step_page_in_range(s, "pages", page))
				dmap_iter_remove(&it);
		break;
	}
	default:
		break;
	}
}
