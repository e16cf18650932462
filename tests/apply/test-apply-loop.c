/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * End to end over the agent loop: the real virt-tune-agent with a policy
 * file and a fake sysroot, the host played by the stub: handshake (the
 * Hello's policy summary), ApplyRequest, retransmit, refusal, dry run,
 * RollbackRequest, and what changed on disk.
 */
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "fake.h"
#include "host-stub.h"

#define ST(x) VIRTTUNE__V1__APPLY_RESULT__STATUS__##x

static VtEnvelope *
send_apply(Host *h, const char *id, VtAction *action, gboolean dry_run)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtApplyRequest req = VIRTTUNE__V1__APPLY_REQUEST__INIT;
	VtEnvelope *answer;

	req.request_id = (char *)id;
	req.action = action;
	req.has_dry_run = dry_run;
	req.dry_run = dry_run;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST;
	env.apply_request = &req;
	host_send(h, &env);
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT, DEADLINE_MS);
	g_assert_cmpstr(answer->apply_result->request_id, ==, id);
	g_test_message("%s: %s (%s) %s -> %s", id,
		       answer->apply_result->status == ST(applied) ? "applied" : "other",
		       answer->apply_result->reason, answer->apply_result->before,
		       answer->apply_result->after);
	return answer;
}

/* The handshake: the Hello carries the policy of the agent's file. */
static void
start(Host *h, const char *root)
{
	const char *args[] = {"--sysroot", root, "--interval", "3600", NULL};
	g_autoptr(VtEnvelope) hello = NULL;
	g_autoptr(VtEnvelope) report = NULL;
	g_autoptr(GError) error = NULL;
	const VtPolicySummary *p;

	g_assert_true(g_file_set_contents(h->conf_path,
					  "[agent]\n[apply]\nallow=scheduler;sysctl:vm.swappiness\n"
					  "persist=true\nsysctl.vm.swappiness.max=80\n",
					  -1, &error));
	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);
	host_send_hello(h, 1234);
	hello = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_HELLO, DEADLINE_MS);
	p = hello->hello->policy;
	g_assert_nonnull(p);
	g_assert_cmpuint(p->n_allowed, ==, 2);
	g_assert_cmpstr(p->allowed[0], ==, "scheduler");
	g_assert_cmpstr(p->allowed[1], ==, "sysctl:vm.swappiness");
	g_assert_true(p->has_persist && p->persist);
	report = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
}

/* An allowed change, then its retransmit; returns its change id. */
static char *
apply_swappiness(Host *h, const char *root)
{
	VtAction swap = VIRTTUNE__V1__ACTION__INIT;
	VtSetSysctl sysctl = VIRTTUNE__V1__SET_SYSCTL__INIT;
	g_autoptr(VtEnvelope) a1 = NULL;
	g_autoptr(VtEnvelope) a2 = NULL;
	g_autofree char *text = NULL;

	swap.kind_case = VIRTTUNE__V1__ACTION__KIND_SET_SYSCTL;
	swap.set_sysctl = &sysctl;
	sysctl.key = (char *)"vm.swappiness";
	sysctl.value = (char *)"10";
	a1 = send_apply(h, "e1", &swap, FALSE);
	g_assert_cmpint(a1->apply_result->status, ==, ST(applied));
	g_assert_cmpstr(a1->apply_result->before, ==, "60");
	g_assert_cmpstr(a1->apply_result->after, ==, "10");
	g_assert_cmpstr(a1->apply_result->command, ==, "sysctl -w vm.swappiness=10");
	text = fake_read(root, "proc/sys/vm/swappiness");
	g_assert_cmpstr(text, ==, "10");

	/* a retransmit: answered from the journal */
	fake_write(root, "proc/sys/vm/swappiness", "33\n");
	a2 = send_apply(h, "e1", &swap, FALSE);
	g_assert_cmpint(a2->apply_result->status, ==, ST(applied));
	g_assert_cmpstr(a2->apply_result->reason, ==, "duplicate");
	g_assert_cmpstr(a2->apply_result->change_id, ==, a1->apply_result->change_id);
	g_clear_pointer(&text, g_free);
	text = fake_read(root, "proc/sys/vm/swappiness");
	g_assert_cmpstr(text, ==, "33");
	fake_write(root, "proc/sys/vm/swappiness", "10\n");
	return g_strdup(a1->apply_result->change_id);
}

/* A class the policy does not allow, and a dry run of one it does. */
static void
refused_and_dry_run(Host *h, const char *root)
{
	VtAction chan = VIRTTUNE__V1__ACTION__INIT;
	VtSetChannels channels = VIRTTUNE__V1__SET_CHANNELS__INIT;
	VtAction sched = VIRTTUNE__V1__ACTION__INIT;
	VtSetScheduler scheduler = VIRTTUNE__V1__SET_SCHEDULER__INIT;
	g_autoptr(VtEnvelope) a3 = NULL;
	g_autoptr(VtEnvelope) a4 = NULL;
	g_autofree char *text = NULL;

	/* not allowed: refused, nothing asked of any NIC */
	chan.kind_case = VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS;
	chan.set_channels = &channels;
	channels.iface = (char *)"eth0";
	channels.has_combined = TRUE;
	channels.combined = 1;
	a3 = send_apply(h, "e2", &chan, FALSE);
	g_assert_cmpint(a3->apply_result->status, ==, ST(refused));
	g_assert_cmpstr(a3->apply_result->reason, ==, "policy");

	sched.kind_case = VIRTTUNE__V1__ACTION__KIND_SET_SCHEDULER;
	sched.set_scheduler = &scheduler;
	scheduler.device = (char *)"vdb";
	scheduler.name = (char *)"bfq";
	a4 = send_apply(h, "e3", &sched, TRUE);
	g_assert_cmpint(a4->apply_result->status, ==, ST(validated));
	g_assert_cmpstr(a4->apply_result->before, ==, "mq-deadline");
	g_assert_cmpstr(a4->apply_result->after, ==, "bfq");
	text = fake_read(root, "sys/block/vdb/queue/scheduler");
	g_assert_cmpstr(text, ==, "[mq-deadline] kyber bfq none");
}

static void
roll_back(Host *h, const char *root, const char *change_id)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtRollbackRequest rb = VIRTTUNE__V1__ROLLBACK_REQUEST__INIT;
	g_autoptr(VtEnvelope) back = NULL;
	g_autofree char *text = NULL;

	rb.request_id = (char *)"e4";
	rb.change_id = (char *)change_id;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST;
	env.rollback_request = &rb;
	host_send(h, &env);
	back = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT, DEADLINE_MS);
	g_assert_cmpint(back->apply_result->status, ==, ST(rolled_back));
	g_assert_cmpstr(back->apply_result->after, ==, "60");
	text = fake_read(root, "proc/sys/vm/swappiness");
	g_assert_cmpstr(text, ==, "60");
}

static void
test_apply_loop(Host *h, gconstpointer data)
{
	g_autofree char *root = fake_sysroot_new();
	g_autofree char *change_id = NULL;

	start(h, root);
	change_id = apply_swappiness(h, root);
	refused_and_dry_run(h, root);
	roll_back(h, root, change_id);
	g_assert_true(agent_log_wait(h, "apply_request e1: applied", 1, DEADLINE_MS));
	fake_rm_rf(root);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_test_add("/apply/loop", Host, NULL, host_setup, test_apply_loop, host_teardown);
	return g_test_run();
}
