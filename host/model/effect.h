/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "host-sample.h"
#include "message.h"

G_BEGIN_DECLS

/*
 * The measured effect of one change: the metrics its recommendation's rule is
 * about, sampled once per interval (counters as rates between two consecutive
 * reports, or two consecutive host samples for the host's side; levels as
 * read) in a window before the change and one after, compared metric by
 * metric.
 *
 * The test: Welch's unequal-variance t-test on the two sets of samples; a
 * metric moved when the two-sided p-value is below VT_EFFECT_ALPHA *and* the
 * means differ by at least VT_EFFECT_MIN_RELATIVE of the before mean (or by
 * VT_EFFECT_MIN_ABSOLUTE when that mean is about zero), so that a tiny but
 * steady shift is not called an effect. Fewer than VT_EFFECT_MIN_SAMPLES
 * samples on either side: insufficient data.
 *
 * The verdict of the change: regressed when any metric moved the wrong way,
 * else improved when any moved the right way, else no measurable change when
 * at least one metric had enough samples, else insufficient data.
 */
#define VT_EFFECT_ALPHA        0.05
#define VT_EFFECT_MIN_RELATIVE 0.10
#define VT_EFFECT_MIN_ABSOLUTE 0.01
#define VT_EFFECT_MIN_SAMPLES  4u
/* Samples kept per metric and side: older ones of a longer window are not used. */
#define VT_EFFECT_MAX_SAMPLES 512u
#define VT_EFFECT_MAX_METRICS 8u

typedef enum {
	VT_VERDICT_INSUFFICIENT,
	VT_VERDICT_NONE,
	VT_VERDICT_IMPROVED,
	VT_VERDICT_REGRESSED,
} VtVerdict;

typedef struct {
	guint n;
	double mean;
	double stddev; /* sample standard deviation (n - 1) */
	double median;
} VtSummary;

typedef struct {
	const char *name; /* static: "drops_per_s", "busiest_queue_share", … */
	const char *unit;
	const char *side; /* static: "guest" (its reports) or "host" (domstats) */
	gboolean lower_is_better;
	VtSummary before;
	VtSummary after;
	double p; /* two-sided; 1 when not tested */
	VtVerdict verdict;
} VtEffectMetric;

typedef struct {
	char *rule;
	char *subject;
	VtEffectMetric metrics[VT_EFFECT_MAX_METRICS];
	guint n_metrics;
	VtVerdict verdict;
} VtEffect;

const char *vt_verdict_name(VtVerdict verdict);

/* Summary of @n values (reordered in place). */
VtSummary vt_summary_of(double *values, guint n);
/* Welch's t-test of two summaries: the two-sided p-value (1 when undefined). */
double vt_welch_p(const VtSummary *a, const VtSummary *b);

/*
 * The effect of a change of @rule (e.g. "nic.queues") on @subject (the part
 * after ':' of the recommendation id: a NIC, a disk, or NULL), from @before
 * and @after (VtReport *, oldest first, borrowed). A rule with no metric of
 * its own gets the memory and pressure ones. Free with vt_effect_free().
 */
VtEffect *vt_effect_compute(const char *rule, const char *subject, GPtrArray *before,
			    GPtrArray *after);
/*
 * The same with the host's side: @host_before and @host_after (VtHostSample *,
 * oldest first, borrowed) give blk.* the host's IOPS and latency of the disk
 * the subject is paired with, and nic.* and net.* its tap's drops, each a
 * metric of side "host" named like its guest counterpart. NULL for either:
 * no host metrics (vt_effect_compute).
 */
VtEffect *vt_effect_compute_sides(const char *rule, const char *subject, GPtrArray *before,
				  GPtrArray *after, GPtrArray *host_before, GPtrArray *host_after);
void vt_effect_free(VtEffect *effect);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEffect, vt_effect_free)

/* One line for logs and the audit trail: "regressed: drops_per_s 0.1 -> 5 (p=0.001)". */
char *vt_effect_describe(const VtEffect *effect);
/* {"verdict":…, "metrics":[{"name", "unit", "before":{n,mean,stddev,median}, …}]} */
void vt_effect_to_json(JsonBuilder *b, const VtEffect *effect);

G_END_DECLS
