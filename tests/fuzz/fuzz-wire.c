/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon does with a guest's bytes, as one fuzz target: frame
 * decoding (fed in two chunks split where the input says), protobuf unpack
 * under the memory budget, validation, and the canonical JSON round trip of
 * whatever passed. Built as a libFuzzer target with clang, and always as a
 * plain program that replays the corpus (a test).
 */
#include "frame.h"
#include "fuzz.h"
#include "json.h"
#include "message.h"
#include "validate.h"

static gboolean
on_frame(const guint8 *payload, gsize len, gpointer user_data)
{
	g_autoptr(VtEnvelope) env = vt_envelope_unpack(payload, len, NULL);
	g_autofree char *text = NULL;
	ProtobufCMessage *back;

	if (env == NULL || !vt_validate_message(&env->base, NULL, NULL))
		return TRUE;
	/* whatever validates must convert to JSON and back */
	text = vt_json_message_to_string(&env->base, FALSE, NULL);
	if (text == NULL)
		g_error("a validated message did not convert to JSON");
	back = vt_json_message_from_string(&virttune__v1__envelope__descriptor, text, -1, NULL);
	if (back == NULL)
		g_error("canonical JSON did not parse back: %s", text);
	vt_message_free(back);
	return TRUE;
}

static gboolean
on_reject(VtFrameReject reason, gsize n_bytes, gpointer user_data)
{
	return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtFrameDecoder) dec = vt_frame_decoder_new(0);
	size_t cut;

	vt_fuzz_setup();
	if (size == 0)
		return 0;
	vt_frame_decoder_set_callbacks(dec, on_frame, on_reject, NULL);
	cut = data[0] % (size + 1);
	vt_frame_decoder_feed(dec, data, cut);
	vt_frame_decoder_feed(dec, data + cut, size - cut);
	vt_frame_decoder_reset(dec);
	/* and the raw bytes as a payload */
	on_frame(data, size, NULL);
	return 0;
}
