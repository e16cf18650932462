/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The daemon's history: one SQLite database in WAL mode holding, per domain,
 * the reports its guest sent (stored as changes, see host/store/README.md),
 * the recommendations seen with when they appeared and went away, and the
 * audit trail of every apply/rollback.
 *
 * Threading and processes: a VtStore is one SQLite connection; use it from one
 * thread at a time. One process writes (the daemon); any number of other
 * VtStore handles on the same file may read while it writes (WAL).
 *
 * Times are milliseconds since the epoch on the host's clock (g_get_real_time()
 * / 1000), passed in by the caller so tests control them.
 * Domains are keyed by their libvirt UUID string; the name is kept up to date.
 * Every function that fails sets a GError in the VT_ERROR domain; a corrupted
 * row read back is VT_ERROR_INVALID, never a crash.
 */

#include <glib.h>

#include "message.h"

G_BEGIN_DECLS

#define VT_STORE_FILE_NAME    "virt-tune.db"
#define VT_STORE_DEFAULT_DIR  "/var/lib/virt-tune"
#define VT_STORE_DEFAULT_PATH VT_STORE_DEFAULT_DIR "/" VT_STORE_FILE_NAME

/* The schema this code writes; older databases are migrated on open, newer
 * ones are refused (VT_ERROR_NOT_SUPPORTED). */
#define VT_STORE_SCHEMA_VERSION 3u

/* A full set of counters is written every this many reports of a domain, so
 * reading one report decodes at most this many rows. */
#define VT_STORE_KEYFRAME_INTERVAL 128u

typedef struct _VtStore VtStore;

/*
 * Open (creating if missing) the database at @path: its directory is created
 * 0750 and the file 0640 when they do not exist. Migrates an older schema.
 */
VtStore *vt_store_open(const char *path, GError **error);
void vt_store_free(VtStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStore, vt_store_free)

guint vt_store_schema_version(VtStore *store);
const char *vt_store_path(VtStore *store);

/*
 * Optional batching: between vt_store_begin() and vt_store_commit() every call
 * joins one transaction (one commit for many reports). A call that fails
 * inside a batch undoes only its own changes. vt_store_rollback() drops the
 * batch. A durable write (the audit trail) is never part of a batch: it
 * commits the open batch first, which ends it, and then commits on its own
 * with synchronous=FULL.
 */
gboolean vt_store_begin(VtStore *store, GError **error);
gboolean vt_store_commit(VtStore *store, GError **error);
void vt_store_rollback(VtStore *store);
/* Whether a batch is open: a durable write may have ended it. */
gboolean vt_store_in_batch(VtStore *store);

/* Move the WAL into the main file and truncate it (the daemon may call this
 * when idle; SQLite also checkpoints on its own every ~4 MiB of WAL). */
gboolean vt_store_checkpoint(VtStore *store, GError **error);

/* ------------------------------------------------------------ domains */

typedef struct {
	char *uuid;
	char *name;
	gint64 first_seen_ms;
	gint64 last_seen_ms;
	gint64 last_report_ms; /* 0: no report stored */
	guint64 n_reports;
} VtStoreDomain;

void vt_store_domain_free(VtStoreDomain *domain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreDomain, vt_store_domain_free)

/* Record that the domain exists (first/last seen), e.g. on discovery. */
gboolean vt_store_touch_domain(VtStore *store, const char *uuid, const char *name, gint64 now_ms,
			       GError **error);
/* Every domain ever seen, by name; a GPtrArray of VtStoreDomain. */
GPtrArray *vt_store_list_domains(VtStore *store, GError **error);

/* ------------------------------------------------------------ reports */

typedef struct {
	gint64 time_ms;   /* when it was stored (see vt_store_add_report) */
	VtReport *report; /* owned */
} VtStoreReport;

void vt_store_report_free(VtStoreReport *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreReport, vt_store_report_free)

/*
 * Store @report of domain @uuid received at @time_ms. Times are strictly
 * increasing per domain: a @time_ms not after the domain's last report is
 * stored as last + 1 ms (clock steps, two reports in one ms); the time used is
 * returned in @stored_time_ms (may be NULL). @report comes back as it went in
 * (its counters are zeroed while its sections are packed: not for another
 * thread to read meanwhile); it must pack to at most VT_FRAME_MAX bytes.
 * Unknown fields are not kept.
 */
gboolean vt_store_add_report(VtStore *store, const char *uuid, const char *name, gint64 time_ms,
			     const VtReport *report, gint64 *stored_time_ms, GError **error);

/*
 * Reports of @uuid with @since_ms <= time <= @until_ms (0 for either: no
 * bound), reconstructed exactly, oldest first. With @limit > 0 only the newest
 * @limit of them. A GPtrArray of VtStoreReport; an unknown domain gives an
 * empty array.
 */
GPtrArray *vt_store_history(VtStore *store, const char *uuid, gint64 since_ms, gint64 until_ms,
			    guint limit, GError **error);

/* The newest report of @uuid; NULL with VT_ERROR_NOT_FOUND when there is none. */
VtStoreReport *vt_store_latest(VtStore *store, const char *uuid, GError **error);

/*
 * Retention, for the daemon to call periodically: per domain, drop reports
 * older than @now_ms - @max_age_ms (@max_age_ms 0: no age limit) and all but
 * the newest @max_per_domain (0: no count limit); resolved recommendations
 * older than the age limit go too. The audit trail is never pruned. The
 * number of reports removed goes to @removed (may be NULL).
 */
gboolean vt_store_prune(VtStore *store, gint64 now_ms, gint64 max_age_ms, guint max_per_domain,
			guint64 *removed, GError **error);

/*
 * The byte budget of each domain (0, the default: none). A domain's bytes are
 * its report rows plus the sections of the layouts its key rows use (shared
 * sections count for each domain). Checked at every insert and by
 * vt_store_prune: a domain over it loses its oldest reports until it is at
 * 90 % of it, with a warning logged (once an hour per domain at most) and
 * its count raised (vt_store_budget_exceeded).
 */
void vt_store_set_budget(VtStore *store, gint64 bytes_per_domain);
gboolean vt_store_domain_bytes(VtStore *store, gint64 domain_id, gint64 *bytes, GError **error);
/* How many times @uuid was found over the budget since the store was opened. */
guint64 vt_store_budget_exceeded(VtStore *store, const char *uuid);

/* ------------------------------------------------------------ host samples */

/* Per domain, the newest this many are kept (a day and more at the daemon's
 * default 10 s poll); each at most this long. */
#define VT_STORE_HOST_SAMPLES_MAX      16384u
#define VT_STORE_HOST_SAMPLE_MAX_BYTES (64u * 1024u)

typedef struct {
	gint64 time_ms;
	GBytes *data;
} VtStoreHostSample;

void vt_store_host_sample_free(VtStoreHostSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreHostSample, vt_store_host_sample_free)

/*
 * Keep the host's counters of domain @uuid taken at @time_ms (@data, opaque
 * here: host-sample.h gives their form); one at the same time replaces it.
 * They count in the domain's byte budget and go with its reports: retention
 * and budget trimming drop the samples older than the oldest report kept.
 */
gboolean vt_store_add_host_sample(VtStore *store, const char *uuid, const char *name,
				  gint64 time_ms, const void *data, gsize len, GError **error);
/* Host samples of @uuid with @since_ms <= time <= @until_ms (0: no bound),
 * oldest first, the newest @limit when @limit > 0. A GPtrArray of
 * VtStoreHostSample; an unknown domain gives an empty array. */
GPtrArray *vt_store_host_samples(VtStore *store, const char *uuid, gint64 since_ms, gint64 until_ms,
				 guint limit, GError **error);

/* ------------------------------------------------------------ recommendations */

typedef struct {
	char *domain_uuid; /* set on output */
	char *id;          /* e.g. "nic.queues:eth0", unique per domain while active */
	char *rule;        /* e.g. "nic.queues" */
	char *severity;    /* e.g. "warning" */
	char *summary;     /* one line for humans, may be NULL */
	gint64 first_seen_ms;
	gint64 last_seen_ms;
	gint64 resolved_ms; /* 0 while still active */
} VtStoreRecommendation;

void vt_store_recommendation_free(VtStoreRecommendation *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreRecommendation, vt_store_recommendation_free)

/*
 * After each rules run: @active (id, rule, severity, summary read) is every
 * recommendation that holds for @uuid now. New ones start an episode
 * (first_seen = @now_ms), continuing ones get last_seen = @now_ms, and open
 * episodes not in @active are resolved at @now_ms. A recommendation that comes
 * back later starts a new episode.
 */
gboolean vt_store_set_recommendations(VtStore *store, const char *uuid, gint64 now_ms,
				      const VtStoreRecommendation *active, guint n_active,
				      GError **error);

/* Episodes of @uuid (NULL: every domain), oldest first; resolved ones only
 * when @include_resolved. A GPtrArray of VtStoreRecommendation. */
GPtrArray *vt_store_list_recommendations(VtStore *store, const char *uuid,
					 gboolean include_resolved, GError **error);

/* ------------------------------------------------------------ audit trail */

typedef struct {
	gint64 id;         /* set by vt_store_audit_record */
	gint64 time_ms;    /* when the request arrived */
	char *domain_uuid; /* required */
	guint32 peer_uid;  /* SO_PEERCRED of the requester */
	char *request_id;  /* ApplyRequest/RollbackRequest request_id */
	char *recommendation_id;
	char *operation;   /* required: "apply", "dry-run", "rollback" or "confirm" */
	char *action_json; /* canonical JSON of the Action, or NULL */
	char *status;      /* ApplyResult status name; NULL on input means "pending" */
	char *before;
	char *after;
	char *change_id;
	char *reason;
	gint64 finished_ms; /* 0 while pending */
} VtStoreAudit;

void vt_store_audit_free(VtStoreAudit *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreAudit, vt_store_audit_free)

/*
 * Append a request to the audit trail before it is sent to the guest; its id
 * goes to @id (may be NULL). Audit writes are committed with
 * synchronous=FULL: they survive a power loss, not only a crash (an open
 * vt_store_begin() batch is committed first and ends).
 */
gboolean vt_store_audit_record(VtStore *store, const VtStoreAudit *entry, gint64 *id,
			       GError **error);
/* Record the outcome of entry @id: status from @result, and before, after,
 * change_id, reason where @result sets them (NULL keeps what the entry has);
 * @result's other fields are ignored. */
gboolean vt_store_audit_finish(VtStore *store, gint64 id, gint64 finished_ms,
			       const VtStoreAudit *result, GError **error);
/* Entries of @uuid (NULL: every domain) with time >= @since_ms, oldest first,
 * the newest @limit when @limit > 0. A GPtrArray of VtStoreAudit. */
GPtrArray *vt_store_audit_list(VtStore *store, const char *uuid, gint64 since_ms, guint limit,
			       GError **error);
/* The entry that produced @change_id on @uuid (for rollback); NULL with
 * VT_ERROR_NOT_FOUND when there is none. */
VtStoreAudit *vt_store_audit_find_change(VtStore *store, const char *uuid, const char *change_id,
					 GError **error);

G_END_DECLS
