/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-disk and per-interface views of a domain's domstats. */
#include "devstats.h"

#include <string.h>

#include "domain.h"

/* libvirt's own bound on block.count / net.count is the device count. */
#define DEVICES_MAX (VT_DOMAIN_MAX_DISKS * 8u)

static const char *const disk_keys[VT_HDISK_N] = {
	[VT_HDISK_RD_REQS] = "rd.reqs",       [VT_HDISK_RD_BYTES] = "rd.bytes",
	[VT_HDISK_RD_TIMES] = "rd.times",     [VT_HDISK_WR_REQS] = "wr.reqs",
	[VT_HDISK_WR_BYTES] = "wr.bytes",     [VT_HDISK_WR_TIMES] = "wr.times",
	[VT_HDISK_FL_REQS] = "fl.reqs",       [VT_HDISK_FL_TIMES] = "fl.times",
	[VT_HDISK_ALLOCATION] = "allocation", [VT_HDISK_CAPACITY] = "capacity",
	[VT_HDISK_PHYSICAL] = "physical",
};

static const char *const nic_keys[VT_HNIC_N] = {
	[VT_HNIC_RX_BYTES] = "rx.bytes", [VT_HNIC_RX_PKTS] = "rx.pkts",
	[VT_HNIC_RX_ERRS] = "rx.errs",   [VT_HNIC_RX_DROP] = "rx.drop",
	[VT_HNIC_TX_BYTES] = "tx.bytes", [VT_HNIC_TX_PKTS] = "tx.pkts",
	[VT_HNIC_TX_ERRS] = "tx.errs",   [VT_HNIC_TX_DROP] = "tx.drop",
};

static void
disk_free(gpointer p)
{
	VtHostDisk *d = p;

	g_free(d->name);
	g_free(d->path);
	g_free(d);
}

static void
nic_free(gpointer p)
{
	VtHostNic *n = p;

	g_free(n->name);
	g_free(n);
}

/* block.count or net.count, bounded. */
static guint
count_of(const VtDomstats *stats, const char *key)
{
	guint64 n = 0;

	if (stats == NULL || !vt_domstats_get_uint64(stats, key, &n))
		return 0;
	return (guint)MIN(n, DEVICES_MAX);
}

/* Fills @v/@has from "PREFIX.i.KEY" for each of @keys. */
static guint32
read_fields(const VtDomstats *stats, const char *prefix, guint i, const char *const *keys, guint n,
	    guint64 *v)
{
	guint32 has = 0;

	for (guint k = 0; k < n; k++)
		if (vt_domstats_get_uint64f(stats, &v[k], "%s.%u.%s", prefix, i, keys[k]))
			has |= 1u << k;
	return has;
}

GPtrArray *
vt_host_disks(const VtDomstats *stats)
{
	GPtrArray *disks = g_ptr_array_new_with_free_func(disk_free);
	guint count = count_of(stats, "block.count");

	for (guint i = 0; i < count; i++) {
		g_autofree char *key = g_strdup_printf("block.%u.name", i);
		const char *name = vt_domstats_get_string(stats, key);
		VtHostDisk *top, *d;
		guint64 index;

		if (name == NULL)
			continue;
		/* with --backing, every layer of a chain comes as block.N with the
		 * top's name: the first is the top, the others count its depth */
		top = (VtHostDisk *)vt_host_disk_find(disks, name);
		if (top != NULL) {
			top->chain_depth++;
			continue;
		}
		d = g_new0(VtHostDisk, 1);
		d->name = g_strdup(name);
		g_free(key);
		key = g_strdup_printf("block.%u.path", i);
		d->path = g_strdup(vt_domstats_get_string(stats, key));
		if (vt_domstats_get_uint64f(stats, &index, "block.%u.backingIndex", i) &&
		    index <= G_MAXUINT) {
			d->has_backing_index = TRUE;
			d->backing_index = (guint)index;
		}
		d->has = read_fields(stats, "block", i, disk_keys, VT_HDISK_N, d->v);
		g_ptr_array_add(disks, d);
	}
	return disks;
}

GPtrArray *
vt_host_nics(const VtDomstats *stats)
{
	GPtrArray *nics = g_ptr_array_new_with_free_func(nic_free);
	guint count = count_of(stats, "net.count");

	for (guint i = 0; i < count; i++) {
		g_autofree char *key = g_strdup_printf("net.%u.name", i);
		const char *name = vt_domstats_get_string(stats, key);
		VtHostNic *n;

		if (name == NULL || vt_host_nic_find(nics, name) != NULL)
			continue;
		n = g_new0(VtHostNic, 1);
		n->name = g_strdup(name);
		n->has = read_fields(stats, "net", i, nic_keys, VT_HNIC_N, n->v);
		g_ptr_array_add(nics, n);
	}
	return nics;
}

const VtHostDisk *
vt_host_disk_find(GPtrArray *disks, const char *name)
{
	for (guint i = 0; disks != NULL && name != NULL && i < disks->len; i++) {
		const VtHostDisk *d = g_ptr_array_index(disks, i);

		if (strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

const VtHostNic *
vt_host_nic_find(GPtrArray *nics, const char *name)
{
	for (guint i = 0; nics != NULL && name != NULL && i < nics->len; i++) {
		const VtHostNic *n = g_ptr_array_index(nics, i);

		if (strcmp(n->name, name) == 0)
			return n;
	}
	return NULL;
}
