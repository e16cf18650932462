/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's resources shared out: vCPUs against host CPUs, guest memory against RAM. */
#include <string.h>

#include "capabilities.h"
#include "rules-private.h"

/* Host CPUs: virNodeGetInfo, else /sys, else the capabilities' cells. */
static guint
host_cpus(const VtHostInput *h, const char **source)
{
	if (h->node != NULL && h->node->known && h->node->cpus > 0) {
		*source = "virNodeGetInfo";
		return h->node->cpus;
	}
	if (h->system != NULL && h->system->has_cpus) {
		*source = "sysfs";
		return h->system->cpus_online;
	}
	if (h->caps != NULL && h->caps->cpus > 0) {
		*source = "capabilities";
		return h->caps->cpus;
	}
	*source = "unknown";
	return 0;
}

gboolean
vt_host_memory_budget(const VtHostInput *h, const VtRulesConfig *cfg, guint64 *ram,
		      guint64 *reserve, const char **source)
{
	guint64 pct;

	*ram = 0;
	*source = "unknown";
	if (h->node != NULL && h->node->known && h->node->memory_bytes > 0) {
		*ram = h->node->memory_bytes;
		*source = "virNodeGetInfo";
	} else if (h->system != NULL && h->system->has_mem_total) {
		*ram = h->system->mem_total_bytes;
		*source = "/proc/meminfo";
	}
	pct = (guint64)((double)*ram * cfg->host_reserve_pct / 100.0);
	*reserve = MAX((guint64)cfg->host_reserve_mib * 1024 * 1024, pct);
	return *ram > 0;
}

void
vt_host_guest_memory(const VtHostInput *h, guint64 *current, guint64 *maximum, guint *ballooned)
{
	*current = *maximum = 0;
	*ballooned = 0;
	for (guint i = 0; i < h->n_guests; i++) {
		const VtHostGuestInput *g = &h->guests[i];

		if (g->facts == NULL)
			continue;
		if (g->rates != NULL && g->rates->has_balloon &&
		    g_strcmp0(g->rates->balloon_source, "domstats") == 0) {
			*current += g->rates->balloon_actual_bytes;
			*ballooned += 1;
		} else {
			*current += g->facts->current_memory_bytes;
		}
		*maximum += MAX(g->facts->memory_bytes, g->facts->current_memory_bytes);
	}
}

/* Pinned CPUs that two domains share, and the domains pinned to them. */
typedef struct {
	guint8 seen[VT_CPUSET_MAX / 8];
	guint8 shared[VT_CPUSET_MAX / 8];
	GString *domains;
} PinOverlap;

static void
pin_add(PinOverlap *o, const char *cpuset)
{
	guint8 bits[VT_CPUSET_MAX / 8];

	if (!vt_cpuset_parse(cpuset, bits))
		return;
	for (guint i = 0; i < sizeof(bits); i++) {
		o->shared[i] |= bits[i] & o->seen[i];
		o->seen[i] |= bits[i];
	}
}

/* Second pass: the domains whose pins touch a shared CPU. */
static void
pin_name(PinOverlap *o, const char *name, const char *cpuset)
{
	guint8 bits[VT_CPUSET_MAX / 8];
	gboolean hit = FALSE;

	if (!vt_cpuset_parse(cpuset, bits))
		return;
	for (guint i = 0; i < sizeof(bits) && !hit; i++)
		hit = (bits[i] & o->shared[i]) != 0;
	if (hit && o->domains->len < 1024)
		g_string_append_printf(o->domains, "%s%s", o->domains->len ? "," : "", name);
}

static char *
cpuset_text(const guint8 *bits)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < VT_CPUSET_MAX; i++) {
		guint j = i;

		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		while (j + 1 < VT_CPUSET_MAX && (bits[(j + 1) / 8] & (1u << ((j + 1) % 8))))
			j++;
		g_string_append_printf(s, "%s%u", s->len ? "," : "", i);
		if (j > i)
			g_string_append_printf(s, "-%u", j);
		i = j;
	}
	return g_string_free(s, FALSE);
}

static void
count_vcpus(const VtHostInput *h, guint *pinned, guint *unpinned, guint *domains, PinOverlap *o)
{
	*pinned = *unpinned = *domains = 0;
	for (guint i = 0; i < h->n_guests; i++) {
		const VtDomainFacts *f = h->guests[i].facts;
		guint n, p;

		if (f == NULL)
			continue;
		n = f->vcpus_current;
		p = f->vcpupin_cpusets != NULL ? MIN(f->vcpupins, n) : 0;
		*pinned += p;
		*unpinned += n - p;
		*domains += 1;
		if (p > 0)
			pin_add(o, f->vcpupin_cpusets);
	}
	for (guint i = 0; i < h->n_guests; i++) {
		const VtDomainFacts *f = h->guests[i].facts;

		if (f != NULL && f->vcpupin_cpusets != NULL && f->vcpupins > 0)
			pin_name(o, h->guests[i].name ? h->guests[i].name : "?",
				 f->vcpupin_cpusets);
	}
}

void
vt_rule_host_cpu_overcommit(VtRuleCtx *ctx)
{
	const VtHostInput *h = ctx->host;
	const char *source;
	guint cpus = host_cpus(h, &source);
	guint pinned, unpinned, domains, available, cores = cpus;
	double limit;
	g_autofree char *shared = NULL;
	PinOverlap o = {0};
	VtRecommendation *rec;

	if (cpus == 0) {
		vt_rule_skip(ctx, "the host's CPU count is not known");
		return;
	}
	o.domains = g_string_new(NULL);
	count_vcpus(h, &pinned, &unpinned, &domains, &o);
	/* the guides count physical cores: SMT siblings share one */
	if (h->system != NULL && h->system->has_cores && h->system->cores < cpus)
		cores = h->system->cores;
	available = cores > ctx->cfg->host_reserve_cpus ? cores - ctx->cfg->host_reserve_cpus : 1;
	limit = available * ctx->cfg->host_unpinned_pct / 100.0;
	shared = cpuset_text(o.shared);
	if ((double)unpinned <= limit && shared[0] == '\0') {
		g_string_free(o.domains, TRUE);
		return;
	}
	rec = vt_rule_emit(ctx, "host", VT_SEVERITY_WARNING, VT_TARGET_HOST);
	vt_rec_command(
		rec,
		"# fewer unpinned vCPUs (virsh setvcpus DOMAIN N --config), or each domain "
		"pinned to CPUs of its own: <cputune><vcpupin vcpu='0' cpuset='N'/></cputune>");
	vt_rec_rationale(
		rec,
		"Running domains have %u unpinned vCPUs on a host with %u CPUs in %u cores (%u "
		"kept for the host): more than %.0f%% of what is left (%.1f). %s%s%sThe host's "
		"own threads "
		"(QEMU I/O, vhost, the kernel) then compete with vCPUs, which shows in the "
		"guests as steal time.",
		unpinned, cpus, cores, ctx->cfg->host_reserve_cpus, ctx->cfg->host_unpinned_pct,
		limit, shared[0] ? "Pinned vCPUs of " : "", shared[0] ? o.domains->str : "",
		shared[0] ? " share host CPUs. " : "");
	vt_ev_uint(rec, "host_cpus", cpus);
	vt_ev_str(rec, "host_cpus_source", source);
	vt_ev_uint(rec, "host_cores", cores);
	vt_ev_uint(rec, "reserve_cpus", ctx->cfg->host_reserve_cpus);
	vt_ev_double(rec, "unpinned_limit", limit);
	vt_ev_uint(rec, "vcpus_unpinned", unpinned);
	vt_ev_uint(rec, "vcpus_pinned", pinned);
	vt_ev_uint(rec, "domains", domains);
	vt_ev_str(rec, "shared_pinned_cpus", shared);
	vt_ev_str(rec, "shared_pinned_domains", o.domains->str);
	g_string_free(o.domains, TRUE);
}

void
vt_rule_host_mem_overcommit(VtRuleCtx *ctx)
{
	const VtHostInput *h = ctx->host;
	guint64 ram, reserve, usable, current, maximum, avail = 0;
	guint ballooned;
	const char *source;
	gboolean tight;
	VtSeverity sev;
	VtRecommendation *rec;
	g_autofree char *s_cur = NULL, *s_use = NULL, *s_ram = NULL, *s_res = NULL;

	if (!vt_host_memory_budget(h, ctx->cfg, &ram, &reserve, &source)) {
		vt_rule_skip(ctx, "the host's memory size is not known");
		return;
	}
	usable = ram > reserve ? ram - reserve : 0;
	vt_host_guest_memory(h, &current, &maximum, &ballooned);
	if (maximum <= usable)
		return;
	tight = h->system != NULL && h->system->has_mem_available &&
		h->system->mem_available_bytes < reserve;
	avail = h->system != NULL ? h->system->mem_available_bytes : 0;
	sev = current <= usable ? VT_SEVERITY_INFO
	      : tight           ? VT_SEVERITY_CRITICAL
				: VT_SEVERITY_WARNING;
	rec = vt_rule_emit(ctx, "host", sev, VT_TARGET_HOST);
	s_cur = vt_format_bytes(current);
	s_use = vt_format_bytes(usable);
	s_ram = vt_format_bytes(ram);
	s_res = vt_format_bytes(reserve);
	vt_rec_command(rec, "# less guest memory (virsh setmem DOMAIN SIZE --live; virsh "
			    "setmaxmem DOMAIN SIZE --config), or fewer guests on this host");
	vt_rec_rationale(
		rec,
		"Running domains hold %s of memory now (balloon considered) and may grow "
		"to their maximum; the host has %s of RAM and keeps %s for itself, which "
		"leaves %s for guests. %s",
		s_cur, s_ram, s_res, s_use,
		current <= usable ? "They fit now, but only while their balloons stay down."
		: tight ? "The host is already below its reserve: it will swap guest memory "
			  "or kill a QEMU process."
			: "The host swaps guest memory once they all use it.");
	vt_ev_uint(rec, "host_memory_bytes", ram);
	vt_ev_str(rec, "host_memory_source", source);
	vt_ev_uint(rec, "reserve_bytes", reserve);
	vt_ev_uint(rec, "usable_bytes", usable);
	vt_ev_uint(rec, "guest_current_bytes", current);
	vt_ev_uint(rec, "guest_maximum_bytes", maximum);
	vt_ev_uint(rec, "guests_ballooned", ballooned);
	if (h->system != NULL && h->system->has_mem_available)
		vt_ev_uint(rec, "host_available_bytes", avail);
	if (h->system != NULL && h->system->has_swap)
		vt_ev_uint(rec, "host_swap_used_bytes",
			   h->system->swap_total_bytes -
				   MIN(h->system->swap_free_bytes, h->system->swap_total_bytes));
}
