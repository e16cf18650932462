/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Counters: the numeric fields of a report that move between reports (meminfo
 * and vmstat values, swap pswpin/pswpout and per-device used bytes, block and
 * NIC statistics, CPU ticks and load averages, uptime and the timestamps).
 * Everything else is configuration, stored in sections only when it changes.
 *
 * A report's counters form a vector of slots, one per *present* counter field,
 * in the order of a depth-first walk of the message. The skeleton (the report
 * with every counter set to 0, presence kept) fixes the number and kinds of
 * the slots, so the vector alone carries only values.
 *
 * Encoded vector ("counters blob"):
 *   kind byte: 1 = key (absolute values), 2 = delta (against the previous
 *   report of the same domain and skeleton)
 *   varint slot count
 *   delta only: bitmap of changed slots, LSB first, ceil(n/8) bytes, unused
 *   bits zero
 *   one token per slot (key) or per changed slot (delta):
 *     u64 slot: d = value - previous (mod 2^64; previous is 0 in a key),
 *       token odd : d = unzigzag(token >> 1) * 1024 (kB-sized meminfo values)
 *       token even: d = unzigzag(token >> 1), token != 0
 *       token 0   : the absolute value follows as 8 bytes little-endian
 *     double slot (load averages, which /proc prints with two decimals):
 *       token odd : value = unzigzag(token >> 1) / 100.0 (exact by construction)
 *       token 0   : the IEEE-754 bits follow as 8 bytes little-endian
 * The whole blob must be consumed; anything else is VT_ERROR_INVALID.
 */

#include <glib.h>

#include "message.h"

G_BEGIN_DECLS

/* No valid report has more (meminfo + vmstat maps, 128 disks x 15, 64 NICs x 8,
 * swap devices, cpu): a bound for blobs read back. */
#define VT_COUNTERS_MAX_SLOTS 8192u

typedef enum {
	VT_COUNTER_U64 = 0,
	VT_COUNTER_DOUBLE = 1,
} VtCounterKind;

typedef struct {
	GArray *values;    /* guint64; doubles as their bits */
	GByteArray *kinds; /* VtCounterKind */
} VtCounters;

VtCounters *vt_counters_new(void);
/* Room for @reserve slots (at most VT_COUNTERS_MAX_SLOTS) from the start. */
VtCounters *vt_counters_new_sized(guint reserve);
void vt_counters_free(VtCounters *counters);
VtCounters *vt_counters_copy(const VtCounters *counters);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtCounters, vt_counters_free)

static inline guint
vt_counters_len(const VtCounters *counters)
{
	return counters->values->len;
}

/* Append @report's counters to @out; with @zero, also set them to 0 in
 * @report (which makes it the skeleton). FALSE past VT_COUNTERS_MAX_SLOTS. */
gboolean vt_counters_extract(VtReport *report, gboolean zero, VtCounters *out, GError **error);

/*
 * Append @report's counters to @out, and its shape to @shape, in one walk
 * that writes nothing in @report. The shape is every field of the skeleton
 * as it is in memory (number, then value; a counter's number alone, for its
 * presence; messages and lists delimited): two reports have the same shape
 * exactly when their skeletons are the same, which the store learns this way
 * without packing either (unknown fields are part of it). @messages (may
 * be NULL): how many messages the report is made of, itself included.
 */
gboolean vt_counters_extract_shape(const VtReport *report, VtCounters *out, GByteArray *shape,
				   guint *messages, GError **error);

/* Set every counter of @report to 0 (presence kept): the skeleton. */
void vt_counters_zero(VtReport *report);

/* Write @counters into the counter fields of skeleton @report; the slot count
 * and kinds must match the skeleton's. */
gboolean vt_counters_inject(VtReport *report, const VtCounters *counters, GError **error);

/* Encode @cur as a key (@prev NULL) or as a delta against @prev (same kinds). */
GByteArray *vt_counters_encode(const VtCounters *cur, const VtCounters *prev);

/*
 * Decode a blob for a skeleton whose slot kinds are @kinds. A delta needs the
 * previous values in @prev (NULL: only a key is acceptable). The result has
 * @kinds; @is_key tells which form the blob had (may be NULL).
 */
VtCounters *vt_counters_decode(const guint8 *data, gsize len, const GByteArray *kinds,
			       const VtCounters *prev, gboolean *is_key, GError **error);

G_END_DECLS
