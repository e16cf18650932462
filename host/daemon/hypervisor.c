/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hypervisor.h"

#include <gio/gio.h>
#include <libvirt-glib/libvirt-glib.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "error.h"
#include "hypervisor-private.h"

#define RECONNECT_FIRST_S 1
#define RECONNECT_MAX_S   30
/* What connecting learns besides the connection, once per connection. */
typedef struct {
	char *uri;
	VtHostCaps *caps;
	VtNodeFacts node;
} OpenData;

static void
open_data_free(OpenData *od)
{
	g_free(od->uri);
	vt_host_caps_free(od->caps);
	g_free(od);
}

/* The host's NUMA cells and size: they change only with the host (hotplug
 * aside), so a connection asks once. Failures leave them unknown. */
static void
fetch_host(virConnectPtr conn, OpenData *od)
{
	g_autoptr(GError) error = NULL;
	char *xml = virConnectGetCapabilities(conn);
	virNodeInfo info;

	if (xml != NULL) {
		od->caps = vt_host_caps_parse(xml, -1, &error);
		if (od->caps == NULL)
			g_debug("capabilities of %s: %s", od->uri, error->message);
		free(xml);
	}
	if (virNodeGetInfo(conn, &info) == 0) {
		od->node.known = TRUE;
		od->node.cpus = info.cpus;
		od->node.memory_bytes = (guint64)info.memory * 1024u;
	}
}

static void
ignore_libvirt_error(void *opaque, virErrorPtr error)
{
}

void
vt_hypervisor_init_events(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		/* libvirt would print every error to stderr by itself; we report
		 * them through GError instead. */
		virSetErrorFunc(NULL, ignore_libvirt_error);
		gvir_event_register();
		g_once_init_leave(&done, 1);
	}
}

void
vt_domain_snapshot_free(VtDomainSnapshot *snap)
{
	if (snap == NULL)
		return;
	g_free(snap->uuid);
	g_free(snap->name);
	g_free(snap->xml);
	vt_domstats_free(snap->stats);
	g_free(snap);
}

static void schedule_reconnect(VtHypervisor *hv);
static void touch(VtHypervisor *hv, const char *uuid);

/* ------------------------------------------------------------ events */

static int
on_lifecycle_event(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	VtHypervisor *hv = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN] = "";

	if (virDomainGetUUIDString(dom, uuid) == 0)
		touch(hv, uuid); /* and a poll soon */
	else
		vt_hypervisor_poll_soon(hv);
	if (hv->callbacks.on_lifecycle)
		hv->callbacks.on_lifecycle(hv, uuid, virDomainGetName(dom), event, hv->user_data);
	return 0;
}

static void
on_reboot_event(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
	VtHypervisor *hv = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN] = "";

	virDomainGetUUIDString(dom, uuid);
	if (hv->callbacks.on_reboot)
		hv->callbacks.on_reboot(hv, uuid, virDomainGetName(dom), hv->user_data);
}

/* A change of @uuid's live XML was announced: its next poll, soon, fetches
 * it. */
static void
touch(VtHypervisor *hv, const char *uuid)
{
	/* bounded as the domains are: one entry each at most */
	if (g_hash_table_size(hv->touched) < VT_MAX_DOMAINS)
		g_hash_table_add(hv->touched, g_strdup(uuid));
	else
		hv->fetch_all = TRUE;
	/* what changed shows without waiting for the poll interval */
	vt_hypervisor_poll_soon(hv);
}

static void
touch_domain(VtHypervisor *hv, virDomainPtr dom)
{
	char uuid[VIR_UUID_STRING_BUFLEN];

	if (virDomainGetUUIDString(dom, uuid) == 0)
		touch(hv, uuid);
}

/* Each event's own signature, for what it passes; all touch the domain. */
static void
on_device_event(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
	touch_domain(opaque, dom);
}

static void
on_tunable_event(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int n,
		 void *opaque)
{
	touch_domain(opaque, dom);
}

static void
on_balloon_event(virConnectPtr conn, virDomainPtr dom, unsigned long long actual, void *opaque)
{
	touch_domain(opaque, dom);
}

static void
on_metadata_event(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri, void *opaque)
{
	touch_domain(opaque, dom);
}

static const struct {
	int id;
	virConnectDomainEventGenericCallback cb;
} change_events[N_CHANGE_EVENTS] = {
	{VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_event)},
	{VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_event)},
	{VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK(on_tunable_event)},
	{VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon_event)},
	{VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata_event)},
};

static const char *
close_reason_name(int reason)
{
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		return "I/O error";
	case VIR_CONNECT_CLOSE_REASON_EOF:
		return "libvirtd closed the connection";
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		return "keepalive timeout";
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		return "closed by us";
	default:
		return "unknown reason";
	}
}

static void
drop_connection(VtHypervisor *hv)
{
	if (hv->conn == NULL)
		return;
	if (hv->lifecycle_id >= 0)
		virConnectDomainEventDeregisterAny(hv->conn, hv->lifecycle_id);
	if (hv->reboot_id >= 0)
		virConnectDomainEventDeregisterAny(hv->conn, hv->reboot_id);
	hv->lifecycle_id = hv->reboot_id = -1;
	for (guint i = 0; i < N_CHANGE_EVENTS; i++) {
		if (hv->change_ids[i] >= 0)
			virConnectDomainEventDeregisterAny(hv->conn, hv->change_ids[i]);
		hv->change_ids[i] = -1;
	}
	virConnectUnregisterCloseCallback(hv->conn, NULL);
	virConnectClose(hv->conn);
	hv->conn = NULL;
	if (hv->poll_timer) {
		g_source_remove(hv->poll_timer);
		hv->poll_timer = 0;
	}
}

static gboolean
handle_close(gpointer user_data)
{
	VtHypervisor *hv = user_data;
	g_autofree char *why = g_strdup(close_reason_name(hv->close_reason));

	hv->close_idle = 0;
	drop_connection(hv);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
			 "lost the libvirt connection to %s (%s); reconnecting", hv->uri, why);
	if (hv->callbacks.on_disconnected)
		hv->callbacks.on_disconnected(hv, why, hv->user_data);
	schedule_reconnect(hv);
	return G_SOURCE_REMOVE;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	VtHypervisor *hv = opaque;

	/* Never close a connection from inside its own callback. */
	hv->close_reason = reason;
	if (hv->close_idle == 0)
		hv->close_idle = g_idle_add(handle_close, hv);
}

/* ------------------------------------------------------------ connect */

static void
close_connection(gpointer conn)
{
	virConnectClose(conn);
}

static void
open_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	OpenData *od = task_data;
	virConnectPtr conn = virConnectOpen(od->uri);

	if (conn == NULL) {
		g_task_return_new_error(task, VT_ERROR, VT_ERROR_UNAVAILABLE, "%s", last_error());
		return;
	}
	fetch_host(conn, od);
	g_task_return_pointer(task, conn, close_connection);
}

static gboolean
poll_tick(gpointer user_data)
{
	vt_hypervisor_start_poll(user_data);
	return G_SOURCE_CONTINUE;
}

static void
open_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GTask *task = G_TASK(result);
	g_autoptr(GError) error = NULL;
	virConnectPtr conn = g_task_propagate_pointer(task, &error);
	VtHypervisor *hv;

	if (g_cancellable_is_cancelled(g_task_get_cancellable(task))) {
		if (conn != NULL)
			virConnectClose(conn); /* the hypervisor is gone */
		return;
	}
	hv = user_data;
	hv->connecting = FALSE;
	if (conn == NULL) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "cannot connect to %s: %s; retrying in %u s (is libvirtd "
				 "running? try: systemctl start libvirtd)",
				 hv->uri, error->message, hv->reconnect_delay_s);
		schedule_reconnect(hv);
		return;
	}
	hv->conn = conn;
	hv->reconnect_delay_s = RECONNECT_FIRST_S;
	vt_host_caps_free(hv->caps);
	hv->caps = g_steal_pointer(&((OpenData *)g_task_get_task_data(task))->caps);
	hv->node = ((OpenData *)g_task_get_task_data(task))->node;
	if (virConnectRegisterCloseCallback(conn, on_close, hv, NULL) < 0)
		g_debug("no close callback on %s: %s", hv->uri, last_error());
	/* Detects a hung libvirtd; unsupported on some drivers (test://). */
	if (virConnectSetKeepAlive(conn, 5, 3) < 0)
		g_debug("no keepalive on %s: %s", hv->uri, last_error());
	hv->lifecycle_id = virConnectDomainEventRegisterAny(
		conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle_event), hv, NULL);
	hv->reboot_id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
							 VIR_DOMAIN_EVENT_CALLBACK(on_reboot_event),
							 hv, NULL);
	/* without them, every poll fetches every domain's XML */
	hv->fetch_all = TRUE;
	hv->all_events = hv->lifecycle_id >= 0;
	for (guint i = 0; i < N_CHANGE_EVENTS; i++) {
		hv->change_ids[i] = virConnectDomainEventRegisterAny(
			conn, NULL, change_events[i].id, change_events[i].cb, hv, NULL);
		if (hv->change_ids[i] < 0) {
			g_debug("no event %d from %s (%s): every poll fetches every XML",
				change_events[i].id, hv->uri, last_error());
			hv->all_events = FALSE;
		}
	}
	if (hv->lifecycle_id < 0)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "no lifecycle events from %s (%s); polling every %u s instead",
				 hv->uri, last_error(), hv->poll_interval_s);
	/* Not info: the journal keeps it by default, so that the warning of a
	 * lost or refused connection is followed by the news that it is back. */
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "connected to %s", hv->uri);
	if (hv->callbacks.on_connected)
		hv->callbacks.on_connected(hv, hv->user_data);
	hv->poll_timer = g_timeout_add_seconds(hv->poll_interval_s, poll_tick, hv);
	vt_hypervisor_start_poll(hv);
}

static void
connect_now(VtHypervisor *hv)
{
	g_autoptr(GTask) task = NULL;
	OpenData *od;

	if (hv->conn != NULL || hv->connecting)
		return;
	hv->connecting = TRUE;
	task = g_task_new(NULL, hv->cancellable, open_done, hv);
	g_task_set_check_cancellable(task, FALSE);
	od = g_new0(OpenData, 1);
	od->uri = g_strdup(hv->uri);
	g_task_set_task_data(task, od, (GDestroyNotify)open_data_free);
	g_task_run_in_thread(task, open_thread);
}

static gboolean
reconnect_tick(gpointer user_data)
{
	VtHypervisor *hv = user_data;

	hv->reconnect_timer = 0;
	connect_now(hv);
	return G_SOURCE_REMOVE;
}

static void
schedule_reconnect(VtHypervisor *hv)
{
	if (hv->reconnect_timer != 0)
		return;
	hv->reconnect_timer = g_timeout_add_seconds(hv->reconnect_delay_s, reconnect_tick, hv);
	hv->reconnect_delay_s = MIN(hv->reconnect_delay_s * 2, RECONNECT_MAX_S);
}

/* ------------------------------------------------------------ object */

VtHypervisor *
vt_hypervisor_new(const char *uri, guint poll_interval_s, const VtHypervisorCallbacks *callbacks,
		  gpointer user_data)
{
	VtHypervisor *hv = g_new0(VtHypervisor, 1);

	vt_hypervisor_init_events();
	hv->uri = g_strdup(uri);
	hv->poll_interval_s = MAX(poll_interval_s, 1);
	hv->callbacks = *callbacks;
	hv->user_data = user_data;
	hv->lifecycle_id = -1;
	for (guint i = 0; i < N_CHANGE_EVENTS; i++)
		hv->change_ids[i] = -1;
	hv->touched = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	hv->fetch_all = TRUE;
	hv->reboot_id = -1;
	hv->reconnect_delay_s = RECONNECT_FIRST_S;
	hv->cancellable = g_cancellable_new();
	return hv;
}

void
vt_hypervisor_start(VtHypervisor *hv)
{
	connect_now(hv);
}

void
vt_hypervisor_free(VtHypervisor *hv)
{
	if (hv == NULL)
		return;
	g_cancellable_cancel(hv->cancellable);
	g_clear_object(&hv->cancellable);
	if (hv->reconnect_timer)
		g_source_remove(hv->reconnect_timer);
	if (hv->soon_timer)
		g_source_remove(hv->soon_timer);
	if (hv->close_idle)
		g_source_remove(hv->close_idle);
	drop_connection(hv);
	vt_host_caps_free(hv->caps);
	g_hash_table_unref(hv->touched);
	g_free(hv->uri);
	g_free(hv);
}

gboolean
vt_hypervisor_is_connected(const VtHypervisor *hv)
{
	return hv->conn != NULL;
}

const char *
vt_hypervisor_get_uri(const VtHypervisor *hv)
{
	return hv->uri;
}

virConnectPtr
vt_hypervisor_get_connection(const VtHypervisor *hv)
{
	return hv->conn;
}

gboolean
vt_hypervisor_is_local(const VtHypervisor *hv)
{
	/* No host part (qemu:///system, qemu+unix:///system?socket=…): libvirtd
	 * runs here, so the channel sockets it names are ours to open too. */
	const char *sep = strstr(hv->uri, "://");

	return sep != NULL && sep[3] == '/';
}

const VtHostCaps *
vt_hypervisor_get_caps(const VtHypervisor *hv)
{
	return hv->caps;
}

const VtNodeFacts *
vt_hypervisor_get_node(const VtHypervisor *hv)
{
	return hv->node.known ? &hv->node : NULL;
}
