/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "bounds.h"
#include "collect/collector.h"
#include "error.h"
#include "keyfile.h"

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

static gboolean
parse_interval(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(e->value, 10, VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX,
					&v, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "interval '%.32s' is not a whole number of seconds in %d..%d", e->value,
			    VT_AGENT_INTERVAL_MIN, VT_AGENT_INTERVAL_MAX);
		return FALSE;
	}
	*(guint *)field = (guint)v;
	return TRUE;
}

static gboolean
parse_exclude(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	char ***globs = field;

	if (!vt_key_parse_list(spec, e, field, error))
		return FALSE;
	if ((*globs)[0] == NULL)
		g_clear_pointer(globs, g_strfreev);
	return TRUE;
}

static gboolean
parse_sections(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	const char *const *known = vt_collector_section_names();
	g_auto(GStrv) names = NULL;

	if (!vt_key_parse_list(spec, e, &names, error))
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
	g_strfreev(*(char ***)field);
	*(char ***)field = g_steal_pointer(&names);
	return TRUE;
}

#define AGENT(field) offsetof(VtAgentConfig, field)

static const VtKeySpec agent_keys[] = {
	{"interval", parse_interval, AGENT(interval)},
	{"exclude", parse_exclude, AGENT(exclude), 0, VT_AGENT_CONFIG_MAX_GLOBS},
	{"sections", parse_sections, AGENT(sections), 0, VT_AGENT_CONFIG_MAX_GLOBS},
};

static VtAgentConfig *
config_from_keyfile(const VtKeyfile *kf, GPtrArray *warnings, GError **error)
{
	g_autoptr(VtAgentConfig) config = vt_agent_config_new();
	VtKeyGroup groups[] = {
		{VT_AGENT_CONFIG_GROUP, agent_keys, G_N_ELEMENTS(agent_keys), config},
		{VT_AGENT_CONFIG_GROUP_APPLY, NULL, 0, config->policy},
	};

	groups[1].specs = vt_policy_key_specs(&groups[1].n_specs);
	if (!vt_keyfile_apply(kf, groups, G_N_ELEMENTS(groups), warnings, error) ||
	    !vt_policy_check(config->policy, kf, VT_AGENT_CONFIG_GROUP_APPLY, error))
		return NULL;
	return g_steal_pointer(&config);
}

VtAgentConfig *
vt_agent_config_parse(const char *data, gsize len, const char *path, GPtrArray *warnings,
		      GError **error)
{
	g_autoptr(VtKeyfile) kf =
		vt_keyfile_parse(data, len, path, VT_AGENT_CONFIG_MAX_BYTES, error);

	return kf ? config_from_keyfile(kf, warnings, error) : NULL;
}

VtAgentConfig *
vt_agent_config_load(const char *path, GPtrArray *warnings, GError **error)
{
	g_autoptr(VtKeyfile) kf = vt_keyfile_load(path, VT_AGENT_CONFIG_MAX_BYTES, error);

	return kf ? config_from_keyfile(kf, warnings, error) : NULL;
}
