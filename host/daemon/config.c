/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

/* [daemon] keys of virt-tuned.conf; command-line flags win over them. */
gboolean
vt_daemon_config_load(const char *path, gboolean must_exist, char **uri, char **state_dir,
		      char **socket, char **group, char **channel, char **rules, char **metrics,
		      int *poll, int *retention_days, int *retention_reports, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) keys = NULL;
	static const char *const known[] = {"connect",
					    "state-dir",
					    "socket",
					    "group",
					    "channel",
					    "poll-interval",
					    "retention-days",
					    "retention-reports",
					    "rules-config",
					    "metrics-listen",
					    NULL};

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s: %s", path,
			    local->message);
		return FALSE;
	}
	keys = g_key_file_get_keys(kf, "daemon", NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
		if (!g_strv_contains(known, keys[i])) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "%s: [daemon] has no key '%s'", path, keys[i]);
			return FALSE;
		}
#define STR(key, out)                                                                              \
	if (*(out) == NULL)                                                                        \
		*(out) = g_key_file_get_string(kf, "daemon", key, NULL);
	STR("connect", uri);
	STR("state-dir", state_dir);
	STR("socket", socket);
	STR("group", group);
	STR("channel", channel);
	STR("rules-config", rules);
	STR("metrics-listen", metrics);
#undef STR
#define INT(key, out)                                                                              \
	if (*(out) < 0 && g_key_file_has_key(kf, "daemon", key, NULL)) {                           \
		*(out) = g_key_file_get_integer(kf, "daemon", key, &local);                        \
		if (local != NULL || *(out) < 0) {                                                 \
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,       \
				    "%s: [daemon] %s must be a whole number >= 0", path, key);     \
			return FALSE;                                                              \
		}                                                                                  \
	}
	INT("poll-interval", poll);
	INT("retention-days", retention_days);
	INT("retention-reports", retention_reports);
#undef INT
	return TRUE;
}
