/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "prometheus-client.h"
#include "render.h"

G_BEGIN_DECLS

/* The options every command answered by virt-tuned takes. */
typedef struct {
	char *socket; /* --socket, or NULL */
	char *format; /* --format as given */
	VtFormat fmt; /* ... parsed */
	/* Set before parsing by the commands that can ask Prometheus instead:
	 * they take --prometheus URL and --prometheus-timeout SECONDS. */
	gboolean fleet;
	char *prometheus;       /* --prometheus, or NULL: ask virt-tuned */
	int prometheus_timeout; /* seconds, 1..VT_PROM_TIMEOUT_MAX */
} VtCliOptions;

void vt_cli_options_clear(VtCliOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtCliOptions, vt_cli_options_clear)

/*
 * Parse *argv for a command whose usage reads "virt-tune CMD [OPTION…]
 * @parameters": the common options, then @entries (NULL-terminated, or NULL).
 * Between @min_args and @max_args arguments must remain. On an error, print
 * it and return FALSE with *exit_code set to VT_EXIT_USAGE.
 */
gboolean vt_cli_parse(VtCliOptions *options, const char *parameters, const GOptionEntry *entries,
		      int min_args, int max_args, int *argc, char ***argv, int *exit_code);

/* A Prometheus client for --prometheus, with the error printed and
 * *exit_code set when the URL or timeout is wrong. */
VtPromClient *vt_cli_prometheus(const VtCliOptions *options, int *exit_code);

G_END_DECLS
