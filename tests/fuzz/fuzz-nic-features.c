/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's scan of a guest's envelope for its NICs' features
 * (host/daemon/nic-features.c): whatever decodes and validates is kept,
 * then sent again; when the scan blanks it, the blanked bytes must decode
 * and validate, the kept features must attach, and the report must pack to
 * what the whole decode packs to, as messages and as sent.
 */
#include <stdlib.h>

#include "bounds.h"
#include "fuzz.h"
#include "message.h"
#include "nic-features.h"
#include "validate.h"

/* abort(), not g_error()'s trap: libFuzzer keeps the input of an abort */
static G_NORETURN void
fail(const char *why)
{
	g_printerr("fuzz-nic-features: %s\n", why);
	abort();
}

static VtEnvelope *
decode(const guint8 *data, gsize len, VtArena *arena)
{
	VtEnvelope *env = (VtEnvelope *)vt_message_unpack_in(&virttune__v1__envelope__descriptor,
							     data, len, arena, NULL);

	return env != NULL && vt_validate_message(&env->base, NULL, NULL) ? env : NULL;
}

static GBytes *
packed(const VtReport *report)
{
	return vt_message_pack(&report->base, FALSE, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
	g_autoptr(VtArena) whole_arena = vt_arena_new(size * 8, VT_UNPACK_MEMORY_MAX);
	g_autoptr(VtArena) arena = NULL;
	g_autofree guint8 *blanked = NULL;
	g_autoptr(GBytes) expected = NULL;
	g_autoptr(GBytes) got = NULL;
	VtEnvelope *whole, *env;

	vt_fuzz_setup();
	whole = decode(data, size, whole_arena);
	if (whole == NULL || whole->body_case != VIRTTUNE__V1__ENVELOPE__BODY_REPORT) {
		/* nothing kept: nothing blanked */
		if (vt_nic_features_blank(nf, data, size) != NULL)
			fail("blanked without anything kept");
		return 0;
	}
	vt_nic_features_keep(nf, data, size);
	expected = packed(whole->report);
	blanked = vt_nic_features_blank(nf, data, size);
	if (blanked == NULL)
		return 0;
	arena = vt_arena_new(size * 8, VT_UNPACK_MEMORY_MAX);
	env = decode(blanked, size, arena);
	if (env == NULL || env->body_case != VIRTTUNE__V1__ENVELOPE__BODY_REPORT)
		fail("a blanked envelope did not decode and validate");
	if (!vt_nic_features_attach(nf, env->report, arena))
		fail("the kept features did not attach to the blanked report");
	got = packed(env->report);
	if (!g_bytes_equal(expected, got))
		fail("the report with kept features packs differently");
	if (vt_nic_features_as_sent(nf, env->report, TRUE)) {
		g_autoptr(GBytes) as_sent = packed(env->report);
		g_autoptr(VtReport) back = (VtReport *)vt_message_unpack(
			&virttune__v1__report__descriptor, g_bytes_get_data(as_sent, NULL),
			g_bytes_get_size(as_sent), NULL);
		g_autoptr(GBytes) again = NULL;

		vt_nic_features_as_sent(nf, env->report, FALSE);
		if (back == NULL)
			fail("a report as sent did not decode");
		again = packed(back);
		if (!g_bytes_equal(expected, again))
			fail("a report as sent decodes to another");
		g_clear_pointer(&got, g_bytes_unref);
		got = packed(env->report);
		if (!g_bytes_equal(expected, got))
			fail("the messages did not come back after as sent");
	}
	return 0;
}
