/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text of `virsh domstats --raw` (`virt-tune analyze --stats`): parsed
 * into per-domain maps, then split into disks and interfaces as the rules
 * read them.
 */
#include "devstats.h"
#include "domstats.h"
#include "fuzz.h"

static void
read_devices(const VtDomstats *stats)
{
	g_autoptr(GPtrArray) disks = vt_host_disks(stats);
	g_autoptr(GPtrArray) nics = vt_host_nics(stats);
	guint64 v;
	double d;

	for (guint i = 0; i < disks->len; i++) {
		const VtHostDisk *disk = g_ptr_array_index(disks, i);

		if (disk->name != NULL && vt_host_disk_find(disks, disk->name) == NULL)
			g_error("disk %u is not found by its own name", i);
		(void)vt_host_disk_get(disk, VT_HDISK_WR_TIMES, &v);
	}
	for (guint i = 0; i < nics->len; i++) {
		const VtHostNic *nic = g_ptr_array_index(nics, i);

		if (nic->name != NULL && vt_host_nic_find(nics, nic->name) == NULL)
			g_error("interface %u is not found by its own name", i);
	}
	(void)vt_domstats_get_uint64(stats, "balloon.current", &v);
	(void)vt_domstats_get_double(stats, "cpu.time", &d);
	(void)vt_domstats_get_uint64f(stats, &v, "vcpu.%u.delay", 0u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GError) error = NULL;

	vt_fuzz_setup();
	all = vt_domstats_parse_text((const char *)data, (gssize)size, &error);
	if (all == NULL) {
		g_assert(error != NULL);
		return 0;
	}
	for (guint i = 0; i < all->len; i++)
		read_devices(g_ptr_array_index(all, i));
	if (all->len == 1 && vt_domstats_find(all, NULL) == NULL)
		g_error("the only domain is not found");
	return 0;
}
