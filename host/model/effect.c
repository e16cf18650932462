/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The measured effect of a change: samples per report interval, summaries,
 * Welch's t-test, the verdict. */
#include "effect.h"

#include <math.h>
#include <string.h>

#include "builder.h"
#include "devstats.h"
#include "rates.h"

/* Reports further apart than this (or going back) are not one interval. */
#define INTERVAL_MAX_S 3600.0

typedef gboolean (*SampleFn)(const VtReport *prev, const VtReport *cur, double dt,
			     const char *subject, double *out);
typedef gboolean (*HostSampleFn)(const VtHostSample *prev, const VtHostSample *cur, double dt,
				 const char *subject, double *out);

/* A metric of one side: @sample (the guest's reports) or @host_sample (the
 * host's counters kept per poll). */
typedef struct {
	const char *name;
	const char *unit;
	gboolean lower_is_better;
	SampleFn sample;
	HostSampleFn host_sample;
} MetricDef;

static const char *const verdict_names[] = {"insufficient data", "no measurable change", "improved",
					    "regressed"};

const char *
vt_verdict_name(VtVerdict v)
{
	return (guint)v < G_N_ELEMENTS(verdict_names) ? verdict_names[v] : "?";
}

/* ---------------------------------------------------------------- samples */

static gboolean
rate(guint64 prev, guint64 cur, double dt, double *out)
{
	if (cur < prev) /* a counter reset: a reboot or a new device */
		return FALSE;
	*out = (double)(cur - prev) / dt;
	return TRUE;
}

static const VtNic *
find_nic(const VtReport *r, const char *name)
{
	for (gsize i = 0; i < r->n_nics; i++)
		if (r->nics[i]->name && (name == NULL || strcmp(r->nics[i]->name, name) == 0))
			return r->nics[i];
	return NULL;
}

static const VtBlock *
find_block(const VtReport *r, const char *name)
{
	for (gsize i = 0; i < r->n_block; i++)
		if (r->block[i]->name && (name == NULL || strcmp(r->block[i]->name, name) == 0))
			return r->block[i];
	return NULL;
}

static guint64
nic_drops(const VtNic *n)
{
	return n->stats ? n->stats->rx_dropped + n->stats->tx_dropped : 0;
}

static gboolean
s_nic_drops(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	const VtNic *a = find_nic(p, subject), *b = find_nic(c, subject);

	return a && b && a->stats && b->stats && rate(nic_drops(a), nic_drops(b), dt, out);
}

static guint64
queue_count(const VtNic *n, const char *queue)
{
	for (gsize i = 0; i < n->n_queue_interrupts; i++)
		if (g_strcmp0(n->queue_interrupts[i]->queue, queue) == 0)
			return n->queue_interrupts[i]->count;
	return 0;
}

/* The share of the NIC's receive interrupts taken by its busiest queue:
 * 1 when one queue takes them all, 1/N when N queues share them evenly. */
static gboolean
s_busiest_queue(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	const VtNic *a = find_nic(p, subject), *b = find_nic(c, subject);
	guint64 total = 0, busiest = 0;

	if (a == NULL || b == NULL)
		return FALSE;
	for (gsize i = 0; i < b->n_queue_interrupts; i++) {
		const VtQueueInterrupts *q = b->queue_interrupts[i];
		guint64 before;

		if (q->queue == NULL || !g_str_has_prefix(q->queue, "input."))
			continue;
		before = queue_count(a, q->queue);
		if (q->count < before)
			return FALSE;
		total += q->count - before;
		busiest = MAX(busiest, q->count - before);
	}
	if (total == 0)
		return FALSE;
	*out = (double)busiest / (double)total;
	return TRUE;
}

static gboolean
s_softnet_drops(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	return p->softnet && c->softnet && rate(p->softnet->dropped, c->softnet->dropped, dt, out);
}

static gboolean
s_iops(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	const VtBlock *a = find_block(p, subject), *b = find_block(c, subject);

	return a && b && a->stats && b->stats &&
	       rate(a->stats->reads + a->stats->writes, b->stats->reads + b->stats->writes, dt,
		    out);
}

static gboolean
s_latency(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	const VtBlock *a = find_block(p, subject), *b = find_block(c, subject);
	guint64 ios_a, ios_b, ms_a, ms_b;

	if (!a || !b || !a->stats || !b->stats)
		return FALSE;
	ios_a = a->stats->reads + a->stats->writes;
	ios_b = b->stats->reads + b->stats->writes;
	ms_a = a->stats->read_ms + a->stats->write_ms;
	ms_b = b->stats->read_ms + b->stats->write_ms;
	if (ios_b <= ios_a || ms_b < ms_a)
		return FALSE; /* no I/O in the interval: no latency to speak of */
	*out = (double)(ms_b - ms_a) / (double)(ios_b - ios_a);
	return TRUE;
}

static gboolean
s_swapin(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	return p->swap && c->swap && p->swap->has_pswpin && c->swap->has_pswpin &&
	       rate(p->swap->pswpin, c->swap->pswpin, dt, out);
}

static gboolean
s_swapout(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	return p->swap && c->swap && p->swap->has_pswpout && c->swap->has_pswpout &&
	       rate(p->swap->pswpout, c->swap->pswpout, dt, out);
}

static gboolean
s_mem_available(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	guint64 v;

	if (!vt_report_meminfo(c, "MemAvailable", &v))
		return FALSE;
	*out = (double)v / (1024.0 * 1024.0);
	return TRUE;
}

static gboolean
s_psi_memory(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	if (!c->pressure || !c->pressure->memory_some || !c->pressure->memory_some->has_avg10)
		return FALSE;
	*out = c->pressure->memory_some->avg10;
	return TRUE;
}

static gboolean
s_psi_cpu(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	if (!c->pressure || !c->pressure->cpu_some || !c->pressure->cpu_some->has_avg10)
		return FALSE;
	*out = c->pressure->cpu_some->avg10;
	return TRUE;
}

/* ---------------------------------------------------------------- host samples */

/* The host side of guest disk @subject over one poll interval, by the code
 * the rules' rates use. FALSE unless both samples pair it with the same host
 * disk and its counters did not go back (a restarted domain). */
static gboolean
host_disk(const VtHostSample *p, const VtHostSample *c, double dt, const char *subject,
	  VtDiskRates *d)
{
	const char *target = vt_host_sample_target(c, "block", subject);

	if (target == NULL || g_strcmp0(target, vt_host_sample_target(p, "block", subject)) != 0)
		return FALSE;
	memset(d, 0, sizeof(*d));
	vt_rates_host_disk(d, vt_host_disk_find(c->disks, target),
			   vt_host_disk_find(p->disks, target), dt);
	return d->has_host && d->host_window == VT_RATES_INTERVAL;
}

static gboolean
h_iops(const VtHostSample *p, const VtHostSample *c, double dt, const char *subject, double *out)
{
	VtDiskRates d;

	if (!host_disk(p, c, dt, subject, &d) || !d.has_host_iops)
		return FALSE;
	*out = d.host_read_iops + d.host_write_iops;
	return TRUE;
}

/* Mean time per request over reads and writes together, as the guest's
 * latency_ms is: iops x ms per request is each kind's time per second. */
static gboolean
h_latency(const VtHostSample *p, const VtHostSample *c, double dt, const char *subject, double *out)
{
	VtDiskRates d;

	/* FALSE without I/O in the interval */
	return host_disk(p, c, dt, subject, &d) && d.has_host_iops &&
	       vt_rates_weighted_ms(d.host_read_iops, d.host_write_iops, d.has_host_read_ms,
				    d.host_read_ms, d.has_host_write_ms, d.host_write_ms, out);
}

static gboolean
h_drops(const VtHostSample *p, const VtHostSample *c, double dt, const char *subject, double *out)
{
	const char *target = vt_host_sample_target(c, "net", subject);
	VtNicRates r = {0};

	if (target == NULL || g_strcmp0(target, vt_host_sample_target(p, "net", subject)) != 0)
		return FALSE;
	vt_rates_host_nic(&r, vt_host_nic_find(c->nics, target), vt_host_nic_find(p->nics, target),
			  dt);
	if (!r.has_host_rate)
		return FALSE;
	*out = r.host_rx_drop_ps + r.host_tx_drop_ps;
	return TRUE;
}

static gboolean
s_psi_io(const VtReport *p, const VtReport *c, double dt, const char *subject, double *out)
{
	if (!c->pressure || !c->pressure->io_some || !c->pressure->io_some->has_avg10)
		return FALSE;
	*out = c->pressure->io_some->avg10;
	return TRUE;
}

static const MetricDef m_drops = {"drops_per_s", "packets/s", TRUE, s_nic_drops};
static const MetricDef m_busiest = {"busiest_queue_share", "share", TRUE, s_busiest_queue};
static const MetricDef m_softnet = {"softnet_drops_per_s", "packets/s", TRUE, s_softnet_drops};
static const MetricDef m_iops = {"iops", "I/O/s", FALSE, s_iops};
static const MetricDef m_latency = {"latency_ms", "ms", TRUE, s_latency};
static const MetricDef m_swapin = {"swapin_per_s", "pages/s", TRUE, s_swapin};
static const MetricDef m_swapout = {"swapout_per_s", "pages/s", TRUE, s_swapout};
static const MetricDef m_avail = {"mem_available_mib", "MiB", FALSE, s_mem_available};
static const MetricDef m_psi_mem = {"psi_memory_some_avg10", "%", TRUE, s_psi_memory};
static const MetricDef m_psi_cpu = {"psi_cpu_some_avg10", "%", TRUE, s_psi_cpu};
static const MetricDef m_psi_io = {"psi_io_some_avg10", "%", TRUE, s_psi_io};
static const MetricDef m_host_drops = {"drops_per_s", "packets/s", TRUE, NULL, h_drops};
static const MetricDef m_host_iops = {"iops", "I/O/s", FALSE, NULL, h_iops};
static const MetricDef m_host_latency = {"latency_ms", "ms", TRUE, NULL, h_latency};

/* The metrics of a rule family, by the prefix of its name. */
static const struct {
	const char *prefix;
	const MetricDef *metrics[VT_EFFECT_MAX_METRICS];
} families[] = {
	{"nic.", {&m_busiest, &m_drops, &m_softnet, &m_host_drops}},
	{"net.", {&m_drops, &m_softnet, &m_host_drops}},
	{"blk.", {&m_iops, &m_latency, &m_host_iops, &m_host_latency}},
	{"io.", {&m_psi_io}},
	{"cpu.", {&m_psi_cpu}},
	/* mem.*, sysctls and anything else: memory */
	{"", {&m_swapin, &m_swapout, &m_avail, &m_psi_mem}},
};

/* ---------------------------------------------------------------- statistics */

static int
cmp_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

VtSummary
vt_summary_of(double *v, guint n)
{
	VtSummary s = {.n = n};
	double sum = 0, sq = 0;

	if (n == 0)
		return s;
	for (guint i = 0; i < n; i++)
		sum += v[i];
	s.mean = sum / n;
	for (guint i = 0; i < n; i++)
		sq += (v[i] - s.mean) * (v[i] - s.mean);
	s.stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
	qsort(v, n, sizeof(double), cmp_double);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* Continued fraction of the regularised incomplete beta function (Lentz). */
static double
beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;

	d = 1 / (fabs(d) < tiny ? tiny : d);
	h = d;
	for (int m = 1; m <= 300; m++) {
		double m2 = 2.0 * m, num, delta;

		num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		h *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1) < 1e-12)
			break;
	}
	return h;
}

static double
incomplete_beta(double a, double b, double x)
{
	double front;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double
vt_welch_p(const VtSummary *a, const VtSummary *b)
{
	double va, vb, se2, t, df;

	if (a->n < 2 || b->n < 2)
		return 1;
	va = a->stddev * a->stddev / a->n;
	vb = b->stddev * b->stddev / b->n;
	se2 = va + vb;
	if (se2 <= 0) /* no noise at all: any difference is real */
		return a->mean == b->mean ? 1 : 0;
	t = (a->mean - b->mean) / sqrt(se2);
	df = se2 * se2 / (va * va / (a->n - 1) + vb * vb / (b->n - 1));
	return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

/* ---------------------------------------------------------------- effect */

/* Seconds between two reports: by the guest's monotonic clock, or by its
 * wall clock when the monotonic one stands still (a guest that reads it from
 * a frozen /proc/uptime). FALSE across a reboot (the clock went back). */
static gboolean
interval_s(const VtReport *p, const VtReport *c, double *dt)
{
	if (p->has_monotonic_ms && c->has_monotonic_ms && c->monotonic_ms < p->monotonic_ms)
		return FALSE;
	if (p->has_monotonic_ms && c->has_monotonic_ms && c->monotonic_ms > p->monotonic_ms)
		*dt = (double)(c->monotonic_ms - p->monotonic_ms) / 1000.0;
	else if (p->has_collected_at_ms && c->has_collected_at_ms &&
		 c->collected_at_ms > p->collected_at_ms)
		*dt = (double)(c->collected_at_ms - p->collected_at_ms) / 1000.0;
	else
		return FALSE;
	return TRUE;
}

/* Samples of @def over the consecutive pairs of @reports, the newest first
 * when there are more than the bound. */
static VtSummary
summarise(const MetricDef *def, GPtrArray *reports, const char *subject)
{
	g_autofree double *v = g_new(double, VT_EFFECT_MAX_SAMPLES);
	guint n = 0;

	for (guint i = reports->len; i > 1 && n < VT_EFFECT_MAX_SAMPLES; i--) {
		const VtReport *p = reports->pdata[i - 2], *c = reports->pdata[i - 1];
		double dt;

		if (!interval_s(p, c, &dt))
			continue;
		if (dt <= INTERVAL_MAX_S && def->sample(p, c, dt, subject, &v[n]))
			n++;
	}
	return vt_summary_of(v, n);
}

/* The same over consecutive host samples, timed by the host's clock. */
static VtSummary
summarise_host(const MetricDef *def, GPtrArray *samples, const char *subject)
{
	g_autofree double *v = g_new(double, VT_EFFECT_MAX_SAMPLES);
	guint n = 0;

	for (guint i = samples->len; i > 1 && n < VT_EFFECT_MAX_SAMPLES; i--) {
		const VtHostSample *p = samples->pdata[i - 2], *c = samples->pdata[i - 1];
		double dt = (double)(c->time_ms - p->time_ms) / 1000.0;

		if (dt > 0 && dt <= INTERVAL_MAX_S && def->host_sample(p, c, dt, subject, &v[n]))
			n++;
	}
	return vt_summary_of(v, n);
}

static VtVerdict
judge(VtEffectMetric *m)
{
	double diff, scale;

	if (m->before.n < VT_EFFECT_MIN_SAMPLES || m->after.n < VT_EFFECT_MIN_SAMPLES)
		return VT_VERDICT_INSUFFICIENT;
	m->p = vt_welch_p(&m->before, &m->after);
	diff = m->after.mean - m->before.mean;
	scale = fabs(m->before.mean);
	if (m->p >= VT_EFFECT_ALPHA ||
	    fabs(diff) < MAX(scale * VT_EFFECT_MIN_RELATIVE, VT_EFFECT_MIN_ABSOLUTE))
		return VT_VERDICT_NONE;
	return (diff < 0) == m->lower_is_better ? VT_VERDICT_IMPROVED : VT_VERDICT_REGRESSED;
}

VtEffect *
vt_effect_compute(const char *rule, const char *subject, GPtrArray *before, GPtrArray *after)
{
	return vt_effect_compute_sides(rule, subject, before, after, NULL, NULL);
}

VtEffect *
vt_effect_compute_sides(const char *rule, const char *subject, GPtrArray *before, GPtrArray *after,
			GPtrArray *host_before, GPtrArray *host_after)
{
	VtEffect *e = g_new0(VtEffect, 1);
	gboolean any_tested = FALSE, any_better = FALSE, any_worse = FALSE;
	guint f = 0;

	e->rule = g_strdup(rule);
	e->subject = g_strdup(subject);
	while (f + 1 < G_N_ELEMENTS(families) && !g_str_has_prefix(rule, families[f].prefix))
		f++;
	for (guint i = 0; i < G_N_ELEMENTS(families[f].metrics) && families[f].metrics[i]; i++) {
		const MetricDef *def = families[f].metrics[i];
		VtEffectMetric *m;

		if (def->host_sample != NULL && (host_before == NULL || host_after == NULL))
			continue;
		m = &e->metrics[e->n_metrics++];
		m->name = def->name;
		m->unit = def->unit;
		m->side = def->host_sample != NULL ? "host" : "guest";
		m->lower_is_better = def->lower_is_better;
		if (def->host_sample != NULL) {
			m->before = summarise_host(def, host_before, subject);
			m->after = summarise_host(def, host_after, subject);
		} else {
			m->before = summarise(def, before, subject);
			m->after = summarise(def, after, subject);
		}
		m->p = 1;
		m->verdict = judge(m);
		any_tested |= m->verdict != VT_VERDICT_INSUFFICIENT;
		any_better |= m->verdict == VT_VERDICT_IMPROVED;
		any_worse |= m->verdict == VT_VERDICT_REGRESSED;
	}
	e->verdict = any_worse    ? VT_VERDICT_REGRESSED
		     : any_better ? VT_VERDICT_IMPROVED
		     : any_tested ? VT_VERDICT_NONE
				  : VT_VERDICT_INSUFFICIENT;
	return e;
}

void
vt_effect_free(VtEffect *e)
{
	if (e == NULL)
		return;
	g_free(e->rule);
	g_free(e->subject);
	g_free(e);
}

char *
vt_effect_describe(const VtEffect *e)
{
	GString *s = g_string_new(vt_verdict_name(e->verdict));

	for (guint i = 0; i < e->n_metrics; i++) {
		const VtEffectMetric *m = &e->metrics[i];

		g_string_append_printf(s, "%s %s%s %.4g -> %.4g (n=%u/%u, p=%.3g)", i ? ";" : ":",
				       g_strcmp0(m->side, "host") == 0 ? "host " : "", m->name,
				       m->before.mean, m->after.mean, m->before.n, m->after.n,
				       m->p);
	}
	return g_string_free(s, FALSE);
}

static void
add_summary(JsonBuilder *b, const char *name, const VtSummary *s)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_object(b);
	vt_view_add_int(b, "n", TRUE, s->n);
	vt_view_add_double(b, "mean", s->n > 0, s->mean);
	vt_view_add_double(b, "stddev", s->n > 1, s->stddev);
	vt_view_add_double(b, "median", s->n > 0, s->median);
	json_builder_end_object(b);
}

void
vt_effect_to_json(JsonBuilder *b, const VtEffect *e)
{
	json_builder_begin_object(b);
	vt_view_add_str(b, "verdict", vt_verdict_name(e->verdict));
	vt_view_add_str(b, "rule", e->rule);
	vt_view_add_str(b, "subject", e->subject);
	json_builder_set_member_name(b, "metrics");
	json_builder_begin_array(b);
	for (guint i = 0; i < e->n_metrics; i++) {
		const VtEffectMetric *m = &e->metrics[i];

		json_builder_begin_object(b);
		vt_view_add_str(b, "name", m->name);
		vt_view_add_str(b, "unit", m->unit);
		vt_view_add_str(b, "side", m->side);
		vt_view_add_bool(b, "lower_is_better", TRUE, m->lower_is_better);
		add_summary(b, "before", &m->before);
		add_summary(b, "after", &m->after);
		vt_view_add_double(b, "p", m->before.n > 1 && m->after.n > 1, m->p);
		vt_view_add_str(b, "verdict", vt_verdict_name(m->verdict));
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
}
