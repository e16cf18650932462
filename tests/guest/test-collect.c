/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The collectors on fixture sysroots (tests/data/guests/<case>/root with the
 * recorded ethtool answers in <case>/ethtool.ini), compared with
 * <case>/<case>.expected.json; VT_TEST_REGENERATE=1 rewrites the expected
 * files. Also: a hostile sysroot built here, and devices plugged in and out
 * between two reports of one collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "collect/collector.h"
#include "ethtool-replay.h"
#include "json.h"
#include "message.h"

static const char *
data_dir(void)
{
	const char *dir = g_getenv("VT_TEST_DATA");

	g_assert_nonnull(dir);
	return dir;
}

/* ------------------------------------------------------------ checks */

/* Every string valid UTF-8 and bounded, every repeated field within its bound. */
static void
assert_bounded(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *base = (const char *)msg + f->offset;
		size_t n = 1;
		const void *const *items = (const void *const *)base;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)msg + f->quantifier_offset);
			items = *(const void *const *const *)base;
			g_assert_cmpuint(n, <=, 4096);
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				const char *s = items[k];
				if (s == NULL)
					continue;
				g_assert_true(g_utf8_validate(s, -1, NULL));
				g_assert_cmpuint(strlen(s), <=, VT_STRING_MAX);
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && items[k] != NULL) {
				assert_bounded(items[k]);
			}
		}
	}
}

static void
assert_report_bounded(const VtReport *r)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) packed = NULL;

	assert_bounded(&r->base);
	g_assert_cmpuint(r->n_block, <=, VT_REPORT_MAX_BLOCK);
	g_assert_cmpuint(r->n_nics, <=, VT_REPORT_MAX_NICS);
	g_assert_cmpuint(r->n_meminfo, <=, VT_REPORT_MAX_MAP_ENTRIES);
	g_assert_cmpuint(r->n_sections, <=, VT_REPORT_MAX_SECTIONS);
	for (size_t i = 0; i < r->n_nics; i++)
		g_assert_cmpuint(r->nics[i]->n_features, <=, VT_REPORT_MAX_FEATURES);
	for (size_t i = 0; i < r->n_block; i++)
		g_assert_cmpuint(r->block[i]->n_schedulers, <=, VT_REPORT_MAX_SCHEDULERS);
	if (r->swap != NULL)
		g_assert_cmpuint(r->swap->n_devices, <=, VT_REPORT_MAX_SWAP_DEVICES);
	packed = vt_message_pack(&r->base, TRUE, &error);
	g_assert_no_error(error);
}

/* The report as canonical JSON, minus what differs from run to run. */
static char *
stable_json(VtReport *r)
{
	g_autoptr(GError) error = NULL;
	char *text;

	r->has_collected_at_ms = FALSE;
	r->has_monotonic_ms = FALSE;
	if (r->identity != NULL)
		g_clear_pointer(&r->identity->agent_version, g_free);
	text = vt_json_message_to_string(&r->base, TRUE, &error);
	g_assert_no_error(error);
	return text;
}

static const VtSection *
find_section(const VtReport *r, const char *name)
{
	for (size_t i = 0; i < r->n_sections; i++)
		if (g_strcmp0(r->sections[i]->name, name) == 0)
			return r->sections[i];
	return NULL;
}

static const VtNic *
find_nic(const VtReport *r, const char *name)
{
	for (size_t i = 0; i < r->n_nics; i++)
		if (g_strcmp0(r->nics[i]->name, name) == 0)
			return r->nics[i];
	return NULL;
}

static const VtBlock *
find_block(const VtReport *r, const char *name)
{
	for (size_t i = 0; i < r->n_block; i++)
		if (g_strcmp0(r->block[i]->name, name) == 0)
			return r->block[i];
	return NULL;
}

static guint64
meminfo(const VtReport *r, const char *key)
{
	for (size_t i = 0; i < r->n_meminfo; i++)
		if (strcmp(r->meminfo[i]->key, key) == 0)
			return r->meminfo[i]->value;
	g_assert_not_reached();
}

static const char *
sysctl(const VtReport *r, const char *key)
{
	for (size_t i = 0; i < r->n_sysctl; i++)
		if (strcmp(r->sysctl[i]->key, key) == 0)
			return r->sysctl[i]->value;
	return NULL;
}

static gboolean
feature(const VtNic *nic, const char *name, gboolean *fixed)
{
	for (size_t i = 0; i < nic->n_features; i++)
		if (strcmp(nic->features[i]->name, name) == 0) {
			*fixed = nic->features[i]->fixed;
			return nic->features[i]->active;
		}
	g_assert_not_reached();
}

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
	g_assert_cmpuint(meminfo(r, "MemTotal"), ==, 1004316ull * 1024);
	g_assert_cmpuint(meminfo(r, "HugePages_Total"), ==, 0);
	g_assert_cmpuint(meminfo(r, "Hugepagesize"), ==, 2048ull * 1024);
	g_assert_cmpuint(r->swap->n_devices, ==, 0);
	g_assert_nonnull(eth0);
	g_assert_cmpstr(eth0->driver, ==, "virtio_net");
	g_assert_cmpuint(eth0->channels->max_combined, ==, 1);
	g_assert_cmpuint(eth0->rings->rx_max, ==, 256);
	g_assert_true(feature(eth0, "rx-checksum", &fixed));
	g_assert_true(fixed);
	g_assert_true(feature(eth0, "tx-tcp-segmentation", &fixed));
	g_assert_false(fixed);
	g_assert_cmpstr(vda->scheduler, ==, "mq-deadline");
	g_assert_cmpuint(vda->n_schedulers, ==, 4);
	g_assert_cmpstr(vda->driver, ==, "virtio_blk");
	g_assert_cmpuint(vda->stats->flushes, >, 0);
	g_assert_cmpstr(sysctl(r, "kernel.transparent_hugepage.enabled"), ==, "madvise");
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
	g_assert_cmpuint(meminfo(r, "SwapTotal"), ==, 3145720ull * 1024);
	g_assert_cmpstr(sysctl(r, "vm.swappiness"), ==, "100");
	for (size_t i = 0; i < r->n_vmstat; i++)
		if (strcmp(r->vmstat[i]->key, "allocstall") == 0)
			g_assert_cmpuint(r->vmstat[i]->value, ==, 112 + 37);
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
	g_assert_true(feature(ens3, "rx-vlan-filter", &fixed));
	g_assert_true(fixed);
	g_assert_cmpstr(sda->driver, ==, "sd");
	g_assert_cmpstr(sda->scheduler, ==, "mq-deadline");
	g_assert_true(sda->rotational);
	g_assert_null(sda->serial);
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

/* ------------------------------------------------------------ temp sysroots */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put(const char *root, const char *rel, const char *data, gssize len)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	gsize n = len < 0 ? strlen(data) : (gsize)len;
	int fd;

	/* plain writes: g_file_set_contents() would fsync each of thousands of files */
	g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, n), ==, (gssize)n);
	close(fd);
}

/* Rewrites in place (same inode), as the kernel's files change under an open fd. */
static void
overwrite(const char *root, const char *rel, const char *data)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, strlen(data)), ==, (gssize)strlen(data));
	close(fd);
}

static void
copy_tree(const char *from, const char *to)
{
	g_autoptr(GDir) dir = g_dir_open(from, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	g_assert_cmpint(g_mkdir_with_parents(to, 0755), ==, 0);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *src = g_build_filename(from, name, NULL);
		g_autofree char *dst = g_build_filename(to, name, NULL);

		if (g_file_test(src, G_FILE_TEST_IS_SYMLINK)) {
			g_autofree char *target = g_file_read_link(src, NULL);
			g_assert_cmpint(symlink(target, dst), ==, 0);
		} else if (g_file_test(src, G_FILE_TEST_IS_DIR)) {
			copy_tree(src, dst);
		} else {
			g_autofree char *data = NULL;
			gsize len;
			g_assert_true(g_file_get_contents(src, &data, &len, NULL));
			put(to, name, data, (gssize)len);
		}
	}
}

static void
disk(const char *root, const char *name, const char *dev, const char *scheduler)
{
	static const char stat[] = "     100        0     800       10        5        0       40 "
				   "       2        0       12       12        0        0        0 "
				   "       0        1        0\n";
	g_autofree char *p = NULL;

#define PUT(rel, text)                                                                             \
	do {                                                                                       \
		g_free(p);                                                                         \
		p = g_strdup_printf("sys/block/%s/%s", name, rel);                                 \
		put(root, p, text, -1);                                                            \
	} while (0)
	PUT("dev", dev);
	PUT("size", "2097152\n");
	PUT("stat", stat);
	PUT("queue/scheduler", scheduler);
	PUT("queue/nr_requests", "256\n");
	PUT("queue/read_ahead_kb", "128\n");
	PUT("queue/rotational", "1\n");
	PUT("queue/max_sectors_kb", "1280\n");
	PUT("queue/discard_max_bytes", "0\n");
#undef PUT
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

/* ------------------------------------------------------------ hostile */

static void
test_hostile(void)
{
	g_autofree char *tmp = g_dir_make_tmp("vt-hostile-XXXXXX", NULL);
	g_autofree char *root = g_build_filename(tmp, "root", NULL);
	g_autofree char *answers = g_build_filename(tmp, "ethtool.ini", NULL);
	g_autoptr(GString) big = g_string_new(NULL);
	g_autoptr(GString) ini = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEthtoolOps) ops = NULL;
	g_autoptr(VtCollector) c = NULL;
	g_autoptr(VtReport) r = NULL;
	g_autofree char *json = NULL;
	g_autoptr(VtReport) back = NULL;
	const VtNic *nic;

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
	put(tmp, "ethtool.ini", ini->str, -1);

	ops = vt_ethtool_ops_replay_new(answers, &error);
	g_assert_no_error(error);
	c = vt_collector_new(root, ops);
	r = vt_collector_collect(c);
	assert_report_bounded(r);

	/* the report still comes out, with what could be read */
	g_assert_cmpuint(meminfo(r, "MemTotal"), ==, 1000 * 1024);
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
	g_assert_null(sysctl(r, "kernel.transparent_hugepage.enabled"));
	g_assert_cmpuint(strlen(sysctl(r, "vm.dirty_ratio")), <=, VT_STRING_MAX);
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
	g_assert_cmpstr(r->sections[8]->name, ==, "block:sd00");
	last = r->sections[r->n_sections - 1];
	g_assert_cmpstr(last->name, ==, "more");
	/* 60 disks, 23 shown: 37 left, with the sections of this empty root */
	g_assert_nonnull(strstr(last->error, "more devices"));
	rm_rf(tmp);
}

/* A sysroot that is not there: every section says why, nothing crashes. */
static void
test_missing_sysroot(void)
{
	g_autoptr(VtCollector) c = vt_collector_new("/nonexistent/vt-sysroot", NULL);
	g_autoptr(VtReport) r = vt_collector_collect(c);

	g_assert_cmpuint(r->n_sections, ==, 8);
	for (size_t i = 0; i < r->n_sections; i++) {
		g_assert_false(r->sections[i]->ok);
		g_assert_nonnull(r->sections[i]->error);
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
	g_test_add_func("/collect/hostile", test_hostile);
	g_test_add_func("/collect/missing-sysroot", test_missing_sysroot);
	g_test_add_func("/collect/sections-bound", test_sections_bound);
	g_test_add_func("/collect/sections", test_sections);
	return g_test_run();
}
