/* SPDX-License-Identifier: GPL-2.0-or-later */
/* history: a domain's past reports from virt-tuned's store. */
#include <stdio.h>

#include "cli.h"
#include "client.h"
#include "options.h"
#include "render.h"

/* "90s", "15m", "2h", "7d" before now, or an ISO 8601 time. */
static gboolean
parse_since(const char *text, gint64 *ms)
{
	char *end = NULL;
	gint64 n = g_ascii_strtoll(text, &end, 10);
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) t = NULL;
	gint64 unit = 0;

	if (end != text && n >= 0 && end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		}
		if (unit > 0 && n < G_MAXINT64 / 1000 / unit) {
			*ms = g_get_real_time() / 1000 - n * unit * 1000;
			return TRUE;
		}
	}
	t = g_date_time_new_from_iso8601(text, utc);
	if (t == NULL)
		return FALSE;
	*ms = g_date_time_to_unix(t) * 1000;
	return TRUE;
}

static const VtColumn history_columns[] = {
	{"time", "TIME", VT_COL_TEXT, NULL},
	{"uptime_s", "UPTIME", VT_COL_AGE, NULL},
	{"mem_available_bytes", "AVAIL", VT_COL_BYTES, NULL},
	{"mem_total_bytes", "MEM", VT_COL_BYTES, NULL},
	{"swap_free_bytes", "SWAP FREE", VT_COL_BYTES, NULL},
	{"pswpin", "PSWPIN", VT_COL_INT, NULL},
	{"pswpout", "PSWPOUT", VT_COL_INT, NULL},
	{"disks", "DISKS", VT_COL_INT, NULL},
	{"nics", "NICS", VT_COL_INT, NULL},
};

int
vt_cmd_history(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autofree char *since = NULL;
	int limit = 50;
	const GOptionEntry entries[] = {
		{"since", 0, 0, G_OPTION_ARG_STRING, &since,
		 "Only reports after this: 30m, 2h, 7d, or an ISO 8601 time", "WHEN"},
		{"limit", 'n', 0, G_OPTION_ARG_INT, &limit,
		 "At most N reports, newest (default 50)", "N"},
		{NULL},
	};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	gint64 since_ms = 0;
	int rc;

	if (!vt_cli_parse(&o, "DOMAIN - past reports, also of stopped domains", entries, 1, 1,
			  &argc, &argv, &rc))
		return rc;
	if (since != NULL && !parse_since(since, &since_ms)) {
		vt_render_error("--since takes 30m, 2h, 7d or an ISO 8601 time, not '%s'", since);
		return VT_EXIT_USAGE;
	}
	if (limit < 1 || limit > 10000) {
		vt_render_error("--limit must be 1..10000");
		return VT_EXIT_USAGE;
	}
	args = vt_client_args(argv[1]);
	json_object_set_int_member(args, "since_ms", since_ms);
	json_object_set_int_member(args, "limit", limit);
	if ((rc = vt_client_request(o.socket, "history", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	vt_render_rows(stdout, o.fmt, result, history_columns, G_N_ELEMENTS(history_columns),
		       vt_use_color(stdout));
	return VT_EXIT_OK;
}
