/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "render.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "text.h"

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

static char *
for_terminal(const char *s)
{
	return vt_text_escape(s ? s : "-", FALSE);
}

static const char *
severity_color(const char *severity)
{
	if (g_strcmp0(severity, "critical") == 0)
		return "\033[31m";
	if (g_strcmp0(severity, "warning") == 0)
		return "\033[33m";
	return "\033[36m";
}

static const char *
cell_color(const VtColumn *col, const char *text)
{
	if (strcmp(col->key, "agent") == 0)
		return strcmp(text, "connected") == 0 ? "\033[32m" : "\033[33m";
	if (strcmp(col->key, "severity") == 0)
		return severity_color(text);
	return NULL;
}

/* One cell cut to @width and padded to it; the last one ends the line. */
static void
put_cell(FILE *out, const char *text, glong width, const char *color, gboolean last)
{
	g_autofree char *f = vt_text_fit(text, width);

	fprintf(out, "%s%s%s", color ? color : "", f, color ? "\033[0m" : "");
	if (!last)
		fprintf(out, "%*s", (int)(width - vt_text_width(f) + 2), "");
	else
		fputc('\n', out);
}

static void
render_table(FILE *out, JsonArray *rows, const VtColumn *cols, gsize n, gboolean color)
{
	guint nrows = json_array_get_length(rows);
	g_autofree glong *width = g_new0(glong, n);
	g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
	glong total;

	for (gsize c = 0; c < n; c++)
		width[c] = vt_text_width(cols[c].header);
	for (guint r = 0; r < nrows; r++) {
		JsonNode *rn = json_array_get_element(rows, r);
		for (gsize c = 0; c < n; c++) {
			g_autofree char *raw =
				JSON_NODE_HOLDS_OBJECT(rn)
					? vt_format_cell(json_node_get_object(rn), &cols[c])
					: g_strdup("?");
			/* Guest-supplied text: no escape sequence reaches the terminal. */
			char *t = for_terminal(raw);
			width[c] = MAX(width[c], vt_text_width(t));
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
	for (gsize c = 0; c < n; c++)
		put_cell(out, cols[c].header, width[c], color ? "\033[1m" : NULL, c + 1 == n);
	if (nrows == 0)
		fputs("(none)\n", out);
	for (guint r = 0; r < nrows; r++)
		for (gsize c = 0; c < n; c++) {
			const char *t = cells->pdata[r * n + c];
			put_cell(out, t, width[c], color ? cell_color(&cols[c], t) : NULL,
				 c + 1 == n);
		}
}

static void
csv_field(GString *line, const char *raw)
{
	/* RFC 4180 keeps a line break inside a quoted field; nothing else raw */
	g_autofree char *s = vt_text_escape(raw, TRUE);

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
				text = vt_format_join(json_node_get_array(m), ";");
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

void
vt_render_section(FILE *out, VtFormat format, const char *title, gboolean first, JsonNode *rows,
		  const VtColumn *columns, gsize n_columns, gboolean color)
{
	if (format == VT_FORMAT_TABLE)
		fprintf(out, "%s%s\n", first ? "" : "\n", title);
	vt_render_rows(out, format, rows, columns, n_columns, color);
}

/* ------------------------------------------------------------ blocks, text */

void
vt_render_fields(FILE *out, const char *title, const char *indent, int key_width,
		 const VtField *fields, gsize n_fields)
{
	g_autofree char *head = for_terminal(title);

	fprintf(out, "%s\n", head);
	for (gsize i = 0; i < n_fields; i++) {
		g_autofree char *value = for_terminal(fields[i].value);
		if (fields[i].key == NULL)
			fprintf(out, "%s%s\n", indent, value);
		else
			fprintf(out, "%s%-*s %s\n", indent, key_width, fields[i].key, value);
	}
}

void
vt_render_text(FILE *out, const char *text)
{
	g_autofree char *clean = vt_text_escape(text, TRUE);

	fputs(clean, out);
}

void
vt_render_clear(FILE *out)
{
	fputs("\033[H\033[2J", out);
}

void
vt_render_error(const char *format, ...)
{
	va_list ap;
	g_autofree char *message = NULL;
	g_autofree char *clean = NULL;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	clean = vt_text_escape(message, FALSE);
	g_printerr("virt-tune: %s\n", clean);
}

void
vt_render_usage(GOptionContext *context)
{
	g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);

	g_printerr("%s", help);
}

/* ------------------------------------------------------------ recommendations */

#define VT_RECS_INDENT 16 /* analyze: severity and target columns with their spaces */

static const char *
member_text(JsonObject *o, const char *key)
{
	return json_object_get_string_member_with_default(o, key, "?");
}

/* One recommendation: its row, then every line of its change (a clipped
 * command or XML fragment is useless to copy). */
static void
append_recommendation(GString *out, JsonObject *rec, VtRecsLayout layout, gboolean color)
{
	g_autofree char *sev = for_terminal(member_text(rec, "severity"));
	g_autofree char *target = for_terminal(member_text(rec, "target"));
	g_autofree char *id = for_terminal(member_text(rec, "id"));
	g_auto(GStrv) lines = g_strsplit(
		json_object_get_string_member_with_default(rec, "command", ""), "\n", 40);

	if (layout == VT_RECS_FLEET) {
		g_autofree char *domain = for_terminal(member_text(rec, "domain"));
		g_string_append_printf(out, "%-16.16s %s%-8s%s %-6s %s\n", domain,
				       color ? severity_color(sev) : "", sev,
				       color ? "\033[0m" : "", target, id);
	} else {
		g_string_append_printf(out, "%-8s %-6s ", sev, target);
		vt_text_clip(out, id, VT_TABLE_WIDTH - VT_RECS_INDENT);
		g_string_append_c(out, '\n');
	}
	if (json_object_has_member(rec, "undone")) {
		g_autofree char *undone = for_terminal(member_text(rec, "undone"));
		g_string_append_printf(out, "%*s%s\n", layout == VT_RECS_FLEET ? 17 : 16, "",
				       undone);
	}
	for (guint k = 0; lines[k] != NULL; k++) {
		g_autofree char *line = NULL;
		if (*lines[k] == '\0')
			continue;
		line = for_terminal(lines[k]);
		if (layout == VT_RECS_FLEET)
			g_string_append_printf(out, "%17s%s\n", "", line);
		else
			vt_text_wrap(out, "                ", line);
	}
}

static void
append_skipped(GString *out, JsonArray *skipped)
{
	guint n = skipped ? json_array_get_length(skipped) : 0;

	if (n > 0)
		g_string_append(out, "\nNot evaluated:\n");
	for (guint i = 0; i < n; i++) {
		JsonObject *s = json_array_get_object_element(skipped, i);
		g_autofree char *line =
			g_strdup_printf("%s: %s", member_text(s, "rule"), member_text(s, "reason"));
		g_autofree char *clean = for_terminal(line);
		vt_text_wrap(out, "  ", clean);
	}
}

void
vt_render_recommendations(FILE *out, JsonObject *result, VtRecsLayout layout, gboolean color)
{
	JsonArray *recs = json_object_get_array_member(result, "recommendations");
	guint n = recs ? json_array_get_length(recs) : 0;
	g_autoptr(GString) text = g_string_new(NULL);

	if (n == 0)
		g_string_append(text, "No recommendations.\n");
	else if (layout == VT_RECS_FLEET)
		g_string_append_printf(text, "%-16s %-8s %-6s %s\n", "DOMAIN", "SEVERITY", "TARGET",
				       "ID");
	else
		g_string_append_printf(text, "%-8s %-6s %s\n", "SEVERITY", "TARGET", "ID / CHANGE");
	for (guint i = 0; i < n; i++)
		append_recommendation(text, json_array_get_object_element(recs, i), layout, color);
	if (layout == VT_RECS_ANALYSIS)
		append_skipped(text, json_object_get_array_member(result, "skipped"));
	else if (n > 0)
		g_string_append(text,
				"\nApply a guest change with `virt-tune apply DOMAIN ID` (try "
				"--dry-run first);\n--format json adds each recommendation's "
				"rationale and evidence.\n");
	fputs(text->str, out);
}
