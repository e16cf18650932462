/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The [daemon] group of virt-tuned.conf (virt-tuned.conf(5)). Fills only the
 * outputs still unset (NULL strings, negative numbers): the command line wins.
 * A missing file is no error unless @must_exist (a path given with --config).
 */
gboolean vt_daemon_config_load(const char *path, gboolean must_exist, char **uri, char **state_dir,
			       char **socket, char **group, char **channel, char **rules,
			       char **metrics, int *poll, int *retention_days,
			       int *retention_reports, GError **error);

G_END_DECLS
