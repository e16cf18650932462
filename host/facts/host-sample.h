/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "devstats.h"
#include "domstats.h"
#include "rates.h"

G_BEGIN_DECLS

/*
 * One poll's host counters of a domain, kept so that the measured effect of a
 * change has a host side before the change as well as after it: per disk
 * block.N.rd/wr.reqs and rd/wr.times, per interface net.N.rx/tx.drop, each
 * device with the guest device it is paired with (block.N.guest, net.N.guest:
 * keys of our own beside libvirt's). Kept as the text of `virsh domstats
 * --raw` so that reading it back is the bounded domstats parser, and the
 * devices come out of it as vt_host_disks()/vt_host_nics() give them.
 */

/* 128 disks x 6 keys and 64 interfaces x 4 keys of at most ~60 bytes each:
 * a bound on what is written and on what is read back. */
#define VT_HOST_SAMPLE_MAX_BYTES (64u * 1024u)
/* Devices of one kind looked at in a sample read back: the rates' own bound
 * on disks (VT_RATES_MAX_DISKS), which bounds what is written. */
#define VT_HOST_SAMPLE_MAX_DEVICES 128u

typedef struct {
	gint64 time_ms;    /* the host's realtime clock when it was taken */
	VtDomstats *stats; /* the counters above, owned */
	GPtrArray *disks;  /* of VtHostDisk, vt_host_disks(stats): read once */
	GPtrArray *nics;   /* of VtHostNic, vt_host_nics(stats) */
} VtHostSample;

void vt_host_sample_free(VtHostSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtHostSample, vt_host_sample_free)

/*
 * The sample text of @stats for the devices @rates pairs with guest devices
 * (names limited to [A-Za-z0-9._:@-], others left out); NULL when no device
 * is paired or has a counter.
 */
char *vt_host_sample_format(const VtRates *rates, const VtDomstats *stats);

/* Read a sample back: VT_ERROR_INVALID past VT_HOST_SAMPLE_MAX_BYTES or
 * when it is not one domain's domstats text. */
VtHostSample *vt_host_sample_parse(gint64 time_ms, const char *data, gsize len, GError **error);

/* The host device ("block" or "net" @kind) paired with guest device @guest
 * (NULL: the first paired one), or NULL. */
const char *vt_host_sample_target(const VtHostSample *sample, const char *kind, const char *guest);

G_END_DECLS
