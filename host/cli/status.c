/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status, list, show, refresh and watch: what virt-tuned sees now. */
#include <stdio.h>

#include "cli.h"
#include "client.h"
#include "options.h"
#include "render.h"

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
	if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result) &&
	    json_object_has_member(json_node_get_object(result), "change_id"))
		vt_show_change_effect(json_node_get_object(result));
	else if (o.fmt == VT_FORMAT_CSV && JSON_NODE_HOLDS_OBJECT(result) &&
		 json_object_has_member(json_node_get_object(result), "change_id")) {
		g_autoptr(JsonNode) rows = vt_change_effect_rows(result);

		vt_render_rows(stdout, o.fmt, rows, NULL, 0, FALSE);
	} else if (o.fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		show_domain(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	return VT_EXIT_OK;
}

int
vt_cmd_show(int argc, char **argv)
{
	return show_like(
		argc, argv, "show",
		"DOMAIN|CHANGE_ID - what the host and the guest say, or what became of a change",
		10);
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
