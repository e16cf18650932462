/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics that `virt-tune audit … --prometheus` reads besides the core
 * families of prometheus.c: each value an audit row shows, under the labels
 * that name its row (domain, device, iface).
 */
#include "prometheus.h"

#include "guest.h"
#include "match.h"
#include "views.h"

static void
agent_state_family(VtScrape *s)
{
	vt_prometheus_family(s->out, "virttune_guest_agent_info", "gauge",
			     "The agent's state as `virt-tune list` shows it (value 1)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const char *labels[] = {"state", vt_guest_agent_state(g), NULL};
		vt_prometheus_sample(s->out, "virttune_guest_agent_info", g->name, labels, 1);
	}
}

/* vm.swappiness and the daemon's swap rates between the last two reports. */
static void
swap_families(VtScrape *s)
{

	vt_prometheus_family(s->out, "virttune_guest_swappiness", "gauge",
			     "The guest's vm.swappiness");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		const char *swappiness = vt_report_sysctl(report, "vm.swappiness");
		gint64 v;

		if (swappiness != NULL &&
		    g_ascii_string_to_signed(swappiness, 10, 0, 200, &v, NULL))
			vt_prometheus_sample(s->out, "virttune_guest_swappiness", g->name, NULL,
					     (double)v);
	}
	vt_prometheus_family(s->out, "virttune_guest_swap_pages_per_second", "gauge",
			     "Pages swapped in and out per second between the last two reports "
			     "(window: what the rate spans)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const char *window = vt_rates_window_name(g->rates.guest_window);
		const char *in[] = {"direction", "in", "window", window, NULL};
		const char *out[] = {"direction", "out", "window", window, NULL};

		if (!g->rates.has_swap)
			continue;
		vt_prometheus_sample(s->out, "virttune_guest_swap_pages_per_second", g->name, in,
				     g->rates.swap_in_pps);
		vt_prometheus_sample(s->out, "virttune_guest_swap_pages_per_second", g->name, out,
				     g->rates.swap_out_pps);
	}
}

static void
balloon_family(VtScrape *s)
{
	vt_prometheus_family(s->out, "virttune_guest_balloon_bytes", "gauge",
			     "The balloon: kind actual or maximum; source domstats or domain-xml");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const char *actual[] = {"kind", "actual", "source", g->rates.balloon_source, NULL};
		const char *maximum[] = {"kind", "maximum", "source", g->rates.balloon_source,
					 NULL};

		if (!g->rates.has_balloon)
			continue;
		vt_prometheus_sample(s->out, "virttune_guest_balloon_bytes", g->name, actual,
				     (double)g->rates.balloon_actual_bytes);
		vt_prometheus_sample(s->out, "virttune_guest_balloon_bytes", g->name, maximum,
				     (double)g->rates.balloon_maximum_bytes);
	}
	vt_prometheus_family(s->out, "virttune_guest_balloon_stats_period_seconds", "gauge",
			     "The domain's balloon statistics period (memballoon stats period)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		if (g->facts != NULL && g->facts->balloon_period > 0)
			vt_prometheus_sample(s->out, "virttune_guest_balloon_stats_period_seconds",
					     g->name, NULL, g->facts->balloon_period);
	}
}

/* One gauge per disk value `audit schedulers` shows. */
static void
block_families(VtScrape *s)
{
	static const struct {
		const char *name, *help;
	} families[] = {
		{"virttune_guest_block_nr_requests", "A guest disk's queue/nr_requests"},
		{"virttune_guest_block_rotational", "1 when the guest sees a rotating disk"},
		{"virttune_guest_block_hw_queues", "A guest disk's hardware queues"},
		{"virttune_guest_block_size_bytes", "A guest disk's size"},
		{"virttune_guest_block_read_ahead_kb", "A guest disk's queue/read_ahead_kb"},
	};

	for (guint n = 0; n < G_N_ELEMENTS(families); n++) {
		vt_prometheus_family(s->out, families[n].name, "gauge", families[n].help);
		for (guint i = 0; i < s->guests->len; i++) {
			const VtGuest *g = s->guests->pdata[i];
			const VtReport *report = vt_guest_report(g);
			for (gsize k = 0; report && k < report->n_block; k++) {
				const VtBlock *b = report->block[k];
				const char *labels[] = {"device", b->name, NULL};
				const gboolean has[] = {b->has_nr_requests, b->has_rotational,
							b->has_nr_hw_queues, b->has_size_bytes,
							b->has_read_ahead_kb};
				const double v[] = {b->nr_requests, b->rotational, b->nr_hw_queues,
						    (double)b->size_bytes, b->read_ahead_kb};
				if (has[n])
					vt_prometheus_sample(s->out, families[n].name, g->name,
							     labels, v[n]);
			}
		}
	}
}

/* @n strings, comma-separated (protobuf-c arrays are not NULL-terminated). */
static char *
joined(char *const *items, gsize n)
{
	GString *s = g_string_new(NULL);

	for (gsize i = 0; i < n; i++) {
		if (i > 0)
			g_string_append_c(s, ',');
		g_string_append(s, items[i]);
	}
	return g_string_free(s, FALSE);
}

/* The rest of a disk `audit schedulers` shows: driver, serial, the
 * schedulers it offers, and how the host's disk was matched. */
static void
block_info_family(VtScrape *s)
{
	vt_prometheus_family(
		s->out, "virttune_guest_block_info", "gauge",
		"A guest disk: driver, serial, schedulers offered (comma-separated), the "
		"host disk's format, how it was matched, its iothread (0: none) and backing "
		"chain depth (value 1)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_block; k++) {
			const VtBlock *b = report->block[k];
			VtMatchHow how = VT_MATCH_NONE;
			const VtDiskFacts *d =
				g->facts ? vt_match_disk(g->facts, report, b, &how) : NULL;
			g_autofree char *offered = joined(b->schedulers, b->n_schedulers);
			g_autofree char *iothread = d ? g_strdup_printf("%u", d->iothread) : NULL;
			g_autofree char *depth = d ? g_strdup_printf("%u", d->backing_depth) : NULL;
			const char *labels[] = {"device",
						b->name,
						"driver",
						b->driver,
						"serial",
						b->serial,
						"schedulers",
						offered,
						"host_format",
						d ? d->format : NULL,
						"matched_by",
						d ? vt_match_how_name(how) : NULL,
						"host_iothread",
						iothread,
						"host_chain_depth",
						depth,
						NULL};
			vt_prometheus_sample(s->out, "virttune_guest_block_info", g->name, labels,
					     1);
		}
	}
}

/* The key offloads the guest has turned off, as `audit nics` lists them. */
static char *
offloads_off(const VtNic *nic)
{
	GString *list = g_string_new(NULL);

	for (gsize f = 0; f < nic->n_features; f++) {
		const VtFeature *feat = nic->features[f];
		if (!vt_view_is_key_offload(feat->name) || !feat->has_active || feat->active ||
		    (feat->has_fixed && feat->fixed))
			continue;
		if (list->len > 0)
			g_string_append_c(list, ',');
		g_string_append(list, feat->name);
	}
	return g_string_free(list, FALSE);
}

static void
nic_info(VtScrape *s, const VtGuest *g, const VtNic *nic)
{
	const VtIfaceFacts *x = g->facts ? vt_match_nic(g->facts, nic) : NULL;
	g_autofree char *off = offloads_off(nic);
	const char *info[] = {"iface",
			      nic->name,
			      "driver",
			      nic->driver,
			      "mac",
			      nic->mac,
			      "host_model",
			      x ? x->model : NULL,
			      "host_type",
			      x ? x->type : NULL,
			      "host_target",
			      x ? x->target_dev : NULL,
			      "offloads_off",
			      off,
			      NULL};

	vt_prometheus_sample(s->out, "virttune_guest_nic_info", g->name, info, 1);
}

static void
nic_families(VtScrape *s)
{
	vt_prometheus_family(s->out, "virttune_guest_nic_info", "gauge",
			     "A guest NIC: driver, MAC, the host's model, type and target (the "
			     "tap), key offloads turned off (value 1)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_nics; k++)
			nic_info(s, g, report->nics[k]);
	}
	vt_prometheus_family(
		s->out, "virttune_guest_nic_host_queues", "gauge",
		"Queues the host gives the NIC (domain XML driver queues, 1 when unset)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_nics; k++) {
			const VtNic *nic = report->nics[k];
			const VtIfaceFacts *x = g->facts ? vt_match_nic(g->facts, nic) : NULL;
			const char *iface[] = {"iface", nic->name, NULL};
			if (x != NULL)
				vt_prometheus_sample(s->out, "virttune_guest_nic_host_queues",
						     g->name, iface, MAX(x->queues, 1));
		}
	}
}

void
vt_prometheus_audit_families(VtScrape *s)
{
	agent_state_family(s);
	swap_families(s);
	balloon_family(s);
	block_families(s);
	block_info_family(s);
	nic_families(s);
}
