/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "control.h"
#include "guest.h"
#include "store.h"

G_BEGIN_DECLS

/*
 * What the daemon asked of guests and waits for, each with the control
 * request to answer: changes (apply, dry-run, rollback), recorded in the
 * audit trail before they are sent, resent until the agent answers or
 * given up; and `refresh` requests, answered with the next report.
 */
typedef struct VtChanges VtChanges;

/* @store: the audit trail; @guests: the daemon's uuid -> VtGuest. Both are
 * borrowed and outlive the VtChanges. */
VtChanges *vt_changes_new(VtStore *store, GHashTable *guests);
/* Requests still waiting are answered "gone". */
void vt_changes_free(VtChanges *changes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtChanges, vt_changes_free)

/* Answer @request (consumed) with @guest's next report, or "timeout". */
void vt_changes_wait_report(VtChanges *changes, const VtGuest *guest, VtControlRequest *request);

/* Send @rec's action to @guest's agent; @request (consumed) is answered with
 * the agent's result (and, after an applied change, whether the next report
 * still has @rec), or with an error. @rec must be a guest change. */
void vt_changes_apply(VtChanges *changes, const VtGuest *guest, VtControlRequest *request,
		      const VtRecommendation *rec, gboolean dry_run, gboolean persist);
void vt_changes_rollback(VtChanges *changes, const VtGuest *guest, VtControlRequest *request,
			 const char *change_id);

/* What @guest's session brought: a result (ownership taken), a report. */
void vt_changes_on_result(VtChanges *changes, VtGuest *guest, VtApplyResult *result);
void vt_changes_on_report(VtChanges *changes, const VtGuest *guest);
/* The domain stopped: what waits on it is answered "gone". */
void vt_changes_forget(VtChanges *changes, const char *uuid);

G_END_DECLS
