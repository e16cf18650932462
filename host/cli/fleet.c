/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fleet's audits and recommendations from Prometheus: one PromQL query
 * per value an audit shows, the rows keyed by the scrape target (`instance`),
 * the domain and the disk or NIC, and named by the host the target's
 * virttune_host_info says.
 */
#include "fleet.h"

#include <math.h>
#include <string.h>

#include "cli.h"
#include "error.h"

typedef enum {
	FIELD_INT,
	FIELD_DOUBLE,
	FIELD_BOOL,
	FIELD_TEXT,      /* the value of .label */
	FIELD_LIST,      /* .label split at ',' */
	FIELD_LABEL_INT, /* the value of .label, a decimal number */
} FieldKind;

/* One member of a row: from its own query, or (.query NULL) from a label of
 * the series the row comes from. A .per_domain query's series carry no part
 * label: each gives its value to every row of its domain. */
typedef struct {
	const char *key;
	const char *query;
	const char *label;
	FieldKind kind;
	gboolean per_domain;
} Field;

typedef struct {
	const char *name;
	const char *base; /* one series per row */
	const char *part; /* the label naming a row within a domain, or NULL */
	const Field *fields;
	gsize n_fields;
	void (*finish)(JsonObject *row); /* members made of others, or NULL */
} Audit;

#define MEMORY(kind)          "virttune_guest_memory_bytes{kind=\"" kind "\"}"
#define CHANNELS(kind, state) "virttune_guest_nic_channels{kind=\"" kind "\",state=\"" state "\"}"

static const Field swap_fields[] = {
	{"agent", "virttune_guest_agent_info", "state", FIELD_TEXT},
	{"report_age_s", "virttune_guest_report_age_seconds", NULL, FIELD_INT},
	{"swap_total_bytes", MEMORY("SwapTotal"), NULL, FIELD_INT},
	{"swap_used_bytes", "virttune_guest_swap_used_bytes", NULL, FIELD_INT},
	{"swappiness", "virttune_guest_swappiness", NULL, FIELD_INT},
	{"swap_in_pages_per_s", "virttune_guest_swap_pages_per_second{direction=\"in\"}", NULL,
	 FIELD_DOUBLE},
	{"swap_out_pages_per_s", "virttune_guest_swap_pages_per_second{direction=\"out\"}", NULL,
	 FIELD_DOUBLE},
	{"mem_total_bytes", MEMORY("MemTotal"), NULL, FIELD_INT},
	{"mem_available_bytes", MEMORY("MemAvailable"), NULL, FIELD_INT},
	{"balloon_actual_bytes", "virttune_guest_balloon_bytes{kind=\"actual\"}", NULL, FIELD_INT},
	{"balloon_maximum_bytes", "virttune_guest_balloon_bytes{kind=\"maximum\"}", NULL,
	 FIELD_INT},
	{"balloon_source", "virttune_guest_balloon_bytes{kind=\"actual\"}", "source", FIELD_TEXT},
	{"balloon_stats_period_s", "virttune_guest_balloon_stats_period_seconds", NULL, FIELD_INT},
	{"rates_window", "virttune_guest_swap_pages_per_second{direction=\"in\"}", "window",
	 FIELD_TEXT},
};

static const Field sched_fields[] = {
	{"scheduler", NULL, "scheduler", FIELD_TEXT},
	{"nr_requests", "virttune_guest_block_nr_requests", NULL, FIELD_INT},
	{"rotational", "virttune_guest_block_rotational", NULL, FIELD_BOOL},
	{"nr_hw_queues", "virttune_guest_block_hw_queues", NULL, FIELD_INT},
	{"size_bytes", "virttune_guest_block_size_bytes", NULL, FIELD_INT},
	{"read_ahead_kb", "virttune_guest_block_read_ahead_kb", NULL, FIELD_INT},
	{"schedulers", "virttune_guest_block_info", "schedulers", FIELD_LIST},
	{"driver", "virttune_guest_block_info", "driver", FIELD_TEXT},
	{"serial", "virttune_guest_block_info", "serial", FIELD_TEXT},
	{"host_format", "virttune_guest_block_info", "host_format", FIELD_TEXT},
	{"matched_by", "virttune_guest_block_info", "matched_by", FIELD_TEXT},
	{"host_target", NULL, "host_target", FIELD_TEXT},
	{"host_bus", NULL, "host_bus", FIELD_TEXT},
	{"host_cache", NULL, "host_cache", FIELD_TEXT},
	{"host_io", NULL, "host_io", FIELD_TEXT},
};

static const Field nic_fields[] = {
	{"driver", NULL, "driver", FIELD_TEXT},
	{"mac", NULL, "mac", FIELD_TEXT},
	{"combined", CHANNELS("combined", "current"), NULL, FIELD_INT},
	{"max_combined", CHANNELS("combined", "max"), NULL, FIELD_INT},
	{"rx", CHANNELS("rx", "current"), NULL, FIELD_INT},
	{"tx", CHANNELS("tx", "current"), NULL, FIELD_INT},
	{"host_model", NULL, "host_model", FIELD_TEXT},
	{"host_queues", "virttune_guest_nic_host_queues", NULL, FIELD_INT},
	{"host_type", NULL, "host_type", FIELD_TEXT},
	{"offloads_off", NULL, "offloads_off", FIELD_LIST},
};

/* Per side: the requests of both ops, and their time per request weighted by
 * each op's requests (as the one-host audit weighs them). */
#define IOPS(side, op) "virttune_disk_iops{side=\"" side "\",op=\"" op "\"}"
#define MS(side, op)   "virttune_disk_latency_ms{side=\"" side "\",op=\"" op "\"}"
#define IOPS_SUM(side) "sum without (op) (virttune_disk_iops{side=\"" side "\"})"
#define WEIGHTED_MS(ms_side, iops_side)                                                            \
	"sum without (op, side) (virttune_disk_latency_ms{side=\"" ms_side                         \
	"\"} * ignoring (side) "                                                                   \
	"virttune_disk_iops{side=\"" iops_side "\"}) / sum without (op, side) "                    \
	"(virttune_disk_iops{side=\"" iops_side "\"} and ignoring (side) "                         \
	"virttune_disk_latency_ms{side=\"" ms_side "\"})"

static const Field io_fields[] = {
	{"host_target", "virttune_guest_block_scheduler_info", "host_target", FIELD_TEXT},
	{"guest_read_iops", IOPS("guest", "read"), NULL, FIELD_DOUBLE},
	{"guest_write_iops", IOPS("guest", "write"), NULL, FIELD_DOUBLE},
	{"guest_read_ms", MS("guest", "read"), NULL, FIELD_DOUBLE},
	{"guest_write_ms", MS("guest", "write"), NULL, FIELD_DOUBLE},
	{"host_read_iops", IOPS("host", "read"), NULL, FIELD_DOUBLE},
	{"host_write_iops", IOPS("host", "write"), NULL, FIELD_DOUBLE},
	{"host_read_ms", MS("host", "read"), NULL, FIELD_DOUBLE},
	{"host_write_ms", MS("host", "write"), NULL, FIELD_DOUBLE},
	{"added_read_ms", MS("added", "read"), NULL, FIELD_DOUBLE},
	{"added_write_ms", MS("added", "write"), NULL, FIELD_DOUBLE},
	{"guest_iops", IOPS_SUM("guest"), NULL, FIELD_DOUBLE},
	{"guest_ms", WEIGHTED_MS("guest", "guest"), NULL, FIELD_DOUBLE},
	{"host_iops", IOPS_SUM("host"), NULL, FIELD_DOUBLE},
	{"host_ms", WEIGHTED_MS("host", "host"), NULL, FIELD_DOUBLE},
	{"added_ms", WEIGHTED_MS("added", "guest"), NULL, FIELD_DOUBLE},
	{"scheduler", "virttune_guest_block_scheduler_info", "scheduler", FIELD_TEXT},
	{"nr_requests", "virttune_guest_block_nr_requests", NULL, FIELD_INT},
	{"host_cache", "virttune_guest_block_scheduler_info", "host_cache", FIELD_TEXT},
	{"host_io", "virttune_guest_block_scheduler_info", "host_io", FIELD_TEXT},
	{"iothread", "virttune_guest_block_info", "host_iothread", FIELD_LABEL_INT},
	{"host_format", "virttune_guest_block_info", "host_format", FIELD_TEXT},
	{"chain_depth", "virttune_guest_block_info", "host_chain_depth", FIELD_LABEL_INT},
	{"rates_window", "virttune_guest_swap_pages_per_second{direction=\"in\"}", "window",
	 FIELD_TEXT, TRUE},
};

/* "cache/io" as the one-host audit shows it ("-" for the one missing). */
static void
io_finish(JsonObject *row)
{
	const char *cache = json_object_get_string_member_with_default(row, "host_cache", NULL);
	const char *io = json_object_get_string_member_with_default(row, "host_io", NULL);

	if (cache != NULL || io != NULL) {
		g_autofree char *both =
			g_strdup_printf("%s/%s", cache ? cache : "-", io ? io : "-");
		json_object_set_string_member(row, "host_cache_io", both);
	}
}

#define DROPS(side, direction)                                                                     \
	"virttune_nic_dropped_packets{side=\"" side "\",direction=\"" direction "\"}"

static const Field net_fields[] = {
	{"host_target", NULL, "host_target", FIELD_TEXT},
	{"combined", CHANNELS("combined", "current"), NULL, FIELD_INT},
	{"max_combined", CHANNELS("combined", "max"), NULL, FIELD_INT},
	{"host_queues", "virttune_guest_nic_host_queues", NULL, FIELD_INT},
	{"guest_rx_dropped", DROPS("guest", "rx"), NULL, FIELD_INT},
	{"guest_tx_dropped", DROPS("guest", "tx"), NULL, FIELD_INT},
	{"host_rx_drop", DROPS("host", "rx"), NULL, FIELD_INT},
	{"host_tx_drop", DROPS("host", "tx"), NULL, FIELD_INT},
	{"softnet_dropped", "virttune_guest_softnet_dropped_packets", NULL, FIELD_INT, TRUE},
	{"mtu", "virttune_nic_mtu{side=\"guest\"}", NULL, FIELD_INT},
	{"host_mtu", "virttune_nic_mtu{side=\"host\"}", NULL, FIELD_INT},
	{"rates_window", "virttune_guest_swap_pages_per_second{direction=\"in\"}", "window",
	 FIELD_TEXT, TRUE},
};

#define PSI(resource, kind)                                                                        \
	"virttune_guest_pressure_avg60{resource=\"" resource "\",kind=\"" kind "\"}"

static const Field memory_fields[] = {
	{"agent", "virttune_guest_agent_info", "state", FIELD_TEXT},
	{"report_age_s", "virttune_guest_report_age_seconds", NULL, FIELD_INT},
	{"mem_total_bytes", MEMORY("MemTotal"), NULL, FIELD_INT},
	{"mem_available_bytes", MEMORY("MemAvailable"), NULL, FIELD_INT},
	{"mem_available_pct",
	 "100 * " MEMORY("MemAvailable") " / ignoring (kind) " MEMORY("MemTotal"), NULL,
	 FIELD_DOUBLE},
	{"swap_in_pages_per_s", "virttune_guest_swap_pages_per_second{direction=\"in\"}", NULL,
	 FIELD_DOUBLE},
	{"swap_out_pages_per_s", "virttune_guest_swap_pages_per_second{direction=\"out\"}", NULL,
	 FIELD_DOUBLE},
	{"oom_kills", "virttune_guest_oom_kills", NULL, FIELD_INT},
	{"psi_memory_some_avg60", PSI("memory", "some"), NULL, FIELD_DOUBLE},
	{"psi_memory_full_avg60", PSI("memory", "full"), NULL, FIELD_DOUBLE},
	{"psi_cpu_some_avg60", PSI("cpu", "some"), NULL, FIELD_DOUBLE},
	{"psi_io_some_avg60", PSI("io", "some"), NULL, FIELD_DOUBLE},
	{"balloon_actual_bytes", "virttune_guest_balloon_bytes{kind=\"actual\"}", NULL, FIELD_INT},
	{"balloon_maximum_bytes", "virttune_guest_balloon_bytes{kind=\"maximum\"}", NULL,
	 FIELD_INT},
	{"balloon_source", "virttune_guest_balloon_bytes{kind=\"actual\"}", "source", FIELD_TEXT},
	{"rates_window", "virttune_guest_swap_pages_per_second{direction=\"in\"}", "window",
	 FIELD_TEXT},
};

static const Audit audits[] = {
	{"swap", "virttune_agent_connected", NULL, swap_fields, G_N_ELEMENTS(swap_fields), NULL},
	{"schedulers", "virttune_guest_block_scheduler_info", "device", sched_fields,
	 G_N_ELEMENTS(sched_fields), NULL},
	{"nics", "virttune_guest_nic_info", "iface", nic_fields, G_N_ELEMENTS(nic_fields), NULL},
	{"io", "virttune_guest_block_info", "device", io_fields, G_N_ELEMENTS(io_fields),
	 io_finish},
	{"net", "virttune_guest_nic_info", "iface", net_fields, G_N_ELEMENTS(net_fields), NULL},
	{"memory", "virttune_agent_connected", NULL, memory_fields, G_N_ELEMENTS(memory_fields),
	 NULL},
};

/* One row on its way out: what it is sorted by, and its members. */
typedef struct {
	const char *host, *domain, *part; /* borrowed from .o */
	JsonObject *o;
} Row;

static void
row_free(gpointer p)
{
	Row *r = p;

	json_object_unref(r->o);
	g_free(r);
}

static int
row_compare(gconstpointer a, gconstpointer b)
{
	const Row *x = *(Row *const *)a, *y = *(Row *const *)b;
	int c = g_strcmp0(x->host, y->host);

	if (c == 0)
		c = g_strcmp0(x->domain, y->domain);
	return c != 0 ? c : g_strcmp0(x->part, y->part);
}

/* Scrape target -> host, from virttune_host_info. */
static GHashTable *
host_names(VtPromClient *client, GError **error)
{
	g_autoptr(GPtrArray) info = vt_prom_query(client, "virttune_host_info", error);
	GHashTable *hosts;

	if (info == NULL)
		return NULL;
	hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < info->len; i++) {
		const char *instance = vt_prom_label(info->pdata[i], "instance");
		const char *host = vt_prom_label(info->pdata[i], "host");
		if (host != NULL)
			g_hash_table_replace(hosts, g_strdup(instance ? instance : ""),
					     g_strdup(host));
	}
	return hosts;
}

/* instance, domain and part of a series: the key of its row. */
static char *
row_key(const VtPromSample *s, const char *part)
{
	const char *instance = vt_prom_label(s, "instance");
	const char *p = part ? vt_prom_label(s, part) : NULL;

	return g_strdup_printf("%s\x1f%s\x1f%s", instance ? instance : "",
			       vt_prom_label(s, "domain"), p ? p : "");
}

static void
set_value(JsonObject *o, const Field *f, const VtPromSample *s)
{
	const char *text = f->label ? vt_prom_label(s, f->label) : NULL;

	switch (f->kind) {
	case FIELD_INT:
		if (isfinite(s->value) && fabs(s->value) < 4.6e18)
			json_object_set_int_member(o, f->key, (gint64)llround(s->value));
		break;
	case FIELD_DOUBLE:
		if (isfinite(s->value))
			json_object_set_double_member(o, f->key, s->value);
		break;
	case FIELD_BOOL:
		if (isfinite(s->value))
			json_object_set_boolean_member(o, f->key, s->value != 0);
		break;
	case FIELD_TEXT:
		if (text != NULL)
			json_object_set_string_member(o, f->key, text);
		break;
	case FIELD_LABEL_INT: {
		gint64 n;
		if (text != NULL && g_ascii_string_to_signed(text, 10, 0, G_MAXINT64, &n, NULL))
			json_object_set_int_member(o, f->key, n);
		break;
	}
	case FIELD_LIST: {
		g_auto(GStrv) items = g_strsplit(text ? text : "", ",", -1);
		JsonArray *arr = json_array_new();
		for (guint i = 0; items[i] != NULL; i++)
			if (*items[i] != '\0')
				json_array_add_string_element(arr, items[i]);
		json_object_set_array_member(o, f->key, arr);
		break;
	}
	}
}

/* The rows of one domain of one scrape target, for its .per_domain members. */
static void
add_to_domain(GHashTable *by_domain, const VtPromSample *s, JsonObject *o)
{
	g_autofree char *key = row_key(s, NULL);
	GPtrArray *same = g_hash_table_lookup(by_domain, key);

	if (same == NULL) {
		same = g_ptr_array_new();
		g_hash_table_insert(by_domain, g_steal_pointer(&key), same);
	}
	g_ptr_array_add(same, o);
}

/* A row per series of the audit's base query: host, domain, part, then the
 * members the base series' labels give. */
static GPtrArray *
base_rows(VtPromClient *client, const Audit *a, GHashTable *hosts, const char *domain,
	  GHashTable *by_key, GHashTable *by_domain, GError **error)
{
	g_autoptr(GPtrArray) base = vt_prom_query(client, a->base, error);
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(row_free);

	if (base == NULL)
		return NULL;
	for (guint i = 0; i < base->len; i++) {
		const VtPromSample *s = base->pdata[i];
		const char *d = vt_prom_label(s, "domain");
		const char *instance = vt_prom_label(s, "instance");
		const char *host = g_hash_table_lookup(hosts, instance ? instance : "");
		char *key = row_key(s, a->part);
		Row *r;

		if (d == NULL || (domain != NULL && g_strcmp0(d, domain) != 0) ||
		    g_hash_table_contains(by_key, key)) {
			g_free(key);
			continue;
		}
		r = g_new0(Row, 1);
		r->o = json_object_new();
		json_object_set_string_member(r->o, "host", host ? host : instance ? instance : "");
		json_object_set_string_member(r->o, "domain", d);
		if (a->part != NULL)
			json_object_set_string_member(
				r->o, a->part,
				vt_prom_label(s, a->part) ? vt_prom_label(s, a->part) : "");
		for (gsize f = 0; f < a->n_fields; f++)
			if (a->fields[f].query == NULL)
				set_value(r->o, &a->fields[f], s);
		r->host = json_object_get_string_member(r->o, "host");
		r->domain = json_object_get_string_member(r->o, "domain");
		r->part = a->part ? json_object_get_string_member(r->o, a->part) : NULL;
		g_hash_table_insert(by_key, key, r->o);
		add_to_domain(by_domain, s, r->o);
		g_ptr_array_add(rows, r);
	}
	return g_steal_pointer(&rows);
}

/* The rows of one audit, sorted by host, domain and part. */
static JsonNode *
audit_rows(VtPromClient *client, const Audit *a, GHashTable *hosts, const char *domain,
	   GError **error)
{
	g_autoptr(GHashTable) by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) by_domain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
								(GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GPtrArray) rows = base_rows(client, a, hosts, domain, by_key, by_domain, error);
	g_autoptr(JsonArray) out = NULL;

	if (rows == NULL)
		return NULL;
	for (gsize f = 0; f < a->n_fields; f++) {
		const Field *field = &a->fields[f];
		g_autoptr(GPtrArray) series = NULL;
		if (field->query == NULL)
			continue;
		if ((series = vt_prom_query(client, field->query, error)) == NULL)
			return NULL;
		for (guint i = 0; i < series->len; i++) {
			const VtPromSample *sample = series->pdata[i];
			g_autofree char *key = NULL;
			if (vt_prom_label(sample, "domain") == NULL)
				continue;
			if (field->per_domain) {
				GPtrArray *same;
				key = row_key(sample, NULL);
				same = g_hash_table_lookup(by_domain, key);
				for (guint r = 0; same != NULL && r < same->len; r++)
					set_value(same->pdata[r], field, sample);
				continue;
			}
			key = row_key(sample, a->part);
			if (g_hash_table_contains(by_key, key))
				set_value(g_hash_table_lookup(by_key, key), field, sample);
		}
	}
	for (guint r = 0; a->finish != NULL && r < rows->len; r++)
		a->finish(((Row *)rows->pdata[r])->o);
	g_ptr_array_sort(rows, row_compare);
	out = json_array_sized_new(rows->len);
	for (guint i = 0; i < rows->len; i++)
		json_array_add_object_element(out, json_object_ref(((Row *)rows->pdata[i])->o));
	return json_node_init_array(json_node_alloc(), out);
}

gboolean
vt_fleet_has_audit(const char *kind)
{
	for (gsize i = 0; i < G_N_ELEMENTS(audits); i++)
		if (g_strcmp0(audits[i].name, kind) == 0)
			return TRUE;
	return g_strcmp0(kind, "all") == 0;
}

JsonNode *
vt_fleet_audit(VtPromClient *client, const char *kind, const char *domain, GError **error)
{
	g_autoptr(GHashTable) hosts = host_names(client, error);
	g_autoptr(JsonObject) all = NULL;

	if (hosts == NULL)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(audits); i++)
		if (g_strcmp0(audits[i].name, kind) == 0)
			return audit_rows(client, &audits[i], hosts, domain, error);
	if (g_strcmp0(kind, "all") != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "no audit '%s'", kind);
		return NULL;
	}
	all = json_object_new();
	for (gsize i = 0; i < G_N_ELEMENTS(audits); i++) {
		JsonNode *rows = audit_rows(client, &audits[i], hosts, domain, error);
		if (rows == NULL)
			return NULL;
		json_object_set_member(all, audits[i].name, rows);
	}
	return json_node_init_object(json_node_alloc(), all);
}

JsonNode *
vt_fleet_recommend(VtPromClient *client, const char *domain, GError **error)
{
	static const Field fields[] = {
		{"severity", NULL, "severity", FIELD_TEXT},
		{"target", NULL, "target", FIELD_TEXT},
		{"rule", NULL, "rule", FIELD_TEXT},
		{"scope", NULL, "scope", FIELD_TEXT},
	};
	/* the host's own recommendations join as domain "(host)", target and
	 * scope "host", as the daemon's recommend shows them */
	static const Audit recs = {
		"recommend",
		"virttune_recommendation_info or "
		"label_replace(label_replace(label_replace(virttune_host_recommendation_info, "
		"\"domain\", \"(host)\", \"rule\", \".*\"), \"target\", \"host\", \"rule\", "
		"\".*\"), \"scope\", \"host\", \"rule\", \".*\")",
		"id", fields, G_N_ELEMENTS(fields)};
	g_autoptr(GHashTable) hosts = host_names(client, error);
	g_autoptr(JsonObject) result = json_object_new();
	JsonNode *rows;

	if (hosts == NULL || (rows = audit_rows(client, &recs, hosts, domain, error)) == NULL)
		return NULL;
	json_object_set_member(result, "recommendations", rows);
	json_object_set_array_member(result, "skipped", json_array_new());
	return json_node_init_object(json_node_alloc(), result);
}

int
vt_fleet_request(const VtCliOptions *o, const char *command, const char *kind, const char *domain,
		 JsonNode **result)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtPromClient) client = NULL;
	int rc;

	*result = NULL;
	if ((client = vt_cli_prometheus(o, &rc)) == NULL)
		return rc;
	if (g_strcmp0(command, "audit") == 0)
		*result = vt_fleet_audit(client, kind, domain, &error);
	else
		*result = vt_fleet_recommend(client, domain, &error);
	if (*result != NULL)
		return VT_EXIT_OK;
	vt_render_error("%s", error->message);
	return g_error_matches(error, VT_ERROR, VT_ERROR_UNAVAILABLE) ? VT_EXIT_UNREACHABLE
								      : VT_EXIT_FAILED;
}

VtColumn *
vt_fleet_columns(const VtColumn *columns, gsize n_columns, gsize *n_out)
{
	VtColumn *all = g_new(VtColumn, n_columns + 1);

	all[0] = (VtColumn){"host", "HOST", VT_COL_TEXT, NULL};
	memcpy(all + 1, columns, n_columns * sizeof(*columns));
	*n_out = n_columns + 1;
	return all;
}
