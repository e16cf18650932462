/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon and its guests: status, list, show, recommendations. */
#include "views.h"

#include "builder.h"
#include "json.h"

/* ------------------------------------------------------------ list */

JsonNode *
vt_view_list(GPtrArray *guests, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		const VtIdentity *id = report ? report->identity : NULL;
		const VtChannelFacts *ch =
			g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;

		json_builder_begin_object(b);
		vt_view_add_guest(b, g, now_ms);
		vt_view_add_str(b, "uuid", g->uuid);
		vt_view_add_str(b, "agent_version", g->agent_version);
		vt_view_add_str(b, "channel_state", ch ? ch->target_state : NULL);
		vt_view_add_str(b, "hostname", id ? id->hostname : NULL);
		vt_view_add_str(b, "os", id ? id->os_pretty_name : NULL);
		vt_view_add_str(b, "kernel", id ? id->kernel_release : NULL);
		vt_view_add_str(b, "boot_id", id ? id->boot_id : NULL);
		vt_view_add_int(b, "vcpus", g->facts != NULL,
				g->facts ? g->facts->vcpus_current : 0);
		vt_view_add_int(b, "memory_bytes", g->facts != NULL,
				g->facts ? (gint64)g->facts->current_memory_bytes : 0);
		vt_view_add_int(b, "recommendations", g->analysis != NULL,
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
		vt_view_add_str(b, "last_error", g->last_error);
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
	vt_view_add_str(b, "type", f->type);
	vt_view_add_int(b, "vcpus", TRUE, f->vcpus_current);
	vt_view_add_int(b, "vcpus_max", TRUE, f->vcpus_max);
	vt_view_add_str(b, "cpu_mode", f->cpu_mode);
	vt_view_add_int(b, "numa_cells", TRUE, f->numa_cells);
	vt_view_add_int(b, "vcpupins", TRUE, f->vcpupins);
	vt_view_add_int(b, "memory_bytes", TRUE, (gint64)f->memory_bytes);
	vt_view_add_int(b, "current_memory_bytes", TRUE, (gint64)f->current_memory_bytes);
	vt_view_add_bool(b, "hugepages", TRUE, f->hugepages);
	vt_view_add_str(b, "balloon_model", f->balloon_model);
	vt_view_add_int(b, "balloon_stats_period_s", f->balloon_period > 0, f->balloon_period);
	json_builder_set_member_name(b, "disks");
	json_builder_begin_array(b);
	for (guint i = 0; i < f->disks->len; i++) {
		const VtDiskFacts *d = f->disks->pdata[i];
		json_builder_begin_object(b);
		vt_view_add_str(b, "target", d->target_dev);
		vt_view_add_str(b, "device", d->device);
		vt_view_add_str(b, "bus", d->bus);
		vt_view_add_str(b, "cache", d->cache);
		vt_view_add_str(b, "io", d->io);
		vt_view_add_str(b, "format", d->format);
		vt_view_add_str(b, "serial", d->serial);
		vt_view_add_str(b, "source", d->source);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "interfaces");
	json_builder_begin_array(b);
	for (guint i = 0; i < f->ifaces->len; i++) {
		const VtIfaceFacts *n = f->ifaces->pdata[i];
		json_builder_begin_object(b);
		vt_view_add_str(b, "mac", n->mac);
		vt_view_add_str(b, "type", n->type);
		vt_view_add_str(b, "model", n->model);
		vt_view_add_int(b, "queues", n->queues > 0, n->queues);
		vt_view_add_str(b, "driver", n->driver_name);
		vt_view_add_str(b, "target", n->target_dev);
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
	vt_view_add_str(b, "guest_window", vt_rates_window_name(r->guest_window));
	vt_view_add_double(b, "swap_in_pages_per_s", r->has_swap, r->swap_in_pps);
	vt_view_add_double(b, "swap_out_pages_per_s", r->has_swap, r->swap_out_pps);
	vt_view_add_double(b, "steal_pct", r->has_steal, r->steal_pct);
	vt_view_add_str(b, "host_window", vt_rates_window_name(r->host_window));
	vt_view_add_double(b, "vcpu_wait_pct", r->has_vcpu_delay, r->vcpu_wait_pct);
	vt_view_add_double(b, "vcpu_delay_ms_per_s", r->has_vcpu_delay_rate,
			   r->vcpu_delay_ms_per_s);
	vt_view_add_int(b, "balloon_actual_bytes", r->has_balloon, (gint64)r->balloon_actual_bytes);
	vt_view_add_int(b, "balloon_maximum_bytes", r->has_balloon,
			(gint64)r->balloon_maximum_bytes);
	vt_view_add_str(b, "balloon_source", r->has_balloon ? r->balloon_source : NULL);
	json_builder_end_object(b);
}

JsonNode *
vt_view_show(const VtGuest *g, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	const VtReport *report = vt_guest_report(g);

	json_builder_begin_object(b);
	vt_view_add_guest(b, g, now_ms);
	vt_view_add_str(b, "uuid", g->uuid);
	vt_view_add_str(b, "agent_version", g->agent_version);
	vt_view_add_str(b, "last_error", g->last_error);
	add_host_facts(b, g->facts);
	add_rates(b, &g->rates);
	json_builder_set_member_name(b, "report");
	if (report != NULL) {
		g_autoptr(GError) error = NULL;
		JsonNode *node = vt_json_from_message(&report->base, &error);
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
			vt_view_add_str(b, "domain", g->name);
			vt_view_add_str(b, "rule", "*");
			vt_view_add_str(b, "reason",
					vt_guest_has_report(g) ? "not analysed yet"
							       : "no report from the agent yet");
			json_builder_end_object(b);
			continue;
		}
		for (guint k = 0; k < g->analysis->skipped->len; k++) {
			const VtRuleSkip *s = g->analysis->skipped->pdata[k];
			json_builder_begin_object(b);
			vt_view_add_str(b, "domain", g->name);
			vt_view_add_str(b, "rule", s->rule);
			vt_view_add_str(b, "reason", s->reason);
			json_builder_end_object(b);
		}
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* ------------------------------------------------------------ status */

JsonNode *
vt_view_status(GPtrArray *guests, const char *uri, gboolean libvirt_connected, const char *database)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	guint connected = 0;

	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		if (g->session && vt_session_get_state(g->session) == VT_SESSION_READY)
			connected++;
	}
	json_builder_begin_object(b);
	vt_view_add_str(b, "version", VT_VERSION);
	vt_view_add_str(b, "uri", uri);
	vt_view_add_bool(b, "libvirt_connected", TRUE, libvirt_connected);
	vt_view_add_int(b, "domains", TRUE, guests->len);
	vt_view_add_int(b, "agents_connected", TRUE, connected);
	vt_view_add_str(b, "database", database);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
