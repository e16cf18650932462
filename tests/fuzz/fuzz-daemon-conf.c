/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's virt-tuned.conf ([daemon]), through common/keyfile.c. */
#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_auto(VtDaemonSettings) settings = VT_DAEMON_SETTINGS_INIT;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;

	vt_fuzz_setup();
	if (!vt_daemon_config_load_data((const char *)data, size, "virt-tuned.conf", &settings,
					warnings, &error))
		g_assert(error != NULL);
	return 0;
}
