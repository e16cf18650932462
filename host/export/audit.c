/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `audit swap|schedulers|nics|all`: the guest's view next to the host's. */
#include "views.h"

#include "builder.h"
#include "match.h"

static const char *const key_offloads[] = {
	"rx-checksum",
	"tx-checksum-ip-generic",
	"tx-scatter-gather",
	"tx-tcp-segmentation",
	"tx-tcp6-segmentation",
	"tx-generic-segmentation",
	"rx-gro",
	NULL,
};

gboolean
vt_view_is_key_offload(const char *feature)
{
	return feature != NULL && g_strv_contains(key_offloads, feature);
}

static void
swap_row(JsonBuilder *b, const VtGuest *g, gint64 now_ms)
{
	const VtReport *r = vt_guest_report(g);
	const VtSwap *swap = r ? r->swap : NULL;
	guint64 total = 0, free_bytes = 0, avail = 0, mem_total = 0;
	gboolean has_total = vt_report_meminfo(r, "SwapTotal", &total);
	gboolean has_free = vt_report_meminfo(r, "SwapFree", &free_bytes);
	gboolean has_avail = vt_report_meminfo(r, "MemAvailable", &avail);
	gboolean has_mem = vt_report_meminfo(r, "MemTotal", &mem_total);
	const char *swappiness = vt_report_sysctl(r, "vm.swappiness");
	const VtRates *rates = &g->rates;

	json_builder_begin_object(b);
	vt_view_add_guest(b, g, now_ms);
	vt_view_add_int(b, "swap_total_bytes", has_total, (gint64)total);
	vt_view_add_int(b, "swap_used_bytes", has_total && has_free && total >= free_bytes,
			(gint64)(total - free_bytes));
	vt_view_add_int(b, "swappiness", swappiness != NULL,
			swappiness ? g_ascii_strtoll(swappiness, NULL, 10) : 0);
	vt_view_add_double(b, "swap_in_pages_per_s", rates->has_swap, rates->swap_in_pps);
	vt_view_add_double(b, "swap_out_pages_per_s", rates->has_swap, rates->swap_out_pps);
	vt_view_add_str(b, "rates_window", vt_rates_window_name(rates->guest_window));
	vt_view_add_int(b, "mem_total_bytes", has_mem, (gint64)mem_total);
	vt_view_add_int(b, "mem_available_bytes", has_avail, (gint64)avail);
	vt_view_add_int(b, "balloon_actual_bytes", rates->has_balloon,
			(gint64)rates->balloon_actual_bytes);
	vt_view_add_int(b, "balloon_maximum_bytes", rates->has_balloon,
			(gint64)rates->balloon_maximum_bytes);
	vt_view_add_str(b, "balloon_source", rates->has_balloon ? rates->balloon_source : NULL);
	vt_view_add_int(b, "balloon_stats_period_s", g->facts && g->facts->balloon_period > 0,
			g->facts ? g->facts->balloon_period : 0);
	json_builder_set_member_name(b, "swap_devices");
	json_builder_begin_array(b);
	for (gsize i = 0; swap != NULL && i < swap->n_devices; i++) {
		const VtSwapDevice *d = swap->devices[i];
		json_builder_begin_object(b);
		vt_view_add_str(b, "path", d->path);
		vt_view_add_str(b, "type", d->type);
		vt_view_add_int(b, "size_bytes", d->has_size_bytes, (gint64)d->size_bytes);
		vt_view_add_int(b, "used_bytes", d->has_used_bytes, (gint64)d->used_bytes);
		vt_view_add_int(b, "priority", d->has_priority, d->priority);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void
disk_rows(JsonBuilder *b, const VtGuest *g, gint64 now_ms)
{
	const VtReport *r = vt_guest_report(g);

	for (gsize k = 0; r != NULL && k < r->n_block; k++) {
		const VtBlock *blk = r->block[k];
		VtMatchHow how = VT_MATCH_NONE;
		const VtDiskFacts *d = g->facts ? vt_match_disk(g->facts, r, blk, &how) : NULL;

		json_builder_begin_object(b);
		vt_view_add_str(b, "domain", g->name);
		vt_view_add_str(b, "device", blk->name);
		vt_view_add_str(b, "scheduler", blk->scheduler);
		vt_view_add_strv(b, "schedulers", blk->schedulers, blk->n_schedulers);
		vt_view_add_int(b, "nr_requests", blk->has_nr_requests, blk->nr_requests);
		vt_view_add_int(b, "read_ahead_kb", blk->has_read_ahead_kb, blk->read_ahead_kb);
		vt_view_add_bool(b, "rotational", blk->has_rotational, blk->rotational);
		vt_view_add_int(b, "nr_hw_queues", blk->has_nr_hw_queues, blk->nr_hw_queues);
		vt_view_add_str(b, "driver", blk->driver);
		vt_view_add_str(b, "serial", blk->serial);
		vt_view_add_int(b, "size_bytes", blk->has_size_bytes, (gint64)blk->size_bytes);
		vt_view_add_str(b, "host_target", d ? d->target_dev : NULL);
		vt_view_add_str(b, "host_bus", d ? d->bus : NULL);
		vt_view_add_str(b, "host_cache", d ? d->cache : NULL);
		vt_view_add_str(b, "host_io", d ? d->io : NULL);
		vt_view_add_str(b, "host_format", d ? d->format : NULL);
		vt_view_add_str(b, "matched_by", d ? vt_match_how_name(how) : NULL);
		json_builder_end_object(b);
	}
}

static void
nic_rows(JsonBuilder *b, const VtGuest *g, gint64 now_ms)
{
	const VtReport *r = vt_guest_report(g);

	for (gsize k = 0; r != NULL && k < r->n_nics; k++) {
		const VtNic *nic = r->nics[k];
		const VtChannels *ch = nic->channels;
		const VtIfaceFacts *x = g->facts ? vt_match_nic(g->facts, nic) : NULL;

		json_builder_begin_object(b);
		vt_view_add_str(b, "domain", g->name);
		vt_view_add_str(b, "iface", nic->name);
		vt_view_add_str(b, "driver", nic->driver);
		vt_view_add_str(b, "mac", nic->mac);
		vt_view_add_int(b, "combined", ch && ch->has_combined, ch ? ch->combined : 0);
		vt_view_add_int(b, "max_combined", ch && ch->has_max_combined,
				ch ? ch->max_combined : 0);
		vt_view_add_int(b, "rx", ch && ch->has_rx, ch ? ch->rx : 0);
		vt_view_add_int(b, "tx", ch && ch->has_tx, ch ? ch->tx : 0);
		vt_view_add_str(b, "host_model", x ? x->model : NULL);
		vt_view_add_int(b, "host_queues", x != NULL, x ? MAX(x->queues, 1) : 0);
		vt_view_add_str(b, "host_type", x ? x->type : NULL);
		json_builder_set_member_name(b, "offloads_off");
		json_builder_begin_array(b);
		for (gsize f = 0; f < nic->n_features; f++) {
			const VtFeature *feat = nic->features[f];
			if (vt_view_is_key_offload(feat->name) && feat->has_active &&
			    !feat->active && !(feat->has_fixed && feat->fixed))
				json_builder_add_string_value(b, feat->name);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
	}
}

/* One array of the rows each guest adds. */
static JsonNode *
rows(GPtrArray *guests, gint64 now_ms,
     void (*add_rows)(JsonBuilder *b, const VtGuest *g, gint64 now_ms))
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++)
		add_rows(b, guests->pdata[i], now_ms);
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

JsonNode *
vt_view_audit_swap(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	(void)host;
	return rows(guests, now_ms, swap_row);
}

JsonNode *
vt_view_audit_schedulers(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	(void)host;
	return rows(guests, now_ms, disk_rows);
}

JsonNode *
vt_view_audit_nics(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	(void)host;
	return rows(guests, now_ms, nic_rows);
}

const VtAuditKind vt_audit_kinds[] = {
	{"swap", "mem.", vt_view_audit_swap},  {"schedulers", "blk.", vt_view_audit_schedulers},
	{"nics", "nic.", vt_view_audit_nics},  {"io", "blk.", vt_view_audit_io},
	{"net", "net.", vt_view_audit_net},    {"memory", "mem.", vt_view_audit_memory},
	{"host", "host.", vt_view_audit_host}, {NULL, NULL, NULL},
};

const VtAuditKind *
vt_audit_kind_find(const char *name)
{
	for (const VtAuditKind *k = vt_audit_kinds; name != NULL && k->name != NULL; k++)
		if (g_str_equal(k->name, name))
			return k;
	return NULL;
}

JsonNode *
vt_view_audit_all(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	for (const VtAuditKind *k = vt_audit_kinds; k->name != NULL; k++) {
		json_builder_set_member_name(b, k->name);
		json_builder_add_value(b, k->view(guests, host, now_ms));
	}
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
