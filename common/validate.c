/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "validate.h"

#include <math.h>
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "message.h"

#define VT_VALIDATE_MAX_DEPTH 16

typedef struct {
	const char *field; /* full name: message.field */
	gsize max;
} RepeatedBound;

static const RepeatedBound repeated_bounds[] = {
	{"virttune.v1.Report.block", VT_REPORT_MAX_BLOCK},
	{"virttune.v1.Report.nics", VT_REPORT_MAX_NICS},
	{"virttune.v1.Report.sections", VT_REPORT_MAX_SECTIONS},
	{"virttune.v1.Nic.features", VT_REPORT_MAX_FEATURES},
	{"virttune.v1.Swap.devices", VT_REPORT_MAX_SWAP_DEVICES},
	{"virttune.v1.Block.schedulers", VT_REPORT_MAX_SCHEDULERS},
	{"virttune.v1.Hello.capabilities", VT_REPORT_MAX_CAPABILITIES},
	{"virttune.v1.PolicySummary.allowed", VT_REPORT_MAX_CAPABILITIES},
	{"virttune.v1.Nic.queue_interrupts", VT_REPORT_MAX_QUEUE_IRQS},
	{"virttune.v1.Report.changes", VT_REPORT_MAX_CHANGES},
};

/* Lists whose entries are told apart by a name: two entries with one name
 * would make two metric series and two recommendations with one id. */
typedef struct {
	const char *field; /* full name: message.field */
	const char *key;   /* the string field that names an entry */
} UniqueKey;

static const UniqueKey unique_keys[] = {
	{"virttune.v1.Report.block", "name"},        {"virttune.v1.Report.nics", "name"},
	{"virttune.v1.Report.sections", "name"},     {"virttune.v1.Swap.devices", "path"},
	{"virttune.v1.Nic.features", "name"},        {"virttune.v1.Nic.queue_interrupts", "queue"},
	{"virttune.v1.Report.changes", "change_id"},
};

static gboolean
field_is(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *field,
	 const char *full)
{
	gsize dlen = strlen(desc->name);

	return strncmp(full, desc->name, dlen) == 0 && full[dlen] == '.' &&
	       strcmp(full + dlen + 1, field->name) == 0;
}

static const char *
unique_key(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *field)
{
	for (gsize i = 0; i < G_N_ELEMENTS(unique_keys); i++)
		if (field_is(desc, field, unique_keys[i].field))
			return unique_keys[i].key;
	return NULL;
}

/* The entries of a map<K,V> field: repeated *Entry messages. */
static gboolean
is_map_entry(const ProtobufCFieldDescriptor *field)
{
	return field->type == PROTOBUF_C_TYPE_MESSAGE &&
	       g_str_has_suffix(((const ProtobufCMessageDescriptor *)field->descriptor)->name,
				"Entry");
}

static gsize
repeated_bound(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *field)
{
	for (gsize i = 0; i < G_N_ELEMENTS(repeated_bounds); i++)
		if (field_is(desc, field, repeated_bounds[i].field))
			return repeated_bounds[i].max;
	if (is_map_entry(field))
		return VT_REPORT_MAX_MAP_ENTRIES;
	return VT_REPEATED_MAX;
}

typedef struct {
	GString *path;
	const char *reason;
	GError **error;
} Walk;

static gboolean fail(Walk *w, const char *reason, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
fail(Walk *w, const char *reason, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	w->reason = reason;
	/* a bound that was hit is TOO_LARGE; a value that cannot be right is INVALID */
	g_set_error(w->error, VT_ERROR,
		    g_str_equal(reason, "utf8") || g_str_equal(reason, "number") ||
				    g_str_equal(reason, "duplicate") || g_str_equal(reason, "key")
			    ? VT_ERROR_INVALID
			    : VT_ERROR_TOO_LARGE,
		    "%s: %s", w->path->len ? w->path->str : "(message)", msg);
	return FALSE;
}

static gboolean walk_message(Walk *w, const ProtobufCMessage *msg, guint depth);

static gboolean
check_value(Walk *w, const ProtobufCFieldDescriptor *field, const void *value, guint depth)
{
	switch (field->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)value;
		gsize len;
		if (s == NULL)
			return TRUE;
		len = strnlen(s, VT_STRING_MAX + 1);
		if (len > VT_STRING_MAX)
			return fail(w, "string", "string longer than %u bytes", VT_STRING_MAX);
		if (!g_utf8_validate(s, (gssize)len, NULL))
			return fail(w, "utf8", "invalid UTF-8");
		return TRUE;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = value;
		if (b->len > VT_STRING_MAX)
			return fail(w, "string", "bytes longer than %u", VT_STRING_MAX);
		return TRUE;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (*(const uint64_t *)value > (uint64_t)G_MAXINT64)
			return fail(w, "number", "%" G_GUINT64_FORMAT " exceeds %" G_GINT64_FORMAT,
				    *(const uint64_t *)value, G_MAXINT64);
		return TRUE;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!isfinite(*(const double *)value))
			return fail(w, "number", "not a finite number");
		return TRUE;
	case PROTOBUF_C_TYPE_FLOAT:
		if (!isfinite(*(const float *)value))
			return fail(w, "number", "not a finite number");
		return TRUE;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)value;
		return sub == NULL || walk_message(w, sub, depth + 1);
	}
	default:
		return TRUE;
	}
}

/* No two entries of @entries (n of them) share the string field @key. */
static gboolean
check_unique(Walk *w, const ProtobufCMessage *const *entries, gsize n, const char *key)
{
	g_autoptr(GHashTable) seen = NULL;
	const ProtobufCFieldDescriptor *kf;

	if (n < 2)
		return TRUE;
	kf = protobuf_c_message_descriptor_get_field_by_name(entries[0]->descriptor, key);
	if (kf == NULL || kf->type != PROTOBUF_C_TYPE_STRING)
		return TRUE;
	seen = g_hash_table_new(g_str_hash, g_str_equal);
	for (gsize i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)entries[i] + kf->offset);

		if (name == NULL)
			continue;
		if (!g_hash_table_add(seen, (gpointer)name))
			return fail(w, "duplicate",
				    "%s '%s' appears twice (entry %" G_GSIZE_FORMAT ")", key, name,
				    i);
	}
	return TRUE;
}

/* A map entry names its value: a string key left out of the packed form
 * would reach every reader as NULL. */
static gboolean
check_map_key(Walk *w, const ProtobufCFieldDescriptor *field, const ProtobufCMessage *entry)
{
	const ProtobufCFieldDescriptor *kf;

	if (!is_map_entry(field) || entry == NULL)
		return TRUE;
	kf = protobuf_c_message_descriptor_get_field_by_name(entry->descriptor, "key");
	if (kf == NULL || kf->type != PROTOBUF_C_TYPE_STRING ||
	    *(const char *const *)((const char *)entry + kf->offset) != NULL)
		return TRUE;
	return fail(w, "key", "map entry without a key");
}

/* "[i]": by hand, as printf costs more than the rest of the walk */
static void
append_index(GString *path, gsize i)
{
	char digits[24];
	guint n = 0;

	do
		digits[sizeof(digits) - 1 - n++] = (char)('0' + i % 10);
	while ((i /= 10) > 0);
	g_string_append_c(path, '[');
	g_string_append_len(path, digits + sizeof(digits) - n, n);
	g_string_append_c(path, ']');
}

static gboolean
walk_repeated(Walk *w, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field,
	      guint depth)
{
	const char *base = (const char *)msg;
	gsize n = *(const size_t *)(base + field->quantifier_offset);
	const char *arr = *(const char *const *)(base + field->offset);
	gsize max = repeated_bound(msg->descriptor, field);
	gsize es = vt_protobuf_type_size(field->type);
	const char *key = unique_key(msg->descriptor, field);

	if (n > max)
		return fail(w, "count", "%" G_GSIZE_FORMAT " entries, at most %" G_GSIZE_FORMAT, n,
			    max);
	for (gsize i = 0; i < n; i++) {
		gsize here = w->path->len;

		append_index(w->path, i);
		if (!check_value(w, field, arr + i * es, depth) ||
		    !check_map_key(w, field, *(const ProtobufCMessage *const *)(arr + i * es)))
			return FALSE;
		g_string_truncate(w->path, here);
	}
	return key == NULL || check_unique(w, (const ProtobufCMessage *const *)arr, n, key);
}

static gboolean
walk_message(Walk *w, const ProtobufCMessage *msg, guint depth)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	if (depth > VT_VALIDATE_MAX_DEPTH)
		return fail(w, "depth", "nested deeper than %d", VT_VALIDATE_MAX_DEPTH);
	for (unsigned f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *field = &desc->fields[f];
		const char *base = (const char *)msg;
		gsize saved = w->path->len;
		gboolean ok = TRUE;

		if (w->path->len > 0)
			g_string_append_c(w->path, '.');
		g_string_append(w->path, field->name);
		if (field->label == PROTOBUF_C_LABEL_REPEATED) {
			ok = walk_repeated(w, msg, field, depth);
		} else {
			gboolean present;
			if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
				present = *(const uint32_t *)(base + field->quantifier_offset) ==
					  field->id;
			else if (field->type == PROTOBUF_C_TYPE_STRING ||
				 field->type == PROTOBUF_C_TYPE_MESSAGE)
				present = *(const void *const *)(base + field->offset) != NULL;
			else if (field->label == PROTOBUF_C_LABEL_OPTIONAL)
				present = *(const protobuf_c_boolean *)(base +
									field->quantifier_offset);
			else
				present = TRUE;
			if (present)
				ok = check_value(w, field, base + field->offset, depth);
		}
		if (!ok)
			return FALSE;
		g_string_truncate(w->path, saved);
	}
	return TRUE;
}

gboolean
vt_validate_message(const ProtobufCMessage *msg, const char **reason, GError **error)
{
	g_autoptr(GString) path = g_string_new(NULL);
	Walk w = {.path = path, .reason = NULL, .error = error};
	gboolean ok = walk_message(&w, msg, 0);

	if (reason != NULL)
		*reason = w.reason;
	return ok;
}
