/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Changes that must be confirmed: their deadline, the revert when it passes
 * (whether or not the host is there), the confirmation that keeps them, and
 * the states the reports carry to the host (with changes that no longer hold).
 */
#include "apply-private.h"

#include <string.h>

#include "error.h"

#define MS_PER_S 1000
/* A deadline is looked at again at least this often, so that a wall clock
 * stepped forward brings it sooner. */
#define VT_CONFIRM_RECHECK_MS 60000

static gint64
real_ms(void)
{
	return g_get_real_time() / 1000;
}

/* The monotonic deadline of @e: the wall clock one, never further away than
 * its window (a clock stepped back, or a journal from another boot). */
static void
arm_monotonic(VtJournalEntry *e)
{
	gint64 left = e->confirm_deadline_ms - real_ms();
	gint64 window = (gint64)e->confirm_within_s * MS_PER_S;

	left = CLAMP(left, 0, window);
	e->mono_deadline_us = g_get_monotonic_time() + left * 1000;
}

void
vt_apply_confirm_arm(VtJournalEntry *e, guint32 within_s)
{
	e->confirm = VT_CONFIRM_AWAITING;
	e->confirm_within_s = within_s;
	e->confirm_deadline_ms = real_ms() + (gint64)within_s * MS_PER_S;
	arm_monotonic(e);
}

VtApplyResult *
vt_apply_confirm_answer(const VtJournalEntry *e, VtApplyResult *r)
{
	if (e->kind == VT_JOURNAL_APPLY && e->confirm == VT_CONFIRM_AWAITING &&
	    r->status == ST_APPLIED) {
		r->has_confirm_deadline_ms = TRUE;
		r->confirm_deadline_ms = (guint64)e->confirm_deadline_ms;
	}
	return r;
}

static gboolean
is_due(const VtJournalEntry *e, gint64 now_real_ms, gint64 now_mono_us)
{
	return e->confirm == VT_CONFIRM_AWAITING && e->state == VT_JOURNAL_APPLIED &&
	       (now_real_ms >= e->confirm_deadline_ms || now_mono_us >= e->mono_deadline_us);
}

/* ---------------------------------------------------------------- confirm */

static VtApplyResult *
confirm_refusal(VtApplier *ap, const VtConfirmRequest *req, VtJournalEntry **e)
{
	if (req->request_id == NULL || req->request_id[0] == '\0' || req->change_id == NULL)
		return vt_apply_result_new(req->request_id, ST_INVALID, "bad_request", 0);
	if (ap->journal == NULL)
		return vt_apply_result_new(req->request_id, ST_FAILED, "journal", EIO);
	*e = vt_journal_find_change(ap->journal, req->change_id);
	if (*e == NULL || (*e)->kind != VT_JOURNAL_APPLY)
		return vt_apply_result_new(req->request_id, ST_INVALID, "unknown_change", 0);
	if ((*e)->confirm == VT_CONFIRM_EXPIRED)
		return vt_apply_result_new(req->request_id, ST_INVALID, "expired", 0);
	if ((*e)->confirm == VT_CONFIRM_NONE || (*e)->state != VT_JOURNAL_APPLIED)
		return vt_apply_result_new(req->request_id, ST_INVALID, "not_awaiting", 0);
	return NULL;
}

VtApplyResult *
vt_applier_confirm(VtApplier *ap, const VtConfirmRequest *req)
{
	g_autoptr(GError) error = NULL;
	VtJournalEntry *e = NULL;
	VtApplyResult *refusal;
	const char *reason = "";

	if ((refusal = confirm_refusal(ap, req, &e)) != NULL)
		return refusal;
	if (e->confirm == VT_CONFIRM_CONFIRMED) {
		reason = "duplicate";
	} else if (is_due(e, real_ms(), g_get_monotonic_time())) {
		/* too late, even if the timer has not fired yet */
		vt_applier_expire(ap, NULL);
		return vt_apply_result_new(req->request_id, ST_INVALID, "expired", 0);
	} else {
		e->confirm = VT_CONFIRM_CONFIRMED;
		if (!vt_journal_commit(ap->journal, e, &error)) {
			e->confirm = VT_CONFIRM_AWAITING;
			return vt_apply_result_journal(req->request_id, error);
		}
		if (e->persist && !vt_applier_rebuild_dropins(ap, &error))
			return vt_apply_result_set(
				vt_apply_result_new(req->request_id, ST_FAILED, "persist", EIO),
				e->before, e->after, e->change_id, g_strdup(e->command));
	}
	return vt_apply_result_set(vt_apply_result_new(req->request_id, ST_CONFIRMED, reason, 0),
				   e->before, e->after, e->change_id, g_strdup(e->command));
}

/* ---------------------------------------------------------------- expiry */

/* Undoes @e, whose deadline passed. */
static gboolean
revert(VtApplier *ap, VtJournalEntry *e, GPtrArray *warnings)
{
	g_autofree char *change_id = g_strdup(e->change_id);
	g_autofree char *request_id = g_strdup_printf("deadline-%s", change_id);
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(GError) error = NULL;
	VtJournalEntry *orig;

	/* the window ends here whatever happens: it is never tried twice */
	e->confirm = VT_CONFIRM_EXPIRED;
	r = vt_apply_undo(ap, e, request_id, FALSE);
	orig = vt_journal_find_change(ap->journal, change_id);
	if (orig == NULL)
		return r->status == ST_ROLLED_BACK;
	orig->confirm = VT_CONFIRM_EXPIRED;
	g_free(orig->reason);
	orig->reason = g_strdup(r->status == ST_ROLLED_BACK ? "not confirmed" : r->reason);
	if (!vt_journal_commit(ap->journal, orig, &error))
		vt_journal_warn(warnings, "change %s: cannot record its revert: %s", change_id,
				error->message);
	if (r->status == ST_ROLLED_BACK)
		vt_journal_warn(warnings, "change %s was not confirmed in time: reverted to %s",
				change_id, r->after ? r->after : "?");
	else
		vt_journal_warn(warnings,
				"change %s was not confirmed in time but cannot be reverted: %s",
				change_id, r->reason);
	return r->status == ST_ROLLED_BACK;
}

guint
vt_applier_expire(VtApplier *ap, GPtrArray *warnings)
{
	g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func(g_free);
	gint64 now_real = real_ms(), now_mono = g_get_monotonic_time();
	GPtrArray *entries;
	guint undone = 0;

	if (ap->journal == NULL)
		return 0;
	entries = vt_journal_entries(ap->journal);
	for (guint i = 0; i < entries->len; i++) {
		VtJournalEntry *e = entries->pdata[i];

		if (e->confirm == VT_CONFIRM_AWAITING && e->mono_deadline_us == 0)
			arm_monotonic(e); /* read from the journal at start */
		if (is_due(e, now_real, now_mono))
			g_ptr_array_add(due, g_strdup(e->change_id));
	}
	/* by id: each revert adds an entry and may drop old ones */
	for (guint i = 0; i < due->len; i++) {
		VtJournalEntry *e = vt_journal_find_change(ap->journal, due->pdata[i]);
		if (e != NULL && e->confirm == VT_CONFIRM_AWAITING)
			undone += revert(ap, e, warnings);
	}
	return undone;
}

gint64
vt_applier_next_deadline_ms(VtApplier *ap)
{
	gint64 now_mono = g_get_monotonic_time(), best = -1;
	GPtrArray *entries;

	if (ap->journal == NULL)
		return -1;
	entries = vt_journal_entries(ap->journal);
	for (guint i = 0; i < entries->len; i++) {
		const VtJournalEntry *e = entries->pdata[i];
		gint64 left;

		if (e->confirm != VT_CONFIRM_AWAITING || e->state != VT_JOURNAL_APPLIED)
			continue;
		left = MAX(0, MIN(e->mono_deadline_us - now_mono,
				  (e->confirm_deadline_ms - real_ms()) * 1000));
		left = MIN((left + 999) / 1000, VT_CONFIRM_RECHECK_MS);
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

/* ---------------------------------------------------------------- states */

void
vt_change_state_free(VtChangeState *s)
{
	if (s == NULL)
		return;
	g_free(s->change_id);
	g_free(s->state);
	g_free(s->reason);
	g_free(s);
}

/* What @a sets, without the value: two changes with the same key set the
 * same thing, and only the later one is expected to hold. */
static char *
setting_key(const VtAction *a)
{
	switch (a->kind_case) {
	case VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS:
		return g_strconcat("channels:", a->set_channels->iface, NULL);
	case VIRTTUNE__V1__ACTION__KIND_SET_FEATURE:
		return g_strconcat("feature:", a->set_feature->iface, ":", a->set_feature->feature,
				   NULL);
	case VIRTTUNE__V1__ACTION__KIND_SET_RING:
		return g_strconcat("ring:", a->set_ring->iface, NULL);
	case VIRTTUNE__V1__ACTION__KIND_SET_SCHEDULER:
		return g_strconcat("scheduler:", a->set_scheduler->device, NULL);
	case VIRTTUNE__V1__ACTION__KIND_SET_QUEUE_PARAM:
		return g_strconcat("queue:", a->set_queue_param->device,
				   a->set_queue_param->has_nr_requests ? ":nr" : ":ra", NULL);
	case VIRTTUNE__V1__ACTION__KIND_SET_SYSCTL:
		return g_strconcat("sysctl:", a->set_sysctl->key, NULL);
	default:
		return NULL;
	}
}

static VtChangeState *
state_new(const VtJournalEntry *e, const char *state, const char *reason)
{
	VtChangeState *s = g_new(VtChangeState, 1);

	virttune__v1__change_state__init(s);
	s->change_id = g_strdup(e->change_id);
	s->state = g_strdup(state);
	s->reason = g_strdup(reason);
	s->has_changed_at_ms = TRUE;
	s->changed_at_ms = (guint64)e->updated_ms;
	if (e->confirm == VT_CONFIRM_AWAITING) {
		s->has_deadline_ms = TRUE;
		s->deadline_ms = (guint64)e->confirm_deadline_ms;
	}
	return s;
}

/* The state of @e, an applied change that is the last to set its setting:
 * drifted when the live value is not what it left. */
static VtChangeState *
applied_state(VtApplier *ap, const VtJournalEntry *e, const VtAction *a)
{
	const VtApplyKind *kind = vt_apply_kind_of(a);
	g_autofree char *live = NULL;
	g_autofree char *why = NULL;

	if (e->confirm == VT_CONFIRM_AWAITING)
		return state_new(e, "awaiting_confirmation", NULL);
	if (kind != NULL && kind->read(ap, a, &live) == 0 && g_strcmp0(live, e->after) != 0) {
		why = g_strdup_printf("live value %s, the change left %s", live, e->after);
		return state_new(e, "drifted", why);
	}
	if (e->confirm == VT_CONFIRM_CONFIRMED)
		return state_new(e, "confirmed", NULL);
	if (e->confirm == VT_CONFIRM_EXPIRED)
		return state_new(e, "reverted", e->reason); /* could not be undone */
	return NULL;
}

GPtrArray *
vt_applier_change_states(VtApplier *ap, guint max)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vt_change_state_free);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *entries = ap->journal ? vt_journal_entries(ap->journal) : NULL;

	for (guint i = entries ? entries->len : 0; i > 0 && out->len < max; i--) {
		const VtJournalEntry *e = entries->pdata[i - 1];
		g_autoptr(VtAction) a = NULL;
		char *key;
		VtChangeState *s = NULL;

		if (e->kind != VT_JOURNAL_APPLY || e->state == VT_JOURNAL_FAILED ||
		    e->state == VT_JOURNAL_PREPARED || (a = vt_apply_entry_action(e)) == NULL ||
		    (key = setting_key(a)) == NULL)
			continue;
		if (g_hash_table_contains(seen, key)) {
			g_free(key); /* a later change set the same thing */
			continue;
		}
		g_hash_table_add(seen, key);
		if (e->state == VT_JOURNAL_APPLIED)
			s = applied_state(ap, e, a);
		else if (e->confirm == VT_CONFIRM_EXPIRED)
			s = state_new(e, "reverted", "not confirmed");
		else if (e->confirm != VT_CONFIRM_NONE)
			s = state_new(e, "rolled_back", NULL);
		if (s != NULL)
			g_ptr_array_add(out, s);
	}
	return out;
}
