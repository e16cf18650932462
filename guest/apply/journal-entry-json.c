/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal's JSON file form (NNNNNNNNNN.json), read back as untrusted input,
 * and the Action's canonical JSON. */
#include "journal.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "error.h"
#include "json.h"
#include "message.h"
#include "validate.h"

const char vt_journal_suffix[] = ".json";

char *
vt_journal_action_to_text(const VtAction *action, GError **error)
{
	return vt_json_message_to_string(&action->base, FALSE, error);
}

VtAction *
vt_journal_action_from_text(const char *text, GError **error)
{
	return (VtAction *)vt_json_message_from_string(&virttune__v1__action__descriptor, text, -1,
						       error);
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

char *
vt_journal_entry_to_text(const VtJournalEntry *e)
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
	add_string(b, "kind", vt_journal_kind_name(e->kind));
	add_string(b, "rollback_of", e->rollback_of);
	if (e->action_text != NULL &&
	    json_parser_load_from_data(parser, e->action_text, -1, NULL)) {
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
		add_string(b, "confirm", vt_journal_confirm_name(e->confirm));
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
get_string(gpointer src, const char *name, gboolean required, gsize max, char **out, GError **error)
{
	JsonObject *o = src;
	JsonNode *n = json_object_get_member(o, name);
	const char *s;

	*out = NULL;
	if (n == NULL || JSON_NODE_HOLDS_NULL(n)) {
		return vt_journal_absent(name, required, error);
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
get_int(gpointer src, const char *name, gboolean required, gint64 lo, gint64 hi, gint64 *out,
	GError **error)
{
	JsonObject *o = src;
	JsonNode *n = json_object_get_member(o, name);

	if (n == NULL) {
		return vt_journal_absent(name, required, error);
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
	e->action_text = vt_json_message_to_string(&action->base, FALSE, error);
	return e->action_text != NULL;
}

static gboolean
has(gpointer src, const char *name)
{
	return json_object_has_member(src, name);
}

static const VtJournalReader json_reader = {get_string, get_int, has};

VtJournalEntry *
vt_journal_entry_from_text(const char *text, gsize len, GError **error)
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
	if (!vt_journal_entry_read_fields(&json_reader, o, e, error) ||
	    !entry_persist(o, e, error) || !entry_action(o, e, error) ||
	    !vt_journal_entry_consistent(e, error))
		return NULL;
	return g_steal_pointer(&e);
}
