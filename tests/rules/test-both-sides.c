/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The both-sides rules on their fixture cases (tests/data/rules): the side
 * each names, the typed action or host change each carries, and the numbers
 * of both sides in the evidence.
 */
#include <string.h>

#include <glib.h>

#include "evidence-test.h"
#include "report.h"
#include "rules.h"

static char *
case_file(const char *name, const char *file)
{
	const char *dir = g_getenv("VT_TEST_DATA");

	g_assert_nonnull(dir);
	return g_build_filename(dir, "rules", name, file, NULL);
}

static gboolean
present(const char *name, const char *file, char **path)
{
	*path = case_file(name, file);
	return g_file_test(*path, G_FILE_TEST_EXISTS);
}

/* The one recommendation @id of case @name (its analysis kept in @out). */
static const VtRecommendation *
rec_of(const char *name, const char *id, VtAnalysis **out)
{
	g_autofree char *p_report = case_file(name, "report.json");
	g_autofree char *p_prev = NULL, *p_xml = NULL, *p_stats = NULL, *p_pstats = NULL;
	g_autofree char *p_caps = NULL;
	g_autoptr(VtReport) report = vt_report_load(p_report, NULL);
	g_autoptr(VtReport) previous = NULL;
	g_autoptr(VtDomainFacts) facts = NULL;
	g_autoptr(GPtrArray) stats = NULL, pstats = NULL;
	g_autoptr(VtHostCaps) caps = NULL;
	VtRuleInput in = {0};
	g_auto(VtRates) rates = {0};

	g_assert_nonnull(report);
	if (present(name, "previous.json", &p_prev))
		previous = vt_report_load(p_prev, NULL);
	if (present(name, "domain.xml", &p_xml))
		facts = vt_domain_facts_load(p_xml, NULL);
	if (present(name, "domstats.txt", &p_stats))
		stats = vt_domstats_load(p_stats, NULL);
	if (present(name, "previous-domstats.txt", &p_pstats))
		pstats = vt_domstats_load(p_pstats, NULL);
	if (present(name, "capabilities.xml", &p_caps))
		caps = vt_host_caps_load(p_caps, NULL);
	in.report = report;
	in.previous = previous;
	in.facts = facts;
	in.stats = stats ? vt_domstats_find(stats, NULL) : NULL;
	in.caps = caps;
	vt_rates_compute(&rates, previous, report, pstats ? vt_domstats_find(pstats, NULL) : NULL,
			 in.stats, 0, facts);
	in.rates = &rates;
	*out = vt_rules_run(&in, NULL);
	for (guint i = 0; i < (*out)->recommendations->len; i++) {
		const VtRecommendation *r = (*out)->recommendations->pdata[i];
		if (strcmp(r->id, id) == 0)
			return r;
	}
	g_error("%s: no %s", name, id);
	return NULL;
}

static void
test_block(void)
{
	g_autoptr(VtAnalysis) a = NULL, b = NULL, c = NULL, d = NULL;
	const VtRecommendation *r;

	r = rec_of("blk-latency-positive", "blk.latency:vdb", &a);
	g_assert_cmpstr(ev_str(r, "side"), ==, "host");
	g_assert_cmpint(r->target, ==, VT_TARGET_HOST);
	g_assert_nonnull(strstr(r->command, "cache='none' io='native' iothread='1'"));
	g_assert_nonnull(vt_recommendation_evidence_find(r, "guest_read_ms"));
	g_assert_cmpfloat_with_epsilon(ev_double(r, "host_read_ms"), 30.0, 0.01);
	r = rec_of("blk-latency-guest", "blk.latency:vdb", &b);
	g_assert_cmpstr(ev_str(r, "side"), ==, "guest");
	g_assert_cmpint(r->action->kind_case, ==, VIRTTUNE__V1__ACTION__KIND_SET_QUEUE_PARAM);
	g_assert_cmpuint(r->action->set_queue_param->nr_requests, ==, 64);
	g_assert_cmpstr(r->command, ==, "echo 64 > /sys/block/vdb/queue/nr_requests");
	r = rec_of("blk-latency-e2e", "blk.latency:vdb", &c);
	g_assert_cmpstr(ev_str(r, "side"), ==, "host");
	g_assert_cmpstr(ev_str(r, "host_window"), ==, "interval");
	r = rec_of("blk-chain-positive", "blk.chain:vda", &d);
	g_assert_cmpstr(r->command, ==, "virsh blockpull web1 vda --wait --verbose");
	g_assert_cmpint(ev_int(r, "chain_depth"), ==, 3);
}

static void
test_net_mem_cpu(void)
{
	g_autoptr(VtAnalysis) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL, f = NULL;
	const VtRecommendation *r;

	r = rec_of("net-drops-positive", "net.drops:eth0", &a);
	g_assert_cmpstr(ev_str(r, "side"), ==, "host");
	g_assert_nonnull(strstr(r->command, "rx_queue_size='1024'"));
	r = rec_of("net-drops-guest", "net.drops:eth0", &b);
	g_assert_cmpstr(ev_str(r, "side"), ==, "guest");
	g_assert_cmpstr(r->action->set_sysctl->key, ==, "net.core.netdev_max_backlog");
	g_assert_cmpstr(r->action->set_sysctl->value, ==, "5000");
	r = rec_of("net-drops-channels", "net.drops:eth0", &c);
	g_assert_cmpint(r->action->kind_case, ==, VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS);
	g_assert_cmpuint(r->action->set_channels->combined, ==, 2);
	r = rec_of("mem-oom-positive", "mem.oom:domain", &d);
	g_assert_cmpint(r->severity, ==, VT_SEVERITY_CRITICAL);
	g_assert_cmpint(ev_int(r, "oom_kills"), ==, 2);
	r = rec_of("cpu-pressure-positive", "cpu.pressure:domain", &e);
	g_assert_cmpstr(ev_str(r, "side"), ==, "host");
	r = rec_of("cpu-numa-pinned", "cpu.numa:domain", &f);
	g_assert_nonnull(strstr(r->command, "nodeset='1'"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rules/both-sides/block", test_block);
	g_test_add_func("/rules/both-sides/net-mem-cpu", test_net_mem_cpu);
	return g_test_run();
}
