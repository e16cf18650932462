/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stddef.h>

#include "error.h"
#include "keyfile.h"

void
vt_daemon_settings_clear(VtDaemonSettings *s)
{
	g_free(s->uri);
	g_free(s->state_dir);
	g_free(s->socket);
	g_free(s->group);
	g_free(s->channel);
	g_free(s->rules);
	g_free(s->metrics);
	g_free(s->host_label);
}

/* A whole number >= 0 into an int field (-1 means unset). */
static gboolean
parse_count(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	guint v;

	if (!vt_key_parse_uint(spec, e, &v, error))
		return FALSE;
	*(int *)field = (int)v;
	return TRUE;
}

#define SET(field)     offsetof(VtDaemonSettings, field)
#define PATH_MAX_BYTES 4096

static const VtKeySpec daemon_keys[] = {
	{"connect", vt_key_parse_string, SET(uri), 0, PATH_MAX_BYTES},
	{"state-dir", vt_key_parse_string, SET(state_dir), 0, PATH_MAX_BYTES},
	{"socket", vt_key_parse_string, SET(socket), 0, PATH_MAX_BYTES},
	{"group", vt_key_parse_string, SET(group), 0, 256},
	{"channel", vt_key_parse_string, SET(channel), 0, 64},
	{"rules-config", vt_key_parse_string, SET(rules), 0, PATH_MAX_BYTES},
	{"metrics-listen", vt_key_parse_string, SET(metrics), 0, 256},
	{"metrics-host-label", vt_key_parse_string, SET(host_label), 0, 255},
	{"poll-interval", parse_count, SET(poll), 0, G_MAXINT},
	{"retention-days", parse_count, SET(retention_days), 0, G_MAXINT},
	{"retention-reports", parse_count, SET(retention_reports), 0, G_MAXINT},
	{"effect-window", parse_count, SET(effect_window), 1, 86400},
	{"control-idle-timeout", parse_count, SET(control_idle), 0, 86400},
	{"store-budget-mib", parse_count, SET(store_budget), 0, 1048576},
};

/* Fills what @s leaves unset from @kf. */
static gboolean
apply_keyfile(const VtKeyfile *kf, VtDaemonSettings *s, GPtrArray *warnings, GError **error)
{
	g_auto(VtDaemonSettings) file = VT_DAEMON_SETTINGS_INIT;
	const VtKeyGroup group = {"daemon", daemon_keys, G_N_ELEMENTS(daemon_keys), &file};

	if (!vt_keyfile_apply(kf, &group, 1, warnings, error))
		return FALSE;
	/* what the command line left unset */
	for (gsize i = 0; i < G_N_ELEMENTS(daemon_keys); i++) {
		gpointer dst = (char *)s + daemon_keys[i].offset;
		gpointer src = (char *)&file + daemon_keys[i].offset;

		if (daemon_keys[i].parse == parse_count) {
			if (*(int *)dst < 0)
				*(int *)dst = *(int *)src;
		} else if (*(char **)dst == NULL) {
			*(char **)dst = g_steal_pointer((char **)src);
		}
	}
	return TRUE;
}

gboolean
vt_daemon_config_load_data(const char *data, gsize len, const char *name, VtDaemonSettings *s,
			   GPtrArray *warnings, GError **error)
{
	g_autoptr(VtKeyfile) kf =
		vt_keyfile_parse(data, len, name, VT_DAEMON_CONFIG_MAX_BYTES, error);

	return kf != NULL && apply_keyfile(kf, s, warnings, error);
}

gboolean
vt_daemon_config_load(const char *path, gboolean must_exist, VtDaemonSettings *s,
		      GPtrArray *warnings, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(VtKeyfile) kf = vt_keyfile_load(path, VT_DAEMON_CONFIG_MAX_BYTES, &local);

	if (kf == NULL) {
		if (!must_exist && g_error_matches(local, VT_ERROR, VT_ERROR_NOT_FOUND))
			return TRUE;
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	return apply_keyfile(kf, s, warnings, error);
}
