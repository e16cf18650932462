/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands answered by virt-tuned over its control socket. */
#include <stdio.h>

#include "cli.h"
#include "client.h"
#include "options.h"
#include "render.h"

/* ============================================================ options */

void
vt_cli_options_clear(VtCliOptions *options)
{
	g_free(options->socket);
	g_free(options->format);
}

gboolean
vt_cli_parse(VtCliOptions *o, const char *parameters, const GOptionEntry *entries, int min_args,
	     int max_args, int *argc, char ***argv, int *exit_code)
{
	GOptionEntry common[] = {
		{"socket", 0, 0, G_OPTION_ARG_FILENAME, &o->socket,
		 "virt-tuned's control socket (default $VIRT_TUNE_SOCKET "
		 "or " VT_CLIENT_DEFAULT_SOCKET ")",
		 "PATH"},
		{"format", 'f', 0, G_OPTION_ARG_STRING, &o->format, "table (default), json or csv",
		 "FORMAT"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(parameters);
	g_autoptr(GError) error = NULL;

	*exit_code = VT_EXIT_USAGE;
	g_option_context_add_main_entries(ctx, common, NULL);
	if (entries != NULL)
		g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		vt_render_error("%s (see --help)", error->message);
		return FALSE;
	}
	if (!vt_format_parse(o->format, &o->fmt)) {
		vt_render_error("--format must be table, json or csv");
		return FALSE;
	}
	if (*argc - 1 < min_args || *argc - 1 > max_args) {
		vt_render_usage(ctx);
		return FALSE;
	}
	*exit_code = VT_EXIT_OK;
	return TRUE;
}

/* ============================================================ status, list, show, refresh, watch
 */

static void
show_status(JsonObject *r)
{
	g_autofree char *title = g_strdup_printf(
		"virt-tuned %s", json_object_get_string_member_with_default(r, "version", "?"));
	g_autofree char *libvirt = g_strdup_printf(
		"%s (%s)", json_object_get_string_member_with_default(r, "uri", "?"),
		json_object_get_boolean_member_with_default(r, "libvirt_connected", FALSE)
			? "connected"
			: "not connected");
	g_autofree char *domains = g_strdup_printf(
		"%" G_GINT64_FORMAT " running, %" G_GINT64_FORMAT " with a connected agent",
		json_object_get_int_member_with_default(r, "domains", 0),
		json_object_get_int_member_with_default(r, "agents_connected", 0));
	const VtField fields[] = {
		{"libvirt:", libvirt},
		{"domains:", domains},
		{"history:", json_object_get_string_member_with_default(r, "database", "?")},
	};

	vt_render_fields(stdout, title, "", 10, fields, G_N_ELEMENTS(fields));
}

int
vt_cmd_status(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	int rc;

	if (!vt_cli_parse(&o, "- show whether virt-tuned runs", NULL, 0, 0, &argc, &argv, &rc))
		return rc;
	if ((rc = vt_client_request(o.socket, "status", NULL, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		show_status(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	return VT_EXIT_OK;
}

static const VtColumn list_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},     {"agent", "AGENT", VT_COL_TEXT, NULL},
	{"report_age_s", "AGE", VT_COL_AGE, NULL},   {"vcpus", "VCPU", VT_COL_INT, NULL},
	{"memory_bytes", "MEM", VT_COL_BYTES, NULL}, {"hostname", "HOSTNAME", VT_COL_TEXT, NULL},
	{"kernel", "KERNEL", VT_COL_TEXT, NULL},     {"recommendations", "RECS", VT_COL_INT, NULL},
	{"last_error", "NOTE", VT_COL_TEXT, NULL},
};

int
vt_cmd_list(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	int rc;

	if (!vt_cli_parse(&o, "- list running domains and their agents", NULL, 0, 0, &argc, &argv,
			  &rc))
		return rc;
	if ((rc = vt_client_request(o.socket, "list", NULL, 10, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, list_columns, G_N_ELEMENTS(list_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
}

/* ------------------------------------------------------------ show, refresh */

static const char *
str_or(JsonObject *o, const char *key)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;
	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
		       ? json_node_get_string(n)
		       : NULL;
}

static JsonObject *
object_or(JsonObject *o, const char *key)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;
	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* One domain, the host's view and the guest's. */
static void
show_domain(JsonObject *r)
{
	JsonObject *host = object_or(r, "host");
	JsonObject *rates = json_object_get_object_member(r, "rates");
	JsonObject *report = object_or(r, "report");
	JsonObject *id = report && json_object_has_member(report, "identity")
				 ? json_object_get_object_member(report, "identity")
				 : NULL;
	g_autofree char *age = vt_format_member(r, "report_age_s", VT_COL_AGE);
	g_autofree char *vcpus = vt_format_member(host, "vcpus", VT_COL_INT);
	g_autofree char *mem = vt_format_member(host, "current_memory_bytes", VT_COL_BYTES);
	g_autofree char *maxmem = vt_format_member(host, "memory_bytes", VT_COL_BYTES);
	g_autofree char *bal = vt_format_member(rates, "balloon_actual_bytes", VT_COL_BYTES);
	g_autofree char *swin = vt_format_member(rates, "swap_in_pages_per_s", VT_COL_RATE);
	g_autofree char *swout = vt_format_member(rates, "swap_out_pages_per_s", VT_COL_RATE);
	g_autofree char *steal = vt_format_member(rates, "steal_pct", VT_COL_RATE);
	g_autofree char *wait = vt_format_member(rates, "vcpu_wait_pct", VT_COL_RATE);
	g_autofree char *memline = g_strdup_printf("%s of %s (balloon %s)", mem, maxmem, bal);
	g_autofree char *swapline = g_strdup_printf("%s in, %s out pages/s", swin, swout);
	g_autofree char *cpuline = g_strdup_printf("steal %s%%, host vCPU wait %s%%", steal, wait);
	g_autofree char *hint = g_strdup_printf(
		"\nUse `virt-tune audit all --domain %s` for disks, NICs and swap;\n"
		"--format json shows the whole report.\n",
		str_or(r, "domain"));
	const VtField fields[] = {
		{"uuid", str_or(r, "uuid")},
		{"agent", str_or(r, "agent")},
		{"agent version", str_or(r, "agent_version")},
		{"last report", age},
		{"note", str_or(r, "last_error")},
		{"hostname", str_or(id, "hostname")},
		{"os", str_or(id, "os_pretty_name")},
		{"kernel", str_or(id, "kernel_release")},
		{"vCPUs", vcpus},
		{"cpu mode", str_or(host, "cpu_mode")},
		{"memory", memline},
		{"swap", swapline},
		{"cpu", cpuline},
	};

	vt_render_fields(stdout, str_or(r, "domain"), "  ", 22, fields, G_N_ELEMENTS(fields));
	vt_render_text(stdout, hint);
}

static int
show_like(int argc, char **argv, const char *command, const char *parameters, guint timeout_s)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o, parameters, NULL, 1, 1, &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	if ((rc = vt_client_request(o.socket, command, args, timeout_s, &result)) != VT_EXIT_OK)
		return rc;
	if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		show_domain(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	return VT_EXIT_OK;
}

int
vt_cmd_show(int argc, char **argv)
{
	return show_like(argc, argv, "show", "DOMAIN - what the host and the guest say", 10);
}

int
vt_cmd_refresh(int argc, char **argv)
{
	return show_like(argc, argv, "refresh",
			 "DOMAIN - ask the guest's agent for a report now, and show it", 15);
}

/* ------------------------------------------------------------ watch */

static const VtColumn watch_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"agent", "AGENT", VT_COL_TEXT, NULL},
	{"report_age_s", "AGE", VT_COL_AGE, NULL},
	{"mem_available_bytes", "AVAIL", VT_COL_BYTES, NULL},
	{"mem_total_bytes", "MEM", VT_COL_BYTES, NULL},
	{"swap_used_bytes", "SWAP USED", VT_COL_BYTES, NULL},
	{"swap_in_pages_per_s", "SWPIN/s", VT_COL_RATE, NULL},
	{"swap_out_pages_per_s", "SWPOUT/s", VT_COL_RATE, NULL},
	{"balloon_actual_bytes", "BALLOON", VT_COL_BYTES, NULL},
};

/* One screen of watch: the swap audit's rows under a time stamp. */
static int
watch_once(const VtCliOptions *o, int interval, gboolean tty)
{
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = json_object_new();
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S");
	int rc;

	json_object_set_string_member(args, "kind", vt_audit_kind_name(VT_AUDIT_SWAP));
	if ((rc = vt_client_request(o->socket, "audit", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (tty)
		vt_render_clear(stdout);
	if (o->fmt == VT_FORMAT_TABLE) {
		g_autofree char *head = g_strdup_printf(
			"virt-tune watch — %s, every %d s (Ctrl-C to stop)\n\n", stamp, interval);
		vt_render_text(stdout, head);
	}
	vt_render_rows(stdout, o->fmt, result, watch_columns, G_N_ELEMENTS(watch_columns), tty);
	fflush(stdout);
	return VT_EXIT_OK;
}

int
vt_cmd_watch(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	int interval = 2, count = 0;
	const GOptionEntry entries[] = {
		{"interval", 'i', 0, G_OPTION_ARG_INT, &interval, "Seconds between updates (2)",
		 "S"},
		{"count", 'n', 0, G_OPTION_ARG_INT, &count, "Stop after N updates (0: never)", "N"},
		{NULL},
	};
	gboolean tty = vt_use_color(stdout);
	int rc;

	if (!vt_cli_parse(&o, "- a refreshing table of every guest's memory and swap", entries, 0,
			  0, &argc, &argv, &rc))
		return rc;
	if (interval < 1 || interval > 3600 || count < 0) {
		vt_render_error("--interval must be 1..3600 and --count >= 0");
		return VT_EXIT_USAGE;
	}
	for (int i = 0; count == 0 || i < count; i++) {
		if ((rc = watch_once(&o, interval, tty)) != VT_EXIT_OK)
			return rc;
		if (count == 0 || i + 1 < count)
			g_usleep((gulong)interval * G_USEC_PER_SEC);
	}
	return VT_EXIT_OK;
}

/* ============================================================ audit */

static const VtColumn swap_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"agent", "AGENT", VT_COL_TEXT, NULL},
	{"report_age_s", "AGE", VT_COL_AGE, NULL},
	{"swap_used_bytes", "SWAP USED", VT_COL_BYTES, NULL},
	{"swap_total_bytes", "SWAP", VT_COL_BYTES, NULL},
	{"swappiness", "SWAPPINESS", VT_COL_INT, NULL},
	{"swap_in_pages_per_s", "IN/s", VT_COL_RATE, NULL},
	{"swap_out_pages_per_s", "OUT/s", VT_COL_RATE, NULL},
	{"mem_available_bytes", "AVAIL", VT_COL_BYTES, NULL},
	{"balloon_actual_bytes", "BALLOON", VT_COL_BYTES, NULL},
	{"balloon_maximum_bytes", "MAX", VT_COL_BYTES, NULL},
};

static const VtColumn sched_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},        {"device", "DISK", VT_COL_TEXT, NULL},
	{"scheduler", "SCHED", VT_COL_TEXT, NULL},      {"nr_requests", "NR_REQ", VT_COL_INT, NULL},
	{"rotational", "ROT", VT_COL_BOOL, NULL},       {"nr_hw_queues", "HWQ", VT_COL_INT, NULL},
	{"host_target", "HOST DEV", VT_COL_TEXT, NULL}, {"host_bus", "BUS", VT_COL_TEXT, NULL},
	{"host_cache", "CACHE", VT_COL_TEXT, NULL},     {"host_io", "IO", VT_COL_TEXT, NULL},
	{"size_bytes", "SIZE", VT_COL_BYTES, NULL},
};

static const VtColumn nic_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"iface", "NIC", VT_COL_TEXT, NULL},
	{"driver", "DRIVER", VT_COL_TEXT, NULL},
	{"combined", "COMBINED", VT_COL_RATIO, "max_combined"},
	{"host_queues", "HOST Q", VT_COL_INT, NULL},
	{"host_model", "MODEL", VT_COL_TEXT, NULL},
	{"mac", "MAC", VT_COL_TEXT, NULL},
	{"offloads_off", "OFFLOADS OFF", VT_COL_LIST, NULL},
};

/* Every kind of audit: "all" is the others together, each under its title in
 * a table (one object of the three arrays in JSON). --fail-on counts the
 * recommendations whose rule id starts with the kind's prefix. */
static const struct {
	const char *name;
	const char *title;
	const VtColumn *columns;
	gsize n_columns;
	const char *rule_prefix;
} kinds[] = {
	[VT_AUDIT_SWAP] = {"swap", "Swap", swap_columns, G_N_ELEMENTS(swap_columns), "mem."},
	[VT_AUDIT_SCHEDULERS] = {"schedulers", "Block schedulers", sched_columns,
				 G_N_ELEMENTS(sched_columns), "blk."},
	[VT_AUDIT_NICS] = {"nics", "NICs", nic_columns, G_N_ELEMENTS(nic_columns), "nic."},
	[VT_AUDIT_ALL] = {"all", NULL, NULL, 0, ""},
};

const char *
vt_audit_kind_name(VtAuditKind kind)
{
	return kinds[kind].name;
}

/* "swap|schedulers|nics|all", or "swap, schedulers, nics or all". */
static char *
kind_names(gboolean prose)
{
	GString *s = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (i > 0)
			g_string_append(s, !prose                        ? "|"
					   : i + 1 < G_N_ELEMENTS(kinds) ? ", "
									 : " or ");
		g_string_append(s, kinds[i].name);
	}
	return g_string_free(s, FALSE);
}

static int
find_kind(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (g_strcmp0(kinds[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* FALSE when "all" did not come back as an object: nothing to count then. */
static gboolean
show_audit(const VtCliOptions *o, int kind, JsonNode *result)
{
	gboolean color = vt_use_color(stdout);
	JsonObject *all;

	if (kind != VT_AUDIT_ALL || o->fmt == VT_FORMAT_JSON) {
		vt_render_rows(stdout, o->fmt, result, kinds[kind].columns, kinds[kind].n_columns,
			       color);
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return FALSE;
	}
	all = json_node_get_object(result);
	for (int k = 0; k < VT_AUDIT_ALL; k++)
		vt_render_section(stdout, o->fmt, kinds[k].title, k == 0,
				  json_object_get_member(all, kinds[k].name), kinds[k].columns,
				  kinds[k].n_columns, color);
	return TRUE;
}

/* --fail-on: the recommendations of the audit's area. */
static int
audit_findings(const VtCliOptions *o, int kind, const char *domain, int threshold)
{
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = vt_client_args(domain);
	int rc;

	if ((rc = vt_client_request(o->socket, "recommend", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	return vt_findings(result, kinds[kind].rule_prefix, threshold);
}

int
vt_cmd_audit(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autofree char *domain = NULL;
	g_autofree char *fail_on = NULL;
	const GOptionEntry entries[] = {
		{"domain", 'd', 0, G_OPTION_ARG_STRING, &domain, "Only this domain", "DOMAIN"},
		{"fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on,
		 "Exit 1 when this area has a recommendation of this severity or worse",
		 "warning|critical"},
		{NULL},
	};
	g_autofree char *names = kind_names(FALSE);
	g_autofree char *parameters = g_strconcat(names, " - fleet-wide audit", NULL);
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc, kind, threshold;

	if (!vt_cli_parse(&o, parameters, entries, 1, 1, &argc, &argv, &rc))
		return rc;
	if ((kind = find_kind(argv[1])) < 0) {
		g_autofree char *prose = kind_names(TRUE);
		vt_render_error("audit %s — not '%s'", prose, argv[1]);
		return VT_EXIT_USAGE;
	}
	if (!vt_fail_on_parse(fail_on, &threshold))
		return VT_EXIT_USAGE;
	args = vt_client_args(domain);
	json_object_set_string_member(args, "kind", kinds[kind].name);
	if ((rc = vt_client_request(o.socket, "audit", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (!show_audit(&o, kind, result) || threshold < 1)
		return VT_EXIT_OK;
	return audit_findings(&o, kind, domain, threshold);
}

/* ============================================================ history */

/* "90s", "15m", "2h", "7d" before now, or an ISO 8601 time. */
static gboolean
parse_since(const char *text, gint64 *ms)
{
	char *end = NULL;
	gint64 n = g_ascii_strtoll(text, &end, 10);
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) t = NULL;
	gint64 unit = 0;

	if (end != text && n >= 0 && end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		}
		if (unit > 0 && n < G_MAXINT64 / 1000 / unit) {
			*ms = g_get_real_time() / 1000 - n * unit * 1000;
			return TRUE;
		}
	}
	t = g_date_time_new_from_iso8601(text, utc);
	if (t == NULL)
		return FALSE;
	*ms = g_date_time_to_unix(t) * 1000;
	return TRUE;
}

static const VtColumn history_columns[] = {
	{"time", "TIME", VT_COL_TEXT, NULL},
	{"uptime_s", "UPTIME", VT_COL_AGE, NULL},
	{"mem_available_bytes", "AVAIL", VT_COL_BYTES, NULL},
	{"mem_total_bytes", "MEM", VT_COL_BYTES, NULL},
	{"swap_free_bytes", "SWAP FREE", VT_COL_BYTES, NULL},
	{"pswpin", "PSWPIN", VT_COL_INT, NULL},
	{"pswpout", "PSWPOUT", VT_COL_INT, NULL},
	{"disks", "DISKS", VT_COL_INT, NULL},
	{"nics", "NICS", VT_COL_INT, NULL},
};

int
vt_cmd_history(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autofree char *since = NULL;
	int limit = 50;
	const GOptionEntry entries[] = {
		{"since", 0, 0, G_OPTION_ARG_STRING, &since,
		 "Only reports after this: 30m, 2h, 7d, or an ISO 8601 time", "WHEN"},
		{"limit", 'n', 0, G_OPTION_ARG_INT, &limit,
		 "At most N reports, newest (default 50)", "N"},
		{NULL},
	};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	gint64 since_ms = 0;
	int rc;

	if (!vt_cli_parse(&o, "DOMAIN - past reports, also of stopped domains", entries, 1, 1,
			  &argc, &argv, &rc))
		return rc;
	if (since != NULL && !parse_since(since, &since_ms)) {
		vt_render_error("--since takes 30m, 2h, 7d or an ISO 8601 time, not '%s'", since);
		return VT_EXIT_USAGE;
	}
	if (limit < 1 || limit > 10000) {
		vt_render_error("--limit must be 1..10000");
		return VT_EXIT_USAGE;
	}
	args = vt_client_args(argv[1]);
	json_object_set_int_member(args, "since_ms", since_ms);
	json_object_set_int_member(args, "limit", limit);
	if ((rc = vt_client_request(o.socket, "history", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, history_columns, G_N_ELEMENTS(history_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
}

/* ============================================================ recommend, apply, rollback, changes
 */

/* ------------------------------------------------------------ recommend */

static int
severity_rank(const char *s)
{
	if (g_strcmp0(s, "critical") == 0)
		return 2;
	if (g_strcmp0(s, "warning") == 0)
		return 1;
	if (g_strcmp0(s, "info") == 0)
		return 0;
	return -1;
}

gboolean
vt_fail_on_parse(const char *text, int *threshold)
{
	*threshold = -1;
	if (text != NULL && ((*threshold = severity_rank(text)) < 1)) {
		vt_render_error("--fail-on takes warning or critical");
		return FALSE;
	}
	return TRUE;
}

int
vt_findings(JsonNode *recommend, const char *rule_prefix, int threshold)
{
	JsonArray *recs = JSON_NODE_HOLDS_OBJECT(recommend)
				  ? json_object_get_array_member(json_node_get_object(recommend),
								 "recommendations")
				  : NULL;

	for (guint i = 0; recs && i < json_array_get_length(recs); i++) {
		JsonObject *r = json_array_get_object_element(recs, i);
		if (g_str_has_prefix(json_object_get_string_member_with_default(r, "rule", ""),
				     rule_prefix) &&
		    severity_rank(json_object_get_string_member_with_default(r, "severity", "")) >=
			    threshold)
			return VT_EXIT_FINDINGS;
	}
	return VT_EXIT_OK;
}

int
vt_cmd_recommend(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autofree char *fail_on = NULL;
	gboolean all = FALSE;
	const GOptionEntry entries[] = {
		{"all", 'a', 0, G_OPTION_ARG_NONE, &all, "Every running domain (the default)",
		 NULL},
		{"fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on,
		 "Exit 1 when a recommendation of this severity or worse exists",
		 "warning|critical"},
		{NULL},
	};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	JsonObject *r;
	int rc, threshold;

	if (!vt_cli_parse(&o, "[DOMAIN|--all] - what to change, and why", entries, 0, 1, &argc,
			  &argv, &rc))
		return rc;
	if (all && argc > 1) {
		vt_render_error("give a DOMAIN or --all, not both");
		return VT_EXIT_USAGE;
	}
	if (!vt_fail_on_parse(fail_on, &threshold))
		return VT_EXIT_USAGE;
	args = vt_client_args(argc > 1 ? argv[1] : NULL);
	if ((rc = vt_client_request(o.socket, "recommend", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return VT_EXIT_FAILED;
	}
	r = json_node_get_object(result);
	if (o.fmt == VT_FORMAT_JSON)
		vt_render_json(stdout, result);
	else if (o.fmt == VT_FORMAT_CSV) /* every member of a recommendation: no columns */
		vt_render_rows(stdout, o.fmt, json_object_get_member(r, "recommendations"), NULL, 0,
			       FALSE);
	else
		vt_render_recommendations(stdout, r, VT_RECS_FLEET, vt_use_color(stdout));
	return threshold > 0 ? vt_findings(result, "", threshold) : VT_EXIT_OK;
}

/* ------------------------------------------------------------ apply, rollback */

/* What the agent did: the operation's status, then before and after. */
static void
show_change(JsonObject *r)
{
	const char *reason = json_object_get_string_member_with_default(r, "reason", "");
	g_autofree char *title = g_strdup_printf(
		"%s %s: %s%s%s", json_object_get_string_member_with_default(r, "operation", "?"),
		json_object_get_string_member_with_default(r, "domain", "?"),
		json_object_get_string_member_with_default(r, "status", "?"),
		reason && *reason ? " — " : "", reason ? reason : "");
	VtField fields[5];
	gsize n = 0;

	if (json_object_has_member(r, "command") && !json_object_get_null_member(r, "command"))
		fields[n++] = (VtField){"command:", json_object_get_string_member(r, "command")};
	fields[n++] =
		(VtField){"before:", json_object_get_string_member_with_default(r, "before", "-")};
	fields[n++] =
		(VtField){"after:", json_object_get_string_member_with_default(r, "after", "-")};
	if (json_object_has_member(r, "change_id") && !json_object_get_null_member(r, "change_id"))
		fields[n++] =
			(VtField){"change id:", json_object_get_string_member(r, "change_id")};
	if (json_object_has_member(r, "recommendation_gone"))
		fields[n++] =
			(VtField){NULL, json_object_get_boolean_member(r, "recommendation_gone")
						? "the next report no longer has the "
						  "recommendation"
						: "the next report still has the "
						  "recommendation"};
	vt_render_fields(stdout, title, "  ", 10, fields, n);
}

/* Print an apply's or a rollback's answer; its exit code. */
static int
change_done(const VtCliOptions *o, JsonNode *result)
{
	const char *status;

	if (o->fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		show_change(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	if (!JSON_NODE_HOLDS_OBJECT(result))
		return VT_EXIT_FAILED;
	status = json_object_get_string_member_with_default(json_node_get_object(result), "status",
							    "");
	return g_strcmp0(status, "applied") == 0 || g_strcmp0(status, "validated") == 0 ||
			       g_strcmp0(status, "rolled_back") == 0
		       ? VT_EXIT_OK
		       : VT_EXIT_FAILED;
}

int
vt_cmd_apply(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	gboolean dry_run = FALSE, persist = FALSE;
	const GOptionEntry entries[] = {
		{"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
		 "Let the agent validate it and show before/after; change nothing", NULL},
		{"persist", 0, 0, G_OPTION_ARG_NONE, &persist,
		 "Also make it survive a reboot (when the guest's policy allows)", NULL},
		{NULL},
	};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o,
			  "DOMAIN RECOMMENDATION_ID - have the guest's agent make a recommended "
			  "change",
			  entries, 2, 2, &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	json_object_set_string_member(args, "recommendation", argv[2]);
	json_object_set_boolean_member(args, "dry_run", dry_run);
	json_object_set_boolean_member(args, "persist", persist);
	if ((rc = vt_client_request(o.socket, "apply", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	return change_done(&o, result);
}

int
vt_cmd_rollback(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o, "DOMAIN CHANGE_ID - undo a change (see `virt-tune changes`)", NULL, 2,
			  2, &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	json_object_set_string_member(args, "change_id", argv[2]);
	if ((rc = vt_client_request(o.socket, "rollback", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	return change_done(&o, result);
}

/* ------------------------------------------------------------ changes */

static const VtColumn change_columns[] = {
	{"time", "TIME", VT_COL_TEXT, NULL},
	{"operation", "OP", VT_COL_TEXT, NULL},
	{"recommendation", "RECOMMENDATION", VT_COL_TEXT, NULL},
	{"status", "STATUS", VT_COL_TEXT, NULL},
	{"before", "BEFORE", VT_COL_TEXT, NULL},
	{"after", "AFTER", VT_COL_TEXT, NULL},
	{"change_id", "CHANGE ID", VT_COL_TEXT, NULL},
	{"peer_uid", "UID", VT_COL_INT, NULL},
};

int
vt_cmd_changes(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o, "DOMAIN - every apply and rollback asked of a domain", NULL, 1, 1,
			  &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	if ((rc = vt_client_request(o.socket, "changes", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, change_columns, G_N_ELEMENTS(change_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
}
