/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "views.h"

#include "json.h"
#include "http.h"
#include "match.h"
#include "rates.h"

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
add_str(JsonBuilder *b, const char *key, const char *value)
{
	json_builder_set_member_name(b, key);
	if (value != NULL)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void
add_int(JsonBuilder *b, const char *key, gboolean has, gint64 value)
{
	json_builder_set_member_name(b, key);
	if (has)
		json_builder_add_int_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void
add_double(JsonBuilder *b, const char *key, gboolean has, double value)
{
	json_builder_set_member_name(b, key);
	if (has)
		json_builder_add_double_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void
add_bool(JsonBuilder *b, const char *key, gboolean value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_boolean_value(b, value);
}

static gint64
report_age_s(const VtGuest *g, gint64 now_ms)
{
	return g->report != NULL ? MAX(0, (now_ms - g->report_at_ms) / 1000) : -1;
}

static void
add_common(JsonBuilder *b, const VtGuest *g, gint64 now_ms)
{
	add_str(b, "domain", g->name);
	add_str(b, "agent", vt_guest_agent_state(g));
	add_int(b, "report_age_s", g->report != NULL, report_age_s(g, now_ms));
}

/* ------------------------------------------------------------ list */

JsonNode *
vt_view_list(GPtrArray *guests, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtIdentity *id = g->report ? g->report->identity : NULL;
		const VtChannelFacts *ch =
			g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;

		json_builder_begin_object(b);
		add_common(b, g, now_ms);
		add_str(b, "uuid", g->uuid);
		add_str(b, "agent_version", g->agent_version);
		add_str(b, "channel_state", ch ? ch->target_state : NULL);
		add_str(b, "hostname", id ? id->hostname : NULL);
		add_str(b, "os", id ? id->os_pretty_name : NULL);
		add_str(b, "kernel", id ? id->kernel_release : NULL);
		add_str(b, "boot_id", id ? id->boot_id : NULL);
		add_int(b, "vcpus", g->facts != NULL, g->facts ? g->facts->vcpus_current : 0);
		add_int(b, "memory_bytes", g->facts != NULL,
			g->facts ? (gint64)g->facts->current_memory_bytes : 0);
		add_int(b, "recommendations", g->analysis != NULL,
			g->analysis ? g->analysis->recommendations->len : 0);
		json_builder_set_member_name(b, "rejected");
		json_builder_begin_object(b);
		for (guint r = 0; g->session != NULL && r < VT_REJECT_N_REASONS; r++) {
			guint64 n = vt_session_get_rejects(g->session, r);
			if (n > 0) {
				json_builder_set_member_name(b, vt_reject_name(r));
				json_builder_add_int_value(b, (gint64)n);
			}
		}
		json_builder_end_object(b);
		add_str(b, "last_error", g->last_error);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

/* ------------------------------------------------------------ show */

static void
add_host_facts(JsonBuilder *b, const VtDomainFacts *f)
{
	json_builder_set_member_name(b, "host");
	if (f == NULL) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	add_str(b, "type", f->type);
	add_int(b, "vcpus", TRUE, f->vcpus_current);
	add_int(b, "vcpus_max", TRUE, f->vcpus_max);
	add_str(b, "cpu_mode", f->cpu_mode);
	add_int(b, "numa_cells", TRUE, f->numa_cells);
	add_int(b, "vcpupins", TRUE, f->vcpupins);
	add_int(b, "memory_bytes", TRUE, (gint64)f->memory_bytes);
	add_int(b, "current_memory_bytes", TRUE, (gint64)f->current_memory_bytes);
	add_bool(b, "hugepages", f->hugepages);
	add_str(b, "balloon_model", f->balloon_model);
	add_int(b, "balloon_stats_period_s", f->balloon_period > 0, f->balloon_period);
	json_builder_set_member_name(b, "disks");
	json_builder_begin_array(b);
	for (guint i = 0; i < f->disks->len; i++) {
		const VtDiskFacts *d = f->disks->pdata[i];
		json_builder_begin_object(b);
		add_str(b, "target", d->target_dev);
		add_str(b, "device", d->device);
		add_str(b, "bus", d->bus);
		add_str(b, "cache", d->cache);
		add_str(b, "io", d->io);
		add_str(b, "format", d->format);
		add_str(b, "serial", d->serial);
		add_str(b, "source", d->source);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "interfaces");
	json_builder_begin_array(b);
	for (guint i = 0; i < f->ifaces->len; i++) {
		const VtIfaceFacts *n = f->ifaces->pdata[i];
		json_builder_begin_object(b);
		add_str(b, "mac", n->mac);
		add_str(b, "type", n->type);
		add_str(b, "model", n->model);
		add_int(b, "queues", n->queues > 0, n->queues);
		add_str(b, "driver", n->driver_name);
		add_str(b, "target", n->target_dev);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void
add_rates(JsonBuilder *b, const VtRates *r)
{
	json_builder_set_member_name(b, "rates");
	json_builder_begin_object(b);
	add_str(b, "guest_window", vt_rates_window_name(r->guest_window));
	add_double(b, "swap_in_pages_per_s", r->has_swap, r->swap_in_pps);
	add_double(b, "swap_out_pages_per_s", r->has_swap, r->swap_out_pps);
	add_double(b, "steal_pct", r->has_steal, r->steal_pct);
	add_str(b, "host_window", vt_rates_window_name(r->host_window));
	add_double(b, "vcpu_wait_pct", r->has_vcpu_delay, r->vcpu_wait_pct);
	add_double(b, "vcpu_delay_ms_per_s", r->has_vcpu_delay_rate, r->vcpu_delay_ms_per_s);
	add_int(b, "balloon_actual_bytes", r->has_balloon, (gint64)r->balloon_actual_bytes);
	add_int(b, "balloon_maximum_bytes", r->has_balloon, (gint64)r->balloon_maximum_bytes);
	add_str(b, "balloon_source", r->has_balloon ? r->balloon_source : NULL);
	json_builder_end_object(b);
}

JsonNode *
vt_view_show(const VtGuest *g, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	add_common(b, g, now_ms);
	add_str(b, "uuid", g->uuid);
	add_str(b, "agent_version", g->agent_version);
	add_str(b, "last_error", g->last_error);
	add_host_facts(b, g->facts);
	add_rates(b, &g->rates);
	json_builder_set_member_name(b, "report");
	if (g->report != NULL) {
		g_autoptr(GError) error = NULL;
		JsonNode *node = vt_json_from_message(&g->report->base, &error);
		if (node != NULL)
			json_builder_add_value(b, node);
		else
			json_builder_add_null_value(b);
	} else {
		json_builder_add_null_value(b);
	}
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* ------------------------------------------------------------ audits */

static void
swap_row(JsonBuilder *b, const VtGuest *g, gint64 now_ms)
{
	const VtReport *r = g->report;
	const VtSwap *swap = r ? r->swap : NULL;
	guint64 total = 0, free_bytes = 0, avail = 0, mem_total = 0;
	gboolean has_total = vt_report_meminfo(r, "SwapTotal", &total);
	gboolean has_free = vt_report_meminfo(r, "SwapFree", &free_bytes);
	gboolean has_avail = vt_report_meminfo(r, "MemAvailable", &avail);
	gboolean has_mem = vt_report_meminfo(r, "MemTotal", &mem_total);
	const char *swappiness = vt_report_sysctl(r, "vm.swappiness");
	const VtRates *rates = &g->rates;

	json_builder_begin_object(b);
	add_common(b, g, now_ms);
	add_int(b, "swap_total_bytes", has_total, (gint64)total);
	add_int(b, "swap_used_bytes", has_total && has_free && total >= free_bytes,
		(gint64)(total - free_bytes));
	add_int(b, "swappiness", swappiness != NULL,
		swappiness ? g_ascii_strtoll(swappiness, NULL, 10) : 0);
	add_double(b, "swap_in_pages_per_s", rates->has_swap, rates->swap_in_pps);
	add_double(b, "swap_out_pages_per_s", rates->has_swap, rates->swap_out_pps);
	add_str(b, "rates_window", vt_rates_window_name(rates->guest_window));
	add_int(b, "mem_total_bytes", has_mem, (gint64)mem_total);
	add_int(b, "mem_available_bytes", has_avail, (gint64)avail);
	add_int(b, "balloon_actual_bytes", rates->has_balloon, (gint64)rates->balloon_actual_bytes);
	add_int(b, "balloon_maximum_bytes", rates->has_balloon,
		(gint64)rates->balloon_maximum_bytes);
	add_str(b, "balloon_source", rates->has_balloon ? rates->balloon_source : NULL);
	add_int(b, "balloon_stats_period_s", g->facts && g->facts->balloon_period > 0,
		g->facts ? g->facts->balloon_period : 0);
	json_builder_set_member_name(b, "swap_devices");
	json_builder_begin_array(b);
	for (gsize i = 0; swap != NULL && i < swap->n_devices; i++) {
		const VtSwapDevice *d = swap->devices[i];
		json_builder_begin_object(b);
		add_str(b, "path", d->path);
		add_str(b, "type", d->type);
		add_int(b, "size_bytes", d->has_size_bytes, (gint64)d->size_bytes);
		add_int(b, "used_bytes", d->has_used_bytes, (gint64)d->used_bytes);
		add_int(b, "priority", d->has_priority, d->priority);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
}

JsonNode *
vt_view_audit_swap(GPtrArray *guests, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++)
		swap_row(b, guests->pdata[i], now_ms);
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

static void
add_strv(JsonBuilder *b, const char *key, char **values, gsize n)
{
	json_builder_set_member_name(b, key);
	json_builder_begin_array(b);
	for (gsize i = 0; i < n; i++)
		json_builder_add_string_value(b, values[i]);
	json_builder_end_array(b);
}

JsonNode *
vt_view_audit_schedulers(GPtrArray *guests)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtReport *r = g->report;

		for (gsize k = 0; r != NULL && k < r->n_block; k++) {
			const VtBlock *blk = r->block[k];
			VtMatchHow how = VT_MATCH_NONE;
			const VtDiskFacts *d =
				g->facts ? vt_match_disk(g->facts, r, blk, &how) : NULL;

			json_builder_begin_object(b);
			add_str(b, "domain", g->name);
			add_str(b, "device", blk->name);
			add_str(b, "scheduler", blk->scheduler);
			add_strv(b, "schedulers", blk->schedulers, blk->n_schedulers);
			add_int(b, "nr_requests", blk->has_nr_requests, blk->nr_requests);
			add_int(b, "read_ahead_kb", blk->has_read_ahead_kb, blk->read_ahead_kb);
			json_builder_set_member_name(b, "rotational");
			if (blk->has_rotational)
				json_builder_add_boolean_value(b, blk->rotational);
			else
				json_builder_add_null_value(b);
			add_int(b, "nr_hw_queues", blk->has_nr_hw_queues, blk->nr_hw_queues);
			add_str(b, "driver", blk->driver);
			add_str(b, "serial", blk->serial);
			add_int(b, "size_bytes", blk->has_size_bytes, (gint64)blk->size_bytes);
			add_str(b, "host_target", d ? d->target_dev : NULL);
			add_str(b, "host_bus", d ? d->bus : NULL);
			add_str(b, "host_cache", d ? d->cache : NULL);
			add_str(b, "host_io", d ? d->io : NULL);
			add_str(b, "host_format", d ? d->format : NULL);
			add_str(b, "matched_by", d ? vt_match_how_name(how) : NULL);
			json_builder_end_object(b);
		}
	}
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

JsonNode *
vt_view_audit_nics(GPtrArray *guests)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtReport *r = g->report;

		for (gsize k = 0; r != NULL && k < r->n_nics; k++) {
			const VtNic *nic = r->nics[k];
			const VtChannels *ch = nic->channels;
			const VtIfaceFacts *x = g->facts ? vt_match_nic(g->facts, nic) : NULL;

			json_builder_begin_object(b);
			add_str(b, "domain", g->name);
			add_str(b, "iface", nic->name);
			add_str(b, "driver", nic->driver);
			add_str(b, "mac", nic->mac);
			add_int(b, "combined", ch && ch->has_combined, ch ? ch->combined : 0);
			add_int(b, "max_combined", ch && ch->has_max_combined,
				ch ? ch->max_combined : 0);
			add_int(b, "rx", ch && ch->has_rx, ch ? ch->rx : 0);
			add_int(b, "tx", ch && ch->has_tx, ch ? ch->tx : 0);
			add_str(b, "host_model", x ? x->model : NULL);
			add_int(b, "host_queues", x != NULL, x ? MAX(x->queues, 1) : 0);
			add_str(b, "host_type", x ? x->type : NULL);
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
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

JsonNode *
vt_view_audit_all(GPtrArray *guests, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "swap");
	json_builder_add_value(b, vt_view_audit_swap(guests, now_ms));
	json_builder_set_member_name(b, "schedulers");
	json_builder_add_value(b, vt_view_audit_schedulers(guests));
	json_builder_set_member_name(b, "nics");
	json_builder_add_value(b, vt_view_audit_nics(guests));
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* ------------------------------------------------------------ recommendations */

JsonNode *
vt_view_recommendations(GPtrArray *guests, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "recommendations");
	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (guint k = 0; g->analysis && k < g->analysis->recommendations->len; k++) {
			JsonNode *node = vt_recommendation_to_json(
				g->analysis->recommendations->pdata[k], error);
			if (node == NULL)
				return NULL;
			/* the domain first, then the rules' own fields */
			{
				g_autoptr(JsonObject) row = json_object_new();
				JsonObject *rec = json_node_get_object(node);
				g_autoptr(GList) members = json_object_get_members(rec);
				json_object_set_string_member(row, "domain", g->name);
				for (GList *l = members; l; l = l->next)
					json_object_set_member(
						row, l->data,
						json_node_copy(
							json_object_get_member(rec, l->data)));
				json_builder_add_value(
					b, json_node_init_object(json_node_alloc(), row));
			}
			json_node_unref(node);
		}
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "skipped");
	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		if (g->analysis == NULL) {
			json_builder_begin_object(b);
			add_str(b, "domain", g->name);
			add_str(b, "rule", "*");
			add_str(b, "reason",
				g->report ? "not analysed yet" : "no report from the agent yet");
			json_builder_end_object(b);
			continue;
		}
		for (guint k = 0; k < g->analysis->skipped->len; k++) {
			const VtRuleSkip *s = g->analysis->skipped->pdata[k];
			json_builder_begin_object(b);
			add_str(b, "domain", g->name);
			add_str(b, "rule", s->rule);
			add_str(b, "reason", s->reason);
			json_builder_end_object(b);
		}
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* ------------------------------------------------------------ metrics */

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
	vt_metrics_append_label(out, domain);
	g_string_append_c(out, '"');
	for (guint i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		g_string_append_printf(out, ",%s=\"", labels[i]);
		vt_metrics_append_label(out, labels[i + 1]);
		g_string_append_c(out, '"');
	}
	g_string_append_printf(out, "} %s\n", g_ascii_dtostr(num, sizeof(num), value));
}

GString *
vt_view_metrics(GPtrArray *guests, gboolean libvirt_connected, gint64 now_ms)
{
	GString *out = g_string_sized_new(4096);

	family(out, "virttune_libvirt_connected", "gauge",
	       "1 when virt-tuned holds a libvirt connection");
	g_string_append_printf(out, "virttune_libvirt_connected %d\n", libvirt_connected ? 1 : 0);

	family(out, "virttune_agent_connected", "gauge",
	       "1 when the guest's agent answered the handshake");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		sample(out, "virttune_agent_connected", g->name, NULL,
		       g->session && vt_session_get_state(g->session) == VT_SESSION_READY);
	}

	family(out, "virttune_guest_report_age_seconds", "gauge",
	       "Seconds since the last report arrived");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		if (g->report != NULL)
			sample(out, "virttune_guest_report_age_seconds", g->name, NULL,
			       (double)(now_ms - g->report_at_ms) / 1000.0);
	}

	family(out, "virttune_guest_memory_bytes", "gauge",
	       "Guest /proc/meminfo values, by kind (MemTotal, MemAvailable, SwapTotal, "
	       "SwapFree)");
	family(out, "virttune_guest_swap_used_bytes", "gauge", "Guest swap in use");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		static const char *const kinds[] = {"MemTotal", "MemAvailable", "SwapTotal",
						    "SwapFree", NULL};
		guint64 total, free_bytes, v;

		for (guint k = 0; kinds[k]; k++)
			if (vt_report_meminfo(g->report, kinds[k], &v)) {
				const char *labels[] = {"kind", kinds[k], NULL};
				sample(out, "virttune_guest_memory_bytes", g->name, labels,
				       (double)v);
			}
		if (vt_report_meminfo(g->report, "SwapTotal", &total) &&
		    vt_report_meminfo(g->report, "SwapFree", &free_bytes) && total >= free_bytes)
			sample(out, "virttune_guest_swap_used_bytes", g->name, NULL,
			       (double)(total - free_bytes));
	}

	family(out, "virttune_guest_swap_pages_total", "counter",
	       "Pages swapped in and out since the guest booted (/proc/vmstat)");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtSwap *s = g->report ? g->report->swap : NULL;
		const char *in[] = {"direction", "in", NULL};
		const char *outl[] = {"direction", "out", NULL};
		if (s != NULL && s->has_pswpin)
			sample(out, "virttune_guest_swap_pages_total", g->name, in,
			       (double)s->pswpin);
		if (s != NULL && s->has_pswpout)
			sample(out, "virttune_guest_swap_pages_total", g->name, outl,
			       (double)s->pswpout);
	}

	family(out, "virttune_guest_block_scheduler_info", "gauge",
	       "The active I/O scheduler of each guest disk (value 1)");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (gsize k = 0; g->report && k < g->report->n_block; k++) {
			const VtBlock *b = g->report->block[k];
			const char *labels[] = {"device", b->name, "scheduler",
						b->scheduler ? b->scheduler : "", NULL};
			if (b->scheduler != NULL)
				sample(out, "virttune_guest_block_scheduler_info", g->name, labels,
				       1);
		}
	}

	family(out, "virttune_guest_nic_channels", "gauge",
	       "Guest NIC channels (ethtool -l): kind combined|rx|tx, state current|max");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (gsize k = 0; g->report && k < g->report->n_nics; k++) {
			const VtNic *n = g->report->nics[k];
			const VtChannels *c = n->channels;
			struct {
				const char *kind, *state;
				gboolean has;
				guint32 v;
			} rows[] = {
				{"combined", "current", c && c->has_combined, c ? c->combined : 0},
				{"combined", "max", c && c->has_max_combined,
				 c ? c->max_combined : 0},
				{"rx", "current", c && c->has_rx, c ? c->rx : 0},
				{"rx", "max", c && c->has_max_rx, c ? c->max_rx : 0},
				{"tx", "current", c && c->has_tx, c ? c->tx : 0},
				{"tx", "max", c && c->has_max_tx, c ? c->max_tx : 0},
			};
			for (guint r = 0; r < G_N_ELEMENTS(rows); r++) {
				const char *labels[] = {"iface",      n->name, "kind",
							rows[r].kind, "state", rows[r].state,
							NULL};
				if (rows[r].has)
					sample(out, "virttune_guest_nic_channels", g->name, labels,
					       rows[r].v);
			}
		}
	}

	family(out, "virttune_recommendation_info", "gauge",
	       "A recommendation that holds now (value 1)");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (guint k = 0; g->analysis && k < g->analysis->recommendations->len; k++) {
			const VtRecommendation *r = g->analysis->recommendations->pdata[k];
			const char *labels[] = {"id",       r->id,
						"rule",     r->rule,
						"severity", vt_severity_name(r->severity),
						"target",   vt_target_name(r->target),
						NULL};
			sample(out, "virttune_recommendation_info", g->name, labels, 1);
		}
	}

	family(out, "virttune_frames_rejected_total", "counter",
	       "Frames refused from a guest, by reason");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (guint r = 0; g->session && r < VT_REJECT_N_REASONS; r++) {
			const char *labels[] = {"reason", vt_reject_name(r), NULL};
			sample(out, "virttune_frames_rejected_total", g->name, labels,
			       (double)vt_session_get_rejects(g->session, r));
		}
	}
	return out;
}
