/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/*
 * One domain's statistics, as virConnectGetAllDomainStats returns them and as
 * `virsh domstats --raw` prints them: a flat map from libvirt's key
 * ("balloon.current", "vcpu.0.delay", "block.1.wr.bytes") to a typed value.
 * Both sources land in this one representation so the rules never care where
 * the numbers came from.
 */

#define VT_DOMSTATS_TEXT_MAX    (16u * 1024u * 1024u)
#define VT_DOMSTATS_MAX_DOMAINS 4096u
#define VT_DOMSTATS_MAX_KEYS    8192u /* per domain: 64 disks x ~20 keys + 64 NICs x 10 + vCPUs */
#define VT_DOMSTATS_KEY_MAX     128u  /* libvirt's VIR_TYPED_PARAM_FIELD_LENGTH is 80 */
#define VT_DOMSTATS_VALUE_MAX   4096u /* string values: paths, names */

typedef enum {
	VT_STAT_UINT64,
	VT_STAT_INT64,
	VT_STAT_DOUBLE,
	VT_STAT_STRING,
} VtStatType;

typedef struct {
	VtStatType type;
	union {
		guint64 u;
		gint64 i;
		double d;
		char *s;
	};
} VtStatValue;

typedef struct {
	char *domain;       /* the domain's name */
	GHashTable *values; /* char *key -> VtStatValue * */
} VtDomstats;

VtDomstats *vt_domstats_new(const char *domain);
void vt_domstats_free(VtDomstats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDomstats, vt_domstats_free)

/*
 * Parse the text of `virsh domstats --raw [DOMAIN…]`: one "Domain: 'NAME'"
 * line per domain followed by indented "key=value" lines. Returns an array of
 * VtDomstats in file order. Integers stay integers; values that are neither
 * integers nor numbers stay strings. Errors name the line.
 */
GPtrArray *vt_domstats_parse_text(const char *text, gssize len, GError **error);
GPtrArray *vt_domstats_load(const char *path, GError **error);

/* Convert one record of virConnectGetAllDomainStats(). */
VtDomstats *vt_domstats_from_record(virDomainStatsRecordPtr record, GError **error);

/* Set one value (replacing an earlier one); FALSE past the bounds above. */
gboolean vt_domstats_set(VtDomstats *stats, const char *key, const VtStatValue *value,
			 GError **error);

const VtStatValue *vt_domstats_lookup(const VtDomstats *stats, const char *key);
/* Numeric getters: FALSE when the key is absent, not numeric or negative. */
gboolean vt_domstats_get_uint64(const VtDomstats *stats, const char *key, guint64 *out);
gboolean vt_domstats_get_double(const VtDomstats *stats, const char *key, double *out);
/* The string value, or NULL. */
const char *vt_domstats_get_string(const VtDomstats *stats, const char *key);
/* printf-style key: vt_domstats_get_uint64f(stats, &v, "vcpu.%u.delay", i). */
gboolean vt_domstats_get_uint64f(const VtDomstats *stats, guint64 *out, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* The element of @all named @domain; or the only element when @domain is NULL. */
VtDomstats *vt_domstats_find(GPtrArray *all, const char *domain);

G_END_DECLS
