/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "options.h"

#include "cli.h"
#include "client.h"
#include "prometheus-client.h"

void
vt_cli_options_clear(VtCliOptions *options)
{
	g_free(options->socket);
	g_free(options->format);
	g_free(options->prometheus);
}

VtPromClient *
vt_cli_prometheus(const VtCliOptions *o, int *exit_code)
{
	g_autoptr(GError) error = NULL;
	VtPromClient *client =
		vt_prom_client_new(o->prometheus, (guint)o->prometheus_timeout, &error);

	*exit_code = VT_EXIT_OK;
	if (client == NULL) {
		vt_render_error("%s", error->message);
		*exit_code = VT_EXIT_USAGE;
	}
	return client;
}

gboolean
vt_cli_parse(VtCliOptions *o, const char *parameters, const GOptionEntry *entries, int min_args,
	     int max_args, int *argc, char ***argv, int *exit_code)
{
	GOptionEntry common[] = {
		{"socket", 0, 0, G_OPTION_ARG_FILENAME, &o->socket,
		 "virt-tuned's control socket (default $VIRT_TUNE_SOCKET "
		 "or " VT_CLIENT_DEFAULT_SOCKET ")",
		 "PATH"},
		{"format", 'f', 0, G_OPTION_ARG_STRING, &o->format, "table (default), json or csv",
		 "FORMAT"},
		{NULL},
	};
	GOptionEntry fleet[] = {
		{"prometheus", 0, 0, G_OPTION_ARG_STRING, &o->prometheus,
		 "Answer for every host this Prometheus scrapes, from virt-tuned's metrics", "URL"},
		{"prometheus-timeout", 0, 0, G_OPTION_ARG_INT, &o->prometheus_timeout,
		 "Seconds to wait for each Prometheus query (default 10)", "SECONDS"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(parameters);
	g_autoptr(GError) error = NULL;

	*exit_code = VT_EXIT_USAGE;
	g_option_context_add_main_entries(ctx, common, NULL);
	if (entries != NULL)
		g_option_context_add_main_entries(ctx, entries, NULL);
	if (o->fleet)
		g_option_context_add_main_entries(ctx, fleet, NULL);
	o->prometheus_timeout = 10;
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		vt_render_error("%s (see --help)", error->message);
		return FALSE;
	}
	if (!vt_format_parse(o->format, &o->fmt)) {
		vt_render_error("--format must be table, json or csv");
		return FALSE;
	}
	if (*argc - 1 < min_args || *argc - 1 > max_args) {
		vt_render_usage(ctx);
		return FALSE;
	}
	*exit_code = VT_EXIT_OK;
	return TRUE;
}
