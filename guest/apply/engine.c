/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The flow of a change: validate, journal the before value durably, change,
 * read back, journal the outcome, answer. A rollback is the same flow back to
 * the before value; at start, entries a crash left half done are reconciled
 * from the live value. What each kind of action checks, reads and writes is
 * in its family's file (nic.c, block.c, sysctl.c).
 */
#include "apply-private.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "kernel/sysattr.h"

#define VT_APPLY_REQUEST_ID_MAX 128u

/* Indexed by the Action oneof case. */
static const VtApplyKind *const kinds[] = {
	[VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS] = &vt_apply_channels,
	[VIRTTUNE__V1__ACTION__KIND_SET_FEATURE] = &vt_apply_feature,
	[VIRTTUNE__V1__ACTION__KIND_SET_RING] = &vt_apply_rings,
	[VIRTTUNE__V1__ACTION__KIND_SET_SCHEDULER] = &vt_apply_scheduler,
	[VIRTTUNE__V1__ACTION__KIND_SET_QUEUE_PARAM] = &vt_apply_queue,
	[VIRTTUNE__V1__ACTION__KIND_SET_SYSCTL] = &vt_apply_sysctl,
};

const VtApplyKind *
vt_apply_kind_of(const VtAction *a)
{
	if (a == NULL || (guint)a->kind_case >= G_N_ELEMENTS(kinds) || kinds[a->kind_case] == NULL)
		return NULL;
	/* a oneof case with a NULL submessage comes only from a broken sender */
	if (a->set_channels == NULL)
		return NULL;
	return kinds[a->kind_case];
}

VtAction *
vt_apply_entry_action(const VtJournalEntry *e)
{
	return (VtAction *)vt_json_message_from_string(&virttune__v1__action__descriptor,
						       e->action_json, -1, NULL);
}

static gboolean
request_id_ok(const char *id)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > VT_APPLY_REQUEST_ID_MAX)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++)
		if (!g_ascii_isgraph(*p))
			return FALSE;
	return TRUE;
}

static void
stage(VtApplier *ap, VtApplyStage s)
{
	if (ap->hook != NULL)
		ap->hook(s, ap->hook_user);
}

/* ---------------------------------------------------------------- steps */

/* Records @e's end state; a failure to do so is for the caller to answer. */
static gboolean
finish(VtApplier *ap, VtJournalEntry *e, VtJournalState state, const char *reason, int errnum,
       GError **error)
{
	e->state = state;
	g_free(e->reason);
	e->reason = g_strdup(reason);
	e->errnum = errnum;
	return vt_journal_commit(ap->journal, e, error);
}

/*
 * finish() where a failure has already decided the answer. When even this
 * cannot be written, the entry stays PREPARED on disk and the next start
 * reconciles it from the live value, which is what the answer says too.
 */
static void
finish_failure(VtApplier *ap, VtJournalEntry *e, VtJournalState state, const char *reason,
	       int errnum)
{
	g_autoptr(GError) error = NULL;

	if (!finish(ap, e, state, reason, errnum, &error))
		g_debug("change %s: %s; left to the next start", e->change_id, error->message);
}

/* A new entry for @request_id; NULL with the answer in *@answer when the
 * journal has no room. */
static VtJournalEntry *
new_entry(VtApplier *ap, VtJournalKind kind, const char *request_id, const char *command,
	  VtApplyResult **answer)
{
	g_autoptr(GError) error = NULL;
	VtJournalEntry *e = vt_journal_new_entry(ap->journal, kind, &error);

	if (e == NULL) {
		*answer = vt_apply_result_journal(request_id, error);
		return NULL;
	}
	e->request_id = g_strdup(request_id);
	e->command = g_strdup(command);
	return e;
}

/* Writes @fresh, a new entry holding the before value, and hands it to the
 * journal; NULL with the answer in *@answer when it cannot be written. */
static VtJournalEntry *
journal_before(VtApplier *ap, VtJournalEntry *fresh, VtApplyResult **answer)
{
	g_autoptr(VtJournalEntry) e = fresh;
	g_autoptr(GError) error = NULL;

	e->state = VT_JOURNAL_PREPARED;
	if (!vt_journal_commit(ap->journal, e, &error)) {
		*answer = vt_apply_result_journal(e->request_id, error);
		return NULL;
	}
	stage(ap, VT_APPLY_STAGE_JOURNALED);
	return g_steal_pointer(&e);
}

/*
 * Writes e->target and reads the value back into e->after. Returns the
 * write's result (e->after is then the before value). @readable: whether the
 * read back worked (e->after is "?" when not).
 */
static int
change(VtApplier *ap, const VtApplyKind *kind, const VtAction *a, VtJournalEntry *e,
       gboolean *readable)
{
	g_autofree char *after = NULL;
	int err = kind->write(ap, a, e->target);

	*readable = FALSE;
	if (err < 0) {
		e->after = g_strdup(e->before);
		return err;
	}
	stage(ap, VT_APPLY_STAGE_CHANGED);
	*readable = kind->read(ap, a, &after) == 0;
	e->after = *readable ? g_steal_pointer(&after) : g_strdup("?");
	return 0;
}

static VtApplyResult *
answer(const VtJournalEntry *e, int status, const char *reason, int errnum, const char *after,
       const char *change_id, char **command)
{
	return vt_apply_result_set(vt_apply_result_new(e->request_id, status, reason, errnum),
				   e->before, after, change_id, g_steal_pointer(command));
}

/* ---------------------------------------------------------------- apply */

/* An earlier request with the same id: the same action is answered from the
 * journal, another one refused. NULL when the id is new. */
static VtApplyResult *
answer_known(VtApplier *ap, const VtApplyRequest *req, const char *action_json)
{
	VtJournalEntry *prev;

	if (ap->journal == NULL ||
	    !(prev = vt_journal_find_request(ap->journal, VT_JOURNAL_APPLY, req->request_id)))
		return NULL;
	if (strcmp(prev->action_json, action_json) != 0)
		return vt_apply_result_new(req->request_id, ST_INVALID, "request_id_reused", 0);
	return vt_apply_result_from_entry(prev, req->request_id);
}

/* The policy, the kind's own check and, for persist, that a drop-in can hold
 * the value. NULL when the change may go ahead. */
static VtApplyResult *
validate(VtApplier *ap, const VtApplyKind *kind, const VtApplyRequest *req, VtApplyCheck *c)
{
	gboolean persist = req->has_persist && req->persist;
	g_autoptr(GPtrArray) probe = NULL;

	if (!(ap->policy->classes & kind->klass))
		return vt_apply_result_new(req->request_id, ST_REFUSED, "policy", 0);
	if (persist && !ap->policy->persist)
		return vt_apply_result_new(req->request_id, ST_REFUSED, "persist_not_allowed", 0);
	if (!kind->check(ap, req->action, c))
		return vt_apply_result_new(req->request_id, c->status, c->reason, c->errnum);
	if (!persist)
		return NULL;
	probe = g_ptr_array_new_with_free_func((GDestroyNotify)vt_dropin_setting_free);
	if (!kind->persist(ap, req->action, c->target, probe))
		return vt_apply_result_new(req->request_id, ST_INVALID, "persist_unsupported", 0);
	return NULL;
}

/*
 * The drop-in could not be written, and the change must not outlive a reboot
 * half-way: it is undone. When even that fails it stays in force, no longer
 * persistent and open to a rollback, and the answer gives its live value.
 */
static VtApplyResult *
persist_failed(VtApplier *ap, const VtApplyKind *kind, const VtAction *a, VtJournalEntry *e,
	       char **command)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *live = NULL;
	int err = kind->write(ap, a, e->before);

	if (err == 0) {
		g_free(e->after);
		e->after = g_strdup(e->before);
		finish_failure(ap, e, VT_JOURNAL_FAILED, "persist", 0);
	} else {
		if (kind->read(ap, a, &live) == 0) {
			g_free(e->after);
			e->after = g_steal_pointer(&live);
		}
		e->persist = FALSE; /* no drop-in holds it */
		finish_failure(ap, e, VT_JOURNAL_APPLIED, "persist", -err);
	}
	/* a file the failed rebuild did write may hold the change: written again */
	if (!vt_applier_rebuild_dropins(ap, &error))
		g_debug("change %s: drop-ins: %s", e->change_id, error->message);
	return answer(e, ST_FAILED, "persist", EIO, e->after, e->change_id, command);
}

static VtApplyResult *
apply_change(VtApplier *ap, const VtApplyKind *kind, const VtAction *a, VtJournalEntry *e,
	     char **command)
{
	g_autoptr(GError) error = NULL;
	gboolean readable;
	int err = change(ap, kind, a, e, &readable);

	if (err < 0) {
		finish_failure(ap, e, VT_JOURNAL_FAILED, "kernel", -err);
		return answer(e, ST_FAILED, "kernel", -err, NULL, e->change_id, command);
	}
	if (!readable || strcmp(e->after, e->target) != 0) {
		/* Taken in part or not at all. Still a change if anything moved. */
		finish_failure(ap, e,
			       readable && strcmp(e->after, e->before) != 0 ? VT_JOURNAL_APPLIED
									    : VT_JOURNAL_FAILED,
			       "not_taken", 0);
		return answer(e, ST_FAILED, "not_taken", 0, e->after, e->change_id, command);
	}
	e->state = VT_JOURNAL_APPLIED; /* what the drop-ins are built from */
	if (e->persist && e->confirm != VT_CONFIRM_AWAITING &&
	    !vt_applier_rebuild_dropins(ap, &error))
		return persist_failed(ap, kind, a, e, command);
	if (!finish(ap, e, VT_JOURNAL_APPLIED, NULL, 0, &error))
		return vt_apply_result_journal(e->request_id, error);
	return answer(e, ST_APPLIED, "", 0, e->after, e->change_id, command);
}

VtApplyResult *
vt_applier_apply(VtApplier *ap, const VtApplyRequest *req)
{
	const VtApplyKind *kind = vt_apply_kind_of(req->action);
	g_auto(VtApplyCheck) c = {0};
	g_autofree char *action_json = NULL;
	g_autofree char *command = NULL;
	VtApplyResult *refusal = NULL;
	VtJournalEntry *e;

	if (request_id_ok(req->request_id) && kind != NULL &&
	    (!req->has_confirm_within_s ||
	     (req->confirm_within_s > 0 && req->confirm_within_s <= VT_CONFIRM_WITHIN_MAX_S)))
		action_json = vt_json_message_to_string(&req->action->base, FALSE, NULL);
	if (action_json == NULL)
		return vt_apply_result_new(req->request_id, ST_INVALID, "bad_request", 0);
	if ((refusal = answer_known(ap, req, action_json)) != NULL ||
	    (refusal = validate(ap, kind, req, &c)) != NULL)
		return refusal;
	command = kind->command(req->action, c.target);
	if (req->has_dry_run && req->dry_run)
		return vt_apply_result_set(
			vt_apply_result_new(req->request_id, ST_VALIDATED, "", 0), c.before,
			c.target, NULL, g_steal_pointer(&command));
	if (ap->journal == NULL)
		return vt_apply_result_new(req->request_id, ST_FAILED, "journal", EIO);

	if ((e = new_entry(ap, VT_JOURNAL_APPLY, req->request_id, command, &refusal)) == NULL)
		return refusal;
	e->action_json = g_steal_pointer(&action_json);
	e->persist = req->has_persist && req->persist;
	e->before = g_steal_pointer(&c.before);
	e->target = g_steal_pointer(&c.target);
	if (req->has_confirm_within_s)
		vt_apply_confirm_arm(e, req->confirm_within_s);
	if ((e = journal_before(ap, e, &refusal)) == NULL)
		return refusal;
	return vt_apply_confirm_answer(e, apply_change(ap, kind, req->action, e, &command));
}

/* ---------------------------------------------------------------- rollback */

/* Why @req cannot go ahead, or NULL with the change it undoes in *@orig. */
static VtApplyResult *
rollback_refusal(VtApplier *ap, const VtRollbackRequest *req, VtJournalEntry **orig)
{
	VtJournalEntry *prev;

	if (!request_id_ok(req->request_id) || req->change_id == NULL)
		return vt_apply_result_new(req->request_id, ST_INVALID, "bad_request", 0);
	if (ap->journal == NULL)
		return vt_apply_result_new(req->request_id, ST_FAILED, "journal", EIO);
	prev = vt_journal_find_request(ap->journal, VT_JOURNAL_ROLLBACK, req->request_id);
	if (prev != NULL) {
		if (g_strcmp0(prev->rollback_of, req->change_id) != 0)
			return vt_apply_result_new(req->request_id, ST_INVALID, "request_id_reused",
						   0);
		return vt_apply_result_from_entry(prev, req->request_id);
	}
	*orig = vt_journal_find_change(ap->journal, req->change_id);
	if (*orig == NULL || (*orig)->kind != VT_JOURNAL_APPLY)
		return vt_apply_result_new(req->request_id, ST_INVALID, "unknown_change", 0);
	if ((*orig)->state == VT_JOURNAL_ROLLED_BACK)
		return vt_apply_result_new(req->request_id, ST_INVALID, "already_rolled_back", 0);
	if ((*orig)->state != VT_JOURNAL_APPLIED)
		return vt_apply_result_new(req->request_id, ST_INVALID, "not_applied", 0);
	return NULL;
}

/* @orig: the change undone, NULL if the new entry's room was made at its
 * expense (it was the oldest, not persistent). */
static VtApplyResult *
rollback_change(VtApplier *ap, const VtApplyKind *kind, const VtAction *a, VtJournalEntry *orig,
		VtJournalEntry *e, char **command)
{
	g_autoptr(GError) error = NULL;
	gboolean readable;
	int err = change(ap, kind, a, e, &readable);

	if (err < 0) {
		finish_failure(ap, e, VT_JOURNAL_FAILED, "kernel", -err);
		return answer(e, ST_FAILED, "kernel", -err, NULL, e->rollback_of, command);
	}
	if (!readable || strcmp(e->after, e->target) != 0) {
		finish_failure(ap, e, VT_JOURNAL_FAILED, "not_taken", 0);
		return answer(e, ST_FAILED, "not_taken", 0, e->after, e->rollback_of, command);
	}
	if (orig != NULL) {
		orig->state = VT_JOURNAL_ROLLED_BACK;
		if (!vt_journal_commit(ap->journal, orig, &error))
			return vt_apply_result_journal(e->request_id, error);
	}
	if (!finish(ap, e, VT_JOURNAL_APPLIED, NULL, 0, &error))
		return vt_apply_result_journal(e->request_id, error);
	if (e->persist && !vt_applier_rebuild_dropins(ap, &error))
		return answer(e, ST_FAILED, "persist", EIO, e->after, e->rollback_of, command);
	return answer(e, ST_ROLLED_BACK, "", 0, e->after, e->rollback_of, command);
}

static gboolean
rollback_allowed(const VtPolicy *policy, const VtApplyKind *kind, const VtAction *a)
{
	return (policy->classes & kind->klass) &&
	       (kind->klass != VT_POLICY_SYSCTL ||
		vt_policy_allows(policy, VT_POLICY_SYSCTL, a->set_sysctl->key));
}

VtApplyResult *
vt_apply_undo(VtApplier *ap, VtJournalEntry *orig, const char *request_id, gboolean by_policy)
{
	g_autoptr(VtAction) a = vt_apply_entry_action(orig);
	const VtApplyKind *kind = vt_apply_kind_of(a);
	g_autofree char *live = NULL;
	g_autofree char *command = NULL;
	g_autofree char *target = NULL;
	g_autofree char *a_json = NULL;
	g_autofree char *change_id = g_strdup(orig->change_id);
	gboolean persist;
	VtJournalEntry *e;
	VtApplyResult *refusal;
	int err;

	if (kind == NULL)
		return vt_apply_result_new(request_id, ST_INVALID, "unknown_change", 0);
	if (by_policy && !rollback_allowed(ap->policy, kind, a))
		return vt_apply_result_new(request_id, ST_REFUSED, "policy", 0);
	if ((err = kind->read(ap, a, &live)) < 0) {
		g_auto(VtApplyCheck) c = {0};

		vt_apply_read_verdict(&c, err);
		return vt_apply_result_new(request_id, c.status, c.reason, c.errnum);
	}
	command = kind->command(a, orig->before);
	if (strcmp(live, orig->after) != 0)
		return vt_apply_result_set(
			vt_apply_result_new(request_id, ST_INVALID, "conflict", 0), live,
			orig->before, orig->change_id, g_steal_pointer(&command));
	/* room for the new entry may be made at orig's expense: taken first */
	target = g_strdup(orig->before);
	a_json = g_strdup(orig->action_json);
	persist = orig->persist;
	if ((e = new_entry(ap, VT_JOURNAL_ROLLBACK, request_id, command, &refusal)) == NULL)
		return refusal;
	e->rollback_of = g_strdup(change_id);
	e->action_json = g_steal_pointer(&a_json);
	e->persist = persist;
	e->before = g_steal_pointer(&live);
	e->target = g_steal_pointer(&target);
	if ((e = journal_before(ap, e, &refusal)) == NULL)
		return refusal;
	orig = vt_journal_find_change(ap->journal, change_id);
	return rollback_change(ap, kind, a, orig, e, &command);
}

VtApplyResult *
vt_applier_rollback(VtApplier *ap, const VtRollbackRequest *req)
{
	VtJournalEntry *orig = NULL;
	VtApplyResult *refusal;

	if ((refusal = rollback_refusal(ap, req, &orig)) != NULL)
		return refusal;
	return vt_apply_undo(ap, orig, req->request_id, TRUE);
}

/* ---------------------------------------------------------------- start */

/* A rollback found done at start: the change it undid is marked so. */
static void
mark_rolled_back(VtApplier *ap, const char *change_id, GPtrArray *warnings)
{
	g_autoptr(GError) error = NULL;
	VtJournalEntry *orig = vt_journal_find_change(ap->journal, change_id);

	if (orig == NULL)
		return;
	orig->state = VT_JOURNAL_ROLLED_BACK;
	if (!vt_journal_commit(ap->journal, orig, &error))
		vt_journal_warn(warnings, "cannot record that change %s was rolled back: %s",
				change_id, error->message);
}

/* An entry a crash left PREPARED: find out from the live value what
 * happened. Returns TRUE when a persistent change's state moved. */
static gboolean
reconcile(VtApplier *ap, VtJournalEntry *e, GPtrArray *warnings)
{
	g_autoptr(VtAction) a = vt_apply_entry_action(e);
	const VtApplyKind *kind = vt_apply_kind_of(a);
	g_autoptr(GError) error = NULL;
	g_autofree char *live = NULL;
	VtJournalState state;
	const char *reason;

	if (kind == NULL || kind->read(ap, a, &live) < 0) {
		state = VT_JOURNAL_FAILED;
		reason = "unverifiable";
	} else if (strcmp(live, e->target) == 0 || strcmp(live, e->before) != 0) {
		state = VT_JOURNAL_APPLIED;
		reason = "reconciled";
	} else {
		state = VT_JOURNAL_FAILED;
		reason = "interrupted";
	}
	g_free(e->after);
	e->after = g_strdup(live != NULL ? live : e->before);
	if (e->kind == VT_JOURNAL_ROLLBACK && state == VT_JOURNAL_APPLIED)
		mark_rolled_back(ap, e->rollback_of, warnings);
	if (!finish(ap, e, state, reason, 0, &error))
		vt_journal_warn(warnings, "cannot record the outcome of change %s: %s",
				e->change_id, error->message);
	vt_journal_warn(warnings,
			"change %s (request %s) was interrupted; the live value is %s: marked %s",
			e->change_id, e->request_id, live != NULL ? live : "unreadable",
			vt_journal_state_name(state));
	return e->persist;
}

VtApplier *
vt_applier_new(const char *sysroot, const char *state_dir, const VtEthtoolOps *ops,
	       GPtrArray *warnings)
{
	VtApplier *ap = g_new0(VtApplier, 1);
	g_autoptr(GError) error = NULL;
	gboolean dropins = FALSE;
	GPtrArray *entries;

	ap->sysroot = g_strdup(sysroot != NULL ? sysroot : "/");
	ap->root_fd = vt_sysroot_open(ap->sysroot);
	ap->ops = ops;
	ap->policy = vt_policy_new();
	ap->journal = vt_journal_open(state_dir, warnings, &error);
	if (ap->journal == NULL) {
		vt_journal_warn(warnings, "apply journal unusable, every change will fail: %s",
				error->message);
		return ap;
	}
	entries = vt_journal_entries(ap->journal);
	for (guint i = 0; i < entries->len; i++) {
		VtJournalEntry *e = entries->pdata[i];
		if (e->state == VT_JOURNAL_PREPARED)
			dropins |= reconcile(ap, e, warnings);
	}
	if (dropins && !vt_applier_rebuild_dropins(ap, &error))
		vt_journal_warn(warnings, "cannot rewrite the drop-ins: %s", error->message);
	vt_applier_expire(ap, warnings); /* what came due while the agent was not running */
	return ap;
}

void
vt_applier_free(VtApplier *ap)
{
	if (ap == NULL)
		return;
	vt_journal_free(ap->journal);
	vt_policy_free(ap->policy);
	vt_fd_close(ap->root_fd);
	g_free(ap->sysroot);
	g_free(ap);
}

void
vt_applier_set_policy(VtApplier *ap, const VtPolicy *policy)
{
	vt_policy_free(ap->policy);
	ap->policy = policy != NULL ? vt_policy_copy(policy) : vt_policy_new();
}

void
vt_applier_set_hook(VtApplier *ap, VtApplyHook hook, gpointer user)
{
	ap->hook = hook;
	ap->hook_user = user;
}
