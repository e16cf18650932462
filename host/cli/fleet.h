/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "format.h"
#include "options.h"
#include "prometheus-client.h"

G_BEGIN_DECLS

/*
 * The audits and recommendations of every host Prometheus scrapes, built
 * from virt-tuned's metrics in the shape virt-tuned answers them for one
 * host, each row with a "host" member first: the daemon's
 * virttune_host_info{host} joined on `instance`, else the `instance` label.
 */

/* The audits the metrics carry, for messages. */
#define VT_FLEET_AUDITS "swap, schedulers, nics, io, net, memory and all"

/* TRUE when vt_fleet_audit() answers @kind. */
gboolean vt_fleet_has_audit(const char *kind);

/* `audit @kind` (swap, schedulers, nics, io, net, memory: an array of rows;
 * all: an object of the six), only @domain's rows unless NULL. */
JsonNode *vt_fleet_audit(VtPromClient *client, const char *kind, const char *domain,
			 GError **error);

/* {"recommendations": [{host, domain, id, rule, severity, target}…],
 *  "skipped": []}, only @domain's unless NULL; without @domain, each host's
 * own recommendations too, under domain "(host)" with scope "host". */
JsonNode *vt_fleet_recommend(VtPromClient *client, const char *domain, GError **error);

/*
 * What vt_client_request() is for virt-tuned, for --prometheus: @command
 * "audit" (with @kind) or "recommend", the answer in *result; errors printed,
 * the exit code returned (VT_EXIT_UNREACHABLE when Prometheus cannot be
 * reached, VT_EXIT_FAILED when it answers an error, VT_EXIT_USAGE for a bad
 * URL or timeout).
 */
int vt_fleet_request(const VtCliOptions *options, const char *command, const char *kind,
		     const char *domain, JsonNode **result);

/* @columns with a HOST column before them; g_free() the result. */
VtColumn *vt_fleet_columns(const VtColumn *columns, gsize n_columns, gsize *n_out);

G_END_DECLS
