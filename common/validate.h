/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <protobuf-c/protobuf-c.h>

G_BEGIN_DECLS

/*
 * Checks a message that came from the other side against the bounds in
 * bounds.h, generically through its descriptor:
 * - every repeated field holds at most its bound (VT_REPORT_MAX_* for the
 *   report's lists, VT_REPORT_MAX_MAP_ENTRIES for maps, VT_REPEATED_MAX else);
 * - every string is valid UTF-8, without NUL, at most VT_STRING_MAX bytes;
 * - every unsigned 64-bit value fits the JSON range (<= INT64_MAX), every
 *   double is finite;
 * - entries of the report's lists (disks, NICs, sections, swap devices, a
 *   NIC's features) have unique names;
 * - nesting is bounded.
 * On failure the error (VT_ERROR_TOO_LARGE for a bound, VT_ERROR_INVALID for
 * a value) names the field path and the limit; *reason (if given)
 * is set to a short stable word for counting: "count", "string", "utf8",
 * "number", "duplicate", "depth".
 */
gboolean vt_validate_message(const ProtobufCMessage *msg, const char **reason, GError **error);

G_END_DECLS
