/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON text: the writer (numbers as the schema means them) and the guarded parser. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json-private.h"
#include "message.h"

/* ------------------------------------------------------------ text */

/* Characters a terminal acts on or hides, written as \uXXXX (a pair of
 * surrogates beyond the BMP) although JSON allows them raw: C1 controls, bidi
 * and other format characters, line and paragraph separators. Whoever pipes
 * JSON to a terminal sees them, and the strings parse back the same. */
static gboolean
json_escapes(gunichar c)
{
	GUnicodeType t;

	if (c >= 0x80 && c < 0xa0)
		return TRUE;
	t = g_unichar_type(c);
	return t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR ||
	       t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

/* The character at @p, escaped when it must be; the bytes it took. */
static gsize
write_unichar(GString *out, const char *p)
{
	gunichar c = g_utf8_get_char_validated(p, (gssize)strnlen(p, 4));
	gsize len;

	if (c == (gunichar)-1 || c == (gunichar)-2) {
		g_string_append(out, "\\ufffd"); /* a byte JSON cannot carry */
		return 1;
	}
	len = (gsize)(g_utf8_next_char(p) - p);
	if (!json_escapes(c))
		g_string_append_len(out, p, (gssize)len);
	else if (c < 0x10000)
		g_string_append_printf(out, "\\u%04x", c);
	else
		g_string_append_printf(out, "\\u%04x\\u%04x", 0xd800 + ((c - 0x10000) >> 10),
				       0xdc00 + ((c - 0x10000) & 0x3ff));
	return len;
}

/*
 * Our own writer: JSON-GLib 1.6's generator appends ".0" to doubles printed in
 * exponent form ("1e-300.0"), which is not JSON.
 */
static void
write_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				g_string_append_printf(out, "\\u%04x", *p);
			} else if (*p < 0x80) {
				g_string_append_c(out, (char)*p);
			} else {
				p += write_unichar(out, (const char *)p) - 1;
			}
		}
	}
	g_string_append_c(out, '"');
}

static void
write_double(GString *out, double d)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	/* the shortest of %.15g/%.17g that reads back exactly */
	g_ascii_formatd(buf, sizeof(buf), "%.15g", d);
	if (g_ascii_strtod(buf, NULL) != d)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", d);
	g_string_append(out, buf);
	if (strpbrk(buf, ".eE") == NULL)
		g_string_append(out, ".0");
}

static void
write_indent(GString *out, gboolean pretty, guint level)
{
	if (!pretty)
		return;
	g_string_append_c(out, '\n');
	for (guint i = 0; i < level; i++)
		g_string_append(out, "  ");
}

static void
write_node(GString *out, JsonNode *node, gboolean pretty, guint level)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_NULL:
		g_string_append(out, "null");
		return;
	case JSON_NODE_OBJECT: {
		JsonObject *obj = json_node_get_object(node);
		g_autoptr(GList) members = json_object_get_members(obj);

		if (members == NULL) {
			g_string_append(out, "{}");
			return;
		}
		g_string_append_c(out, '{');
		for (GList *l = members; l != NULL; l = l->next) {
			write_indent(out, pretty, level + 1);
			write_string(out, l->data);
			g_string_append(out, pretty ? ": " : ":");
			write_node(out, json_object_get_member(obj, l->data), pretty, level + 1);
			if (l->next != NULL)
				g_string_append_c(out, ',');
		}
		write_indent(out, pretty, level);
		g_string_append_c(out, '}');
		return;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *arr = json_node_get_array(node);
		guint n = json_array_get_length(arr);

		if (n == 0) {
			g_string_append(out, "[]");
			return;
		}
		g_string_append_c(out, '[');
		for (guint i = 0; i < n; i++) {
			write_indent(out, pretty, level + 1);
			write_node(out, json_array_get_element(arr, i), pretty, level + 1);
			if (i + 1 < n)
				g_string_append_c(out, ',');
		}
		write_indent(out, pretty, level);
		g_string_append_c(out, ']');
		return;
	}
	case JSON_NODE_VALUE:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_INT64:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
		break;
	case G_TYPE_DOUBLE:
		write_double(out, json_node_get_double(node));
		break;
	case G_TYPE_BOOLEAN:
		g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
		break;
	case G_TYPE_STRING:
		write_string(out, json_node_get_string(node));
		break;
	default:
		g_string_append(out, "null");
		break;
	}
}

char *
vt_json_node_to_string(JsonNode *node, gboolean pretty)
{
	GString *out = g_string_sized_new(256);

	write_node(out, node, pretty, 0);
	if (pretty)
		g_string_append_c(out, '\n');
	return g_string_free(out, FALSE);
}

char *
vt_json_message_to_string(const ProtobufCMessage *msg, gboolean pretty, GError **error)
{
	g_autoptr(JsonNode) node = vt_json_from_message(msg, error);

	if (node == NULL)
		return NULL;
	return vt_json_node_to_string(node, pretty);
}

gboolean
vt_json_check_depth(const char *text, gsize len, guint max_depth, GError **error)
{
	guint depth = 0;
	gboolean in_string = FALSE;

	for (gsize i = 0; i < len && text[i] != '\0'; i++) {
		char ch = text[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = FALSE;
		} else if (ch == '"') {
			in_string = TRUE;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max_depth) {
				g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
					    "JSON nested deeper than %u levels (at byte "
					    "%" G_GSIZE_FORMAT ")",
					    max_depth, i);
				return FALSE;
			}
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return TRUE;
}

/* "line L, column C" of byte @at; the returned string is static. */
static const char *
where(const char *text, gsize at)
{
	static __thread char buf[64];
	guint line = 1, column = 1;

	for (gsize i = 0; i < at; i++, column++) {
		if (text[i] == '\n') {
			line++;
			column = 0;
		}
	}
	g_snprintf(buf, sizeof(buf), "line %u, column %u", line, column);
	return buf;
}

/* An integer literal outside 64 bits: JSON-GLib would wrap it silently. */
static gboolean
check_number(const char *text, gsize len, gsize *i, GError **error)
{
	gsize start = *i, end = start;
	gboolean integer = TRUE;
	char buf[32];

	while (end < len && (g_ascii_isdigit(text[end]) || strchr("+-.eE", text[end]) != NULL)) {
		integer = integer && (g_ascii_isdigit(text[end]) || text[end] == '-');
		end++;
	}
	*i = end - 1;
	if (!integer)
		return TRUE;
	if (end - start < sizeof(buf)) {
		memcpy(buf, text + start, end - start);
		buf[end - start] = '\0';
		errno = 0;
		(void)g_ascii_strtoll(buf, NULL, 10);
		if (errno == 0)
			return TRUE;
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
		    "%s: the number %.*s%s is outside the 64-bit integer range", where(text, start),
		    (int)MIN(end - start, 24), text + start, end - start > 24 ? "..." : "");
	return FALSE;
}

gboolean
vt_json_check_text(const char *text, gsize len, guint max_depth, GError **error)
{
	if (memchr(text, '\0', len) != NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "a NUL byte in JSON text");
		return FALSE;
	}
	if (!vt_json_check_depth(text, len, max_depth, error))
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (text[i] == '"') {
			/* a string: only \u0000 matters, C strings cannot hold it */
			for (i++; i < len && text[i] != '"'; i++) {
				if (text[i] != '\\')
					continue;
				if (len - i >= 6 &&
				    g_ascii_strncasecmp(text + i, "\\u0000", 6) == 0) {
					g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
						    "%s: a string holds \\u0000 (a NUL character)",
						    where(text, i));
					return FALSE;
				}
				i++;
			}
		} else if ((text[i] == '-' || g_ascii_isdigit(text[i])) &&
			   !check_number(text, len, &i, error)) {
			return FALSE;
		}
	}
	return TRUE;
}

ProtobufCMessage *
vt_json_message_from_string(const ProtobufCMessageDescriptor *desc, const char *text, gssize len,
			    GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) local = NULL;
	JsonNode *root;

	/* JSON-GLib's parser recurses once per level: a file of a few hundred
	 * KB of "[[[[" overflows the stack before any error comes back. */
	if (!vt_json_check_text(text, len < 0 ? strlen(text) : (gsize)len, VT_JSON_MAX_DEPTH,
				error))
		return NULL;
	if (!json_parser_load_from_data(parser, text, len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "not valid JSON: %s",
			    local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "empty JSON document");
		return NULL;
	}
	return vt_json_to_message(desc, root, error);
}
