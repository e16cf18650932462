/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A realistic report and its evolution, for the store's tests and benchmark:
 * a 2-vCPU guest with the ~55 meminfo lines of a 6.1 kernel, the vmstat
 * counters, one swap partition, two virtio disks and a virtio NIC with the
 * features virtio_net exposes. Deterministic for a given seed.
 */

#include "message.h"

G_BEGIN_DECLS

typedef struct {
	GRand *rand;
	guint step;
} VtReportGen;

VtReportGen *vt_report_gen_new(guint32 seed);
void vt_report_gen_free(VtReportGen *gen);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtReportGen, vt_report_gen_free)

/* A fresh copy of the base report (freed with vt_report_free). */
VtReport *vt_report_gen_base(VtReportGen *gen);

/* Ten seconds later: counters move the way a busy guest's do (some meminfo
 * values, faults, disk and NIC traffic, CPU ticks, load); nothing else. */
void vt_report_gen_tick(VtReportGen *gen, VtReport *report);

/* A configuration change: a sysctl takes a new value (@variant picks it). */
void vt_report_gen_change(VtReport *report, guint variant);

/* A deep copy. */
VtReport *vt_report_gen_copy(const VtReport *report);

/* Canonical JSON, for exact comparisons. */
char *vt_report_gen_json(const VtReport *report);

G_END_DECLS
