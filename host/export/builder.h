/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "guest.h"

G_BEGIN_DECLS

/*
 * Members of the object a JsonBuilder is in, for every JSON reply of the
 * daemon: an absent value is a JSON null, never a left-out key, so that a
 * reply always has the same keys.
 */
void vt_view_add_str(JsonBuilder *b, const char *key, const char *value);
void vt_view_add_int(JsonBuilder *b, const char *key, gboolean has, gint64 value);
void vt_view_add_double(JsonBuilder *b, const char *key, gboolean has, double value);
void vt_view_add_bool(JsonBuilder *b, const char *key, gboolean has, gboolean value);
/* An array of @n strings (never null). */
void vt_view_add_strv(JsonBuilder *b, const char *key, char *const *values, gsize n);
/* @time_ms (realtime) as ISO 8601 UTC to the second. */
void vt_view_add_time(JsonBuilder *b, const char *key, gint64 time_ms);
/* What every per-guest object starts with: domain, agent, report_age_s. */
void vt_view_add_guest(JsonBuilder *b, const VtGuest *guest, gint64 now_ms);

G_END_DECLS
