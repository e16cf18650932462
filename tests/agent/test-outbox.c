/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The agent's output queue: order, one waiting report, frames in progress. */
#include <string.h>

#include <glib.h>

#include "outbox.h"

static GBytes *
frame(const char *text)
{
	return g_bytes_new(text, strlen(text));
}

/* Everything the port would receive if it took @chunk bytes per write. */
static char *
drain(VtOutbox *box, gsize chunk)
{
	GString *out = g_string_new(NULL);
	const guint8 *data;
	gsize len;

	while ((data = vt_outbox_peek(box, &len)) != NULL) {
		gsize n = MIN(len, chunk);

		g_assert_cmpuint(len, >, 0);
		g_string_append_len(out, (const char *)data, (gssize)n);
		vt_outbox_consume(box, n);
	}
	g_assert_true(vt_outbox_is_empty(box));
	return g_string_free(out, FALSE);
}

static void
test_order(void)
{
	g_autoptr(VtOutbox) box = vt_outbox_new();
	g_autoptr(GBytes) a = frame("hello|");
	g_autoptr(GBytes) r = frame("report|");
	g_autoptr(GBytes) e = frame("error|");
	g_autofree char *out = NULL;

	g_assert_true(vt_outbox_is_empty(box));
	g_assert_true(vt_outbox_push_control(box, a));
	g_assert_false(vt_outbox_push_report(box, r));
	g_assert_true(vt_outbox_push_control(box, e));
	g_assert_cmpuint(vt_outbox_frames(box), ==, 3);
	out = drain(box, 4);
	g_assert_cmpstr(out, ==, "hello|report|error|");
}

static void
test_newer_report_replaces_waiting_one(void)
{
	g_autoptr(VtOutbox) box = vt_outbox_new();
	g_autoptr(GBytes) c = frame("hello|");
	g_autoptr(GBytes) r1 = frame("r1|");
	g_autoptr(GBytes) r2 = frame("r2|");
	g_autoptr(GBytes) r3 = frame("r3|");
	g_autofree char *out = NULL;

	vt_outbox_push_control(box, c);
	g_assert_false(vt_outbox_push_report(box, r1));
	g_assert_true(vt_outbox_report_waiting(box));
	g_assert_true(vt_outbox_push_report(box, r2));
	g_assert_true(vt_outbox_push_report(box, r3));
	g_assert_cmpuint(vt_outbox_frames(box), ==, 2);
	out = drain(box, 1);
	g_assert_cmpstr(out, ==, "hello|r3|");
}

static void
test_report_in_progress_is_finished(void)
{
	g_autoptr(VtOutbox) box = vt_outbox_new();
	g_autoptr(GBytes) r1 = frame("report-one|");
	g_autoptr(GBytes) r2 = frame("report-two|");
	g_autoptr(GBytes) r3 = frame("report-three|");
	g_autofree char *out = NULL;
	gsize len;

	vt_outbox_push_report(box, r1);
	vt_outbox_peek(box, &len);
	vt_outbox_consume(box, 3); /* "rep" went out */
	g_assert_true(vt_outbox_in_progress(box));
	g_assert_false(vt_outbox_report_waiting(box));
	g_assert_false(vt_outbox_push_report(box, r2)); /* queued behind, not replacing */
	g_assert_true(vt_outbox_push_report(box, r3));  /* replaces r2 */
	vt_outbox_drop_report(box);                     /* drops r3, not the one going out */
	g_assert_cmpuint(vt_outbox_frames(box), ==, 1);
	out = drain(box, 5);
	g_assert_cmpstr(out, ==, "ort-one|");
}

static void
test_control_bound(void)
{
	g_autoptr(VtOutbox) box = vt_outbox_new();
	g_autoptr(GBytes) e = frame("e");
	g_autoptr(GBytes) r = frame("r");
	g_autofree char *out = NULL;

	for (guint i = 0; i < VT_OUTBOX_MAX_CONTROL; i++)
		g_assert_true(vt_outbox_push_control(box, e));
	g_assert_false(vt_outbox_push_control(box, e));
	g_assert_false(vt_outbox_push_report(box, r)); /* a report still fits */
	g_assert_cmpuint(vt_outbox_frames(box), ==, VT_OUTBOX_MAX_CONTROL + 1);
	vt_outbox_consume(box, 1);
	g_assert_true(vt_outbox_push_control(box, e)); /* room again */
	out = drain(box, 100);
	g_assert_cmpuint(strlen(out), ==, VT_OUTBOX_MAX_CONTROL + 1);
}

static void
test_clear(void)
{
	g_autoptr(VtOutbox) box = vt_outbox_new();
	g_autoptr(GBytes) r = frame("report");
	gsize len;

	vt_outbox_push_report(box, r);
	vt_outbox_consume(box, 2);
	vt_outbox_clear(box);
	g_assert_true(vt_outbox_is_empty(box));
	g_assert_false(vt_outbox_in_progress(box));
	g_assert_null(vt_outbox_peek(box, &len));
	g_assert_cmpuint(len, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/outbox/order", test_order);
	g_test_add_func("/agent/outbox/replace-waiting", test_newer_report_replaces_waiting_one);
	g_test_add_func("/agent/outbox/finish-in-progress", test_report_in_progress_is_finished);
	g_test_add_func("/agent/outbox/control-bound", test_control_bound);
	g_test_add_func("/agent/outbox/clear", test_clear);
	return g_test_run();
}
