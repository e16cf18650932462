/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "store-test.h"

#include <stdlib.h>

#include <glib/gstdio.h>

#include "report-gen.h"

static void
remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				remove_tree(child);
			else
				g_unlink(child);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

void
vt_store_fixture_setup(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fx->dir = g_dir_make_tmp("vt-store-XXXXXX", &error);
	g_assert_no_error(error);
	fx->path = g_build_filename(fx->dir, "state", "virt-tune.db", NULL);
}

void
vt_store_fixture_teardown(VtStoreFixture *fx, gconstpointer data)
{
	remove_tree(fx->dir);
	g_free(fx->dir);
	g_free(fx->path);
}

sqlite3 *
vt_store_test_sqlite(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

char *
vt_store_test_query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		out = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* ------------------------------------------------------------ report sequences */

static void
add_disk(VtReport *r, const char *name)
{
	g_autoptr(GBytes) packed = vt_message_pack(&r->block[1]->base, FALSE, NULL);
	VtBlock *copy = (VtBlock *)vt_message_unpack(&virttune__v1__block__descriptor,
						     g_bytes_get_data(packed, NULL),
						     g_bytes_get_size(packed), NULL);

	g_assert_nonnull(copy);
	free(copy->name);
	copy->name = g_strdup(name);
	r->block = realloc(r->block, sizeof(*r->block) * (r->n_block + 1));
	g_assert_nonnull(r->block);
	r->block[r->n_block++] = copy;
}

GPtrArray *
vt_store_test_sequence(guint n, guint32 seed)
{
	g_autoptr(VtReportGen) gen = vt_report_gen_new(seed);
	g_autoptr(VtReport) r = vt_report_gen_base(gen);
	GPtrArray *seq = g_ptr_array_new_with_free_func((GDestroyNotify)vt_report_free);

	for (guint i = 0; i < n; i++) {
		vt_report_gen_tick(gen, r);
		if (i % 97 == 50)
			vt_report_gen_change(r, i);
		if (i == 150)
			add_disk(r, "vdc");
		if (i == 220)
			r->cpu->has_steal_ticks = FALSE;
		if (i == 260) {
			r->sections[6]->ok = FALSE;
			r->sections[6]->error =
				g_strdup("ETHTOOL_GRINGPARAM: Operation not supported");
		}
		if (i == 261)
			r->cpu->loadavg_1 = 1.0 / 3.0; /* not a hundredth: raw encoding */
		g_ptr_array_add(seq, vt_report_gen_copy(r));
	}
	return seq;
}

void
vt_store_test_assert_same_report(const VtReport *a, const VtReport *b)
{
	g_autofree char *ja = vt_report_gen_json(a);
	g_autofree char *jb = vt_report_gen_json(b);

	g_assert_cmpstr(ja, ==, jb);
}

void
vt_store_test_store_sequence(VtStore *store, const char *uuid, GPtrArray *seq, guint from, guint to)
{
	for (guint i = from; i < to; i++) {
		g_autoptr(GError) error = NULL;
		gint64 t = 0;

		g_assert_true(vt_store_add_report(store, uuid, "web-01",
						  VT_STORE_TEST_T0 + (gint64)i * VT_STORE_TEST_STEP,
						  g_ptr_array_index(seq, i), &t, &error));
		g_assert_no_error(error);
		g_assert_cmpint(t, ==, VT_STORE_TEST_T0 + (gint64)i * VT_STORE_TEST_STEP);
	}
}

void
vt_store_test_assert_history(GPtrArray *history, GPtrArray *seq, guint first, guint count)
{
	g_assert_nonnull(history);
	g_assert_cmpuint(history->len, ==, count);
	for (guint k = 0; k < count; k++) {
		VtStoreReport *e = g_ptr_array_index(history, k);

		g_assert_cmpint(e->time_ms, ==,
				VT_STORE_TEST_T0 + (gint64)(first + k) * VT_STORE_TEST_STEP);
		vt_store_test_assert_same_report(e->report, g_ptr_array_index(seq, first + k));
	}
}

char *
vt_store_test_schema(const char *path)
{
	sqlite3 *db = vt_store_test_sqlite(path);
	char *s = vt_store_test_query(
		db, "SELECT group_concat(type || ':' || name || ':' || coalesce(sql, ''), '\n')"
		    " FROM (SELECT * FROM sqlite_master ORDER BY name)");

	sqlite3_close(db);
	return s;
}

char *
vt_store_test_pragma(const char *path, const char *pragma)
{
	sqlite3 *db = vt_store_test_sqlite(path);
	char *s = vt_store_test_query(db, pragma);

	sqlite3_close(db);
	return s;
}
