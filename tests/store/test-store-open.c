/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening the store: a fresh file, reopening, upgrades, files it refuses. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "report-gen.h"
#include "store-private.h"
#include "store-test.h"

#define T0   VT_STORE_TEST_T0
#define STEP VT_STORE_TEST_STEP

/* ------------------------------------------------------------ migrations */

static void
test_open_fresh(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autofree char *dir = g_path_get_dirname(fx->path);
	g_autofree char *mode = NULL, *version = NULL, *app = NULL;
	struct stat st;

	g_assert_no_error(error);
	g_assert_cmpuint(vt_store_schema_version(store), ==, VT_STORE_SCHEMA_VERSION);
	g_assert_cmpint(stat(dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0750);
	g_assert_cmpint(stat(fx->path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0640);

	mode = vt_store_test_pragma(fx->path, "PRAGMA journal_mode");
	version = vt_store_test_pragma(fx->path, "PRAGMA user_version");
	app = vt_store_test_pragma(fx->path, "PRAGMA application_id");
	g_assert_cmpstr(mode, ==, "wal");
	g_assert_cmpint(atoi(version), ==, VT_STORE_SCHEMA_VERSION);
	g_assert_cmpint(atoll(app), ==, VT_STORE_APPLICATION_ID);
}

static void
test_open_reopen(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(40, 7);
	g_autoptr(GPtrArray) before = NULL, after = NULL;
	g_autofree char *schema1 = NULL, *schema2 = NULL;
	g_autofree char *other = g_build_filename(fx->dir, "fresh.db", NULL);

	{
		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

		g_assert_no_error(error);
		vt_store_test_store_sequence(store, "uuid-a", seq, 0, 40);
		before = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
		g_assert_no_error(error);
	}
	schema1 = vt_store_test_schema(fx->path);
	{
		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

		g_assert_no_error(error);
		after = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
		g_assert_no_error(error);
	}
	schema2 = vt_store_test_schema(fx->path);
	g_assert_cmpstr(schema1, ==, schema2);
	vt_store_test_assert_history(before, seq, 0, 40);
	vt_store_test_assert_history(after, seq, 0, 40);

	/* a database created now has the same schema as the reopened one */
	{
		g_autoptr(VtStore) fresh = vt_store_open(other, &error);
		g_autofree char *schema3 = NULL;

		g_assert_no_error(error);
		schema3 = vt_store_test_schema(other);
		g_assert_cmpstr(schema3, ==, schema1);
	}
}

static void
test_open_upgrade_v1(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(30, 11);
	g_autoptr(GPtrArray) history = NULL, audit = NULL;
	g_autofree char *fresh = g_build_filename(fx->dir, "fresh.db", NULL);
	g_autofree char *version = NULL, *upgraded_schema = NULL, *fresh_schema = NULL;
	VtStoreAudit entry = {
		.time_ms = T0,
		.domain_uuid = (char *)"uuid-a",
		.peer_uid = 0,
		.request_id = (char *)"req-1",
		.operation = (char *)"apply",
		.status = (char *)"applied",
		.change_id = (char *)"chg-1",
	};
	gint64 id = 0;

	{
		g_autoptr(VtStore) v1 = vt_store_open_version(fx->path, 1, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(vt_store_schema_version(v1), ==, 1);
		vt_store_test_store_sequence(v1, "uuid-a", seq, 0, 30);
		g_assert_true(vt_store_audit_record(v1, &entry, &id, &error));
		g_assert_no_error(error);
	}
	version = vt_store_test_pragma(fx->path, "PRAGMA user_version");
	g_assert_cmpstr(version, ==, "1");

	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(vt_store_schema_version(store), ==, VT_STORE_SCHEMA_VERSION);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(history, seq, 0, 30);

	/* v2's column and index work on the migrated data */
	VtStoreAudit result = {.status = (char *)"rolled_back", .reason = (char *)"operator"};
	g_assert_true(vt_store_audit_finish(store, id, T0 + 5, &result, &error));
	g_assert_no_error(error);
	audit = vt_store_audit_list(store, "uuid-a", 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(audit->len, ==, 1);
	g_assert_cmpint(((VtStoreAudit *)audit->pdata[0])->finished_ms, ==, T0 + 5);
	g_autoptr(VtStoreAudit) found =
		vt_store_audit_find_change(store, "uuid-a", "chg-1", &error);
	g_assert_no_error(error);
	g_assert_cmpint(found->id, ==, id);

	/* v3's host samples work on the migrated data */
	g_assert_true(vt_store_add_host_sample(store, "uuid-a", NULL, T0 + 1, "x", 1, &error));
	g_assert_no_error(error);
	g_autoptr(GPtrArray) samples = vt_store_host_samples(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(samples->len, ==, 1);

	/* an upgraded database and a fresh one agree */
	{
		g_autoptr(VtStore) other = vt_store_open(fresh, &error);

		g_assert_no_error(error);
	}
	upgraded_schema = vt_store_test_schema(fx->path);
	fresh_schema = vt_store_test_schema(fresh);
	g_assert_cmpstr(upgraded_schema, ==, fresh_schema);
}

static void
test_open_refuse(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *foreign = g_build_filename(fx->dir, "foreign.db", NULL);
	g_autofree char *garbage = g_build_filename(fx->dir, "garbage.db", NULL);
	sqlite3 *db;

	{
		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

		g_assert_no_error(error);
	}
	db = vt_store_test_sqlite(fx->path);
	g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);
	{
		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

		g_assert_null(store);
		g_assert_error(error, VT_ERROR, VT_ERROR_NOT_SUPPORTED);
		g_assert_nonnull(strstr(error->message, "schema version 99"));
		g_assert_nonnull(strstr(error->message, "newer"));
		g_clear_error(&error);
	}
	/* and the refused database was left alone */
	g_autofree char *still = vt_store_test_pragma(fx->path, "PRAGMA user_version");
	g_assert_cmpstr(still, ==, "99");

	/* another application's SQLite file */
	g_assert_cmpint(sqlite3_open(foreign, &db), ==, SQLITE_OK);
	g_assert_cmpint(
		sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 3", NULL, NULL, NULL),
		==, SQLITE_OK);
	sqlite3_close(db);
	{
		g_autoptr(VtStore) store = vt_store_open(foreign, &error);

		g_assert_null(store);
		g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
		g_clear_error(&error);
	}
	/* not a database at all */
	g_assert_true(g_file_set_contents(garbage,
					  "definitely not SQLite, just some text here "
					  "long enough to look like a header.......",
					  -1, NULL));
	{
		g_autoptr(VtStore) store = vt_store_open(garbage, &error);

		g_assert_null(store);
		g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                                              \
	g_test_add(path, VtStoreFixture, NULL, vt_store_fixture_setup, fn,                         \
		   vt_store_fixture_teardown)
	ADD("/store/open/fresh", test_open_fresh);
	ADD("/store/open/reopen", test_open_reopen);
	ADD("/store/open/upgrade-from-v1", test_open_upgrade_v1);
	ADD("/store/open/refuse", test_open_refuse);
#undef ADD
	return g_test_run();
}
