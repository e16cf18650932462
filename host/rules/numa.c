/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpu.numa: a guest's vCPUs or memory spread over the host's NUMA nodes. */
#include <string.h>

#include "rules-private.h"

/* "0-3,8,10-11" from sorted CPU ids. */
static char *
cpu_list(const GArray *cpus)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < cpus->len;) {
		guint first = g_array_index(cpus, guint, i), last = first;

		while (i + 1 < cpus->len && g_array_index(cpus, guint, i + 1) == last + 1)
			last = g_array_index(cpus, guint, ++i);
		i++;
		g_string_append_printf(s, "%s%u", s->len ? "," : "", first);
		if (last != first)
			g_string_append_printf(s, "-%u", last);
	}
	return g_string_free(s, FALSE);
}

/* The first node with CPUs and memory enough for the whole guest. */
static const VtNumaCell *
fitting_cell(const VtHostCaps *caps, guint vcpus, guint64 memory)
{
	for (guint i = 0; i < caps->cells->len; i++) {
		const VtNumaCell *c = caps->cells->pdata[i];

		if (c->cpus->len >= vcpus && (c->memory_bytes == 0 || c->memory_bytes >= memory))
			return c;
	}
	return NULL;
}

static void
numa_evidence(VtRecommendation *rec, const VtRuleInput *in, guint spanned, guint vcpus,
	      const VtNumaCell *cell)
{
	const VtDomainFacts *f = in->facts;

	vt_ev_uint(rec, "host_nodes", in->caps->cells->len);
	vt_ev_uint(rec, "host_cpus", in->caps->cpus);
	vt_ev_uint(rec, "vcpus", vcpus);
	vt_ev_uint(rec, "memory_bytes", f->memory_bytes);
	vt_ev_uint(rec, "vcpupins", f->vcpupins);
	vt_ev_str(rec, "vcpupin_cpusets", f->vcpupin_cpusets);
	vt_ev_uint(rec, "nodes_spanned", spanned);
	vt_ev_bool(rec, "numatune", f->has_numatune);
	vt_ev_str(rec, "numatune_mode", f->numatune_mode);
	vt_ev_str(rec, "numatune_nodeset", f->numatune_nodeset);
	vt_ev_uint(rec, "guest_numa_cells", f->numa_cells);
	vt_ev_uint(rec, "recommended_node", cell->id);
	vt_ev_uint(rec, "node_cpus", cell->cpus->len);
	vt_ev_uint(rec, "node_memory_bytes", cell->memory_bytes);
}

void
vt_rule_cpu_numa(VtRuleCtx *ctx)
{
	const VtRuleInput *in = ctx->in;
	const VtDomainFacts *f = in->facts;
	guint vcpus = f->vcpus_max ? f->vcpus_max : vt_guest_vcpus(in, NULL);
	guint spanned = 0;
	gboolean pinned = f->vcpupins > 0 && f->vcpupin_cpusets != NULL;
	const VtNumaCell *cell;
	g_autofree char *cpus = NULL;
	g_autofree char *fragment = NULL;
	VtRecommendation *rec;

	if (in->caps->cells->len < 2)
		return; /* one node: nothing to place */
	if (pinned)
		spanned = vt_host_caps_cells_spanned(in->caps, f->vcpupin_cpusets);
	/* pinned within one node, or placed by numatune/a guest NUMA topology */
	if ((pinned && spanned <= 1) || (!pinned && (f->has_numatune || f->numa_cells > 1)))
		return;
	if ((cell = fitting_cell(in->caps, MAX(vcpus, 1), f->memory_bytes)) == NULL) {
		vt_rule_skip(ctx,
			     "no host node holds %u vCPUs and the domain's memory: give the "
			     "guest a NUMA topology (<cpu><numa>) instead",
			     vcpus);
		return;
	}
	cpus = cpu_list(cell->cpus);
	fragment = g_strdup_printf("<vcpu placement='static' cpuset='%s'>%u</vcpu><numatune>"
				   "<memory mode='strict' nodeset='%u'/></numatune>",
				   cpus, vcpus, cell->id);
	rec = vt_rule_emit_xml(ctx, "domain", VT_SEVERITY_WARNING, fragment);
	if (rec == NULL)
		return;
	vt_rec_rationale(
		rec,
		"The host has %u NUMA nodes and the domain's %u vCPUs %s. Memory on another "
		"node costs a remote access on every cache miss, and the host's scheduler "
		"moves vCPU threads away from their memory. Node %u has %u CPUs (%s) and room "
		"for the guest: keep its vCPUs and memory there%s, with 'virsh edit %s'.",
		in->caps->cells->len, vcpus,
		pinned ? "are pinned to host CPUs on different nodes"
		       : "float over every host CPU with no <numatune>",
		cell->id, cell->cpus->len, cpus,
		pinned ? " (or re-pin each vCPU within that node)" : "", vt_domain_name(in));
	numa_evidence(rec, in, spanned, vcpus, cell);
}
