/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The collectors on fixture sysroots (tests/data/guests/<case>/root with the
 * recorded ethtool answers in <case>/ethtool.ini), compared with
 * <case>/<case>.expected.json; VT_TEST_REGENERATE=1 rewrites the expected
 * files. Also: devices plugged in and out between two reports of one
 * collector, and the choice of sections. Hostile input: test-collect-hostile.c.
 */
#include <string.h>

#include "collect-util.h"
#include "ethtool-replay.h"

/* ------------------------------------------------------------ fixture cases */

typedef void (*CaseCheck)(const VtReport *r);

static void
check_one_vcpu(const VtReport *r)
{
	const VtNic *eth0 = find_nic(r, "eth0");
	const VtBlock *vda = find_block(r, "vda");
	gboolean fixed;

	g_assert_cmpuint(r->cpu->online, ==, 1);
	g_assert_cmpstr(r->identity->hostname, ==, "guest-one");
	g_assert_cmpuint(r->identity->uptime_s, ==, 3671);
	g_assert_cmpuint(report_meminfo(r, "MemTotal"), ==, 1004316ull * 1024);
	g_assert_cmpuint(report_meminfo(r, "HugePages_Total"), ==, 0);
	g_assert_cmpuint(report_meminfo(r, "Hugepagesize"), ==, 2048ull * 1024);
	g_assert_cmpuint(r->swap->n_devices, ==, 0);
	g_assert_nonnull(eth0);
	g_assert_cmpstr(eth0->driver, ==, "virtio_net");
	g_assert_cmpuint(eth0->channels->max_combined, ==, 1);
	g_assert_cmpuint(eth0->rings->rx_max, ==, 256);
	g_assert_true(nic_feature(eth0, "rx-checksum", &fixed));
	g_assert_true(fixed);
	g_assert_true(nic_feature(eth0, "tx-tcp-segmentation", &fixed));
	g_assert_false(fixed);
	g_assert_cmpstr(vda->scheduler, ==, "mq-deadline");
	g_assert_cmpuint(vda->n_schedulers, ==, 4);
	g_assert_cmpstr(vda->driver, ==, "virtio_blk");
	g_assert_cmpuint(vda->stats->flushes, >, 0);
	g_assert_cmpstr(report_sysctl(r, "kernel.transparent_hugepage.enabled"), ==, "madvise");
	/* a kernel without PSI: no pressure, and the section says why */
	g_assert_null(r->pressure);
	g_assert_false(find_section(r, "pressure")->ok);
	g_assert_nonnull(strstr(find_section(r, "pressure")->error, "pressure stall"));
	g_assert_cmpuint(eth0->n_queue_interrupts, ==, 2);
	g_assert_cmpuint(eth0->queue_interrupts[0]->count, ==, 4321);
}

static void
check_virtio_mq(const VtReport *r)
{
	const VtNic *eth0 = find_nic(r, "eth0");

	g_assert_cmpuint(r->cpu->online, ==, 4);
	g_assert_cmpuint(eth0->channels->max_combined, ==, 4);
	g_assert_cmpuint(eth0->channels->combined, ==, 1);
	g_assert_cmpuint(r->n_block, ==, 2);
	g_assert_cmpstr(find_block(r, "vdb")->scheduler, ==, "none");
	g_assert_cmpuint(find_block(r, "vdb")->nr_hw_queues, ==, 4);
	g_assert_cmpstr(find_block(r, "vdb")->serial, ==, "data-disk-01");
	g_assert_cmpuint(find_block(r, "vdb")->size_bytes, ==, 209715200ull * 512);
	g_assert_false(find_block(r, "vdb")->rotational);
	/* summed over the four CPUs' columns, the control queue left out */
	g_assert_cmpuint(eth0->n_queue_interrupts, ==, 8);
	g_assert_cmpstr(eth0->queue_interrupts[1]->queue, ==, "output.0");
	g_assert_cmpuint(eth0->queue_interrupts[1]->count, ==, 20418);
	g_assert_cmpfloat(r->pressure->io_some->avg60, ==, 12.75);
	g_assert_cmpuint(r->pressure->io_full->total_us, ==, 512345678);
	g_assert_cmpuint(r->softnet->dropped, ==, 12);
	g_assert_cmpuint(r->softnet->time_squeeze, ==, 20);
}

static void
check_bfq_swap(const VtReport *r)
{
	const VtSwapDevice *part, *zram;

	g_assert_cmpstr(find_block(r, "vda")->scheduler, ==, "bfq");
	g_assert_nonnull(find_block(r, "zram0"));
	g_assert_null(find_block(r, "zram0")->scheduler);
	g_assert_nonnull(find_section(r, "block:zram0"));
	g_assert_cmpuint(r->swap->n_devices, ==, 2);
	part = r->swap->devices[0];
	zram = r->swap->devices[1];
	g_assert_cmpstr(part->path, ==, "/dev/vda2");
	g_assert_cmpstr(part->type, ==, "partition");
	g_assert_cmpuint(part->size_bytes, ==, 2097148ull * 1024);
	g_assert_cmpuint(part->used_bytes, ==, 311296ull * 1024);
	g_assert_cmpint(part->priority, ==, -2);
	g_assert_cmpstr(zram->path, ==, "/dev/zram0");
	g_assert_cmpint(zram->priority, ==, 100);
	g_assert_cmpuint(r->swap->pswpin, ==, 77312);
	g_assert_cmpuint(r->swap->pswpout, ==, 208761);
	g_assert_cmpuint(report_meminfo(r, "SwapTotal"), ==, 3145720ull * 1024);
	g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "100");
	for (size_t i = 0; i < r->n_vmstat; i++)
		if (strcmp(r->vmstat[i]->key, "allocstall") == 0)
			g_assert_cmpuint(r->vmstat[i]->value, ==, 112 + 37);
	g_assert_cmpfloat(r->pressure->memory_full->avg60, ==, 17.35);
	g_assert_cmpuint(find_nic(r, "eth0")->n_queue_interrupts, ==, 2);
}

static void
check_e1000_sata(const VtReport *r)
{
	const VtNic *ens3 = find_nic(r, "ens3");
	const VtBlock *sda = find_block(r, "sda");
	const VtSection *s = find_section(r, "nics:ens3");
	gboolean fixed;

	g_assert_cmpstr(ens3->driver, ==, "e1000");
	g_assert_null(ens3->channels);
	g_assert_nonnull(s);
	g_assert_nonnull(strstr(s->error, "channels: Operation not supported"));
	g_assert_cmpuint(ens3->rings->rx_max, ==, 4096);
	g_assert_cmpuint(ens3->speed_mbps, ==, 1000);
	g_assert_cmpstr(ens3->mac, ==, "52:54:00:12:34:56");
	g_assert_true(nic_feature(ens3, "rx-vlan-filter", &fixed));
	g_assert_true(fixed);
	g_assert_cmpstr(sda->driver, ==, "sd");
	g_assert_cmpstr(sda->scheduler, ==, "mq-deadline");
	g_assert_true(sda->rotational);
	g_assert_null(sda->serial);
	/* an emulated NIC has one vector, not named after queues; a 5.10 kernel no cpu "full" */
	g_assert_cmpuint(find_nic(r, "ens3")->n_queue_interrupts, ==, 0);
	g_assert_nonnull(r->pressure->cpu_some);
	g_assert_null(r->pressure->cpu_full);
	g_assert_cmpuint(r->softnet->dropped, ==, 5);
}

static void
test_case(gconstpointer data)
{
	const char *name = data;
	static const struct {
		const char *name;
		CaseCheck check;
	} checks[] = {
		{"one-vcpu", check_one_vcpu},
		{"virtio-mq", check_virtio_mq},
		{"bfq-swap", check_bfq_swap},
		{"e1000-sata", check_e1000_sata},
	};
	g_autofree char *dir = g_build_filename(data_dir(), "guests", name, NULL);
	g_autofree char *root = g_build_filename(dir, "root", NULL);
	g_autofree char *answers = g_build_filename(dir, "ethtool.ini", NULL);
	g_autofree char *expected_path = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *json1 = NULL, *json2 = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = vt_ethtool_ops_replay_new(answers, &error);
	g_autoptr(VtCollector) c = NULL;
	g_autoptr(VtReport) r1 = NULL;
	g_autoptr(VtReport) r2 = NULL;

	g_assert_no_error(error);
	c = vt_collector_new(root, ops);
	r1 = vt_collector_collect(c);
	assert_report_bounded(r1);
	for (size_t i = 0; i < G_N_ELEMENTS(checks); i++)
		if (strcmp(checks[i].name, name) == 0)
			checks[i].check(r1);
	/* the second report comes from what was kept: it must not differ */
	r2 = vt_collector_collect(c);
	json1 = stable_json(r1);
	json2 = stable_json(r2);
	g_assert_cmpstr(json1, ==, json2);
	/* nor the reports made from recycled messages, twice over */
	for (int i = 0; i < 2; i++) {
		g_autofree char *json3 = NULL;

		vt_collector_recycle(c, g_steal_pointer(&r2));
		r2 = vt_collector_collect(c);
		json3 = stable_json(r2);
		g_assert_cmpstr(json1, ==, json3);
	}

	expected_path = g_strdup_printf("%s/%s.expected.json", dir, name);
	if (g_strcmp0(g_getenv("VT_TEST_REGENERATE"), "1") == 0) {
		g_file_set_contents(expected_path, json1, -1, &error);
		g_assert_no_error(error);
		g_test_message("regenerated %s", expected_path);
		return;
	}
	g_file_get_contents(expected_path, &expected, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json1, ==, expected);
}

/* ------------------------------------------------------------ hot-plug */

static void
test_hotplug(void)
{
	g_autofree char *src = g_build_filename(data_dir(), "guests", "one-vcpu", NULL);
	g_autofree char *from = g_build_filename(src, "root", NULL);
	g_autofree char *answers = g_build_filename(src, "ethtool.ini", NULL);
	g_autofree char *tmp = g_dir_make_tmp("vt-hotplug-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autofree char *vda = NULL;
	g_autofree char *eth1 = NULL;
	g_autofree char *eth0 = NULL;
	g_autofree char *vdb = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = vt_ethtool_ops_replay_new(answers, &error);
	g_autoptr(VtCollector) c = NULL;
	VtReport *r;

	g_assert_no_error(error);
	copy_tree(from, root);
	c = vt_collector_new(root, ops);
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_block, ==, 1);
	g_assert_cmpuint(r->n_nics, ==, 1);
	vt_report_free(r);

	/* a disk and a NIC appear; a loop device and an excluded disk do not count */
	disk(root, "vdb", "254:16\n", "none [mq-deadline] kyber bfq\n");
	disk(root, "loop3", "7:3\n", "[none]\n");
	disk(root, "sr0", "11:0\n", "[mq-deadline] none\n");
	vt_collector_set_excluded(c, (const char *const[]){"sr*", NULL});
	eth1 = g_build_filename(root, "sys/class/net/eth1", NULL);
	eth0 = g_build_filename(root, "sys/class/net/eth0", NULL);
	copy_tree(eth0, eth1);
	overwrite(root, "sys/class/net/eth1/ifindex", "7\n");
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_block, ==, 2);
	g_assert_cmpstr(r->block[1]->name, ==, "vdb");
	g_assert_cmpstr(r->block[1]->scheduler, ==, "mq-deadline");
	g_assert_cmpuint(r->n_nics, ==, 2);
	g_assert_cmpstr(r->nics[1]->name, ==, "eth1");
	/* no recorded answers for eth1: the ethtool fields are unset, and said so */
	g_assert_null(r->nics[1]->driver);
	g_assert_nonnull(find_section(r, "nics:eth1"));
	g_assert_cmpuint(r->nics[1]->mtu, ==, r->nics[0]->mtu);
	vt_report_free(r);

	/* vda goes; vdb is re-created with another dev_t and scheduler */
	vda = g_build_filename(root, "sys/block/vda", NULL);
	rm_rf(vda);
	vdb = g_build_filename(root, "sys/block/vdb", NULL);
	rm_rf(vdb);
	disk(root, "vdb", "254:32\n", "none mq-deadline kyber [bfq]\n");
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_block, ==, 1);
	g_assert_cmpstr(r->block[0]->name, ==, "vdb");
	g_assert_cmpstr(r->block[0]->scheduler, ==, "bfq");
	vt_report_free(r);

	/* a value changed in place shows without reopening */
	overwrite(root, "sys/block/vdb/queue/scheduler", "[none] mq-deadline kyber bfq\n");
	overwrite(root, "sys/class/net/eth1/mtu", "9000\n");
	r = vt_collector_collect(c);
	g_assert_cmpstr(r->block[0]->scheduler, ==, "none");
	g_assert_cmpuint(find_nic(r, "eth1")->mtu, ==, 9000);
	vt_report_free(r);

	/* the NIC goes */
	rm_rf(eth1);
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_nics, ==, 1);
	g_assert_null(find_nic(r, "eth1"));
	vt_report_free(r);
	rm_rf(tmp);
}

/* Settings kept between reads, counters read every report: a value written
 * in place shows at the next read of the settings, or at once after
 * vt_collector_settings_changed(). */
static void
test_settings_kept(void)
{
	g_autofree char *src = g_build_filename(data_dir(), "guests", "one-vcpu", NULL);
	g_autofree char *from = g_build_filename(src, "root", NULL);
	g_autofree char *answers = g_build_filename(src, "ethtool.ini", NULL);
	g_autofree char *tmp = g_dir_make_tmp("vt-settings-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = vt_ethtool_ops_replay_new(answers, &error);
	g_autoptr(VtCollector) c = NULL;
	VtReport *r;

	g_assert_no_error(error);
	copy_tree(from, root);
	c = vt_collector_new(root, ops);
	vt_collector_set_settings_refresh(c, 3);
	r = vt_collector_collect(c);
	g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "60");
	g_assert_cmpstr(find_block(r, "vda")->scheduler, ==, "mq-deadline");
	g_assert_cmpuint(find_block(r, "vda")->nr_requests, ==, 256);
	g_assert_cmpuint(find_block(r, "vda")->stats->reads, ==, 73280);
	vt_collector_recycle(c, r);

	overwrite(root, "proc/sys/vm/swappiness", "17\n");
	overwrite(root, "proc/sys/kernel/hostname", "renamed\n");
	overwrite(root, "sys/block/vda/queue/scheduler", "[none] mq-deadline\n");
	overwrite(root, "sys/block/vda/queue/nr_requests", "64\n");
	overwrite(root, "sys/block/vda/stat", "80000 1 2 3 4 5 6 7 0 9 10\n");
	overwrite(root, "sys/class/net/eth0/speed", "10000\n");
	for (guint i = 0; i < 2; i++) {
		/* the second and third report keep the settings, not the counters */
		r = vt_collector_collect(c);
		g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "60");
		g_assert_cmpstr(r->identity->hostname, ==, "guest-one");
		g_assert_cmpstr(find_block(r, "vda")->scheduler, ==, "mq-deadline");
		g_assert_cmpuint(find_block(r, "vda")->n_schedulers, ==, 4);
		g_assert_cmpuint(find_block(r, "vda")->nr_requests, ==, 256);
		g_assert_cmpuint(find_block(r, "vda")->stats->reads, ==, 80000);
		/* a speed read from sysfs, without the link state it was read in,
		 * is read every time */
		g_assert_cmpuint(find_nic(r, "eth0")->speed_mbps, ==, 10000);
		vt_collector_recycle(c, r);
	}
	/* the fourth reads them again */
	r = vt_collector_collect(c);
	g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "17");
	g_assert_cmpstr(r->identity->hostname, ==, "renamed");
	g_assert_cmpstr(find_block(r, "vda")->scheduler, ==, "none");
	g_assert_cmpuint(find_block(r, "vda")->n_schedulers, ==, 2);
	g_assert_cmpuint(find_block(r, "vda")->nr_requests, ==, 64);
	vt_collector_recycle(c, r);

	/* written (as the agent's apply does): the next report shows it */
	overwrite(root, "proc/sys/vm/swappiness", "5\n");
	overwrite(root, "sys/block/vda/queue/nr_requests", "32\n");
	r = vt_collector_collect(c);
	g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "17");
	vt_collector_recycle(c, r);
	vt_collector_settings_changed(c);
	r = vt_collector_collect(c);
	g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "5");
	g_assert_cmpuint(find_block(r, "vda")->nr_requests, ==, 32);
	vt_collector_recycle(c, r);

	/* refreshed every report: what is written shows at once */
	overwrite(root, "proc/sys/vm/swappiness", "7\n");
	vt_collector_set_settings_refresh(c, 1);
	r = vt_collector_collect(c);
	g_assert_cmpstr(report_sysctl(r, "vm.swappiness"), ==, "7");
	vt_collector_recycle(c, r);
	rm_rf(tmp);
}

/* While settings are kept, queue interrupts come from each vector's
 * /sys/kernel/irq/N/per_cpu_count, found through /proc/interrupts. */
static void
test_per_cpu_count(void)
{
	g_autofree char *src = g_build_filename(data_dir(), "guests", "one-vcpu", NULL);
	g_autofree char *from = g_build_filename(src, "root", NULL);
	g_autofree char *answers = g_build_filename(src, "ethtool.ini", NULL);
	g_autofree char *tmp = g_dir_make_tmp("vt-irq-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = vt_ethtool_ops_replay_new(answers, &error);
	g_autoptr(VtCollector) c = NULL;
	VtReport *r;

	g_assert_no_error(error);
	copy_tree(from, root);
	/* possible CPUs: one more than /proc/interrupts shows, offline */
	put(root, "sys/kernel/irq/25/per_cpu_count", "4400,5\n", -1);
	put(root, "sys/kernel/irq/26/per_cpu_count", "1300,0\n", -1);
	c = vt_collector_new(root, ops);
	vt_collector_set_settings_refresh(c, 3);
	r = vt_collector_collect(c);
	g_assert_cmpuint(find_nic(r, "eth0")->n_queue_interrupts, ==, 2);
	g_assert_cmpstr(find_nic(r, "eth0")->queue_interrupts[0]->queue, ==, "input.0");
	g_assert_cmpuint(find_nic(r, "eth0")->queue_interrupts[0]->count, ==, 4405);
	g_assert_cmpuint(find_nic(r, "eth0")->queue_interrupts[1]->count, ==, 1300);
	vt_collector_recycle(c, r);

	overwrite(root, "sys/kernel/irq/25/per_cpu_count", "5000,6\n");
	r = vt_collector_collect(c);
	g_assert_cmpuint(find_nic(r, "eth0")->queue_interrupts[0]->count, ==, 5006);
	vt_collector_recycle(c, r);

	/* a count that fell is another vector's: /proc/interrupts is read again */
	overwrite(root, "sys/kernel/irq/25/per_cpu_count", "1,0\n");
	r = vt_collector_collect(c);
	g_assert_cmpuint(find_nic(r, "eth0")->queue_interrupts[0]->count, ==, 4321);
	g_assert_cmpuint(find_nic(r, "eth0")->queue_interrupts[1]->count, ==, 1234);
	vt_collector_recycle(c, r);

	/* not of that form: the same */
	overwrite(root, "sys/kernel/irq/25/per_cpu_count", "1,x\n");
	r = vt_collector_collect(c);
	g_assert_cmpuint(find_nic(r, "eth0")->queue_interrupts[0]->count, ==, 4321);
	vt_collector_recycle(c, r);
	rm_rf(tmp);
}

/* Map entries handed back with vt_collector_recycle() serve the next report:
 * its keys and values are its own, whatever the last one held. */
static void
test_recycled_entries(void)
{
	g_autofree char *from = g_build_filename(data_dir(), "guests", "one-vcpu", "root", NULL);
	g_autofree char *tmp = g_dir_make_tmp("vt-recycle-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autofree char *meminfo = g_build_filename(from, "proc", "meminfo", NULL);
	g_autofree char *text = NULL;
	g_autoptr(VtCollector) c = NULL;
	VtReport *r;
	guint64 v;

	copy_tree(from, root);
	c = vt_collector_new(root, NULL);
	vt_collector_set_sections(c, (const char *const[]){"meminfo", NULL});
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_meminfo, >, 50);
	vt_collector_recycle(c, r);

	/* fewer lines, one key renamed, values changed */
	overwrite(root, "proc/meminfo",
		  "MemTotal:        1004316 kB\nMemNew:             7 kB\nHugePages_Total:       "
		  "3\n");
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_meminfo, ==, 3);
	g_assert_cmpstr(r->meminfo[1]->key, ==, "MemNew");
	g_assert_true(vt_report_meminfo(r, "MemNew", &v));
	g_assert_cmpuint(v, ==, 7 * 1024);
	g_assert_true(vt_report_meminfo(r, "HugePages_Total", &v));
	g_assert_cmpuint(v, ==, 3);
	g_assert_false(vt_report_meminfo(r, "MemFree", &v));
	vt_collector_recycle(c, r);

	/* and more lines again than the pool holds */
	g_assert_true(g_file_get_contents(meminfo, &text, NULL, NULL));
	overwrite(root, "proc/meminfo", text);
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_meminfo, >, 50);
	g_assert_cmpuint(report_meminfo(r, "MemTotal"), ==, 1004316ull * 1024);
	assert_report_bounded(r);
	vt_report_free(r);
	rm_rf(tmp);
}

static char *
packed_json(const VtReport *r)
{
	gsize len = protobuf_c_message_get_packed_size(&r->base);
	g_autofree guint8 *packed = g_malloc(len);
	g_autoptr(VtReport) decoded = NULL;

	protobuf_c_message_pack(&r->base, packed);
	decoded = virttune__v1__report__unpack(NULL, len, packed);
	g_assert_nonnull(decoded);
	return stable_json(decoded);
}

/* Features collected for the wire pack to what their messages pack to, and
 * follow the bits when they change. */
static void
test_features_encoded(void)
{
	g_autofree char *dir = g_build_filename(data_dir(), "guests", "one-vcpu", NULL);
	g_autofree char *root = g_build_filename(dir, "root", NULL);
	g_autofree char *answers = g_build_filename(dir, "ethtool.ini", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = vt_ethtool_ops_replay_new(answers, &error);
	g_autoptr(VtCollector) messages = NULL;
	g_autoptr(VtCollector) encoded = NULL;
	GKeyFile *kf;
	g_autofree char *features = NULL;

	g_assert_no_error(error);
	kf = ops->data;
	features = g_key_file_get_value(kf, "eth0", "features", NULL);
	g_assert_nonnull(strstr(features, "tx-scatter-gather:arc;"));
	messages = vt_collector_new(root, ops);
	encoded = vt_collector_new(root, ops);
	vt_collector_set_features_encoded(encoded, TRUE);
	for (guint round = 0; round < 3; round++) {
		g_autoptr(VtReport) m = vt_collector_collect(messages);
		VtReport *e = vt_collector_collect(encoded);
		g_autofree char *json_m = packed_json(m), *json_e = packed_json(e);
		g_autoptr(VtReport) decoded = NULL;
		gsize len = protobuf_c_message_get_packed_size(&e->base);
		g_autofree guint8 *packed = g_malloc(len);
		gboolean fixed;

		g_assert_cmpuint(find_nic(e, "eth0")->n_features, ==, 0);
		g_assert_cmpuint(find_nic(e, "eth0")->base.n_unknown_fields, ==, 1);
		g_assert_cmpuint(len, ==, protobuf_c_message_get_packed_size(&m->base));
		g_assert_cmpstr(json_e, ==, json_m);
		protobuf_c_message_pack(&e->base, packed);
		decoded = virttune__v1__report__unpack(NULL, len, packed);
		g_assert_cmpuint(find_nic(decoded, "eth0")->n_features, ==,
				 find_nic(m, "eth0")->n_features);
		/* the third report sees the bit turned off after the second */
		g_assert_true(nic_feature(find_nic(decoded, "eth0"), "tx-scatter-gather", &fixed) ==
			      (round < 2));
		vt_collector_recycle(encoded, e);
		if (round == 1) {
			g_autofree char *off = NULL;
			g_auto(GStrv) parts = g_strsplit(features, "tx-scatter-gather:arc;", 2);

			off = g_strconcat(parts[0], "tx-scatter-gather:ar;", parts[1], NULL);
			g_key_file_set_value(kf, "eth0", "features", off);
		}
	}
}

static void
test_sections(void)
{
	g_autofree char *root = g_build_filename(data_dir(), "guests", "one-vcpu", "root", NULL);
	g_autoptr(VtCollector) c = vt_collector_new(root, NULL);
	g_autoptr(VtReport) r = NULL;

	vt_collector_set_sections(c, (const char *const[]){"meminfo", "cpu", NULL});
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_sections, ==, 2);
	g_assert_cmpuint(r->n_nics, ==, 0);
	g_assert_null(r->identity);
	g_assert_nonnull(r->cpu);
	g_assert_cmpuint(r->n_meminfo, >, 50);
}

int
main(int argc, char **argv)
{
	static const char *const cases[] = {"one-vcpu", "virtio-mq", "bfq-swap", "e1000-sata"};

	g_test_init(&argc, &argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_strdup_printf("/collect/fixture/%s", cases[i]);
		g_test_add_data_func(path, cases[i], test_case);
	}
	g_test_add_func("/collect/hotplug", test_hotplug);
	g_test_add_func("/collect/sections", test_sections);
	g_test_add_func("/collect/settings-kept", test_settings_kept);
	g_test_add_func("/collect/per-cpu-count", test_per_cpu_count);
	g_test_add_func("/collect/recycled-entries", test_recycled_entries);
	g_test_add_func("/collect/features-encoded", test_features_encoded);
	return g_test_run();
}
