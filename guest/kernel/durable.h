/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/*
 * Replaces @path with @len bytes of @data, so that a crash leaves either the
 * old file or the new one: written to @path@tmp_suffix (created with @mode,
 * its parent directories with 0755 when @make_dirs), fsync'd, renamed over
 * @path, and the directory fsync'd. The temporary file is removed on failure.
 */
gboolean vt_durable_replace(const char *path, const char *tmp_suffix, const char *data, gsize len,
			    mode_t mode, gboolean make_dirs, GError **error);

G_END_DECLS
