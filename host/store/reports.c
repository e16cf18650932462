/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

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

#define HASH_LEN 32

void
vt_store_report_free(VtStoreReport *entry)
{
	if (entry == NULL)
		return;
	vt_report_free(entry->report);
	g_free(entry);
}

static GBytes *
sha256(const guint8 *data, gsize len)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[HASH_LEN];
	gsize digest_len = sizeof(digest);

	g_checksum_update(sum, data, len);
	g_checksum_get_digest(sum, digest, &digest_len);
	return g_bytes_new(digest, digest_len);
}

/* ------------------------------------------------------------ sections */

static gsize
scalar_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/*
 * One serialized Report per field set in @skeleton, in field order. Each part
 * is a shallow copy of one field into an empty Report: it only gets packed.
 */
static GPtrArray *
split_sections(const VtReport *skeleton)
{
	const ProtobufCMessageDescriptor *desc = skeleton->base.descriptor;
	GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		VtReport part = VIRTTUNE__V1__REPORT__INIT;
		const char *src = (const char *)skeleton;
		char *dst = (char *)&part;
		gsize qsize = 0, vsize = scalar_size(f->type);
		gboolean set;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			set = *(const size_t *)(src + f->quantifier_offset) > 0;
			qsize = sizeof(size_t);
			vsize = sizeof(void *);
		} else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			set = *(const uint32_t *)(src + f->quantifier_offset) == f->id;
			qsize = sizeof(uint32_t);
		} else if (f->type == PROTOBUF_C_TYPE_STRING ||
			   f->type == PROTOBUF_C_TYPE_MESSAGE) {
			set = *(void *const *)(src + f->offset) != NULL;
		} else {
			set = *(const protobuf_c_boolean *)(src + f->quantifier_offset);
			qsize = sizeof(protobuf_c_boolean);
		}
		if (!set)
			continue;
		if (qsize > 0)
			memcpy(dst + f->quantifier_offset, src + f->quantifier_offset, qsize);
		memcpy(dst + f->offset, src + f->offset, vsize);

		gsize len = protobuf_c_message_get_packed_size(&part.base);
		guint8 *buf = g_malloc(MAX(len, 1));

		protobuf_c_message_pack(&part.base, buf);
		g_ptr_array_add(parts, g_bytes_new_take(buf, len));
	}
	return parts;
}

static void
cache_id(GHashTable *cache, GBytes *hash, gint64 id)
{
	if (g_hash_table_size(cache) >= VT_STORE_ID_CACHE_MAX)
		g_hash_table_remove_all(cache);
	g_hash_table_insert(cache, g_bytes_ref(hash), g_memdup2(&id, sizeof(id)));
}

static gboolean
section_id(VtStore *store, GBytes *data, gint64 *id, GError **error)
{
	g_autoptr(GBytes) hash = sha256(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
	gint64 *cached = g_hash_table_lookup(store->sections, hash);
	int rc;

	if (cached != NULL) {
		*id = *cached;
		return TRUE;
	}
	{
		g_autoptr(VtStoreStmt) st =
			vt_store_stmt(store, "SELECT id FROM sections WHERE hash = ?", error);

		if (st == NULL)
			return FALSE;
		sqlite3_bind_blob(st, 1, g_bytes_get_data(hash, NULL), HASH_LEN, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*id = sqlite3_column_int64(st, 0);
			cache_id(store->sections, hash, *id);
			return TRUE;
		}
		if (rc != SQLITE_DONE)
			return vt_store_sql_error(store, error, "looking up a section");
	}
	g_autoptr(VtStoreStmt) ins =
		vt_store_stmt(store, "INSERT INTO sections (hash, data) VALUES (?, ?)", error);

	if (ins == NULL)
		return FALSE;
	sqlite3_bind_blob(ins, 1, g_bytes_get_data(hash, NULL), HASH_LEN, SQLITE_STATIC);
	/* zero-length blobs must stay blobs, not NULL */
	sqlite3_bind_blob(ins, 2, g_bytes_get_size(data) ? g_bytes_get_data(data, NULL) : "",
			  (int)g_bytes_get_size(data), SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "storing a section");
	*id = sqlite3_last_insert_rowid(store->db);
	cache_id(store->sections, hash, *id);
	return TRUE;
}

static gboolean
layout_id(VtStore *store, const GArray *section_ids, gint64 *id, GError **error)
{
	g_autoptr(GByteArray) key = g_byte_array_new();
	g_autoptr(GBytes) hash = NULL;
	gint64 *cached;
	int rc;

	for (guint i = 0; i < section_ids->len; i++) {
		guint64 v = (guint64)g_array_index(section_ids, gint64, i);
		guint8 le[8];

		for (guint b = 0; b < 8; b++)
			le[b] = (guint8)(v >> (8 * b));
		g_byte_array_append(key, le, sizeof(le));
	}
	hash = sha256(key->data, key->len);
	cached = g_hash_table_lookup(store->layouts, hash);
	if (cached != NULL) {
		*id = *cached;
		return TRUE;
	}
	{
		g_autoptr(VtStoreStmt) st =
			vt_store_stmt(store, "SELECT id FROM layouts WHERE hash = ?", error);

		if (st == NULL)
			return FALSE;
		sqlite3_bind_blob(st, 1, g_bytes_get_data(hash, NULL), HASH_LEN, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*id = sqlite3_column_int64(st, 0);
			cache_id(store->layouts, hash, *id);
			return TRUE;
		}
		if (rc != SQLITE_DONE)
			return vt_store_sql_error(store, error, "looking up a layout");
	}
	{
		g_autoptr(VtStoreStmt) ins =
			vt_store_stmt(store, "INSERT INTO layouts (hash) VALUES (?)", error);

		if (ins == NULL)
			return FALSE;
		sqlite3_bind_blob(ins, 1, g_bytes_get_data(hash, NULL), HASH_LEN, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			return vt_store_sql_error(store, error, "storing a layout");
		*id = sqlite3_last_insert_rowid(store->db);
	}
	for (guint i = 0; i < section_ids->len; i++) {
		g_autoptr(VtStoreStmt) part = vt_store_stmt(
			store,
			"INSERT INTO layout_parts (layout_id, pos, section_id) VALUES (?, ?, ?)",
			error);

		if (part == NULL)
			return FALSE;
		sqlite3_bind_int64(part, 1, *id);
		sqlite3_bind_int64(part, 2, i);
		sqlite3_bind_int64(part, 3, g_array_index(section_ids, gint64, i));
		if (sqlite3_step(part) != SQLITE_DONE)
			return vt_store_sql_error(store, error, "storing a layout");
	}
	cache_id(store->layouts, hash, *id);
	return TRUE;
}

/* ------------------------------------------------------------ writing */

static gboolean
last_time(VtStore *store, gint64 domain_id, gint64 *last, gboolean *found, GError **error)
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
} VtRowPlan;

static gboolean
write_report(VtStore *store, const char *uuid, const char *name, gint64 time_ms, VtReport *skeleton,
	     VtCounters *cur, VtRowPlan *plan, GError **error)
{
	g_autoptr(GPtrArray) parts = split_sections(skeleton);
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GByteArray) blob = NULL;
	VtStoreChain *chain;

	if (!vt_store_domain_id(store, uuid, name, time_ms, &plan->domain_id, error))
		return FALSE;
	for (guint i = 0; i < parts->len; i++) {
		gint64 id;

		if (!section_id(store, g_ptr_array_index(parts, i), &id, error))
			return FALSE;
		g_array_append_val(ids, id);
	}
	if (!layout_id(store, ids, &plan->layout, error))
		return FALSE;

	chain = g_hash_table_lookup(store->chains, uuid);
	if (chain != NULL && chain->domain_id != plan->domain_id)
		chain = NULL;
	if (chain != NULL) {
		plan->time_ms = MAX(time_ms, chain->last_time_ms + 1);
	} else {
		gint64 last = 0;
		gboolean found = FALSE;

		if (!last_time(store, plan->domain_id, &last, &found, error))
			return FALSE;
		plan->time_ms = found ? MAX(time_ms, last + 1) : time_ms;
	}
	plan->key = chain == NULL || chain->layout_id != plan->layout ||
		    chain->since_key + 1 >= VT_STORE_KEYFRAME_INTERVAL ||
		    vt_counters_len(chain->values) != vt_counters_len(cur);
	blob = vt_counters_encode(cur, plan->key ? NULL : chain->values);
	return insert_row(store, plan->domain_id, plan->time_ms, plan->key ? plan->layout : 0, blob,
			  error);
}

gboolean
vt_store_add_report(VtStore *store, const char *uuid, const char *name, gint64 time_ms,
		    const VtReport *report, gint64 *stored_time_ms, GError **error)
{
	g_autoptr(GBytes) packed = NULL;
	g_autoptr(VtReport) skeleton = NULL;
	g_autoptr(VtCounters) cur = vt_counters_new();
	VtRowPlan plan = {0};
	VtStoreChain *chain;
	gboolean ok;

	if (uuid == NULL || *uuid == '\0') {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "a domain needs a UUID");
		return FALSE;
	}
	/* a private copy becomes the skeleton; the caller's report is untouched */
	packed = vt_message_pack(&report->base, TRUE, error);
	if (packed == NULL)
		return FALSE;
	skeleton = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor,
						 g_bytes_get_data(packed, NULL),
						 g_bytes_get_size(packed), error);
	if (skeleton == NULL || !vt_counters_extract(skeleton, TRUE, cur, error))
		return FALSE;

	if (!vt_store_op_begin(store, FALSE, error))
		return FALSE;
	ok = write_report(store, uuid, name, time_ms, skeleton, cur, &plan, error);
	if (!vt_store_op_end(store, ok, FALSE, error))
		return FALSE;

	chain = g_hash_table_lookup(store->chains, uuid);
	if (chain == NULL) {
		chain = g_new0(VtStoreChain, 1);
		g_hash_table_insert(store->chains, g_strdup(uuid), chain);
	}
	chain->domain_id = plan.domain_id;
	chain->last_time_ms = plan.time_ms;
	chain->layout_id = plan.layout;
	chain->since_key = plan.key ? 0 : chain->since_key + 1;
	vt_counters_free(chain->values);
	chain->values = g_steal_pointer(&cur);
	if (stored_time_ms != NULL)
		*stored_time_ms = plan.time_ms;
	return TRUE;
}

/* ------------------------------------------------------------ reading */

typedef struct {
	gint64 id;
	GBytes *skeleton;  /* the concatenated sections */
	GByteArray *kinds; /* of its counter slots */
} VtLayout;

static void
layout_free(VtLayout *layout)
{
	if (layout == NULL)
		return;
	g_clear_pointer(&layout->skeleton, g_bytes_unref);
	g_clear_pointer(&layout->kinds, g_byte_array_unref);
	g_free(layout);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtLayout, layout_free)

static VtLayout *
load_layout(VtStore *store, gint64 id, GError **error)
{
	g_autoptr(VtLayout) layout = g_new0(VtLayout, 1);
	g_autoptr(GByteArray) buf = g_byte_array_new();
	g_autoptr(VtReport) skeleton = NULL;
	g_autoptr(VtCounters) zeros = vt_counters_new();
	gint64 expect = 0;
	int rc;

	{
		g_autoptr(VtStoreStmt) st =
			vt_store_stmt(store, "SELECT 1 FROM layouts WHERE id = ?", error);

		if (st == NULL)
			return NULL;
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "layout %" G_GINT64_FORMAT " is missing", id);
			return NULL;
		}
		if (rc != SQLITE_ROW) {
			vt_store_sql_error(store, error, "reading a layout");
			return NULL;
		}
	}
	g_autoptr(VtStoreStmt) st = vt_store_stmt(store,
						  "SELECT p.pos, s.data FROM layout_parts p"
						  " LEFT JOIN sections s ON s.id = p.section_id"
						  " WHERE p.layout_id = ? ORDER BY p.pos",
						  error);

	if (st == NULL)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gsize len = (gsize)sqlite3_column_bytes(st, 1);

		if (sqlite3_column_int64(st, 0) != expect++ ||
		    sqlite3_column_type(st, 1) != SQLITE_BLOB) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "layout %" G_GINT64_FORMAT " has a missing section", id);
			return NULL;
		}
		if (len > VT_FRAME_MAX - buf->len) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "layout %" G_GINT64_FORMAT " is over %u bytes", id,
				    VT_FRAME_MAX);
			return NULL;
		}
		g_byte_array_append(buf, sqlite3_column_blob(st, 1), (guint)len);
	}
	if (rc != SQLITE_DONE) {
		vt_store_sql_error(store, error, "reading a layout");
		return NULL;
	}
	skeleton = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor, buf->data,
						 buf->len, error);
	if (skeleton == NULL) {
		g_prefix_error(error, "layout %" G_GINT64_FORMAT ": ", id);
		return NULL;
	}
	if (!vt_counters_extract(skeleton, FALSE, zeros, error))
		return NULL;
	layout->id = id;
	layout->kinds = g_byte_array_ref(zeros->kinds);
	layout->skeleton = g_byte_array_free_to_bytes(g_steal_pointer(&buf));
	return g_steal_pointer(&layout);
}

static VtReport *
rebuild(const VtLayout *layout, const VtCounters *values, GError **error)
{
	g_autoptr(VtReport) report = (VtReport *)vt_message_unpack(
		&virttune__v1__report__descriptor, g_bytes_get_data(layout->skeleton, NULL),
		g_bytes_get_size(layout->skeleton), error);

	if (report == NULL || !vt_counters_inject(report, values, error))
		return NULL;
	return g_steal_pointer(&report);
}

typedef struct {
	VtLayout *layout;
	VtCounters *values;
	gint64 time_ms;
} VtChainState;

static void
chain_state_clear(VtChainState *state)
{
	g_clear_pointer(&state->layout, layout_free);
	g_clear_pointer(&state->values, vt_counters_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtChainState, chain_state_clear)

/*
 * Decode the rows of @domain_id from the key at or before @since_ms up to
 * @until_ms; rows from @since_ms on are appended to @out (when not NULL).
 * @state ends at the last row decoded.
 */
static gboolean
decode_range(VtStore *store, gint64 domain_id, gint64 since_ms, gint64 until_ms, GPtrArray *out,
	     VtChainState *state, GError **error)
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
				layout_free(state->layout);
				state->layout = load_layout(store, lid, &local);
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
			entry->report = rebuild(state->layout, values, &local);
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
	g_auto(VtChainState) state = {0};
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
		ok = decode_range(store, domain_id, since_ms, until_ms, out, &state, error);
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

/* ------------------------------------------------------------ retention */

static gboolean
step_time(VtStore *store, const char *sql, gint64 domain_id, gint64 arg, gint64 *out,
	  gboolean *found, GError **error)
{
	g_autoptr(VtStoreStmt) st = vt_store_stmt(store, sql, error);
	int rc;

	if (st == NULL)
		return FALSE;
	sqlite3_bind_int64(st, 1, domain_id);
	sqlite3_bind_int64(st, 2, arg);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found) {
		*out = sqlite3_column_int64(st, 0);
		return TRUE;
	}
	if (rc != SQLITE_DONE)
		return vt_store_sql_error(store, error, "pruning reports");
	return TRUE;
}

gboolean
vt_store_prune_reports(VtStore *store, gint64 domain_id, gint64 cutoff_ms, guint max_count,
		       guint64 *removed, GError **error)
{
	gint64 cut = cutoff_ms, t, first;
	gboolean found, older;

	if (max_count > 0) {
		if (!step_time(store,
			       "SELECT time_ms FROM reports WHERE domain_id = ?"
			       " ORDER BY time_ms DESC LIMIT 1 OFFSET ?",
			       domain_id, (gint64)max_count - 1, &t, &found, error))
			return FALSE;
		if (found)
			cut = MAX(cut, t);
	}
	if (cut == G_MININT64)
		return TRUE;
	if (!step_time(store,
		       "SELECT time_ms FROM reports WHERE domain_id = ? AND time_ms < ? LIMIT 1",
		       domain_id, cut, &t, &older, error))
		return FALSE;
	if (!older)
		return TRUE;

	/* the oldest row kept must be a key: rewrite it as one if it is a delta */
	{
		g_autoptr(VtStoreStmt) st = vt_store_stmt(
			store,
			"SELECT time_ms, layout_id IS NULL FROM reports WHERE domain_id = ?"
			" AND time_ms >= ? ORDER BY time_ms LIMIT 1",
			error);
		int rc;

		if (st == NULL)
			return FALSE;
		sqlite3_bind_int64(st, 1, domain_id);
		sqlite3_bind_int64(st, 2, cut);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return vt_store_sql_error(store, error, "pruning reports");
		found = rc == SQLITE_ROW && sqlite3_column_int(st, 1);
		first = found ? sqlite3_column_int64(st, 0) : 0;
	}
	if (found) {
		g_auto(VtChainState) state = {0};
		g_autoptr(GByteArray) blob = NULL;
		g_autoptr(VtStoreStmt) up = NULL;

		if (!decode_range(store, domain_id, first, first, NULL, &state, error))
			return FALSE;
		if (state.layout == NULL || state.time_ms != first) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "report at %" G_GINT64_FORMAT " ms has no key", first);
			return FALSE;
		}
		blob = vt_counters_encode(state.values, NULL);
		up = vt_store_stmt(store,
				   "UPDATE reports SET layout_id = ?, counters = ?"
				   " WHERE domain_id = ? AND time_ms = ?",
				   error);
		if (up == NULL)
			return FALSE;
		sqlite3_bind_int64(up, 1, state.layout->id);
		sqlite3_bind_blob(up, 2, blob->data, (int)blob->len, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, domain_id);
		sqlite3_bind_int64(up, 4, first);
		if (sqlite3_step(up) != SQLITE_DONE)
			return vt_store_sql_error(store, error, "pruning reports");
	}
	g_autoptr(VtStoreStmt) del = vt_store_stmt(
		store, "DELETE FROM reports WHERE domain_id = ? AND time_ms < ?", error);

	if (del == NULL)
		return FALSE;
	sqlite3_bind_int64(del, 1, domain_id);
	sqlite3_bind_int64(del, 2, cut);
	if (sqlite3_step(del) != SQLITE_DONE)
		return vt_store_sql_error(store, error, "pruning reports");
	*removed += (guint64)sqlite3_changes(store->db);
	return TRUE;
}

gboolean
vt_store_collect_garbage(VtStore *store, GError **error)
{
	return vt_store_exec(
		store,
		"DELETE FROM layout_parts WHERE layout_id IN (SELECT id FROM layouts l"
		"  WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.layout_id = l.id));"
		"DELETE FROM layouts WHERE NOT EXISTS"
		"  (SELECT 1 FROM reports r WHERE r.layout_id = layouts.id);"
		"DELETE FROM sections WHERE NOT EXISTS"
		"  (SELECT 1 FROM layout_parts p WHERE p.section_id = sections.id);",
		error);
}
