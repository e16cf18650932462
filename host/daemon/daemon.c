/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>

#include "control.h"
#include "error.h"
#include "guest.h"
#include "hypervisor.h"
#include "json.h"
#include "builder.h"
#include "http.h"
#include "prometheus.h"
#include "rules.h"
#include "store.h"
#include "transport.h"
#include "views.h"

#define RETRY_FIRST_S     1
#define RETRY_MAX_S       30
#define CUT_OFF_FIRST_S   30
#define CUT_OFF_MAX_S     600
#define REFRESH_TIMEOUT_S 10
#define STALE_CHECK_S     10
/* A connected agent silent this long is asked for a report; twice this long,
 * the handshake starts over (the guest may have rebooted unseen). */
#define STALE_REPORT_S   30
#define PRUNE_INTERVAL_S 3600
/* An apply is resent (same request id: the agent answers a retransmit from
 * its journal) until it is answered or given up. */
#define APPLY_RESEND_S  3
#define APPLY_TIMEOUT_S 15

struct VtDaemon {
	char *uri;
	char *state_dir;
	char *socket_path;
	char *group;
	guint poll_interval_s;
	guint retention_days;
	guint retention_reports;
	VtChannelMode channel_mode;

	GMainLoop *loop;
	VtHypervisor *hv;
	VtControl *control;
	VtStore *store;
	GHashTable *guests;  /* uuid -> VtGuest */
	GHashTable *waiters; /* uuid -> GPtrArray of Waiter: `refresh` requests */
	GHashTable *pending; /* request_id -> Pending: apply/rollback in flight */
	VtRulesConfig *rules;
	char *rules_path; /* NULL: the built-in defaults */
	VtHttp *http;
	guint stale_timer;
	guint prune_timer;
	int exit_code;
};

typedef struct {
	VtDaemon *daemon;
	char *uuid;
	VtControlRequest *request;
	guint timeout;
} Waiter;

static gint64
now_ms(void)
{
	return g_get_real_time() / 1000;
}

static void log_guest(GLogLevelFlags level, const VtGuest *g, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void
log_guest(GLogLevelFlags level, const VtGuest *g, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_log_structured(G_LOG_DOMAIN, level, "DOMAIN", g->name, "DOMAIN_UUID", g->uuid, "MESSAGE",
			 "%s: %s", g->name, msg);
}

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
	GPtrArray *list = g_hash_table_lookup(w->daemon->waiters, w->uuid);

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

static void
add_waiter(VtDaemon *d, const VtGuest *g, VtControlRequest *request)
{
	GPtrArray *list = g_hash_table_lookup(d->waiters, g->uuid);
	Waiter *w = g_new0(Waiter, 1);

	if (list == NULL) {
		list = g_ptr_array_new_with_free_func((GDestroyNotify)waiter_free);
		g_hash_table_insert(d->waiters, g_strdup(g->uuid), list);
	}
	w->daemon = d;
	w->uuid = g_strdup(g->uuid);
	w->request = request;
	w->timeout = g_timeout_add_seconds(REFRESH_TIMEOUT_S, waiter_timeout, w);
	g_ptr_array_add(list, w);
}

static void
resolve_waiters(VtDaemon *d, const VtGuest *g)
{
	GPtrArray *list = g_hash_table_lookup(d->waiters, g->uuid);

	while (list != NULL && list->len > 0) {
		Waiter *w = g_ptr_array_steal_index(list, 0);
		vt_control_request_reply(w->request, vt_view_show(g, now_ms()));
		w->request = NULL;
		waiter_free(w);
	}
}

/* ------------------------------------------------------------ rules */

static void
run_rules(VtDaemon *d, VtGuest *g, gboolean record)
{
	VtRuleInput in = {0};
	g_autoptr(GError) error = NULL;
	g_autofree VtStoreRecommendation *active = NULL;
	VtAnalysis *analysis;

	if (g->report == NULL)
		return;
	in.report = g->report;
	in.previous = g->prev_report;
	in.facts = g->facts;
	in.stats = g->stats;
	in.rates = &g->rates;
	analysis = vt_rules_run(&in, d->rules);
	vt_analysis_free(g->analysis);
	g->analysis = analysis;
	if (!record || d->store == NULL)
		return;
	active = g_new0(VtStoreRecommendation, MAX(analysis->recommendations->len, 1));
	for (guint i = 0; i < analysis->recommendations->len; i++) {
		const VtRecommendation *r = analysis->recommendations->pdata[i];
		active[i].id = r->id;
		active[i].rule = r->rule;
		active[i].severity = (char *)vt_severity_name(r->severity);
		active[i].summary = r->command;
	}
	if (!vt_store_set_recommendations(d->store, g->uuid, now_ms(), active,
					  analysis->recommendations->len, &error))
		log_guest(G_LOG_LEVEL_WARNING, g, "recommendations not stored: %s", error->message);
}

static const VtRecommendation *
find_recommendation(const VtGuest *g, const char *id)
{
	for (guint i = 0; g->analysis && i < g->analysis->recommendations->len; i++) {
		const VtRecommendation *r = g->analysis->recommendations->pdata[i];
		if (g_strcmp0(r->id, id) == 0)
			return r;
	}
	return NULL;
}

/* ------------------------------------------------------------ apply, rollback */

typedef struct {
	VtDaemon *daemon;
	char *uuid;
	char *request_id;
	char *recommendation_id;
	char *operation; /* apply, dry-run, rollback */
	gint64 audit_id;
	VtEnvelope *envelope; /* what to (re)send: ApplyRequest or RollbackRequest */
	VtControlRequest *request;
	guint resend_timer;
	guint timeout_timer;
	VtApplyResult *result;    /* once answered */
	gboolean awaiting_report; /* applied: wait for the report that shows it */
} Pending;

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
	g_free(p);
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
	vt_view_add_str(b, "command", r->command);
	vt_view_add_int(b, "errnum", r->has_errnum, r->errnum);
	/* the report that came after the change: is the advice gone? */
	if (p->awaiting_report && g != NULL)
		vt_view_add_bool(b, "recommendation_gone", TRUE,
				 p->recommendation_id != NULL &&
					 find_recommendation(g, p->recommendation_id) == NULL);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

static void
finish_pending(VtDaemon *d, Pending *p)
{
	VtGuest *g = g_hash_table_lookup(d->guests, p->uuid);
	VtControlRequest *req = g_steal_pointer(&p->request);

	if (req != NULL)
		vt_control_request_reply(req, pending_reply(p, g));
	g_hash_table_remove(d->pending, p->request_id);
}

static gboolean
pending_timeout(gpointer user_data)
{
	Pending *p = user_data;
	VtDaemon *d = p->daemon;
	g_autoptr(GError) error = NULL;
	VtStoreAudit outcome = {0};

	p->timeout_timer = 0;
	if (p->result != NULL) {
		/* answered, but no report followed in time: reply without it */
		p->awaiting_report = FALSE;
		finish_pending(d, p);
		return G_SOURCE_REMOVE;
	}
	outcome.status = (char *)"timeout";
	outcome.reason = (char *)"no answer from the agent";
	if (!vt_store_audit_finish(d->store, p->audit_id, now_ms(), &outcome, &error))
		g_warning("audit: %s", error->message);
	if (p->request != NULL)
		vt_control_request_error(
			g_steal_pointer(&p->request), "timeout",
			"the agent did not answer within %d s; `virt-tune changes` "
			"will show the outcome if it comes later",
			APPLY_TIMEOUT_S);
	g_hash_table_remove(d->pending, p->request_id);
	return G_SOURCE_REMOVE;
}

static gboolean
send_pending(Pending *p, GError **error)
{
	VtGuest *g = g_hash_table_lookup(p->daemon->guests, p->uuid);

	if (g == NULL || g->session == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "the domain has no agent");
		return FALSE;
	}
	if (p->envelope->body_case == VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST)
		return vt_session_send_apply(g->session, p->envelope->apply_request, error);
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

/* On an ApplyResult from the guest. */
static void
complete_pending(VtDaemon *d, VtGuest *g, VtApplyResult *result)
{
	Pending *p =
		result->request_id ? g_hash_table_lookup(d->pending, result->request_id) : NULL;
	g_autoptr(GError) error = NULL;
	VtStoreAudit outcome = {0};

	if (p == NULL || g_strcmp0(p->uuid, g->uuid) != 0 || p->result != NULL) {
		log_guest(G_LOG_LEVEL_INFO, g, "an apply result nobody waits for (%s)",
			  result->request_id ? result->request_id : "no request id");
		vt_message_free(&result->base);
		return;
	}
	p->result = result;
	if (p->resend_timer) {
		g_source_remove(p->resend_timer);
		p->resend_timer = 0;
	}
	outcome.status = (char *)vt_apply_result_status_name(result->status);
	outcome.before = result->before;
	outcome.after = result->after;
	outcome.change_id = result->change_id;
	outcome.reason = result->reason;
	if (!vt_store_audit_finish(d->store, p->audit_id, now_ms(), &outcome, &error))
		log_guest(G_LOG_LEVEL_WARNING, g, "audit: %s", error->message);
	log_guest(G_LOG_LEVEL_MESSAGE, g, "%s %s: %s%s%s", p->operation,
		  p->recommendation_id ? p->recommendation_id : result->change_id,
		  vt_apply_result_status_name(result->status),
		  result->reason && *result->reason ? " " : "",
		  result->reason ? result->reason : "");
	/* A change took effect: show the operator the report that proves it. */
	if ((result->status == VIRTTUNE__V1__APPLY_RESULT__STATUS__applied ||
	     result->status == VIRTTUNE__V1__APPLY_RESULT__STATUS__rolled_back) &&
	    vt_session_request_report(g->session, "after-apply", NULL)) {
		p->awaiting_report = TRUE;
		return;
	}
	finish_pending(d, p);
}

/* After each report: replies held for it. */
static void
resolve_pending_reports(VtDaemon *d, VtGuest *g)
{
	GHashTableIter iter;
	gpointer value;
	g_autoptr(GPtrArray) done = g_ptr_array_new();

	g_hash_table_iter_init(&iter, d->pending);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Pending *p = value;
		if (p->awaiting_report && p->result != NULL && g_strcmp0(p->uuid, g->uuid) == 0)
			g_ptr_array_add(done, p);
	}
	for (guint i = 0; i < done->len; i++)
		finish_pending(d, done->pdata[i]);
}

static void
start_pending(VtDaemon *d, VtGuest *g, VtControlRequest *req, Pending *p, const char *action_json)
{
	g_autoptr(GError) error = NULL;
	VtStoreAudit entry = {0};

	entry.time_ms = now_ms();
	entry.domain_uuid = g->uuid;
	entry.peer_uid = (guint32)vt_control_request_get_uid(req);
	entry.request_id = p->request_id;
	entry.recommendation_id = p->recommendation_id;
	entry.operation = p->operation;
	entry.action_json = (char *)action_json;
	if (p->envelope->body_case == VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST)
		entry.change_id = p->envelope->rollback_request->change_id;
	/* The audit trail first: a request that is not recorded is not sent. */
	if (!vt_store_audit_record(d->store, &entry, &p->audit_id, &error)) {
		vt_control_request_error(req, "store", "audit trail: %s", error->message);
		pending_free(p);
		return;
	}
	if (!send_pending(p, &error)) {
		VtStoreAudit outcome = {.status = (char *)"not_sent", .reason = error->message};
		vt_store_audit_finish(d->store, p->audit_id, now_ms(), &outcome, NULL);
		vt_control_request_error(req, "no_agent", "%s: %s", g->name, error->message);
		pending_free(p);
		return;
	}
	p->request = req;
	p->resend_timer = g_timeout_add_seconds(APPLY_RESEND_S, pending_resend, p);
	p->timeout_timer = g_timeout_add_seconds(APPLY_TIMEOUT_S, pending_timeout, p);
	g_hash_table_insert(d->pending, p->request_id, p);
}

static Pending *
pending_new(VtDaemon *d, VtGuest *g, const char *operation)
{
	Pending *p = g_new0(Pending, 1);

	p->daemon = d;
	p->uuid = g_strdup(g->uuid);
	p->request_id = g_uuid_string_random();
	p->operation = g_strdup(operation);
	p->envelope = g_new0(VtEnvelope, 1);
	virttune__v1__envelope__init(p->envelope);
	return p;
}

/* ------------------------------------------------------------ agent channel */

static void attach_channel(VtGuest *g);

static gboolean
retry_tick(gpointer user_data)
{
	VtGuest *g = user_data;

	g->retry_timer = 0;
	attach_channel(g);
	return G_SOURCE_REMOVE;
}

static void
schedule_retry(VtGuest *g, guint first_s, guint max_s)
{
	if (g->retry_timer != 0)
		return;
	if (g->retry_delay_s < first_s)
		g->retry_delay_s = first_s;
	g->retry_timer = g_timeout_add_seconds(g->retry_delay_s, retry_tick, g);
	g->retry_delay_s = MIN(g->retry_delay_s * 2, max_s);
}

static void
set_error(VtGuest *g, const char *msg)
{
	if (g_strcmp0(g->last_error, msg) == 0)
		return;
	g_free(g->last_error);
	g->last_error = g_strdup(msg);
	if (msg != NULL)
		log_guest(G_LOG_LEVEL_INFO, g, "%s", msg);
}

static void
on_ready(VtSession *session, const VtHello *hello, gpointer user_data)
{
	VtGuest *g = user_data;

	g_free(g->agent_version);
	g->agent_version = g_strdup(hello->agent_version);
	g->retry_delay_s = 0;
	set_error(g, NULL);
	log_guest(G_LOG_LEVEL_INFO, g, "agent %s connected (boot %s)",
		  hello->agent_version ? hello->agent_version : "?",
		  hello->boot_id ? hello->boot_id : "?");
}

static void
on_report(VtSession *session, VtReport *report, gpointer user_data)
{
	VtGuest *g = user_data;
	VtDaemon *d = g->daemon;
	g_autoptr(GError) error = NULL;
	gint64 at = now_ms();

	vt_guest_set_report(g, report, at);
	if (d->store != NULL &&
	    !vt_store_add_report(d->store, g->uuid, g->name, at, report, NULL, &error))
		log_guest(G_LOG_LEVEL_WARNING, g, "report not stored: %s", error->message);
	run_rules(d, g, TRUE);
	resolve_waiters(d, g);
	resolve_pending_reports(d, g);
}

static void
on_apply_result(VtSession *session, VtApplyResult *result, gpointer user_data)
{
	VtGuest *g = user_data;

	complete_pending(g->daemon, g, result);
}

static void
on_closed(VtSession *session, VtSessionState state, const char *why, gpointer user_data)
{
	VtGuest *g = user_data;

	if (state == VT_SESSION_CUT_OFF) {
		g_autofree char *msg = g_strdup_printf("agent cut off: %s", why);
		set_error(g, msg);
		schedule_retry(g, CUT_OFF_FIRST_S, CUT_OFF_MAX_S);
	} else {
		set_error(g, why);
		schedule_retry(g, RETRY_FIRST_S, RETRY_MAX_S);
	}
}

static const VtSessionCallbacks session_callbacks = {
	.on_ready = on_ready,
	.on_report = on_report,
	.on_apply_result = on_apply_result,
	.on_closed = on_closed,
};

static gboolean
use_stream(VtDaemon *d)
{
	switch (d->channel_mode) {
	case VT_CHANNEL_SOCKET:
		return FALSE;
	case VT_CHANNEL_STREAM:
		return TRUE;
	case VT_CHANNEL_AUTO:
		break;
	}
	return !vt_hypervisor_is_local(d->hv);
}

static void
attach_channel(VtGuest *g)
{
	VtDaemon *d = g->daemon;
	const VtChannelFacts *ch = g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;
	g_autoptr(GError) error = NULL;
	VtTransport *t = NULL;

	if (ch == NULL) {
		g_clear_pointer(&g->session, vt_session_free);
		set_error(g, "no " VT_AGENT_CHANNEL_NAME " channel in the domain XML");
		return;
	}
	if (g->session == NULL)
		g->session = vt_session_new(g->name, &session_callbacks, g);
	if (vt_session_get_state(g->session) == VT_SESSION_READY ||
	    vt_session_get_state(g->session) == VT_SESSION_HANDSHAKE || g->retry_timer != 0)
		return;

	if (use_stream(d)) {
		virConnectPtr conn = vt_hypervisor_get_connection(d->hv);
		virDomainPtr dom = conn ? virDomainLookupByUUIDString(conn, g->uuid) : NULL;
		if (dom == NULL)
			g_set_error(&error, VT_ERROR, VT_ERROR_UNAVAILABLE,
				    "domain lookup failed: %s", virGetLastErrorMessage());
		else
			t = vt_transport_open_channel(dom, VT_AGENT_CHANNEL_NAME, &error);
		if (dom != NULL)
			virDomainFree(dom);
	} else if (ch->source_path == NULL) {
		g_set_error(&error, VT_ERROR, VT_ERROR_NOT_FOUND,
			    "the channel has no socket path in the live XML (type='%s'); use a "
			    "unix channel, or --channel=stream",
			    ch->type ? ch->type : "?");
	} else {
		t = vt_transport_connect_unix(ch->source_path, &error);
	}
	if (t == NULL) {
		g_autofree char *msg =
			g_strdup_printf("cannot open the agent channel: %s", error->message);
		set_error(g, msg);
		schedule_retry(g, RETRY_FIRST_S, RETRY_MAX_S);
		return;
	}
	set_error(g, "waiting for the agent to answer");
	vt_session_attach(g->session, t);
}

/* ------------------------------------------------------------ libvirt */

static void
remove_guest(VtDaemon *d, const char *uuid)
{
	VtGuest *g = g_hash_table_lookup(d->guests, uuid);

	if (g == NULL)
		return;
	log_guest(G_LOG_LEVEL_INFO, g, "no longer running");
	g_hash_table_remove(d->waiters, uuid);
	{
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, d->pending);
		while (g_hash_table_iter_next(&iter, NULL, &value))
			if (g_strcmp0(((Pending *)value)->uuid, uuid) == 0)
				g_hash_table_iter_remove(&iter);
	}
	g_hash_table_remove(d->guests, uuid);
}

static void
on_poll(VtHypervisor *hv, GPtrArray *domains, gpointer user_data)
{
	VtDaemon *d = user_data;
	GHashTableIter iter;
	gpointer value;
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		((VtGuest *)value)->seen = FALSE;

	for (guint i = 0; i < domains->len; i++) {
		VtDomainSnapshot *s = domains->pdata[i];
		VtGuest *g = g_hash_table_lookup(d->guests, s->uuid);
		g_autoptr(GError) error = NULL;
		const VtChannelFacts *ch;
		g_autofree char *old_state = NULL;

		if (g == NULL) {
			g = vt_guest_new(s->uuid, s->name);
			g->daemon = d;
			g_hash_table_insert(d->guests, g->uuid, g);
			if (d->store != NULL &&
			    !vt_store_touch_domain(d->store, s->uuid, s->name, now_ms(), &error)) {
				log_guest(G_LOG_LEVEL_WARNING, g, "store: %s", error->message);
				g_clear_error(&error);
			}
		}
		g->seen = TRUE;
		g->id = s->id;
		if (g_strcmp0(g->name, s->name) != 0) {
			g_free(g->name);
			g->name = g_strdup(s->name);
		}
		ch = g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;
		old_state = g_strdup(ch ? ch->target_state : NULL);
		if (!vt_guest_set_xml(g, s->xml, &error))
			log_guest(G_LOG_LEVEL_WARNING, g, "domain XML not understood: %s",
				  error->message);
		vt_guest_set_stats(g, g_steal_pointer(&s->stats), s->polled_at_us);
		run_rules(d, g, FALSE); /* the host side may have changed */

		ch = g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;
		/* The guest closed and reopened its port (agent restart, reboot):
		 * what we sent may be lost and the agent waits for a Hello. */
		if (g->session != NULL && ch != NULL && old_state != NULL &&
		    g_strcmp0(old_state, ch->target_state) != 0 &&
		    g_strcmp0(ch->target_state, "connected") == 0 &&
		    vt_session_get_state(g->session) == VT_SESSION_READY)
			vt_session_restart_handshake(g->session);
		attach_channel(g);
		if (g->session != NULL && ch != NULL)
			vt_session_set_port_open(g->session,
						 g_strcmp0(ch->target_state, "disconnected") != 0);
	}

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (!((VtGuest *)value)->seen)
			g_ptr_array_add(gone, g_strdup(((VtGuest *)value)->uuid));
	for (guint i = 0; i < gone->len; i++)
		remove_guest(d, gone->pdata[i]);
}

static void
on_connected(VtHypervisor *hv, gpointer user_data)
{
}

static void
on_disconnected(VtHypervisor *hv, const char *why, gpointer user_data)
{
	VtDaemon *d = user_data;
	GHashTableIter iter;
	gpointer value;

	/* Guests keep their channels: QEMU holds the sockets, not libvirtd. A
	 * stream transport belongs to the connection that closed, and libvirt
	 * calls none of its callbacks: close it, so that the first poll on the
	 * new connection opens another (otherwise the session stays "ready" on
	 * a dead stream until the stale-report check gives up on it). */
	if (!use_stream(d))
		return;
	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		if (g->session == NULL || vt_session_get_state(g->session) == VT_SESSION_CUT_OFF ||
		    vt_session_get_state(g->session) == VT_SESSION_DETACHED)
			continue;
		vt_session_detach(g->session);
		set_error(g, "the libvirt connection closed; the channel reopens with it");
	}
}

static void
on_lifecycle(VtHypervisor *hv, const char *uuid, const char *name, int event, gpointer user_data)
{
	VtDaemon *d = user_data;

	if (event == VIR_DOMAIN_EVENT_STOPPED || event == VIR_DOMAIN_EVENT_CRASHED)
		remove_guest(d, uuid);
}

static void
on_reboot(VtHypervisor *hv, const char *uuid, const char *name, gpointer user_data)
{
	VtDaemon *d = user_data;
	VtGuest *g = g_hash_table_lookup(d->guests, uuid);

	/* The agent of the new boot waits for a Hello; keep offering one (with
	 * backoff) until it answers. */
	if (g != NULL && g->session != NULL) {
		log_guest(G_LOG_LEVEL_INFO, g, "rebooted; handshaking with the new boot's agent");
		vt_session_restart_handshake(g->session);
	}
}

static const VtHypervisorCallbacks hypervisor_callbacks = {
	.on_reboot = on_reboot,
	.on_connected = on_connected,
	.on_disconnected = on_disconnected,
	.on_lifecycle = on_lifecycle,
	.on_poll = on_poll,
};

/* ------------------------------------------------------------ timers */

static gboolean
stale_tick(gpointer user_data)
{
	VtDaemon *d = user_data;
	GHashTableIter iter;
	gpointer value;
	gint64 now = now_ms();

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		gint64 age;

		if (g->session == NULL || vt_session_get_state(g->session) != VT_SESSION_READY)
			continue;
		age = g->report != NULL ? (now - g->report_at_ms) / 1000 : G_MAXINT64;
		if (g->report != NULL && age < STALE_REPORT_S)
			continue;
		if (g->report == NULL || age < 2 * STALE_REPORT_S)
			vt_session_request_report(g->session, "stale", NULL);
		else
			vt_session_restart_handshake(g->session);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
prune_tick(gpointer user_data)
{
	VtDaemon *d = user_data;
	g_autoptr(GError) error = NULL;
	guint64 removed = 0;

	if (d->store == NULL)
		return G_SOURCE_CONTINUE;
	if (!vt_store_prune(d->store, now_ms(), (gint64)d->retention_days * 86400 * 1000,
			    d->retention_reports, &removed, &error))
		g_warning("pruning history: %s", error->message);
	else if (removed > 0)
		g_info("pruned %" G_GUINT64_FORMAT " old reports", removed);
	return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ control */

static VtGuest *
find_guest(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) found = NULL;

	if (domain == NULL) {
		vt_control_request_error(req, "bad_request", "this command needs a domain");
		return NULL;
	}
	found = vt_guests_select(d->guests, domain);
	if (found->len == 0) {
		vt_control_request_error(req, "not_found",
					 "no running domain '%s' (see `virt-tune list`)", domain);
		return NULL;
	}
	return found->pdata[0];
}

static void
cmd_status(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, NULL);

	vt_control_request_reply(req,
				 vt_view_status(guests, d->uri, vt_hypervisor_is_connected(d->hv),
						d->store ? vt_store_path(d->store) : ""));
}

static void
cmd_audit(VtDaemon *d, VtControlRequest *req)
{
	const char *kind = vt_control_arg_string(req, "kind");
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, domain);
	gint64 now = now_ms();

	const VtAuditKind *k = vt_audit_kind_find(kind);

	if (domain != NULL && guests->len == 0)
		vt_control_request_error(req, "not_found",
					 "no running domain '%s' (see `virt-tune list`)", domain);
	else if (kind == NULL || g_strcmp0(kind, "all") == 0)
		vt_control_request_reply(req, vt_view_audit_all(guests, now));
	else if (k != NULL)
		vt_control_request_reply(req, k->view(guests, now));
	else
		vt_control_request_error(req, "bad_request",
					 "unknown audit '%s': swap, schedulers, nics or all", kind);
}

/* The UUID of @domain (a name or UUID) as the store knows it, also for
 * stopped domains; NULL (and the request answered) when unknown. */
static char *
stored_uuid(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) domains = NULL;
	g_autoptr(GError) error = NULL;

	if (domain == NULL) {
		vt_control_request_error(req, "bad_request", "%s needs a domain",
					 vt_control_request_get_command(req));
		return NULL;
	}
	domains = vt_store_list_domains(d->store, &error);
	for (guint i = 0; domains != NULL && i < domains->len; i++) {
		VtStoreDomain *sd = domains->pdata[i];
		if (g_strcmp0(sd->name, domain) == 0 || g_strcmp0(sd->uuid, domain) == 0)
			return g_strdup(sd->uuid);
	}
	if (domains == NULL)
		vt_control_request_error(req, "store", "%s", error->message);
	else
		vt_control_request_error(req, "not_found", "no domain '%s' known", domain);
	return NULL;
}

static void
cmd_history(VtDaemon *d, VtControlRequest *req)
{
	gint64 since = vt_control_arg_int(req, "since_ms", 0);
	gint64 limit = vt_control_arg_int(req, "limit", 100);
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *uuid = stored_uuid(d, req);

	if (uuid == NULL)
		return;
	rows = vt_store_history(d->store, uuid, since, 0, (guint)CLAMP(limit, 1, 10000), &error);
	if (rows == NULL) {
		vt_control_request_error(req, "store", "reading history: %s", error->message);
		return;
	}
	vt_control_request_reply(req, vt_view_history(rows));
}

static void
cmd_refresh(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GError) error = NULL;
	VtGuest *g = find_guest(d, req);

	if (g == NULL)
		return;
	if (g->session == NULL) {
		vt_control_request_error(req, "no_agent", "%s has no agent channel", g->name);
		return;
	}
	if (!vt_session_request_report(g->session, "refresh", &error)) {
		vt_control_request_error(req, "no_agent", "%s", error->message);
		return;
	}
	add_waiter(d, g, req);
}

static void
cmd_recommend(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, domain);
	g_autoptr(GError) error = NULL;
	JsonNode *node;

	if (domain != NULL && guests->len == 0) {
		vt_control_request_error(req, "not_found",
					 "no running domain '%s' (see `virt-tune list`)", domain);
		return;
	}
	node = vt_view_recommendations(guests, &error);
	if (node == NULL)
		vt_control_request_error(req, "internal", "%s", error->message);
	else
		vt_control_request_reply(req, node);
}

static gboolean
require_privilege(VtControlRequest *req)
{
	if (vt_control_request_is_privileged(req))
		return TRUE;
	vt_control_request_error(req, "permission",
				 "only root may change a guest (uid %u may only read)",
				 (guint)vt_control_request_get_uid(req));
	return FALSE;
}

static void
cmd_apply(VtDaemon *d, VtControlRequest *req)
{
	const char *id = vt_control_arg_string(req, "recommendation");
	gboolean dry_run = vt_control_arg_bool(req, "dry_run");
	const VtRecommendation *rec;
	g_autoptr(GBytes) packed = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *action_json = NULL;
	VtApplyRequest *ar;
	Pending *p;
	VtGuest *g;

	if (!require_privilege(req) || (g = find_guest(d, req)) == NULL)
		return;
	if (id == NULL) {
		vt_control_request_error(req, "bad_request", "apply needs a recommendation id");
		return;
	}
	rec = find_recommendation(g, id);
	if (rec == NULL) {
		vt_control_request_error(req, "not_found",
					 "%s has no recommendation '%s' now (see `virt-tune "
					 "recommend %s`)",
					 g->name, id, g->name);
		return;
	}
	if (rec->target != VT_TARGET_GUEST || rec->action == NULL) {
		vt_control_request_error(req, "host_change",
					 "%s is a change on the host, not in the guest: %s", id,
					 rec->command ? rec->command : "see its rationale");
		return;
	}
	action_json = vt_json_message_to_string(&rec->action->base, FALSE, NULL);
	p = pending_new(d, g, dry_run ? "dry-run" : "apply");
	p->recommendation_id = g_strdup(id);
	ar = g_new0(VtApplyRequest, 1);
	virttune__v1__apply_request__init(ar);
	ar->request_id = g_strdup(p->request_id);
	/* a deep copy: the analysis may be replaced while the request waits */
	packed = vt_message_pack(&rec->action->base, FALSE, NULL);
	ar->action = (VtAction *)vt_message_unpack(&virttune__v1__action__descriptor,
						   g_bytes_get_data(packed, NULL),
						   g_bytes_get_size(packed), &error);
	ar->has_dry_run = ar->dry_run = dry_run;
	ar->has_persist = ar->persist = vt_control_arg_bool(req, "persist");
	p->envelope->body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST;
	p->envelope->apply_request = ar;
	if (ar->action == NULL) {
		vt_control_request_error(req, "internal", "copying the action: %s", error->message);
		pending_free(p);
		return;
	}
	start_pending(d, g, req, p, action_json);
}

static void
cmd_rollback(VtDaemon *d, VtControlRequest *req)
{
	const char *change_id = vt_control_arg_string(req, "change_id");
	VtRollbackRequest *rr;
	Pending *p;
	VtGuest *g;

	if (!require_privilege(req) || (g = find_guest(d, req)) == NULL)
		return;
	if (change_id == NULL) {
		vt_control_request_error(req, "bad_request",
					 "rollback needs a change id (see `virt-tune changes %s`)",
					 g->name);
		return;
	}
	p = pending_new(d, g, "rollback");
	rr = g_new0(VtRollbackRequest, 1);
	virttune__v1__rollback_request__init(rr);
	rr->request_id = g_strdup(p->request_id);
	rr->change_id = g_strdup(change_id);
	p->envelope->body_case = VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST;
	p->envelope->rollback_request = rr;
	start_pending(d, g, req, p, NULL);
}

static void
cmd_changes(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *uuid = stored_uuid(d, req);

	if (uuid == NULL)
		return;
	rows = vt_store_audit_list(d->store, uuid, 0, 1000, &error);
	if (rows == NULL) {
		vt_control_request_error(req, "store", "%s", error->message);
		return;
	}
	vt_control_request_reply(req, vt_view_changes(rows));
}

static void
on_request(VtControlRequest *req, gpointer user_data)
{
	VtDaemon *d = user_data;
	const char *cmd = vt_control_request_get_command(req);
	g_autoptr(GPtrArray) guests = NULL;

	if (g_strcmp0(cmd, "status") == 0) {
		cmd_status(d, req);
	} else if (g_strcmp0(cmd, "list") == 0) {
		guests = vt_guests_select(d->guests, NULL);
		vt_control_request_reply(req, vt_view_list(guests, now_ms()));
	} else if (g_strcmp0(cmd, "show") == 0) {
		VtGuest *g = find_guest(d, req);
		if (g != NULL)
			vt_control_request_reply(req, vt_view_show(g, now_ms()));
	} else if (g_strcmp0(cmd, "audit") == 0) {
		cmd_audit(d, req);
	} else if (g_strcmp0(cmd, "history") == 0) {
		cmd_history(d, req);
	} else if (g_strcmp0(cmd, "refresh") == 0) {
		cmd_refresh(d, req);
	} else if (g_strcmp0(cmd, "recommend") == 0) {
		cmd_recommend(d, req);
	} else if (g_strcmp0(cmd, "apply") == 0) {
		cmd_apply(d, req);
	} else if (g_strcmp0(cmd, "rollback") == 0) {
		cmd_rollback(d, req);
	} else if (g_strcmp0(cmd, "changes") == 0) {
		cmd_changes(d, req);
	} else {
		vt_control_request_error(req, "unknown_command", "unknown command '%s'", cmd);
	}
}

static GString *
render_metrics(gpointer user_data)
{
	VtDaemon *d = user_data;
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, NULL);

	return vt_prometheus_render(guests, vt_hypervisor_is_connected(d->hv), now_ms());
}

/* ------------------------------------------------------------ lifecycle */

VtDaemon *
vt_daemon_new(const VtDaemonOptions *o, GError **error)
{
	g_autoptr(VtDaemon) d = g_new0(VtDaemon, 1);
	g_autofree char *db = NULL;

	d->uri = g_strdup(o->uri ? o->uri : VT_DAEMON_DEFAULT_URI);
	d->state_dir = g_strdup(o->state_dir ? o->state_dir : VT_DAEMON_DEFAULT_STATE_DIR);
	d->socket_path = g_strdup(o->socket_path ? o->socket_path : VT_CONTROL_DEFAULT_SOCKET);
	d->group = g_strdup(o->group);
	d->poll_interval_s = o->poll_interval_s ? o->poll_interval_s : 10;
	d->retention_days = o->retention_days;
	d->retention_reports = o->retention_reports;
	d->channel_mode = o->channel_mode;
	d->guests =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vt_guest_free);
	d->waiters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_ptr_array_unref);
	d->pending =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)pending_free);
	if (o->rules_config != NULL)
		d->rules_path = g_strdup(o->rules_config);
	else if (g_file_test(VT_DAEMON_DEFAULT_RULES, G_FILE_TEST_EXISTS))
		d->rules_path = g_strdup(VT_DAEMON_DEFAULT_RULES);
	d->rules =
		d->rules_path ? vt_rules_config_load(d->rules_path, error) : vt_rules_config_new();
	if (d->rules == NULL)
		return NULL;

	if (g_mkdir_with_parents(d->state_dir, 0750) < 0) {
		vt_error_set_errno(error, errno, "create the state directory %s", d->state_dir);
		return NULL;
	}
	db = g_build_filename(d->state_dir, VT_STORE_FILE_NAME, NULL);
	d->store = vt_store_open(db, error);
	if (d->store == NULL)
		return NULL;
	d->control = vt_control_new(d->socket_path, d->group, on_request, d, error);
	if (d->control == NULL)
		return NULL;
	d->hv = vt_hypervisor_new(d->uri, d->poll_interval_s, &hypervisor_callbacks, d);
	if (o->metrics_listen != NULL) {
		d->http = vt_http_new(o->metrics_listen, render_metrics, d, error);
		if (d->http == NULL)
			return NULL;
	}
	return g_steal_pointer(&d);
}

void
vt_daemon_free(VtDaemon *d)
{
	if (d == NULL)
		return;
	if (d->stale_timer)
		g_source_remove(d->stale_timer);
	if (d->prune_timer)
		g_source_remove(d->prune_timer);
	vt_http_free(d->http);
	vt_control_free(d->control);
	g_hash_table_destroy(d->pending);
	g_hash_table_destroy(d->waiters);
	g_hash_table_destroy(d->guests);
	vt_hypervisor_free(d->hv);
	vt_store_free(d->store);
	vt_rules_config_free(d->rules);
	g_free(d->rules_path);
	if (d->loop)
		g_main_loop_unref(d->loop);
	g_free(d->uri);
	g_free(d->state_dir);
	g_free(d->socket_path);
	g_free(d->group);
	g_free(d);
}

static gboolean
on_signal(gpointer user_data)
{
	VtDaemon *d = user_data;

	g_info("stopping");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

/* SIGHUP: read the rule thresholds again and re-run the rules; a broken file
 * keeps the rules in force. */
static gboolean
on_sighup(gpointer user_data)
{
	VtDaemon *d = user_data;
	g_autoptr(GError) error = NULL;
	VtRulesConfig *rules;
	GHashTableIter iter;
	gpointer value;

	if (d->rules_path == NULL) {
		g_log_structured(
			G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
			"SIGHUP: no rules file to reload (built-in defaults; give one with "
			"--rules-config)");
		return G_SOURCE_CONTINUE;
	}
	rules = vt_rules_config_load(d->rules_path, &error);
	if (rules == NULL) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "SIGHUP: %s; keeping the rules in force", error->message);
		return G_SOURCE_CONTINUE;
	}
	vt_rules_config_free(d->rules);
	d->rules = rules;
	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		run_rules(d, value, TRUE);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
			 "SIGHUP: rules reloaded from %s", d->rules_path);
	return G_SOURCE_CONTINUE;
}

int
vt_daemon_run(VtDaemon *d)
{
	guint sigterm, sigint, sighup;

	d->loop = g_main_loop_new(NULL, FALSE);
	sigterm = g_unix_signal_add(SIGTERM, on_signal, d);
	sigint = g_unix_signal_add(SIGINT, on_signal, d);
	sighup = g_unix_signal_add(SIGHUP, on_sighup, d);
	d->stale_timer = g_timeout_add_seconds(STALE_CHECK_S, stale_tick, d);
	if (d->retention_days > 0 || d->retention_reports > 0) {
		d->prune_timer = g_timeout_add_seconds(PRUNE_INTERVAL_S, prune_tick, d);
		prune_tick(d);
	}
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
			 "virt-tuned %s: libvirt %s, control socket %s, history %s", VT_VERSION,
			 d->uri, d->socket_path, vt_store_path(d->store));
	vt_hypervisor_start(d->hv);
	g_main_loop_run(d->loop);
	g_source_remove(sigterm);
	g_source_remove(sigint);
	g_source_remove(sighup);
	return d->exit_code;
}
