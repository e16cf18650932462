/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "domstats.h"

G_BEGIN_DECLS

/*
 * The per-device part of domstats, one struct per disk and per interface:
 * block.N.* (cumulative requests, bytes and nanoseconds) and net.N.*
 * (libvirt reports a tap's counters from the guest's side: net.N.rx.drop are
 * packets the host could not hand to the guest).
 */

typedef enum {
	VT_HDISK_RD_REQS,
	VT_HDISK_RD_BYTES,
	VT_HDISK_RD_TIMES, /* ns */
	VT_HDISK_WR_REQS,
	VT_HDISK_WR_BYTES,
	VT_HDISK_WR_TIMES,
	VT_HDISK_FL_REQS,
	VT_HDISK_FL_TIMES,
	VT_HDISK_ALLOCATION,
	VT_HDISK_CAPACITY,
	VT_HDISK_PHYSICAL,
	VT_HDISK_N,
} VtHostDiskField;

typedef struct {
	char *name; /* block.N.name: the XML target dev (vda) */
	char *path;
	gboolean has_backing_index;
	guint backing_index;
	guint chain_depth; /* layers under the top one seen (domstats --backing), else 0 */
	guint32 has;       /* bit per VtHostDiskField */
	guint64 v[VT_HDISK_N];
} VtHostDisk;

typedef enum {
	VT_HNIC_RX_BYTES,
	VT_HNIC_RX_PKTS,
	VT_HNIC_RX_ERRS,
	VT_HNIC_RX_DROP,
	VT_HNIC_TX_BYTES,
	VT_HNIC_TX_PKTS,
	VT_HNIC_TX_ERRS,
	VT_HNIC_TX_DROP,
	VT_HNIC_N,
} VtHostNicField;

typedef struct {
	char *name; /* net.N.name: the tap (vnet0) */
	guint32 has;
	guint64 v[VT_HNIC_N];
} VtHostNic;

/* The disks of @stats (top layers, each once), in block.N order; NULL-safe. */
GPtrArray *vt_host_disks(const VtDomstats *stats);
/* The interfaces of @stats, in net.N order; NULL-safe. */
GPtrArray *vt_host_nics(const VtDomstats *stats);

const VtHostDisk *vt_host_disk_find(GPtrArray *disks, const char *name);
const VtHostNic *vt_host_nic_find(GPtrArray *nics, const char *name);

static inline gboolean
vt_host_disk_get(const VtHostDisk *d, VtHostDiskField f, guint64 *out)
{
	if (d == NULL || !(d->has & (1u << f)))
		return FALSE;
	*out = d->v[f];
	return TRUE;
}

static inline gboolean
vt_host_nic_get(const VtHostNic *n, VtHostNicField f, guint64 *out)
{
	if (n == NULL || !(n->has & (1u << f)))
		return FALSE;
	*out = n->v[f];
	return TRUE;
}

G_END_DECLS
