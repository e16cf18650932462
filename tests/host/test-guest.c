/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VtGuest's report bookkeeping: which report is the base of the next rate, and
 * the rates kept in step with it. */
#include <json-glib/json-glib.h>

#include "guest.h"
#include "json.h"
#include "message.h"

static VtReport *
report_at(const char *boot_id, guint64 monotonic_ms)
{
	g_autofree char *text = g_strdup_printf(
		"{\"identity\": {\"boot_id\": \"%s\"}, \"monotonic_ms\": %" G_GUINT64_FORMAT "}",
		boot_id, monotonic_ms);
	g_autoptr(JsonNode) node = json_from_string(text, NULL);
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *msg = vt_json_to_message(&virttune__v1__report__descriptor, node, &error);

	g_assert_no_error(error);
	return (VtReport *)msg;
}

static void
test_close_reports_keep_the_base(void)
{
	g_autoptr(VtGuest) g = vt_guest_new("uuid", "g");

	vt_guest_set_report(g, report_at("b1", 10000), 1);
	/* The answer to a second Hello, 10 ms later: not a base for a rate. */
	vt_guest_set_report(g, report_at("b1", 10010), 2);
	g_assert_null(g->prev_report);
	g_assert_cmpuint(g->report->monotonic_ms, ==, 10010);
	g_assert_cmpint(g->report_at_ms, ==, 2);

	vt_guest_set_report(g, report_at("b1", 12010), 3);
	g_assert_cmpuint(g->prev_report->monotonic_ms, ==, 10010);
	g_assert_cmpuint(g->report->monotonic_ms, ==, 12010);

	/* A refresh 999 ms after it replaces the latest; the base stays. */
	vt_guest_set_report(g, report_at("b1", 13009), 4);
	g_assert_cmpuint(g->prev_report->monotonic_ms, ==, 10010);
	g_assert_cmpuint(g->report->monotonic_ms, ==, 13009);

	/* At the edge (1000 ms) it becomes the next base. */
	vt_guest_set_report(g, report_at("b1", 14009), 5);
	g_assert_cmpuint(g->prev_report->monotonic_ms, ==, 13009);
}

static void
test_reboot_drops_the_base(void)
{
	g_autoptr(VtGuest) g = vt_guest_new("uuid", "g");

	vt_guest_set_report(g, report_at("b1", 50000), 1);
	vt_guest_set_report(g, report_at("b1", 52000), 2);
	g_assert_nonnull(g->prev_report);
	/* A new boot 10 ms (monotonic) "after": no rate across it. */
	vt_guest_set_report(g, report_at("b2", 52010), 3);
	g_assert_null(g->prev_report);
	g_assert_cmpstr(g->report->identity->boot_id, ==, "b2");
}

static VtReport *
report_swapping(const char *boot_id, guint64 monotonic_ms, guint64 pswpout)
{
	g_autofree char *text = g_strdup_printf(
		"{\"identity\": {\"boot_id\": \"%s\", \"uptime_s\": 100}, \"monotonic_ms\": "
		"%" G_GUINT64_FORMAT ", \"swap\": {\"pswpin\": 0, \"pswpout\": %" G_GUINT64_FORMAT
		"}}",
		boot_id, monotonic_ms, pswpout);
	g_autoptr(JsonNode) node = json_from_string(text, NULL);
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *msg = vt_json_to_message(&virttune__v1__report__descriptor, node, &error);

	g_assert_no_error(error);
	return (VtReport *)msg;
}

static void
test_rates_follow_the_reports(void)
{
	g_autoptr(VtGuest) g = vt_guest_new("uuid", "g");

	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_NONE);
	vt_guest_set_report(g, report_swapping("b1", 100000, 1000), 1);
	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 10.0, 1e-9);

	vt_guest_set_report(g, report_swapping("b1", 102000, 1600), 2);
	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_INTERVAL);
	g_assert_true(g->rates.has_swap);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 300.0, 1e-9);

	/* a new boot: back to the averages since it started */
	vt_guest_set_report(g, report_swapping("b2", 1000, 200), 3);
	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 2.0, 1e-9);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/guest/close-reports-keep-the-base", test_close_reports_keep_the_base);
	g_test_add_func("/guest/reboot-drops-the-base", test_reboot_drops_the_base);
	g_test_add_func("/guest/rates-follow-the-reports", test_rates_follow_the_reports);
	return g_test_run();
}
