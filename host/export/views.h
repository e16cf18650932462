/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "guest.h"

G_BEGIN_DECLS

/*
 * What the control socket answers, as JSON, built from the daemon's guests
 * (a GPtrArray of VtGuest, in the order to show). Pure functions of their
 * arguments; @now_ms is the host's realtime clock in ms. The keys are an
 * interface (scripts read `virt-tune … --format json`): add, never rename.
 */
JsonNode *vt_view_list(GPtrArray *guests, gint64 now_ms);
JsonNode *vt_view_show(const VtGuest *guest, gint64 now_ms);

/* Rows for `audit swap|schedulers|nics`: one per guest, disk or NIC. */
JsonNode *vt_view_audit_swap(GPtrArray *guests, gint64 now_ms);
JsonNode *vt_view_audit_schedulers(GPtrArray *guests);
JsonNode *vt_view_audit_nics(GPtrArray *guests);
/* {"swap": […], "schedulers": […], "nics": […]} */
JsonNode *vt_view_audit_all(GPtrArray *guests, gint64 now_ms);

/* {"recommendations": [{"domain", "id", "rule", "severity", "target", "action",
 * "command", "rationale", "evidence"}], "skipped": [{"domain", "rule", "reason"}]} */
JsonNode *vt_view_recommendations(GPtrArray *guests, GError **error);

/* The Prometheus text exposition of every guest (see docs/metrics in
 * virt-tuned(8)): agent state, memory and swap, schedulers, NIC channels,
 * recommendations and refused frames. */
GString *vt_view_metrics(GPtrArray *guests, gboolean libvirt_connected, gint64 now_ms);

/* The offload features an audit looks at (kernel ETH_SS_FEATURES names). */
gboolean vt_view_is_key_offload(const char *feature);

G_END_DECLS
