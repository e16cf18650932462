/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "domstats.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "error.h"

static void
value_free(gpointer p)
{
	VtStatValue *v = p;

	if (v->type == VT_STAT_STRING)
		g_free(v->s);
	g_free(v);
}

VtDomstats *
vt_domstats_new(const char *domain)
{
	VtDomstats *stats = g_new0(VtDomstats, 1);

	stats->domain = g_strdup(domain);
	stats->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
	return stats;
}

void
vt_domstats_free(VtDomstats *stats)
{
	if (stats == NULL)
		return;
	g_free(stats->domain);
	g_hash_table_unref(stats->values);
	g_free(stats);
}

gboolean
vt_domstats_set(VtDomstats *stats, const char *key, const VtStatValue *value, GError **error)
{
	VtStatValue *copy;

	if (strlen(key) == 0 || strlen(key) >= VT_DOMSTATS_KEY_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "key of %" G_GSIZE_FORMAT " bytes (1 to %u allowed)", strlen(key),
			    VT_DOMSTATS_KEY_MAX - 1);
		return FALSE;
	}
	if (!g_utf8_validate(key, -1, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "key is not UTF-8");
		return FALSE;
	}
	if (value->type == VT_STAT_STRING &&
	    (strlen(value->s) >= VT_DOMSTATS_VALUE_MAX || !g_utf8_validate(value->s, -1, NULL))) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: value longer than %u bytes or not UTF-8", key,
			    VT_DOMSTATS_VALUE_MAX - 1);
		return FALSE;
	}
	if (!g_hash_table_contains(stats->values, key) &&
	    g_hash_table_size(stats->values) >= VT_DOMSTATS_MAX_KEYS) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "%s: more than %u keys", key,
			    VT_DOMSTATS_MAX_KEYS);
		return FALSE;
	}
	copy = g_new0(VtStatValue, 1);
	*copy = *value;
	if (value->type == VT_STAT_STRING)
		copy->s = g_strdup(value->s);
	g_hash_table_replace(stats->values, g_strdup(key), copy);
	return TRUE;
}

const VtStatValue *
vt_domstats_lookup(const VtDomstats *stats, const char *key)
{
	return stats != NULL ? g_hash_table_lookup(stats->values, key) : NULL;
}

gboolean
vt_domstats_get_uint64(const VtDomstats *stats, const char *key, guint64 *out)
{
	const VtStatValue *v = vt_domstats_lookup(stats, key);

	if (v == NULL)
		return FALSE;
	switch (v->type) {
	case VT_STAT_UINT64:
		*out = v->u;
		return TRUE;
	case VT_STAT_INT64:
		if (v->i < 0)
			return FALSE;
		*out = (guint64)v->i;
		return TRUE;
	default:
		return FALSE;
	}
}

gboolean
vt_domstats_get_double(const VtDomstats *stats, const char *key, double *out)
{
	const VtStatValue *v = vt_domstats_lookup(stats, key);

	if (v == NULL)
		return FALSE;
	switch (v->type) {
	case VT_STAT_UINT64:
		*out = (double)v->u;
		return TRUE;
	case VT_STAT_INT64:
		*out = (double)v->i;
		return TRUE;
	case VT_STAT_DOUBLE:
		*out = v->d;
		return TRUE;
	default:
		return FALSE;
	}
}

const char *
vt_domstats_get_string(const VtDomstats *stats, const char *key)
{
	const VtStatValue *v = vt_domstats_lookup(stats, key);

	return v != NULL && v->type == VT_STAT_STRING ? v->s : NULL;
}

gboolean
vt_domstats_get_uint64f(const VtDomstats *stats, guint64 *out, const char *fmt, ...)
{
	char key[VT_DOMSTATS_KEY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = g_vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	if (n < 0 || (gsize)n >= sizeof(key))
		return FALSE;
	return vt_domstats_get_uint64(stats, key, out);
}

VtDomstats *
vt_domstats_find(GPtrArray *all, const char *domain)
{
	if (all == NULL)
		return NULL;
	if (domain == NULL)
		return all->len == 1 ? all->pdata[0] : NULL;
	for (guint i = 0; i < all->len; i++) {
		VtDomstats *s = all->pdata[i];
		if (g_strcmp0(s->domain, domain) == 0)
			return s;
	}
	return NULL;
}

/* ------------------------------------------------------------ text */

/* virsh prints typed parameters with virTypedParamsToString-like formatting:
 * integers in decimal, doubles with "%f", booleans as yes/no, strings raw. */
static void
value_from_text(const char *text, VtStatValue *v)
{
	char *end = NULL;

	if (g_ascii_isdigit(text[0])) {
		errno = 0;
		guint64 u = g_ascii_strtoull(text, &end, 10);
		if (errno == 0 && *end == '\0') {
			v->type = VT_STAT_UINT64;
			v->u = u;
			return;
		}
	}
	if (text[0] == '-' && g_ascii_isdigit(text[1])) {
		errno = 0;
		gint64 i = g_ascii_strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0') {
			v->type = VT_STAT_INT64;
			v->i = i;
			return;
		}
	}
	if (g_ascii_isdigit(text[0]) || ((text[0] == '-' || text[0] == '.') && text[1] != '\0')) {
		errno = 0;
		double d = g_ascii_strtod(text, &end);
		if (errno == 0 && *end == '\0' && end != text) {
			v->type = VT_STAT_DOUBLE;
			v->d = d;
			return;
		}
	}
	v->type = VT_STAT_STRING;
	v->s = (char *)text;
}

GPtrArray *
vt_domstats_parse_text(const char *text, gssize len, GError **error)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)vt_domstats_free);
	gsize size = len < 0 ? strlen(text) : (gsize)len;
	g_autofree char *copy = NULL;
	g_auto(GStrv) lines = NULL;
	VtDomstats *cur = NULL;

	if (size > VT_DOMSTATS_TEXT_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "domstats text is %" G_GSIZE_FORMAT " bytes, more than %u", size,
			    VT_DOMSTATS_TEXT_MAX);
		return NULL;
	}
	if (memchr(text, '\0', size) != NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "domstats text holds a NUL byte");
		return NULL;
	}
	copy = g_strndup(text, size);
	lines = g_strsplit(copy, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		g_autoptr(GError) local = NULL;
		VtStatValue value;
		char *eq;

		if (line[0] == '\0')
			continue;
		if (g_str_has_prefix(line, "Domain:")) {
			char *name = g_strstrip(line + strlen("Domain:"));
			gsize n = strlen(name);

			if (n >= 2 && name[0] == '\'' && name[n - 1] == '\'') {
				name[n - 1] = '\0';
				name++;
			}
			if (name[0] == '\0' || strlen(name) >= VT_DOMSTATS_VALUE_MAX ||
			    !g_utf8_validate(name, -1, NULL)) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "domstats line %u: bad domain name", i + 1);
				return NULL;
			}
			if (all->len >= VT_DOMSTATS_MAX_DOMAINS) {
				g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
					    "domstats line %u: more than %u domains", i + 1,
					    VT_DOMSTATS_MAX_DOMAINS);
				return NULL;
			}
			cur = vt_domstats_new(name);
			g_ptr_array_add(all, cur);
			continue;
		}
		eq = strchr(line, '=');
		if (cur == NULL || eq == NULL || eq == line) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "domstats line %u: expected \"Domain: 'NAME'\" or key=value, "
				    "got '%.40s'",
				    i + 1, line);
			return NULL;
		}
		*eq = '\0';
		value_from_text(eq + 1, &value);
		if (!vt_domstats_set(cur, line, &value, &local)) {
			g_set_error(error, VT_ERROR, local->code, "domstats line %u: %s", i + 1,
				    local->message);
			return NULL;
		}
	}
	if (all->len == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "domstats text has no \"Domain: 'NAME'\" line");
		return NULL;
	}
	return g_steal_pointer(&all);
}

GPtrArray *
vt_domstats_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;
	GPtrArray *all;
	gsize len = 0;

	if (!g_file_get_contents(path, &text, &len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "%s", local->message);
		return NULL;
	}
	all = vt_domstats_parse_text(text, (gssize)len, &local);
	if (all == NULL)
		g_set_error(error, VT_ERROR, local->code, "%s: %s", path, local->message);
	return all;
}

/* ------------------------------------------------------------ libvirt */

static gboolean
int_value(VtStatValue *v, gint64 i)
{
	v->type = VT_STAT_INT64;
	v->i = i;
	return TRUE;
}

static gboolean
uint_value(VtStatValue *v, guint64 u)
{
	v->type = VT_STAT_UINT64;
	v->u = u;
	return TRUE;
}

/* @p as a stat value; FALSE for the types not kept, and for NULL strings. */
static gboolean
typed_value(const virTypedParameter *p, VtStatValue *v)
{
	switch (p->type) {
	case VIR_TYPED_PARAM_INT:
		return int_value(v, p->value.i);
	case VIR_TYPED_PARAM_LLONG:
		return int_value(v, p->value.l);
	case VIR_TYPED_PARAM_UINT:
		return uint_value(v, p->value.ui);
	case VIR_TYPED_PARAM_ULLONG:
		return uint_value(v, p->value.ul);
	case VIR_TYPED_PARAM_BOOLEAN:
		return uint_value(v, p->value.b ? 1 : 0);
	case VIR_TYPED_PARAM_DOUBLE:
		v->type = VT_STAT_DOUBLE;
		v->d = p->value.d;
		return TRUE;
	case VIR_TYPED_PARAM_STRING:
		v->type = VT_STAT_STRING;
		v->s = p->value.s;
		return p->value.s != NULL;
	}
	return FALSE;
}

VtDomstats *
vt_domstats_from_record(virDomainStatsRecordPtr record, GError **error)
{
	const char *name = record->dom != NULL ? virDomainGetName(record->dom) : NULL;
	g_autoptr(VtDomstats) stats = NULL;

	if (name == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "domain stats record without a domain");
		return NULL;
	}
	if (record->nparams < 0 || (guint)record->nparams > VT_DOMSTATS_MAX_KEYS) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "%s: %d stats, more than %u", name,
			    record->nparams, VT_DOMSTATS_MAX_KEYS);
		return NULL;
	}
	stats = vt_domstats_new(name);
	for (int i = 0; i < record->nparams; i++) {
		const virTypedParameter *p = &record->params[i];
		char key[VIR_TYPED_PARAM_FIELD_LENGTH + 1];
		VtStatValue v = {0};

		/* the field is fixed-size and not guaranteed terminated by the type */
		memcpy(key, p->field, VIR_TYPED_PARAM_FIELD_LENGTH);
		key[VIR_TYPED_PARAM_FIELD_LENGTH] = '\0';
		if (!typed_value(p, &v))
			continue;
		if (!vt_domstats_set(stats, key, &v, error))
			return NULL;
	}
	return g_steal_pointer(&stats);
}
