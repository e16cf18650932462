/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "frame.h"

#include <string.h>
#include <limits.h>
#include <zlib.h>

#include "error.h"

/* Bytes taken from the caller per pass; the buffer grows past this only for a
 * frame whose header has already been checked against max_payload. */
#define VT_FRAME_CHUNK 4096u

static const guint8 vt_frame_magic[4] = {VT_FRAME_MAGIC_0, VT_FRAME_MAGIC_1, VT_FRAME_MAGIC_2,
					 VT_FRAME_MAGIC_3};

struct VtFrameDecoder {
	guint8 *buf;
	gsize cap;
	gsize start; /* unconsumed bytes are buf[start, end) */
	gsize end;
	gsize max_payload;
	gboolean stopped;
	gboolean in_garbage; /* inside a run already counted (or a rejected frame) */
	VtFrameFunc on_frame;
	VtFrameRejectFunc on_reject;
	gpointer user_data;
	guint64 rejects[VT_FRAME_REJECT_N_REASONS];
	guint64 frames;
	guint64 skipped; /* bytes thrown away outside frames */
};

static const char *const reject_names[VT_FRAME_REJECT_N_REASONS] = {
	[VT_FRAME_REJECT_GARBAGE] = "garbage",
	[VT_FRAME_REJECT_OVERSIZE] = "oversize",
	[VT_FRAME_REJECT_BAD_CRC] = "bad_crc",
	[VT_FRAME_REJECT_TRUNCATED] = "truncated",
};

const char *
vt_frame_reject_name(VtFrameReject reason)
{
	if ((guint)reason >= VT_FRAME_REJECT_N_REASONS)
		return "unknown";
	return reject_names[reason];
}

guint32
vt_crc32(const guint8 *data, gsize len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (len > 0) {
		uInt n = (uInt)MIN(len, (gsize)G_MAXUINT32);
		crc = crc32(crc, data, n);
		data += n;
		len -= n;
	}
	return (guint32)crc;
}

static guint32
read_be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | (guint32)p[3];
}

static void
write_be32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v >> 24);
	p[1] = (guint8)(v >> 16);
	p[2] = (guint8)(v >> 8);
	p[3] = (guint8)v;
}

VtFrameDecoder *
vt_frame_decoder_new(gsize max_payload)
{
	VtFrameDecoder *dec = g_new0(VtFrameDecoder, 1);

	dec->max_payload =
		(max_payload == 0 || max_payload > VT_FRAME_MAX) ? VT_FRAME_MAX : max_payload;
	return dec;
}

void
vt_frame_decoder_free(VtFrameDecoder *dec)
{
	if (dec == NULL)
		return;
	g_free(dec->buf);
	g_free(dec);
}

void
vt_frame_decoder_set_callbacks(VtFrameDecoder *dec, VtFrameFunc on_frame,
			       VtFrameRejectFunc on_reject, gpointer user_data)
{
	dec->on_frame = on_frame;
	dec->on_reject = on_reject;
	dec->user_data = user_data;
}

static gboolean
reject(VtFrameDecoder *dec, VtFrameReject reason, gsize n_bytes)
{
	dec->rejects[reason]++;
	if (dec->on_reject != NULL)
		return dec->on_reject(reason, n_bytes, dec->user_data);
	return TRUE;
}

/* Offset of the first complete magic in p[0, len), or of a magic prefix that
 * runs into the end, or len when neither is there. */
static gsize
find_magic(const guint8 *p, gsize len)
{
	gsize i = 0;

	while (i < len) {
		const guint8 *hit = memchr(p + i, vt_frame_magic[0], len - i);
		gsize n;

		if (hit == NULL)
			return len;
		i = (gsize)(hit - p);
		n = MIN(sizeof(vt_frame_magic), len - i);
		if (memcmp(p + i, vt_frame_magic, n) == 0)
			return i;
		i++;
	}
	return len;
}

/* Make buf[start, start + need) fit, moving what is held to the front. */
static void
make_room(VtFrameDecoder *dec, gsize need)
{
	if (dec->start > 0) {
		memmove(dec->buf, dec->buf + dec->start, dec->end - dec->start);
		dec->end -= dec->start;
		dec->start = 0;
	}
	if (dec->cap < need) {
		dec->buf = g_realloc(dec->buf, need);
		dec->cap = need;
	}
}

/* Decode every complete frame held. FALSE when a callback said stop. */
static gboolean
process(VtFrameDecoder *dec)
{
	for (;;) {
		const guint8 *p = dec->buf + dec->start;
		gsize avail = dec->end - dec->start;
		gsize skip;
		guint32 length;
		gsize need;

		if (avail == 0)
			return TRUE;

		skip = find_magic(p, avail);
		if (skip > 0) {
			dec->start += skip;
			dec->skipped += skip;
			if (!dec->in_garbage) {
				dec->in_garbage = TRUE;
				if (!reject(dec, VT_FRAME_REJECT_GARBAGE, skip))
					return FALSE;
			}
			continue;
		}
		if (avail < VT_FRAME_HEADER_SIZE)
			return TRUE; /* a magic (or its prefix) waiting for the rest of its header
				      */

		/* The bytes that follow a rejected header belong to it, not to a new
		 * garbage run, until the next magic. */
		dec->in_garbage = FALSE;
		length = read_be32(p + 4);
		if (length > dec->max_payload) {
			dec->start += 1;
			dec->in_garbage = TRUE;
			if (!reject(dec, VT_FRAME_REJECT_OVERSIZE, VT_FRAME_HEADER_SIZE))
				return FALSE;
			continue;
		}
		need = VT_FRAME_HEADER_SIZE + (gsize)length;
		if (avail < need) {
			if (dec->cap - dec->start < need)
				make_room(dec, need);
			return TRUE;
		}
		if (vt_crc32(p + VT_FRAME_HEADER_SIZE, length) != read_be32(p + 8)) {
			/* Rescan from the next byte: when bytes were lost mid-frame, the
			 * next good frame starts inside what this header claimed. */
			dec->start += 1;
			dec->in_garbage = TRUE;
			if (!reject(dec, VT_FRAME_REJECT_BAD_CRC, need))
				return FALSE;
			continue;
		}
		dec->start += need;
		dec->frames++;
		if (dec->on_frame != NULL &&
		    !dec->on_frame(p + VT_FRAME_HEADER_SIZE, length, dec->user_data))
			return FALSE;
	}
}

gboolean
vt_frame_decoder_feed(VtFrameDecoder *dec, const guint8 *data, gsize len)
{
	if (dec->stopped)
		return FALSE;

	while (len > 0) {
		gsize n;

		if (dec->buf == NULL) {
			dec->cap = MIN(VT_FRAME_CHUNK, VT_FRAME_HEADER_SIZE + dec->max_payload);
			dec->buf = g_malloc(dec->cap);
		}
		if (dec->start == dec->end)
			dec->start = dec->end = 0;
		else if (dec->end == dec->cap)
			make_room(dec, 0);

		n = MIN(dec->cap - dec->end, len);
		if (n == 0) {
			/* Unreachable by construction (process() always leaves room);
			 * dropping the held bytes beats spinning. */
			dec->start = dec->end = 0;
			continue;
		}
		memcpy(dec->buf + dec->end, data, n);
		dec->end += n;
		data += n;
		len -= n;

		if (!process(dec)) {
			dec->stopped = TRUE;
			return FALSE;
		}
	}
	/* Nothing held: give the buffer back. A host has a decoder per guest,
	 * and most are idle between reports. */
	if (dec->buf != NULL && dec->start == dec->end) {
		g_clear_pointer(&dec->buf, g_free);
		dec->cap = 0;
		dec->start = dec->end = 0;
	}
	return TRUE;
}

void
vt_frame_decoder_reset(VtFrameDecoder *dec)
{
	if (dec->end > dec->start && !dec->in_garbage && dec->buf[dec->start] == vt_frame_magic[0])
		reject(dec, VT_FRAME_REJECT_TRUNCATED, dec->end - dec->start);
	dec->start = dec->end = 0;
	dec->in_garbage = FALSE;
	dec->stopped = FALSE;
	/* Give back a large buffer: an idle connection holds 4 KiB at most. */
	if (dec->cap > VT_FRAME_CHUNK) {
		g_clear_pointer(&dec->buf, g_free);
		dec->cap = 0;
	}
}

gsize
vt_frame_decoder_pending(const VtFrameDecoder *dec)
{
	return dec->end - dec->start;
}

gsize
vt_frame_decoder_capacity(const VtFrameDecoder *dec)
{
	return dec->cap;
}

guint64
vt_frame_decoder_rejects(const VtFrameDecoder *dec, VtFrameReject reason)
{
	if ((guint)reason >= VT_FRAME_REJECT_N_REASONS)
		return 0;
	return dec->rejects[reason];
}

guint64
vt_frame_decoder_skipped_bytes(const VtFrameDecoder *dec)
{
	return dec->skipped;
}

guint64
vt_frame_decoder_frames(const VtFrameDecoder *dec)
{
	return dec->frames;
}

gboolean
vt_frame_append(GByteArray *out, const guint8 *payload, gsize len, GError **error)
{
	guint8 header[VT_FRAME_HEADER_SIZE];

	if (len > VT_FRAME_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "frame payload of %" G_GSIZE_FORMAT " bytes exceeds the %u-byte limit",
			    len, VT_FRAME_MAX);
		return FALSE;
	}
	memcpy(header, vt_frame_magic, sizeof(vt_frame_magic));
	write_be32(header + 4, (guint32)len);
	write_be32(header + 8, vt_crc32(payload, len));
	g_byte_array_append(out, header, sizeof(header));
	if (len > 0)
		g_byte_array_append(out, payload, (guint)len);
	return TRUE;
}
