/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "error.h"
#include "store-private.h"

void
vt_store_recommendation_free(VtStoreRecommendation *rec)
{
	if (rec == NULL)
		return;
	g_free(rec->domain_uuid);
	g_free(rec->id);
	g_free(rec->rule);
	g_free(rec->severity);
	g_free(rec->summary);
	g_free(rec);
}

/* The domain's open episodes: rec_id -> row id (a gint64). */
static gboolean
read_open(VtStore *store, gint64 domain_id, GHashTable *open, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(store,
						  "SELECT id, rec_id FROM recommendations"
						  " WHERE domain_id = ? AND resolved_ms IS NULL",
						  error);
	int rc;

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(st, 0);

		g_hash_table_insert(open, vt_store_column_text(st, 1), g_memdup2(&id, sizeof(id)));
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "reading recommendations");
	return TRUE;
}

/* @rec seen now: its open episode (row id *@row) goes on, or with none
 * (@row NULL) a new one starts. */
static gboolean
store_seen(VtStore *store, gint64 domain_id, gint64 now_ms, const VtStoreRecommendation *rec,
	   const gint64 *row, GError **error)
{
	g_autoptr(VtStoreStmt) st = NULL;

	if (row != NULL) {
		st = vt_store_stmt(store,
				   "UPDATE recommendations SET last_seen_ms = max(last_seen_ms, ?),"
				   " rule = ?, severity = ?, summary = ? WHERE id = ?",
				   error);
		if (st == NULL)
			return FALSE;
		sqlite3_bind_int64(st, 1, now_ms);
		vt_store_bind_text(st, 2, rec->rule);
		vt_store_bind_text(st, 3, rec->severity);
		vt_store_bind_text(st, 4, rec->summary);
		sqlite3_bind_int64(st, 5, *row);
	} else {
		st = vt_store_stmt(store,
				   "INSERT INTO recommendations (domain_id, rec_id, rule, severity,"
				   " summary, first_seen_ms, last_seen_ms)"
				   " VALUES (?, ?, ?, ?, ?, ?6, ?6)",
				   error);
		if (st == NULL)
			return FALSE;
		sqlite3_bind_int64(st, 1, domain_id);
		vt_store_bind_text(st, 2, rec->id);
		vt_store_bind_text(st, 3, rec->rule);
		vt_store_bind_text(st, 4, rec->severity);
		vt_store_bind_text(st, 5, rec->summary);
		sqlite3_bind_int64(st, 6, now_ms);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "storing a recommendation");
	return TRUE;
}

/* The episodes of @open (rec_id -> row id) end at @now_ms. */
static gboolean
resolve(VtStore *store, gint64 now_ms, GHashTable *open, GError **error)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, open);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		g_autoptr(VtStoreStmt) st = vt_store_stmt(
			store, "UPDATE recommendations SET resolved_ms = ? WHERE id = ?", error);

		if (st == NULL)
			return FALSE;
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_int64(st, 2, *(gint64 *)value);
		if (sqlite3_step(st) != SQLITE_DONE)
			return vt_store_sql_error(store, error, "resolving a recommendation");
	}
	return TRUE;
}

static gboolean
apply_active(VtStore *store, const char *uuid, gint64 now_ms, const VtStoreRecommendation *active,
	     guint n_active, GError **error)
{
	/* rec_id -> row id of its open episode; what is left at the end resolves */
	g_autoptr(GHashTable) open = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	gint64 domain_id;

	if (!vt_store_domain_id(store, uuid, NULL, now_ms, &domain_id, error) ||
	    !read_open(store, domain_id, open, error))
		return FALSE;
	for (guint i = 0; i < n_active; i++) {
		const VtStoreRecommendation *rec = &active[i];

		if (rec->id == NULL || rec->rule == NULL || rec->severity == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "a recommendation needs an id, a rule and a severity");
			return FALSE;
		}
		if (g_hash_table_contains(seen, rec->id))
			continue;
		g_hash_table_add(seen, rec->id);
		if (!store_seen(store, domain_id, now_ms, rec, g_hash_table_lookup(open, rec->id),
				error))
			return FALSE;
		g_hash_table_remove(open, rec->id);
	}
	return resolve(store, now_ms, open, error);
}

/* @active as one string, each field with its length, so that two different
 * sets never flatten to the same. */
static char *
flatten(const VtStoreRecommendation *active, guint n_active)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < n_active; i++) {
		const char *fields[] = {active[i].id, active[i].rule, active[i].severity,
					active[i].summary};

		for (gsize f = 0; f < G_N_ELEMENTS(fields); f++) {
			if (fields[f] == NULL)
				g_string_append(out, "-;");
			else
				g_string_append_printf(out, "%zu:%s;", strlen(fields[f]),
						       fields[f]);
		}
	}
	return g_string_free(out, FALSE);
}

gboolean
vt_store_set_recommendations(VtStore *store, const char *uuid, gint64 now_ms,
			     const VtStoreRecommendation *active, guint n_active, GError **error)
{
	g_autofree char *flat = flatten(active, n_active);
	VtStoreDomainRow *row = vt_store_domain_row(store, uuid);
	gboolean ok;

	/* The same set as last written: its episodes go on, and their
	 * last_seen_ms is raised at most every VT_STORE_SEEN_EVERY_MS. */
	if (row != NULL && row->recommendations != NULL &&
	    strcmp(row->recommendations, flat) == 0 &&
	    vt_store_seen_recently(row->recommendations_written_ms, now_ms))
		return TRUE;
	if (!vt_store_op_begin(store, FALSE, error))
		return FALSE;
	ok = apply_active(store, uuid, now_ms, active, n_active, error);
	if (!vt_store_op_end(store, ok, FALSE, error))
		return FALSE;
	row = vt_store_domain_row(store, uuid);
	if (row != NULL) {
		g_free(row->recommendations);
		row->recommendations = g_steal_pointer(&flat);
		row->recommendations_written_ms = now_ms;
	}
	return TRUE;
}

GPtrArray *
vt_store_list_recommendations(VtStore *store, const char *uuid, gboolean include_resolved,
			      GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_store_recommendation_free);
	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store,
		"SELECT d.uuid, r.rec_id, r.rule, r.severity, r.summary, r.first_seen_ms,"
		" r.last_seen_ms, r.resolved_ms FROM recommendations r"
		" JOIN domains d ON d.id = r.domain_id"
		" WHERE (?1 IS NULL OR d.uuid = ?1) AND (?2 OR r.resolved_ms IS NULL)"
		" ORDER BY r.first_seen_ms, r.id",
		error);
	int rc;

	if (st == NULL)
		return NULL;
	vt_store_bind_text(st, 1, uuid);
	sqlite3_bind_int(st, 2, include_resolved ? 1 : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		VtStoreRecommendation *rec = g_new0(VtStoreRecommendation, 1);

		rec->domain_uuid = vt_store_column_text(st, 0);
		rec->id = vt_store_column_text(st, 1);
		rec->rule = vt_store_column_text(st, 2);
		rec->severity = vt_store_column_text(st, 3);
		rec->summary = vt_store_column_text(st, 4);
		rec->first_seen_ms = sqlite3_column_int64(st, 5);
		rec->last_seen_ms = sqlite3_column_int64(st, 6);
		rec->resolved_ms = sqlite3_column_int64(st, 7);
		g_ptr_array_add(out, rec);
	}
	if (rc != SQLITE_DONE) {
		vt_store_sql_error(store, error, "listing recommendations");
		return NULL;
	}
	return g_steal_pointer(&out);
}
