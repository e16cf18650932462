/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "domain.h"
#include "message.h"

G_BEGIN_DECLS

/*
 * Pair what the guest sees with what the domain XML declares.
 * NICs match by MAC (case-insensitive). Disks match by serial: virtio-blk
 * passes at most 20 bytes of it to the guest (VIRTIO_BLK_ID_BYTES), so an XML
 * serial longer than that matches its first 20 bytes. A guest names disks in
 * probe order, not by the XML's target dev, so without serials a disk can only
 * match by position: when the guest has exactly as many virtio_blk disks as
 * the XML has virtio disks, and every one of those has a PCI address, the
 * N-th guest disk (vda, vdb, …, vdz, vdaa) is the N-th XML disk in PCI order.
 */
typedef enum {
	VT_MATCH_NONE,
	VT_MATCH_MAC,
	VT_MATCH_SERIAL,
	VT_MATCH_ADDRESS,
} VtMatchHow;

const VtIfaceFacts *vt_match_nic(const VtDomainFacts *facts, const VtNic *nic);
/* The guest NIC for an XML interface, or NULL. */
const VtNic *vt_match_iface(const VtReport *report, const VtIfaceFacts *iface);

const VtDiskFacts *vt_match_disk(const VtDomainFacts *facts, const VtReport *report,
				 const VtBlock *block, VtMatchHow *how);
/* The guest disk for an XML disk, or NULL. */
const VtBlock *vt_match_xml_disk(const VtDomainFacts *facts, const VtReport *report,
				 const VtDiskFacts *disk, VtMatchHow *how);

const char *vt_match_how_name(VtMatchHow how);

/* Order of kernel disk names: shorter first, then bytewise (vdz < vdaa). */
int vt_disk_name_compare(const char *a, const char *b);

G_END_DECLS
