/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's settings under its guests: I/O schedulers, sysctls, THP, KSM. */
#include <string.h>

#include "rules-private.h"
#include "text.h"

/* ------------------------------------------------------------ host.scheduler */

/* The images on @disk: how many, and the domains they belong to. */
static guint
images_on(GPtrArray *images, const char *disk, GString *domains)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint n = 0;

	for (guint i = 0; i < images->len; i++) {
		const VtHostImage *img = images->pdata[i];

		if (!img->resolved || strcmp(img->dev.disk, disk) != 0)
			continue;
		n++;
		if (img->domain != NULL && g_hash_table_add(seen, img->domain) &&
		    domains->len < 1024)
			g_string_append_printf(domains, "%s%s", domains->len ? "," : "",
					       img->domain);
	}
	return n;
}

static const char *
pick_scheduler(const VtHostBlockDev *dev, char **accept)
{
	g_auto(GStrv) offered = g_strsplit(dev->schedulers, " ", -1);
	const char *first = dev->rotational ? "mq-deadline" : "none";

	if (g_strv_contains((const char *const *)offered, first) && vt_strv_has(accept, first))
		return first;
	for (guint i = 0; accept != NULL && accept[i] != NULL; i++)
		if (g_strv_contains((const char *const *)offered, accept[i]))
			return accept[i];
	return NULL;
}

static void
scheduler_of(VtRuleCtx *ctx, const VtHostBlockDev *dev)
{
	char **accept = dev->has_rotational && dev->rotational
				? ctx->cfg->host_sched_accept_rotational
				: ctx->cfg->host_sched_accept;
	g_autoptr(GString) domains = g_string_new(NULL);
	const char *want;
	guint n;
	VtRecommendation *rec;

	if (dev->scheduler[0] == '\0' || vt_strv_has(accept, dev->scheduler))
		return;
	if ((want = pick_scheduler(dev, accept)) == NULL) {
		vt_rule_skip(ctx, "%s offers none of the accepted schedulers", dev->disk);
		return;
	}
	n = images_on(ctx->host->images, dev->disk, domains);
	rec = vt_rule_emit(ctx, dev->disk, VT_SEVERITY_WARNING, VT_TARGET_HOST);
	vt_rec_command(rec, "echo %s > /sys/block/%s/queue/scheduler", want, dev->disk);
	vt_rec_rationale(
		rec,
		"%u guest image%s (%s) sit on %s, a %s device that runs the %s I/O scheduler. "
		"Each guest already orders its own requests; on the host %s suits this device "
		"(tuned's virtual-host profile sets deadline for disks, none suits SSD/NVMe).",
		n, n == 1 ? "" : "s", domains->str, dev->name,
		!dev->has_rotational ? "block"
		: dev->rotational    ? "spinning"
				     : "non-rotational",
		dev->scheduler, want);
	vt_ev_str(rec, "device", dev->disk);
	vt_ev_str(rec, "under", dev->name);
	vt_ev_str(rec, "scheduler", dev->scheduler);
	vt_ev_str(rec, "available", dev->schedulers);
	if (dev->has_rotational)
		vt_ev_bool(rec, "rotational", dev->rotational);
	vt_ev_uint(rec, "images", n);
	vt_ev_str(rec, "domains", domains->str);
	vt_ev_str(rec, "recommended", want);
}

void
vt_rule_host_scheduler(VtRuleCtx *ctx)
{
	GPtrArray *images = ctx->host->images;
	g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);

	if (images == NULL || images->len == 0) {
		vt_rule_skip(ctx, "no guest image on a host file or block device");
		return;
	}
	for (guint i = 0; i < images->len; i++) {
		const VtHostImage *img = images->pdata[i];

		if (!img->resolved) {
			g_autofree char *d = vt_text_escape(img->domain ? img->domain : "?", FALSE);
			vt_rule_skip(ctx, "%s %s: %s", d, img->disk ? img->disk : "?",
				     img->why ? img->why : "no device");
			continue;
		}
		if (g_hash_table_add(done, (gpointer)img->dev.disk))
			scheduler_of(ctx, &img->dev);
	}
}

/* ------------------------------------------------------------ host.sysctl */

static void
sysctl_high(VtRuleCtx *ctx, VtHostSysctl key, VtHostSysctl bytes_key, guint target, VtSeverity sev,
	    const char *why)
{
	const VtHostSystem *sys = ctx->host->system;
	const char *name = vt_host_sysctl_name(key);
	VtRecommendation *rec;

	if (!sys->has_sysctl[key]) {
		vt_rule_skip(ctx, "%s: not readable on the host", name);
		return;
	}
	/* a *_bytes value set makes the ratio read 0 and unused */
	if (bytes_key != key && sys->has_sysctl[bytes_key] && sys->sysctl[bytes_key] > 0)
		return;
	if (sys->sysctl[key] <= target)
		return;
	rec = vt_rule_emit(ctx, name, sev, VT_TARGET_HOST);
	vt_rec_command(rec, "sysctl -w %s=%u", name, target);
	vt_rec_rationale(rec,
			 "The host runs %s=%" G_GUINT64_FORMAT "; tuned's virtual-host profile "
			 "sets %u. %s Keep it in /etc/sysctl.d/ or run `tuned-adm profile "
			 "virtual-host`.",
			 name, sys->sysctl[key], target, why);
	vt_ev_str(rec, "key", name);
	vt_ev_uint(rec, "value", sys->sysctl[key]);
	vt_ev_uint(rec, "recommended", target);
	vt_ev_str(rec, "profile", "virtual-host");
}

static void
thp_check(VtRuleCtx *ctx)
{
	const VtHostSystem *sys = ctx->host->system;
	const char *want = ctx->cfg->host_thp;
	VtRecommendation *rec;

	if (g_strcmp0(want, "any") == 0)
		return;
	if (sys->thp[0] == '\0') {
		vt_rule_skip(ctx, "transparent_hugepage: not readable on the host");
		return;
	}
	if (strcmp(sys->thp, want) == 0)
		return;
	rec = vt_rule_emit(ctx, "transparent_hugepage", VT_SEVERITY_INFO, VT_TARGET_HOST);
	vt_rec_command(rec, "echo %s > /sys/kernel/mm/transparent_hugepage/enabled", want);
	vt_rec_rationale(
		rec,
		"Transparent hugepages on the host are '%s'; tuned's virtual-host profile "
		"sets '%s' so guest memory is backed by 2 MiB pages where it can be, which "
		"cuts the host's TLB misses and page-table walks for every guest.",
		sys->thp, want);
	vt_ev_str(rec, "key", "transparent_hugepage");
	vt_ev_str(rec, "value", sys->thp);
	vt_ev_str(rec, "recommended", want);
	vt_ev_str(rec, "profile", "virtual-host");
}

static void
ksm_check(VtRuleCtx *ctx)
{
	const VtHostSystem *sys = ctx->host->system;
	const char *mode = ctx->cfg->host_ksm;
	guint64 ram, reserve, current, maximum;
	guint ballooned;
	const char *source;
	gboolean on, want, over = FALSE;
	VtRecommendation *rec;

	if (g_strcmp0(mode, "any") == 0)
		return;
	if (!sys->has_ksm) {
		vt_rule_skip(ctx, "ksm: the host kernel has no /sys/kernel/mm/ksm");
		return;
	}
	if (vt_host_memory_budget(ctx->host, ctx->cfg, &ram, &reserve, &source)) {
		vt_host_guest_memory(ctx->host, &current, &maximum, &ballooned);
		over = maximum > (ram > reserve ? ram - reserve : 0);
	} else if (g_strcmp0(mode, "auto") == 0) {
		vt_rule_skip(ctx, "ksm: the host's memory size is not known");
		return;
	}
	on = sys->ksm_run == 1;
	want = g_strcmp0(mode, "on") == 0 || (g_strcmp0(mode, "auto") == 0 && over);
	if (on == want)
		return;
	rec = vt_rule_emit(ctx, "ksm", VT_SEVERITY_INFO, VT_TARGET_HOST);
	vt_rec_command(rec, "echo %d > /sys/kernel/mm/ksm/run", want ? 1 : 0);
	vt_rec_rationale(rec,
			 want ? "KSM is off while guest memory can outgrow what the host has for "
				"guests: merging identical guest pages is what lets it fit."
			      : "KSM is on while guest memory fits the host: ksmd spends host CPU "
				"scanning guest memory for a saving that is not needed.");
	vt_ev_str(rec, "key", "ksm");
	vt_ev_uint(rec, "value", sys->ksm_run);
	vt_ev_uint(rec, "recommended", want ? 1 : 0);
	vt_ev_bool(rec, "memory_overcommitted", over);
	if (sys->has_ksm_sharing)
		vt_ev_uint(rec, "pages_sharing", sys->ksm_pages_sharing);
}

void
vt_rule_host_sysctl(VtRuleCtx *ctx)
{
	const VtRulesConfig *c = ctx->cfg;

	if (ctx->host->system == NULL) {
		vt_rule_skip(ctx, "the host's /proc and /sys were not read");
		return;
	}
	sysctl_high(ctx, VT_HOST_SWAPPINESS, VT_HOST_SWAPPINESS, c->host_swappiness,
		    VT_SEVERITY_WARNING,
		    "A high value lets the host swap guest memory out to keep page cache, and a "
		    "guest whose memory is swapped stalls on every touch.");
	sysctl_high(ctx, VT_HOST_DIRTY_RATIO, VT_HOST_DIRTY_BYTES, c->host_dirty_ratio,
		    VT_SEVERITY_INFO,
		    "Writers are throttled only once this much memory is dirty, so guest writes "
		    "through the host cache pile up and flush in long stalls.");
	sysctl_high(ctx, VT_HOST_DIRTY_BACKGROUND_RATIO, VT_HOST_DIRTY_BACKGROUND_BYTES,
		    c->host_dirty_background_ratio, VT_SEVERITY_INFO,
		    "Background writeback that starts early keeps the flushes of guest writes "
		    "small.");
	thp_check(ctx);
	ksm_check(ctx);
}
