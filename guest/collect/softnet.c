/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/net/softnet_stat: packets processed, dropped and squeezed, summed over CPUs. */
#include "collector-private.h"

#include <string.h>

#include "error.h"

/* Sums saturate: a counter past VT_U64_MAX is not worth a failure. */
static guint64
add_sat(guint64 a, guint64 b)
{
	return b > VT_U64_MAX - a ? VT_U64_MAX : a + b;
}

/* One hexadecimal column (the kernel prints %08x); FALSE when it is not one. */
static gboolean
parse_hex(const char *word, guint64 *out)
{
	guint64 v = 0;

	if (*word == '\0' || strlen(word) > 16)
		return FALSE;
	for (const char *p = word; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p))
			return FALSE;
		v = v << 4 | (guint64)g_ascii_xdigit_value(*p);
	}
	*out = MIN(v, VT_U64_MAX);
	return TRUE;
}

gboolean
vt_collect_softnet(VtCollector *c, VtReport *report, GError **error)
{
	g_autofree VtSoftnet *s = g_new(VtSoftnet, 1);
	guint bad = 0, cpus = 0;
	char *save = NULL;

	if (!vt_collector_read_text(c, &c->softnet, "proc/net/softnet_stat", NULL, error))
		return FALSE;
	virttune__v1__softnet__init(s);
	/* One line per online CPU; columns 1-3 are processed, dropped, time_squeeze
	 * (net/core/net-procfs.c) since 2.6, whatever follows them. */
	for (char *line = strtok_r(c->text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		g_auto(GStrv) words = g_strsplit_set(line, " \t", 4);
		guint64 v[3];

		if (g_strv_length(words) < 3 || !parse_hex(words[0], &v[0]) ||
		    !parse_hex(words[1], &v[1]) || !parse_hex(words[2], &v[2])) {
			bad++;
			continue;
		}
		s->processed = add_sat(s->processed, v[0]);
		s->dropped = add_sat(s->dropped, v[1]);
		s->time_squeeze = add_sat(s->time_squeeze, v[2]);
		cpus++;
	}
	if (bad > 0)
		vt_collector_note(c, "softnet", "%u lines not understood, left out", bad);
	if (cpus == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "/proc/net/softnet_stat: no line understood");
		return FALSE;
	}
	s->has_processed = s->has_dropped = s->has_time_squeeze = TRUE;
	report->softnet = g_steal_pointer(&s);
	return TRUE;
}
