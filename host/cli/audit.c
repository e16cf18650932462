/* SPDX-License-Identifier: GPL-2.0-or-later */
/* audit: one area (swap, schedulers, NICs, both sides of I/O, network and
 * memory, the host itself) across every guest, or all. */
#include <stdio.h>

#include "cli.h"
#include "client.h"
#include "fleet.h"
#include "options.h"
#include "render.h"

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

static const VtColumn io_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"device", "DISK", VT_COL_TEXT, NULL},
	{"guest_iops", "G IOPS", VT_COL_RATE, NULL},
	{"guest_ms", "G MS", VT_COL_RATE, NULL},
	{"host_iops", "H IOPS", VT_COL_RATE, NULL},
	{"host_ms", "H MS", VT_COL_RATE, NULL},
	{"added_ms", "+MS", VT_COL_RATE, NULL},
	{"scheduler", "SCHED", VT_COL_TEXT, NULL},
	{"host_cache_io", "CACHE/IO", VT_COL_TEXT, NULL},
	{"iothread", "IOTHR", VT_COL_INT, NULL},
	{"host_format", "FORMAT", VT_COL_TEXT, NULL},
	{"chain_depth", "CHAIN", VT_COL_INT, NULL},
};

static const VtColumn net_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"iface", "NIC", VT_COL_TEXT, NULL},
	{"host_target", "TAP", VT_COL_TEXT, NULL},
	{"combined", "CHANNELS", VT_COL_RATIO, "max_combined"},
	{"host_queues", "HOST Q", VT_COL_INT, NULL},
	{"guest_rx_dropped", "G RX DROP", VT_COL_INT, NULL},
	{"softnet_dropped", "SOFTNET", VT_COL_INT, NULL},
	{"host_rx_drop", "H RX DROP", VT_COL_INT, NULL},
	{"host_tx_drop", "H TX DROP", VT_COL_INT, NULL},
	{"mtu", "MTU", VT_COL_INT, NULL},
	{"host_mtu", "HOST MTU", VT_COL_INT, NULL},
};

static const VtColumn memory_columns[] = {
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"mem_available_bytes", "AVAIL", VT_COL_BYTES, NULL},
	{"mem_total_bytes", "TOTAL", VT_COL_BYTES, NULL},
	{"swap_in_pages_per_s", "IN/s", VT_COL_RATE, NULL},
	{"swap_out_pages_per_s", "OUT/s", VT_COL_RATE, NULL},
	{"oom_kills", "OOM", VT_COL_INT, NULL},
	{"psi_memory_some_avg60", "PSI SOME", VT_COL_RATE, NULL},
	{"psi_memory_full_avg60", "PSI FULL", VT_COL_RATE, NULL},
	{"balloon_actual_bytes", "BALLOON", VT_COL_BYTES, NULL},
	{"balloon_maximum_bytes", "MAX", VT_COL_BYTES, NULL},
};

static const VtColumn host_columns[] = {
	{"setting", "SETTING", VT_COL_TEXT, NULL},
	{"value", "VALUE", VT_COL_TEXT, NULL},
	{"recommended", "RECOMMENDED", VT_COL_TEXT, NULL},
	{"severity", "SEVERITY", VT_COL_TEXT, NULL},
	{"detail", "DETAIL", VT_COL_TEXT, NULL},
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
	[VT_AUDIT_IO] = {"io", "I/O, guest and host", io_columns, G_N_ELEMENTS(io_columns), "blk."},
	[VT_AUDIT_NET] = {"net", "Network, guest and host", net_columns, G_N_ELEMENTS(net_columns),
			  "net."},
	[VT_AUDIT_MEMORY] = {"memory", "Memory", memory_columns, G_N_ELEMENTS(memory_columns),
			     "mem."},
	[VT_AUDIT_HOST] = {"host", "The host", host_columns, G_N_ELEMENTS(host_columns), "host."},
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

/* The rows of audit @k, with a HOST column first for --prometheus. */
static void
show_rows(const VtCliOptions *o, int k, const char *title, gboolean first, JsonNode *rows)
{
	gsize n = kinds[k].n_columns;
	g_autofree VtColumn *with_host =
		o->prometheus ? vt_fleet_columns(kinds[k].columns, n, &n) : NULL;
	const VtColumn *columns = with_host ? with_host : kinds[k].columns;

	if (title != NULL)
		vt_render_section(stdout, o->fmt, title, first, rows, columns, n,
				  vt_use_color(stdout));
	else
		vt_render_rows(stdout, o->fmt, rows, columns, n, vt_use_color(stdout));
}

/* FALSE when "all" did not come back as an object: nothing to count then. */
static gboolean
show_audit(const VtCliOptions *o, int kind, JsonNode *result)
{
	JsonObject *all;

	if (kind != VT_AUDIT_ALL || o->fmt == VT_FORMAT_JSON) {
		show_rows(o, kind, NULL, FALSE, result);
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return FALSE;
	}
	all = json_node_get_object(result);
	for (int k = 0; k < VT_AUDIT_ALL; k++) /* --prometheus: the areas the metrics carry */
		if (json_object_has_member(all, kinds[k].name))
			show_rows(o, k, kinds[k].title, k == 0,
				  json_object_get_member(all, kinds[k].name));
	return TRUE;
}

/* --fail-on: the recommendations of the audit's area. */
static int
audit_findings(const VtCliOptions *o, int kind, const char *domain, int threshold)
{
	g_autoptr(JsonNode) result = NULL;
	/* the host's own recommendations come only with every domain's */
	g_autoptr(JsonObject) args = vt_client_args(kind == VT_AUDIT_HOST ? NULL : domain);
	int rc;

	rc = o->prometheus ? vt_fleet_request(o, "recommend", NULL, domain, &result)
			   : vt_client_request(o->socket, "recommend", args, 10, &result);
	if (rc != VT_EXIT_OK)
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

	o.fleet = TRUE;
	if (!vt_cli_parse(&o, parameters, entries, 1, 1, &argc, &argv, &rc))
		return rc;
	if ((kind = find_kind(argv[1])) < 0) {
		g_autofree char *prose = kind_names(TRUE);
		vt_render_error("audit %s — not '%s'", prose, argv[1]);
		return VT_EXIT_USAGE;
	}
	if (!vt_fail_on_parse(fail_on, &threshold))
		return VT_EXIT_USAGE;
	if (o.prometheus != NULL && !vt_fleet_has_audit(kinds[kind].name)) {
		vt_render_error("audit %s: not from Prometheus (--prometheus audits %s)",
				kinds[kind].name, VT_FLEET_AUDITS);
		return VT_EXIT_USAGE;
	}
	args = vt_client_args(domain);
	json_object_set_string_member(args, "kind", kinds[kind].name);
	rc = o.prometheus ? vt_fleet_request(&o, "audit", kinds[kind].name, domain, &result)
			  : vt_client_request(o.socket, "audit", args, 10, &result);
	if (rc != VT_EXIT_OK)
		return rc;
	if (!show_audit(&o, kind, result) || threshold < 1)
		return VT_EXIT_OK;
	return audit_findings(&o, kind, domain, threshold);
}
