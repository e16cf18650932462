/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <protobuf-c/protobuf-c.h>

G_BEGIN_DECLS

/*
 * The canonical JSON form of any protobuf-c message, driven by its descriptor:
 * - field names are the .proto names, in field-number order;
 * - unset optional fields and empty repeated fields are omitted;
 * - map<K,V> fields (repeated *Entry messages with key/value) are JSON objects
 *   in wire order;
 * - integers are JSON numbers; unsigned 64-bit values above INT64_MAX are
 *   refused, since JSON-GLib holds numbers as gint64;
 * - enums are their value names; bytes are base64 strings.
 * Conversion back is strict: an unknown member, a wrong type, an out-of-range
 * number or invalid UTF-8 is an error naming the field's path
 * (e.g. "nics[1].channels.combined"). JSON null is taken as unset.
 */
JsonNode *vt_json_from_message(const ProtobufCMessage *msg, GError **error);
ProtobufCMessage *vt_json_to_message(const ProtobufCMessageDescriptor *desc, JsonNode *node,
				     GError **error);

/* Text helpers: pretty output is indented by two spaces and ends in '\n'. */
char *vt_json_message_to_string(const ProtobufCMessage *msg, gboolean pretty, GError **error);
ProtobufCMessage *vt_json_message_from_string(const ProtobufCMessageDescriptor *desc,
					      const char *text, gssize len, GError **error);
char *vt_json_node_to_string(JsonNode *node, gboolean pretty);

/* FALSE when @text nests objects/arrays deeper than @max_depth; call before
 * handing untrusted text to JSON-GLib, whose parser recurses per level. */
gboolean vt_json_check_depth(const char *text, gsize len, guint max_depth, GError **error);
/*
 * vt_json_check_depth(), and what JSON-GLib would take without a word but
 * must not be: a NUL byte, a \u0000 escape (C strings cannot hold it) and an
 * integer outside 64 bits (JSON-GLib wraps it), each refused quoting the text
 * as written.
 */
gboolean vt_json_check_text(const char *text, gsize len, guint max_depth, GError **error);

G_END_DECLS
