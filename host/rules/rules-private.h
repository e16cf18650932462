/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the rule families; not part of the public API. */
#pragma once

#include "match.h"
#include "rules.h"

G_BEGIN_DECLS

#define VT_RULES_MAX 32u

/* Upper bound on recommendations per run, whatever the report holds:
 * 128 disks + 64 NICs x 3 offloads + host-wide rules stays well below. */
#define VT_RULES_MAX_RECOMMENDATIONS 1024u
#define VT_RULES_MAX_SKIPPED         1024u

struct _VtRulesConfig {
	gboolean enabled[VT_RULES_MAX];
	/* nic.mq-missing */
	guint mq_min_vcpus;
	guint mq_max_queues;
	/* nic.offload */
	char **offload_features;
	/* blk.scheduler */
	char **scheduler_accept;
	gboolean scheduler_spinning_backend;
	/* blk.bus */
	char **bus_slow;
	/* blk.cache */
	char **cache_flag;
	/* mem.swapping */
	double swap_warning_pps;
	double swap_critical_pps;
	double swap_low_available_pct;
	guint swap_grow_pct;
	/* mem.swappiness */
	char *swappiness_role;
	guint swappiness_virtual_guest;
	guint swappiness_throughput_performance;
	guint swappiness_latency_performance;
	/* mem.balloon-stats */
	guint balloon_period;
	/* mem.hugepages */
	guint hugepages_min_gib;
	/* cpu.steal */
	double steal_warning_pct;
	double steal_critical_pct;
	double steal_vcpu_wait_pct;
	/* cpu.mode */
	char **cpu_modes_ok;
	char *cpu_mode_target;
	/* blk.latency */
	double lat_host_ms;
	double lat_added_ms;
	double lat_min_iops;
	guint lat_nr_requests;
	/* blk.iothread */
	double iothread_min_iops;
	/* blk.chain */
	guint chain_max_depth;
	/* blk.format */
	double format_min_iops;
	/* net.drops */
	guint drops_min_packets;
	guint drops_backlog;
	guint drops_rmem_max;
	guint drops_rx_queue_size;
	/* mem.pressure, cpu.pressure, io.pressure: some/full avg60, % */
	double psi_mem_some, psi_mem_full;
	double psi_cpu_some;
	double psi_io_some, psi_io_full;
	double psi_cpu_vcpu_wait_pct; /* host vCPU wait share that names the host */
	guint psi_mem_grow_pct;
	/* host.cpu-overcommit */
	guint host_reserve_cpus;
	double host_unpinned_pct;
	/* host.mem-overcommit */
	guint host_reserve_mib;
	double host_reserve_pct;
	/* host.scheduler */
	char **host_sched_accept;
	char **host_sched_accept_rotational;
	/* host.sysctl */
	guint host_swappiness;
	guint host_dirty_ratio;
	guint host_dirty_background_ratio;
	char *host_thp;
	char *host_ksm;
};

typedef struct {
	const VtRuleInput *in;
	const VtHostInput *host; /* host-wide rules only */
	const VtRulesConfig *cfg;
	const char *rule;
	VtAnalysis *out;
} VtRuleCtx;

typedef void (*VtRuleFunc)(VtRuleCtx *ctx);

/* The families. */
void vt_rule_nic_queues(VtRuleCtx *ctx);
void vt_rule_nic_mq_missing(VtRuleCtx *ctx);
void vt_rule_nic_model(VtRuleCtx *ctx);
void vt_rule_nic_offload(VtRuleCtx *ctx);
void vt_rule_blk_scheduler(VtRuleCtx *ctx);
void vt_rule_blk_bus(VtRuleCtx *ctx);
void vt_rule_blk_cache(VtRuleCtx *ctx);
void vt_rule_mem_swapping(VtRuleCtx *ctx);
void vt_rule_mem_swappiness(VtRuleCtx *ctx);
void vt_rule_mem_balloon_stats(VtRuleCtx *ctx);
void vt_rule_mem_hugepages(VtRuleCtx *ctx);
void vt_rule_cpu_steal(VtRuleCtx *ctx);
void vt_rule_cpu_mode(VtRuleCtx *ctx);
void vt_rule_blk_latency(VtRuleCtx *ctx);
void vt_rule_blk_iothread(VtRuleCtx *ctx);
void vt_rule_blk_chain(VtRuleCtx *ctx);
void vt_rule_blk_format(VtRuleCtx *ctx);
void vt_rule_net_drops(VtRuleCtx *ctx);
void vt_rule_net_mtu(VtRuleCtx *ctx);
void vt_rule_mem_oom(VtRuleCtx *ctx);
void vt_rule_mem_pressure(VtRuleCtx *ctx);
void vt_rule_cpu_pressure(VtRuleCtx *ctx);
void vt_rule_io_pressure(VtRuleCtx *ctx);
void vt_rule_cpu_numa(VtRuleCtx *ctx);
void vt_rule_host_cpu_overcommit(VtRuleCtx *ctx);
void vt_rule_host_mem_overcommit(VtRuleCtx *ctx);
void vt_rule_host_scheduler(VtRuleCtx *ctx);
void vt_rule_host_sysctl(VtRuleCtx *ctx);

/* records.c: an empty analysis, its arena's first block the size the last
 * one took; vt_analysis_finish() notes the size of a finished one. */
VtAnalysis *vt_analysis_new(void);
void vt_analysis_finish(VtAnalysis *analysis);

/* A new recommendation appended to the run (NULL once the run is full). The
 * caller fills action/command/rationale/evidence. */
VtRecommendation *vt_rule_emit(VtRuleCtx *ctx, const char *subject, VtSeverity severity,
			       VtTarget target);
/* A change of the domain XML: a host recommendation whose command is the XML
 * @fragment to put in; NULL once the run is full. */
VtRecommendation *vt_rule_emit_xml(VtRuleCtx *ctx, const char *subject, VtSeverity severity,
				   const char *fragment);
void vt_rule_skip(VtRuleCtx *ctx, const char *format, ...) G_GNUC_PRINTF(2, 3);
void vt_rec_rationale(VtRecommendation *rec, const char *format, ...) G_GNUC_PRINTF(2, 3);
void vt_rec_command(VtRecommendation *rec, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Evidence fields, in the order they are added. Doubles are rounded to 0.01. */
void vt_ev_str(VtRecommendation *rec, const char *key, const char *value);
void vt_ev_uint(VtRecommendation *rec, const char *key, guint64 value);
void vt_ev_double(VtRecommendation *rec, const char *key, double value);
void vt_ev_bool(VtRecommendation *rec, const char *key, gboolean value);

/* Typed guest actions (allocated so vt_message_free() can release them). */
VtAction *vt_action_set_channels(const char *iface, guint32 combined);
VtAction *vt_action_set_feature(const char *iface, const char *feature, gboolean on);
VtAction *vt_action_set_scheduler(const char *device, const char *name);
VtAction *vt_action_set_sysctl(const char *key, const char *value);
VtAction *vt_action_set_nr_requests(const char *device, guint32 nr_requests);

/* Report lookups. */
/* Guest vCPUs online, else the XML's current vCPUs, else 0. */
guint vt_guest_vcpus(const VtRuleInput *in, const char **source);
/* The domain's name for virsh commands: XML, else domstats, else "DOMAIN". */
const char *vt_domain_name(const VtRuleInput *in);
/* The same as one shell word (quoted when it needs to be). */
char *vt_domain_word(const VtRuleInput *in);
/*
 * A guest's interface (@is_disk: block device) @name as one shell word for
 * @rec's command; NULL, with the command set to say why none is shown, when
 * it is not a name the kernel would give a device (common/text.h).
 */
char *vt_rec_device_word(VtRecommendation *rec, const char *name, gboolean is_disk);
gboolean vt_strv_has(char **strv, const char *s);
/* The guest's name for XML disk @disk (its target dev when the guest does not
 * show it), with the guest's block device in @guest when matched. */
const char *vt_disk_subject(const VtRuleInput *in, const VtDiskFacts *disk, const VtBlock **guest,
			    VtMatchHow *how);
/* <disk type='T' device='D'><source …/>@inner</disk>: locates a disk in virsh edit. */
char *vt_disk_fragment(const VtDiskFacts *disk, const char *inner);
/* [<iothreads>1</iothreads>] <disk …><driver … cache='none' io='native'
 * iothread='N'/></disk>: the host's storage path for @x, tuned. */
char *vt_disk_storage_fragment(const VtDomainFacts *f, const VtDiskFacts *x);
/* The XML disk whose target dev is @target, or NULL. */
const VtDiskFacts *vt_disk_by_target(const VtDomainFacts *facts, const char *target);
/* The balloon holds memory back (actual below maximum by more than rounding). */
gboolean vt_balloon_inflated(const VtRates *rates);

/* "4.0 GiB" style sizes for rationales. */
char *vt_format_bytes(guint64 bytes);

G_END_DECLS
