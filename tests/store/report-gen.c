/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report-gen.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *const meminfo_keys[] = {
	"MemTotal",       "MemFree",        "MemAvailable",   "Buffers",
	"Cached",         "SwapCached",     "Active",         "Inactive",
	"Active(anon)",   "Inactive(anon)", "Active(file)",   "Inactive(file)",
	"Unevictable",    "Mlocked",        "SwapTotal",      "SwapFree",
	"Zswap",          "Zswapped",       "Dirty",          "Writeback",
	"AnonPages",      "Mapped",         "Shmem",          "KReclaimable",
	"Slab",           "SReclaimable",   "SUnreclaim",     "KernelStack",
	"PageTables",     "SecPageTables",  "NFS_Unstable",   "Bounce",
	"WritebackTmp",   "CommitLimit",    "Committed_AS",   "VmallocTotal",
	"VmallocUsed",    "VmallocChunk",   "Percpu",         "HardwareCorrupted",
	"AnonHugePages",  "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",
	"FilePmdMapped",  "CmaTotal",       "CmaFree",        "HugePages_Total",
	"HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize",
	"Hugetlb",        "DirectMap4k",    "DirectMap2M",    "DirectMap1G",
};

/* The meminfo lines that move every few seconds on a busy guest. */
static const char *const meminfo_moving[] = {
	"MemFree",      "MemAvailable", "Buffers",      "Cached",         "Active",
	"Inactive",     "Active(anon)", "Active(file)", "Inactive(file)", "Dirty",
	"Writeback",    "AnonPages",    "Mapped",       "KReclaimable",   "Slab",
	"SReclaimable", "SUnreclaim",   "KernelStack",  "PageTables",     "Committed_AS",
	"Percpu",
};

static const char *const vmstat_keys[] = {
	"oom_kill",
	"pgmajfault",
	"pgfault",
	"pgscan_kswapd",
	"pgscan_direct",
	"pgsteal_kswapd",
	"pgsteal_direct",
	"allocstall",
	"compact_stall",
	"thp_fault_alloc",
	"thp_fault_fallback",
	"workingset_refault_anon",
	"workingset_refault_file",
};

static const char *const features[] = {
	"rx-checksumming",
	"tx-checksumming",
	"tx-checksum-ipv4",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"tx-checksum-fcoe-crc",
	"tx-checksum-sctp",
	"scatter-gather",
	"tx-scatter-gather",
	"tx-scatter-gather-fraglist",
	"tcp-segmentation-offload",
	"tx-tcp-segmentation",
	"tx-tcp-ecn-segmentation",
	"tx-tcp-mangleid-segmentation",
	"tx-tcp6-segmentation",
	"generic-segmentation-offload",
	"generic-receive-offload",
	"large-receive-offload",
	"rx-vlan-offload",
	"tx-vlan-offload",
	"ntuple-filters",
	"receive-hashing",
	"highdma",
	"rx-vlan-filter",
	"vlan-challenged",
	"tx-lockless",
	"netns-local",
	"tx-gso-robust",
	"tx-fcoe-segmentation",
	"tx-gre-segmentation",
	"tx-gre-csum-segmentation",
	"tx-ipxip4-segmentation",
	"tx-ipxip6-segmentation",
	"tx-udp_tnl-segmentation",
	"tx-udp_tnl-csum-segmentation",
	"tx-gso-partial",
	"tx-tunnel-remcsum-segmentation",
	"tx-sctp-segmentation",
	"tx-esp-segmentation",
	"tx-udp-segmentation",
	"tx-gso-list",
	"fcoe-mtu",
	"tx-nocache-copy",
	"loopback",
	"rx-fcs",
	"rx-all",
	"tx-vlan-stag-hw-insert",
	"rx-vlan-stag-hw-parse",
	"rx-vlan-stag-filter",
	"l2-fwd-offload",
	"hw-tc-offload",
	"esp-hw-offload",
	"esp-tx-csum-hw-offload",
	"rx-udp_tunnel-port-offload",
	"tls-hw-tx-offload",
	"tls-hw-rx-offload",
	"rx-gro-hw",
	"tls-hw-record",
	"rx-gro-list",
	"macsec-hw-offload",
	"rx-udp-gro-forwarding",
	"hsr-tag-ins-offload",
	"hsr-tag-rm-offload",
	"hsr-fwd-offload",
	"hsr-dup-offload",
};

static const char *const sysctls[][2] = {
	{"vm.swappiness", "60"},
	{"vm.dirty_ratio", "20"},
	{"vm.dirty_background_ratio", "10"},
	{"vm.vfs_cache_pressure", "100"},
	{"vm.overcommit_memory", "0"},
	{"vm.min_free_kbytes", "67584"},
	{"kernel.transparent_hugepage.enabled", "madvise"},
	{"kernel.transparent_hugepage.defrag", "madvise"},
	{"zswap.enabled", "N"},
	{"net.core.rmem_max", "212992"},
	{"net.core.wmem_max", "212992"},
	{"net.core.netdev_max_backlog", "1000"},
};

VtReportGen *
vt_report_gen_new(guint32 seed)
{
	VtReportGen *gen = g_new0(VtReportGen, 1);

	gen->rand = g_rand_new_with_seed(seed);
	return gen;
}

void
vt_report_gen_free(VtReportGen *gen)
{
	if (gen == NULL)
		return;
	g_rand_free(gen->rand);
	g_free(gen);
}

static void
num(JsonBuilder *b, const char *key, gint64 value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_int_value(b, value);
}

static void
str(JsonBuilder *b, const char *key, const char *value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_string_value(b, value);
}

static void
flag(JsonBuilder *b, const char *key, gboolean value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_boolean_value(b, value);
}

static void
add_identity(JsonBuilder *b)
{
	json_builder_set_member_name(b, "identity");
	json_builder_begin_object(b);
	str(b, "hostname", "web-01");
	str(b, "os_pretty_name", "Debian GNU/Linux 12 (bookworm)");
	str(b, "kernel_release", "6.1.0-18-amd64");
	str(b, "boot_id", "3f1c7a52-9e0b-4d2f-8a61-0c5e2b7d9f14");
	num(b, "uptime_s", 123456);
	str(b, "agent_version", "0.1.0");
	json_builder_end_object(b);
}

/* meminfo, swap, sysctl and vmstat; the numbers come from @gen. */
static void
add_memory(JsonBuilder *b, VtReportGen *gen)
{
	json_builder_set_member_name(b, "meminfo");
	json_builder_begin_object(b);
	for (guint i = 0; i < G_N_ELEMENTS(meminfo_keys); i++)
		num(b, meminfo_keys[i],
		    g_str_has_prefix(meminfo_keys[i], "HugePages_")
			    ? 0
			    : (gint64)g_rand_int_range(gen->rand, 0, 4000000) * 1024);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "swap");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "devices");
	json_builder_begin_array(b);
	json_builder_begin_object(b);
	str(b, "path", "/dev/vda3");
	str(b, "type", "partition");
	num(b, "size_bytes", 1023406080);
	num(b, "used_bytes", 52428800);
	num(b, "priority", -2);
	json_builder_end_object(b);
	json_builder_end_array(b);
	num(b, "pswpin", 1200);
	num(b, "pswpout", 5400);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "sysctl");
	json_builder_begin_object(b);
	for (guint i = 0; i < G_N_ELEMENTS(sysctls); i++)
		str(b, sysctls[i][0], sysctls[i][1]);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "vmstat");
	json_builder_begin_object(b);
	for (guint i = 0; i < G_N_ELEMENTS(vmstat_keys); i++)
		num(b, vmstat_keys[i], (gint64)g_rand_int_range(gen->rand, 0, 1000000));
	json_builder_end_object(b);
}

static void
add_block(JsonBuilder *b, const char *name, const char *serial, guint64 size, guint64 base)
{
	static const char *const stat_names[] = {
		"reads",          "reads_merged",    "sectors_read", "read_ms",   "writes",
		"writes_merged",  "sectors_written", "write_ms",     "in_flight", "io_ms",
		"weighted_io_ms", "discards",        "discard_ms",   "flushes",   "flush_ms",
	};

	json_builder_begin_object(b);
	str(b, "name", name);
	str(b, "scheduler", "none");
	json_builder_set_member_name(b, "schedulers");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, "none");
	json_builder_add_string_value(b, "mq-deadline");
	json_builder_end_array(b);
	num(b, "nr_requests", 256);
	num(b, "read_ahead_kb", 128);
	flag(b, "rotational", FALSE);
	num(b, "nr_hw_queues", 2);
	num(b, "max_sectors_kb", 1280);
	num(b, "size_bytes", (gint64)size);
	str(b, "driver", "virtio_blk");
	str(b, "serial", serial);
	num(b, "discard_max_bytes", 2147483136);
	json_builder_set_member_name(b, "stats");
	json_builder_begin_object(b);
	for (guint i = 0; i < G_N_ELEMENTS(stat_names); i++)
		num(b, stat_names[i], (gint64)(base * (i + 3) + i));
	json_builder_end_object(b);
	json_builder_end_object(b);
}

static void
add_nic(JsonBuilder *b)
{
	json_builder_begin_object(b);
	str(b, "name", "eth0");
	str(b, "driver", "virtio_net");
	str(b, "bus_info", "0000:01:00.0");
	str(b, "mac", "52:54:00:12:34:56");
	num(b, "mtu", 1500);
	flag(b, "link_up", TRUE);
	json_builder_set_member_name(b, "channels");
	json_builder_begin_object(b);
	num(b, "max_combined", 4);
	num(b, "combined", 1);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "rings");
	json_builder_begin_object(b);
	num(b, "rx_max", 256);
	num(b, "rx", 256);
	num(b, "tx_max", 256);
	num(b, "tx", 256);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "features");
	json_builder_begin_array(b);
	for (guint i = 0; i < G_N_ELEMENTS(features); i++) {
		json_builder_begin_object(b);
		str(b, "name", features[i]);
		flag(b, "active", i % 3 == 0);
		flag(b, "fixed", i % 2 == 0);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "stats");
	json_builder_begin_object(b);
	num(b, "rx_bytes", 912345678);
	num(b, "rx_packets", 812345);
	num(b, "rx_errors", 0);
	num(b, "rx_dropped", 12);
	num(b, "tx_bytes", 412345678);
	num(b, "tx_packets", 612345);
	num(b, "tx_errors", 0);
	num(b, "tx_dropped", 0);
	json_builder_end_object(b);
	str(b, "driver_version", "1.0.0");
	json_builder_end_object(b);
}

/* cpu, the sections' outcomes and the timestamps. */
static void
add_cpu_and_sections(JsonBuilder *b)
{
	static const char *const names[] = {"identity", "meminfo", "swap", "sysctl",
					    "vmstat",   "block",   "nic",  "cpu"};

	json_builder_set_member_name(b, "cpu");
	json_builder_begin_object(b);
	num(b, "online", 2);
	num(b, "total_ticks", 24691200);
	num(b, "steal_ticks", 1234);
	num(b, "iowait_ticks", 5678);
	json_builder_set_member_name(b, "loadavg_1");
	json_builder_add_double_value(b, 0.52);
	json_builder_set_member_name(b, "loadavg_5");
	json_builder_add_double_value(b, 0.31);
	json_builder_set_member_name(b, "loadavg_15");
	json_builder_add_double_value(b, 0.2);
	num(b, "ticks_per_second", 100);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "sections");
	json_builder_begin_array(b);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		json_builder_begin_object(b);
		str(b, "name", names[i]);
		flag(b, "ok", TRUE);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	num(b, "collected_at_ms", 1700000000000);
	num(b, "monotonic_ms", 123456789);
}

VtReport *
vt_report_gen_base(VtReportGen *gen)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *msg;

	json_builder_begin_object(b);
	add_identity(b);
	add_memory(b, gen);
	json_builder_set_member_name(b, "block");
	json_builder_begin_array(b);
	add_block(b, "vda", "os-disk", 21474836480, 104729);
	add_block(b, "vdb", "data-disk", 107374182400, 5521);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "nics");
	json_builder_begin_array(b);
	add_nic(b);
	json_builder_end_array(b);
	add_cpu_and_sections(b);
	json_builder_end_object(b);

	root = json_builder_get_root(b);
	msg = vt_json_to_message(&virttune__v1__report__descriptor, root, &error);
	g_assert_no_error(error);
	return (VtReport *)msg;
}

static void
bump_map(VtReportMeminfoEntry **entries, size_t n, const char *key, gint64 delta)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(entries[i]->key, key) == 0)
			entries[i]->value = (guint64)((gint64)entries[i]->value + delta);
}

void
vt_report_gen_tick(VtReportGen *gen, VtReport *r)
{
	GRand *rd = gen->rand;

	gen->step++;
	r->collected_at_ms += 10000 + g_rand_int_range(rd, -40, 40);
	r->monotonic_ms += 10000 + g_rand_int_range(rd, -40, 40);
	r->identity->uptime_s += 10;
	for (guint i = 0; i < G_N_ELEMENTS(meminfo_moving); i++)
		bump_map(r->meminfo, r->n_meminfo, meminfo_moving[i],
			 (gint64)g_rand_int_range(rd, -2048, 2048) * 1024);
	for (size_t i = 0; i < r->n_vmstat; i++) {
		if (strcmp(r->vmstat[i]->key, "pgfault") == 0)
			r->vmstat[i]->value += g_rand_int_range(rd, 1000, 60000);
		else if (strcmp(r->vmstat[i]->key, "pgmajfault") == 0)
			r->vmstat[i]->value += g_rand_int_range(rd, 0, 8);
		else if (strcmp(r->vmstat[i]->key, "workingset_refault_file") == 0)
			r->vmstat[i]->value += g_rand_int_range(rd, 0, 30);
	}
	if (g_rand_int_range(rd, 0, 4) == 0) {
		r->swap->pswpin += g_rand_int_range(rd, 0, 20);
		r->swap->pswpout += g_rand_int_range(rd, 0, 40);
		r->swap->devices[0]->used_bytes += (guint64)g_rand_int_range(rd, 0, 40) * 4096;
	}
	/* vda busy, vdb mostly idle */
	VtBlockStats *s = r->block[0]->stats;
	guint64 reads = g_rand_int_range(rd, 0, 60), writes = g_rand_int_range(rd, 1, 120);

	s->reads += reads;
	s->sectors_read += reads * 8 * g_rand_int_range(rd, 1, 32);
	s->read_ms += reads * g_rand_int_range(rd, 0, 3);
	s->writes += writes;
	s->writes_merged += writes / 3;
	s->sectors_written += writes * 8 * g_rand_int_range(rd, 1, 16);
	s->write_ms += writes * g_rand_int_range(rd, 0, 2);
	s->in_flight = g_rand_int_range(rd, 0, 3);
	s->io_ms += g_rand_int_range(rd, 10, 400);
	s->weighted_io_ms += g_rand_int_range(rd, 10, 900);
	s->flushes += g_rand_int_range(rd, 0, 10);
	s->flush_ms += g_rand_int_range(rd, 0, 10);
	if (g_rand_int_range(rd, 0, 10) == 0)
		r->block[1]->stats->reads += 1;

	VtNicStats *n = r->nics[0]->stats;
	guint64 rx = g_rand_int_range(rd, 10, 3000), tx = g_rand_int_range(rd, 10, 2000);

	n->rx_packets += rx;
	n->rx_bytes += rx * g_rand_int_range(rd, 60, 1500);
	n->tx_packets += tx;
	n->tx_bytes += tx * g_rand_int_range(rd, 60, 1500);

	r->cpu->total_ticks += 2000;
	r->cpu->steal_ticks += g_rand_int_range(rd, 0, 20);
	r->cpu->iowait_ticks += g_rand_int_range(rd, 0, 30);
	r->cpu->loadavg_1 = g_rand_int_range(rd, 0, 300) / 100.0;
	r->cpu->loadavg_5 = g_rand_int_range(rd, 0, 200) / 100.0;
	r->cpu->loadavg_15 = g_rand_int_range(rd, 0, 100) / 100.0;
}

void
vt_report_gen_change(VtReport *r, guint variant)
{
	for (size_t i = 0; i < r->n_sysctl; i++) {
		if (strcmp(r->sysctl[i]->key, "vm.swappiness") == 0) {
			free(r->sysctl[i]->value);
			r->sysctl[i]->value = g_strdup_printf("%u", variant % 201);
		}
		if (strcmp(r->sysctl[i]->key, "vm.min_free_kbytes") == 0) {
			free(r->sysctl[i]->value);
			r->sysctl[i]->value = g_strdup_printf("%u", 60000 + variant);
		}
	}
}

VtReport *
vt_report_gen_copy(const VtReport *report)
{
	g_autoptr(GBytes) packed = vt_message_pack(&report->base, FALSE, NULL);
	ProtobufCMessage *copy =
		vt_message_unpack(&virttune__v1__report__descriptor, g_bytes_get_data(packed, NULL),
				  g_bytes_get_size(packed), NULL);

	g_assert_nonnull(copy);
	return (VtReport *)copy;
}

char *
vt_report_gen_json(const VtReport *report)
{
	g_autoptr(GError) error = NULL;
	char *json = vt_json_message_to_string(&report->base, FALSE, &error);

	g_assert_no_error(error);
	return json;
}
