/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nic-features.h"

#include <string.h>

#include "bounds.h"

/*
 * The blank: one length-delimited field of a number no message of the
 * schema has, whose tag and length take the first bytes of the run and whose
 * value is the rest of it. Two numbers, so that one of the tag sizes (5 and 4
 * bytes) gives the length a varint of its least size.
 */
#define BLANK_FIELD_5 VT_PROTOBUF_FIELD_MAX /* 2^29 - 1: the largest */
#define BLANK_FIELD_4 33554431u             /* 2^25 - 1 */

/* All the sets kept, for all guests, and those of one guest (counted whole
 * when shared): past these, new ones are not kept, and the reports are
 * decoded whole. A guest with three NICs keeps ~45 KB; one NIC of 128
 * features at most ~50 KB. */
#define KEPT_BYTES_MAX  (16u << 20)
#define GUEST_BYTES_MAX (256u << 10)

typedef struct {
	guint refs;
	guint64 hash;
	guint8 *bytes; /* the NIC's features entries as they came */
	gsize len;
	gsize tag_len; /* of the first entry's tag (a sender may pad a varint) */
	VtArena *arena;
	VtNic *only; /* they, decoded: a Nic with nothing else */
	gsize weight;
} FeatureSet;

typedef struct {
	gsize start, len; /* of a NIC's features entries in the payload; 0: none */
} Run;

/* One NIC of the last report kept. */
typedef struct {
	FeatureSet *set; /* NULL: a NIC without features */
	/* vt_nic_features_as_sent(): its features as one field of their
	 * bytes, and the messages they stand for meanwhile */
	ProtobufCMessageUnknownField carrier;
	VtFeature **messages;
	gsize n_messages;
} Slot;

struct VtNicFeatures {
	guint n;        /* NICs of the last report kept */
	Slot *slots;    /* theirs */
	gboolean valid; /* the last report's were kept */
	gboolean as_sent;
	guint64 blanked, whole;
};

/* Every set kept, by its bytes: main loop only. */
static GHashTable *kept_sets;
static gsize kept_bytes;

/* The fields the runs are found by: the Envelope's report, the Report's
 * NICs, the Nic's features. */
static guint32 field_report, field_nics, field_features;

static guint64
bytes_hash(const guint8 *p, gsize len)
{
	guint64 h = 0xcbf29ce484222325u; /* FNV-1a */

	for (gsize i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3u;
	return h;
}

static guint
set_hash(gconstpointer key)
{
	const FeatureSet *s = key;
	return (guint)(s->hash ^ (s->hash >> 32));
}

static gboolean
set_equal(gconstpointer a, gconstpointer b)
{
	const FeatureSet *x = a, *y = b;
	return x->len == y->len && memcmp(x->bytes, y->bytes, x->len) == 0;
}

static void
set_unref(gpointer data)
{
	FeatureSet *s = data;

	if (s == NULL || --s->refs > 0)
		return;
	g_hash_table_remove(kept_sets, s);
	kept_bytes -= s->weight;
	vt_arena_free(s->arena);
	g_free(s->bytes);
	g_free(s);
}

static FeatureSet *
set_ref(FeatureSet *s)
{
	s->refs++;
	return s;
}

VtNicFeatures *
vt_nic_features_new(void)
{
	if (kept_sets == NULL) {
		kept_sets = g_hash_table_new(set_hash, set_equal);
		field_report = vt_message_field_id(&virttune__v1__envelope__descriptor, "report");
		field_nics = vt_message_field_id(&virttune__v1__report__descriptor, "nics");
		field_features = vt_message_field_id(&virttune__v1__nic__descriptor, "features");
	}
	return g_new0(VtNicFeatures, 1);
}

static void
forget(VtNicFeatures *nf)
{
	for (guint i = 0; i < nf->n; i++)
		g_clear_pointer(&nf->slots[i].set, set_unref);
	g_clear_pointer(&nf->slots, g_free);
	nf->n = 0;
	nf->valid = FALSE;
}

void
vt_nic_features_free(VtNicFeatures *nf)
{
	if (nf == NULL)
		return;
	forget(nf);
	g_free(nf);
}

/* ------------------------------------------------------------ the wire */

static gboolean
read_varint(const guint8 *p, gsize end, gsize *at, guint64 *v)
{
	*v = 0;
	for (guint shift = 0; shift < 64 && *at < end; shift += 7) {
		guint8 b = p[(*at)++];

		*v |= (guint64)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return TRUE;
	}
	return FALSE;
}

/* The next field at *@at (< @end): its number and wire type, and where its
 * value lies when length-delimited; *@at past it. FALSE: not a field. */
static gboolean
next_field(const guint8 *p, gsize end, gsize *at, guint32 *field, guint *type, gsize *value_at,
	   gsize *value_len)
{
	guint64 tag, n;

	if (!read_varint(p, end, at, &tag) || tag >> 3 == 0 || tag >> 3 > G_MAXUINT32)
		return FALSE;
	*field = (guint32)(tag >> 3);
	*type = (guint)(tag & 7);
	switch (*type) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		return read_varint(p, end, at, &n);
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		n = 8;
		break;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		n = 4;
		break;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		if (!read_varint(p, end, at, &n))
			return FALSE;
		*value_at = *at;
		*value_len = (gsize)n;
		break;
	default: /* groups: not in this schema */
		return FALSE;
	}
	if (n > end - *at)
		return FALSE;
	*at += (gsize)n;
	return TRUE;
}

/* A Nic's features entries in [@at, @end): one run, or FALSE (split, or a
 * blank's number already there). */
static gboolean
scan_nic(const guint8 *p, gsize at, gsize end, Run *run)
{
	gboolean in = FALSE, after = FALSE;

	run->start = run->len = 0;
	while (at < end) {
		gsize from = at, vat, vlen;
		guint32 field;
		guint type;

		if (!next_field(p, end, &at, &field, &type, &vat, &vlen) ||
		    field == BLANK_FIELD_5 || field == BLANK_FIELD_4)
			return FALSE;
		if (field != field_features) {
			after |= in;
			continue;
		}
		if (type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || after)
			return FALSE;
		if (!in)
			run->start = from;
		in = TRUE;
		run->len = at - run->start;
	}
	return TRUE;
}

/* The runs of the NICs of @payload's report, in order; FALSE when they
 * cannot be told (no single report, a run split, too many NICs). */
static gboolean
scan(const guint8 *p, gsize len, Run *runs, guint *n_runs)
{
	gsize at = 0, report_at = 0, report_len = 0;
	gboolean seen = FALSE;

	*n_runs = 0;
	while (at < len) {
		gsize vat = 0, vlen = 0;
		guint32 field;
		guint type;

		if (!next_field(p, len, &at, &field, &type, &vat, &vlen))
			return FALSE;
		if (field != field_report)
			continue;
		if (seen || type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			return FALSE; /* two merge into one: decoded as it is */
		seen = TRUE;
		report_at = vat;
		report_len = vlen;
	}
	for (at = report_at; seen && at < report_at + report_len;) {
		gsize vat = 0, vlen = 0;
		guint32 field;
		guint type;

		if (!next_field(p, report_at + report_len, &at, &field, &type, &vat, &vlen))
			return FALSE;
		if (field != field_nics)
			continue;
		if (type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || *n_runs >= VT_REPORT_MAX_NICS ||
		    !scan_nic(p, vat, vat + vlen, &runs[*n_runs]))
			return FALSE;
		(*n_runs)++;
	}
	return seen;
}

/* Writes the blank over the @len bytes at @at; FALSE if none fits. */
static gboolean
write_blank(guint8 *at, gsize len)
{
	static const guint32 fields[] = {BLANK_FIELD_5, BLANK_FIELD_4};

	for (gsize f = 0; f < G_N_ELEMENTS(fields); f++) {
		guint64 tag = (guint64)fields[f] << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
		guint tag_len = vt_varint_size(tag);

		for (guint k = 1; k <= 4 && tag_len + k <= len; k++) {
			guint64 value = len - tag_len - k;

			if (vt_varint_size(value) == k) {
				gsize n = vt_varint_write(tag, at);

				vt_varint_write(value, at + n);
				return TRUE;
			}
		}
	}
	return FALSE;
}

/* ------------------------------------------------------------ blank, attach */

guint8 *
vt_nic_features_blank(VtNicFeatures *nf, const guint8 *payload, gsize len)
{
	Run runs[VT_REPORT_MAX_NICS];
	guint n;
	g_autofree guint8 *copy = NULL;

	if (!nf->valid || !scan(payload, len, runs, &n) || n != nf->n)
		return NULL;
	for (guint i = 0; i < n; i++) {
		const FeatureSet *s = nf->slots[i].set;

		if (runs[i].len != (s != NULL ? s->len : 0) ||
		    (s != NULL && memcmp(payload + runs[i].start, s->bytes, s->len) != 0))
			return NULL;
	}
	copy = g_memdup2(payload, len);
	for (guint i = 0; i < n; i++)
		if (runs[i].len > 0 && !write_blank(copy + runs[i].start, runs[i].len))
			return NULL;
	return g_steal_pointer(&copy);
}

static gboolean
is_blank(const ProtobufCMessageUnknownField *u)
{
	return u->tag == BLANK_FIELD_5 || u->tag == BLANK_FIELD_4;
}

gboolean
vt_nic_features_attach(VtNicFeatures *nf, VtReport *report, VtArena *arena)
{
	if (report->n_nics != nf->n)
		return FALSE;
	for (guint i = 0; i < nf->n; i++) {
		VtNic *nic = report->nics[i];
		guint kept = 0, blanks = 0;

		for (gsize u = 0; u < nic->base.n_unknown_fields; u++) {
			if (is_blank(&nic->base.unknown_fields[u]))
				blanks++;
			else
				nic->base.unknown_fields[kept++] = nic->base.unknown_fields[u];
		}
		if (blanks != (nf->slots[i].set != NULL ? 1u : 0u) || nic->n_features != 0)
			return FALSE;
		nic->base.n_unknown_fields = kept;
		if (nf->slots[i].set == NULL)
			continue;
		if (!vt_arena_add_cleanup(arena, set_unref, nf->slots[i].set))
			return FALSE;
		set_ref(nf->slots[i].set);
		nic->n_features = nf->slots[i].set->only->n_features;
		nic->features = nf->slots[i].set->only->features;
	}
	nf->blanked++;
	return TRUE;
}

/* ------------------------------------------------------------ keep */

/* The kept set of these bytes, or a new one; NULL past the bound. */
static FeatureSet *
find_or_make(const guint8 *bytes, gsize len)
{
	FeatureSet key = {.hash = bytes_hash(bytes, len), .bytes = (guint8 *)bytes, .len = len};
	FeatureSet *s = g_hash_table_lookup(kept_sets, &key);
	gsize tag_len = 0;
	guint64 tag;
	g_autoptr(VtArena) arena = NULL;
	VtNic *only;

	if (s != NULL)
		return set_ref(s);
	/* the first tag's own length: the scan read it, as it came */
	if (kept_bytes + len > KEPT_BYTES_MAX || !read_varint(bytes, len, &tag_len, &tag))
		return NULL;
	/* the entries alone are a Nic with nothing but its features */
	arena = vt_arena_new(len * 8, VT_UNPACK_MEMORY_MAX);
	only = (VtNic *)vt_message_unpack_in(&virttune__v1__nic__descriptor, bytes, len, arena,
					     NULL);
	if (only == NULL || only->base.n_unknown_fields != 0)
		return NULL;
	s = g_new0(FeatureSet, 1);
	s->refs = 1;
	s->hash = key.hash;
	s->bytes = g_memdup2(bytes, len);
	s->len = len;
	s->tag_len = tag_len;
	s->only = only;
	s->weight = len + vt_arena_used(arena);
	s->arena = g_steal_pointer(&arena);
	if (kept_bytes + s->weight > KEPT_BYTES_MAX) {
		vt_arena_free(s->arena);
		g_free(s->bytes);
		g_free(s);
		return NULL;
	}
	kept_bytes += s->weight;
	g_hash_table_add(kept_sets, s);
	return s;
}

void
vt_nic_features_keep(VtNicFeatures *nf, const guint8 *payload, gsize len)
{
	Run runs[VT_REPORT_MAX_NICS];
	FeatureSet *sets[VT_REPORT_MAX_NICS] = {NULL};
	gsize weight = 0;
	guint n;

	nf->whole++;
	if (!scan(payload, len, runs, &n)) {
		forget(nf);
		return;
	}
	for (guint i = 0; i < n; i++) {
		if (runs[i].len == 0)
			continue;
		/* the same set as last time: no lookup */
		if (nf->valid && i < nf->n && nf->slots[i].set != NULL &&
		    nf->slots[i].set->len == runs[i].len &&
		    memcmp(nf->slots[i].set->bytes, payload + runs[i].start, runs[i].len) == 0)
			sets[i] = set_ref(nf->slots[i].set);
		else
			sets[i] = find_or_make(payload + runs[i].start, runs[i].len);
		if (sets[i] != NULL)
			weight += sets[i]->weight;
		if (sets[i] == NULL || weight > GUEST_BYTES_MAX) {
			for (guint k = 0; k <= i; k++)
				set_unref(sets[k]);
			forget(nf);
			return;
		}
	}
	forget(nf);
	nf->slots = g_new0(Slot, MAX(n, 1));
	for (guint i = 0; i < n; i++)
		nf->slots[i].set = sets[i];
	nf->n = n;
	nf->valid = TRUE;
}

gboolean
vt_nic_features_as_sent(VtNicFeatures *nf, VtReport *report, gboolean as_sent)
{
	if (!as_sent) {
		for (guint i = 0; nf->as_sent && i < nf->n; i++) {
			VtNic *nic = report->nics[i];

			if (nf->slots[i].set == NULL)
				continue;
			nic->base.n_unknown_fields = 0;
			nic->base.unknown_fields = NULL;
			nic->features = nf->slots[i].messages;
			nic->n_features = nf->slots[i].n_messages;
		}
		nf->as_sent = FALSE;
		return TRUE;
	}
	if (!nf->valid || nf->as_sent || report->n_nics != nf->n)
		return FALSE;
	for (guint i = 0; i < nf->n; i++) {
		const VtNic *nic = report->nics[i];
		gsize n = nf->slots[i].set != NULL ? nf->slots[i].set->only->n_features : 0;

		if (nic->base.n_unknown_fields != 0 || nic->n_features != n)
			return FALSE;
	}
	for (guint i = 0; i < nf->n; i++) {
		VtNic *nic = report->nics[i];
		ProtobufCMessageUnknownField *u = &nf->slots[i].carrier;

		if (nf->slots[i].set == NULL)
			continue;
		/* protobuf-c writes the tag, then these bytes: the entries as they came */
		u->tag = field_features;
		u->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
		u->data = nf->slots[i].set->bytes + nf->slots[i].set->tag_len;
		u->len = nf->slots[i].set->len - nf->slots[i].set->tag_len;
		nf->slots[i].messages = nic->features;
		nf->slots[i].n_messages = nic->n_features;
		nic->features = NULL;
		nic->n_features = 0;
		nic->base.n_unknown_fields = 1;
		nic->base.unknown_fields = u;
	}
	nf->as_sent = TRUE;
	return TRUE;
}

void
vt_nic_features_counts(const VtNicFeatures *nf, guint64 *blanked, guint64 *whole)
{
	*blanked = nf->blanked;
	*whole = nf->whole;
}

void
vt_nic_features_kept(guint *sets, gsize *bytes)
{
	*sets = kept_sets != NULL ? g_hash_table_size(kept_sets) : 0;
	*bytes = kept_bytes;
}
