/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "message.h"

#include <stdlib.h>

#include "error.h"
#include "frame.h"
#include "bounds.h"

/*
 * protobuf-c's default allocator is malloc/free; ours is the same plus a
 * budget, so messages it builds are freed with the default allocator.
 */
typedef struct {
	gsize used;
	gsize limit;
	gboolean exceeded;
} VtUnpackBudget;

static void *
budget_alloc(void *allocator_data, size_t size)
{
	VtUnpackBudget *budget = allocator_data;

	if (size > budget->limit - budget->used) {
		budget->exceeded = TRUE;
		return NULL;
	}
	budget->used += size;
	return malloc(size);
}

static void
budget_free(void *allocator_data, void *pointer)
{
	free(pointer);
}

void
vt_message_free(ProtobufCMessage *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

static void
set_unpack_error(const ProtobufCMessageDescriptor *desc, gsize len, gboolean exceeded,
		 GError **error)
{
	if (exceeded)
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: unpacking %" G_GSIZE_FORMAT
			    " bytes needs more than %u bytes of memory",
			    desc->name, len, VT_UNPACK_MEMORY_MAX);
	else
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: %" G_GSIZE_FORMAT " bytes are not a valid message", desc->name,
			    len);
}

ProtobufCMessage *
vt_message_unpack(const ProtobufCMessageDescriptor *desc, const guint8 *data, gsize len,
		  GError **error)
{
	VtUnpackBudget budget = {.used = 0, .limit = VT_UNPACK_MEMORY_MAX};
	ProtobufCAllocator allocator = {
		.alloc = budget_alloc,
		.free = budget_free,
		.allocator_data = &budget,
	};
	ProtobufCMessage *msg;

	msg = protobuf_c_message_unpack(desc, &allocator, len, data);
	if (msg == NULL)
		set_unpack_error(desc, len, budget.exceeded, error);
	return msg;
}

static void *
arena_alloc(void *allocator_data, size_t size)
{
	return vt_arena_alloc(allocator_data, size);
}

static void
arena_free(void *allocator_data, void *pointer)
{
	/* freed with the arena */
}

ProtobufCMessage *
vt_message_unpack_in(const ProtobufCMessageDescriptor *desc, const guint8 *data, gsize len,
		     VtArena *arena, GError **error)
{
	ProtobufCAllocator allocator = {
		.alloc = arena_alloc,
		.free = arena_free,
		.allocator_data = arena,
	};
	ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &allocator, len, data);

	if (msg == NULL)
		set_unpack_error(desc, len, vt_arena_refused(arena), error);
	return msg;
}

ProtobufCMessage *
vt_message_copy(const ProtobufCMessage *msg, GError **error)
{
	g_autoptr(GBytes) packed = vt_message_pack(msg, FALSE, error);
	gsize len;
	const guint8 *data;

	if (packed == NULL)
		return NULL;
	data = g_bytes_get_data(packed, &len);
	return vt_message_unpack(msg->descriptor, data, len, error);
}

VtEnvelope *
vt_envelope_unpack(const guint8 *data, gsize len, GError **error)
{
	return (VtEnvelope *)vt_message_unpack(&virttune__v1__envelope__descriptor, data, len,
					       error);
}

guint32
vt_message_field_id(const ProtobufCMessageDescriptor *desc, const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(desc, name);

	g_assert(f != NULL);
	return f->id;
}

guint
vt_varint_size(guint64 v)
{
	guint n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

gsize
vt_varint_write(guint64 v, guint8 *out)
{
	gsize n = 0;

	for (; v >= 0x80; v >>= 7)
		out[n++] = (guint8)(v | 0x80);
	out[n++] = (guint8)v;
	return n;
}

GBytes *
vt_message_pack(const ProtobufCMessage *msg, gboolean bounded, GError **error)
{
	gsize size = protobuf_c_message_get_packed_size(msg);
	guint8 *buf;

	if (bounded && size > VT_FRAME_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s packs to %" G_GSIZE_FORMAT " bytes, over the %u-byte frame limit",
			    msg->descriptor->name, size, VT_FRAME_MAX);
		return NULL;
	}
	buf = g_malloc(MAX(size, 1));
	protobuf_c_message_pack(msg, buf);
	return g_bytes_new_take(buf, size);
}

gboolean
vt_envelope_append_frame(GByteArray *out, const VtEnvelope *env, GError **error)
{
	g_autoptr(GBytes) payload = vt_message_pack((const ProtobufCMessage *)env, TRUE, error);
	gsize len;
	const guint8 *data;

	if (payload == NULL)
		return FALSE;
	data = g_bytes_get_data(payload, &len);
	return vt_frame_append(out, data, len, error);
}

const char *
vt_envelope_body_name(const VtEnvelope *env)
{
	const ProtobufCFieldDescriptor *field;

	if (env->body_case == VIRTTUNE__V1__ENVELOPE__BODY__NOT_SET)
		return "empty";
	field = protobuf_c_message_descriptor_get_field(&virttune__v1__envelope__descriptor,
							(unsigned)env->body_case);
	return field != NULL ? field->name : "unknown";
}

const char *
vt_apply_result_status_name(int status)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&virttune__v1__apply_result__status__descriptor, status);
	return v != NULL ? v->name : "unknown";
}

gsize
vt_protobuf_type_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
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
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

gboolean
vt_report_meminfo(const VtReport *report, const char *key, guint64 *value)
{
	for (gsize i = 0; report != NULL && i < report->n_meminfo; i++)
		if (g_strcmp0(report->meminfo[i]->key, key) == 0 && report->meminfo[i]->has_value) {
			*value = report->meminfo[i]->value;
			return TRUE;
		}
	return FALSE;
}

gboolean
vt_report_vmstat(const VtReport *report, const char *key, guint64 *value)
{
	for (gsize i = 0; report != NULL && i < report->n_vmstat; i++)
		if (g_strcmp0(report->vmstat[i]->key, key) == 0 && report->vmstat[i]->has_value) {
			*value = report->vmstat[i]->value;
			return TRUE;
		}
	return FALSE;
}

const char *
vt_report_sysctl(const VtReport *report, const char *key)
{
	for (gsize i = 0; report != NULL && i < report->n_sysctl; i++)
		if (g_strcmp0(report->sysctl[i]->key, key) == 0)
			return report->sysctl[i]->value;
	return NULL;
}
