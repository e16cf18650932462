/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guests libvirt runs: found at each poll, dropped when they stop, each
 * with its agent channel (opened, and reopened with backoff) and session.
 */
#include "daemon-private.h"

#include "error.h"
#include "host-sample.h"
#include "transport.h"

#define RETRY_FIRST_S   1
#define RETRY_MAX_S     30
#define CUT_OFF_FIRST_S 30
#define CUT_OFF_MAX_S   600
/* A connected agent silent this long is asked for a report; twice this long,
 * the handshake starts over (the guest may have rebooted unseen). */
#define STALE_REPORT_S 30

void
vt_daemon_analyse(VtDaemon *d, VtGuest *g, gboolean record)
{
	VtRuleInput in = {0};
	g_autoptr(GError) error = NULL;
	g_autofree VtStoreRecommendation *active = NULL;
	VtAnalysis *analysis;

	in.report = vt_guest_report(g);
	if (in.report == NULL)
		return;
	in.previous = g->prev_base != NULL ? g->prev_base->report : NULL;
	in.facts = g->facts;
	in.stats = g->stats;
	in.rates = &g->rates;
	in.caps = d->hv != NULL ? vt_hypervisor_get_caps(d->hv) : NULL;
	analysis = vt_rules_run(&in, d->rules);
	vt_analysis_free(g->analysis);
	g->analysis = analysis;
	if (!record || d->store == NULL)
		return;
	active = g_new0(VtStoreRecommendation, MAX(analysis->recommendations->len, 1));
	for (guint i = 0; i < analysis->recommendations->len; i++) {
		const VtRecommendation *r = analysis->recommendations->pdata[i];
		/* borrowed for the call: the store copies what it keeps */
		active[i].id = (char *)r->id;
		active[i].rule = (char *)r->rule;
		active[i].severity = (char *)vt_severity_name(r->severity);
		active[i].summary = (char *)r->command;
	}
	if (!vt_store_set_recommendations(d->store, g->uuid, vt_now_ms(), active,
					  analysis->recommendations->len, &error))
		vt_guest_log(G_LOG_LEVEL_WARNING, g, "recommendations not stored: %s",
			     error->message);
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
		vt_guest_log(G_LOG_LEVEL_INFO, g, "%s", msg);
}

static void
on_ready(VtSession *session, const VtHello *hello, gpointer user_data)
{
	VtGuest *g = user_data;

	g_free(g->agent_version);
	g->agent_version = g_strdup(hello->agent_version);
	g->can_confirm = FALSE;
	for (gsize i = 0; i < hello->n_capabilities; i++)
		g->can_confirm |= g_strcmp0(hello->capabilities[i], "confirm") == 0;
	g->retry_delay_s = 0;
	set_error(g, NULL);
	vt_guest_log(G_LOG_LEVEL_INFO, g, "agent %s connected (boot %s)",
		     hello->agent_version ? hello->agent_version : "?",
		     hello->boot_id ? hello->boot_id : "?");
}

static void
on_report(VtSession *session, VtReport *report, VtArena *arena, GBytes *envelope,
	  gpointer user_data)
{
	VtGuest *g = user_data;
	VtDaemon *d = g->daemon;
	gint64 at = vt_now_ms();
	gboolean as_sent;

	vt_guest_set_report(g, report, arena, envelope, at);
	/* the store keeps the NICs' features as they came: walked and packed as
	 * one field of bytes per NIC, not as ~60 messages each */
	as_sent = vt_session_report_as_sent(session, report, TRUE);
	vt_daemon_store_report(d, g, at);
	if (as_sent)
		vt_session_report_as_sent(session, report, FALSE);
	vt_daemon_analyse(d, g, TRUE);
	vt_daemon_store_report_done(d, g);
	/* kept as the bytes it came in (7.5 KB for a guest with three NICs, ~40 KB
	 * decoded) and decoded again when a view asks for it */
	vt_guest_release_report(g);
}

static void
on_apply_result(VtSession *session, VtApplyResult *result, gpointer user_data)
{
	VtGuest *g = user_data;
	VtDaemon *d = g->daemon;

	vt_changes_on_result(d->changes, g, result);
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

/* The channel as the daemon reaches it: a libvirt stream or the socket. */
static VtTransport *
open_transport(VtDaemon *d, const VtGuest *g, const VtChannelFacts *ch, GError **error)
{
	VtTransport *t = NULL;

	if (use_stream(d)) {
		virConnectPtr conn = vt_hypervisor_get_connection(d->hv);
		virDomainPtr dom = conn ? virDomainLookupByUUIDString(conn, g->uuid) : NULL;
		if (dom == NULL)
			g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE,
				    "domain lookup failed: %s", virGetLastErrorMessage());
		else
			t = vt_transport_open_channel(dom, VT_AGENT_CHANNEL_NAME, error);
		if (dom != NULL)
			virDomainFree(dom);
	} else if (ch->source_path == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND,
			    "the channel has no socket path in the live XML (type='%s'); use a "
			    "unix channel, or --channel=stream",
			    ch->type ? ch->type : "?");
	} else {
		t = vt_transport_connect_unix(ch->source_path, error);
	}
	return t;
}

static void
attach_channel(VtGuest *g)
{
	const VtChannelFacts *ch = g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;
	g_autoptr(GError) error = NULL;
	VtTransport *t;

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

	t = open_transport(g->daemon, g, ch, &error);
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
	vt_guest_log(G_LOG_LEVEL_INFO, g, "no longer running");
	vt_changes_forget(d->changes, uuid);
	g_hash_table_remove(d->guests, uuid);
}

static VtGuest *
add_guest(VtDaemon *d, const VtDomainSnapshot *s)
{
	VtGuest *g = vt_guest_new(s->uuid, s->name);
	g_autoptr(GError) error = NULL;

	g->daemon = d;
	g_hash_table_insert(d->guests, g->uuid, g);
	if (d->store != NULL &&
	    !vt_store_touch_domain(d->store, s->uuid, s->name, vt_now_ms(), &error))
		vt_guest_log(G_LOG_LEVEL_WARNING, g, "store: %s", error->message);
	return g;
}

/* The host counters of @g's paired devices, for the host side of a change's
 * effect: taken at @polled_at_us (monotonic), stored on the realtime clock. */
static void
keep_host_sample(VtDaemon *d, VtGuest *g, gint64 polled_at_us)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	gint64 age_ms = (g_get_monotonic_time() - polled_at_us) / 1000;

	if (d->store == NULL || (text = vt_host_sample_format(&g->rates, g->stats)) == NULL)
		return;
	if (!vt_store_add_host_sample(d->store, g->uuid, g->name, vt_now_ms() - MAX(age_ms, 0),
				      text, strlen(text), &error))
		vt_guest_log(G_LOG_LEVEL_WARNING, g, "host sample not stored: %s", error->message);
}

/* What one poll says of a running domain: its XML, stats, channel state. */
static void
update_guest(VtDaemon *d, VtGuest *g, VtDomainSnapshot *s)
{
	g_autoptr(GError) error = NULL;
	const VtChannelFacts *ch = g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;
	g_autofree char *old_state = g_strdup(ch ? ch->target_state : NULL);
	/* NULL: left out by this poll, as unchanged (xml_settled()) */
	gboolean new_xml = s->xml != NULL && g_strcmp0(g->xml, s->xml) != 0;
	gint64 silent_ms = vt_now_ms() - g->report_at_ms;

	g->seen = TRUE;
	g->id = s->id;
	if (g_strcmp0(g->name, s->name) != 0) {
		g_free(g->name);
		g->name = g_strdup(s->name);
	}
	if (s->xml != NULL) {
		g->xml_polled_us = s->polled_at_us;
		if (!vt_guest_set_xml(g, s->xml, &error))
			vt_guest_log(G_LOG_LEVEL_WARNING, g, "domain XML not understood: %s",
				     error->message);
	}
	if (s->stats != NULL) {
		vt_guest_set_stats(g, g_steal_pointer(&s->stats), s->polled_at_us);
		keep_host_sample(d, g, s->polled_at_us);
	}
	/* The rules run once per report, with the stats of the last poll.
	 * Between reports a new XML re-runs them, and so does every poll of a
	 * guest that stopped reporting: its host side may still move. */
	if (new_xml || silent_ms > 2 * (gint64)d->poll_interval_s * 1000)
		vt_daemon_analyse(d, g, FALSE);

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

/* The host itself, after its guests: their images and memory are its input. */
static void
update_host(VtDaemon *d, VtHypervisor *hv)
{
	g_autoptr(GPtrArray) all = vt_guests_select(d->guests, NULL);

	vt_host_model_update(d->host, all, vt_hypervisor_get_node(hv), vt_hypervisor_get_caps(hv),
			     d->rules, g_get_monotonic_time());
}

static void
on_poll(VtHypervisor *hv, GPtrArray *domains, gpointer user_data)
{
	VtDaemon *d = user_data;
	GHashTableIter iter;
	gpointer value;
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	gboolean batch;

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		((VtGuest *)value)->seen = FALSE;

	/* one transaction for the poll's host samples, not one per domain */
	batch = d->store != NULL && vt_store_begin(d->store, NULL);
	for (guint i = 0; i < domains->len; i++) {
		VtDomainSnapshot *s = domains->pdata[i];
		VtGuest *g = g_hash_table_lookup(d->guests, s->uuid);

		update_guest(d, g != NULL ? g : add_guest(d, s), s);
	}
	if (batch && !vt_store_commit(d->store, &error))
		g_warning("host samples of this poll not stored: %s", error->message);

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (!((VtGuest *)value)->seen)
			g_ptr_array_add(gone, g_strdup(((VtGuest *)value)->uuid));
	for (guint i = 0; i < gone->len; i++)
		remove_guest(d, gone->pdata[i]);
	update_host(d, hv);
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
		vt_guest_log(G_LOG_LEVEL_INFO, g,
			     "rebooted; handshaking with the new boot's agent");
		vt_session_restart_handshake(g->session);
	}
}

/* A domain's XML is fetched again at most this many polls apart (3 to 6, by
 * its UUID, so that the fetches of many spread over the polls), and at the
 * next poll after libvirt announced a change of it. */
#define XML_POLLS_MIN    3
#define XML_POLLS_SPREAD 4

/* The domains whose XML the next poll may leave out: held, fetched within
 * their number of polls, and whose agent is connected and reported within
 * the last two poll intervals (a silent one may have closed or reopened its
 * port, which shows only in the XML). A window, not "since the last poll":
 * a poll an event brought right after another still leaves them out. */
static GHashTable *
xml_settled(VtHypervisor *hv, gpointer user_data)
{
	VtDaemon *d = user_data;
	GHashTable *settled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gint64 now_us = g_get_monotonic_time();
	gint64 since_ms = vt_now_ms() - 2 * (gint64)d->poll_interval_s * 1000;
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		gint64 polls = XML_POLLS_MIN + g_str_hash(g->uuid) % XML_POLLS_SPREAD;

		if (g->xml == NULL || g->session == NULL ||
		    vt_session_get_state(g->session) != VT_SESSION_READY ||
		    !vt_guest_has_report(g) || g->report_at_ms < since_ms ||
		    now_us - g->xml_polled_us >=
			    polls * (gint64)d->poll_interval_s * G_USEC_PER_SEC)
			continue;
		g_hash_table_add(settled, g_strdup(g->uuid));
	}
	return settled;
}

const VtHypervisorCallbacks vt_daemon_hypervisor_callbacks = {
	.xml_settled = xml_settled,
	.on_reboot = on_reboot,
	.on_connected = on_connected,
	.on_disconnected = on_disconnected,
	.on_lifecycle = on_lifecycle,
	.on_poll = on_poll,
};

gboolean
vt_daemon_check_stale(gpointer user_data)
{
	VtDaemon *d = user_data;
	GHashTableIter iter;
	gpointer value;
	gint64 now = vt_now_ms();

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		gint64 age;

		if (g->session == NULL || vt_session_get_state(g->session) != VT_SESSION_READY)
			continue;
		age = vt_guest_has_report(g) ? (now - g->report_at_ms) / 1000 : G_MAXINT64;
		if (vt_guest_has_report(g) && age < STALE_REPORT_S)
			continue;
		if (!vt_guest_has_report(g) || age < 2 * STALE_REPORT_S)
			vt_session_request_report(g->session, "stale", NULL);
		else
			vt_session_restart_handshake(g->session);
	}
	return G_SOURCE_CONTINUE;
}
