/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One journal entry: its names, its consistency rules, freeing it. The file
 * form is the codec's (journal-entry-json.c or journal-entry-keyfile.c). */
#include "journal.h"

#include <string.h>

#include "error.h"

static const char *const state_names[] = {"prepared", "applied", "failed", "rolled_back"};
static const char *const kind_names[] = {"apply", "rollback"};

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

gboolean
vt_journal_name_lookup(const char *field, const char *value, gboolean kind, int *out,
		       GError **error)
{
	const char *const *names = kind ? kind_names : state_names;
	gsize n = kind ? G_N_ELEMENTS(kind_names) : G_N_ELEMENTS(state_names);

	for (gsize i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = (int)i;
			return TRUE;
		}
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' has an unknown value", field);
	return FALSE;
}

gboolean
vt_journal_entry_consistent(const VtJournalEntry *e, GError **error)
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
