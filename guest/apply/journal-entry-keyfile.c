/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's key-file form (NNNNNNNNNN.entry), for the portable agent that
 * links no JSON library: one [entry] group, the Action as base64 of its
 * protobuf encoding. Read back as untrusted input, with the JSON form's bounds.
 */
#include "journal.h"

#include <string.h>

#include "error.h"
#include "message.h"
#include "validate.h"

#define GROUP "entry"

const char vt_journal_suffix[] = ".entry";

char *
vt_journal_action_to_text(const VtAction *action, GError **error)
{
	g_autoptr(GBytes) bytes = vt_message_pack(&action->base, FALSE, error);
	const guint8 *data;
	gsize len;

	if (bytes == NULL)
		return NULL;
	data = g_bytes_get_data(bytes, &len);
	return g_base64_encode(data, len);
}

VtAction *
vt_journal_action_from_text(const char *text, GError **error)
{
	g_autofree guint8 *data = NULL;
	g_autoptr(VtAction) action = NULL;
	gsize len = 0;

	if (text == NULL || strlen(text) > VT_JOURNAL_ENTRY_MAX ||
	    strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
		    strlen(text)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "action: not base64");
		return NULL;
	}
	data = g_base64_decode(text, &len);
	action = (VtAction *)vt_message_unpack(&virttune__v1__action__descriptor, data, len, error);
	if (action == NULL || !vt_validate_message(&action->base, NULL, error)) {
		g_prefix_error(error, "action: ");
		return NULL;
	}
	if (action->kind_case == VIRTTUNE__V1__ACTION__KIND__NOT_SET) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "action: empty");
		return NULL;
	}
	return g_steal_pointer(&action);
}

static void
set_string(GKeyFile *kf, const char *name, const char *value)
{
	if (value != NULL)
		g_key_file_set_string(kf, GROUP, name, value);
}

char *
vt_journal_entry_to_text(const VtJournalEntry *e)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_key_file_set_int64(kf, GROUP, "format", VT_JOURNAL_FORMAT);
	g_key_file_set_uint64(kf, GROUP, "seq", e->seq);
	set_string(kf, "change_id", e->change_id);
	set_string(kf, "request_id", e->request_id);
	set_string(kf, "kind", vt_journal_kind_name(e->kind));
	set_string(kf, "rollback_of", e->rollback_of);
	set_string(kf, "action", e->action_text);
	g_key_file_set_boolean(kf, GROUP, "persist", e->persist);
	set_string(kf, "state", vt_journal_state_name(e->state));
	set_string(kf, "before", e->before);
	set_string(kf, "target", e->target);
	set_string(kf, "after", e->after);
	set_string(kf, "reason", e->reason);
	if (e->errnum != 0)
		g_key_file_set_integer(kf, GROUP, "errnum", e->errnum);
	set_string(kf, "command", e->command);
	g_key_file_set_int64(kf, GROUP, "created_ms", e->created_ms);
	g_key_file_set_int64(kf, GROUP, "updated_ms", e->updated_ms);
	if (e->confirm != VT_CONFIRM_NONE) {
		set_string(kf, "confirm", vt_journal_confirm_name(e->confirm));
		g_key_file_set_uint64(kf, GROUP, "confirm_within_s", e->confirm_within_s);
		g_key_file_set_int64(kf, GROUP, "confirm_deadline_ms", e->confirm_deadline_ms);
	}
	return g_key_file_to_data(kf, NULL, NULL);
}

/* A string key: FALSE when present but longer than @max. */
static gboolean
get_string(gpointer src, const char *name, gboolean required, gsize max, char **out, GError **error)
{
	GKeyFile *kf = src;
	g_autofree char *s = NULL;

	*out = NULL;
	if (!g_key_file_has_key(kf, GROUP, name, NULL)) {
		return vt_journal_absent(name, required, error);
	}
	s = g_key_file_get_string(kf, GROUP, name, error);
	if (s == NULL)
		return FALSE;
	if (strlen(s) > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "'%s' is longer than %zu bytes",
			    name, max);
		return FALSE;
	}
	*out = g_steal_pointer(&s);
	return TRUE;
}

static gboolean
get_int(gpointer src, const char *name, gboolean required, gint64 lo, gint64 hi, gint64 *out,
	GError **error)
{
	GKeyFile *kf = src;
	g_autofree char *s = NULL;
	gint64 v;

	if (!g_key_file_has_key(kf, GROUP, name, NULL)) {
		return vt_journal_absent(name, required, error);
	}
	s = g_key_file_get_value(kf, GROUP, name, NULL);
	if (s == NULL || !g_ascii_string_to_signed(s, 10, lo, hi, &v, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "'%s' is not a whole number in range", name);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

/* The action, re-encoded so that the text kept is the canonical one. */
static gboolean
entry_action(GKeyFile *kf, VtJournalEntry *e, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(VtAction) action = NULL;

	if (!get_string(kf, "action", TRUE, VT_JOURNAL_ENTRY_MAX, &text, error))
		return FALSE;
	action = vt_journal_action_from_text(text, error);
	if (action == NULL)
		return FALSE;
	e->action_text = vt_journal_action_to_text(action, error);
	return e->action_text != NULL;
}

static gboolean
has(gpointer src, const char *name)
{
	return g_key_file_has_key(src, GROUP, name, NULL);
}

static const VtJournalReader keyfile_reader = {get_string, get_int, has};

VtJournalEntry *
vt_journal_entry_from_text(const char *text, gsize len, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(VtJournalEntry) e = g_new0(VtJournalEntry, 1);
	g_autofree char *persist = NULL;

	if (len > VT_JOURNAL_ENTRY_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "larger than %u bytes",
			    VT_JOURNAL_ENTRY_MAX);
		return NULL;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "not UTF-8");
		return NULL;
	}
	if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, error))
		return NULL;
	if (!g_key_file_has_group(kf, GROUP)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "no [%s] group", GROUP);
		return NULL;
	}
	persist = g_key_file_get_value(kf, GROUP, "persist", NULL);
	if (persist != NULL && strcmp(persist, "true") != 0 && strcmp(persist, "false") != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'persist' is not a boolean");
		return NULL;
	}
	e->persist = g_strcmp0(persist, "true") == 0;
	if (!vt_journal_entry_read_fields(&keyfile_reader, kf, e, error) ||
	    !entry_action(kf, e, error) || !vt_journal_entry_consistent(e, error))
		return NULL;
	return g_steal_pointer(&e);
}
