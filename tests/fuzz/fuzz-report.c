/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `virt-tune analyze --report FILE`: a saved report (canonical JSON or packed
 * protobuf) decoded and bounds-checked, then run through every rule with the
 * default thresholds and the analysis turned into JSON, as the CLI does.
 */
#include "fuzz.h"
#include "report.h"
#include "rules.h"

static VtRulesConfig *config;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtReport) report = NULL;
	g_autoptr(VtAnalysis) analysis = NULL;
	g_autoptr(GError) error = NULL;
	JsonNode *node;

	vt_fuzz_setup();
	if (config == NULL)
		config = vt_rules_config_new();
	report = vt_report_decode(data, size, &error);
	if (report == NULL) {
		g_assert(error != NULL);
		return 0;
	}
	{
		const VtRuleInput input = {.report = report, .previous = report};

		analysis = vt_rules_run(&input, config);
	}
	node = vt_analysis_to_json(analysis, &error);
	if (node == NULL)
		g_error("an analysis did not convert to JSON: %s", error->message);
	json_node_unref(node);
	return 0;
}
