/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block rules over both sides: latency (host path vs guest queue), iothreads,
 * backing chains, image format. */
#include <string.h>

#include "devstats.h"
#include "rules-private.h"
#include "text.h"

static const VtBlock *
report_block(const VtReport *r, const char *name)
{
	for (gsize i = 0; i < r->n_block; i++)
		if (g_strcmp0(r->block[i]->name, name) == 0)
			return r->block[i];
	return NULL;
}

static double
guest_iops(const VtDiskRates *d)
{
	return d->guest_read_iops + d->guest_write_iops;
}

/* The numbers of both sides, in a fixed order. */
static void
disk_evidence(VtRecommendation *rec, const VtDiskRates *d, const VtBlock *b, const VtDiskFacts *x)
{
	if (d->has_guest) {
		vt_ev_double(rec, "guest_read_iops", d->guest_read_iops);
		vt_ev_double(rec, "guest_write_iops", d->guest_write_iops);
	}
	if (d->has_guest_read_ms)
		vt_ev_double(rec, "guest_read_ms", d->guest_read_ms);
	if (d->has_guest_write_ms)
		vt_ev_double(rec, "guest_write_ms", d->guest_write_ms);
	if (d->has_host_iops) {
		vt_ev_double(rec, "host_read_iops", d->host_read_iops);
		vt_ev_double(rec, "host_write_iops", d->host_write_iops);
	}
	if (d->has_host_read_ms)
		vt_ev_double(rec, "host_read_ms", d->host_read_ms);
	if (d->has_host_write_ms)
		vt_ev_double(rec, "host_write_ms", d->host_write_ms);
	if (d->has_added_read_ms)
		vt_ev_double(rec, "added_read_ms", d->added_read_ms);
	if (d->has_added_write_ms)
		vt_ev_double(rec, "added_write_ms", d->added_write_ms);
	if (d->has_host)
		vt_ev_str(rec, "host_window", vt_rates_window_name(d->host_window));
	vt_ev_str(rec, "host_target", d->target[0] ? d->target : NULL);
	if (b != NULL) {
		vt_ev_str(rec, "scheduler", b->scheduler);
		if (b->has_nr_requests)
			vt_ev_uint(rec, "nr_requests", b->nr_requests);
	}
	if (x != NULL) {
		vt_ev_str(rec, "cache", x->cache);
		vt_ev_str(rec, "io", x->io);
		vt_ev_str(rec, "format", x->format);
		vt_ev_uint(rec, "iothread", x->iothread);
		vt_ev_uint(rec, "backing_depth", x->backing_depth);
	}
}

static double
max_of(gboolean has_a, double a, gboolean has_b, double b)
{
	if (has_a && has_b)
		return MAX(a, b);
	return has_a ? a : has_b ? b : 0;
}

/* <iothreads>1</iothreads> when the domain has none, then the disk's driver
 * with O_DIRECT, native AIO and an iothread. */
char *
vt_disk_storage_fragment(const VtDomainFacts *f, const VtDiskFacts *x)
{
	g_autofree char *driver = g_strdup_printf(
		"<driver name='%s' type='%s' cache='none' io='native' iothread='%u'/>",
		x->driver_name ? x->driver_name : "qemu", x->format ? x->format : "raw",
		x->iothread ? x->iothread : 1);
	g_autofree char *disk = vt_disk_fragment(x, driver);

	if (f->iothreads > 0)
		return g_steal_pointer(&disk);
	return g_strdup_printf("<iothreads>1</iothreads> %s", disk);
}

static void
latency_host(VtRuleCtx *ctx, const VtDiskRates *d, const VtBlock *b, const VtDiskFacts *x,
	     double host_ms)
{
	g_autofree char *fragment = vt_disk_storage_fragment(ctx->in->facts, x);
	g_autofree char *dom = vt_domain_word(ctx->in);
	g_autofree char *target = vt_shell_quote(x->target_dev);
	VtRecommendation *rec = vt_rule_emit_xml(ctx, d->name, VT_SEVERITY_WARNING, fragment);

	if (rec == NULL)
		return;
	vt_rec_rationale(
		rec,
		"Requests to %s (host %s, %s) take %.1f ms on average on the host side (domstats "
		"rd/wr.times over rd/wr.reqs, %s), at or above %.1f ms: the time is spent in the "
		"host's storage path, not in the guest. Check for throttling first ('virsh "
		"blkdeviotune %s %s' shows any <iotune> limit); then open the image with "
		"cache='none' io='native' (it now has cache=%s io=%s), give the disk an iothread "
		"(iothread=%u), prefer a raw image to %s, and keep the backing chain short "
		"(%u layer%s under the top image).",
		d->name, d->target, x->source ? x->source : "no source", host_ms,
		vt_rates_window_name(d->host_window), ctx->cfg->lat_host_ms, dom, target,
		x->cache ? x->cache : "default", x->io ? x->io : "default", x->iothread,
		x->format ? x->format : "an unknown format", x->backing_depth,
		x->backing_depth == 1 ? "" : "s");
	vt_ev_str(rec, "side", "host");
	vt_ev_double(rec, "threshold_ms", ctx->cfg->lat_host_ms);
	disk_evidence(rec, d, b, x);
}

static void
latency_guest(VtRuleCtx *ctx, const VtDiskRates *d, const VtBlock *b, const VtDiskFacts *x,
	      double added_ms)
{
	guint depth = ctx->cfg->lat_nr_requests;
	g_autofree char *dev = NULL;
	gboolean deep = b->has_nr_requests && b->nr_requests > depth;
	VtRecommendation *rec;

	if (!deep && g_strcmp0(b->scheduler, "mq-deadline") == 0) {
		vt_rule_skip(ctx,
			     "%s: the guest adds %.1f ms per request, but its queue is already "
			     "at most %u deep on mq-deadline",
			     d->name, added_ms, depth);
		return;
	}
	if ((rec = vt_rule_emit(ctx, d->name, VT_SEVERITY_WARNING, VT_TARGET_GUEST)) == NULL)
		return;
	dev = vt_rec_device_word(rec, d->name, TRUE);
	if (deep) {
		rec->action = vt_action_set_nr_requests(d->name, depth);
		if (dev != NULL)
			vt_rec_command(rec, "echo %u > /sys/block/%s/queue/nr_requests", depth,
				       dev);
	} else {
		rec->action = vt_action_set_scheduler(d->name, "mq-deadline");
		if (dev != NULL)
			vt_rec_command(rec, "echo mq-deadline > /sys/block/%s/queue/scheduler",
				       dev);
	}
	vt_rec_rationale(
		rec,
		"Requests to %s take %.1f ms longer in the guest than on the host (host side "
		"%.1f ms per request): the host's storage path is fast and the time is spent "
		"queued in the guest, behind %s%u requests on the %s scheduler. %s",
		d->name, added_ms,
		max_of(d->has_host_read_ms, d->host_read_ms, d->has_host_write_ms,
		       d->host_write_ms),
		b->has_nr_requests ? "up to " : "", b->has_nr_requests ? b->nr_requests : 0,
		b->scheduler ? b->scheduler : "unknown",
		deep ? "A shorter queue (nr_requests) bounds how long a request waits; the "
		       "workload sees back-pressure instead of latency."
		     : "mq-deadline bounds how long a request may wait in the queue.");
	vt_ev_str(rec, "side", "guest");
	vt_ev_double(rec, "threshold_ms", ctx->cfg->lat_added_ms);
	disk_evidence(rec, d, b, x);
}

void
vt_rule_blk_latency(VtRuleCtx *ctx)
{
	const VtRates *r = ctx->in->rates;

	for (guint i = 0; i < r->n_disks; i++) {
		const VtDiskRates *d = &r->disks[i];
		const VtDiskFacts *x = vt_disk_by_target(ctx->in->facts, d->target);
		const VtBlock *b = report_block(ctx->in->report, d->name);
		double host_ms, added_ms;

		if (x == NULL || !d->has_host) {
			vt_rule_skip(ctx, "%s: no host-side block stats for it", d->name);
			continue;
		}
		if (!d->has_guest) {
			vt_rule_skip(ctx, "%s: the report has no block stats for it", d->name);
			continue;
		}
		if (guest_iops(d) < ctx->cfg->lat_min_iops || b == NULL)
			continue;
		host_ms = max_of(d->has_host_read_ms, d->host_read_ms, d->has_host_write_ms,
				 d->host_write_ms);
		added_ms = max_of(d->has_added_read_ms, d->added_read_ms, d->has_added_write_ms,
				  d->added_write_ms);
		if ((d->has_host_read_ms || d->has_host_write_ms) &&
		    host_ms >= ctx->cfg->lat_host_ms)
			latency_host(ctx, d, b, x, host_ms);
		else if ((d->has_added_read_ms || d->has_added_write_ms) &&
			 added_ms >= ctx->cfg->lat_added_ms)
			latency_guest(ctx, d, b, x, added_ms);
	}
}

/* Host IOPS over the interval when known, else the guest's. */
static gboolean
disk_iops(const VtDiskRates *d, double *iops, const char **side)
{
	if (d->has_host_iops) {
		*iops = d->host_read_iops + d->host_write_iops;
		*side = "host";
		return TRUE;
	}
	if (d->has_guest) {
		*iops = guest_iops(d);
		*side = "guest";
		return TRUE;
	}
	return FALSE;
}

void
vt_rule_blk_iothread(VtRuleCtx *ctx)
{
	const VtRates *r = ctx->in->rates;

	for (guint i = 0; i < r->n_disks; i++) {
		const VtDiskRates *d = &r->disks[i];
		const VtDiskFacts *x = vt_disk_by_target(ctx->in->facts, d->target);
		const char *from = NULL;
		double iops = 0;
		g_autofree char *fragment = NULL;
		VtRecommendation *rec;

		if (x == NULL || g_strcmp0(x->device, "disk") != 0 ||
		    g_strcmp0(x->bus, "virtio") != 0 || x->iothread > 0)
			continue;
		if (!disk_iops(d, &iops, &from)) {
			vt_rule_skip(ctx, "%s: no I/O rate on either side", d->name);
			continue;
		}
		if (iops < ctx->cfg->iothread_min_iops)
			continue;
		fragment = vt_disk_storage_fragment(ctx->in->facts, x);
		rec = vt_rule_emit_xml(ctx, d->name, VT_SEVERITY_WARNING, fragment);
		if (rec == NULL)
			return;
		vt_rec_rationale(
			rec,
			"%s (host %s) does %.0f I/Os per second (%s side), at or above %.0f, and "
			"has no iothread: its requests are handled in QEMU's main loop, shared "
			"with every other device and the monitor, so a busy disk adds latency to "
			"all of them. Give it an iothread of its own (the domain has %u).",
			d->name, d->target, iops, from, ctx->cfg->iothread_min_iops,
			ctx->in->facts->iothreads);
		vt_ev_double(rec, "iops", iops);
		vt_ev_str(rec, "iops_side", from);
		vt_ev_double(rec, "threshold_iops", ctx->cfg->iothread_min_iops);
		vt_ev_uint(rec, "domain_iothreads", ctx->in->facts->iothreads);
		disk_evidence(rec, d, report_block(ctx->in->report, d->name), x);
	}
}

/* Layers under the top image: the XML's <backingStore> chain, or domstats
 * --backing when it saw more. */
static guint
chain_depth(const VtRuleInput *in, const VtDiskFacts *x, guint *host_depth)
{
	g_autoptr(GPtrArray) disks = vt_host_disks(in->stats);
	const VtHostDisk *h = vt_host_disk_find(disks, x->target_dev);

	*host_depth = h != NULL ? h->chain_depth : 0;
	return MAX(x->backing_depth, *host_depth);
}

void
vt_rule_blk_chain(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (guint i = 0; i < in->facts->disks->len; i++) {
		const VtDiskFacts *x = in->facts->disks->pdata[i];
		const VtBlock *guest = NULL;
		VtMatchHow how = VT_MATCH_NONE;
		g_autofree char *dom = vt_domain_word(in);
		g_autofree char *target = NULL;
		guint host_depth, depth;
		const char *subject;
		VtRecommendation *rec;

		if (g_strcmp0(x->device, "disk") != 0 || x->target_dev == NULL)
			continue;
		depth = chain_depth(in, x, &host_depth);
		if (depth <= ctx->cfg->chain_max_depth)
			continue;
		subject = vt_disk_subject(in, x, &guest, &how);
		target = vt_shell_quote(x->target_dev);
		rec = vt_rule_emit(ctx, subject, VT_SEVERITY_WARNING, VT_TARGET_HOST);
		if (rec == NULL)
			return;
		vt_rec_command(rec, "virsh blockpull %s %s --wait --verbose", dom, target);
		vt_rec_rationale(
			rec,
			"Disk %s (host %s, %s) sits on %u backing layer%s (more than %u): every "
			"read that misses the top image walks down the chain, each layer with its "
			"own qcow2 metadata lookups and cache. Pull the layers into the top image "
			"while the guest runs ('virsh blockpull'), or merge the top into its "
			"base with 'virsh blockcommit %s %s --active --pivot' when the snapshots "
			"are no longer needed.",
			subject, x->target_dev, x->source ? x->source : "no source", depth,
			depth == 1 ? "" : "s", ctx->cfg->chain_max_depth, dom, target);
		vt_ev_uint(rec, "chain_depth", depth);
		vt_ev_uint(rec, "xml_backing_depth", x->backing_depth);
		vt_ev_uint(rec, "domstats_backing_depth", host_depth);
		vt_ev_uint(rec, "max_depth", ctx->cfg->chain_max_depth);
		vt_ev_str(rec, "format", x->format);
		vt_ev_str(rec, "backing_format", x->backing_format);
		vt_ev_str(rec, "host_target", x->target_dev);
		if (guest != NULL)
			vt_ev_str(rec, "matched_by", vt_match_how_name(how));
	}
}

static char *
raw_path(const char *source)
{
	if (g_str_has_suffix(source, ".qcow2"))
		return g_strdup_printf("%.*s.raw", (int)(strlen(source) - 6), source);
	return g_strconcat(source, ".raw", NULL);
}

void
vt_rule_blk_format(VtRuleCtx *ctx)
{
	const VtRates *r = ctx->in->rates;

	for (guint i = 0; i < r->n_disks; i++) {
		const VtDiskRates *d = &r->disks[i];
		const VtDiskFacts *x = vt_disk_by_target(ctx->in->facts, d->target);
		g_autofree char *src = NULL, *dst = NULL, *raw = NULL;
		const char *from = NULL;
		double iops = 0;
		VtRecommendation *rec;

		if (x == NULL || g_strcmp0(x->format, "qcow2") != 0 ||
		    g_strcmp0(x->device, "disk") != 0 || x->readonly)
			continue;
		if (!disk_iops(d, &iops, &from) || iops < ctx->cfg->format_min_iops)
			continue;
		if (g_strcmp0(x->type, "file") != 0 || x->source == NULL) {
			vt_rule_skip(ctx, "%s: qcow2 and busy, but not a file image", d->name);
			continue;
		}
		raw = raw_path(x->source);
		src = vt_shell_quote(x->source);
		dst = vt_shell_quote(raw);
		rec = vt_rule_emit(ctx, d->name, VT_SEVERITY_INFO, VT_TARGET_HOST);
		if (rec == NULL)
			return;
		vt_rec_command(rec, "qemu-img convert -p -f qcow2 -O raw %s %s", src, dst);
		vt_rec_rationale(
			rec,
			"%s is a qcow2 image and does %.0f I/Os per second (%s side, at or above "
			"%.0f). For I/O-bound guests the tuning guides prefer raw images: no "
			"cluster allocation or L2 table lookups on the request path. Advisory: "
			"with the domain shut off, convert the image (which also flattens %u "
			"backing layer%s) and point the disk at it with <driver type='raw'/>; "
			"qcow2 keeps snapshots and thin provisioning.",
			d->name, iops, from, ctx->cfg->format_min_iops, x->backing_depth,
			x->backing_depth == 1 ? "" : "s");
		vt_ev_double(rec, "iops", iops);
		vt_ev_str(rec, "iops_side", from);
		vt_ev_double(rec, "threshold_iops", ctx->cfg->format_min_iops);
		vt_ev_str(rec, "source", x->source);
		disk_evidence(rec, d, report_block(ctx->in->report, d->name), x);
	}
}
