/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The measured effect of a change on simulated report series and host
 * domstats series whose before and after are known: improved, regressed,
 * noise only, too short, on the guest's side and the host's; and the
 * statistics under them against values computed by hand.
 */
#include <math.h>
#include <string.h>

#include "effect.h"
#include "error.h"
#include "host-sample.h"

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

/* ---------------------------------------------------------------- host side */

#define HOST_T0_MS 1700000000000

typedef struct {
	double drops; /* tap vnet0 (guest eth0): rx.drop per second */
	double iops;  /* disk vda: read requests per second */
	double ms;    /* and the time each takes */
	double noise; /* ± this share of each, per interval */
} HostLoad;

/* Host samples @n intervals of INTERVAL_MS from interval @start, as the
 * daemon keeps them (vt_host_sample_format's text), with counters that move
 * by @load per second. */
static GPtrArray *
host_series(guint start, guint n, HostLoad load)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vt_host_sample_free);
	GRand *rand = g_rand_new_with_seed(7 + start);
	double drops = 500, reqs = 100000, ns = 1e9, dt = INTERVAL_MS / 1000.0;

	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *text = NULL;
		double jitter = 1 + g_rand_double_range(rand, -load.noise, load.noise);
		double r = load.iops * dt * jitter;
		VtHostSample *sample;

		drops += load.drops * dt * (1 + g_rand_double_range(rand, -load.noise, load.noise));
		reqs += r;
		ns += r * load.ms * 1e6 * (1 + g_rand_double_range(rand, -load.noise, load.noise));
		text = g_strdup_printf("Domain: 'sample'\n"
				       "  block.count=1\n"
				       "  block.0.name=vda\n"
				       "  block.0.guest=vda\n"
				       "  block.0.rd.reqs=%.0f\n"
				       "  block.0.rd.times=%.0f\n"
				       "  block.0.wr.reqs=7\n"
				       "  block.0.wr.times=9000\n"
				       "  net.count=1\n"
				       "  net.0.name=vnet0\n"
				       "  net.0.guest=eth0\n"
				       "  net.0.rx.drop=%.0f\n"
				       "  net.0.tx.drop=3\n",
				       reqs, ns, drops);
		sample = vt_host_sample_parse(HOST_T0_MS + (gint64)(start + i) * INTERVAL_MS, text,
					      strlen(text), &error);
		g_assert_no_error(error);
		g_ptr_array_add(out, sample);
	}
	g_rand_free(rand);
	return out;
}

static const VtEffectMetric *
side_metric(const VtEffect *e, const char *side, const char *name)
{
	for (guint i = 0; i < e->n_metrics; i++)
		if (g_strcmp0(e->metrics[i].name, name) == 0 &&
		    g_strcmp0(e->metrics[i].side, side) == 0)
			return &e->metrics[i];
	g_assert_not_reached();
}

/* nic.queues: fewer drops on the tap after the change, while the guest's
 * own counters say nothing new: the host side carries the verdict. */
static void
test_host_improved(void)
{
	g_autoptr(GPtrArray) b = series(0, 20, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) a = series(20, 20, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) hb = host_series(0, 20, (HostLoad){.drops = 40, .noise = 0.3});
	g_autoptr(GPtrArray) ha = host_series(20, 20, (HostLoad){.drops = 2, .noise = 0.3});
	g_autoptr(VtEffect) e = vt_effect_compute_sides("nic.queues", "eth0", b, a, hb, ha);
	const VtEffectMetric *host = side_metric(e, "host", "drops_per_s");
	g_autofree char *text = vt_effect_describe(e);

	g_assert_cmpint(side_metric(e, "guest", "drops_per_s")->verdict, ==, VT_VERDICT_NONE);
	g_assert_cmpint(host->verdict, ==, VT_VERDICT_IMPROVED);
	g_assert_cmpuint(host->before.n, ==, 19);
	g_assert_cmpuint(host->after.n, ==, 19);
	/* rx.drop moves by 40/s; tx.drop stands still */
	g_assert_cmpfloat_with_epsilon(host->before.mean, 40, 4);
	g_assert_cmpfloat_with_epsilon(host->after.mean, 2, 0.5);
	g_assert_cmpfloat(host->p, <, 0.001);
	g_assert_cmpint(e->verdict, ==, VT_VERDICT_IMPROVED);
	g_assert_nonnull(strstr(text, "host drops_per_s"));
}

/* blk.*: the host's latency of the disk grows fivefold: regressed, also
 * with no guest disk figures at all. */
static void
test_host_regressed(void)
{
	g_autoptr(GPtrArray) b = series(0, 20, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) a = series(20, 20, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) hb =
		host_series(0, 20, (HostLoad){.iops = 200, .ms = 1, .noise = 0.2});
	g_autoptr(GPtrArray) ha =
		host_series(20, 20, (HostLoad){.iops = 200, .ms = 5, .noise = 0.2});
	g_autoptr(VtEffect) e = vt_effect_compute_sides("blk.scheduler", "vda", b, a, hb, ha);
	const VtEffectMetric *lat = side_metric(e, "host", "latency_ms");
	const VtEffectMetric *iops = side_metric(e, "host", "iops");

	g_assert_cmpint(side_metric(e, "guest", "latency_ms")->verdict, ==,
			VT_VERDICT_INSUFFICIENT);
	g_assert_cmpint(lat->verdict, ==, VT_VERDICT_REGRESSED);
	g_assert_cmpfloat_with_epsilon(lat->before.mean, 1, 0.15);
	g_assert_cmpfloat_with_epsilon(lat->after.mean, 5, 0.75);
	g_assert_cmpint(iops->verdict, ==, VT_VERDICT_NONE);
	g_assert_cmpfloat_with_epsilon(iops->before.mean, 200, 20);
	g_assert_cmpint(e->verdict, ==, VT_VERDICT_REGRESSED);
}

static void
test_host_noise_only(void)
{
	HostLoad load = {.drops = 20, .iops = 300, .ms = 2, .noise = 0.8};
	g_autoptr(GPtrArray) none = g_ptr_array_new();
	g_autoptr(GPtrArray) hb = host_series(0, 20, load);
	g_autoptr(GPtrArray) ha = host_series(20, 20, load);
	g_autoptr(VtEffect) blk = vt_effect_compute_sides("blk.latency", "vda", none, none, hb, ha);
	g_autoptr(VtEffect) net = vt_effect_compute_sides("net.drops", NULL, none, none, hb, ha);

	g_assert_cmpint(blk->verdict, ==, VT_VERDICT_NONE);
	g_assert_cmpfloat(side_metric(blk, "host", "iops")->p, >, VT_EFFECT_ALPHA);
	g_assert_cmpfloat(side_metric(blk, "host", "latency_ms")->before.stddev, >, 0.1);
	g_assert_cmpint(net->verdict, ==, VT_VERDICT_NONE);
	/* no subject: the first paired interface */
	g_assert_cmpuint(side_metric(net, "host", "drops_per_s")->before.n, ==, 19);
}

static void
test_host_too_short(void)
{
	g_autoptr(GPtrArray) b = series(0, 20, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) a = series(20, 20, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) hb = host_series(0, 20, (HostLoad){.drops = 40});
	g_autoptr(GPtrArray) ha = host_series(20, 3, (HostLoad){.drops = 2});
	g_autoptr(GPtrArray) empty = g_ptr_array_new();
	g_autoptr(VtEffect) e = vt_effect_compute_sides("nic.queues", "eth0", b, a, hb, ha);
	g_autoptr(VtEffect) none =
		vt_effect_compute_sides("nic.queues", "eth0", b, a, empty, empty);
	g_autoptr(VtEffect) other = vt_effect_compute_sides("nic.queues", "eth9", b, a, hb, hb);

	g_assert_cmpuint(side_metric(e, "host", "drops_per_s")->after.n, ==, 2);
	g_assert_cmpint(side_metric(e, "host", "drops_per_s")->verdict, ==,
			VT_VERDICT_INSUFFICIENT);
	g_assert_cmpint(e->verdict, ==, VT_VERDICT_NONE); /* the guest's metrics had samples */
	g_assert_cmpuint(side_metric(none, "host", "drops_per_s")->before.n, ==, 0);
	/* a NIC the host samples do not pair: no host samples for it */
	g_assert_cmpuint(side_metric(other, "host", "drops_per_s")->before.n, ==, 0);
}

/* A restarted domain (counters back down) and a gap of over an hour are not
 * intervals; without host samples there are no host metrics at all. */
static void
test_host_reset_and_gap(void)
{
	g_autoptr(GPtrArray) b = series(0, 10, 10, 5, 4, 0.3);
	g_autoptr(GPtrArray) hb = host_series(0, 10, (HostLoad){.drops = 40, .iops = 10, .ms = 1});
	g_autoptr(GPtrArray) ha = host_series(10, 10, (HostLoad){.drops = 40, .iops = 10, .ms = 1});
	g_autoptr(VtEffect) e = NULL, guest_only = vt_effect_compute("nic.queues", "eth0", b, b);
	g_autoptr(JsonBuilder) jb = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	JsonArray *metrics;

	for (guint i = 5; i < ha->len; i++) {
		VtHostSample *s = ha->pdata[i];
		VtStatValue v = {.type = VT_STAT_UINT64, .u = 1};

		g_assert_true(vt_domstats_set(s->stats, "net.0.rx.drop", &v, NULL));
		/* the sample's interfaces are read from its counters once */
		g_ptr_array_unref(s->nics);
		s->nics = vt_host_nics(s->stats);
	}
	((VtHostSample *)hb->pdata[9])->time_ms += 3600 * 1000 + 1;
	e = vt_effect_compute_sides("nic.queues", "eth0", b, b, hb, ha);
	/* 19 samples less the restart and the gap, counting within each window */
	g_assert_cmpuint(side_metric(e, "host", "drops_per_s")->before.n, ==, 8);
	/* ha[5..] all read 1: the interval into the restart is dropped, the rest are 0/s */
	g_assert_cmpuint(side_metric(e, "host", "drops_per_s")->after.n, ==, 8);
	for (guint i = 0; i < guest_only->n_metrics; i++)
		g_assert_cmpstr(guest_only->metrics[i].side, ==, "guest");

	vt_effect_to_json(jb, e);
	root = json_builder_get_root(jb);
	metrics = json_object_get_array_member(json_node_get_object(root), "metrics");
	g_assert_cmpuint(json_array_get_length(metrics), ==, e->n_metrics);
	g_assert_cmpstr(json_object_get_string_member(
				json_array_get_object_element(metrics, e->n_metrics - 1), "side"),
			==, "host");
	g_assert_cmpstr(
		json_object_get_string_member(json_array_get_object_element(metrics, 0), "side"),
		==, "guest");
}

/* What the daemon writes for a poll: only the paired devices' counters, and
 * names that could break the line format are left out. */
static void
test_host_sample_format(void)
{
	static const char domstats[] = "Domain: 'web'\n"
				       "  block.count=2\n"
				       "  block.0.name=vda\n"
				       "  block.0.path=/var/lib/libvirt/images/web.qcow2\n"
				       "  block.0.rd.reqs=10\n"
				       "  block.0.rd.bytes=40960\n"
				       "  block.0.rd.times=2000000\n"
				       "  block.0.wr.reqs=5\n"
				       "  block.0.wr.times=1000000\n"
				       "  block.1.name=vdb\n"
				       "  block.1.rd.reqs=1\n"
				       "  net.count=1\n"
				       "  net.0.name=vnet3\n"
				       "  net.0.rx.drop=17\n"
				       "  net.0.tx.drop=2\n"
				       "  net.0.rx.bytes=99\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = vt_domstats_parse_text(domstats, -1, &error);
	g_auto(VtRates) sides = {0};
	VtRates *rates = &sides;
	g_autofree char *text = NULL, *none = NULL;
	g_autoptr(VtHostSample) sample = NULL;
	g_autoptr(VtHostSample) bad = NULL;
	guint64 v;

	g_assert_no_error(error);
	rates->n_disks = 2;
	rates->disks = g_new0(VtDiskRates, rates->n_disks);
	g_strlcpy(rates->disks[0].name, "vda", VT_RATES_NAME_MAX);
	g_strlcpy(rates->disks[0].target, "vda", VT_RATES_NAME_MAX);
	g_strlcpy(rates->disks[1].name, "sdb\n  block.9.x", VT_RATES_NAME_MAX);
	g_strlcpy(rates->disks[1].target, "vdb", VT_RATES_NAME_MAX);
	rates->n_nics = 1;
	rates->nics = g_new0(VtNicRates, rates->n_nics);
	g_strlcpy(rates->nics[0].name, "eth0", VT_RATES_NAME_MAX);
	g_strlcpy(rates->nics[0].target, "vnet3", VT_RATES_NAME_MAX);
	text = vt_host_sample_format(rates, all->pdata[0]);
	g_assert_nonnull(text);
	g_assert_cmpuint(strlen(text), <, VT_HOST_SAMPLE_MAX_BYTES);
	sample = vt_host_sample_parse(5, text, strlen(text), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(vt_host_sample_target(sample, "block", "vda"), ==, "vda");
	g_assert_cmpstr(vt_host_sample_target(sample, "net", "eth0"), ==, "vnet3");
	g_assert_cmpstr(vt_host_sample_target(sample, "net", NULL), ==, "vnet3");
	g_assert_null(vt_host_sample_target(sample, "block", "vdb"));
	g_assert_true(vt_domstats_get_uint64(sample->stats, "block.count", &v));
	g_assert_cmpuint(v, ==, 1); /* the disk with a hostile guest name is left out */
	g_assert_true(vt_domstats_get_uint64(sample->stats, "block.0.rd.times", &v));
	g_assert_cmpuint(v, ==, 2000000);
	g_assert_true(vt_domstats_get_uint64(sample->stats, "net.0.tx.drop", &v));
	g_assert_cmpuint(v, ==, 2);
	g_assert_null(vt_domstats_lookup(sample->stats, "block.0.rd.bytes"));
	g_assert_null(vt_domstats_lookup(sample->stats, "net.0.rx.bytes"));

	/* nothing paired: nothing to keep */
	rates->n_disks = rates->n_nics = 0;
	none = vt_host_sample_format(rates, all->pdata[0]);
	g_assert_null(none);
	bad = vt_host_sample_parse(5, "Domain: 'a'\nDomain: 'b'\n", 22, &error);
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	g_assert_null(bad);
}

/* Which metrics each rule family is judged by, and on which side. */
static void
test_families(void)
{
	static const struct {
		const char *rule;
		const char *metrics; /* side:name, in order */
	} cases[] = {
		{"nic.queues", "guest:busiest_queue_share guest:drops_per_s "
			       "guest:softnet_drops_per_s host:drops_per_s"},
		{"net.drops", "guest:drops_per_s guest:softnet_drops_per_s host:drops_per_s"},
		{"blk.scheduler", "guest:iops guest:latency_ms host:iops host:latency_ms"},
		{"io.pressure", "guest:psi_io_some_avg10"},
		{"cpu.steal", "guest:psi_cpu_some_avg10"},
		{"mem.swappiness", "guest:swapin_per_s guest:swapout_per_s "
				   "guest:mem_available_mib guest:psi_memory_some_avg10"},
		{"mem.balloon", "guest:swapin_per_s guest:swapout_per_s "
				"guest:mem_available_mib guest:psi_memory_some_avg10"},
	};
	g_autoptr(GPtrArray) none = g_ptr_array_new();

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(VtEffect) e =
			vt_effect_compute_sides(cases[i].rule, NULL, none, none, none, none);
		g_autoptr(GString) got = g_string_new(NULL);

		for (guint k = 0; k < e->n_metrics; k++)
			g_string_append_printf(got, "%s%s:%s", k ? " " : "", e->metrics[k].side,
					       e->metrics[k].name);
		g_assert_cmpstr(got->str, ==, cases[i].metrics);
		g_assert_cmpint(e->verdict, ==, VT_VERDICT_INSUFFICIENT);
	}
}

/* A sample read back is looked at up to VT_HOST_SAMPLE_MAX_DEVICES devices. */
static void
test_host_sample_bound(void)
{
	g_autoptr(GString) text = g_string_new("Domain: 'sample'\n");
	g_autoptr(VtHostSample) sample = NULL;
	g_autoptr(GError) error = NULL;
	guint n = VT_HOST_SAMPLE_MAX_DEVICES + 1;

	g_string_append_printf(text, "  net.count=%u\n", n);
	for (guint i = 0; i < n; i++)
		g_string_append_printf(text, "  net.%u.name=vnet%u\n  net.%u.guest=eth%u\n", i, i,
				       i, i);
	sample = vt_host_sample_parse(1, text->str, text->len, &error);
	g_assert_no_error(error);
	g_autofree char *last = g_strdup_printf("eth%u", n - 2);
	g_autofree char *last_tap = g_strdup_printf("vnet%u", n - 2);
	g_autofree char *past = g_strdup_printf("eth%u", n - 1);

	g_assert_cmpstr(vt_host_sample_target(sample, "net", last), ==, last_tap);
	g_assert_null(vt_host_sample_target(sample, "net", past));
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
	g_test_add_func("/effect/families", test_families);
	g_test_add_func("/effect/host/improved", test_host_improved);
	g_test_add_func("/effect/host/regressed", test_host_regressed);
	g_test_add_func("/effect/host/noise-only", test_host_noise_only);
	g_test_add_func("/effect/host/too-short", test_host_too_short);
	g_test_add_func("/effect/host/reset-and-gap", test_host_reset_and_gap);
	g_test_add_func("/effect/host/sample-format", test_host_sample_format);
	g_test_add_func("/effect/host/sample-bound", test_host_sample_bound);
	return g_test_run();
}
