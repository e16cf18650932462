/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store under stress: crashes mid-write, corrupted rows and blobs, a
 * reader next to a writer. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "report-gen.h"
#include "store-private.h"
#include "store-test.h"

#define T0   1700000000000
#define STEP 10000

/* The report of step @i of seed @seed's guest (counters and, every 7th step,
 * a sysctl move), regenerated identically in parent and child. */
static GPtrArray *
make_sequence(guint n, guint32 seed)
{
	g_autoptr(VtReportGen) gen = vt_report_gen_new(seed);
	g_autoptr(VtReport) r = vt_report_gen_base(gen);
	GPtrArray *seq = g_ptr_array_new_with_free_func((GDestroyNotify)vt_report_free);

	for (guint i = 0; i < n; i++) {
		vt_report_gen_tick(gen, r);
		if (i % 7 == 3)
			vt_report_gen_change(r, i);
		g_ptr_array_add(seq, vt_report_gen_copy(r));
	}
	return seq;
}

/* ------------------------------------------------------------ crash safety */

#define CRASH_REPORTS 600
#define CRASH_KEEP    150

/* The child writes reports, prunes now and then, and reports each commit's
 * index on @fd; it never returns. */
static void G_GNUC_NORETURN
crash_child(const char *path, GPtrArray *seq, int fd)
{
	g_autoptr(VtStore) store = vt_store_open(path, NULL);

	if (store == NULL)
		_exit(2);
	for (guint32 i = 0; i < CRASH_REPORTS; i++) {
		if (!vt_store_add_report(store, "uuid-a", "web-01", T0 + (gint64)i * STEP,
					 seq->pdata[i], NULL, NULL))
			_exit(3);
		if (i % 41 == 40 &&
		    !vt_store_prune(store, T0 + (gint64)i * STEP, 0, CRASH_KEEP, NULL, NULL))
			_exit(4);
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(5);
	}
	_exit(0);
}

static void
test_crash(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) seq = make_sequence(CRASH_REPORTS, 21);
	/* kill after these many acknowledged commits, in successive runs that
	 * continue the same database */
	static const guint kill_after[] = {37, 120, 121, 260, 400};

	for (guint round = 0; round < G_N_ELEMENTS(kill_after); round++) {
		g_autoptr(GError) error = NULL;
		int pipefd[2];
		pid_t pid;
		guint32 acked = 0, got;
		gboolean any = FALSE;
		int status;

		g_assert_cmpint(pipe(pipefd), ==, 0);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			close(pipefd[0]);
			crash_child(fx->path, seq, pipefd[1]);
		}
		close(pipefd[1]);
		while (read(pipefd[0], &got, sizeof(got)) == sizeof(got)) {
			acked = got;
			any = TRUE;
			if (got >= kill_after[round])
				break;
		}
		/* mid-write: the child is already in its next transaction */
		kill(pid, SIGKILL);
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		/* it ran on between our read and the kill: take every ack it sent */
		while (read(pipefd[0], &got, sizeof(got)) == sizeof(got))
			acked = got;
		close(pipefd[0]);
		g_assert_true(any);
		g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

		/* the database is intact and holds at least every acked commit */
		sqlite3 *db = vt_store_test_sqlite(fx->path);
		g_autofree char *check = vt_store_test_query(db, "PRAGMA integrity_check");

		sqlite3_close(db);
		g_assert_cmpstr(check, ==, "ok");

		g_autoptr(VtStore) store = vt_store_open(fx->path, &error);
		g_assert_no_error(error);
		g_autoptr(GPtrArray) history = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(history->len, >, 0);
		VtStoreReport *last = history->pdata[history->len - 1];
		guint last_index = (guint)((last->time_ms - T0) / STEP);

		g_assert_cmpuint(last_index, >=, acked);
		g_assert_cmpuint(last_index, <=, acked + 1);
		/* every kept report is exactly what was written */
		for (guint k = 0; k < history->len; k++) {
			VtStoreReport *e = history->pdata[k];
			guint i = (guint)((e->time_ms - T0) / STEP);

			g_assert_cmpint(e->time_ms, ==, T0 + (gint64)i * STEP);
			vt_store_test_assert_same_report(e->report, seq->pdata[i]);
			if (k > 0)
				g_assert_cmpint(e->time_ms, ==,
						((VtStoreReport *)history->pdata[k - 1])->time_ms +
							STEP);
		}
		/* the next run starts over from 0; times below the stored ones
		 * are moved after them, so start from a clean file instead */
		vt_store_free(g_steal_pointer(&store));
		g_autofree char *wal = g_strconcat(fx->path, "-wal", NULL);
		g_autofree char *shm = g_strconcat(fx->path, "-shm", NULL);
		unlink(fx->path);
		unlink(wal);
		unlink(shm);
	}
}

/* ------------------------------------------------------------ corruption */

static VtCounters *
counters_of(const VtReport *report)
{
	g_autoptr(VtReport) copy = vt_report_gen_copy(report);
	VtCounters *c = vt_counters_new();

	g_assert_true(vt_counters_extract(copy, TRUE, c, NULL));
	return c;
}

static void
test_counters_codec(void)
{
	g_autoptr(GPtrArray) seq = make_sequence(3, 5);
	g_autoptr(VtCounters) a = counters_of(seq->pdata[0]);
	g_autoptr(VtCounters) b = counters_of(seq->pdata[1]);
	g_autoptr(VtCounters) edge = vt_counters_copy(a);
	static const guint64 u64_edges[] = {
		0, 1, 1023, 1024, G_MAXUINT64, G_MAXUINT64 - 1023, 1ull << 63, (1ull << 62) + 1, 5};
	static const double double_edges[] = {0.0, -0.0, 1.0 / 3.0, 1e300, -7.25, 0.07, 2.5e-310};
	guint nd = 0, nu = 0;

	/* key and delta round trips, including wrap-around and huge jumps */
	for (guint i = 0; i < vt_counters_len(edge); i++) {
		guint64 *v = &g_array_index(edge->values, guint64, i);

		if (edge->kinds->data[i] == VT_COUNTER_DOUBLE) {
			double x = double_edges[nd++ % G_N_ELEMENTS(double_edges)];

			memcpy(v, &x, sizeof(x));
		} else {
			*v = u64_edges[nu++ % G_N_ELEMENTS(u64_edges)];
		}
	}
	const VtCounters *pairs[][2] = {{a, NULL}, {b, a},       {edge, b},
					{a, edge}, {edge, NULL}, {a, a}};

	for (guint p = 0; p < G_N_ELEMENTS(pairs); p++) {
		g_autoptr(GByteArray) blob = vt_counters_encode(pairs[p][0], pairs[p][1]);
		g_autoptr(GError) error = NULL;
		gboolean is_key;
		g_autoptr(VtCounters) back = vt_counters_decode(blob->data, blob->len, a->kinds,
								pairs[p][1], &is_key, &error);

		g_assert_no_error(error);
		g_assert_cmpint(is_key, ==, pairs[p][1] == NULL);
		g_assert_cmpmem(back->values->data, back->values->len * 8,
				pairs[p][0]->values->data, pairs[p][0]->values->len * 8);
	}
	/* an unchanged vector costs its bitmap and a few bytes */
	g_autoptr(GByteArray) same = vt_counters_encode(a, a);
	g_assert_cmpuint(same->len, <=, 3 + (vt_counters_len(a) + 7) / 8);

	/* a delta without its predecessor, or with another layout, is refused */
	g_autoptr(GByteArray) delta = vt_counters_encode(b, a);
	g_autoptr(GError) error = NULL;
	g_assert_null(vt_counters_decode(delta->data, delta->len, a->kinds, NULL, NULL, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_clear_error(&error);
	g_autoptr(GByteArray) fewer = g_byte_array_new();
	g_byte_array_append(fewer, a->kinds->data, a->kinds->len - 1);
	g_assert_null(vt_counters_decode(delta->data, delta->len, fewer, a, NULL, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_clear_error(&error);
}

/* Random bytes, truncations and bit flips of real blobs: decoding either
 * fails cleanly or yields a vector of the right length; it never crashes or
 * reads out of bounds (the sanitizer build checks the latter). */
static void
test_counters_fuzz(void)
{
	g_autoptr(GPtrArray) seq = make_sequence(2, 8);
	g_autoptr(VtCounters) a = counters_of(seq->pdata[0]);
	g_autoptr(VtCounters) b = counters_of(seq->pdata[1]);
	g_autoptr(GByteArray) key = vt_counters_encode(a, NULL);
	g_autoptr(GByteArray) delta = vt_counters_encode(b, a);
	g_autoptr(GRand) rand = g_rand_new_with_seed(1234);
	guint failures = 0, total = 0;

	for (guint round = 0; round < 20000; round++) {
		const GByteArray *src = round & 1 ? key : delta;
		g_autoptr(GByteArray) m = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(VtCounters) out = NULL;

		switch (round % 4) {
		case 0: /* truncated */
			g_byte_array_append(m, src->data, g_rand_int_range(rand, 0, src->len));
			break;
		case 1: /* bit flips */
			g_byte_array_append(m, src->data, src->len);
			for (guint k = 0; k < 1 + round % 5; k++)
				m->data[g_rand_int_range(rand, 0, m->len)] ^=
					(guint8)(1u << g_rand_int_range(rand, 0, 8));
			break;
		case 2: /* random bytes after a plausible header */
			g_byte_array_append(m, src->data, 3);
			for (guint k = g_rand_int_range(rand, 0, 400); k > 0; k--) {
				guint8 x = (guint8)g_rand_int(rand);
				g_byte_array_append(m, &x, 1);
			}
			break;
		default: /* trailing garbage */
			g_byte_array_append(m, src->data, src->len);
			g_byte_array_append(m, (const guint8[]){0x80, 0x80}, 2);
			break;
		}
		out = vt_counters_decode(m->data, m->len, a->kinds, a, NULL, &error);
		total++;
		if (out == NULL) {
			g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
			failures++;
		} else {
			g_assert_cmpuint(vt_counters_len(out), ==, vt_counters_len(a));
		}
	}
	/* truncation and trailing garbage always fail */
	g_assert_cmpuint(failures, >=, total / 2);
}

static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = vt_store_test_sqlite(path);

	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

static VtStore *
store_with_reports(const char *path, guint n)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(n, 77);
	VtStore *store = vt_store_open(path, &error);

	g_assert_no_error(error);
	for (guint i = 0; i < n; i++) {
		g_assert_true(vt_store_add_report(store, "uuid-a", NULL, T0 + (gint64)i * STEP,
						  seq->pdata[i], NULL, &error));
	}
	return store;
}

static void
assert_history_fails(VtStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) h = vt_store_history(store, "uuid-a", 0, 0, 0, &error);

	g_assert_null(h);
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
}

static void
test_corrupt_rows(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GRand) rand = g_rand_new_with_seed(99);
	static const char *const damage[] = {
		/* a delta cut short */
		"UPDATE reports SET counters = substr(counters, 1, length(counters) - 1)"
		" WHERE time_ms = (SELECT max(time_ms) FROM reports)",
		/* a key row's blob replaced by a delta form */
		"UPDATE reports SET counters = x'02' WHERE layout_id IS NOT NULL",
		/* a section that is not protobuf */
		"UPDATE sections SET data = x'ffffffff'",
		/* a section gone */
		"DELETE FROM sections WHERE id = (SELECT max(id) FROM sections)",
		/* a key row pointing at a layout that does not exist */
		"UPDATE reports SET layout_id = 424242 WHERE layout_id IS NOT NULL",
		/* the first row turned into a delta with nothing before it */
		"UPDATE reports SET layout_id = NULL WHERE layout_id IS NOT NULL",
		/* a counters blob that is not a blob */
		"UPDATE reports SET counters = 'text'",
	};

	for (guint d = 0; d < G_N_ELEMENTS(damage); d++) {
		g_autofree char *path = g_strdup_printf("%s/c%u.db", fx->dir, d);
		g_autoptr(VtStore) store = store_with_reports(path, 12);

		exec_sql(path, damage[d]);
		vt_store_free(g_steal_pointer(&store));
		store = vt_store_open(path, &error);
		g_assert_no_error(error);
		assert_history_fails(store);
		g_assert_null(vt_store_latest(store, "uuid-a", &error));
		g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
		g_clear_error(&error);
	}

	/* random blobs in random rows: errors or reports, never a crash */
	g_autofree char *path = g_strdup_printf("%s/random.db", fx->dir);
	g_autoptr(VtStore) store = store_with_reports(path, 30);
	sqlite3 *db = vt_store_test_sqlite(path);

	for (guint round = 0; round < 200; round++) {
		sqlite3_stmt *st;
		guint8 junk[64];
		guint len = g_rand_int_range(rand, 0, sizeof(junk));

		for (guint k = 0; k < len; k++)
			junk[k] = (guint8)g_rand_int(rand);
		if (round % 2 == 0)
			g_assert_cmpint(sqlite3_prepare_v2(db,
							   "UPDATE reports SET counters = ?"
							   " WHERE time_ms = ?",
							   -1, &st, NULL),
					==, SQLITE_OK);
		else
			g_assert_cmpint(sqlite3_prepare_v2(db,
							   "UPDATE sections SET data = ?"
							   " WHERE id = (SELECT id FROM sections"
							   " ORDER BY id LIMIT 1 OFFSET ?)",
							   -1, &st, NULL),
					==, SQLITE_OK);
		junk[0] = round % 3 == 0 ? 2 : junk[0];
		sqlite3_bind_blob(st, 1, junk, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2,
				   round % 2 == 0
					   ? T0 + (gint64)g_rand_int_range(rand, 0, 30) * STEP
					   : g_rand_int_range(rand, 0, 8));
		g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
		sqlite3_finalize(st);

		g_autoptr(GPtrArray) h = vt_store_history(store, "uuid-a", 0, 0, 0, &error);
		if (h == NULL) {
			g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
			g_clear_error(&error);
		}
	}
	sqlite3_close(db);
}

/* ------------------------------------------------------------ concurrency */

typedef struct {
	const char *path;
	GPtrArray *seq;
	gint done;
	GError *error;
} VtWriter;

static gpointer
writer_thread(gpointer data)
{
	VtWriter *w = data;
	g_autoptr(VtStore) store = vt_store_open(w->path, &w->error);

	for (guint i = 0; store != NULL && i < w->seq->len; i++) {
		if (!vt_store_add_report(store, "uuid-a", NULL, T0 + (gint64)i * STEP,
					 w->seq->pdata[i], NULL, &w->error))
			break;
		if (i % 50 == 49 &&
		    !vt_store_prune(store, T0 + (gint64)i * STEP, 0, 120, NULL, &w->error))
			break;
	}
	g_atomic_int_set(&w->done, 1);
	return NULL;
}

static void
test_concurrent_reader(VtStoreFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) seq = make_sequence(400, 31);
	VtWriter w = {.path = fx->path, .seq = seq};
	g_autoptr(VtStore) reader = NULL;
	GThread *thread;
	gint64 last_seen = 0;
	guint reads = 0;

	/* create the schema first so the reader opens a finished database */
	vt_store_free(vt_store_open(fx->path, &error));
	g_assert_no_error(error);
	reader = vt_store_open(fx->path, &error);
	g_assert_no_error(error);
	thread = g_thread_new("writer", writer_thread, &w);
	while (!g_atomic_int_get(&w.done) || reads == 0) {
		g_autoptr(GPtrArray) h = vt_store_history(reader, "uuid-a", 0, 0, 20, &error);

		g_assert_no_error(error);
		reads++;
		for (guint k = 0; k < h->len; k++) {
			VtStoreReport *e = h->pdata[k];
			guint i = (guint)((e->time_ms - T0) / STEP);

			vt_store_test_assert_same_report(e->report, seq->pdata[i]);
		}
		if (h->len > 0) {
			gint64 newest = ((VtStoreReport *)h->pdata[h->len - 1])->time_ms;

			g_assert_cmpint(newest, >=, last_seen);
			last_seen = newest;
		}
	}
	g_thread_join(thread);
	g_assert_no_error(w.error);
	g_assert_cmpuint(reads, >, 1);
	g_autoptr(VtStoreReport) latest = vt_store_latest(reader, "uuid-a", &error);
	g_assert_no_error(error);
	g_assert_cmpint(latest->time_ms, ==, T0 + 399 * STEP);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                                              \
	g_test_add(path, VtStoreFixture, NULL, vt_store_fixture_setup, fn,                         \
		   vt_store_fixture_teardown)
	ADD("/store/crash/sigkill-mid-write", test_crash);
	g_test_add_func("/store/corrupt/counters-codec", test_counters_codec);
	g_test_add_func("/store/corrupt/counters-fuzz", test_counters_fuzz);
	ADD("/store/corrupt/rows", test_corrupt_rows);
	ADD("/store/concurrent/reader-while-writing", test_concurrent_reader);
#undef ADD
	return g_test_run();
}
