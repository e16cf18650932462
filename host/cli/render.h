/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* How `virt-tune` prints rows (a JSON array of objects from the daemon). */
typedef enum {
	VT_FORMAT_TABLE,
	VT_FORMAT_JSON,
	VT_FORMAT_CSV,
} VtFormat;

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

#define VT_TABLE_WIDTH 100

gboolean vt_format_parse(const char *text, VtFormat *format);

/*
 * Print @rows: a table of @columns fitted to VT_TABLE_WIDTH columns (cells
 * cut with "…"), colour only when @color; CSV with a header of every scalar
 * member of the rows (arrays joined with ';'), RFC 4180 quoting; or JSON as is.
 */
void vt_render_rows(FILE *out, VtFormat format, JsonNode *rows, const VtColumn *columns,
		    gsize n_columns, gboolean color);
void vt_render_json(FILE *out, JsonNode *node);

/* 1536 -> "1.5K"; binary units. */
char *vt_format_bytes_short(gint64 bytes);
/* 90 -> "1m"; -1 -> "-". */
char *vt_format_age(gint64 seconds);

/* @s with control characters (escape sequences, CR, BS, C1) replaced by
 * U+FFFD and invalid UTF-8 repaired, for printing to a terminal. */
char *vt_text_for_terminal(const char *s);

/* Colour on a terminal, unless NO_COLOR is set. */
gboolean vt_use_color(FILE *out);

G_END_DECLS
