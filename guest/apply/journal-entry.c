/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One journal entry and its JSON file form, read back as untrusted input. */
#include "journal.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "error.h"
#include "json.h"
#include "message.h"
#include "validate.h"

static const char *const state_names[] = {"prepared", "applied", "failed", "rolled_back"};
static const char *const kind_names[] = {"apply", "rollback"};
static const char *const confirm_names[] = {"none", "awaiting", "confirmed", "expired"};

const char *
vt_journal_confirm_name(VtConfirmState confirm)
{
	return (guint)confirm < G_N_ELEMENTS(confirm_names) ? confirm_names[confirm] : "?";
}

const char *
vt_journal_state_name(VtJournalState state)
{
	return (guint)state < G_N_ELEMENTS(state_names) ? state_names[state] : "?";
}

void
vt_journal_entry_free(VtJournalEntry *e)
{
	if (e == NULL)
		return;
	g_free(e->change_id);
	g_free(e->request_id);
	g_free(e->rollback_of);
	g_free(e->action_json);
	g_free(e->before);
	g_free(e->target);
	g_free(e->after);
	g_free(e->reason);
	g_free(e->command);
	g_free(e);
}

/* ---------------------------------------------------------------- JSON */

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

char *
vt_journal_entry_to_json(const VtJournalEntry *e)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "format");
	json_builder_add_int_value(b, VT_JOURNAL_FORMAT);
	json_builder_set_member_name(b, "seq");
	json_builder_add_int_value(b, (gint64)e->seq);
	add_string(b, "change_id", e->change_id);
	add_string(b, "request_id", e->request_id);
	add_string(b, "kind", kind_names[e->kind]);
	add_string(b, "rollback_of", e->rollback_of);
	if (e->action_json != NULL &&
	    json_parser_load_from_data(parser, e->action_json, -1, NULL)) {
		json_builder_set_member_name(b, "action");
		json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
	}
	json_builder_set_member_name(b, "persist");
	json_builder_add_boolean_value(b, e->persist);
	add_string(b, "state", vt_journal_state_name(e->state));
	add_string(b, "before", e->before);
	add_string(b, "target", e->target);
	add_string(b, "after", e->after);
	add_string(b, "reason", e->reason);
	if (e->errnum != 0) {
		json_builder_set_member_name(b, "errnum");
		json_builder_add_int_value(b, e->errnum);
	}
	add_string(b, "command", e->command);
	json_builder_set_member_name(b, "created_ms");
	json_builder_add_int_value(b, e->created_ms);
	json_builder_set_member_name(b, "updated_ms");
	json_builder_add_int_value(b, e->updated_ms);
	if (e->confirm != VT_CONFIRM_NONE) {
		add_string(b, "confirm", confirm_names[e->confirm]);
		json_builder_set_member_name(b, "confirm_within_s");
		json_builder_add_int_value(b, e->confirm_within_s);
		json_builder_set_member_name(b, "confirm_deadline_ms");
		json_builder_add_int_value(b, e->confirm_deadline_ms);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return vt_json_node_to_string(root, TRUE);
}

/* A string member: NULL and FALSE when present but not a bounded string. */
static gboolean
get_string(JsonObject *o, const char *name, gboolean required, gsize max, char **out,
	   GError **error)
{
	JsonNode *n = json_object_get_member(o, name);
	const char *s;

	*out = NULL;
	if (n == NULL || JSON_NODE_HOLDS_NULL(n)) {
		if (required)
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is missing", name);
		return !required;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is not a string", name);
		return FALSE;
	}
	s = json_node_get_string(n);
	if (strlen(s) > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "'%s' is longer than %zu bytes",
			    name, max);
		return FALSE;
	}
	*out = g_strdup(s);
	return TRUE;
}

static gboolean
get_int(JsonObject *o, const char *name, gboolean required, gint64 lo, gint64 hi, gint64 *out,
	GError **error)
{
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL) {
		if (required)
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is missing", name);
		return !required;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) < lo || json_node_get_int(n) > hi) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "'%s' is not a whole number in range", name);
		return FALSE;
	}
	*out = json_node_get_int(n);
	return TRUE;
}

static gboolean
get_enum(JsonObject *o, const char *name, const char *const *names, gsize n, int *out,
	 GError **error)
{
	g_autofree char *s = NULL;

	if (!get_string(o, name, TRUE, 32, &s, error))
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return TRUE;
		}
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' has an unknown value", name);
	return FALSE;
}

/* The scalar members: ids, kind, state, values, times. */
static gboolean
entry_fields(JsonObject *o, VtJournalEntry *e, GError **error)
{
	gint64 v = 0;
	int kind = 0, state = 0;

	if (!get_int(o, "format", TRUE, VT_JOURNAL_FORMAT, VT_JOURNAL_FORMAT, &v, error) ||
	    !get_int(o, "seq", TRUE, 1, G_MAXINT64, &v, error))
		return FALSE;
	e->seq = (guint64)v;
	if (!get_string(o, "change_id", TRUE, 64, &e->change_id, error) ||
	    !get_string(o, "request_id", TRUE, 256, &e->request_id, error) ||
	    !get_enum(o, "kind", kind_names, G_N_ELEMENTS(kind_names), &kind, error) ||
	    !get_string(o, "rollback_of", FALSE, 64, &e->rollback_of, error) ||
	    !get_enum(o, "state", state_names, G_N_ELEMENTS(state_names), &state, error) ||
	    !get_string(o, "before", FALSE, VT_JOURNAL_VALUE_MAX, &e->before, error) ||
	    !get_string(o, "target", FALSE, VT_JOURNAL_VALUE_MAX, &e->target, error) ||
	    !get_string(o, "after", FALSE, VT_JOURNAL_VALUE_MAX, &e->after, error) ||
	    !get_string(o, "reason", FALSE, 64, &e->reason, error) ||
	    !get_string(o, "command", FALSE, 512, &e->command, error))
		return FALSE;
	e->kind = kind;
	e->state = state;
	if (!get_int(o, "errnum", FALSE, 0, 4095, &v, error))
		return FALSE;
	e->errnum = json_object_has_member(o, "errnum") ? (int)v : 0;
	return get_int(o, "created_ms", TRUE, 0, G_MAXINT64, &e->created_ms, error) &&
	       get_int(o, "updated_ms", TRUE, 0, G_MAXINT64, &e->updated_ms, error);
}

/* The confirmation window, when the change was applied with one. */
static gboolean
entry_confirm(JsonObject *o, VtJournalEntry *e, GError **error)
{
	gint64 within = 0;
	int confirm = 0;

	if (!json_object_has_member(o, "confirm"))
		return TRUE;
	if (!get_enum(o, "confirm", confirm_names, G_N_ELEMENTS(confirm_names), &confirm, error) ||
	    !get_int(o, "confirm_within_s", TRUE, 1, VT_CONFIRM_WITHIN_MAX_S, &within, error) ||
	    !get_int(o, "confirm_deadline_ms", TRUE, 0, G_MAXINT64, &e->confirm_deadline_ms, error))
		return FALSE;
	if (e->kind != VT_JOURNAL_APPLY) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'confirm' on a rollback");
		return FALSE;
	}
	e->confirm = confirm;
	e->confirm_within_s = (guint32)within;
	return TRUE;
}

static gboolean
entry_persist(JsonObject *o, VtJournalEntry *e, GError **error)
{
	JsonNode *node = json_object_get_member(o, "persist");

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'persist' is not a boolean");
		return FALSE;
	}
	e->persist = json_node_get_boolean(node);
	return TRUE;
}

/* The action, which must be one the wire would have accepted, in canonical JSON. */
static gboolean
entry_action(JsonObject *o, VtJournalEntry *e, GError **error)
{
	JsonNode *node = json_object_get_member(o, "action");
	g_autoptr(VtAction) action = NULL;

	if (node == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'action' is missing");
		return FALSE;
	}
	action = (VtAction *)vt_json_to_message(&virttune__v1__action__descriptor, node, error);
	if (action == NULL || !vt_validate_message(&action->base, NULL, error)) {
		g_prefix_error(error, "action: ");
		return FALSE;
	}
	if (action->kind_case == VIRTTUNE__V1__ACTION__KIND__NOT_SET) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "action: empty");
		return FALSE;
	}
	e->action_json = vt_json_message_to_string(&action->base, FALSE, error);
	return e->action_json != NULL;
}

static gboolean
entry_consistent(const VtJournalEntry *e, GError **error)
{
	if ((e->kind == VT_JOURNAL_ROLLBACK) != (e->rollback_of != NULL) ||
	    (e->kind == VT_JOURNAL_ROLLBACK && e->state == VT_JOURNAL_ROLLED_BACK) ||
	    (e->state != VT_JOURNAL_PREPARED && e->state != VT_JOURNAL_FAILED &&
	     e->after == NULL) ||
	    e->before == NULL || e->target == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "inconsistent fields for state %s",
			    state_names[e->state]);
		return FALSE;
	}
	return TRUE;
}

VtJournalEntry *
vt_journal_entry_from_json(const char *text, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(VtJournalEntry) e = g_new0(VtJournalEntry, 1);
	JsonNode *node;
	JsonObject *o;

	if (len > VT_JOURNAL_ENTRY_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "larger than %u bytes",
			    VT_JOURNAL_ENTRY_MAX);
		return NULL;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "not UTF-8");
		return NULL;
	}
	if (!json_parser_load_from_data(parser, text, (gssize)len, error))
		return NULL;
	node = json_parser_get_root(parser);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "not a JSON object");
		return NULL;
	}
	o = json_node_get_object(node);
	if (!entry_fields(o, e, error) || !entry_confirm(o, e, error) ||
	    !entry_persist(o, e, error) || !entry_action(o, e, error) ||
	    !entry_consistent(e, error))
		return NULL;
	return g_steal_pointer(&e);
}
