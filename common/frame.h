/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "bounds.h"

G_BEGIN_DECLS

/* Why bytes were thrown away; the names are what the daemon counts by. */
typedef enum {
	VT_FRAME_REJECT_GARBAGE,   /* bytes before a magic (one count per run) */
	VT_FRAME_REJECT_OVERSIZE,  /* header length > max_payload */
	VT_FRAME_REJECT_BAD_CRC,   /* payload does not match its crc32 */
	VT_FRAME_REJECT_TRUNCATED, /* stream ended (reset) inside a frame */
	VT_FRAME_REJECT_N_REASONS,
} VtFrameReject;

const char *vt_frame_reject_name(VtFrameReject reason);

/* Both return TRUE to go on, FALSE to stop this feed (the caller will drop the
 * connection); the payload pointer is only valid during the call. */
typedef gboolean (*VtFrameFunc)(const guint8 *payload, gsize len, gpointer user_data);
typedef gboolean (*VtFrameRejectFunc)(VtFrameReject reason, gsize n_bytes, gpointer user_data);

typedef struct VtFrameDecoder VtFrameDecoder;

/* max_payload: 0 means VT_FRAME_MAX; larger values are clamped to it. */
VtFrameDecoder *vt_frame_decoder_new(gsize max_payload);
void vt_frame_decoder_free(VtFrameDecoder *dec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtFrameDecoder, vt_frame_decoder_free)

void vt_frame_decoder_set_callbacks(VtFrameDecoder *dec, VtFrameFunc on_frame,
				    VtFrameRejectFunc on_reject, gpointer user_data);

/*
 * Consume @len bytes, split anywhere. Complete frames go to on_frame in order.
 * Returns FALSE only when a callback asked to stop; the rest of @data is then
 * dropped and the decoder stays stopped until vt_frame_decoder_reset().
 * Does no I/O and never holds more than VT_FRAME_HEADER_SIZE + max_payload.
 */
gboolean vt_frame_decoder_feed(VtFrameDecoder *dec, const guint8 *data, gsize len);

/* The stream was cut (reconnect): drop a partial frame, counting it TRUNCATED
 * when it had begun with a magic. */
void vt_frame_decoder_reset(VtFrameDecoder *dec);

/* Bytes held for a partial frame, and the buffer capacity ever allocated. */
gsize vt_frame_decoder_pending(const VtFrameDecoder *dec);
gsize vt_frame_decoder_capacity(const VtFrameDecoder *dec);
guint64 vt_frame_decoder_rejects(const VtFrameDecoder *dec, VtFrameReject reason);
guint64 vt_frame_decoder_frames(const VtFrameDecoder *dec);
/* Bytes skipped while looking for a magic (garbage, bodies of rejected
 * frames); a run is one GARBAGE reject however long it is. */
guint64 vt_frame_decoder_skipped_bytes(const VtFrameDecoder *dec);

/* Append magic|length|crc|payload to @out. Fails (and appends nothing) when
 * @len exceeds VT_FRAME_MAX. */
gboolean vt_frame_append(GByteArray *out, const guint8 *payload, gsize len, GError **error);

guint32 vt_crc32(const guint8 *data, gsize len);

G_END_DECLS
