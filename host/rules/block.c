/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block rules: guest scheduler, host bus, host cache mode. */
#include <string.h>

#include "match.h"
#include "rules-private.h"

static gboolean
has_scheduler(const VtBlock *b, const char *name)
{
	for (gsize i = 0; i < b->n_schedulers; i++)
		if (g_strcmp0(b->schedulers[i], name) == 0)
			return TRUE;
	return FALSE;
}

/* Is the guest disk backed by a paravirtual or NVMe device, where the host
 * (or the device) schedules and a guest elevator only adds latency? */
static gboolean
is_fast_disk(const VtRuleInput *in, const VtBlock *b, const VtDiskFacts *disk)
{
	if (g_strcmp0(b->driver, "virtio_blk") == 0 || g_strcmp0(b->driver, "nvme") == 0)
		return TRUE;
	if (disk != NULL && g_strcmp0(disk->bus, "scsi") == 0) {
		const VtControllerFacts *c =
			vt_domain_facts_controller(in->facts, "scsi", disk->address.controller);
		return c != NULL && g_strcmp0(c->model, "virtio-scsi") == 0;
	}
	return FALSE;
}

void
vt_rule_blk_scheduler(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (gsize i = 0; i < in->report->n_block; i++) {
		const VtBlock *b = in->report->block[i];
		VtMatchHow how = VT_MATCH_NONE;
		const VtDiskFacts *disk = vt_match_disk(in->facts, in->report, b, &how);
		const char *target = NULL;
		const char *want;
		g_autofree char *dev = NULL;
		VtRecommendation *rec;

		if (b->name == NULL || !is_fast_disk(in, b, disk))
			continue;
		if (b->scheduler == NULL) {
			vt_rule_skip(ctx, "%s: the report has no scheduler", b->name);
			continue;
		}
		if (vt_strv_has(ctx->cfg->scheduler_accept, b->scheduler))
			continue;
		/* none is right when the host or the device schedules; a shared
		 * spinning backend still profits from mq-deadline's batching */
		want = (ctx->cfg->scheduler_spinning_backend ||
			(b->has_rotational && b->rotational))
			       ? "mq-deadline"
			       : "none";
		if (has_scheduler(b, want))
			target = want;
		for (guint a = 0; target == NULL && ctx->cfg->scheduler_accept[a] != NULL; a++)
			if (has_scheduler(b, ctx->cfg->scheduler_accept[a]))
				target = ctx->cfg->scheduler_accept[a];
		if (target == NULL) {
			vt_rule_skip(ctx, "%s: none of the accepted schedulers is available",
				     b->name);
			continue;
		}
		rec = vt_rule_emit(ctx, b->name, VT_SEVERITY_WARNING, VT_TARGET_GUEST);
		if (rec == NULL)
			return;
		rec->action = vt_action_set_scheduler(b->name, target);
		if ((dev = vt_rec_device_word(rec, b->name, TRUE)) != NULL)
			vt_rec_command(rec, "echo %s > /sys/block/%s/queue/scheduler", target, dev);
		vt_rec_rationale(
			rec,
			"%s (%s%s%s, %u hardware queue%s%s) runs the %s I/O scheduler. The "
			"host's I/O stack already orders and merges requests for a virtual disk, "
			"so "
			"a second elevator in the guest adds latency and CPU without reducing "
			"seeks. "
			"The kernel's own default is mq-deadline for single-queue devices and none "
			"for multi-queue ones; %s suits this disk%s.",
			b->name, b->driver ? b->driver : "unknown driver",
			disk ? ", host bus " : "", disk && disk->bus ? disk->bus : "",
			b->has_nr_hw_queues ? b->nr_hw_queues : 0, b->nr_hw_queues == 1 ? "" : "s",
			b->has_rotational && b->rotational ? ", rotational" : "", b->scheduler,
			target, strcmp(target, "mq-deadline") == 0 ? " on a spinning backend" : "");
		vt_ev_str(rec, "scheduler", b->scheduler);
		if (b->n_schedulers > 0) {
			g_autoptr(GString) avail = g_string_new(NULL);
			for (gsize s = 0; s < b->n_schedulers; s++)
				g_string_append_printf(avail, "%s%s", s ? " " : "",
						       b->schedulers[s]);
			vt_ev_str(rec, "available", avail->str);
		}
		vt_ev_str(rec, "driver", b->driver);
		if (b->has_nr_hw_queues)
			vt_ev_uint(rec, "nr_hw_queues", b->nr_hw_queues);
		if (b->has_rotational)
			vt_ev_bool(rec, "rotational", b->rotational);
		if (disk != NULL) {
			vt_ev_str(rec, "host_target", disk->target_dev);
			vt_ev_str(rec, "host_bus", disk->bus);
			vt_ev_str(rec, "host_cache", disk->cache);
			vt_ev_str(rec, "matched_by", vt_match_how_name(how));
		}
		vt_ev_str(rec, "recommended", target);
	}
}

const char *
vt_disk_subject(const VtRuleInput *in, const VtDiskFacts *disk, const VtBlock **guest,
		VtMatchHow *how)
{
	*guest = vt_match_xml_disk(in->facts, in->report, disk, how);
	if (*guest != NULL && (*guest)->name != NULL)
		return (*guest)->name;
	return disk->target_dev ? disk->target_dev : "disk";
}

char *
vt_disk_fragment(const VtDiskFacts *disk, const char *inner)
{
	const char *attr = "file";

	if (g_strcmp0(disk->type, "block") == 0)
		attr = "dev";
	else if (g_strcmp0(disk->type, "network") == 0)
		attr = "name";
	return g_strdup_printf("<disk type='%s' device='%s'><source %s='%s'/>%s</disk>",
			       disk->type ? disk->type : "file", disk->device, attr,
			       disk->source ? disk->source : "", inner);
}

const VtDiskFacts *
vt_disk_by_target(const VtDomainFacts *facts, const char *target)
{
	for (guint i = 0; facts != NULL && target != NULL && i < facts->disks->len; i++) {
		const VtDiskFacts *d = facts->disks->pdata[i];
		if (g_strcmp0(d->target_dev, target) == 0)
			return d;
	}
	return NULL;
}

/* The first vdX name no XML disk uses. */
static char *
free_virtio_name(const VtDomainFacts *facts)
{
	for (guint i = 0; i < 26 * 27; i++) {
		g_autofree char *name =
			i < 26 ? g_strdup_printf("vd%c", 'a' + i)
			       : g_strdup_printf("vd%c%c", 'a' + (i / 26) - 1, 'a' + i % 26);
		gboolean used = FALSE;

		for (guint d = 0; d < facts->disks->len && !used; d++)
			used = g_strcmp0(((VtDiskFacts *)facts->disks->pdata[d])->target_dev,
					 name) == 0;
		if (!used)
			return g_steal_pointer(&name);
	}
	return g_strdup("vdzz");
}

void
vt_rule_blk_bus(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (guint i = 0; i < in->facts->disks->len; i++) {
		const VtDiskFacts *disk = in->facts->disks->pdata[i];
		const VtBlock *guest = NULL;
		VtMatchHow how = VT_MATCH_NONE;
		g_autofree char *name = NULL;
		g_autofree char *target = NULL;
		g_autofree char *fragment = NULL;
		const char *subject;
		VtRecommendation *rec;

		/* CD-ROMs and floppies on emulated buses are normal */
		if (g_strcmp0(disk->device, "disk") != 0 ||
		    !vt_strv_has(ctx->cfg->bus_slow, disk->bus))
			continue;
		subject = vt_disk_subject(in, disk, &guest, &how);
		name = free_virtio_name(in->facts);
		target = g_strdup_printf("<target dev='%s' bus='virtio'/>", name);
		fragment = vt_disk_fragment(disk, target);
		rec = vt_rule_emit_xml(ctx, subject, VT_SEVERITY_WARNING, fragment);
		if (rec == NULL)
			return;
		vt_rec_rationale(
			rec,
			"Disk %s (%s, XML target %s) sits on the emulated %s bus%s%s%s: one "
			"request at a time through an emulated controller, no multi-queue, and "
			"exits per register access. With 'virsh edit %s' change its target to %s "
			"and drop its <address type='drive'/> so libvirt gives it a PCI slot (or "
			"use bus='scsi' on a virtio-scsi controller to keep sdX names). The guest "
			"needs virtio_blk in its initramfs before the switch, and should mount by "
			"UUID since the device name changes.",
			subject, disk->source ? disk->source : "no source",
			disk->target_dev ? disk->target_dev : "?", disk->bus,
			guest ? " (guest driver " : "", guest && guest->driver ? guest->driver : "",
			guest ? ")" : "", vt_domain_name(in), target);
		vt_ev_str(rec, "host_target", disk->target_dev);
		vt_ev_str(rec, "host_bus", disk->bus);
		vt_ev_str(rec, "source", disk->source);
		if (guest != NULL) {
			vt_ev_str(rec, "guest_driver", guest->driver);
			vt_ev_str(rec, "guest_scheduler", guest->scheduler);
			vt_ev_str(rec, "matched_by", vt_match_how_name(how));
		}
	}
}

void
vt_rule_blk_cache(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (guint i = 0; i < in->facts->disks->len; i++) {
		const VtDiskFacts *disk = in->facts->disks->pdata[i];
		const VtBlock *guest = NULL;
		VtMatchHow how = VT_MATCH_NONE;
		g_autofree char *driver = NULL;
		g_autofree char *fragment = NULL;
		gboolean unsafe;
		const char *subject;
		VtRecommendation *rec;

		if (g_strcmp0(disk->device, "disk") != 0 || disk->readonly ||
		    !vt_strv_has(ctx->cfg->cache_flag, disk->cache))
			continue;
		unsafe = strcmp(disk->cache, "unsafe") == 0;
		subject = vt_disk_subject(in, disk, &guest, &how);
		driver = g_strdup_printf("<driver name='%s'%s%s%s cache='none' io='native'/>",
					 disk->driver_name ? disk->driver_name : "qemu",
					 disk->format ? " type='" : "",
					 disk->format ? disk->format : "", disk->format ? "'" : "");
		fragment = vt_disk_fragment(disk, driver);
		rec = vt_rule_emit_xml(ctx, subject,
				       unsafe ? VT_SEVERITY_WARNING : VT_SEVERITY_INFO, fragment);
		if (rec == NULL)
			return;
		vt_rec_rationale(
			rec,
			"Data disk %s (%s) uses cache='%s'%s%s. %s With cache='none' and "
			"io='native' QEMU opens the image with O_DIRECT and submits through Linux "
			"AIO: no double caching of the guest's page cache in the host's, "
			"predictable latency, and guest flushes reach stable storage. This is "
			"advisory: writeback can still win for small, re-read images on a host "
			"with "
			"spare memory. Change it with 'virsh edit %s'.",
			subject, disk->source ? disk->source : "no source", disk->cache,
			disk->io ? " io=" : "", disk->io ? disk->io : "",
			unsafe ? "cache='unsafe' ignores the guest's flush requests: a host crash "
				 "loses data the guest believes is on disk."
			       : "writeback holds the guest's writes in the host page cache too, "
				 "so "
				 "memory is spent twice and the host's writeback storms show up as "
				 "guest latency.",
			vt_domain_name(in));
		vt_ev_str(rec, "host_target", disk->target_dev);
		vt_ev_str(rec, "cache", disk->cache);
		vt_ev_str(rec, "io", disk->io);
		vt_ev_str(rec, "format", disk->format);
		vt_ev_str(rec, "source", disk->source);
		if (guest != NULL) {
			vt_ev_str(rec, "guest_scheduler", guest->scheduler);
			vt_ev_str(rec, "matched_by", vt_match_how_name(how));
		}
	}
}
