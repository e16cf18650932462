/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host facts beyond the basics: the host's NUMA cells (virsh capabilities
 * captured from the e2e libvirtd and from test:///default), cpusets, the
 * domain XML's tuning (iothreads, pinning, numatune, backing chains, MTU) and
 * the per-device domstats (captured from the e2e guest).
 */
#include <string.h>

#include <glib.h>

#include "capabilities.h"
#include "devstats.h"
#include "domain.h"
#include "domstats.h"
#include "error.h"
#include "facts-test.h"
#include "rates.h"
#include "report.h"

static VtHostCaps *
load_caps(const char *name)
{
	g_autofree char *path = vt_facts_test_path(name);
	g_autoptr(GError) error = NULL;
	VtHostCaps *caps = vt_host_caps_load(path, &error);

	g_assert_no_error(error);
	return caps;
}

static void
test_caps(void)
{
	g_autoptr(VtHostCaps) e2e = load_caps("e2e-capabilities.xml");
	g_autoptr(VtHostCaps) two = load_caps("test-default-capabilities.xml");
	const VtNumaCell *c1;

	g_assert_cmpstr(e2e->arch, ==, "x86_64");
	g_assert_cmpuint(e2e->cells->len, ==, 1);
	g_assert_cmpuint(e2e->cpus, ==, 2);
	g_assert_cmpint(vt_host_caps_node_of_cpu(e2e, 1), ==, 0);
	g_assert_cmpint(vt_host_caps_node_of_cpu(e2e, 2), ==, -1);

	g_assert_cmpuint(two->cells->len, ==, 2);
	g_assert_cmpuint(two->cpus, ==, 16);
	c1 = g_ptr_array_index(two->cells, 1);
	g_assert_cmpuint(c1->id, ==, 1);
	g_assert_cmpuint(c1->memory_bytes, ==, 4194304ull * 1024);
	g_assert_cmpint(vt_host_caps_node_of_cpu(two, 9), ==, 1);
	g_assert_cmpuint(vt_host_caps_cells_spanned(two, "0-3"), ==, 1);
	g_assert_cmpuint(vt_host_caps_cells_spanned(two, "0,8"), ==, 2);
	g_assert_cmpuint(vt_host_caps_cells_spanned(two, "0-8,^8"), ==, 1);
	g_assert_cmpuint(vt_host_caps_cells_spanned(two, "bogus"), ==, 0);
	g_assert_cmpuint(vt_host_caps_cells_spanned(NULL, "0"), ==, 0);
}

static void
test_caps_hostile(void)
{
	static const char *const bad[] = {
		"<domain/>",
		"<capabilities><host><topology><cells><cell id='x'/></cells></topology></host>"
		"</capabilities>",
		"<capabilities><host><topology><cells><cell id='0'><cpus><cpu id='99999'/></cpus>"
		"</cell></cells></topology></host></capabilities>",
		"<capabilities><host><topology><cells><cell id='0'><memory unit='parsec'>1</memory>"
		"</cell></cells></topology></host></capabilities>",
		"<capabilities><host>",
		"",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VtHostCaps) caps = vt_host_caps_parse(bad[i], -1, &error);

		g_assert_null(caps);
		g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	}
}

static void
test_cpuset(void)
{
	guint8 bits[VT_CPUSET_MAX / 8];

	g_assert_true(vt_cpuset_parse("0-3,^2,8", bits));
	g_assert_cmpuint(bits[0], ==, 0x0b);
	g_assert_cmpuint(bits[1], ==, 0x01);
	g_assert_true(vt_cpuset_parse("^1,0-1", bits)); /* exclusions apply last */
	g_assert_cmpuint(bits[0], ==, 0x01);
	g_assert_true(vt_cpuset_parse("8191", bits));
	g_assert_false(vt_cpuset_parse("8192", bits));
	g_assert_false(vt_cpuset_parse("3-1", bits));
	g_assert_false(vt_cpuset_parse("1-2-3", bits));
	g_assert_false(vt_cpuset_parse("", bits));
	g_assert_false(vt_cpuset_parse("a", bits));
	g_assert_false(vt_cpuset_parse(NULL, bits));
}

static void
test_xml_tuning(void)
{
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("chain-iothread.xml");
	g_autoptr(VtDomainFacts) e2e = vt_facts_test_xml("e2e-live.xml");
	const VtDiskFacts *vda = vt_facts_test_disk(f, 0), *vdb = vt_facts_test_disk(f, 1);

	g_assert_cmpuint(f->iothreads, ==, 2);
	g_assert_cmpstr(f->vcpupin_cpusets, ==, "0,1,8,9-10,^10");
	g_assert_cmpstr(f->emulatorpin_cpuset, ==, "2-3");
	g_assert_cmpstr(f->numatune_mode, ==, "interleave");
	g_assert_cmpstr(f->numatune_nodeset, ==, "0-1");
	g_assert_cmpuint(vda->backing_depth, ==, 3);
	g_assert_cmpstr(vda->backing_format, ==, "qcow2");
	g_assert_cmpuint(vda->iothread, ==, 0);
	g_assert_cmpuint(vdb->backing_depth, ==, 0);
	g_assert_cmpuint(vdb->iothread, ==, 1);
	g_assert_cmpuint(vt_facts_test_iface(f, 0)->mtu, ==, 9000);

	/* the e2e guest: raw files, no iothreads, no pinning, no <mtu> */
	g_assert_cmpuint(e2e->iothreads, ==, 0);
	g_assert_null(e2e->vcpupin_cpusets);
	g_assert_null(e2e->numatune_mode);
	g_assert_cmpuint(vt_facts_test_disk(e2e, 1)->backing_depth, ==, 0);
	g_assert_cmpuint(vt_facts_test_iface(e2e, 0)->mtu, ==, 0);
}

static VtDomstats *
load_domstats(const char *name, GPtrArray **keep)
{
	g_autofree char *path = vt_facts_test_path(name);
	g_autoptr(GError) error = NULL;

	*keep = vt_domstats_load(path, &error);
	g_assert_no_error(error);
	return vt_domstats_find(*keep, NULL);
}

static void
test_devstats(void)
{
	g_autoptr(GPtrArray) all = NULL;
	VtDomstats *stats = load_domstats("e2e-domstats-2.txt", &all);
	g_autoptr(GPtrArray) disks = vt_host_disks(stats);
	g_autoptr(GPtrArray) nics = vt_host_nics(stats);
	const VtHostDisk *vda = vt_host_disk_find(disks, "vda");
	guint64 v = 0;

	g_assert_cmpuint(disks->len, ==, 3);
	g_assert_true(vt_host_disk_get(vda, VT_HDISK_RD_REQS, &v));
	g_assert_cmpuint(v, ==, 7002);
	g_assert_true(vt_host_disk_get(vda, VT_HDISK_RD_TIMES, &v));
	g_assert_cmpuint(v, ==, 1009238322);
	g_assert_true(vt_host_disk_get(vda, VT_HDISK_CAPACITY, &v));
	g_assert_cmpuint(v, ==, 64u * 1024 * 1024);
	g_assert_true(vda->has_backing_index);
	g_assert_cmpuint(vda->chain_depth, ==, 0);
	g_assert_cmpuint(nics->len, ==, 1);
	g_assert_cmpstr(((VtHostNic *)g_ptr_array_index(nics, 0))->name, ==, "vnet0");
	g_assert_true(vt_host_nic_get(g_ptr_array_index(nics, 0), VT_HNIC_RX_DROP, &v));
	g_assert_cmpuint(v, ==, 1);
	g_assert_null(vt_host_disk_find(disks, "vdz"));
	g_assert_false(vt_host_disk_get(NULL, VT_HDISK_RD_REQS, &v));
}

/* domstats --backing: every layer as its own block.N, named after the top */
static void
test_devstats_backing(void)
{
	static const char text[] = "Domain: 'app1'\n"
				   "  block.count=4\n"
				   "  block.0.name=vda\n  block.0.backingIndex=4\n"
				   "  block.0.rd.reqs=10\n"
				   "  block.1.name=vda\n  block.1.backingIndex=3\n"
				   "  block.2.name=vda\n  block.2.backingIndex=2\n"
				   "  block.3.name=vdb\n  block.3.rd.reqs=x\n"
				   "  net.count=99999\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = vt_domstats_parse_text(text, -1, &error);
	g_autoptr(GPtrArray) disks = NULL, nics = NULL;
	guint64 v;

	g_assert_no_error(error);
	disks = vt_host_disks(g_ptr_array_index(all, 0));
	nics = vt_host_nics(g_ptr_array_index(all, 0));
	g_assert_cmpuint(disks->len, ==, 2);
	g_assert_cmpuint(vt_host_disk_find(disks, "vda")->chain_depth, ==, 2);
	g_assert_true(vt_host_disk_get(vt_host_disk_find(disks, "vda"), VT_HDISK_RD_REQS, &v));
	g_assert_false(vt_host_disk_get(vt_host_disk_find(disks, "vdb"), VT_HDISK_RD_REQS, &v));
	g_assert_cmpuint(nics->len, ==, 0);
	g_clear_pointer(&disks, g_ptr_array_unref);
	disks = vt_host_disks(NULL);
	g_assert_cmpuint(disks->len, ==, 0);
}

static VtReport *
load_report(const char *name)
{
	g_autofree char *path = vt_facts_test_path(name);
	g_autoptr(GError) error = NULL;
	VtReport *r = vt_report_load(path, &error);

	g_assert_no_error(error);
	return r;
}

/* Two reports and two domstats of the e2e guest taken around dd: 3000 direct
 * reads of vda and 1500 direct writes of vdb, 2.939 s apart. */
static void
test_rates_e2e(void)
{
	g_autoptr(GPtrArray) all1 = NULL, all2 = NULL;
	VtDomstats *s1 = load_domstats("e2e-domstats-1.txt", &all1);
	VtDomstats *s2 = load_domstats("e2e-domstats-2.txt", &all2);
	g_autoptr(VtReport) r1 = load_report("e2e-report-1.json");
	g_autoptr(VtReport) r2 = load_report("e2e-report-2.json");
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("e2e-live.xml");
	g_auto(VtRates) rates = {0};
	VtRates *r = &rates;
	const VtDiskRates *vda, *vdb;
	const VtNicRates *eth0;

	vt_rates_compute(r, r1, r2, s1, s2, 0, f);
	g_assert_cmpint(r->guest_window, ==, VT_RATES_INTERVAL);
	g_assert_cmpuint(r->n_disks, ==, 3);
	vda = vt_rates_disk(r, "vda");
	g_assert_cmpstr(vda->target, ==, "vda");
	g_assert_cmpfloat_with_epsilon(vda->guest_read_iops, 3000 / 2.939, 1e-6);
	g_assert_cmpfloat_with_epsilon(vda->guest_read_ms, 780.0 / 3000, 1e-9);
	g_assert_cmpint(vda->host_window, ==, VT_RATES_INTERVAL);
	g_assert_true(vda->has_host_iops); /* the guest's interval stands in */
	g_assert_cmpfloat_with_epsilon(vda->host_read_iops, 3000 / 2.939, 1e-6);
	g_assert_cmpfloat_with_epsilon(vda->host_read_ms, 330644380 / 1e6 / 3000, 1e-9);
	g_assert_true(vda->has_added_read_ms);
	g_assert_cmpfloat_with_epsilon(vda->added_read_ms, 0.26 - 330644380 / 1e6 / 3000, 1e-9);
	g_assert_false(vda->has_guest_write_ms);
	g_assert_false(vda->has_added_write_ms);
	vdb = vt_rates_disk(r, "vdb");
	g_assert_cmpfloat_with_epsilon(vdb->guest_write_ms, 746.0 / 1500, 1e-9);
	g_assert_cmpfloat_with_epsilon(vdb->host_write_ms, 148695109 / 1e6 / 1500, 1e-9);
	eth0 = vt_rates_nic(r, "eth0");
	g_assert_nonnull(eth0);
	g_assert_cmpstr(eth0->target, ==, "vnet0");
	g_assert_true(eth0->has_host);
	g_assert_true(r->has_softnet);
	g_assert_true(r->has_oom);
	g_assert_cmpuint(r->oom_kills, ==, 0);

	/* one report, one domstats: since boot on each side, no difference taken
	 * across windows of different lengths */
	vt_rates_compute(r, NULL, r2, NULL, s2, 0, f);
	vda = vt_rates_disk(r, "vda");
	g_assert_cmpint(vda->host_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_false(vda->has_host_iops);
	g_assert_cmpfloat_with_epsilon(vda->host_read_ms, 1009238322 / 1e6 / 7002, 1e-9);
	g_assert_true(vda->has_added_read_ms);
	/* no XML: nothing to pair the guest's disks with */
	vt_rates_compute(r, r1, r2, s1, s2, 0, NULL);
	g_assert_false(vt_rates_disk(r, "vda")->has_host);
	g_assert_true(vt_rates_disk(r, "vda")->has_guest);
	g_assert_null(vt_rates_disk(r, "vdz"));
}

/* The throttled run: vdb held to 40 IOPS on the host, 200 writes. */
static void
test_rates_throttled(void)
{
	g_autoptr(GPtrArray) all1 = NULL, all2 = NULL;
	VtDomstats *s1 = load_domstats("e2e-throttled-1.txt", &all1);
	VtDomstats *s2 = load_domstats("e2e-throttled-2.txt", &all2);
	g_autoptr(VtReport) r1 = load_report("e2e-throttled-report-1.json");
	g_autoptr(VtReport) r2 = load_report("e2e-throttled-report-2.json");
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("e2e-live.xml");
	g_auto(VtRates) rates = {0};
	VtRates *r = &rates;
	const VtDiskRates *vdb;

	vt_rates_compute(r, r1, r2, s1, s2, 6.13, f);
	vdb = vt_rates_disk(r, "vdb");
	g_assert_cmpfloat_with_epsilon(vdb->host_write_ms, 4659849502 / 1e6 / 200, 1e-9);
	g_assert_cmpfloat_with_epsilon(vdb->guest_write_ms, 4785.0 / 200, 1e-9);
	g_assert_cmpfloat_with_epsilon(vdb->host_write_iops, 200 / 6.13, 1e-9);
	/* the host's throttle is nearly all of it */
	g_assert_cmpfloat(vdb->added_write_ms, <, 0.05 * vdb->host_write_ms);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/facts/caps/parse", test_caps);
	g_test_add_func("/facts/caps/hostile", test_caps_hostile);
	g_test_add_func("/facts/caps/cpuset", test_cpuset);
	g_test_add_func("/facts/xml/tuning", test_xml_tuning);
	g_test_add_func("/facts/devstats/e2e", test_devstats);
	g_test_add_func("/facts/devstats/backing", test_devstats_backing);
	g_test_add_func("/facts/rates/e2e", test_rates_e2e);
	g_test_add_func("/facts/rates/throttled", test_rates_throttled);
	return g_test_run();
}
