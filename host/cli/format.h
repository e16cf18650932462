/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Values as `virt-tune` writes them; nothing here prints (render.h does). */

#define VT_TABLE_WIDTH 100

typedef enum {
	VT_COL_TEXT,
	VT_COL_INT,
	VT_COL_BYTES, /* 1.5G: binary units, for a table only */
	VT_COL_RATE,  /* one decimal */
	VT_COL_BOOL,  /* yes/no */
	VT_COL_LIST,  /* an array of strings, comma-joined */
	VT_COL_AGE,   /* seconds as 5s / 3m / 2h / 4d */
	VT_COL_RATIO, /* "key/key2": two ints as 1/4 */
} VtColKind;

typedef struct {
	const char *key;    /* member of each row */
	const char *header; /* column title */
	VtColKind kind;
	const char *key2; /* VT_COL_RATIO's denominator */
} VtColumn;

/* A number member of @o as a table shows it: "%.1f" for a double, bytes or
 * an age by @kind for an integer, "-" for anything else. */
char *vt_format_member(JsonObject *o, const char *key, VtColKind kind);
/* @row's cell in column @col of a table ("-" when it has none). */
char *vt_format_cell(JsonObject *row, const VtColumn *col);
/* An array's strings and integers (an object: its first string member),
 * joined with @sep. */
char *vt_format_join(JsonArray *array, const char *sep);

/* Terminal columns: East Asian wide characters take two, combining marks none. */
glong vt_text_width(const char *s);
/* @s cut to @width columns, with "…" when cut. */
char *vt_text_fit(const char *s, glong width);
/* The first line of @text, at most @width characters ("..." when cut). */
void vt_text_clip(GString *out, const char *text, gsize width);
/* @text's words on lines of at most VT_TABLE_WIDTH columns, each after @indent. */
void vt_text_wrap(GString *out, const char *indent, const char *text);

G_END_DECLS
