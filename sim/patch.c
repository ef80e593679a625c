/* sim/patch.c - the patch-08 switch table and the named levels. */
#include "patch.h"

#include <string.h>

const struct hunk_desc hunk_descs[NR_HUNKS] = {
	[HUNK_08A] = { "08a", "try_collapse_pte_mapped_thp",
		       "refuse with SCAN_PTE_UFFD when userfaultfd_protected(vma), not only WP" },
	[HUNK_08B] = { "08b", "file_backed_vma_is_retractable",
		       "never retract the page table of a userfaultfd_protected VMA" },
	[HUNK_08C] = { "08c", "folio_unmap_pte_batch",
		       "batch of 1 in userfaultfd_protected VMAs, not only WP" },
	[HUNK_08D] = { "08d", "gup_can_follow_protnone",
		       "GUP must fault on protnone in a VM_UFFD_RWP VMA" },
	[HUNK_08E] = { "08e", "gup_can_follow_protnone",
		       "... but only when vma_is_accessible(vma) (v6 gate)" },
	[HUNK_UNSAFE_BATCH] = { "unsafe-batch", "folio_pte_batch",
				"mutation: the batch comparison ignores the uffd bit" },
	[HUNK_MIGRATE_NO_REFORCE] = { "migrate-no-reforce", "remove_migration_pte",
				      "mutation: restored migration entries keep vm_page_prot, "
				      "no PAGE_NONE for the uffd bit (undoes part of 07/15)" },
	[HUNK_NUMA_REBUILD_ALL] = { "numa-rebuild-all", "numa_rebuild_large_mapping",
				    "mutation: the large-folio NUMA rebuild also opens PTEs "
				    "that carry the uffd bit (undoes part of 10/15)" },
	[HUNK_SPLIT_NO_REFORCE] = { "split-no-reforce", "__split_huge_pmd_locked",
				    "mutation: an armed PMD splits into accessible PTEs with the "
				    "bit" },
	[HUNK_SWAPIN_NO_RESTORE] = { "swapin-no-restore", "do_swap_page",
				     "mutation: an armed page swaps in accessible (no PAGE_NONE)" },
	[HUNK_FORK_NO_NORMALISE] = { "fork-no-normalise", "__copy_present_ptes",
				     "mutation: a child without EVENT_FORK inherits armed PTEs" },
	[HUNK_MREMAP_NO_NORMALISE] = { "mremap-no-normalise", "move_ptes",
				       "mutation: without EVENT_REMAP moved entries keep the bit" },
	[HUNK_MOVE_NO_ARM] = { "move-no-arm", "move_present_ptes",
			       "mutation: UFFDIO_MOVE into an RWP VMA does not arm" },
	[HUNK_MPROTECT_NO_REFORCE] = { "mprotect-no-reforce", "change_present_ptes",
				       "mutation: mprotect rebuilds an armed PTE from newprot, "
				       "no PAGE_NONE re-force (undoes part of 07/15)" },
	[HUNK_HUGE_PMD_NO_REFORCE] = { "huge-pmd-no-reforce", "change_huge_pmd",
				       "mutation: mprotect rebuilds an armed PMD from newprot, "
				       "no PAGE_NONE re-force (undoes part of 07/15)" },
	[HUNK_SWAPOFF_NO_RESTORE] = { "swapoff-no-restore", "unuse_pte",
				      "mutation: swapoff brings an armed page back accessible "
				      "(no PAGE_NONE; undoes part of 07/15)" },
	[HUNK_ZAP_RWP_MARKER] = { "zap-rwp-marker", "zap_install_uffd_wp_if_needed",
				  "mutation: zapping an armed file PTE leaves a uffd-wp marker, "
				  "as for WP (RWP has no markers)" },
	[HUNK_DEFERRED_SPLIT_NO_REFORCE] = { "deferred-split-no-reforce",
					     "try_to_map_unused_to_zeropage",
					     "mutation: an armed zero-filled subpage of a split "
					     "folio goes to the zero page without PAGE_NONE" },
	[HUNK_EXCLUSIVE_NO_RESTORE] = { "exclusive-no-restore", "restore_exclusive_pte",
					"mutation: an armed device-exclusive entry is restored "
					"accessible (no PAGE_NONE; undoes part of 07/15)" },
};

const struct patch_level_desc patch_levels[] = {
	{ "no08", "the series without patch 08", { false, false, false, false, false, false } },
	{ "v5",
	  "patch 08 as in v5 11/18: no vma_is_accessible() gate",
	  { true, true, true, true, false, false } },
	{ "v6", "patch 08 as merged (v6 08/15 onwards)", { true, true, true, true, true, false } },
};
const unsigned nr_patch_levels = sizeof(patch_levels) / sizeof(patch_levels[0]);

bool patch_hunks[NR_HUNKS] = { true, true, true, true, true, false };

bool patch_set_level(const char *name)
{
	for (unsigned i = 0; i < nr_patch_levels; i++) {
		if (!strcmp(name, patch_levels[i].name)) {
			memcpy(patch_hunks, patch_levels[i].hunks, sizeof(patch_hunks));
			return true;
		}
	}
	return false;
}

bool patch_set_hunk(const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return false;
	bool on;
	if (!strcmp(eq + 1, "on"))
		on = true;
	else if (!strcmp(eq + 1, "off"))
		on = false;
	else
		return false;
	for (int h = 0; h < NR_HUNKS; h++) {
		size_t n = strlen(hunk_descs[h].name);
		if ((size_t)(eq - spec) == n && !strncmp(spec, hunk_descs[h].name, n)) {
			patch_hunks[h] = on;
			return true;
		}
	}
	return false;
}

const char *patch_current_level(void)
{
	for (unsigned i = 0; i < nr_patch_levels; i++)
		if (!memcmp(patch_hunks, patch_levels[i].hunks, sizeof(patch_hunks)))
			return patch_levels[i].name;
	return NULL;
}

const struct kernel_desc kernel_descs[] = {
	{ "rwp", "the kernel with the RWP series (v7.x)", true, true },
	{ "6.18", "mainline Linux 6.18: no RWP UAPI (the host of tools/hostreplay)", false, false },
};
const unsigned nr_kernels = sizeof(kernel_descs) / sizeof(kernel_descs[0]);
const struct kernel_desc *kernel_base = &kernel_descs[0];

bool patch_set_kernel(const char *name)
{
	for (unsigned i = 0; i < nr_kernels; i++) {
		if (!strcmp(name, kernel_descs[i].name)) {
			kernel_base = &kernel_descs[i];
			return true;
		}
	}
	return false;
}
