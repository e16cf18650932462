/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every fuzz target shares: the libFuzzer entry point, and the rule that
 * a GLib critical (a broken precondition inside a decoder) is a finding, not
 * a line on stderr.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void
vt_fuzz_setup(void)
{
	static gboolean done;

	if (!done) {
		g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
		done = TRUE;
	}
}

/* @data as a NUL-terminated string (inputs may hold NUL bytes: those the
 * decoder must see count through @size). */
static inline char *
vt_fuzz_text(const uint8_t *data, size_t size)
{
	char *text = g_malloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}
