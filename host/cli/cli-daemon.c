/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli-daemon.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "render.h"

/* Options every daemon command takes. */
typedef struct {
	char *socket;
	char *format;
	VtFormat fmt;
} CommonOptions;

static void
common_clear(CommonOptions *o)
{
	g_free(o->socket);
	g_free(o->format);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CommonOptions, common_clear)

static void
add_common(GOptionContext *ctx, CommonOptions *o)
{
	GOptionEntry entries[] = {
		{"socket", 0, 0, G_OPTION_ARG_FILENAME, &o->socket,
		 "virt-tuned's control socket (default $VIRT_TUNE_SOCKET or "
		 "/run/virt-tune/virt-tuned.sock)",
		 "PATH"},
		{"format", 'f', 0, G_OPTION_ARG_STRING, &o->format, "table (default), json or csv",
		 "FORMAT"},
		{NULL},
	};
	g_option_context_add_main_entries(ctx, entries, NULL);
}

/* Parse; on error print it and return FALSE with *exit set. */
static gboolean
parse(GOptionContext *ctx, CommonOptions *o, int *argc, char ***argv, int min_args, int max_args,
      int *exit_code)
{
	g_autoptr(GError) error = NULL;

	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		g_printerr("virt-tune: %s (see --help)\n", error->message);
		*exit_code = VT_EXIT_USAGE;
		return FALSE;
	}
	if (!vt_format_parse(o->format, &o->fmt)) {
		g_printerr("virt-tune: --format must be table, json or csv\n");
		*exit_code = VT_EXIT_USAGE;
		return FALSE;
	}
	if (*argc - 1 < min_args || *argc - 1 > max_args) {
		g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
		g_printerr("%s", help);
		*exit_code = VT_EXIT_USAGE;
		return FALSE;
	}
	return TRUE;
}

/* One request; prints the failure and returns its exit code, or VT_EXIT_OK
 * with *result set. */
static int
call(CommonOptions *o, const char *command, JsonObject *args, guint timeout_s, JsonNode **result)
{
	g_autofree char *code = NULL;
	g_autofree char *message = NULL;
	VtClientStatus st = vt_client_call(vt_client_socket_path(o->socket), command, args,
					   timeout_s, result, &code, &message);

	switch (st) {
	case VT_CLIENT_OK:
		return VT_EXIT_OK;
	case VT_CLIENT_UNREACHABLE:
		g_printerr("virt-tune: %s\n", message);
		return VT_EXIT_UNREACHABLE;
	case VT_CLIENT_REFUSED:
		g_printerr("virt-tune: %s\n", message);
		return g_strcmp0(code, "not_found") == 0 || g_strcmp0(code, "bad_request") == 0
			       ? VT_EXIT_USAGE
			       : VT_EXIT_FAILED;
	case VT_CLIENT_BROKEN:
		g_printerr("virt-tune: %s\n", message);
		return VT_EXIT_FAILED;
	}
	return VT_EXIT_FAILED;
}

static JsonObject *
args_domain(const char *domain)
{
	JsonObject *args = json_object_new();
	if (domain != NULL)
		json_object_set_string_member(args, "domain", domain);
	return args;
}

/* ------------------------------------------------------------ status, list */

int
vt_cmd_status(int argc, char **argv)
{
	g_auto(CommonOptions) o = {0};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- show whether virt-tuned runs");
	g_autoptr(JsonNode) result = NULL;
	JsonObject *r;
	int rc;

	add_common(ctx, &o);
	if (!parse(ctx, &o, &argc, &argv, 0, 0, &rc))
		return rc;
	if ((rc = call(&o, "status", NULL, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (o.fmt != VT_FORMAT_TABLE || !JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return VT_EXIT_OK;
	}
	r = json_node_get_object(result);
	printf("virt-tuned %s\n", json_object_get_string_member_with_default(r, "version", "?"));
	printf("libvirt:   %s (%s)\n", json_object_get_string_member_with_default(r, "uri", "?"),
	       json_object_get_boolean_member_with_default(r, "libvirt_connected", FALSE)
		       ? "connected"
		       : "not connected");
	printf("domains:   %" G_GINT64_FORMAT " running, %" G_GINT64_FORMAT
	       " with a connected agent\n",
	       json_object_get_int_member_with_default(r, "domains", 0),
	       json_object_get_int_member_with_default(r, "agents_connected", 0));
	printf("history:   %s\n", json_object_get_string_member_with_default(r, "database", "?"));
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
	g_auto(CommonOptions) o = {0};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("- list running domains and their agents");
	g_autoptr(JsonNode) result = NULL;
	int rc;

	add_common(ctx, &o);
	if (!parse(ctx, &o, &argc, &argv, 0, 0, &rc))
		return rc;
	if ((rc = call(&o, "list", NULL, 10, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, list_columns, G_N_ELEMENTS(list_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
}

/* ------------------------------------------------------------ show, refresh */

static void
print_kv(const char *key, const char *value)
{
	g_autofree char *clean = value ? vt_text_for_terminal(value) : NULL;

	printf("  %-22s %s\n", key, clean ? clean : "-");
}

static const char *
str_or(JsonObject *o, const char *key)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;
	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
		       ? json_node_get_string(n)
		       : NULL;
}

static char *
num_text(JsonObject *o, const char *key, VtColKind kind)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n))
		return g_strdup("-");
	if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
		return g_strdup_printf("%.1f", json_node_get_double(n));
	if (json_node_get_value_type(n) != G_TYPE_INT64)
		return g_strdup("-");
	if (kind == VT_COL_BYTES)
		return vt_format_bytes_short(json_node_get_int(n));
	if (kind == VT_COL_AGE)
		return vt_format_age(json_node_get_int(n));
	return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
}

static void
print_show(JsonNode *result)
{
	JsonObject *r = json_node_get_object(result);
	JsonObject *host = json_object_get_member(r, "host") &&
					   JSON_NODE_HOLDS_OBJECT(json_object_get_member(r, "host"))
				   ? json_object_get_object_member(r, "host")
				   : NULL;
	JsonObject *rates = json_object_get_object_member(r, "rates");
	JsonNode *rep = json_object_get_member(r, "report");
	JsonObject *report = rep && JSON_NODE_HOLDS_OBJECT(rep) ? json_node_get_object(rep) : NULL;
	JsonObject *id = report && json_object_has_member(report, "identity")
				 ? json_object_get_object_member(report, "identity")
				 : NULL;
	g_autofree char *age = num_text(r, "report_age_s", VT_COL_AGE);
	g_autofree char *vcpus = num_text(host, "vcpus", VT_COL_INT);
	g_autofree char *mem = num_text(host, "current_memory_bytes", VT_COL_BYTES);
	g_autofree char *maxmem = num_text(host, "memory_bytes", VT_COL_BYTES);
	g_autofree char *bal = num_text(rates, "balloon_actual_bytes", VT_COL_BYTES);
	g_autofree char *swin = num_text(rates, "swap_in_pages_per_s", VT_COL_RATE);
	g_autofree char *swout = num_text(rates, "swap_out_pages_per_s", VT_COL_RATE);
	g_autofree char *steal = num_text(rates, "steal_pct", VT_COL_RATE);
	g_autofree char *wait = num_text(rates, "vcpu_wait_pct", VT_COL_RATE);
	g_autofree char *memline = g_strdup_printf("%s of %s (balloon %s)", mem, maxmem, bal);
	g_autofree char *swapline = g_strdup_printf("%s in, %s out pages/s", swin, swout);
	g_autofree char *cpuline = g_strdup_printf("steal %s%%, host vCPU wait %s%%", steal, wait);

	printf("%s\n", str_or(r, "domain"));
	print_kv("uuid", str_or(r, "uuid"));
	print_kv("agent", str_or(r, "agent"));
	print_kv("agent version", str_or(r, "agent_version"));
	print_kv("last report", age);
	print_kv("note", str_or(r, "last_error"));
	print_kv("hostname", str_or(id, "hostname"));
	print_kv("os", str_or(id, "os_pretty_name"));
	print_kv("kernel", str_or(id, "kernel_release"));
	print_kv("vCPUs", vcpus);
	print_kv("cpu mode", str_or(host, "cpu_mode"));
	print_kv("memory", memline);
	print_kv("swap", swapline);
	print_kv("cpu", cpuline);
	printf("\nUse `virt-tune audit all --domain %s` for disks, NICs and swap;\n"
	       "--format json shows the whole report.\n",
	       str_or(r, "domain"));
}

static int
show_like(int argc, char **argv, const char *command, const char *summary, guint timeout_s)
{
	g_auto(CommonOptions) o = {0};
	g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	add_common(ctx, &o);
	if (!parse(ctx, &o, &argc, &argv, 1, 1, &rc))
		return rc;
	args = args_domain(argv[1]);
	if ((rc = call(&o, command, args, timeout_s, &result)) != VT_EXIT_OK)
		return rc;
	if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		print_show(result);
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

/* ------------------------------------------------------------ audits */

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

static void
print_section(const char *title, VtFormat fmt, JsonNode *rows, const VtColumn *cols, gsize n,
	      gboolean first)
{
	if (fmt == VT_FORMAT_TABLE)
		printf("%s%s\n", first ? "" : "\n", title);
	vt_render_rows(stdout, fmt, rows, cols, n, vt_use_color(stdout));
}

static int severity_rank(const char *s);

/* --fail-on for an audit: does a recommendation of the audit's area (mem.*
 * for swap, blk.* for schedulers, nic.* for nics, any for all) reach the
 * threshold? */
static int
audit_findings(CommonOptions *o, const char *kind, const char *domain, int threshold)
{
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = args_domain(domain);
	const char *prefix = g_str_equal(kind, "swap")         ? "mem."
			     : g_str_equal(kind, "schedulers") ? "blk."
			     : g_str_equal(kind, "nics")       ? "nic."
							       : "";
	JsonArray *recs;
	int rc;

	if ((rc = call(o, "recommend", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	recs = JSON_NODE_HOLDS_OBJECT(result)
		       ? json_object_get_array_member(json_node_get_object(result),
						      "recommendations")
		       : NULL;
	for (guint i = 0; recs && i < json_array_get_length(recs); i++) {
		JsonObject *r = json_array_get_object_element(recs, i);
		if (g_str_has_prefix(json_object_get_string_member_with_default(r, "rule", ""),
				     prefix) &&
		    severity_rank(json_object_get_string_member_with_default(r, "severity", "")) >=
			    threshold)
			return VT_EXIT_FINDINGS;
	}
	return VT_EXIT_OK;
}

int
vt_cmd_audit(int argc, char **argv)
{
	g_auto(CommonOptions) o = {0};
	g_autofree char *domain = NULL;
	g_autofree char *fail_on = NULL;
	int threshold = -1;
	GOptionEntry entries[] = {
		{"domain", 'd', 0, G_OPTION_ARG_STRING, &domain, "Only this domain", "DOMAIN"},
		{"fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on,
		 "Exit 1 when this area has a recommendation of this severity or worse",
		 "warning|critical"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("swap|schedulers|nics|all - fleet-wide audit");
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	const char *kind;
	int rc;

	add_common(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!parse(ctx, &o, &argc, &argv, 1, 1, &rc))
		return rc;
	kind = argv[1];
	if (!g_strv_contains((const char *const[]){"swap", "schedulers", "nics", "all", NULL},
			     kind)) {
		g_printerr("virt-tune: audit swap, schedulers, nics or all — not '%s'\n", kind);
		return VT_EXIT_USAGE;
	}
	if (fail_on != NULL && ((threshold = severity_rank(fail_on)) < 1)) {
		g_printerr("virt-tune: --fail-on takes warning or critical\n");
		return VT_EXIT_USAGE;
	}
	args = args_domain(domain);
	json_object_set_string_member(args, "kind", kind);
	if ((rc = call(&o, "audit", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (strcmp(kind, "all") != 0 || o.fmt == VT_FORMAT_JSON) {
		const VtColumn *cols = strcmp(kind, "swap") == 0         ? swap_columns
				       : strcmp(kind, "schedulers") == 0 ? sched_columns
									 : nic_columns;
		gsize n = strcmp(kind, "swap") == 0         ? G_N_ELEMENTS(swap_columns)
			  : strcmp(kind, "schedulers") == 0 ? G_N_ELEMENTS(sched_columns)
							    : G_N_ELEMENTS(nic_columns);
		vt_render_rows(stdout, o.fmt, result, cols, n, vt_use_color(stdout));
		return threshold > 0 ? audit_findings(&o, kind, domain, threshold) : VT_EXIT_OK;
	}
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return VT_EXIT_OK;
	}
	{
		JsonObject *all = json_node_get_object(result);
		print_section("Swap", o.fmt, json_object_get_member(all, "swap"), swap_columns,
			      G_N_ELEMENTS(swap_columns), TRUE);
		print_section("Block schedulers", o.fmt, json_object_get_member(all, "schedulers"),
			      sched_columns, G_N_ELEMENTS(sched_columns), FALSE);
		print_section("NICs", o.fmt, json_object_get_member(all, "nics"), nic_columns,
			      G_N_ELEMENTS(nic_columns), FALSE);
	}
	return threshold > 0 ? audit_findings(&o, kind, domain, threshold) : VT_EXIT_OK;
}

/* ------------------------------------------------------------ history */

/* "90s", "15m", "2h", "7d" before now, or an ISO 8601 time. */
static gboolean
parse_since(const char *text, gint64 *ms)
{
	char *end = NULL;
	gint64 n = g_ascii_strtoll(text, &end, 10);
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
	t = g_date_time_new_from_iso8601(text, g_time_zone_new_utc());
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
	g_auto(CommonOptions) o = {0};
	g_autofree char *since = NULL;
	int limit = 50;
	GOptionEntry entries[] = {
		{"since", 0, 0, G_OPTION_ARG_STRING, &since,
		 "Only reports after this: 30m, 2h, 7d, or an ISO 8601 time", "WHEN"},
		{"limit", 'n', 0, G_OPTION_ARG_INT, &limit,
		 "At most N reports, newest (default 50)", "N"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("DOMAIN - past reports, also of stopped domains");
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	gint64 since_ms = 0;
	int rc;

	add_common(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!parse(ctx, &o, &argc, &argv, 1, 1, &rc))
		return rc;
	if (since != NULL && !parse_since(since, &since_ms)) {
		g_printerr("virt-tune: --since takes 30m, 2h, 7d or an ISO 8601 time, not '%s'\n",
			   since);
		return VT_EXIT_USAGE;
	}
	if (limit < 1 || limit > 10000) {
		g_printerr("virt-tune: --limit must be 1..10000\n");
		return VT_EXIT_USAGE;
	}
	args = args_domain(argv[1]);
	json_object_set_int_member(args, "since_ms", since_ms);
	json_object_set_int_member(args, "limit", limit);
	if ((rc = call(&o, "history", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, history_columns, G_N_ELEMENTS(history_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
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

int
vt_cmd_watch(int argc, char **argv)
{
	g_auto(CommonOptions) o = {0};
	int interval = 2, count = 0;
	GOptionEntry entries[] = {
		{"interval", 'i', 0, G_OPTION_ARG_INT, &interval, "Seconds between updates (2)",
		 "S"},
		{"count", 'n', 0, G_OPTION_ARG_INT, &count, "Stop after N updates (0: never)", "N"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("- a refreshing table of every guest's memory and swap");
	gboolean tty = vt_use_color(stdout);
	int rc;

	add_common(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!parse(ctx, &o, &argc, &argv, 0, 0, &rc))
		return rc;
	if (interval < 1 || interval > 3600 || count < 0) {
		g_printerr("virt-tune: --interval must be 1..3600 and --count >= 0\n");
		return VT_EXIT_USAGE;
	}
	for (int i = 0; count == 0 || i < count; i++) {
		g_autoptr(JsonNode) result = NULL;
		g_autoptr(JsonObject) args = json_object_new();
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S");

		json_object_set_string_member(args, "kind", "swap");
		if ((rc = call(&o, "audit", args, 10, &result)) != VT_EXIT_OK)
			return rc;
		if (tty)
			fputs("\033[H\033[2J", stdout);
		if (o.fmt == VT_FORMAT_TABLE)
			printf("virt-tune watch — %s, every %d s (Ctrl-C to stop)\n\n", stamp,
			       interval);
		vt_render_rows(stdout, o.fmt, result, watch_columns, G_N_ELEMENTS(watch_columns),
			       tty);
		fflush(stdout);
		if (count == 0 || i + 1 < count)
			g_usleep((gulong)interval * G_USEC_PER_SEC);
	}
	return VT_EXIT_OK;
}

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

static const VtColumn rec_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},  {"severity", "SEVERITY", VT_COL_TEXT, NULL},
	{"target", "TARGET", VT_COL_TEXT, NULL},  {"id", "ID", VT_COL_TEXT, NULL},
	{"command", "CHANGE", VT_COL_TEXT, NULL},
};

/* Table: one line per recommendation, then its change in full (a clipped
 * command is useless to copy). */
static void
print_recommendations(JsonObject *r, gboolean color)
{
	JsonArray *recs = json_object_get_array_member(r, "recommendations");
	guint n = recs ? json_array_get_length(recs) : 0;

	if (n == 0) {
		printf("No recommendations.\n");
		return;
	}
	printf("%-16s %-8s %-6s %s\n", "DOMAIN", "SEVERITY", "TARGET", "ID");
	for (guint i = 0; i < n; i++) {
		JsonObject *o = json_array_get_object_element(recs, i);
		const char *sev = json_object_get_string_member_with_default(o, "severity", "?");
		const char *col = !color                    ? ""
				  : severity_rank(sev) == 2 ? "\033[31m"
				  : severity_rank(sev) == 1 ? "\033[33m"
							    : "\033[36m";
		g_auto(GStrv) lines = g_strsplit(
			json_object_get_string_member_with_default(o, "command", ""), "\n", 40);

		printf("%-16.16s %s%-8s%s %-6s %s\n",
		       json_object_get_string_member_with_default(o, "domain", "?"), col, sev,
		       color ? "\033[0m" : "",
		       json_object_get_string_member_with_default(o, "target", "?"),
		       json_object_get_string_member_with_default(o, "id", "?"));
		for (guint k = 0; lines[k] != NULL; k++)
			if (*lines[k] != '\0')
				printf("%17s%s\n", "", lines[k]);
	}
	printf("\nApply a guest change with `virt-tune apply DOMAIN ID` (try --dry-run first);\n"
	       "--format json adds each recommendation's rationale and evidence.\n");
}

int
vt_cmd_recommend(int argc, char **argv)
{
	g_auto(CommonOptions) o = {0};
	g_autofree char *fail_on = NULL;
	gboolean all = FALSE;
	GOptionEntry entries[] = {
		{"all", 'a', 0, G_OPTION_ARG_NONE, &all, "Every running domain (the default)",
		 NULL},
		{"fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on,
		 "Exit 1 when a recommendation of this severity or worse exists",
		 "warning|critical"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("[DOMAIN|--all] - what to change, and why");
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	JsonArray *recs;
	int rc, threshold = -1;

	add_common(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!parse(ctx, &o, &argc, &argv, 0, 1, &rc))
		return rc;
	if (all && argc > 1) {
		g_printerr("virt-tune: give a DOMAIN or --all, not both\n");
		return VT_EXIT_USAGE;
	}
	if (fail_on != NULL && ((threshold = severity_rank(fail_on)) < 1)) {
		g_printerr("virt-tune: --fail-on takes warning or critical\n");
		return VT_EXIT_USAGE;
	}
	args = args_domain(argc > 1 ? argv[1] : NULL);
	if ((rc = call(&o, "recommend", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return VT_EXIT_FAILED;
	}
	recs = json_object_get_array_member(json_node_get_object(result), "recommendations");
	if (o.fmt == VT_FORMAT_JSON)
		vt_render_json(stdout, result);
	else if (o.fmt == VT_FORMAT_CSV)
		vt_render_rows(
			stdout, o.fmt,
			json_object_get_member(json_node_get_object(result), "recommendations"),
			rec_columns, G_N_ELEMENTS(rec_columns), FALSE);
	else
		print_recommendations(json_node_get_object(result), vt_use_color(stdout));
	for (guint i = 0; threshold > 0 && recs && i < json_array_get_length(recs); i++) {
		JsonObject *r = json_array_get_object_element(recs, i);
		if (severity_rank(json_object_get_string_member_with_default(r, "severity", "")) >=
		    threshold)
			return VT_EXIT_FINDINGS;
	}
	return VT_EXIT_OK;
}

/* ------------------------------------------------------------ apply, rollback */

static void
print_change(JsonObject *r)
{
	const char *status = json_object_get_string_member_with_default(r, "status", "?");
	const char *reason = json_object_get_string_member_with_default(r, "reason", "");

	printf("%s %s: %s%s%s\n", json_object_get_string_member_with_default(r, "operation", "?"),
	       json_object_get_string_member_with_default(r, "domain", "?"), status,
	       reason && *reason ? " — " : "", reason ? reason : "");
	if (json_object_has_member(r, "command") && !json_object_get_null_member(r, "command"))
		printf("  command:   %s\n", json_object_get_string_member(r, "command"));
	printf("  before:    %s\n", json_object_get_string_member_with_default(r, "before", "-"));
	printf("  after:     %s\n", json_object_get_string_member_with_default(r, "after", "-"));
	if (json_object_has_member(r, "change_id") && !json_object_get_null_member(r, "change_id"))
		printf("  change id: %s\n", json_object_get_string_member(r, "change_id"));
	if (json_object_has_member(r, "recommendation_gone"))
		printf("  the next report %s the recommendation\n",
		       json_object_get_boolean_member(r, "recommendation_gone") ? "no longer has"
										: "still has");
}

static int
change_exit(JsonNode *result)
{
	const char *status;

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
	g_auto(CommonOptions) o = {0};
	gboolean dry_run = FALSE, persist = FALSE;
	GOptionEntry entries[] = {
		{"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
		 "Let the agent validate it and show before/after; change nothing", NULL},
		{"persist", 0, 0, G_OPTION_ARG_NONE, &persist,
		 "Also make it survive a reboot (when the guest's policy allows)", NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"DOMAIN RECOMMENDATION_ID - have the guest's agent make a recommended change");
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	add_common(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!parse(ctx, &o, &argc, &argv, 2, 2, &rc))
		return rc;
	args = args_domain(argv[1]);
	json_object_set_string_member(args, "recommendation", argv[2]);
	json_object_set_boolean_member(args, "dry_run", dry_run);
	json_object_set_boolean_member(args, "persist", persist);
	if ((rc = call(&o, "apply", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		print_change(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	return change_exit(result);
}

int
vt_cmd_rollback(int argc, char **argv)
{
	g_auto(CommonOptions) o = {0};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("DOMAIN CHANGE_ID - undo a change (see `virt-tune changes`)");
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	add_common(ctx, &o);
	if (!parse(ctx, &o, &argc, &argv, 2, 2, &rc))
		return rc;
	args = args_domain(argv[1]);
	json_object_set_string_member(args, "change_id", argv[2]);
	if ((rc = call(&o, "rollback", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		print_change(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	return change_exit(result);
}

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
	g_auto(CommonOptions) o = {0};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("DOMAIN - every apply and rollback asked of a domain");
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	add_common(ctx, &o);
	if (!parse(ctx, &o, &argc, &argv, 1, 1, &rc))
		return rc;
	args = args_domain(argv[1]);
	if ((rc = call(&o, "changes", args, 10, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, change_columns, G_N_ELEMENTS(change_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
}
