/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ApplyResult: the answer to an ApplyRequest or a RollbackRequest. */
#include "apply-private.h"

#include <errno.h>

#include "error.h"

void
vt_apply_result_free(VtApplyResult *r)
{
	if (r == NULL)
		return;
	g_free(r->request_id);
	g_free(r->reason);
	g_free(r->before);
	g_free(r->after);
	g_free(r->change_id);
	g_free(r->command);
	g_free(r);
}

VtApplyResult *
vt_apply_result_new(const char *request_id, int status, const char *reason, int errnum)
{
	VtApplyResult *r = g_new(VtApplyResult, 1);

	virttune__v1__apply_result__init(r);
	r->request_id = g_strdup(request_id);
	r->has_status = TRUE;
	r->status = status;
	r->reason = g_strdup(reason != NULL ? reason : "");
	if (errnum != 0) {
		r->has_errnum = TRUE;
		r->errnum = errnum;
	}
	return r;
}

VtApplyResult *
vt_apply_result_set(VtApplyResult *r, const char *before, const char *after, const char *change_id,
		    char *command)
{
	r->before = g_strdup(before);
	r->after = g_strdup(after);
	r->change_id = g_strdup(change_id);
	r->command = command;
	return r;
}

VtApplyResult *
vt_apply_result_from_entry(const VtJournalEntry *e, const char *request_id)
{
	int status;
	const char *reason = e->reason;

	if (e->kind == VT_JOURNAL_ROLLBACK)
		status = e->state == VT_JOURNAL_APPLIED ? ST_ROLLED_BACK : ST_FAILED;
	else
		status = e->state == VT_JOURNAL_FAILED ? ST_FAILED : ST_APPLIED;
	if (status != ST_FAILED)
		reason = "duplicate";
	return vt_apply_confirm_answer(
		e, vt_apply_result_set(
			   vt_apply_result_new(request_id, status, reason, e->errnum), e->before,
			   e->after, e->kind == VT_JOURNAL_ROLLBACK ? e->rollback_of : e->change_id,
			   g_strdup(e->command)));
}

VtApplyResult *
vt_apply_result_journal(const char *request_id, const GError *error)
{
	gboolean full = g_error_matches(error, VT_ERROR, VT_ERROR_TOO_LARGE);

	return vt_apply_result_new(request_id, ST_FAILED, full ? "journal_full" : "journal",
				   full ? 0 : EIO);
}
