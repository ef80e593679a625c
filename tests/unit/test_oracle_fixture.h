/* tests/unit/test_oracle_fixture.h - hand-built states for the oracle tests.
 *
 * The oracle must catch corrupted states that no kernel path would build on
 * purpose, so these helpers write page tables, folios and events directly
 * with model APIs (and the rmap accounting helpers), never through sim/mm
 * paths. Included by the test_oracle_*.c files only.
 */
#ifndef TEST_ORACLE_FIXTURE_H
#define TEST_ORACLE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h must follow the headers above */
#include <cmocka.h>

#include "mm/internal.h"
#include "oracle/oracle.h"
#include "patch.h"
#include "sched.h"

#define FX_BASE 0x7f0000000000ULL /* PMD aligned */

struct fx {
	struct world w;
	struct oracle *o;
	struct mm_struct *mm;
	struct step steps[4]; /* owned args freed in fx_teardown */
	int nsteps;
	struct violation v;
};

/* Another process, torn down with the fixture. */
static inline struct mm_struct *fx_mm(struct fx *fx, const char *name)
{
	struct mm_struct *mm = mm_alloc(name);
	g_ptr_array_add(fx->w.mms, mm);
	return mm;
}

static inline int fx_setup(void **state)
{
	machine_init(1 << 14, 64);
	patch_set_level("v6");
	struct fx *fx = g_new0(struct fx, 1);
	fx->w.mms = g_ptr_array_new();
	fx->w.regions = g_ptr_array_new();
	fx->w.files = g_ptr_array_new();
	fx->w.uffds = g_ptr_array_new();
	fx->w.proc_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	fx->w.region_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	fx->w.file_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	fx->w.uffd_by_name = g_hash_table_new(g_str_hash, g_str_equal);
	fx->mm = fx_mm(fx, "P");
	fx->o = oracle_new(&fx->w);
	*state = fx;
	return 0;
}

static inline void fx_free_step(struct step *s)
{
	for (int i = 0; i < MAX_KEYS; i++)
		if (s->args[i].spans)
			g_array_free(s->args[i].spans, TRUE);
	memset(s, 0, sizeof(*s));
}

static inline int fx_teardown(void **state)
{
	struct fx *fx = *state;
	oracle_free(fx->o);
	if (fx->v.detail)
		g_string_free(fx->v.detail, TRUE);
	for (int i = 0; i < 4; i++)
		fx_free_step(&fx->steps[i]);
	for (guint i = 0; i < fx->w.regions->len; i++) {
		struct region *r = g_ptr_array_index(fx->w.regions, i);
		g_free(r->name);
		g_free(r);
	}
	/* A hand-corrupted state cannot be torn down through the paths:
	 * free host memory only, then the machine's pools wholesale. */
	for (guint i = 0; i < fx->w.mms->len; i++)
		mm_discard(g_ptr_array_index(fx->w.mms, i));
	for (guint i = 0; i < fx->w.files->len; i++)
		shmem_file_discard(g_ptr_array_index(fx->w.files, i));
	g_ptr_array_free(fx->w.mms, TRUE);
	g_ptr_array_free(fx->w.regions, TRUE);
	g_ptr_array_free(fx->w.files, TRUE);
	g_ptr_array_free(fx->w.uffds, TRUE);
	g_hash_table_destroy(fx->w.proc_by_name);
	g_hash_table_destroy(fx->w.region_by_name);
	g_hash_table_destroy(fx->w.file_by_name);
	g_hash_table_destroy(fx->w.uffd_by_name);
	machine_destroy();
	g_free(fx);
	return 0;
}

static inline struct address_space *fx_file(struct fx *fx, const char *name, uint64_t nr_pages)
{
	struct address_space *f = shmem_file_alloc(name, nr_pages, true);
	g_ptr_array_add(fx->w.files, f);
	g_hash_table_insert(fx->w.file_by_name, (char *)f->name, f);
	return f;
}

/* A VMA of npages at start with flags; a region "A".. of the same extent. */
static inline struct vm_area_struct *fx_vma(struct fx *fx, struct mm_struct *mm, const char *name,
					    uint64_t start, uint64_t npages, vm_flags_t flags,
					    struct address_space *file, uint64_t pgoff)
{
	struct vm_area_struct *vma = vm_area_alloc(mm);
	vma->vm_start = start;
	vma->vm_end = start + npages * PAGE_SIZE;
	vma->vm_flags = flags | VM_MAYREAD | VM_MAYWRITE | (flags & VM_SHARED ? VM_MAYSHARE : 0);
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
	vma->vm_file = file;
	vma->vm_pgoff = file ? pgoff : start >> PAGE_SHIFT;
	vma_link(mm, vma);
	if (!file || !(flags & VM_SHARED))
		anon_vma_prepare(vma);
	struct region *r = g_new0(struct region, 1);
	r->name = g_strdup(name);
	r->mm = mm;
	r->start = start;
	r->len = npages * PAGE_SIZE;
	r->file = file;
	r->file_pgoff = pgoff;
	r->shared = flags & VM_SHARED;
	g_ptr_array_add(fx->w.regions, r);
	g_hash_table_insert(fx->w.region_by_name, r->name, r);
	return vma;
}

static inline pte_t *fx_ptep(struct mm_struct *mm, uint64_t addr)
{
	pmd_t *pmd = pmd_lookup(mm->pgd, addr, true, mm->id);
	assert_true(pte_alloc(pmd, mm->id));
	return pte_offset_map(pmd, addr);
}

/* Map a fresh anon page at addr (accounted as the kernel would). */
static inline struct folio *fx_anon_page(struct vm_area_struct *vma, uint64_t addr,
					 uint64_t content)
{
	struct folio *f = folio_alloc(0);
	assert_non_null(f);
	folio_page(f, 0)->content = content;
	folio_add_new_anon_rmap(f, vma, addr, true);
	folio_add_anon_rmap_ptes(f, folio_page(f, 0), 1, vma, true);
	*fx_ptep(vma->vm_mm, addr) = pfn_pte(folio_pfn(f), vma->vm_page_prot);
	return f;
}

/* Put a folio of order into file's page cache at index (nr_pages refs). */
static inline struct folio *fx_cache_folio(struct address_space *file, uint64_t index,
					   unsigned order)
{
	struct folio *f = folio_alloc(order);
	assert_non_null(f);
	f->mapping = file;
	f->index = index;
	folio_set_flag(f, FOLIO_swapbacked | FOLIO_uptodate);
	for (uint64_t i = 0; i < folio_nr_pages(f); i++)
		file->i_pages[index + i] = xa_mk_pfn(folio_pfn(f) + i);
	f->refcount = (int32_t)folio_nr_pages(f);
	return f;
}

/* Map page i of a page-cache folio by a PTE at addr. */
static inline void fx_file_pte(struct vm_area_struct *vma, uint64_t addr, struct folio *f,
			       uint64_t i)
{
	folio_get(f);
	folio_add_file_rmap_ptes(f, folio_page(f, i), 1, vma);
	*fx_ptep(vma->vm_mm, addr) = pfn_pte(folio_pfn(f) + i, vma->vm_page_prot);
}

static inline pte_t fx_armed(pte_t pte) { return pte_mkuffd(pte_modify(pte, PAGE_NONE)); }

/* An event of uffd ctx 1 over [addr, addr + len). */
static inline void fx_uffd_event(enum mm_event_kind kind, struct mm_struct *mm, uint64_t addr,
				 uint64_t len, uint64_t mode)
{
	mm_event_emit((struct mm_event){ .kind = kind,
					 .mm_id = mm->id,
					 .address = addr,
					 .len = len,
					 .mode = mode,
					 .ctx_id = 1 });
}

static inline void fx_emit(enum mm_event_kind kind, struct mm_struct *mm, uint64_t addr,
			   uint64_t len)
{
	fx_uffd_event(kind, mm, addr, len, 0);
}

static inline void fx_register(struct mm_struct *mm, uint64_t addr, uint64_t len, uint64_t mode)
{
	fx_uffd_event(EV_UFFD_REGISTER, mm, addr, len, mode);
}

static inline void fx_access(struct mm_struct *mm, uint64_t addr, bool write, uint64_t value,
			     uint8_t who, unsigned foll)
{
	mm_event_emit((struct mm_event){ .kind = EV_ACCESS,
					 .mm_id = mm->id,
					 .address = addr,
					 .write = write,
					 .value = value,
					 .who = who,
					 .foll_flags = foll });
}

/* A step of cmd; positional name pos; optional key=u and pages=first-last. */
static inline struct step *fx_step(struct fx *fx, enum cmd cmd, const char *pos)
{
	struct step *s = &fx->steps[fx->nsteps++ % 4];
	fx_free_step(s);
	s->cmd = cmd;
	s->line = 10 + (uint32_t)fx->nsteps;
	s->pos[0] = (char *)pos;
	return s;
}

/* The argument key of s, marked present. */
static inline struct arg_value *fx_key(struct step *s, const char *key)
{
	int i = cmd_key_index(s->cmd, key);
	assert_true(i >= 0);
	s->args[i].present = true;
	return &s->args[i];
}

static inline void fx_arg(struct step *s, const char *key, uint64_t u) { fx_key(s, key)->u = u; }

static inline void fx_pages(struct step *s, uint64_t first, uint64_t last)
{
	struct arg_value *a = fx_key(s, "pages");
	struct page_span sp = { first, last };
	a->spans = g_array_new(FALSE, FALSE, sizeof(struct page_span));
	g_array_append_val(a->spans, sp);
}

/* A step of MADV_<advice> on region "A". */
static inline struct step *fx_madvise(struct fx *fx, uint64_t advice)
{
	struct step *s = fx_step(fx, CMD_MADVISE, "A");
	fx_arg(s, "advice", advice);
	return s;
}

/* Close a step: run the oracle and clear the event log as the engine does. */
static inline bool fx_after(struct fx *fx, const struct step *s, int result)
{
	if (fx->v.detail)
		g_string_free(fx->v.detail, TRUE);
	memset(&fx->v, 0, sizeof(fx->v));
	bool ok = oracle_after_step(fx->o, s, result, &fx->v);
	g_array_set_size(mm_events, 0);
	return ok;
}

/* Step s run with nothing changing the state under it. */
static inline bool fx_run(struct fx *fx, const struct step *s, int result)
{
	oracle_before_step(fx->o, s);
	return fx_after(fx, s, result);
}

/* A step that only carries events emitted before it (the state is set). */
static inline bool fx_events_step(struct fx *fx)
{
	return fx_run(fx, fx_step(fx, CMD_READ, "A"), RESULT_OK);
}

#define assert_violation(fx, ok, name)                                                         \
	do {                                                                                   \
		assert_false(ok);                                                              \
		assert_non_null((fx)->v.invariant);                                            \
		if (strcmp((fx)->v.invariant, (name)))                                         \
			fail_msg("expected \"%s\", got \"%s\": %s", (name), (fx)->v.invariant, \
				 (fx)->v.detail->str);                                         \
	} while (0)

#define assert_clean(fx, ok)                                                 \
	do {                                                                 \
		if (!(ok))                                                   \
			fail_msg("unexpected \"%s\": %s", (fx)->v.invariant, \
				 (fx)->v.detail ? (fx)->v.detail->str : ""); \
	} while (0)

#endif
