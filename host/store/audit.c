/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "error.h"
#include "store-private.h"

void
vt_store_audit_free(VtStoreAudit *entry)
{
	if (entry == NULL)
		return;
	g_free(entry->domain_uuid);
	g_free(entry->request_id);
	g_free(entry->recommendation_id);
	g_free(entry->operation);
	g_free(entry->action_json);
	g_free(entry->status);
	g_free(entry->before);
	g_free(entry->after);
	g_free(entry->change_id);
	g_free(entry->reason);
	g_free(entry);
}

static gboolean
insert_entry(VtStore *store, const VtStoreAudit *e, gint64 *id, GError **error)
{
	gint64 domain_id;
	g_autoptr(VtStoreStmt) st = NULL;

	if (e->operation == NULL || *e->operation == '\0') {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "an audit entry needs an operation");
		return FALSE;
	}
	if (!vt_store_domain_id(store, e->domain_uuid, NULL, e->time_ms, &domain_id, error))
		return FALSE;
	st = vt_store_stmt(store,
			   "INSERT INTO audit (time_ms, domain_id, peer_uid, request_id,"
			   " recommendation_id, operation, action_json, status, before, after,"
			   " change_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			   error);
	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, e->time_ms);
	sqlite3_bind_int64(st, 2, domain_id);
	sqlite3_bind_int64(st, 3, e->peer_uid);
	vt_store_bind_text(st, 4, e->request_id);
	vt_store_bind_text(st, 5, e->recommendation_id);
	vt_store_bind_text(st, 6, e->operation);
	vt_store_bind_text(st, 7, e->action_json);
	vt_store_bind_text(st, 8, e->status != NULL ? e->status : "pending");
	vt_store_bind_text(st, 9, e->before);
	vt_store_bind_text(st, 10, e->after);
	vt_store_bind_text(st, 11, e->change_id);
	vt_store_bind_text(st, 12, e->reason);
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "appending to the audit trail");
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

gboolean
vt_store_audit_record(VtStore *store, const VtStoreAudit *entry, gint64 *id, GError **error)
{
	gboolean ok;

	if (!vt_store_op_begin(store, TRUE, error))
		return FALSE;
	ok = insert_entry(store, entry, id, error);
	return vt_store_op_end(store, ok, TRUE, error);
}

static gboolean
update_entry(VtStore *store, gint64 id, gint64 finished_ms, const VtStoreAudit *r, GError **error)
{
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store,
			      "UPDATE audit SET status = ?, before = coalesce(?, before), after = "
			      "coalesce(?, after),"
			      " change_id = coalesce(?, change_id), reason = coalesce(?, reason),"
			      " finished_ms = ? WHERE id = ?",
			      error);

	if (st == NULL)
		return FALSE;
	if (r->status == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "an outcome needs a status");
		return FALSE;
	}
	vt_store_bind_text(st, 1, r->status);
	vt_store_bind_text(st, 2, r->before);
	vt_store_bind_text(st, 3, r->after);
	vt_store_bind_text(st, 4, r->change_id);
	vt_store_bind_text(st, 5, r->reason);
	sqlite3_bind_int64(st, 6, finished_ms);
	sqlite3_bind_int64(st, 7, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "recording an outcome");
	if (sqlite3_changes(store->db) != 1) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "no audit entry %" G_GINT64_FORMAT,
			    id);
		return FALSE;
	}
	return TRUE;
}

gboolean
vt_store_audit_finish(VtStore *store, gint64 id, gint64 finished_ms, const VtStoreAudit *result,
		      GError **error)
{
	gboolean ok;

	if (!vt_store_op_begin(store, TRUE, error))
		return FALSE;
	ok = update_entry(store, id, finished_ms, result, error);
	return vt_store_op_end(store, ok, TRUE, error);
}

#define AUDIT_COLUMNS                                                                              \
	"SELECT a.id, a.time_ms, d.uuid, a.peer_uid, a.request_id, a.recommendation_id,"           \
	" a.operation, a.action_json, a.status, a.before, a.after, a.change_id, a.reason,"         \
	" a.finished_ms FROM audit a JOIN domains d ON d.id = a.domain_id"

static VtStoreAudit *
read_entry(sqlite3_stmt *st)
{
	VtStoreAudit *e = g_new0(VtStoreAudit, 1);

	e->id = sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	e->domain_uuid = vt_store_column_text(st, 2);
	e->peer_uid = (guint32)sqlite3_column_int64(st, 3);
	e->request_id = vt_store_column_text(st, 4);
	e->recommendation_id = vt_store_column_text(st, 5);
	e->operation = vt_store_column_text(st, 6);
	e->action_json = vt_store_column_text(st, 7);
	e->status = vt_store_column_text(st, 8);
	e->before = vt_store_column_text(st, 9);
	e->after = vt_store_column_text(st, 10);
	e->change_id = vt_store_column_text(st, 11);
	e->reason = vt_store_column_text(st, 12);
	e->finished_ms = sqlite3_column_int64(st, 13);
	return e;
}

GPtrArray *
vt_store_audit_list(VtStore *store, const char *uuid, gint64 since_ms, guint limit, GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_store_audit_free);
	/* the newest @limit, then put back in time order */
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store,
			      "SELECT * FROM (" AUDIT_COLUMNS " WHERE (?1 IS NULL OR d.uuid = ?1)"
			      " AND a.time_ms >= ?2 ORDER BY a.time_ms DESC, a.id DESC LIMIT ?3)"
			      " ORDER BY time_ms, id",
			      error);
	int rc;

	if (st == NULL)
		return NULL;
	vt_store_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int64(st, 3, limit > 0 ? (gint64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(out, read_entry(st));
	if (rc != SQLITE_DONE) {
		vt_store_sql_error(store, error, "reading the audit trail");
		return NULL;
	}
	return g_steal_pointer(&out);
}

VtStoreAudit *
vt_store_audit_find_change(VtStore *store, const char *uuid, const char *change_id, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store,
		AUDIT_COLUMNS " WHERE d.uuid = ? AND a.change_id = ? AND a.operation = 'apply'"
			      " ORDER BY a.id DESC LIMIT 1",
		error);
	int rc;

	if (st == NULL)
		return NULL;
	vt_store_bind_text(st, 1, uuid);
	vt_store_bind_text(st, 2, change_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return read_entry(st);
	if (rc != SQLITE_DONE)
		vt_store_sql_error(store, error, "reading the audit trail");
	else
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "%s: no change %s", uuid,
			    change_id);
	return NULL;
}
