/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VtGuest's report bookkeeping: which report is the base of the next rate, and
 * the rates kept in step with it. */
#include <json-glib/json-glib.h>

#include "bounds.h"
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

	vt_guest_set_report(g, report_at("b1", 10000), NULL, NULL, 1);
	/* The answer to a second Hello, 10 ms later: not a base for a rate. */
	vt_guest_set_report(g, report_at("b1", 10010), NULL, NULL, 2);
	g_assert_null(g->prev_base);
	g_assert_cmpuint(vt_guest_report(g)->monotonic_ms, ==, 10010);
	g_assert_cmpint(g->report_at_ms, ==, 2);

	vt_guest_set_report(g, report_at("b1", 12010), NULL, NULL, 3);
	g_assert_cmpuint(g->prev_base->report->monotonic_ms, ==, 10010);
	g_assert_cmpuint(vt_guest_report(g)->monotonic_ms, ==, 12010);

	/* A refresh 999 ms after it replaces the latest; the base stays. */
	vt_guest_set_report(g, report_at("b1", 13009), NULL, NULL, 4);
	g_assert_cmpuint(g->prev_base->report->monotonic_ms, ==, 10010);
	g_assert_cmpuint(vt_guest_report(g)->monotonic_ms, ==, 13009);

	/* At the edge (1000 ms) it becomes the next base. */
	vt_guest_set_report(g, report_at("b1", 14009), NULL, NULL, 5);
	g_assert_cmpuint(g->prev_base->report->monotonic_ms, ==, 13009);
}

static void
test_reboot_drops_the_base(void)
{
	g_autoptr(VtGuest) g = vt_guest_new("uuid", "g");

	vt_guest_set_report(g, report_at("b1", 50000), NULL, NULL, 1);
	vt_guest_set_report(g, report_at("b1", 52000), NULL, NULL, 2);
	g_assert_nonnull(g->prev_base);
	/* A new boot 10 ms (monotonic) "after": no rate across it. */
	vt_guest_set_report(g, report_at("b2", 52010), NULL, NULL, 3);
	g_assert_null(g->prev_base);
	g_assert_cmpstr(vt_guest_report(g)->identity->boot_id, ==, "b2");
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
	vt_guest_set_report(g, report_swapping("b1", 100000, 1000), NULL, NULL, 1);
	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 10.0, 1e-9);

	vt_guest_set_report(g, report_swapping("b1", 102000, 1600), NULL, NULL, 2);
	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_INTERVAL);
	g_assert_true(g->rates.has_swap);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 300.0, 1e-9);

	/* a new boot: back to the averages since it started */
	vt_guest_set_report(g, report_swapping("b2", 1000, 200), NULL, NULL, 3);
	g_assert_cmpint(g->rates.guest_window, ==, VT_RATES_SINCE_BOOT);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 2.0, 1e-9);
}

/* The report @msg decoded again into an arena, as the daemon holds reports. */
static VtReport *
in_arena(VtReport *msg, VtArena **arena)
{
	g_autoptr(VtReport) owned = msg;
	g_autoptr(GBytes) packed = vt_message_pack(&msg->base, FALSE, NULL);
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *out;

	*arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
	out = vt_message_unpack_in(&virttune__v1__report__descriptor,
				   g_bytes_get_data(packed, NULL), g_bytes_get_size(packed), *arena,
				   &error);
	g_assert_no_error(error);
	return (VtReport *)out;
}

static void
test_arena_reports(void)
{
	g_autoptr(VtGuest) g = vt_guest_new("uuid", "g");
	VtArena *arena = NULL;
	VtReport *r;

	r = in_arena(report_swapping("b1", 100000, 1000), &arena);
	vt_guest_set_report(g, r, arena, NULL, 1);
	g_assert_true(g->report_arena == arena);
	r = in_arena(report_swapping("b1", 102000, 1600), &arena);
	vt_guest_set_report(g, r, arena, NULL, 2);
	/* the first arena went; its rate base stays, a copy of its own */
	g_assert_true(g->report_arena == arena);
	g_assert_nonnull(g->prev_base);
	g_assert_cmpstr(g->prev_base->report->identity->boot_id, ==, "b1");
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 300.0, 1e-9);
	/* a report of its own after one in an arena, and back */
	vt_guest_set_report(g, report_swapping("b1", 104000, 2200), NULL, NULL, 3);
	g_assert_null(g->report_arena);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 300.0, 1e-9);
	r = in_arena(report_swapping("b1", 106000, 2400), &arena);
	vt_guest_set_report(g, r, arena, NULL, 4);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 100.0, 1e-9);
}

/* A report kept as the envelope it came in: decoded again on demand, the
 * decoded form released when the main loop is idle, the rates unchanged. */
static void
test_report_decoded_on_demand(void)
{
	g_autoptr(VtGuest) g = vt_guest_new("uuid", "g");
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	g_autoptr(VtReport) msg = report_swapping("b1", 102000, 1600);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtArena) arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
	VtEnvelope *decoded;
	const VtReport *r;

	vt_guest_set_report(g, report_swapping("b1", 100000, 1000), NULL, NULL, 1);
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = msg;
	bytes = vt_message_pack(&env.base, TRUE, &error);
	g_assert_no_error(error);
	decoded = (VtEnvelope *)vt_message_unpack_in(&virttune__v1__envelope__descriptor,
						     g_bytes_get_data(bytes, NULL),
						     g_bytes_get_size(bytes), arena, &error);
	g_assert_no_error(error);
	vt_guest_set_report(g, decoded->report, g_steal_pointer(&arena), bytes, 2);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 300.0, 1e-9);

	vt_guest_release_report(g);
	g_assert_null(g->report_decoded);
	g_assert_true(vt_guest_has_report(g));
	r = vt_guest_report(g);
	g_assert_nonnull(r);
	g_assert_cmpuint(r->monotonic_ms, ==, 102000);
	g_assert_cmpuint(r->swap->pswpout, ==, 1600);
	g_assert_true(vt_guest_report(g) == r); /* decoded once */
	g_assert_true(g->report_on_demand);
	/* the main loop idle: released, and decoded again when asked */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_null(g->report_decoded);
	g_assert_false(g->report_on_demand);
	g_assert_cmpuint(vt_guest_report(g)->monotonic_ms, ==, 102000);
	/* the next report takes the place of one decoded on demand; the rate
	 * base is what arrived, not what was decoded again */
	vt_guest_set_report(g, report_swapping("b1", 104000, 2200), NULL, NULL, 3);
	g_assert_false(g->report_on_demand);
	g_assert_cmpfloat_with_epsilon(g->rates.swap_out_pps, 300.0, 1e-9);
	g_assert_cmpuint(g->prev_base->report->monotonic_ms, ==, 102000);
	/* without bytes, there is nothing to decode from: it stays */
	vt_guest_release_report(g);
	g_assert_cmpuint(vt_guest_report(g)->monotonic_ms, ==, 104000);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* The capture of a real guest, and the same guest 2 s later with every
 * counter the rates read moved on. */
static VtReport *
capture(gboolean later)
{
	g_autofree char *path =
		g_build_filename(g_getenv("VT_TEST_DATA"), "host", "agent-capture.json", NULL);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *root;
	ProtobufCMessage *msg;

	g_assert_true(json_parser_load_from_file(parser, path, &error));
	root = json_node_get_object(json_parser_get_root(parser));
	/* every disk and NIC counter moves on from a value that is not 0, so a
	 * base without them would not give the same figures */
	for (gsize l = 0; l < 2; l++) {
		JsonArray *a = json_object_get_array_member(root, l == 0 ? "block" : "nics");

		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonObject *stats = json_object_get_object_member(
				json_array_get_object_element(a, i), "stats");
			GList *names = json_object_get_members(stats);

			for (GList *n = names; n != NULL; n = n->next)
				json_object_set_int_member(
					stats, n->data,
					json_object_get_int_member(stats, n->data) + 1000 +
						(later ? 37 * (i + 1) : 0));
			g_list_free(names);
		}
	}
	if (later) {
		JsonObject *softnet = json_object_new();

		json_object_set_int_member(root, "monotonic_ms",
					   json_object_get_int_member(root, "monotonic_ms") + 2000);
		json_object_set_int_member(json_object_get_object_member(root, "swap"), "pswpout",
					   500);
		json_object_set_int_member(json_object_get_object_member(root, "cpu"),
					   "steal_ticks", 4000);
		json_object_set_int_member(json_object_get_object_member(root, "cpu"),
					   "total_ticks", 702319);
		json_object_set_int_member(json_object_get_object_member(root, "vmstat"),
					   "oom_kill", 3);
		json_object_set_int_member(softnet, "dropped", 9);
		json_object_set_int_member(softnet, "time_squeeze", 11);
		json_object_set_object_member(root, "softnet", softnet);
	} else {
		JsonObject *softnet = json_object_new();

		json_object_set_int_member(json_object_get_object_member(root, "vmstat"),
					   "oom_kill", 1);
		json_object_set_int_member(softnet, "dropped", 2);
		json_object_set_int_member(softnet, "time_squeeze", 3);
		json_object_set_object_member(root, "softnet", softnet);
	}
	msg = vt_json_to_message(&virttune__v1__report__descriptor, json_parser_get_root(parser),
				 &error);
	g_assert_no_error(error);
	return (VtReport *)msg;
}

/* Rates from the rate base of a report are the rates from the whole report. */
static void
test_rate_base_gives_the_same_rates(void)
{
	g_autoptr(VtReport) before = capture(FALSE);
	g_autoptr(VtReport) after = capture(TRUE);
	g_autoptr(VtRateBase) base_kept = vt_rate_base_new(before);
	const VtReport *base = base_kept->report;
	g_auto(VtRates) whole_rates = {0};
	g_auto(VtRates) kept_rates = {0};
	g_auto(VtRates) bases_rates = {0};
	g_autoptr(VtRateBase) after_kept = vt_rate_base_new(after);
	const VtReport *after_base = after_kept->report;
	VtRates *whole = &whole_rates, *kept = &kept_rates, *bases = &bases_rates;

	g_assert_nonnull(base);
	g_assert_null(base->sysctl);
	g_assert_cmpuint(base->n_meminfo, ==, 0);
	g_assert_cmpuint(base->n_vmstat, ==, 1);
	g_assert_cmpuint(base->n_block, ==, before->n_block);
	g_assert_cmpuint(base->n_nics, ==, before->n_nics);
	g_assert_null(base->nics[0]->features);
	for (gsize i = 0; i < base->n_block; i++) {
		g_assert_cmpstr(base->block[i]->serial, ==, before->block[i]->serial);
		g_assert_cmpstr(base->block[i]->driver, ==, before->block[i]->driver);
	}
	g_assert_cmpstr(base->block[0]->driver, ==, "virtio_blk"); /* vda */
	for (gsize i = 0; i < base->n_nics; i++) {
		g_assert_cmpstr(base->nics[i]->mac, ==, before->nics[i]->mac);
		g_assert_nonnull(base->nics[i]->mac);
	}
	vt_rates_compute(whole, before, after, NULL, NULL, 0, NULL);
	vt_rates_compute(kept, base, after, NULL, NULL, 0, NULL);
	/* and from the rate bases of both, as a guest updates them on domstats */
	vt_rates_compute(bases, base, after_base, NULL, NULL, 0, NULL);
	g_assert_cmpfloat(bases->steal_pct, ==, whole->steal_pct);
	g_assert_cmpfloat(bases->swap_out_pps, ==, whole->swap_out_pps);
	g_assert_cmpuint(bases->oom_kills, ==, whole->oom_kills);
	g_assert_cmpuint(bases->softnet_dropped, ==, whole->softnet_dropped);
	g_assert_cmpuint(bases->n_disks, ==, whole->n_disks);
	g_assert_cmpuint(bases->n_nics, ==, whole->n_nics);
	for (guint i = 0; i < bases->n_disks; i++)
		g_assert_cmpfloat(bases->disks[i].guest_read_ms, ==, whole->disks[i].guest_read_ms);
	for (guint i = 0; i < bases->n_nics; i++)
		g_assert_cmpuint(bases->nics[i].guest_tx_dropped, ==,
				 whole->nics[i].guest_tx_dropped);
	g_assert_cmpint(whole->guest_window, ==, VT_RATES_INTERVAL);
	g_assert_cmpint(kept->guest_window, ==, VT_RATES_INTERVAL);
	g_assert_true(kept->has_swap && kept->has_steal && kept->has_softnet && kept->has_oom);
	g_assert_cmpfloat(kept->swap_out_pps, ==, whole->swap_out_pps);
	g_assert_cmpfloat(kept->steal_pct, ==, whole->steal_pct);
	g_assert_cmpuint(kept->softnet_dropped, ==, 7);
	g_assert_cmpuint(kept->softnet_squeezed, ==, whole->softnet_squeezed);
	g_assert_cmpuint(kept->oom_kills, ==, 2);
	g_assert_cmpuint(kept->oom_kills, ==, whole->oom_kills);
	g_assert_cmpuint(kept->n_disks, ==, whole->n_disks);
	g_assert_cmpuint(kept->n_disks, >, 0);
	for (guint i = 0; i < kept->n_disks; i++) {
		const VtDiskRates *a = &whole->disks[i], *b = &kept->disks[i];

		g_assert_cmpstr(a->name, ==, b->name);
		g_assert_true(b->has_guest && b->has_guest_read_ms && b->has_guest_write_ms);
		g_assert_cmpfloat(b->guest_read_iops, >, 0);
		g_assert_cmpfloat(a->guest_read_iops, ==, b->guest_read_iops);
		g_assert_cmpfloat(a->guest_write_iops, ==, b->guest_write_iops);
		g_assert_cmpfloat(a->guest_read_ms, ==, b->guest_read_ms);
		g_assert_cmpfloat(a->guest_write_ms, ==, b->guest_write_ms);
	}
	g_assert_cmpuint(kept->n_nics, ==, whole->n_nics);
	g_assert_cmpuint(kept->n_nics, >, 0);
	for (guint i = 0; i < kept->n_nics; i++) {
		const VtNicRates *a = &whole->nics[i], *b = &kept->nics[i];

		g_assert_cmpstr(a->name, ==, b->name);
		g_assert_true(b->has_guest);
		g_assert_cmpuint(b->guest_rx_dropped, ==, 37 * (i + 1));
		g_assert_cmpuint(a->guest_rx_dropped, ==, b->guest_rx_dropped);
		g_assert_cmpuint(a->guest_tx_dropped, ==, b->guest_tx_dropped);
		g_assert_cmpfloat(a->guest_rx_drop_ps, ==, b->guest_rx_drop_ps);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/guest/close-reports-keep-the-base", test_close_reports_keep_the_base);
	g_test_add_func("/guest/reboot-drops-the-base", test_reboot_drops_the_base);
	g_test_add_func("/guest/rates-follow-the-reports", test_rates_follow_the_reports);
	g_test_add_func("/guest/arena-reports", test_arena_reports);
	g_test_add_func("/guest/report-decoded-on-demand", test_report_decoded_on_demand);
	g_test_add_func("/guest/rate-base-gives-the-same-rates",
			test_rate_base_gives_the_same_rates);
	return g_test_run();
}
