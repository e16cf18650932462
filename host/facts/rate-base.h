/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "arena.h"
#include "message.h"

G_BEGIN_DECLS

/*
 * What the rates (rates.c, and match.c for them) read of a report, copied out
 * of it: its identity's boot id and uptime, monotonic_ms, cpu, swap's
 * pswpin/pswpout, vmstat's oom_kill, softnet, each disk's name, counters,
 * serial and driver, and each NIC's name, counters and MAC address. Rates
 * computed from these are the rates computed from the whole reports. A guest
 * keeps this of its newest and previous reports (a few hundred bytes packed
 * instead of tens of kilobytes decoded), so new domstats update the rates
 * without decoding a report.
 */
typedef struct {
	VtReport *report; /* the parts above, nothing else set */
	VtArena *arena;   /* where all of it lives, this struct included */
} VtRateBase;

/* NULL if @report cannot be copied (it was validated on arrival, so only
 * when memory runs out). */
VtRateBase *vt_rate_base_new(const VtReport *report);
void vt_rate_base_free(VtRateBase *base);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtRateBase, vt_rate_base_free)

G_END_DECLS
