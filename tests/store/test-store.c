/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's reports: stored as changes, read back exactly, pruned. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "report-gen.h"
#include "store-private.h"
#include "store-test.h"

#define T0   VT_STORE_TEST_T0
#define STEP VT_STORE_TEST_STEP

/* ------------------------------------------------------------ reports */

static void
test_reports_roundtrip(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const guint n = 400;
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(n, 42);
	g_autoptr(GPtrArray) all = NULL, part = NULL, newest = NULL, other = NULL;
	g_autoptr(VtStoreReport) latest = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

	g_assert_no_error(error);
	vt_store_test_store_sequence(store, "uuid-a", seq, 0, 300);
	all = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(all, seq, 0, 300);

	/* a window starting between keys, and one ending early */
	part = vt_store_history(store, "uuid-a", T0 + 133 * STEP, T0 + 141 * STEP, 0, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(part, seq, 133, 9);
	newest = vt_store_history(store, "uuid-a", T0 + 10 * STEP, 0, 5, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(newest, seq, 295, 5);
	latest = vt_store_latest(store, "uuid-a", &error);
	g_assert_no_error(error);
	g_assert_cmpint(latest->time_ms, ==, T0 + 299 * STEP);
	vt_store_test_assert_same_report(latest->report, g_ptr_array_index(seq, 299));

	/* the writer restarts: it continues the chain from what is on disk */
	g_clear_pointer(&store, vt_store_free);
	store = vt_store_open(fx->path, &error);
	g_assert_no_error(error);
	vt_store_test_store_sequence(store, "uuid-a", seq, 300, n);
	g_clear_pointer(&all, g_ptr_array_unref);
	all = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(all, seq, 0, n);

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
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(4, 3);
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
		vt_store_test_assert_same_report(((VtStoreReport *)history->pdata[i])->report,
						 seq->pdata[i]);

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
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(20, 5);
	g_autoptr(GPtrArray) history = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);

	g_assert_no_error(error);
	/* a batch that is rolled back leaves nothing, and later writes are exact */
	g_assert_true(vt_store_begin(store, &error));
	vt_store_test_store_sequence(store, "uuid-a", seq, 0, 10);
	vt_store_rollback(store);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_cmpuint(history->len, ==, 0);
	g_clear_pointer(&history, g_ptr_array_unref);

	g_assert_true(vt_store_begin(store, &error));
	vt_store_test_store_sequence(store, "uuid-a", seq, 0, 20);
	g_assert_true(vt_store_commit(store, &error));
	g_assert_no_error(error);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	vt_store_test_assert_history(history, seq, 0, 20);

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
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(400, 9);
	g_autoptr(GPtrArray) history = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	guint64 removed = 0;
	guint sections_before;

	g_assert_no_error(error);
	vt_store_test_store_sequence(store, "uuid-a", seq, 0, 400);
	vt_store_test_store_sequence(store, "uuid-b", seq, 0, 10);
	sections_before = count_rows(fx->path, "sections");

	/* by count: the newest 100 stay, exactly (the oldest kept was a delta) */
	g_assert_true(vt_store_prune(store, T0 + 400 * STEP, 0, 100, &removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 300);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(history, seq, 300, 100);
	g_clear_pointer(&history, g_ptr_array_unref);
	history = vt_store_history(store, "uuid-b", 0, 0, 0, &error);
	vt_store_test_assert_history(history, seq, 0, 10);
	g_clear_pointer(&history, g_ptr_array_unref);
	/* sections only the pruned reports used are gone */
	g_assert_cmpuint(count_rows(fx->path, "sections"), <, sections_before);

	/* writing continues exactly after a prune */
	g_autoptr(GPtrArray) more = vt_store_test_sequence(420, 9);
	vt_store_test_store_sequence(store, "uuid-a", more, 400, 420);

	/* by age: everything older than 50 steps before "now" */
	g_assert_true(vt_store_prune(store, T0 + 420 * STEP, 50 * STEP, 0, &removed, &error));
	g_assert_no_error(error);
	history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	vt_store_test_assert_history(history, more, 370, 50);
	g_clear_pointer(&history, g_ptr_array_unref);
	history = vt_store_history(store, "uuid-b", 0, 0, 0, &error);
	g_assert_cmpuint(history->len, ==, 0);
	g_assert_cmpuint(count_rows(fx->path, "domains"), ==, 2); /* domains stay */

	/* pruning again changes nothing */
	g_assert_true(vt_store_prune(store, T0 + 420 * STEP, 50 * STEP, 100, &removed, &error));
	g_assert_cmpuint(removed, ==, 0);
}

/* Host samples: read back by time, oldest first; bounded in size and count;
 * they go with the reports at retention and count in the byte budget. */
static void
add_samples(VtStore *store, const char *uuid, guint from, guint to)
{
	g_autoptr(GError) error = NULL;

	for (guint i = from; i < to; i++) {
		g_autofree char *data = g_strdup_printf("sample %u", i);

		g_assert_true(vt_store_add_host_sample(store, uuid, NULL, T0 + (gint64)i * STEP,
						       data, strlen(data), &error));
		g_assert_no_error(error);
	}
}

static void
test_host_samples(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = vt_store_test_sequence(60, 3);
	g_autoptr(GPtrArray) got = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autofree char *big = g_malloc0(VT_STORE_HOST_SAMPLE_MAX_BYTES + 1);
	guint64 removed = 0;
	gint64 bytes_before, bytes_after;
	GLogLevelFlags fatal;

	g_assert_no_error(error);
	vt_store_test_store_sequence(store, "uuid-a", seq, 0, 60);
	add_samples(store, "uuid-a", 0, 60);

	got = vt_store_host_samples(store, "uuid-a", T0 + 10 * STEP, T0 + 19 * STEP, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 10);
	for (guint i = 0; i < got->len; i++) {
		const VtStoreHostSample *s = got->pdata[i];
		g_autofree char *want = g_strdup_printf("sample %u", 10 + i);
		gsize len;
		const char *d = g_bytes_get_data(s->data, &len);

		g_assert_cmpint(s->time_ms, ==, T0 + (gint64)(10 + i) * STEP);
		g_assert_cmpmem(d, len, want, strlen(want));
	}
	g_clear_pointer(&got, g_ptr_array_unref);
	/* the newest 3 of the window, still oldest first */
	got = vt_store_host_samples(store, "uuid-a", T0 + 10 * STEP, T0 + 19 * STEP, 3, &error);
	g_assert_cmpuint(got->len, ==, 3);
	g_assert_cmpint(((VtStoreHostSample *)got->pdata[0])->time_ms, ==, T0 + 17 * STEP);
	g_clear_pointer(&got, g_ptr_array_unref);
	got = vt_store_host_samples(store, "uuid-unknown", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 0);
	g_clear_pointer(&got, g_ptr_array_unref);

	g_assert_false(vt_store_add_host_sample(store, "uuid-a", NULL, T0, big,
						VT_STORE_HOST_SAMPLE_MAX_BYTES + 1, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_clear_error(&error);

	/* they count in the domain's bytes */
	g_assert_true(vt_store_domain_bytes(store, 1, &bytes_before, &error));
	add_samples(store, "uuid-a", 60, 70);
	g_assert_true(vt_store_domain_bytes(store, 1, &bytes_after, &error));
	g_assert_cmpint(bytes_after - bytes_before, ==, 10 * strlen("sample 60"));

	/* retention by count: the newest 20 reports stay, and the samples from
	 * the oldest of them on */
	g_assert_true(vt_store_prune(store, T0 + 70 * STEP, 0, 20, &removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 40);
	got = vt_store_host_samples(store, "uuid-a", 0, 0, 0, &error);
	g_assert_cmpuint(got->len, ==, 30);
	g_assert_cmpint(((VtStoreHostSample *)got->pdata[0])->time_ms, ==, T0 + 40 * STEP);
	g_clear_pointer(&got, g_ptr_array_unref);

	/* the budget: samples newer than every report fill it; the oldest rows
	 * of both kinds go, never the newest report nor the newest sample */
	g_assert_true(vt_store_domain_bytes(store, 1, &bytes_before, &error));
	vt_store_set_budget(store, bytes_before);
	add_samples(store, "uuid-a", 70, 70 + (guint)bytes_before / 9);
	/* going over the budget is logged as a warning by design */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	g_assert_true(vt_store_prune(store, T0 + 400 * STEP, 0, 0, &removed, &error));
	g_log_set_always_fatal(fatal);
	g_assert_no_error(error);
	g_assert_true(vt_store_domain_bytes(store, 1, &bytes_after, &error));
	g_assert_cmpint(bytes_after, <=, bytes_before);
	g_assert_cmpuint(vt_store_budget_exceeded(store, "uuid-a"), ==, 1);
	got = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 1);
	g_assert_cmpint(((VtStoreReport *)got->pdata[0])->time_ms, ==, T0 + 59 * STEP);
	g_clear_pointer(&got, g_ptr_array_unref);
	got = vt_store_host_samples(store, "uuid-a", 0, 0, 0, &error);
	g_assert_cmpuint(got->len, >, 0);
	g_assert_cmpint(((VtStoreHostSample *)got->pdata[0])->time_ms, >, T0 + 70 * STEP);
	g_assert_cmpint(((VtStoreHostSample *)got->pdata[got->len - 1])->time_ms, ==,
			T0 + (gint64)(69 + bytes_before / 9) * STEP);
}

/* At most VT_STORE_HOST_SAMPLES_MAX per domain: the oldest go. */
static void
test_host_samples_cap(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	g_autoptr(GPtrArray) got = NULL;

	g_assert_no_error(error);
	g_assert_true(vt_store_begin(store, &error));
	add_samples(store, "uuid-a", 0, VT_STORE_HOST_SAMPLES_MAX + 5);
	add_samples(store, "uuid-b", 0, 3);
	g_assert_true(vt_store_commit(store, &error));
	got = vt_store_host_samples(store, "uuid-a", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, VT_STORE_HOST_SAMPLES_MAX);
	g_assert_cmpint(((VtStoreHostSample *)got->pdata[0])->time_ms, ==, T0 + 5 * STEP);
	g_clear_pointer(&got, g_ptr_array_unref);
	got = vt_store_host_samples(store, "uuid-b", 0, 0, 0, &error);
	g_assert_cmpuint(got->len, ==, 3);
}

/* ------------------------------------------------------------ the shape */

static GByteArray *
shape_of(const VtReport *report)
{
	g_autoptr(VtCounters) c = vt_counters_new();
	GByteArray *shape = g_byte_array_new();

	g_assert_true(vt_counters_extract_shape(report, c, shape, NULL, NULL));
	return shape;
}

/* The sections of @report's skeleton, packed as a new layout would be. */
static GBytes *
sections_of(const VtReport *report)
{
	g_autoptr(VtReport) copy = vt_report_gen_copy(report);
	g_autoptr(GArray) ends = g_array_new(FALSE, FALSE, sizeof(gsize));

	vt_counters_zero(copy);
	return vt_store_layout_pack(copy, ends);
}

static gboolean
same_shape(const VtReport *a, const VtReport *b)
{
	g_autoptr(GByteArray) sa = shape_of(a);
	g_autoptr(GByteArray) sb = shape_of(b);
	g_autoptr(GBytes) pa = sections_of(a);
	g_autoptr(GBytes) pb = sections_of(b);
	gboolean same = sa->len == sb->len && memcmp(sa->data, sb->data, sa->len) == 0;

	/* the shape stands for the packed skeleton: the same exactly when it is */
	g_assert_cmpint(same, ==, g_bytes_equal(pa, pb));
	return same;
}

/* A report's shape moves with its skeleton and not with its counters; the
 * store writes a new layout exactly when the shape moved. */
static void
test_reports_shape(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(VtReportGen) gen = vt_report_gen_new(7);
	g_autoptr(VtReport) base = vt_report_gen_base(gen);
	g_autoptr(VtReport) r = vt_report_gen_copy(base);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
	ProtobufCMessageUnknownField unknown = {.tag = 99,
						.wire_type = PROTOBUF_C_WIRE_TYPE_VARINT,
						.len = 1,
						.data = (uint8_t *)"\x05"};
	g_autoptr(GPtrArray) history = NULL;

	g_assert_no_error(error);
	/* counters moved, in every kind of message that has them */
	vt_report_gen_tick(gen, r);
	vt_report_gen_tick(gen, r);
	g_assert_true(same_shape(base, r));
	g_assert_true(vt_store_add_report(store, "uuid-s", "s", T0, base, NULL, &error));
	g_assert_true(vt_store_add_report(store, "uuid-s", "s", T0 + STEP, r, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_rows(fx->path, "layouts"), ==, 1);

	/* a setting: a sysctl's value, one byte of a string */
	vt_report_gen_change(r, 1);
	g_assert_false(same_shape(base, r));
	g_assert_true(vt_store_add_report(store, "uuid-s", "s", T0 + 2 * STEP, r, NULL, &error));
	g_assert_cmpuint(count_rows(fx->path, "layouts"), ==, 2);
	g_clear_pointer(&r, vt_report_free);
	r = vt_report_gen_copy(base);
	g_assert_cmpuint(r->n_block, >, 0);
	r->block[0]->name[0]++;
	g_assert_false(same_shape(base, r));
	r->block[0]->name[0]--;
	g_assert_true(same_shape(base, r));
	/* a counter's presence: a value the guest could not read */
	g_assert_nonnull(r->cpu);
	g_assert_true(r->cpu->has_steal_ticks);
	r->cpu->has_steal_ticks = FALSE;
	g_assert_false(same_shape(base, r));
	r->cpu->has_steal_ticks = TRUE;
	/* one list entry fewer */
	r->n_block--;
	g_assert_false(same_shape(base, r));
	r->n_block++;
	/* a field of a newer sender, inside a message */
	r->cpu->base.n_unknown_fields = 1;
	r->cpu->base.unknown_fields = &unknown;
	g_assert_false(same_shape(base, r));
	/* stored and read back with it */
	g_assert_true(vt_store_add_report(store, "uuid-s", "s", T0 + 3 * STEP, r, NULL, &error));
	g_assert_no_error(error);
	history = vt_store_history(store, "uuid-s", 0, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(history->len, ==, 4);
	g_assert_cmpuint(((VtStoreReport *)history->pdata[3])->report->cpu->base.n_unknown_fields,
			 ==, 1);
	r->cpu->base.n_unknown_fields = 0;
	r->cpu->base.unknown_fields = NULL;
	g_assert_true(same_shape(base, r));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                                              \
	g_test_add(path, VtStoreFixture, NULL, vt_store_fixture_setup, fn,                         \
		   vt_store_fixture_teardown)
	ADD("/store/reports/roundtrip", test_reports_roundtrip);
	ADD("/store/reports/domains-and-time", test_reports_domains_and_time);
	ADD("/store/reports/batch", test_reports_batch);
	ADD("/store/reports/shape", test_reports_shape);
	ADD("/store/retention", test_retention);
	ADD("/store/host-samples", test_host_samples);
	ADD("/store/host-samples/cap", test_host_samples_cap);
#undef ADD
	return g_test_run();
}
