/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "match.h"

#include <string.h>

/* VIRTIO_BLK_ID_BYTES in include/uapi/linux/virtio_blk.h */
#define VT_VIRTIO_BLK_SERIAL_MAX 20u

const char *
vt_match_how_name(VtMatchHow how)
{
	switch (how) {
	case VT_MATCH_MAC:
		return "mac";
	case VT_MATCH_SERIAL:
		return "serial";
	case VT_MATCH_ADDRESS:
		return "address";
	case VT_MATCH_NONE:
		break;
	}
	return "none";
}

const VtIfaceFacts *
vt_match_nic(const VtDomainFacts *facts, const VtNic *nic)
{
	if (facts == NULL || nic == NULL || nic->mac == NULL)
		return NULL;
	for (guint i = 0; i < facts->ifaces->len; i++) {
		const VtIfaceFacts *iface = facts->ifaces->pdata[i];
		if (iface->mac != NULL && g_ascii_strcasecmp(iface->mac, nic->mac) == 0)
			return iface;
	}
	return NULL;
}

const VtNic *
vt_match_iface(const VtReport *report, const VtIfaceFacts *iface)
{
	if (report == NULL || iface == NULL || iface->mac == NULL)
		return NULL;
	for (gsize i = 0; i < report->n_nics; i++) {
		const VtNic *nic = report->nics[i];
		if (nic->mac != NULL && g_ascii_strcasecmp(iface->mac, nic->mac) == 0)
			return nic;
	}
	return NULL;
}

int
vt_disk_name_compare(const char *a, const char *b)
{
	gsize la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static gboolean
serial_matches(const char *xml, const char *guest)
{
	if (xml == NULL || guest == NULL || guest[0] == '\0')
		return FALSE;
	if (strcmp(xml, guest) == 0)
		return TRUE;
	return strlen(xml) > VT_VIRTIO_BLK_SERIAL_MAX &&
	       strlen(guest) == VT_VIRTIO_BLK_SERIAL_MAX &&
	       strncmp(xml, guest, VT_VIRTIO_BLK_SERIAL_MAX) == 0;
}

static gboolean
is_xml_virtio_disk(const VtDiskFacts *d)
{
	return g_strcmp0(d->bus, "virtio") == 0 &&
	       (g_strcmp0(d->device, "disk") == 0 || g_strcmp0(d->device, "lun") == 0);
}

static gboolean
is_guest_virtio_disk(const VtBlock *b)
{
	return g_strcmp0(b->driver, "virtio_blk") == 0 && b->name != NULL;
}

static int
pci_compare(gconstpointer pa, gconstpointer pb)
{
	const VtDiskFacts *a = *(VtDiskFacts *const *)pa, *b = *(VtDiskFacts *const *)pb;
	guint64 ka = ((guint64)a->address.domain << 24) | (a->address.bus << 16) |
		     (a->address.slot << 8) | a->address.function;
	guint64 kb = ((guint64)b->address.domain << 24) | (b->address.bus << 16) |
		     (b->address.slot << 8) | b->address.function;

	return ka < kb ? -1 : ka > kb ? 1 : 0;
}

static int
block_compare(gconstpointer pa, gconstpointer pb)
{
	const VtBlock *a = *(VtBlock *const *)pa, *b = *(VtBlock *const *)pb;

	return vt_disk_name_compare(a->name, b->name);
}

/* The ordered virtio disks of both sides, when positional matching is sound. */
static gboolean
positional_lists(const VtDomainFacts *facts, const VtReport *report, GPtrArray *xml,
		 GPtrArray *guest)
{
	for (guint i = 0; i < facts->disks->len; i++) {
		const VtDiskFacts *d = facts->disks->pdata[i];
		if (!is_xml_virtio_disk(d))
			continue;
		if (g_strcmp0(d->address.type, "pci") != 0)
			return FALSE;
		g_ptr_array_add(xml, (gpointer)d);
	}
	for (gsize i = 0; i < report->n_block; i++)
		if (is_guest_virtio_disk(report->block[i]))
			g_ptr_array_add(guest, report->block[i]);
	if (xml->len == 0 || xml->len != guest->len)
		return FALSE;
	g_ptr_array_sort(xml, pci_compare);
	g_ptr_array_sort(guest, block_compare);
	return TRUE;
}

const VtDiskFacts *
vt_match_disk(const VtDomainFacts *facts, const VtReport *report, const VtBlock *block,
	      VtMatchHow *how)
{
	g_autoptr(GPtrArray) xml = NULL;
	g_autoptr(GPtrArray) guest = NULL;

	if (how != NULL)
		*how = VT_MATCH_NONE;
	if (facts == NULL || block == NULL)
		return NULL;
	for (guint i = 0; i < facts->disks->len; i++) {
		const VtDiskFacts *d = facts->disks->pdata[i];
		if (serial_matches(d->serial, block->serial)) {
			if (how != NULL)
				*how = VT_MATCH_SERIAL;
			return d;
		}
	}
	if (report == NULL || !is_guest_virtio_disk(block))
		return NULL;
	xml = g_ptr_array_new();
	guest = g_ptr_array_new();
	if (!positional_lists(facts, report, xml, guest))
		return NULL;
	for (guint i = 0; i < guest->len; i++)
		if (guest->pdata[i] == block) {
			if (how != NULL)
				*how = VT_MATCH_ADDRESS;
			return xml->pdata[i];
		}
	return NULL;
}

const VtBlock *
vt_match_xml_disk(const VtDomainFacts *facts, const VtReport *report, const VtDiskFacts *disk,
		  VtMatchHow *how)
{
	if (how != NULL)
		*how = VT_MATCH_NONE;
	if (report == NULL || disk == NULL)
		return NULL;
	for (gsize i = 0; i < report->n_block; i++) {
		const VtBlock *b = report->block[i];
		if (vt_match_disk(facts, report, b, how) == disk)
			return b;
	}
	if (how != NULL)
		*how = VT_MATCH_NONE;
	return NULL;
}
