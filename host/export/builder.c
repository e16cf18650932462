/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "builder.h"

/* Name the member; with no value, write null and return FALSE. */
static gboolean
member(JsonBuilder *b, const char *key, gboolean has)
{
	json_builder_set_member_name(b, key);
	if (!has)
		json_builder_add_null_value(b);
	return has;
}

void
vt_view_add_str(JsonBuilder *b, const char *key, const char *value)
{
	if (member(b, key, value != NULL))
		json_builder_add_string_value(b, value);
}

void
vt_view_add_int(JsonBuilder *b, const char *key, gboolean has, gint64 value)
{
	if (member(b, key, has))
		json_builder_add_int_value(b, value);
}

void
vt_view_add_double(JsonBuilder *b, const char *key, gboolean has, double value)
{
	if (member(b, key, has))
		json_builder_add_double_value(b, value);
}

void
vt_view_add_bool(JsonBuilder *b, const char *key, gboolean has, gboolean value)
{
	if (member(b, key, has))
		json_builder_add_boolean_value(b, value);
}

void
vt_view_add_strv(JsonBuilder *b, const char *key, char *const *values, gsize n)
{
	json_builder_set_member_name(b, key);
	json_builder_begin_array(b);
	for (gsize i = 0; i < n; i++)
		json_builder_add_string_value(b, values[i]);
	json_builder_end_array(b);
}

void
vt_view_add_time(JsonBuilder *b, const char *key, gint64 time_ms)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(time_ms / 1000);
	g_autofree char *iso = t != NULL ? g_date_time_format_iso8601(t) : NULL;

	vt_view_add_str(b, key, iso);
}

void
vt_view_add_guest(JsonBuilder *b, const VtGuest *g, gint64 now_ms)
{
	vt_view_add_str(b, "domain", g->name);
	vt_view_add_str(b, "agent", vt_guest_agent_state(g));
	vt_view_add_int(b, "report_age_s", vt_guest_has_report(g),
			vt_guest_has_report(g) ? MAX(0, (now_ms - g->report_at_ms) / 1000) : -1);
}
