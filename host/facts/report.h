/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "message.h"

G_BEGIN_DECLS

/* A saved report file: canonical JSON or packed protobuf, never larger. */
#define VT_REPORT_FILE_MAX (16u * 1024u * 1024u)

/*
 * Check a report against the bounds of common/bounds.h (counts of disks,
 * NICs, features, map entries; string lengths and UTF-8). The error names the
 * field ("nics[3].features: 200 entries, at most 128").
 */
gboolean vt_report_check_bounds(const VtReport *report, GError **error);

/*
 * Decode @len bytes of a report: canonical JSON (the first non-blank byte is
 * '{', which cannot start a packed Report: field 15 with the deprecated group
 * wire type) or a packed protobuf Report as `virt-tune-agent --once --format pb`
 * writes it; then vt_report_check_bounds().
 */
VtReport *vt_report_decode(const guint8 *data, gsize len, GError **error);
/* vt_report_decode() of a file; errors start with the file name. */
VtReport *vt_report_load(const char *path, GError **error);

G_END_DECLS
