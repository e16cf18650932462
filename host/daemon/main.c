/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-tuned: finds the guests that run virt-tune-agent, reads their reports,
 * correlates them with libvirt and answers `virt-tune` on a control socket.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "control.h"
#include "daemon.h"

/* [daemon] keys of virt-tuned.conf; command-line flags win over them. */
static gboolean
load_config(const char *path, gboolean must_exist, char **uri, char **state_dir, char **socket,
	    char **group, char **channel, char **rules, char **metrics, int *poll,
	    int *retention_days, int *retention_reports, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) keys = NULL;
	static const char *const known[] = {"connect",
					    "state-dir",
					    "socket",
					    "group",
					    "channel",
					    "poll-interval",
					    "retention-days",
					    "retention-reports",
					    "rules-config",
					    "metrics-listen",
					    NULL};

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s: %s", path,
			    local->message);
		return FALSE;
	}
	keys = g_key_file_get_keys(kf, "daemon", NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
		if (!g_strv_contains(known, keys[i])) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "%s: [daemon] has no key '%s'", path, keys[i]);
			return FALSE;
		}
#define STR(key, out)                                                                              \
	if (*(out) == NULL)                                                                        \
		*(out) = g_key_file_get_string(kf, "daemon", key, NULL);
	STR("connect", uri);
	STR("state-dir", state_dir);
	STR("socket", socket);
	STR("group", group);
	STR("channel", channel);
	STR("rules-config", rules);
	STR("metrics-listen", metrics);
#undef STR
#define INT(key, out)                                                                              \
	if (*(out) < 0 && g_key_file_has_key(kf, "daemon", key, NULL)) {                           \
		*(out) = g_key_file_get_integer(kf, "daemon", key, &local);                        \
		if (local != NULL || *(out) < 0) {                                                 \
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,       \
				    "%s: [daemon] %s must be a whole number >= 0", path, key);     \
			return FALSE;                                                              \
		}                                                                                  \
	}
	INT("poll-interval", poll);
	INT("retention-days", retention_days);
	INT("retention-reports", retention_reports);
#undef INT
	return TRUE;
}

int
main(int argc, char **argv)
{
	g_autofree char *uri = NULL, *state_dir = NULL, *socket = NULL, *group = NULL;
	g_autofree char *config = NULL, *channel = NULL, *rules = NULL, *metrics = NULL;
	int poll = -1, retention_days = -1, retention_reports = -1;
	gboolean version = FALSE;
	GOptionEntry entries[] = {
		{"connect", 'c', 0, G_OPTION_ARG_STRING, &uri,
		 "libvirt URI (default " VT_DAEMON_DEFAULT_URI ")", "URI"},
		{"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
		 "History database directory (default " VT_DAEMON_DEFAULT_STATE_DIR ")", "DIR"},
		{"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket,
		 "Control socket (default " VT_CONTROL_DEFAULT_SOCKET ")", "PATH"},
		{"group", 'g', 0, G_OPTION_ARG_STRING, &group,
		 "Group allowed to read through the control socket", "GROUP"},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &config,
		 "Configuration file (default " VT_DAEMON_DEFAULT_CONFIG ")", "FILE"},
		{"rules-config", 0, 0, G_OPTION_ARG_FILENAME, &rules,
		 "Rule thresholds and targets ([rules] GKeyFile)", "FILE"},
		{"metrics-listen", 0, 0, G_OPTION_ARG_STRING, &metrics,
		 "Serve Prometheus metrics on HOST:PORT (default: off)", "HOST:PORT"},
		{"channel", 0, 0, G_OPTION_ARG_STRING, &channel,
		 "How to reach agents: auto (default), socket or stream", "MODE"},
		{"poll-interval", 0, 0, G_OPTION_ARG_INT, &poll,
		 "Seconds between libvirt polls (default 10)", "SECONDS"},
		{"retention-days", 0, 0, G_OPTION_ARG_INT, &retention_days,
		 "Drop reports older than this (default 30; 0 keeps all)", "DAYS"},
		{"retention-reports", 0, 0, G_OPTION_ARG_INT, &retention_reports,
		 "Keep at most this many reports per domain (default 100000; 0: no limit)", "N"},
		{"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
		 NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtDaemon) daemon = NULL;
	VtDaemonOptions options = {0};

	g_option_context_set_summary(
		context, "Collect virt-tune-agent reports from libvirt guests, correlate "
			 "them with the host's view\nand answer `virt-tune` on the "
			 "control socket.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("virt-tuned: %s (see --help)\n", error->message);
		return 2;
	}
	if (version) {
		g_print("virt-tuned %s\n", VT_VERSION);
		return 0;
	}
	if (argc > 1) {
		g_printerr("virt-tuned: unexpected argument '%s' (see --help)\n", argv[1]);
		return 2;
	}
	if (!load_config(config ? config : VT_DAEMON_DEFAULT_CONFIG, config != NULL, &uri,
			 &state_dir, &socket, &group, &channel, &rules, &metrics, &poll,
			 &retention_days, &retention_reports, &error)) {
		g_printerr("virt-tuned: %s\n", error->message);
		return 2;
	}
	if (channel == NULL || g_strcmp0(channel, "auto") == 0)
		options.channel_mode = VT_CHANNEL_AUTO;
	else if (g_strcmp0(channel, "socket") == 0)
		options.channel_mode = VT_CHANNEL_SOCKET;
	else if (g_strcmp0(channel, "stream") == 0)
		options.channel_mode = VT_CHANNEL_STREAM;
	else {
		g_printerr("virt-tuned: --channel must be auto, socket or stream, not '%s'\n",
			   channel);
		return 2;
	}
	if (poll == 0 || poll > 3600) {
		g_printerr("virt-tuned: --poll-interval must be 1..3600 seconds\n");
		return 2;
	}
	options.uri = uri;
	options.state_dir = state_dir;
	options.socket_path = socket;
	options.group = group;
	options.rules_config = rules;
	options.metrics_listen = metrics;
	options.poll_interval_s = poll > 0 ? (guint)poll : 10;
	options.retention_days = retention_days >= 0 ? (guint)retention_days : 30;
	options.retention_reports = retention_reports >= 0 ? (guint)retention_reports : 100000;

	daemon = vt_daemon_new(&options, &error);
	if (daemon == NULL) {
		g_printerr("virt-tuned: %s\n", error->message);
		return 1;
	}
	return vt_daemon_run(daemon);
}
