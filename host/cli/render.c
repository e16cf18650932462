/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "render.h"

#include <string.h>
#include <unistd.h>

#include "json.h"

gboolean
vt_format_parse(const char *text, VtFormat *format)
{
	if (text == NULL || strcmp(text, "table") == 0)
		*format = VT_FORMAT_TABLE;
	else if (strcmp(text, "json") == 0)
		*format = VT_FORMAT_JSON;
	else if (strcmp(text, "csv") == 0)
		*format = VT_FORMAT_CSV;
	else
		return FALSE;
	return TRUE;
}

gboolean
vt_use_color(FILE *out)
{
	const char *no = g_getenv("NO_COLOR");
	return isatty(fileno(out)) && (no == NULL || *no == '\0');
}

char *
vt_format_bytes_short(gint64 bytes)
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

char *
vt_format_age(gint64 s)
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

static char *
join_array(JsonArray *arr, const char *sep)
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

/* Cell text for a table. */
static char *
cell_text(JsonObject *row, const VtColumn *col)
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
		return join_array(json_node_get_array(n), ",");
	if (!JSON_NODE_HOLDS_VALUE(n))
		return g_strdup("…");
	switch (col->kind) {
	case VT_COL_BYTES:
		return member_int(row, col->key, &i) ? vt_format_bytes_short(i) : g_strdup("-");
	case VT_COL_AGE:
		return member_int(row, col->key, &i) ? vt_format_age(i) : g_strdup("-");
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

static const char *
cell_color(const VtColumn *col, const char *text)
{
	if (strcmp(col->key, "agent") == 0)
		return strcmp(text, "connected") == 0 ? "\033[32m" : "\033[33m";
	if (strcmp(col->key, "severity") == 0) {
		if (strcmp(text, "critical") == 0)
			return "\033[31m";
		if (strcmp(text, "warning") == 0)
			return "\033[33m";
		return "\033[36m";
	}
	return NULL;
}

/* Columns on a terminal: East Asian wide characters take two, combining
 * marks none. */
static glong
char_width(gunichar c)
{
	return g_unichar_iszerowidth(c) ? 0 : g_unichar_iswide(c) ? 2 : 1;
}

static glong
text_width(const char *s)
{
	glong w = 0;

	for (const char *p = s; *p; p = g_utf8_next_char(p))
		w += char_width(g_utf8_get_char(p));
	return w;
}

char *
vt_text_for_terminal(const char *s)
{
	GString *out = g_string_sized_new(strlen(s));

	if (!g_utf8_validate(s, -1, NULL))
		return g_utf8_make_valid(s, -1);
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c))
			g_string_append_unichar(out, 0xFFFD);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
	return g_string_free(out, FALSE);
}

/* @s cut to @width columns, with "…" when cut. */
static char *
fit(const char *s, glong width)
{
	g_autofree char *head = NULL;
	const char *p = s;
	glong used = 0;

	if (text_width(s) <= width)
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

static void
render_table(FILE *out, JsonArray *rows, const VtColumn *cols, gsize n, gboolean color)
{
	guint nrows = json_array_get_length(rows);
	g_autofree glong *width = g_new0(glong, n);
	g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
	glong total;

	for (gsize c = 0; c < n; c++)
		width[c] = text_width(cols[c].header);
	for (guint r = 0; r < nrows; r++) {
		JsonNode *rn = json_array_get_element(rows, r);
		for (gsize c = 0; c < n; c++) {
			g_autofree char *raw =
				JSON_NODE_HOLDS_OBJECT(rn)
					? cell_text(json_node_get_object(rn), &cols[c])
					: g_strdup("?");
			/* Guest-supplied text: no escape sequence reaches the terminal. */
			char *t = vt_text_for_terminal(raw);
			width[c] = MAX(width[c], text_width(t));
			g_ptr_array_add(cells, t);
		}
	}
	/* Shrink the widest column until the table fits. */
	for (;;) {
		gsize widest = 0;
		total = 0;
		for (gsize c = 0; c < n; c++) {
			total += width[c] + (c + 1 < n ? 2 : 0);
			if (width[c] > width[widest])
				widest = c;
		}
		if (total <= VT_TABLE_WIDTH || width[widest] <= 6)
			break;
		width[widest]--;
	}
	for (gsize c = 0; c < n; c++) {
		g_autofree char *h = fit(cols[c].header, width[c]);
		gboolean last = c + 1 == n;
		fprintf(out, "%s%s%s", color ? "\033[1m" : "", h, color ? "\033[0m" : "");
		if (!last)
			fprintf(out, "%*s", (int)(width[c] - text_width(h) + 2), "");
		else
			fputc('\n', out);
	}
	if (nrows == 0)
		fputs("(none)\n", out);
	for (guint r = 0; r < nrows; r++) {
		for (gsize c = 0; c < n; c++) {
			const char *t = cells->pdata[r * n + c];
			g_autofree char *f = fit(t, width[c]);
			const char *col = color ? cell_color(&cols[c], t) : NULL;
			gboolean last = c + 1 == n;
			fprintf(out, "%s%s%s", col ? col : "", f, col ? "\033[0m" : "");
			if (!last)
				fprintf(out, "%*s", (int)(width[c] - text_width(f) + 2), "");
			else
				fputc('\n', out);
		}
	}
}

static void
csv_field(GString *line, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		g_string_append(line, s);
		return;
	}
	g_string_append_c(line, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			g_string_append_c(line, '"');
		g_string_append_c(line, *p);
	}
	g_string_append_c(line, '"');
}

static void
render_csv(FILE *out, JsonArray *rows)
{
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) line = g_string_new(NULL);
	guint nrows = json_array_get_length(rows);

	/* every scalar or array member, in first-seen order */
	for (guint r = 0; r < nrows; r++) {
		JsonNode *rn = json_array_get_element(rows, r);
		g_autoptr(GList) members = NULL;
		if (!JSON_NODE_HOLDS_OBJECT(rn))
			continue;
		members = json_object_get_members(json_node_get_object(rn));
		for (GList *l = members; l; l = l->next) {
			JsonNode *m = json_object_get_member(json_node_get_object(rn), l->data);
			if (JSON_NODE_HOLDS_OBJECT(m))
				continue;
			if (!g_ptr_array_find_with_equal_func(keys, l->data, g_str_equal, NULL))
				g_ptr_array_add(keys, g_strdup(l->data));
		}
	}
	for (guint k = 0; k < keys->len; k++) {
		if (k > 0)
			g_string_append_c(line, ',');
		csv_field(line, keys->pdata[k]);
	}
	fprintf(out, "%s\r\n", line->str);
	for (guint r = 0; r < nrows; r++) {
		JsonNode *rn = json_array_get_element(rows, r);
		JsonObject *row = JSON_NODE_HOLDS_OBJECT(rn) ? json_node_get_object(rn) : NULL;
		g_string_truncate(line, 0);
		for (guint k = 0; k < keys->len; k++) {
			JsonNode *m = row ? json_object_get_member(row, keys->pdata[k]) : NULL;
			g_autofree char *text = NULL;
			if (k > 0)
				g_string_append_c(line, ',');
			if (m == NULL || JSON_NODE_HOLDS_NULL(m))
				continue;
			if (JSON_NODE_HOLDS_ARRAY(m))
				text = join_array(json_node_get_array(m), ";");
			else if (json_node_get_value_type(m) == G_TYPE_STRING)
				text = g_strdup(json_node_get_string(m));
			else if (json_node_get_value_type(m) == G_TYPE_INT64)
				text = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(m));
			else if (json_node_get_value_type(m) == G_TYPE_DOUBLE)
				text = g_strdup_printf("%.3f", json_node_get_double(m));
			else if (json_node_get_value_type(m) == G_TYPE_BOOLEAN)
				text = g_strdup(json_node_get_boolean(m) ? "true" : "false");
			if (text)
				csv_field(line, text);
		}
		fprintf(out, "%s\r\n", line->str);
	}
}

void
vt_render_json(FILE *out, JsonNode *node)
{
	g_autofree char *text = vt_json_node_to_string(node, TRUE);
	fputs(text, out);
}

void
vt_render_rows(FILE *out, VtFormat format, JsonNode *rows, const VtColumn *columns, gsize n_columns,
	       gboolean color)
{
	if (format == VT_FORMAT_JSON || rows == NULL || !JSON_NODE_HOLDS_ARRAY(rows)) {
		vt_render_json(out, rows);
		return;
	}
	if (format == VT_FORMAT_CSV)
		render_csv(out, json_node_get_array(rows));
	else
		render_table(out, json_node_get_array(rows), columns, n_columns, color);
}
