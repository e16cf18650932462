/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log-limit.h"

#include <string.h>

gboolean
vt_log_limit_allow(VtLogLimit *limit)
{
	gint64 now = g_get_monotonic_time();

	if (limit->gap_us != 0 && now < limit->next_us) {
		limit->suppressed++;
		return FALSE;
	}
	limit->gap_us = limit->gap_us == 0 ? VT_LOG_REPEAT_MIN_US
					   : MIN(limit->gap_us * 2, VT_LOG_REPEAT_MAX_US);
	limit->next_us = now + limit->gap_us;
	return TRUE;
}

char *
vt_log_limit_note(VtLogLimit *limit)
{
	char *note;

	if (limit->suppressed == 0)
		return g_strdup("");
	note = g_strdup_printf(" (%" G_GUINT64_FORMAT " like it not logged)", limit->suppressed);
	limit->suppressed = 0;
	return note;
}

void
vt_log_limit_reset(VtLogLimit *limit)
{
	memset(limit, 0, sizeof(*limit));
}
