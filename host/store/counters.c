/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A report's counters: found, taken out, put back, and the skeleton's shape
 * taken in the same walk (counters.h). Their blobs: counters-blob.c.
 */
#include "counters.h"

#include <string.h>

#include "error.h"

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
		counter =
			(counters & (G_GUINT64_CONSTANT(1) << i)) &&
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
	VtShapeOut s = {.arr = shape, .len = shape->len};
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
