/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analyze.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "report.h"

#define VT_TABLE_WIDTH  100
#define VT_TABLE_INDENT 16 /* severity and target columns with their spaces */

static void
append_clipped(GString *out, const char *text, gsize width)
{
	gsize n = 0;

	/* one line only; counts characters, not bytes */
	for (const char *p = text; *p != '\0' && *p != '\n'; p = g_utf8_next_char(p)) {
		if (n + 3 == width && g_utf8_strlen(p, -1) > 3) {
			g_string_append(out, "...");
			return;
		}
		g_string_append_len(out, p, g_utf8_next_char(p) - p);
		n++;
	}
}

static void
append_wrapped(GString *out, const char *indent, const char *text)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);
	gsize col = 0, ind = strlen(indent);

	for (guint i = 0; words[i] != NULL; i++) {
		gsize len = g_utf8_strlen(words[i], -1);

		if (*words[i] == '\0')
			continue;
		if (col == 0) {
			g_string_append(out, indent);
			col = ind;
		} else if (col + 1 + len > VT_TABLE_WIDTH) {
			g_string_append_c(out, '\n');
			g_string_append(out, indent);
			col = ind;
		} else {
			g_string_append_c(out, ' ');
			col++;
		}
		if (col + len > VT_TABLE_WIDTH) {
			append_clipped(out, words[i], VT_TABLE_WIDTH - col);
			col = VT_TABLE_WIDTH;
		} else {
			g_string_append(out, words[i]);
			col += len;
		}
	}
	if (col > 0)
		g_string_append_c(out, '\n');
}

char *
vt_analysis_to_table(const VtAnalysis *analysis)
{
	GString *out = g_string_new(NULL);

	if (analysis->recommendations->len == 0) {
		g_string_append(out, "No recommendations.\n");
	} else {
		/* the change goes on its own lines, whole: a clipped command or XML
		 * fragment is useless to copy */
		g_string_append_printf(out, "%-8s %-6s %s\n", "SEVERITY", "TARGET", "ID / CHANGE");
		for (guint i = 0; i < analysis->recommendations->len; i++) {
			const VtRecommendation *r = analysis->recommendations->pdata[i];

			g_string_append_printf(out, "%-8s %-6s ", vt_severity_name(r->severity),
					       vt_target_name(r->target));
			append_clipped(out, r->id, VT_TABLE_WIDTH - VT_TABLE_INDENT);
			g_string_append_c(out, '\n');
			append_wrapped(out, "                ", r->command ? r->command : "");
		}
	}
	if (analysis->skipped->len > 0) {
		g_string_append(out, "\nNot evaluated:\n");
		for (guint i = 0; i < analysis->skipped->len; i++) {
			const VtRuleSkip *s = analysis->skipped->pdata[i];
			g_autofree char *line = g_strdup_printf("%s: %s", s->rule, s->reason);
			append_wrapped(out, "  ", line);
		}
	}
	return g_string_free(out, FALSE);
}

static int
fail(const char *what, const GError *error)
{
	fprintf(stderr, "virt-tune analyze: %s%s%s\n", what ? what : "", what ? ": " : "",
		error->message);
	return 2;
}

int
vt_analyze_main(int argc, char **argv)
{
	g_autofree char *report_path = NULL;
	g_autofree char *previous_path = NULL;
	g_autofree char *xml_path = NULL;
	g_autofree char *stats_path = NULL;
	g_autofree char *config_path = NULL;
	g_autofree char *format = NULL;
	const GOptionEntry entries[] = {
		{"report", 0, 0, G_OPTION_ARG_FILENAME, &report_path,
		 "The guest report: JSON, or protobuf from virt-tune-agent --once", "FILE"},
		{"previous-report", 0, 0, G_OPTION_ARG_FILENAME, &previous_path,
		 "An earlier report of the same guest, for rates over the interval", "FILE"},
		{"domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &xml_path,
		 "The domain XML (virsh dumpxml DOMAIN)", "FILE"},
		{"domstats", 0, 0, G_OPTION_ARG_FILENAME, &stats_path,
		 "The output of virsh domstats --raw DOMAIN", "FILE"},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
		 "Rules configuration ([rules] thresholds, <rule>.enable=false)", "FILE"},
		{"format", 0, 0, G_OPTION_ARG_STRING, &format, "Output format: table or json",
		 "table|json"},
		{NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("- recommend changes from saved files");
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) report = NULL;
	g_autoptr(VtReport) previous = NULL;
	g_autoptr(VtDomainFacts) facts = NULL;
	g_autoptr(GPtrArray) all_stats = NULL;
	g_autoptr(VtRulesConfig) config = NULL;
	g_autoptr(VtAnalysis) analysis = NULL;
	g_autofree char *text = NULL;
	const VtDomstats *stats = NULL;
	VtRuleInput input = {0};
	VtRates rates;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_summary(
		ctx, "Runs the rules over a saved report and, when given, the domain XML and\n"
		     "domstats. Missing inputs narrow what can be said; the output lists the\n"
		     "rules that were not evaluated and why. No daemon or libvirt connection.");
	g_set_prgname("virt-tune analyze");
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return fail(NULL, error);
	if (argc > 1) {
		fprintf(stderr, "virt-tune analyze: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	if (report_path == NULL) {
		fprintf(stderr, "virt-tune analyze: --report FILE is required (see --help)\n");
		return 2;
	}
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "table") != 0) {
		fprintf(stderr, "virt-tune analyze: --format must be table or json, not '%s'\n",
			format);
		return 2;
	}

	config = config_path ? vt_rules_config_load(config_path, &error) : vt_rules_config_new();
	if (config == NULL)
		return fail(NULL, error);
	report = vt_report_load(report_path, &error);
	if (report == NULL)
		return fail(NULL, error);
	if (previous_path != NULL && (previous = vt_report_load(previous_path, &error)) == NULL)
		return fail(NULL, error);
	if (xml_path != NULL && (facts = vt_domain_facts_load(xml_path, &error)) == NULL)
		return fail(NULL, error);
	if (stats_path != NULL) {
		all_stats = vt_domstats_load(stats_path, &error);
		if (all_stats == NULL)
			return fail(NULL, error);
		stats = vt_domstats_find(all_stats, facts ? facts->name : NULL);
		if (stats == NULL && facts != NULL && all_stats->len == 1) {
			fprintf(stderr,
				"virt-tune analyze: %s: holds domain '%s', but the domain XML is "
				"'%s'\n",
				stats_path, ((VtDomstats *)all_stats->pdata[0])->domain,
				facts->name ? facts->name : "(unnamed)");
			return 2;
		}
		if (stats == NULL) {
			fprintf(stderr,
				"virt-tune analyze: %s: holds %u domains and none is named by the "
				"domain XML; pass one domain's stats or --domain-xml\n",
				stats_path, all_stats->len);
			return 2;
		}
	}

	vt_rates_compute(&rates, previous, report, NULL, stats, 0, facts);
	input.report = report;
	input.previous = previous;
	input.facts = facts;
	input.stats = stats;
	input.rates = &rates;
	analysis = vt_rules_run(&input, config);

	if (format != NULL && strcmp(format, "json") == 0) {
		g_autoptr(JsonNode) node = vt_analysis_to_json(analysis, &error);
		if (node == NULL)
			return fail("output", error);
		text = vt_json_node_to_string(node, TRUE);
	} else {
		text = vt_analysis_to_table(analysis);
	}
	fputs(text, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
