/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's own host: read, compared with the last reading, and analysed. */
#include "host.h"

#include "guest.h"

VtHostModel *
vt_host_model_new(const char *sysroot)
{
	VtHostModel *m = g_new0(VtHostModel, 1);

	m->sysroot = g_strdup(sysroot);
	m->images = vt_host_images_new();
	return m;
}

void
vt_host_model_free(VtHostModel *m)
{
	if (m == NULL)
		return;
	g_free(m->sysroot);
	vt_host_system_free(m->system);
	vt_host_system_free(m->prev_system);
	g_ptr_array_unref(m->images);
	vt_analysis_free(m->analysis);
	g_free(m);
}

/* Host swap-in/out pages per second and OOM kills between two readings. */
static void
host_rates(VtHostModel *m)
{
	const VtHostSystem *a = m->prev_system, *b = m->system;
	double dt = (double)(m->at_us - m->prev_at_us) / 1e6;

	m->has_swap_rates = a != NULL && a->has_swap_counters && b->has_swap_counters && dt > 0 &&
			    b->pswpin >= a->pswpin && b->pswpout >= a->pswpout;
	m->swap_in_pps = m->has_swap_rates ? (double)(b->pswpin - a->pswpin) / dt : 0;
	m->swap_out_pps = m->has_swap_rates ? (double)(b->pswpout - a->pswpout) / dt : 0;
	m->has_oom_delta =
		a != NULL && a->has_oom_kills && b->has_oom_kills && b->oom_kills >= a->oom_kills;
	m->oom_kills_delta = m->has_oom_delta ? b->oom_kills - a->oom_kills : 0;
}

void
vt_host_model_update(VtHostModel *m, GPtrArray *guests, const VtNodeFacts *node,
		     const VtHostCaps *caps, const VtRulesConfig *config, gint64 now_us)
{
	g_autofree VtHostGuestInput *in_guests = g_new0(VtHostGuestInput, MAX(guests->len, 1));
	VtHostInput in = {0};
	guint ballooned;

	vt_host_system_free(m->prev_system);
	m->prev_system = g_steal_pointer(&m->system);
	m->prev_at_us = m->at_us;
	m->system = vt_host_system_read(m->sysroot);
	m->at_us = now_us;
	host_rates(m);
	m->has_node = node != NULL && node->known;
	m->node = m->has_node ? *node : (VtNodeFacts){0};
	m->host_cpus_caps = caps != NULL ? caps->cpus : 0;
	g_ptr_array_set_size(m->images, 0);
	m->vcpus_total = m->vcpus_pinned = 0;
	for (guint i = 0; i < guests->len; i++) {
		const VtGuest *g = guests->pdata[i];

		in_guests[i].name = g->name;
		in_guests[i].facts = g->facts;
		in_guests[i].rates = &g->rates;
		vt_host_images_add(m->images, m->sysroot, g->name, g->facts);
		if (g->facts != NULL) {
			m->vcpus_total += g->facts->vcpus_current;
			if (g->facts->vcpupin_cpusets != NULL)
				m->vcpus_pinned += MIN(g->facts->vcpupins, g->facts->vcpus_current);
		}
	}
	in.system = m->system;
	in.node = m->has_node ? &m->node : NULL;
	in.caps = caps;
	in.guests = in_guests;
	in.n_guests = guests->len;
	in.images = m->images;
	vt_host_guest_memory(&in, &m->guest_memory_current, &m->guest_memory_maximum, &ballooned);
	vt_analysis_free(m->analysis);
	m->analysis = vt_rules_run_host(&in, config);
}
