/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rates.h"

#include <string.h>

/* vCPU numbers scanned in vcpu.N.*: libvirt's own limit on vCPUs per domain is
 * far below this, and a gap ends the scan anyway. */
#define VT_RATES_MAX_VCPUS 4096u

const char *
vt_rates_window_name(VtRatesWindow window)
{
	switch (window) {
	case VT_RATES_INTERVAL:
		return "interval";
	case VT_RATES_SINCE_BOOT:
		return "since-boot";
	case VT_RATES_NONE:
		break;
	}
	return "none";
}

static gboolean
same_boot(const VtReport *a, const VtReport *b)
{
	if (a->identity == NULL || b->identity == NULL || a->identity->boot_id == NULL ||
	    b->identity->boot_id == NULL)
		return FALSE;
	return strcmp(a->identity->boot_id, b->identity->boot_id) == 0;
}

void
vt_rates_from_reports(VtRates *rates, const VtReport *previous, const VtReport *current)
{
	const VtReport *base = NULL;
	double seconds = 0;

	rates->guest_window = VT_RATES_NONE;
	rates->has_swap = FALSE;
	rates->has_steal = FALSE;
	if (current == NULL)
		return;
	if (previous != NULL && current->has_monotonic_ms && previous->has_monotonic_ms &&
	    current->monotonic_ms > previous->monotonic_ms && same_boot(previous, current)) {
		base = previous;
		seconds = (double)(current->monotonic_ms - previous->monotonic_ms) / 1000.0;
		rates->guest_window = VT_RATES_INTERVAL;
	} else if (current->identity != NULL && current->identity->has_uptime_s &&
		   current->identity->uptime_s > 0) {
		seconds = (double)current->identity->uptime_s;
		rates->guest_window = VT_RATES_SINCE_BOOT;
	} else {
		return;
	}
	rates->guest_interval_s = seconds;

	if (current->swap != NULL && current->swap->has_pswpin && current->swap->has_pswpout) {
		guint64 in0 = 0, out0 = 0;
		gboolean ok = TRUE;

		if (base != NULL) {
			ok = base->swap != NULL && base->swap->has_pswpin &&
			     base->swap->has_pswpout &&
			     base->swap->pswpin <= current->swap->pswpin &&
			     base->swap->pswpout <= current->swap->pswpout;
			if (ok) {
				in0 = base->swap->pswpin;
				out0 = base->swap->pswpout;
			}
		}
		if (ok) {
			rates->has_swap = TRUE;
			rates->swap_in_pps = (double)(current->swap->pswpin - in0) / seconds;
			rates->swap_out_pps = (double)(current->swap->pswpout - out0) / seconds;
		}
	}

	if (current->cpu != NULL && current->cpu->has_steal_ticks &&
	    current->cpu->has_total_ticks) {
		guint64 steal0 = 0, total0 = 0;
		gboolean ok = TRUE;

		if (base != NULL) {
			ok = base->cpu != NULL && base->cpu->has_steal_ticks &&
			     base->cpu->has_total_ticks &&
			     base->cpu->steal_ticks <= current->cpu->steal_ticks &&
			     base->cpu->total_ticks <= current->cpu->total_ticks;
			if (ok) {
				steal0 = base->cpu->steal_ticks;
				total0 = base->cpu->total_ticks;
			}
		}
		if (ok && current->cpu->total_ticks > total0) {
			rates->has_steal = TRUE;
			rates->steal_pct = 100.0 * (double)(current->cpu->steal_ticks - steal0) /
					   (double)(current->cpu->total_ticks - total0);
		}
	}
}

/* Sum vcpu.N.time and vcpu.N.delay over N = 0.. until a gap. */
static guint
sum_vcpus(const VtDomstats *stats, guint64 *time_ns, guint64 *delay_ns)
{
	guint n = 0;

	*time_ns = 0;
	*delay_ns = 0;
	for (guint i = 0; i < VT_RATES_MAX_VCPUS; i++) {
		guint64 t, d;

		if (!vt_domstats_get_uint64f(stats, &d, "vcpu.%u.delay", i))
			break;
		if (!vt_domstats_get_uint64f(stats, &t, "vcpu.%u.time", i))
			t = 0;
		/* saturate rather than wrap on hostile values */
		*time_ns = *time_ns + t < *time_ns ? G_MAXUINT64 : *time_ns + t;
		*delay_ns = *delay_ns + d < *delay_ns ? G_MAXUINT64 : *delay_ns + d;
		n++;
	}
	return n;
}

void
vt_rates_from_domstats(VtRates *rates, const VtDomstats *previous, const VtDomstats *current,
		       double elapsed_s)
{
	guint64 t1, d1, t0 = 0, d0 = 0;
	guint n1, n0 = 0;

	rates->host_window = VT_RATES_NONE;
	rates->has_vcpu_delay = FALSE;
	rates->has_vcpu_delay_rate = FALSE;
	if (current == NULL)
		return;
	n1 = sum_vcpus(current, &t1, &d1);
	if (n1 == 0)
		return;
	if (previous != NULL)
		n0 = sum_vcpus(previous, &t0, &d0);
	rates->vcpus = n1;
	if (n0 == n1 && t0 <= t1 && d0 <= d1 && (t1 - t0) + (d1 - d0) > 0) {
		rates->host_window = VT_RATES_INTERVAL;
		if (elapsed_s > 0) {
			rates->has_vcpu_delay_rate = TRUE;
			rates->vcpu_delay_ms_per_s =
				(double)(d1 - d0) / 1e6 / elapsed_s / (double)n1;
		}
	} else {
		t0 = d0 = 0;
		rates->host_window = VT_RATES_SINCE_BOOT;
	}
	if ((t1 - t0) + (d1 - d0) == 0)
		return;
	rates->has_vcpu_delay = TRUE;
	rates->vcpu_wait_pct = 100.0 * (double)(d1 - d0) / ((double)(t1 - t0) + (double)(d1 - d0));
}

void
vt_rates_balloon(VtRates *rates, const VtDomstats *stats, const VtDomainFacts *facts)
{
	guint64 cur, max;

	rates->has_balloon = FALSE;
	if (vt_domstats_get_uint64(stats, "balloon.current", &cur) &&
	    vt_domstats_get_uint64(stats, "balloon.maximum", &max) && max > 0 &&
	    cur <= G_MAXUINT64 / 1024 && max <= G_MAXUINT64 / 1024) {
		/* libvirt reports the balloon in KiB */
		rates->has_balloon = TRUE;
		rates->balloon_source = "domstats";
		rates->balloon_actual_bytes = cur * 1024;
		rates->balloon_maximum_bytes = max * 1024;
	} else if (facts != NULL && facts->memory_bytes > 0) {
		rates->has_balloon = TRUE;
		rates->balloon_source = "domain-xml";
		rates->balloon_actual_bytes = facts->current_memory_bytes;
		rates->balloon_maximum_bytes = facts->memory_bytes;
	}
}

void
vt_rates_compute(VtRates *rates, const VtReport *previous, const VtReport *current,
		 const VtDomstats *previous_stats, const VtDomstats *current_stats,
		 double stats_elapsed_s, const VtDomainFacts *facts)
{
	memset(rates, 0, sizeof(*rates));
	vt_rates_from_reports(rates, previous, current);
	vt_rates_from_domstats(rates, previous_stats, current_stats, stats_elapsed_s);
	vt_rates_balloon(rates, current_stats, facts);
}
