/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * PromQL instant queries over Prometheus' HTTP API (GET URL/api/v1/query),
 * for the fleet commands. Everything Prometheus answers is untrusted: the
 * answer is bounded (VT_PROM_MAX_BODY bytes, VT_PROM_MAX_SERIES series), its
 * shape checked, and its strings printed only through render.c. Every error
 * names the URL: VT_ERROR_UNAVAILABLE when Prometheus cannot be reached,
 * VT_ERROR_FAILED for an HTTP error or Prometheus' own error JSON,
 * VT_ERROR_INVALID for an answer that is not what the API documents.
 */

#define VT_PROM_MAX_BODY    (64u * 1024u * 1024u)
#define VT_PROM_MAX_SERIES  200000u
#define VT_PROM_TIMEOUT_MAX 600u

typedef struct VtPromClient VtPromClient;

/* @url: http:// or https:// with a host (a trailing '/' is dropped);
 * @timeout_s: 1..VT_PROM_TIMEOUT_MAX per request. NULL and @error when the
 * URL is not one. */
VtPromClient *vt_prom_client_new(const char *url, guint timeout_s, GError **error);
void vt_prom_client_free(VtPromClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPromClient, vt_prom_client_free)

/* One sample of an instant vector: its labels and value. */
typedef struct {
	JsonObject *metric; /* label name -> string, all checked to be strings */
	double value;       /* may be NaN or ±Inf, as Prometheus sends them */
} VtPromSample;

/* The instant vector @promql evaluates to now: a GPtrArray of VtPromSample
 * (borrowing from the parsed answer, which the array keeps alive). */
GPtrArray *vt_prom_query(VtPromClient *client, const char *promql, GError **error);

/* A sample's label, or NULL when it has none or it is empty. */
const char *vt_prom_label(const VtPromSample *sample, const char *name);

G_END_DECLS
