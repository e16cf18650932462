/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A message to its canonical JSON form (field names, maps as objects). */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json-private.h"
#include "message.h"

/* ------------------------------------------------------------ to JSON */

static JsonNode *message_to_node(const ProtobufCMessage *msg, GString *path, guint depth,
				 GError **error);

/* A string (checked to be UTF-8) or bytes (base64). */
static JsonNode *
text_to_node(const ProtobufCFieldDescriptor *field, const void *value, GString *path,
	     GError **error)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);

	switch (field->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)value;
		if (s == NULL)
			s = "";
		if (!g_utf8_validate(s, -1, NULL)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: invalid UTF-8",
				    vt_json_path(path));
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
	default:
		break;
	}
	return node;
}

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
				    vt_json_path(path), v);
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
				    vt_json_path(path));
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
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
		json_node_unref(node);
		return text_to_node(field, value, path, error);
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
				    "%s: unsupported map key type", vt_json_path(path));
			return NULL;
		}
		if (!g_utf8_validate(key, -1, NULL)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: key is invalid UTF-8",
				    vt_json_path(path));
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
			    vt_json_path(path));
		return NULL;
	}
	for (unsigned f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *field = &desc->fields[f];
		gsize saved = path->len;
		JsonNode *child = NULL;

		vt_json_path_push(path, field->name);
		if (field->label == PROTOBUF_C_LABEL_REPEATED) {
			gsize n = *(const size_t *)CMEMBER(msg, field->quantifier_offset);
			const char *arr = *(const char *const *)CMEMBER(msg, field->offset);

			if (n == 0 || arr == NULL) {
				g_string_truncate(path, saved);
				continue;
			}
			if (vt_json_is_map_field(field)) {
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
		} else if (vt_json_field_present(msg, field)) {
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
