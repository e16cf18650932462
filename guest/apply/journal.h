/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "bounds.h"

G_BEGIN_DECLS

/*
 * The apply journal: one file per change under STATE_DIR/journal/, named by
 * a sequence number and the codec's suffix (0000000042.json; the portable
 * agent, which links no JSON library, writes 0000000042.entry, a key file
 * with the Action as base64 protobuf), each written whole (temp
 * file, fsync, rename, fsync of the directory), so that a crash leaves every
 * entry either as it was or as it is now. Entries are kept in memory (there
 * are at most VT_JOURNAL_MAX_ENTRIES) and written through.
 *
 * An entry file is read as untrusted input: one over VT_JOURNAL_ENTRY_MAX
 * bytes, not in the codec's form, or with a missing or wrong field is renamed to
 * NNNNNNNNNN.corrupt, reported in the warnings and skipped.
 */
#define VT_JOURNAL_MAX_ENTRIES 128u
#define VT_JOURNAL_SEQ_MAX     100000000u /* entry files named above are not ours */
#define VT_JOURNAL_ENTRY_MAX   (16u * 1024u)
#define VT_JOURNAL_VALUE_MAX   256u /* before/after/target text */
#define VT_JOURNAL_FORMAT      1u

typedef enum {
	VT_JOURNAL_APPLY,
	VT_JOURNAL_ROLLBACK,
} VtJournalKind;

typedef enum {
	VT_JOURNAL_PREPARED,    /* before recorded, change under way (or crashed) */
	VT_JOURNAL_APPLIED,     /* done; for a rollback entry: the rollback was done */
	VT_JOURNAL_FAILED,      /* nothing changed */
	VT_JOURNAL_ROLLED_BACK, /* an apply entry whose change was undone */
} VtJournalState;

/* A change applied with a confirmation window (ApplyRequest.confirm_within_s). */
typedef enum {
	VT_CONFIRM_NONE,     /* applied for good: no window */
	VT_CONFIRM_AWAITING, /* undone at the deadline unless confirmed */
	VT_CONFIRM_CONFIRMED,
	VT_CONFIRM_EXPIRED, /* the deadline passed: undone (state ROLLED_BACK) or, when
			     * that failed, left as it is (reason says why) */
} VtConfirmState;

typedef struct {
	guint64 seq;
	char *change_id;  /* "<journal id>-<seq>": stable for the life of the journal */
	char *request_id; /* the host's */
	VtJournalKind kind;
	char *rollback_of; /* ROLLBACK: change_id of the apply entry */
	char *action_text; /* the Action in the codec's canonical form (rollback: the original's) */
	gboolean persist;
	VtJournalState state;
	char *before;
	char *target;
	char *after; /* NULL until read back */
	char *reason;
	int errnum;
	char *command;
	gint64 created_ms;
	gint64 updated_ms;
	VtConfirmState confirm;
	guint32 confirm_within_s;
	gint64 confirm_deadline_ms; /* CLOCK_REALTIME: survives a restart and a reboot */
	gint64 mono_deadline_us;    /* in memory only: the same deadline, immune to clock steps */
} VtJournalEntry;

typedef struct VtJournal VtJournal;

/* Open (creating, mode 0700) @state_dir/journal. Corrupt entries become
 * @warnings (char *). */
VtJournal *vt_journal_open(const char *state_dir, GPtrArray *warnings, GError **error);
void vt_journal_free(VtJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtJournal, vt_journal_free)

/* Entries in sequence order; owned by the journal. */
GPtrArray *vt_journal_entries(VtJournal *journal);
VtJournalEntry *vt_journal_find_request(VtJournal *journal, VtJournalKind kind,
					const char *request_id);
VtJournalEntry *vt_journal_find_change(VtJournal *journal, const char *change_id);

/*
 * A new entry (seq and change_id assigned, not yet written). Makes room
 * first: the oldest entries beyond the bound are deleted, except applied
 * persistent changes, which the drop-ins are rebuilt from; NULL with
 * VT_ERROR_TOO_LARGE when no room can be made.
 */
VtJournalEntry *vt_journal_new_entry(VtJournal *journal, VtJournalKind kind, GError **error);

/* Write @entry (new or changed) durably. */
gboolean vt_journal_commit(VtJournal *journal, VtJournalEntry *entry, GError **error);

/* Appends a message (char *) to @warnings unless it is NULL: how opening the
 * journal, and reconciling it, report what they skip or repair. */
void vt_journal_warn(GPtrArray *warnings, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Names for the file form and for messages. */
const char *vt_journal_state_name(VtJournalState state);
const char *vt_journal_kind_name(VtJournalKind kind);
const char *vt_journal_confirm_name(VtConfirmState confirm);
/* Which names vt_journal_name_lookup() looks @value up in. */
typedef enum {
	VT_JOURNAL_NAMES_KIND,    /* VtJournalKind */
	VT_JOURNAL_NAMES_STATE,   /* VtJournalState */
	VT_JOURNAL_NAMES_CONFIRM, /* VtConfirmState */
} VtJournalNames;
/* @value as the enum @table names; FALSE if unknown. */
gboolean vt_journal_name_lookup(const char *field, const char *value, VtJournalNames table,
				int *out, GError **error);
/* How one file form reads a member of an entry: the scalar members and the
 * confirmation window are read by vt_journal_entry_read_fields() for both. */
typedef struct {
	/* *out NULL when absent; FALSE when absent but @required, or not a string
	 * of at most @max bytes */
	gboolean (*get_string)(gpointer src, const char *name, gboolean required, gsize max,
			       char **out, GError **error);
	/* *out unchanged when absent; FALSE when absent but @required, or not a
	 * whole number within [@lo, @hi] */
	gboolean (*get_int)(gpointer src, const char *name, gboolean required, gint64 lo, gint64 hi,
			    gint64 *out, GError **error);
	gboolean (*has)(gpointer src, const char *name);
} VtJournalReader;
/* For a reader's accessors: an absent member is fine unless @required. */
gboolean vt_journal_absent(const char *name, gboolean required, GError **error);
/* The ids, kind, state, values, times and confirmation window of @e. */
gboolean vt_journal_entry_read_fields(const VtJournalReader *reader, gpointer src,
				      VtJournalEntry *e, GError **error);
/* The rules every entry read back must meet, whatever its file form. */
gboolean vt_journal_entry_consistent(const VtJournalEntry *entry, GError **error);
void vt_journal_entry_free(VtJournalEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtJournalEntry, vt_journal_entry_free)

G_END_DECLS
#include "message.h"
G_BEGIN_DECLS

static inline void
vt_action_free(VtAction *action)
{
	vt_message_free((ProtobufCMessage *)action);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtAction, vt_action_free)

/*
 * The codec, one of two linked in: journal-entry-json.c (JSON-GLib) or
 * journal-entry-keyfile.c (GKeyFile + protobuf, for the portable agent).
 * Entry files are named NNNNNNNNNN + vt_journal_suffix.
 */
extern const char vt_journal_suffix[];
char *vt_journal_entry_to_text(const VtJournalEntry *entry);
VtJournalEntry *vt_journal_entry_from_text(const char *text, gsize len, GError **error);
/* The Action's canonical text: equal text, equal action. */
char *vt_journal_action_to_text(const VtAction *action, GError **error);
VtAction *vt_journal_action_from_text(const char *text, GError **error);

G_END_DECLS
