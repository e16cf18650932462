/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pressure stall rules (PSI avg60) for memory, CPU and I/O, each naming the
 * side that causes the stalls from the host's numbers. */
#include <string.h>

#include "rules-private.h"

#define MIB ((guint64)1024 * 1024)

/* avg60 of @line into @out; FALSE when the line or its field is missing. */
static gboolean
avg60(const VtPressureLine *line, double *out)
{
	if (line == NULL || !line->has_avg60)
		return FALSE;
	*out = line->avg60;
	return TRUE;
}

/* The report's PSI, or NULL with the rule skipped. */
static const VtPressure *
pressure_of(VtRuleCtx *ctx)
{
	const VtPressure *p = ctx->in->report->pressure;

	if (p == NULL)
		vt_rule_skip(ctx, "the report has no PSI (/proc/pressure: kernel without "
				  "CONFIG_PSI, or psi=0)");
	return p;
}

static void
psi_evidence(VtRecommendation *rec, const char *prefix, const VtPressureLine *some,
	     const VtPressureLine *full)
{
	g_autofree char *k1 = g_strdup_printf("%s_some_avg10", prefix);
	g_autofree char *k2 = g_strdup_printf("%s_some_avg60", prefix);
	g_autofree char *k3 = g_strdup_printf("%s_full_avg10", prefix);
	g_autofree char *k4 = g_strdup_printf("%s_full_avg60", prefix);

	if (some != NULL && some->has_avg10)
		vt_ev_double(rec, k1, some->avg10);
	if (some != NULL && some->has_avg60)
		vt_ev_double(rec, k2, some->avg60);
	if (full != NULL && full->has_avg10)
		vt_ev_double(rec, k3, full->avg10);
	if (full != NULL && full->has_avg60)
		vt_ev_double(rec, k4, full->avg60);
}

/* ------------------------------------------------------------ memory */

static VtRecommendation *
memory_change(VtRuleCtx *ctx, VtSeverity severity, gboolean host)
{
	const VtRates *r = ctx->in->rates;
	g_autofree char *word = vt_domain_word(ctx->in);
	guint64 base = r->has_balloon ? r->balloon_maximum_bytes : 0;
	guint64 grow;
	VtRecommendation *rec = vt_rule_emit(ctx, "domain", severity, VT_TARGET_HOST);

	if (rec == NULL)
		return NULL;
	if (host) {
		vt_rec_command(rec, "virsh setmem %s %" G_GUINT64_FORMAT "K --live", word,
			       r->balloon_maximum_bytes / 1024);
		return rec;
	}
	if (base == 0 && !vt_report_meminfo(ctx->in->report, "MemTotal", &base))
		base = 0;
	grow = base / 100 * (100 + ctx->cfg->psi_mem_grow_pct);
	grow = (grow + 256 * MIB - 1) / (256 * MIB) * (256 * MIB);
	if (grow == 0)
		vt_rec_command(rec,
			       "virsh setmaxmem %s SIZE --config && virsh setmem %s SIZE "
			       "--config",
			       word, word);
	else
		vt_rec_command(rec,
			       "virsh setmaxmem %s %" G_GUINT64_FORMAT "K --config && virsh "
			       "setmem %s %" G_GUINT64_FORMAT "K --config",
			       word, grow / 1024, word, grow / 1024);
	return rec;
}

void
vt_rule_mem_pressure(VtRuleCtx *ctx)
{
	const VtPressure *p = pressure_of(ctx);
	const VtRates *r = ctx->in->rates;
	double some = 0, full = 0;
	guint64 avail = 0, total = 0;
	gboolean has_some, has_full, host;
	VtSeverity severity;
	VtRecommendation *rec;

	if (p == NULL)
		return;
	has_some = avg60(p->memory_some, &some);
	has_full = avg60(p->memory_full, &full);
	if (!has_some && !has_full) {
		vt_rule_skip(ctx, "the report's PSI has no memory line");
		return;
	}
	if (some < ctx->cfg->psi_mem_some && full < ctx->cfg->psi_mem_full)
		return;
	severity = full >= ctx->cfg->psi_mem_full ? VT_SEVERITY_CRITICAL : VT_SEVERITY_WARNING;
	/* a balloon holding memory back makes it the host's doing */
	host = vt_balloon_inflated(r);
	if ((rec = memory_change(ctx, severity, host)) == NULL)
		return;
	vt_report_meminfo(ctx->in->report, "MemAvailable", &avail);
	vt_report_meminfo(ctx->in->report, "MemTotal", &total);
	vt_rec_rationale(
		rec,
		"Tasks in the guest stalled on memory %.1f%% of the last minute (some), all of "
		"them at once %.1f%% (full), at or above %.0f%% / %.0f%%. MemAvailable is "
		"%" G_GUINT64_FORMAT " MiB of %" G_GUINT64_FORMAT
		" MiB; the guest swaps %.1f pages/s. %s",
		some, full, ctx->cfg->psi_mem_some, ctx->cfg->psi_mem_full, avail / MIB,
		total / MIB, r->has_swap ? r->swap_in_pps + r->swap_out_pps : 0.0,
		host ? "The host's balloon holds the guest below its maximum: deflate it."
		     : "The balloon is not holding memory back: the working set does not fit "
		       "the domain's memory; give it more (at the next boot) or reduce the load.");
	vt_ev_str(rec, "side", host ? "host" : "guest");
	psi_evidence(rec, "memory", p->memory_some, p->memory_full);
	vt_ev_uint(rec, "mem_available_bytes", avail);
	vt_ev_uint(rec, "mem_total_bytes", total);
	if (r->has_swap)
		vt_ev_double(rec, "swap_pages_per_s", r->swap_in_pps + r->swap_out_pps);
	if (r->has_balloon) {
		vt_ev_uint(rec, "balloon_actual_bytes", r->balloon_actual_bytes);
		vt_ev_uint(rec, "balloon_maximum_bytes", r->balloon_maximum_bytes);
	}
}

/* ------------------------------------------------------------ cpu */

void
vt_rule_cpu_pressure(VtRuleCtx *ctx)
{
	const VtPressure *p = pressure_of(ctx);
	const VtRates *r = ctx->in->rates;
	g_autofree char *word = vt_domain_word(ctx->in);
	guint vcpus = vt_guest_vcpus(ctx->in, NULL);
	double some = 0;
	gboolean host;
	VtRecommendation *rec;

	if (p == NULL)
		return;
	if (!avg60(p->cpu_some, &some)) {
		vt_rule_skip(ctx, "the report's PSI has no cpu line");
		return;
	}
	if (some < ctx->cfg->psi_cpu_some)
		return;
	if (!r->has_vcpu_delay) {
		vt_rule_skip(ctx,
			     "cpu some avg60 is %.1f%%, but naming the side needs domstats "
			     "vcpu.N.delay",
			     some);
		return;
	}
	host = r->vcpu_wait_pct >= ctx->cfg->psi_cpu_vcpu_wait_pct;
	if ((rec = vt_rule_emit(ctx, "domain", VT_SEVERITY_WARNING, VT_TARGET_HOST)) == NULL)
		return;
	if (host)
		vt_rec_command(rec,
			       "virsh vcpupin %s --vcpu N --cpulist HOST-CPUS --live --config "
			       "(for each vCPU N, on host CPUs no other guest uses)",
			       word);
	else
		vt_rec_command(rec,
			       "virsh setvcpus %s %u --config --maximum && virsh setvcpus %s %u "
			       "--config",
			       word, vcpus + 1, word, vcpus + 1);
	vt_rec_rationale(
		rec,
		"Runnable tasks in the guest waited for a CPU %.1f%% of the last minute (PSI "
		"cpu some avg60, at or above %.0f%%); on the host its vCPU threads waited "
		"%.1f%% of their runnable time (vcpu.N.delay, %s) and the guest saw %.1f%% "
		"steal. %s",
		some, ctx->cfg->psi_cpu_some, r->vcpu_wait_pct,
		vt_rates_window_name(r->host_window), r->has_steal ? r->steal_pct : 0.0,
		host ? "The host's CPUs are short: the vCPUs wait to run. Reduce the host's "
		       "overcommit or pin the vCPUs to CPUs reserved for them."
		     : "The vCPUs run when they want to: the guest has more work than vCPUs. "
		       "Give it another vCPU (at the next boot) or reduce its load.");
	vt_ev_str(rec, "side", host ? "host" : "guest");
	psi_evidence(rec, "cpu", p->cpu_some, NULL);
	vt_ev_double(rec, "vcpu_wait_pct", r->vcpu_wait_pct);
	vt_ev_str(rec, "delay_window", vt_rates_window_name(r->host_window));
	if (r->has_steal)
		vt_ev_double(rec, "steal_pct", r->steal_pct);
	vt_ev_uint(rec, "vcpus", vcpus);
	vt_ev_double(rec, "threshold_pct", ctx->cfg->psi_cpu_some);
}

/* ------------------------------------------------------------ io */

/* The disk whose host side is slowest, and the one whose guest adds most. */
static void
worst_disks(const VtRates *r, const VtDiskRates **host, double *host_ms, const VtDiskRates **guest,
	    double *added_ms)
{
	*host = *guest = NULL;
	*host_ms = *added_ms = 0;
	for (guint i = 0; i < r->n_disks; i++) {
		const VtDiskRates *d = &r->disks[i];
		double h = MAX(d->has_host_read_ms ? d->host_read_ms : 0,
			       d->has_host_write_ms ? d->host_write_ms : 0);
		double a = MAX(d->has_added_read_ms ? d->added_read_ms : 0,
			       d->has_added_write_ms ? d->added_write_ms : 0);

		if (d->has_host && (*host == NULL || h > *host_ms)) {
			*host = d;
			*host_ms = h;
		}
		if (d->has_host && (*guest == NULL || a > *added_ms)) {
			*guest = d;
			*added_ms = a;
		}
	}
}

static const VtBlock *
report_block(const VtReport *r, const char *name)
{
	for (gsize i = 0; i < r->n_block; i++)
		if (g_strcmp0(r->block[i]->name, name) == 0)
			return r->block[i];
	return NULL;
}

/* The change on the side that causes the stalls; NULL (skipped) when there
 * is none to make. */
static VtRecommendation *
io_change(VtRuleCtx *ctx, VtSeverity severity, gboolean host, const VtDiskRates *d)
{
	const VtDiskFacts *x = vt_disk_by_target(ctx->in->facts, d->target);
	const VtBlock *b = report_block(ctx->in->report, d->name);
	guint depth = ctx->cfg->lat_nr_requests;
	g_autofree char *fragment = NULL;
	g_autofree char *dev = NULL;
	VtRecommendation *rec;

	if (host) {
		if (x == NULL) {
			vt_rule_skip(ctx,
				     "%s: slow on the host, but the domain XML is needed "
				     "for the change",
				     d->name);
			return NULL;
		}
		fragment = vt_disk_storage_fragment(ctx->in->facts, x);
		return vt_rule_emit_xml(ctx, "domain", severity, fragment);
	}
	if (b == NULL || !b->has_nr_requests || b->nr_requests <= depth) {
		vt_rule_skip(ctx, "%s: the guest queues, but its nr_requests is already at most %u",
			     d->name, depth);
		return NULL;
	}
	if ((rec = vt_rule_emit(ctx, "domain", severity, VT_TARGET_GUEST)) == NULL)
		return NULL;
	rec->action = vt_action_set_nr_requests(d->name, depth);
	if ((dev = vt_rec_device_word(rec, d->name, TRUE)) != NULL)
		vt_rec_command(rec, "echo %u > /sys/block/%s/queue/nr_requests", depth, dev);
	return rec;
}

void
vt_rule_io_pressure(VtRuleCtx *ctx)
{
	const VtPressure *p = pressure_of(ctx);
	const VtDiskRates *hd, *gd;
	double some = 0, full = 0, host_ms, added_ms;
	gboolean host;
	VtSeverity severity;
	VtRecommendation *rec;

	if (p == NULL)
		return;
	if (!avg60(p->io_some, &some) && !avg60(p->io_full, &full)) {
		vt_rule_skip(ctx, "the report's PSI has no io line");
		return;
	}
	avg60(p->io_full, &full);
	if (some < ctx->cfg->psi_io_some && full < ctx->cfg->psi_io_full)
		return;
	worst_disks(ctx->in->rates, &hd, &host_ms, &gd, &added_ms);
	if (hd == NULL) {
		vt_rule_skip(ctx,
			     "io some avg60 is %.1f%%, but naming the side needs the disks' "
			     "domstats",
			     some);
		return;
	}
	severity = full >= ctx->cfg->psi_io_full ? VT_SEVERITY_CRITICAL : VT_SEVERITY_WARNING;
	host = host_ms >= ctx->cfg->lat_host_ms || added_ms < ctx->cfg->lat_added_ms;
	if ((rec = io_change(ctx, severity, host, host ? hd : gd)) == NULL)
		return;
	vt_rec_rationale(
		rec,
		"Tasks in the guest stalled on I/O %.1f%% of the last minute (some), all at once "
		"%.1f%% (full), at or above %.0f%% / %.0f%%. The slowest disk on the host side "
		"is %s at %.1f ms per request; the guest adds at most %.1f ms (%s). %s",
		some, full, ctx->cfg->psi_io_some, ctx->cfg->psi_io_full, hd->name, host_ms,
		added_ms, gd->name,
		host ? "The host's storage path is where the time goes: tune that disk's host "
		       "side (see blk.latency)."
		     : "The host answers fast; requests wait in the guest's queue: shorten it.");
	vt_ev_str(rec, "side", host ? "host" : "guest");
	psi_evidence(rec, "io", p->io_some, p->io_full);
	vt_ev_str(rec, "disk", host ? hd->name : gd->name);
	vt_ev_double(rec, "host_ms", host_ms);
	vt_ev_str(rec, "host_ms_disk", hd->name);
	vt_ev_double(rec, "added_ms", added_ms);
	vt_ev_str(rec, "added_ms_disk", gd->name);
}
