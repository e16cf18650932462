/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Helpers shared by the store's test programs. */

#include <glib.h>
#include <sqlite3.h>

#include "store.h"

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
/* The schema of the database at @path (sqlite_master, by name), and the value
 * of a pragma there. */
char *vt_store_test_schema(const char *path);
char *vt_store_test_pragma(const char *path, const char *pragma);

/* The report of index i in a sequence is stored at T0 + i * STEP. */
#define VT_STORE_TEST_T0   1700000000000
#define VT_STORE_TEST_STEP 10000

/* @n reports of one guest: counters move every time; a sysctl changes now and
 * then, a disk appears, a counter disappears, a collector starts failing. */
GPtrArray *vt_store_test_sequence(guint n, guint32 seed);
/* Store reports @from to @to - 1 of @seq for domain @uuid ("web-01"). */
void vt_store_test_store_sequence(VtStore *store, const char *uuid, GPtrArray *seq, guint from,
				  guint to);
/* history[k] must be seq[first + k] for every k < @count, and no more. */
void vt_store_test_assert_history(GPtrArray *history, GPtrArray *seq, guint first, guint count);
/* Equal as canonical JSON. */
void vt_store_test_assert_same_report(const VtReport *a, const VtReport *b);

G_END_DECLS
