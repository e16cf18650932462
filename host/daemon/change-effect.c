/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What became of each change: its state as the agent's reports tell it
 * (awaiting confirmation, confirmed, reverted, drifted), its measured effect
 * from the stored reports and host samples around it, and the closed loop
 * that confirms a change at its deadline only when the effect did not
 * regress.
 */
#include "changes.h"

#include <string.h>

#include "builder.h"
#include "views.h"
#include "effect.h"
#include "error.h"
#include "text.h"

#define REPORTS_PER_WINDOW_MAX 512u

/* ------------------------------------------------------------ effect */

/* "nic.queues:eth0" → rule "nic.queues", subject "eth0". */
static void
split_recommendation(const char *id, char **rule, char **subject)
{
	const char *colon = id ? strchr(id, ':') : NULL;

	*rule = colon ? g_strndup(id, (gsize)(colon - id)) : g_strdup(id ? id : "");
	*subject = colon && colon[1] ? g_strdup(colon + 1) : NULL;
}

/* The host samples of @uuid in [@since_ms, @until_ms], parsed; one that does
 * not parse is left out (the store checked its length). */
static GPtrArray *
host_samples_of(VtStore *store, const char *uuid, gint64 since_ms, gint64 until_ms, GError **error)
{
	g_autoptr(GPtrArray) stored = vt_store_host_samples(store, uuid, since_ms, until_ms,
							    REPORTS_PER_WINDOW_MAX, error);
	GPtrArray *out;

	if (stored == NULL)
		return NULL;
	out = g_ptr_array_new_with_free_func((GDestroyNotify)vt_host_sample_free);
	for (guint i = 0; i < stored->len; i++) {
		const VtStoreHostSample *s = stored->pdata[i];
		g_autoptr(GError) local = NULL;
		gsize len;
		const char *data = g_bytes_get_data(s->data, &len);
		VtHostSample *h = vt_host_sample_parse(s->time_ms, data, len, &local);

		if (h != NULL)
			g_ptr_array_add(out, h);
		else
			g_debug("host sample at %" G_GINT64_FORMAT " ms: %s", s->time_ms,
				local->message);
	}
	return out;
}

static GPtrArray *
reports_of(GPtrArray *stored)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < stored->len; i++)
		g_ptr_array_add(out, ((VtStoreReport *)stored->pdata[i])->report);
	return out;
}

VtEffect *
vt_change_effect(VtStore *store, const char *uuid, const VtStoreAudit *row, gint64 window_ms,
		 gint64 until_ms, GError **error)
{
	g_autoptr(GPtrArray) before = NULL, after = NULL, rb = NULL, ra = NULL;
	g_autoptr(GPtrArray) hb = NULL, ha = NULL;
	g_autofree char *rule = NULL, *subject = NULL;
	gint64 t0 = row->finished_ms > 0 ? row->finished_ms : row->time_ms;

	before = vt_store_history(store, uuid, t0 - window_ms, t0, REPORTS_PER_WINDOW_MAX, error);
	if (before == NULL)
		return NULL;
	after = vt_store_history(store, uuid, t0 + 1, MIN(until_ms, t0 + window_ms),
				 REPORTS_PER_WINDOW_MAX, error);
	if (after == NULL)
		return NULL;
	hb = host_samples_of(store, uuid, t0 - window_ms, t0, error);
	if (hb == NULL)
		return NULL;
	ha = host_samples_of(store, uuid, t0 + 1, MIN(until_ms, t0 + window_ms), error);
	if (ha == NULL)
		return NULL;
	rb = reports_of(before);
	ra = reports_of(after);
	split_recommendation(row->recommendation_id, &rule, &subject);
	return vt_effect_compute_sides(rule, subject, rb, ra, hb, ha);
}

/* ------------------------------------------------------------ state */

static const VtChangeState *
reported_state(const VtReport *report, const char *change_id)
{
	for (gsize i = 0; report != NULL && i < report->n_changes; i++)
		if (g_strcmp0(report->changes[i]->change_id, change_id) == 0)
			return report->changes[i];
	return NULL;
}

static char *
minutes_left(gint64 ms)
{
	if (ms <= 0)
		return g_strdup("due");
	if (ms < 120000)
		return g_strdup_printf("%" G_GINT64_FORMAT "s left", (ms + 999) / 1000);
	if (ms < 2 * 3600000)
		return g_strdup_printf("%" G_GINT64_FORMAT "m left", (ms + 59999) / 60000);
	return g_strdup_printf("%" G_GINT64_FORMAT "h left", (ms + 3599999) / 3600000);
}

/* The state of the applied change @change_id, from the guest's last report,
 * else from what followed it in the audit trail (@rows from @from on). */
static char *
change_state(const VtGuest *g, GPtrArray *rows, guint from, const char *change_id, gint64 now)
{
	const VtReport *report = g != NULL ? vt_guest_report(g) : NULL;
	const VtChangeState *s = reported_state(report, change_id);
	const char *last = "applied";

	if (s != NULL && g_strcmp0(s->state, "awaiting_confirmation") == 0) {
		gint64 guest_now = (gint64)report->collected_at_ms + (now - g->report_at_ms);
		g_autofree char *left = minutes_left((gint64)s->deadline_ms - guest_now);
		return g_strdup_printf("awaiting confirmation (%s)", left);
	}
	if (s != NULL && g_strcmp0(s->state, "reverted") == 0)
		return g_strdup_printf("reverted: %s", s->reason ? s->reason : "not confirmed");
	if (s != NULL && g_strcmp0(s->state, "rolled_back") == 0)
		return g_strdup("rolled back");
	if (s != NULL && s->state != NULL)
		return g_strdup(s->state); /* confirmed, drifted */
	for (guint i = from; i < rows->len; i++) {
		const VtStoreAudit *a = rows->pdata[i];
		if (g_strcmp0(a->change_id, change_id) != 0)
			continue;
		if (g_strcmp0(a->status, "rolled_back") == 0)
			last = "rolled back";
		else if (g_strcmp0(a->status, "confirmed") == 0)
			last = "confirmed";
	}
	return g_strdup(last);
}

void
vt_changes_annotate(VtStore *store, const VtGuest *g, const char *uuid, GPtrArray *rows,
		    JsonNode *view, gboolean effect, gint64 window_ms, gint64 now)
{
	JsonArray *arr = JSON_NODE_HOLDS_ARRAY(view) ? json_node_get_array(view) : NULL;

	for (guint i = 0; arr && i < rows->len && i < json_array_get_length(arr); i++) {
		const VtStoreAudit *a = rows->pdata[i];
		JsonObject *o = json_array_get_object_element(arr, i);
		g_autoptr(JsonBuilder) b = NULL;
		g_autoptr(VtEffect) e = NULL;
		char *state;

		if (o == NULL || g_strcmp0(a->operation, "apply") != 0 ||
		    g_strcmp0(a->status, "applied") != 0 || a->change_id == NULL)
			continue;
		json_object_set_member(
			o, "state",
			json_node_init_string(
				json_node_alloc(),
				state = change_state(g, rows, i + 1, a->change_id, now)));
		g_free(state);
		if (!effect || (e = vt_change_effect(store, uuid, a, window_ms, now, NULL)) == NULL)
			continue;
		b = json_builder_new();
		vt_effect_to_json(b, e);
		json_object_set_member(o, "effect", json_builder_get_root(b));
	}
}

/* ------------------------------------------------------------ recommend */

/* "was applied on DATE, undone since" when @rec_id's latest applied change
 * no longer holds (drifted, reverted or rolled back); NULL otherwise. */
static char *
undone_note(GPtrArray *rows, const VtGuest *g, const char *rec_id, gint64 now)
{
	for (guint i = rows->len; i > 0; i--) {
		const VtStoreAudit *a = rows->pdata[i - 1];
		g_autofree char *state = NULL;
		g_autoptr(GDateTime) when = NULL;
		g_autofree char *date = NULL;

		if (g_strcmp0(a->operation, "apply") != 0 || g_strcmp0(a->status, "applied") != 0 ||
		    g_strcmp0(a->recommendation_id, rec_id) != 0 || a->change_id == NULL)
			continue;
		state = change_state(g, rows, i, a->change_id, now);
		if (g_strcmp0(state, "drifted") != 0 && g_strcmp0(state, "rolled back") != 0 &&
		    !g_str_has_prefix(state, "reverted"))
			return NULL;
		when = g_date_time_new_from_unix_utc(a->time_ms / 1000);
		date = when ? g_date_time_format(when, "%Y-%m-%d %H:%M UTC") : g_strdup("?");
		return g_strdup_printf("was applied on %s, undone since (%s)", date, state);
	}
	return NULL;
}

void
vt_changes_annotate_recommendations(VtStore *store, GHashTable *guests, JsonNode *view, gint64 now)
{
	JsonObject *top = JSON_NODE_HOLDS_OBJECT(view) ? json_node_get_object(view) : NULL;
	JsonArray *recs = top ? json_object_get_array_member(top, "recommendations") : NULL;

	for (guint i = 0; recs && i < json_array_get_length(recs); i++) {
		JsonObject *r = json_array_get_object_element(recs, i);
		const char *domain =
			r ? json_object_get_string_member_with_default(r, "domain", NULL) : NULL;
		g_autoptr(GPtrArray) sel = domain ? vt_guests_select(guests, domain) : NULL;
		g_autoptr(GPtrArray) rows = NULL;
		const VtGuest *g;
		char *note;

		if (sel == NULL || sel->len != 1)
			continue;
		g = sel->pdata[0];
		rows = vt_store_audit_list(store, g->uuid, 0, 1000, NULL);
		note = rows ? undone_note(rows, g,
					  json_object_get_string_member_with_default(r, "id", NULL),
					  now)
			    : NULL;
		if (note != NULL) {
			json_object_set_string_member(r, "undone", note);
			g_free(note);
		}
	}
}

/* ------------------------------------------------------------ show */

JsonNode *
vt_changes_show(VtStore *store, GHashTable *guests, const char *change_id, gint64 window_ms,
		gint64 now)
{
	g_autoptr(GPtrArray) domains = vt_store_list_domains(store, NULL);

	for (guint i = 0; domains && i < domains->len; i++) {
		const VtStoreDomain *dom = domains->pdata[i];
		g_autoptr(VtStoreAudit) row =
			vt_store_audit_find_change(store, dom->uuid, change_id, NULL);
		g_autoptr(GPtrArray) rows = NULL;
		g_autoptr(GPtrArray) sel = NULL;
		g_autoptr(JsonNode) view = NULL;
		JsonArray *arr;

		if (row == NULL ||
		    (rows = vt_store_audit_list(store, dom->uuid, 0, 1000, NULL)) == NULL)
			continue;
		sel = vt_guests_select(guests, dom->uuid);
		view = vt_view_changes(rows);
		vt_changes_annotate(store, sel && sel->len == 1 ? sel->pdata[0] : NULL, dom->uuid,
				    rows, view, TRUE, window_ms, now);
		arr = json_node_get_array(view);
		for (guint k = json_array_get_length(arr); k > 0; k--) {
			JsonObject *o = json_array_get_object_element(arr, k - 1);
			if (g_strcmp0(
				    json_object_get_string_member_with_default(o, "change_id", ""),
				    change_id) != 0 ||
			    g_strcmp0(
				    json_object_get_string_member_with_default(o, "operation", ""),
				    "apply") != 0)
				continue;
			json_object_set_string_member(o, "domain", dom->name);
			return json_node_init_object(json_node_alloc(), o);
		}
	}
	return NULL;
}
