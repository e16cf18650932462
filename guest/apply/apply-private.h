/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "apply.h"
#include "dropins.h"
#include "journal.h"

G_BEGIN_DECLS

#define ST_APPLIED     VIRTTUNE__V1__APPLY_RESULT__STATUS__applied
#define ST_REFUSED     VIRTTUNE__V1__APPLY_RESULT__STATUS__refused
#define ST_INVALID     VIRTTUNE__V1__APPLY_RESULT__STATUS__invalid
#define ST_FAILED      VIRTTUNE__V1__APPLY_RESULT__STATUS__failed
#define ST_VALIDATED   VIRTTUNE__V1__APPLY_RESULT__STATUS__validated
#define ST_ROLLED_BACK VIRTTUNE__V1__APPLY_RESULT__STATUS__rolled_back
#define ST_CONFIRMED   VIRTTUNE__V1__APPLY_RESULT__STATUS__confirmed

struct VtApplier {
	char *sysroot;
	int root_fd; /* -errno when the sysroot could not be opened */
	const VtEthtoolOps *ops;
	VtPolicy *policy;
	VtJournal *journal; /* NULL when the state dir is unusable */
	VtApplyHook hook;
	gpointer hook_user;
};

/* What validation found: the live value and the one asked for, or why not (check.c). */
typedef struct {
	int status; /* 0 while fine */
	const char *reason;
	int errnum;
	char *before;
	char *target;
} VtApplyCheck;

void vt_apply_check_clear(VtApplyCheck *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtApplyCheck, vt_apply_check_clear)

/* Sets the verdict; returns FALSE, for `return vt_apply_verdict(...)` in check(). */
gboolean vt_apply_verdict(VtApplyCheck *c, int status, const char *reason, int errnum);
/* A negative errno from reading the device, as a verdict. */
gboolean vt_apply_read_verdict(VtApplyCheck *c, int err);

/* A plain name of at most @max bytes: no path, nothing a drop-in or a command
 * line would read as syntax. */
gboolean vt_apply_plain_name(const char *name, gsize max);

/* The choices in @path under the sysroot ("a [b] c") into @words (may be
 * NULL), and the active one into @active (NULL when none is marked). */
int vt_apply_read_choice(VtApplier *ap, const char *path, char **active, char ***words);

/*
 * One kind of action (one oneof case of Action). Values are text, as the
 * journal and the answer carry them ("combined=4", "mq-deadline", "on").
 * Every int returned is 0 or a negative errno.
 */
typedef struct {
	VtPolicyClass klass;
	const char *name;
	/* Validate fields, names, the live device and the policy's bounds;
	 * fills c->before and c->target, or the verdict. */
	gboolean (*check)(VtApplier *ap, const VtAction *a, VtApplyCheck *c);
	/* The live value, in the form check() and write() use. */
	int (*read)(VtApplier *ap, const VtAction *a, char **value);
	int (*write)(VtApplier *ap, const VtAction *a, const char *value);
	/* The shell command that would do the same, for the answer and the log. */
	char *(*command)(const VtAction *a, const char *value);
	/* Drop-in settings (VtDropinSetting *) for @value; FALSE when none can hold it. */
	gboolean (*persist)(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out);
} VtApplyKind;

/* nic.c */
extern const VtApplyKind vt_apply_channels;
extern const VtApplyKind vt_apply_feature;
extern const VtApplyKind vt_apply_rings;
/* block.c */
extern const VtApplyKind vt_apply_scheduler;
extern const VtApplyKind vt_apply_queue;
/* sysctl.c */
extern const VtApplyKind vt_apply_sysctl;

/* The kind of @a, or NULL for an empty or unknown action (engine.c). */
const VtApplyKind *vt_apply_kind_of(const VtAction *a);

/* The action a journal entry records, or NULL (engine.c). */
VtAction *vt_apply_entry_action(const VtJournalEntry *e);

/* Answers (result.c). */
VtApplyResult *vt_apply_result_new(const char *request_id, int status, const char *reason,
				   int errnum);
/* Sets the values of @r (copied) and its @command (taken); returns @r. */
VtApplyResult *vt_apply_result_set(VtApplyResult *r, const char *before, const char *after,
				   const char *change_id, char *command);
/* A retransmitted request, answered from its journal entry. */
VtApplyResult *vt_apply_result_from_entry(const VtJournalEntry *e, const char *request_id);
/* failed/journal, or failed/journal_full when the journal holds no more. */
VtApplyResult *vt_apply_result_journal(const char *request_id, const GError *error);

/* Undoes @orig, an applied change, with a rollback entry for @request_id;
 * @by_policy: refused when the policy does not allow the class (engine.c). */
VtApplyResult *vt_apply_undo(VtApplier *ap, VtJournalEntry *orig, const char *request_id,
			     gboolean by_policy);

/* A new apply entry gets a window of @within_s seconds (confirm.c). */
void vt_apply_confirm_arm(VtJournalEntry *e, guint32 within_s);
/* Adds @e's deadline to @r when @e awaits confirmation; returns @r. */
VtApplyResult *vt_apply_confirm_answer(const VtJournalEntry *e, VtApplyResult *r);

/* Rewrites every drop-in from the journal's applied persistent changes (dropins.c). */
gboolean vt_applier_rebuild_dropins(VtApplier *ap, GError **error);

G_END_DECLS
