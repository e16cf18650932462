/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Trimming a report to the frame limit: what goes first, and that it is said. */
#include <string.h>

#include <glib.h>

#include "frame.h"
#include "report-fit.h"

static gsize
packed(const VtReport *r)
{
	return protobuf_c_message_get_packed_size(&r->base);
}

static VtSection *
section_new(const char *name, gboolean ok)
{
	VtSection *s = g_new0(VtSection, 1);

	virttune__v1__section__init(s);
	s->name = g_strdup(name);
	s->has_ok = TRUE;
	s->ok = ok;
	return s;
}

/* A guest as large as the bounds allow: @n_nics NICs with @n_features
 * features each (NIC 3 has one more, so it is trimmed first), @n_block disks
 * with stats, full maps. Allocated like a collector's report. */
static VtReport *
big_report(guint n_nics, guint n_features, guint n_block)
{
	VtReport *r = g_new0(VtReport, 1);

	virttune__v1__report__init(r);
	r->identity = g_new0(VtIdentity, 1);
	virttune__v1__identity__init(r->identity);
	r->identity->hostname = g_strdup("guest");
	r->identity->boot_id = g_strdup("6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b");

	r->n_nics = n_nics;
	r->nics = g_new0(VtNic *, n_nics);
	for (guint i = 0; i < n_nics; i++) {
		VtNic *nic = g_new0(VtNic, 1);
		guint nf = n_features + (i == 3 ? 1 : 0);

		virttune__v1__nic__init(nic);
		nic->name = g_strdup_printf("eth%u", i);
		nic->driver = g_strdup("virtio_net");
		nic->n_features = nf;
		nic->features = g_new0(VtFeature *, nf);
		for (guint j = 0; j < nf; j++) {
			VtFeature *f = g_new0(VtFeature, 1);

			virttune__v1__feature__init(f);
			f->name = g_strdup_printf("tx-udp_tnl-csum-segmentation-%03u", j);
			f->has_active = f->has_fixed = TRUE;
			f->active = j % 2;
			nic->features[j] = f;
		}
		nic->stats = g_new0(VtNicStats, 1);
		virttune__v1__nic_stats__init(nic->stats);
		nic->stats->has_rx_bytes = TRUE;
		nic->stats->rx_bytes = G_GUINT64_CONSTANT(1) << 40;
		r->nics[i] = nic;
	}

	r->n_block = n_block;
	r->block = g_new0(VtBlock *, n_block);
	for (guint i = 0; i < n_block; i++) {
		VtBlock *b = g_new0(VtBlock, 1);

		virttune__v1__block__init(b);
		b->name = g_strdup_printf("vd%c%u", 'a' + i % 26, i);
		b->scheduler = g_strdup("mq-deadline");
		b->stats = g_new0(VtBlockStats, 1);
		virttune__v1__block_stats__init(b->stats);
		b->stats->has_reads = b->stats->has_writes = b->stats->has_io_ms = TRUE;
		b->stats->reads = b->stats->writes = b->stats->io_ms = G_GUINT64_CONSTANT(1) << 50;
		r->block[i] = b;
	}

	r->n_meminfo = 60;
	r->meminfo = g_new0(VtReportMeminfoEntry *, r->n_meminfo);
	for (guint i = 0; i < r->n_meminfo; i++) {
		VtReportMeminfoEntry *e = g_new0(VtReportMeminfoEntry, 1);

		virttune__v1__report__meminfo_entry__init(e);
		e->key = g_strdup_printf("MemoryLine%u", i);
		e->has_value = TRUE;
		e->value = G_GUINT64_CONSTANT(1) << 33;
		r->meminfo[i] = e;
	}

	r->n_sections = 2;
	r->sections = g_new0(VtSection *, 2);
	r->sections[0] = section_new("meminfo", TRUE);
	r->sections[1] = section_new("nics", TRUE);
	return r;
}

static const VtSection *
find_section(const VtReport *r, const char *name)
{
	for (gsize i = 0; i < r->n_sections; i++)
		if (g_strcmp0(r->sections[i]->name, name) == 0)
			return r->sections[i];
	return NULL;
}

static void
test_small_report_untouched(void)
{
	g_autoptr(VtReport) r = big_report(2, 70, 4);
	g_autoptr(GBytes) before = vt_message_pack(&r->base, FALSE, NULL);
	g_autoptr(GBytes) after = NULL;

	g_assert_cmpuint(vt_report_fit(r, VT_REPORT_FIT_MAX), ==, g_bytes_get_size(before));
	after = vt_message_pack(&r->base, FALSE, NULL);
	g_assert_true(g_bytes_equal(before, after));
	g_assert_cmpuint(r->n_sections, ==, 2);
}

/* 64 NICs x 128 features is ~4x the frame limit: feature lists go, largest
 * first, and nothing else does. */
static void
test_features_go_first(void)
{
	g_autoptr(VtReport) r = big_report(VT_REPORT_MAX_NICS, VT_REPORT_MAX_FEATURES, 32);
	gsize original = packed(r);
	gsize size;
	const VtSection *note;
	guint trimmed = 0;
	g_autofree char *prefix = NULL;

	g_test_message("oversized report: %" G_GSIZE_FORMAT " bytes", original);
	g_assert_cmpuint(original, >, 2 * VT_FRAME_MAX);
	size = vt_report_fit(r, VT_REPORT_FIT_MAX);
	g_assert_cmpuint(size, <=, VT_REPORT_FIT_MAX);
	g_assert_cmpuint(size, ==, packed(r));

	g_assert_cmpuint(r->n_nics, ==, VT_REPORT_MAX_NICS);
	g_assert_cmpuint(r->n_block, ==, 32);
	g_assert_cmpuint(r->nics[3]->n_features, ==, 0); /* the one with most, first */
	for (gsize i = 0; i < r->n_nics; i++) {
		g_assert_nonnull(r->nics[i]->stats);
		trimmed += r->nics[i]->n_features == 0;
	}
	for (gsize i = 0; i < r->n_block; i++)
		g_assert_nonnull(r->block[i]->stats);
	g_assert_cmpuint(trimmed, >, 0);
	g_assert_cmpuint(trimmed, <, VT_REPORT_MAX_NICS); /* only as many as needed */
	g_assert_cmpuint(r->n_meminfo, ==, 60);

	note = find_section(r, "nics.features");
	g_assert_nonnull(note);
	g_assert_true(note->has_ok);
	g_assert_false(note->ok);
	g_assert_nonnull(strstr(note->error, "dropped"));
	prefix = g_strdup_printf("%u dropped", trimmed);
	g_assert_true(g_str_has_prefix(note->error, prefix));
	g_assert_null(find_section(r, "block.stats"));
	g_assert_nonnull(find_section(r, "nics")); /* the collector's own entry stays */
}

/* @nic's features as the agent's session sends them: one run of their
 * encoding in the Nic's unknown fields (vt_collector_set_features_encoded()). */
static void
encode_features(VtNic *nic)
{
	VtNic only = VIRTTUNE__V1__NIC__INIT;
	gsize len;
	g_autofree guint8 *packed = NULL;
	ProtobufCMessageUnknownField *run = g_new(ProtobufCMessageUnknownField, 1);

	only.n_features = nic->n_features;
	only.features = nic->features;
	len = protobuf_c_message_get_packed_size(&only.base);
	packed = g_malloc(len);
	protobuf_c_message_pack(&only.base, packed);
	/* the run's first tag is the field's own: protobuf-c writes it */
	g_assert_cmpuint(packed[0], ==, 10u << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
	run->tag = 10;
	run->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	run->len = len - 1;
	run->data = g_memdup2(packed + 1, len - 1);
	for (gsize i = 0; i < nic->n_features; i++)
		vt_message_free(&nic->features[i]->base);
	g_clear_pointer(&nic->features, g_free);
	nic->n_features = 0;
	nic->base.n_unknown_fields = 1;
	nic->base.unknown_fields = run;
}

/* Encoded features weigh and go as their messages do. */
static void
test_encoded_features_go_first(void)
{
	g_autoptr(VtReport) messages = big_report(VT_REPORT_MAX_NICS, VT_REPORT_MAX_FEATURES, 32);
	g_autoptr(VtReport) encoded = big_report(VT_REPORT_MAX_NICS, VT_REPORT_MAX_FEATURES, 32);
	gsize size;

	for (gsize i = 0; i < encoded->n_nics; i++)
		encode_features(encoded->nics[i]);
	g_assert_cmpuint(packed(encoded), ==, packed(messages));
	size = vt_report_fit(encoded, VT_REPORT_FIT_MAX);
	g_assert_cmpuint(size, ==, vt_report_fit(messages, VT_REPORT_FIT_MAX));
	g_assert_cmpuint(size, ==, packed(encoded));
	g_assert_cmpuint(encoded->nics[3]->base.n_unknown_fields, ==, 0);
	for (gsize i = 0; i < encoded->n_nics; i++)
		g_assert_cmpuint(encoded->nics[i]->base.n_unknown_fields, ==,
				 messages->nics[i]->n_features > 0 ? 1 : 0);
	g_assert_cmpstr(find_section(encoded, "nics.features")->error, ==,
			find_section(messages, "nics.features")->error);
}

/* A tighter limit takes block stats next, then NIC stats, then devices. */
static void
test_order_of_parts(void)
{
	g_autoptr(VtReport) r = big_report(8, 70, VT_REPORT_MAX_BLOCK);
	g_autoptr(VtReport) probe = big_report(8, 70, VT_REPORT_MAX_BLOCK);
	gsize limit;

	/* just under what remains without any feature list */
	for (gsize i = 0; i < probe->n_nics; i++)
		while (probe->nics[i]->n_features > 0)
			vt_message_free(
				&probe->nics[i]->features[--probe->nics[i]->n_features]->base);
	limit = packed(probe) - 200;

	g_assert_cmpuint(vt_report_fit(r, limit), <=, limit);
	for (gsize i = 0; i < r->n_nics; i++) {
		g_assert_cmpuint(r->nics[i]->n_features, ==, 0);
		g_assert_nonnull(r->nics[i]->stats);
	}
	g_assert_cmpuint(r->n_block, ==, VT_REPORT_MAX_BLOCK);
	g_assert_null(r->block[VT_REPORT_MAX_BLOCK - 1]->stats); /* from the last */
	g_assert_nonnull(r->block[0]->stats);
	g_assert_nonnull(find_section(r, "nics.features"));
	g_assert_nonnull(find_section(r, "block.stats"));
	g_assert_null(find_section(r, "nics.stats"));
}

/* A tight limit: parts go in order until only a few bare NICs, identity and
 * the notes are left, and every part dropped is named. */
static void
test_down_to_the_notes(void)
{
	static const char *const parts[] = {"nics.features", "block.stats", "nics.stats", "block",
					    "nics"};
	g_autoptr(VtReport) r = big_report(16, 100, 64);
	gsize size = vt_report_fit(r, 2048);

	g_assert_cmpuint(size, <=, 2048);
	g_assert_cmpuint(r->n_block, ==, 0);
	g_assert_cmpuint(r->n_nics, <, 16);
	for (gsize i = 0; i < r->n_nics; i++) {
		g_assert_cmpuint(r->nics[i]->n_features, ==, 0);
		g_assert_null(r->nics[i]->stats);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(parts); i++)
		g_assert_nonnull(find_section(r, parts[i]));
	g_assert_null(find_section(r, "swap")); /* absent, so not dropped */

	/* smaller still: everything but the notes */
	size = vt_report_fit(r, 1200);
	g_assert_cmpuint(size, <=, 1200);
	g_assert_cmpuint(r->n_nics, ==, 0);
	g_assert_cmpuint(r->n_meminfo, ==, 0);
	g_assert_nonnull(find_section(r, "meminfo"));
}

/* A fitted report goes out in one frame, whatever the envelope's seq. */
static void
test_fits_a_frame(void)
{
	g_autoptr(VtReport) r =
		big_report(VT_REPORT_MAX_NICS, VT_REPORT_MAX_FEATURES, VT_REPORT_MAX_BLOCK);
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;

	vt_report_fit(r, VT_REPORT_FIT_MAX);
	env.has_version = env.has_seq = TRUE;
	env.version = G_MAXUINT32;
	env.seq = G_MAXUINT64;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = r;
	g_assert_true(vt_envelope_append_frame(out, &env, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(out->len, <=, VT_FRAME_HEADER_SIZE + VT_FRAME_MAX);
}

/* With the section list full, a note takes the last slot instead of growing
 * the list past what the host accepts. */
static void
test_sections_full(void)
{
	g_autoptr(VtReport) r = big_report(VT_REPORT_MAX_NICS, VT_REPORT_MAX_FEATURES, 1);

	r->sections = g_renew(VtSection *, r->sections, VT_REPORT_MAX_SECTIONS);
	for (gsize i = r->n_sections; i < VT_REPORT_MAX_SECTIONS; i++)
		r->sections[i] = section_new("other", TRUE);
	r->n_sections = VT_REPORT_MAX_SECTIONS;

	vt_report_fit(r, VT_REPORT_FIT_MAX);
	g_assert_cmpuint(r->n_sections, ==, VT_REPORT_MAX_SECTIONS);
	g_assert_cmpstr(r->sections[VT_REPORT_MAX_SECTIONS - 1]->name, ==, "nics.features");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/report-fit/small-untouched", test_small_report_untouched);
	g_test_add_func("/agent/report-fit/features-first", test_features_go_first);
	g_test_add_func("/agent/report-fit/encoded-features-first", test_encoded_features_go_first);
	g_test_add_func("/agent/report-fit/order", test_order_of_parts);
	g_test_add_func("/agent/report-fit/down-to-notes", test_down_to_the_notes);
	g_test_add_func("/agent/report-fit/fits-a-frame", test_fits_a_frame);
	g_test_add_func("/agent/report-fit/sections-full", test_sections_full);
	return g_test_run();
}
