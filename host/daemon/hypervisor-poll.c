/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A poll of the libvirt connection, in a worker thread: the running domains,
 * the live XML of those not settled, and their domstats. */
#include <gio/gio.h>
#include <string.h>

#include "error.h"
#include "hypervisor-private.h"

typedef struct {
	virConnectPtr conn;  /* a reference of our own */
	GHashTable *settled; /* UUIDs whose XML this poll leaves out; NULL: none */
} PollData;

static void
poll_data_free(PollData *pd)
{
	virConnectClose(pd->conn);
	if (pd->settled != NULL)
		g_hash_table_unref(pd->settled);
	g_free(pd);
}

static void
poll_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	PollData *pd = task_data;
	g_autoptr(GPtrArray) snaps =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_domain_snapshot_free);
	virDomainPtr *doms = NULL;
	virDomainStatsRecordPtr *records = NULL;
	/* uuid -> snapshot: a stats record finds its domain without a scan */
	g_autoptr(GHashTable) by_uuid = g_hash_table_new(g_str_hash, g_str_equal);
	int n, nr;

	n = virConnectListAllDomains(pd->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		g_task_return_new_error(task, VT_ERROR, VT_ERROR_UNAVAILABLE, "listing domains: %s",
					last_error());
		return;
	}
	for (int i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		char *xml = NULL;

		if (i < VT_MAX_DOMAINS && virDomainGetUUIDString(doms[i], uuid) == 0 &&
		    ((pd->settled != NULL && g_hash_table_contains(pd->settled, uuid)) ||
		     (xml = virDomainGetXMLDesc(doms[i], 0)) != NULL)) {
			VtDomainSnapshot *s = g_new0(VtDomainSnapshot, 1);
			s->uuid = g_strdup(uuid);
			s->name = g_strdup(virDomainGetName(doms[i]));
			s->id = virDomainGetID(doms[i]) == (unsigned)-1
					? -1
					: (int)virDomainGetID(doms[i]);
			s->xml = g_strdup(xml);
			free(xml);
			s->polled_at_us = g_get_monotonic_time();
			g_ptr_array_add(snaps, s);
			g_hash_table_insert(by_uuid, s->uuid, s);
		}
		virDomainFree(doms[i]);
	}
	free(doms);

	/* Groups the driver lacks are left out silently (no ENFORCE flag). */
	nr = virConnectGetAllDomainStats(pd->conn, STATS_GROUPS, &records,
					 VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	for (int i = 0; i < nr; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		VtDomainSnapshot *s;
		g_autoptr(GError) error = NULL;

		if (virDomainGetUUIDString(records[i]->dom, uuid) < 0 ||
		    (s = g_hash_table_lookup(by_uuid, uuid)) == NULL || s->stats != NULL)
			continue;
		s->stats = vt_domstats_from_record(records[i], &error);
		if (s->stats == NULL)
			g_debug("domstats of %s: %s", s->name, error->message);
	}
	if (records != NULL)
		virDomainStatsRecordListFree(records);
	g_task_return_pointer(task, g_steal_pointer(&snaps), (GDestroyNotify)g_ptr_array_unref);
}

static void
poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GTask *task = G_TASK(result);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) snaps = g_task_propagate_pointer(task, &error);
	VtHypervisor *hv;

	if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
		return;
	hv = user_data;
	hv->polling = FALSE;
	if (snaps == NULL) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE", "poll of %s: %s",
				 hv->uri, error->message);
	} else if (hv->callbacks.on_poll) {
		hv->callbacks.on_poll(hv, snaps, hv->user_data);
	}
	if (hv->poll_again) {
		hv->poll_again = FALSE;
		vt_hypervisor_start_poll(hv);
	}
}

void
vt_hypervisor_start_poll(VtHypervisor *hv)
{
	g_autoptr(GTask) task = NULL;
	PollData *pd;

	if (hv->conn == NULL)
		return;
	if (hv->polling) {
		hv->poll_again = TRUE;
		return;
	}
	hv->polling = TRUE;
	pd = g_new0(PollData, 1);
	virConnectRef(hv->conn);
	pd->conn = hv->conn;
	if (hv->all_events && !hv->fetch_all && hv->callbacks.xml_settled != NULL) {
		GHashTableIter iter;
		gpointer uuid;

		pd->settled = hv->callbacks.xml_settled(hv, hv->user_data);
		g_hash_table_iter_init(&iter, hv->touched);
		while (pd->settled != NULL && g_hash_table_iter_next(&iter, &uuid, NULL))
			g_hash_table_remove(pd->settled, uuid);
	}
	hv->fetch_all = FALSE;
	g_hash_table_remove_all(hv->touched);
	task = g_task_new(NULL, hv->cancellable, poll_done, hv);
	g_task_set_check_cancellable(task, FALSE);
	g_task_set_task_data(task, pd, (GDestroyNotify)poll_data_free);
	g_task_run_in_thread(task, poll_thread);
}

static gboolean
poll_soon_tick(gpointer user_data)
{
	VtHypervisor *hv = user_data;

	hv->soon_timer = 0;
	vt_hypervisor_start_poll(hv);
	return G_SOURCE_REMOVE;
}

void
vt_hypervisor_poll_soon(VtHypervisor *hv)
{
	/* Events come in bursts (start = resumed + started…): coalesce them. */
	if (hv->soon_timer == 0)
		hv->soon_timer = g_timeout_add(200, poll_soon_tick, hv);
}
