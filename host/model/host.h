/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "capabilities.h"
#include "host-system.h"
#include "rules.h"

G_BEGIN_DECLS

/*
 * What the daemon knows about its own host: the last reading of /proc and
 * /sys (under a sysroot), the device under each running guest's images,
 * virNodeGetInfo, swap rates between two readings, and the host-wide rules'
 * analysis. Refreshed after every poll of the domains.
 */
typedef struct {
	char *sysroot; /* NULL: the live host */
	VtHostSystem *system;
	VtHostSystem *prev_system;
	gint64 at_us, prev_at_us; /* monotonic */
	gboolean has_swap_rates;
	double swap_in_pps, swap_out_pps; /* host pages/s between the two readings */
	gboolean has_oom_delta;
	guint64 oom_kills_delta;
	GPtrArray *images; /* VtHostImage */
	gboolean has_node;
	VtNodeFacts node;
	guint host_cpus_caps; /* from the capabilities, 0 unknown */
	guint vcpus_total, vcpus_pinned;
	guint64 guest_memory_current, guest_memory_maximum;
	VtAnalysis *analysis; /* host.* rules */
} VtHostModel;

VtHostModel *vt_host_model_new(const char *sysroot);
void vt_host_model_free(VtHostModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtHostModel, vt_host_model_free)

/* Read the host again and run the host-wide rules over @guests (VtGuest);
 * @node and @caps may be NULL. */
void vt_host_model_update(VtHostModel *model, GPtrArray *guests, const VtNodeFacts *node,
			  const VtHostCaps *caps, const VtRulesConfig *config, gint64 now_us);

G_END_DECLS
