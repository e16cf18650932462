/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the store keeps beside reports: recommendations seen, the audit trail. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store-private.h"
#include "store-test.h"

#define T0 VT_STORE_TEST_T0

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

static gint64
last_seen_of(VtStore *store, const char *uuid, const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) open = vt_store_list_recommendations(store, uuid, FALSE, &error);
	VtStoreRecommendation *r;

	g_assert_no_error(error);
	r = find_rec(open, id, 0);
	g_assert_nonnull(r);
	return r->last_seen_ms;
}

static gint64
domain_last_seen(VtStore *store, const char *uuid)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = vt_store_list_domains(store, &error);

	g_assert_no_error(error);
	for (guint i = 0; i < all->len; i++) {
		VtStoreDomain *d = all->pdata[i];

		if (strcmp(d->uuid, uuid) == 0)
			return d->last_seen_ms;
	}
	g_assert_not_reached();
}

/* The same set again is not rewritten, except to raise last_seen_ms once
 * VT_STORE_SEEN_EVERY_MS has passed; any change is written at once. */
static void
test_recommendations_unchanged(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	VtStoreRecommendation s1[] = {rec("a", "warning")};
	VtStoreRecommendation s2[] = {rec("a", "critical")};
	const gint64 every = VT_STORE_SEEN_EVERY_MS;

	g_assert_no_error(error);
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0, s1, 1, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + 10, s1, 1, &error));
	g_assert_cmpint(last_seen_of(store, "uuid-a", "a"), ==, T0);
	g_assert_cmpint(domain_last_seen(store, "uuid-a"), ==, T0);
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + every, s1, 1, &error));
	g_assert_cmpint(last_seen_of(store, "uuid-a", "a"), ==, T0 + every);
	g_assert_cmpint(domain_last_seen(store, "uuid-a"), ==, T0 + every);
	/* a changed severity is written at once */
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + every + 1, s2, 1, &error));
	g_assert_cmpint(last_seen_of(store, "uuid-a", "a"), ==, T0 + every + 1);
	{
		g_autoptr(GPtrArray) open =
			vt_store_list_recommendations(store, "uuid-a", FALSE, &error);
		g_assert_cmpstr(((VtStoreRecommendation *)open->pdata[0])->severity, ==,
				"critical");
	}
	/* a batch rolled back forgets what it wrote: the next set is written */
	g_assert_true(vt_store_begin(store, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + every + 2, s1, 1, &error));
	vt_store_rollback(store);
	g_assert_true(vt_store_set_recommendations(store, "uuid-a", T0 + every + 3, s1, 1, &error));
	{
		g_autoptr(GPtrArray) open =
			vt_store_list_recommendations(store, "uuid-a", FALSE, &error);
		g_assert_cmpuint(open->len, ==, 1);
		g_assert_cmpstr(((VtStoreRecommendation *)open->pdata[0])->severity, ==, "warning");
	}
	/* a domain whose row was created in a batch rolled back gets a new row */
	g_assert_true(vt_store_begin(store, &error));
	g_assert_true(vt_store_set_recommendations(store, "uuid-b", T0 + 5, s1, 1, &error));
	vt_store_rollback(store);
	g_assert_true(vt_store_set_recommendations(store, "uuid-b", T0 + 6, s1, 1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(last_seen_of(store, "uuid-b", "a"), ==, T0 + 6);
	g_assert_cmpint(domain_last_seen(store, "uuid-b"), ==, T0 + 6);
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

static const VtStoreAudit audit_apply = {
	.time_ms = T0,
	.domain_uuid = (char *)"uuid-a",
	.peer_uid = 0,
	.request_id = (char *)"req-1",
	.recommendation_id = (char *)"nic.queues:eth0",
	.operation = (char *)"apply",
	.action_json = (char *)"{\"set_channels\":{\"iface\":\"eth0\",\"combined\":4}}",
};
static const VtStoreAudit audit_applied = {
	.status = (char *)"applied",
	.before = (char *)"combined 1",
	.after = (char *)"combined 4",
	.change_id = (char *)"chg-7",
};
static const VtStoreAudit audit_rollback = {
	.time_ms = T0 + 100,
	.domain_uuid = (char *)"uuid-a",
	.peer_uid = 0,
	.request_id = (char *)"req-2",
	.operation = (char *)"rollback",
	.change_id = (char *)"chg-7",
};
static const VtStoreAudit audit_rolled = {
	.status = (char *)"rolled_back",
	.before = (char *)"combined 4",
	.after = (char *)"combined 1",
	.change_id = (char *)"chg-7",
};
static const VtStoreAudit audit_refused = {
	.time_ms = T0 + 50,
	.domain_uuid = (char *)"uuid-b",
	.peer_uid = 1000,
	.request_id = (char *)"req-3",
	.operation = (char *)"apply",
	.status = (char *)"refused",
	.reason = (char *)"policy",
};

/* A request is recorded before it is sent: pending until its outcome. */
static void
audit_record(VtStore *store, gint64 *id1, gint64 *id3)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	VtStoreAudit *e;

	vt_store_audit_record(store, &audit_apply, id1, &error);
	g_assert_no_error(error);
	g_assert_true(vt_store_audit_record(store, &audit_refused, id3, &error));
	g_assert_no_error(error);

	list = vt_store_audit_list(store, "uuid-a", 0, 0, &error);
	g_assert_cmpuint(list->len, ==, 1);
	e = list->pdata[0];
	g_assert_cmpstr(e->status, ==, "pending");
	g_assert_cmpint(e->finished_ms, ==, 0);
	g_assert_cmpstr(e->action_json, ==, audit_apply.action_json);
	g_assert_cmpstr(e->recommendation_id, ==, "nic.queues:eth0");
}

/* The outcomes arrive: the change applied, then rolled back. */
static void
audit_finish(VtStore *store, gint64 id1, gint64 *id2)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	VtStoreAudit *e;

	g_assert_true(vt_store_audit_finish(store, id1, T0 + 20, &audit_applied, &error));
	g_assert_true(vt_store_audit_record(store, &audit_rollback, id2, &error));
	g_assert_true(vt_store_audit_finish(store, *id2, T0 + 120, &audit_rolled, &error));
	g_assert_no_error(error);
	g_assert_false(vt_store_audit_finish(store, 9999, T0, &audit_rolled, &error));
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
}

static void
test_audit(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autoptr(GPtrArray) all = NULL, newest = NULL;
	g_autoptr(VtStoreAudit) found = NULL;
	gint64 id1 = 0, id2 = 0, id3 = 0;

	g_assert_no_error(error);
	audit_record(store, &id1, &id3);
	audit_finish(store, id1, &id2);

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

/* Rows a second connection sees in @table: what a crash would leave. */
static guint
committed_rows(const char *path, const char *table)
{
	sqlite3 *db = vt_store_test_sqlite(path);
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM %s", table);
	g_autofree char *n = vt_store_test_query(db, sql);

	sqlite3_close(db);
	return (guint)atoi(n);
}

/* A durable write inside a batch commits the batch first: the audit entry
 * and every report written before it are on disk when it returns. */
static void
test_audit_ends_batch(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(6, 3);
	gint64 id = 0;

	g_assert_no_error(error);
	g_assert_true(vt_store_begin(store, &error));
	g_assert_true(vt_store_in_batch(store));
	vt_store_test_store_sequence(store, "uuid-a", seq, 0, 3);
	g_assert_cmpuint(committed_rows(fx->path, "reports"), ==, 0); /* not yet */
	g_assert_true(vt_store_audit_record(store, &audit_apply, &id, &error));
	g_assert_no_error(error);
	g_assert_false(vt_store_in_batch(store));
	g_assert_cmpuint(committed_rows(fx->path, "reports"), ==, 3);
	g_assert_cmpuint(committed_rows(fx->path, "audit"), ==, 1);
	/* later writes commit on their own, and a new batch can start */
	vt_store_test_store_sequence(store, "uuid-a", seq, 3, 4);
	g_assert_cmpuint(committed_rows(fx->path, "reports"), ==, 4);
	g_assert_true(vt_store_begin(store, &error));
	vt_store_test_store_sequence(store, "uuid-a", seq, 4, 6);
	g_assert_true(vt_store_commit(store, &error));
	g_assert_cmpuint(committed_rows(fx->path, "reports"), ==, 6);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                                              \
	g_test_add(path, VtStoreFixture, NULL, vt_store_fixture_setup, fn,                         \
		   vt_store_fixture_teardown)
	ADD("/store/recommendations", test_recommendations);
	ADD("/store/recommendations/unchanged", test_recommendations_unchanged);
	ADD("/store/audit", test_audit);
	ADD("/store/audit/ends-batch", test_audit_ends_batch);
#undef ADD
	return g_test_run();
}
