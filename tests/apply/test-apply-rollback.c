/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rollback, and the drop-ins that make changes persist: written, updated,
 * removed, and what happens when one cannot be written.
 */
#include <errno.h>
#include <string.h>

#include "fixture.h"

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

/* ---------------------------------------------------------------- persist */

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

/* The NIC refuses every change from the moment the first one is made. */
static void
refuse_after_change(VtApplyStage stage, gpointer user)
{
	FakeNic *nic = user;

	if (stage == VT_APPLY_STAGE_CHANGED)
		nic->set_errno = EIO;
}

static void
test_persist_failed(Fixture *f, gconstpointer data)
{
	const char *req = "{\"request_id\":\"f1\",\"persist\":true,\"action\":{\"set_channels\":"
			  "{\"iface\":\"eth0\",\"combined\":3}}}";
	g_autoptr(VtApplyResult) undone = NULL;
	g_autoptr(VtApplyResult) kept = NULL;
	g_autoptr(VtApplyResult) back = NULL;

	set_policy(f, ALL "persist=true\n");
	/* the .link file cannot be written: its directory is a file */
	fake_write(f->root, "etc/systemd/network", "not a directory\n");

	/* the change is undone, and the answer says so */
	undone = apply_json(f, req);
	expect(undone, ST(failed), "persist");
	g_assert_true(undone->has_errnum);
	g_assert_cmpint(undone->errnum, ==, EIO);
	g_assert_cmpstr(undone->before, ==, "combined=2");
	g_assert_cmpstr(undone->after, ==, "combined=2");
	g_assert_cmpuint(f->nic.ch.combined_count, ==, 2);

	/* the undo fails too: the change stays, and the answer says that */
	vt_applier_set_hook(f->ap, refuse_after_change, &f->nic);
	kept = apply_json(f, "{\"request_id\":\"f2\",\"persist\":true,\"action\":{"
			     "\"set_channels\":{\"iface\":\"eth0\",\"combined\":3}}}");
	vt_applier_set_hook(f->ap, NULL, NULL);
	expect(kept, ST(failed), "persist");
	g_assert_cmpstr(kept->before, ==, "combined=2");
	g_assert_cmpstr(kept->after, ==, "combined=3");
	g_assert_nonnull(kept->change_id);
	g_assert_cmpuint(f->nic.ch.combined_count, ==, 3);
	g_assert_null(rd(f, "etc/systemd/network/10-virt-tune-eth0.link"));

	/* and it can be rolled back by its change id */
	f->nic.set_errno = 0;
	back = rollback(f, "f3", kept->change_id);
	expect(back, ST(rolled_back), "");
	g_assert_cmpstr(back->after, ==, "combined=2");
	g_assert_cmpuint(f->nic.ch.combined_count, ==, 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TEST("/apply/rollback", test_rollback);
	ADD_TEST("/apply/persist", test_persist);
	ADD_TEST("/apply/persist-failed", test_persist_failed);
	return g_test_run();
}
