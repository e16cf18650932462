/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "migrations.h"

/* How long a write waits for another connection's lock (a reader never blocks
 * a writer in WAL mode; this covers a second writer and checkpoints). */
#define VT_STORE_BUSY_TIMEOUT_MS 5000

#define VT_STORE_DIR_MODE  0750
#define VT_STORE_FILE_MODE 0640

gboolean
vt_store_sql_error(VtStore *store, GError **error, const char *what)
{
	int code = sqlite3_extended_errcode(store->db);
	VtError kind = VT_ERROR_IO;

	switch (code & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		kind = VT_ERROR_INVALID;
		break;
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		kind = VT_ERROR_PERMISSION;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		kind = VT_ERROR_UNAVAILABLE;
		break;
	case SQLITE_FULL:
	case SQLITE_TOOBIG:
		kind = VT_ERROR_TOO_LARGE;
		break;
	default:
		break;
	}
	g_set_error(error, VT_ERROR, kind, "%s: %s: %s (%d)", store->path, what,
		    sqlite3_errmsg(store->db), code);
	return FALSE;
}

VtStoreStmt *
vt_store_stmt(VtStore *store, const char *sql, GError **error)
{
	sqlite3_stmt *st = g_hash_table_lookup(store->stmts, sql);

	if (st == NULL) {
		if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			vt_store_sql_error(store, error, sql);
			return NULL;
		}
		g_hash_table_insert(store->stmts, (gpointer)sql, st);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

gboolean
vt_store_exec(VtStore *store, const char *sql, GError **error)
{
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return vt_store_sql_error(store, error, sql);
	return TRUE;
}

char *
vt_store_column_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	return text != NULL ? g_strdup((const char *)text) : NULL;
}

void
vt_store_bind_text(sqlite3_stmt *stmt, int col, const char *text)
{
	if (text != NULL)
		sqlite3_bind_text(stmt, col, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, col);
}

static void
stmt_finalize(gpointer data)
{
	sqlite3_finalize(data);
}

static void
chain_free(gpointer data)
{
	VtStoreChain *chain = data;

	vt_counters_free(chain->values);
	if (chain->shape != NULL)
		g_byte_array_unref(chain->shape);
	g_free(chain);
}

void
vt_store_forget_caches(VtStore *store)
{
	g_hash_table_remove_all(store->sections);
	g_hash_table_remove_all(store->layouts);
	g_hash_table_remove_all(store->chains);
	g_hash_table_remove_all(store->domain_rows);
}

/* ------------------------------------------------------------ transactions */

static gboolean
set_synchronous(VtStore *store, gboolean full, GError **error)
{
	return vt_store_exec(
		store, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error);
}

/* A transaction statement prepared once: sqlite3_exec() would parse it again
 * at every call, twice per write inside a batch. @sql is a literal (the
 * statement cache is keyed by its address). */
static gboolean
exec_cached(VtStore *store, const char *sql, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(store, sql, error);

	if (st == NULL)
		return FALSE;
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, sql);
	return TRUE;
}

gboolean
vt_store_op_begin(VtStore *store, gboolean durable, GError **error)
{
	/* What a durable write promises when it returns (on disk, with all that
	 * came before it) is more than a batch promises: the batch ends here. */
	if (store->in_batch && durable && !vt_store_commit(store, error))
		return FALSE;
	if (store->in_batch)
		return exec_cached(store, "SAVEPOINT vt_op", error);
	/* the safety level cannot change inside a transaction */
	if (durable && !set_synchronous(store, TRUE, error))
		return FALSE;
	if (exec_cached(store, "BEGIN IMMEDIATE", error))
		return TRUE;
	if (durable)
		set_synchronous(store, FALSE, NULL);
	return FALSE;
}

gboolean
vt_store_op_end(VtStore *store, gboolean ok, gboolean durable, GError **error)
{
	if (store->in_batch) {
		if (ok)
			return exec_cached(store, "RELEASE vt_op", error);
		exec_cached(store, "ROLLBACK TO vt_op", NULL);
		exec_cached(store, "RELEASE vt_op", NULL);
		vt_store_forget_caches(store);
		return FALSE;
	}
	if (ok)
		ok = exec_cached(store, "COMMIT", error);
	if (!ok) {
		if (!sqlite3_get_autocommit(store->db))
			exec_cached(store, "ROLLBACK", NULL);
		vt_store_forget_caches(store);
	}
	if (durable)
		set_synchronous(store, FALSE, NULL);
	return ok;
}

gboolean
vt_store_begin(VtStore *store, GError **error)
{
	if (store->in_batch) {
		g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "a batch is already open");
		return FALSE;
	}
	if (!exec_cached(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	store->in_batch = TRUE;
	return TRUE;
}

gboolean
vt_store_commit(VtStore *store, GError **error)
{
	if (!store->in_batch) {
		g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "no batch is open");
		return FALSE;
	}
	store->in_batch = FALSE;
	return vt_store_op_end(store, TRUE, FALSE, error);
}

gboolean
vt_store_in_batch(VtStore *store)
{
	return store->in_batch;
}

void
vt_store_rollback(VtStore *store)
{
	if (!store->in_batch)
		return;
	store->in_batch = FALSE;
	vt_store_op_end(store, FALSE, FALSE, NULL);
}

gboolean
vt_store_checkpoint(VtStore *store, GError **error)
{
	if (sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
	    SQLITE_OK)
		return vt_store_sql_error(store, error, "checkpoint");
	return TRUE;
}

/* ------------------------------------------------------------ open */

static gboolean
prepare_path(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int fd;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		if (g_mkdir_with_parents(dir, VT_STORE_DIR_MODE) < 0 ||
		    g_chmod(dir, VT_STORE_DIR_MODE) < 0) {
			vt_error_set_errno(error, errno, "creating %s", dir);
			return FALSE;
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, VT_STORE_FILE_MODE);
	if (fd < 0) {
		if (errno == EEXIST)
			return TRUE;
		vt_error_set_errno(error, errno, "creating %s", path);
		return FALSE;
	}
	/* the umask may have taken bits away; SQLite gives -wal/-shm these too */
	if (fchmod(fd, VT_STORE_FILE_MODE) < 0) {
		int errsv = errno;

		close(fd);
		vt_error_set_errno(error, errsv, "chmod %s", path);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

static gboolean
configure(VtStore *store, GError **error)
{
	g_autoptr(VtStoreStmt) st = NULL;
	const char *mode;

	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, VT_STORE_BUSY_TIMEOUT_MS);

	st = vt_store_stmt(store, "PRAGMA journal_mode = WAL", error);
	if (st == NULL)
		return FALSE;
	if (sqlite3_step(st) != SQLITE_ROW)
		return vt_store_sql_error(store, error, "enabling WAL");
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || g_ascii_strcasecmp(mode, "wal") != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_SUPPORTED,
			    "%s: cannot use WAL mode (journal mode is %s)", store->path,
			    mode != NULL ? mode : "unknown");
		return FALSE;
	}
	/*
	 * NORMAL: in WAL mode a commit is atomic and a crash of the process
	 * loses nothing committed; a power loss may lose the last commits
	 * since the WAL was synced, never the database's consistency. Reports
	 * arrive again every few seconds, so that is the right trade against
	 * an fsync per report. Audit entries are written with FULL.
	 */
	return set_synchronous(store, FALSE, error) &&
	       vt_store_exec(store, "PRAGMA foreign_keys = OFF", error);
}

static void
domain_row_free(gpointer data)
{
	VtStoreDomainRow *row = data;

	g_free(row->name);
	g_free(row->recommendations);
	g_free(row);
}

VtStore *
vt_store_open_version(const char *path, guint target_version, GError **error)
{
	g_autoptr(VtStore) store = g_new0(VtStore, 1);

	store->path = g_strdup(path);
	store->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, stmt_finalize);
	store->sections = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
						(GDestroyNotify)g_bytes_unref, g_free);
	store->layouts = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
					       (GDestroyNotify)g_bytes_unref, g_free);
	store->chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, chain_free);
	store->shape = g_byte_array_new();
	store->domain_rows =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, domain_row_free);
	store->budget_hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	if (!prepare_path(path, error))
		return NULL;
	if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (store->db == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "%s: out of memory", path);
			return NULL;
		}
		vt_store_sql_error(store, error, "open");
		return NULL;
	}
	if (!configure(store, error) || !vt_store_migrate(store, target_version, error))
		return NULL;
	return g_steal_pointer(&store);
}

VtStore *
vt_store_open(const char *path, GError **error)
{
	return vt_store_open_version(path, VT_STORE_SCHEMA_VERSION, error);
}

void
vt_store_free(VtStore *store)
{
	if (store == NULL)
		return;
	if (store->in_batch)
		vt_store_rollback(store);
	g_clear_pointer(&store->stmts, g_hash_table_unref);
	g_clear_pointer(&store->sections, g_hash_table_unref);
	g_clear_pointer(&store->layouts, g_hash_table_unref);
	g_clear_pointer(&store->chains, g_hash_table_unref);
	g_clear_pointer(&store->shape, g_byte_array_unref);
	g_clear_pointer(&store->domain_rows, g_hash_table_unref);
	g_clear_pointer(&store->budget_hits, g_hash_table_unref);
	if (store->db != NULL)
		sqlite3_close(store->db);
	g_free(store->path);
	g_free(store);
}

guint
vt_store_schema_version(VtStore *store)
{
	return store->schema_version;
}

const char *
vt_store_path(VtStore *store)
{
	return store->path;
}

/* ------------------------------------------------------------ domains */

void
vt_store_domain_free(VtStoreDomain *domain)
{
	if (domain == NULL)
		return;
	g_free(domain->uuid);
	g_free(domain->name);
	g_free(domain);
}

gboolean
vt_store_lookup_domain(VtStore *store, const char *uuid, gint64 *id, GError **error)
{
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store, "SELECT id FROM domains WHERE uuid = ?", error);
	int rc;

	if (st == NULL)
		return FALSE;
	vt_store_bind_text(st, 1, uuid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		return TRUE;
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "looking up a domain");
	*id = 0;
	return TRUE;
}

VtStoreDomainRow *
vt_store_domain_row(VtStore *store, const char *uuid)
{
	return uuid != NULL ? g_hash_table_lookup(store->domain_rows, uuid) : NULL;
}

VtStoreDomainRow *
vt_store_domain_row_current(VtStore *store, const char *uuid, const char *name, gint64 now_ms)
{
	VtStoreDomainRow *row = vt_store_domain_row(store, uuid);

	return row != NULL && (name == NULL || strcmp(name, row->name) == 0) &&
			       vt_store_seen_recently(row->seen_written_ms, now_ms)
		       ? row
		       : NULL;
}

gboolean
vt_store_domain_id(VtStore *store, const char *uuid, const char *name, gint64 now_ms, gint64 *id,
		   GError **error)
{
	VtStoreDomainRow *row = vt_store_domain_row_current(store, uuid, name, now_ms);
	g_autoptr(VtStoreStmt) st = NULL;

	if (row != NULL) {
		*id = row->id;
		return TRUE;
	}
	row = vt_store_domain_row(store, uuid);
	st = vt_store_stmt(store,
			   "INSERT INTO domains (uuid, name, first_seen_ms, last_seen_ms) "
			   "VALUES (?1, coalesce(?2, ?1), ?3, ?3)"
			   /* callers that know no name (NULL) keep the one we have */
			   " ON CONFLICT (uuid) DO UPDATE SET name = coalesce(?2, name),"
			   " last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)"
			   " RETURNING id, name",
			   error);
	if (st == NULL)
		return FALSE;
	if (uuid == NULL || *uuid == '\0') {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "a domain needs a UUID");
		return FALSE;
	}
	vt_store_bind_text(st, 1, uuid);
	vt_store_bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sqlite3_step(st) != SQLITE_ROW)
		return vt_store_sql_error(store, error, "recording a domain");
	*id = sqlite3_column_int64(st, 0);
	if (row == NULL) {
		row = g_new0(VtStoreDomainRow, 1);
		g_hash_table_insert(store->domain_rows, g_strdup(uuid), row);
	}
	row->id = *id;
	g_free(row->name);
	row->name = vt_store_column_text(st, 1);
	row->seen_written_ms = MAX(row->seen_written_ms, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		g_hash_table_remove(store->domain_rows, uuid);
		return vt_store_sql_error(store, error, "recording a domain");
	}
	return TRUE;
}

gboolean
vt_store_touch_domain(VtStore *store, const char *uuid, const char *name, gint64 now_ms,
		      GError **error)
{
	gint64 id;
	gboolean ok;

	if (!vt_store_op_begin(store, FALSE, error))
		return FALSE;
	ok = vt_store_domain_id(store, uuid, name, now_ms, &id, error);
	return vt_store_op_end(store, ok, FALSE, error);
}

GPtrArray *
vt_store_list_domains(VtStore *store, GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_store_domain_free);
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store,
			      "SELECT d.uuid, d.name, d.first_seen_ms, d.last_seen_ms,"
			      " (SELECT max(time_ms) FROM reports r WHERE r.domain_id = d.id),"
			      " (SELECT count(*) FROM reports r WHERE r.domain_id = d.id)"
			      " FROM domains d ORDER BY d.name, d.uuid",
			      error);
	int rc;

	if (st == NULL)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		VtStoreDomain *d = g_new0(VtStoreDomain, 1);

		d->uuid = vt_store_column_text(st, 0);
		d->name = vt_store_column_text(st, 1);
		d->first_seen_ms = sqlite3_column_int64(st, 2);
		d->last_seen_ms = sqlite3_column_int64(st, 3);
		d->last_report_ms = sqlite3_column_int64(st, 4);
		d->n_reports = (guint64)sqlite3_column_int64(st, 5);
		g_ptr_array_add(out, d);
	}
	if (rc != SQLITE_DONE) {
		vt_store_sql_error(store, error, "listing domains");
		return NULL;
	}
	return g_steal_pointer(&out);
}

/* ------------------------------------------------------------ retention */

gboolean
vt_store_prune(VtStore *store, gint64 now_ms, gint64 max_age_ms, guint max_per_domain,
	       guint64 *removed, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	gint64 cutoff = max_age_ms > 0 ? now_ms - max_age_ms : G_MININT64;
	guint64 count = 0;
	gboolean ok = TRUE;
	int rc;

	if (!vt_store_op_begin(store, FALSE, error))
		return FALSE;
	{
		g_autoptr(VtStoreStmt) st =
			vt_store_stmt(store, "SELECT id, uuid, name FROM domains", error);

		ok = st != NULL;
		while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			gint64 id = sqlite3_column_int64(st, 0);

			g_array_append_val(ids, id);
			g_ptr_array_add(uuids, vt_store_column_text(st, 1));
			g_ptr_array_add(names, vt_store_column_text(st, 2));
		}
		if (ok && rc != SQLITE_DONE)
			ok = vt_store_sql_error(store, error, "listing domains");
	}
	for (guint i = 0; ok && i < ids->len; i++) {
		gint64 bytes = -1;
		gboolean trimmed;

		ok = vt_store_prune_reports(store, g_array_index(ids, gint64, i), cutoff,
					    max_per_domain, &count, error) &&
		     vt_store_budget_enforce(store, uuids->pdata[i], names->pdata[i],
					     g_array_index(ids, gint64, i), &bytes, &trimmed,
					     error);
	}
	if (ok && max_age_ms > 0) {
		g_autoptr(VtStoreStmt) st = vt_store_stmt(
			store, "DELETE FROM recommendations WHERE resolved_ms < ?", error);

		ok = st != NULL;
		if (ok) {
			sqlite3_bind_int64(st, 1, cutoff);
			if (sqlite3_step(st) != SQLITE_DONE)
				ok = vt_store_sql_error(store, error, "pruning recommendations");
		}
	}
	ok = ok && vt_store_collect_garbage(store, error);
	/* the chains may point at rows that are gone or rewritten */
	vt_store_forget_caches(store);
	if (!vt_store_op_end(store, ok, FALSE, error))
		return FALSE;
	if (removed != NULL)
		*removed = count;
	return TRUE;
}
