/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metrics of both sides — per guest disk IOPS and latency as the guest and the
 * host see them, NIC drops on each side, MTUs, PSI, OOM kills — and of the
 * host itself (CPUs, vCPUs, memory, sysctls, the scheduler under each image,
 * its recommendations).
 */
#include "prometheus.h"

#include "guest.h"
#include "host.h"
#include "match.h"

static void
family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k="v",…} value; @labels: key, value pairs then NULL (none: no braces). */
static void
sample(GString *out, const char *name, const char *const *labels, double value)
{
	char num[G_ASCII_DTOSTR_BUF_SIZE];

	g_string_append(out, name);
	for (guint i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		g_string_append_printf(out, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
		vt_prometheus_append_label(out, labels[i + 1]);
		g_string_append_c(out, '"');
	}
	if (labels != NULL && labels[0] != NULL)
		g_string_append_c(out, '}');
	g_string_append_printf(out, " %s\n", g_ascii_dtostr(num, sizeof(num), value));
}

/* ------------------------------------------------------------ disks */

static void
disk_side(GString *out, const char *name, const char *domain, const char *device, const char *side,
	  const char *op, gboolean has, double value)
{
	const char *labels[] = {"domain", domain, "device", device, "side", side, "op", op, NULL};

	if (has)
		sample(out, name, labels, value);
}

static void
disk_families(GString *out, GPtrArray *guests)
{
	static const char *iops = "virttune_disk_iops";
	static const char *ms = "virttune_disk_latency_ms";

	family(out, iops, "gauge",
	       "Guest disk requests per second over the last interval, side guest|host, op "
	       "read|write");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (guint k = 0; k < g->rates.n_disks; k++) {
			const VtDiskRates *d = &g->rates.disks[k];
			disk_side(out, iops, g->name, d->name, "guest", "read", d->has_guest,
				  d->guest_read_iops);
			disk_side(out, iops, g->name, d->name, "guest", "write", d->has_guest,
				  d->guest_write_iops);
			disk_side(out, iops, g->name, d->name, "host", "read", d->has_host_iops,
				  d->host_read_iops);
			disk_side(out, iops, g->name, d->name, "host", "write", d->has_host_iops,
				  d->host_write_iops);
		}
	}
	family(out, ms, "gauge",
	       "Guest disk average time per request over the last interval, side guest|host|"
	       "added (what the guest's own queue adds), op read|write");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (guint k = 0; k < g->rates.n_disks; k++) {
			const VtDiskRates *d = &g->rates.disks[k];
			disk_side(out, ms, g->name, d->name, "guest", "read", d->has_guest_read_ms,
				  d->guest_read_ms);
			disk_side(out, ms, g->name, d->name, "guest", "write",
				  d->has_guest_write_ms, d->guest_write_ms);
			disk_side(out, ms, g->name, d->name, "host", "read", d->has_host_read_ms,
				  d->host_read_ms);
			disk_side(out, ms, g->name, d->name, "host", "write", d->has_host_write_ms,
				  d->host_write_ms);
			disk_side(out, ms, g->name, d->name, "added", "read", d->has_added_read_ms,
				  d->added_read_ms);
			disk_side(out, ms, g->name, d->name, "added", "write",
				  d->has_added_write_ms, d->added_write_ms);
		}
	}
}

/* ------------------------------------------------------------ NICs */

static void
nic_drop(GString *out, const char *domain, const char *iface, const char *side,
	 const char *direction, gboolean has, double value)
{
	const char *labels[] = {"domain", domain,      "iface",   iface, "side",
				side,     "direction", direction, NULL};

	if (has)
		sample(out, "virttune_nic_dropped_packets", labels, value);
}

static void
nic_families(GString *out, GPtrArray *guests)
{
	family(out, "virttune_nic_dropped_packets", "gauge",
	       "Packets dropped over the last interval, side guest (the guest's stack) | host "
	       "(the tap; direction rx: what the host could not hand to the guest)");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		for (guint k = 0; k < g->rates.n_nics; k++) {
			const VtNicRates *n = &g->rates.nics[k];
			nic_drop(out, g->name, n->name, "guest", "rx", n->has_guest,
				 (double)n->guest_rx_dropped);
			nic_drop(out, g->name, n->name, "guest", "tx", n->has_guest,
				 (double)n->guest_tx_dropped);
			nic_drop(out, g->name, n->name, "host", "rx", n->has_host,
				 (double)n->host_rx_drop);
			nic_drop(out, g->name, n->name, "host", "tx", n->has_host,
				 (double)n->host_tx_drop);
		}
	}
	family(out, "virttune_nic_mtu", "gauge", "NIC MTU, side guest (the kernel) | host (<mtu>)");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		for (gsize k = 0; report && k < report->n_nics; k++) {
			const VtNic *n = report->nics[k];
			const VtIfaceFacts *x = g->facts ? vt_match_nic(g->facts, n) : NULL;
			const char *labels[] = {"domain", g->name, "iface", n->name,
						"side",   "guest", NULL};
			if (n->has_mtu)
				sample(out, "virttune_nic_mtu", labels, n->mtu);
			labels[5] = "host";
			if (x != NULL && x->mtu > 0)
				sample(out, "virttune_nic_mtu", labels, x->mtu);
		}
	}
	family(out, "virttune_guest_softnet_dropped_packets", "gauge",
	       "Guest softnet drops (netdev_max_backlog exceeded) over the last interval");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const char *labels[] = {"domain", g->name, NULL};
		if (g->rates.has_softnet)
			sample(out, "virttune_guest_softnet_dropped_packets", labels,
			       (double)g->rates.softnet_dropped);
	}
}

/* ------------------------------------------------------------ memory, PSI */

static void
psi_sample(GString *out, const char *domain, const char *resource, const char *kind,
	   const VtPressureLine *line)
{
	const char *labels[] = {"domain", domain, "resource", resource, "kind", kind, NULL};

	if (line != NULL && line->has_avg60)
		sample(out, "virttune_guest_pressure_avg60", labels, line->avg60);
}

static void
memory_families(GString *out, GPtrArray *guests)
{
	family(out, "virttune_guest_oom_kills", "gauge",
	       "OOM kills in the guest over the last interval (/proc/vmstat oom_kill)");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const char *labels[] = {"domain", g->name, NULL};
		if (g->rates.has_oom)
			sample(out, "virttune_guest_oom_kills", labels, (double)g->rates.oom_kills);
	}
	family(out, "virttune_guest_pressure_avg60", "gauge",
	       "Guest PSI avg60 (% of time stalled), resource cpu|memory|io, kind some|full");
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];
		const VtReport *report = vt_guest_report(g);
		const VtPressure *p = report ? report->pressure : NULL;
		if (p == NULL)
			continue;
		psi_sample(out, g->name, "cpu", "some", p->cpu_some);
		psi_sample(out, g->name, "cpu", "full", p->cpu_full);
		psi_sample(out, g->name, "memory", "some", p->memory_some);
		psi_sample(out, g->name, "memory", "full", p->memory_full);
		psi_sample(out, g->name, "io", "some", p->io_some);
		psi_sample(out, g->name, "io", "full", p->io_full);
	}
}

/* ------------------------------------------------------------ the host */

static void
host_value(GString *out, const char *name, const char *help, gboolean has, double value)
{
	family(out, name, "gauge", help);
	if (has)
		sample(out, name, NULL, value);
}

static void
host_memory(GString *out, const VtHostModel *h)
{
	const VtHostSystem *s = h->system;
	static const char *name = "virttune_host_memory_bytes";
	const char *total[] = {"kind", "total", NULL};
	const char *avail[] = {"kind", "available", NULL};
	const char *swap[] = {"kind", "swap_used", NULL};
	const char *cur[] = {"kind", "guests", NULL};
	const char *max[] = {"kind", "guests_maximum", NULL};

	family(out, name, "gauge",
	       "Host memory, kind total|available|swap_used|guests (balloon considered)|"
	       "guests_maximum");
	if (h->has_node || s->has_mem_total)
		sample(out, name, total,
		       (double)(h->has_node ? h->node.memory_bytes : s->mem_total_bytes));
	if (s->has_mem_available)
		sample(out, name, avail, (double)s->mem_available_bytes);
	if (s->has_swap)
		sample(out, name, swap,
		       (double)(s->swap_total_bytes -
				MIN(s->swap_free_bytes, s->swap_total_bytes)));
	sample(out, name, cur, (double)h->guest_memory_current);
	sample(out, name, max, (double)h->guest_memory_maximum);
}

static void
host_settings(GString *out, const VtHostModel *h)
{
	const VtHostSystem *s = h->system;

	family(out, "virttune_host_sysctl", "gauge",
	       "Host sysctls compared with tuned's virtual-host profile");
	for (guint k = 0; k < VT_HOST_SYSCTL_N; k++) {
		const char *labels[] = {"key", vt_host_sysctl_name(k), NULL};
		if (s->has_sysctl[k])
			sample(out, "virttune_host_sysctl", labels, (double)s->sysctl[k]);
	}
	family(out, "virttune_host_transparent_hugepage_info", "gauge",
	       "Host transparent_hugepage/enabled (value 1)");
	if (s->thp[0] != '\0') {
		const char *labels[] = {"mode", s->thp, NULL};
		sample(out, "virttune_host_transparent_hugepage_info", labels, 1);
	}
	host_value(out, "virttune_host_ksm_run", "Host /sys/kernel/mm/ksm/run", s->has_ksm,
		   s->ksm_run);
	family(out, "virttune_host_image_scheduler_info", "gauge",
	       "The host I/O scheduler of the device under each guest image (value 1)");
	for (guint i = 0; i < h->images->len; i++) {
		const VtHostImage *img = h->images->pdata[i];
		const char *labels[] = {"domain",    img->domain,        "disk",
					img->disk,   "device",           img->dev.disk,
					"scheduler", img->dev.scheduler, NULL};
		if (img->resolved && img->dev.scheduler[0] != '\0')
			sample(out, "virttune_host_image_scheduler_info", labels, 1);
	}
	family(out, "virttune_host_recommendation_info", "gauge",
	       "A recommendation about the host itself that holds now (value 1)");
	for (guint i = 0; h->analysis && i < h->analysis->recommendations->len; i++) {
		const VtRecommendation *r = h->analysis->recommendations->pdata[i];
		const char *labels[] = {"id",    r->id,      "rule",
					r->rule, "severity", vt_severity_name(r->severity),
					NULL};
		sample(out, "virttune_host_recommendation_info", labels, 1);
	}
}

static void
host_families(GString *out, const VtHostModel *h)
{
	const VtHostSystem *s = h->system;
	const char *pinned[] = {"state", "pinned", NULL};
	const char *unpinned[] = {"state", "unpinned", NULL};
	const char *in[] = {"direction", "in", NULL};
	const char *outd[] = {"direction", "out", NULL};

	host_value(out, "virttune_host_cpus", "Host CPUs (virNodeGetInfo, else online in /sys)",
		   h->has_node || s->has_cpus, h->has_node ? h->node.cpus : s->cpus_online);
	host_value(out, "virttune_host_cores", "Host physical cores (thread siblings in /sys)",
		   s->has_cores, s->cores);
	family(out, "virttune_host_vcpus", "gauge",
	       "vCPUs of running domains, state pinned|unpinned");
	sample(out, "virttune_host_vcpus", pinned, h->vcpus_pinned);
	sample(out, "virttune_host_vcpus", unpinned, h->vcpus_total - h->vcpus_pinned);
	host_memory(out, h);
	family(out, "virttune_host_swap_pages_per_second", "gauge",
	       "Host swap-in|out pages per second between the last two readings");
	if (h->has_swap_rates) {
		sample(out, "virttune_host_swap_pages_per_second", in, h->swap_in_pps);
		sample(out, "virttune_host_swap_pages_per_second", outd, h->swap_out_pps);
	}
	host_value(out, "virttune_host_oom_kills_total", "Host OOM kills since boot",
		   s->has_oom_kills, (double)s->oom_kills);
	host_settings(out, h);
}

void
vt_prometheus_render_sides(GString *out, GPtrArray *guests, const VtHostModel *host)
{
	disk_families(out, guests);
	nic_families(out, guests);
	memory_families(out, guests);
	if (host != NULL && host->system != NULL)
		host_families(out, host);
}
