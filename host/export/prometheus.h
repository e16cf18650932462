/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "host.h"

G_BEGIN_DECLS

/*
 * The Prometheus text exposition (format 0.0.4) of every guest (see the
 * metrics in virt-tuned(8)): agent state, memory and swap, schedulers, NIC
 * channels, recommendations and refused frames. @guests: GPtrArray of VtGuest
 * in the order to show; @now_ms: the host's realtime clock in ms. The metric
 * names and labels are an interface: add, never rename.
 */
GString *vt_prometheus_render(GPtrArray *guests, gboolean libvirt_connected, gint64 now_ms);

/* prometheus-sides.c: both sides of each guest disk and NIC, PSI, OOM kills,
 * and the host itself (@host: a VtHostModel, may be NULL), appended to @out. */
void vt_prometheus_render_sides(GString *out, GPtrArray *guests, const VtHostModel *host);

/* Append @value (NULL: empty) escaped as a label value. */
void vt_prometheus_append_label(GString *out, const char *value);

G_END_DECLS
