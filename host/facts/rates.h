/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "devstats.h"
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

/* Device names kept in the rates: DISK_NAME_LEN is 32, IFNAMSIZ 16. */
#define VT_RATES_NAME_MAX  32u
#define VT_RATES_MAX_DISKS 128u /* VT_REPORT_MAX_BLOCK */
#define VT_RATES_MAX_NICS  64u  /* VT_REPORT_MAX_NICS */

/* One guest disk, both sides: I/O per second and the average time per request. */
typedef struct {
	char name[VT_RATES_NAME_MAX];   /* guest disk: vda */
	char target[VT_RATES_NAME_MAX]; /* its XML target and domstats block name; "" unmatched */
	gboolean has_guest;             /* /sys/block/NAME/stat */
	double guest_read_iops, guest_write_iops;
	gboolean has_guest_read_ms, has_guest_write_ms; /* when requests completed */
	double guest_read_ms, guest_write_ms;
	gboolean has_host; /* block.N.* of domstats */
	VtRatesWindow host_window;
	gboolean has_host_iops; /* needs a clock: the daemon's, or the guest's interval */
	double host_read_iops, host_write_iops;
	gboolean has_host_read_ms, has_host_write_ms; /* rd.times / rd.reqs, ns → ms */
	double host_read_ms, host_write_ms;
	/* guest minus host, over the same kind of window: what the guest's own
	 * queue (scheduler, nr_requests) adds on top of the host's storage path */
	gboolean has_added_read_ms, has_added_write_ms;
	double added_read_ms, added_write_ms;
} VtDiskRates;

/* One guest NIC, both sides: drops over the window (counts and per second). */
typedef struct {
	char name[VT_RATES_NAME_MAX];   /* guest iface: eth0 */
	char target[VT_RATES_NAME_MAX]; /* its tap: vnet0; "" unmatched */
	gboolean has_guest;             /* statistics/rx_dropped, tx_dropped */
	guint64 guest_rx_dropped, guest_tx_dropped;
	double guest_rx_drop_ps;
	gboolean has_host; /* net.N.*: libvirt swaps a tap's counters, so rx.drop are
			    * packets the host could not hand to the guest */
	VtRatesWindow host_window;
	guint64 host_rx_drop, host_tx_drop;
	gboolean has_host_rate;
	double host_rx_drop_ps, host_tx_drop_ps;
} VtNicRates;

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

	/* per device, both sides (vt_rates_devices): arrays of exactly n_disks and
	 * n_nics elements (at most VT_RATES_MAX_*), owned by the rates and resized
	 * to each report, so that a guest holds room for its own devices only */
	guint n_disks;
	VtDiskRates *disks;
	guint n_nics;
	VtNicRates *nics;
	/* guest-wide: softnet drops and squeezes, OOM kills over the guest window */
	gboolean has_softnet;
	guint64 softnet_dropped, softnet_squeezed;
	gboolean has_oom;
	guint64 oom_kills;
} VtRates;

/*
 * A VtRates starts zeroed ({0}) and ends with vt_rates_clear(), which frees
 * its device arrays and zeroes it again; it must not be copied by value (the
 * copy would share the arrays). On the stack: g_auto(VtRates) rates = {0};
 */
void vt_rates_clear(VtRates *rates);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtRates, vt_rates_clear)

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

/*
 * Per disk and per NIC of @current, paired with the XML (facts) and domstats:
 * guest IOPS and latency beside the host's, and the difference; drops on each
 * side. @stats_elapsed_s <= 0: host IOPS use the guest's interval when both
 * are intervals. Softnet and OOM kills too.
 */
void vt_rates_devices(VtRates *rates, const VtReport *previous, const VtReport *current,
		      const VtDomstats *previous_stats, const VtDomstats *current_stats,
		      double stats_elapsed_s, const VtDomainFacts *facts);

/*
 * The host side of one device from two readings of it (@then may be NULL: a
 * since-start figure) @seconds apart (<= 0: no per-second figures). The rules
 * and the measured effect of a change both get their host figures here.
 */
void vt_rates_host_disk(VtDiskRates *disk, const VtHostDisk *now, const VtHostDisk *then,
			double seconds);
void vt_rates_host_nic(VtNicRates *nic, const VtHostNic *now, const VtHostNic *then,
		       double seconds);

/* Reads and writes together: the time per request weighted by each op's
 * requests per second (an op without its time is left out); FALSE when no
 * request of an op with a time was made. */
gboolean vt_rates_weighted_ms(double read_iops, double write_iops, gboolean has_read_ms,
			      double read_ms, gboolean has_write_ms, double write_ms, double *ms);

const VtDiskRates *vt_rates_disk(const VtRates *rates, const char *name);
const VtNicRates *vt_rates_nic(const VtRates *rates, const char *name);

/* All of the above at once; every argument but @rates may be NULL. @rates
 * must be initialised ({0}, or computed before): its device arrays are reused. */
void vt_rates_compute(VtRates *rates, const VtReport *previous, const VtReport *current,
		      const VtDomstats *previous_stats, const VtDomstats *current_stats,
		      double stats_elapsed_s, const VtDomainFacts *facts);

const char *vt_rates_window_name(VtRatesWindow window);

G_END_DECLS
