/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's agent.conf: [agent] and the [apply] policy, through
 * common/keyfile.c; what loads is then summarised as the Hello does.
 */
#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtAgentConfig) config = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	VtPolicySummary summary = VIRTTUNE__V1__POLICY_SUMMARY__INIT;

	vt_fuzz_setup();
	config = vt_agent_config_parse((const char *)data, size, "agent.conf", warnings, &error);
	if (config == NULL) {
		g_assert(error != NULL);
		return 0;
	}
	g_assert(config->policy != NULL);
	vt_policy_summary_fill(config->policy, &summary);
	vt_policy_summary_clear(&summary);
	(void)vt_policy_allows(config->policy, VT_POLICY_SYSCTL, "vm.swappiness");
	return 0;
}
