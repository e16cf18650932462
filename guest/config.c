/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "collect/collector.h"
#include "error.h"

VtAgentConfig *
vt_agent_config_new(void)
{
	VtAgentConfig *config = g_new0(VtAgentConfig, 1);

	config->policy = vt_policy_new();
	return config;
}

void
vt_agent_config_free(VtAgentConfig *config)
{
	if (config == NULL)
		return;
	g_strfreev(config->exclude);
	g_strfreev(config->sections);
	vt_policy_free(config->policy);
	g_free(config);
}

/* One line of @data at a time, without its newline (and a trailing \r). */
typedef struct {
	const char *p;
	const char *end;
	guint number;
} LineIter;

static gboolean
next_line(LineIter *it, const char **line, gsize *len)
{
	const char *nl;

	if (it->p >= it->end)
		return FALSE;
	nl = memchr(it->p, '\n', (gsize)(it->end - it->p));
	if (nl == NULL)
		nl = it->end;
	*line = it->p;
	*len = (gsize)(nl - it->p);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	it->p = nl + 1;
	it->number++;
	return TRUE;
}

static void
skip_space(const char **s, gsize *len)
{
	while (*len > 0 && g_ascii_isspace(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && g_ascii_isspace((*s)[*len - 1]))
		(*len)--;
}

/*
 * GKeyFile's parse errors quote the bad line but give no number, so the
 * syntax is checked here first: every line is blank, a # comment, a [group]
 * or key=value, and a key comes after a group.
 */
static gboolean
check_syntax(const char *data, gsize len, const char *path, GError **error)
{
	LineIter it = {.p = data, .end = data + len};
	const char *line;
	gsize n;
	gboolean in_group = FALSE;

	while (next_line(&it, &line, &n)) {
		const char *bad_utf8;

		if (!g_utf8_validate(line, (gssize)n, &bad_utf8)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s:%u: not valid UTF-8 (or a NUL byte) at column %u", path,
				    it.number, (guint)(bad_utf8 - line) + 1);
			return FALSE;
		}
		skip_space(&line, &n);
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '[') {
			if (line[n - 1] != ']' || n < 3) {
				g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
					    "%s:%u: a group header must read [name]", path,
					    it.number);
				return FALSE;
			}
			in_group = TRUE;
			continue;
		}
		if (memchr(line, '=', n) == NULL || line[0] == '=') {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s:%u: expected key=value, [group] or # comment", path,
				    it.number);
			return FALSE;
		}
		if (!in_group) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s:%u: key before any group; start the file with [%s]", path,
				    it.number, VT_AGENT_CONFIG_GROUP);
			return FALSE;
		}
	}
	return TRUE;
}

/* Line of the last "key=" in [group] (GKeyFile keeps the last), or 0. */
static guint
find_line(const char *data, gsize len, const char *group, const char *key)
{
	LineIter it = {.p = data, .end = data + len};
	const char *line;
	gsize n;
	gboolean in_group = FALSE;
	guint found = 0;
	gsize glen = strlen(group);
	gsize klen = key ? strlen(key) : 0;

	while (next_line(&it, &line, &n)) {
		skip_space(&line, &n);
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '[') {
			in_group = n == glen + 2 && memcmp(line + 1, group, glen) == 0;
			if (in_group && key == NULL)
				return it.number;
			continue;
		}
		if (!in_group || key == NULL || n <= klen || memcmp(line, key, klen) != 0)
			continue;
		line += klen;
		n -= klen;
		skip_space(&line, &n);
		if (n > 0 && line[0] == '=')
			found = it.number;
	}
	return found;
}

/* "PATH:LINE: " when the line is known, else "PATH: [group] key: ". */
static char *
where(const char *data, gsize len, const char *path, const char *group, const char *key)
{
	guint line = find_line(data, len, group, key);

	if (line > 0)
		return g_strdup_printf("%s:%u: ", path, line);
	if (key == NULL)
		return g_strdup_printf("%s: [%s]: ", path, group);
	return g_strdup_printf("%s: [%s] %s: ", path, group, key);
}

static gboolean
parse_interval(GKeyFile *kf, VtAgentConfig *config, GError **error)
{
	g_autofree char *value = g_key_file_get_value(kf, VT_AGENT_CONFIG_GROUP, "interval", NULL);
	guint64 v;

	g_strstrip(value);
	if (!g_ascii_string_to_unsigned(value, 10, VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX, &v,
					NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "interval '%.32s' is not a whole number of seconds in %d..%d", value,
			    VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX);
		return FALSE;
	}
	config->interval = (guint)v;
	return TRUE;
}

/* A ;-separated list, each item stripped; empty items are errors. */
static char **
get_list(GKeyFile *kf, const char *key, GError **error)
{
	g_auto(GStrv) items = NULL;
	gsize n = 0;

	items = g_key_file_get_string_list(kf, VT_AGENT_CONFIG_GROUP, key, &n, NULL);
	if (items == NULL)
		return g_new0(char *, 1); /* "key=" is an empty list */
	if (n > VT_AGENT_CONFIG_MAX_GLOBS) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s has %" G_GSIZE_FORMAT " items, more than %u", key, n,
			    VT_AGENT_CONFIG_MAX_GLOBS);
		return NULL;
	}
	for (gsize i = 0; i < n; i++) {
		g_strstrip(items[i]);
		if (items[i][0] == '\0') {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: item %" G_GSIZE_FORMAT " is empty", key, i + 1);
			return NULL;
		}
		if (strlen(items[i]) > VT_STRING_MAX) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
				    "%s: item %" G_GSIZE_FORMAT " is longer than %u bytes", key,
				    i + 1, VT_STRING_MAX);
			return NULL;
		}
	}
	return g_steal_pointer(&items);
}

static gboolean
parse_exclude(GKeyFile *kf, VtAgentConfig *config, GError **error)
{
	char **globs = get_list(kf, "exclude", error);

	if (globs == NULL)
		return FALSE;
	if (globs[0] == NULL)
		g_clear_pointer(&globs, g_strfreev);
	config->exclude = globs;
	return TRUE;
}

static gboolean
parse_sections(GKeyFile *kf, VtAgentConfig *config, GError **error)
{
	g_auto(GStrv) names = get_list(kf, "sections", error);
	const char *const *known = vt_collector_section_names();

	if (names == NULL)
		return FALSE;
	if (names[0] == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "sections is empty; remove the key to collect every section");
		return FALSE;
	}
	for (guint i = 0; names[i] != NULL; i++) {
		if (!g_strv_contains(known, names[i])) {
			g_autofree char *list = g_strjoinv(", ", (char **)known);
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "unknown section '%.64s' (known: %s)", names[i], list);
			return FALSE;
		}
	}
	config->sections = g_steal_pointer(&names);
	return TRUE;
}

typedef gboolean (*KeyParser)(GKeyFile *kf, VtAgentConfig *config, GError **error);

static const struct {
	const char *key;
	KeyParser parse;
} agent_keys[] = {
	{"interval", parse_interval},
	{"exclude", parse_exclude},
	{"sections", parse_sections},
};

static KeyParser
key_parser(const char *key)
{
	for (gsize i = 0; i < G_N_ELEMENTS(agent_keys); i++)
		if (strcmp(agent_keys[i].key, key) == 0)
			return agent_keys[i].parse;
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

static gboolean
parse_apply(GKeyFile *kf, const char *data, gsize len, const char *path, VtAgentConfig *config,
	    GPtrArray *warnings, GError **error)
{
	g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local = NULL;
	g_autofree char *bad_key = NULL;
	VtPolicy *policy;

	policy = vt_policy_from_key_file(kf, VT_AGENT_CONFIG_GROUP_APPLY, notes, &bad_key, &local);
	if (policy == NULL) {
		g_autofree char *at = where(data, len, path, VT_AGENT_CONFIG_GROUP_APPLY, bad_key);
		g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s", at);
		return FALSE;
	}
	vt_policy_free(config->policy);
	config->policy = policy;
	for (guint i = 0; i < notes->len; i++) {
		g_autofree char *at = where(data, len, path, VT_AGENT_CONFIG_GROUP_APPLY, NULL);
		warn(warnings, g_strdup_printf("%s%s", at, (const char *)notes->pdata[i]));
	}
	return TRUE;
}

VtAgentConfig *
vt_agent_config_parse(const char *data, gsize len, const char *path, GPtrArray *warnings,
		      GError **error)
{
	g_autoptr(VtAgentConfig) config = vt_agent_config_new();
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) groups = NULL;
	g_auto(GStrv) keys = NULL;

	if (len > VT_AGENT_CONFIG_MAX_BYTES) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: larger than %u bytes; is it the right file?", path,
			    VT_AGENT_CONFIG_MAX_BYTES);
		return NULL;
	}
	if (!check_syntax(data, len, path, error))
		return NULL;
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: %s", path, local->message);
		return NULL;
	}

	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		g_autofree char *at = NULL;

		if (strcmp(groups[i], VT_AGENT_CONFIG_GROUP) == 0 ||
		    strcmp(groups[i], VT_AGENT_CONFIG_GROUP_APPLY) == 0)
			continue;
		at = where(data, len, path, groups[i], NULL);
		warn(warnings, g_strdup_printf("%sunknown group [%.64s], ignoring", at, groups[i]));
	}
	if (!parse_apply(kf, data, len, path, config, warnings, error))
		return NULL;
	if (!g_key_file_has_group(kf, VT_AGENT_CONFIG_GROUP))
		return g_steal_pointer(&config);

	keys = g_key_file_get_keys(kf, VT_AGENT_CONFIG_GROUP, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		KeyParser parse = key_parser(keys[i]);
		g_autofree char *at = where(data, len, path, VT_AGENT_CONFIG_GROUP, keys[i]);

		if (parse == NULL) {
			warn(warnings, g_strdup_printf("%sunknown key '%.64s' in [%s], ignoring",
						       at, keys[i], VT_AGENT_CONFIG_GROUP));
			continue;
		}
		if (!parse(kf, config, &local)) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s", at);
			return NULL;
		}
	}
	return g_steal_pointer(&config);
}

VtAgentConfig *
vt_agent_config_load(const char *path, GPtrArray *warnings, GError **error)
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
	data = g_malloc(VT_AGENT_CONFIG_MAX_BYTES + 1);
	while (len <= VT_AGENT_CONFIG_MAX_BYTES) {
		ssize_t n = read(fd, data + len, VT_AGENT_CONFIG_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vt_error_set_errno(error, errno, "%s", path);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	return vt_agent_config_parse(data, len, path, warnings, error);
}
