/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "kernel/ethtool.h"
#include "message.h"
#include "policy.h"

G_BEGIN_DECLS

/*
 * Applies the typed actions of ApplyRequest and RollbackRequest: validate
 * against the policy and the live device, journal the before value durably,
 * change, read back, journal the after value, answer. Never runs a program.
 *
 * ApplyResult.status / reason (stable codes the host displays):
 *   refused     policy               the class (or sysctl key) is not allowed
 *               policy_bounds        the value is outside the admin's bounds
 *               persist_not_allowed  persist asked, policy persist=false
 *   invalid     bad_request          missing/ambiguous field, bad request id
 *               bad_name             device/feature/scheduler not a plain name
 *               no_device            the interface or block device is not there
 *               not_supported        the device does not offer the setting
 *               unknown_sysctl       a key outside the allow-list of the agent
 *               bad_value            not a number / not one of the words
 *               out_of_range         beyond the device's or kernel's limit
 *               unknown_scheduler    not in the device's available list
 *               unknown_feature, fixed_feature
 *               persist_unsupported  no drop-in can hold this setting
 *               request_id_reused    same id, different action
 *               unknown_change, not_applied, already_rolled_back,
 *               conflict             (rollback: the live value is no longer
 *                                    the one the change left)
 *   failed      kernel               the write failed, errnum says why
 *               not_taken            read back differs from the request
 *               journal, journal_full (errnum when there is one)
 *               persist              the drop-in could not be written (errnum);
 *                                    the change was undone (after = before) or,
 *                                    when even that failed, is still in force
 *                                    (after = the live value; it can be rolled
 *                                    back by change_id)
 *   applied     "" or "duplicate"    (a retransmit answered from the journal)
 *   validated   ""                   dry run: would apply; before/after shown
 *   rolled_back "" or "duplicate"
 * change_id names the journal entry (for a rollback: the change undone).
 */

typedef enum {
	VT_APPLY_STAGE_JOURNALED, /* before recorded, nothing changed yet */
	VT_APPLY_STAGE_CHANGED,   /* the change is made, after not recorded */
} VtApplyStage;

/* Test hook: called at each stage of a change (e.g. to die there). */
typedef void (*VtApplyHook)(VtApplyStage stage, gpointer user);

typedef struct VtApplier VtApplier;

/*
 * @sysroot: NULL or "/" for the live system. @ops: NULL for the kernel's
 * ethtool, opened for each request (so in the network namespace the caller is
 * in at the time). Opens the journal in @state_dir and reconciles entries a
 * crash left half done; problems become @warnings (char *). Never fails:
 * without a journal every change is answered failed/journal.
 */
VtApplier *vt_applier_new(const char *sysroot, const char *state_dir, const VtEthtoolOps *ops,
			  GPtrArray *warnings);
void vt_applier_free(VtApplier *ap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtApplier, vt_applier_free)

/* Copied; the default is report-only. */
void vt_applier_set_policy(VtApplier *ap, const VtPolicy *policy);
void vt_applier_set_hook(VtApplier *ap, VtApplyHook hook, gpointer user);

/* Always an answer; free with vt_apply_result_free(). */
VtApplyResult *vt_applier_apply(VtApplier *ap, const VtApplyRequest *req);
VtApplyResult *vt_applier_rollback(VtApplier *ap, const VtRollbackRequest *req);

/*
 * Changes applied with ApplyRequest.confirm_within_s (confirm.c). The journal
 * holds the deadline as CLOCK_REALTIME, so that it survives a restart and a
 * reboot; while the agent runs, the same deadline on the monotonic clock is
 * kept too, and whichever comes first counts: a clock stepped back cannot
 * delay a revert, one stepped forward can only bring it sooner. A deadline read
 * at start is never further than the change's window away.
 *
 * vt_applier_confirm answers confirmed (or "duplicate" when it already was),
 * and writes the drop-in of a persistent change; invalid/unknown_change,
 * not_awaiting (applied without a window, or rolled back), expired (the
 * deadline passed first: the change was undone, or could not be).
 */
VtApplyResult *vt_applier_confirm(VtApplier *ap, const VtConfirmRequest *req);
/* Undoes every change whose deadline has passed; what it did or could not do
 * becomes @warnings (char *). Returns how many it undid. */
guint vt_applier_expire(VtApplier *ap, GPtrArray *warnings);
/* Milliseconds until the next deadline (0: one is due), -1 when none. */
gint64 vt_applier_next_deadline_ms(VtApplier *ap);
/* The changes that await confirmation, ended by one, or no longer hold
 * (drifted: the live value is not what the change left), newest first, at
 * most @max; VtChangeState * freed with vt_change_state_free. */
GPtrArray *vt_applier_change_states(VtApplier *ap, guint max);
void vt_change_state_free(VtChangeState *s);

void vt_apply_result_free(VtApplyResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtApplyResult, vt_apply_result_free)

G_END_DECLS
