/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "text.h"

#include <string.h>

/* Characters that change what the text around them looks like without
 * showing themselves: bidi overrides and isolates (U+202A-E, U+2066-9), marks
 * (U+200E/F, U+061C), zero-width ones, and line or paragraph separators. */
static gboolean
is_invisible(gunichar c)
{
	GUnicodeType t = g_unichar_type(c);

	return t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR ||
	       t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

static void
append_c0(GString *out, guchar b)
{
	if (b == '\n')
		g_string_append(out, "\\n");
	else if (b == '\r')
		g_string_append(out, "\\r");
	else if (b == '\t')
		g_string_append(out, "\\t");
	else
		g_string_append_printf(out, "\\x%02x", b);
}

char *
vt_text_escape(const char *s, gboolean keep_newlines)
{
	const char *p = s ? s : "";
	const char *end = p + strlen(p);
	GString *out = g_string_sized_new((gsize)(end - p));

	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_printf(out, "\\x%02x", (guchar)*p);
			p++;
			continue;
		}
		if (c == '\n' && keep_newlines)
			g_string_append_c(out, '\n');
		else if (c < 0x20 || c == 0x7f)
			append_c0(out, (guchar)c);
		else if ((c >= 0x80 && c < 0xa0) || is_invisible(c))
			g_string_append_printf(out, "\\u%04x", c);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	return g_string_free(out, FALSE);
}

static gboolean
is_bare(char c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("_.,:=@%+/-", c) != NULL);
}

char *
vt_shell_quote(const char *word)
{
	const char *w = word ? word : "";
	GString *out;

	if (*w != '\0') {
		const char *p = w;
		while (is_bare(*p))
			p++;
		if (*p == '\0')
			return g_strdup(w);
	}
	out = g_string_new("'");
	for (const char *p = w; *p; p++) {
		if (*p == '\'')
			g_string_append(out, "'\\''");
		else
			g_string_append_c(out, *p);
	}
	g_string_append_c(out, '\'');
	return g_string_free(out, FALSE);
}

gboolean
vt_shell_command_is_plain(const char *command)
{
	if (command == NULL)
		return FALSE;
	for (const char *p = command; *p; p++)
		if (!is_bare(*p) && *p != ' ' && *p != '>')
			return FALSE;
	return TRUE;
}

static gboolean
name_valid(const char *name, gsize size)
{
	if (name == NULL || *name == '\0' || strnlen(name, size) >= size)
		return FALSE;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return FALSE;
	for (const guchar *p = (const guchar *)name; *p; p++)
		if (*p == '/' || *p == ':' || g_ascii_isspace(*p) || *p < 0x20 || *p == 0x7f)
			return FALSE;
	return TRUE;
}

gboolean
vt_ifname_valid(const char *name)
{
	return name_valid(name, VT_IFNAME_SIZE);
}

gboolean
vt_disk_name_valid(const char *name)
{
	return name_valid(name, VT_DISK_NAME_SIZE);
}
