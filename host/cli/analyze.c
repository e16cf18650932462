/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analyze: the daemon's rules over saved files, no daemon and no libvirt
 * connection. Exit codes: 0 done (with or without recommendations), 2 usage
 * or malformed input, 1 the output could not be written.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "render.h"
#include "text.h"
#include "report.h"
#include "rules.h"

/* The files it reads: each an option taking a path. */
typedef enum {
	IN_REPORT,
	IN_PREVIOUS,
	IN_XML,
	IN_STATS,
	IN_PREVIOUS_STATS,
	IN_CAPS,
	IN_CONFIG,
	N_INPUTS,
} InputFile;

static const struct {
	const char *option;
	const char *help;
} inputs[N_INPUTS] = {
	[IN_REPORT] = {"report", "The guest report: JSON, or protobuf from virt-tune-agent --once"},
	[IN_PREVIOUS] = {"previous-report",
			 "An earlier report of the same guest, for rates over the interval"},
	[IN_XML] = {"domain-xml", "The domain XML (virsh dumpxml DOMAIN)"},
	[IN_STATS] = {"domstats", "The output of virsh domstats --raw DOMAIN"},
	[IN_PREVIOUS_STATS] = {"previous-domstats",
			       "Earlier domstats of the domain, taken beside --previous-report, "
			       "for host-side rates over the same interval"},
	[IN_CAPS] = {"capabilities", "The host's capabilities (virsh capabilities): NUMA topology"},
	[IN_CONFIG] = {"config", "Rules configuration ([rules] thresholds, <rule>.enable=false)"},
};

typedef struct {
	char *path[N_INPUTS];
	char *format;
	gboolean json;
} AnalyzeOptions;

static void
analyze_options_clear(AnalyzeOptions *o)
{
	for (int i = 0; i < N_INPUTS; i++)
		g_free(o->path[i]);
	g_free(o->format);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AnalyzeOptions, analyze_options_clear)

/* What the files held; only the report is required. */
typedef struct {
	VtReport *report;
	VtReport *previous;
	VtDomainFacts *facts;
	GPtrArray *all_stats;
	const VtDomstats *stats; /* the domain's, in all_stats */
	GPtrArray *all_prev_stats;
	const VtDomstats *prev_stats; /* the same domain's, in all_prev_stats */
	VtHostCaps *caps;
	VtRulesConfig *config;
} AnalyzeInputs;

static void
analyze_inputs_clear(AnalyzeInputs *in)
{
	g_clear_pointer(&in->report, vt_report_free);
	g_clear_pointer(&in->previous, vt_report_free);
	g_clear_pointer(&in->facts, vt_domain_facts_free);
	g_clear_pointer(&in->all_stats, g_ptr_array_unref);
	g_clear_pointer(&in->all_prev_stats, g_ptr_array_unref);
	g_clear_pointer(&in->caps, vt_host_caps_free);
	g_clear_pointer(&in->config, vt_rules_config_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AnalyzeInputs, analyze_inputs_clear)

static int usage_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* "virt-tune analyze: MESSAGE" on stderr; the usage exit code. */
static int
usage_error(const char *format, ...)
{
	va_list ap;
	g_autofree char *message = NULL;
	g_autofree char *shown = NULL;
	g_autofree char *line = NULL;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* file names and errors in @message: one line, escaped */
	shown = vt_text_escape(message, FALSE);
	line = g_strconcat("virt-tune analyze: ", shown, "\n", NULL);
	vt_render_text(stderr, line);
	return VT_EXIT_USAGE;
}

static int
fail(const char *what, const GError *error)
{
	return usage_error("%s%s%s", what ? what : "", what ? ": " : "", error->message);
}

static int
parse_options(AnalyzeOptions *o, int *argc, char ***argv)
{
	GOptionEntry entries[N_INPUTS + 2] = {{NULL}};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("- recommend changes from saved files");
	g_autoptr(GError) error = NULL;
	VtFormat format;

	for (int i = 0; i < N_INPUTS; i++)
		entries[i] = (GOptionEntry){
			.long_name = inputs[i].option,
			.arg = G_OPTION_ARG_FILENAME,
			.arg_data = &o->path[i],
			.description = inputs[i].help,
			.arg_description = "FILE",
		};
	entries[N_INPUTS] = (GOptionEntry){
		.long_name = "format",
		.arg = G_OPTION_ARG_STRING,
		.arg_data = &o->format,
		.description = "Output format: table or json",
		.arg_description = "table|json",
	};
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_summary(
		ctx, "Runs the rules over a saved report and, when given, the domain XML,\n"
		     "domstats and the host's capabilities. Missing inputs narrow what can be\n"
		     "said; the output lists the rules that were not evaluated and why. No\n"
		     "daemon or libvirt connection.");
	if (!g_option_context_parse(ctx, argc, argv, &error))
		return fail(NULL, error);
	if (*argc > 1)
		return usage_error("unexpected argument '%s'", (*argv)[1]);
	if (o->path[IN_REPORT] == NULL)
		return usage_error("--report FILE is required (see --help)");
	if (!vt_format_parse(o->format, &format) || format == VT_FORMAT_CSV)
		return usage_error("--format must be table or json, not '%s'", o->format);
	o->json = format == VT_FORMAT_JSON;
	return VT_EXIT_OK;
}

/* The domain's stats in a domstats file: the one the domain XML names. */
static int
find_stats(const AnalyzeInputs *in, GPtrArray *all, const char *path, const VtDomstats **out)
{
	const char *name = in->facts ? in->facts->name : NULL;

	*out = vt_domstats_find(all, name);
	if (*out == NULL && in->facts != NULL && all->len == 1)
		return usage_error("%s: holds domain '%s', but the domain XML is '%s'", path,
				   ((VtDomstats *)all->pdata[0])->domain,
				   name ? name : "(unnamed)");
	if (*out == NULL)
		return usage_error("%s: holds %u domains and none is named by the domain XML; "
				   "pass one domain's stats or --domain-xml",
				   path, all->len);
	return VT_EXIT_OK;
}

/* --previous-domstats: the same domain as --domstats, which it needs. */
static int
load_previous_stats(AnalyzeInputs *in, const char *path)
{
	g_autoptr(GError) error = NULL;
	int rc;

	if (in->stats == NULL)
		return usage_error("--previous-domstats needs --domstats");
	if ((in->all_prev_stats = vt_domstats_load(path, &error)) == NULL)
		return fail(NULL, error);
	if ((rc = find_stats(in, in->all_prev_stats, path, &in->prev_stats)) != VT_EXIT_OK)
		return rc;
	if (g_strcmp0(in->prev_stats->domain, in->stats->domain) != 0)
		return usage_error("%s: holds domain '%s', but --domstats holds '%s'", path,
				   in->prev_stats->domain, in->stats->domain);
	return VT_EXIT_OK;
}

static int
load_inputs(const AnalyzeOptions *o, AnalyzeInputs *in)
{
	char *const *path = o->path;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);

	in->config = path[IN_CONFIG] ? vt_rules_config_load(path[IN_CONFIG], warnings, &error)
				     : vt_rules_config_new();
	for (guint i = 0; i < warnings->len; i++)
		vt_render_error("%s", (const char *)warnings->pdata[i]);
	if (in->config == NULL)
		return fail(NULL, error);
	if ((in->report = vt_report_load(path[IN_REPORT], &error)) == NULL)
		return fail(NULL, error);
	if (path[IN_PREVIOUS] != NULL &&
	    (in->previous = vt_report_load(path[IN_PREVIOUS], &error)) == NULL)
		return fail(NULL, error);
	if (path[IN_XML] != NULL &&
	    (in->facts = vt_domain_facts_load(path[IN_XML], &error)) == NULL)
		return fail(NULL, error);
	if (path[IN_CAPS] != NULL && (in->caps = vt_host_caps_load(path[IN_CAPS], &error)) == NULL)
		return fail(NULL, error);
	if (path[IN_STATS] != NULL) {
		int rc;

		if ((in->all_stats = vt_domstats_load(path[IN_STATS], &error)) == NULL)
			return fail(NULL, error);
		if ((rc = find_stats(in, in->all_stats, path[IN_STATS], &in->stats)) != VT_EXIT_OK)
			return rc;
	}
	if (path[IN_PREVIOUS_STATS] == NULL)
		return VT_EXIT_OK;
	return load_previous_stats(in, path[IN_PREVIOUS_STATS]);
}

int
vt_cmd_analyze(int argc, char **argv)
{
	g_auto(AnalyzeOptions) o = {0};
	g_auto(AnalyzeInputs) in = {0};
	g_autoptr(VtAnalysis) analysis = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GError) error = NULL;
	VtRuleInput input = {0};
	g_auto(VtRates) rates = {0};
	int rc;

	if ((rc = parse_options(&o, &argc, &argv)) != VT_EXIT_OK ||
	    (rc = load_inputs(&o, &in)) != VT_EXIT_OK)
		return rc;
	vt_rates_compute(&rates, in.previous, in.report, in.prev_stats, in.stats, 0, in.facts);
	input.report = in.report;
	input.previous = in.previous;
	input.facts = in.facts;
	input.stats = in.stats;
	input.rates = &rates;
	input.caps = in.caps;
	analysis = vt_rules_run(&input, in.config);
	if ((node = vt_analysis_to_json(analysis, &error)) == NULL)
		return fail("output", error);
	if (o.json)
		vt_render_json(stdout, node);
	else
		vt_render_recommendations(stdout, json_node_get_object(node), VT_RECS_ANALYSIS,
					  FALSE);
	return fflush(stdout) == 0 ? VT_EXIT_OK : 1;
}
