/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules file (`virt-tuned --rules-config`, `virt-tune analyze --config`). */
#include "fuzz.h"
#include "rules.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtRulesConfig) config = vt_rules_config_new();
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;

	vt_fuzz_setup();
	if (!vt_rules_config_load_data(config, (const char *)data, size, "rules.conf", warnings,
				       &error))
		g_assert(error != NULL);
	(void)vt_rules_config_enabled(config, "nic.queues");
	return 0;
}
