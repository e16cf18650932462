/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network rules over both sides: who drops the packets, MTU agreement. */
#include <string.h>

#include "rules-private.h"

static const VtNic *
report_nic(const VtReport *r, const char *name)
{
	for (gsize i = 0; i < r->n_nics; i++)
		if (g_strcmp0(r->nics[i]->name, name) == 0)
			return r->nics[i];
	return NULL;
}

/* What net.drops counted on each side of one NIC. */
typedef struct {
	const VtNicRates *rates;
	const VtNic *nic;
	const VtIfaceFacts *xml;
	guint64 host;    /* tap drops: packets the host could not hand to the guest */
	guint64 guest;   /* the guest's rx_dropped (+ softnet drops with a single NIC) */
	guint64 softnet; /* softnet drops counted in @guest */
} Drops;

static void
drops_evidence(VtRecommendation *rec, const VtRuleCtx *ctx, const Drops *d, const char *side)
{
	const VtRuleInput *in = ctx->in;
	const VtRates *r = in->rates;
	const char *backlog = vt_report_sysctl(in->report, "net.core.netdev_max_backlog");
	const char *rmem = vt_report_sysctl(in->report, "net.core.rmem_max");

	vt_ev_str(rec, "side", side);
	vt_ev_uint(rec, "host_rx_drop", d->rates->host_rx_drop);
	vt_ev_uint(rec, "host_tx_drop", d->rates->host_tx_drop);
	vt_ev_str(rec, "host_window", vt_rates_window_name(d->rates->host_window));
	if (d->rates->has_host_rate)
		vt_ev_double(rec, "host_rx_drop_per_s", d->rates->host_rx_drop_ps);
	vt_ev_str(rec, "host_target", d->rates->target);
	vt_ev_uint(rec, "guest_rx_dropped", d->rates->guest_rx_dropped);
	vt_ev_uint(rec, "guest_tx_dropped", d->rates->guest_tx_dropped);
	if (r->has_softnet) {
		vt_ev_uint(rec, "softnet_dropped", r->softnet_dropped);
		vt_ev_uint(rec, "softnet_time_squeeze", r->softnet_squeezed);
	}
	vt_ev_str(rec, "guest_window", vt_rates_window_name(r->guest_window));
	if (d->nic->channels != NULL && d->nic->channels->has_combined)
		vt_ev_uint(rec, "channels_combined", d->nic->channels->combined);
	if (d->nic->channels != NULL && d->nic->channels->has_max_combined)
		vt_ev_uint(rec, "channels_max_combined", d->nic->channels->max_combined);
	vt_ev_uint(rec, "xml_queues", d->xml->queues);
	vt_ev_str(rec, "netdev_max_backlog", backlog);
	vt_ev_str(rec, "rmem_max", rmem);
	vt_ev_uint(rec, "threshold_packets", ctx->cfg->drops_min_packets);
}

/* <interface type='T'><mac address='M'/><driver …/></interface> */
static char *
iface_fragment(const VtIfaceFacts *x, const char *driver)
{
	return g_strdup_printf("<interface type='%s'><mac address='%s'/>%s</interface>",
			       x->type ? x->type : "network", x->mac ? x->mac : "", driver);
}

/* Drops at the tap: the guest does not take packets off its rx queues fast
 * enough. More queues (each with its own vCPU), then a longer ring. */
static VtRecommendation *
drops_host(VtRuleCtx *ctx, const Drops *d)
{
	const VtChannels *ch = d->nic->channels;
	guint vcpus = vt_guest_vcpus(ctx->in, NULL);
	g_autofree char *fragment = NULL;
	g_autofree char *driver = NULL;
	g_autofree char *dev = NULL;
	VtRecommendation *rec;
	const char *change;

	if (ch != NULL && ch->has_combined && ch->has_max_combined &&
	    ch->combined < ch->max_combined && ch->combined < MAX(vcpus, 1)) {
		guint want = MIN(ch->max_combined, MAX(vcpus, 1));

		rec = vt_rule_emit(ctx, d->rates->name, VT_SEVERITY_WARNING, VT_TARGET_GUEST);
		if (rec == NULL)
			return NULL;
		rec->action = vt_action_set_channels(d->rates->name, want);
		if ((dev = vt_rec_device_word(rec, d->rates->name, FALSE)) != NULL)
			vt_rec_command(rec, "ethtool -L %s combined %u", dev, want);
		change = "use more of the queues the device offers, so more vCPUs drain them";
	} else if (vcpus > 1 && d->xml->queues < vcpus) {
		driver = g_strdup_printf("<driver queues='%u'/>", MIN(vcpus, 16u));
		fragment = iface_fragment(d->xml, driver);
		rec = vt_rule_emit_xml(ctx, d->rates->name, VT_SEVERITY_WARNING, fragment);
		change = "give the interface one queue per vCPU (the guest then spreads the "
			 "receive work over them)";
	} else {
		driver = g_strdup_printf("<driver queues='%u' rx_queue_size='%u'/>",
					 MAX(d->xml->queues, 1u), ctx->cfg->drops_rx_queue_size);
		fragment = iface_fragment(d->xml, driver);
		rec = vt_rule_emit_xml(ctx, d->rates->name, VT_SEVERITY_WARNING, fragment);
		change = "the guest already has its queues: give them longer rings "
			 "(rx_queue_size) to ride out bursts, or find what keeps its vCPUs busy";
	}
	vt_rec_rationale(
		rec,
		"The host dropped %" G_GUINT64_FORMAT " packets for %s (tap %s, net.N.rx.drop, "
		"%s) that the guest did not take off its receive queue in time, while the guest "
		"itself dropped %" G_GUINT64_FORMAT " (%s). The drops are on the host side; "
		"their cause is the guest draining too slowly: %s.",
		d->host, d->rates->name, d->rates->target,
		vt_rates_window_name(d->rates->host_window), d->guest,
		vt_rates_window_name(ctx->in->rates->guest_window), change);
	return rec;
}

static guint64
sysctl_value(const VtReport *r, const char *key)
{
	const char *text = vt_report_sysctl(r, key);

	return text != NULL ? g_ascii_strtoull(text, NULL, 10) : 0;
}

/* Drops in the guest's stack: the backlog (softnet) or the socket buffers. */
static VtRecommendation *
drops_guest(VtRuleCtx *ctx, const Drops *d)
{
	const VtReport *r = ctx->in->report;
	gboolean backlog = d->softnet > 0;
	const char *key = backlog ? "net.core.netdev_max_backlog" : "net.core.rmem_max";
	guint64 cur = sysctl_value(r, key);
	guint64 want = backlog ? MAX(cur * 2, (guint64)ctx->cfg->drops_backlog)
			       : MAX(cur, (guint64)ctx->cfg->drops_rmem_max);
	g_autofree char *value = NULL;
	VtRecommendation *rec;

	if (!backlog && cur >= want) {
		vt_rule_skip(ctx,
			     "%s: the guest drops packets, but %s is already %" G_GUINT64_FORMAT,
			     d->rates->name, key, cur);
		return NULL;
	}
	want = MIN(want, (guint64)G_MAXINT32);
	value = g_strdup_printf("%" G_GUINT64_FORMAT, want);
	rec = vt_rule_emit(ctx, d->rates->name, VT_SEVERITY_WARNING, VT_TARGET_GUEST);
	if (rec == NULL)
		return NULL;
	rec->action = vt_action_set_sysctl(key, value);
	vt_rec_command(rec, "sysctl -w %s=%s", key, value);
	vt_rec_rationale(
		rec,
		"The guest dropped %" G_GUINT64_FORMAT " received packets on %s (rx_dropped%s, "
		"%s) while the host's tap dropped %" G_GUINT64_FORMAT " (%s): the host delivers "
		"and the guest's own stack discards. %s is %" G_GUINT64_FORMAT "; raise it to "
		"%s so %s.",
		d->guest, d->rates->name, d->softnet ? " and softnet drops" : "",
		vt_rates_window_name(ctx->in->rates->guest_window), d->host,
		vt_rates_window_name(d->rates->host_window), key, cur, value,
		backlog ? "the per-CPU backlog holds a burst until the softirq drains it"
			: "sockets can buffer more before the kernel discards");
	return rec;
}

void
vt_rule_net_drops(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtRates *r = in->rates;

	for (guint i = 0; i < r->n_nics; i++) {
		Drops d = {.rates = &r->nics[i]};
		VtRecommendation *rec;
		const char *side;

		d.nic = report_nic(in->report, d.rates->name);
		d.xml = d.nic != NULL ? vt_match_nic(in->facts, d.nic) : NULL;
		if (d.nic == NULL || d.xml == NULL || !d.rates->has_host) {
			vt_rule_skip(ctx, "%s: no host-side counters for it", d.rates->name);
			continue;
		}
		d.host = d.rates->host_rx_drop;
		d.guest = d.rates->has_guest ? d.rates->guest_rx_dropped : 0;
		/* softnet_stat is per CPU, not per device: only a lone NIC owns it */
		if (r->has_softnet && r->n_nics == 1)
			d.guest += d.softnet = r->softnet_dropped;
		if (MAX(d.host, d.guest) < ctx->cfg->drops_min_packets)
			continue;
		side = d.host >= d.guest ? "host" : "guest";
		rec = d.host >= d.guest ? drops_host(ctx, &d) : drops_guest(ctx, &d);
		if (rec == NULL)
			continue;
		drops_evidence(rec, ctx, &d, side);
	}
}

void
vt_rule_net_mtu(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (gsize i = 0; i < in->report->n_nics; i++) {
		const VtNic *n = in->report->nics[i];
		const VtIfaceFacts *x = vt_match_nic(in->facts, n);
		g_autofree char *dev = NULL;
		VtRecommendation *rec;

		if (x == NULL || x->mtu == 0 || n->name == NULL)
			continue;
		if (!n->has_mtu) {
			vt_rule_skip(ctx, "%s: the report has no MTU", n->name);
			continue;
		}
		if (n->mtu == x->mtu)
			continue;
		rec = vt_rule_emit(ctx, n->name, VT_SEVERITY_WARNING, VT_TARGET_HOST);
		if (rec == NULL)
			return;
		if ((dev = vt_rec_device_word(rec, n->name, FALSE)) != NULL)
			vt_rec_command(rec, "ip link set dev %s mtu %u (in the guest)", dev,
				       x->mtu);
		vt_rec_rationale(
			rec,
			"The guest runs %s with MTU %u but the domain XML sets <mtu size='%u'/> "
			"for "
			"its %s interface (tap %s, source %s). %s Set the guest's MTU to %u in its "
			"network configuration (virtio-net offers the host's MTU at probe time; "
			"something in the guest overrides it).",
			n->name, n->mtu, x->mtu, x->type ? x->type : "?",
			x->target_dev ? x->target_dev : "?", x->source ? x->source : "?",
			n->mtu > x->mtu ? "Frames larger than the host path carries are dropped "
					  "or fragmented."
					: "Smaller frames than the path allows cost throughput and "
					  "CPU per byte.",
			x->mtu);
		vt_ev_uint(rec, "guest_mtu", n->mtu);
		vt_ev_uint(rec, "xml_mtu", x->mtu);
		vt_ev_str(rec, "host_target", x->target_dev);
		vt_ev_str(rec, "source", x->source);
	}
}
