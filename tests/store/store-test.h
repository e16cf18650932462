/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Helpers shared by the store's test programs. */

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

typedef struct {
	char *dir;  /* a fresh temporary directory, removed afterwards */
	char *path; /* dir/state/virt-tune.db (state/ does not exist yet) */
} VtStoreFixture;

void vt_store_fixture_setup(VtStoreFixture *fx, gconstpointer data);
void vt_store_fixture_teardown(VtStoreFixture *fx, gconstpointer data);

/* A plain SQLite connection to @path, for looking under the store. */
sqlite3 *vt_store_test_sqlite(const char *path);
/* The single text or integer value of @sql, as a string. */
char *vt_store_test_query(sqlite3 *db, const char *sql);

G_END_DECLS
