/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check: a plugin for Nagios, Icinga and anything that runs Monitoring Plugins.
 * One status line "VIRT-TUNE STATE - text | perfdata", detail lines, and the
 * exit code the plugin guidelines give each state (0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN). The state is the worst of the recommendations of
 * the area, the agents that are not connected and the swap rate against
 * --warning/--critical.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "options.h"
#include "render.h"

typedef enum {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
} CheckState;

static const char *const state_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* Swap pages per second (in + out), as the alert rules have them. */
#define CHECK_SWAP_WARNING  100.0
#define CHECK_SWAP_CRITICAL 1000.0

/* --area: which recommendations count, and whether the swap rate does. */
static const struct {
	const char *name;
	const char *rule_prefix;
	gboolean swap;
} areas[] = {
	{"all", "", TRUE},        {"swap", "mem.", TRUE},
	{"memory", "mem.", TRUE}, {"schedulers", "blk.", FALSE},
	{"nics", "nic.", FALSE},  {"cpu", "cpu.", FALSE},
};

typedef struct {
	int area;
	double warning, critical;
	CheckState state;
	GString *problems; /* "; "-separated, for the status line */
	GString *details;  /* one line each */
	GString *perf;     /* per domain */
	guint domains, connected, n_warning, n_critical;
} Check;

static void
raise_state(Check *c, CheckState s)
{
	if (s > c->state)
		c->state = s;
}

/* Text from the daemon on the status line: '|' would start the perfdata. */
static void
append_text(GString *out, const char *text)
{
	for (const char *p = text ? text : "?"; *p; p++)
		g_string_append_c(out, *p == '|' ? '/' : *p);
}

static void
problem(Check *c, const char *domain, const char *what)
{
	if (c->problems->len > 0)
		g_string_append(c->problems, "; ");
	append_text(c->problems, domain);
	g_string_append_c(c->problems, ' ');
	append_text(c->problems, what);
}

/* 'label'=value[UOM];warn;crit;min; — a quote in a label is doubled and '='
 * may not appear in one (the plugin guidelines' perfdata rules). */
static void
perf(GString *out, const char *domain, const char *what, double value, const char *uom,
     const char *warn, const char *crit)
{
	char num[G_ASCII_DTOSTR_BUF_SIZE];

	g_string_append(out, out->len > 0 ? " '" : "'");
	for (const char *p = domain; *p; p++)
		g_string_append(out, *p == '\'' ? "''" : *p == '=' ? "_" : (char[]){*p, 0});
	g_string_append_printf(out, " %s'=%s%s;%s;%s;0;", what,
			       g_ascii_formatd(num, sizeof(num), *uom ? "%.0f" : "%.2f", value),
			       uom, warn, crit);
}

static const char *
member_string(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);
	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
		       ? json_node_get_string(n)
		       : NULL;
}

static gboolean
member_number(JsonObject *o, const char *name, double *v)
{
	JsonNode *n = json_object_get_member(o, name);
	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) == G_TYPE_STRING)
		return FALSE;
	*v = json_node_get_double(n);
	return isfinite(*v);
}

/* One row of `audit swap`: agent state, swap rate, memory. */
static void
check_swap_row(Check *c, JsonObject *row)
{
	const char *domain = member_string(row, "domain");
	g_autofree char *warn = g_strdup_printf("%g", c->warning);
	g_autofree char *crit = g_strdup_printf("%g", c->critical);
	double in = 0, out = 0, v;

	if (domain == NULL)
		return;
	c->domains++;
	if (g_strcmp0(member_string(row, "agent"), "connected") == 0) {
		c->connected++;
	} else {
		raise_state(c, CHECK_WARNING);
		problem(c, domain, "agent not connected");
		g_string_append_printf(c->details, "WARNING: %s: no agent connected\n", domain);
	}
	if (areas[c->area].swap && (member_number(row, "swap_in_pages_per_s", &in) |
				    member_number(row, "swap_out_pages_per_s", &out))) {
		CheckState s = in + out >= c->critical  ? CHECK_CRITICAL
			       : in + out >= c->warning ? CHECK_WARNING
							: CHECK_OK;
		g_autofree char *what = g_strdup_printf("swaps %.0f pages/s", in + out);
		if (s != CHECK_OK) {
			raise_state(c, s);
			problem(c, domain, what);
			g_string_append_printf(c->details, "%s: %s: %s\n", state_names[s], domain,
					       what);
		}
		perf(c->perf, domain, "swap_pages_per_s", in + out, "", warn, crit);
	}
	if (areas[c->area].swap && member_number(row, "swap_used_bytes", &v))
		perf(c->perf, domain, "swap_used", v, "B", "", "");
	if (areas[c->area].swap && member_number(row, "mem_available_bytes", &v))
		perf(c->perf, domain, "mem_available", v, "B", "", "");
}

/* One recommendation: counts when its rule belongs to the area. */
static void
check_recommendation(Check *c, JsonObject *r)
{
	const char *severity = member_string(r, "severity");
	const char *domain = member_string(r, "domain");
	const char *id = member_string(r, "id");
	const char *why = member_string(r, "rationale");
	g_autofree char *what = NULL;
	CheckState s;

	if (!g_str_has_prefix(member_string(r, "rule") ? member_string(r, "rule") : "",
			      areas[c->area].rule_prefix))
		return;
	if (g_strcmp0(severity, "critical") == 0) {
		s = CHECK_CRITICAL;
		c->n_critical++;
	} else if (g_strcmp0(severity, "warning") == 0) {
		s = CHECK_WARNING;
		c->n_warning++;
	} else {
		return;
	}
	raise_state(c, s);
	what = g_strdup_printf("%s (%s)", id ? id : "?", severity);
	problem(c, domain ? domain : "?", what);
	/* the rationale's first line, bounded: a detail line, not the report */
	g_string_append_printf(c->details, "%s: %s: %s — %.*s\n", state_names[s],
			       domain ? domain : "?", id ? id : "?",
			       (int)MIN(strcspn(why ? why : "", "\n"), 160), why ? why : "");
}

/* UNKNOWN: the check could not be made. */
static int
unknown(const char *what, const char *message)
{
	g_autofree char *line =
		g_strdup_printf("VIRT-TUNE UNKNOWN - %s: %s\n", what, message ? message : "");
	vt_render_text(stdout, line);
	return CHECK_UNKNOWN;
}

static int
ask(const char *socket_flag, const char *command, const char *domain, guint timeout_s,
    JsonNode **result)
{
	g_autoptr(JsonObject) args = vt_client_args(domain);
	g_autofree char *code = NULL, *message = NULL;
	g_autofree char *what = NULL;
	const char *path = vt_client_socket_path(socket_flag);

	if (g_strcmp0(command, "audit") == 0)
		json_object_set_string_member(args, "kind", "swap");
	switch (vt_client_call(path, command, args, timeout_s, result, &code, &message)) {
	case VT_CLIENT_OK:
		return CHECK_OK;
	case VT_CLIENT_UNREACHABLE:
		what = g_strdup_printf("virt-tuned unreachable at %s", path);
		return unknown(what, message);
	default:
		return unknown(domain ? domain : "virt-tuned", message);
	}
}

static int
report(Check *c)
{
	g_autoptr(GString) out = g_string_new("VIRT-TUNE ");

	g_string_append_printf(out, "%s - ", state_names[c->state]);
	if (c->problems->len > 0)
		g_string_append(out, c->problems->str);
	else
		g_string_append_printf(out,
				       "%u domains, %u agents connected, %s: nothing to change",
				       c->domains, c->connected, areas[c->area].name);
	g_string_append_printf(out,
			       " | 'domains'=%u;;;0; 'agents_connected'=%u;;;0; "
			       "'recommendations_warning'=%u;;;0; "
			       "'recommendations_critical'=%u;;;0;\n",
			       c->domains, c->connected, c->n_warning, c->n_critical);
	g_string_append(out, c->details->str);
	if (c->perf->len > 0)
		g_string_append_printf(out, "| %s\n", c->perf->str);
	vt_render_text(stdout, out->str);
	return c->state;
}

static gboolean
parse_area(const char *name, int *area)
{
	for (gsize i = 0; i < G_N_ELEMENTS(areas); i++)
		if (g_strcmp0(areas[i].name, name ? name : "all") == 0) {
			*area = (int)i;
			return TRUE;
		}
	return FALSE;
}

int
vt_cmd_check(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autofree char *domain = NULL, *area = NULL;
	Check c = {.warning = CHECK_SWAP_WARNING, .critical = CHECK_SWAP_CRITICAL};
	gint timeout = 10;
	const GOptionEntry entries[] = {
		{"domain", 'd', 0, G_OPTION_ARG_STRING, &domain, "Only this domain", "DOMAIN"},
		{"area", 'a', 0, G_OPTION_ARG_STRING, &area, "What to check (default all)",
		 "all|swap|memory|schedulers|nics|cpu"},
		{"warning", 'w', 0, G_OPTION_ARG_DOUBLE, &c.warning,
		 "WARNING from this swap rate, pages/s in + out (default 100)", "RATE"},
		{"critical", 'c', 0, G_OPTION_ARG_DOUBLE, &c.critical,
		 "CRITICAL from this swap rate, pages/s in + out (default 1000)", "RATE"},
		{"timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
		 "Seconds to wait for virt-tuned (default 10)", "SECONDS"},
		{NULL},
	};
	g_autoptr(JsonNode) swap = NULL;
	g_autoptr(JsonNode) recs = NULL;
	g_autoptr(GString) problems = g_string_new(NULL);
	g_autoptr(GString) details = g_string_new(NULL);
	g_autoptr(GString) perfdata = g_string_new(NULL);
	JsonArray *rows;
	int rc;

	if (!vt_cli_parse(&o, "- a Nagios/Icinga plugin: status line, perfdata, exit 0-3", entries,
			  0, 0, &argc, &argv, &rc))
		return CHECK_UNKNOWN;
	if (!parse_area(area, &c.area) || timeout < 1 || timeout > 600 ||
	    !(c.warning >= 0 && c.critical >= c.warning))
		return unknown("usage", "--area all|swap|memory|schedulers|nics|cpu, --timeout "
					"1..600, 0 <= --warning <= --critical");
	c.problems = problems;
	c.details = details;
	c.perf = perfdata;
	if ((rc = ask(o.socket, "audit", domain, (guint)timeout, &swap)) != CHECK_OK ||
	    (rc = ask(o.socket, "recommend", domain, (guint)timeout, &recs)) != CHECK_OK)
		return rc;
	if (!JSON_NODE_HOLDS_ARRAY(swap) || !JSON_NODE_HOLDS_OBJECT(recs))
		return unknown("virt-tuned", "an answer of an unexpected shape");
	rows = json_node_get_array(swap);
	for (guint i = 0; i < json_array_get_length(rows); i++)
		if (JSON_NODE_HOLDS_OBJECT(json_array_get_element(rows, i)))
			check_swap_row(&c, json_array_get_object_element(rows, i));
	rows = json_object_get_array_member(json_node_get_object(recs), "recommendations");
	for (guint i = 0; rows && i < json_array_get_length(rows); i++)
		if (JSON_NODE_HOLDS_OBJECT(json_array_get_element(rows, i)))
			check_recommendation(&c, json_array_get_object_element(rows, i));
	return report(&c);
}
