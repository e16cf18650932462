/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The measured effect of a change on simulated report series whose before
 * and after are known: improved, regressed, noise only, too short; and the
 * statistics under them against values computed by hand.
 */
#include <math.h>

#include "effect.h"

#define INTERVAL_MS 5000u

/* A NIC "eth0" whose drop counter grows by @drops[i] in interval i, and
 * whose receive interrupts go to @queues queues, the busiest taking @share. */
static VtReport *
nic_report(guint i, guint64 dropped, guint queues, double share)
{
	VtReport *r = g_new0(VtReport, 1);
	VtNic *n = g_new0(VtNic, 1);

	virttune__v1__report__init(r);
	virttune__v1__nic__init(n);
	r->has_monotonic_ms = TRUE;
	r->monotonic_ms = 1000000 + (guint64)i * INTERVAL_MS;
	n->name = g_strdup("eth0");
	n->stats = g_new0(VtNicStats, 1);
	virttune__v1__nic_stats__init(n->stats);
	n->stats->has_rx_dropped = TRUE;
	n->stats->rx_dropped = dropped;
	n->n_queue_interrupts = queues;
	n->queue_interrupts = g_new0(VtQueueInterrupts *, queues);
	for (guint q = 0; q < queues; q++) {
		VtQueueInterrupts *qi = g_new0(VtQueueInterrupts, 1);
		double part = q == 0 ? share : (1 - share) / (queues - 1);

		virttune__v1__queue_interrupts__init(qi);
		qi->queue = g_strdup_printf("input.%u", q);
		qi->has_count = TRUE;
		qi->count = (guint64)(part * 10000.0 * i);
		n->queue_interrupts[q] = qi;
	}
	r->n_nics = 1;
	r->nics = g_new(VtNic *, 1);
	r->nics[0] = n;
	return r;
}

/* @n reports whose drop counter moves by @rate*5 s ± @noise per interval. */
static GPtrArray *
series(guint start, guint n, double rate, double noise, guint queues, double share)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vt_report_free);
	GRand *rand = g_rand_new_with_seed(42 + start);
	double total = 1000;

	for (guint i = 0; i < n; i++) {
		double step =
			rate * INTERVAL_MS / 1000.0 + g_rand_double_range(rand, -noise, noise);

		total += MAX(0, step);
		g_ptr_array_add(out, nic_report(start + i, (guint64)total, queues, share));
	}
	g_rand_free(rand);
	return out;
}

static VtEffect *
effect_of(double before_rate, double after_rate, double noise, guint nb, guint na)
{
	g_autoptr(GPtrArray) b = series(0, nb, before_rate, noise, 1, 1.0);
	g_autoptr(GPtrArray) a = series(nb, na, after_rate, noise, 4, 0.3);

	return vt_effect_compute("nic.queues", "eth0", b, a);
}

static const VtEffectMetric *
metric(const VtEffect *e, const char *name)
{
	for (guint i = 0; i < e->n_metrics; i++)
		if (g_strcmp0(e->metrics[i].name, name) == 0)
			return &e->metrics[i];
	g_assert_not_reached();
}

static void
test_improved(void)
{
	g_autoptr(VtEffect) e = effect_of(40, 2, 20, 20, 20);
	const VtEffectMetric *drops = metric(e, "drops_per_s");
	const VtEffectMetric *spread = metric(e, "busiest_queue_share");

	g_assert_cmpint(e->verdict, ==, VT_VERDICT_IMPROVED);
	g_assert_cmpint(drops->verdict, ==, VT_VERDICT_IMPROVED);
	g_assert_cmpuint(drops->before.n, ==, 19);
	g_assert_cmpuint(drops->after.n, ==, 19);
	g_assert_cmpfloat_with_epsilon(drops->before.mean, 40, 4);
	g_assert_cmpfloat(drops->p, <, 0.001);
	/* one queue took every interrupt; after, the busiest takes 30% */
	g_assert_cmpfloat_with_epsilon(spread->before.mean, 1.0, 1e-9);
	g_assert_cmpfloat_with_epsilon(spread->after.mean, 0.3, 0.01);
	g_assert_cmpint(spread->verdict, ==, VT_VERDICT_IMPROVED);
}

static void
test_regressed(void)
{
	g_autoptr(GPtrArray) b = series(0, 20, 2, 5, 4, 0.3);
	g_autoptr(GPtrArray) a = series(20, 20, 50, 5, 4, 0.3);
	g_autoptr(VtEffect) e = vt_effect_compute("nic.queues", "eth0", b, a);
	g_autofree char *text = vt_effect_describe(e);

	g_assert_cmpint(metric(e, "drops_per_s")->verdict, ==, VT_VERDICT_REGRESSED);
	g_assert_cmpint(metric(e, "busiest_queue_share")->verdict, ==, VT_VERDICT_NONE);
	g_assert_cmpint(e->verdict, ==, VT_VERDICT_REGRESSED);
	g_assert_true(g_str_has_prefix(text, "regressed: busiest_queue_share"));
}

static void
test_noise_only(void)
{
	g_autoptr(GPtrArray) b = series(0, 20, 10, 50, 4, 0.3);
	g_autoptr(GPtrArray) a = series(20, 20, 10, 50, 4, 0.3);
	g_autoptr(VtEffect) e = vt_effect_compute("nic.queues", "eth0", b, a);
	const VtEffectMetric *drops = metric(e, "drops_per_s");

	g_assert_cmpint(e->verdict, ==, VT_VERDICT_NONE);
	g_assert_cmpfloat(drops->p, >, VT_EFFECT_ALPHA);
	g_assert_cmpfloat(drops->before.stddev, >, 1);
}

static void
test_too_short(void)
{
	g_autoptr(VtEffect) e = effect_of(40, 2, 1, 20, 3); /* 2 intervals after */
	g_autoptr(VtEffect) none = effect_of(40, 2, 1, 0, 0);

	g_assert_cmpint(e->verdict, ==, VT_VERDICT_INSUFFICIENT);
	g_assert_cmpuint(metric(e, "drops_per_s")->after.n, ==, 2);
	g_assert_cmpint(none->verdict, ==, VT_VERDICT_INSUFFICIENT);
	g_assert_cmpstr(vt_verdict_name(none->verdict), ==, "insufficient data");
}

/* A reboot between reports (counters back to 0) is not an interval. */
static void
test_counter_reset(void)
{
	g_autoptr(GPtrArray) b = series(0, 10, 10, 0, 1, 1.0);
	g_autoptr(GPtrArray) a = series(10, 10, 10, 0, 1, 1.0);
	g_autoptr(VtEffect) e = NULL;

	for (guint i = 5; i < a->len; i++) /* counters start again lower */
		((VtReport *)a->pdata[i])->nics[0]->stats->rx_dropped -= 900;
	e = vt_effect_compute("nic.queues", "eth0", b, a);
	g_assert_cmpuint(metric(e, "drops_per_s")->after.n, ==, 8);
}

/* Summaries and Welch's test against hand-computed values. */
static void
test_statistics(void)
{
	double x[] = {3, 1, 2, 4, 5}, y[] = {6, 7, 8, 9, 10};
	VtSummary a = vt_summary_of(x, 5), b = vt_summary_of(y, 5), same;

	g_assert_cmpfloat_with_epsilon(a.mean, 3, 1e-12);
	g_assert_cmpfloat_with_epsilon(a.median, 3, 1e-12);
	g_assert_cmpfloat_with_epsilon(a.stddev, sqrt(2.5), 1e-12);
	/* t = -5, df = 8: two-sided p = 0.001053 */
	g_assert_cmpfloat_with_epsilon(vt_welch_p(&a, &b), 0.001053, 2e-6);
	same = a;
	g_assert_cmpfloat_with_epsilon(vt_welch_p(&a, &same), 1.0, 1e-9);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/effect/improved", test_improved);
	g_test_add_func("/effect/regressed", test_regressed);
	g_test_add_func("/effect/noise-only", test_noise_only);
	g_test_add_func("/effect/too-short", test_too_short);
	g_test_add_func("/effect/counter-reset", test_counter_reset);
	g_test_add_func("/effect/statistics", test_statistics);
	return g_test_run();
}
