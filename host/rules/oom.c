/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mem.oom: the guest's OOM killer ran, with the memory numbers of both sides. */
#include <string.h>

#include "rules-private.h"

#define MIB ((guint64)1024 * 1024)

static guint64
vmstat_total(const VtReport *r, const char *key)
{
	for (gsize i = 0; i < r->n_vmstat; i++)
		if (g_strcmp0(r->vmstat[i]->key, key) == 0 && r->vmstat[i]->has_value)
			return r->vmstat[i]->value;
	return 0;
}

static void
oom_evidence(VtRecommendation *rec, const VtRuleInput *in, guint64 since_boot)
{
	const VtRates *r = in->rates;
	const VtPressure *p = in->report->pressure;
	guint64 v;

	vt_ev_uint(rec, "oom_kills", r->oom_kills);
	vt_ev_str(rec, "window", vt_rates_window_name(r->guest_window));
	vt_ev_uint(rec, "oom_kills_since_boot", since_boot);
	if (vt_report_meminfo(in->report, "MemAvailable", &v))
		vt_ev_uint(rec, "mem_available_bytes", v);
	if (vt_report_meminfo(in->report, "MemTotal", &v))
		vt_ev_uint(rec, "mem_total_bytes", v);
	if (vt_report_meminfo(in->report, "SwapTotal", &v))
		vt_ev_uint(rec, "swap_total_bytes", v);
	if (vt_report_meminfo(in->report, "SwapFree", &v))
		vt_ev_uint(rec, "swap_free_bytes", v);
	if (r->has_swap)
		vt_ev_double(rec, "swap_pages_per_s", r->swap_in_pps + r->swap_out_pps);
	if (r->has_balloon) {
		vt_ev_uint(rec, "balloon_actual_bytes", r->balloon_actual_bytes);
		vt_ev_uint(rec, "balloon_maximum_bytes", r->balloon_maximum_bytes);
		vt_ev_str(rec, "balloon_source", r->balloon_source);
	}
	if (p != NULL && p->memory_some != NULL && p->memory_some->has_avg60)
		vt_ev_double(rec, "memory_some_avg60", p->memory_some->avg60);
	if (p != NULL && p->memory_full != NULL && p->memory_full->has_avg60)
		vt_ev_double(rec, "memory_full_avg60", p->memory_full->avg60);
}

void
vt_rule_mem_oom(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtRates *r = in->rates;
	guint64 since_boot = vmstat_total(in->report, "oom_kill");
	gboolean host = vt_balloon_inflated(r);
	gboolean now;
	g_autofree char *word = vt_domain_word(in);
	VtRecommendation *rec;

	if (!r->has_oom) {
		vt_rule_skip(ctx, "the report has no vmstat oom_kill");
		return;
	}
	/* kills in the window are news; older ones (same boot) stay visible */
	now = r->oom_kills > 0;
	if (!now && since_boot == 0)
		return;
	rec = vt_rule_emit(ctx, "domain", now ? VT_SEVERITY_CRITICAL : VT_SEVERITY_WARNING,
			   VT_TARGET_HOST);
	if (rec == NULL)
		return;
	if (host)
		vt_rec_command(rec, "virsh setmem %s %" G_GUINT64_FORMAT "K --live", word,
			       r->balloon_maximum_bytes / 1024);
	else
		vt_rec_command(rec,
			       "virsh setmaxmem %s SIZE --config && virsh setmem %s SIZE "
			       "--config (SIZE above the guest's peak use)",
			       word, word);
	vt_rec_rationale(
		rec,
		"The guest's OOM killer killed %" G_GUINT64_FORMAT
		" process%s %s (%" G_GUINT64_FORMAT
		" since boot): the guest ran out of memory it could reclaim or swap. %s "
		"Read the guest's kernel log for the victims; give the domain more memory or "
		"limit the workload.",
		now ? r->oom_kills : since_boot, (now ? r->oom_kills : since_boot) == 1 ? "" : "es",
		now ? (r->guest_window == VT_RATES_INTERVAL ? "in the last interval" : "since boot")
		    : "earlier in this boot",
		since_boot,
		host ? "The host's balloon holds the guest below its maximum: deflate it first."
		     : "The balloon is not holding memory back: the domain is too small for "
		       "its load.");
	vt_ev_str(rec, "side", host ? "host" : "guest");
	oom_evidence(rec, in, since_boot);
}
