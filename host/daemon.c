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
	resolve_waiters(d, g);
}

static void
on_apply_result(VtSession *session, VtApplyResult *result, gpointer user_data)
{
	/* Apply lands with the guided-apply work; until then nothing sends. */
	vt_message_free(&result->base);
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

		ch = g->facts ? vt_domain_facts_agent_channel(g->facts) : NULL;
		/* The guest closed and reopened its port (agent restart, reboot):
		 * what we sent may be lost and the agent waits for a Hello. */
		if (g->session != NULL && ch != NULL && old_state != NULL &&
		    g_strcmp0(old_state, ch->target_state) != 0 &&
		    g_strcmp0(ch->target_state, "connected") == 0 &&
		    vt_session_get_state(g->session) == VT_SESSION_READY)
			vt_session_restart_handshake(g->session);
		attach_channel(g);
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
	/* Guests keep their channels: QEMU holds the sockets, not libvirtd. A
	 * stream transport dies with the connection and reconnects on the next
	 * poll. */
}

static void
on_lifecycle(VtHypervisor *hv, const char *uuid, const char *name, int event, gpointer user_data)
{
	VtDaemon *d = user_data;

	if (event == VIR_DOMAIN_EVENT_STOPPED || event == VIR_DOMAIN_EVENT_CRASHED)
		remove_guest(d, uuid);
}

static const VtHypervisorCallbacks hypervisor_callbacks = {
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

static gint
compare_guests(gconstpointer a, gconstpointer b)
{
	const VtGuest *ga = *(VtGuest *const *)a;
	const VtGuest *gb = *(VtGuest *const *)b;
	return g_strcmp0(ga->name, gb->name);
}

/* Guests sorted by name; only @domain when given (NULL if unknown). */
static GPtrArray *
select_guests(VtDaemon *d, const char *domain)
{
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		if (domain == NULL || g_strcmp0(g->name, domain) == 0 ||
		    g_strcmp0(g->uuid, domain) == 0)
			g_ptr_array_add(out, g);
	}
	g_ptr_array_sort(out, compare_guests);
	return out;
}

static VtGuest *
find_guest(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) found = NULL;

	if (domain == NULL) {
		vt_control_request_error(req, "bad_request", "this command needs a domain");
		return NULL;
	}
	found = select_guests(d, domain);
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
	g_autoptr(JsonBuilder) b = json_builder_new();
	GHashTableIter iter;
	gpointer value;
	guint connected = 0;

	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		if (g->session && vt_session_get_state(g->session) == VT_SESSION_READY)
			connected++;
	}
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "version");
	json_builder_add_string_value(b, VT_VERSION);
	json_builder_set_member_name(b, "uri");
	json_builder_add_string_value(b, d->uri);
	json_builder_set_member_name(b, "libvirt_connected");
	json_builder_add_boolean_value(b, vt_hypervisor_is_connected(d->hv));
	json_builder_set_member_name(b, "domains");
	json_builder_add_int_value(b, g_hash_table_size(d->guests));
	json_builder_set_member_name(b, "agents_connected");
	json_builder_add_int_value(b, connected);
	json_builder_set_member_name(b, "database");
	json_builder_add_string_value(b, d->store ? vt_store_path(d->store) : "");
	json_builder_end_object(b);
	vt_control_request_reply(req, json_builder_get_root(b));
}

static void
cmd_audit(VtDaemon *d, VtControlRequest *req)
{
	const char *kind = vt_control_arg_string(req, "kind");
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) guests = select_guests(d, domain);
	gint64 now = now_ms();

	if (domain != NULL && guests->len == 0)
		vt_control_request_error(req, "not_found",
					 "no running domain '%s' (see `virt-tune list`)", domain);
	else if (kind == NULL || g_strcmp0(kind, "all") == 0)
		vt_control_request_reply(req, vt_view_audit_all(guests, now));
	else if (g_strcmp0(kind, "swap") == 0)
		vt_control_request_reply(req, vt_view_audit_swap(guests, now));
	else if (g_strcmp0(kind, "schedulers") == 0)
		vt_control_request_reply(req, vt_view_audit_schedulers(guests));
	else if (g_strcmp0(kind, "nics") == 0)
		vt_control_request_reply(req, vt_view_audit_nics(guests));
	else
		vt_control_request_error(req, "bad_request",
					 "unknown audit '%s': swap, schedulers, nics or all", kind);
}

static void
add_history_row(JsonBuilder *b, const VtStoreReport *entry)
{
	const VtReport *r = entry->report;
	guint64 v;
	const VtIdentity *id = r->identity;
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(entry->time_ms / 1000);
	g_autofree char *iso = t ? g_date_time_format_iso8601(t) : NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "time_ms");
	json_builder_add_int_value(b, entry->time_ms);
	json_builder_set_member_name(b, "time");
	json_builder_add_string_value(b, iso);
	json_builder_set_member_name(b, "boot_id");
	json_builder_add_string_value(b, id ? id->boot_id : NULL);
	json_builder_set_member_name(b, "uptime_s");
	if (id && id->has_uptime_s)
		json_builder_add_int_value(b, (gint64)id->uptime_s);
	else
		json_builder_add_null_value(b);
#define METRIC(key, name)                                                                          \
	json_builder_set_member_name(b, key);                                                      \
	if (vt_report_meminfo(r, name, &v))                                                        \
		json_builder_add_int_value(b, (gint64)v);                                          \
	else                                                                                       \
		json_builder_add_null_value(b);
	METRIC("mem_total_bytes", "MemTotal");
	METRIC("mem_available_bytes", "MemAvailable");
	METRIC("swap_total_bytes", "SwapTotal");
	METRIC("swap_free_bytes", "SwapFree");
#undef METRIC
	json_builder_set_member_name(b, "pswpin");
	if (r->swap && r->swap->has_pswpin)
		json_builder_add_int_value(b, (gint64)r->swap->pswpin);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "pswpout");
	if (r->swap && r->swap->has_pswpout)
		json_builder_add_int_value(b, (gint64)r->swap->pswpout);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "disks");
	json_builder_add_int_value(b, (gint64)r->n_block);
	json_builder_set_member_name(b, "nics");
	json_builder_add_int_value(b, (gint64)r->n_nics);
	json_builder_end_object(b);
}

static void
cmd_history(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	gint64 since = vt_control_arg_int(req, "since_ms", 0);
	gint64 limit = vt_control_arg_int(req, "limit", 100);
	g_autoptr(GPtrArray) domains = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	const char *uuid = NULL;

	if (domain == NULL) {
		vt_control_request_error(req, "bad_request", "history needs a domain");
		return;
	}
	/* Stopped domains have history too: look names up in the store. */
	domains = vt_store_list_domains(d->store, &error);
	for (guint i = 0; domains != NULL && i < domains->len; i++) {
		VtStoreDomain *sd = domains->pdata[i];
		if (g_strcmp0(sd->name, domain) == 0 || g_strcmp0(sd->uuid, domain) == 0)
			uuid = sd->uuid;
	}
	if (uuid == NULL) {
		vt_control_request_error(req, "not_found", "no history for '%s'", domain);
		return;
	}
	rows = vt_store_history(d->store, uuid, since, 0, (guint)CLAMP(limit, 1, 10000), &error);
	if (rows == NULL) {
		vt_control_request_error(req, "store", "reading history: %s", error->message);
		return;
	}
	json_builder_begin_array(b);
	for (guint i = 0; i < rows->len; i++)
		add_history_row(b, rows->pdata[i]);
	json_builder_end_array(b);
	vt_control_request_reply(req, json_builder_get_root(b));
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
on_request(VtControlRequest *req, gpointer user_data)
{
	VtDaemon *d = user_data;
	const char *cmd = vt_control_request_get_command(req);
	g_autoptr(GPtrArray) guests = NULL;

	if (g_strcmp0(cmd, "status") == 0) {
		cmd_status(d, req);
	} else if (g_strcmp0(cmd, "list") == 0) {
		guests = select_guests(d, NULL);
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
	} else {
		vt_control_request_error(req, "unknown_command", "unknown command '%s'", cmd);
	}
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
	vt_control_free(d->control);
	g_hash_table_destroy(d->waiters);
	g_hash_table_destroy(d->guests);
	vt_hypervisor_free(d->hv);
	vt_store_free(d->store);
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

int
vt_daemon_run(VtDaemon *d)
{
	guint sigterm, sigint;

	d->loop = g_main_loop_new(NULL, FALSE);
	sigterm = g_unix_signal_add(SIGTERM, on_signal, d);
	sigint = g_unix_signal_add(SIGINT, on_signal, d);
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
	return d->exit_code;
}
