/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "changes.h"

#include "builder.h"
#include "error.h"
#include "json.h"
#include "text.h"
#include "views.h"

#define REFRESH_TIMEOUT_S 10
/* An apply is resent (same request id: the agent answers a retransmit from
 * its journal) until it is answered or given up. */
#define APPLY_RESEND_S  3
#define APPLY_TIMEOUT_S 15
/* With --confirm-if-better the daemon confirms this long before the agent's
 * deadline (the confirmation needs a round trip). */
#define CONFIRM_MARGIN_MS 3000

struct VtChanges {
	VtStore *store;
	GHashTable *guests;  /* uuid -> VtGuest, the daemon's */
	GHashTable *waiters; /* uuid -> GPtrArray of Waiter: `refresh` requests */
	GHashTable *pending; /* request_id -> Pending: apply/rollback in flight */
	GPtrArray *watches;  /* Watch: changes to confirm if not regressed */
	gint64 effect_window_ms;
};

/* A change applied with --confirm-if-better, until its deadline. */
typedef struct {
	VtChanges *changes;
	char *uuid;
	char *change_id;
	char *recommendation_id;
	gint64 applied_ms;
	guint timer;
} Watch;

typedef struct {
	VtChanges *changes;
	char *uuid;
	VtControlRequest *request;
	guint timeout;
} Waiter;

typedef struct {
	VtChanges *changes;
	char *uuid;
	char *request_id;
	char *recommendation_id;
	char *operation; /* apply, dry-run, rollback */
	gint64 audit_id;
	VtEnvelope *envelope; /* what to (re)send: ApplyRequest or RollbackRequest */
	VtControlRequest *request;
	guint resend_timer;
	guint timeout_timer;
	VtApplyResult *result;      /* once answered */
	gboolean awaiting_report;   /* applied: wait for the report that shows it */
	gboolean confirm_if_better; /* applied with a window: confirm if not regressed */
	char *note;                 /* the audit trail's reason unless the agent gives one */
} Pending;

/* ------------------------------------------------------------ refresh waiters */

static void
waiter_free(Waiter *w)
{
	if (w->timeout)
		g_source_remove(w->timeout);
	if (w->request != NULL)
		vt_control_request_error(w->request, "gone", "the domain stopped");
	g_free(w->uuid);
	g_free(w);
}

static gboolean
waiter_timeout(gpointer user_data)
{
	Waiter *w = user_data;
	GPtrArray *list = g_hash_table_lookup(w->changes->waiters, w->uuid);

	w->timeout = 0;
	vt_control_request_error(w->request, "timeout",
				 "no report from the agent within %d s; see `virt-tune list` for "
				 "its state",
				 REFRESH_TIMEOUT_S);
	w->request = NULL;
	if (list != NULL)
		g_ptr_array_remove(list, w);
	return G_SOURCE_REMOVE;
}

void
vt_changes_wait_report(VtChanges *c, const VtGuest *g, VtControlRequest *request)
{
	GPtrArray *list = g_hash_table_lookup(c->waiters, g->uuid);
	Waiter *w = g_new0(Waiter, 1);

	if (list == NULL) {
		list = g_ptr_array_new_with_free_func((GDestroyNotify)waiter_free);
		g_hash_table_insert(c->waiters, g_strdup(g->uuid), list);
	}
	w->changes = c;
	w->uuid = g_strdup(g->uuid);
	w->request = request;
	w->timeout = g_timeout_add_seconds(REFRESH_TIMEOUT_S, waiter_timeout, w);
	g_ptr_array_add(list, w);
}

static void
resolve_waiters(VtChanges *c, const VtGuest *g)
{
	GPtrArray *list = g_hash_table_lookup(c->waiters, g->uuid);

	while (list != NULL && list->len > 0) {
		Waiter *w = g_ptr_array_steal_index(list, 0);
		vt_control_request_reply(w->request, vt_view_show(g, vt_now_ms()));
		w->request = NULL;
		waiter_free(w);
	}
}

/* ------------------------------------------------------------ apply, rollback */

static void
pending_free(Pending *p)
{
	if (p->resend_timer)
		g_source_remove(p->resend_timer);
	if (p->timeout_timer)
		g_source_remove(p->timeout_timer);
	if (p->request != NULL)
		vt_control_request_error(p->request, "gone", "the domain stopped");
	vt_envelope_free(p->envelope);
	if (p->result)
		vt_message_free(&p->result->base);
	g_free(p->uuid);
	g_free(p->request_id);
	g_free(p->recommendation_id);
	g_free(p->operation);
	g_free(p->note);
	g_free(p);
}

static Pending *
pending_new(VtChanges *c, const VtGuest *g, const char *operation)
{
	Pending *p = g_new0(Pending, 1);

	p->changes = c;
	p->uuid = g_strdup(g->uuid);
	p->request_id = g_uuid_string_random();
	p->operation = g_strdup(operation);
	p->envelope = g_new0(VtEnvelope, 1);
	virttune__v1__envelope__init(p->envelope);
	return p;
}

/* The agent's command for humans, shown only when a shell reads it as the
 * words it shows: the guest chose the names in it. */
static const char *
shown_command(const char *command)
{
	if (command == NULL || vt_shell_command_is_plain(command))
		return command;
	return "(not shown: the agent's command has characters a shell would interpret)";
}

static JsonNode *
pending_reply(Pending *p, const VtGuest *g)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	const VtApplyResult *r = p->result;

	json_builder_begin_object(b);
	vt_view_add_str(b, "domain", g ? g->name : p->uuid);
	vt_view_add_str(b, "operation", p->operation);
	vt_view_add_str(b, "recommendation", p->recommendation_id);
	vt_view_add_str(b, "request_id", p->request_id);
	vt_view_add_str(b, "status", vt_apply_result_status_name(r->status));
	vt_view_add_str(b, "reason", r->reason);
	vt_view_add_str(b, "before", r->before);
	vt_view_add_str(b, "after", r->after);
	vt_view_add_str(b, "change_id", r->change_id);
	vt_view_add_str(b, "command", shown_command(r->command));
	vt_view_add_int(b, "errnum", r->has_errnum, r->errnum);
	if (r->has_confirm_deadline_ms)
		vt_view_add_time(b, "confirm_deadline", (gint64)r->confirm_deadline_ms);
	/* the report that came after the change: is the advice gone? */
	if (p->awaiting_report && g != NULL)
		vt_view_add_bool(b, "recommendation_gone", TRUE,
				 p->recommendation_id != NULL &&
					 vt_guest_find_recommendation(g, p->recommendation_id) ==
						 NULL);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

static void
finish_pending(VtChanges *c, Pending *p)
{
	VtGuest *g = g_hash_table_lookup(c->guests, p->uuid);
	VtControlRequest *req = g_steal_pointer(&p->request);

	if (req != NULL)
		vt_control_request_reply(req, pending_reply(p, g));
	g_hash_table_remove(c->pending, p->request_id);
}

static gboolean
pending_timeout(gpointer user_data)
{
	Pending *p = user_data;
	VtChanges *c = p->changes;
	g_autoptr(GError) error = NULL;
	VtStoreAudit outcome = {0};

	p->timeout_timer = 0;
	if (p->result != NULL) {
		/* answered, but no report followed in time: reply without it */
		p->awaiting_report = FALSE;
		finish_pending(c, p);
		return G_SOURCE_REMOVE;
	}
	outcome.status = (char *)"timeout";
	outcome.reason = (char *)"no answer from the agent";
	if (!vt_store_audit_finish(c->store, p->audit_id, vt_now_ms(), &outcome, &error))
		g_warning("audit: %s", error->message);
	if (p->request != NULL)
		vt_control_request_error(
			g_steal_pointer(&p->request), "timeout",
			"the agent did not answer within %d s; `virt-tune changes` "
			"will show the outcome if it comes later",
			APPLY_TIMEOUT_S);
	g_hash_table_remove(c->pending, p->request_id);
	return G_SOURCE_REMOVE;
}

static gboolean
send_pending(Pending *p, GError **error)
{
	VtGuest *g = g_hash_table_lookup(p->changes->guests, p->uuid);

	if (g == NULL || g->session == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "the domain has no agent");
		return FALSE;
	}
	if (p->envelope->body_case == VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST)
		return vt_session_send_apply(g->session, p->envelope->apply_request, error);
	if (p->envelope->body_case == VIRTTUNE__V1__ENVELOPE__BODY_CONFIRM_REQUEST)
		return vt_session_send_confirm(g->session, p->envelope->confirm_request, error);
	return vt_session_send_rollback(g->session, p->envelope->rollback_request, error);
}

static gboolean
pending_resend(gpointer user_data)
{
	Pending *p = user_data;

	if (p->result == NULL)
		send_pending(p, NULL); /* not connected now: the next try may be */
	return G_SOURCE_CONTINUE;
}

/* Record @p in the audit trail, send it, and wait for its answer; or answer
 * @req with why not. */
static void
start_pending(VtChanges *c, const VtGuest *g, VtControlRequest *req, Pending *p,
	      const char *action_json)
{
	g_autoptr(GError) error = NULL;
	VtStoreAudit entry = {0};

	entry.time_ms = vt_now_ms();
	entry.domain_uuid = g->uuid;
	entry.peer_uid = req != NULL ? (guint32)vt_control_request_get_uid(req) : 0;
	entry.request_id = p->request_id;
	entry.recommendation_id = p->recommendation_id;
	entry.operation = p->operation;
	entry.action_json = (char *)action_json;
	entry.reason = p->note;
	if (p->envelope->body_case == VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST)
		entry.change_id = p->envelope->rollback_request->change_id;
	if (p->envelope->body_case == VIRTTUNE__V1__ENVELOPE__BODY_CONFIRM_REQUEST)
		entry.change_id = p->envelope->confirm_request->change_id;
	/* The audit trail first: a request that is not recorded is not sent. */
	if (!vt_store_audit_record(c->store, &entry, &p->audit_id, &error)) {
		if (req != NULL)
			vt_control_request_error(req, "store", "audit trail: %s", error->message);
		pending_free(p);
		return;
	}
	if (!send_pending(p, &error)) {
		VtStoreAudit outcome = {.status = (char *)"not_sent", .reason = error->message};
		vt_store_audit_finish(c->store, p->audit_id, vt_now_ms(), &outcome, NULL);
		if (req != NULL)
			vt_control_request_error(req, "no_agent", "%s: %s", g->name,
						 error->message);
		pending_free(p);
		return;
	}
	p->request = req;
	p->resend_timer = g_timeout_add_seconds(APPLY_RESEND_S, pending_resend, p);
	p->timeout_timer = g_timeout_add_seconds(APPLY_TIMEOUT_S, pending_timeout, p);
	g_hash_table_insert(c->pending, p->request_id, p);
}

void
vt_changes_apply(VtChanges *c, const VtGuest *g, VtControlRequest *req, const VtRecommendation *rec,
		 const VtApplyOptions *opt)
{
	g_autoptr(GBytes) packed = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *action_json = vt_json_message_to_string(&rec->action->base, FALSE, NULL);
	Pending *p = pending_new(c, g, opt->dry_run ? "dry-run" : "apply");
	VtApplyRequest *ar = g_new0(VtApplyRequest, 1);

	p->recommendation_id = g_strdup(rec->id);
	virttune__v1__apply_request__init(ar);
	ar->request_id = g_strdup(p->request_id);
	/* a deep copy: the analysis may be replaced while the request waits */
	packed = vt_message_pack(&rec->action->base, FALSE, NULL);
	ar->action = (VtAction *)vt_message_unpack(&virttune__v1__action__descriptor,
						   g_bytes_get_data(packed, NULL),
						   g_bytes_get_size(packed), &error);
	ar->has_dry_run = ar->dry_run = opt->dry_run;
	ar->has_persist = ar->persist = opt->persist;
	if (opt->confirm_within_s > 0) {
		ar->has_confirm_within_s = TRUE;
		ar->confirm_within_s = opt->confirm_within_s;
		p->confirm_if_better = opt->confirm_if_better;
	}
	p->envelope->body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST;
	p->envelope->apply_request = ar;
	if (ar->action == NULL) {
		vt_control_request_error(req, "internal", "copying the action: %s", error->message);
		pending_free(p);
		return;
	}
	start_pending(c, g, req, p, action_json);
}

void
vt_changes_rollback(VtChanges *c, const VtGuest *g, VtControlRequest *req, const char *change_id)
{
	Pending *p = pending_new(c, g, "rollback");
	VtRollbackRequest *rr = g_new0(VtRollbackRequest, 1);

	virttune__v1__rollback_request__init(rr);
	rr->request_id = g_strdup(p->request_id);
	rr->change_id = g_strdup(change_id);
	p->envelope->body_case = VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST;
	p->envelope->rollback_request = rr;
	start_pending(c, g, req, p, NULL);
}

void
vt_changes_confirm(VtChanges *c, const VtGuest *g, VtControlRequest *req, const char *change_id,
		   const char *why)
{
	Pending *p;
	VtConfirmRequest *cr;

	if (!g->can_confirm) {
		if (req != NULL)
			vt_control_request_error(req, "unsupported",
						 "the agent of %s (%s) cannot confirm changes; "
						 "upgrade it",
						 g->name,
						 g->agent_version ? g->agent_version : "?");
		return;
	}
	p = pending_new(c, g, "confirm");
	cr = g_new0(VtConfirmRequest, 1);
	virttune__v1__confirm_request__init(cr);
	cr->request_id = g_strdup(p->request_id);
	cr->change_id = g_strdup(change_id);
	p->envelope->body_case = VIRTTUNE__V1__ENVELOPE__BODY_CONFIRM_REQUEST;
	p->envelope->confirm_request = cr;
	p->note = g_strdup(why);
	{
		g_autoptr(VtStoreAudit) orig =
			vt_store_audit_find_change(c->store, g->uuid, change_id, NULL);
		p->recommendation_id = orig ? g_strdup(orig->recommendation_id) : NULL;
	}
	start_pending(c, g, req, p, NULL);
}

void
vt_changes_on_result(VtChanges *c, VtGuest *g, VtApplyResult *result)
{
	Pending *p =
		result->request_id ? g_hash_table_lookup(c->pending, result->request_id) : NULL;
	const char *status = vt_apply_result_status_name(result->status);
	g_autoptr(GError) error = NULL;
	VtStoreAudit outcome = {0};

	if (p == NULL || g_strcmp0(p->uuid, g->uuid) != 0 || p->result != NULL) {
		vt_guest_log(G_LOG_LEVEL_INFO, g, "an apply result nobody waits for (%s)",
			     result->request_id ? result->request_id : "no request id");
		vt_message_free(&result->base);
		return;
	}
	p->result = result;
	if (p->resend_timer) {
		g_source_remove(p->resend_timer);
		p->resend_timer = 0;
	}
	outcome.status = (char *)status;
	outcome.before = result->before;
	outcome.after = result->after;
	outcome.change_id = result->change_id;
	outcome.reason = result->reason && *result->reason ? result->reason : p->note;
	if (!vt_store_audit_finish(c->store, p->audit_id, vt_now_ms(), &outcome, &error))
		vt_guest_log(G_LOG_LEVEL_WARNING, g, "audit: %s", error->message);
	vt_guest_log(G_LOG_LEVEL_MESSAGE, g, "%s %s: %s%s%s", p->operation,
		     p->recommendation_id ? p->recommendation_id : result->change_id, status,
		     result->reason && *result->reason ? " " : "",
		     result->reason ? result->reason : "");
	/* A change took effect: show the operator the report that proves it. */
	if (result->status == VIRTTUNE__V1__APPLY_RESULT__STATUS__applied &&
	    result->has_confirm_deadline_ms && p->confirm_if_better)
		vt_changes_watch(c, g, p->recommendation_id, result, p->envelope->apply_request);
	if ((result->status == VIRTTUNE__V1__APPLY_RESULT__STATUS__applied ||
	     result->status == VIRTTUNE__V1__APPLY_RESULT__STATUS__confirmed ||
	     result->status == VIRTTUNE__V1__APPLY_RESULT__STATUS__rolled_back) &&
	    vt_session_request_report(g->session, "after-apply", NULL)) {
		p->awaiting_report = TRUE;
		return;
	}
	finish_pending(c, p);
}

static gboolean
awaits_report(gpointer key, gpointer value, gpointer uuid)
{
	const Pending *p = value; /* its result is held for @uuid's next report */

	return p->awaiting_report && p->result != NULL && g_strcmp0(p->uuid, uuid) == 0;
}

gboolean
vt_changes_awaits_report(VtChanges *c, const char *uuid)
{
	GPtrArray *list = g_hash_table_lookup(c->waiters, uuid);

	return (list != NULL && list->len > 0) ||
	       g_hash_table_find(c->pending, awaits_report, (gpointer)uuid) != NULL;
}

void
vt_changes_on_report(VtChanges *c, const VtGuest *g)
{
	GHashTableIter iter;
	gpointer value;
	g_autoptr(GPtrArray) done = g_ptr_array_new();

	resolve_waiters(c, g);
	/* the replies held for a report */
	g_hash_table_iter_init(&iter, c->pending);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (awaits_report(NULL, value, g->uuid))
			g_ptr_array_add(done, value);
	for (guint i = 0; i < done->len; i++)
		finish_pending(c, done->pdata[i]);
}

void
vt_changes_forget(VtChanges *c, const char *uuid)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_remove(c->waiters, uuid);
	g_hash_table_iter_init(&iter, c->pending);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (g_strcmp0(((Pending *)value)->uuid, uuid) == 0)
			g_hash_table_iter_remove(&iter);
}

/* ------------------------------------------------------------ closed loop */

static void
watch_free(Watch *w)
{
	if (w->timer)
		g_source_remove(w->timer);
	g_free(w->uuid);
	g_free(w->change_id);
	g_free(w->recommendation_id);
	g_free(w);
}

/* Records that the daemon let the agent revert @w's change, and why. */
static void
record_skip(VtChanges *c, const Watch *w, const char *why)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *request_id = g_uuid_string_random();
	VtStoreAudit entry = {0};

	entry.time_ms = entry.finished_ms = vt_now_ms();
	entry.domain_uuid = w->uuid;
	entry.request_id = request_id;
	entry.recommendation_id = w->recommendation_id;
	entry.operation = (char *)"confirm";
	entry.status = (char *)"not_confirmed";
	entry.change_id = w->change_id;
	entry.reason = (char *)why;
	if (!vt_store_audit_record(c->store, &entry, NULL, &error))
		g_warning("audit: %s", error->message);
}

static gboolean
watch_due(gpointer user_data)
{
	Watch *w = user_data;
	VtChanges *c = w->changes;
	VtGuest *g = g_hash_table_lookup(c->guests, w->uuid);
	VtStoreAudit row = {0};
	g_autoptr(VtEffect) effect = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *why = NULL;

	w->timer = 0;
	row.time_ms = row.finished_ms = w->applied_ms;
	row.recommendation_id = w->recommendation_id;
	effect =
		vt_change_effect(c->store, w->uuid, &row, c->effect_window_ms, vt_now_ms(), &error);
	why = effect ? vt_effect_describe(effect)
		     : g_strdup_printf("effect unknown: %s", error->message);
	if (g == NULL) {
		record_skip(c, w, "the domain stopped");
	} else if (effect == NULL || effect->verdict == VT_VERDICT_REGRESSED) {
		vt_guest_log(G_LOG_LEVEL_MESSAGE, g,
			     "change %s not confirmed, the agent reverts it: %s", w->change_id,
			     why);
		record_skip(c, w, why);
	} else {
		vt_guest_log(G_LOG_LEVEL_MESSAGE, g, "confirming change %s: %s", w->change_id, why);
		vt_changes_confirm(c, g, NULL, w->change_id, why);
	}
	g_ptr_array_remove(c->watches, w);
	return G_SOURCE_REMOVE;
}

void
vt_changes_watch(VtChanges *c, const VtGuest *g, const char *recommendation_id,
		 const VtApplyResult *result, const VtApplyRequest *request)
{
	Watch *w = g_new0(Watch, 1);
	gint64 within_ms = (gint64)request->confirm_within_s * 1000;

	w->changes = c;
	w->uuid = g_strdup(g->uuid);
	w->change_id = g_strdup(result->change_id);
	w->recommendation_id = g_strdup(recommendation_id);
	w->applied_ms = vt_now_ms();
	w->timer = g_timeout_add((guint)MAX(within_ms - CONFIRM_MARGIN_MS, within_ms / 2),
				 watch_due, w);
	g_ptr_array_add(c->watches, w);
}

void
vt_changes_set_effect_window(VtChanges *c, gint64 window_ms)
{
	c->effect_window_ms = window_ms;
}

gint64
vt_changes_get_effect_window(const VtChanges *c)
{
	return c->effect_window_ms;
}

VtChanges *
vt_changes_new(VtStore *store, GHashTable *guests)
{
	VtChanges *c = g_new0(VtChanges, 1);

	c->store = store;
	c->guests = guests;
	c->waiters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_ptr_array_unref);
	c->pending =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)pending_free);
	c->watches = g_ptr_array_new_with_free_func((GDestroyNotify)watch_free);
	c->effect_window_ms = VT_EFFECT_WINDOW_DEFAULT_MS;
	return c;
}

void
vt_changes_free(VtChanges *c)
{
	if (c == NULL)
		return;
	g_hash_table_destroy(c->pending);
	g_hash_table_destroy(c->waiters);
	g_ptr_array_unref(c->watches);
	g_free(c);
}
