/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vt-e2e-frame: the project's own framing and canonical JSON, for the
 * end-to-end harness (Python) to check its hand-written wire code against and
 * to show what came over a channel.
 *
 *   vt-e2e-frame decode   frames on stdin -> one canonical JSON Envelope per line
 *                         on stdout; "rejects NAME=N ..." on stderr
 *   vt-e2e-frame encode   one JSON Envelope on stdin -> one frame on stdout
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "json.h"
#include "message.h"

/* What either mode reads from stdin: many frames, or one envelope of JSON. */
#define VT_FRAME_TOOL_INPUT_MAX (16u * 1024u * 1024u)

static gboolean
read_all(int fd, GByteArray *out, GError **error)
{
	guint8 buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0)
			return TRUE;
		if (n < 0) {
			vt_error_set_errno(error, errno, "read stdin");
			return FALSE;
		}
		if (out->len + (gsize)n > VT_FRAME_TOOL_INPUT_MAX) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "input over %u bytes",
				    VT_FRAME_TOOL_INPUT_MAX);
			return FALSE;
		}
		g_byte_array_append(out, buf, (guint)n);
	}
}

static gboolean
on_frame(const guint8 *payload, gsize len, gpointer user_data)
{
	guint *bad = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEnvelope) env = vt_envelope_unpack(payload, len, &error);
	g_autofree char *text = NULL;

	if (env == NULL) {
		g_printerr("undecodable envelope: %s\n", error->message);
		(*bad)++;
		return TRUE;
	}
	text = vt_json_message_to_string(&env->base, FALSE, &error);
	if (text == NULL) {
		g_printerr("envelope has no JSON form: %s\n", error->message);
		(*bad)++;
		return TRUE;
	}
	printf("%s\n", text);
	return TRUE;
}

static int
decode(void)
{
	g_autoptr(GByteArray) input = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(VtFrameDecoder) dec = vt_frame_decoder_new(0);
	guint bad = 0;

	if (!read_all(STDIN_FILENO, input, &error)) {
		g_printerr("vt-e2e-frame: %s\n", error->message);
		return 1;
	}
	vt_frame_decoder_set_callbacks(dec, on_frame, NULL, &bad);
	vt_frame_decoder_feed(dec, input->data, input->len);
	g_printerr("rejects");
	for (guint r = 0; r < VT_FRAME_REJECT_N_REASONS; r++)
		g_printerr(" %s=%" G_GUINT64_FORMAT, vt_frame_reject_name(r),
			   vt_frame_decoder_rejects(dec, r));
	g_printerr(" pending=%" G_GSIZE_FORMAT "\n", vt_frame_decoder_pending(dec));
	return bad == 0 ? 0 : 1;
}

static int
encode(void)
{
	g_autoptr(GByteArray) input = g_byte_array_new();
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEnvelope) env = NULL;

	if (!read_all(STDIN_FILENO, input, &error)) {
		g_printerr("vt-e2e-frame: %s\n", error->message);
		return 1;
	}
	env = (VtEnvelope *)vt_json_message_from_string(&virttune__v1__envelope__descriptor,
							(const char *)input->data,
							(gssize)input->len, &error);
	if (env == NULL || !vt_envelope_append_frame(out, env, &error)) {
		g_printerr("vt-e2e-frame: %s\n", error->message);
		return 1;
	}
	if (fwrite(out->data, 1, out->len, stdout) != out->len || fflush(stdout) != 0) {
		g_printerr("vt-e2e-frame: cannot write stdout\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "decode") == 0)
		return decode();
	if (argc == 2 && strcmp(argv[1], "encode") == 0)
		return encode();
	g_printerr("usage: vt-e2e-frame decode|encode (frames or JSON on stdin)\n");
	return 2;
}
