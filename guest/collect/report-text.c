/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report-text.h"

#include <stdarg.h>
#include <string.h>

#include "bounds.h"

char *
vt_report_string(const char *text, gssize len, gboolean *changed)
{
	gsize n = len < 0 ? strlen(text) : (gsize)len;
	g_autofree char *valid = NULL;
	gsize vlen, cut;
	char *out;

	if (changed != NULL)
		*changed = FALSE;
	/* the common case, printable ASCII within the bound, is copied as is */
	if (n <= VT_STRING_MAX) {
		gsize i = 0;

		while (i < n && (guchar)text[i] >= 0x20 && (guchar)text[i] < 0x7f)
			i++;
		if (i == n) {
			out = g_malloc(n + 1);
			memcpy(out, text, n);
			out[n] = '\0';
			return out;
		}
	}
	/* Cut the input first so a hostile megabyte is not validated whole. */
	if (n > VT_STRING_MAX * 4) {
		n = VT_STRING_MAX * 4;
		if (changed != NULL)
			*changed = TRUE;
	}
	if (g_utf8_validate_len(text, n, NULL) && memchr(text, '\0', n) == NULL) {
		valid = g_strndup(text, n);
	} else {
		valid = g_utf8_make_valid(text, (gssize)n);
		if (changed != NULL)
			*changed = TRUE;
	}
	vlen = strlen(valid);
	for (gsize i = 0; i < vlen; i++) {
		if ((guchar)valid[i] < 0x20 || valid[i] == 0x7f) {
			valid[i] = '?';
			if (changed != NULL)
				*changed = TRUE;
		}
	}
	cut = vlen;
	if (cut > VT_STRING_MAX) {
		cut = VT_STRING_MAX;
		/* back off to the start of a UTF-8 character */
		while (cut > 0 && ((guchar)valid[cut] & 0xC0) == 0x80)
			cut--;
		if (changed != NULL)
			*changed = TRUE;
	}
	out = g_malloc(cut + 1);
	memcpy(out, valid, cut);
	out[cut] = '\0';
	return out;
}

char *
vt_report_printf(const char *format, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	return vt_report_string(text, -1, NULL);
}
