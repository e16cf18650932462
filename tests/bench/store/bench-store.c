/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a report costs the history store: bytes on disk per unchanged report
 * (only counters move), per changed report (a sysctl changes every time), and
 * insert throughput. Prints figures; it passes or fails nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "report-gen.h"
#include "store.h"

#define T0   1700000000000
#define STEP 10000

typedef struct {
	double seconds;
	guint64 bytes;      /* database + WAL after a truncating checkpoint */
	guint64 bytes_half; /* the same after the first half of the reports */
} VtRun;

static guint64
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

static guint64
store_bytes(VtStore *store, const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);

	if (!vt_store_checkpoint(store, &error))
		g_printerr("checkpoint: %s\n", error->message);
	return file_size(path) + file_size(wal);
}

static void
remove_db(const char *path)
{
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(path, "-shm", NULL);

	g_unlink(path);
	g_unlink(wal);
	g_unlink(shm);
}

/* @n reports from @guests guests, each in its own transaction (as the daemon
 * stores them) or one transaction per round of all guests when @batch. */
static VtRun
run(const char *path, guint n, guint guests, gboolean change, gboolean batch)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) gens =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_report_gen_free);
	g_autoptr(GPtrArray) reports =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_report_free);
	g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VtStore) store = NULL;
	VtRun r = {0};
	guint rounds = n / guests, done = 0;
	gint64 start;

	remove_db(path);
	store = vt_store_open(path, &error);
	if (store == NULL) {
		g_printerr("%s\n", error->message);
		exit(1);
	}
	for (guint g = 0; g < guests; g++) {
		VtReportGen *gen = vt_report_gen_new(1000 + g);

		g_ptr_array_add(gens, gen);
		g_ptr_array_add(reports, vt_report_gen_base(gen));
		g_ptr_array_add(uuids, g_strdup_printf("6f1d2c3b-0000-4000-8000-%012u", g));
	}
	start = g_get_monotonic_time();
	for (guint s = 0; s < rounds; s++) {
		if (batch && !vt_store_begin(store, &error))
			break;
		for (guint g = 0; g < guests; g++) {
			VtReport *rep = reports->pdata[g];

			vt_report_gen_tick(gens->pdata[g], rep);
			if (change)
				vt_report_gen_change(rep, s * guests + g);
			if (!vt_store_add_report(store, uuids->pdata[g], "guest",
						 T0 + (gint64)s * STEP, rep, NULL, &error)) {
				g_printerr("%s\n", error->message);
				exit(1);
			}
			done++;
		}
		if (batch && !vt_store_commit(store, &error))
			break;
		if (s + 1 == rounds / 2) {
			gint64 paused = g_get_monotonic_time();

			r.bytes_half = store_bytes(store, path);
			start += g_get_monotonic_time() - paused;
		}
	}
	if (error != NULL) {
		g_printerr("%s\n", error->message);
		exit(1);
	}
	r.seconds = (g_get_monotonic_time() - start) / 1e6;
	r.bytes = store_bytes(store, path);
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(const char *what, const char *path, guint n, guint guests, guint runs, gboolean change,
       gboolean batch)
{
	g_autofree double *rates = g_new0(double, runs);
	VtRun last = {0};
	guint total = n / guests * guests;

	for (guint i = 0; i < runs; i++) {
		last = run(path, total, guests, change, batch);
		rates[i] = total / last.seconds;
	}
	qsort(rates, runs, sizeof(double), cmp_double);
	printf("%-34s %8.1f B/report overall  %8.1f B/report 2nd half  %9.0f reports/s "
	       "(median of %u, min %.0f, max %.0f)\n",
	       what, (double)last.bytes / total,
	       (double)(last.bytes - last.bytes_half) / (total - total / guests / 2 * guests),
	       rates[runs / 2], runs, rates[0], rates[runs - 1]);
}

int
main(int argc, char **argv)
{
	gint reports = 10000, guests = 10, runs = 5;
	g_autofree char *dir = NULL;
	g_autofree char *tmp = NULL;
	GOptionEntry entries[] = {
		{"reports", 'n', 0, G_OPTION_ARG_INT, &reports, "reports per run (10000)", "N"},
		{"guests", 'g', 0, G_OPTION_ARG_INT, &guests, "guests reporting in turn (10)", "G"},
		{"runs", 'r', 0, G_OPTION_ARG_INT, &runs, "runs per figure (5)", "R"},
		{"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "where the database goes (a temp dir)",
		 "DIR"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- cost of a report in the store");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || reports < 2 || guests < 1 ||
	    runs < 1 || reports / guests < 2) {
		g_printerr("%s\n", error != NULL ? error->message : "bad numbers");
		return 2;
	}
	if (dir == NULL) {
		tmp = g_dir_make_tmp("vt-bench-store-XXXXXX", &error);
		if (tmp == NULL) {
			g_printerr("%s\n", error->message);
			return 1;
		}
	}
	g_autofree char *path = g_build_filename(dir != NULL ? dir : tmp, "bench.db", NULL);

	{
		g_autoptr(VtReportGen) gen = vt_report_gen_new(1000);
		g_autoptr(VtReport) r = vt_report_gen_base(gen);
		g_autoptr(GBytes) packed = vt_message_pack(&r->base, FALSE, NULL);
		g_autofree char *json = vt_report_gen_json(r);

		printf("report: %zu bytes as protobuf, %zu as JSON; %d reports from %d guests, "
		       "SQLite %s\n",
		       g_bytes_get_size(packed), strlen(json), reports / guests * guests, guests,
		       sqlite3_libversion());
	}
	report("unchanged, one txn per report", path, (guint)reports, (guint)guests, (guint)runs,
	       FALSE, FALSE);
	report("changed sysctl, one txn per report", path, (guint)reports, (guint)guests,
	       (guint)runs, TRUE, FALSE);
	report("unchanged, one txn per round", path, (guint)reports, (guint)guests, (guint)runs,
	       FALSE, TRUE);
	remove_db(path);
	if (tmp != NULL)
		g_rmdir(tmp);
	return 0;
}
