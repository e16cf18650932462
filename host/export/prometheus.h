/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "host.h"

G_BEGIN_DECLS

/*
 * The Prometheus text exposition (format 0.0.4) of every guest (see the
 * metrics in virt-tuned(8)): agent state, memory and swap, schedulers, NIC
 * channels, recommendations and refused frames. @host names this daemon in
 * virttune_host_info{host="…"}, the series Prometheus joins on `instance` to
 * give every guest series its host. @guests: GPtrArray of VtGuest
 * in the order to show; @now_ms: the host's realtime clock in ms. The metric
 * names and labels are an interface: add, never rename.
 */
GString *vt_prometheus_render(GPtrArray *guests, gboolean libvirt_connected, const char *host,
			      gint64 now_ms);

/* prometheus-sides.c: both sides of each guest disk and NIC, PSI, OOM kills,
 * and the host itself (@host: a VtHostModel, may be NULL), appended to @out. */
void vt_prometheus_render_sides(GString *out, GPtrArray *guests, const VtHostModel *host);

/* Append @value (NULL: empty) escaped as a label value. */
void vt_prometheus_append_label(GString *out, const char *value);

/* One scrape: what every family is written from, and where to. */
typedef struct {
	GString *out;
	GPtrArray *guests;
	gboolean libvirt_connected;
	const char *host;
	gint64 now_ms;
} VtScrape;

/* "# HELP" and "# TYPE" of a family. */
void vt_prometheus_family(GString *out, const char *name, const char *type, const char *help);
/* name{domain="…"[,k="v"…]} value; @labels: NULL-terminated name, value pairs
 * (a NULL value is written as ""). */
void vt_prometheus_sample(GString *out, const char *name, const char *domain,
			  const char *const *labels, double value);

/* prometheus-audit.c: what the audits show that the core families do not —
 * agent state, swappiness and swap rates, balloon, disks with their host
 * side, NICs with their host queues. */
void vt_prometheus_audit_families(VtScrape *s);

G_END_DECLS
