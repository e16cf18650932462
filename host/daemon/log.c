/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include "text.h"

/* GLib passes a handful of fields (MESSAGE, PRIORITY, GLIB_DOMAIN, CODE_*,
 * the caller's own): more than this many are logged as they are. */
#define VT_LOG_MAX_FIELDS 32

GLogWriterOutput
vt_daemon_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
		     gpointer user_data)
{
	GLogField copy[VT_LOG_MAX_FIELDS] = {{0}};
	char *escaped[VT_LOG_MAX_FIELDS] = {NULL};
	GLogWriterOutput out;

	if (n_fields > VT_LOG_MAX_FIELDS)
		return g_log_writer_default(level, fields, n_fields, user_data);
	for (gsize i = 0; i < n_fields; i++) {
		copy[i] = fields[i];
		/* a length of -1 marks a NUL-terminated string; others are binary */
		if (fields[i].length < 0 && fields[i].value != NULL) {
			escaped[i] = vt_text_escape(fields[i].value, FALSE);
			copy[i].value = escaped[i];
		}
	}
	out = g_log_writer_default(level, copy, n_fields, user_data);
	for (gsize i = 0; i < n_fields; i++)
		g_free(escaped[i]);
	return out;
}
