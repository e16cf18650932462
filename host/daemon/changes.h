/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "control.h"
#include "effect.h"
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
typedef struct {
	gboolean dry_run;
	gboolean persist;
	guint32 confirm_within_s;   /* > 0: the agent reverts unless confirmed in time */
	gboolean confirm_if_better; /* the daemon confirms unless the effect regressed */
} VtApplyOptions;

#define VT_EFFECT_WINDOW_DEFAULT_MS (10 * 60 * 1000)

void vt_changes_apply(VtChanges *changes, const VtGuest *guest, VtControlRequest *request,
		      const VtRecommendation *rec, const VtApplyOptions *options);
/* Keep @change_id, applied with a window. @request may be NULL (the daemon's
 * own confirmation); @why goes to the audit trail's recommendation column
 * when not NULL. Refused when the agent lacks the "confirm" capability. */
void vt_changes_confirm(VtChanges *changes, const VtGuest *guest, VtControlRequest *request,
			const char *change_id, const char *why);
void vt_changes_rollback(VtChanges *changes, const VtGuest *guest, VtControlRequest *request,
			 const char *change_id);

/* Confirm the change of @result at its deadline unless its effect regressed
 * (closed loop); the agent reverts it otherwise. */
void vt_changes_watch(VtChanges *changes, const VtGuest *guest, const char *recommendation_id,
		      const VtApplyResult *result, const VtApplyRequest *request);
/* Stored reports within this long before and after a change are its windows. */
void vt_changes_set_effect_window(VtChanges *changes, gint64 window_ms);
gint64 vt_changes_get_effect_window(const VtChanges *changes);

/* change-effect.c: the effect of the applied change @row of @uuid, from the
 * stored reports of @window_ms before it and after it (until @until_ms). */
VtEffect *vt_change_effect(VtStore *store, const char *uuid, const VtStoreAudit *row,
			   gint64 window_ms, gint64 until_ms, GError **error);
/* Adds "state" (and with @effect "effect") to each applied change of @view,
 * the JSON of the audit @rows (one element per row), from @guest's last report
 * (may be NULL) and the rows after it. */
void vt_changes_annotate(VtStore *store, const VtGuest *guest, const char *uuid, GPtrArray *rows,
			 JsonNode *view, gboolean effect, gint64 window_ms, gint64 now_ms);

/* Adds "undone" ("was applied on DATE, undone since (…)") to each
 * recommendation of @view whose last applied change no longer holds. */
void vt_changes_annotate_recommendations(VtStore *store, GHashTable *guests, JsonNode *view,
					 gint64 now_ms);

/* The applied change @change_id of any domain the store knows, with its
 * state and effect (as one row of `changes --effect`, plus "domain"); NULL
 * when there is none. */
JsonNode *vt_changes_show(VtStore *store, GHashTable *guests, const char *change_id,
			  gint64 window_ms, gint64 now_ms);

/* What @guest's session brought: a result (ownership taken), a report. */
void vt_changes_on_result(VtChanges *changes, VtGuest *guest, VtApplyResult *result);
void vt_changes_on_report(VtChanges *changes, const VtGuest *guest);
/* Whether a request waits for @uuid's next report (a `refresh`, an applied
 * change's result): its answer must not go out before the report is stored. */
gboolean vt_changes_awaits_report(VtChanges *changes, const char *uuid);
/* The domain stopped: what waits on it is answered "gone". */
void vt_changes_forget(VtChanges *changes, const char *uuid);

G_END_DECLS
