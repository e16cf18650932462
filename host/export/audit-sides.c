/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `audit io|net|memory|host`: both sides of each disk, NIC and guest memory —
 * what the guest measures next to what the host measures over the same
 * window — and the host's own settings under its guests.
 */
#include "views.h"

#include "builder.h"
#include "match.h"

/* ------------------------------------------------------------ io */

static void
io_total(JsonBuilder *b, const char *iops_key, const char *ms_key, gboolean has_iops, double r_iops,
	 double w_iops, gboolean has_r_ms, double r_ms, gboolean has_w_ms, double w_ms)
{
	double ms;
	gboolean has_ms = vt_rates_weighted_ms(r_iops, w_iops, has_r_ms, r_ms, has_w_ms, w_ms, &ms);

	vt_view_add_double(b, iops_key, has_iops, r_iops + w_iops);
	vt_view_add_double(b, ms_key, has_ms, ms);
}

static void
io_rates(JsonBuilder *b, const VtDiskRates *r)
{
	gboolean g = r != NULL && r->has_guest, h = r != NULL && r->has_host_iops;

	vt_view_add_double(b, "guest_read_iops", g, g ? r->guest_read_iops : 0);
	vt_view_add_double(b, "guest_write_iops", g, g ? r->guest_write_iops : 0);
	vt_view_add_double(b, "guest_read_ms", r && r->has_guest_read_ms, r ? r->guest_read_ms : 0);
	vt_view_add_double(b, "guest_write_ms", r && r->has_guest_write_ms,
			   r ? r->guest_write_ms : 0);
	vt_view_add_double(b, "host_read_iops", h, h ? r->host_read_iops : 0);
	vt_view_add_double(b, "host_write_iops", h, h ? r->host_write_iops : 0);
	vt_view_add_double(b, "host_read_ms", r && r->has_host_read_ms, r ? r->host_read_ms : 0);
	vt_view_add_double(b, "host_write_ms", r && r->has_host_write_ms, r ? r->host_write_ms : 0);
	vt_view_add_double(b, "added_read_ms", r && r->has_added_read_ms, r ? r->added_read_ms : 0);
	vt_view_add_double(b, "added_write_ms", r && r->has_added_write_ms,
			   r ? r->added_write_ms : 0);
	vt_view_add_str(b, "host_window",
			r && r->has_host ? vt_rates_window_name(r->host_window) : NULL);
	if (r == NULL)
		return;
	io_total(b, "guest_iops", "guest_ms", g, r->guest_read_iops, r->guest_write_iops,
		 r->has_guest_read_ms, r->guest_read_ms, r->has_guest_write_ms, r->guest_write_ms);
	io_total(b, "host_iops", "host_ms", h, r->host_read_iops, r->host_write_iops,
		 r->has_host_read_ms, r->host_read_ms, r->has_host_write_ms, r->host_write_ms);
	/* the guest-added part over the same mix, when both sides have it */
	{
		double ms;
		gboolean has = vt_rates_weighted_ms(r->guest_read_iops, r->guest_write_iops,
						    r->has_added_read_ms, r->added_read_ms,
						    r->has_added_write_ms, r->added_write_ms, &ms);
		vt_view_add_double(b, "added_ms", has, ms);
	}
}

static void
io_rows(JsonBuilder *b, const VtGuest *g, const VtHostModel *host, gint64 now_ms)
{
	const VtReport *r = vt_guest_report(g);

	(void)host;
	(void)now_ms;
	for (gsize k = 0; r != NULL && k < r->n_block; k++) {
		const VtBlock *blk = r->block[k];
		VtMatchHow how = VT_MATCH_NONE;
		const VtDiskFacts *d = g->facts ? vt_match_disk(g->facts, r, blk, &how) : NULL;

		json_builder_begin_object(b);
		vt_view_add_str(b, "domain", g->name);
		vt_view_add_str(b, "device", blk->name);
		vt_view_add_str(b, "host_target", d ? d->target_dev : NULL);
		io_rates(b, vt_rates_disk(&g->rates, blk->name));
		vt_view_add_str(b, "rates_window", vt_rates_window_name(g->rates.guest_window));
		vt_view_add_str(b, "scheduler", blk->scheduler);
		vt_view_add_int(b, "nr_requests", blk->has_nr_requests, blk->nr_requests);
		vt_view_add_str(b, "host_cache", d ? d->cache : NULL);
		vt_view_add_str(b, "host_io", d ? d->io : NULL);
		if (d != NULL && (d->cache != NULL || d->io != NULL)) {
			g_autofree char *both = g_strdup_printf("%s/%s", d->cache ? d->cache : "-",
								d->io ? d->io : "-");
			vt_view_add_str(b, "host_cache_io", both);
		}
		vt_view_add_int(b, "iothread", d != NULL, d ? d->iothread : 0);
		vt_view_add_str(b, "host_format", d ? d->format : NULL);
		vt_view_add_int(b, "chain_depth", d != NULL, d ? d->backing_depth : 0);
		json_builder_end_object(b);
	}
}

/* ------------------------------------------------------------ net */

static void
net_rows(JsonBuilder *b, const VtGuest *g, const VtHostModel *host, gint64 now_ms)
{
	const VtReport *r = vt_guest_report(g);

	(void)host;
	(void)now_ms;
	for (gsize k = 0; r != NULL && k < r->n_nics; k++) {
		const VtNic *nic = r->nics[k];
		const VtChannels *ch = nic->channels;
		const VtIfaceFacts *x = g->facts ? vt_match_nic(g->facts, nic) : NULL;
		const VtNicRates *nr = vt_rates_nic(&g->rates, nic->name);
		gboolean gs = nr != NULL && nr->has_guest, hs = nr != NULL && nr->has_host;

		json_builder_begin_object(b);
		vt_view_add_str(b, "domain", g->name);
		vt_view_add_str(b, "iface", nic->name);
		vt_view_add_str(b, "host_target", x ? x->target_dev : NULL);
		vt_view_add_int(b, "combined", ch && ch->has_combined, ch ? ch->combined : 0);
		vt_view_add_int(b, "max_combined", ch && ch->has_max_combined,
				ch ? ch->max_combined : 0);
		vt_view_add_int(b, "host_queues", x != NULL, x ? MAX(x->queues, 1) : 0);
		vt_view_add_int(b, "guest_rx_dropped", gs, gs ? (gint64)nr->guest_rx_dropped : 0);
		vt_view_add_int(b, "guest_tx_dropped", gs, gs ? (gint64)nr->guest_tx_dropped : 0);
		vt_view_add_double(b, "guest_rx_drop_per_s", gs, gs ? nr->guest_rx_drop_ps : 0);
		vt_view_add_int(b, "host_rx_drop", hs, hs ? (gint64)nr->host_rx_drop : 0);
		vt_view_add_int(b, "host_tx_drop", hs, hs ? (gint64)nr->host_tx_drop : 0);
		vt_view_add_double(b, "host_rx_drop_per_s", nr && nr->has_host_rate,
				   nr ? nr->host_rx_drop_ps : 0);
		vt_view_add_int(b, "softnet_dropped", g->rates.has_softnet,
				(gint64)g->rates.softnet_dropped);
		vt_view_add_int(b, "softnet_squeezed", g->rates.has_softnet,
				(gint64)g->rates.softnet_squeezed);
		vt_view_add_int(b, "mtu", nic->has_mtu, nic->mtu);
		vt_view_add_int(b, "host_mtu", x != NULL && x->mtu > 0, x ? x->mtu : 0);
		vt_view_add_str(b, "rates_window", vt_rates_window_name(g->rates.guest_window));
		json_builder_end_object(b);
	}
}

/* ------------------------------------------------------------ memory */

static void
psi(JsonBuilder *b, const char *key, const VtPressureLine *line)
{
	vt_view_add_double(b, key, line != NULL && line->has_avg60, line ? line->avg60 : 0);
}

static void
memory_row(JsonBuilder *b, const VtGuest *g, const VtHostModel *host, gint64 now_ms)
{
	const VtReport *r = vt_guest_report(g);
	const VtPressure *p = r ? r->pressure : NULL;
	const VtRates *rates = &g->rates;
	guint64 total = 0, avail = 0;
	gboolean has_total = vt_report_meminfo(r, "MemTotal", &total);
	gboolean has_avail = vt_report_meminfo(r, "MemAvailable", &avail);

	(void)host;
	json_builder_begin_object(b);
	vt_view_add_guest(b, g, now_ms);
	vt_view_add_int(b, "mem_total_bytes", has_total, (gint64)total);
	vt_view_add_int(b, "mem_available_bytes", has_avail, (gint64)avail);
	vt_view_add_double(b, "mem_available_pct", has_total && has_avail && total > 0,
			   total > 0 ? 100.0 * (double)avail / (double)total : 0);
	vt_view_add_double(b, "swap_in_pages_per_s", rates->has_swap, rates->swap_in_pps);
	vt_view_add_double(b, "swap_out_pages_per_s", rates->has_swap, rates->swap_out_pps);
	vt_view_add_int(b, "oom_kills", rates->has_oom, (gint64)rates->oom_kills);
	psi(b, "psi_memory_some_avg60", p ? p->memory_some : NULL);
	psi(b, "psi_memory_full_avg60", p ? p->memory_full : NULL);
	psi(b, "psi_cpu_some_avg60", p ? p->cpu_some : NULL);
	psi(b, "psi_io_some_avg60", p ? p->io_some : NULL);
	vt_view_add_int(b, "balloon_actual_bytes", rates->has_balloon,
			(gint64)rates->balloon_actual_bytes);
	vt_view_add_int(b, "balloon_maximum_bytes", rates->has_balloon,
			(gint64)rates->balloon_maximum_bytes);
	vt_view_add_str(b, "balloon_source", rates->has_balloon ? rates->balloon_source : NULL);
	vt_view_add_str(b, "rates_window", vt_rates_window_name(rates->guest_window));
	json_builder_end_object(b);
}

/* ------------------------------------------------------------ rows */

static JsonNode *
rows(GPtrArray *guests, const VtHostModel *host, gint64 now_ms,
     void (*add)(JsonBuilder *b, const VtGuest *g, const VtHostModel *host, gint64 now_ms))
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++)
		add(b, guests->pdata[i], host, now_ms);
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

JsonNode *
vt_view_audit_io(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	return rows(guests, host, now_ms, io_rows);
}

JsonNode *
vt_view_audit_net(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	return rows(guests, host, now_ms, net_rows);
}

JsonNode *
vt_view_audit_memory(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	return rows(guests, host, now_ms, memory_row);
}
