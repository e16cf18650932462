/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "counters.h"

#include <math.h>
#include <string.h>

#include "error.h"

#define BLOB_KEY   1u
#define BLOB_DELTA 2u

/* Meminfo values are kB lines times 1024: their deltas shrink by 10 bits. */
#define SCALE 1024

/* A field named NULL means every uint64/double field of that message. */
typedef struct {
	const ProtobufCMessageDescriptor *desc;
	const char *field;
} VtCounterField;

static const VtCounterField counter_fields[] = {
	{&virttune__v1__report__descriptor, "collected_at_ms"},
	{&virttune__v1__report__descriptor, "monotonic_ms"},
	{&virttune__v1__identity__descriptor, "uptime_s"},
	{&virttune__v1__report__meminfo_entry__descriptor, "value"},
	{&virttune__v1__report__vmstat_entry__descriptor, "value"},
	{&virttune__v1__swap__descriptor, "pswpin"},
	{&virttune__v1__swap__descriptor, "pswpout"},
	{&virttune__v1__swap_device__descriptor, "used_bytes"},
	{&virttune__v1__block_stats__descriptor, NULL},
	{&virttune__v1__nic_stats__descriptor, NULL},
	{&virttune__v1__cpu__descriptor, "total_ticks"},
	{&virttune__v1__cpu__descriptor, "steal_ticks"},
	{&virttune__v1__cpu__descriptor, "iowait_ticks"},
	{&virttune__v1__cpu__descriptor, "loadavg_1"},
	{&virttune__v1__cpu__descriptor, "loadavg_5"},
	{&virttune__v1__cpu__descriptor, "loadavg_15"},
	{&virttune__v1__pressure_line__descriptor, NULL},
	{&virttune__v1__softnet__descriptor, NULL},
	{&virttune__v1__queue_interrupts__descriptor, "count"},
};

VtCounters *
vt_counters_new(void)
{
	VtCounters *c = g_new0(VtCounters, 1);

	c->values = g_array_new(FALSE, FALSE, sizeof(guint64));
	c->kinds = g_byte_array_new();
	return c;
}

void
vt_counters_free(VtCounters *counters)
{
	if (counters == NULL)
		return;
	g_array_unref(counters->values);
	g_byte_array_unref(counters->kinds);
	g_free(counters);
}

VtCounters *
vt_counters_copy(const VtCounters *counters)
{
	VtCounters *c = vt_counters_new();

	g_array_append_vals(c->values, counters->values->data, counters->values->len);
	g_byte_array_append(c->kinds, counters->kinds->data, counters->kinds->len);
	return c;
}

static gboolean
is_counter(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *field)
{
	for (guint i = 0; i < G_N_ELEMENTS(counter_fields); i++) {
		if (counter_fields[i].desc != desc)
			continue;
		if (counter_fields[i].field == NULL ||
		    strcmp(counter_fields[i].field, field->name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* ------------------------------------------------------------ the walk */

typedef struct {
	gboolean inject;
	gboolean zero;
	VtCounters *out;      /* extract */
	const VtCounters *in; /* inject */
	guint pos;
	gboolean failed;
	GError **error;
} VtWalk;

static void
visit(VtWalk *w, void *member, VtCounterKind kind)
{
	guint64 bits;

	if (w->inject) {
		if (w->pos >= w->in->values->len || w->in->kinds->data[w->pos] != kind) {
			g_set_error(w->error, VT_ERROR, VT_ERROR_INVALID,
				    "counters do not match the report's layout at slot %u", w->pos);
			w->failed = TRUE;
			return;
		}
		bits = g_array_index(w->in->values, guint64, w->pos);
		memcpy(member, &bits, sizeof(bits));
		w->pos++;
		return;
	}
	if (w->out->values->len >= VT_COUNTERS_MAX_SLOTS) {
		g_set_error(w->error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "report has more than %u counters", VT_COUNTERS_MAX_SLOTS);
		w->failed = TRUE;
		return;
	}
	memcpy(&bits, member, sizeof(bits));
	g_array_append_val(w->out->values, bits);
	g_byte_array_append(w->out->kinds, (const guint8[]){kind}, 1);
	if (w->zero)
		memset(member, 0, sizeof(bits));
}

/* Depth is bounded by the schema: no message of the report contains itself. */
static void
walk_message(VtWalk *w, ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	for (unsigned i = 0; i < desc->n_fields && !w->failed; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		char *member = (char *)msg + f->offset;
		char *quantifier = (char *)msg + f->quantifier_offset;

		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(uint32_t *)quantifier != f->id)
			continue;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				size_t n = *(size_t *)quantifier;
				ProtobufCMessage **items = *(ProtobufCMessage ***)member;

				for (size_t j = 0; j < n && !w->failed; j++)
					if (items[j] != NULL)
						walk_message(w, items[j]);
			} else if (*(ProtobufCMessage **)member != NULL) {
				walk_message(w, *(ProtobufCMessage **)member);
			}
			continue;
		}
		if (f->type != PROTOBUF_C_TYPE_UINT64 && f->type != PROTOBUF_C_TYPE_DOUBLE)
			continue;
		if (f->label != PROTOBUF_C_LABEL_OPTIONAL ||
		    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		if (!*(protobuf_c_boolean *)quantifier || !is_counter(desc, f))
			continue;
		visit(w, member,
		      f->type == PROTOBUF_C_TYPE_DOUBLE ? VT_COUNTER_DOUBLE : VT_COUNTER_U64);
	}
}

gboolean
vt_counters_extract(VtReport *report, gboolean zero, VtCounters *out, GError **error)
{
	VtWalk w = {.zero = zero, .out = out, .error = error};

	walk_message(&w, &report->base);
	return !w.failed;
}

gboolean
vt_counters_inject(VtReport *report, const VtCounters *counters, GError **error)
{
	VtWalk w = {.inject = TRUE, .in = counters, .error = error};

	walk_message(&w, &report->base);
	if (!w.failed && w.pos != counters->values->len) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%u counters for a report layout of %u", counters->values->len, w.pos);
		return FALSE;
	}
	return !w.failed;
}

/* ------------------------------------------------------------ encoding */

static guint64
zigzag(gint64 v)
{
	return ((guint64)v << 1) ^ (guint64)(v >> 63);
}

static gint64
unzigzag(guint64 v)
{
	return (gint64)(v >> 1) ^ -(gint64)(v & 1);
}

static void
put_varint(GByteArray *out, guint64 v)
{
	guint8 buf[10];
	guint n = 0;

	while (v >= 0x80) {
		buf[n++] = (guint8)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (guint8)v;
	g_byte_array_append(out, buf, n);
}

static void
put_raw64(GByteArray *out, guint64 v)
{
	guint8 buf[9];

	buf[0] = 0; /* the escape token */
	for (guint i = 0; i < 8; i++)
		buf[1 + i] = (guint8)(v >> (8 * i));
	g_byte_array_append(out, buf, sizeof(buf));
}

/* An exact hundredth: what /proc/loadavg's "%lu.%02lu" parses to. */
static gboolean
double_to_centi(guint64 bits, gint64 *centi)
{
	double x, back;
	guint64 back_bits;
	gint64 c;

	memcpy(&x, &bits, sizeof(x));
	if (!isfinite(x) || x > 1e12 || x < -1e12)
		return FALSE;
	c = (gint64)(x * 100.0 + (x >= 0 ? 0.5 : -0.5));
	back = (double)c / 100.0;
	memcpy(&back_bits, &back, sizeof(back_bits));
	if (back_bits != bits) /* also refuses -0.0 */
		return FALSE;
	*centi = c;
	return TRUE;
}

static void
put_token(GByteArray *out, VtCounterKind kind, guint64 value, guint64 prev)
{
	if (kind == VT_COUNTER_DOUBLE) {
		gint64 centi;

		if (double_to_centi(value, &centi))
			put_varint(out, (zigzag(centi) << 1) | 1);
		else
			put_raw64(out, value);
		return;
	}

	gint64 d = (gint64)(value - prev);
	guint64 z = zigzag(d);

	if (d % SCALE == 0)
		put_varint(out, (zigzag(d / SCALE) << 1) | 1);
	else if ((z >> 63) == 0)
		put_varint(out, z << 1);
	else
		put_raw64(out, value);
}

GByteArray *
vt_counters_encode(const VtCounters *cur, const VtCounters *prev)
{
	guint n = cur->values->len;
	const guint64 *v = (const guint64 *)cur->values->data;
	const guint64 *p = prev != NULL ? (const guint64 *)prev->values->data : NULL;
	GByteArray *out = g_byte_array_sized_new(8 + n * 2);

	g_return_val_if_fail(prev == NULL || prev->values->len == n, out);

	g_byte_array_append(out, (const guint8[]){p != NULL ? BLOB_DELTA : BLOB_KEY}, 1);
	put_varint(out, n);
	if (p == NULL) {
		for (guint i = 0; i < n; i++)
			put_token(out, cur->kinds->data[i], v[i], 0);
		return out;
	}

	guint bitmap_at = out->len;
	guint bitmap_len = (n + 7) / 8;

	g_byte_array_set_size(out, out->len + bitmap_len);
	memset(out->data + bitmap_at, 0, bitmap_len);
	for (guint i = 0; i < n; i++) {
		if (v[i] == p[i])
			continue;
		out->data[bitmap_at + i / 8] |= (guint8)(1u << (i % 8));
		put_token(out, cur->kinds->data[i], v[i], p[i]);
	}
	return out;
}

/* ------------------------------------------------------------ decoding */

typedef struct {
	const guint8 *p;
	const guint8 *end;
} VtReader;

static gboolean
get_varint(VtReader *r, guint64 *out)
{
	guint64 v = 0;

	for (guint shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return FALSE;
		guint8 b = *r->p++;

		if (shift == 63 && b > 1)
			return FALSE; /* more than 64 bits */
		v |= (guint64)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
get_raw64(VtReader *r, guint64 *out)
{
	guint64 v = 0;

	if (r->end - r->p < 8)
		return FALSE;
	for (guint i = 0; i < 8; i++)
		v |= (guint64)r->p[i] << (8 * i);
	r->p += 8;
	*out = v;
	return TRUE;
}

static gboolean
get_token(VtReader *r, VtCounterKind kind, guint64 prev, guint64 *value)
{
	guint64 t;

	if (!get_varint(r, &t))
		return FALSE;
	if (t == 0)
		return get_raw64(r, value);
	if (kind == VT_COUNTER_DOUBLE) {
		double x;

		if ((t & 1) == 0)
			return FALSE;
		x = (double)unzigzag(t >> 1) / 100.0;
		memcpy(value, &x, sizeof(x));
		return TRUE;
	}
	if (t & 1)
		*value = prev + (guint64)unzigzag(t >> 1) * SCALE;
	else
		*value = prev + (guint64)unzigzag(t >> 1);
	return TRUE;
}

VtCounters *
vt_counters_decode(const guint8 *data, gsize len, const GByteArray *kinds, const VtCounters *prev,
		   gboolean *is_key, GError **error)
{
	VtReader r = {data, data + len};
	g_autoptr(VtCounters) out = NULL;
	guint64 n;
	guint8 form;

	if (len < 2 || (data[0] != BLOB_KEY && data[0] != BLOB_DELTA)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "counters: unknown blob form");
		return NULL;
	}
	form = *r.p++;
	if (!get_varint(&r, &n) || n > VT_COUNTERS_MAX_SLOTS || n != kinds->len) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "counters: slot count does not match the report layout (%u)",
			    kinds->len);
		return NULL;
	}
	if (form == BLOB_DELTA && (prev == NULL || prev->values->len != n)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "counters: a delta without the report it follows");
		return NULL;
	}

	out = vt_counters_new();
	g_byte_array_append(out->kinds, kinds->data, kinds->len);
	g_array_set_size(out->values, (guint)n);
	guint64 *v = (guint64 *)out->values->data;
	const guint8 *bitmap = NULL;

	if (form == BLOB_DELTA) {
		gsize bitmap_len = ((gsize)n + 7) / 8;

		if ((gsize)(r.end - r.p) < bitmap_len ||
		    (n % 8 != 0 && (r.p[bitmap_len - 1] >> (n % 8)) != 0)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "counters: bad bitmap");
			return NULL;
		}
		bitmap = r.p;
		r.p += bitmap_len;
		memcpy(v, prev->values->data, n * sizeof(guint64));
	}
	for (guint i = 0; i < n; i++) {
		if (bitmap != NULL && !(bitmap[i / 8] & (1u << (i % 8))))
			continue;
		if (!get_token(&r, kinds->data[i], bitmap != NULL ? v[i] : 0, &v[i])) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "counters: slot %u is truncated or malformed", i);
			return NULL;
		}
	}
	if (r.p != r.end) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "counters: %td trailing bytes",
			    r.end - r.p);
		return NULL;
	}
	if (is_key != NULL)
		*is_key = form == BLOB_KEY;
	return g_steal_pointer(&out);
}
