/* sim/oracle/structure.c - structure invariants: mapcount, refcount, rmap,
 * PMD folios, page-table ownership and swap counts.
 *
 * One walk over every table of every live mm counts the mappings itself;
 * then every folio and swap slot is compared with those counts. Scratch
 * arrays are grown between steps, so the per-entry loop allocates nothing.
 */
#include "oracle_internal.h"

#include <string.h>

#include "model/swapops.h"

void structure_free(struct oracle *o)
{
	g_free(o->pte_maps);
	g_free(o->pmd_maps);
	g_free(o->pc_refs);
	g_free(o->pfn_touched);
	g_free(o->slot_refs);
	g_free(o->slot_touched);
	g_free(o->table_seen);
}

/* The count arrays are all zero between checks: a check zeroes only the
 * entries the previous one counted (a failed check stops half-way, so this
 * is done before, not after), instead of clearing every frame and every
 * swap slot of the machine after every step. */
static void scratch_prepare(struct oracle *o)
{
	for (uint64_t i = 0; i < o->nr_pfn_touched; i++) {
		uint64_t pfn = o->pfn_touched[i];
		o->pte_maps[pfn] = o->pmd_maps[pfn] = o->pc_refs[pfn] = 0;
	}
	o->nr_pfn_touched = 0;
	for (uint64_t i = 0; i < o->nr_slot_touched; i++)
		o->slot_refs[o->slot_touched[i]] = 0;
	o->nr_slot_touched = 0;

	uint64_t npfn = mem_map.next_pfn + 1;
	if (npfn > o->pfn_cap) {
		uint64_t old = o->pfn_cap;
		o->pfn_cap = npfn * 2;
		o->pte_maps = g_renew(int32_t, o->pte_maps, o->pfn_cap);
		o->pmd_maps = g_renew(int32_t, o->pmd_maps, o->pfn_cap);
		o->pc_refs = g_renew(int32_t, o->pc_refs, o->pfn_cap);
		o->pfn_touched = g_renew(uint64_t, o->pfn_touched, o->pfn_cap);
		memset(o->pte_maps + old, 0, (o->pfn_cap - old) * sizeof(int32_t));
		memset(o->pmd_maps + old, 0, (o->pfn_cap - old) * sizeof(int32_t));
		memset(o->pc_refs + old, 0, (o->pfn_cap - old) * sizeof(int32_t));
	}

	if (swap_info.nr_slots > o->slot_cap) {
		uint64_t old = o->slot_cap;
		o->slot_cap = swap_info.nr_slots;
		o->slot_refs = g_renew(uint32_t, o->slot_refs, o->slot_cap);
		o->slot_touched = g_renew(uint64_t, o->slot_touched, o->slot_cap);
		memset(o->slot_refs + old, 0, (o->slot_cap - old) * sizeof(uint32_t));
	}

	if (pt_pool.nr > o->table_cap) {
		uint64_t old = o->table_cap;
		o->table_cap = pt_pool.nr * 2;
		o->table_seen = g_renew(uint32_t, o->table_seen, o->table_cap);
		memset(o->table_seen + old, 0, (o->table_cap - old) * sizeof(uint32_t));
	}
	if (++o->walk_epoch == 0) {
		memset(o->table_seen, 0, o->table_cap * sizeof(uint32_t));
		o->walk_epoch = 1;
	}
}

/* Count one more reference in arr (pte_maps, pmd_maps or pc_refs) at pfn,
 * remembering the pfn the first time any of the three counts it. */
static inline void count_pfn(struct oracle *o, int32_t *arr, uint64_t pfn)
{
	if (!o->pte_maps[pfn] && !o->pmd_maps[pfn] && !o->pc_refs[pfn])
		o->pfn_touched[o->nr_pfn_touched++] = pfn;
	arr[pfn]++;
}

static inline void count_slot(struct oracle *o, uint64_t slot)
{
	if (!o->slot_refs[slot])
		o->slot_touched[o->nr_slot_touched++] = slot;
	o->slot_refs[slot]++;
}

/* A folio head that is allocated and owns pfn. */
static struct folio *live_folio(uint64_t pfn)
{
	if (!pfn || pfn >= mem_map.next_pfn)
		return NULL;
	struct folio *f = pfn_folio(pfn);
	uint64_t head = folio_pfn(f);
	if (!f->in_use || pfn < head || pfn >= head + folio_nr_pages(f))
		return NULL;
	return f;
}

static bool is_zero_folio(uint64_t pfn) { return is_zero_pfn(pfn) || is_huge_zero_pfn(pfn); }

/* "freed table": a live table of the right level, owned by mm, seen once. */
static bool mark_table(struct oracle *o, const struct mm_struct *mm, uint64_t nr,
		       enum pt_level level, uint64_t addr, const char *what)
{
	if (!o_table_live(nr))
		return oracle_fail(o, "freed table", mm->id, addr, 0, nr,
				   "%s references table %" G_GUINT64_FORMAT " which is not live",
				   what, nr);
	const struct pt_table *t = pt_get(nr);
	if (t->owner != mm->id || t->level != (uint32_t)level)
		return oracle_fail(o, "freed table", mm->id, addr, 0, nr,
				   "%s references table %" G_GUINT64_FORMAT
				   " of owner %" G_GUINT64_FORMAT
				   " level %u (expected owner %" G_GUINT64_FORMAT " level %u)",
				   what, nr, t->owner, t->level, mm->id, (unsigned)level);
	if (nr < o->table_cap && o->table_seen[nr] == o->walk_epoch)
		return oracle_fail(o, "freed table", mm->id, addr, 0, nr,
				   "table %" G_GUINT64_FORMAT " is referenced twice (%s)", nr,
				   what);
	if (nr < o->table_cap)
		o->table_seen[nr] = o->walk_epoch;
	return true;
}

/* "rmap": the mapping at addr of page i of folio is where the rmap says. */
static bool check_rmap(struct oracle *o, const struct mm_struct *mm,
		       const struct vm_area_struct *vma, uint64_t addr, struct folio *f, uint64_t i,
		       const void **ok_mapping)
{
	if (!vma)
		return oracle_fail(o, "rmap", mm->id, addr, 0, 0,
				   "a mapping of pfn %" G_GUINT64_FORMAT " outside every VMA",
				   folio_pfn(f) + i);
	if (folio_test_anon(f)) {
		struct anon_vma *av = f->mapping;
		if (*ok_mapping != av) {
			if (!av || !g_ptr_array_find(av->vmas, vma, NULL))
				return oracle_fail(o, "rmap", mm->id, addr, 0, 0,
						   "anon folio %" G_GUINT64_FORMAT
						   " is mapped by a VMA not on its anon_vma",
						   folio_pfn(f));
			*ok_mapping = av;
		}
		if (vma_address(vma, f->index + i) != addr)
			return oracle_fail(o, "rmap", mm->id, addr, 0, 0,
					   "anon folio index %" G_GUINT64_FORMAT
					   " + %" G_GUINT64_FORMAT " maps to 0x%" G_GINT64_MODIFIER
					   "x in this VMA, not here",
					   f->index, i, vma_address(vma, f->index + i));
		return true;
	}
	struct address_space *m = f->mapping;
	if (*ok_mapping != m) {
		if (!m || m != vma->vm_file || !g_ptr_array_find(m->i_mmap, vma, NULL))
			return oracle_fail(o, "rmap", mm->id, addr, 0, 0,
					   "file folio %" G_GUINT64_FORMAT
					   " is mapped by a VMA not in its file's i_mmap",
					   folio_pfn(f));
		*ok_mapping = m;
	}
	if (linear_page_index(vma, addr) != f->index + i)
		return oracle_fail(o, "rmap", mm->id, addr, 0, 0,
				   "file page at index %" G_GUINT64_FORMAT
				   " is mapped where the VMA has index %" G_GUINT64_FORMAT,
				   f->index + i, linear_page_index(vma, addr));
	return true;
}

struct walk {
	const struct mm_struct *mm;
	guint vi; /* VMA cursor: the walk is in address order */
	const struct vm_area_struct *vma;
	const void *ok_mapping;
};

static const struct vm_area_struct *walk_vma(struct walk *wk, uint64_t addr)
{
	/* Most entries fall in the VMA of the one before (wk->vma is
	 * vmas[wk->vi] whenever it is set). */
	if (wk->vma && addr >= wk->vma->vm_start && addr < wk->vma->vm_end)
		return wk->vma;
	GPtrArray *vmas = wk->mm->vmas;
	while (wk->vi < vmas->len &&
	       ((struct vm_area_struct *)g_ptr_array_index(vmas, wk->vi))->vm_end <= addr)
		wk->vi++;
	const struct vm_area_struct *v =
		wk->vi < vmas->len ? g_ptr_array_index(vmas, wk->vi) : NULL;
	v = v && v->vm_start <= addr ? v : NULL;
	if (v != wk->vma) {
		wk->vma = v;
		wk->ok_mapping = NULL;
	}
	return v;
}

static bool swap_ref(struct oracle *o, const struct mm_struct *mm, uint64_t addr, pte_t pte)
{
	swp_entry_t e = pte_to_swp_entry(pte);
	if (non_swap_entry(e))
		return true;
	uint64_t slot = swp_offset(e);
	if (!slot || slot >= swap_info.nr_slots || !swap_info.slots[slot].count)
		return oracle_fail(o, "swap count", mm->id, addr, 0, pte_val(pte),
				   "a swap PTE references slot %" G_GUINT64_FORMAT
				   " which is not in use",
				   slot);
	count_slot(o, slot);
	return true;
}

/* A device-exclusive entry keeps its page mapped (6.15 on): it counts in the
 * page's mapcount and the folio's references like a PTE, at the address the
 * rmap says, and only an anonymous folio can be held that way. */
static bool device_exclusive_ref(struct oracle *o, struct walk *wk,
				 const struct vm_area_struct *vma, uint64_t addr, pte_t pte)
{
	uint64_t pfn = swp_offset_pfn(pte_to_swp_entry(pte));
	struct folio *f = live_folio(pfn);

	if (!f)
		return oracle_fail(o, "mapcount", wk->mm->id, addr, 0, pte_val(pte),
				   "a device-exclusive entry maps pfn %" G_GUINT64_FORMAT
				   " which is not part of an allocated folio",
				   pfn);
	if (!folio_test_anon(f))
		return oracle_fail(o, "rmap", wk->mm->id, addr, 0, pte_val(pte),
				   "a device-exclusive entry maps pfn %" G_GUINT64_FORMAT
				   " of a file folio (make_device_exclusive() takes anon only)",
				   pfn);
	count_pfn(o, o->pte_maps, pfn);
	return check_rmap(o, wk->mm, vma, addr, f, pfn - folio_pfn(f), &wk->ok_mapping);
}

static bool walk_pte_table(struct oracle *o, struct walk *wk, const struct pt_table *t,
			   uint64_t base)
{
	for (uint64_t i = 0; i < PTRS_PER_PTE; i++) {
		pte_t pte = __pte(t->e[i]);
		if (pte_none(pte))
			continue;
		uint64_t addr = base + (i << PAGE_SHIFT);
		const struct vm_area_struct *vma = walk_vma(wk, addr);
		if (!encoding_check_leaf(o, vma, addr, pte_val(pte), false))
			return false;
		if (pte_is_device_exclusive(pte)) {
			if (!device_exclusive_ref(o, wk, vma, addr, pte))
				return false;
			continue;
		}
		if (!pte_present(pte)) {
			if (!swap_ref(o, wk->mm, addr, pte))
				return false;
			continue;
		}
		uint64_t pfn = pte_pfn(pte);
		if (is_zero_folio(pfn))
			continue;
		struct folio *f = live_folio(pfn);
		if (!f)
			return oracle_fail(o, "mapcount", wk->mm->id, addr, 0, pte_val(pte),
					   "a PTE maps pfn %" G_GUINT64_FORMAT
					   " which is not part of an allocated folio",
					   pfn);
		count_pfn(o, o->pte_maps, pfn);
		if (!check_rmap(o, wk->mm, vma, addr, f, pfn - folio_pfn(f), &wk->ok_mapping))
			return false;
	}
	return true;
}

static bool walk_pmd_leaf(struct oracle *o, struct walk *wk, pmd_t pmd, uint64_t addr)
{
	const struct vm_area_struct *vma = walk_vma(wk, addr);
	if (!encoding_check_leaf(o, vma, addr, pmd_val(pmd), true))
		return false;
	if (!pmd_present(pmd))
		return true; /* a PMD migration entry holds no mapping */
	uint64_t pfn = pmd_pfn(pmd);
	if (pfn & (HPAGE_PMD_NR - 1))
		return oracle_fail(
			o, "pmd folio", wk->mm->id, addr, 0, pmd_val(pmd),
			"a PMD leaf maps pfn %" G_GUINT64_FORMAT " which is not PMD aligned", pfn);
	if (is_zero_folio(pfn))
		return true;
	struct folio *f = live_folio(pfn);
	if (!f || folio_pfn(f) != pfn || folio_order(f) != HPAGE_PMD_ORDER)
		return oracle_fail(o, "pmd folio", wk->mm->id, addr, 0, pmd_val(pmd),
				   "a PMD leaf maps pfn %" G_GUINT64_FORMAT
				   " which is not the head of a live PMD-order folio",
				   pfn);
	count_pfn(o, o->pmd_maps, pfn);
	return check_rmap(o, wk->mm, vma, addr, f, 0, &wk->ok_mapping);
}

/* The index of the first used entry of table e at or after i (512 when
 * none). Upper-level tables are almost empty, and this scan ran for every
 * table of every mm after every step: eight entries are tested at a time. */
static uint64_t next_used(const uint64_t *e, uint64_t i)
{
	while (i < 512 && (i & 7))
		if (e[i++])
			return i - 1;
	for (; i < 512; i += 8)
		if (e[i] | e[i + 1] | e[i + 2] | e[i + 3] | e[i + 4] | e[i + 5] | e[i + 6] |
		    e[i + 7])
			break;
	while (i < 512 && !e[i])
		i++;
	return i;
}

static bool walk_mm(struct oracle *o, const struct mm_struct *mm)
{
	struct walk wk = { .mm = mm };

	for (guint i = 0; i < mm->vmas->len; i++)
		if (!encoding_check_vma(o, g_ptr_array_index(mm->vmas, i)))
			return false;
	if (!mark_table(o, mm, mm->pgd, PT_PGD, 0, "the mm's pgd"))
		return false;
	const struct pt_table *pgd = pt_get(mm->pgd);
	for (uint64_t g = next_used(pgd->e, 0); g < PTRS_PER_PGD; g = next_used(pgd->e, g + 1)) {
		uint64_t ga = g << PGDIR_SHIFT;
		uint64_t nr = pt_entry_table(pgd->e[g]);
		if (!mark_table(o, mm, nr, PT_PUD, ga, "a PGD entry"))
			return false;
		const struct pt_table *pud = pt_get(nr);
		for (uint64_t u = next_used(pud->e, 0); u < PTRS_PER_PUD;
		     u = next_used(pud->e, u + 1)) {
			uint64_t ua = ga + (u << PUD_SHIFT);
			nr = pt_entry_table(pud->e[u]);
			if (!mark_table(o, mm, nr, PT_PMD, ua, "a PUD entry"))
				return false;
			const struct pt_table *pmdt = pt_get(nr);
			for (uint64_t d = next_used(pmdt->e, 0); d < PTRS_PER_PMD;
			     d = next_used(pmdt->e, d + 1)) {
				pmd_t pmd = __pmd(pmdt->e[d]);
				uint64_t da = ua + (d << PMD_SHIFT);
				if (!pmd_is_table(pmd)) {
					if (!walk_pmd_leaf(o, &wk, pmd, da))
						return false;
					continue;
				}
				nr = pmd_pgtable(pmd);
				if (!mark_table(o, mm, nr, PT_PTE, da, "a PMD entry"))
					return false;
				if (!walk_pte_table(o, &wk, pt_get(nr), da))
					return false;
			}
		}
	}

	/* Deposited tables (THP) belong to the mm too, and only there. */
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, mm->deposit);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		uint64_t haddr = k ? *(uint64_t *)k : 0;
		uint64_t hops = 0;
		for (uint64_t t = (uint64_t)(uintptr_t)v; t; t = pt_get(t)->next_deposit) {
			if (!mark_table(o, mm, t, PT_PTE, haddr, "the THP deposit"))
				return false;
			if (++hops > pt_pool.nr)
				return oracle_fail(o, "freed table", mm->id, haddr, 0, t,
						   "the deposit chain loops");
		}
	}
	return true;
}

/* A 64 GiB file is 16 M slots, mostly empty, read after every step: test
 * 512 of them at a time with memcmp (which glibc vectorises; most of such
 * an array is the shared zero page, so this runs from the cache). */
#define PC_BLOCK 512
static const uint64_t pc_zero_block[PC_BLOCK];

static bool scan_page_cache(struct oracle *o, struct address_space *m)
{
	for (uint64_t i = 0; i < m->nr_slots; i++) {
		if (!(i % PC_BLOCK) && i + PC_BLOCK <= m->nr_slots &&
		    !memcmp(&m->i_pages[i], pc_zero_block, sizeof(pc_zero_block))) {
			i += PC_BLOCK - 1;
			continue;
		}
		if (!(i % 8) && i + 8 <= m->nr_slots) {
			const uint64_t *q = &m->i_pages[i];
			if (!(q[0] | q[1] | q[2] | q[3] | q[4] | q[5] | q[6] | q[7])) {
				i += 7;
				continue;
			}
		}
		uint64_t e = m->i_pages[i];
		if (!e)
			continue;
		if (xa_is_value(e)) {
			uint64_t slot = swp_offset((swp_entry_t){ e >> 1 });
			if (!slot || slot >= swap_info.nr_slots || !swap_info.slots[slot].count)
				return oracle_fail(o, "swap count", 0, i, 0, e,
						   "file %s index %" G_GUINT64_FORMAT
						   " holds swap slot %" G_GUINT64_FORMAT
						   " which is not in use",
						   m->name, i, slot);
			count_slot(o, slot);
			continue;
		}
		uint64_t pfn = xa_to_pfn(e);
		struct folio *f = live_folio(pfn);
		if (!f)
			return oracle_fail(o, "refcount", 0, i, 0, e,
					   "file %s index %" G_GUINT64_FORMAT
					   " holds pfn %" G_GUINT64_FORMAT
					   " which is not allocated",
					   m->name, i, pfn);
		if (f->mapping != m || f->index + (pfn - folio_pfn(f)) != i)
			return oracle_fail(o, "rmap", 0, i, 0, e,
					   "file %s index %" G_GUINT64_FORMAT
					   " holds a page whose folio says index %" G_GUINT64_FORMAT
					   " of another mapping",
					   m->name, i, f->index + (pfn - folio_pfn(f)));
		count_pfn(o, o->pc_refs, folio_pfn(f));
	}
	return true;
}

/* What "gup ... hold=1" steps still hold, per folio head pfn (world.held,
 * sim/engine/exec_pin.c): FOLL_GET references, which nothing else in the
 * model counts, and pins, which folio->pincount must match exactly (no
 * path keeps a pin past its step). */
struct held_count {
	int32_t gets, pins;
};

static bool count_held(struct oracle *o, GHashTable *held)
{
	const GArray *refs = o->w->held;

	for (guint i = 0; refs && i < refs->len; i++) {
		const struct held_ref *h = &g_array_index(refs, struct held_ref, i);
		if (h->pfn >= mem_map.next_pfn || is_zero_folio(h->pfn))
			continue;
		struct folio *f = live_folio(h->pfn);
		if (!f)
			return oracle_fail(
				o, "refcount", h->r->mm->id, region_page_addr(h->r, h->page), 0,
				h->pfn,
				"a GUP %s held on region %s page %" G_GUINT64_FORMAT
				" is on pfn %" G_GUINT64_FORMAT ", which is not allocated",
				h->pin ? "pin" : "reference", h->r->name, h->page, h->pfn);
		gpointer key = GSIZE_TO_POINTER(folio_pfn(f));
		struct held_count *c = g_hash_table_lookup(held, key);
		if (!c) {
			c = g_new0(struct held_count, 1);
			g_hash_table_insert(held, key, c);
		}
		if (h->pin)
			c->pins++;
		else
			c->gets++;
	}
	return true;
}

static bool check_folios(struct oracle *o)
{
	/* Most steps hold nothing: build the table only when something is. */
	g_autoptr(GHashTable) held =
		o->w->held && o->w->held->len
			? g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free)
			: NULL;

	if (held && !count_held(o, held))
		return false;
	for (uint64_t pfn = 1; pfn < mem_map.next_pfn;) {
		struct folio *f = &mem_map.folios[pfn];
		if (!f->in_use || mem_map.pages[pfn].head_delta || is_zero_folio(pfn)) {
			pfn += f->in_use && !mem_map.pages[pfn].head_delta ? folio_nr_pages(f) : 1;
			continue;
		}
		uint64_t nr = folio_nr_pages(f);
		int64_t ptes = 0;
		for (uint64_t i = 0; i < nr; i++) {
			struct page *p = folio_page(f, i);
			if (p->mapcount != o->pte_maps[pfn + i])
				return oracle_fail(o, "mapcount", 0, 0, (uint64_t)p->mapcount,
						   (uint64_t)o->pte_maps[pfn + i],
						   "pfn %" G_GUINT64_FORMAT
						   " has mapcount %d but %d PTEs map it",
						   pfn + i, p->mapcount, o->pte_maps[pfn + i]);
			ptes += o->pte_maps[pfn + i];
		}
		if (f->entire_mapcount != o->pmd_maps[pfn])
			return oracle_fail(o, "mapcount", 0, 0, (uint64_t)f->entire_mapcount,
					   (uint64_t)o->pmd_maps[pfn],
					   "folio %" G_GUINT64_FORMAT
					   " has entire_mapcount %d but %d PMDs map it",
					   pfn, f->entire_mapcount, o->pmd_maps[pfn]);
		const struct held_count *hc =
			held ? g_hash_table_lookup(held, GSIZE_TO_POINTER(pfn)) : NULL;
		int32_t gets = hc ? hc->gets : 0, pins = hc ? hc->pins : 0;
		if (f->pincount != pins)
			return oracle_fail(o, "refcount", 0, 0, (uint64_t)f->pincount,
					   (uint64_t)pins,
					   "folio %" G_GUINT64_FORMAT " (order %u) has pincount %d "
					   "but %d pins are held",
					   pfn, f->order, f->pincount, pins);
		int64_t want = ptes + o->pmd_maps[pfn] + o->pc_refs[pfn] +
			       (folio_test_swapcache(f) ? (int64_t)nr : 0) + f->pincount + gets;
		if (f->refcount != want)
			return oracle_fail(
				o, "refcount", 0, 0, (uint64_t)f->refcount, (uint64_t)want,
				"folio %" G_GUINT64_FORMAT " (order %u) has refcount %d; "
				"PTE maps %" G_GINT64_FORMAT " + PMD maps %d + page cache %d"
				" + swap cache %" G_GINT64_FORMAT
				" + pins %d + held GUP references %d"
				" = %" G_GINT64_FORMAT,
				pfn, f->order, f->refcount, ptes, o->pmd_maps[pfn], o->pc_refs[pfn],
				folio_test_swapcache(f) ? (int64_t)nr : 0, f->pincount, gets, want);
		pfn += nr;
	}
	return true;
}

static bool check_swap(struct oracle *o)
{
	/* nr_used counts the slots with a count: stop after the last of them
	 * rather than scan the whole device after every step. */
	uint64_t seen = 0;
	for (uint64_t s = 1; s < swap_info.nr_slots && seen < swap_info.nr_used; s++) {
		const struct swap_slot *sl = &swap_info.slots[s];
		if (!sl->count)
			continue;
		seen++;
		uint64_t want = o->slot_refs[s] + (sl->cache_pfn ? 1 : 0);
		if (sl->count != want)
			return oracle_fail(o, "swap count", 0, 0, sl->count, want,
					   "swap slot %" G_GUINT64_FORMAT
					   " has count %u; swap PTEs "
					   "+ shmem value entries = %u, swap cache = %d",
					   s, sl->count, o->slot_refs[s], sl->cache_pfn ? 1 : 0);
	}
	return true;
}

bool structure_check(struct oracle *o)
{
	scratch_prepare(o);
	for (guint m = 0; o->w->mms && m < o->w->mms->len; m++)
		if (!walk_mm(o, g_ptr_array_index(o->w->mms, m)))
			return false;
	for (guint i = 0; o->w->files && i < o->w->files->len; i++)
		if (!scan_page_cache(o, g_ptr_array_index(o->w->files, i)))
			return false;
	return check_folios(o) && check_swap(o);
}
