/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "rules-private.h"
#include "text.h"

/* ------------------------------------------------------------ registry */

typedef struct {
	VtRuleInfo info;
	VtRuleFunc run;
} VtRuleEntry;

/* Catalogue order: it is also the tie-break of the output order. */
static const VtRuleEntry rule_table[] = {
	{{"nic.queues", "virtio NIC uses fewer combined channels than min(XML queues, vCPUs)",
	  VT_RULE_NEEDS_XML},
	 vt_rule_nic_queues},
	{{"nic.mq-missing", "multi-vCPU guest with a single-queue virtio NIC", VT_RULE_NEEDS_XML},
	 vt_rule_nic_mq_missing},
	{{"nic.model", "emulated NIC model (e1000, rtl8139) instead of virtio", VT_RULE_NEEDS_XML},
	 vt_rule_nic_model},
	{{"nic.offload", "TSO/GSO/GRO off on a virtio NIC that offers them", 0},
	 vt_rule_nic_offload},
	{{"net.drops",
	  "packets dropped: by the host's tap (guest does not drain) or by the guest's stack",
	  VT_RULE_NEEDS_XML | VT_RULE_NEEDS_STATS},
	 vt_rule_net_drops},
	{{"net.mtu", "guest MTU differs from the domain XML's <mtu>", VT_RULE_NEEDS_XML},
	 vt_rule_net_mtu},
	{{"blk.scheduler", "I/O scheduler other than none/mq-deadline on a virtio or NVMe disk", 0},
	 vt_rule_blk_scheduler},
	{{"blk.bus", "disk on an emulated bus (ide, sata, usb)", VT_RULE_NEEDS_XML},
	 vt_rule_blk_bus},
	{{"blk.cache", "data disk with cache=writeback or cache=unsafe", VT_RULE_NEEDS_XML},
	 vt_rule_blk_cache},
	{{"blk.latency", "disk latency high: on the host's storage path or queued in the guest",
	  VT_RULE_NEEDS_XML | VT_RULE_NEEDS_STATS},
	 vt_rule_blk_latency},
	{{"blk.iothread", "busy virtio disk without an iothread", VT_RULE_NEEDS_XML},
	 vt_rule_blk_iothread},
	{{"blk.chain", "qcow2 backing chain deeper than the threshold", VT_RULE_NEEDS_XML},
	 vt_rule_blk_chain},
	{{"blk.format", "busy disk on a qcow2 image rather than raw", VT_RULE_NEEDS_XML},
	 vt_rule_blk_format},
	{{"mem.oom", "the guest's OOM killer killed processes", 0}, vt_rule_mem_oom},
	{{"mem.pressure", "guest memory pressure (PSI) above the thresholds", 0},
	 vt_rule_mem_pressure},
	{{"mem.swapping", "guest swaps faster than the threshold", 0}, vt_rule_mem_swapping},
	{{"mem.swappiness", "swap present and vm.swappiness above the role's target", 0},
	 vt_rule_mem_swappiness},
	{{"mem.balloon-stats", "virtio balloon without a stats period", VT_RULE_NEEDS_XML},
	 vt_rule_mem_balloon_stats},
	{{"mem.hugepages", "large guest without hugepage backing", VT_RULE_NEEDS_XML},
	 vt_rule_mem_hugepages},
	{{"cpu.steal", "guest steal time high while host vCPU threads wait to run",
	  VT_RULE_NEEDS_STATS},
	 vt_rule_cpu_steal},
	{{"cpu.mode", "CPU mode other than host-passthrough/host-model", VT_RULE_NEEDS_XML},
	 vt_rule_cpu_mode},
	{{"cpu.pressure", "guest CPU pressure (PSI) above the threshold", 0}, vt_rule_cpu_pressure},
	{{"io.pressure", "guest I/O pressure (PSI) above the thresholds", 0}, vt_rule_io_pressure},
	{{"cpu.numa", "vCPUs or memory spread over host NUMA nodes",
	  VT_RULE_NEEDS_XML | VT_RULE_NEEDS_CAPS},
	 vt_rule_cpu_numa},
	{{"host.cpu-overcommit",
	  "unpinned vCPUs beyond the host's share, or pinned sets overlapping", VT_RULE_HOST},
	 vt_rule_host_cpu_overcommit},
	{{"host.mem-overcommit", "guest memory beyond host RAM minus the host's reserve",
	  VT_RULE_HOST},
	 vt_rule_host_mem_overcommit},
	{{"host.scheduler", "host I/O scheduler under guest images not suited to the device",
	  VT_RULE_HOST},
	 vt_rule_host_scheduler},
	{{"host.sysctl", "host swappiness, dirty ratios, THP or KSM off tuned's virtual-host",
	  VT_RULE_HOST},
	 vt_rule_host_sysctl},
};

G_STATIC_ASSERT(G_N_ELEMENTS(rule_table) <= VT_RULES_MAX);

guint
vt_rules_count(void)
{
	return G_N_ELEMENTS(rule_table);
}

const VtRuleInfo *
vt_rules_info(guint index)
{
	return index < G_N_ELEMENTS(rule_table) ? &rule_table[index].info : NULL;
}

int
vt_rules_index(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(rule_table); i++)
		if (g_strcmp0(rule_table[i].info.name, name) == 0)
			return (int)i;
	return -1;
}

const char *
vt_severity_name(VtSeverity severity)
{
	switch (severity) {
	case VT_SEVERITY_INFO:
		return "info";
	case VT_SEVERITY_WARNING:
		return "warning";
	case VT_SEVERITY_CRITICAL:
		return "critical";
	}
	return "info";
}

const char *
vt_target_name(VtTarget target)
{
	return target == VT_TARGET_GUEST ? "guest" : "host";
}

/* ------------------------------------------------------------ actions */

/* protobuf-c frees with the system allocator: build with malloc/strdup. */
static VtAction *
action_new(void)
{
	VtAction *a = malloc(sizeof(*a));

	g_assert(a != NULL);
	virttune__v1__action__init(a);
	return a;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	g_assert(d != NULL);
	return d;
}

VtAction *
vt_action_set_channels(const char *iface, guint32 combined)
{
	VtAction *a = action_new();
	VtSetChannels *m = malloc(sizeof(*m));

	g_assert(m != NULL);
	virttune__v1__set_channels__init(m);
	m->iface = xstrdup(iface);
	m->has_combined = TRUE;
	m->combined = combined;
	a->kind_case = VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS;
	a->set_channels = m;
	return a;
}

VtAction *
vt_action_set_feature(const char *iface, const char *feature, gboolean on)
{
	VtAction *a = action_new();
	VtSetFeature *m = malloc(sizeof(*m));

	g_assert(m != NULL);
	virttune__v1__set_feature__init(m);
	m->iface = xstrdup(iface);
	m->feature = xstrdup(feature);
	m->has_on = TRUE;
	m->on = on;
	a->kind_case = VIRTTUNE__V1__ACTION__KIND_SET_FEATURE;
	a->set_feature = m;
	return a;
}

VtAction *
vt_action_set_scheduler(const char *device, const char *name)
{
	VtAction *a = action_new();
	VtSetScheduler *m = malloc(sizeof(*m));

	g_assert(m != NULL);
	virttune__v1__set_scheduler__init(m);
	m->device = xstrdup(device);
	m->name = xstrdup(name);
	a->kind_case = VIRTTUNE__V1__ACTION__KIND_SET_SCHEDULER;
	a->set_scheduler = m;
	return a;
}

VtAction *
vt_action_set_sysctl(const char *key, const char *value)
{
	VtAction *a = action_new();
	VtSetSysctl *m = malloc(sizeof(*m));

	g_assert(m != NULL);
	virttune__v1__set_sysctl__init(m);
	m->key = xstrdup(key);
	m->value = xstrdup(value);
	a->kind_case = VIRTTUNE__V1__ACTION__KIND_SET_SYSCTL;
	a->set_sysctl = m;
	return a;
}

VtAction *
vt_action_set_nr_requests(const char *device, guint32 nr_requests)
{
	VtAction *a = action_new();
	VtSetQueueParam *m = malloc(sizeof(*m));

	g_assert(m != NULL);
	virttune__v1__set_queue_param__init(m);
	m->device = xstrdup(device);
	m->has_nr_requests = TRUE;
	m->nr_requests = nr_requests;
	a->kind_case = VIRTTUNE__V1__ACTION__KIND_SET_QUEUE_PARAM;
	a->set_queue_param = m;
	return a;
}

/* ------------------------------------------------------------ lookups */

guint
vt_guest_vcpus(const VtRuleInput *in, const char **source)
{
	if (in->report->cpu != NULL && in->report->cpu->has_online && in->report->cpu->online > 0) {
		if (source != NULL)
			*source = "guest";
		return in->report->cpu->online;
	}
	if (in->facts != NULL && in->facts->vcpus_current > 0) {
		if (source != NULL)
			*source = "domain-xml";
		return in->facts->vcpus_current;
	}
	if (source != NULL)
		*source = "unknown";
	return 0;
}

const char *
vt_domain_name(const VtRuleInput *in)
{
	if (in->facts != NULL && in->facts->name != NULL)
		return in->facts->name;
	if (in->stats != NULL && in->stats->domain != NULL)
		return in->stats->domain;
	return "DOMAIN";
}

char *
vt_domain_word(const VtRuleInput *in)
{
	return vt_shell_quote(vt_domain_name(in));
}

char *
vt_rec_device_word(VtRecommendation *rec, const char *name, gboolean is_disk)
{
	g_autofree char *shown = NULL;
	g_autofree char *quoted = NULL;

	if (is_disk ? vt_disk_name_valid(name) : vt_ifname_valid(name))
		return vt_shell_quote(name);
	/* escaped first: the command is printed a line at a time */
	shown = vt_text_escape(name, FALSE);
	quoted = vt_shell_quote(shown);
	vt_rec_command(rec, "(not shown: the %s name %s is not a valid %s name)",
		       is_disk ? "block device" : "interface", quoted,
		       is_disk ? "block device" : "interface");
	return NULL;
}

gboolean
vt_strv_has(char **strv, const char *s)
{
	return strv != NULL && s != NULL && g_strv_contains((const char *const *)strv, s);
}

char *
vt_format_bytes(guint64 bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	guint u = 0;

	while (v >= 1024.0 && u + 1 < G_N_ELEMENTS(units)) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
	return g_strdup_printf("%.1f %s", v, units[u]);
}

/* ------------------------------------------------------------ running */

static int
recommendation_compare(gconstpointer pa, gconstpointer pb)
{
	const VtRecommendation *a = *(VtRecommendation *const *)pa;
	const VtRecommendation *b = *(VtRecommendation *const *)pb;
	int ia = vt_rules_index(a->rule), ib = vt_rules_index(b->rule);

	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	if (ia != ib)
		return ia < ib ? -1 : 1;
	return strcmp(a->subject, b->subject);
}

VtAnalysis *
vt_rules_run(const VtRuleInput *input, const VtRulesConfig *config)
{
	g_autoptr(VtRulesConfig) defaults = NULL;
	VtAnalysis *out = vt_analysis_new();
	VtRuleInput in = *input;
	g_auto(VtRates) rates = {0};

	if (config == NULL)
		config = defaults = vt_rules_config_new();
	if (in.rates == NULL) {
		vt_rates_compute(&rates, in.previous, in.report, NULL, in.stats, 0, in.facts);
		in.rates = &rates;
	}
	for (guint i = 0; i < G_N_ELEMENTS(rule_table); i++) {
		const VtRuleEntry *e = &rule_table[i];
		VtRuleCtx ctx = {.in = &in, .cfg = config, .rule = e->info.name, .out = out};

		if (e->info.needs & VT_RULE_HOST)
			continue;
		if (!config->enabled[i]) {
			vt_rule_skip(&ctx, "disabled in the configuration (%s.enable=false)",
				     e->info.name);
			continue;
		}
		if (in.report == NULL) {
			vt_rule_skip(&ctx, "no guest report");
			continue;
		}
		if ((e->info.needs & VT_RULE_NEEDS_XML) && in.facts == NULL) {
			vt_rule_skip(&ctx, "needs the domain XML");
			continue;
		}
		if ((e->info.needs & VT_RULE_NEEDS_STATS) && in.stats == NULL) {
			vt_rule_skip(&ctx, "needs the domain's domstats");
			continue;
		}
		if ((e->info.needs & VT_RULE_NEEDS_CAPS) && in.caps == NULL) {
			vt_rule_skip(&ctx, "needs the host's capabilities (NUMA topology)");
			continue;
		}
		e->run(&ctx);
	}
	/* Rules emit in report order; sorting makes the output independent of it
	 * for equal subjects only through the subject, which is unique per rule. */
	g_ptr_array_sort(out->recommendations, recommendation_compare);
	vt_analysis_finish(out);
	return out;
}

VtAnalysis *
vt_rules_run_host(const VtHostInput *input, const VtRulesConfig *config)
{
	g_autoptr(VtRulesConfig) defaults = NULL;
	VtAnalysis *out = vt_analysis_new();

	if (config == NULL)
		config = defaults = vt_rules_config_new();
	for (guint i = 0; i < G_N_ELEMENTS(rule_table); i++) {
		const VtRuleEntry *e = &rule_table[i];
		VtRuleCtx ctx = {.host = input, .cfg = config, .rule = e->info.name, .out = out};

		if (!(e->info.needs & VT_RULE_HOST))
			continue;
		if (!config->enabled[i])
			vt_rule_skip(&ctx, "disabled in the configuration (%s.enable=false)",
				     e->info.name);
		else
			e->run(&ctx);
	}
	g_ptr_array_sort(out->recommendations, recommendation_compare);
	return out;
}

/* ------------------------------------------------------------ JSON */

JsonNode *
vt_recommendation_to_json(const VtRecommendation *rec, GError **error)
{
	g_autoptr(JsonObject) obj = json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(obj, "id", rec->id);
	json_object_set_string_member(obj, "rule", rec->rule);
	json_object_set_string_member(obj, "severity", vt_severity_name(rec->severity));
	json_object_set_string_member(obj, "target", vt_target_name(rec->target));
	if (rec->action != NULL) {
		JsonNode *action = vt_json_from_message(&rec->action->base, error);
		if (action == NULL)
			return NULL;
		json_object_set_member(obj, "action", action);
	} else {
		json_object_set_null_member(obj, "action");
	}
	json_object_set_string_member(obj, "command", rec->command ? rec->command : "");
	json_object_set_string_member(obj, "rationale", rec->rationale ? rec->rationale : "");
	json_object_set_object_member(obj, "evidence", vt_recommendation_evidence(rec));
	json_node_set_object(node, obj);
	return g_steal_pointer(&node);
}

JsonNode *
vt_analysis_to_json(const VtAnalysis *analysis, GError **error)
{
	g_autoptr(JsonObject) root = json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	JsonArray *recs = json_array_new();
	JsonArray *skipped = json_array_new();

	json_object_set_array_member(root, "recommendations", recs);
	json_object_set_array_member(root, "skipped", skipped);
	for (guint i = 0; i < analysis->recommendations->len; i++) {
		JsonNode *r = vt_recommendation_to_json(analysis->recommendations->pdata[i], error);
		if (r == NULL)
			return NULL;
		json_array_add_element(recs, r);
	}
	for (guint i = 0; i < analysis->skipped->len; i++) {
		const VtRuleSkip *s = analysis->skipped->pdata[i];
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "rule", s->rule);
		json_object_set_string_member(o, "reason", s->reason);
		json_array_add_object_element(skipped, o);
	}
	json_node_set_object(node, root);
	return g_steal_pointer(&node);
}
