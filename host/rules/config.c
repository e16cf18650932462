/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules' thresholds and targets: defaults, and a validated [rules] file. */
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "keyfile.h"
#include "rules-private.h"

/* A config file is a few KiB; refuse anything that is clearly not one. */
#define VT_RULES_CONFIG_MAX (256u * 1024u)
#define VT_RULES_LIST_MAX   32u /* entries in a list value */

#define OFF(field) offsetof(VtRulesConfig, field)

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

/* RULE.enable=true|false */
static gboolean
parse_enable(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	VtRulesConfig *c = field;
	g_autofree char *rule = g_strndup(e->key, strlen(e->key) - strlen(".enable"));
	int idx = vt_rules_index(rule);

	if (idx < 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: unknown rule '%s'", e->key,
			    rule);
		return FALSE;
	}
	return vt_key_parse_bool(spec, e, &c->enabled[idx], error);
}

static const VtKeySpec params[] = {
	{.key = "nic.mq-missing.min_vcpus",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(mq_min_vcpus),
	 .default_value = "2",
	 .min = 2,
	 .max = 4096,
	 .doc = "fire when the guest has at least this many vCPUs"},
	{.key = "nic.mq-missing.max_queues",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(mq_max_queues),
	 .default_value = "16",
	 .min = 2,
	 .max = 256,
	 .doc = "never recommend more queues than this"},
	{.key = "nic.offload.features",
	 .parse = vt_key_parse_list,
	 .offset = OFF(offload_features),
	 .default_value = "tx-tcp-segmentation;tx-generic-segmentation;rx-gro",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "ethtool feature names (ETH_SS_FEATURES) that should be on"},
	{.key = "blk.scheduler.accept",
	 .parse = vt_key_parse_list,
	 .offset = OFF(scheduler_accept),
	 .default_value = "none;mq-deadline",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "schedulers left alone on virtio/NVMe disks"},
	{.key = "blk.scheduler.spinning_backend",
	 .parse = vt_key_parse_bool,
	 .offset = OFF(scheduler_spinning_backend),
	 .default_value = "false",
	 .doc = "the host's storage is shared spinning disks: recommend mq-deadline, not none"},
	{.key = "blk.bus.slow",
	 .parse = vt_key_parse_list,
	 .offset = OFF(bus_slow),
	 .default_value = "ide;sata;usb",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "disk buses to move to virtio"},
	{.key = "blk.cache.flag",
	 .parse = vt_key_parse_list,
	 .offset = OFF(cache_flag),
	 .default_value = "writeback;unsafe",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "cache modes flagged on data disks"},
	{.key = "mem.swapping.warning_pages_per_s",
	 .parse = vt_key_parse_double,
	 .offset = OFF(swap_warning_pps),
	 .default_value = "100",
	 .min = 0,
	 .max = 1e9,
	 .doc = "swap-in + swap-out pages/s for a warning"},
	{.key = "mem.swapping.critical_pages_per_s",
	 .parse = vt_key_parse_double,
	 .offset = OFF(swap_critical_pps),
	 .default_value = "1000",
	 .min = 0,
	 .max = 1e9,
	 .doc = "swap-in + swap-out pages/s for a critical"},
	{.key = "mem.swapping.low_available_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(swap_low_available_pct),
	 .default_value = "10",
	 .min = 0,
	 .max = 100,
	 .doc = "MemAvailable below this % of MemTotal counts as short of memory"},
	{.key = "mem.swapping.grow_pct",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(swap_grow_pct),
	 .default_value = "25",
	 .min = 1,
	 .max = 400,
	 .doc = "how much more memory to recommend, in % of the current maximum"},
	{.key = "mem.swappiness.role",
	 .parse = vt_key_parse_choice,
	 .offset = OFF(swappiness_role),
	 .default_value = "virtual-guest",
	 .choices = "virtual-guest;throughput-performance;latency-performance",
	 .doc = "the tuned profile whose swappiness the guest should follow"},
	{.key = "mem.swappiness.virtual-guest",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(swappiness_virtual_guest),
	 .default_value = "30",
	 .min = 0,
	 .max = 200,
	 .doc = "vm.swappiness of tuned's virtual-guest profile"},
	{.key = "mem.swappiness.throughput-performance",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(swappiness_throughput_performance),
	 .default_value = "10",
	 .min = 0,
	 .max = 200,
	 .doc = "vm.swappiness of tuned's throughput-performance profile"},
	{.key = "mem.swappiness.latency-performance",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(swappiness_latency_performance),
	 .default_value = "10",
	 .min = 0,
	 .max = 200,
	 .doc = "vm.swappiness of tuned's latency-performance profile"},
	{.key = "mem.balloon-stats.period",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(balloon_period),
	 .default_value = "10",
	 .min = 1,
	 .max = 3600,
	 .doc = "stats period (s) to recommend"},
	{.key = "mem.hugepages.min_gib",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(hugepages_min_gib),
	 .default_value = "8",
	 .min = 1,
	 .max = 1048576,
	 .doc = "guests with at least this much memory (GiB) should use hugepages"},
	{.key = "cpu.steal.warning_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(steal_warning_pct),
	 .default_value = "10",
	 .min = 0,
	 .max = 100,
	 .doc = "guest steal % for a warning"},
	{.key = "cpu.steal.critical_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(steal_critical_pct),
	 .default_value = "25",
	 .min = 0,
	 .max = 100,
	 .doc = "guest steal % for a critical"},
	{.key = "cpu.steal.vcpu_wait_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(steal_vcpu_wait_pct),
	 .default_value = "5",
	 .min = 0,
	 .max = 100,
	 .doc = "host vCPU wait share (delay / (delay + run time)) that confirms the steal"},
	{.key = "cpu.mode.accept",
	 .parse = vt_key_parse_list,
	 .offset = OFF(cpu_modes_ok),
	 .default_value = "host-passthrough;host-model;maximum",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "CPU modes left alone"},
	{.key = "cpu.mode.target",
	 .parse = vt_key_parse_choice,
	 .offset = OFF(cpu_mode_target),
	 .default_value = "host-passthrough",
	 .choices = "host-passthrough;host-model",
	 .doc = "the mode to recommend"},
	{.key = "blk.latency.host_ms",
	 .parse = vt_key_parse_double,
	 .offset = OFF(lat_host_ms),
	 .default_value = "20",
	 .min = 0,
	 .max = 1e6,
	 .doc = "host average latency per request (ms, domstats rd/wr.times) that names the host's "
		"storage path"},
	{.key = "blk.latency.guest_added_ms",
	 .parse = vt_key_parse_double,
	 .offset = OFF(lat_added_ms),
	 .default_value = "20",
	 .min = 0,
	 .max = 1e6,
	 .doc = "guest latency minus host latency (ms) that names the guest's own queue"},
	{.key = "blk.latency.min_iops",
	 .parse = vt_key_parse_double,
	 .offset = OFF(lat_min_iops),
	 .default_value = "1",
	 .min = 0,
	 .max = 1e9,
	 .doc = "disks doing fewer guest I/Os per second are not judged"},
	{.key = "blk.latency.nr_requests",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(lat_nr_requests),
	 .default_value = "64",
	 .min = 4,
	 .max = 4096,
	 .doc = "guest queue depth (nr_requests) to recommend when the guest queues"},
	{.key = "blk.iothread.min_iops",
	 .parse = vt_key_parse_double,
	 .offset = OFF(iothread_min_iops),
	 .default_value = "500",
	 .min = 0,
	 .max = 1e9,
	 .doc = "I/Os per second that make a disk busy enough for its own iothread"},
	{.key = "blk.chain.max_depth",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(chain_max_depth),
	 .default_value = "2",
	 .min = 0,
	 .max = 1000,
	 .doc = "backing layers under the top image left alone"},
	{.key = "blk.format.min_iops",
	 .parse = vt_key_parse_double,
	 .offset = OFF(format_min_iops),
	 .default_value = "200",
	 .min = 0,
	 .max = 1e9,
	 .doc = "I/Os per second that make a qcow2 disk I/O-bound"},
	{.key = "net.drops.min_packets",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(drops_min_packets),
	 .default_value = "100",
	 .min = 1,
	 .max = 4294967295,
	 .doc = "drops over the window that count, on either side"},
	{.key = "net.drops.netdev_max_backlog",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(drops_backlog),
	 .default_value = "5000",
	 .min = 1000,
	 .max = 1048576,
	 .doc = "net.core.netdev_max_backlog to recommend (at least twice the current value)"},
	{.key = "net.drops.rmem_max",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(drops_rmem_max),
	 .default_value = "16777216",
	 .min = 212992,
	 .max = 2147483647,
	 .doc = "net.core.rmem_max to recommend (bytes)"},
	{.key = "net.drops.rx_queue_size",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(drops_rx_queue_size),
	 .default_value = "1024",
	 .min = 256,
	 .max = 1024,
	 .doc = "virtio rx_queue_size to recommend when the guest has all its queues"},
	{.key = "mem.pressure.some_avg60_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(psi_mem_some),
	 .default_value = "10",
	 .min = 0,
	 .max = 100,
	 .doc = "memory some avg60 (%) for a warning"},
	{.key = "mem.pressure.full_avg60_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(psi_mem_full),
	 .default_value = "5",
	 .min = 0,
	 .max = 100,
	 .doc = "memory full avg60 (%) for a critical"},
	{.key = "mem.pressure.grow_pct",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(psi_mem_grow_pct),
	 .default_value = "25",
	 .min = 1,
	 .max = 400,
	 .doc = "how much more memory to recommend, in % of the current maximum"},
	{.key = "cpu.pressure.some_avg60_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(psi_cpu_some),
	 .default_value = "20",
	 .min = 0,
	 .max = 100,
	 .doc = "cpu some avg60 (%) for a warning"},
	{.key = "cpu.pressure.vcpu_wait_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(psi_cpu_vcpu_wait_pct),
	 .default_value = "5",
	 .min = 0,
	 .max = 100,
	 .doc = "host vCPU wait share (%) that names the host as the side"},
	{.key = "io.pressure.some_avg60_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(psi_io_some),
	 .default_value = "20",
	 .min = 0,
	 .max = 100,
	 .doc = "io some avg60 (%) for a warning"},
	{.key = "io.pressure.full_avg60_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(psi_io_full),
	 .default_value = "10",
	 .min = 0,
	 .max = 100,
	 .doc = "io full avg60 (%) for a critical"},
	{.key = "host.cpu-overcommit.reserve_cpus",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(host_reserve_cpus),
	 .default_value = "1",
	 .min = 0,
	 .max = 64,
	 .doc = "host CPUs kept for the host itself (the guides say 1-2)"},
	{.key = "host.cpu-overcommit.unpinned_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(host_unpinned_pct),
	 .default_value = "80",
	 .min = 1,
	 .max = 10000,
	 .doc = "unpinned vCPUs of running domains allowed, in % of the host CPUs left"},
	{.key = "host.mem-overcommit.reserve_mib",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(host_reserve_mib),
	 .default_value = "2048",
	 .min = 0,
	 .max = 1048576,
	 .doc = "host memory kept for the host itself, at least (MiB)"},
	{.key = "host.mem-overcommit.reserve_pct",
	 .parse = vt_key_parse_double,
	 .offset = OFF(host_reserve_pct),
	 .default_value = "10",
	 .min = 0,
	 .max = 90,
	 .doc = "host memory kept for the host itself, in % of its RAM (the larger wins)"},
	{.key = "host.scheduler.accept",
	 .parse = vt_key_parse_list,
	 .offset = OFF(host_sched_accept),
	 .default_value = "none;mq-deadline",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "schedulers left alone on host SSD/NVMe devices under guest images"},
	{.key = "host.scheduler.accept_rotational",
	 .parse = vt_key_parse_list,
	 .offset = OFF(host_sched_accept_rotational),
	 .default_value = "mq-deadline;bfq",
	 .max = VT_RULES_LIST_MAX,
	 .data = valid_word,
	 .doc = "schedulers left alone on host spinning disks under guest images"},
	{.key = "host.sysctl.swappiness",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(host_swappiness),
	 .default_value = "10",
	 .min = 0,
	 .max = 200,
	 .doc = "highest host vm.swappiness (tuned virtual-host: 10)"},
	{.key = "host.sysctl.dirty_ratio",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(host_dirty_ratio),
	 .default_value = "10",
	 .min = 1,
	 .max = 100,
	 .doc = "highest host vm.dirty_ratio (tuned virtual-host: 10)"},
	{.key = "host.sysctl.dirty_background_ratio",
	 .parse = vt_key_parse_uint,
	 .offset = OFF(host_dirty_background_ratio),
	 .default_value = "5",
	 .min = 1,
	 .max = 100,
	 .doc = "highest host vm.dirty_background_ratio (tuned virtual-host: 5)"},
	{.key = "host.sysctl.transparent_hugepage",
	 .parse = vt_key_parse_choice,
	 .offset = OFF(host_thp),
	 .default_value = "always",
	 .choices = "always;madvise;never;any",
	 .doc = "host transparent_hugepage/enabled wanted (tuned virtual-host: always; any: not "
		"checked)"},
	{.key = "host.sysctl.ksm",
	 .parse = vt_key_parse_choice,
	 .offset = OFF(host_ksm),
	 .default_value = "auto",
	 .choices = "auto;on;off;any",
	 .doc = "host KSM wanted; auto: on only while guest memory is overcommitted"},
	/* last: the one entry that is not a documented parameter */
	{.key = "*.enable", .parse = parse_enable},
};

gboolean
vt_rules_config_param(guint index, const char **key, const char **default_value, const char **doc)
{
	if (index >= G_N_ELEMENTS(params) - 1)
		return FALSE;
	*key = params[index].key;
	*default_value = params[index].default_value;
	*doc = params[index].doc;
	return TRUE;
}

void
vt_rules_config_free(VtRulesConfig *c)
{
	if (c == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(params); i++) {
		if (params[i].parse == vt_key_parse_list)
			g_strfreev(*(char ***)((char *)c + params[i].offset));
		else if (params[i].parse == vt_key_parse_choice)
			g_free(*(char **)((char *)c + params[i].offset));
	}
	g_free(c);
}

VtRulesConfig *
vt_rules_config_new(void)
{
	VtRulesConfig *c = g_new0(VtRulesConfig, 1);
	gboolean ok;

	for (guint i = 0; i < VT_RULES_MAX; i++)
		c->enabled[i] = TRUE;
	ok = vt_keyfile_set_defaults(params, G_N_ELEMENTS(params), c, NULL);
	g_assert(ok); /* the table's own defaults; tested */
	return c;
}

gboolean
vt_rules_config_enabled(const VtRulesConfig *config, const char *rule)
{
	int i = vt_rules_index(rule);

	return i >= 0 && config->enabled[i];
}

/* A critical threshold below its warning would never be reached first. */
static gboolean
check_order(const VtKeyfile *kf, double warning, double critical, const char *warning_key,
	    const char *critical_key, GError **error)
{
	g_autofree char *at = NULL;

	if (critical >= warning)
		return TRUE;
	/* blame the line that was written: the critical one if both were */
	at = vt_keyfile_where(kf, "rules",
			      vt_keyfile_line(kf, "rules", critical_key) ? critical_key
									 : warning_key);
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s%s (%g) is below %s (%g)", at,
		    critical_key, critical, warning_key, warning);
	return FALSE;
}

static gboolean
apply_keyfile(VtRulesConfig *c, const VtKeyfile *kf, GPtrArray *warnings, GError **error)
{
	const VtKeyGroup group = {"rules", params, G_N_ELEMENTS(params), c};

	return vt_keyfile_apply(kf, &group, 1, warnings, error) &&
	       check_order(kf, c->swap_warning_pps, c->swap_critical_pps,
			   "mem.swapping.warning_pages_per_s", "mem.swapping.critical_pages_per_s",
			   error) &&
	       check_order(kf, c->steal_warning_pct, c->steal_critical_pct, "cpu.steal.warning_pct",
			   "cpu.steal.critical_pct", error);
}

gboolean
vt_rules_config_load_data(VtRulesConfig *c, const char *data, gsize len, const char *name,
			  GPtrArray *warnings, GError **error)
{
	g_autoptr(VtKeyfile) kf = vt_keyfile_parse(data, len, name, VT_RULES_CONFIG_MAX, error);

	return kf != NULL && apply_keyfile(c, kf, warnings, error);
}

VtRulesConfig *
vt_rules_config_load(const char *path, GPtrArray *warnings, GError **error)
{
	g_autoptr(VtRulesConfig) c = vt_rules_config_new();
	g_autoptr(VtKeyfile) kf = vt_keyfile_load(path, VT_RULES_CONFIG_MAX, error);

	if (kf == NULL || !apply_keyfile(c, kf, warnings, error))
		return NULL;
	return g_steal_pointer(&c);
}
