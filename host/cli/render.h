/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include <json-glib/json-glib.h>

#include "format.h"

G_BEGIN_DECLS

/*
 * Everything `virt-tune` prints goes through here: the commands fetch, this
 * file formats. Text that reaches a terminal or a CSV file passes
 * vt_text_escape() (common/text.h) on the way: control characters, invalid
 * UTF-8 and bidi or format characters come out as visible escapes ("\x1b",
 * "\u202e"), so that nothing a guest sends can drive the operator's terminal.
 */

typedef enum {
	VT_FORMAT_TABLE,
	VT_FORMAT_JSON,
	VT_FORMAT_CSV,
} VtFormat;

/* NULL or "table", "json", "csv". */
gboolean vt_format_parse(const char *text, VtFormat *format);

/* Colour on a terminal, unless NO_COLOR is set. */
gboolean vt_use_color(FILE *out);

/*
 * Print @rows, a JSON array of objects: a table of @columns fitted to
 * VT_TABLE_WIDTH columns (cells cut with "…"), colour only when @color; CSV
 * with a header of every scalar member of the rows (arrays joined with ';'),
 * RFC 4180 quoting; or JSON as is. Anything but an array goes out as JSON.
 */
void vt_render_rows(FILE *out, VtFormat format, JsonNode *rows, const VtColumn *columns,
		    gsize n_columns, gboolean color);
/* The same under @title (tables only), a blank line before all but the first. */
void vt_render_section(FILE *out, VtFormat format, const char *title, gboolean first,
		       JsonNode *rows, const VtColumn *columns, gsize n_columns, gboolean color);
void vt_render_json(FILE *out, JsonNode *node);

/* One line of a key/value block; a NULL @key makes @value a line of its own. */
typedef struct {
	const char *key;
	const char *value; /* NULL prints "-" */
} VtField;

/* @title on a line, then "@indent@key @value" with keys padded to @key_width. */
void vt_render_fields(FILE *out, const char *title, const char *indent, int key_width,
		      const VtField *fields, gsize n_fields);

typedef enum {
	/* `recommend`: a fleet's, with a DOMAIN column, each line of a change as
	 * it is, and how to apply one. */
	VT_RECS_FLEET,
	/* `analyze`: one guest's, each change wrapped to the table's width, and
	 * the rules that could not be evaluated. */
	VT_RECS_ANALYSIS,
} VtRecsLayout;

/* The table form of {"recommendations": […], "skipped": […]}: a row per
 * recommendation with its change in full below it. */
void vt_render_recommendations(FILE *out, JsonObject *result, VtRecsLayout layout, gboolean color);

/* @text as it is, but escaped (its line breaks kept). */
void vt_render_text(FILE *out, const char *text);
/* Clear a terminal and put the cursor at the top. */
void vt_render_clear(FILE *out);

/*
 * "virt-tune: MESSAGE" on stderr through g_printerr(), like GOption's own
 * messages and --help (in the C locale that turns non-ASCII into '?'; the
 * rest of the output has always been UTF-8 as it is).
 */
void vt_render_error(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* @context's --help on stderr, after a wrong number of arguments. */
void vt_render_usage(GOptionContext *context);

G_END_DECLS
