/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rates.h"

#include <string.h>

#include "devstats.h"
#include "match.h"

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
vt_rates_clear(VtRates *rates)
{
	g_free(rates->disks);
	g_free(rates->nics);
	memset(rates, 0, sizeof(*rates));
}

void
vt_rates_compute(VtRates *rates, const VtReport *previous, const VtReport *current,
		 const VtDomstats *previous_stats, const VtDomstats *current_stats,
		 double stats_elapsed_s, const VtDomainFacts *facts)
{
	/* Every figure but the device arrays starts over; vt_rates_devices resizes
	 * those to the report and zeroes each element it fills. */
	*rates = (VtRates){
		.n_disks = rates->n_disks,
		.disks = rates->disks,
		.n_nics = rates->n_nics,
		.nics = rates->nics,
	};
	vt_rates_from_reports(rates, previous, current);
	vt_rates_from_domstats(rates, previous_stats, current_stats, stats_elapsed_s);
	vt_rates_balloon(rates, current_stats, facts);
	vt_rates_devices(rates, previous, current, previous_stats, current_stats, stats_elapsed_s,
			 facts);
}

/* ------------------------------------------------------------ per device */

/* @previous when its counters can be subtracted from @current's (same boot), else NULL. */
static const VtReport *
interval_base(const VtRates *rates, const VtReport *previous)
{
	return rates->guest_window == VT_RATES_INTERVAL ? previous : NULL;
}

static const VtBlock *
find_block(const VtReport *r, const char *name)
{
	for (gsize i = 0; r != NULL && i < r->n_block; i++)
		if (r->block[i]->name != NULL && strcmp(r->block[i]->name, name) == 0)
			return r->block[i];
	return NULL;
}

static const VtNic *
find_nic(const VtReport *r, const char *name)
{
	for (gsize i = 0; r != NULL && i < r->n_nics; i++)
		if (r->nics[i]->name != NULL && strcmp(r->nics[i]->name, name) == 0)
			return r->nics[i];
	return NULL;
}

/* now - then into @out; FALSE when the counter went backwards. */
static gboolean
delta(guint64 now, guint64 then, guint64 *out)
{
	if (now < then)
		return FALSE;
	*out = now - then;
	return TRUE;
}

static void
guest_disk(VtDiskRates *d, const VtBlockStats *now, const VtBlockStats *then, double seconds)
{
	static const VtBlockStats zero = VIRTTUNE__V1__BLOCK_STATS__INIT;
	guint64 dr, drm, dw, dwm;

	if (now == NULL || !now->has_reads || !now->has_writes || !now->has_read_ms ||
	    !now->has_write_ms || seconds <= 0)
		return;
	if (then == NULL)
		then = &zero;
	if (!delta(now->reads, then->reads, &dr) || !delta(now->read_ms, then->read_ms, &drm) ||
	    !delta(now->writes, then->writes, &dw) || !delta(now->write_ms, then->write_ms, &dwm))
		return;
	d->has_guest = TRUE;
	d->guest_read_iops = (double)dr / seconds;
	d->guest_write_iops = (double)dw / seconds;
	if ((d->has_guest_read_ms = dr > 0))
		d->guest_read_ms = (double)drm / (double)dr;
	if ((d->has_guest_write_ms = dw > 0))
		d->guest_write_ms = (double)dwm / (double)dw;
}

/* rd.reqs, rd.times, wr.reqs, wr.times of @h into @v; FALSE when one is missing. */
static gboolean
host_counters(const VtHostDisk *h, guint64 v[4])
{
	return vt_host_disk_get(h, VT_HDISK_RD_REQS, &v[0]) &&
	       vt_host_disk_get(h, VT_HDISK_RD_TIMES, &v[1]) &&
	       vt_host_disk_get(h, VT_HDISK_WR_REQS, &v[2]) &&
	       vt_host_disk_get(h, VT_HDISK_WR_TIMES, &v[3]);
}

void
vt_rates_host_disk(VtDiskRates *d, const VtHostDisk *now, const VtHostDisk *then, double seconds)
{
	guint64 v1[4], v0[4] = {0}, dv[4];

	if (!host_counters(now, v1))
		return;
	d->host_window = VT_RATES_SINCE_BOOT;
	if (then != NULL && host_counters(then, v0) && v0[0] <= v1[0] && v0[1] <= v1[1] &&
	    v0[2] <= v1[2] && v0[3] <= v1[3])
		d->host_window = VT_RATES_INTERVAL;
	else
		memset(v0, 0, sizeof(v0));
	for (guint i = 0; i < 4; i++)
		dv[i] = v1[i] - v0[i];
	d->has_host = TRUE;
	if (d->host_window == VT_RATES_INTERVAL && seconds > 0) {
		d->has_host_iops = TRUE;
		d->host_read_iops = (double)dv[0] / seconds;
		d->host_write_iops = (double)dv[2] / seconds;
	}
	/* rd.times and wr.times are nanoseconds */
	if ((d->has_host_read_ms = dv[0] > 0))
		d->host_read_ms = (double)dv[1] / 1e6 / (double)dv[0];
	if ((d->has_host_write_ms = dv[2] > 0))
		d->host_write_ms = (double)dv[3] / 1e6 / (double)dv[2];
}

static void
disk_rates(VtRates *rates, const VtBlock *b, const VtReport *base, const VtReport *current,
	   GPtrArray *hosts_now, GPtrArray *hosts_then, double host_s, const VtDomainFacts *facts)
{
	VtDiskRates *d = &rates->disks[rates->n_disks];
	const VtDiskFacts *xml = facts != NULL ? vt_match_disk(facts, current, b, NULL) : NULL;
	const VtBlock *old = find_block(base, b->name);

	memset(d, 0, sizeof(*d));
	g_strlcpy(d->name, b->name, sizeof(d->name));
	guest_disk(d, b->stats, old != NULL ? old->stats : NULL, rates->guest_interval_s);
	if (xml != NULL && xml->target_dev != NULL && strlen(xml->target_dev) < VT_RATES_NAME_MAX) {
		g_strlcpy(d->target, xml->target_dev, sizeof(d->target));
		vt_rates_host_disk(d, vt_host_disk_find(hosts_now, d->target),
				   vt_host_disk_find(hosts_then, d->target), host_s);
	}
	if (d->has_guest && d->has_host && d->host_window == rates->guest_window) {
		if ((d->has_added_read_ms = d->has_guest_read_ms && d->has_host_read_ms))
			d->added_read_ms = d->guest_read_ms - d->host_read_ms;
		if ((d->has_added_write_ms = d->has_guest_write_ms && d->has_host_write_ms))
			d->added_write_ms = d->guest_write_ms - d->host_write_ms;
	}
	rates->n_disks++;
}

void
vt_rates_host_nic(VtNicRates *r, const VtHostNic *now, const VtHostNic *then, double seconds)
{
	guint64 rx1, tx1, rx0 = 0, tx0 = 0;

	if (!vt_host_nic_get(now, VT_HNIC_RX_DROP, &rx1) ||
	    !vt_host_nic_get(now, VT_HNIC_TX_DROP, &tx1))
		return;
	r->has_host = TRUE;
	r->host_window = VT_RATES_SINCE_BOOT;
	if (vt_host_nic_get(then, VT_HNIC_RX_DROP, &rx0) &&
	    vt_host_nic_get(then, VT_HNIC_TX_DROP, &tx0) && rx0 <= rx1 && tx0 <= tx1)
		r->host_window = VT_RATES_INTERVAL;
	else
		rx0 = tx0 = 0;
	r->host_rx_drop = rx1 - rx0;
	r->host_tx_drop = tx1 - tx0;
	if ((r->has_host_rate = r->host_window == VT_RATES_INTERVAL && seconds > 0)) {
		r->host_rx_drop_ps = (double)r->host_rx_drop / seconds;
		r->host_tx_drop_ps = (double)r->host_tx_drop / seconds;
	}
}

static void
nic_rates(VtRates *rates, const VtNic *n, const VtReport *base, GPtrArray *hosts_now,
	  GPtrArray *hosts_then, double host_s, const VtDomainFacts *facts)
{
	VtNicRates *r = &rates->nics[rates->n_nics];
	const VtIfaceFacts *xml = facts != NULL ? vt_match_nic(facts, n) : NULL;
	const VtNic *old = find_nic(base, n->name);

	memset(r, 0, sizeof(*r));
	g_strlcpy(r->name, n->name, sizeof(r->name));
	if (n->stats != NULL && n->stats->has_rx_dropped && n->stats->has_tx_dropped) {
		const VtNicStats *then = old != NULL && old->stats != NULL ? old->stats : NULL;

		r->has_guest = (then == NULL || (then->rx_dropped <= n->stats->rx_dropped &&
						 then->tx_dropped <= n->stats->tx_dropped)) &&
			       rates->guest_interval_s > 0;
		r->guest_rx_dropped = n->stats->rx_dropped - (then ? then->rx_dropped : 0);
		r->guest_tx_dropped = n->stats->tx_dropped - (then ? then->tx_dropped : 0);
		r->guest_rx_drop_ps =
			r->has_guest ? (double)r->guest_rx_dropped / rates->guest_interval_s : 0;
	}
	if (xml != NULL && xml->target_dev != NULL && strlen(xml->target_dev) < VT_RATES_NAME_MAX) {
		g_strlcpy(r->target, xml->target_dev, sizeof(r->target));
		vt_rates_host_nic(r, vt_host_nic_find(hosts_now, r->target),
				  vt_host_nic_find(hosts_then, r->target), host_s);
	}
	rates->n_nics++;
}

/* The devices kept in the rates: named, and the name fits VtDiskRates.name. */
static gboolean
kept_name(const char *name)
{
	return name != NULL && strlen(name) < VT_RATES_NAME_MAX;
}

/* @array resized to @n elements of @size (NULL when none), its contents left
 * to the caller. */
static gpointer
resize(gpointer array, guint n, gsize size)
{
	if (n == 0) {
		g_free(array);
		return NULL;
	}
	return g_realloc_n(array, n, size);
}

static gboolean
vmstat_value(const VtReport *r, const char *key, guint64 *out)
{
	for (gsize i = 0; r != NULL && i < r->n_vmstat; i++)
		if (strcmp(r->vmstat[i]->key, key) == 0 && r->vmstat[i]->has_value) {
			*out = r->vmstat[i]->value;
			return TRUE;
		}
	return FALSE;
}

/* Softnet drops and squeezes, OOM kills: over the interval, or since boot. */
static void
guest_wide(VtRates *rates, const VtReport *base, const VtReport *current)
{
	const VtSoftnet *now = current->softnet, *then = base != NULL ? base->softnet : NULL;
	guint64 k1, k0 = 0;

	if (now != NULL && now->has_dropped && now->has_time_squeeze &&
	    (then == NULL ||
	     (then->dropped <= now->dropped && then->time_squeeze <= now->time_squeeze))) {
		rates->has_softnet = TRUE;
		rates->softnet_dropped = now->dropped - (then ? then->dropped : 0);
		rates->softnet_squeezed = now->time_squeeze - (then ? then->time_squeeze : 0);
	}
	if (vmstat_value(current, "oom_kill", &k1) &&
	    (base == NULL || !vmstat_value(base, "oom_kill", &k0) || k0 <= k1)) {
		rates->has_oom = TRUE;
		rates->oom_kills = k1 - k0;
	}
}

void
vt_rates_devices(VtRates *rates, const VtReport *previous, const VtReport *current,
		 const VtDomstats *previous_stats, const VtDomstats *current_stats,
		 double stats_elapsed_s, const VtDomainFacts *facts)
{
	g_autoptr(GPtrArray) disks_now = vt_host_disks(current_stats);
	g_autoptr(GPtrArray) disks_then = vt_host_disks(previous_stats);
	g_autoptr(GPtrArray) nics_now = vt_host_nics(current_stats);
	g_autoptr(GPtrArray) nics_then = vt_host_nics(previous_stats);
	const VtReport *base = interval_base(rates, previous);
	/* without the daemon's clock, the guest's interval stands in for the host's:
	 * `virt-tune analyze` is given two domstats taken beside two reports */
	double host_s = stats_elapsed_s > 0                        ? stats_elapsed_s
			: rates->guest_window == VT_RATES_INTERVAL ? rates->guest_interval_s
								   : 0;
	guint n_disks = 0, n_nics = 0;

	/* the arrays sized to this report's devices (realloc keeps them in place while the
	 * count stays the same) */
	for (gsize i = 0; current != NULL && i < current->n_block && n_disks < VT_RATES_MAX_DISKS;
	     i++)
		n_disks += kept_name(current->block[i]->name);
	for (gsize i = 0; current != NULL && i < current->n_nics && n_nics < VT_RATES_MAX_NICS; i++)
		n_nics += kept_name(current->nics[i]->name);
	rates->disks = resize(rates->disks, n_disks, sizeof(*rates->disks));
	rates->nics = resize(rates->nics, n_nics, sizeof(*rates->nics));
	rates->n_disks = rates->n_nics = 0;
	rates->has_softnet = rates->has_oom = FALSE;
	if (current == NULL)
		return;
	for (gsize i = 0; i < current->n_block && rates->n_disks < n_disks; i++)
		if (kept_name(current->block[i]->name))
			disk_rates(rates, current->block[i], base, current, disks_now, disks_then,
				   host_s, facts);
	for (gsize i = 0; i < current->n_nics && rates->n_nics < n_nics; i++)
		if (kept_name(current->nics[i]->name))
			nic_rates(rates, current->nics[i], base, nics_now, nics_then, host_s,
				  facts);
	guest_wide(rates, base, current);
}

gboolean
vt_rates_weighted_ms(double read_iops, double write_iops, gboolean has_read_ms, double read_ms,
		     gboolean has_write_ms, double write_ms, double *ms)
{
	double n = (has_read_ms ? read_iops : 0) + (has_write_ms ? write_iops : 0);

	*ms = n > 0 ? ((has_read_ms ? read_iops * read_ms : 0) +
		       (has_write_ms ? write_iops * write_ms : 0)) /
			      n
		    : 0;
	return n > 0;
}

const VtDiskRates *
vt_rates_disk(const VtRates *rates, const char *name)
{
	for (guint i = 0; rates != NULL && name != NULL && i < rates->n_disks; i++)
		if (strcmp(rates->disks[i].name, name) == 0)
			return &rates->disks[i];
	return NULL;
}

const VtNicRates *
vt_rates_nic(const VtRates *rates, const char *name)
{
	for (guint i = 0; rates != NULL && name != NULL && i < rates->n_nics; i++)
		if (strcmp(rates->nics[i].name, name) == 0)
			return &rates->nics[i];
	return NULL;
}
