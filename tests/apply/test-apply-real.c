/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Real ioctls and sysfs writes on devices this test creates and removes: a
 * veth pair in a network namespace of its own (channels and an offload; veth
 * has no rings) and a loop device on a temporary file (scheduler,
 * nr_requests, read_ahead_kb). Needs root; skipped otherwise.
 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "config.h"
#include "fake.h"
#include "json.h"

static gboolean
run(const char *const *argv, char **out)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	int status = 0;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err,
			  &status, &error)) {
		g_test_message("%s: %s", argv[0], error->message);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_test_message("%s %s: %s", argv[0], argv[1], err);
		return FALSE;
	}
	return TRUE;
}

static gboolean
need_root(void)
{
	if (geteuid() != 0) {
		g_test_skip("needs root: creates a network namespace and a loop device");
		return FALSE;
	}
	return TRUE;
}

static VtApplier *
applier(const char *sysroot, const char *state, const char *allow)
{
	g_autofree char *text = g_strdup_printf("[apply]\nallow=%s\n", allow);
	g_autoptr(VtAgentConfig) config =
		vt_agent_config_parse(text, strlen(text), "agent.conf", NULL, NULL);
	VtApplier *ap = vt_applier_new(sysroot, state, NULL, NULL);

	g_assert_nonnull(config);
	vt_applier_set_policy(ap, config->policy);
	return ap;
}

static VtApplyResult *
apply(VtApplier *ap, const char *json)
{
	g_autoptr(GError) error = NULL;
	VtApplyRequest *req = (VtApplyRequest *)vt_json_message_from_string(
		&virttune__v1__apply_request__descriptor, json, -1, &error);
	VtApplyResult *r;

	g_assert_no_error(error);
	r = vt_applier_apply(ap, req);
	vt_message_free(&req->base);
	g_test_message("%s -> %s (%s) before=%s after=%s errnum=%d", json,
		       vt_apply_result_status_name(r->status), r->reason, r->before, r->after,
		       r->errnum);
	return r;
}

static VtApplyResult *
undo(VtApplier *ap, const char *id, const char *change_id)
{
	VtRollbackRequest req = VIRTTUNE__V1__ROLLBACK_REQUEST__INIT;

	req.request_id = (char *)id;
	req.change_id = (char *)change_id;
	return vt_applier_rollback(ap, &req);
}

#define ST(x) VIRTTUNE__V1__APPLY_RESULT__STATUS__##x

/* In the child, inside the namespace. */
static void
veth_checks(const char *state)
{
	g_autoptr(VtApplier) ap = applier("/", state, "channels;features;rings");
	g_autoptr(VtEthtool) e = NULL;
	struct ethtool_channels ch;
	g_autoptr(VtEthtoolFeatures) f = NULL;
	g_autoptr(VtApplyResult) c = NULL;
	g_autoptr(VtApplyResult) k = NULL;
	g_autoptr(VtApplyResult) g = NULL;
	g_autoptr(VtApplyResult) big = NULL;
	g_autoptr(VtApplyResult) back = NULL;
	g_autoptr(VtApplyResult) kback = NULL;
	int i;

	/* the kernel's ethtool, in the namespace this child is in now */
	g_assert_cmpint(vt_ethtool_open(NULL, &e), ==, 0);
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.max_rx, ==, 4);
	g_assert_cmpuint(ch.max_tx, ==, 4);

	c = apply(ap, "{\"request_id\":\"v1\",\"action\":{\"set_channels\":{\"iface\":\"vta\","
		      "\"rx\":2,\"tx\":3}}}");
	g_assert_cmpint(c->status, ==, ST(applied));
	g_assert_cmpstr(c->after, ==, "rx=2 tx=3");
	g_assert_cmpstr(c->command, ==, "ethtool -L vta rx 2 tx 3");
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.rx_count, ==, 2);
	g_assert_cmpuint(ch.tx_count, ==, 3);

	big = apply(ap, "{\"request_id\":\"v2\",\"action\":{\"set_channels\":{\"iface\":\"vta\","
			"\"rx\":5}}}");
	g_assert_cmpint(big->status, ==, ST(invalid));
	g_assert_cmpstr(big->reason, ==, "out_of_range");

	k = apply(ap, "{\"request_id\":\"v3\",\"action\":{\"set_feature\":{\"iface\":\"vta\","
		      "\"feature\":\"tx-tcp-segmentation\",\"on\":false}}}");
	g_assert_cmpint(k->status, ==, ST(applied));
	g_assert_cmpstr(k->before, ==, "on");
	g_assert_cmpstr(k->after, ==, "off");
	g_assert_cmpint(vt_ethtool_get_features(e, "vta", &f), ==, 0);
	i = vt_ethtool_feature_index(f, "tx-tcp-segmentation");
	g_assert_cmpint(i, >=, 0);
	g_assert_false(vt_ethtool_feature_bit(f, (guint)i, VT_ETHTOOL_FEATURE_ACTIVE));

	/* veth has no ring parameters: refused by the driver, said so */
	g = apply(ap, "{\"request_id\":\"v4\",\"action\":{\"set_ring\":{\"iface\":\"vta\","
		      "\"rx\":128}}}");
	g_assert_cmpint(g->status, ==, ST(invalid));
	g_assert_cmpstr(g->reason, ==, "not_supported");

	back = undo(ap, "v5", c->change_id);
	g_assert_cmpint(back->status, ==, ST(rolled_back));
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpstr(back->after, ==, c->before);
	kback = undo(ap, "v6", k->change_id);
	g_assert_cmpint(kback->status, ==, ST(rolled_back));
	g_assert_cmpstr(kback->after, ==, "on");
}

/* Waits (bounded) until @n changes were reverted at their deadline. */
static void
expire_until(VtApplier *ap, guint n)
{
	gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	guint done = 0;

	while ((done += vt_applier_expire(ap, NULL)) < n) {
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
}

/* Changes with a confirmation window on the veth: reverted by the agent at
 * the deadline, also by a fresh applier when the old one died mid-window. */
static void
veth_confirm_checks(const char *state)
{
	g_autoptr(VtApplier) ap = applier("/", state, "channels");
	g_autoptr(VtEthtool) e = NULL;
	g_autoptr(VtApplyResult) a = NULL;
	g_autoptr(VtApplyResult) b = NULL;
	struct ethtool_channels ch;
	gint64 until;

	g_assert_cmpint(vt_ethtool_open(NULL, &e), ==, 0);
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.rx_count, ==, 4);
	a = apply(ap, "{\"request_id\":\"w1\",\"confirm_within_s\":1,\"action\":{"
		      "\"set_channels\":{\"iface\":\"vta\",\"rx\":1,\"tx\":1}}}");
	g_assert_cmpint(a->status, ==, ST(applied));
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.rx_count, ==, 1);
	expire_until(ap, 1);
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.rx_count, ==, 4);
	g_assert_cmpuint(ch.tx_count, ==, 4);

	/* the agent dies mid-window; the next one reverts at start */
	b = apply(ap, "{\"request_id\":\"w2\",\"confirm_within_s\":1,\"action\":{"
		      "\"set_channels\":{\"iface\":\"vta\",\"rx\":2,\"tx\":2}}}");
	g_assert_cmpint(b->status, ==, ST(applied));
	g_clear_pointer(&ap, vt_applier_free);
	until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while ((guint64)(g_get_real_time() / 1000) <= b->confirm_deadline_ms) {
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.rx_count, ==, 2); /* nobody reverted it while down */
	ap = applier("/", state, "channels");
	g_assert_cmpint(vt_ethtool_get_channels(e, "vta", &ch), ==, 0);
	g_assert_cmpuint(ch.rx_count, ==, 4);
}

static void
test_veth(void)
{
	g_autofree char *ns = g_strdup_printf("vt-apply-%d", (int)getpid());
	g_autofree char *nspath = g_strdup_printf("/run/netns/%s", ns);
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = NULL;
	const char *add[] = {"ip", "netns", "add", ns, NULL};
	const char *link[] = {
		"ip",  "-n",          ns,  "link",        "add",  "vta",  "numrxqueues",
		"4",   "numtxqueues", "4", "type",        "veth", "peer", "name",
		"vtb", "numrxqueues", "4", "numtxqueues", "4",    NULL};
	const char *del[] = {"ip", "netns", "delete", ns, NULL};
	pid_t pid;
	int status;

	if (!need_root())
		return;
	if (!run(add, NULL)) {
		g_test_skip("cannot create a network namespace (ip netns add failed)");
		return;
	}
	if (!run(link, NULL)) {
		run(del, NULL);
		g_test_skip("cannot create a veth pair in the namespace");
		return;
	}
	tmp = g_dir_make_tmp("vt-apply-real-XXXXXX", &error);
	g_assert_no_error(error);

	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int fd = open(nspath, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(3);
		close(fd);
		veth_checks(tmp);
		veth_confirm_checks(tmp);
		_exit(0);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	run(del, NULL);
	fake_rm_rf(tmp);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* A loop device on a 64 MiB file in @tmp: its /dev path, or NULL (skipped). */
static char *
attach_loop(const char *tmp)
{
	g_autofree char *file = g_build_filename(tmp, "disk.img", NULL);
	const char *attach[] = {"losetup", "-f", "--show", file, NULL};
	char *dev = NULL;
	int fd;

	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 64 << 20), ==, 0);
	close(fd);
	if (!run(attach, &dev))
		return NULL;
	g_strstrip(dev);
	g_assert_true(g_str_has_prefix(dev, "/dev/loop"));
	return dev;
}

/* A scheduler the device offers but does not run, from @sched_rel. */
static char *
other_scheduler(const char *sched_rel)
{
	g_autofree char *text = fake_read("/", sched_rel);
	g_auto(GStrv) words = NULL;

	g_assert_nonnull(text);
	words = g_strsplit(text, " ", 0);
	for (guint i = 0; words[i] != NULL; i++)
		if (words[i][0] != '[')
			return g_strdup(words[i]);
	g_assert_not_reached();
}

static void
loop_checks(const char *name, const char *state)
{
	g_autoptr(VtApplier) ap = applier("/", state, "scheduler;queue");
	g_autofree char *sched_rel = g_strdup_printf("sys/block/%s/queue/scheduler", name);
	g_autofree char *pick = other_scheduler(sched_rel);
	g_autofree char *j1 = NULL, *j2 = NULL, *j3 = NULL;
	g_autoptr(VtApplyResult) s = NULL;
	g_autoptr(VtApplyResult) n = NULL;
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) sb = NULL;
	g_autoptr(VtApplyResult) nb = NULL;
	g_autoptr(VtApplyResult) rb = NULL;
	g_autofree char *now = NULL;

	g_assert_nonnull(pick);
	j1 = g_strdup_printf("{\"request_id\":\"l1\",\"action\":{\"set_scheduler\":{"
			     "\"device\":\"%s\",\"name\":\"%s\"}}}",
			     name, pick);
	s = apply(ap, j1);
	g_assert_cmpint(s->status, ==, ST(applied));
	g_assert_cmpstr(s->after, ==, pick);
	now = fake_read("/", sched_rel);
	g_assert_nonnull(strstr(now, pick));
	g_assert_cmpint(now[strstr(now, pick) - now - 1], ==, '[');

	j2 = g_strdup_printf("{\"request_id\":\"l2\",\"action\":{\"set_queue_param\":{"
			     "\"device\":\"%s\",\"nr_requests\":32}}}",
			     name);
	n = apply(ap, j2);
	g_assert_cmpint(n->status, ==, ST(applied));
	g_assert_cmpstr(n->after, ==, "32");

	j3 = g_strdup_printf("{\"request_id\":\"l3\",\"action\":{\"set_queue_param\":{"
			     "\"device\":\"%s\",\"read_ahead_kb\":1024}}}",
			     name);
	r = apply(ap, j3);
	g_assert_cmpint(r->status, ==, ST(applied));
	g_assert_cmpstr(r->after, ==, "1024");

	rb = undo(ap, "l4", r->change_id);
	g_assert_cmpint(rb->status, ==, ST(rolled_back));
	g_assert_cmpstr(rb->after, ==, r->before);
	nb = undo(ap, "l5", n->change_id);
	g_assert_cmpint(nb->status, ==, ST(rolled_back));
	g_assert_cmpstr(nb->after, ==, n->before);
	sb = undo(ap, "l6", s->change_id);
	g_assert_cmpint(sb->status, ==, ST(rolled_back));
	g_assert_cmpstr(sb->after, ==, s->before);
}

static void
test_loop(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = NULL;
	g_autofree char *dev = NULL;
	g_autofree char *state = NULL;

	if (!need_root())
		return;
	tmp = g_dir_make_tmp("vt-apply-loop-XXXXXX", &error);
	g_assert_no_error(error);
	dev = attach_loop(tmp);
	if (dev == NULL) {
		fake_rm_rf(tmp);
		g_test_skip("losetup could not attach a loop device");
		return;
	}
	state = g_build_filename(tmp, "state", NULL);
	loop_checks(dev + 5, state);
	{
		const char *detach[] = {"losetup", "-d", dev, NULL};
		g_assert_true(run(detach, NULL));
	}
	fake_rm_rf(tmp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/apply/real/veth", test_veth);
	g_test_add_func("/apply/real/loop", test_loop);
	return g_test_run();
}
