/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the store's own files and its tests; not part of the API. */

#include <sqlite3.h>

#include "counters.h"
#include "store.h"

G_BEGIN_DECLS

/* 'VT01': marks the file as ours, so another SQLite file is refused. */
#define VT_STORE_APPLICATION_ID 0x56543031

/* Cached hash -> row id entries for sections and layouts; dropped past this. */
#define VT_STORE_ID_CACHE_MAX 4096u

/* What the writer remembers of each domain's newest report, so a report costs
 * no read; dropped whenever a transaction rolls back or prune runs. */
typedef struct {
	gint64 domain_id;
	gint64 last_time_ms;
	gint64 layout_id;    /* of the running chain */
	guint since_key;     /* deltas written since the key */
	VtCounters *values;  /* of the newest report */
	GByteArray *shape;   /* its skeleton's (vt_counters_extract_shape()): the same
			      * again is the same layout */
	gsize sections_size; /* the packed sections of that skeleton */
	gint64 bytes;        /* an upper estimate of the domain's bytes; -1: unknown */
} VtStoreChain;

/* What the writer knows of a domain's row, so that a report costs no upsert
 * of it: its id and name, when last_seen_ms was last raised, and the set of
 * recommendations last written (vt_store_set_recommendations). Dropped with
 * the chains. */
typedef struct {
	gint64 id;
	char *name;
	gint64 seen_written_ms; /* last_seen_ms as written */
	char *recommendations;  /* the active set last written, flattened; NULL: unknown */
	gint64 recommendations_written_ms;
} VtStoreDomainRow;

/* An unchanged last_seen_ms (of a domain, of a recommendation that stays) is
 * written again at most this often: the daemon's reports and analyses do not
 * rewrite the same rows every interval. */
#define VT_STORE_SEEN_EVERY_MS 60000

/* Whether a last_seen_ms written at @written_ms may stay as it is at @now_ms. */
static inline gboolean
vt_store_seen_recently(gint64 written_ms, gint64 now_ms)
{
	return now_ms >= written_ms && now_ms - written_ms < VT_STORE_SEEN_EVERY_MS;
}

struct _VtStore {
	sqlite3 *db;
	char *path;
	guint schema_version;
	GHashTable *stmts;       /* const char *sql -> sqlite3_stmt */
	GHashTable *sections;    /* GBytes hash -> gint64 id */
	GHashTable *layouts;     /* GBytes hash -> gint64 id */
	GHashTable *chains;      /* char *uuid -> VtStoreChain */
	GHashTable *domain_rows; /* char *uuid -> VtStoreDomainRow */
	gint64 budget_bytes;     /* per domain; 0: none */
	GHashTable *budget_hits; /* char *uuid -> guint64[2]: times over, last log */
	gboolean in_batch;
	GByteArray *shape; /* vt_store_add_report()'s, kept grown between reports */
};

/* Open and migrate up to @target_version (tests build old databases this way). */
VtStore *vt_store_open_version(const char *path, guint target_version, GError **error);

/* A cached prepared statement, reset and unbound; reset it again when done
 * (g_autoptr(VtStoreStmt) does that). */
typedef sqlite3_stmt VtStoreStmt;
VtStoreStmt *vt_store_stmt(VtStore *store, const char *sql, GError **error);
static inline void
vt_store_stmt_done(VtStoreStmt *stmt)
{
	sqlite3_reset(stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreStmt, vt_store_stmt_done)

gboolean vt_store_exec(VtStore *store, const char *sql, GError **error);
gboolean vt_store_sql_error(VtStore *store, GError **error, const char *what);

/* Each public write runs between these: a transaction of its own, or a
 * savepoint inside a batch. @durable commits with synchronous=FULL (inside a
 * batch the batch's commit decides). */
gboolean vt_store_op_begin(VtStore *store, gboolean durable, GError **error);
gboolean vt_store_op_end(VtStore *store, gboolean ok, gboolean durable, GError **error);
void vt_store_forget_caches(VtStore *store);

/* The domain's row id, created (first_seen = last_seen = @now_ms) when
 * missing, else the name updated and last_seen raised to @now_ms (when it is
 * VT_STORE_SEEN_EVERY_MS behind: a known domain with the same name costs no
 * write in between). */
gboolean vt_store_domain_id(VtStore *store, const char *uuid, const char *name, gint64 now_ms,
			    gint64 *id, GError **error);
/* The row id of an existing domain: 0 when unknown. */
/* The cached row of @uuid, or NULL (after vt_store_domain_id, until the caches
 * are forgotten). */
VtStoreDomainRow *vt_store_domain_row(VtStore *store, const char *uuid);
/* The cached row of @uuid when vt_store_domain_id() would write nothing for
 * @name (NULL: any) at @now_ms, else NULL. */
VtStoreDomainRow *vt_store_domain_row_current(VtStore *store, const char *uuid, const char *name,
					      gint64 now_ms);
gboolean vt_store_lookup_domain(VtStore *store, const char *uuid, gint64 *id, GError **error);
/* The time of @domain_id's newest report; *found FALSE when it has none. */
gboolean vt_store_newest_report_time(VtStore *store, gint64 domain_id, gint64 *time_ms,
				     gboolean *found, GError **error);

/* Column helpers: a NULL text column is NULL. */
char *vt_store_column_text(sqlite3_stmt *stmt, int col);
void vt_store_bind_text(sqlite3_stmt *stmt, int col, const char *text);

/* layouts.c: a report's skeleton stored as deduplicated sections. */
typedef struct {
	gint64 id;
	GBytes *skeleton;  /* the concatenated sections */
	GByteArray *kinds; /* of its counter slots */
} VtStoreLayout;

/* @skeleton's sections packed one after the other; @ends (gsize) gets where
 * each ends. */
GBytes *vt_store_layout_pack(const VtReport *skeleton, GArray *ends);
/* The id of the layout of @sections (as vt_store_layout_pack gives them), its
 * sections and layout stored when new. */
gboolean vt_store_layout_store(VtStore *store, GBytes *sections, const GArray *ends, gint64 *id,
			       GError **error);
VtStoreLayout *vt_store_layout_load(VtStore *store, gint64 id, GError **error);
void vt_store_layout_free(VtStoreLayout *layout);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtStoreLayout, vt_store_layout_free)
/* The report of @layout with @values injected. */
VtReport *vt_store_layout_rebuild(const VtStoreLayout *layout, const VtCounters *values,
				  GError **error);

/* reports.c: where decoding a domain's chain of rows stands. */
typedef struct {
	VtStoreLayout *layout;
	VtCounters *values;
	gint64 time_ms;
} VtStoreChainState;

void vt_store_chain_state_clear(VtStoreChainState *state);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtStoreChainState, vt_store_chain_state_clear)

/*
 * Decode the rows of @domain_id from the key at or before @since_ms up to
 * @until_ms; rows from @since_ms on are appended to @out (when not NULL).
 * @state ends at the last row decoded.
 */
gboolean vt_store_decode_range(VtStore *store, gint64 domain_id, gint64 since_ms, gint64 until_ms,
			       GPtrArray *out, VtStoreChainState *state, GError **error);

/* retention.c: retention of reports, inside the prune transaction. */
gboolean vt_store_prune_reports(VtStore *store, gint64 domain_id, gint64 cutoff_ms, guint max_count,
				guint64 *removed, GError **error);
gboolean vt_store_collect_garbage(VtStore *store, GError **error);
/* host-samples.c: drop @domain_id's host samples older than @cutoff_ms. */
gboolean vt_store_prune_host_samples(VtStore *store, gint64 domain_id, gint64 cutoff_ms,
				     GError **error);

/* budget.c: inside a write. @bytes: an estimate of the domain's bytes (-1:
 * unknown); when it is over the budget the exact figure is taken and, if
 * that is over too, the oldest reports dropped (*@trimmed: then forget the
 * caches once the write is done). @bytes ends exact when it was measured. */
gboolean vt_store_budget_enforce(VtStore *store, const char *uuid, const char *name,
				 gint64 domain_id, gint64 *bytes, gboolean *trimmed,
				 GError **error);

G_END_DECLS
