/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The collectors on a hostile sysroot built here (garbage, overflow, invalid
 * UTF-8, overlong files, a thousand disks, lying ethtool answers), more
 * devices with problems than the report has sections for, and no sysroot.
 */
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "collect-util.h"
#include "ethtool-replay.h"
#include "json.h"

/* procfs and the sysctls: garbage numbers, overflow, overlong lines and files,
 * invalid UTF-8, missing files. */
static void
hostile_proc(const char *root)
{
	g_autoptr(GString) big = g_string_new(NULL);

	/* meminfo: garbage numbers, overflow, an overlong line, a duplicate, 300 keys */
	g_string_append(big, "MemTotal:  1000 kB\nMemFree: -5 kB\nBogus: 99999999999999999999 kB\n"
			     "Huge: 18446744073709551615 kB\nMemTotal: 7 kB\nNoColon 12\n");
	for (int i = 0; i < 300; i++)
		g_string_append_printf(big, "Key%d: %d kB\n", i, i);
	/* past the read bound: the file is cut, and said so */
	g_string_append(big, "Long:");
	for (int i = 0; i < 100000; i++)
		g_string_append_c(big, '9');
	g_string_append_c(big, '\n');
	put(root, "proc/meminfo", big->str, (gssize)big->len);
	put(root, "proc/vmstat",
	    "pgfault 12\npswpin abc\npgmajfault\nallocstall_normal "
	    "18446744073709551615\nallocstall_movable 5\n",
	    -1);
	/* swaps: a path with escapes and invalid UTF-8, garbage sizes, 40 devices */
	g_string_truncate(big, 0);
	g_string_append(big, "Filename Type Size Used Priority\n/swap\\040file\xff\xfe file 100 10 "
			     "-1\n/dev/x partition 12x 1 1\n/dev/y partition 1 1 99999999999\n");
	for (int i = 0; i < 40; i++)
		g_string_append_printf(big, "/dev/z%d partition 8 0 %d\n", i, i);
	put(root, "proc/swaps", big->str, -1);
	put(root, "proc/stat", "cpu  1 2 x 4\n", -1);
	put(root, "proc/loadavg", "nan inf -1 1/2 3\n", -1);
	put(root, "proc/uptime", "\xff\xff\n", -1);
	put(root, "proc/sys/kernel/hostname", "host\xc3\x28name\x01\n", -1);
	put(root, "sys/devices/system/cpu/online", "0-99999999\n", -1);
	put(root, "sys/kernel/mm/transparent_hugepage/enabled", "always madvise never\n", -1);
	put(root, "proc/sys/vm/swappiness", "\xe2\x82\n", -1);
	g_string_truncate(big, 0);
	for (int i = 0; i < 5000; i++)
		g_string_append(big, "é");
	put(root, "proc/sys/vm/dirty_ratio", big->str, -1);
	/* os-release, boot_id, the other sysctls: missing */
}

static void
hostile_disks(const char *root)
{
	g_autoptr(GString) big = g_string_new(NULL);

	/* 1000 disks, one of them with garbage in every file */
	for (int i = 0; i < 1000; i++) {
		g_autofree char *name = g_strdup_printf("vd%04d", i);
		g_autofree char *dev = g_strdup_printf("254:%d\n", i);
		disk(root, name, dev, "[none] mq-deadline\n");
	}
	put(root, "sys/block/vd0000/stat", "1 2 3\n", -1);
	put(root, "sys/block/vd0000/size", "99999999999999999999999\n", -1);
	put(root, "sys/block/vd0000/serial", "ser\xff\xfeial", -1);
	g_string_truncate(big, 0);
	for (int i = 0; i < 100; i++)
		g_string_append_printf(big, "s%d ", i);
	put(root, "sys/block/vd0000/queue/scheduler", big->str, -1);
	put(root, "sys/block/vd0000/queue/rotational", "2\n", -1);
}

/* @answers: the recorded ethtool answers to write. */
static void
hostile_nics(const char *root, const char *answers)
{
	g_autoptr(GString) ini = g_string_new(NULL);
	g_autofree char *dir = g_path_get_dirname(answers);

	/* NICs: a hostile one with bad sysfs and ethtool answers, and a bare one */
	put(root, "sys/class/net/bad0/mtu", "-1\n", -1);
	put(root, "sys/class/net/bad0/address", "zz:zz\n", -1);
	put(root, "sys/class/net/bad0/carrier", "7\n", -1);
	put(root, "sys/class/net/bad0/statistics/rx_bytes", "1e9\n", -1);
	put(root, "sys/class/net/bare1/ifindex", "3\n", -1);
	g_string_append(ini, "[bad0]\ndriver=drv\xff-overlong-driver-name-that-fills-every-byte\n"
			     "bus-info=\xc3\x28\nchannels=1;2\nrings=error:EIO\nfeatures=");
	for (int i = 0; i < 200; i++)
		g_string_append_printf(ini, "f%03d-\xff:ac;", i);
	g_string_append(ini, "\n[bare1]\ndriver=x\nfeatures=a:c\nfeatures-count=5000\n");
	put(dir, "ethtool.ini", ini->str, -1);
}

static void
check_hostile_report(const VtReport *r)
{
	g_assert_cmpuint(report_meminfo(r, "MemTotal"), ==, 1000 * 1024);
	g_assert_cmpuint(r->n_meminfo, ==, VT_REPORT_MAX_MAP_ENTRIES);
	g_assert_cmpuint(r->n_block, ==, VT_REPORT_MAX_BLOCK);
	g_assert_cmpstr(r->block[0]->name, ==, "vd0000");
	g_assert_null(r->block[0]->stats);
	g_assert_false(r->block[0]->has_size_bytes);
	g_assert_false(r->block[0]->has_rotational);
	g_assert_true(g_utf8_validate(r->block[0]->serial, -1, NULL));
	g_assert_cmpstr(r->block[1]->scheduler, ==, "none");
	g_assert_cmpuint(r->swap->n_devices, ==, VT_REPORT_MAX_SWAP_DEVICES);
	g_assert_cmpint(r->swap->devices[0]->priority, ==, -1);
	g_assert_false(r->cpu->has_online);
	g_assert_false(r->cpu->has_total_ticks);
	g_assert_false(r->cpu->has_loadavg_1);
	g_assert_null(report_sysctl(r, "kernel.transparent_hugepage.enabled"));
	g_assert_cmpuint(strlen(report_sysctl(r, "vm.dirty_ratio")), <=, VT_STRING_MAX);
}

static void
check_hostile_nics(const VtReport *r)
{
	const VtNic *nic;

	nic = find_nic(r, "bad0");
	g_assert_nonnull(nic);
	g_assert_false(nic->has_mtu);
	g_assert_null(nic->mac);
	g_assert_false(nic->has_link_up);
	g_assert_null(nic->channels);
	g_assert_null(nic->rings);
	g_assert_cmpuint(nic->n_features, ==, VT_REPORT_MAX_FEATURES);
	/* the 32-byte field was read to its end and no further; the bad byte became U+FFFD */
	g_assert_true(g_str_has_prefix(nic->driver, "drv\xef\xbf\xbd-overlong"));
	g_assert_cmpuint(strlen(nic->driver), ==, 32 - 1 + 3);
	nic = find_nic(r, "bare1");
	g_assert_cmpuint(nic->n_features, ==, 0);

	g_assert_nonnull(find_section(r, "nics:bare1"));
	g_assert_nonnull(find_section(r, "meminfo"));
	g_assert_nonnull(strstr(find_section(r, "meminfo")->error, "longer than"));
	g_assert_true(find_section(r, "meminfo")->ok);
}

static void
test_hostile(void)
{
	g_autofree char *tmp = g_dir_make_tmp("vt-hostile-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autofree char *answers = g_build_filename(tmp, "ethtool.ini", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = NULL;
	g_autoptr(VtCollector) c = NULL;
	g_autoptr(VtReport) r = NULL;
	g_autofree char *json = NULL;
	g_autoptr(VtReport) back = NULL;

	hostile_proc(root);
	hostile_disks(root);
	hostile_nics(root, answers);
	ops = vt_ethtool_ops_replay_new(answers, &error);
	g_assert_no_error(error);
	c = vt_collector_new(root, ops);
	r = vt_collector_collect(c);
	assert_report_bounded(r);
	/* the report still comes out, with what could be read */
	check_hostile_report(r);
	check_hostile_nics(r);
	/* and it survives the trip through JSON */
	json = vt_json_message_to_string(&r->base, FALSE, &error);
	g_assert_no_error(error);
	back = (VtReport *)vt_json_message_from_string(&virttune__v1__report__descriptor, json, -1,
						       &error);
	g_assert_no_error(error);
	g_assert_cmpuint(back->n_block, ==, VT_REPORT_MAX_BLOCK);
	rm_rf(tmp);
}

/* More devices with problems than sections: the last line counts the rest. */
static void
test_sections_bound(void)
{
	g_autofree char *tmp = g_dir_make_tmp("vt-sections-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autoptr(VtCollector) c = NULL;
	g_autoptr(VtReport) r = NULL;
	const VtSection *last;

	for (int i = 0; i < 60; i++) {
		g_autofree char *name = g_strdup_printf("sd%02d", i);
		g_autofree char *dev = g_strdup_printf("8:%d\n", i * 16);
		g_autofree char *stat = g_strdup_printf("sys/block/%s/stat", name);

		disk(root, name, dev, "[none]\n");
		put(root, stat, "garbage\n", -1);
	}
	c = vt_collector_new(root, NULL);
	r = vt_collector_collect(c);
	g_assert_cmpuint(r->n_block, ==, 60);
	g_assert_cmpuint(r->n_sections, ==, VT_REPORT_MAX_SECTIONS);
	g_assert_cmpstr(r->sections[10]->name, ==, "block:sd00");
	last = r->sections[r->n_sections - 1];
	g_assert_cmpstr(last->name, ==, "more");
	/* 60 disks, 21 shown: 39 left, with the sections of this empty root */
	g_assert_nonnull(strstr(last->error, "more devices"));
	rm_rf(tmp);
}

/* A sysroot that is not there: every section says why, nothing crashes. */
static void
test_missing_sysroot(void)
{
	g_autoptr(VtCollector) c = vt_collector_new("/nonexistent/vt-sysroot", NULL);
	g_autoptr(VtReport) r = vt_collector_collect(c);

	g_assert_cmpuint(r->n_sections, ==, 10);
	for (size_t i = 0; i < r->n_sections; i++) {
		g_assert_false(r->sections[i]->ok);
		g_assert_nonnull(r->sections[i]->error);
	}
}

/* PSI, softnet and /proc/interrupts: garbage lines are left out and counted,
 * a NIC's queues stop at the bound, a queue named twice counts once. */
static void
hostile_pressure_softnet_irqs(const char *root)
{
	g_autoptr(GString) irqs = g_string_new("    CPU0 CPU1\n");
	g_autofree char *link = NULL;

	put(root, "proc/pressure/cpu",
	    "some avg10=nan avg60=0 avg300=0 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 "
	    "total=5\nfull avg10=1 avg60=1 avg300=1 total=6\n",
	    -1);
	put(root, "proc/pressure/memory",
	    "some avg10=101 avg60=0 avg300=0 total=1\nsome avg60=1 avg300=1 total=1\n", -1);
	put(root, "proc/pressure/io", "some avg10=1 avg60=2 avg300=3 total=99999999999999999999\n",
	    -1);
	put(root, "proc/net/softnet_stat",
	    "0000000g 0 0\nffffffffffffffff ffffffffffffffff 1\n00000010 00000001 00000002\n"
	    "12\n",
	    -1);
	static const char *const link_files[] = {
		"mtu",       "address",    "carrier",  "speed",      "rx_bytes",  "rx_packets",
		"rx_errors", "rx_dropped", "tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
	};

	put(root, "sys/class/net/bad0/ifindex", "2\n", -1);
	/* a healthy link: the only problem left is the one with the queues */
	for (guint i = 0; i < G_N_ELEMENTS(link_files); i++) {
		g_autofree char *rel = g_strdup_printf("sys/class/net/bad0/%s%s",
						       i >= 4 ? "statistics/" : "", link_files[i]);

		put(root, rel, i == 1 ? "52:54:00:00:00:01\n" : "1\n", -1);
	}
	link = g_build_filename(root, "sys/class/net/bad0/device", NULL);
	g_assert_cmpint(symlink("../../../virtio7", link), ==, 0);
	for (guint i = 0; i < VT_REPORT_MAX_QUEUE_IRQS / 2 + 10; i++)
		g_string_append_printf(
			irqs, "%u: 1 2 MSI x virtio7-input.%u\n%u: 3 x virtio7-output.%u\n", i * 2,
			i, i * 2 + 1, i);
	g_string_append(irqs, "9999: 5 5 MSI virtio7-input.0\nbad line\n: 1 virtio7-input.x\n");
	put(root, "proc/interrupts", irqs->str, -1);
}

static void
test_hostile_pressure(void)
{
	g_autofree char *tmp = g_dir_make_tmp("vt-psi-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autoptr(VtCollector) c = NULL;
	g_autoptr(VtReport) r = NULL;
	const VtNic *nic;

	hostile_pressure_softnet_irqs(root);
	c = vt_collector_new(root, NULL);
	r = vt_collector_collect(c);
	assert_report_bounded(r);
	g_assert_nonnull(r->pressure);
	g_assert_null(r->pressure->cpu_some);
	g_assert_cmpuint(r->pressure->cpu_full->total_us, ==, 5);
	g_assert_null(r->pressure->memory_some);
	g_assert_null(r->pressure->io_some);
	g_assert_nonnull(strstr(find_section(r, "pressure")->error, "not understood"));
	g_assert_cmpuint(r->softnet->processed, ==, (guint64)G_MAXINT64);
	g_assert_cmpuint(r->softnet->dropped, ==, (guint64)G_MAXINT64);
	g_assert_cmpuint(r->softnet->time_squeeze, ==, 3);
	g_assert_nonnull(strstr(find_section(r, "softnet")->error, "2 lines"));
	nic = find_nic(r, "bad0");
	g_assert_cmpuint(nic->n_queue_interrupts, ==, VT_REPORT_MAX_QUEUE_IRQS);
	g_assert_cmpstr(nic->queue_interrupts[0]->queue, ==, "input.0");
	g_assert_cmpuint(nic->queue_interrupts[0]->count, ==, 3);
	g_assert_cmpuint(nic->queue_interrupts[1]->count, ==, 3);
	g_assert_nonnull(strstr(find_section(r, "nics:bad0")->error, "more queues"));
	rm_rf(tmp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/collect/hostile", test_hostile);
	g_test_add_func("/collect/missing-sysroot", test_missing_sysroot);
	g_test_add_func("/collect/sections-bound", test_sections_bound);
	g_test_add_func("/collect/hostile-pressure", test_hostile_pressure);
	return g_test_run();
}
