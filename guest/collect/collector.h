/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "message.h"

G_BEGIN_DECLS

typedef struct VtEthtoolOps VtEthtoolOps; /* linux/ethtool.h */

/*
 * Builds reports. Keeps what can be kept between reports (open fds of sysfs
 * files, feature-name strings per NIC) and revalidates when devices appear or
 * vanish. Every read goes through @sysroot; every ethtool call through @ops.
 */
typedef struct VtCollector VtCollector;

/* @sysroot: NULL or "/" for the live system. @ops: NULL for the real ioctls. */
VtCollector *vt_collector_new(const char *sysroot, const VtEthtoolOps *ops);
void vt_collector_free(VtCollector *collector);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtCollector, vt_collector_free)

/* Device names (shell globs) left out of block and nics, in addition to the
 * built-in loop*, ram* and lo. NULL clears. */
void vt_collector_set_excluded(VtCollector *collector, const char *const *globs);

/* Section names to collect (identity, meminfo, swap, vmstat, sysctl, block,
 * nics, cpu, pressure, softnet); NULL means all. */
void vt_collector_set_sections(VtCollector *collector, const char *const *names);

/* Names of every section, NULL-terminated; for config validation. */
const char *const *vt_collector_section_names(void);

/* Reports between two reads of the settings (sysctls, a disk's queue
 * settings, a NIC's speed, the hostname) by default on the live system; under another
 * sysroot every report reads them. */
#define VT_SETTINGS_REFRESH_REPORTS 30u

/*
 * Settings change only when someone writes them, so their last read is kept
 * and they are read again every @reports reports (1: every report), and in the
 * report after vt_collector_settings_changed(); counters are read every
 * report. 0 restores the default.
 */
void vt_collector_set_settings_refresh(VtCollector *collector, guint reports);

/* A setting was written (the agent applied or undid a change): the next report
 * reads every setting again. */
void vt_collector_settings_changed(VtCollector *collector);

/*
 * For reports that only go on the wire (the agent's session): each NIC's
 * features come as their encoding, packed when their bits change, in the
 * Nic's unknown fields (one run of pre-encoded features entries) instead of
 * as Feature messages; the packed report is the same, but costs a copy
 * instead of ~60 messages per NIC. Readers of the report in memory (the JSON
 * of --once, the tests) leave it off, the default.
 */
void vt_collector_set_features_encoded(VtCollector *collector, gboolean encoded);

/*
 * One complete report. Never fails: a section that could not be read is
 * recorded in report->sections with its reason and the rest goes on. Free
 * with vt_report_free().
 */
VtReport *vt_collector_collect(VtCollector *collector);

/*
 * Frees @report as vt_report_free() does, but keeps the messages the next
 * report can reuse (the NICs' feature messages and their names, which do not
 * change between reports) instead of freeing and allocating them again.
 */
void vt_collector_recycle(VtCollector *collector, VtReport *report);

G_END_DECLS
