/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the JSON encoder, decoder and text writer share: descriptor helpers
 * and the path ("nics[1].features") that errors name. */
#pragma once

#include <glib.h>
#include <protobuf-c/protobuf-c.h>

G_BEGIN_DECLS

/* Nesting is bounded by the schema, but a message can be self-referential in
 * principle; stop well before the stack is at risk. */
#define VT_JSON_MAX_DEPTH 32

#define MEMBER(msg, off)  ((void *)((char *)(msg) + (off)))
#define CMEMBER(msg, off) ((const void *)((const char *)(msg) + (off)))

/* A repeated KeyEntry{key=1, value=2} field: what protoc-c makes of map<>. */
gboolean vt_json_is_map_field(const ProtobufCFieldDescriptor *field);
/* Is a singular field present? */
gboolean vt_json_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field);
void vt_json_path_push(GString *path, const char *name);
const char *vt_json_path(GString *path);

G_END_DECLS
