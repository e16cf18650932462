/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-tuned: finds the guests that run virt-tune-agent, reads their reports,
 * correlates them with libvirt and answers `virt-tune` on a control socket.
 */
#include <string.h>

#include <glib.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"

/* What the command line said; what it leaves unset, virt-tuned.conf may set. */
typedef struct {
	VtDaemonSettings set;
	char *config;
	gboolean version;
} Args;

static void
args_clear(Args *a)
{
	vt_daemon_settings_clear(&a->set);
	g_free(a->config);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Args, args_clear)

/* FALSE when virt-tuned stops here, with its exit code in @rc. */
static gboolean
parse_args(Args *a, int argc, char **argv, int *rc)
{
	GOptionEntry entries[] = {
		{"connect", 'c', 0, G_OPTION_ARG_STRING, &a->set.uri,
		 "libvirt URI (default " VT_DAEMON_DEFAULT_URI ")", "URI"},
		{"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &a->set.state_dir,
		 "History database directory (default " VT_DAEMON_DEFAULT_STATE_DIR ")", "DIR"},
		{"socket", 's', 0, G_OPTION_ARG_FILENAME, &a->set.socket,
		 "Control socket (default " VT_CONTROL_DEFAULT_SOCKET ")", "PATH"},
		{"group", 'g', 0, G_OPTION_ARG_STRING, &a->set.group,
		 "Group allowed to read through the control socket", "GROUP"},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &a->config,
		 "Configuration file (default " VT_DAEMON_DEFAULT_CONFIG ")", "FILE"},
		{"rules-config", 0, 0, G_OPTION_ARG_FILENAME, &a->set.rules,
		 "Rule thresholds and targets ([rules] GKeyFile)", "FILE"},
		{"metrics-listen", 0, 0, G_OPTION_ARG_STRING, &a->set.metrics,
		 "Serve Prometheus metrics on HOST:PORT (default: off)", "HOST:PORT"},
		{"metrics-host-label", 0, 0, G_OPTION_ARG_STRING, &a->set.host_label,
		 "The host label of the metrics (default: the hostname)", "NAME"},
		{"channel", 0, 0, G_OPTION_ARG_STRING, &a->set.channel,
		 "How to reach agents: auto (default), socket or stream", "MODE"},
		{"poll-interval", 0, 0, G_OPTION_ARG_INT, &a->set.poll,
		 "Seconds between libvirt polls (default 10)", "SECONDS"},
		{"retention-days", 0, 0, G_OPTION_ARG_INT, &a->set.retention_days,
		 "Drop reports older than this (default 30; 0 keeps all)", "DAYS"},
		{"retention-reports", 0, 0, G_OPTION_ARG_INT, &a->set.retention_reports,
		 "Keep at most this many reports per domain (default 100000; 0: no limit)", "N"},
		{"effect-window", 0, 0, G_OPTION_ARG_INT, &a->set.effect_window,
		 "Seconds of reports before and after a change that measure its effect "
		 "(default 600)",
		 "SECONDS"},
		{"control-idle-timeout", 0, 0, G_OPTION_ARG_INT, &a->set.control_idle,
		 "Close a control client idle this long (default 60; 0: never)", "SECONDS"},
		{"store-budget-mib", 0, 0, G_OPTION_ARG_INT, &a->set.store_budget,
		 "Stored reports per domain, at most this many MiB (default " G_STRINGIFY(
			 VT_DAEMON_DEFAULT_STORE_BUDGET_MIB) "; 0: no budget)",
		 "MIB"},
		{"version", 'V', 0, G_OPTION_ARG_NONE, &a->version, "Print the version and exit",
		 NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(
		context, "Collect virt-tune-agent reports from libvirt guests, correlate "
			 "them with the host's view\nand answer `virt-tune` on the "
			 "control socket.");
	g_option_context_add_main_entries(context, entries, NULL);
	*rc = 2;
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("virt-tuned: %s (see --help)\n", error->message);
		return FALSE;
	}
	if (a->version) {
		g_print("virt-tuned %s\n", VT_VERSION);
		*rc = 0;
		return FALSE;
	}
	if (argc > 1) {
		g_printerr("virt-tuned: unexpected argument '%s' (see --help)\n", argv[1]);
		return FALSE;
	}
	return TRUE;
}

/* The daemon's options, defaults filled in; FALSE (said on stderr) when a
 * value is out of range. @o points into @a. */
static gboolean
to_options(const Args *a, VtDaemonOptions *o)
{
	if (a->set.channel == NULL || g_strcmp0(a->set.channel, "auto") == 0)
		o->channel_mode = VT_CHANNEL_AUTO;
	else if (g_strcmp0(a->set.channel, "socket") == 0)
		o->channel_mode = VT_CHANNEL_SOCKET;
	else if (g_strcmp0(a->set.channel, "stream") == 0)
		o->channel_mode = VT_CHANNEL_STREAM;
	else {
		g_printerr("virt-tuned: --channel must be auto, socket or stream, not '%s'\n",
			   a->set.channel);
		return FALSE;
	}
	if (a->set.effect_window >= 0 &&
	    (a->set.effect_window < 1 || a->set.effect_window > 86400)) {
		g_printerr("virt-tuned: --effect-window must be 1..86400 seconds\n");
		return FALSE;
	}
	if (a->set.control_idle < -1 || a->set.control_idle > 86400) {
		g_printerr("virt-tuned: --control-idle-timeout must be 0..86400 seconds\n");
		return FALSE;
	}
	if (a->set.store_budget < -1 || a->set.store_budget > 1048576) {
		g_printerr("virt-tuned: --store-budget-mib must be 0..1048576\n");
		return FALSE;
	}
	if (a->set.poll == 0 || a->set.poll > 3600) {
		g_printerr("virt-tuned: --poll-interval must be 1..3600 seconds\n");
		return FALSE;
	}
	if (a->set.host_label != NULL &&
	    (a->set.host_label[0] == '\0' || strlen(a->set.host_label) > 255 ||
	     !g_utf8_validate(a->set.host_label, -1, NULL))) {
		g_printerr("virt-tuned: --metrics-host-label (or metrics-host-label=) must be "
			   "1..255 bytes of UTF-8\n");
		return FALSE;
	}
	o->uri = a->set.uri;
	o->state_dir = a->set.state_dir;
	o->socket_path = a->set.socket;
	o->group = a->set.group;
	o->rules_config = a->set.rules;
	o->metrics_listen = a->set.metrics;
	o->host_label = a->set.host_label;
	o->poll_interval_s = a->set.poll > 0 ? (guint)a->set.poll : 10;
	o->retention_days = a->set.retention_days >= 0 ? (guint)a->set.retention_days : 30;
	o->retention_reports =
		a->set.retention_reports >= 0 ? (guint)a->set.retention_reports : 100000;
	o->effect_window_s = a->set.effect_window >= 0 ? (guint)a->set.effect_window : 600;
	o->store_budget_mib = a->set.store_budget >= 0 ? (guint)a->set.store_budget
						       : VT_DAEMON_DEFAULT_STORE_BUDGET_MIB;
	o->control_idle_timeout_s = a->set.control_idle >= 0 ? (guint)a->set.control_idle
							     : VT_CONTROL_DEFAULT_IDLE_TIMEOUT_S;
	return TRUE;
}

int
main(int argc, char **argv)
{
	g_auto(Args) a = {.set = VT_DAEMON_SETTINGS_INIT};
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtDaemon) daemon = NULL;
	VtDaemonOptions options = {0};
	gboolean ok;
	int rc;

	g_log_set_writer_func(vt_daemon_log_writer, NULL, NULL);
	if (!parse_args(&a, argc, argv, &rc))
		return rc;
	ok = vt_daemon_config_load(a.config ? a.config : VT_DAEMON_DEFAULT_CONFIG, a.config != NULL,
				   &a.set, warnings, &error);
	for (guint i = 0; i < warnings->len; i++)
		g_printerr("virt-tuned: %s\n", (const char *)warnings->pdata[i]);
	if (!ok) {
		g_printerr("virt-tuned: %s\n", error->message);
		return 2;
	}
	if (!to_options(&a, &options))
		return 2;
	daemon = vt_daemon_new(&options, &error);
	if (daemon == NULL) {
		g_printerr("virt-tuned: %s\n", error->message);
		return 1;
	}
	return vt_daemon_run(daemon);
}
