/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "guest.h"
#include "host.h"
#include "store.h"

G_BEGIN_DECLS

/*
 * What the control socket answers, as JSON, built from the daemon's guests
 * (a GPtrArray of VtGuest, in the order to show) or from the store's rows.
 * Pure functions of their arguments; @now_ms is the host's realtime clock in
 * ms. The keys are an interface (scripts read `virt-tune … --format json`):
 * add, never rename.
 */

/* views.c: the daemon and its guests */
JsonNode *vt_view_status(GPtrArray *guests, const char *uri, gboolean libvirt_connected,
			 const char *database);
JsonNode *vt_view_list(GPtrArray *guests, gint64 now_ms);
JsonNode *vt_view_show(const VtGuest *guest, gint64 now_ms);
/* {"recommendations": [{"domain", "id", "rule", "severity", "target", "action",
 * "command", "rationale", "evidence"}], "skipped": [{"domain", "rule", "reason"}]} */
JsonNode *vt_view_recommendations(GPtrArray *guests, GError **error);

/* audit.c: rows for `audit swap|schedulers|nics`, one per guest, disk or NIC */
JsonNode *vt_view_audit_swap(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
JsonNode *vt_view_audit_schedulers(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
JsonNode *vt_view_audit_nics(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
/* audit-sides.c: both sides of each guest disk, NIC and guest memory */
JsonNode *vt_view_audit_io(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
JsonNode *vt_view_audit_net(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
JsonNode *vt_view_audit_memory(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
/* audit-host.c: the host's own figures and settings, one row each
 * ({"setting", "value", "source", "recommended", "recommendation", "severity",
 * "detail"}); @host may be NULL (no rows) */
JsonNode *vt_view_audit_host(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
/* Append the host-wide recommendations to a vt_view_recommendations() answer,
 * with "domain": "(host)" and "scope": "host". */
gboolean vt_view_add_host_recommendations(JsonNode *view, const VtHostModel *host, GError **error);
/* {"swap": […], "schedulers": […], "nics": […], "io": […], …}: every kind below */
JsonNode *vt_view_audit_all(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);

typedef struct {
	const char *name;        /* `audit NAME` */
	const char *rule_prefix; /* the rules of its area: `audit NAME --fail-on` */
	JsonNode *(*view)(GPtrArray *guests, const VtHostModel *host, gint64 now_ms);
} VtAuditKind;

/* The kinds in the order `audit all` shows them; ends with a NULL name. */
extern const VtAuditKind vt_audit_kinds[];
/* NULL when @name is no kind ("all" is none). */
const VtAuditKind *vt_audit_kind_find(const char *name);

/* The offload features an audit looks at (kernel ETH_SS_FEATURES names). */
gboolean vt_view_is_key_offload(const char *feature);

/* history.c: GPtrArray of VtStoreReport, of VtStoreAudit */
JsonNode *vt_view_history(GPtrArray *rows);
JsonNode *vt_view_changes(GPtrArray *rows);

G_END_DECLS
