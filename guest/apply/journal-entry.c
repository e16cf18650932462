/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One journal entry: its names, its consistency rules, freeing it. The file
 * form is the codec's (journal-entry-json.c or journal-entry-keyfile.c). */
#include "journal.h"

#include <string.h>

#include "error.h"

static const char *const state_names[] = {"prepared", "applied", "failed", "rolled_back"};
static const char *const kind_names[] = {"apply", "rollback"};
static const char *const confirm_names[] = {"none", "awaiting", "confirmed", "expired"};

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
	g_free(e->action_text);
	g_free(e->before);
	g_free(e->target);
	g_free(e->after);
	g_free(e->reason);
	g_free(e->command);
	g_free(e);
}

const char *
vt_journal_kind_name(VtJournalKind kind)
{
	return (guint)kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "?";
}

const char *
vt_journal_confirm_name(VtConfirmState confirm)
{
	return (guint)confirm < G_N_ELEMENTS(confirm_names) ? confirm_names[confirm] : "?";
}

gboolean
vt_journal_name_lookup(const char *field, const char *value, VtJournalNames table, int *out,
		       GError **error)
{
	const char *const *names = table == VT_JOURNAL_NAMES_KIND    ? kind_names
				   : table == VT_JOURNAL_NAMES_STATE ? state_names
								     : confirm_names;
	gsize n = table == VT_JOURNAL_NAMES_KIND    ? G_N_ELEMENTS(kind_names)
		  : table == VT_JOURNAL_NAMES_STATE ? G_N_ELEMENTS(state_names)
						    : G_N_ELEMENTS(confirm_names);

	for (gsize i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = (int)i;
			return TRUE;
		}
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' has an unknown value", field);
	return FALSE;
}

/* The confirmation window: only on an apply entry, within its bounds; none
 * leaves every confirm field at zero. */
static gboolean
confirm_consistent(const VtJournalEntry *e, GError **error)
{
	if (e->confirm == VT_CONFIRM_NONE) {
		if (e->confirm_within_s == 0 && e->confirm_deadline_ms == 0)
			return TRUE;
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "confirm fields without 'confirm'");
		return FALSE;
	}
	if (e->kind != VT_JOURNAL_APPLY) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'confirm' on a rollback");
		return FALSE;
	}
	if ((guint)e->confirm >= G_N_ELEMENTS(confirm_names) || e->confirm_within_s < 1 ||
	    e->confirm_within_s > VT_CONFIRM_WITHIN_MAX_S || e->confirm_deadline_ms < 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "confirm fields out of range");
		return FALSE;
	}
	return TRUE;
}

gboolean
vt_journal_entry_consistent(const VtJournalEntry *e, GError **error)
{
	if (!confirm_consistent(e, error))
		return FALSE;
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

gboolean
vt_journal_absent(const char *name, gboolean required, GError **error)
{
	if (required)
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is missing", name);
	return !required;
}

static gboolean
read_enum(const VtJournalReader *r, gpointer src, const char *name, VtJournalNames table, int *out,
	  GError **error)
{
	g_autofree char *s = NULL;

	return r->get_string(src, name, TRUE, 32, &s, error) &&
	       vt_journal_name_lookup(name, s, table, out, error);
}

/* The scalar members: ids, kind, state, values, times. */
static gboolean
read_scalars(const VtJournalReader *r, gpointer src, VtJournalEntry *e, GError **error)
{
	gint64 v = 0;
	int kind = 0, state = 0;

	if (!r->get_int(src, "format", TRUE, VT_JOURNAL_FORMAT, VT_JOURNAL_FORMAT, &v, error) ||
	    !r->get_int(src, "seq", TRUE, 1, G_MAXINT64, &v, error))
		return FALSE;
	e->seq = (guint64)v;
	if (!r->get_string(src, "change_id", TRUE, 64, &e->change_id, error) ||
	    !r->get_string(src, "request_id", TRUE, 256, &e->request_id, error) ||
	    !read_enum(r, src, "kind", VT_JOURNAL_NAMES_KIND, &kind, error) ||
	    !r->get_string(src, "rollback_of", FALSE, 64, &e->rollback_of, error) ||
	    !read_enum(r, src, "state", VT_JOURNAL_NAMES_STATE, &state, error) ||
	    !r->get_string(src, "before", FALSE, VT_JOURNAL_VALUE_MAX, &e->before, error) ||
	    !r->get_string(src, "target", FALSE, VT_JOURNAL_VALUE_MAX, &e->target, error) ||
	    !r->get_string(src, "after", FALSE, VT_JOURNAL_VALUE_MAX, &e->after, error) ||
	    !r->get_string(src, "reason", FALSE, 64, &e->reason, error) ||
	    !r->get_string(src, "command", FALSE, 512, &e->command, error))
		return FALSE;
	e->kind = kind;
	e->state = state;
	v = 0;
	if (!r->get_int(src, "errnum", FALSE, 0, 4095, &v, error))
		return FALSE;
	e->errnum = (int)v;
	return r->get_int(src, "created_ms", TRUE, 0, G_MAXINT64, &e->created_ms, error) &&
	       r->get_int(src, "updated_ms", TRUE, 0, G_MAXINT64, &e->updated_ms, error);
}

/* The confirmation window, when the change was applied with one. */
static gboolean
read_confirm(const VtJournalReader *r, gpointer src, VtJournalEntry *e, GError **error)
{
	gint64 within = 0;
	int confirm = 0;

	if (!r->has(src, "confirm"))
		return TRUE;
	if (!read_enum(r, src, "confirm", VT_JOURNAL_NAMES_CONFIRM, &confirm, error) ||
	    !r->get_int(src, "confirm_within_s", TRUE, 1, VT_CONFIRM_WITHIN_MAX_S, &within,
			error) ||
	    !r->get_int(src, "confirm_deadline_ms", TRUE, 0, G_MAXINT64, &e->confirm_deadline_ms,
			error))
		return FALSE;
	if (e->kind != VT_JOURNAL_APPLY) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'confirm' on a rollback");
		return FALSE;
	}
	e->confirm = confirm;
	e->confirm_within_s = (guint32)within;
	return TRUE;
}

gboolean
vt_journal_entry_read_fields(const VtJournalReader *reader, gpointer src, VtJournalEntry *e,
			     GError **error)
{
	return read_scalars(reader, src, e, error) && read_confirm(reader, src, e, error);
}
