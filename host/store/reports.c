/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bounds.h"
#include "error.h"
#include "store-private.h"

/*
 * A report is stored as
 *   - its skeleton (the report with every counter zeroed, see counters.h) cut
 *     into sections, one per top-level field of Report, each a serialized
 *     Report holding only that field, kept once per distinct content (keyed
 *     by SHA-256); the ordered list of a report's sections is a layout;
 *   - a row (domain, time, layout on key rows only, counters blob).
 * Protobuf merges concatenated messages field by field, so the concatenated
 * sections of a layout parse back into the skeleton; injecting the counters
 * gives the report back exactly.
 */

void
vt_store_report_free(VtStoreReport *entry)
{
	if (entry == NULL)
		return;
	vt_report_free(entry->report);
	g_free(entry);
}

/* ------------------------------------------------------------ writing */

gboolean
vt_store_newest_report_time(VtStore *store, gint64 domain_id, gint64 *last, gboolean *found,
			    GError **error)
{
	g_autoptr(VtStoreStmt) st =
		vt_store_stmt(store, "SELECT max(time_ms) FROM reports WHERE domain_id = ?", error);

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return vt_store_sql_error(store, error, "reading the last report time");
	*found = sqlite3_column_type(st, 0) != SQLITE_NULL;
	*last = sqlite3_column_int64(st, 0);
	return TRUE;
}

static gboolean
insert_row(VtStore *store, gint64 domain_id, gint64 time_ms, gint64 layout, const GByteArray *blob,
	   GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store,
		"INSERT INTO reports (domain_id, time_ms, layout_id, counters) VALUES (?, ?, ?, ?)",
		error);

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_int64(st, 2, time_ms);
	if (layout > 0)
		sqlite3_bind_int64(st, 3, layout);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_blob(st, 4, blob->data, (int)blob->len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "storing a report");
	return TRUE;
}

typedef struct {
	gint64 domain_id;
	gint64 time_ms;
	gint64 layout;
	gboolean key;
	gsize row_bytes; /* the counters blob written */
} VtRowPlan;

/* A report's skeleton, its sections packed when first needed: a report whose
 * shape is its domain's last one needs none. */
typedef struct {
	VtReport *report;      /* the caller's, its counters in place */
	const VtCounters *cur; /* its counters */
	GBytes *sections;
	GArray *ends;
} VtSkeleton;

static void
skeleton_clear(VtSkeleton *sk)
{
	g_clear_pointer(&sk->sections, g_bytes_unref);
	g_clear_pointer(&sk->ends, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtSkeleton, skeleton_clear)

static GBytes *
skeleton_sections(VtSkeleton *sk)
{
	if (sk->sections == NULL) {
		/* the skeleton is the report itself with its counters zeroed for
		 * as long as it takes to pack the sections, then given back: no
		 * copy of a report of up to a frame's size. The received bytes
		 * cannot serve instead: counters sit inside the same submessages
		 * as the configuration. */
		vt_counters_zero(sk->report);
		sk->sections = vt_store_layout_pack(sk->report, sk->ends);
		/* cannot fail: @cur came from this report */
		vt_counters_inject(sk->report, sk->cur, NULL);
	}
	return sk->sections;
}

/* @same_skeleton: @sk's is the domain's chain's last one. */
static gboolean
write_report(VtStore *store, const char *uuid, const char *name, gint64 time_ms, VtSkeleton *sk,
	     gboolean same_skeleton, VtCounters *cur, VtRowPlan *plan, GError **error)
{
	g_autoptr(GByteArray) blob = NULL;
	VtStoreChain *chain;

	if (!vt_store_domain_id(store, uuid, name, time_ms, &plan->domain_id, error))
		return FALSE;
	chain = g_hash_table_lookup(store->chains, uuid);
	if (chain != NULL && chain->domain_id != plan->domain_id)
		chain = NULL;
	/* an idle guest's skeleton does not change: its layout is the last one,
	 * no need to pack, hash and look up its sections again */
	if (chain != NULL && same_skeleton)
		plan->layout = chain->layout_id;
	else if (!vt_store_layout_store(store, skeleton_sections(sk), sk->ends, &plan->layout,
					error))
		return FALSE;

	if (chain != NULL) {
		plan->time_ms = MAX(time_ms, chain->last_time_ms + 1);
	} else {
		gint64 last = 0;
		gboolean found = FALSE;

		if (!vt_store_newest_report_time(store, plan->domain_id, &last, &found, error))
			return FALSE;
		plan->time_ms = found ? MAX(time_ms, last + 1) : time_ms;
	}
	plan->key = chain == NULL || chain->layout_id != plan->layout ||
		    chain->since_key + 1 >= VT_STORE_KEYFRAME_INTERVAL ||
		    vt_counters_len(chain->values) != vt_counters_len(cur);
	blob = vt_counters_encode(cur, plan->key ? NULL : chain->values);
	plan->row_bytes = blob->len;
	return insert_row(store, plan->domain_id, plan->time_ms, plan->key ? plan->layout : 0, blob,
			  error);
}

/* Whether write_report() will make one write only, the report's row: inside a
 * batch, with the domain's row known and not due for last_seen, and the
 * skeleton the same as the last one. */
static gboolean
single_insert(VtStore *store, const char *uuid, const char *name, gint64 time_ms,
	      gboolean same_skeleton)
{
	VtStoreChain *chain = g_hash_table_lookup(store->chains, uuid);
	VtStoreDomainRow *row = vt_store_domain_row_current(store, uuid, name, time_ms);

	return store->in_batch && same_skeleton && row != NULL && chain->domain_id == row->id;
}

/* After an insert: a domain over the budget loses its oldest reports. */
static gboolean
enforce_budget(VtStore *store, const char *uuid, const char *name, VtStoreChain *chain,
	       GError **error)
{
	gint64 bytes = chain->bytes;
	gboolean trimmed = FALSE, ok;

	if (store->budget_bytes <= 0 || (bytes >= 0 && bytes <= store->budget_bytes))
		return TRUE;
	if (!vt_store_op_begin(store, FALSE, error))
		return FALSE;
	ok = vt_store_budget_enforce(store, uuid, name, chain->domain_id, &bytes, &trimmed, error);
	if (!vt_store_op_end(store, ok, FALSE, error))
		return FALSE;
	if (trimmed)
		vt_store_forget_caches(store); /* rows rewritten, layouts collected */
	else
		chain->bytes = bytes;
	return TRUE;
}

/* Whether @report packs to at most a frame. With the skeleton of the last
 * report, whose sections packed to @chain's size, a bound does: a uint64
 * counter grows by at most 9 bytes from the 0 it is in the skeleton, a
 * message's length by at most 4 (a frame is under 2^28). The report's own
 * unknown fields are in its shape but not in its sections: with any, the
 * packed size is computed. */
static gboolean
within_frame(const VtReport *report, const VtStoreChain *chain, gboolean same_skeleton,
	     const VtCounters *cur, guint messages)
{
	if (same_skeleton && report->base.n_unknown_fields == 0 &&
	    chain->sections_size + 9 * (gsize)vt_counters_len(cur) + 4 * (gsize)messages <=
		    VT_FRAME_MAX)
		return TRUE;
	return protobuf_c_message_get_packed_size(&report->base) <= VT_FRAME_MAX;
}

gboolean
vt_store_add_report(VtStore *store, const char *uuid, const char *name, gint64 time_ms,
		    const VtReport *report, gint64 *stored_time_ms, GError **error)
{
	VtStoreChain *chain = uuid != NULL ? g_hash_table_lookup(store->chains, uuid) : NULL;
	/* as many as the last report had, most likely */
	g_autoptr(VtCounters) cur = vt_counters_new_sized(
		chain != NULL && chain->values != NULL ? vt_counters_len(chain->values) : 0);
	g_auto(VtSkeleton) sk = {.report = (VtReport *)report,
				 .ends = g_array_new(FALSE, FALSE, sizeof(gsize))};
	GByteArray *shape = store->shape;
	VtRowPlan plan = {0};
	gboolean same_skeleton; /* as the chain's last report: compared once */
	guint messages = 0;
	gboolean ok;

	if (uuid == NULL || *uuid == '\0') {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "a domain needs a UUID");
		return FALSE;
	}
	g_byte_array_set_size(shape, 0);
	if (!vt_counters_extract_shape(report, cur, shape, &messages, error))
		return FALSE;
	sk.cur = cur;
	same_skeleton = chain != NULL && chain->shape != NULL && chain->shape->len == shape->len &&
			memcmp(chain->shape->data, shape->data, shape->len) == 0;
	/* what a guest may send, as vt_message_pack() bounds it */
	if (!within_frame(report, chain, same_skeleton, cur, messages)) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "a report is over %u bytes",
			    VT_FRAME_MAX);
		return FALSE;
	}
	if (single_insert(store, uuid, name, time_ms, same_skeleton)) {
		/* one statement is atomic on its own: no savepoint around it */
		if (!write_report(store, uuid, name, time_ms, &sk, TRUE, cur, &plan, error)) {
			vt_store_forget_caches(store);
			return FALSE;
		}
	} else {
		if (!vt_store_op_begin(store, FALSE, error))
			return FALSE;
		ok = write_report(store, uuid, name, time_ms, &sk, same_skeleton, cur, &plan,
				  error);
		if (!vt_store_op_end(store, ok, FALSE, error))
			return FALSE;
	}

	chain = g_hash_table_lookup(store->chains, uuid);
	if (chain == NULL) {
		chain = g_new0(VtStoreChain, 1);
		g_hash_table_insert(store->chains, g_strdup(uuid), chain);
	}
	/* a new shape: its sections were packed for its new layout */
	if (!same_skeleton || chain->shape == NULL) {
		if (chain->shape != NULL)
			g_byte_array_unref(chain->shape);
		/* kept for every domain at its size */
		chain->shape = g_byte_array_sized_new(shape->len);
		g_byte_array_append(chain->shape, shape->data, shape->len);
		chain->sections_size = g_bytes_get_size(skeleton_sections(&sk));
	}
	if (chain->values == NULL)
		chain->bytes = -1; /* new: measured below when there is a budget */
	else if (chain->bytes >= 0)
		chain->bytes +=
			(gint64)plan.row_bytes + (plan.key ? (gint64)chain->sections_size : 0);
	chain->domain_id = plan.domain_id;
	chain->last_time_ms = plan.time_ms;
	chain->layout_id = plan.layout;
	chain->since_key = plan.key ? 0 : chain->since_key + 1;
	vt_counters_free(chain->values);
	chain->values = g_steal_pointer(&cur);
	if (stored_time_ms != NULL)
		*stored_time_ms = plan.time_ms;
	return enforce_budget(store, uuid, name, chain, error);
}

/* ------------------------------------------------------------ reading */

void
vt_store_chain_state_clear(VtStoreChainState *state)
{
	g_clear_pointer(&state->layout, vt_store_layout_free);
	g_clear_pointer(&state->values, vt_counters_free);
}

gboolean
vt_store_decode_range(VtStore *store, gint64 domain_id, gint64 since_ms, gint64 until_ms,
		      GPtrArray *out, VtStoreChainState *state, GError **error)
{
	gint64 start = since_ms;
	int rc;

	{
		g_autoptr(VtStoreStmt) st = vt_store_stmt(
			store,
			"SELECT time_ms FROM reports WHERE domain_id = ? AND time_ms <= ?"
			" AND layout_id IS NOT NULL ORDER BY time_ms DESC LIMIT 1",
			error);

		if (st == NULL)
			return FALSE;
		sqlite3_bind_int64(st, 1, domain_id);
		sqlite3_bind_int64(st, 2, since_ms);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			start = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			return vt_store_sql_error(store, error, "finding a key report");
	}

	g_autoptr(VtStoreStmt) st = vt_store_stmt(
		store,
		"SELECT time_ms, layout_id, counters FROM reports"
		" WHERE domain_id = ? AND time_ms >= ? AND time_ms <= ? ORDER BY time_ms",
		error);

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gint64 t = sqlite3_column_int64(st, 0);
		gboolean key_row = sqlite3_column_type(st, 1) != SQLITE_NULL;
		const guint8 *blob = sqlite3_column_blob(st, 2);
		gsize len = (gsize)sqlite3_column_bytes(st, 2);
		g_autoptr(GError) local = NULL;
		VtCounters *values;

		if (key_row) {
			gint64 lid = sqlite3_column_int64(st, 1);

			if (state->layout == NULL || state->layout->id != lid) {
				vt_store_layout_free(state->layout);
				state->layout = vt_store_layout_load(store, lid, &local);
			}
		} else if (state->layout == NULL) {
			g_set_error(&local, VT_ERROR, VT_ERROR_INVALID, "no key report before it");
		}
		values = local == NULL
				 ? vt_counters_decode(blob, len, state->layout->kinds,
						      key_row ? NULL : state->values, NULL, &local)
				 : NULL;
		if (values == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "report at %" G_GINT64_FORMAT " ms is unreadable: %s", t,
				    local->message);
			return FALSE;
		}
		vt_counters_free(state->values);
		state->values = values;
		state->time_ms = t;
		if (out != NULL && t >= since_ms) {
			VtStoreReport *entry = g_new0(VtStoreReport, 1);

			entry->time_ms = t;
			g_ptr_array_add(out, entry);
			entry->report = vt_store_layout_rebuild(state->layout, values, &local);
			if (entry->report == NULL) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "report at %" G_GINT64_FORMAT " ms is unreadable: %s",
					    t, local->message);
				return FALSE;
			}
		}
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "reading reports");
	return TRUE;
}

GPtrArray *
vt_store_history(VtStore *store, const char *uuid, gint64 since_ms, gint64 until_ms, guint limit,
		 GError **error)
{
	g_autoptr(GPtrArray) out =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_store_report_free);
	g_auto(VtStoreChainState) state = {0};
	gint64 domain_id;
	gboolean ok;

	if (since_ms <= 0)
		since_ms = G_MININT64;
	if (until_ms <= 0)
		until_ms = G_MAXINT64;
	/* a read transaction: one consistent snapshot across the queries */
	if (!vt_store_exec(store, store->in_batch ? "SAVEPOINT vt_read" : "BEGIN", error))
		return NULL;
	ok = vt_store_lookup_domain(store, uuid, &domain_id, error);
	if (ok && domain_id != 0 && limit > 0) {
		g_autoptr(VtStoreStmt) st = vt_store_stmt(
			store,
			"SELECT time_ms FROM reports WHERE domain_id = ? AND time_ms >= ?"
			" AND time_ms <= ? ORDER BY time_ms DESC LIMIT 1 OFFSET ?",
			error);
		int rc;

		ok = st != NULL;
		if (ok) {
			sqlite3_bind_int64(st, 1, domain_id);
			sqlite3_bind_int64(st, 2, since_ms);
			sqlite3_bind_int64(st, 3, until_ms);
			sqlite3_bind_int64(st, 4, (gint64)limit - 1);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				since_ms = MAX(since_ms, sqlite3_column_int64(st, 0));
			else if (rc != SQLITE_DONE)
				ok = vt_store_sql_error(store, error, "reading reports");
		}
	}
	if (ok && domain_id != 0)
		ok = vt_store_decode_range(store, domain_id, since_ms, until_ms, out, &state,
					   error);
	vt_store_exec(store, store->in_batch ? "RELEASE vt_read" : "COMMIT", NULL);
	return ok ? g_steal_pointer(&out) : NULL;
}

VtStoreReport *
vt_store_latest(VtStore *store, const char *uuid, GError **error)
{
	g_autoptr(GPtrArray) reports = vt_store_history(store, uuid, 0, 0, 1, error);

	if (reports == NULL)
		return NULL;
	if (reports->len == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "no report of %s is stored", uuid);
		return NULL;
	}
	return g_ptr_array_steal_index(reports, 0);
}
