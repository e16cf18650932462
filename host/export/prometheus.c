/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "prometheus.h"

#include "guest.h"
#include "match.h"

typedef VtScrape Scrape;

void
vt_prometheus_append_label(GString *out, const char *value)
{
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

void
vt_prometheus_family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{domain="…"[,k="v"…]} value */
void
vt_prometheus_sample(GString *out, const char *name, const char *domain, const char *const *labels,
		     double value)
{
	char num[G_ASCII_DTOSTR_BUF_SIZE];

	g_string_append_printf(out, "%s{domain=\"", name);
	vt_prometheus_append_label(out, domain);
	g_string_append_c(out, '"');
	for (guint i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		g_string_append_printf(out, ",%s=\"", labels[i]);
		vt_prometheus_append_label(out, labels[i + 1]);
		g_string_append_c(out, '"');
	}
	g_string_append_printf(out, "} %s\n", g_ascii_dtostr(num, sizeof(num), value));
}

static void
libvirt_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_libvirt_connected", "gauge",
			     "1 when virt-tuned holds a libvirt connection");
	g_string_append_printf(s->out, "virttune_libvirt_connected %d\n",
			       s->libvirt_connected ? 1 : 0);
}

static void
host_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_host_info", "gauge",
			     "This virt-tuned: its host name (--metrics-host-label) and version");
	g_string_append(s->out, "virttune_host_info{host=\"");
	vt_prometheus_append_label(s->out, s->host);
	g_string_append(s->out, "\",version=\"" VT_VERSION "\"} 1\n");
}

static void
agent_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_agent_connected", "gauge",
			     "1 when the guest's agent answered the handshake");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		vt_prometheus_sample(s->out, "virttune_agent_connected", g->name, NULL,
				     g->session &&
					     vt_session_get_state(g->session) == VT_SESSION_READY);
	}
}

static void
report_age_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_guest_report_age_seconds", "gauge",
			     "Seconds since the last report arrived");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		if (vt_guest_has_report(g))
			vt_prometheus_sample(s->out, "virttune_guest_report_age_seconds", g->name,
					     NULL, (double)(s->now_ms - g->report_at_ms) / 1000.0);
	}
}

static void
memory_families(Scrape *s)
{
	static const char *const kinds[] = {"MemTotal", "MemAvailable", "SwapTotal", "SwapFree",
					    NULL};

	vt_prometheus_family(
		s->out, "virttune_guest_memory_bytes", "gauge",
		"Guest /proc/meminfo values, by kind (MemTotal, MemAvailable, SwapTotal, "
		"SwapFree)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		guint64 v;

		for (guint k = 0; kinds[k]; k++)
			if (vt_report_meminfo(report, kinds[k], &v)) {
				const char *labels[] = {"kind", kinds[k], NULL};
				vt_prometheus_sample(s->out, "virttune_guest_memory_bytes", g->name,
						     labels, (double)v);
			}
	}
	vt_prometheus_family(s->out, "virttune_guest_swap_used_bytes", "gauge",
			     "Guest swap in use");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		guint64 total, free_bytes;

		if (vt_report_meminfo(report, "SwapTotal", &total) &&
		    vt_report_meminfo(report, "SwapFree", &free_bytes) && total >= free_bytes)
			vt_prometheus_sample(s->out, "virttune_guest_swap_used_bytes", g->name,
					     NULL, (double)(total - free_bytes));
	}
}

static void
swap_pages_family(Scrape *s)
{
	static const char *const in[] = {"direction", "in", NULL};
	static const char *const out[] = {"direction", "out", NULL};

	vt_prometheus_family(s->out, "virttune_guest_swap_pages_total", "counter",
			     "Pages swapped in and out since the guest booted (/proc/vmstat)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		const VtSwap *swap = report ? report->swap : NULL;

		if (swap != NULL && swap->has_pswpin)
			vt_prometheus_sample(s->out, "virttune_guest_swap_pages_total", g->name, in,
					     (double)swap->pswpin);
		if (swap != NULL && swap->has_pswpout)
			vt_prometheus_sample(s->out, "virttune_guest_swap_pages_total", g->name,
					     out, (double)swap->pswpout);
	}
}

/* With the host's side of the disk: the XML disk it matches, its bus, cache
 * and I/O mode (empty when it matches none). */
static void
scheduler_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_guest_block_scheduler_info", "gauge",
			     "The active I/O scheduler of each guest disk, with the host's target, "
			     "bus, cache and io mode (value 1)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_block; k++) {
			const VtBlock *b = report->block[k];
			VtMatchHow how = VT_MATCH_NONE;
			const VtDiskFacts *d =
				g->facts ? vt_match_disk(g->facts, report, b, &how) : NULL;
			const char *labels[] = {"device",      b->name,
						"scheduler",   b->scheduler,
						"host_target", d ? d->target_dev : NULL,
						"host_bus",    d ? d->bus : NULL,
						"host_cache",  d ? d->cache : NULL,
						"host_io",     d ? d->io : NULL,
						NULL};
			if (b->scheduler != NULL)
				vt_prometheus_sample(s->out, "virttune_guest_block_scheduler_info",
						     g->name, labels, 1);
		}
	}
}

static void
nic_channel_samples(GString *out, const VtGuest *g, const VtNic *n)
{
	const VtChannels *c = n->channels;
	struct {
		const char *kind, *state;
		gboolean has;
		guint32 v;
	} rows[] = {
		{"combined", "current", c && c->has_combined, c ? c->combined : 0},
		{"combined", "max", c && c->has_max_combined, c ? c->max_combined : 0},
		{"rx", "current", c && c->has_rx, c ? c->rx : 0},
		{"rx", "max", c && c->has_max_rx, c ? c->max_rx : 0},
		{"tx", "current", c && c->has_tx, c ? c->tx : 0},
		{"tx", "max", c && c->has_max_tx, c ? c->max_tx : 0},
	};

	for (guint r = 0; r < G_N_ELEMENTS(rows); r++) {
		const char *labels[] = {"iface", n->name,       "kind", rows[r].kind,
					"state", rows[r].state, NULL};
		if (rows[r].has)
			vt_prometheus_sample(out, "virttune_guest_nic_channels", g->name, labels,
					     rows[r].v);
	}
}

static void
nic_channel_family(Scrape *s)
{
	vt_prometheus_family(
		s->out, "virttune_guest_nic_channels", "gauge",
		"Guest NIC channels (ethtool -l): kind combined|rx|tx, state current|max");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_nics; k++)
			nic_channel_samples(s->out, g, report->nics[k]);
	}
}

static void
recommendation_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_recommendation_info", "gauge",
			     "A recommendation that holds now (value 1)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		for (guint k = 0; g->analysis && k < g->analysis->recommendations->len; k++) {
			const VtRecommendation *r = g->analysis->recommendations->pdata[k];
			const char *labels[] = {"id",       r->id,
						"rule",     r->rule,
						"severity", vt_severity_name(r->severity),
						"target",   vt_target_name(r->target),
						NULL};
			vt_prometheus_sample(s->out, "virttune_recommendation_info", g->name,
					     labels, 1);
		}
	}
}

/* The changes the agent's last report names: 1 when one no longer holds. */
static void
change_drift_family(Scrape *s)
{
	vt_prometheus_family(
		s->out, "virttune_change_drifted", "gauge",
		"1 when an applied change no longer holds in the guest (undone since)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_changes; k++) {
			const VtChangeState *c = report->changes[k];
			const char *labels[] = {"change", c->change_id, NULL};

			if (c->change_id != NULL)
				vt_prometheus_sample(s->out, "virttune_change_drifted", g->name,
						     labels, g_strcmp0(c->state, "drifted") == 0);
		}
	}
}

static void
rejects_family(Scrape *s)
{
	vt_prometheus_family(s->out, "virttune_frames_rejected_total", "counter",
			     "Frames refused from a guest, by reason");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		for (guint r = 0; g->session && r < VT_REJECT_N_REASONS; r++) {
			const char *labels[] = {"reason", vt_reject_name(r), NULL};
			vt_prometheus_sample(s->out, "virttune_frames_rejected_total", g->name,
					     labels, (double)vt_session_get_rejects(g->session, r));
		}
	}
}

static void
budget_family(Scrape *s)
{
	vt_prometheus_family(
		s->out, "virttune_store_budget_exceeded_total", "counter",
		"Times a guest's stored reports went over its store budget (oldest dropped)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const char *labels[] = {NULL};
		vt_prometheus_sample(s->out, "virttune_store_budget_exceeded_total", g->name,
				     labels, (double)g->store_budget_exceeded);
	}
}

/* In the order they are written. */
static void (*const families[])(Scrape *s) = {
	host_family,
	libvirt_family,
	agent_family,
	report_age_family,
	memory_families,
	swap_pages_family,
	scheduler_family,
	nic_channel_family,
	recommendation_family,
	change_drift_family,
	rejects_family,
	budget_family,
	vt_prometheus_audit_families,
};

GString *
vt_prometheus_render(GPtrArray *guests, gboolean libvirt_connected, const char *host, gint64 now_ms)
{
	Scrape s = {g_string_sized_new(4096), guests, libvirt_connected, host, now_ms};

	for (guint i = 0; i < G_N_ELEMENTS(families); i++)
		families[i](&s);
	return s.out;
}
