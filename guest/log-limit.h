/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A recurring warning is logged at once, then after 1 min, 2 min, 4 min, ...
 * at most once an hour, so a host absent for days leaves a handful of lines. */
#define VT_LOG_REPEAT_MIN_US ((gint64)60 * G_USEC_PER_SEC)
#define VT_LOG_REPEAT_MAX_US ((gint64)3600 * G_USEC_PER_SEC)

typedef struct {
	gint64 next_us;
	gint64 gap_us;
	guint64 suppressed;
} VtLogLimit;

/* Whether to log now; counts the message as suppressed when not. */
gboolean vt_log_limit_allow(VtLogLimit *limit);

/* " (N like it not logged)", or "", to end the line logged; resets the count. */
char *vt_log_limit_note(VtLogLimit *limit);

/* The condition is over: the next one is logged at once. */
void vt_log_limit_reset(VtLogLimit *limit);

G_END_DECLS
