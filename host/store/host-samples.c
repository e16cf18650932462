/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's counters of each domain per poll, opaque to the store: kept so
 * that a change has host figures from before it was made. They go with the
 * reports: retention and the byte budget cut both at the same time, and a
 * domain keeps at most VT_STORE_HOST_SAMPLES_MAX of them.
 */
#include "error.h"
#include "store-private.h"

void
vt_store_host_sample_free(VtStoreHostSample *sample)
{
	if (sample == NULL)
		return;
	g_bytes_unref(sample->data);
	g_free(sample);
}

static gboolean
insert_sample(VtStore *store, const char *uuid, const char *name, gint64 time_ms, const void *data,
	      gsize len, gint64 *domain_id, GError **error)
{
	g_autoptr(VtStoreStmt) st = NULL;
	g_autoptr(VtStoreStmt) trim = NULL;

	if (!vt_store_domain_id(store, uuid, name, time_ms, domain_id, error))
		return FALSE;
	st = vt_store_stmt(store,
			   "INSERT OR REPLACE INTO host_samples (domain_id, time_ms, data)"
			   " VALUES (?, ?, ?)",
			   error);
	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, *domain_id);
	sqlite3_bind_int64(st, 2, time_ms);
	sqlite3_bind_blob(st, 3, data, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "storing a host sample");
	/* an index seek: the row VT_STORE_HOST_SAMPLES_MAX back, and older ones go */
	trim = vt_store_stmt(store,
			     "DELETE FROM host_samples WHERE domain_id = ?1 AND time_ms <"
			     " (SELECT time_ms FROM host_samples WHERE domain_id = ?1"
			     "   ORDER BY time_ms DESC LIMIT 1 OFFSET ?2)",
			     error);
	if (trim == NULL)
		return FALSE;
	sqlite3_bind_int64(trim, 1, *domain_id);
	sqlite3_bind_int64(trim, 2, VT_STORE_HOST_SAMPLES_MAX - 1);
	if (sqlite3_step(trim) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "trimming host samples");
	return TRUE;
}

gboolean
vt_store_add_host_sample(VtStore *store, const char *uuid, const char *name, gint64 time_ms,
			 const void *data, gsize len, GError **error)
{
	VtStoreChain *chain;
	gint64 domain_id = 0;
	gboolean ok;

	if (uuid == NULL || *uuid == '\0') {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "a domain needs a UUID");
		return FALSE;
	}
	if (len == 0 || len > VT_STORE_HOST_SAMPLE_MAX_BYTES) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "a host sample of %" G_GSIZE_FORMAT " bytes (1 to %u)", len,
			    VT_STORE_HOST_SAMPLE_MAX_BYTES);
		return FALSE;
	}
	if (!vt_store_op_begin(store, FALSE, error))
		return FALSE;
	ok = insert_sample(store, uuid, name, time_ms, data, len, &domain_id, error);
	if (!vt_store_op_end(store, ok, FALSE, error))
		return FALSE;
	/* counted against the budget, which the domain's next report enforces */
	chain = g_hash_table_lookup(store->chains, uuid);
	if (chain != NULL && chain->domain_id == domain_id && chain->bytes >= 0)
		chain->bytes += (gint64)len;
	return TRUE;
}

GPtrArray *
vt_store_host_samples(VtStore *store, const char *uuid, gint64 since_ms, gint64 until_ms,
		      guint limit, GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_store_host_sample_free);
	g_autoptr(VtStoreStmt) st = NULL;
	gint64 domain_id;
	int rc;

	if (!vt_store_lookup_domain(store, uuid, &domain_id, error))
		return NULL;
	if (domain_id == 0)
		return g_steal_pointer(&out);
	/* the newest @limit, oldest first */
	st = vt_store_stmt(store,
			   "SELECT time_ms, data FROM (SELECT time_ms, data FROM host_samples"
			   " WHERE domain_id = ? AND time_ms >= ? AND time_ms <= ?"
			   " ORDER BY time_ms DESC LIMIT ?) ORDER BY time_ms",
			   error);
	if (st == NULL)
		return NULL;
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_int64(st, 2, since_ms > 0 ? since_ms : G_MININT64);
	sqlite3_bind_int64(st, 3, until_ms > 0 ? until_ms : G_MAXINT64);
	sqlite3_bind_int64(st, 4, limit > 0 ? (gint64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gsize len = (gsize)sqlite3_column_bytes(st, 1);
		VtStoreHostSample *s;

		if (len > VT_STORE_HOST_SAMPLE_MAX_BYTES) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "host sample at %" G_GINT64_FORMAT " ms has %" G_GSIZE_FORMAT
				    " bytes",
				    (gint64)sqlite3_column_int64(st, 0), len);
			return NULL;
		}
		s = g_new0(VtStoreHostSample, 1);
		s->time_ms = sqlite3_column_int64(st, 0);
		s->data = g_bytes_new(sqlite3_column_blob(st, 1), len);
		g_ptr_array_add(out, s);
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "reading host samples"), NULL;
	return g_steal_pointer(&out);
}

gboolean
vt_store_prune_host_samples(VtStore *store, gint64 domain_id, gint64 cutoff_ms, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store, "DELETE FROM host_samples WHERE domain_id = ? AND time_ms < ?", error);

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_int64(st, 2, cutoff_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "pruning host samples");
	return TRUE;
}
