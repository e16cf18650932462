/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The skeleton of a report (counters zeroed) cut into sections, one per
 * top-level field of Report, each stored once per distinct content (keyed by
 * SHA-256); a layout is the ordered list of a report's sections, stored once
 * too. Reading concatenates a layout's sections back into the skeleton.
 */
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "store-private.h"

#define HASH_LEN 32

/* ------------------------------------------------------------ writing */

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

/*
 * One serialized Report per field set in @skeleton, in field order, packed
 * one after the other into one buffer; @ends gets where each ends. Each part
 * is a shallow copy of one field into an empty Report: it only gets packed.
 */
GBytes *
vt_store_layout_pack(const VtReport *skeleton, GArray *ends)
{
	const ProtobufCMessageDescriptor *desc = skeleton->base.descriptor;
	g_autoptr(GByteArray) out = g_byte_array_sized_new(4096);

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		VtReport part = VIRTTUNE__V1__REPORT__INIT;
		const char *src = (const char *)skeleton;
		char *dst = (char *)&part;
		gsize qsize = 0, vsize = vt_protobuf_type_size(f->type), len, at;
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

		len = protobuf_c_message_get_packed_size(&part.base);
		at = out->len;
		g_byte_array_set_size(out, (guint)(at + len));
		protobuf_c_message_pack(&part.base, out->data + at);
		at += len;
		g_array_append_val(ends, at);
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static void
cache_id(GHashTable *cache, GBytes *hash, gint64 id)
{
	if (g_hash_table_size(cache) >= VT_STORE_ID_CACHE_MAX)
		g_hash_table_remove_all(cache);
	g_hash_table_insert(cache, g_bytes_ref(hash), g_memdup2(&id, sizeof(id)));
}

static gboolean
section_id(VtStore *store, const guint8 *data, gsize len, gint64 *id, GError **error)
{
	g_autoptr(GBytes) hash = sha256(data, len);
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
	sqlite3_bind_blob(ins, 2, len > 0 ? (const void *)data : "", (int)len, SQLITE_STATIC);
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

gboolean
vt_store_layout_store(VtStore *store, GBytes *sections, const GArray *ends, gint64 *id,
		      GError **error)
{
	const guint8 *data = g_bytes_get_data(sections, NULL);
	g_autoptr(GArray) ids = g_array_sized_new(FALSE, FALSE, sizeof(gint64), ends->len);
	gsize start = 0;

	for (guint i = 0; i < ends->len; i++) {
		gsize end = g_array_index(ends, gsize, i);
		gint64 section;

		if (!section_id(store, data + start, end - start, &section, error))
			return FALSE;
		g_array_append_val(ids, section);
		start = end;
	}
	return layout_id(store, ids, id, error);
}

/* ------------------------------------------------------------ reading */

void
vt_store_layout_free(VtStoreLayout *layout)
{
	if (layout == NULL)
		return;
	g_clear_pointer(&layout->skeleton, g_bytes_unref);
	g_clear_pointer(&layout->kinds, g_byte_array_unref);
	g_free(layout);
}
VtStoreLayout *
vt_store_layout_load(VtStore *store, gint64 id, GError **error)
{
	g_autoptr(VtStoreLayout) layout = g_new0(VtStoreLayout, 1);
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

VtReport *
vt_store_layout_rebuild(const VtStoreLayout *layout, const VtCounters *values, GError **error)
{
	g_autoptr(VtReport) report = (VtReport *)vt_message_unpack(
		&virttune__v1__report__descriptor, g_bytes_get_data(layout->skeleton, NULL),
		g_bytes_get_size(layout->skeleton), error);

	if (report == NULL || !vt_counters_inject(report, values, error))
		return NULL;
	return g_steal_pointer(&report);
}
