/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The byte budget of each domain: what its reports take in the database, kept
 * under a bound by dropping the domain's oldest reports.
 *
 * A domain's bytes are its rows' counters blobs and its host samples plus the
 * sections of the layouts its key rows use (a section shared with other domains counts for
 * each of them: the bound errs on the safe side). Each insert adds an upper
 * estimate (the row, and the whole skeleton for a key row); only when the
 * estimate passes the budget is the exact figure computed, and when that
 * passes too the oldest reports go until the domain is at 90 % of it.
 */
#include "error.h"
#include "store-private.h"

#define TRIM_TO_PERCENT 90
#define LOG_INTERVAL_US (G_GUINT64_CONSTANT(3600) * G_USEC_PER_SEC)

gboolean
vt_store_domain_bytes(VtStore *store, gint64 domain_id, gint64 *bytes, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store,
		"SELECT (SELECT COALESCE(SUM(length(counters)), 0) FROM reports"
		"         WHERE domain_id = ?1)"
		"     + (SELECT COALESCE(SUM(length(data)), 0) FROM host_samples"
		"         WHERE domain_id = ?1)"
		"     + (SELECT COALESCE(SUM(length(data)), 0) FROM sections WHERE id IN"
		"         (SELECT p.section_id FROM layout_parts p WHERE p.layout_id IN"
		"           (SELECT layout_id FROM reports WHERE domain_id = ?1"
		"             AND layout_id IS NOT NULL)))",
		error);

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return vt_store_sql_error(store, error, "measuring a domain's reports");
	*bytes = sqlite3_column_int64(st, 0);
	return TRUE;
}

static gint64 *
int64_dup(gint64 v)
{
	gint64 *p = g_new(gint64, 1);

	*p = v;
	return p;
}

/* What the sections of @layout_id not in @seen add (and adds them to it). */
static gboolean
layout_cost(VtStore *store, gint64 layout_id, GHashTable *seen, gint64 *cost, GError **error)
{
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store,
			      "SELECT p.section_id, length(s.data) FROM layout_parts p"
			      " JOIN sections s ON s.id = p.section_id WHERE p.layout_id = ?",
			      error);
	int rc;

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, layout_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(st, 0);

		if (g_hash_table_add(seen, int64_dup(id)))
			*cost += sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "measuring a domain's reports");
	return TRUE;
}

/* The time from which @domain_id's newest reports and host samples fit in
 * @target bytes (never past its newest row); G_MININT64 when all of them
 * fit. Each section counts once, with the newest report that uses it. */
static gboolean
find_cut(VtStore *store, gint64 domain_id, gint64 target, gint64 *cut, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store,
		"SELECT time_ms, length(counters), layout_id FROM reports WHERE domain_id = ?1"
		" UNION ALL SELECT time_ms, length(data), NULL FROM host_samples"
		"  WHERE domain_id = ?1 ORDER BY 1 DESC",
		error);
	g_autoptr(GHashTable) sections =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_autoptr(GHashTable) layouts =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	gint64 acc = 0, newer = G_MININT64;
	int rc;

	if (st == NULL)
		return FALSE;
	*cut = G_MININT64;
	sqlite3_bind_int64(st, 1, domain_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gint64 t = sqlite3_column_int64(st, 0);
		gint64 layout = sqlite3_column_int64(st, 2);

		acc += sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
		    g_hash_table_add(layouts, int64_dup(layout)) &&
		    !layout_cost(store, layout, sections, &acc, error))
			return FALSE;
		if (acc > target) {
			*cut = newer == G_MININT64 ? t : newer; /* keep the newest */
			return TRUE;
		}
		newer = t;
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "measuring a domain's reports");
	return TRUE;
}

/* Drop @domain_id's oldest host samples until its @bytes are at
 * TRIM_TO_PERCENT of the budget, or only its newest sample is left. */
static gboolean
trim_host_samples(VtStore *store, gint64 domain_id, gint64 bytes, GError **error)
{
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store,
			      "SELECT time_ms, length(data) FROM host_samples WHERE domain_id = ?"
			      " ORDER BY time_ms",
			      error);
	gint64 excess = bytes - store->budget_bytes / 100 * TRIM_TO_PERCENT, cut = G_MININT64;
	int rc = SQLITE_DONE;

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	while (excess > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		cut = sqlite3_column_int64(st, 0);
		excess -= sqlite3_column_int64(st, 1);
	}
	if (excess > 0 && rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "measuring a domain's host samples");
	/* the one that made room goes too, unless it is the newest */
	if (excess <= 0 && cut != G_MININT64) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			cut++;
		else if (rc != SQLITE_DONE)
			return vt_store_sql_error(store, error,
						  "measuring a domain's host samples");
	}
	return cut == G_MININT64 || vt_store_prune_host_samples(store, domain_id, cut, error);
}

static void
note_exceeded(VtStore *store, const char *uuid, const char *name, guint64 removed)
{
	gint64 now = g_get_monotonic_time();
	guint64 *hits = g_hash_table_lookup(store->budget_hits, uuid);

	if (hits == NULL) {
		hits = g_new0(guint64, 2); /* [0] times over, [1] when last logged */
		g_hash_table_insert(store->budget_hits, g_strdup(uuid), hits);
	}
	hits[0]++;
	if (hits[1] != 0 && (guint64)now - hits[1] < LOG_INTERVAL_US)
		return;
	hits[1] = (guint64)now;
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "DOMAIN", name ? name : uuid, "MESSAGE",
			 "domain %s is over its store budget of %" G_GINT64_FORMAT
			 " bytes (%" G_GUINT64_FORMAT
			 " times so far): its oldest %" G_GUINT64_FORMAT " reports were dropped",
			 name ? name : uuid, store->budget_bytes, hits[0], removed);
}

gboolean
vt_store_budget_enforce(VtStore *store, const char *uuid, const char *name, gint64 domain_id,
			gint64 *bytes, gboolean *trimmed, GError **error)
{
	gint64 cut, newest = 0;
	gboolean found = FALSE;
	guint64 removed = 0;

	*trimmed = FALSE;
	if (store->budget_bytes <= 0)
		return TRUE;
	if (*bytes >= 0 && *bytes <= store->budget_bytes)
		return TRUE;
	if (!vt_store_domain_bytes(store, domain_id, bytes, error))
		return FALSE;
	if (*bytes <= store->budget_bytes)
		return TRUE;
	if (!find_cut(store, domain_id, store->budget_bytes / 100 * TRIM_TO_PERCENT, &cut, error))
		return FALSE;
	/* the newest report stays even when newer host samples fill the budget */
	if (cut != G_MININT64 &&
	    (!vt_store_newest_report_time(store, domain_id, &newest, &found, error) ||
	     !vt_store_prune_reports(store, domain_id, found ? MIN(cut, newest) : cut, 0, &removed,
				     error) ||
	     !vt_store_prune_host_samples(store, domain_id, cut, error)))
		return FALSE;
	if (!vt_store_collect_garbage(store, error) ||
	    !vt_store_domain_bytes(store, domain_id, bytes, error))
		return FALSE;
	/* the newest report kept, rewritten as a key, may cost more than its row
	 * did in the walk: then host samples make room for it */
	if (*bytes > store->budget_bytes &&
	    (!trim_host_samples(store, domain_id, *bytes, error) ||
	     !vt_store_domain_bytes(store, domain_id, bytes, error)))
		return FALSE;
	*trimmed = TRUE;
	note_exceeded(store, uuid, name, removed);
	return TRUE;
}

void
vt_store_set_budget(VtStore *store, gint64 bytes_per_domain)
{
	store->budget_bytes = MAX(bytes_per_domain, 0);
}

guint64
vt_store_budget_exceeded(VtStore *store, const char *uuid)
{
	const guint64 *hits = g_hash_table_lookup(store->budget_hits, uuid);

	return hits != NULL ? hits[0] : 0;
}
