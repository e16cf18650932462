/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-tuned's wiring: the libvirt connection, the control socket, the store
 * and the metrics endpoint around one table of guests; timers and signals.
 */
#include "daemon-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "error.h"
#include "prometheus.h"

#define STALE_CHECK_S    10
#define PRUNE_INTERVAL_S 3600

static gboolean
prune_tick(gpointer user_data)
{
	VtDaemon *d = user_data;
	g_autoptr(GError) error = NULL;
	guint64 removed = 0;

	if (d->store == NULL)
		return G_SOURCE_CONTINUE;
	vt_daemon_store_flush(d); /* a prune is a transaction of its own */
	if (!vt_store_prune(d->store, vt_now_ms(), (gint64)d->retention_days * 86400 * 1000,
			    d->retention_reports, &removed, &error))
		g_warning("pruning history: %s", error->message);
	else if (removed > 0)
		g_info("pruned %" G_GUINT64_FORMAT " old reports", removed);
	return G_SOURCE_CONTINUE;
}

static GString *
render_metrics(gpointer user_data)
{
	VtDaemon *d = user_data;
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, NULL);

	GString *out = vt_prometheus_render(guests, vt_hypervisor_is_connected(d->hv),
					    d->host_label, vt_now_ms());

	vt_prometheus_render_sides(out, guests, d->host);
	return out;
}

/* ------------------------------------------------------------ lifecycle */

/* The rules file, its warnings logged. */
static VtRulesConfig *
load_rules(const char *path, GError **error)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	VtRulesConfig *rules = vt_rules_config_load(path, warnings, error);

	for (guint i = 0; i < warnings->len; i++)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "CONFIG_FILE", path, "MESSAGE",
				 "%s", (const char *)warnings->pdata[i]);
	return rules;
}

VtDaemon *
vt_daemon_new(const VtDaemonOptions *o, GError **error)
{
	g_autoptr(VtDaemon) d = g_new0(VtDaemon, 1);
	g_autofree char *db = NULL;

	vt_daemon_heap_init();
	d->uri = g_strdup(o->uri ? o->uri : VT_DAEMON_DEFAULT_URI);
	d->state_dir = g_strdup(o->state_dir ? o->state_dir : VT_DAEMON_DEFAULT_STATE_DIR);
	d->socket_path = g_strdup(o->socket_path ? o->socket_path : VT_CONTROL_DEFAULT_SOCKET);
	d->group = g_strdup(o->group);
	d->host_label = g_strdup(o->host_label ? o->host_label : g_get_host_name());
	d->poll_interval_s = o->poll_interval_s ? o->poll_interval_s : 10;
	d->retention_days = o->retention_days;
	d->retention_reports = o->retention_reports;
	d->channel_mode = o->channel_mode;
	d->guests =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vt_guest_free);
	/* the host's /proc and /sys: a fixture tree in tests, "/" otherwise */
	d->host = vt_host_model_new(g_getenv("VIRT_TUNED_HOST_ROOT"));
	if (o->rules_config != NULL)
		d->rules_path = g_strdup(o->rules_config);
	else if (g_file_test(VT_DAEMON_DEFAULT_RULES, G_FILE_TEST_EXISTS))
		d->rules_path = g_strdup(VT_DAEMON_DEFAULT_RULES);
	d->rules = d->rules_path ? load_rules(d->rules_path, error) : vt_rules_config_new();
	if (d->rules == NULL)
		return NULL;

	if (g_mkdir_with_parents(d->state_dir, 0750) < 0) {
		vt_error_set_errno(error, errno, "create the state directory %s", d->state_dir);
		return NULL;
	}
	db = g_build_filename(d->state_dir, VT_STORE_FILE_NAME, NULL);
	d->store = vt_store_open(db, error);
	if (d->store == NULL)
		return NULL;
	vt_store_set_budget(d->store, (gint64)o->store_budget_mib * 1024 * 1024);
	d->changes = vt_changes_new(d->store, d->guests);
	if (o->effect_window_s > 0)
		vt_changes_set_effect_window(d->changes, (gint64)o->effect_window_s * 1000);
	d->control = vt_control_new(d->socket_path, d->group, vt_daemon_on_request, d, error);
	if (d->control == NULL)
		return NULL;
	vt_control_set_idle_timeout(d->control, o->control_idle_timeout_s);
	d->hv = vt_hypervisor_new(d->uri, d->poll_interval_s, &vt_daemon_hypervisor_callbacks, d);
	if (o->metrics_listen != NULL) {
		d->http = vt_http_new(o->metrics_listen, render_metrics, d, error);
		if (d->http == NULL)
			return NULL;
	}
	return g_steal_pointer(&d);
}

void
vt_daemon_free(VtDaemon *d)
{
	if (d == NULL)
		return;
	if (d->stale_timer)
		g_source_remove(d->stale_timer);
	if (d->prune_timer)
		g_source_remove(d->prune_timer);
	vt_daemon_store_flush(d);
	vt_http_free(d->http);
	vt_control_free(d->control);
	vt_changes_free(d->changes);
	g_hash_table_destroy(d->guests);
	vt_host_model_free(d->host);
	vt_hypervisor_free(d->hv);
	vt_store_free(d->store);
	vt_rules_config_free(d->rules);
	g_free(d->rules_path);
	if (d->loop)
		g_main_loop_unref(d->loop);
	g_free(d->uri);
	g_free(d->state_dir);
	g_free(d->socket_path);
	g_free(d->group);
	g_free(d->host_label);
	g_free(d);
}

static gboolean
on_signal(gpointer user_data)
{
	VtDaemon *d = user_data;

	g_info("stopping");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

/* SIGHUP: read the rule thresholds again and re-run the rules; a broken file
 * keeps the rules in force. */
static gboolean
on_sighup(gpointer user_data)
{
	VtDaemon *d = user_data;
	g_autoptr(GError) error = NULL;
	VtRulesConfig *rules;
	GHashTableIter iter;
	gpointer value;

	if (d->rules_path == NULL) {
		g_log_structured(
			G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
			"SIGHUP: no rules file to reload (built-in defaults; give one with "
			"--rules-config)");
		return G_SOURCE_CONTINUE;
	}
	rules = load_rules(d->rules_path, &error);
	if (rules == NULL) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "SIGHUP: %s; keeping the rules in force", error->message);
		return G_SOURCE_CONTINUE;
	}
	vt_rules_config_free(d->rules);
	d->rules = rules;
	g_hash_table_iter_init(&iter, d->guests);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		vt_daemon_analyse(d, value, TRUE);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
			 "SIGHUP: rules reloaded from %s", d->rules_path);
	return G_SOURCE_CONTINUE;
}

int
vt_daemon_run(VtDaemon *d)
{
	guint sigterm, sigint, sighup;

	d->loop = g_main_loop_new(NULL, FALSE);
	sigterm = g_unix_signal_add(SIGTERM, on_signal, d);
	sigint = g_unix_signal_add(SIGINT, on_signal, d);
	sighup = g_unix_signal_add(SIGHUP, on_sighup, d);
	d->stale_timer = g_timeout_add_seconds(STALE_CHECK_S, vt_daemon_check_stale, d);
	if (d->retention_days > 0 || d->retention_reports > 0) {
		d->prune_timer = g_timeout_add_seconds(PRUNE_INTERVAL_S, prune_tick, d);
		prune_tick(d);
	}
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
			 "virt-tuned %s: libvirt %s, control socket %s, history %s", VT_VERSION,
			 d->uri, d->socket_path, vt_store_path(d->store));
	vt_hypervisor_start(d->hv);
	g_main_loop_run(d->loop);
	g_source_remove(sigterm);
	g_source_remove(sigint);
	g_source_remove(sighup);
	return d->exit_code;
}
