/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules' thresholds and targets: defaults, and a validated [rules] file. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "rules-private.h"

/* A config file is a few KiB; refuse anything that is clearly not one. */
#define VT_RULES_CONFIG_MAX (256u * 1024u)
#define VT_RULES_LIST_MAX   32u /* entries in a list value */

typedef enum {
	VT_PARAM_BOOL,
	VT_PARAM_UINT,
	VT_PARAM_DOUBLE,
	VT_PARAM_LIST,   /* ';'-separated words */
	VT_PARAM_CHOICE, /* one word of `choices` */
} VtParamType;

typedef struct {
	const char *key;
	VtParamType type;
	gsize offset;
	const char *default_value;
	double min, max;     /* numbers */
	const char *choices; /* VT_PARAM_CHOICE: ';'-separated */
	const char *doc;
} VtParam;

#define OFF(field) offsetof(VtRulesConfig, field)

static const VtParam params[] = {
	{"nic.mq-missing.min_vcpus", VT_PARAM_UINT, OFF(mq_min_vcpus), "2", 2, 4096, NULL,
	 "fire when the guest has at least this many vCPUs"},
	{"nic.mq-missing.max_queues", VT_PARAM_UINT, OFF(mq_max_queues), "16", 2, 256, NULL,
	 "never recommend more queues than this"},
	{"nic.offload.features", VT_PARAM_LIST, OFF(offload_features),
	 "tx-tcp-segmentation;tx-generic-segmentation;rx-gro", 0, 0, NULL,
	 "ethtool feature names (ETH_SS_FEATURES) that should be on"},
	{"blk.scheduler.accept", VT_PARAM_LIST, OFF(scheduler_accept), "none;mq-deadline", 0, 0,
	 NULL, "schedulers left alone on virtio/NVMe disks"},
	{"blk.scheduler.spinning_backend", VT_PARAM_BOOL, OFF(scheduler_spinning_backend), "false",
	 0, 0, NULL,
	 "the host's storage is shared spinning disks: recommend mq-deadline, not none"},
	{"blk.bus.slow", VT_PARAM_LIST, OFF(bus_slow), "ide;sata;usb", 0, 0, NULL,
	 "disk buses to move to virtio"},
	{"blk.cache.flag", VT_PARAM_LIST, OFF(cache_flag), "writeback;unsafe", 0, 0, NULL,
	 "cache modes flagged on data disks"},
	{"mem.swapping.warning_pages_per_s", VT_PARAM_DOUBLE, OFF(swap_warning_pps), "100", 0, 1e9,
	 NULL, "swap-in + swap-out pages/s for a warning"},
	{"mem.swapping.critical_pages_per_s", VT_PARAM_DOUBLE, OFF(swap_critical_pps), "1000", 0,
	 1e9, NULL, "swap-in + swap-out pages/s for a critical"},
	{"mem.swapping.low_available_pct", VT_PARAM_DOUBLE, OFF(swap_low_available_pct), "10", 0,
	 100, NULL, "MemAvailable below this % of MemTotal counts as short of memory"},
	{"mem.swapping.grow_pct", VT_PARAM_UINT, OFF(swap_grow_pct), "25", 1, 400, NULL,
	 "how much more memory to recommend, in % of the current maximum"},
	{"mem.swappiness.role", VT_PARAM_CHOICE, OFF(swappiness_role), "virtual-guest", 0, 0,
	 "virtual-guest;throughput-performance;latency-performance",
	 "the tuned profile whose swappiness the guest should follow"},
	{"mem.swappiness.virtual-guest", VT_PARAM_UINT, OFF(swappiness_virtual_guest), "30", 0, 200,
	 NULL, "vm.swappiness of tuned's virtual-guest profile"},
	{"mem.swappiness.throughput-performance", VT_PARAM_UINT,
	 OFF(swappiness_throughput_performance), "10", 0, 200, NULL,
	 "vm.swappiness of tuned's throughput-performance profile"},
	{"mem.swappiness.latency-performance", VT_PARAM_UINT, OFF(swappiness_latency_performance),
	 "10", 0, 200, NULL, "vm.swappiness of tuned's latency-performance profile"},
	{"mem.balloon-stats.period", VT_PARAM_UINT, OFF(balloon_period), "10", 1, 3600, NULL,
	 "stats period (s) to recommend"},
	{"mem.hugepages.min_gib", VT_PARAM_UINT, OFF(hugepages_min_gib), "8", 1, 1048576, NULL,
	 "guests with at least this much memory (GiB) should use hugepages"},
	{"cpu.steal.warning_pct", VT_PARAM_DOUBLE, OFF(steal_warning_pct), "10", 0, 100, NULL,
	 "guest steal % for a warning"},
	{"cpu.steal.critical_pct", VT_PARAM_DOUBLE, OFF(steal_critical_pct), "25", 0, 100, NULL,
	 "guest steal % for a critical"},
	{"cpu.steal.vcpu_wait_pct", VT_PARAM_DOUBLE, OFF(steal_vcpu_wait_pct), "5", 0, 100, NULL,
	 "host vCPU wait share (delay / (delay + run time)) that confirms the steal"},
	{"cpu.mode.accept", VT_PARAM_LIST, OFF(cpu_modes_ok), "host-passthrough;host-model;maximum",
	 0, 0, NULL, "CPU modes left alone"},
	{"cpu.mode.target", VT_PARAM_CHOICE, OFF(cpu_mode_target), "host-passthrough", 0, 0,
	 "host-passthrough;host-model", "the mode to recommend"},
};

gboolean
vt_rules_config_param(guint index, const char **key, const char **default_value, const char **doc)
{
	if (index >= G_N_ELEMENTS(params))
		return FALSE;
	*key = params[index].key;
	*default_value = params[index].default_value;
	*doc = params[index].doc;
	return TRUE;
}

static void *
field(VtRulesConfig *c, const VtParam *p)
{
	return (char *)c + p->offset;
}

static gboolean
valid_word(const char *w)
{
	if (*w == '\0' || strlen(w) > 64)
		return FALSE;
	for (const char *p = w; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	return TRUE;
}

static gboolean
set_param(VtRulesConfig *c, const VtParam *p, const char *text, GError **error)
{
	g_autofree char *value = g_strstrip(g_strdup(text));
	char *end = NULL;

	switch (p->type) {
	case VT_PARAM_BOOL:
		if (strcmp(value, "true") == 0) {
			*(gboolean *)field(c, p) = TRUE;
		} else if (strcmp(value, "false") == 0) {
			*(gboolean *)field(c, p) = FALSE;
		} else {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is not true or false",
				    value);
			return FALSE;
		}
		return TRUE;
	case VT_PARAM_UINT:
	case VT_PARAM_DOUBLE: {
		double d;

		errno = 0;
		if (p->type == VT_PARAM_UINT) {
			guint64 u = 0;
			if (!g_ascii_isdigit(value[0]))
				end = value;
			else
				u = g_ascii_strtoull(value, &end, 10);
			d = (double)u;
		} else {
			d = g_ascii_strtod(value, &end);
		}
		if (errno != 0 || end == value || *end != '\0' || !isfinite(d)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is not %s", value,
				    p->type == VT_PARAM_UINT ? "a whole number" : "a number");
			return FALSE;
		}
		if (d < p->min || d > p->max) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s is out of range [%g, %g]", value, p->min, p->max);
			return FALSE;
		}
		if (p->type == VT_PARAM_UINT)
			*(guint *)field(c, p) = (guint)d;
		else
			*(double *)field(c, p) = d;
		return TRUE;
	}
	case VT_PARAM_LIST: {
		g_auto(GStrv) parts = g_strsplit(value, ";", -1);
		g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);

		for (guint i = 0; parts[i] != NULL; i++) {
			char *w = g_strstrip(parts[i]);
			if (*w == '\0')
				continue;
			if (!valid_word(w)) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "'%s' is not a valid list entry", w);
				return FALSE;
			}
			if (words->len >= VT_RULES_LIST_MAX) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "more than %u entries", VT_RULES_LIST_MAX);
				return FALSE;
			}
			g_ptr_array_add(words, g_strdup(w));
		}
		g_ptr_array_add(words, NULL);
		g_strfreev(*(char ***)field(c, p));
		*(char ***)field(c, p) = (char **)g_ptr_array_free(g_steal_pointer(&words), FALSE);
		return TRUE;
	}
	case VT_PARAM_CHOICE: {
		g_auto(GStrv) choices = g_strsplit(p->choices, ";", -1);

		if (!g_strv_contains((const char *const *)choices, value)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is not one of %s",
				    value, p->choices);
			return FALSE;
		}
		g_free(*(char **)field(c, p));
		*(char **)field(c, p) = g_strdup(value);
		return TRUE;
	}
	}
	return FALSE;
}

void
vt_rules_config_free(VtRulesConfig *c)
{
	if (c == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(params); i++) {
		if (params[i].type == VT_PARAM_LIST)
			g_strfreev(*(char ***)field(c, &params[i]));
		else if (params[i].type == VT_PARAM_CHOICE)
			g_free(*(char **)field(c, &params[i]));
	}
	g_free(c);
}

VtRulesConfig *
vt_rules_config_new(void)
{
	VtRulesConfig *c = g_new0(VtRulesConfig, 1);

	for (guint i = 0; i < VT_RULES_MAX; i++)
		c->enabled[i] = TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(params); i++) {
		gboolean ok = set_param(c, &params[i], params[i].default_value, NULL);
		g_assert(ok); /* the table's own defaults; tested */
	}
	return c;
}

gboolean
vt_rules_config_enabled(const VtRulesConfig *config, const char *rule)
{
	int i = vt_rules_index(rule);

	return i >= 0 && config->enabled[i];
}

gboolean
vt_rules_config_load_data(VtRulesConfig *c, const char *data, gsize len, const char *name,
			  GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) groups = NULL;
	g_auto(GStrv) keys = NULL;

	if (len > VT_RULES_CONFIG_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "%s: more than %u bytes", name,
			    VT_RULES_CONFIG_MAX);
		return FALSE;
	}
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: %s", name, local->message);
		return FALSE;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++)
		if (strcmp(groups[i], "rules") != 0) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: [%s]: unknown group (only [rules] is read)", name,
				    groups[i]);
			return FALSE;
		}
	if (!g_key_file_has_group(kf, "rules"))
		return TRUE;
	keys = g_key_file_get_keys(kf, "rules", NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const char *key = keys[i];
		g_autofree char *value = g_key_file_get_value(kf, "rules", key, NULL);
		const VtParam *param = NULL;

		if (value == NULL)
			continue;
		if (g_str_has_suffix(key, ".enable")) {
			g_autofree char *rule = g_strndup(key, strlen(key) - strlen(".enable"));
			int idx = vt_rules_index(rule);
			VtParam p = {.type = VT_PARAM_BOOL};
			VtRulesConfig tmp = {0};

			if (idx < 0) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "%s: [rules] %s: unknown rule '%s'", name, key, rule);
				return FALSE;
			}
			p.offset = OFF(enabled[0]);
			if (!set_param(&tmp, &p, value, &local)) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: [rules] %s: %s",
					    name, key, local->message);
				return FALSE;
			}
			c->enabled[idx] = tmp.enabled[0];
			continue;
		}
		for (guint j = 0; j < G_N_ELEMENTS(params); j++)
			if (strcmp(params[j].key, key) == 0)
				param = &params[j];
		if (param == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: [rules] %s: unknown key", name, key);
			return FALSE;
		}
		if (!set_param(c, param, value, &local)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: [rules] %s: %s", name,
				    key, local->message);
			return FALSE;
		}
	}
	if (c->swap_critical_pps < c->swap_warning_pps) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: [rules] mem.swapping.critical_pages_per_s: below "
			    "mem.swapping.warning_pages_per_s",
			    name);
		return FALSE;
	}
	if (c->steal_critical_pct < c->steal_warning_pct) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: [rules] cpu.steal.critical_pct: below cpu.steal.warning_pct",
			    name);
		return FALSE;
	}
	return TRUE;
}

VtRulesConfig *
vt_rules_config_load(const char *path, GError **error)
{
	g_autoptr(VtRulesConfig) c = vt_rules_config_new();
	g_autofree char *data = NULL;
	g_autoptr(GError) local = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "%s", local->message);
		return NULL;
	}
	if (!vt_rules_config_load_data(c, data, len, path, error))
		return NULL;
	return g_steal_pointer(&c);
}
