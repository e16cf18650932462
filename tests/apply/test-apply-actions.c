/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every action on a fake sysroot and a fake NIC under a policy that allows it
 * and one that does not, malformed requests and dry runs.
 */
#include <string.h>

#include "fixture.h"

/* ---------------------------------------------------------------- table */

typedef struct {
	const char *allow; /* the [apply] lines that allow it */
	const char *action;
	const char *what; /* see live() */
	const char *before, *after;
	const char *command;
} Case;

static const Case cases[] = {
	{"allow=channels", "{\"set_channels\":{\"iface\":\"eth0\",\"combined\":4}}", "channels",
	 "2", "4", "ethtool -L eth0 combined 4"},
	{"allow=features",
	 "{\"set_feature\":{\"iface\":\"eth0\",\"feature\":\"tx-tcp-segmentation\",\"on\":false}}",
	 "feature", "on", "off", "ethtool -K eth0 tx-tcp-segmentation off"},
	{"allow=rings", "{\"set_ring\":{\"iface\":\"eth0\",\"rx\":512,\"tx\":1024}}", "rings",
	 "256/256", "512/1024", "ethtool -G eth0 rx 512 tx 1024"},
	{"allow=scheduler", "{\"set_scheduler\":{\"device\":\"vdb\",\"name\":\"none\"}}",
	 "sys/block/vdb/queue/scheduler", "[mq-deadline] kyber bfq none", "none",
	 "echo none > /sys/block/vdb/queue/scheduler"},
	{"allow=queue", "{\"set_queue_param\":{\"device\":\"vdb\",\"nr_requests\":64}}",
	 "sys/block/vdb/queue/nr_requests", "256", "64",
	 "echo 64 > /sys/block/vdb/queue/nr_requests"},
	{"allow=queue", "{\"set_queue_param\":{\"device\":\"vdb\",\"read_ahead_kb\":4096}}",
	 "sys/block/vdb/queue/read_ahead_kb", "128", "4096",
	 "echo 4096 > /sys/block/vdb/queue/read_ahead_kb"},
	{"allow=sysctl:vm.swappiness",
	 "{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"10\"}}", "proc/sys/vm/swappiness",
	 "60", "10", "sysctl -w vm.swappiness=10"},
	{"allow=sysctl:vm.dirty_ratio",
	 "{\"set_sysctl\":{\"key\":\"vm.dirty_ratio\",\"value\":\"40\"}}",
	 "proc/sys/vm/dirty_ratio", "20", "40", "sysctl -w vm.dirty_ratio=40"},
	{"allow=sysctl:vm.dirty_background_ratio",
	 "{\"set_sysctl\":{\"key\":\"vm.dirty_background_ratio\",\"value\":\"5\"}}",
	 "proc/sys/vm/dirty_background_ratio", "10", "5", "sysctl -w vm.dirty_background_ratio=5"},
	{"allow=sysctl:vm.vfs_cache_pressure",
	 "{\"set_sysctl\":{\"key\":\"vm.vfs_cache_pressure\",\"value\":\"50\"}}",
	 "proc/sys/vm/vfs_cache_pressure", "100", "50", "sysctl -w vm.vfs_cache_pressure=50"},
	{"allow=sysctl:kernel.transparent_hugepage.enabled",
	 "{\"set_sysctl\":{\"key\":\"kernel.transparent_hugepage.enabled\",\"value\":\"never\"}}",
	 "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never", "never",
	 "echo never > /sys/kernel/mm/transparent_hugepage/enabled"},
	{"allow=sysctl:kernel.transparent_hugepage.defrag",
	 "{\"set_sysctl\":{\"key\":\"kernel.transparent_hugepage.defrag\",\"value\":\"defer\"}}",
	 "sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never",
	 "defer", "echo defer > /sys/kernel/mm/transparent_hugepage/defrag"},
	{"allow=sysctl:net.core.netdev_max_backlog",
	 "{\"set_sysctl\":{\"key\":\"net.core.netdev_max_backlog\",\"value\":\"5000\"}}",
	 "proc/sys/net/core/netdev_max_backlog", "1000", "5000",
	 "sysctl -w net.core.netdev_max_backlog=5000"},
	{"allow=sysctl:net.core.rmem_max",
	 "{\"set_sysctl\":{\"key\":\"net.core.rmem_max\",\"value\":\"16777216\"}}",
	 "proc/sys/net/core/rmem_max", "212992", "16777216",
	 "sysctl -w net.core.rmem_max=16777216"},
};

static void
test_table(Fixture *f, gconstpointer data)
{
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		const Case *c = &cases[i];
		g_autofree char *json = NULL;
		g_autofree char *json2 = NULL;
		g_autofree char *v0 = NULL;
		g_autofree char *v1 = NULL;
		g_autofree char *v2 = NULL;
		g_autoptr(VtApplyResult) refused = NULL;
		g_autoptr(VtApplyResult) other = NULL;
		g_autoptr(VtApplyResult) applied = NULL;

		g_test_message("case %zu: %s", i, c->action);
		fixture_teardown(f, NULL);
		fixture_setup(f, NULL);

		/* the default policy refuses, and nothing changes */
		json = g_strdup_printf("{\"request_id\":\"a%zu\",\"action\":%s}", i, c->action);
		refused = apply_json(f, json);
		expect(refused, ST(refused), "policy");
		v0 = live(f, c->what);
		g_assert_cmpstr(v0, ==, c->before);
		g_assert_cmpuint(f->nic.calls_set, ==, 0);

		/* allowing every other class refuses it too */
		set_policy(f, "allow=channels;features;rings;scheduler;queue;"
			      "sysctl:vm.vfs_cache_pressure");
		if (!strstr("allow=channels;features;rings;scheduler;queue;"
			    "sysctl:vm.vfs_cache_pressure",
			    c->allow + 6)) {
			json2 = g_strdup_printf("{\"request_id\":\"b%zu\",\"action\":%s}", i,
						c->action);
			other = apply_json(f, json2);
			expect(other, ST(refused), "policy");
		}

		/* its class alone lets it through */
		set_policy(f, c->allow);
		applied = apply_json(f, json);
		expect(applied, ST(applied), "");
		v1 = live(f, c->what);
		g_assert_cmpstr(v1, ==, c->after);
		g_assert_cmpstr(applied->command, ==, c->command);
		g_assert_nonnull(applied->before);
		g_assert_nonnull(applied->after);
		g_assert_nonnull(applied->change_id);
		g_assert_cmpstr(applied->request_id, ==, applied->request_id);
		g_assert_cmpstr(applied->before, !=, applied->after);
	}
}

/* ---------------------------------------------------------------- malformed */

typedef struct {
	const char *action;
	int status;
	const char *reason;
} Bad;

static const Bad bads[] = {
	/* bounds: the device's, the kernel's, the admin's */
	{"{\"set_channels\":{\"iface\":\"eth0\",\"combined\":9}}", ST(invalid), "out_of_range"},
	{"{\"set_channels\":{\"iface\":\"eth0\",\"combined\":4}}", ST(refused), "policy_bounds"},
	{"{\"set_channels\":{\"iface\":\"eth0\",\"rx\":1}}", ST(invalid), "out_of_range"},
	{"{\"set_channels\":{\"iface\":\"eth0\"}}", ST(invalid), "bad_request"},
	{"{\"set_ring\":{\"iface\":\"eth0\",\"rx\":2048}}", ST(invalid), "out_of_range"},
	{"{\"set_ring\":{\"iface\":\"eth0\",\"rx\":0}}", ST(invalid), "out_of_range"},
	{"{\"set_ring\":{\"iface\":\"eth0\",\"rx\":1024}}", ST(refused), "policy_bounds"},
	{"{\"set_queue_param\":{\"device\":\"vdb\",\"nr_requests\":4096}}", ST(refused),
	 "policy_bounds"},
	{"{\"set_queue_param\":{\"device\":\"vdb\",\"nr_requests\":0}}", ST(invalid),
	 "out_of_range"},
	{"{\"set_queue_param\":{\"device\":\"vdb\",\"nr_requests\":8,\"read_ahead_kb\":8}}",
	 ST(invalid), "bad_request"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"0\"}}", ST(refused),
	 "policy_bounds"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"150\"}}", ST(refused),
	 "policy_bounds"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"201\"}}", ST(invalid),
	 "out_of_range"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"99999999999\"}}", ST(invalid),
	 "bad_value"},
	/* wrong type */
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"ten\"}}", ST(invalid),
	 "bad_value"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"-1\"}}", ST(invalid), "bad_value"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"1 2\"}}", ST(invalid),
	 "bad_value"},
	{"{\"set_sysctl\":{\"key\":\"kernel.transparent_hugepage.enabled\",\"value\":\"1\"}}",
	 ST(invalid), "bad_value"},
	{"{\"set_sysctl\":{\"key\":\"kernel.transparent_hugepage.enabled\",\"value\":\"defer\"}}",
	 ST(invalid), "bad_value"},
	{"{\"set_sysctl\":{\"key\":\"vm.swappiness\"}}", ST(invalid), "bad_request"},
	{"{\"set_feature\":{\"iface\":\"eth0\",\"feature\":\"rx-gro\"}}", ST(invalid),
	 "bad_request"},
	/* unknown names */
	{"{\"set_sysctl\":{\"key\":\"kernel.core_pattern\",\"value\":\"|/bin/sh\"}}", ST(invalid),
	 "unknown_sysctl"},
	{"{\"set_sysctl\":{\"key\":\"vm.dirty_ratio\",\"value\":\"10\"}}", ST(refused), "policy"},
	{"{\"set_scheduler\":{\"device\":\"vdb\",\"name\":\"cfq\"}}", ST(invalid),
	 "unknown_scheduler"},
	{"{\"set_feature\":{\"iface\":\"eth0\",\"feature\":\"rx-nope\",\"on\":true}}", ST(invalid),
	 "unknown_feature"},
	{"{\"set_feature\":{\"iface\":\"eth0\",\"feature\":\"tx-lockless\",\"on\":false}}",
	 ST(invalid), "fixed_feature"},
	/* missing devices */
	{"{\"set_channels\":{\"iface\":\"eth9\",\"combined\":1}}", ST(invalid), "no_device"},
	{"{\"set_feature\":{\"iface\":\"eth9\",\"feature\":\"rx-gro\",\"on\":true}}", ST(invalid),
	 "no_device"},
	{"{\"set_scheduler\":{\"device\":\"vdz\",\"name\":\"none\"}}", ST(invalid), "no_device"},
	{"{\"set_queue_param\":{\"device\":\"vdz\",\"read_ahead_kb\":8}}", ST(invalid),
	 "no_device"},
	/* names that are not plain */
	{"{\"set_scheduler\":{\"device\":\"../../proc/sys/vm\",\"name\":\"none\"}}", ST(invalid),
	 "bad_name"},
	{"{\"set_scheduler\":{\"device\":\"..\",\"name\":\"none\"}}", ST(invalid), "bad_name"},
	{"{\"set_scheduler\":{\"device\":\"vdb/queue\",\"name\":\"none\"}}", ST(invalid),
	 "bad_name"},
	{"{\"set_scheduler\":{\"device\":\"vdb\",\"name\":\"none\\nx\"}}", ST(invalid), "bad_name"},
	{"{\"set_scheduler\":{\"device\":\"\",\"name\":\"none\"}}", ST(invalid), "bad_name"},
	{"{\"set_queue_param\":{\"device\":\"a/b\",\"nr_requests\":8}}", ST(invalid), "bad_name"},
	{"{\"set_channels\":{\"iface\":\"eth0/../x\",\"combined\":1}}", ST(invalid), "bad_name"},
	{"{\"set_channels\":{\"iface\":\"a-very-long-name0\",\"combined\":1}}", ST(invalid),
	 "bad_name"},
	{"{\"set_channels\":{\"iface\":\"eth0 x\",\"combined\":1}}", ST(invalid), "bad_name"},
	{"{\"set_feature\":{\"iface\":\"eth0\",\"feature\":\"../rx\",\"on\":true}}", ST(invalid),
	 "bad_name"},
	{"{}", ST(invalid), "bad_request"},
};

static void
test_malformed(Fixture *f, gconstpointer data)
{
	set_policy(f, ALL);
	for (gsize i = 0; i < G_N_ELEMENTS(bads); i++) {
		g_autofree char *json = g_strdup_printf("{\"request_id\":\"m%zu\",\"action\":%s}",
							i, bads[i].action);
		g_autoptr(VtApplyResult) r = NULL;

		g_test_message("case %zu: %s", i, bads[i].action);
		r = apply_json(f, json);
		expect(r, bads[i].status, bads[i].reason);
		g_assert_null(r->change_id);
	}
	/* nothing moved */
	g_assert_cmpuint(f->nic.calls_set, ==, 0);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");
	{
		g_autoptr(VtApplyResult) r = apply_json(f, "{\"action\":{\"set_sysctl\":{\"key\":"
							   "\"vm.swappiness\",\"value\":\"5\"}}}");
		expect(r, ST(invalid), "bad_request"); /* no request id */
	}
	{
		g_autoptr(VtApplyResult) r = apply_json(
			f, "{\"request_id\":\"has space\",\"action\":{\"set_sysctl\":{\"key\":"
			   "\"vm.swappiness\",\"value\":\"5\"}}}");
		expect(r, ST(invalid), "bad_request");
	}
}

/* ---------------------------------------------------------------- dry run */

static void
test_dry_run(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) again = NULL;
	g_autoptr(VtApplyResult) bad = NULL;

	set_policy(f, ALL);
	r = apply_json(f, "{\"request_id\":\"d1\",\"dry_run\":true,\"action\":" SWAP10 "}");
	expect(r, ST(validated), "");
	g_assert_cmpstr(r->before, ==, "60");
	g_assert_cmpstr(r->after, ==, "10");
	g_assert_cmpstr(r->command, ==, "sysctl -w vm.swappiness=10");
	g_assert_null(r->change_id);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");

	/* a dry run does not consume its request id */
	again = apply_json(f, "{\"request_id\":\"d1\",\"action\":" SWAP10 "}");
	expect(again, ST(applied), "");
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "10");

	/* and validates like the real thing */
	bad = apply_json(f, "{\"request_id\":\"d2\",\"dry_run\":true,\"action\":{\"set_channels\":"
			    "{\"iface\":\"eth0\",\"combined\":9}}}");
	expect(bad, ST(invalid), "out_of_range");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TEST("/apply/table", test_table);
	ADD_TEST("/apply/malformed", test_malformed);
	ADD_TEST("/apply/dry-run", test_dry_run);
	return g_test_run();
}
