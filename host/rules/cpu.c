/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPU rules: steal time confirmed by host run-queue delay, CPU mode. */
#include <string.h>

#include "rules-private.h"

void
vt_rule_cpu_steal(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtRates *r = in->rates;
	g_autofree char *word = vt_domain_word(in);
	gboolean pinned = in->facts != NULL && in->facts->vcpupins > 0;
	VtSeverity severity;
	VtRecommendation *rec;

	if (!r->has_steal) {
		vt_rule_skip(ctx, "the report has no cpu.steal_ticks/total_ticks");
		return;
	}
	if (!r->has_vcpu_delay) {
		vt_rule_skip(ctx, "domstats have no vcpu.N.delay");
		return;
	}
	/* Steal alone can be a guest clock artefact, delay alone a busy but
	 * unaffected guest: only both together say the host's CPUs are short. */
	if (r->steal_pct < ctx->cfg->steal_warning_pct ||
	    r->vcpu_wait_pct < ctx->cfg->steal_vcpu_wait_pct)
		return;
	severity = r->steal_pct >= ctx->cfg->steal_critical_pct ? VT_SEVERITY_CRITICAL
								: VT_SEVERITY_WARNING;
	rec = vt_rule_emit(ctx, "domain", severity, VT_TARGET_HOST);
	if (rec == NULL)
		return;
	if (pinned)
		vt_rec_command(rec, "virsh vcpupin %s", word);
	else
		vt_rec_command(rec,
			       "virsh vcpupin %s --vcpu N --cpulist HOST-CPUS --live --config "
			       "(for each vCPU N, on host CPUs no other guest uses)",
			       word);
	vt_rec_rationale(
		rec,
		"The guest loses %.1f%% of its CPU time to steal (%s) and on the host its %u "
		"vCPU threads spent %.1f%% of their runnable time waiting for a CPU "
		"(vcpu.N.delay, %s)%s. The host's CPUs are overcommitted where this guest runs. "
		"%s",
		r->steal_pct, vt_rates_window_name(r->guest_window), r->vcpus, r->vcpu_wait_pct,
		vt_rates_window_name(r->host_window),
		pinned ? "; its vCPUs are pinned" : "; its vCPUs float over all host CPUs",
		pinned ? "The pinned host CPUs are shared with other work: review the pinning "
			 "(virsh vcpupin) so no two busy vCPUs share a host CPU, or move other "
			 "guests off them."
		       : "Reduce the overcommit (fewer busy vCPUs per host CPU, or migrate a "
			 "guest away), or pin this guest's vCPUs to host CPUs reserved for it.");
	vt_ev_double(rec, "steal_pct", r->steal_pct);
	vt_ev_str(rec, "steal_window", vt_rates_window_name(r->guest_window));
	vt_ev_double(rec, "vcpu_wait_pct", r->vcpu_wait_pct);
	if (r->has_vcpu_delay_rate)
		vt_ev_double(rec, "vcpu_delay_ms_per_s", r->vcpu_delay_ms_per_s);
	vt_ev_str(rec, "delay_window", vt_rates_window_name(r->host_window));
	vt_ev_uint(rec, "vcpus", r->vcpus);
	vt_ev_bool(rec, "pinned", pinned);
}

void
vt_rule_cpu_mode(VtRuleCtx *ctx)
{
	const VtDomainFacts *f = ctx->in->facts;
	const char *mode = f->cpu_mode ? f->cpu_mode : "(none)";
	const char *target = ctx->cfg->cpu_mode_target;
	VtRecommendation *rec;

	if (vt_strv_has(ctx->cfg->cpu_modes_ok, f->cpu_mode))
		return;
	/* TCG emulates whatever model it is given; host modes need KVM */
	if (g_strcmp0(f->type, "kvm") != 0) {
		vt_rule_skip(ctx, "domain type '%s' is not kvm: host CPU modes need KVM",
			     f->type ? f->type : "?");
		return;
	}
	rec = vt_rule_emit(ctx, "domain", VT_SEVERITY_INFO, VT_TARGET_HOST);
	if (rec == NULL)
		return;
	if (strcmp(target, "host-passthrough") == 0)
		vt_rec_command(rec, "<cpu mode='host-passthrough' check='none' migratable='on'/>");
	else
		vt_rec_command(rec, "<cpu mode='host-model' check='partial'/>");
	vt_rec_rationale(
		rec,
		"The domain's CPU mode is %s%s%s%s: the guest sees a CPU model without the "
		"host's newer instructions (AVX2/AVX-512, AES, PCID, INVPCID among them), so "
		"crypto, compression and context switches run slower than the hardware allows. "
		"Advisory: %s exposes the host CPU (host-model keeps live migration across "
		"different hosts possible); change it with 'virsh edit %s' and restart the "
		"domain.",
		mode, f->cpu_model ? " (model " : "", f->cpu_model ? f->cpu_model : "",
		f->cpu_model ? ")" : "", target, vt_domain_name(ctx->in));
	vt_ev_str(rec, "cpu_mode", mode);
	vt_ev_str(rec, "cpu_model", f->cpu_model);
	vt_ev_str(rec, "domain_type", f->type);
	vt_ev_str(rec, "recommended_mode", target);
}
