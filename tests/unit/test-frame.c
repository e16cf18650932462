/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "error.h"
#include "frame.h"

typedef struct {
	GPtrArray *frames; /* GBytes */
	guint64 rejects[VT_FRAME_REJECT_N_REASONS];
	guint stop_after; /* 0: never */
} Sink;

static gboolean
on_frame(const guint8 *payload, gsize len, gpointer user_data)
{
	Sink *sink = user_data;

	g_ptr_array_add(sink->frames, g_bytes_new(payload, len));
	return sink->stop_after == 0 || sink->frames->len < sink->stop_after;
}

static gboolean
on_reject(VtFrameReject reason, gsize n_bytes, gpointer user_data)
{
	Sink *sink = user_data;

	g_assert_cmpuint(reason, <, VT_FRAME_REJECT_N_REASONS);
	sink->rejects[reason]++;
	return TRUE;
}

static void
sink_init(Sink *sink)
{
	memset(sink, 0, sizeof(*sink));
	sink->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
}

static void
sink_clear(Sink *sink)
{
	g_ptr_array_unref(sink->frames);
}

static VtFrameDecoder *
decoder_for(Sink *sink, gsize max)
{
	VtFrameDecoder *dec = vt_frame_decoder_new(max);

	vt_frame_decoder_set_callbacks(dec, on_frame, on_reject, sink);
	return dec;
}

/* Payloads that include the magic itself and a would-be header inside. */
static GPtrArray *
make_payloads(void)
{
	GPtrArray *payloads = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	static const guint8 tricky[] = {VT_FRAME_MAGIC_0,
					VT_FRAME_MAGIC_1,
					VT_FRAME_MAGIC_2,
					VT_FRAME_MAGIC_3,
					0,
					0,
					0,
					4,
					1,
					2,
					3,
					4,
					0x8e,
					0x56};
	guint8 big[300];

	for (gsize i = 0; i < sizeof(big); i++)
		big[i] = (guint8)(i * 7 + 3);
	g_ptr_array_add(payloads, g_bytes_new_static("hello", 5));
	g_ptr_array_add(payloads, g_bytes_new_static("", 0));
	g_ptr_array_add(payloads, g_bytes_new(tricky, sizeof(tricky)));
	g_ptr_array_add(payloads, g_bytes_new(big, sizeof(big)));
	g_ptr_array_add(payloads, g_bytes_new_static("x", 1));
	return payloads;
}

static GByteArray *
encode_all(GPtrArray *payloads)
{
	GByteArray *stream = g_byte_array_new();

	for (guint i = 0; i < payloads->len; i++) {
		g_autoptr(GError) error = NULL;
		gsize len;
		const guint8 *data = g_bytes_get_data(payloads->pdata[i], &len);

		g_assert_true(vt_frame_append(stream, data, len, &error));
		g_assert_no_error(error);
	}
	return stream;
}

static void
assert_frames_equal(GPtrArray *got, GPtrArray *want)
{
	g_assert_cmpuint(got->len, ==, want->len);
	for (guint i = 0; i < want->len; i++)
		g_assert_true(g_bytes_equal(got->pdata[i], want->pdata[i]));
}

static void
assert_no_rejects(Sink *sink)
{
	for (guint r = 0; r < VT_FRAME_REJECT_N_REASONS; r++)
		g_assert_cmpuint(sink->rejects[r], ==, 0);
}

static void
test_split_every_offset(void)
{
	g_autoptr(GPtrArray) payloads = make_payloads();
	g_autoptr(GByteArray) stream = encode_all(payloads);

	for (guint cut = 0; cut <= stream->len; cut++) {
		Sink sink;
		g_autoptr(VtFrameDecoder) dec = NULL;

		sink_init(&sink);
		dec = decoder_for(&sink, 0);
		g_assert_true(vt_frame_decoder_feed(dec, stream->data, cut));
		g_assert_true(vt_frame_decoder_feed(dec, stream->data + cut, stream->len - cut));
		assert_frames_equal(sink.frames, payloads);
		assert_no_rejects(&sink);
		g_assert_cmpuint(vt_frame_decoder_pending(dec), ==, 0);
		g_assert_cmpuint(vt_frame_decoder_frames(dec), ==, payloads->len);
		sink_clear(&sink);
	}
}

/* Three cuts: every pair of offsets over a shorter stream. */
static void
test_split_every_pair(void)
{
	g_autoptr(GPtrArray) payloads = make_payloads();
	g_autoptr(GByteArray) stream = NULL;

	g_ptr_array_remove_index(payloads, 3); /* drop the 300-byte one */
	stream = encode_all(payloads);
	for (guint a = 0; a <= stream->len; a++) {
		for (guint b = a; b <= stream->len; b++) {
			Sink sink;
			g_autoptr(VtFrameDecoder) dec = NULL;

			sink_init(&sink);
			dec = decoder_for(&sink, 0);
			vt_frame_decoder_feed(dec, stream->data, a);
			vt_frame_decoder_feed(dec, stream->data + a, b - a);
			vt_frame_decoder_feed(dec, stream->data + b, stream->len - b);
			assert_frames_equal(sink.frames, payloads);
			assert_no_rejects(&sink);
			sink_clear(&sink);
		}
	}
}

static void
test_byte_by_byte(void)
{
	g_autoptr(GPtrArray) payloads = make_payloads();
	g_autoptr(GByteArray) stream = encode_all(payloads);
	g_autoptr(VtFrameDecoder) dec = NULL;
	Sink sink;

	sink_init(&sink);
	dec = decoder_for(&sink, 0);
	for (guint i = 0; i < stream->len; i++)
		g_assert_true(vt_frame_decoder_feed(dec, stream->data + i, 1));
	assert_frames_equal(sink.frames, payloads);
	assert_no_rejects(&sink);
	sink_clear(&sink);
}

/* A maximal frame in one go and in odd-sized chunks. */
static void
test_max_size_frame(void)
{
	g_autoptr(GPtrArray) payloads =
		g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autoptr(GByteArray) stream = NULL;
	guint8 *big = g_malloc(VT_FRAME_MAX);
	const gsize chunks[] = {1, 7, 4096, 65536 + 12, 1000000};

	for (gsize i = 0; i < VT_FRAME_MAX; i++)
		big[i] = (guint8)(i ^ (i >> 8));
	g_ptr_array_add(payloads, g_bytes_new_take(big, VT_FRAME_MAX));
	g_ptr_array_add(payloads, g_bytes_new_static("after", 5));
	stream = encode_all(payloads);

	for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
		g_autoptr(VtFrameDecoder) dec = NULL;
		Sink sink;

		sink_init(&sink);
		dec = decoder_for(&sink, 0);
		for (gsize off = 0; off < stream->len; off += chunks[c])
			vt_frame_decoder_feed(dec, stream->data + off,
					      MIN(chunks[c], stream->len - off));
		assert_frames_equal(sink.frames, payloads);
		assert_no_rejects(&sink);
		g_assert_cmpuint(vt_frame_decoder_capacity(dec), <=,
				 VT_FRAME_HEADER_SIZE + VT_FRAME_MAX);
		sink_clear(&sink);
	}
}

static void
put_header(guint8 *h, guint32 len, guint32 crc)
{
	h[0] = VT_FRAME_MAGIC_0;
	h[1] = VT_FRAME_MAGIC_1;
	h[2] = VT_FRAME_MAGIC_2;
	h[3] = VT_FRAME_MAGIC_3;
	h[4] = (guint8)(len >> 24);
	h[5] = (guint8)(len >> 16);
	h[6] = (guint8)(len >> 8);
	h[7] = (guint8)len;
	h[8] = (guint8)(crc >> 24);
	h[9] = (guint8)(crc >> 16);
	h[10] = (guint8)(crc >> 8);
	h[11] = (guint8)crc;
}

static void
test_oversize_refused_without_allocation(void)
{
	const guint32 lengths[] = {VT_FRAME_MAX + 1, 0x7fffffffu, 0xffffffffu};

	for (gsize i = 0; i < G_N_ELEMENTS(lengths); i++) {
		g_autoptr(VtFrameDecoder) dec = NULL;
		g_autoptr(GByteArray) stream = g_byte_array_new();
		guint8 header[VT_FRAME_HEADER_SIZE];
		gsize cap_before;
		Sink sink;

		sink_init(&sink);
		dec = decoder_for(&sink, 0);
		/* Prime the decoder so its initial chunk buffer exists. */
		vt_frame_decoder_feed(dec, (const guint8 *)"zz", 2);
		cap_before = vt_frame_decoder_capacity(dec);
		g_assert_cmpuint(cap_before, <, VT_FRAME_MAX);

		put_header(header, lengths[i], 0);
		g_assert_true(vt_frame_decoder_feed(dec, header, sizeof(header)));
		g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_OVERSIZE], ==, 1);
		g_assert_cmpuint(vt_frame_decoder_capacity(dec), ==, cap_before);

		/* The next good frame still comes through. */
		g_assert_true(vt_frame_append(stream, (const guint8 *)"ok", 2, NULL));
		vt_frame_decoder_feed(dec, stream->data, stream->len);
		g_assert_cmpuint(sink.frames->len, ==, 1);
		g_assert_cmpmem(g_bytes_get_data(sink.frames->pdata[0], NULL), 2, "ok", 2);
		sink_clear(&sink);
	}
}

/* Exactly the limit is accepted; one more is refused — also for a smaller
 * per-decoder limit. */
static void
test_limit_edge(void)
{
	const gsize limits[] = {VT_FRAME_MAX, 100};

	for (gsize l = 0; l < G_N_ELEMENTS(limits); l++) {
		gsize max = limits[l];
		g_autofree guint8 *payload = g_malloc0(max + 1);
		g_autoptr(VtFrameDecoder) dec = NULL;
		guint8 header[VT_FRAME_HEADER_SIZE];
		Sink sink;

		sink_init(&sink);
		dec = decoder_for(&sink, max);
		put_header(header, (guint32)max, vt_crc32(payload, max));
		vt_frame_decoder_feed(dec, header, sizeof(header));
		vt_frame_decoder_feed(dec, payload, max);
		g_assert_cmpuint(sink.frames->len, ==, 1);
		g_assert_cmpuint(g_bytes_get_size(sink.frames->pdata[0]), ==, max);

		put_header(header, (guint32)max + 1, vt_crc32(payload, max + 1));
		vt_frame_decoder_feed(dec, header, sizeof(header));
		vt_frame_decoder_feed(dec, payload, max + 1);
		g_assert_cmpuint(sink.frames->len, ==, 1);
		g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_OVERSIZE], ==, 1);
		sink_clear(&sink);
	}
}

static void
test_frame_append_refuses_oversize(void)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autofree guint8 *payload = g_malloc0(VT_FRAME_MAX + 1);

	g_assert_false(vt_frame_append(out, payload, VT_FRAME_MAX + 1, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);
	g_assert_cmpuint(out->len, ==, 0);
	g_assert_true(vt_frame_append(out, payload, VT_FRAME_MAX, NULL));
	g_assert_cmpuint(out->len, ==, VT_FRAME_HEADER_SIZE + VT_FRAME_MAX);
}

static void
test_bad_crc_skipped(void)
{
	g_autoptr(GByteArray) stream = g_byte_array_new();
	g_autoptr(VtFrameDecoder) dec = NULL;
	Sink sink;

	vt_frame_append(stream, (const guint8 *)"first", 5, NULL);
	vt_frame_append(stream, (const guint8 *)"corrupt", 7, NULL);
	stream->data[stream->len - 3] ^= 0x40; /* flip a payload bit */
	vt_frame_append(stream, (const guint8 *)"third", 5, NULL);

	sink_init(&sink);
	dec = decoder_for(&sink, 0);
	vt_frame_decoder_feed(dec, stream->data, stream->len);
	g_assert_cmpuint(sink.frames->len, ==, 2);
	g_assert_cmpmem(g_bytes_get_data(sink.frames->pdata[0], NULL), 5, "first", 5);
	g_assert_cmpmem(g_bytes_get_data(sink.frames->pdata[1], NULL), 5, "third", 5);
	g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_BAD_CRC], ==, 1);
	g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_GARBAGE], ==, 0);
	g_assert_cmpuint(vt_frame_decoder_rejects(dec, VT_FRAME_REJECT_BAD_CRC), ==, 1);
	sink_clear(&sink);
}

/* Bytes lost mid-frame (a reconnect): the damaged frame claims bytes of the
 * next one; the decoder must still find the next frame inside them. */
static void
test_lost_bytes_resync(void)
{
	g_autoptr(GByteArray) stream = g_byte_array_new();
	g_autoptr(GByteArray) damaged = g_byte_array_new();
	g_autoptr(VtFrameDecoder) dec = NULL;
	guint8 payload[64];
	Sink sink;

	memset(payload, 'a', sizeof(payload));
	vt_frame_append(stream, payload, sizeof(payload), NULL);
	/* keep the header and 10 bytes of the first frame, lose the rest */
	g_byte_array_append(damaged, stream->data, VT_FRAME_HEADER_SIZE + 10);
	g_byte_array_set_size(stream, 0);
	vt_frame_append(stream, (const guint8 *)"second frame", 12, NULL);
	vt_frame_append(stream, payload, sizeof(payload), NULL);
	vt_frame_append(stream, (const guint8 *)"fourth", 6, NULL);
	g_byte_array_append(damaged, stream->data, stream->len);

	sink_init(&sink);
	dec = decoder_for(&sink, 0);
	vt_frame_decoder_feed(dec, damaged->data, damaged->len);
	g_assert_cmpuint(sink.frames->len, ==, 3);
	g_assert_cmpmem(g_bytes_get_data(sink.frames->pdata[0], NULL), 12, "second frame", 12);
	g_assert_cmpmem(g_bytes_get_data(sink.frames->pdata[2], NULL), 6, "fourth", 6);
	g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_BAD_CRC], ==, 1);
	sink_clear(&sink);
}

static void
test_garbage_prefix(void)
{
	g_autoptr(GPtrArray) payloads = make_payloads();
	g_autoptr(GByteArray) frames = encode_all(payloads);
	g_autoptr(GByteArray) stream = g_byte_array_new();
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	/* includes lone magic bytes and a 3-byte magic prefix */
	static const guint8 lure[] = {0x8e, 0x00, 0x8e, 0x56, 0x54, 0x00};

	for (guint i = 0; i < 5000; i++) {
		guint8 b = (guint8)g_rand_int_range(rand, 0, 256);
		if (b == VT_FRAME_MAGIC_0)
			b = 0;
		g_byte_array_append(stream, &b, 1);
	}
	g_byte_array_append(stream, lure, sizeof(lure));
	g_byte_array_append(stream, frames->data, frames->len);

	for (guint chunk = 1; chunk <= 4096; chunk *= 4) {
		g_autoptr(VtFrameDecoder) dec = NULL;
		Sink sink;

		sink_init(&sink);
		dec = decoder_for(&sink, 0);
		for (guint off = 0; off < stream->len; off += chunk)
			vt_frame_decoder_feed(dec, stream->data + off,
					      MIN(chunk, stream->len - off));
		assert_frames_equal(sink.frames, payloads);
		/* one run of garbage is one reject, however it was chunked */
		g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_GARBAGE], ==, 1);
		g_assert_cmpuint(vt_frame_decoder_skipped_bytes(dec), ==, 5000 + sizeof(lure));
		sink_clear(&sink);
	}
}

static void
test_truncated_tail(void)
{
	g_autoptr(GPtrArray) payloads = make_payloads();
	g_autoptr(GByteArray) stream = encode_all(payloads);
	g_autoptr(VtFrameDecoder) dec = NULL;
	Sink sink;

	sink_init(&sink);
	dec = decoder_for(&sink, 0);
	/* all but the last 3 bytes: the last frame is incomplete */
	vt_frame_decoder_feed(dec, stream->data, stream->len - 3);
	g_assert_cmpuint(sink.frames->len, ==, payloads->len - 1);
	g_assert_cmpuint(vt_frame_decoder_pending(dec), >, 0);
	vt_frame_decoder_reset(dec);
	g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_TRUNCATED], ==, 1);
	g_assert_cmpuint(vt_frame_decoder_pending(dec), ==, 0);

	/* after the reconnect the whole stream decodes again */
	vt_frame_decoder_feed(dec, stream->data, stream->len);
	g_assert_cmpuint(sink.frames->len, ==, 2 * payloads->len - 1);
	g_assert_cmpuint(sink.rejects[VT_FRAME_REJECT_TRUNCATED], ==, 1);
	sink_clear(&sink);
}

static void
test_callback_stops_feed(void)
{
	g_autoptr(GPtrArray) payloads = make_payloads();
	g_autoptr(GByteArray) stream = encode_all(payloads);
	g_autoptr(VtFrameDecoder) dec = NULL;
	Sink sink;

	sink_init(&sink);
	sink.stop_after = 2;
	dec = decoder_for(&sink, 0);
	g_assert_false(vt_frame_decoder_feed(dec, stream->data, stream->len));
	g_assert_cmpuint(sink.frames->len, ==, 2);
	/* stopped until reset */
	g_assert_false(vt_frame_decoder_feed(dec, stream->data, stream->len));
	g_assert_cmpuint(sink.frames->len, ==, 2);
	vt_frame_decoder_reset(dec);
	sink.stop_after = 0;
	g_assert_true(vt_frame_decoder_feed(dec, stream->data, stream->len));
	g_assert_cmpuint(sink.frames->len, ==, 2 + payloads->len);
	sink_clear(&sink);
}

static void
test_reject_names(void)
{
	g_assert_cmpstr(vt_frame_reject_name(VT_FRAME_REJECT_GARBAGE), ==, "garbage");
	g_assert_cmpstr(vt_frame_reject_name(VT_FRAME_REJECT_OVERSIZE), ==, "oversize");
	g_assert_cmpstr(vt_frame_reject_name(VT_FRAME_REJECT_BAD_CRC), ==, "bad_crc");
	g_assert_cmpstr(vt_frame_reject_name(VT_FRAME_REJECT_TRUNCATED), ==, "truncated");
	g_assert_cmpstr(vt_frame_reject_name(VT_FRAME_REJECT_N_REASONS), ==, "unknown");
}

/* Known CRC-32 (IEEE 802.3) check value. */
static void
test_crc32_check_value(void)
{
	g_assert_cmphex(vt_crc32((const guint8 *)"123456789", 9), ==, 0xCBF43926u);
	g_assert_cmphex(vt_crc32((const guint8 *)"", 0), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/frame/split-every-offset", test_split_every_offset);
	g_test_add_func("/frame/split-every-pair", test_split_every_pair);
	g_test_add_func("/frame/byte-by-byte", test_byte_by_byte);
	g_test_add_func("/frame/max-size-frame", test_max_size_frame);
	g_test_add_func("/frame/oversize-refused-without-allocation",
			test_oversize_refused_without_allocation);
	g_test_add_func("/frame/limit-edge", test_limit_edge);
	g_test_add_func("/frame/append-refuses-oversize", test_frame_append_refuses_oversize);
	g_test_add_func("/frame/bad-crc-skipped", test_bad_crc_skipped);
	g_test_add_func("/frame/lost-bytes-resync", test_lost_bytes_resync);
	g_test_add_func("/frame/garbage-prefix", test_garbage_prefix);
	g_test_add_func("/frame/truncated-tail", test_truncated_tail);
	g_test_add_func("/frame/callback-stops-feed", test_callback_stops_feed);
	g_test_add_func("/frame/reject-names", test_reject_names);
	g_test_add_func("/frame/crc32-check-value", test_crc32_check_value);
	return g_test_run();
}
