/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The agent's wiring: options and configuration, the parts it is made of,
 * signals, and the main loop. */
#define G_LOG_DOMAIN "virt-tune-agent"

#include "agent-private.h"

#include <signal.h>
#include <string.h>

#include <glib-unix.h>

#include "error.h"
#include "kernel/sysattr.h"

static void
apply_interval(VtAgent *a)
{
	guint interval = VT_AGENT_DEFAULT_INTERVAL;

	if (a->options.interval > 0)
		interval = (guint)a->options.interval; /* the command line wins */
	else if (a->config != NULL && a->config->interval > 0)
		interval = a->config->interval;
	if (interval != a->interval) {
		a->interval = interval;
		vt_agent_restart_report_timer(a);
	}
}

static gboolean
load_config(VtAgent *a, gboolean at_start)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) config = NULL;

	config = vt_agent_config_load(a->config_path, warnings, &error);
	for (guint i = 0; i < warnings->len; i++)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "CONFIG_FILE", a->config_path,
				 "MESSAGE", "%s", (const char *)warnings->pdata[i]);
	if (config == NULL && !a->config_explicit &&
	    g_error_matches(error, VT_ERROR, VT_ERROR_NOT_FOUND)) {
		g_debug("%s does not exist: using the defaults", a->config_path);
		config = vt_agent_config_new();
		g_clear_error(&error);
	}
	if (config == NULL) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "CONFIG_FILE", a->config_path,
				 "MESSAGE",
				 "configuration error: %s; %s (fix it, then send SIGHUP to reload)",
				 error->message,
				 at_start ? "running with the defaults"
					  : "keeping the previous configuration");
		return FALSE;
	}

	vt_collector_set_excluded(a->collector, (const char *const *)config->exclude);
	vt_collector_set_sections(a->collector, (const char *const *)config->sections);
	vt_applier_set_policy(a->applier, config->policy);
	vt_agent_config_free(a->config);
	a->config = g_steal_pointer(&config);
	apply_interval(a);
	if (!at_start)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "CONFIG_FILE", a->config_path,
				 "MESSAGE", "reloaded %s: reporting every %u s", a->config_path,
				 a->interval);
	return TRUE;
}

static char *
read_boot_id(const char *sysroot)
{
	g_auto(VtFd) root = vt_sysroot_open(sysroot);
	g_autofree char *id = NULL;

	if (vt_sysattr_read(root, "proc/sys/kernel/random/boot_id", &id) < 0)
		return NULL;
	/* a boot id is 36 characters: anything past the bound is cut */
	if (strlen(id) > VT_AGENT_BOOT_ID_MAX) {
		id[VT_AGENT_BOOT_ID_MAX] = '\0';
		g_strchomp(id);
	}
	if (id[0] == '\0' || !g_utf8_validate(id, -1, NULL))
		return NULL;
	return g_steal_pointer(&id);
}

static gboolean
on_quit(gpointer data)
{
	VtAgent *a = data;

	g_info("exiting on a signal");
	g_main_loop_quit(a->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_reload(gpointer data)
{
	VtAgent *a = data;

	load_config(a, FALSE);
	vt_agent_settle(a);
	return G_SOURCE_CONTINUE;
}

static void
open_applier(VtAgent *a)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	const char *dir = a->options.state_dir ? a->options.state_dir : VT_AGENT_DEFAULT_STATE_DIR;

	a->applier = vt_applier_new(a->options.sysroot, dir, NULL, warnings);
	for (guint i = 0; i < warnings->len; i++)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "STATE_DIR", dir, "MESSAGE",
				 "%s", (const char *)warnings->pdata[i]);
}

static void
agent_free(VtAgent *a)
{
	for (guint i = 0; i < G_N_ELEMENTS(a->signals); i++)
		g_clear_handle_id(&a->signals[i], g_source_remove);
	g_clear_handle_id(&a->watch, g_source_remove);
	g_clear_handle_id(&a->retry_timer, g_source_remove);
	g_clear_handle_id(&a->report_timer, g_source_remove);
	g_clear_handle_id(&a->stall_timer, g_source_remove);
	g_clear_handle_id(&a->deadline_timer, g_source_remove);
	g_clear_pointer(&a->outbox, vt_outbox_free);
	g_clear_pointer(&a->decoder, vt_frame_decoder_free);
	g_clear_pointer(&a->port, vt_port_free);
	g_clear_pointer(&a->collector, vt_collector_free);
	g_clear_pointer(&a->applier, vt_applier_free);
	g_clear_pointer(&a->config, vt_agent_config_free);
	g_clear_pointer(&a->loop, g_main_loop_unref);
	g_free(a->options.port);
	g_free(a->options.config);
	g_free(a->options.state_dir);
	g_free(a->options.sysroot);
	g_free(a->config_path);
	g_free(a->boot_id);
	g_free(a->down_reason);
	g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtAgent, agent_free)

int
vt_agent_run(const VtAgentOptions *options)
{
	g_autoptr(VtAgent) a = g_new0(VtAgent, 1);

	a->options.port = g_strdup(options->port ? options->port : VT_AGENT_DEFAULT_PORT);
	a->options.config = g_strdup(options->config);
	a->options.state_dir = g_strdup(options->state_dir);
	a->options.sysroot = g_strdup(options->sysroot);
	a->options.interval = options->interval;
	a->config_explicit = options->config != NULL;
	a->config_path = g_strdup(options->config ? options->config : VT_AGENT_DEFAULT_CONFIG);

	a->loop = g_main_loop_new(NULL, FALSE);
	a->collector = vt_collector_new(a->options.sysroot, NULL);
	/* its reports only go on the wire */
	vt_collector_set_features_encoded(a->collector, TRUE);
	a->port = vt_port_new(a->options.port);
	a->decoder = vt_frame_decoder_new(0);
	a->outbox = vt_outbox_new();
	a->boot_id = read_boot_id(a->options.sysroot);
	a->retry_ms = VT_AGENT_RETRY_MIN_MS;
	a->absent_since_us = g_get_monotonic_time();
	vt_frame_decoder_set_callbacks(a->decoder, vt_agent_on_frame, vt_agent_on_reject, a);
	open_applier(a);
	vt_agent_arm_deadline(a);

	load_config(a, TRUE);
	if (a->interval == 0)
		apply_interval(a);

	a->signals[0] = g_unix_signal_add(SIGTERM, on_quit, a);
	a->signals[1] = g_unix_signal_add(SIGINT, on_quit, a);
	a->signals[2] = g_unix_signal_add(SIGHUP, on_reload, a);

	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", a->options.port, "MESSAGE",
			 "virt-tune-agent %s starting on %s, reporting every %u s", VT_VERSION,
			 a->options.port, a->interval);
	vt_agent_connect(a);
	g_main_loop_run(a->loop);

	/* Best effort: what the port takes now, without waiting. */
	if (a->up)
		vt_agent_flush(a);
	return 0;
}
