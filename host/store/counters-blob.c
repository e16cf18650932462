/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The counters blob of a report's row: encoded as a key or a delta against
 * the previous report's counters, and decoded back (format in counters.h). */
#include <math.h>
#include <string.h>

#include "counters.h"
#include "error.h"

#define BLOB_KEY   1u
#define BLOB_DELTA 2u

/* Meminfo values are kB lines times 1024: their deltas shrink by 10 bits. */
#define SCALE 1024

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
