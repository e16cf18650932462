/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "migrations.h"

#include "error.h"

/*
 * Migration N takes a database from user_version N-1 to N. Each runs in its
 * own transaction together with the user_version bump, so a crash leaves the
 * database at N-1 or N, never in between. Never edit a released entry: append.
 *
 * Reports are stored as changes (README.md): a report row holds only its
 * counters blob; the configuration parts of the report live in `sections`
 * (deduplicated by SHA-256), grouped into `layouts`. Only key rows name their
 * layout; a delta row belongs to the layout of the key before it.
 */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  first_seen_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL);"
	"CREATE TABLE sections ("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  data BLOB NOT NULL);"
	"CREATE TABLE layouts ("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE);"
	"CREATE TABLE layout_parts ("
	"  layout_id INTEGER NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  section_id INTEGER NOT NULL,"
	"  PRIMARY KEY (layout_id, pos)) WITHOUT ROWID;"
	"CREATE INDEX layout_parts_section ON layout_parts(section_id);"
	"CREATE TABLE reports ("
	"  domain_id INTEGER NOT NULL,"
	"  time_ms INTEGER NOT NULL,"
	"  layout_id INTEGER,"
	"  counters BLOB NOT NULL,"
	"  PRIMARY KEY (domain_id, time_ms)) WITHOUT ROWID;"
	"CREATE INDEX reports_key ON reports(layout_id) WHERE layout_id IS NOT NULL;"
	"CREATE TABLE recommendations ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL,"
	"  rec_id TEXT NOT NULL,"
	"  rule TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  summary TEXT,"
	"  first_seen_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL,"
	"  resolved_ms INTEGER);"
	"CREATE UNIQUE INDEX recommendations_open ON recommendations(domain_id, rec_id)"
	"  WHERE resolved_ms IS NULL;"
	"CREATE INDEX recommendations_domain ON recommendations(domain_id, first_seen_ms);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time_ms INTEGER NOT NULL,"
	"  domain_id INTEGER NOT NULL,"
	"  peer_uid INTEGER NOT NULL,"
	"  request_id TEXT,"
	"  recommendation_id TEXT,"
	"  operation TEXT NOT NULL,"
	"  action_json TEXT,"
	"  status TEXT NOT NULL,"
	"  before TEXT,"
	"  after TEXT,"
	"  change_id TEXT,"
	"  reason TEXT);"
	"CREATE INDEX audit_domain ON audit(domain_id, time_ms);",

	/* 2: when each audited request finished, and rollback's lookup by change id */
	"ALTER TABLE audit ADD COLUMN finished_ms INTEGER;"
	"CREATE INDEX audit_change ON audit(domain_id, change_id) WHERE change_id IS NOT NULL;",

	/* 3: the host's counters per poll, for the host side of a change's effect */
	"CREATE TABLE host_samples ("
	"  domain_id INTEGER NOT NULL,"
	"  time_ms INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (domain_id, time_ms)) WITHOUT ROWID;",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == VT_STORE_SCHEMA_VERSION);

static gboolean
read_pragma_int(VtStore *store, const char *sql, gint64 *out, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(store, sql, error);

	if (st == NULL)
		return FALSE;
	if (sqlite3_step(st) != SQLITE_ROW)
		return vt_store_sql_error(store, error, sql);
	*out = sqlite3_column_int64(st, 0);
	return TRUE;
}

static gboolean
check_version(VtStore *store, gint64 *version, GError **error)
{
	gint64 app_id;

	if (!read_pragma_int(store, "PRAGMA application_id", &app_id, error) ||
	    !read_pragma_int(store, "PRAGMA user_version", version, error))
		return FALSE;
	if ((app_id != 0 && app_id != VT_STORE_APPLICATION_ID) || (app_id == 0 && *version != 0)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s is an SQLite database of another application (application_id "
			    "0x%08" G_GINT64_MODIFIER "x)",
			    store->path, app_id);
		return FALSE;
	}
	if (*version > VT_STORE_SCHEMA_VERSION) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_SUPPORTED,
			    "%s has schema version %" G_GINT64_FORMAT
			    ", newer than the %u this virt-tune understands; use a newer "
			    "virt-tuned or another --state-dir",
			    store->path, *version, VT_STORE_SCHEMA_VERSION);
		return FALSE;
	}
	return TRUE;
}

gboolean
vt_store_migrate(VtStore *store, guint target, GError **error)
{
	gint64 version;

	g_return_val_if_fail(target >= 1 && target <= VT_STORE_SCHEMA_VERSION, FALSE);

	if (!check_version(store, &version, error))
		return FALSE;
	while (version < (gint64)target) {
		g_autofree char *bump = NULL;
		g_autofree char *app_id = NULL;
		g_autoptr(GError) local = NULL;

		if (!vt_store_exec(store, "BEGIN IMMEDIATE", error))
			return FALSE;
		/* another process may have migrated while we waited for the lock */
		if (!check_version(store, &version, &local) || version >= (gint64)target) {
			vt_store_exec(store, "ROLLBACK", NULL);
			if (local != NULL) {
				g_propagate_error(error, g_steal_pointer(&local));
				return FALSE;
			}
			break;
		}
		bump = g_strdup_printf("PRAGMA user_version = %" G_GINT64_FORMAT, version + 1);
		app_id = g_strdup_printf("PRAGMA application_id = %d", VT_STORE_APPLICATION_ID);
		if ((version == 0 && !vt_store_exec(store, app_id, &local)) ||
		    !vt_store_exec(store, migrations[version], &local) ||
		    !vt_store_exec(store, bump, &local) ||
		    !vt_store_exec(store, "COMMIT", &local)) {
			vt_store_exec(store, "ROLLBACK", NULL);
			g_propagate_prefixed_error(error, g_steal_pointer(&local),
						   "migrating %s to schema %" G_GINT64_FORMAT ": ",
						   store->path, version + 1);
			return FALSE;
		}
		version++;
	}
	store->schema_version = (guint)version;
	return TRUE;
}
