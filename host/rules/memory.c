/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory rules: swapping, swappiness, balloon stats, hugepages. */
#include <string.h>

#include "rules-private.h"

#define GIB ((guint64)1024 * 1024 * 1024)
#define MIB ((guint64)1024 * 1024)

/* A balloon within this fraction of its maximum is not holding memory back:
 * libvirt and the guest round the balloon target to pages. */
#define VT_BALLOON_SLACK_PCT 1.0

static guint64
swap_total(const VtReport *r)
{
	guint64 total = 0;

	for (gsize i = 0; r->swap != NULL && i < r->swap->n_devices; i++)
		if (r->swap->devices[i]->has_size_bytes)
			total += r->swap->devices[i]->size_bytes;
	return total;
}

/* What mem.swapping found, for the change it recommends and its evidence. */
typedef struct {
	double rate; /* pages/s, in + out */
	VtSeverity severity;
	gboolean has_mem;
	guint64 total, avail; /* MemTotal, MemAvailable */
	double avail_pct;
	char *window; /* "over the last 30 s" */
} Swapping;

gboolean
vt_balloon_inflated(const VtRates *rates)
{
	return rates->has_balloon && rates->balloon_maximum_bytes > 0 &&
	       (double)rates->balloon_actual_bytes <
		       (double)rates->balloon_maximum_bytes * (1.0 - VT_BALLOON_SLACK_PCT / 100.0);
}

/* The balloon holds memory back: deflate it. */
static VtRecommendation *
deflate_balloon(VtRuleCtx *ctx, const Swapping *sw)
{
	const VtRates *rates = ctx->in->rates;
	g_autofree char *cur = vt_format_bytes(rates->balloon_actual_bytes);
	g_autofree char *max = vt_format_bytes(rates->balloon_maximum_bytes);
	g_autofree char *a = vt_format_bytes(sw->avail);
	g_autofree char *word = vt_domain_word(ctx->in);
	g_autofree char *avail_text =
		sw->has_mem ? g_strdup_printf("; MemAvailable is %s (%.1f%% of MemTotal)", a,
					      sw->avail_pct)
			    : g_strdup("");
	VtRecommendation *rec = vt_rule_emit(ctx, "domain", sw->severity, VT_TARGET_HOST);

	if (rec == NULL)
		return NULL;
	vt_rec_command(rec, "virsh setmem %s %" G_GUINT64_FORMAT "K --live", word,
		       rates->balloon_maximum_bytes / 1024);
	vt_rec_rationale(rec,
			 "The guest swaps %.1f pages/s in and %.1f pages/s out %s while the "
			 "host's balloon holds it at %s of its %s maximum (from %s)%s. "
			 "Deflating the balloon gives the guest its memory back without a "
			 "reboot.",
			 rates->swap_in_pps, rates->swap_out_pps, sw->window, cur, max,
			 rates->balloon_source, avail_text);
	return rec;
}

/* Little memory available and no balloon to blame: give the domain more. */
static VtRecommendation *
grow_memory(VtRuleCtx *ctx, const Swapping *sw)
{
	const VtRates *rates = ctx->in->rates;
	g_autofree char *word = vt_domain_word(ctx->in);
	guint64 base = rates->has_balloon ? rates->balloon_maximum_bytes : sw->total;
	guint64 grow = base / 100 * (100 + ctx->cfg->swap_grow_pct);
	guint64 kib;
	g_autofree char *a = vt_format_bytes(sw->avail);
	g_autofree char *b = vt_format_bytes(base);
	g_autofree char *n = NULL;
	VtRecommendation *rec;

	grow = (grow + 256 * MIB - 1) / (256 * MIB) * (256 * MIB);
	kib = grow / 1024;
	n = vt_format_bytes(grow);
	rec = vt_rule_emit(ctx, "domain", sw->severity, VT_TARGET_HOST);
	if (rec == NULL)
		return NULL;
	vt_rec_command(rec,
		       "virsh setmaxmem %s %" G_GUINT64_FORMAT "K --config && virsh setmem "
		       "%s %" G_GUINT64_FORMAT "K --config",
		       word, kib, word, kib);
	vt_rec_rationale(rec,
			 "The guest swaps %.1f pages/s in and %.1f pages/s out %s and has only %s "
			 "available (%.1f%% of MemTotal, below %.0f%%); the balloon is not holding "
			 "memory back (%s). The working set does not fit: give the domain %s "
			 "instead "
			 "of %s (+%u%%), effective at the next boot, or reduce the load.",
			 rates->swap_in_pps, rates->swap_out_pps, sw->window, a, sw->avail_pct,
			 ctx->cfg->swap_low_available_pct,
			 rates->has_balloon ? rates->balloon_source : "no balloon data", n, b,
			 ctx->cfg->swap_grow_pct);
	vt_ev_uint(rec, "recommended_memory_bytes", grow);
	return rec;
}

static void
swapping_evidence(VtRecommendation *rec, const VtRates *rates, const Swapping *sw)
{
	vt_ev_double(rec, "swap_in_pages_per_s", rates->swap_in_pps);
	vt_ev_double(rec, "swap_out_pages_per_s", rates->swap_out_pps);
	vt_ev_str(rec, "window", vt_rates_window_name(rates->guest_window));
	vt_ev_double(rec, "window_s", rates->guest_interval_s);
	if (sw->has_mem) {
		vt_ev_uint(rec, "mem_total_bytes", sw->total);
		vt_ev_uint(rec, "mem_available_bytes", sw->avail);
		vt_ev_double(rec, "mem_available_pct", sw->avail_pct);
	}
	if (rates->has_balloon) {
		vt_ev_uint(rec, "balloon_actual_bytes", rates->balloon_actual_bytes);
		vt_ev_uint(rec, "balloon_maximum_bytes", rates->balloon_maximum_bytes);
		vt_ev_str(rec, "balloon_source", rates->balloon_source);
	}
}

void
vt_rule_mem_swapping(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtRates *rates = in->rates;
	Swapping sw = {0};
	g_autofree char *window = NULL;
	VtRecommendation *rec;

	if (!rates->has_swap) {
		vt_rule_skip(ctx, "the report has no swap.pswpin/pswpout (or no earlier report and "
				  "no uptime to average over)");
		return;
	}
	sw.rate = rates->swap_in_pps + rates->swap_out_pps;
	if (sw.rate < ctx->cfg->swap_warning_pps)
		return;
	if (in->facts == NULL && in->stats == NULL) {
		vt_rule_skip(ctx,
			     "swapping at %.1f pages/s, but the host-side change needs the "
			     "domain XML or domstats",
			     sw.rate);
		return;
	}
	sw.severity =
		sw.rate >= ctx->cfg->swap_critical_pps ? VT_SEVERITY_CRITICAL : VT_SEVERITY_WARNING;
	sw.has_mem = vt_report_meminfo(in->report, "MemTotal", &sw.total) &&
		     vt_report_meminfo(in->report, "MemAvailable", &sw.avail) && sw.total > 0;
	if (sw.has_mem)
		sw.avail_pct = 100.0 * (double)sw.avail / (double)sw.total;
	sw.window = window =
		rates->guest_window == VT_RATES_INTERVAL
			? g_strdup_printf("over the last %.0f s", rates->guest_interval_s)
			: g_strdup_printf("on average since boot (%.0f s ago)",
					  rates->guest_interval_s);

	if (vt_balloon_inflated(rates)) {
		rec = deflate_balloon(ctx, &sw);
	} else if (sw.has_mem && sw.avail_pct < ctx->cfg->swap_low_available_pct) {
		rec = grow_memory(ctx, &sw);
	} else {
		vt_rule_skip(
			ctx,
			"swapping at %.1f pages/s but MemAvailable is %s%.1f%% and the "
			"balloon is not inflated: no host-side cause found (see mem.swappiness)",
			sw.rate, sw.has_mem ? "" : "unknown, ", sw.avail_pct);
		return;
	}
	if (rec != NULL)
		swapping_evidence(rec, rates, &sw);
}

static guint
role_swappiness(const VtRulesConfig *cfg)
{
	if (g_strcmp0(cfg->swappiness_role, "throughput-performance") == 0)
		return cfg->swappiness_throughput_performance;
	if (g_strcmp0(cfg->swappiness_role, "latency-performance") == 0)
		return cfg->swappiness_latency_performance;
	return cfg->swappiness_virtual_guest;
}

void
vt_rule_mem_swappiness(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const char *text = vt_report_sysctl(in->report, "vm.swappiness");
	guint target = role_swappiness(ctx->cfg);
	guint64 total;
	guint64 value;
	char *end = NULL;
	g_autofree char *target_text = NULL;
	g_autofree char *size = NULL;
	VtRecommendation *rec;

	if (text == NULL) {
		vt_rule_skip(ctx, "the report has no sysctl vm.swappiness");
		return;
	}
	if (in->report->swap == NULL) {
		vt_rule_skip(ctx, "the report has no swap section");
		return;
	}
	value = g_ascii_strtoull(text, &end, 10);
	if (end == text || *end != '\0' || value > 200) {
		vt_rule_skip(ctx, "vm.swappiness '%s' is not a number from 0 to 200", text);
		return;
	}
	total = swap_total(in->report);
	if (in->report->swap->n_devices == 0 || total == 0)
		return; /* without swap, swappiness only weighs file against anon reclaim */
	if (value <= target)
		return;
	target_text = g_strdup_printf("%u", target);
	size = vt_format_bytes(total);
	rec = vt_rule_emit(ctx, "vm.swappiness", VT_SEVERITY_INFO, VT_TARGET_GUEST);
	if (rec == NULL)
		return;
	rec->action = vt_action_set_sysctl("vm.swappiness", target_text);
	vt_rec_command(rec, "sysctl -w vm.swappiness=%u", target);
	vt_rec_rationale(
		rec,
		"The guest has %s of swap on %zu device%s and vm.swappiness=%" G_GUINT64_FORMAT
		", above %u, the value of tuned's %s profile. A guest's anonymous memory "
		"swapped out to a virtual disk costs host I/O and a major fault to bring "
		"back, while its page cache can often be re-read from the host's cache; a "
		"lower swappiness makes reclaim prefer the page cache.",
		size, in->report->swap->n_devices, in->report->swap->n_devices == 1 ? "" : "s",
		value, target, ctx->cfg->swappiness_role);
	vt_ev_uint(rec, "swappiness", value);
	vt_ev_uint(rec, "target", target);
	vt_ev_str(rec, "role", ctx->cfg->swappiness_role);
	vt_ev_uint(rec, "swap_total_bytes", total);
	vt_ev_uint(rec, "swap_devices", in->report->swap->n_devices);
}

static gboolean
is_virtio_balloon(const char *model)
{
	return model != NULL && g_str_has_prefix(model, "virtio");
}

void
vt_rule_mem_balloon_stats(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtDomainFacts *f = in->facts;
	g_autofree char *word = vt_domain_word(in);
	VtRecommendation *rec;
	guint64 last_update;

	if (!is_virtio_balloon(f->balloon_model) || f->balloon_period > 0)
		return;
	rec = vt_rule_emit(ctx, "domain", VT_SEVERITY_INFO, VT_TARGET_HOST);
	if (rec == NULL)
		return;
	vt_rec_command(rec, "virsh dommemstat %s --period %u --live --config", word,
		       ctx->cfg->balloon_period);
	vt_rec_rationale(
		rec,
		"The domain has a %s memballoon without <stats period='N'/>, so the guest's "
		"memory statistics (balloon.swap_in, balloon.available, balloon.usable, "
		"major faults) are read once and then stay frozen; the host cannot see the "
		"guest's memory pressure without an agent. A period of %u s refreshes them at "
		"negligible cost.",
		f->balloon_model, ctx->cfg->balloon_period);
	vt_ev_str(rec, "balloon_model", f->balloon_model);
	vt_ev_uint(rec, "stats_period", f->balloon_period);
	if (vt_domstats_get_uint64(in->stats, "balloon.last-update", &last_update))
		vt_ev_uint(rec, "balloon_last_update", last_update);
	vt_ev_uint(rec, "recommended_period", ctx->cfg->balloon_period);
}

void
vt_rule_mem_hugepages(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtDomainFacts *f = in->facts;
	guint64 min = (guint64)ctx->cfg->hugepages_min_gib * GIB;
	g_autofree char *size = NULL;
	guint64 thp = 0;
	VtRecommendation *rec;

	if (f->memory_bytes == 0) {
		vt_rule_skip(ctx, "the domain XML has no <memory>");
		return;
	}
	if (f->hugepages || f->memory_bytes < min)
		return;
	size = vt_format_bytes(f->memory_bytes);
	rec = vt_rule_emit(ctx, "domain", VT_SEVERITY_INFO, VT_TARGET_HOST);
	if (rec == NULL)
		return;
	vt_rec_command(rec, "<memoryBacking><hugepages/></memoryBacking>");
	vt_rec_rationale(
		rec,
		"The domain has %s of memory (at least %u GiB) backed by normal 4 KiB pages. "
		"Backing it with hugepages shortens the host's page walks for every guest TLB "
		"miss (two-dimensional paging) and takes the memory out of host reclaim and "
		"compaction. Reserve %" G_GUINT64_FORMAT " 2 MiB pages on the host first "
		"(vm.nr_hugepages, on the right NUMA node), then add the element with 'virsh "
		"edit %s'. Advisory: hugepage-backed guests cannot be ballooned below their "
		"reservation or overcommitted.",
		size, ctx->cfg->hugepages_min_gib, (f->memory_bytes + 2 * MIB - 1) / (2 * MIB),
		vt_domain_name(in));
	vt_ev_uint(rec, "memory_bytes", f->memory_bytes);
	vt_ev_uint(rec, "threshold_bytes", min);
	vt_ev_bool(rec, "hugepages", FALSE);
	vt_ev_uint(rec, "numa_cells", f->numa_cells);
	if (vt_report_meminfo(in->report, "AnonHugePages", &thp))
		vt_ev_uint(rec, "guest_anon_hugepages_bytes", thp);
}
