/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Retention: dropping old reports, then the layouts and sections no row uses. */
#include "error.h"
#include "store-private.h"

static gboolean
step_time(VtStore *store, const char *sql, gint64 domain_id, gint64 arg, gint64 *out,
	  gboolean *found, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(store, sql, error);
	int rc;

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_int64(st, 2, arg);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found) {
		*out = sqlite3_column_int64(st, 0);
		return TRUE;
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "pruning reports");
	return TRUE;
}

gboolean
vt_store_prune_reports(VtStore *store, gint64 domain_id, gint64 cutoff_ms, guint max_count,
		       guint64 *removed, GError **error)
{
	gint64 cut = cutoff_ms, t, first;
	gboolean found, older;

	if (max_count > 0) {
		if (!step_time(store,
			       "SELECT time_ms FROM reports WHERE domain_id = ?"
			       " ORDER BY time_ms DESC LIMIT 1 OFFSET ?",
			       domain_id, (gint64)max_count - 1, &t, &found, error))
			return FALSE;
		if (found)
			cut = MAX(cut, t);
	}
	if (cut == G_MININT64)
		return TRUE;
	/* host samples older than every report kept measure nothing any more */
	if (!vt_store_prune_host_samples(store, domain_id, cut, error))
		return FALSE;
	if (!step_time(store,
		       "SELECT time_ms FROM reports WHERE domain_id = ? AND time_ms < ? LIMIT 1",
		       domain_id, cut, &t, &older, error))
		return FALSE;
	if (!older)
		return TRUE;

	/* the oldest row kept must be a key: rewrite it as one if it is a delta */
	{
		g_autoptr(VtStoreStmt) st = vt_store_stmt(
			store,
			"SELECT time_ms, layout_id IS NULL FROM reports WHERE domain_id = ?"
			" AND time_ms >= ? ORDER BY time_ms LIMIT 1",
			error);
		int rc;

		if (st == NULL)
			return FALSE;
		sqlite3_bind_int64(st, 1, domain_id);
		sqlite3_bind_int64(st, 2, cut);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return vt_store_sql_error(store, error, "pruning reports");
		found = rc == SQLITE_ROW && sqlite3_column_int(st, 1);
		first = found ? sqlite3_column_int64(st, 0) : 0;
	}
	if (found) {
		g_auto(VtStoreChainState) state = {0};
		g_autoptr(GByteArray) blob = NULL;
		g_autoptr(VtStoreStmt) up = NULL;

		if (!vt_store_decode_range(store, domain_id, first, first, NULL, &state, error))
			return FALSE;
		if (state.layout == NULL || state.time_ms != first) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "report at %" G_GINT64_FORMAT " ms has no key", first);
			return FALSE;
		}
		blob = vt_counters_encode(state.values, NULL);
		up = vt_store_stmt(store,
				   "UPDATE reports SET layout_id = ?, counters = ?"
				   " WHERE domain_id = ? AND time_ms = ?",
				   error);
		if (up == NULL)
			return FALSE;
		sqlite3_bind_int64(up, 1, state.layout->id);
		sqlite3_bind_blob(up, 2, blob->data, (int)blob->len, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, domain_id);
		sqlite3_bind_int64(up, 4, first);
		if (sqlite3_step(up) != SQLITE_DONE)
			return vt_store_sql_error(store, error, "pruning reports");
	}
	g_autoptr(VtStoreStmt) del = vt_store_stmt(
		store, "DELETE FROM reports WHERE domain_id = ? AND time_ms < ?", error);

	if (del == NULL)
		return FALSE;
	sqlite3_bind_int64(del, 1, domain_id);
	sqlite3_bind_int64(del, 2, cut);
	if (sqlite3_step(del) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "pruning reports");
	*removed += (guint64)sqlite3_changes(store->db);
	return TRUE;
}

gboolean
vt_store_collect_garbage(VtStore *store, GError **error)
{
	return vt_store_exec(
		store,
		"DELETE FROM layout_parts WHERE layout_id IN (SELECT id FROM layouts l"
		"  WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.layout_id = l.id));"
		"DELETE FROM layouts WHERE NOT EXISTS"
		"  (SELECT 1 FROM reports r WHERE r.layout_id = layouts.id);"
		"DELETE FROM sections WHERE NOT EXISTS"
		"  (SELECT 1 FROM layout_parts p WHERE p.section_id = sections.id);",
		error);
}
