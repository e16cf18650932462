/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The canonical JSON form back to a message, every value checked against its field. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json-private.h"
#include "message.h"

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
		    vt_json_path(path), want, json_type_name(node));
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
			    vt_json_path(path), v, min, max);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

static ProtobufCMessage *node_to_message(const ProtobufCMessageDescriptor *desc, JsonNode *node,
					 GString *path, guint depth, GError **error);

static gboolean
node_to_number(const ProtobufCFieldDescriptor *field, JsonNode *node, void *value, GString *path,
	       GError **error)
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
	default:
		break;
	}
	return FALSE;
}

static gboolean
node_to_enum(const ProtobufCFieldDescriptor *field, JsonNode *node, void *value, GString *path,
	     GError **error)
{
	gint64 i;
	const ProtobufCEnumValue *ev = NULL;
	if (node_is(node, G_TYPE_STRING)) {
		ev = protobuf_c_enum_descriptor_get_value_by_name(field->descriptor,
								  json_node_get_string(node));
		if (ev == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: '%s' is not a value of %s", vt_json_path(path),
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

static gboolean
node_to_bytes(JsonNode *node, void *value, GString *path, GError **error)
{
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

/* Fill *value (storage of the field's C type), allocating with malloc. */
static gboolean
node_to_value(const ProtobufCFieldDescriptor *field, JsonNode *node, void *value, GString *path,
	      guint depth, GError **error)
{
	switch (field->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return node_to_number(field, node, value, path, error);
	case PROTOBUF_C_TYPE_BOOL:
		if (!node_is(node, G_TYPE_BOOLEAN))
			return wrong_type(error, path, "boolean", node);
		*(protobuf_c_boolean *)value = json_node_get_boolean(node) ? 1 : 0;
		return TRUE;
	case PROTOBUF_C_TYPE_ENUM:
		return node_to_enum(field, node, value, path, error);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s;
		if (!node_is(node, G_TYPE_STRING))
			return wrong_type(error, path, "string", node);
		s = json_node_get_string(node);
		if (!g_utf8_validate(s, -1, NULL)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: invalid UTF-8",
				    vt_json_path(path));
			return FALSE;
		}
		*(char **)value = strdup(s);
		return *(char **)value != NULL;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return node_to_bytes(node, value, path, error);
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
		    vt_json_path(path));
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
		    vt_json_path(path), key);
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

/* One member of the object: a field of @desc, set at most once. */
static gboolean
member_from_node(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *field,
		 JsonNode *child, ProtobufCMessage *msg, GString *path, guint depth, GError **error)
{
	gboolean ok = TRUE;

	if (field == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: unknown field of %s", path->str,
			    desc->name);
		ok = FALSE;
	} else if (JSON_NODE_HOLDS_NULL(child)) {
		ok = TRUE; /* null is unset */
	} else if (field->label == PROTOBUF_C_LABEL_REPEATED) {
		ok = vt_json_is_map_field(field)
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
			ok = node_to_value(field, child, MEMBER(msg, field->offset), path, depth,
					   error);
			if (ok)
				*which = field->id;
		}
	} else {
		ok = node_to_value(field, child, MEMBER(msg, field->offset), path, depth, error);
		if (ok && field->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)MEMBER(msg, field->quantifier_offset) = 1;
	}
	return ok;
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
			    vt_json_path(path));
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

		vt_json_path_push(path, name);
		ok = member_from_node(desc, field, child, msg, path, depth, error);
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
		if (field->label == PROTOBUF_C_LABEL_REQUIRED &&
		    !vt_json_field_present(msg, field)) {
			gsize saved = path->len;
			vt_json_path_push(path, field->name);
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
