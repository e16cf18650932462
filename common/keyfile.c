/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "error.h"

#define VT_KEYFILE_MAX_ITEMS 64u /* default bound of a list */

typedef struct {
	char *group;
	char *key;
	char *value;
	guint line;
} Line;

struct VtKeyfile {
	char *name;
	GArray *lines;     /* Line, one per key=value, in file order */
	GPtrArray *groups; /* every [group] header, with its line in group_lines */
	GArray *group_lines;
};

static void
line_clear(gpointer data)
{
	Line *l = data;

	g_free(l->group);
	g_free(l->key);
	g_free(l->value);
}

void
vt_keyfile_free(VtKeyfile *kf)
{
	if (kf == NULL)
		return;
	g_free(kf->name);
	g_clear_pointer(&kf->lines, g_array_unref);
	g_clear_pointer(&kf->groups, g_ptr_array_unref);
	g_clear_pointer(&kf->group_lines, g_array_unref);
	g_free(kf);
}

static void
strip(const char **s, gsize *len)
{
	while (*len > 0 && g_ascii_isspace(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && g_ascii_isspace((*s)[*len - 1]))
		(*len)--;
}

static gboolean
valid_name(const char *s, gsize len)
{
	if (len == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return FALSE;
	return TRUE;
}

/* Reject what would make the file unreadable in a message or a terminal. */
static gboolean
check_text(const char *line, gsize n, const char *name, guint number, GError **error)
{
	const char *bad = NULL;

	if (!g_utf8_validate(line, (gssize)n, &bad)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s:%u: not valid UTF-8 (or a NUL byte) at column %u", name, number,
			    (guint)(bad - line) + 1);
		return FALSE;
	}
	/* C0, DEL, C1 and format characters (bidi overrides): nothing a
	 * setting needs, and each could forge what a terminal shows */
	for (const char *p = line; p < line + n; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if ((g_unichar_iscntrl(c) && c != '\t') || g_unichar_type(c) == G_UNICODE_FORMAT) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s:%u: a control character at column %u", name, number,
				    (guint)(p - line) + 1);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
parse_group(VtKeyfile *kf, const char *s, gsize n, guint number, char **group, GError **error)
{
	if (n < 3 || s[n - 1] != ']' || !valid_name(s + 1, n - 2)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s:%u: a group header must read [name]", kf->name, number);
		return FALSE;
	}
	g_free(*group);
	*group = g_strndup(s + 1, n - 2);
	g_ptr_array_add(kf->groups, g_strdup(*group));
	g_array_append_val(kf->group_lines, number);
	return TRUE;
}

static gboolean
parse_key(VtKeyfile *kf, const char *s, gsize n, guint number, const char *group, GError **error)
{
	const char *eq = memchr(s, '=', n);
	const char *key = s, *value;
	gsize klen, vlen;
	Line l;

	if (eq == NULL || eq == s) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s:%u: expected key=value, [group] or # comment", kf->name, number);
		return FALSE;
	}
	klen = (gsize)(eq - s);
	value = eq + 1;
	vlen = n - klen - 1;
	strip(&key, &klen);
	strip(&value, &vlen);
	if (!valid_name(key, klen)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s:%u: a key name is made of letters, digits, '.', '-' and '_'",
			    kf->name, number);
		return FALSE;
	}
	/* a key before any group is refused by vt_keyfile_apply(), which
	 * knows which group to suggest */
	l.group = g_strdup(group ? group : "");
	l.key = g_strndup(key, klen);
	l.value = g_strndup(value, vlen);
	l.line = number;
	g_array_append_val(kf->lines, l);
	return TRUE;
}

VtKeyfile *
vt_keyfile_parse(const char *data, gsize len, const char *name, gsize max_bytes, GError **error)
{
	g_autoptr(VtKeyfile) kf = g_new0(VtKeyfile, 1);
	g_autofree char *group = NULL;
	const char *p = data, *end = data + len;
	guint number = 0;

	if (len > max_bytes) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: larger than %" G_GSIZE_FORMAT " bytes; is it the right file?",
			    name, max_bytes);
		return NULL;
	}
	kf->name = g_strdup(name);
	kf->lines = g_array_new(FALSE, FALSE, sizeof(Line));
	g_array_set_clear_func(kf->lines, line_clear);
	kf->groups = g_ptr_array_new_with_free_func(g_free);
	kf->group_lines = g_array_new(FALSE, FALSE, sizeof(guint));

	while (p < end) {
		const char *nl = memchr(p, '\n', (gsize)(end - p));
		const char *s = p;
		gsize n = (gsize)((nl ? nl : end) - p);

		p = nl ? nl + 1 : end;
		number++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (!check_text(s, n, name, number, error))
			return NULL;
		strip(&s, &n);
		if (n == 0 || s[0] == '#')
			continue;
		if (s[0] == '[') {
			if (!parse_group(kf, s, n, number, &group, error))
				return NULL;
		} else if (!parse_key(kf, s, n, number, group, error)) {
			return NULL;
		}
	}
	return g_steal_pointer(&kf);
}

VtKeyfile *
vt_keyfile_load(const char *path, gsize max_bytes, GError **error)
{
	g_autofree char *data = NULL;
	struct stat st;
	gsize len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		vt_error_set_errno(error, errno, "%s", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	/* One byte more than allowed, to tell "at the limit" from "over it". */
	data = g_malloc(max_bytes + 1);
	while (len <= max_bytes) {
		ssize_t n = read(fd, data + len, max_bytes + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int errsv = errno;

			close(fd);
			vt_error_set_errno(error, errsv, "%s", path);
			return NULL;
		}
		if (n == 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	return vt_keyfile_parse(data, len, path, max_bytes, error);
}

static const VtKeyGroup *
find_group(const VtKeyGroup *groups, gsize n, const char *name)
{
	for (gsize i = 0; i < n; i++)
		if (strcmp(groups[i].group, name) == 0)
			return &groups[i];
	return NULL;
}

static const VtKeySpec *
find_spec(const VtKeyGroup *g, const char *key)
{
	for (gsize i = 0; i < g->n_specs; i++) {
		const char *k = g->specs[i].key;

		if (strchr(k, '*') ? g_pattern_match_simple(k, key) : strcmp(k, key) == 0)
			return &g->specs[i];
	}
	return NULL;
}

static void
warn(GPtrArray *warnings, char *message)
{
	if (warnings != NULL)
		g_ptr_array_add(warnings, message);
	else
		g_free(message);
}

static void
warn_unknown_groups(const VtKeyfile *kf, const VtKeyGroup *groups, gsize n_groups,
		    GPtrArray *warnings)
{
	for (guint i = 0; i < kf->groups->len; i++) {
		const char *name = kf->groups->pdata[i];
		gboolean seen = FALSE;

		for (guint j = 0; j < i; j++)
			seen = seen || strcmp(kf->groups->pdata[j], name) == 0;
		if (seen || find_group(groups, n_groups, name) != NULL)
			continue;
		warn(warnings, g_strdup_printf("%s:%u: unknown group [%s], ignoring", kf->name,
					       g_array_index(kf->group_lines, guint, i), name));
	}
}

gboolean
vt_keyfile_apply(const VtKeyfile *kf, const VtKeyGroup *groups, gsize n_groups, GPtrArray *warnings,
		 GError **error)
{
	warn_unknown_groups(kf, groups, n_groups, warnings);
	for (guint i = 0; i < kf->lines->len; i++) {
		const Line *l = &g_array_index(kf->lines, Line, i);
		const VtKeyGroup *g = find_group(groups, n_groups, l->group);
		const VtKeyEntry entry = {l->group, l->key, l->value, l->line};
		g_autoptr(GError) local = NULL;
		const VtKeySpec *spec;

		if (l->group[0] == '\0') {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s:%u: key before any group; start the file with [%s]",
				    kf->name, l->line, n_groups > 0 ? groups[0].group : "group");
			return FALSE;
		}
		if (g == NULL)
			continue;
		spec = find_spec(g, l->key);
		if (spec == NULL) {
			warn(warnings, g_strdup_printf("%s:%u: unknown key '%s' in [%s], ignoring",
						       kf->name, l->line, l->key, l->group));
			continue;
		}
		if (!spec->parse(spec, &entry, (char *)g->target + spec->offset, &local)) {
			g_set_error(error, VT_ERROR,
				    local ? (VtError)local->code : VT_ERROR_INVALID, "%s:%u: %s",
				    kf->name, l->line, local ? local->message : "invalid value");
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
vt_keyfile_set_defaults(const VtKeySpec *specs, gsize n_specs, gpointer target, GError **error)
{
	for (gsize i = 0; i < n_specs; i++) {
		const VtKeyEntry entry = {"default", specs[i].key, specs[i].default_value, 0};

		if (specs[i].default_value == NULL)
			continue;
		if (!specs[i].parse(&specs[i], &entry, (char *)target + specs[i].offset, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
vt_keyfile_has_group(const VtKeyfile *kf, const char *group)
{
	for (guint i = 0; i < kf->groups->len; i++)
		if (strcmp(kf->groups->pdata[i], group) == 0)
			return TRUE;
	return FALSE;
}

guint
vt_keyfile_line(const VtKeyfile *kf, const char *group, const char *key)
{
	for (guint i = kf->lines->len; i-- > 0;) {
		const Line *l = &g_array_index(kf->lines, Line, i);

		if (strcmp(l->group, group) == 0 && strcmp(l->key, key) == 0)
			return l->line;
	}
	return 0;
}

char *
vt_keyfile_where(const VtKeyfile *kf, const char *group, const char *key)
{
	guint line = vt_keyfile_line(kf, group, key);

	if (line == 0)
		return g_strdup_printf("%s: ", kf->name);
	return g_strdup_printf("%s:%u: ", kf->name, line);
}

/* ---------------------------------------------------------------- parsers */

static gboolean
out_of_range(const VtKeySpec *spec, const VtKeyEntry *e, double d, GError **error)
{
	if (d >= spec->min && d <= spec->max)
		return FALSE;
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
		    "%s: '%.32s' is not in %.17g..%.17g (out of range)", e->key, e->value,
		    spec->min, spec->max);
	return TRUE;
}

gboolean
vt_key_parse_uint(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	guint64 v = 0;
	char *end = NULL;

	errno = 0;
	if (g_ascii_isdigit(e->value[0]))
		v = g_ascii_strtoull(e->value, &end, 10);
	if (end == NULL || *end != '\0' || errno != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: '%.32s' is not a whole number in %.17g..%.17g", e->key, e->value,
			    spec->min, spec->max);
		return FALSE;
	}
	if (out_of_range(spec, e, (double)v, error))
		return FALSE;
	*(guint *)field = (guint)v;
	return TRUE;
}

gboolean
vt_key_parse_double(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	char *end = NULL;
	double d;

	errno = 0;
	d = g_ascii_strtod(e->value, &end);
	if (errno != 0 || end == e->value || *end != '\0' || !isfinite(d)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "%s: '%.32s' is not a number in %.17g..%.17g", e->key, e->value,
			    spec->min, spec->max);
		return FALSE;
	}
	if (out_of_range(spec, e, d, error))
		return FALSE;
	*(double *)field = d;
	return TRUE;
}

gboolean
vt_key_parse_bool(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	if (strcmp(e->value, "true") == 0 || strcmp(e->value, "1") == 0) {
		*(gboolean *)field = TRUE;
	} else if (strcmp(e->value, "false") == 0 || strcmp(e->value, "0") == 0) {
		*(gboolean *)field = FALSE;
	} else {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: '%.32s' is not true or false",
			    e->key, e->value);
		return FALSE;
	}
	return TRUE;
}

gboolean
vt_key_parse_string(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	gsize max = spec->max > 0 ? (gsize)spec->max : VT_STRING_MAX;

	if (strlen(e->value) > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: longer than %" G_GSIZE_FORMAT " bytes", e->key, max);
		return FALSE;
	}
	g_free(*(char **)field);
	*(char **)field = g_strdup(e->value);
	return TRUE;
}

gboolean
vt_key_parse_choice(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	g_auto(GStrv) choices = g_strsplit(spec->choices, ";", -1);

	if (!g_strv_contains((const char *const *)choices, e->value)) {
		g_autofree char *list = g_strjoinv(", ", choices);

		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: '%.64s' is not one of %s",
			    e->key, e->value, list);
		return FALSE;
	}
	g_free(*(char **)field);
	*(char **)field = g_strdup(e->value);
	return TRUE;
}

gboolean
vt_key_parse_list(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	gsize max = spec->max > 0 ? (gsize)spec->max : VT_KEYFILE_MAX_ITEMS;
	VtKeyWordCheck check = (VtKeyWordCheck)spec->data;
	g_auto(GStrv) parts = g_strsplit(e->value, ";", -1);
	guint n = g_strv_length(parts);
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);

	/* "a;b;" is GKeyFile's way of writing a list: the last ';' ends it */
	if (n > 0 && parts[n - 1][0] == '\0')
		n--;
	if (n > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s has %u items, more than %" G_GSIZE_FORMAT, e->key, n, max);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		char *w = g_strstrip(parts[i]);

		if (*w == '\0') {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: item %u is empty",
				    e->key, i + 1);
			return FALSE;
		}
		if (strlen(w) > VT_STRING_MAX) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
				    "%s: item %u is longer than %u bytes", e->key, i + 1,
				    VT_STRING_MAX);
			return FALSE;
		}
		if (check != NULL && !check(w)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: '%.64s' is not a valid list entry", e->key, w);
			return FALSE;
		}
		g_ptr_array_add(items, g_strdup(w));
	}
	g_ptr_array_add(items, NULL);
	g_strfreev(*(char ***)field);
	*(char ***)field = (char **)g_ptr_array_free(g_steal_pointer(&items), FALSE);
	return TRUE;
}
