/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports go to the store in batches: one transaction for up to
 * VT_STORE_BATCH_REPORTS reports or VT_STORE_BATCH_MS, whichever comes first,
 * instead of one per report. A commit writes the pages the batch touched
 * once, where one per report rewrites the same pages (the domains row, the
 * reports B-tree leaf, the recommendations) report after report.
 *
 * What a batch may not weaken: nothing the daemon tells anyone rests on a
 * report that is not committed. A `refresh` answer or an apply result that
 * waits for a report is sent only after the commit that holds the report,
 * and every control request commits the open batch before it runs, so a
 * client never sees a stored report a killed daemon would lose. Reports are
 * not acknowledged to the agents; one that was only in an open batch when
 * the daemon died is lost like one still in flight on the channel, and the
 * agent's next report comes an interval later. An audit write, which must
 * survive a power loss, commits the batch first (store.h).
 */
#include "daemon-private.h"

#define VT_STORE_BATCH_MS      100
#define VT_STORE_BATCH_REPORTS 256

void
vt_daemon_store_flush(VtDaemon *d)
{
	g_autoptr(GError) error = NULL;
	guint n = d->batch_reports;

	if (d->batch_timer != 0) {
		g_source_remove(d->batch_timer);
		d->batch_timer = 0;
	}
	d->batch_reports = 0;
	if (d->store == NULL || !vt_store_in_batch(d->store))
		return;
	if (!vt_store_commit(d->store, &error))
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "%u report(s) not stored: %s", n, error->message);
}

static gboolean
batch_timeout(gpointer user_data)
{
	VtDaemon *d = user_data;

	d->batch_timer = 0;
	vt_daemon_store_flush(d);
	vt_daemon_heap_trim(d); /* heap.c: at most once a second */
	return G_SOURCE_REMOVE;
}

/* Open a batch unless one is open; without one, each write commits alone. */
static void
batch_open(VtDaemon *d)
{
	g_autoptr(GError) error = NULL;

	if (vt_store_in_batch(d->store))
		return;
	if (d->batch_timer != 0) {
		g_source_remove(d->batch_timer); /* a durable write ended the last one */
		d->batch_timer = 0;
	}
	d->batch_reports = 0;
	if (!vt_store_begin(d->store, &error)) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "storing reports one by one: %s", error->message);
		return;
	}
	d->batch_timer = g_timeout_add(VT_STORE_BATCH_MS, batch_timeout, d);
}

void
vt_daemon_store_report(VtDaemon *d, VtGuest *g, gint64 at_ms)
{
	g_autoptr(GError) error = NULL;

	if (d->store == NULL)
		return;
	batch_open(d);
	if (!vt_store_add_report(d->store, g->uuid, g->name, at_ms, vt_guest_report(g), NULL,
				 &error))
		vt_guest_log(G_LOG_LEVEL_WARNING, g, "report not stored: %s", error->message);
	g->store_budget_exceeded = vt_store_budget_exceeded(d->store, g->uuid);
}

void
vt_daemon_store_report_done(VtDaemon *d, VtGuest *g)
{
	/* someone waits for this report: it goes to disk before they hear of it */
	if (vt_changes_awaits_report(d->changes, g->uuid))
		vt_daemon_store_flush(d);
	else if (++d->batch_reports >= VT_STORE_BATCH_REPORTS)
		vt_daemon_store_flush(d);
	vt_changes_on_report(d->changes, g);
}
