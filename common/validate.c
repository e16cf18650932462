/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "validate.h"

#include <math.h>
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "message.h"

#define VT_VALIDATE_MAX_DEPTH 16

/* The lists with a bound of their own, and those whose entries are told
 * apart by a name (two entries with one name would make two metric series
 * and two recommendations with one id). */
typedef struct {
	const ProtobufCMessageDescriptor *message;
	const char *field;
	gsize max;       /* entries at most */
	const char *key; /* the string field that names an entry, or NULL */
} ListRule;

static const ListRule list_rules[] = {
	{&virttune__v1__report__descriptor, "block", VT_REPORT_MAX_BLOCK, "name"},
	{&virttune__v1__report__descriptor, "nics", VT_REPORT_MAX_NICS, "name"},
	{&virttune__v1__report__descriptor, "sections", VT_REPORT_MAX_SECTIONS, "name"},
	{&virttune__v1__report__descriptor, "changes", VT_REPORT_MAX_CHANGES, "change_id"},
	{&virttune__v1__nic__descriptor, "features", VT_REPORT_MAX_FEATURES, "name"},
	{&virttune__v1__nic__descriptor, "queue_interrupts", VT_REPORT_MAX_QUEUE_IRQS, "queue"},
	{&virttune__v1__swap__descriptor, "devices", VT_REPORT_MAX_SWAP_DEVICES, "path"},
	{&virttune__v1__block__descriptor, "schedulers", VT_REPORT_MAX_SCHEDULERS, NULL},
	{&virttune__v1__hello__descriptor, "capabilities", VT_REPORT_MAX_CAPABILITIES, NULL},
	{&virttune__v1__policy_summary__descriptor, "allowed", VT_REPORT_MAX_CAPABILITIES, NULL},
};

/* A list with a unique key has at most this many entries (the largest bound
 * of list_rules, VT_REPORT_MAX_QUEUE_IRQS): its names fit a table of twice as
 * many slots. */
#define VT_UNIQUE_MAX   512u
#define VT_UNIQUE_SLOTS (2 * VT_UNIQUE_MAX)

/* list_rules[i]'s field descriptor, resolved once: a list is then known by
 * its descriptor's address, not by comparing names at every message. */
static const ProtobufCFieldDescriptor *list_fields[G_N_ELEMENTS(list_rules)];
/* and the string field of its entries that names them, or NULL */
static const ProtobufCFieldDescriptor *list_keys[G_N_ELEMENTS(list_rules)];

static void
resolve_list_fields(void)
{
	static gsize resolved = 0;

	if (!g_once_init_enter(&resolved))
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(list_rules); i++) {
		list_fields[i] = protobuf_c_message_descriptor_get_field_by_name(
			list_rules[i].message, list_rules[i].field);
		g_assert(list_fields[i] != NULL &&
			 list_fields[i]->label == PROTOBUF_C_LABEL_REPEATED);
		g_assert(list_rules[i].key == NULL || list_rules[i].max <= VT_UNIQUE_MAX);
		if (list_rules[i].key != NULL) {
			g_assert(list_fields[i]->type == PROTOBUF_C_TYPE_MESSAGE);
			list_keys[i] = protobuf_c_message_descriptor_get_field_by_name(
				list_fields[i]->descriptor, list_rules[i].key);
			g_assert(list_keys[i] != NULL &&
				 list_keys[i]->type == PROTOBUF_C_TYPE_STRING);
		}
	}
	g_once_init_leave(&resolved, 1);
}

/* The rule of the list @field, its entries' name field in *@key; NULL: none. */
static const ListRule *
list_rule(const ProtobufCFieldDescriptor *field, const ProtobufCFieldDescriptor **key)
{
	for (gsize i = 0; i < G_N_ELEMENTS(list_rules); i++)
		if (list_fields[i] == field) {
			*key = list_keys[i];
			return &list_rules[i];
		}
	*key = NULL;
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

/* Where the walk is: the field at each depth and, in a list, the entry
 * (-1: not in a list). The path an error names is built from it only when
 * there is an error. */
typedef struct {
	const char *field;
	gssize index;
} Step;

typedef struct {
	Step steps[VT_VALIDATE_MAX_DEPTH + 2];
	guint n_steps;
	const char *reason;
	GError **error;
} Walk;

static char *
walk_path(const Walk *w)
{
	GString *path = g_string_new(NULL);

	for (guint i = 0; i < w->n_steps; i++) {
		if (i > 0)
			g_string_append_c(path, '.');
		g_string_append(path, w->steps[i].field);
		if (w->steps[i].index >= 0)
			g_string_append_printf(path, "[%" G_GSSIZE_FORMAT "]", w->steps[i].index);
	}
	return g_string_free(path, FALSE);
}

static gboolean fail(Walk *w, const char *reason, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
fail(Walk *w, const char *reason, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;
	g_autofree char *path = walk_path(w);

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	w->reason = reason;
	/* a bound that was hit is TOO_LARGE; a value that cannot be right is INVALID */
	g_set_error(w->error, VT_ERROR,
		    g_str_equal(reason, "utf8") || g_str_equal(reason, "number") ||
				    g_str_equal(reason, "duplicate") ||
				    g_str_equal(reason, "key") || g_str_equal(reason, "field")
			    ? VT_ERROR_INVALID
			    : VT_ERROR_TOO_LARGE,
		    "%s: %s", *path != '\0' ? path : "(message)", msg);
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

/* No two entries of @entries (n of them) share the string field @key. An
 * open-addressing table on the stack: no allocation per list. */
static gboolean
check_unique(Walk *w, const ProtobufCMessage *const *entries, gsize n,
	     const ProtobufCFieldDescriptor *kf)
{
	const char *slots[VT_UNIQUE_SLOTS];
	guint size = 8; /* a power of two, at least twice @n: only that much is used */

	if (n < 2)
		return TRUE;
	g_assert(n <= VT_UNIQUE_MAX); /* walk_repeated bounded it */
	while (size < 2 * n)
		size *= 2;
	memset(slots, 0, size * sizeof(slots[0]));
	for (gsize i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)entries[i] + kf->offset);
		guint h;

		if (name == NULL)
			continue;
		for (h = g_str_hash(name) & (size - 1); slots[h] != NULL; h = (h + 1) & (size - 1))
			if (strcmp(slots[h], name) == 0)
				return fail(w, "duplicate",
					    "%s '%s' appears twice (entry %" G_GSIZE_FORMAT ")",
					    kf->name, name, i);
		slots[h] = name;
	}
	return TRUE;
}

/* A map entry names its value: a string key left out of the packed form
 * would reach every reader as NULL. */
static gboolean
check_map_key(Walk *w, const ProtobufCMessage *entry)
{
	const ProtobufCFieldDescriptor *kf;

	if (entry == NULL)
		return TRUE;
	kf = protobuf_c_message_descriptor_get_field(entry->descriptor, 1); /* a map's key */
	if (kf == NULL || kf->type != PROTOBUF_C_TYPE_STRING ||
	    *(const char *const *)((const char *)entry + kf->offset) != NULL)
		return TRUE;
	return fail(w, "key", "map entry without a key");
}

static gboolean
walk_repeated(Walk *w, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field,
	      guint depth)
{
	const char *base = (const char *)msg;
	gsize n = *(const size_t *)(base + field->quantifier_offset);
	const char *arr = *(const char *const *)(base + field->offset);
	const ProtobufCFieldDescriptor *key;
	const ListRule *rule = list_rule(field, &key);
	gboolean map = is_map_entry(field);
	gsize max = rule != NULL ? rule->max : map ? VT_REPORT_MAX_MAP_ENTRIES : VT_REPEATED_MAX;
	gsize es = vt_protobuf_type_size(field->type);
	Step *step = &w->steps[depth];

	if (n > max)
		return fail(w, "count", "%" G_GSIZE_FORMAT " entries, at most %" G_GSIZE_FORMAT, n,
			    max);
	for (gsize i = 0; i < n; i++) {
		step->index = (gssize)i;
		w->n_steps = depth + 1;
		if (!check_value(w, field, arr + i * es, depth))
			return FALSE;
		w->n_steps = depth + 1; /* the entry's walk went deeper */
		if (map && !check_map_key(w, *(const ProtobufCMessage *const *)(arr + i * es)))
			return FALSE;
	}
	step->index = -1;
	w->n_steps = depth + 1;
	return key == NULL || check_unique(w, (const ProtobufCMessage *const *)arr, n, key);
}

static gboolean
walk_message(Walk *w, const ProtobufCMessage *msg, guint depth)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	w->n_steps = depth;
	if (depth > VT_VALIDATE_MAX_DEPTH)
		return fail(w, "depth", "nested deeper than %d", VT_VALIDATE_MAX_DEPTH);
	/* protobuf-c keeps a field of any number it reads; one the wire cannot
	 * have would not be written back as it came (a stored skeleton) */
	for (unsigned u = 0; u < msg->n_unknown_fields; u++)
		if (msg->unknown_fields[u].tag == 0 ||
		    msg->unknown_fields[u].tag > VT_PROTOBUF_FIELD_MAX)
			return fail(w, "field", "a field numbered %u, which protobuf cannot have",
				    msg->unknown_fields[u].tag);
	for (unsigned f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *field = &desc->fields[f];
		const char *base = (const char *)msg;
		gboolean ok = TRUE;

		w->steps[depth] = (Step){.field = field->name, .index = -1};
		w->n_steps = depth + 1;
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
	}
	return TRUE;
}

gboolean
vt_validate_message(const ProtobufCMessage *msg, const char **reason, GError **error)
{
	Walk w = {.n_steps = 0, .reason = NULL, .error = error};
	gboolean ok;

	resolve_list_fields();
	ok = walk_message(&w, msg, 0);

	if (reason != NULL)
		*reason = w.reason;
	return ok;
}
