/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_DAEMON_CONFIG_MAX_BYTES (64u * 1024u)

/* The settings that virt-tuned.conf and the command line share, under the
 * same names; unset: NULL, or -1 for numbers. */
typedef struct {
	char *uri, *state_dir, *socket, *group, *channel, *rules, *metrics, *host_label;
	int poll, retention_days, retention_reports, effect_window, control_idle, store_budget;
} VtDaemonSettings;

#define VT_DAEMON_SETTINGS_INIT                                                                    \
	{                                                                                          \
		.poll = -1, .retention_days = -1, .retention_reports = -1, .effect_window = -1,    \
		.control_idle = -1, .store_budget = -1                                             \
	}

void vt_daemon_settings_clear(VtDaemonSettings *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtDaemonSettings, vt_daemon_settings_clear)

/*
 * The [daemon] group of virt-tuned.conf (virt-tuned.conf(5)), read by
 * common/keyfile.c. Fills only what @s leaves unset: the command line wins.
 * A missing file is no error unless @must_exist (a path given with --config).
 * Errors name the file and line; unknown groups and keys are appended to
 * @warnings.
 */
gboolean vt_daemon_config_load(const char *path, gboolean must_exist, VtDaemonSettings *s,
			       GPtrArray *warnings, GError **error);
/* The same for @len bytes of file text; @name only names it in messages. */
gboolean vt_daemon_config_load_data(const char *data, gsize len, const char *name,
				    VtDaemonSettings *s, GPtrArray *warnings, GError **error);

G_END_DECLS
