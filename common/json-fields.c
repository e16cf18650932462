/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Descriptor helpers of the canonical JSON form (json-encode.c, json-decode.c). */
#include <string.h>

#include "json-private.h"

static gboolean
is_map_entry(const ProtobufCMessageDescriptor *desc)
{
	return desc != NULL && desc->n_fields == 2 && g_str_has_suffix(desc->name, "Entry") &&
	       desc->fields[0].id == 1 && strcmp(desc->fields[0].name, "key") == 0 &&
	       desc->fields[1].id == 2 && strcmp(desc->fields[1].name, "value") == 0 &&
	       desc->fields[0].label != PROTOBUF_C_LABEL_REPEATED &&
	       desc->fields[1].label != PROTOBUF_C_LABEL_REPEATED;
}

gboolean
vt_json_is_map_field(const ProtobufCFieldDescriptor *field)
{
	return field->label == PROTOBUF_C_LABEL_REPEATED &&
	       field->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(field->descriptor);
}

gboolean
vt_json_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
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

void
vt_json_path_push(GString *path, const char *name)
{
	if (path->len > 0)
		g_string_append_c(path, '.');
	g_string_append(path, name);
}

const char *
vt_json_path(GString *path)
{
	return path->len > 0 ? path->str : "(message)";
}
