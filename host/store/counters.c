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
	return vt_counters_new_sized(0);
}

VtCounters *
vt_counters_new_sized(guint reserve)
{
	VtCounters *c = g_new0(VtCounters, 1);

	reserve = MIN(reserve, VT_COUNTERS_MAX_SLOTS);
	c->values = g_array_sized_new(FALSE, FALSE, sizeof(guint64), reserve);
	c->kinds = g_byte_array_sized_new(reserve);
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

/* counter_fields resolved: per message type, a bit per field index. */
typedef struct {
	const ProtobufCMessageDescriptor *desc;
	guint64 fields;
} VtCounterMask;

static VtCounterMask counter_masks[G_N_ELEMENTS(counter_fields)];
static guint n_counter_masks;

static gpointer
resolve_masks(gpointer unused)
{
	for (guint i = 0; i < G_N_ELEMENTS(counter_fields); i++) {
		const ProtobufCMessageDescriptor *desc = counter_fields[i].desc;
		VtCounterMask *m = NULL;

		/* a schema fact, checked by every test that stores a report */
		g_assert(desc->n_fields <= 64);
		for (guint j = 0; j < n_counter_masks && m == NULL; j++)
			if (counter_masks[j].desc == desc)
				m = &counter_masks[j];
		if (m == NULL) {
			m = &counter_masks[n_counter_masks++];
			m->desc = desc;
		}
		for (unsigned f = 0; f < desc->n_fields; f++)
			if (counter_fields[i].field == NULL ||
			    strcmp(counter_fields[i].field, desc->fields[f].name) == 0)
				m->fields |= G_GUINT64_CONSTANT(1) << f;
	}
	return NULL;
}

/* The counter fields of @desc, a bit per field index; 0: none. */
static guint64
counter_mask(const ProtobufCMessageDescriptor *desc)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, resolve_masks, NULL);
	for (guint i = 0; i < n_counter_masks; i++)
		if (counter_masks[i].desc == desc)
			return counter_masks[i].fields;
	return 0;
}

/* ------------------------------------------------------------ the visit */

typedef struct VtShapeOut VtShapeOut;

typedef struct {
	gboolean inject;
	gboolean zero;
	VtCounters *out;      /* extract; NULL: only zero */
	const VtCounters *in; /* inject */
	VtShapeOut *shape;    /* extract: the skeleton's shape, see vt_counters_extract_shape() */
	guint pos;
	guint messages; /* visited */
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
	if (w->out != NULL) {
		if (w->out->values->len >= VT_COUNTERS_MAX_SLOTS) {
			g_set_error(w->error, VT_ERROR, VT_ERROR_TOO_LARGE,
				    "report has more than %u counters", VT_COUNTERS_MAX_SLOTS);
			w->failed = TRUE;
			return;
		}
		memcpy(&bits, member, sizeof(bits));
		g_array_append_val(w->out->values, bits);
		g_byte_array_append(w->out->kinds, (const guint8[]){kind}, 1);
	}
	if (w->zero)
		memset(member, 0, sizeof(bits));
}

/* ------------------------------------------------------------ the shape */

/* Not a field number (those end at 2^29 - 1): a message's unknown fields. */
#define SHAPE_UNKNOWN (G_GUINT64_CONSTANT(1) << 32)

/* The shape as it is written: into @arr, grown ahead, cut to @len at the end. */
struct VtShapeOut {
	GByteArray *arr;
	gsize len;
};

static inline guint8 *
shape_room(VtShapeOut *s, gsize n)
{
	if (s->len + n > s->arr->len)
		g_byte_array_set_size(s->arr, (guint)MAX(2 * (s->len + n), 4096));
	return s->arr->data + s->len;
}

static inline void
shape_varint(VtShapeOut *s, guint64 v)
{
	guint8 *p = shape_room(s, 10), *start = p;

	while (v >= 0x80) {
		*p++ = (guint8)(v | 0x80);
		v >>= 7;
	}
	*p++ = (guint8)v;
	s->len += (gsize)(p - start);
}

static void
shape_bytes(VtShapeOut *s, const void *data, gsize len)
{
	shape_varint(s, len);
	if (len > 0)
		memcpy(shape_room(s, len), data, len);
	s->len += len;
}

/* One value of a field that is not a counter: integers as varints (of their
 * value, cast: one-to-one), other numbers as their bytes, strings and bytes
 * after their length. */
static void
shape_value(VtShapeOut *s, const ProtobufCFieldDescriptor *f, const void *value)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *str = *(const char *const *)value;

		shape_bytes(s, str, str != NULL ? strlen(str) : 0);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = value;

		shape_bytes(s, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_ENUM:
		shape_varint(s, (guint64)(gint64) * (const gint32 *)value);
		break;
	case PROTOBUF_C_TYPE_UINT32:
		shape_varint(s, *(const guint32 *)value);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		shape_varint(s, *(const protobuf_c_boolean *)value != 0);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
		shape_varint(s, *(const guint64 *)value);
		break;
	default: { /* fixed-size: floats and fixed */
		gsize n = vt_protobuf_type_size(f->type);

		memcpy(shape_room(s, n), value, n);
		s->len += n;
		break;
	}
	}
}

/* A scalar field of a message: its number, then its value(s) unless it is a
 * counter. Absent (no presence, an empty list, a NULL string) writes nothing. */
static void
shape_scalar(VtShapeOut *s, const ProtobufCFieldDescriptor *f, const char *member,
	     const char *quantifier, gboolean counter)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)quantifier;
		const char *items = *(const char *const *)member;
		gsize size = vt_protobuf_type_size(f->type);

		if (n == 0)
			return;
		shape_varint(s, f->id);
		shape_varint(s, n);
		for (size_t j = 0; j < n; j++)
			shape_value(s, f, items + j * size);
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING && *(const char *const *)member == NULL)
		return;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    f->type != PROTOBUF_C_TYPE_STRING && !*(const protobuf_c_boolean *)quantifier)
		return;
	shape_varint(s, f->id);
	if (!counter)
		shape_value(s, f, member);
}

/* ------------------------------------------------------------ the walk */

/* Depth is bounded by the schema: no message of the report contains itself. */
static void
walk_message(VtWalk *w, ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	guint64 counters = counter_mask(desc);

	w->messages++;
	/* fields a newer sender added are packed again as they came */
	if (w->shape != NULL && msg->n_unknown_fields > 0) {
		shape_varint(w->shape, SHAPE_UNKNOWN);
		shape_varint(w->shape, msg->n_unknown_fields);
		for (unsigned i = 0; i < msg->n_unknown_fields; i++) {
			const ProtobufCMessageUnknownField *u = &msg->unknown_fields[i];

			shape_varint(w->shape, u->tag);
			shape_varint(w->shape, u->wire_type);
			shape_bytes(w->shape, u->data, u->len);
		}
	}

	for (unsigned i = 0; i < desc->n_fields && !w->failed; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		char *member = (char *)msg + f->offset;
		char *quantifier = (char *)msg + f->quantifier_offset;
		gboolean counter;

		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(uint32_t *)quantifier != f->id)
			continue;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				size_t n = *(size_t *)quantifier;
				ProtobufCMessage **items = *(ProtobufCMessage ***)member;

				if (n > 0 && w->shape != NULL) {
					shape_varint(w->shape, f->id);
					shape_varint(w->shape, n);
				}
				for (size_t j = 0; j < n && !w->failed; j++) {
					if (items[j] != NULL)
						walk_message(w, items[j]);
					if (w->shape != NULL)
						shape_varint(w->shape, 0); /* no field is 0 */
				}
			} else if (*(ProtobufCMessage **)member != NULL) {
				if (w->shape != NULL)
					shape_varint(w->shape, f->id);
				walk_message(w, *(ProtobufCMessage **)member);
				if (w->shape != NULL)
					shape_varint(w->shape, 0);
			}
			continue;
		}
		counter = (counters & (G_GUINT64_CONSTANT(1) << i)) &&
			  (f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_DOUBLE) &&
			  f->label == PROTOBUF_C_LABEL_OPTIONAL &&
			  !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
		if (w->shape != NULL)
			shape_scalar(w->shape, f, member, quantifier, counter);
		if (!counter || !*(protobuf_c_boolean *)quantifier)
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
vt_counters_extract_shape(const VtReport *report, VtCounters *out, GByteArray *shape,
			  guint *messages, GError **error)
{
	VtShapeOut s = {.arr = shape};
	VtWalk w = {.out = out, .shape = &s, .error = error};

	/* not written: neither zero nor inject is set */
	walk_message(&w, (ProtobufCMessage *)&report->base);
	g_byte_array_set_size(shape, (guint)s.len);
	if (messages != NULL)
		*messages = w.messages;
	return !w.failed;
}

void
vt_counters_zero(VtReport *report)
{
	VtWalk w = {.zero = TRUE};

	walk_message(&w, &report->base);
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
