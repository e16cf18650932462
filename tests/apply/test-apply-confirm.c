/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Changes applied with a confirmation window: reverted at the deadline (also
 * across a restart), kept when confirmed, drop-ins only once confirmed, the
 * states a report carries, drift.
 */
#include <string.h>

#include "apply/journal.h"
#include "fixture.h"

#define WAIT_LIMIT_US (10 * G_USEC_PER_SEC)

static VtApplyResult *
confirm(Fixture *f, const char *request_id, const char *change_id)
{
	VtConfirmRequest req = VIRTTUNE__V1__CONFIRM_REQUEST__INIT;

	req.request_id = (char *)request_id;
	req.change_id = (char *)change_id;
	return vt_applier_confirm(f->ap, &req);
}

/* The state a report would carry for @change_id, or NULL. */
static const char *
state_of(Fixture *f, const char *change_id, char **reason)
{
	g_autoptr(GPtrArray) states = vt_applier_change_states(f->ap, 64);

	for (guint i = 0; i < states->len; i++) {
		VtChangeState *s = states->pdata[i];
		if (g_strcmp0(s->change_id, change_id) == 0) {
			if (reason != NULL)
				*reason = (char *)fixture_keep(f, g_strdup(s->reason));
			return fixture_keep(f, g_strdup(s->state));
		}
	}
	return NULL;
}

/* Waits (bounded) until the wall clock is past @deadline_ms. */
static void
wait_past(guint64 deadline_ms)
{
	gint64 until = g_get_monotonic_time() + WAIT_LIMIT_US;

	while ((guint64)(g_get_real_time() / 1000) <= deadline_ms) {
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
}

static void
test_deadline(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) late = NULL;
	gint64 next, until = g_get_monotonic_time() + WAIT_LIMIT_US;
	char *reason = NULL;

	set_policy(f, ALL);
	r = apply_json(f, "{\"request_id\":\"c1\",\"confirm_within_s\":1,\"action\":" SWAP10 "}");
	expect(r, ST(applied), "");
	g_assert_true(r->has_confirm_deadline_ms);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "10");
	g_assert_cmpstr(state_of(f, r->change_id, NULL), ==, "awaiting_confirmation");
	next = vt_applier_next_deadline_ms(f->ap);
	g_assert_cmpint(next, >=, 0);
	g_assert_cmpint(next, <=, 1000);

	while (vt_applier_expire(f->ap, NULL) == 0) {
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");
	g_assert_cmpstr(state_of(f, r->change_id, &reason), ==, "reverted");
	g_assert_cmpstr(reason, ==, "not confirmed");
	g_assert_cmpint(vt_applier_next_deadline_ms(f->ap), ==, -1);
	late = confirm(f, "k1", r->change_id);
	expect(late, ST(invalid), "expired");
}

static void
test_confirmed(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) k = NULL;
	g_autoptr(VtApplyResult) dup = NULL;
	g_autoptr(VtApplyResult) plain = NULL;
	g_autoptr(VtApplyResult) none = NULL;
	g_autoptr(VtApplyResult) bad = NULL;

	set_policy(f, ALL "persist=true\n");
	r = apply_json(f, "{\"request_id\":\"c1\",\"persist\":true,\"confirm_within_s\":60,"
			  "\"action\":" SWAP10 "}");
	expect(r, ST(applied), "");
	/* no drop-in before the confirmation */
	g_assert_null(rd(f, "etc/sysctl.d/90-virt-tune.conf"));
	k = confirm(f, "k1", r->change_id);
	expect(k, ST(confirmed), "");
	g_assert_nonnull(strstr(rd(f, "etc/sysctl.d/90-virt-tune.conf"), "\nvm.swappiness = 10"));
	dup = confirm(f, "k2", r->change_id);
	expect(dup, ST(confirmed), "duplicate");
	g_assert_cmpstr(state_of(f, r->change_id, NULL), ==, "confirmed");
	g_assert_cmpint(vt_applier_next_deadline_ms(f->ap), ==, -1);
	g_assert_cmpuint(vt_applier_expire(f->ap, NULL), ==, 0);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "10");

	plain = apply_json(f, "{\"request_id\":\"c2\",\"action\":{\"set_scheduler\":{\"device\":"
			      "\"vdb\",\"name\":\"bfq\"}}}");
	none = confirm(f, "k3", plain->change_id);
	expect(none, ST(invalid), "not_awaiting");
	bad = apply_json(f, "{\"request_id\":\"c3\",\"confirm_within_s\":0,\"action\":" SWAP10 "}");
	expect(bad, ST(invalid), "bad_request");
}

/* The agent restarts mid-window: the deadline holds; past it, the start reverts. */
static void
test_restart(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) a = NULL;
	g_autoptr(VtApplyResult) b = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	gint64 next;

	set_policy(f, ALL);
	a = apply_json(f, "{\"request_id\":\"c1\",\"confirm_within_s\":1,\"action\":" SWAP10 "}");
	expect(a, ST(applied), "");
	b = apply_json(f, "{\"request_id\":\"c2\",\"confirm_within_s\":600,\"action\":{"
			  "\"set_scheduler\":{\"device\":\"vdb\",\"name\":\"bfq\"}}}");
	expect(b, ST(applied), "");
	wait_past(a->confirm_deadline_ms);

	/* the start reverts what is due even before a policy is loaded */
	vt_applier_free(f->ap);
	f->ap = vt_applier_new(f->root, f->state, &f->nic.ops, warnings);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_nonnull(strstr(warnings->pdata[0], "not confirmed in time"));
	g_assert_cmpstr(state_of(f, a->change_id, NULL), ==, "reverted");
	/* the other one still waits, its deadline no further than its window */
	g_assert_cmpstr(state_of(f, b->change_id, NULL), ==, "awaiting_confirmation");
	g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "bfq");
	next = vt_applier_next_deadline_ms(f->ap);
	g_assert_cmpint(next, >, 0);
	g_assert_cmpint(next, <=, 60000);
	set_policy(f, ALL);
	{
		g_autoptr(VtApplyResult) k = confirm(f, "k1", b->change_id);
		expect(k, ST(confirmed), "");
	}
}

/* A journal whose deadline is far in the future (a clock stepped back when it
 * was written): not waited for longer than the window. */
static void
test_clock_step(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) a = NULL;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_autofree char *far = NULL;
	g_autofree char *edited = NULL;
	g_autofree char *deadline = NULL;
	g_auto(GStrv) parts = NULL;

	set_policy(f, ALL);
	a = apply_json(f, "{\"request_id\":\"c1\",\"confirm_within_s\":2,\"action\":" SWAP10 "}");
	expect(a, ST(applied), "");
	path = g_strdup_printf("var/lib/virt-tune-agent/journal/%010" G_GUINT64_FORMAT ".json",
			       (guint64)g_ascii_strtoull(strrchr(a->change_id, '-') + 1, NULL, 10));
	text = fake_read(f->root, path);
	g_assert_nonnull(text);
	deadline = g_strdup_printf("\"confirm_deadline_ms\": %" G_GUINT64_FORMAT,
				   a->confirm_deadline_ms);
	far = g_strdup_printf("\"confirm_deadline_ms\": %" G_GUINT64_FORMAT,
			      a->confirm_deadline_ms + (guint64)86400000);
	parts = g_strsplit(text, deadline, 2);
	g_assert_cmpuint(g_strv_length(parts), ==, 2);
	edited = g_strjoinv(far, parts);
	fake_write(f->root, path, edited);
	fixture_restart(f, ALL, NULL);
	g_assert_cmpint(vt_applier_next_deadline_ms(f->ap), <=, 2000);
}

/* An applied change whose live value moved is reported drifted. */
static void
test_drift(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) r2 = NULL;
	char *reason = NULL;

	set_policy(f, ALL);
	r = apply_json(f, "{\"request_id\":\"d1\",\"action\":" SWAP10 "}");
	expect(r, ST(applied), "");
	g_assert_null(state_of(f, r->change_id, NULL)); /* holds: nothing to say */
	fake_write(f->root, "proc/sys/vm/swappiness", "60\n");
	g_assert_cmpstr(state_of(f, r->change_id, &reason), ==, "drifted");
	g_assert_cmpstr(reason, ==, "live value 60, the change left 10");
	/* a later change of the same setting: the earlier one is not drifted */
	r2 = apply_json(f, "{\"request_id\":\"d2\",\"action\":{\"set_sysctl\":{\"key\":"
			   "\"vm.swappiness\",\"value\":\"20\"}}}");
	expect(r2, ST(applied), "");
	g_assert_null(state_of(f, r->change_id, NULL));
	g_assert_null(state_of(f, r2->change_id, NULL));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TEST("/apply/confirm/deadline", test_deadline);
	ADD_TEST("/apply/confirm/confirmed", test_confirmed);
	ADD_TEST("/apply/confirm/restart", test_restart);
	ADD_TEST("/apply/confirm/clock-step", test_clock_step);
	ADD_TEST("/apply/confirm/drift", test_drift);
	return g_test_run();
}
