/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A NIC's ethtool features in the report: one Feature message each, or, for
 * a report that only goes on the wire, their encoding, packed when the bits
 * were asked again and changed, and carried in the Nic as one run of
 * pre-encoded fields (see vt_collector_set_features_encoded()).
 */
#include "collector-private.h"

#include <errno.h>
#include <string.h>

static void
problem(GString *problems, const char *what, const char *why)
{
	g_string_append_printf(problems, "%s%s: %s", problems->len ? "; " : "", what, why);
}

void
vt_iface_features_clear(VtIface *iface)
{
	g_clear_pointer(&iface->feature_names, g_strfreev);
	iface->n_features = 0;
	iface->features_rc = 0;
	g_clear_pointer(&iface->blocks, g_free);
	g_clear_pointer(&iface->features_wire, g_free);
	iface->features_wire_len = 0;
}

/* The names never change for a device: asked once, cleaned once, then
 * copied as they are into every report. */
static void
load_names(VtEthtool *e, VtIface *iface)
{
	iface->names_done = TRUE;
	iface->names_rc = vt_ethtool_get_feature_names(e, iface->base.name, &iface->feature_names,
						       &iface->n_features);
	for (guint i = 0; iface->names_rc == 0 && i < iface->n_features; i++) {
		gboolean bad = FALSE;
		char *clean = vt_report_string(iface->feature_names[i], -1, &bad);

		g_free(iface->feature_names[i]);
		iface->feature_names[i] = clean;
		iface->names_cleaned |= bad;
	}
}

void
vt_iface_ask_features(VtEthtool *e, VtIface *iface)
{
	gsize size;
	g_autofree struct ethtool_get_features_block *old = NULL;

	if (!iface->names_done)
		load_names(e, iface);
	iface->features_rc = 0;
	if (iface->names_rc != 0 || iface->n_features == 0)
		return;
	/* the count is fixed while the names are kept */
	size = (iface->n_features + 31) / 32 * sizeof(*iface->blocks);
	if (iface->blocks == NULL)
		iface->blocks = g_malloc0(size);
	else
		old = g_memdup2(iface->blocks, size);
	iface->features_rc =
		vt_ethtool_get_feature_bits(e, iface->base.name, iface->n_features, iface->blocks);
	/* the encoding holds while the bits do */
	if (iface->features_rc != 0 || old == NULL || memcmp(old, iface->blocks, size) != 0)
		g_clear_pointer(&iface->features_wire, g_free);
}

/* Unused feature bits have empty names; ethtool skips them too. */
static gboolean
feature_used(const VtIface *iface, guint i)
{
	return iface->feature_names[i][0] != '\0';
}

/* Feature @i's state as ethtool -k shows it. */
static void
feature_state(const VtIface *iface, guint i, VtFeature *f)
{
	const struct ethtool_get_features_block *b = &iface->blocks[i / 32];
	guint32 bit = 1u << (i % 32);

	f->has_active = f->has_fixed = f->has_requested = TRUE;
	f->active = (b->active & bit) != 0;
	f->requested = (b->requested & bit) != 0;
	/* as ethtool -k prints [fixed] */
	f->fixed = !(b->available & bit) || (b->never_changed & bit);
}

/* The Nic field that holds the features (asked of the schema once). */
static guint32
features_field_id(void)
{
	static guint32 id;

	if (id == 0)
		id = vt_message_field_id(&virttune__v1__nic__descriptor, "features");
	return id;
}

/*
 * Every feature's entry, tag, length and Feature, back to back: a Nic of the
 * features alone, packed by protobuf-c. The first tag is left out, as
 * protobuf-c holds an unknown field's bytes: it writes the tag, then them.
 */
static void
pack_wire(VtIface *iface, guint n)
{
	g_autofree VtFeature *features = g_new(VtFeature, n);
	g_autofree VtFeature **ptrs = g_new(VtFeature *, n);
	VtNic only = VIRTTUNE__V1__NIC__INIT;
	guint tag_len = vt_varint_size((guint64)features_field_id() << 3 |
				       PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
	gsize size;
	g_autofree guint8 *packed = NULL;

	for (guint i = 0; i < n; i++) {
		if (!feature_used(iface, i))
			continue;
		virttune__v1__feature__init(&features[only.n_features]);
		features[only.n_features].name = iface->feature_names[i];
		feature_state(iface, i, &features[only.n_features]);
		ptrs[only.n_features] = &features[only.n_features];
		only.n_features++;
	}
	only.features = ptrs;
	size = protobuf_c_message_get_packed_size(&only.base);
	packed = g_malloc(MAX(size, 1));
	protobuf_c_message_pack(&only.base, packed);
	/* no used bit: an empty run, kept (not NULL) so as not to pack again */
	iface->features_wire_len = size > tag_len ? size - tag_len : 0;
	iface->features_wire = iface->features_wire_len > 0
				       ? g_memdup2(packed + tag_len, iface->features_wire_len)
				       : g_new0(guint8, 1);
}

static void
attach_wire(const VtIface *iface, VtNic *nic)
{
	ProtobufCMessageUnknownField *run;

	if (iface->features_wire_len == 0)
		return;
	run = g_new(ProtobufCMessageUnknownField, 1);
	run->tag = features_field_id();
	run->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	run->len = iface->features_wire_len;
	/* the report owns its copy: protobuf-c frees it with the Nic */
	run->data = g_memdup2(iface->features_wire, iface->features_wire_len);
	nic->base.n_unknown_fields = 1;
	nic->base.unknown_fields = run;
}

void
vt_collect_features(VtCollector *c, VtIface *iface, VtNic *nic, GString *problems)
{
	guint n = MIN(iface->n_features, VT_REPORT_MAX_FEATURES);

	if (iface->names_rc < 0) {
		problem(problems, "features",
			iface->names_rc == -E2BIG ? "more than the kernel could have"
						  : g_strerror(-iface->names_rc));
		return;
	}
	if (iface->n_features == 0)
		return;
	if (iface->features_rc < 0) {
		problem(problems, "features", g_strerror(-iface->features_rc));
		return;
	}
	if (c->features_encoded) {
		if (iface->features_wire == NULL)
			pack_wire(iface, n);
		attach_wire(iface, nic);
	} else {
		nic->features = g_new(VtFeature *, n);
		for (guint i = 0; i < n; i++) {
			VtFeature *f;

			if (!feature_used(iface, i))
				continue;
			f = vt_collector_feature(c, iface->feature_names[i]);
			feature_state(iface, i, f);
			nic->features[nic->n_features++] = f;
		}
	}
	if (iface->names_cleaned)
		problem(problems, "features", "names not valid UTF-8, replaced");
	if (iface->n_features > n)
		problem(problems, "features", "more than the limit, the rest left out");
}
