/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "message.h"

/* Nesting is bounded by the schema, but a message can be self-referential in
 * principle; stop well before the stack is at risk. */
#define VT_JSON_MAX_DEPTH 32

/* ------------------------------------------------------------ helpers */

static gboolean
is_map_entry(const ProtobufCMessageDescriptor *desc)
{
	return desc != NULL && desc->n_fields == 2 && g_str_has_suffix(desc->name, "Entry") &&
	       desc->fields[0].id == 1 && strcmp(desc->fields[0].name, "key") == 0 &&
	       desc->fields[1].id == 2 && strcmp(desc->fields[1].name, "value") == 0 &&
	       desc->fields[0].label != PROTOBUF_C_LABEL_REPEATED &&
	       desc->fields[1].label != PROTOBUF_C_LABEL_REPEATED;
}

static gboolean
is_map_field(const ProtobufCFieldDescriptor *field)
{
	return field->label == PROTOBUF_C_LABEL_REPEATED &&
	       field->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(field->descriptor);
}

#define MEMBER(msg, off)  ((void *)((char *)(msg) + (off)))
#define CMEMBER(msg, off) ((const void *)((const char *)(msg) + (off)))

/* Is a singular field present? */
static gboolean
field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
	const void *member = CMEMBER(msg, field->offset);

	if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)CMEMBER(msg, field->quantifier_offset) == field->id;
	if (field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE) {
		const void *ptr = *(const void *const *)member;
		if (ptr == NULL)
			return FALSE;
		if (field->label == PROTOBUF_C_LABEL_REQUIRED)
			return TRUE;
		return field->type != PROTOBUF_C_TYPE_STRING || ptr != field->default_value;
	}
	if (field->label == PROTOBUF_C_LABEL_REQUIRED)
		return TRUE;
	if (field->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)CMEMBER(msg, field->quantifier_offset) != 0;
	/* proto3 singular without presence */
	return TRUE;
}

static void
path_push_field(GString *path, const char *name)
{
	if (path->len > 0)
		g_string_append_c(path, '.');
	g_string_append(path, name);
}

static const char *
path_or_root(GString *path)
{
	return path->len > 0 ? path->str : "(message)";
}

/* ------------------------------------------------------------ to JSON */

static JsonNode *message_to_node(const ProtobufCMessage *msg, GString *path, guint depth,
				 GError **error);

static JsonNode *
value_to_node(const ProtobufCFieldDescriptor *field, const void *value, GString *path, guint depth,
	      GError **error)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);

	switch (field->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		json_node_set_int(node, *(const int32_t *)value);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		json_node_set_int(node, *(const uint32_t *)value);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		json_node_set_int(node, *(const int64_t *)value);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v = *(const uint64_t *)value;
		if (v > (uint64_t)G_MAXINT64) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: %" G_GUINT64_FORMAT " is above the JSON integer range",
				    path_or_root(path), v);
			json_node_unref(node);
			return NULL;
		}
		json_node_set_int(node, (gint64)v);
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v = field->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)value
								: *(const double *)value;
		if (!isfinite(v)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: not a finite number",
				    path_or_root(path));
			json_node_unref(node);
			return NULL;
		}
		json_node_set_double(node, v);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		json_node_set_boolean(node, *(const protobuf_c_boolean *)value != 0);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)value;
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(field->descriptor, v);
		if (ev != NULL)
			json_node_set_string(node, ev->name);
		else
			json_node_set_int(node, v); /* a newer peer's value: keep the number */
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)value;
		if (s == NULL)
			s = "";
		if (!g_utf8_validate(s, -1, NULL)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: invalid UTF-8",
				    path_or_root(path));
			json_node_unref(node);
			return NULL;
		}
		json_node_set_string(node, s);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = value;
		g_autofree char *b64 = g_base64_encode(b->data, b->len);
		json_node_set_string(node, b64);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		json_node_unref(node);
		return message_to_node(*(const ProtobufCMessage *const *)value, path, depth + 1,
				       error);
	}
	return node;
}

static gboolean
map_key_to_string(const ProtobufCFieldDescriptor *kf, const void *key, char **out)
{
	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING:
		*out = g_strdup(*(const char *const *)key ? *(const char *const *)key : "");
		return TRUE;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*out = g_strdup_printf("%" G_GINT32_FORMAT, *(const int32_t *)key);
		return TRUE;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*out = g_strdup_printf("%" G_GUINT32_FORMAT, *(const uint32_t *)key);
		return TRUE;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*out = g_strdup_printf("%" G_GINT64_FORMAT, *(const int64_t *)key);
		return TRUE;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*out = g_strdup_printf("%" G_GUINT64_FORMAT, *(const uint64_t *)key);
		return TRUE;
	case PROTOBUF_C_TYPE_BOOL:
		*out = g_strdup(*(const protobuf_c_boolean *)key ? "true" : "false");
		return TRUE;
	default:
		return FALSE;
	}
}

static JsonNode *
map_to_node(const ProtobufCFieldDescriptor *field, ProtobufCMessage *const *entries, gsize n,
	    GString *path, guint depth, GError **error)
{
	const ProtobufCMessageDescriptor *ed = field->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0];
	const ProtobufCFieldDescriptor *vf = &ed->fields[1];
	g_autoptr(JsonObject) obj = json_object_new();
	JsonNode *node;

	for (gsize i = 0; i < n; i++) {
		const ProtobufCMessage *entry = entries[i];
		g_autofree char *key = NULL;
		gsize saved = path->len;
		JsonNode *value;

		if (entry == NULL)
			continue;
		if (!map_key_to_string(kf, CMEMBER(entry, kf->offset), &key)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: unsupported map key type", path_or_root(path));
			return NULL;
		}
		if (!g_utf8_validate(key, -1, NULL)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: key is invalid UTF-8",
				    path_or_root(path));
			return NULL;
		}
		g_string_append_printf(path, "[\"%s\"]", key);
		if (vf->type == PROTOBUF_C_TYPE_MESSAGE &&
		    *(const ProtobufCMessage *const *)CMEMBER(entry, vf->offset) == NULL)
			value = json_node_new(JSON_NODE_NULL);
		else
			value = value_to_node(vf, CMEMBER(entry, vf->offset), path, depth, error);
		g_string_truncate(path, saved);
		if (value == NULL)
			return NULL;
		json_object_set_member(obj, key, value);
	}
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(node, obj);
	return node;
}

static JsonNode *
message_to_node(const ProtobufCMessage *msg, GString *path, guint depth, GError **error)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	g_autoptr(JsonObject) obj = json_object_new();
	JsonNode *node;

	if (depth > VT_JSON_MAX_DEPTH) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "%s: nested too deeply",
			    path_or_root(path));
		return NULL;
	}
	for (unsigned f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *field = &desc->fields[f];
		gsize saved = path->len;
		JsonNode *child = NULL;

		path_push_field(path, field->name);
		if (field->label == PROTOBUF_C_LABEL_REPEATED) {
			gsize n = *(const size_t *)CMEMBER(msg, field->quantifier_offset);
			const char *arr = *(const char *const *)CMEMBER(msg, field->offset);

			if (n == 0 || arr == NULL) {
				g_string_truncate(path, saved);
				continue;
			}
			if (is_map_field(field)) {
				child = map_to_node(field, (ProtobufCMessage *const *)arr, n, path,
						    depth, error);
			} else {
				g_autoptr(JsonArray) jarr = json_array_sized_new((guint)n);
				gsize esize = vt_protobuf_type_size(field->type);
				gsize base = path->len;

				for (gsize i = 0; i < n; i++) {
					JsonNode *item;

					g_string_append_printf(path, "[%" G_GSIZE_FORMAT "]", i);
					item = value_to_node(field, arr + i * esize, path, depth,
							     error);
					g_string_truncate(path, base);
					if (item == NULL) {
						g_string_truncate(path, saved);
						return NULL;
					}
					json_array_add_element(jarr, item);
				}
				child = json_node_new(JSON_NODE_ARRAY);
				json_node_set_array(child, jarr);
			}
		} else if (field_present(msg, field)) {
			child = value_to_node(field, CMEMBER(msg, field->offset), path, depth,
					      error);
		} else {
			g_string_truncate(path, saved);
			continue;
		}
		g_string_truncate(path, saved);
		if (child == NULL)
			return NULL;
		json_object_set_member(obj, field->name, child);
	}
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(node, obj);
	return node;
}

JsonNode *
vt_json_from_message(const ProtobufCMessage *msg, GError **error)
{
	g_autoptr(GString) path = g_string_new(NULL);

	g_return_val_if_fail(msg != NULL, NULL);
	return message_to_node(msg, path, 0, error);
}

/* ------------------------------------------------------------ from JSON */

static const char *
json_type_name(JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT:
		return "object";
	case JSON_NODE_ARRAY:
		return "array";
	case JSON_NODE_NULL:
		return "null";
	case JSON_NODE_VALUE:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_INT64:
		return "integer";
	case G_TYPE_DOUBLE:
		return "number";
	case G_TYPE_BOOLEAN:
		return "boolean";
	case G_TYPE_STRING:
		return "string";
	default:
		return "value";
	}
}

static gboolean
wrong_type(GError **error, GString *path, const char *want, JsonNode *node)
{
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: expected %s, got %s",
		    path_or_root(path), want, json_type_name(node));
	return FALSE;
}

static gboolean
node_is(JsonNode *node, GType type)
{
	return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == type;
}

static gboolean
get_int(JsonNode *node, GString *path, gint64 min, gint64 max, gint64 *out, GError **error)
{
	gint64 v;

	if (!node_is(node, G_TYPE_INT64))
		return wrong_type(error, path, "integer", node);
	v = json_node_get_int(node);
	if (v < min || v > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: %" G_GINT64_FORMAT " is out of range [%" G_GINT64_FORMAT
			    ", %" G_GINT64_FORMAT "]",
			    path_or_root(path), v, min, max);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

static ProtobufCMessage *node_to_message(const ProtobufCMessageDescriptor *desc, JsonNode *node,
					 GString *path, guint depth, GError **error);

/* Fill *value (storage of the field's C type), allocating with malloc. */
static gboolean
node_to_value(const ProtobufCFieldDescriptor *field, JsonNode *node, void *value, GString *path,
	      guint depth, GError **error)
{
	gint64 i;

	switch (field->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (!get_int(node, path, G_MININT32, G_MAXINT32, &i, error))
			return FALSE;
		*(int32_t *)value = (int32_t)i;
		return TRUE;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (!get_int(node, path, 0, G_MAXUINT32, &i, error))
			return FALSE;
		*(uint32_t *)value = (uint32_t)i;
		return TRUE;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (!get_int(node, path, G_MININT64, G_MAXINT64, &i, error))
			return FALSE;
		*(int64_t *)value = i;
		return TRUE;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		/* JSON-GLib wraps integers above INT64_MAX to negative values, so
		 * the range check also refuses those. */
		if (!get_int(node, path, 0, G_MAXINT64, &i, error))
			return FALSE;
		*(uint64_t *)value = (uint64_t)i;
		return TRUE;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double d;
		if (node_is(node, G_TYPE_DOUBLE))
			d = json_node_get_double(node);
		else if (node_is(node, G_TYPE_INT64))
			d = (double)json_node_get_int(node);
		else
			return wrong_type(error, path, "number", node);
		if (field->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)value = (float)d;
		else
			*(double *)value = d;
		return TRUE;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (!node_is(node, G_TYPE_BOOLEAN))
			return wrong_type(error, path, "boolean", node);
		*(protobuf_c_boolean *)value = json_node_get_boolean(node) ? 1 : 0;
		return TRUE;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = NULL;
		if (node_is(node, G_TYPE_STRING)) {
			ev = protobuf_c_enum_descriptor_get_value_by_name(
				field->descriptor, json_node_get_string(node));
			if (ev == NULL) {
				g_set_error(
					error, VT_ERROR, VT_ERROR_INVALID,
					"%s: '%s' is not a value of %s", path_or_root(path),
					json_node_get_string(node),
					((const ProtobufCEnumDescriptor *)field->descriptor)->name);
				return FALSE;
			}
			*(int *)value = ev->value;
			return TRUE;
		}
		if (node_is(node, G_TYPE_INT64)) {
			if (!get_int(node, path, G_MININT32, G_MAXINT32, &i, error))
				return FALSE;
			*(int *)value = (int)i;
			return TRUE;
		}
		return wrong_type(error, path, "enum name", node);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s;
		if (!node_is(node, G_TYPE_STRING))
			return wrong_type(error, path, "string", node);
		s = json_node_get_string(node);
		if (!g_utf8_validate(s, -1, NULL)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: invalid UTF-8",
				    path_or_root(path));
			return FALSE;
		}
		*(char **)value = strdup(s);
		return *(char **)value != NULL;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = value;
		gsize len = 0;
		g_autofree guchar *decoded = NULL;
		if (!node_is(node, G_TYPE_STRING))
			return wrong_type(error, path, "base64 string", node);
		decoded = g_base64_decode(json_node_get_string(node), &len);
		b->data = malloc(MAX(len, 1));
		if (b->data == NULL)
			return FALSE;
		if (len > 0)
			memcpy(b->data, decoded, len);
		b->len = len;
		return TRUE;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub;
		if (!JSON_NODE_HOLDS_OBJECT(node))
			return wrong_type(error, path, "object", node);
		sub = node_to_message(field->descriptor, node, path, depth + 1, error);
		if (sub == NULL)
			return FALSE;
		*(ProtobufCMessage **)value = sub;
		return TRUE;
	}
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: unsupported field type",
		    path_or_root(path));
	return FALSE;
}

static gboolean
map_key_from_string(const ProtobufCFieldDescriptor *kf, const char *key, void *out, GString *path,
		    GError **error)
{
	char *end = NULL;

	if (kf->type == PROTOBUF_C_TYPE_STRING) {
		*(char **)out = strdup(key);
		return *(char **)out != NULL;
	}
	if (kf->type == PROTOBUF_C_TYPE_BOOL) {
		if (g_strcmp0(key, "true") != 0 && g_strcmp0(key, "false") != 0)
			goto bad;
		*(protobuf_c_boolean *)out = g_strcmp0(key, "true") == 0;
		return TRUE;
	}
	errno = 0;
	switch (kf->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: {
		gint64 v = g_ascii_strtoll(key, &end, 10);
		if (errno || *end || end == key || v < G_MININT32 || v > G_MAXINT32)
			goto bad;
		*(int32_t *)out = (int32_t)v;
		return TRUE;
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		guint64 v = g_ascii_strtoull(key, &end, 10);
		if (errno || *end || end == key || key[0] == '-' || v > G_MAXUINT32)
			goto bad;
		*(uint32_t *)out = (uint32_t)v;
		return TRUE;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		gint64 v = g_ascii_strtoll(key, &end, 10);
		if (errno || *end || end == key)
			goto bad;
		*(int64_t *)out = v;
		return TRUE;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		guint64 v = g_ascii_strtoull(key, &end, 10);
		if (errno || *end || end == key || key[0] == '-')
			goto bad;
		*(uint64_t *)out = v;
		return TRUE;
	}
	default:
		break;
	}
bad:
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: '%s' is not a valid map key",
		    path_or_root(path), key);
	return FALSE;
}

static gboolean
map_from_node(const ProtobufCFieldDescriptor *field, JsonNode *node, ProtobufCMessage *msg,
	      GString *path, guint depth, GError **error)
{
	const ProtobufCMessageDescriptor *ed = field->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0];
	const ProtobufCFieldDescriptor *vf = &ed->fields[1];
	size_t *count = MEMBER(msg, field->quantifier_offset);
	ProtobufCMessage ***arr = MEMBER(msg, field->offset);
	JsonObject *obj;
	g_autoptr(GList) members = NULL;
	guint n;

	if (!JSON_NODE_HOLDS_OBJECT(node))
		return wrong_type(error, path, "object", node);
	obj = json_node_get_object(node);
	n = json_object_get_size(obj);
	if (n == 0)
		return TRUE;
	*arr = calloc(n, sizeof(ProtobufCMessage *));
	if (*arr == NULL)
		return FALSE;
	members = json_object_get_members(obj);
	for (GList *l = members; l != NULL; l = l->next) {
		const char *key = l->data;
		JsonNode *vnode = json_object_get_member(obj, key);
		ProtobufCMessage *entry = calloc(1, ed->sizeof_message);
		gsize saved = path->len;
		gboolean ok;

		if (entry == NULL)
			return FALSE;
		ed->message_init(entry);
		(*arr)[(*count)++] = entry;
		g_string_append_printf(path, "[\"%s\"]", key);
		ok = map_key_from_string(kf, key, MEMBER(entry, kf->offset), path, error);
		if (ok && !JSON_NODE_HOLDS_NULL(vnode)) {
			ok = node_to_value(vf, vnode, MEMBER(entry, vf->offset), path, depth,
					   error);
			if (ok && vf->label == PROTOBUF_C_LABEL_OPTIONAL &&
			    vf->type != PROTOBUF_C_TYPE_STRING &&
			    vf->type != PROTOBUF_C_TYPE_MESSAGE)
				*(protobuf_c_boolean *)MEMBER(entry, vf->quantifier_offset) = 1;
		}
		if (ok && kf->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    kf->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)MEMBER(entry, kf->quantifier_offset) = 1;
		g_string_truncate(path, saved);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

static gboolean
repeated_from_node(const ProtobufCFieldDescriptor *field, JsonNode *node, ProtobufCMessage *msg,
		   GString *path, guint depth, GError **error)
{
	size_t *count = MEMBER(msg, field->quantifier_offset);
	void **arr = MEMBER(msg, field->offset);
	gsize esize = vt_protobuf_type_size(field->type);
	JsonArray *jarr;
	guint n;
	gsize base = path->len;

	if (!JSON_NODE_HOLDS_ARRAY(node))
		return wrong_type(error, path, "array", node);
	jarr = json_node_get_array(node);
	n = json_array_get_length(jarr);
	if (n == 0)
		return TRUE;
	*arr = calloc(n, esize);
	if (*arr == NULL)
		return FALSE;
	for (guint i = 0; i < n; i++) {
		JsonNode *item = json_array_get_element(jarr, i);
		gboolean ok;

		g_string_append_printf(path, "[%u]", i);
		if (JSON_NODE_HOLDS_NULL(item))
			ok = wrong_type(error, path, "a value", item);
		else
			ok = node_to_value(field, item, (char *)*arr + (gsize)i * esize, path,
					   depth, error);
		g_string_truncate(path, base);
		if (!ok)
			return FALSE;
		/* Count only filled elements, so a failure frees exactly those. */
		(*count)++;
	}
	return TRUE;
}

static ProtobufCMessage *
node_to_message(const ProtobufCMessageDescriptor *desc, JsonNode *node, GString *path, guint depth,
		GError **error)
{
	g_autoptr(GList) members = NULL;
	ProtobufCMessage *msg;
	JsonObject *obj;

	if (depth > VT_JSON_MAX_DEPTH) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "%s: nested too deeply",
			    path_or_root(path));
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		wrong_type(error, path, "object", node);
		return NULL;
	}
	msg = calloc(1, desc->sizeof_message);
	if (msg == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "out of memory");
		return NULL;
	}
	desc->message_init(msg);

	obj = json_node_get_object(node);
	members = json_object_get_members(obj);
	for (GList *l = members; l != NULL; l = l->next) {
		const char *name = l->data;
		JsonNode *child = json_object_get_member(obj, name);
		const ProtobufCFieldDescriptor *field =
			protobuf_c_message_descriptor_get_field_by_name(desc, name);
		gsize saved = path->len;
		gboolean ok = TRUE;

		path_push_field(path, name);
		if (field == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: unknown field of %s",
				    path->str, desc->name);
			ok = FALSE;
		} else if (JSON_NODE_HOLDS_NULL(child)) {
			ok = TRUE; /* null is unset */
		} else if (field->label == PROTOBUF_C_LABEL_REPEATED) {
			ok = is_map_field(field)
				     ? map_from_node(field, child, msg, path, depth, error)
				     : repeated_from_node(field, child, msg, path, depth, error);
		} else if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = MEMBER(msg, field->quantifier_offset);
			if (*which != 0) {
				const ProtobufCFieldDescriptor *other =
					protobuf_c_message_descriptor_get_field(desc, *which);
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "%s: only one of '%s' and '%s' may be set", path->str,
					    other ? other->name : "?", field->name);
				ok = FALSE;
			} else {
				ok = node_to_value(field, child, MEMBER(msg, field->offset), path,
						   depth, error);
				if (ok)
					*which = field->id;
			}
		} else {
			ok = node_to_value(field, child, MEMBER(msg, field->offset), path, depth,
					   error);
			if (ok && field->label == PROTOBUF_C_LABEL_OPTIONAL &&
			    field->type != PROTOBUF_C_TYPE_STRING &&
			    field->type != PROTOBUF_C_TYPE_MESSAGE)
				*(protobuf_c_boolean *)MEMBER(msg, field->quantifier_offset) = 1;
		}
		g_string_truncate(path, saved);
		if (!ok) {
			if (error != NULL && *error == NULL)
				g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "out of memory");
			protobuf_c_message_free_unpacked(msg, NULL);
			return NULL;
		}
	}
	for (unsigned f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *field = &desc->fields[f];
		if (field->label == PROTOBUF_C_LABEL_REQUIRED && !field_present(msg, field)) {
			gsize saved = path->len;
			path_push_field(path, field->name);
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: required field is missing", path->str);
			g_string_truncate(path, saved);
			protobuf_c_message_free_unpacked(msg, NULL);
			return NULL;
		}
	}
	return msg;
}

ProtobufCMessage *
vt_json_to_message(const ProtobufCMessageDescriptor *desc, JsonNode *node, GError **error)
{
	g_autoptr(GString) path = g_string_new(NULL);

	g_return_val_if_fail(desc != NULL && node != NULL, NULL);
	return node_to_message(desc, node, path, 0, error);
}

/* ------------------------------------------------------------ text */

/*
 * Our own writer: JSON-GLib 1.6's generator appends ".0" to doubles printed in
 * exponent form ("1e-300.0"), which is not JSON.
 */
static void
write_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

static void
write_double(GString *out, double d)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	/* the shortest of %.15g/%.17g that reads back exactly */
	g_ascii_formatd(buf, sizeof(buf), "%.15g", d);
	if (g_ascii_strtod(buf, NULL) != d)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", d);
	g_string_append(out, buf);
	if (strpbrk(buf, ".eE") == NULL)
		g_string_append(out, ".0");
}

static void
write_indent(GString *out, gboolean pretty, guint level)
{
	if (!pretty)
		return;
	g_string_append_c(out, '\n');
	for (guint i = 0; i < level; i++)
		g_string_append(out, "  ");
}

static void
write_node(GString *out, JsonNode *node, gboolean pretty, guint level)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_NULL:
		g_string_append(out, "null");
		return;
	case JSON_NODE_OBJECT: {
		JsonObject *obj = json_node_get_object(node);
		g_autoptr(GList) members = json_object_get_members(obj);

		if (members == NULL) {
			g_string_append(out, "{}");
			return;
		}
		g_string_append_c(out, '{');
		for (GList *l = members; l != NULL; l = l->next) {
			write_indent(out, pretty, level + 1);
			write_string(out, l->data);
			g_string_append(out, pretty ? ": " : ":");
			write_node(out, json_object_get_member(obj, l->data), pretty, level + 1);
			if (l->next != NULL)
				g_string_append_c(out, ',');
		}
		write_indent(out, pretty, level);
		g_string_append_c(out, '}');
		return;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *arr = json_node_get_array(node);
		guint n = json_array_get_length(arr);

		if (n == 0) {
			g_string_append(out, "[]");
			return;
		}
		g_string_append_c(out, '[');
		for (guint i = 0; i < n; i++) {
			write_indent(out, pretty, level + 1);
			write_node(out, json_array_get_element(arr, i), pretty, level + 1);
			if (i + 1 < n)
				g_string_append_c(out, ',');
		}
		write_indent(out, pretty, level);
		g_string_append_c(out, ']');
		return;
	}
	case JSON_NODE_VALUE:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_INT64:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
		break;
	case G_TYPE_DOUBLE:
		write_double(out, json_node_get_double(node));
		break;
	case G_TYPE_BOOLEAN:
		g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
		break;
	case G_TYPE_STRING:
		write_string(out, json_node_get_string(node));
		break;
	default:
		g_string_append(out, "null");
		break;
	}
}

char *
vt_json_node_to_string(JsonNode *node, gboolean pretty)
{
	GString *out = g_string_sized_new(256);

	write_node(out, node, pretty, 0);
	if (pretty)
		g_string_append_c(out, '\n');
	return g_string_free(out, FALSE);
}

char *
vt_json_message_to_string(const ProtobufCMessage *msg, gboolean pretty, GError **error)
{
	g_autoptr(JsonNode) node = vt_json_from_message(msg, error);

	if (node == NULL)
		return NULL;
	return vt_json_node_to_string(node, pretty);
}

gboolean
vt_json_check_depth(const char *text, gsize len, guint max_depth, GError **error)
{
	guint depth = 0;
	gboolean in_string = FALSE;

	for (gsize i = 0; i < len && text[i] != '\0'; i++) {
		char ch = text[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = FALSE;
		} else if (ch == '"') {
			in_string = TRUE;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max_depth) {
				g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
					    "JSON nested deeper than %u levels (at byte "
					    "%" G_GSIZE_FORMAT ")",
					    max_depth, i);
				return FALSE;
			}
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return TRUE;
}

ProtobufCMessage *
vt_json_message_from_string(const ProtobufCMessageDescriptor *desc, const char *text, gssize len,
			    GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) local = NULL;
	JsonNode *root;

	/* JSON-GLib's parser recurses once per level: a file of a few hundred
	 * KB of "[[[[" overflows the stack before any error comes back. */
	if (!vt_json_check_depth(text, len < 0 ? strlen(text) : (gsize)len, VT_JSON_MAX_DEPTH,
				 error))
		return NULL;
	if (!json_parser_load_from_data(parser, text, len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "not valid JSON: %s",
			    local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "empty JSON document");
		return NULL;
	}
	return vt_json_to_message(desc, root, error);
}
