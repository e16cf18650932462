/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "message.h"

G_BEGIN_DECLS

/*
 * What the rates (rates.c) read of a previous report, copied out of it: its
 * identity's boot id and uptime, monotonic_ms, cpu, swap's pswpin/pswpout,
 * vmstat's oom_kill, softnet, and each disk's and NIC's name and counters.
 * A guest keeps this of its previous report, not the whole report (a few
 * hundred bytes packed instead of tens of kilobytes decoded). Allocated as
 * vt_message_unpack() allocates (vt_report_free()); NULL if @report cannot
 * be copied (it was validated on arrival, so only when memory runs out).
 */
VtReport *vt_rate_base_copy(const VtReport *report);

G_END_DECLS
