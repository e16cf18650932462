/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The Prometheus endpoint: GET /metrics on HOST:PORT (libsoup), answered with
 * the text exposition format that @render builds at each scrape.
 */
typedef struct VtMetrics VtMetrics;
typedef GString *(*VtMetricsRender)(gpointer user_data);

#define VT_METRICS_DEFAULT_PORT 9478

/* @listen: "127.0.0.1:9478", "[::1]:9478", or a bare host (default port). */
VtMetrics *vt_metrics_new(const char *listen, VtMetricsRender render, gpointer user_data,
			  GError **error);
void vt_metrics_free(VtMetrics *metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtMetrics, vt_metrics_free)

/* Append a label value escaped as the exposition format wants. */
void vt_metrics_append_label(GString *out, const char *value);

G_END_DECLS
