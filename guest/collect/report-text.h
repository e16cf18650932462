/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A copy of @text fit for the report: valid UTF-8 (invalid sequences become
 * U+FFFD), no control characters (become '?'), at most VT_STRING_MAX bytes
 * cut on a character boundary. @changed (may be NULL) tells whether anything
 * was replaced or cut. Allocated with malloc, as the report is freed with free().
 */
char *vt_report_string(const char *text, gssize len, gboolean *changed);

/* Returns a malloc'd string formatted by @format, bounded like vt_report_string(). */
char *vt_report_printf(const char *format, ...) G_GNUC_PRINTF(1, 2);

G_END_DECLS
