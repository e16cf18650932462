/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NICs' features kept between a guest's reports (host/daemon/nic-features.c):
 * a report sent again is decoded with them blanked and gets the kept ones,
 * and packs as the whole decode does; a change, or wire the scan does not
 * take, is decoded whole; sets are shared between guests and held by the
 * reports that use them.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "bounds.h"
#include "json.h"
#include "message.h"
#include "nic-features.h"
#include "validate.h"

/* The captured agent report (three NICs, 180 features) in an Envelope. */
static VtReport *
capture_report(void)
{
	g_autofree char *path =
		g_build_filename(g_getenv("VT_TEST_DATA"), "host", "agent-capture.json", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	VtReport *r;

	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	r = (VtReport *)vt_json_message_from_string(&virttune__v1__report__descriptor, text, -1,
						    &error);
	g_assert_no_error(error);
	g_assert_cmpuint(r->n_nics, ==, 3);
	return r;
}

static GBytes *
envelope_of(VtReport *r)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;

	env.has_seq = TRUE;
	env.seq = 2;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = r;
	return vt_message_pack(&env.base, TRUE, NULL);
}

static VtReport *
decode(GBytes *bytes, const guint8 *data, VtArena *arena)
{
	VtEnvelope *env = (VtEnvelope *)vt_message_unpack_in(
		&virttune__v1__envelope__descriptor,
		data != NULL ? data : g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), arena,
		NULL);

	g_assert_nonnull(env);
	g_assert_true(vt_validate_message(&env->base, NULL, NULL));
	g_assert_cmpint(env->body_case, ==, VIRTTUNE__V1__ENVELOPE__BODY_REPORT);
	return env->report;
}

static GBytes *
packed(const VtReport *r)
{
	return vt_message_pack(&r->base, FALSE, NULL);
}

/* The distinct features sets of @r's NICs, by their packed bytes. */
static guint
distinct_sets(const VtReport *r)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
							   (GDestroyNotify)g_bytes_unref, NULL);

	for (gsize i = 0; i < r->n_nics; i++) {
		VtNic only = VIRTTUNE__V1__NIC__INIT;

		only.n_features = r->nics[i]->n_features;
		only.features = r->nics[i]->features;
		if (only.n_features > 0)
			g_hash_table_add(seen, vt_message_pack(&only.base, FALSE, NULL));
	}
	return g_hash_table_size(seen);
}

static guint
kept_sets(void)
{
	guint sets;
	gsize bytes;

	vt_nic_features_kept(&sets, &bytes);
	return sets;
}

static void
test_sent_again(void)
{
	g_autoptr(VtReport) r = capture_report();
	g_autoptr(GBytes) payload = envelope_of(r);
	g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
	g_autoptr(VtArena) whole_arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
	g_autoptr(VtArena) arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
	g_autofree guint8 *blanked = NULL;
	g_autoptr(GBytes) expected = NULL, got = NULL;
	VtReport *whole, *again;
	guint64 n_blanked, n_whole;

	/* nothing kept yet: decoded whole */
	g_assert_null(vt_nic_features_blank(nf, g_bytes_get_data(payload, NULL),
					    g_bytes_get_size(payload)));
	whole = decode(payload, NULL, whole_arena);
	vt_nic_features_keep(nf, g_bytes_get_data(payload, NULL), g_bytes_get_size(payload));
	g_assert_cmpuint(kept_sets(), ==, distinct_sets(r));
	g_assert_cmpuint(kept_sets(), >=, 2);
	expected = packed(whole);

	blanked = vt_nic_features_blank(nf, g_bytes_get_data(payload, NULL),
					g_bytes_get_size(payload));
	g_assert_nonnull(blanked);
	again = decode(payload, blanked, arena);
	for (gsize i = 0; i < again->n_nics; i++) {
		g_assert_cmpuint(again->nics[i]->n_features, ==, 0);
		g_assert_cmpuint(again->nics[i]->base.n_unknown_fields, ==, 1);
	}
	g_assert_true(vt_nic_features_attach(nf, again, arena));
	for (gsize i = 0; i < again->n_nics; i++) {
		g_assert_cmpuint(again->nics[i]->n_features, ==, whole->nics[i]->n_features);
		g_assert_cmpuint(again->nics[i]->base.n_unknown_fields, ==, 0);
	}
	got = packed(again);
	g_assert_true(g_bytes_equal(expected, got));
	vt_nic_features_counts(nf, &n_blanked, &n_whole);
	g_assert_cmpuint(n_blanked, ==, 1);
	g_assert_cmpuint(n_whole, ==, 1);
}

/* One feature turned off: decoded whole, kept anew, then blanked again. */
static void
test_changed(void)
{
	g_autoptr(VtReport) r = capture_report();
	g_autoptr(GBytes) before = envelope_of(r);
	g_autoptr(GBytes) after = NULL;
	g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
	g_autofree guint8 *blanked = NULL;
	VtFeature *f = r->nics[1]->features[0];

	vt_nic_features_keep(nf, g_bytes_get_data(before, NULL), g_bytes_get_size(before));
	f->has_active = TRUE;
	f->active = !f->active;
	after = envelope_of(r);
	g_assert_cmpuint(g_bytes_get_size(after), ==, g_bytes_get_size(before));
	g_assert_null(
		vt_nic_features_blank(nf, g_bytes_get_data(after, NULL), g_bytes_get_size(after)));
	vt_nic_features_keep(nf, g_bytes_get_data(after, NULL), g_bytes_get_size(after));
	/* the changed NIC's new set kept, an old one no NIC sends let go */
	g_assert_cmpuint(kept_sets(), ==, distinct_sets(r));
	blanked = vt_nic_features_blank(nf, g_bytes_get_data(after, NULL), g_bytes_get_size(after));
	g_assert_nonnull(blanked);
}

/* Two guests sending the same features share the sets; a report decoded
 * with them holds them after its guest is gone. */
static void
test_shared_and_held(void)
{
	g_autoptr(VtReport) r = capture_report();
	g_autoptr(GBytes) payload = envelope_of(r);
	const guint8 *data = g_bytes_get_data(payload, NULL);
	gsize len = g_bytes_get_size(payload);
	VtNicFeatures *a = vt_nic_features_new(), *b = vt_nic_features_new();
	VtArena *arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
	g_autofree guint8 *blanked = NULL;
	VtReport *report;

	g_assert_cmpuint(kept_sets(), ==, 0);
	vt_nic_features_keep(a, data, len);
	vt_nic_features_keep(b, data, len);
	g_assert_cmpuint(kept_sets(), ==, distinct_sets(r));
	blanked = vt_nic_features_blank(b, data, len);
	report = decode(payload, blanked, arena);
	g_assert_true(vt_nic_features_attach(b, report, arena));
	vt_nic_features_free(a);
	vt_nic_features_free(b);
	g_assert_cmpuint(kept_sets(), ==, distinct_sets(r));
	g_assert_cmpstr(report->nics[0]->features[0]->name, ==, r->nics[0]->features[0]->name);
	vt_arena_free(arena);
	g_assert_cmpuint(kept_sets(), ==, 0);
}

/* As sent: one field of bytes per NIC, packing to the same report. */
static void
test_as_sent(void)
{
	g_autoptr(VtReport) r = capture_report();
	g_autoptr(GBytes) payload = envelope_of(r);
	g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
	g_autoptr(VtArena) arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
	g_autoptr(GBytes) expected = packed(r), as_sent = NULL, restored = NULL;
	g_autoptr(VtReport) back = NULL;
	g_autoptr(GBytes) back_packed = NULL;
	VtReport *report = decode(payload, NULL, arena);

	/* not kept yet: not as sent */
	g_assert_false(vt_nic_features_as_sent(nf, report, TRUE));
	vt_nic_features_keep(nf, g_bytes_get_data(payload, NULL), g_bytes_get_size(payload));
	g_assert_true(vt_nic_features_as_sent(nf, report, TRUE));
	for (gsize i = 0; i < report->n_nics; i++) {
		g_assert_cmpuint(report->nics[i]->n_features, ==, 0);
		g_assert_cmpuint(report->nics[i]->base.n_unknown_fields, ==, 1);
	}
	as_sent = packed(report);
	g_assert_cmpuint(g_bytes_get_size(as_sent), ==, g_bytes_get_size(expected));
	back = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor,
					     g_bytes_get_data(as_sent, NULL),
					     g_bytes_get_size(as_sent), NULL);
	back_packed = packed(back);
	g_assert_true(g_bytes_equal(back_packed, expected));
	vt_nic_features_as_sent(nf, report, FALSE);
	restored = packed(report);
	g_assert_true(g_bytes_equal(restored, expected));
}

static void
put_varint(GString *out, guint64 v)
{
	for (; v >= 0x80; v >>= 7)
		g_string_append_c(out, (char)((v & 0x7f) | 0x80));
	g_string_append_c(out, (char)v);
}

/* Appends field @num, length-delimited, of @len bytes at @data. */
static void
put_field(GString *out, guint32 num, const void *data, gsize len)
{
	put_varint(out, (guint64)num << 3 | 2);
	put_varint(out, len);
	g_string_append_len(out, data, (gssize)len);
}

static void
put_string(GString *out, guint32 num, GString *field)
{
	put_field(out, num, field->str, field->len);
	g_string_free(field, TRUE);
}

/* One features entry (Nic field 10) of a Feature named @name. */
static void
put_feature(GString *nic, const char *name)
{
	GString *f = g_string_new(NULL);

	put_field(f, 1, name, strlen(name));
	put_string(nic, 10, f);
}

/* Wire the scan does not take is decoded whole, however often it comes
 * (field numbers of proto/virttune.proto: Envelope.report 11, Report.nics
 * 7, Nic.name 1, Nic.features 10). */
static void
test_unusual_wire(void)
{
	for (guint c = 0; c < 3; c++) {
		g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
		g_autoptr(GString) env = g_string_new(NULL);
		g_autoptr(VtArena) arena = vt_arena_new(0, VT_UNPACK_MEMORY_MAX);
		GString *nic = g_string_new(NULL), *report = g_string_new(NULL);

		put_feature(nic, "rx-gro");
		if (c == 0) /* features, name, features: a split run */
			put_field(nic, 1, "eth0", 4);
		if (c == 1) /* a field of the blank's number already in a NIC */
			put_field(nic, 536870911u, "xyz", 3);
		put_feature(nic, "tx-tcp-segmentation");
		put_string(report, 7, nic);
		put_varint(env, 1 << 3);
		put_varint(env, 1);
		if (c == 2) /* two reports: protobuf merges them */
			put_field(env, 11, report->str, report->len);
		put_string(env, 11, report);
		/* it decodes: only the scan declines it */
		g_assert_nonnull(vt_message_unpack_in(&virttune__v1__envelope__descriptor,
						      (const guint8 *)env->str, env->len, arena,
						      NULL));
		vt_nic_features_keep(nf, (const guint8 *)env->str, env->len);
		g_assert_null(vt_nic_features_blank(nf, (const guint8 *)env->str, env->len));
	}
	/* the same without the oddity is taken */
	{
		g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
		g_autoptr(GString) env = g_string_new(NULL);
		g_autofree guint8 *blanked = NULL;
		GString *nic = g_string_new(NULL), *report = g_string_new(NULL);

		put_feature(nic, "rx-gro");
		put_feature(nic, "tx-tcp-segmentation");
		put_field(nic, 1, "eth0", 4);
		put_string(report, 7, nic);
		put_string(env, 11, report);
		vt_nic_features_keep(nf, (const guint8 *)env->str, env->len);
		blanked = vt_nic_features_blank(nf, (const guint8 *)env->str, env->len);
		g_assert_nonnull(blanked);
	}
}

/* A guest whose features would take more than its share is decoded whole:
 * 64 NICs of 128 two-letter features are ~49 KB sent, over 256 KB decoded. */
static void
test_guest_bound(void)
{
	g_autoptr(VtNicFeatures) nf = vt_nic_features_new();
	g_autoptr(GString) env = g_string_new(NULL);
	GString *report = g_string_new(NULL);
	gsize bytes;
	guint sets;

	for (guint n = 0; n < VT_REPORT_MAX_NICS; n++) {
		GString *nic = g_string_new(NULL);
		g_autofree char *name = g_strdup_printf("eth%u", n);

		put_field(nic, 1, name, strlen(name));
		for (guint f = 0; f < VT_REPORT_MAX_FEATURES; f++) {
			char feature[3] = {(char)('a' + f / 26), (char)('a' + f % 26), '\0'};

			put_feature(nic, feature);
		}
		put_string(report, 7, nic);
	}
	put_string(env, 11, report);
	g_assert_cmpuint(env->len, <=, VT_FRAME_MAX);
	vt_nic_features_keep(nf, (const guint8 *)env->str, env->len);
	g_assert_null(vt_nic_features_blank(nf, (const guint8 *)env->str, env->len));
	vt_nic_features_kept(&sets, &bytes);
	g_assert_cmpuint(sets, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nic-features/sent-again", test_sent_again);
	g_test_add_func("/nic-features/changed", test_changed);
	g_test_add_func("/nic-features/shared-and-held", test_shared_and_held);
	g_test_add_func("/nic-features/as-sent", test_as_sent);
	g_test_add_func("/nic-features/unusual-wire", test_unusual_wire);
	g_test_add_func("/nic-features/guest-bound", test_guest_bound);
	return g_test_run();
}
