/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "prometheus.h"

#include "guest.h"

/* One scrape: what every family is written from, and where to. */
typedef struct {
	GString *out;
	GPtrArray *guests;
	gboolean libvirt_connected;
	gint64 now_ms;
} Scrape;

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

static void
family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{domain="…"[,k="v"…]} value */
static void
sample(GString *out, const char *name, const char *domain, const char *const *labels, double value)
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
	family(s->out, "virttune_libvirt_connected", "gauge",
	       "1 when virt-tuned holds a libvirt connection");
	g_string_append_printf(s->out, "virttune_libvirt_connected %d\n",
			       s->libvirt_connected ? 1 : 0);
}

static void
agent_family(Scrape *s)
{
	family(s->out, "virttune_agent_connected", "gauge",
	       "1 when the guest's agent answered the handshake");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		sample(s->out, "virttune_agent_connected", g->name, NULL,
		       g->session && vt_session_get_state(g->session) == VT_SESSION_READY);
	}
}

static void
report_age_family(Scrape *s)
{
	family(s->out, "virttune_guest_report_age_seconds", "gauge",
	       "Seconds since the last report arrived");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		if (g->report != NULL)
			sample(s->out, "virttune_guest_report_age_seconds", g->name, NULL,
			       (double)(s->now_ms - g->report_at_ms) / 1000.0);
	}
}

/* Two families whose samples come guest by guest. */
static void
memory_families(Scrape *s)
{
	static const char *const kinds[] = {"MemTotal", "MemAvailable", "SwapTotal", "SwapFree",
					    NULL};

	family(s->out, "virttune_guest_memory_bytes", "gauge",
	       "Guest /proc/meminfo values, by kind (MemTotal, MemAvailable, SwapTotal, "
	       "SwapFree)");
	family(s->out, "virttune_guest_swap_used_bytes", "gauge", "Guest swap in use");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		guint64 total, free_bytes, v;

		for (guint k = 0; kinds[k]; k++)
			if (vt_report_meminfo(g->report, kinds[k], &v)) {
				const char *labels[] = {"kind", kinds[k], NULL};
				sample(s->out, "virttune_guest_memory_bytes", g->name, labels,
				       (double)v);
			}
		if (vt_report_meminfo(g->report, "SwapTotal", &total) &&
		    vt_report_meminfo(g->report, "SwapFree", &free_bytes) && total >= free_bytes)
			sample(s->out, "virttune_guest_swap_used_bytes", g->name, NULL,
			       (double)(total - free_bytes));
	}
}

static void
swap_pages_family(Scrape *s)
{
	static const char *const in[] = {"direction", "in", NULL};
	static const char *const out[] = {"direction", "out", NULL};

	family(s->out, "virttune_guest_swap_pages_total", "counter",
	       "Pages swapped in and out since the guest booted (/proc/vmstat)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const VtSwap *swap = g->report ? g->report->swap : NULL;

		if (swap != NULL && swap->has_pswpin)
			sample(s->out, "virttune_guest_swap_pages_total", g->name, in,
			       (double)swap->pswpin);
		if (swap != NULL && swap->has_pswpout)
			sample(s->out, "virttune_guest_swap_pages_total", g->name, out,
			       (double)swap->pswpout);
	}
}

static void
scheduler_family(Scrape *s)
{
	family(s->out, "virttune_guest_block_scheduler_info", "gauge",
	       "The active I/O scheduler of each guest disk (value 1)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		for (gsize k = 0; g->report && k < g->report->n_block; k++) {
			const VtBlock *b = g->report->block[k];
			const char *labels[] = {"device", b->name, "scheduler",
						b->scheduler ? b->scheduler : "", NULL};
			if (b->scheduler != NULL)
				sample(s->out, "virttune_guest_block_scheduler_info", g->name,
				       labels, 1);
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
			sample(out, "virttune_guest_nic_channels", g->name, labels, rows[r].v);
	}
}

static void
nic_channel_family(Scrape *s)
{
	family(s->out, "virttune_guest_nic_channels", "gauge",
	       "Guest NIC channels (ethtool -l): kind combined|rx|tx, state current|max");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		for (gsize k = 0; g->report && k < g->report->n_nics; k++)
			nic_channel_samples(s->out, g, g->report->nics[k]);
	}
}

static void
recommendation_family(Scrape *s)
{
	family(s->out, "virttune_recommendation_info", "gauge",
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
			sample(s->out, "virttune_recommendation_info", g->name, labels, 1);
		}
	}
}

static void
rejects_family(Scrape *s)
{
	family(s->out, "virttune_frames_rejected_total", "counter",
	       "Frames refused from a guest, by reason");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		for (guint r = 0; g->session && r < VT_REJECT_N_REASONS; r++) {
			const char *labels[] = {"reason", vt_reject_name(r), NULL};
			sample(s->out, "virttune_frames_rejected_total", g->name, labels,
			       (double)vt_session_get_rejects(g->session, r));
		}
	}
}

static void
budget_family(Scrape *s)
{
	family(s->out, "virttune_store_budget_exceeded_total", "counter",
	       "Times a guest's stored reports went over its store budget (oldest dropped)");
	for (guint i = 0; i < s->guests->len; i++) {
		const VtGuest *g = s->guests->pdata[i];
		const char *labels[] = {NULL};
		sample(s->out, "virttune_store_budget_exceeded_total", g->name, labels,
		       (double)g->store_budget_exceeded);
	}
}

/* In the order they are written. */
static void (*const families[])(Scrape *s) = {
	libvirt_family,    agent_family,     report_age_family,  memory_families,
	swap_pages_family, scheduler_family, nic_channel_family, recommendation_family,
	rejects_family,    budget_family,
};

GString *
vt_prometheus_render(GPtrArray *guests, gboolean libvirt_connected, gint64 now_ms)
{
	Scrape s = {g_string_sized_new(4096), guests, libvirt_connected, now_ms};

	for (guint i = 0; i < G_N_ELEMENTS(families); i++)
		families[i](&s);
	return s.out;
}
