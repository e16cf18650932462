/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/meminfo: every line, kB values in bytes, unit-less lines as counts. */
#include "collector-private.h"

#include <string.h>

#include "error.h"

/* Longest key accepted: the kernel's longest is "ShmemPmdMapped" and kin. */
#define MEMINFO_KEY_MAX 64u

static gboolean
key_is_valid(const char *key, gsize len)
{
	if (len == 0 || len > MEMINFO_KEY_MAX)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(key[i]) && key[i] != '_' && key[i] != '(' && key[i] != ')')
			return FALSE;
	return TRUE;
}

static gboolean
key_kept(const VtReport *report, const char *key)
{
	for (gsize i = 0; i < report->n_meminfo; i++)
		if (strcmp(report->meminfo[i]->key, key) == 0)
			return TRUE;
	return FALSE;
}

gboolean
vt_collect_meminfo(VtCollector *c, VtReport *report, GError **error)
{
	VtKeyFilter filter = {{0}};
	guint bad = 0, dropped = 0;
	char *line, *next;

	if (!vt_collector_read_text(c, &c->meminfo, "proc/meminfo", NULL, error))
		return FALSE;
	for (line = c->text; line != NULL && *line != '\0'; line = next) {
		char *colon, *value, *unit;
		guint64 v;
		VtReportMeminfoEntry *e;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (colon == NULL || !key_is_valid(line, (gsize)(colon - line))) {
			bad++;
			continue;
		}
		*colon = '\0';
		value = colon + 1;
		/* "  12345 kB": a number, then an optional unit */
		unit = strstr(value, " kB");
		if (unit != NULL)
			*unit = '\0';
		if (!vt_parse_u64(value, &v) ||
		    (unit != NULL && (unit[3] != '\0' || v > VT_U64_MAX / 1024u))) {
			bad++;
			continue;
		}
		if (unit != NULL)
			v *= 1024u;
		if (vt_key_filter_add(&filter, line) && key_kept(report, line)) {
			bad++;
			continue;
		}
		if (report->n_meminfo >= VT_REPORT_MAX_MAP_ENTRIES) {
			dropped++;
			continue;
		}
		e = vt_collector_meminfo_entry(c, line);
		e->has_value = TRUE;
		e->value = v;
		VT_APPEND(report->n_meminfo, report->meminfo, e);
	}
	if (bad > 0)
		vt_collector_note(c, "meminfo", "%u lines not understood, left out", bad);
	if (dropped > 0)
		vt_collector_note(c, "meminfo", "%u lines beyond the limit of %u left out", dropped,
				  VT_REPORT_MAX_MAP_ENTRIES);
	if (report->n_meminfo == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "/proc/meminfo: no line understood");
		return FALSE;
	}
	return TRUE;
}
