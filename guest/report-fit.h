/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "bounds.h"
#include "message.h"

G_BEGIN_DECLS

/* What an Envelope adds around its report: version (2 bytes), seq (up to 11),
 * the body's tag and length (up to 4), with room to spare. */
#define VT_ENVELOPE_OVERHEAD_MAX 32u

/* The largest report that still fits one frame inside an Envelope. */
#define VT_REPORT_FIT_MAX (VT_FRAME_MAX - VT_ENVELOPE_OVERHEAD_MAX)

/*
 * Make @report pack to at most @max bytes by dropping its largest, least
 * needed parts in this order until it fits: NIC feature lists (the NIC with
 * most features first), block stats, NIC stats, whole block devices and NICs
 * (from the last), the vmstat, sysctl and meminfo maps, swap, cpu, identity.
 * Each part dropped is noted in report->sections as {name "nics.features"
 * etc., ok false, error saying how much and why}, so the host can tell a
 * trimmed report from a guest without those devices.
 *
 * Returns the packed size. It is above @max only when the sections alone do
 * not fit (impossible for VT_REPORT_FIT_MAX with the bounds in bounds.h).
 */
gsize vt_report_fit(VtReport *report, gsize max);

G_END_DECLS
