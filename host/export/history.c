/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the store kept: `history` (past reports) and `changes` (the audit trail). */
#include "views.h"

#include "builder.h"

static void
add_meminfo(JsonBuilder *b, const char *key, const VtReport *r, const char *name)
{
	guint64 v = 0;
	gboolean has = vt_report_meminfo(r, name, &v);

	vt_view_add_int(b, key, has, (gint64)v);
}

static void
add_history_row(JsonBuilder *b, const VtStoreReport *entry)
{
	const VtReport *r = entry->report;
	const VtIdentity *id = r->identity;
	const VtSwap *swap = r->swap;

	json_builder_begin_object(b);
	vt_view_add_int(b, "time_ms", TRUE, entry->time_ms);
	vt_view_add_time(b, "time", entry->time_ms);
	vt_view_add_str(b, "boot_id", id ? id->boot_id : NULL);
	vt_view_add_int(b, "uptime_s", id && id->has_uptime_s, id ? (gint64)id->uptime_s : 0);
	add_meminfo(b, "mem_total_bytes", r, "MemTotal");
	add_meminfo(b, "mem_available_bytes", r, "MemAvailable");
	add_meminfo(b, "swap_total_bytes", r, "SwapTotal");
	add_meminfo(b, "swap_free_bytes", r, "SwapFree");
	vt_view_add_int(b, "pswpin", swap && swap->has_pswpin, swap ? (gint64)swap->pswpin : 0);
	vt_view_add_int(b, "pswpout", swap && swap->has_pswpout, swap ? (gint64)swap->pswpout : 0);
	vt_view_add_int(b, "disks", TRUE, (gint64)r->n_block);
	vt_view_add_int(b, "nics", TRUE, (gint64)r->n_nics);
	json_builder_end_object(b);
}

JsonNode *
vt_view_history(GPtrArray *rows)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < rows->len; i++)
		add_history_row(b, rows->pdata[i]);
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

/* The action as the object it was stored as; null when absent or unreadable. */
static void
add_action(JsonBuilder *b, const char *action_json)
{
	g_autoptr(JsonParser) parser = json_parser_new();

	json_builder_set_member_name(b, "action");
	if (action_json != NULL && json_parser_load_from_data(parser, action_json, -1, NULL))
		json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
	else
		json_builder_add_null_value(b);
}

static void
add_change_row(JsonBuilder *b, const VtStoreAudit *a)
{
	json_builder_begin_object(b);
	vt_view_add_time(b, "time", a->time_ms);
	vt_view_add_int(b, "time_ms", TRUE, a->time_ms);
	vt_view_add_str(b, "operation", a->operation);
	vt_view_add_str(b, "recommendation", a->recommendation_id);
	vt_view_add_str(b, "status", a->status ? a->status : "pending");
	vt_view_add_str(b, "change_id", a->change_id);
	vt_view_add_str(b, "before", a->before);
	vt_view_add_str(b, "after", a->after);
	vt_view_add_str(b, "reason", a->reason);
	vt_view_add_str(b, "request_id", a->request_id);
	vt_view_add_int(b, "peer_uid", TRUE, a->peer_uid);
	add_action(b, a->action_json);
	json_builder_end_object(b);
}

JsonNode *
vt_view_changes(GPtrArray *rows)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < rows->len; i++)
		add_change_row(b, rows->pdata[i]);
	json_builder_end_array(b);
	return json_builder_get_root(b);
}
