/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Apply on a fake sysroot and a fake NIC: every action under a policy that
 * allows it and one that does not, malformed requests, dry runs, retransmits,
 * rollback, drop-ins, the journal's bounds and its recovery after a crash.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "config.h"
#include "fake.h"
#include "apply/journal.h"
#include "json.h"

typedef struct {
	char *root;
	char *state;
	FakeNic nic;
	VtApplier *ap;
	GPtrArray *keep; /* what rd() read, freed at teardown */
} Fixture;

/* A file's text under the fake root, kept until teardown; NULL if none. */
#define rd(f, rel) keep_str((f), fake_read((f)->root, (rel)))

static const char *
keep_str(Fixture *f, char *s)
{
	if (s != NULL)
		g_ptr_array_add(f->keep, s);
	return s;
}

static void
setup(Fixture *f, gconstpointer data)
{
	f->root = fake_sysroot_new();
	f->state = g_build_filename(f->root, "var/lib/virt-tune-agent", NULL);
	fake_nic_init(&f->nic);
	if (f->keep == NULL)
		f->keep = g_ptr_array_new_with_free_func(g_free);
	f->ap = vt_applier_new(f->root, f->state, &f->nic.ops, NULL);
}

static void
teardown(Fixture *f, gconstpointer data)
{
	vt_applier_free(f->ap);
	g_ptr_array_set_size(f->keep, 0);
	fake_rm_rf(f->root);
	g_free(f->root);
	g_free(f->state);
}

static void
set_policy(Fixture *f, const char *apply_group)
{
	g_autofree char *text = g_strdup_printf("[apply]\n%s\n", apply_group);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) config =
		vt_agent_config_parse(text, strlen(text), "agent.conf", NULL, &error);

	g_assert_no_error(error);
	vt_applier_set_policy(f->ap, config->policy);
}

static VtApplyResult *
apply_json(Fixture *f, const char *json)
{
	g_autoptr(GError) error = NULL;
	VtApplyRequest *req = (VtApplyRequest *)vt_json_message_from_string(
		&virttune__v1__apply_request__descriptor, json, -1, &error);
	VtApplyResult *r;

	g_assert_no_error(error);
	r = vt_applier_apply(f->ap, req);
	vt_message_free(&req->base);
	g_assert_nonnull(r);
	g_assert_true(r->has_status);
	return r;
}

static VtApplyResult *
rollback(Fixture *f, const char *request_id, const char *change_id)
{
	VtRollbackRequest req = VIRTTUNE__V1__ROLLBACK_REQUEST__INIT;

	req.request_id = (char *)request_id;
	req.change_id = (char *)change_id;
	return vt_applier_rollback(f->ap, &req);
}

static void
expect(const VtApplyResult *r, int status, const char *reason)
{
	if ((int)r->status != status || g_strcmp0(r->reason, reason) != 0)
		g_test_message("got %s (%s), expected %s (%s)", vt_apply_status_name(r->status),
			       r->reason, vt_apply_status_name(status), reason);
	g_assert_cmpstr(vt_apply_status_name(r->status), ==, vt_apply_status_name(status));
	g_assert_cmpstr(r->reason, ==, reason);
}

#define ST(x) VIRTTUNE__V1__APPLY_RESULT__STATUS__##x

/* The live value an action touches, as the test sees it. */
static char *
live(Fixture *f, const char *what)
{
	if (strcmp(what, "channels") == 0)
		return g_strdup_printf("%u", f->nic.ch.combined_count);
	if (strcmp(what, "rings") == 0)
		return g_strdup_printf("%u/%u", f->nic.rp.rx_pending, f->nic.rp.tx_pending);
	if (strcmp(what, "feature") == 0)
		return g_strdup(f->nic.active & 0x1 ? "on" : "off");
	return fake_read(f->root, what);
}

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
		teardown(f, NULL);
		setup(f, NULL);

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

#define ALL                                                                                        \
	"allow=channels;features;rings;scheduler;queue;sysctl:vm.swappiness;"                      \
	"sysctl:kernel.transparent_hugepage.enabled\n"                                             \
	"channels.max=3\nrings.max=512\nqueue.nr_requests.max=1024\n"                              \
	"sysctl.vm.swappiness.min=1\nsysctl.vm.swappiness.max=100\n"

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

/* ---------------------------------------------------------------- flows */

#define SWAP10 "{\"set_sysctl\":{\"key\":\"vm.swappiness\",\"value\":\"10\"}}"

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

static void
test_dedupe(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r1 = NULL;
	g_autoptr(VtApplyResult) r2 = NULL;
	g_autoptr(VtApplyResult) r3 = NULL;
	g_autoptr(VtApplyResult) r4 = NULL;
	VtApplier *fresh;

	set_policy(f, ALL);
	r1 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":3}}}");
	expect(r1, ST(applied), "");
	g_assert_cmpuint(f->nic.calls_set, ==, 1);

	/* somebody else sets it back; the retransmit must not apply again */
	f->nic.ch.combined_count = 1;
	r2 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":3}}}");
	expect(r2, ST(applied), "duplicate");
	g_assert_cmpstr(r2->change_id, ==, r1->change_id);
	g_assert_cmpstr(r2->before, ==, "combined=2");
	g_assert_cmpstr(r2->after, ==, "combined=3");
	g_assert_cmpuint(f->nic.calls_set, ==, 1);
	g_assert_cmpuint(f->nic.ch.combined_count, ==, 1);

	/* the same id for another action is not the same request */
	r3 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":2}}}");
	expect(r3, ST(invalid), "request_id_reused");

	/* and the journal remembers across a restart */
	fresh = vt_applier_new(f->root, f->state, &f->nic.ops, NULL);
	vt_applier_free(f->ap);
	f->ap = fresh;
	set_policy(f, ALL);
	r4 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":3}}}");
	expect(r4, ST(applied), "duplicate");
	g_assert_cmpstr(r4->change_id, ==, r1->change_id);
	g_assert_cmpuint(f->nic.calls_set, ==, 1);
}

static void
test_rollback(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) b = NULL;
	g_autoptr(VtApplyResult) dup = NULL;
	g_autoptr(VtApplyResult) again = NULL;
	g_autoptr(VtApplyResult) unknown = NULL;
	g_autoptr(VtApplyResult) sched = NULL;
	g_autoptr(VtApplyResult) conflict = NULL;
	g_autoptr(VtApplyResult) refused = NULL;

	set_policy(f, ALL);
	r = apply_json(f, "{\"request_id\":\"s1\",\"action\":" SWAP10 "}");
	expect(r, ST(applied), "");

	b = rollback(f, "rb1", r->change_id);
	expect(b, ST(rolled_back), "");
	g_assert_cmpstr(b->change_id, ==, r->change_id);
	g_assert_cmpstr(b->before, ==, "10");
	g_assert_cmpstr(b->after, ==, "60");
	g_assert_cmpstr(b->command, ==, "sysctl -w vm.swappiness=60");
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");

	dup = rollback(f, "rb1", r->change_id);
	expect(dup, ST(rolled_back), "duplicate");
	again = rollback(f, "rb2", r->change_id);
	expect(again, ST(invalid), "already_rolled_back");
	unknown = rollback(f, "rb3", "0000-99");
	expect(unknown, ST(invalid), "unknown_change");

	/* changed by someone since: not overwritten */
	sched = apply_json(f, "{\"request_id\":\"s2\",\"action\":{\"set_scheduler\":{\"device\":"
			      "\"vdb\",\"name\":\"bfq\"}}}");
	expect(sched, ST(applied), "");
	fake_write(f->root, "sys/block/vdb/queue/scheduler", "mq-deadline kyber bfq [none]\n");
	conflict = rollback(f, "rb4", sched->change_id);
	expect(conflict, ST(invalid), "conflict");
	g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "mq-deadline kyber bfq [none]");

	/* the admin's word holds for rollbacks too */
	fake_write(f->root, "sys/block/vdb/queue/scheduler", "mq-deadline kyber [bfq] none\n");
	set_policy(f, "allow=queue");
	refused = rollback(f, "rb5", sched->change_id);
	expect(refused, ST(refused), "policy");
	set_policy(f, ALL);
	{
		g_autoptr(VtApplyResult) ok = rollback(f, "rb6", sched->change_id);
		expect(ok, ST(rolled_back), "");
		g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "mq-deadline");
	}
}

static void
test_persist(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) no = NULL;
	g_autoptr(VtApplyResult) s = NULL;
	g_autoptr(VtApplyResult) q = NULL;
	g_autoptr(VtApplyResult) c = NULL;
	g_autoptr(VtApplyResult) t = NULL;
	g_autoptr(VtApplyResult) feat = NULL;
	g_autoptr(VtApplyResult) back = NULL;
	g_autofree char *text = NULL;

	set_policy(f, ALL);
	no = apply_json(f, "{\"request_id\":\"p0\",\"persist\":true,\"action\":" SWAP10 "}");
	expect(no, ST(refused), "persist_not_allowed");
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");

	set_policy(f, ALL "persist=true\n");
	s = apply_json(f, "{\"request_id\":\"p1\",\"persist\":true,\"action\":" SWAP10 "}");
	expect(s, ST(applied), "");
	text = fake_read(f->root, "etc/sysctl.d/90-virt-tune.conf");
	g_assert_nonnull(strstr(text, "\nvm.swappiness = 10"));
	g_clear_pointer(&text, g_free);

	q = apply_json(f, "{\"request_id\":\"p2\",\"persist\":true,\"action\":{\"set_scheduler\":"
			  "{\"device\":\"vdb\",\"name\":\"none\"}}}");
	expect(q, ST(applied), "");
	text = fake_read(f->root, "etc/udev/rules.d/90-virt-tune.rules");
	g_assert_nonnull(strstr(text, "ACTION==\"add|change\", SUBSYSTEM==\"block\", "
				      "KERNEL==\"vdb\", ATTR{queue/scheduler}=\"none\""));
	g_clear_pointer(&text, g_free);

	c = apply_json(f, "{\"request_id\":\"p3\",\"persist\":true,\"action\":{\"set_channels\":"
			  "{\"iface\":\"eth0\",\"combined\":3}}}");
	expect(c, ST(applied), "");
	text = fake_read(f->root, "etc/systemd/network/10-virt-tune-eth0.link");
	g_assert_nonnull(strstr(text, "[Match]\nMACAddress=52:54:00:12:34:56\n"));
	g_assert_nonnull(strstr(text, "NamePolicy="));
	g_assert_nonnull(strstr(text, "\nCombinedChannels=3"));
	g_clear_pointer(&text, g_free);

	t = apply_json(f, "{\"request_id\":\"p4\",\"persist\":true,\"action\":{\"set_sysctl\":{"
			  "\"key\":\"kernel.transparent_hugepage.enabled\",\"value\":\"never\"}}}");
	expect(t, ST(applied), "");
	text = fake_read(f->root, "etc/tmpfiles.d/90-virt-tune.conf");
	g_assert_nonnull(
		strstr(text, "w /sys/kernel/mm/transparent_hugepage/enabled - - - - never"));
	g_clear_pointer(&text, g_free);

	/* an offload systemd.link has no setting for cannot persist */
	feat = apply_json(f, "{\"request_id\":\"p5\",\"persist\":true,\"action\":{\"set_feature\":"
			     "{\"iface\":\"eth0\",\"feature\":\"rx-checksum\",\"on\":true}}}");
	expect(feat, ST(applied), "");
	{
		g_autoptr(VtApplyResult) r = apply_json(
			f, "{\"request_id\":\"p6\",\"persist\":true,\"action\":{\"set_channels\":"
			   "{\"iface\":\"eth0\",\"combined\":1}}}");
		expect(r, ST(applied), "");
		text = fake_read(f->root, "etc/systemd/network/10-virt-tune-eth0.link");
		g_assert_nonnull(strstr(text, "\nCombinedChannels=1"));
		g_assert_null(strstr(text, "CombinedChannels=3"));
		g_assert_nonnull(strstr(text, "ReceiveChecksumOffload=true"));
		g_clear_pointer(&text, g_free);
	}

	/* rollback updates the file, and removes it when nothing is left */
	back = rollback(f, "pr1", s->change_id);
	expect(back, ST(rolled_back), "");
	g_assert_null(rd(f, "etc/sysctl.d/90-virt-tune.conf"));
	{
		g_autoptr(VtApplyResult) r = rollback(f, "pr2", q->change_id);
		expect(r, ST(rolled_back), "");
		g_assert_null(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));
		g_assert_nonnull(rd(f, "etc/tmpfiles.d/90-virt-tune.conf"));
	}
}

/* ---------------------------------------------------------------- crash */

static void
die_at(VtApplyStage stage, gpointer user)
{
	if (stage == (VtApplyStage)GPOINTER_TO_INT(user))
		raise(SIGKILL);
}

/* A child applies and dies at @stage; the parent starts again. */
static void
crash_at(Fixture *f, VtApplyStage stage, const char *request)
{
	pid_t pid;
	int status;

	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		g_autoptr(VtApplyResult) r = NULL;
		vt_applier_set_hook(f->ap, die_at, GINT_TO_POINTER(stage));
		r = apply_json(f, request);
		_exit(0); /* not reached when the hook fires */
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
}

static void
restart(Fixture *f, GPtrArray *warnings)
{
	vt_applier_free(f->ap);
	f->ap = vt_applier_new(f->root, f->state, &f->nic.ops, warnings);
	set_policy(f, ALL "persist=true\n");
}

static void
test_crash(Fixture *f, gconstpointer data)
{
	const char *req1 = "{\"request_id\":\"c1\",\"action\":" SWAP10 "}";
	const char *req2 = "{\"request_id\":\"c2\",\"persist\":true,\"action\":{\"set_scheduler\":"
			   "{\"device\":\"vdb\",\"name\":\"kyber\"}}}";
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VtApplyResult) a1 = NULL;
	g_autoptr(VtApplyResult) a2 = NULL;
	g_autoptr(VtApplyResult) b = NULL;

	set_policy(f, ALL "persist=true\n");

	/* dies after the journal holds the before value, before the write */
	crash_at(f, VT_APPLY_STAGE_JOURNALED, req1);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");
	restart(f, warnings);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_nonnull(strstr(warnings->pdata[0], "marked failed"));
	a1 = apply_json(f, req1); /* answered from the journal, not applied */
	expect(a1, ST(failed), "interrupted");
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");

	/* dies after the write, before the after value and the drop-in */
	crash_at(f, VT_APPLY_STAGE_CHANGED, req2);
	g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "kyber");
	g_assert_null(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));
	g_ptr_array_set_size(warnings, 0);
	restart(f, warnings);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_nonnull(strstr(warnings->pdata[0], "marked applied"));
	a2 = apply_json(f, req2);
	expect(a2, ST(applied), "duplicate");
	g_assert_cmpstr(a2->after, ==, "kyber");
	g_assert_nonnull(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));

	/* a rollback that dies half way is reconciled too */
	{
		pid_t pid = fork();
		int status;
		if (pid == 0) {
			g_autoptr(VtApplyResult) r = NULL;
			vt_applier_set_hook(f->ap, die_at, GINT_TO_POINTER(VT_APPLY_STAGE_CHANGED));
			r = rollback(f, "cb1", a2->change_id);
			_exit(0);
		}
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		g_assert_true(WIFSIGNALED(status));
	}
	restart(f, NULL);
	b = rollback(f, "cb1", a2->change_id);
	expect(b, ST(rolled_back), "duplicate");
	g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "mq-deadline");
	g_assert_null(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));
}

/* ---------------------------------------------------------------- journal */

static void
test_journal_corrupt(Fixture *f, gconstpointer data)
{
	static const char *const junk[] = {
		"not json",
		"{\"format\":1}",
		"{\"format\":1,\"seq\":3,\"change_id\":\"x-3\",\"request_id\":\"r\",\"kind\":"
		"\"apply\",\"state\":\"applied\",\"before\":\"1\",\"target\":\"2\",\"after\":\"2\","
		"\"created_ms\":1,\"updated_ms\":1,\"action\":{\"set_sysctl\":{\"key\":7}}}",
		"[1,2,3]",
	};
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) good = NULL;

	set_policy(f, ALL);
	good = apply_json(f, "{\"request_id\":\"j1\",\"action\":" SWAP10 "}");
	expect(good, ST(applied), "");
	for (gsize i = 0; i < G_N_ELEMENTS(junk); i++) {
		g_autofree char *name =
			g_strdup_printf("var/lib/virt-tune-agent/journal/%010zu.json", i + 100);
		fake_write(f->root, name, junk[i]);
	}
	{
		g_autofree char *big = g_strnfill(VT_JOURNAL_ENTRY_MAX + 10, ' ');
		fake_write(f->root, "var/lib/virt-tune-agent/journal/0000000200.json", big);
	}
	restart(f, warnings);
	g_assert_cmpuint(warnings->len, ==, G_N_ELEMENTS(junk) + 1);
	g_assert_nonnull(rd(f, "var/lib/virt-tune-agent/journal/0000000100.corrupt"));
	g_assert_null(rd(f, "var/lib/virt-tune-agent/journal/0000000100.json"));
	/* the good entry is still there, and new ids come after the bad ones */
	r = apply_json(f, "{\"request_id\":\"j1\",\"action\":" SWAP10 "}");
	expect(r, ST(applied), "duplicate");
	{
		g_autoptr(VtApplyResult) n =
			apply_json(f, "{\"request_id\":\"j2\",\"action\":{\"set_sysctl\":{\"key\":"
				      "\"vm.swappiness\",\"value\":\"20\"}}}");
		expect(n, ST(applied), "");
		g_assert_true(g_str_has_suffix(n->change_id, "-201"));
	}
}

static guint
count_entries(Fixture *f)
{
	g_autofree char *dir = g_build_filename(f->state, "journal", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint n = 0;

	while ((name = g_dir_read_name(d)) != NULL)
		n += g_str_has_suffix(name, ".json");
	return n;
}

static void
test_journal_bound(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) first = NULL;
	g_autoptr(VtApplyResult) kept = NULL;
	g_autoptr(VtApplyResult) old = NULL;

	set_policy(f, ALL "persist=true\n");
	kept = apply_json(
		f, "{\"request_id\":\"keep\",\"persist\":true,\"action\":{\"set_queue_param\":"
		   "{\"device\":\"vdb\",\"read_ahead_kb\":512}}}");
	expect(kept, ST(applied), "");
	for (guint i = 0; i < VT_JOURNAL_MAX_ENTRIES + 20; i++) {
		g_autofree char *json = g_strdup_printf(
			"{\"request_id\":\"n%u\",\"action\":{\"set_sysctl\":{\"key\":"
			"\"vm.swappiness\",\"value\":\"%u\"}}}",
			i, 1 + i % 90);
		g_autoptr(VtApplyResult) r = apply_json(f, json);
		expect(r, ST(applied), "");
		if (i == 0)
			first = g_steal_pointer(&r);
	}
	g_assert_cmpuint(count_entries(f), <=, VT_JOURNAL_MAX_ENTRIES);
	/* the oldest plain change went, the persistent one stayed */
	old = rollback(f, "o1", first->change_id);
	expect(old, ST(invalid), "unknown_change");
	{
		g_autoptr(VtApplyResult) r = rollback(f, "o2", kept->change_id);
		expect(r, ST(rolled_back), "");
	}
}

/* ---------------------------------------------------------------- policy */

static void
test_policy(void)
{
	static const struct {
		const char *text;
		const char *error; /* NULL: parses */
	} pcases[] = {
		{"[apply]\nallow=channels;sysctl:vm.swappiness\npersist=true\n", NULL},
		{"[apply]\nallow=everything\n", "agent.conf:2: allow: unknown class 'everything'"},
		{"[apply]\nallow=sysctl:kernel.core_pattern\n", "unknown class"},
		{"[apply]\npersist=maybe\n", "agent.conf:2: persist:"},
		{"[apply]\nchannels.max=0\n", "agent.conf:2: channels.max: '0' is not"},
		{"[apply]\nsysctl.vm.swappiness.max=300\n", "in 0..200"},
		{"[apply]\nsysctl.vm.swappiness.min=50\nsysctl.vm.swappiness.max=10\n", "above"},
		{"[apply]\nqueue.nr_requests.max=x\n", "agent.conf:2: queue.nr_requests.max"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(pcases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VtAgentConfig) c = vt_agent_config_parse(
			pcases[i].text, strlen(pcases[i].text), "agent.conf", NULL, &error);

		if (pcases[i].error == NULL) {
			g_assert_no_error(error);
			continue;
		}
		g_assert_null(c);
		g_assert_nonnull(error);
		g_test_message("%s", error->message);
		g_assert_nonnull(strstr(error->message, pcases[i].error));
	}

	{
		const char *text = "[agent]\ninterval=5\n[apply]\nallow=queue;sysctl:vm.swappiness;"
				   "channels\npersist=true\nbogus=1\n";
		g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;
		g_autoptr(VtAgentConfig) c =
			vt_agent_config_parse(text, strlen(text), "agent.conf", warnings, &error);
		VtPolicySummary s = VIRTTUNE__V1__POLICY_SUMMARY__INIT;

		g_assert_no_error(error);
		g_assert_cmpuint(warnings->len, ==, 1);
		g_assert_nonnull(strstr(warnings->pdata[0], "unknown key 'bogus'"));
		vt_policy_summary_fill(c->policy, &s);
		g_assert_cmpuint(s.n_allowed, ==, 3);
		g_assert_cmpstr(s.allowed[0], ==, "channels");
		g_assert_cmpstr(s.allowed[1], ==, "queue");
		g_assert_cmpstr(s.allowed[2], ==, "sysctl:vm.swappiness");
		g_assert_true(s.persist);
		vt_policy_summary_clear(&s);
	}
	{
		g_autoptr(VtAgentConfig) c = vt_agent_config_parse("[agent]\n", 8, "a", NULL, NULL);
		VtPolicySummary s = VIRTTUNE__V1__POLICY_SUMMARY__INIT;

		vt_policy_summary_fill(c->policy, &s);
		g_assert_cmpuint(s.n_allowed, ==, 0);
		g_assert_true(s.has_persist);
		g_assert_false(s.persist);
		vt_policy_summary_clear(&s);
	}
}

static void
teardown_last(Fixture *f, gconstpointer data)
{
	teardown(f, data);
	g_clear_pointer(&f->keep, g_ptr_array_unref);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown_last)
	ADD("/apply/table", test_table);
	ADD("/apply/malformed", test_malformed);
	ADD("/apply/dry-run", test_dry_run);
	ADD("/apply/dedupe", test_dedupe);
	ADD("/apply/rollback", test_rollback);
	ADD("/apply/persist", test_persist);
	ADD("/apply/crash", test_crash);
	ADD("/apply/journal-corrupt", test_journal_corrupt);
	ADD("/apply/journal-bound", test_journal_bound);
#undef ADD
	g_test_add_func("/apply/policy", test_policy);
	return g_test_run();
}
