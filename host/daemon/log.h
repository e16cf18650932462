/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * virt-tuned's log writer: GLib's default one (journald or stderr), after
 * every text field has passed vt_text_escape() (common/text.h). Log lines
 * carry what guests wrote (names, reasons, errors); escaped, a newline cannot
 * forge a line and an escape sequence cannot reach the terminal that follows
 * the log. Installed once with g_log_set_writer_func().
 */
GLogWriterOutput vt_daemon_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
				      gpointer user_data);

G_END_DECLS
