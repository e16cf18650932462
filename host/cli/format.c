/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Values as the CLI writes them: sizes, ages, table cells, and text measured
 * in terminal columns. Nothing here prints (render.c does). */
#include "format.h"

#include <string.h>

static char *
format_bytes(gint64 bytes)
{
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	guint u = 0;

	if (bytes < 0)
		return g_strdup("-");
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "B", bytes);
	return g_strdup_printf(v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static char *
format_age(gint64 s)
{
	if (s < 0)
		return g_strdup("-");
	if (s < 120)
		return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
	if (s < 7200)
		return g_strdup_printf("%" G_GINT64_FORMAT "m", s / 60);
	if (s < 172800)
		return g_strdup_printf("%" G_GINT64_FORMAT "h", s / 3600);
	return g_strdup_printf("%" G_GINT64_FORMAT "d", s / 86400);
}

char *
vt_format_member(JsonObject *o, const char *key, VtColKind kind)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n))
		return g_strdup("-");
	if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
		return g_strdup_printf("%.1f", json_node_get_double(n));
	if (json_node_get_value_type(n) != G_TYPE_INT64)
		return g_strdup("-");
	if (kind == VT_COL_BYTES)
		return format_bytes(json_node_get_int(n));
	if (kind == VT_COL_AGE)
		return format_age(json_node_get_int(n));
	return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
}

static gboolean
member_int(JsonObject *row, const char *key, gint64 *out)
{
	JsonNode *n = key ? json_object_get_member(row, key) : NULL;

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n))
		return FALSE;
	if (json_node_get_value_type(n) == G_TYPE_INT64)
		*out = json_node_get_int(n);
	else if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
		*out = (gint64)json_node_get_double(n);
	else
		return FALSE;
	return TRUE;
}

char *
vt_format_join(JsonArray *arr, const char *sep)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonNode *e = json_array_get_element(arr, i);
		if (s->len > 0)
			g_string_append(s, sep);
		if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
			g_string_append(s, json_node_get_string(e));
		else if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_INT64)
			g_string_append_printf(s, "%" G_GINT64_FORMAT, json_node_get_int(e));
		else if (JSON_NODE_HOLDS_OBJECT(e)) {
			JsonObject *o = json_node_get_object(e);
			/* swap devices and the like: their first string member */
			g_autoptr(GList) members = json_object_get_members(o);
			JsonNode *first = members ? json_object_get_member(o, members->data) : NULL;
			if (first && JSON_NODE_HOLDS_VALUE(first) &&
			    json_node_get_value_type(first) == G_TYPE_STRING)
				g_string_append(s, json_node_get_string(first));
		}
	}
	return g_string_free(s, FALSE);
}

char *
vt_format_cell(JsonObject *row, const VtColumn *col)
{
	JsonNode *n = json_object_get_member(row, col->key);
	gint64 i, j;

	if (col->kind == VT_COL_RATIO) {
		gboolean a = member_int(row, col->key, &i), b = member_int(row, col->key2, &j);
		g_autofree char *num = a ? g_strdup_printf("%" G_GINT64_FORMAT, i) : g_strdup("-");
		g_autofree char *den = b ? g_strdup_printf("%" G_GINT64_FORMAT, j) : g_strdup("-");
		if (!a && !b)
			return g_strdup("-");
		return g_strdup_printf("%s/%s", num, den);
	}
	if (n == NULL || JSON_NODE_HOLDS_NULL(n))
		return g_strdup("-");
	if (JSON_NODE_HOLDS_ARRAY(n))
		return vt_format_join(json_node_get_array(n), ",");
	if (!JSON_NODE_HOLDS_VALUE(n))
		return g_strdup("…");
	switch (col->kind) {
	case VT_COL_BYTES:
		return member_int(row, col->key, &i) ? format_bytes(i) : g_strdup("-");
	case VT_COL_AGE:
		return member_int(row, col->key, &i) ? format_age(i) : g_strdup("-");
	case VT_COL_RATE:
		if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
			return g_strdup_printf("%.1f", json_node_get_double(n));
		break;
	case VT_COL_BOOL:
		if (json_node_get_value_type(n) == G_TYPE_BOOLEAN)
			return g_strdup(json_node_get_boolean(n) ? "yes" : "no");
		break;
	default:
		break;
	}
	switch (json_node_get_value_type(n)) {
	case G_TYPE_STRING:
		return g_strdup(json_node_get_string(n));
	case G_TYPE_INT64:
		return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
	case G_TYPE_DOUBLE:
		return g_strdup_printf("%.1f", json_node_get_double(n));
	case G_TYPE_BOOLEAN:
		return g_strdup(json_node_get_boolean(n) ? "yes" : "no");
	default:
		return g_strdup("?");
	}
}

/* Columns on a terminal: East Asian wide characters take two, combining
 * marks none. */
static glong
char_width(gunichar c)
{
	return g_unichar_iszerowidth(c) ? 0 : g_unichar_iswide(c) ? 2 : 1;
}

glong
vt_text_width(const char *s)
{
	glong w = 0;

	for (const char *p = s; *p; p = g_utf8_next_char(p))
		w += char_width(g_utf8_get_char(p));
	return w;
}

char *
vt_text_fit(const char *s, glong width)
{
	g_autofree char *head = NULL;
	const char *p = s;
	glong used = 0;

	if (vt_text_width(s) <= width)
		return g_strdup(s);
	if (width <= 1)
		return g_strdup("…");
	while (*p && used + char_width(g_utf8_get_char(p)) <= width - 1) {
		used += char_width(g_utf8_get_char(p));
		p = g_utf8_next_char(p);
	}
	head = g_strndup(s, p - s);
	return g_strconcat(head, "…", NULL);
}

void
vt_text_clip(GString *out, const char *text, gsize width)
{
	gsize n = 0;

	for (const char *p = text; *p != '\0' && *p != '\n'; p = g_utf8_next_char(p)) {
		if (n + 3 == width && g_utf8_strlen(p, -1) > 3) {
			g_string_append(out, "...");
			return;
		}
		g_string_append_len(out, p, g_utf8_next_char(p) - p);
		n++;
	}
}

void
vt_text_wrap(GString *out, const char *indent, const char *text)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);
	gsize col = 0, ind = strlen(indent);

	for (guint i = 0; words[i] != NULL; i++) {
		gsize len = g_utf8_strlen(words[i], -1);

		if (*words[i] == '\0')
			continue;
		if (col == 0) {
			g_string_append(out, indent);
			col = ind;
		} else if (col + 1 + len > VT_TABLE_WIDTH) {
			g_string_append_c(out, '\n');
			g_string_append(out, indent);
			col = ind;
		} else {
			g_string_append_c(out, ' ');
			col++;
		}
		if (col + len > VT_TABLE_WIDTH) {
			vt_text_clip(out, words[i], VT_TABLE_WIDTH - col);
			col = VT_TABLE_WIDTH;
		} else {
			g_string_append(out, words[i]);
			col += len;
		}
	}
	if (col > 0)
		g_string_append_c(out, '\n');
}
