/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Facts: domstats (text and libvirt records), rates, matching, report files. */
#include <string.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "bounds.h"
#include "domain.h"
#include "domstats.h"
#include "error.h"
#include "facts-test.h"
#include "json.h"
#include "match.h"
#include "rates.h"
#include "report.h"

/* ------------------------------------------------------------ domstats */

static GPtrArray *
load_stats(void)
{
	g_autofree char *path = vt_facts_test_path("domstats.txt");
	g_autoptr(GError) error = NULL;
	GPtrArray *all = vt_domstats_load(path, &error);

	g_assert_no_error(error);
	g_assert_nonnull(all);
	return all;
}

static void
test_domstats_text(void)
{
	g_autoptr(GPtrArray) all = load_stats();
	const VtDomstats *db1, *web1;
	guint64 v;
	double d;

	g_assert_cmpuint(all->len, ==, 2);
	db1 = vt_domstats_find(all, "db1");
	web1 = vt_domstats_find(all, "web1");
	g_assert_nonnull(db1);
	g_assert_nonnull(web1);
	g_assert_null(vt_domstats_find(all, "nope"));
	g_assert_null(vt_domstats_find(all, NULL)); /* two domains: ambiguous */
	g_assert_cmpuint(g_hash_table_size(db1->values), ==, 81);
	g_assert_true(vt_domstats_get_uint64(db1, "balloon.current", &v));
	g_assert_cmpuint(v, ==, 12582912);
	g_assert_true(vt_domstats_get_uint64(db1, "balloon.last-update", &v));
	g_assert_cmpuint(v, ==, 1763805590);
	g_assert_true(vt_domstats_get_uint64f(db1, &v, "vcpu.%u.delay", 3));
	g_assert_cmpuint(v, ==, 5000000000);
	g_assert_true(vt_domstats_get_uint64(db1, "block.0.wr.times", &v));
	g_assert_cmpuint(v, ==, 412345678901);
	g_assert_cmpstr(vt_domstats_get_string(db1, "net.1.name"), ==, "vnet8");
	g_assert_cmpstr(vt_domstats_get_string(db1, "block.1.path"), ==,
			"/var/lib/libvirt/images/db1.qcow2");
	g_assert_false(vt_domstats_get_uint64(db1, "net.1.name", &v)); /* a string */
	g_assert_true(vt_domstats_get_double(db1, "net.0.rx.drop", &d));
	g_assert_cmpfloat(d, ==, 12.0);
	g_assert_false(vt_domstats_get_uint64(web1, "balloon.current", &v));
	g_assert_true(vt_domstats_get_uint64(web1, "state.state", &v));
	g_assert_cmpuint(v, ==, 5);
}

static void
test_domstats_values(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = vt_domstats_parse_text(
		"Domain: 'a b'\n  x.neg=-5\n  x.dbl=0.250000\n  x.str=yes\n  x.empty=\n"
		"  x.eq=a=b\n",
		-1, &error);
	const VtDomstats *s;
	const VtStatValue *v;
	guint64 u;
	double d;

	g_assert_no_error(error);
	s = vt_domstats_find(all, NULL);
	g_assert_cmpstr(s->domain, ==, "a b");
	v = vt_domstats_lookup(s, "x.neg");
	g_assert_cmpint(v->type, ==, VT_STAT_INT64);
	g_assert_cmpint(v->i, ==, -5);
	g_assert_false(vt_domstats_get_uint64(s, "x.neg", &u));
	g_assert_true(vt_domstats_get_double(s, "x.dbl", &d));
	g_assert_cmpfloat(d, ==, 0.25);
	g_assert_cmpstr(vt_domstats_get_string(s, "x.str"), ==, "yes");
	g_assert_cmpstr(vt_domstats_get_string(s, "x.empty"), ==, "");
	g_assert_cmpstr(vt_domstats_get_string(s, "x.eq"), ==, "a=b");
}

static void
expect_stats_error(const char *text, gssize len, gint code, const char *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = vt_domstats_parse_text(text, len, &error);

	g_assert_null(all);
	g_assert_error(error, VT_ERROR, code);
	if (strstr(error->message, needle) == NULL)
		g_error("'%s' does not mention '%s'", error->message, needle);
}

static void
test_domstats_errors(void)
{
	g_autoptr(GString) keys = g_string_new("Domain: 'x'\n");
	g_autoptr(GString) longkey = g_string_new("Domain: 'x'\n  ");

	expect_stats_error("", 0, VT_ERROR_INVALID, "no \"Domain");
	expect_stats_error("  balloon.current=1\n", -1, VT_ERROR_INVALID, "line 1");
	expect_stats_error("Domain: 'x'\n  garbage\n", -1, VT_ERROR_INVALID, "line 2");
	expect_stats_error("Domain: 'x'\n  =1\n", -1, VT_ERROR_INVALID, "line 2");
	expect_stats_error("Domain: ''\n", -1, VT_ERROR_INVALID, "domain name");
	expect_stats_error("Domain: 'x'\n  a=\xff\n", -1, VT_ERROR_INVALID, "UTF-8");
	expect_stats_error("Domain: 'x'\n  a=1\0b=2\n", 18, VT_ERROR_INVALID, "NUL");
	for (guint i = 0; i <= VT_DOMSTATS_MAX_KEYS; i++)
		g_string_append_printf(keys, "  k.%u=1\n", i);
	expect_stats_error(keys->str, -1, VT_ERROR_TOO_LARGE, "keys");
	for (guint i = 0; i < VT_DOMSTATS_KEY_MAX; i++)
		g_string_append_c(longkey, 'k');
	g_string_append(longkey, "=1\n");
	expect_stats_error(longkey->str, -1, VT_ERROR_INVALID, "key of");
}

static void
test_domstats_record(void)
{
	virConnectPtr conn = virConnectOpen("test:///default");
	virDomainStatsRecordPtr *records = NULL;
	int n;

	if (conn == NULL) {
		g_test_skip("libvirt's test driver is not available");
		return;
	}
	n = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_STATE, &records, 0);
	g_assert_cmpint(n, ==, 1);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(VtDomstats) s = vt_domstats_from_record(records[0], &error);
		guint64 state;

		g_assert_no_error(error);
		g_assert_cmpstr(s->domain, ==, "test");
		g_assert_true(vt_domstats_get_uint64(s, "state.state", &state));
		g_assert_cmpuint(state, ==, VIR_DOMAIN_RUNNING);
	}
	virDomainStatsRecordListFree(records);
	virConnectClose(conn);
}

/* ------------------------------------------------------------ reports + rates */

static VtReport *
report_from_json(const char *json)
{
	g_autoptr(GError) error = NULL;
	VtReport *r = vt_report_decode((const guint8 *)json, strlen(json), &error);

	g_assert_no_error(error);
	g_assert_nonnull(r);
	return r;
}

#define BOOT_A "\"identity\":{\"boot_id\":\"a\",\"uptime_s\":1000}"
#define BOOT_B "\"identity\":{\"boot_id\":\"b\",\"uptime_s\":1000}"

static void
test_rates_reports(void)
{
	g_autoptr(VtReport) prev = report_from_json(
		"{" BOOT_A ",\"swap\":{\"pswpin\":1000,\"pswpout\":5000},"
		"\"cpu\":{\"total_ticks\":100000,\"steal_ticks\":1000},\"monotonic_ms\":1000000}");
	g_autoptr(VtReport) cur = report_from_json(
		"{" BOOT_A ",\"swap\":{\"pswpin\":7000,\"pswpout\":8000},"
		"\"cpu\":{\"total_ticks\":112000,\"steal_ticks\":2200},\"monotonic_ms\":1060000}");
	g_autoptr(VtReport) rebooted = report_from_json(
		"{" BOOT_B ",\"swap\":{\"pswpin\":2000,\"pswpout\":4000},"
		"\"cpu\":{\"total_ticks\":200000,\"steal_ticks\":500},\"monotonic_ms\":1000000}");
	g_auto(VtRates) r = {0};

	vt_rates_compute(&r, prev, cur, NULL, NULL, 0, NULL);
	g_assert_cmpint(r.guest_window, ==, VT_RATES_INTERVAL);
	g_assert_cmpfloat_with_epsilon(r.guest_interval_s, 60.0, 1e-9);
	g_assert_true(r.has_swap);
	g_assert_cmpfloat_with_epsilon(r.swap_in_pps, 100.0, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.swap_out_pps, 50.0, 1e-9);
	g_assert_true(r.has_steal);
	g_assert_cmpfloat_with_epsilon(r.steal_pct, 10.0, 1e-9);
	g_assert_false(r.has_vcpu_delay);
	g_assert_false(r.has_balloon);

	/* no previous report: averages since boot */
	vt_rates_compute(&r, NULL, cur, NULL, NULL, 0, NULL);
	g_assert_cmpint(r.guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpfloat_with_epsilon(r.swap_in_pps, 7.0, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.steal_pct, 100.0 * 2200 / 112000, 1e-9);

	/* a previous report from another boot is not a baseline */
	vt_rates_compute(&r, cur, rebooted, NULL, NULL, 0, NULL);
	g_assert_cmpint(r.guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpfloat_with_epsilon(r.swap_in_pps, 2.0, 1e-9);

	/* counters going backwards in the same boot: no rate rather than a wrong one */
	vt_rates_compute(&r, cur, prev, NULL, NULL, 0, NULL);
	g_assert_cmpint(r.guest_window, ==, VT_RATES_SINCE_BOOT);
}

static void
test_rates_missing(void)
{
	g_autoptr(VtReport) bare = report_from_json("{\"monotonic_ms\":5}");
	g_autoptr(VtReport) noswap =
		report_from_json("{" BOOT_A ",\"cpu\":{\"total_ticks\":0,\"steal_ticks\":0}}");
	g_auto(VtRates) r = {0};

	vt_rates_compute(&r, NULL, bare, NULL, NULL, 0, NULL);
	g_assert_cmpint(r.guest_window, ==, VT_RATES_NONE);
	g_assert_false(r.has_swap);
	g_assert_false(r.has_steal);
	vt_rates_compute(&r, NULL, noswap, NULL, NULL, 0, NULL);
	g_assert_false(r.has_swap);
	g_assert_false(r.has_steal); /* zero ticks: no division */
}

/* A report (since boot: 1000 s) of @n_disks disks PREFIX0.. and @n_nics NICs
 * PREFIXeth0..; disk i read (i + 1) * @reads times, NIC i dropped i + 1 packets
 * each way; @reads 0: no counters at all. Below the caps, a disk whose name
 * does not fit the rates comes second: left out, it must not leave a hole or
 * shift a name. */
static VtReport *
devices_report(const char *prefix, guint n_disks, guint n_nics, guint64 reads)
{
	g_autoptr(GString) json = g_string_new("{" BOOT_A ",\"block\":[");

	for (guint i = 0; i < n_disks; i++) {
		g_string_append_printf(json, "%s{\"name\":\"%s%u\"", i > 0 ? "," : "", prefix, i);
		if (reads > 0)
			g_string_append_printf(json,
					       ",\"stats\":{\"reads\":%" G_GUINT64_FORMAT
					       ",\"read_ms\":%u,\"writes\":0,\"write_ms\":0}",
					       reads * (i + 1), 2 * (i + 1));
		g_string_append(json, "}");
		if (i == 0 && n_disks < VT_REPORT_MAX_BLOCK)
			g_string_append_printf(json, ",{\"name\":\"%s%0*u\"}", prefix,
					       (int)VT_RATES_NAME_MAX, 0u);
	}
	g_string_append(json, "],\"nics\":[");
	for (guint i = 0; i < n_nics; i++) {
		g_string_append_printf(json, "%s{\"name\":\"%seth%u\"", i > 0 ? "," : "", prefix,
				       i);
		if (reads > 0)
			g_string_append_printf(json,
					       ",\"stats\":{\"rx_dropped\":%u,\"tx_dropped\":%u}",
					       i + 1, i + 1);
		g_string_append(json, "}");
	}
	g_string_append(json, "]}");
	return report_from_json(json->str);
}

/* @r holds exactly the devices of devices_report(@prefix, @n_disks, @n_nics, @reads). */
static void
check_devices(const VtRates *r, const char *prefix, guint n_disks, guint n_nics, guint64 reads)
{
	g_assert_cmpint(r->guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpuint(r->n_disks, ==, n_disks);
	g_assert_true((r->disks == NULL) == (n_disks == 0));
	for (guint i = 0; i < n_disks; i++) {
		g_autofree char *name = g_strdup_printf("%s%u", prefix, i);
		const VtDiskRates *d = &r->disks[i];

		g_assert_cmpstr(d->name, ==, name);
		g_assert_cmpstr(d->target, ==, ""); /* no XML: nothing paired */
		g_assert_false(d->has_host);
		g_assert_true(d->has_guest == (reads > 0));
		g_assert_true(d->has_guest_read_ms == (reads > 0));
		g_assert_false(d->has_guest_write_ms);
		g_assert_cmpfloat_with_epsilon(d->guest_read_iops, (double)(reads * (i + 1)) / 1000,
					       1e-9);
		if (reads > 0)
			g_assert_cmpfloat_with_epsilon(d->guest_read_ms, 2.0 / (double)reads,
						       1e-12);
		else
			g_assert_cmpfloat(d->guest_read_ms, ==, 0);
		g_assert_true(vt_rates_disk(r, name) == d);
	}
	g_assert_cmpuint(r->n_nics, ==, n_nics);
	g_assert_true((r->nics == NULL) == (n_nics == 0));
	for (guint i = 0; i < n_nics; i++) {
		g_autofree char *name = g_strdup_printf("%seth%u", prefix, i);
		const VtNicRates *n = &r->nics[i];

		g_assert_cmpstr(n->name, ==, name);
		g_assert_false(n->has_host);
		g_assert_true(n->has_guest == (reads > 0));
		g_assert_cmpuint(n->guest_rx_dropped, ==, reads > 0 ? i + 1 : 0);
		g_assert_cmpuint(n->guest_tx_dropped, ==, reads > 0 ? i + 1 : 0);
		g_assert_true(vt_rates_nic(r, name) == n);
	}
}

/* One VtRates computed over reports of more, then fewer, then no devices: the
 * arrays follow each report, with nothing left of the one before. */
static void
test_rates_resize(void)
{
	static const struct {
		const char *prefix;
		guint disks, nics;
		guint64 reads;
	} rounds[] = {
		{"vd", 5, 3, 1000},
		{"sd", 2, 0, 0},
		{"nvme", VT_REPORT_MAX_BLOCK, VT_REPORT_MAX_NICS, 500},
		{"xvd", 1, 1, 0},
		{"hd", 0, 2, 1000},
		{"vd", 3, 3, 4000},
	};
	g_autoptr(VtReport) bare = report_from_json("{" BOOT_A "}");
	g_autoptr(VtReport) two = devices_report("vd", 2, 1, 1000);
	g_auto(VtRates) r = {0};

	G_STATIC_ASSERT(VT_REPORT_MAX_BLOCK == VT_RATES_MAX_DISKS);
	G_STATIC_ASSERT(VT_REPORT_MAX_NICS == VT_RATES_MAX_NICS);
	for (guint k = 0; k < G_N_ELEMENTS(rounds); k++) {
		g_autoptr(VtReport) report = devices_report(rounds[k].prefix, rounds[k].disks,
							    rounds[k].nics, rounds[k].reads);
		g_autofree char *before = g_strdup_printf("%s0", k > 0 ? rounds[k - 1].prefix : "");

		vt_rates_compute(&r, NULL, report, NULL, NULL, 0, NULL);
		check_devices(&r, rounds[k].prefix, rounds[k].disks, rounds[k].nics,
			      rounds[k].reads);
		g_assert_null(vt_rates_disk(&r, before)); /* the round before had another prefix */
	}
	/* a report without devices, then none at all: empty arrays, freed */
	vt_rates_compute(&r, NULL, bare, NULL, NULL, 0, NULL);
	check_devices(&r, "", 0, 0, 1);
	g_assert_false(r.has_softnet);
	vt_rates_compute(&r, NULL, NULL, NULL, NULL, 0, NULL);
	g_assert_cmpint(r.guest_window, ==, VT_RATES_NONE);
	g_assert_cmpuint(r.n_disks, ==, 0);
	g_assert_null(r.disks);
	g_assert_cmpuint(r.n_nics, ==, 0);
	g_assert_null(r.nics);
	/* cleared: nothing left to free, and clearing again is harmless */
	vt_rates_compute(&r, NULL, two, NULL, NULL, 0, NULL);
	check_devices(&r, "vd", 2, 1, 1000);
	vt_rates_clear(&r);
	g_assert_null(r.disks);
	g_assert_cmpuint(r.n_disks, ==, 0);
	vt_rates_clear(&r);
}

static void
test_rates_domstats(void)
{
	g_autoptr(GPtrArray) all = load_stats();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) later = vt_domstats_parse_text(
		"Domain: 'db1'\n  vcpu.0.time=210000000000\n  vcpu.0.delay=12000000000\n"
		"  vcpu.1.time=110000000000\n  vcpu.1.delay=6000000000\n"
		"  vcpu.2.time=60000000000\n  vcpu.2.delay=1000000000\n"
		"  vcpu.3.time=60000000000\n  vcpu.3.delay=5000000000\n",
		-1, &error);
	g_autoptr(VtDomainFacts) facts = vt_facts_test_xml("virtio-mq.xml");
	const VtDomstats *db1 = vt_domstats_find(all, "db1");
	g_auto(VtRates) r = {0};

	g_assert_no_error(error);
	vt_rates_compute(&r, NULL, NULL, NULL, db1, 0, NULL);
	g_assert_cmpint(r.host_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpuint(r.vcpus, ==, 4);
	/* delay 20 s over time 400 s + delay 20 s */
	g_assert_cmpfloat_with_epsilon(r.vcpu_wait_pct, 100.0 * 20 / 420, 1e-9);
	g_assert_false(r.has_vcpu_delay_rate);
	g_assert_true(r.has_balloon);
	g_assert_cmpstr(r.balloon_source, ==, "domstats");
	g_assert_cmpuint(r.balloon_actual_bytes, ==, 12 * VT_GIB);
	g_assert_cmpuint(r.balloon_maximum_bytes, ==, 16 * VT_GIB);

	/* two snapshots 10 s apart: delta delay 4 s, delta time 40 s */
	vt_rates_compute(&r, NULL, NULL, db1, vt_domstats_find(later, NULL), 10.0, NULL);
	g_assert_cmpint(r.host_window, ==, VT_RATES_INTERVAL);
	g_assert_cmpfloat_with_epsilon(r.vcpu_wait_pct, 100.0 * 4 / 44, 1e-9);
	g_assert_true(r.has_vcpu_delay_rate);
	g_assert_cmpfloat_with_epsilon(r.vcpu_delay_ms_per_s, 4000.0 / 10 / 4, 1e-9);
	/* no balloon in domstats: nothing without the XML, then its currentMemory/memory */
	g_assert_false(r.has_balloon); /* neither domstats nor XML */
	vt_rates_balloon(&r, vt_domstats_find(later, NULL), facts);
	g_assert_cmpstr(r.balloon_source, ==, "domain-xml");
	g_assert_cmpuint(r.balloon_actual_bytes, ==, 12 * VT_GIB);

	/* the domain restarted: counters below the previous ones */
	vt_rates_compute(&r, NULL, NULL, vt_domstats_find(later, NULL), db1, 10.0, NULL);
	g_assert_cmpint(r.host_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_false(r.has_vcpu_delay_rate);
}

/* ------------------------------------------------------------ matching */

static void
test_match(void)
{
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("virtio-mq.xml");
	/* guest names in probe order: vda is the XML's vdb (lower PCI bus) */
	g_autoptr(VtReport) r = report_from_json(
		"{\"nics\":[{\"name\":\"ens3\",\"mac\":\"52:54:00:ab:cd:ef\"},"
		"{\"name\":\"ens4\",\"mac\":\"52:54:00:99:99:99\"}],"
		"\"block\":[{\"name\":\"vda\",\"driver\":\"virtio_blk\","
		"\"serial\":\"db1-data-0123456789a\"},"
		"{\"name\":\"vdb\",\"driver\":\"virtio_blk\",\"serial\":\"db1-root\"},"
		"{\"name\":\"sda\",\"driver\":\"sd\"}]}");
	VtMatchHow how;

	g_assert_true(vt_match_nic(f, r->nics[0]) == vt_facts_test_iface(f, 0));
	g_assert_null(vt_match_nic(f, r->nics[1]));
	g_assert_true(vt_match_iface(r, vt_facts_test_iface(f, 0)) == r->nics[0]);
	g_assert_null(vt_match_iface(r, vt_facts_test_iface(f, 1)));
	/* the serial is cut to 20 bytes by virtio-blk */
	g_assert_true(vt_match_disk(f, r, r->block[0], &how) == vt_facts_test_disk(f, 0));
	g_assert_cmpint(how, ==, VT_MATCH_SERIAL);
	g_assert_true(vt_match_disk(f, r, r->block[1], &how) == vt_facts_test_disk(f, 1));
	g_assert_null(vt_match_disk(f, r, r->block[2], &how));
	g_assert_cmpint(how, ==, VT_MATCH_NONE);
	g_assert_true(vt_match_xml_disk(f, r, vt_facts_test_disk(f, 1), &how) == r->block[1]);
	g_assert_null(vt_match_xml_disk(f, r, vt_facts_test_disk(f, 2), NULL));
}

static void
test_match_address(void)
{
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("virtio-mq.xml");
	g_autoptr(VtReport) r =
		report_from_json("{\"block\":[{\"name\":\"vdb\",\"driver\":\"virtio_blk\"},"
				 "{\"name\":\"vda\",\"driver\":\"virtio_blk\"}]}");
	g_autoptr(VtReport) extra =
		report_from_json("{\"block\":[{\"name\":\"vda\",\"driver\":\"virtio_blk\"},"
				 "{\"name\":\"vdb\",\"driver\":\"virtio_blk\"},"
				 "{\"name\":\"vdc\",\"driver\":\"virtio_blk\"}]}");
	VtMatchHow how;

	/* no serials: PCI order (vda at bus 4 first, then vdb at bus 5) */
	g_assert_true(vt_match_disk(f, r, r->block[1], &how) == vt_facts_test_disk(f, 1));
	g_assert_cmpint(how, ==, VT_MATCH_ADDRESS);
	g_assert_true(vt_match_disk(f, r, r->block[0], &how) == vt_facts_test_disk(f, 0));
	/* counts differ: no guessing */
	g_assert_null(vt_match_disk(f, extra, extra->block[0], &how));
	g_assert_cmpint(vt_disk_name_compare("vdz", "vdaa"), <, 0);
	g_assert_cmpint(vt_disk_name_compare("vdb", "vda"), >, 0);
}

/* ------------------------------------------------------------ report files */

static void
test_report_decode(void)
{
	const char *json = "{\"identity\":{\"hostname\":\"h\"},\"nics\":[{\"name\":\"eth0\"}]}";
	g_autoptr(VtReport) r = report_from_json(json);
	g_autoptr(GBytes) pb = vt_message_pack(&r->base, FALSE, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) back = NULL;
	gsize len;
	const guint8 *data = g_bytes_get_data(pb, &len);

	back = vt_report_decode(data, len, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(back->identity->hostname, ==, "h");
	g_assert_cmpstr(back->nics[0]->name, ==, "eth0");
	/* leading blanks before JSON */
	g_clear_pointer(&back, vt_report_free);
	back = vt_report_decode((const guint8 *)"\n  {}", 5, &error);
	g_assert_no_error(error);
	g_assert_nonnull(back);
}

static void
expect_report_error(const char *text, gint code, const char *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) r = vt_report_decode((const guint8 *)text, strlen(text), &error);

	g_assert_null(r);
	g_assert_error(error, VT_ERROR, code);
	if (strstr(error->message, needle) == NULL)
		g_error("'%s' does not mention '%s'", error->message, needle);
}

static void
test_report_bounds(void)
{
	g_autoptr(GString) nics = g_string_new("{\"nics\":[");
	g_autoptr(GString) ok_nics = g_string_new("{\"nics\":[");
	g_autoptr(GString) name = g_string_new("{\"identity\":{\"hostname\":\"");
	g_autoptr(GString) feats = g_string_new("{\"nics\":[{\"features\":[");

	for (guint i = 0; i < VT_REPORT_MAX_NICS; i++)
		g_string_append_printf(ok_nics, "%s{\"name\":\"e%u\"}", i ? "," : "", i);
	g_string_append(ok_nics, "]}");
	{
		g_autoptr(VtReport) r = report_from_json(ok_nics->str);
		g_assert_cmpuint(r->n_nics, ==, VT_REPORT_MAX_NICS);
	}
	for (guint i = 0; i <= VT_REPORT_MAX_NICS; i++)
		g_string_append_printf(nics, "%s{}", i ? "," : "");
	g_string_append(nics, "]}");
	expect_report_error(nics->str, VT_ERROR_TOO_LARGE, "nics: 65 entries");
	for (guint i = 0; i <= VT_STRING_MAX; i++)
		g_string_append_c(name, 'h');
	g_string_append(name, "\"}}");
	expect_report_error(name->str, VT_ERROR_TOO_LARGE, "identity.hostname");
	for (guint i = 0; i <= VT_REPORT_MAX_FEATURES; i++)
		g_string_append_printf(feats, "%s{}", i ? "," : "");
	g_string_append(feats, "]}]}");
	expect_report_error(feats->str, VT_ERROR_TOO_LARGE, "nics[0].features");
	expect_report_error("{\"cpu\":{\"online\":\"two\"}}", VT_ERROR_INVALID, "cpu.online");
	expect_report_error("{\"nope\":1}", VT_ERROR_INVALID, "nope");
	expect_report_error("\x08\x96\x01garbage", VT_ERROR_INVALID, "not a valid");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/facts/domstats/text", test_domstats_text);
	g_test_add_func("/facts/domstats/values", test_domstats_values);
	g_test_add_func("/facts/domstats/errors", test_domstats_errors);
	g_test_add_func("/facts/domstats/record", test_domstats_record);
	g_test_add_func("/facts/rates/reports", test_rates_reports);
	g_test_add_func("/facts/rates/missing", test_rates_missing);
	g_test_add_func("/facts/rates/domstats", test_rates_domstats);
	g_test_add_func("/facts/rates/resize", test_rates_resize);
	g_test_add_func("/facts/match/mac-serial", test_match);
	g_test_add_func("/facts/match/address", test_match_address);
	g_test_add_func("/facts/report/decode", test_report_decode);
	g_test_add_func("/facts/report/bounds", test_report_bounds);
	return g_test_run();
}
