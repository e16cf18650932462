/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "report-gen.h"
#include "store-private.h"
#include "store-test.h"

#define T0   1700000000000
#define STEP 10000

/* ------------------------------------------------------------ a sequence */

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

/* @n reports of one guest: counters move every time; a sysctl changes now and
 * then, a disk appears, a counter disappears, a collector starts failing. */
static GPtrArray *
make_sequence(guint n, guint32 seed)
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

static void
assert_same_report(const VtReport *a, const VtReport *b)
{
	g_autofree char *ja = vt_report_gen_json(a);
	g_autofree char *jb = vt_report_gen_json(b);

	g_assert_cmpstr(ja, ==, jb);
}

static void
store_sequence(VtStore *store, const char *uuid, GPtrArray *seq, guint from, guint to)
{
	for (guint i = from; i < to; i++) {
		g_autoptr(GError) error = NULL;
		gint64 t = 0;

		g_assert_true(vt_store_add_report(store, uuid, "web-01", T0 + (gint64)i * STEP,
						  g_ptr_array_index(seq, i), &t, &error));
		g_assert_no_error(error);
		g_assert_cmpint(t, ==, T0 + (gint64)i * STEP);
	}
}

/* history[k] must be seq[first + k] for every k */
static void
assert_history(GPtrArray *history, GPtrArray *seq, guint first, guint count)
{
	g_assert_nonnull(history);
	g_assert_cmpuint(history->len, ==, count);
	for (guint k = 0; k < count; k++) {
		VtStoreReport *e = g_ptr_array_index(history, k);

		g_assert_cmpint(e->time_ms, ==, T0 + (gint64)(first + k) * STEP);
		assert_same_report(e->report, g_ptr_array_index(seq, first + k));
	}
}

static char *
schema_of(const char *path)
{
	sqlite3 *db = vt_store_test_sqlite(path);
	char *s = vt_store_test_query(
		db, "SELECT group_concat(type || ':' || name || ':' || coalesce(sql, ''), '\n')"
		    " FROM (SELECT * FROM sqlite_master ORDER BY name)");

	sqlite3_close(db);
	return s;
}

static char *
pragma_of(const char *path, const char *pragma)
{
	sqlite3 *db = vt_store_test_sqlite(path);
	char *s = vt_store_test_query(db, pragma);

	sqlite3_close(db);
	return s;
}

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

	mode = pragma_of(fx->path, "PRAGMA journal_mode");
	version = pragma_of(fx->path, "PRAGMA user_version");
	app = pragma_of(fx->path, "PRAGMA application_id");
	g_assert_cmpstr(mode, ==, "wal");
	g_assert_cmpint(atoi(version), ==, VT_STORE_SCHEMA_VERSION);
	g_assert_cmpint(atoll(app), ==, VT_STORE_APPLICATION_ID);
}

static void
test_open_reopen(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(40, 7);
	g_autoptr(GPtrArray) before = NULL, after = NULL;
	g_autofree char *schema1 = NULL, *schema2 = NULL;
	g_autofree char *other = g_build_filename(fx->dir, "fresh.db", NULL);

	{
		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

		g_assert_no_error(error);
		store_sequence(store, "uuid-a", seq, 0, 40);
		before = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
		g_assert_no_error(error);
	}
	schema1 = schema_of(fx->path);
	{
		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

		g_assert_no_error(error);
		after = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
		g_assert_no_error(error);
	}
	schema2 = schema_of(fx->path);
	g_assert_cmpstr(schema1, ==, schema2);
	assert_history(before, seq, 0, 40);
	assert_history(after, seq, 0, 40);

	/* a database created now has the same schema as the reopened one */
	{
		g_autoptr(VtStore) fresh = vt_store_open(other, &error);
		g_autofree char *schema3 = NULL;

		g_assert_no_error(error);
		schema3 = schema_of(other);
		g_assert_cmpstr(schema3, ==, schema1);
	}
}

static void
test_open_upgrade_v1(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(30, 11);
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
		store_sequence(v1, "uuid-a", seq, 0, 30);
		g_assert_true(vt_store_audit_record(v1, &entry, &id, &error));
		g_assert_no_error(error);
	}
	version = pragma_of(fx->path, "PRAGMA user_version");
	g_assert_cmpstr(version, ==, "1");

	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(vt_store_schema_version(store), ==, 2);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	assert_history(history, seq, 0, 30);

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

	/* an upgraded database and a fresh one agree */
	{
		g_autoptr(VtStore) other = vt_store_open(fresh, &error);

		g_assert_no_error(error);
	}
	upgraded_schema = schema_of(fx->path);
	fresh_schema = schema_of(fresh);
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
	g_autofree char *still = pragma_of(fx->path, "PRAGMA user_version");
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

/* ------------------------------------------------------------ reports */

static void
test_reports_roundtrip(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const guint n = 400;
	g_autoptr(GPtrArray) seq = make_sequence(n, 42);
	g_autoptr(GPtrArray) all = NULL, part = NULL, newest = NULL, other = NULL;
	g_autoptr(VtStoreReport) latest = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

	g_assert_no_error(error);
	store_sequence(store, "uuid-a", seq, 0, 300);
	all = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	assert_history(all, seq, 0, 300);

	/* a window starting between keys, and one ending early */
	part = vt_store_history(store, "uuid-a", T0 + 133 * STEP, T0 + 141 * STEP, 0, &error);
	g_assert_no_error(error);
	assert_history(part, seq, 133, 9);
	newest = vt_store_history(store, "uuid-a", T0 + 10 * STEP, 0, 5, &error);
	g_assert_no_error(error);
	assert_history(newest, seq, 295, 5);
	latest = vt_store_latest(store, "uuid-a", &error);
	g_assert_no_error(error);
	g_assert_cmpint(latest->time_ms, ==, T0 + 299 * STEP);
	assert_same_report(latest->report, g_ptr_array_index(seq, 299));

	/* the writer restarts: it continues the chain from what is on disk */
	g_clear_pointer(&store, vt_store_free);
	store = vt_store_open(fx->path, &error);
	g_assert_no_error(error);
	store_sequence(store, "uuid-a", seq, 300, n);
	g_clear_pointer(&all, g_ptr_array_unref);
	all = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	assert_history(all, seq, 0, n);

	/* unknown domain: empty, not an error; latest: not found */
	other = vt_store_history(store, "uuid-nope", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(other->len, ==, 0);
	g_assert_null(vt_store_latest(store, "uuid-nope", &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* configuration is stored once per distinct content, not per report */
	sqlite3 *db = vt_store_test_sqlite(fx->path);
	g_autofree char *sections = vt_store_test_query(db, "SELECT count(*) FROM sections");
	g_autofree char *keys =
		vt_store_test_query(db, "SELECT count(*) FROM reports WHERE layout_id IS NOT NULL");

	sqlite3_close(db);
	g_assert_cmpint(atoi(sections), <, 40);
	g_assert_cmpint(atoi(keys), <, 20);
}

static void
test_reports_domains_and_time(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(4, 3);
	g_autoptr(GPtrArray) domains = NULL, history = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	gint64 t;

	g_assert_no_error(error);
	g_assert_true(vt_store_add_report(store, "uuid-b", "db-01", T0, seq->pdata[0], &t, &error));
	g_assert_cmpint(t, ==, T0);
	/* same millisecond, then a clock step back: strictly increasing times */
	g_assert_true(vt_store_add_report(store, "uuid-b", "db-01", T0, seq->pdata[1], &t, &error));
	g_assert_cmpint(t, ==, T0 + 1);
	g_assert_true(
		vt_store_add_report(store, "uuid-b", "db-1", T0 - 5000, seq->pdata[2], &t, &error));
	g_assert_cmpint(t, ==, T0 + 2);
	g_assert_true(vt_store_touch_domain(store, "uuid-a", "app-01", T0 + 50, &error));
	g_assert_no_error(error);

	history = vt_store_history(store, "uuid-b", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(history->len, ==, 3);
	for (guint i = 0; i < 3; i++)
		assert_same_report(((VtStoreReport *)history->pdata[i])->report, seq->pdata[i]);

	domains = vt_store_list_domains(store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(domains->len, ==, 2);
	VtStoreDomain *a = domains->pdata[0], *b = domains->pdata[1];

	g_assert_cmpstr(a->name, ==, "app-01");
	g_assert_cmpuint(a->n_reports, ==, 0);
	g_assert_cmpint(a->last_report_ms, ==, 0);
	g_assert_cmpstr(b->uuid, ==, "uuid-b");
	g_assert_cmpstr(b->name, ==, "db-1"); /* renamed */
	g_assert_cmpuint(b->n_reports, ==, 3);
	g_assert_cmpint(b->first_seen_ms, ==, T0 - 5000 < T0 ? T0 : T0);
	g_assert_cmpint(b->last_report_ms, ==, T0 + 2);
}

static void
test_reports_batch(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(20, 5);
	g_autoptr(GPtrArray) history = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

	g_assert_no_error(error);
	/* a batch that is rolled back leaves nothing, and later writes are exact */
	g_assert_true(vt_store_begin(store, &error));
	store_sequence(store, "uuid-a", seq, 0, 10);
	vt_store_rollback(store);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_cmpuint(history->len, ==, 0);
	g_clear_pointer(&history, g_ptr_array_unref);

	g_assert_true(vt_store_begin(store, &error));
	store_sequence(store, "uuid-a", seq, 0, 20);
	g_assert_true(vt_store_commit(store, &error));
	g_assert_no_error(error);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	assert_history(history, seq, 0, 20);

	/* an over-sized report is refused and the chain is intact afterwards */
	g_autoptr(VtReport) big = vt_report_gen_copy(seq->pdata[19]);
	free(big->identity->hostname);
	big->identity->hostname = g_malloc0(70 * 1024);
	memset(big->identity->hostname, 'x', 70 * 1024 - 1);
	g_assert_false(
		vt_store_add_report(store, "uuid-a", NULL, T0 + 999 * STEP, big, NULL, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);
}

/* ------------------------------------------------------------ retention */

static guint
count_rows(const char *path, const char *table)
{
	sqlite3 *db = vt_store_test_sqlite(path);
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM %s", table);
	g_autofree char *n = vt_store_test_query(db, sql);

	sqlite3_close(db);
	return (guint)atoi(n);
}

static void
test_retention(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(400, 9);
	g_autoptr(GPtrArray) history = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	guint64 removed = 0;
	guint sections_before;

	g_assert_no_error(error);
	store_sequence(store, "uuid-a", seq, 0, 400);
	store_sequence(store, "uuid-b", seq, 0, 10);
	sections_before = count_rows(fx->path, "sections");

	/* by count: the newest 100 stay, exactly (the oldest kept was a delta) */
	g_assert_true(vt_store_prune(store, T0 + 400 * STEP, 0, 100, &removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 300);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	assert_history(history, seq, 300, 100);
	g_clear_pointer(&history, g_ptr_array_unref);
	history = vt_store_history(store, "uuid-b", 0, 0, 0, &error);
	assert_history(history, seq, 0, 10);
	g_clear_pointer(&history, g_ptr_array_unref);
	/* sections only the pruned reports used are gone */
	g_assert_cmpuint(count_rows(fx->path, "sections"), <, sections_before);

	/* writing continues exactly after a prune */
	g_autoptr(GPtrArray) more = make_sequence(420, 9);
	store_sequence(store, "uuid-a", more, 400, 420);

	/* by age: everything older than 50 steps before "now" */
	g_assert_true(vt_store_prune(store, T0 + 420 * STEP, 50 * STEP, 0, &removed, &error));
	g_assert_no_error(error);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	assert_history(history, more, 370, 50);
	g_clear_pointer(&history, g_ptr_array_unref);
	history = vt_store_history(store, "uuid-b", 0, 0, 0, &error);
	g_assert_cmpuint(history->len, ==, 0);
	g_assert_cmpuint(count_rows(fx->path, "domains"), ==, 2); /* domains stay */

	/* pruning again changes nothing */
	g_assert_true(vt_store_prune(store, T0 + 420 * STEP, 50 * STEP, 100, &removed, &error));
	g_assert_cmpuint(removed, ==, 0);
}

/* ------------------------------------------------------------ recommendations */

static VtStoreRecommendation
rec(const char *id, const char *severity)
{
	return (VtStoreRecommendation){
		.id = (char *)id,
		.rule = (char *)"nic.queues",
		.severity = (char *)severity,
		.summary = (char *)"eth0 uses 1 of 4 queues",
	};
}

static VtStoreRecommendation *
find_rec(GPtrArray *list, const char *id, guint nth)
{
	for (guint i = 0; i < list->len; i++) {
		VtStoreRecommendation *r = list->pdata[i];

		if (strcmp(r->id, id) == 0 && nth-- == 0)
			return r;
	}
	return NULL;
}

static void
test_recommendations(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autoptr(GPtrArray) all = NULL, open = NULL, other = NULL;
	VtStoreRecommendation s1[] = {rec("a", "warning"), rec("b", "info")};
	VtStoreRecommendation s2[] = {rec("a", "critical"), rec("c", "info"), rec("c", "info")};
	VtStoreRecommendation s3[] = {rec("a", "critical")};
	VtStoreRecommendation s4[] = {rec("a", "critical"), rec("b", "info")};
	VtStoreRecommendation *r;

	g_assert_no_error(error);
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + 1, s1, 2, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + 2, s2, 3, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + 3, s3, 1, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + 4, s4, 2, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-z", T0 + 4, s3, 1, &error));
	g_assert_no_error(error);

	all = vt_store_list_recommendations(store, "uuid-a", TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 4);
	r = find_rec(all, "a", 0);
	g_assert_cmpint(r->first_seen_ms, ==, T0 + 1);
	g_assert_cmpint(r->last_seen_ms, ==, T0 + 4);
	g_assert_cmpint(r->resolved_ms, ==, 0);
	g_assert_cmpstr(r->severity, ==, "critical");
	g_assert_cmpstr(r->domain_uuid, ==, "uuid-a");
	r = find_rec(all, "b", 0);
	g_assert_cmpint(r->first_seen_ms, ==, T0 + 1);
	g_assert_cmpint(r->last_seen_ms, ==, T0 + 1);
	g_assert_cmpint(r->resolved_ms, ==, T0 + 2);
	r = find_rec(all, "b", 1); /* it came back: a second episode */
	g_assert_cmpint(r->first_seen_ms, ==, T0 + 4);
	g_assert_cmpint(r->resolved_ms, ==, 0);
	r = find_rec(all, "c", 0);
	g_assert_cmpint(r->first_seen_ms, ==, T0 + 2);
	g_assert_cmpint(r->resolved_ms, ==, T0 + 3);
	g_assert_null(find_rec(all, "c", 1));

	open = vt_store_list_recommendations(store, "uuid-a", FALSE, &error);
	g_assert_cmpuint(open->len, ==, 2);
	other = vt_store_list_recommendations(store, NULL, FALSE, &error);
	g_assert_cmpuint(other->len, ==, 3);

	/* an empty set resolves everything open; a bad entry changes nothing */
	VtStoreRecommendation bad[] = {rec("d", "info"), {.id = (char *)"e"}};
	g_assert_false(vt_store_set_recommendations(store, "uuid-a", T0 + 5, bad, 2, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + 6, NULL, 0, &error));
	g_clear_pointer(&open, g_ptr_array_unref);
	open = vt_store_list_recommendations(store, "uuid-a", FALSE, &error);
	g_assert_cmpuint(open->len, ==, 0);
	g_clear_pointer(&all, g_ptr_array_unref);
	all = vt_store_list_recommendations(store, "uuid-a", TRUE, &error);
	g_assert_cmpuint(all->len, ==, 4);
	g_assert_null(find_rec(all, "d", 0));

	/* prune drops resolved episodes older than the age limit only */
	g_assert_true(vt_store_prune(store, T0 + 100, 96, 0, NULL, &error));
	g_clear_pointer(&all, g_ptr_array_unref);
	all = vt_store_list_recommendations(store, "uuid-a", TRUE, &error);
	g_assert_cmpuint(all->len, ==, 2); /* b#1 and c went (resolved at +2, +3 < +4) */
}

/* ------------------------------------------------------------ audit */

static void
test_audit(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autoptr(GPtrArray) list = NULL, all = NULL, newest = NULL;
	g_autoptr(VtStoreAudit) found = NULL;
	gint64 id1 = 0, id2 = 0, id3 = 0;
	VtStoreAudit apply = {
		.time_ms = T0,
		.domain_uuid = (char *)"uuid-a",
		.peer_uid = 0,
		.request_id = (char *)"req-1",
		.recommendation_id = (char *)"nic.queues:eth0",
		.operation = (char *)"apply",
		.action_json = (char *)"{\"set_channels\":{\"iface\":\"eth0\",\"combined\":4}}",
	};
	VtStoreAudit applied = {
		.status = (char *)"applied",
		.before = (char *)"combined 1",
		.after = (char *)"combined 4",
		.change_id = (char *)"chg-7",
	};
	VtStoreAudit rollback = {
		.time_ms = T0 + 100,
		.domain_uuid = (char *)"uuid-a",
		.peer_uid = 0,
		.request_id = (char *)"req-2",
		.operation = (char *)"rollback",
		.change_id = (char *)"chg-7",
	};
	VtStoreAudit refused = {
		.time_ms = T0 + 50,
		.domain_uuid = (char *)"uuid-b",
		.peer_uid = 1000,
		.request_id = (char *)"req-3",
		.operation = (char *)"apply",
		.status = (char *)"refused",
		.reason = (char *)"policy",
	};

	g_assert_no_error(error);
	vt_store_audit_record(store, &apply, &id1, &error);
	g_assert_no_error(error);
	g_assert_true(vt_store_audit_record(store, &refused, &id3, &error));
	g_assert_no_error(error);

	list = vt_store_audit_list(store, "uuid-a", 0, 0, &error);
	g_assert_cmpuint(list->len, ==, 1);
	VtStoreAudit *e = list->pdata[0];
	g_assert_cmpstr(e->status, ==, "pending");
	g_assert_cmpint(e->finished_ms, ==, 0);
	g_assert_cmpstr(e->action_json, ==, apply.action_json);
	g_assert_cmpstr(e->recommendation_id, ==, "nic.queues:eth0");
	g_clear_pointer(&list, g_ptr_array_unref);

	g_assert_true(vt_store_audit_finish(store, id1, T0 + 20, &applied, &error));
	g_assert_true(vt_store_audit_record(store, &rollback, &id2, &error));
	VtStoreAudit rolled = {
		.status = (char *)"rolled_back",
		.before = (char *)"combined 4",
		.after = (char *)"combined 1",
		.change_id = (char *)"chg-7",
	};
	g_assert_true(vt_store_audit_finish(store, id2, T0 + 120, &rolled, &error));
	g_assert_no_error(error);
	g_assert_false(vt_store_audit_finish(store, 9999, T0, &rolled, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_NOT_FOUND);
	g_clear_error(&error);

	list = vt_store_audit_list(store, "uuid-a", 0, 0, &error);
	g_assert_cmpuint(list->len, ==, 2);
	e = list->pdata[0];
	g_assert_cmpint(e->id, ==, id1);
	g_assert_cmpstr(e->status, ==, "applied");
	g_assert_cmpstr(e->before, ==, "combined 1");
	g_assert_cmpstr(e->after, ==, "combined 4");
	g_assert_cmpstr(e->change_id, ==, "chg-7");
	g_assert_cmpint(e->finished_ms, ==, T0 + 20);
	e = list->pdata[1];
	g_assert_cmpstr(e->operation, ==, "rollback");
	g_assert_cmpstr(e->status, ==, "rolled_back");

	found = vt_store_audit_find_change(store, "uuid-a", "chg-7", &error);
	g_assert_no_error(error);
	g_assert_cmpint(found->id, ==, id1);
	g_assert_null(vt_store_audit_find_change(store, "uuid-b", "chg-7", &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_NOT_FOUND);
	g_clear_error(&error);

	all = vt_store_audit_list(store, NULL, 0, 0, &error);
	g_assert_cmpuint(all->len, ==, 3);
	g_assert_cmpint(((VtStoreAudit *)all->pdata[1])->peer_uid, ==, 1000);
	newest = vt_store_audit_list(store, NULL, T0 + 1, 1, &error);
	g_assert_cmpuint(newest->len, ==, 1);
	g_assert_cmpint(((VtStoreAudit *)newest->pdata[0])->id, ==, id2);

	/* the audit trail survives retention */
	g_assert_true(vt_store_prune(store, T0 + 1000000, 1, 1, NULL, &error));
	g_clear_pointer(&all, g_ptr_array_unref);
	all = vt_store_audit_list(store, NULL, 0, 0, &error);
	g_assert_cmpuint(all->len, ==, 3);

	VtStoreAudit no_op = {.time_ms = T0, .domain_uuid = (char *)"uuid-a"};
	g_assert_false(vt_store_audit_record(store, &no_op, NULL, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
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
	ADD("/store/reports/roundtrip", test_reports_roundtrip);
	ADD("/store/reports/domains-and-time", test_reports_domains_and_time);
	ADD("/store/reports/batch", test_reports_batch);
	ADD("/store/retention", test_retention);
	ADD("/store/recommendations", test_recommendations);
	ADD("/store/audit", test_audit);
#undef ADD
	return g_test_run();
}
