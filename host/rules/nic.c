/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NIC rules: queues, multi-queue, model, offloads. */
#include <string.h>

#include "match.h"
#include "rules-private.h"

/* Guest drivers of emulated NICs (drivers/net/ethernet/{intel,realtek,amd,8390}). */
static const char *const emulated_drivers[] = {
	"e1000", "e1000e", "8139cp", "8139too", "ne2k-pci", "pcnet32", NULL,
};

static gboolean
is_virtio_nic(const VtNic *nic)
{
	return g_strcmp0(nic->driver, "virtio_net") == 0;
}

static gboolean
is_virtio_model(const char *model)
{
	/* virtio-transitional / virtio-non-transitional are virtio too */
	return model != NULL && g_str_has_prefix(model, "virtio");
}

/* The subject naming an XML interface: the guest's name when it is matched. */
static const char *
iface_subject(const VtRuleInput *in, const VtIfaceFacts *iface)
{
	const VtNic *nic = vt_match_iface(in->report, iface);

	if (nic != NULL && nic->name != NULL)
		return nic->name;
	if (iface->mac != NULL)
		return iface->mac;
	return iface->target_dev != NULL ? iface->target_dev : "interface";
}

/* <interface type='T'><mac address='M'/>…</interface>, to locate it in virsh edit. */
static char *
iface_fragment(const VtIfaceFacts *iface, const char *inner)
{
	return g_strdup_printf("<interface type='%s'><mac address='%s'/>%s</interface>",
			       iface->type ? iface->type : "network", iface->mac ? iface->mac : "",
			       inner);
}

void
vt_rule_nic_queues(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const char *vcpu_source = NULL;
	guint vcpus = vt_guest_vcpus(in, &vcpu_source);

	for (gsize i = 0; i < in->report->n_nics; i++) {
		const VtNic *nic = in->report->nics[i];
		const VtIfaceFacts *iface;
		const VtChannels *ch = nic->channels;
		VtRecommendation *rec;
		g_autofree char *dev = NULL;
		guint want;

		if (!is_virtio_nic(nic) || nic->name == NULL)
			continue;
		iface = vt_match_nic(in->facts, nic);
		if (iface == NULL) {
			vt_rule_skip(ctx, "%s: no <interface> with MAC %s in the domain XML",
				     nic->name, nic->mac ? nic->mac : "(none)");
			continue;
		}
		if (iface->queues <= 1)
			continue; /* nic.mq-missing's case */
		if (ch == NULL || !ch->has_combined) {
			vt_rule_skip(ctx, "%s: the report has no channel counts", nic->name);
			continue;
		}
		if (vcpus == 0) {
			vt_rule_skip(ctx, "%s: guest vCPU count unknown", nic->name);
			continue;
		}
		want = MIN(iface->queues, vcpus);
		if (ch->has_max_combined && ch->max_combined > 0)
			want = MIN(want, ch->max_combined);
		if (ch->combined >= want)
			continue;
		rec = vt_rule_emit(ctx, nic->name, VT_SEVERITY_WARNING, VT_TARGET_GUEST);
		if (rec == NULL)
			return;
		rec->action = vt_action_set_channels(nic->name, want);
		if ((dev = vt_rec_device_word(rec, nic->name, FALSE)) != NULL)
			vt_rec_command(rec, "ethtool -L %s combined %u", dev, want);
		vt_rec_rationale(
			rec,
			"The host gives %s (MAC %s) %u queue pairs (<driver queues='%u'/>) and the "
			"guest has %u vCPUs, but the guest uses %u combined channel%s (maximum "
			"%u). "
			"Receive and transmit processing for this NIC is confined to %u vCPU%s; "
			"using %u channels spreads it over min(queues, vCPUs). Recent kernels "
			"default virtio_net to min(max, online CPUs) channels and older ones to 1, "
			"so the lower value comes from an old kernel or was set on purpose.",
			nic->name, nic->mac, iface->queues, iface->queues, vcpus, ch->combined,
			ch->combined == 1 ? "" : "s", ch->has_max_combined ? ch->max_combined : 0,
			ch->combined, ch->combined == 1 ? "" : "s", want);
		vt_ev_str(rec, "mac", nic->mac);
		vt_ev_uint(rec, "xml_queues", iface->queues);
		vt_ev_uint(rec, "guest_vcpus", vcpus);
		vt_ev_str(rec, "guest_vcpus_source", vcpu_source);
		vt_ev_uint(rec, "combined", ch->combined);
		if (ch->has_max_combined)
			vt_ev_uint(rec, "max_combined", ch->max_combined);
		vt_ev_uint(rec, "recommended_combined", want);
		vt_ev_str(rec, "host_tap", iface->target_dev);
	}
}

void
vt_rule_nic_mq_missing(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const char *vcpu_source = NULL;
	guint vcpus = vt_guest_vcpus(in, &vcpu_source);

	if (vcpus == 0) {
		vt_rule_skip(ctx, "guest vCPU count unknown");
		return;
	}
	for (guint i = 0; i < in->facts->ifaces->len; i++) {
		const VtIfaceFacts *iface = in->facts->ifaces->pdata[i];
		const char *subject;
		g_autofree char *driver = NULL;
		g_autofree char *fragment = NULL;
		VtRecommendation *rec;
		guint queues;

		if (!is_virtio_model(iface->model) || iface->queues > 1)
			continue;
		if (vcpus < ctx->cfg->mq_min_vcpus)
			continue;
		/* QEMU's user-mode network (slirp) and vhost-user ports without a
		 * multi-queue backend refuse queues > 1 */
		if (g_strcmp0(iface->type, "user") == 0 ||
		    g_strcmp0(iface->type, "vhostuser") == 0) {
			vt_rule_skip(ctx, "%s: interface type '%s' has no multi-queue backend",
				     iface_subject(in, iface), iface->type);
			continue;
		}
		subject = iface_subject(in, iface);
		queues = MIN(vcpus, ctx->cfg->mq_max_queues);
		driver = g_strdup_printf("<driver%s%s%s queues='%u'/>",
					 iface->driver_name ? " name='" : "",
					 iface->driver_name ? iface->driver_name : "",
					 iface->driver_name ? "'" : "", queues);
		fragment = iface_fragment(iface, driver);
		rec = vt_rule_emit_xml(ctx, subject, VT_SEVERITY_WARNING, fragment);
		if (rec == NULL)
			return;
		vt_rec_rationale(
			rec,
			"The guest has %u vCPUs but its virtio NIC %s (MAC %s) has a single queue "
			"pair in the domain XML (no <driver queues>), so all of its packet "
			"processing lands on one vCPU in the guest and one vhost thread on the "
			"host. "
			"Add %s to the interface with 'virsh edit %s' (it takes effect at the next "
			"cold boot); the guest then enables min(queues, vCPUs) channels by itself "
			"on "
			"recent kernels, or with 'ethtool -L %s combined %u'.",
			vcpus, subject, iface->mac ? iface->mac : "?", driver, vt_domain_name(in),
			subject, queues);
		vt_ev_str(rec, "mac", iface->mac);
		vt_ev_str(rec, "interface_type", iface->type);
		vt_ev_str(rec, "model", iface->model);
		vt_ev_uint(rec, "xml_queues", iface->queues);
		vt_ev_uint(rec, "guest_vcpus", vcpus);
		vt_ev_str(rec, "guest_vcpus_source", vcpu_source);
		vt_ev_uint(rec, "recommended_queues", queues);
	}
}

void
vt_rule_nic_model(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (guint i = 0; i < in->facts->ifaces->len; i++) {
		const VtIfaceFacts *iface = in->facts->ifaces->pdata[i];
		const VtNic *nic = vt_match_iface(in->report, iface);
		const char *driver = nic != NULL ? nic->driver : NULL;
		gboolean emulated_driver =
			driver != NULL && g_strv_contains(emulated_drivers, driver);
		g_autofree char *fragment = NULL;
		VtRecommendation *rec;

		/* passthrough and macvtap-passthrough devices have no emulated model */
		if (g_strcmp0(iface->type, "hostdev") == 0 || g_strcmp0(iface->type, "vdpa") == 0)
			continue;
		if (is_virtio_model(iface->model) && !emulated_driver)
			continue;
		fragment = iface_fragment(iface, "<model type='virtio'/>");
		rec = vt_rule_emit_xml(ctx, iface_subject(in, iface), VT_SEVERITY_WARNING,
				       fragment);
		if (rec == NULL)
			return;
		vt_rec_rationale(
			rec,
			"Interface %s (MAC %s) is an emulated %s NIC%s%s%s: every packet traps "
			"into QEMU's device model and it offers neither multiple queues nor "
			"virtio's offloads. Change its model to virtio with 'virsh edit %s' "
			"(the guest needs the virtio_net driver, in every mainstream kernel since "
			"2.6.25); the MAC address stays the same.",
			iface_subject(in, iface), iface->mac ? iface->mac : "?",
			iface->model ? iface->model : "hypervisor-default",
			driver ? " (guest driver " : "", driver ? driver : "", driver ? ")" : "",
			vt_domain_name(in));
		vt_ev_str(rec, "mac", iface->mac);
		vt_ev_str(rec, "xml_model", iface->model ? iface->model : "(default)");
		vt_ev_str(rec, "guest_driver", driver);
	}
}

static const VtFeature *
find_feature(const VtNic *nic, const char *name)
{
	for (gsize i = 0; i < nic->n_features; i++)
		if (g_strcmp0(nic->features[i]->name, name) == 0)
			return nic->features[i];
	return NULL;
}

void
vt_rule_nic_offload(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;

	for (gsize i = 0; i < in->report->n_nics; i++) {
		const VtNic *nic = in->report->nics[i];
		const VtIfaceFacts *iface = vt_match_nic(in->facts, nic);

		if (!is_virtio_nic(nic) || nic->name == NULL)
			continue;
		if (nic->n_features == 0) {
			vt_rule_skip(ctx, "%s: the report has no features", nic->name);
			continue;
		}
		for (guint f = 0; ctx->cfg->offload_features[f] != NULL; f++) {
			const char *name = ctx->cfg->offload_features[f];
			const VtFeature *feat = find_feature(nic, name);
			g_autofree char *subject = NULL;
			g_autofree char *dev = NULL;
			VtRecommendation *rec;

			/* absent or fixed: the device does not offer it, nothing to turn on */
			if (feat == NULL || !feat->has_active || feat->active ||
			    (feat->has_fixed && feat->fixed))
				continue;
			subject = g_strdup_printf("%s/%s", nic->name, name);
			rec = vt_rule_emit(ctx, subject, VT_SEVERITY_WARNING, VT_TARGET_GUEST);
			if (rec == NULL)
				return;
			rec->action = vt_action_set_feature(nic->name, name, TRUE);
			if ((dev = vt_rec_device_word(rec, nic->name, FALSE)) != NULL)
				vt_rec_command(rec, "ethtool -K %s %s on", dev, name);
			vt_rec_rationale(
				rec,
				"%s is off on %s (MAC %s), a virtio_net NIC whose device offers it "
				"(the feature is not fixed)%s. Without it the guest segments or "
				"coalesces every "
				"packet in software, costing guest CPU per packet; virtio passes "
				"large segments to the host unchanged. Turn it on unless it was "
				"disabled to work around a known bug.",
				name, nic->name, nic->mac ? nic->mac : "?",
				iface && iface->target_dev ? ", backed by a tap on the host" : "");
			vt_ev_str(rec, "feature", name);
			vt_ev_bool(rec, "active", FALSE);
			vt_ev_bool(rec, "fixed", FALSE);
			vt_ev_str(rec, "driver", nic->driver);
			vt_ev_str(rec, "mac", nic->mac);
		}
	}
}
