/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "domain.h"
#include "domstats.h"
#include "message.h"

G_BEGIN_DECLS

/*
 * Rates derived from two consecutive snapshots of each side. Every figure has
 * a has_* flag; when only one snapshot exists, guest figures fall back to
 * averages since the guest booted (window VT_RATES_SINCE_BOOT), never to a
 * guess.
 */
typedef enum {
	VT_RATES_NONE = 0,
	VT_RATES_INTERVAL,   /* two snapshots of the same boot */
	VT_RATES_SINCE_BOOT, /* one snapshot, cumulative counters over uptime */
} VtRatesWindow;

typedef struct {
	/* guest side, from reports */
	VtRatesWindow guest_window;
	double guest_interval_s; /* monotonic_ms delta, or uptime_s since boot */
	gboolean has_swap;
	double swap_in_pps; /* pages/s, /proc/vmstat pswpin */
	double swap_out_pps;
	gboolean has_steal;
	double steal_pct; /* steal_ticks / total_ticks, percent */

	/* host side, from domstats */
	VtRatesWindow host_window;
	gboolean has_vcpu_delay;
	guint vcpus;          /* vCPUs found in vcpu.N.* */
	double vcpu_wait_pct; /* sum(delay) / sum(delay + time): share of the time the
			       * vCPU threads were runnable that they spent waiting */
	gboolean has_vcpu_delay_rate;
	double vcpu_delay_ms_per_s; /* average per vCPU, per second of wall time */

	/* balloon: domstats balloon.current/maximum, else XML currentMemory/memory */
	gboolean has_balloon;
	const char *balloon_source; /* "domstats" or "domain-xml" (static) */
	guint64 balloon_actual_bytes;
	guint64 balloon_maximum_bytes;
} VtRates;

/* Guest rates: @previous may be NULL (or from another boot: since-boot then). */
void vt_rates_from_reports(VtRates *rates, const VtReport *previous, const VtReport *current);

/*
 * Host rates: @previous may be NULL. @elapsed_s is the wall time between the
 * two fetches (the daemon knows it; <= 0 when unknown); the wait share needs no
 * clock. Counters that went backwards (domain restarted) give since-start figures.
 */
void vt_rates_from_domstats(VtRates *rates, const VtDomstats *previous, const VtDomstats *current,
			    double elapsed_s);

/* Balloon actual vs maximum from @stats, else from @facts. */
void vt_rates_balloon(VtRates *rates, const VtDomstats *stats, const VtDomainFacts *facts);

/* All of the above at once; every argument but @rates may be NULL. */
void vt_rates_compute(VtRates *rates, const VtReport *previous, const VtReport *current,
		      const VtDomstats *previous_stats, const VtDomstats *current_stats,
		      double stats_elapsed_s, const VtDomainFacts *facts);

const char *vt_rates_window_name(VtRatesWindow window);

G_END_DECLS
