/* SPDX-License-Identifier: GPL-2.0-or-later */
/* recommend, apply, rollback and changes: what to change, and changing it. */
#include <stdio.h>

#include "bounds.h"
#include "cli.h"
#include "client.h"
#include "fleet.h"
#include "options.h"
#include "render.h"

/* ------------------------------------------------------------ recommend */

static int
severity_rank(const char *s)
{
	if (g_strcmp0(s, "critical") == 0)
		return 2;
	if (g_strcmp0(s, "warning") == 0)
		return 1;
	if (g_strcmp0(s, "info") == 0)
		return 0;
	return -1;
}

gboolean
vt_fail_on_parse(const char *text, int *threshold)
{
	*threshold = -1;
	if (text != NULL && ((*threshold = severity_rank(text)) < 1)) {
		vt_render_error("--fail-on takes warning or critical");
		return FALSE;
	}
	return TRUE;
}

int
vt_findings(JsonNode *recommend, const char *rule_prefix, int threshold)
{
	JsonArray *recs = JSON_NODE_HOLDS_OBJECT(recommend)
				  ? json_object_get_array_member(json_node_get_object(recommend),
								 "recommendations")
				  : NULL;

	for (guint i = 0; recs && i < json_array_get_length(recs); i++) {
		JsonObject *r = json_array_get_object_element(recs, i);
		if (g_str_has_prefix(json_object_get_string_member_with_default(r, "rule", ""),
				     rule_prefix) &&
		    severity_rank(json_object_get_string_member_with_default(r, "severity", "")) >=
			    threshold)
			return VT_EXIT_FINDINGS;
	}
	return VT_EXIT_OK;
}

/* --prometheus: a row per recommendation, without the change (the metrics
 * carry its id, rule, severity and target only). */
static const VtColumn fleet_rec_columns[] = {
	{"host", "HOST", VT_COL_TEXT, NULL},
	{"domain", "DOMAIN", VT_COL_TEXT, NULL},
	{"severity", "SEVERITY", VT_COL_TEXT, NULL},
	{"target", "TARGET", VT_COL_TEXT, NULL},
	{"id", "ID", VT_COL_TEXT, NULL},
};

int
vt_cmd_recommend(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autofree char *fail_on = NULL;
	gboolean all = FALSE;
	const GOptionEntry entries[] = {
		{"all", 'a', 0, G_OPTION_ARG_NONE, &all, "Every running domain (the default)",
		 NULL},
		{"fail-on", 0, 0, G_OPTION_ARG_STRING, &fail_on,
		 "Exit 1 when a recommendation of this severity or worse exists",
		 "warning|critical"},
		{NULL},
	};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	JsonObject *r;
	int rc, threshold;

	o.fleet = TRUE;
	if (!vt_cli_parse(&o, "[DOMAIN|--all] - what to change, and why", entries, 0, 1, &argc,
			  &argv, &rc))
		return rc;
	if (all && argc > 1) {
		vt_render_error("give a DOMAIN or --all, not both");
		return VT_EXIT_USAGE;
	}
	if (!vt_fail_on_parse(fail_on, &threshold))
		return VT_EXIT_USAGE;
	args = vt_client_args(argc > 1 ? argv[1] : NULL);
	rc = o.prometheus
		     ? vt_fleet_request(&o, "recommend", NULL, argc > 1 ? argv[1] : NULL, &result)
		     : vt_client_request(o.socket, "recommend", args, 10, &result);
	if (rc != VT_EXIT_OK)
		return rc;
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		vt_render_json(stdout, result);
		return VT_EXIT_FAILED;
	}
	r = json_node_get_object(result);
	if (o.fmt == VT_FORMAT_JSON)
		vt_render_json(stdout, result);
	else if (o.fmt == VT_FORMAT_CSV) /* every member of a recommendation: no columns */
		vt_render_rows(stdout, o.fmt, json_object_get_member(r, "recommendations"), NULL, 0,
			       FALSE);
	else if (o.prometheus != NULL)
		vt_render_rows(stdout, o.fmt, json_object_get_member(r, "recommendations"),
			       fleet_rec_columns, G_N_ELEMENTS(fleet_rec_columns),
			       vt_use_color(stdout));
	else
		vt_render_recommendations(stdout, r, VT_RECS_FLEET, vt_use_color(stdout));
	return threshold > 0 ? vt_findings(result, "", threshold) : VT_EXIT_OK;
}

/* ------------------------------------------------------------ apply, rollback */

/* What the agent did: the operation's status, then before and after. */
static void
show_change(JsonObject *r)
{
	const char *reason = json_object_get_string_member_with_default(r, "reason", "");
	g_autofree char *title = g_strdup_printf(
		"%s %s: %s%s%s", json_object_get_string_member_with_default(r, "operation", "?"),
		json_object_get_string_member_with_default(r, "domain", "?"),
		json_object_get_string_member_with_default(r, "status", "?"),
		reason && *reason ? " — " : "", reason ? reason : "");
	VtField fields[6];
	gsize n = 0;

	if (json_object_has_member(r, "command") && !json_object_get_null_member(r, "command"))
		fields[n++] = (VtField){"command:", json_object_get_string_member(r, "command")};
	fields[n++] =
		(VtField){"before:", json_object_get_string_member_with_default(r, "before", "-")};
	fields[n++] =
		(VtField){"after:", json_object_get_string_member_with_default(r, "after", "-")};
	if (json_object_has_member(r, "change_id") && !json_object_get_null_member(r, "change_id"))
		fields[n++] =
			(VtField){"change id:", json_object_get_string_member(r, "change_id")};
	if (json_object_has_member(r, "confirm_deadline"))
		fields[n++] = (VtField){"reverts at:", json_object_get_string_member_with_default(
							       r, "confirm_deadline", "?")};
	if (json_object_has_member(r, "recommendation_gone"))
		fields[n++] =
			(VtField){NULL, json_object_get_boolean_member(r, "recommendation_gone")
						? "the next report no longer has the "
						  "recommendation"
						: "the next report still has the "
						  "recommendation"};
	vt_render_fields(stdout, title, "  ", 10, fields, n);
}

/* Print an apply's or a rollback's answer; its exit code. */
static int
change_done(const VtCliOptions *o, JsonNode *result)
{
	const char *status;

	if (o->fmt == VT_FORMAT_TABLE && JSON_NODE_HOLDS_OBJECT(result))
		show_change(json_node_get_object(result));
	else
		vt_render_json(stdout, result);
	if (!JSON_NODE_HOLDS_OBJECT(result))
		return VT_EXIT_FAILED;
	status = json_object_get_string_member_with_default(json_node_get_object(result), "status",
							    "");
	return g_strcmp0(status, "applied") == 0 || g_strcmp0(status, "validated") == 0 ||
			       g_strcmp0(status, "rolled_back") == 0 ||
			       g_strcmp0(status, "confirmed") == 0
		       ? VT_EXIT_OK
		       : VT_EXIT_FAILED;
}

/* "20s", "3m", "1h" or plain seconds, 1 s to 7 days; 0 when not. */
static gint64
parse_duration(const char *text)
{
	char *end = NULL;
	guint64 v;
	gint64 unit = 1;

	if (text == NULL || !g_ascii_isdigit(text[0]))
		return 0;
	v = g_ascii_strtoull(text, &end, 10);
	if (g_strcmp0(end, "m") == 0)
		unit = 60;
	else if (g_strcmp0(end, "h") == 0)
		unit = 3600;
	else if (*end != '\0' && g_strcmp0(end, "s") != 0)
		return 0;
	if (v == 0 || v > (guint64)VT_CONFIRM_WITHIN_MAX_S / (guint64)unit)
		return 0;
	return (gint64)v * unit;
}

int
vt_cmd_apply(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	gboolean dry_run = FALSE, persist = FALSE, if_better = FALSE;
	g_autofree char *within = NULL;
	gint64 within_s = 0;
	const GOptionEntry entries[] = {
		{"confirm-within", 0, 0, G_OPTION_ARG_STRING, &within,
		 "The agent reverts the change by itself unless `virt-tune confirm` comes "
		 "within DURATION (20s, 3m, 1h)",
		 "DURATION"},
		{"confirm-if-better", 0, 0, G_OPTION_ARG_NONE, &if_better,
		 "With --confirm-within: the daemon confirms at the deadline unless the "
		 "measured effect regressed",
		 NULL},
		{"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
		 "Let the agent validate it and show before/after; change nothing", NULL},
		{"persist", 0, 0, G_OPTION_ARG_NONE, &persist,
		 "Also make it survive a reboot (when the guest's policy allows)", NULL},
		{NULL},
	};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o,
			  "DOMAIN RECOMMENDATION_ID - have the guest's agent make a recommended "
			  "change",
			  entries, 2, 2, &argc, &argv, &rc))
		return rc;
	if (within != NULL && (within_s = parse_duration(within)) == 0) {
		vt_render_error("--confirm-within takes a duration of 1s to 7 days: 20s, 3m, 1h");
		return VT_EXIT_USAGE;
	}
	if (if_better && within_s == 0) {
		vt_render_error("--confirm-if-better needs --confirm-within");
		return VT_EXIT_USAGE;
	}
	args = vt_client_args(argv[1]);
	json_object_set_string_member(args, "recommendation", argv[2]);
	json_object_set_boolean_member(args, "dry_run", dry_run);
	json_object_set_boolean_member(args, "persist", persist);
	if (within_s > 0) {
		json_object_set_int_member(args, "confirm_within_s", within_s);
		json_object_set_boolean_member(args, "confirm_if_better", if_better);
	}
	if ((rc = vt_client_request(o.socket, "apply", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	return change_done(&o, result);
}

int
vt_cmd_rollback(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o, "DOMAIN CHANGE_ID - undo a change (see `virt-tune changes`)", NULL, 2,
			  2, &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	json_object_set_string_member(args, "change_id", argv[2]);
	if ((rc = vt_client_request(o.socket, "rollback", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	return change_done(&o, result);
}

int
vt_cmd_confirm(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	int rc;

	if (!vt_cli_parse(&o,
			  "DOMAIN CHANGE_ID - keep a change applied with --confirm-within "
			  "(see `virt-tune changes`)",
			  NULL, 2, 2, &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	json_object_set_string_member(args, "change_id", argv[2]);
	if ((rc = vt_client_request(o.socket, "confirm", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	return change_done(&o, result);
}

/* ------------------------------------------------------------ changes */

static const VtColumn change_columns[] = {
	{"time", "TIME", VT_COL_TEXT, NULL},
	{"operation", "OP", VT_COL_TEXT, NULL},
	{"recommendation", "RECOMMENDATION", VT_COL_TEXT, NULL},
	{"status", "STATUS", VT_COL_TEXT, NULL},
	{"state", "STATE", VT_COL_TEXT, NULL},
	{"before", "BEFORE", VT_COL_TEXT, NULL},
	{"after", "AFTER", VT_COL_TEXT, NULL},
	{"change_id", "CHANGE ID", VT_COL_TEXT, NULL},
	{"peer_uid", "UID", VT_COL_INT, NULL},
};

static gboolean
has_number(JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);

	return n != NULL && JSON_NODE_HOLDS_VALUE(n);
}

/* A member that holds an object or an array, else NULL (an older daemon may
 * leave it out). */
static JsonObject *
object_member(JsonObject *o, const char *key)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;

	return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
array_member(JsonObject *o, const char *key)
{
	JsonNode *n = o ? json_object_get_member(o, key) : NULL;

	return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* Element @i of @a when it is an object, else NULL. */
static JsonObject *
object_element(JsonArray *a, guint i)
{
	JsonNode *n = json_array_get_element(a, i);

	return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* "12.5 → 3.2" from a summary pair, or "-" when a side has no samples. */
static char *
before_after(JsonObject *m)
{
	JsonObject *b = object_member(m, "before");
	JsonObject *a = object_member(m, "after");

	if (b == NULL || a == NULL || !has_number(b, "mean") || !has_number(a, "mean"))
		return g_strdup_printf(
			"- (n=%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ") %s",
			b ? json_object_get_int_member_with_default(b, "n", 0) : 0,
			a ? json_object_get_int_member_with_default(a, "n", 0) : 0,
			json_object_get_string_member_with_default(m, "verdict", "?"));
	return g_strdup_printf(
		"%.4g → %.4g %s (n=%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ", p=%.3g) %s",
		json_object_get_double_member(b, "mean"), json_object_get_double_member(a, "mean"),
		json_object_get_string_member_with_default(m, "unit", ""),
		json_object_get_int_member_with_default(b, "n", 0),
		json_object_get_int_member_with_default(a, "n", 0),
		json_object_get_double_member_with_default(m, "p", 1),
		json_object_get_string_member_with_default(m, "verdict", "?"));
}

/* One applied change with its measured effect: before → after per metric. */
static void
show_effect(JsonObject *r)
{
	{
		JsonObject *e = object_member(r, "effect");
		JsonArray *metrics = array_member(e, "metrics");
		g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
		g_autofree VtField *fields = NULL;
		g_autofree char *title = NULL;
		guint n;

		if (metrics == NULL)
			return;
		n = MIN(json_array_get_length(metrics), 16u);
		title = g_strdup_printf(
			"%s %s (%s): %s",
			json_object_get_string_member_with_default(r, "change_id", "?"),
			json_object_get_string_member_with_default(r, "recommendation", "?"),
			json_object_get_string_member_with_default(r, "state", "?"),
			json_object_get_string_member_with_default(e, "verdict", "?"));
		fields = g_new0(VtField, n);
		for (guint k = 0; k < n; k++) {
			JsonObject *m = object_element(metrics, k);
			if (m == NULL)
				continue;
			/* "host drops_per_s": the same metric read on the host's side */
			fields[k].key = g_strdup_printf(
				"%s %s",
				json_object_get_string_member_with_default(m, "side", "guest"),
				json_object_get_string_member_with_default(m, "name", "?"));
			fields[k].value = before_after(m);
			g_ptr_array_add(lines, (char *)fields[k].key);
			g_ptr_array_add(lines, (char *)fields[k].value);
		}
		vt_render_fields(stdout, title, "  ", 28, fields, n);
	}
}

static void
show_effects(JsonNode *result)
{
	JsonArray *rows = JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;

	for (guint i = 0; rows && i < json_array_get_length(rows); i++) {
		JsonObject *r = object_element(rows, i);
		if (r != NULL)
			show_effect(r);
	}
}

static void
copy_member(JsonObject *to, JsonObject *from, const char *key, const char *as)
{
	JsonNode *v = from ? json_object_get_member(from, key) : NULL;

	json_object_set_member(to, as,
			       v != NULL && JSON_NODE_HOLDS_VALUE(v)
				       ? json_node_copy(v)
				       : json_node_init_null(json_node_alloc()));
}

static void
add_summary_members(JsonObject *row, const char *side, JsonObject *s)
{
	static const char *const keys[] = {"n", "mean", "stddev", "median"};

	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		g_autofree char *name = g_strdup_printf("%s_%s", side, keys[i]);

		copy_member(row, s, keys[i], name);
	}
}

JsonNode *
vt_change_effect_rows(JsonNode *result)
{
	JsonArray *rows = JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
	g_autoptr(JsonArray) out = json_array_new();
	/* `changes --effect` answers an array of changes, `show` one change */
	JsonObject *one = JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
	guint n = rows ? json_array_get_length(rows) : one ? 1 : 0;

	for (guint i = 0; i < n; i++) {
		JsonObject *r = rows ? object_element(rows, i) : one;
		JsonObject *e = object_member(r, "effect");
		JsonArray *metrics = array_member(e, "metrics");

		for (guint k = 0; metrics && k < json_array_get_length(metrics); k++) {
			JsonObject *m = object_element(metrics, k);
			JsonObject *row;

			if (m == NULL)
				continue;
			row = json_object_new();
			copy_member(row, r, "time", "time");
			copy_member(row, r, "change_id", "change_id");
			copy_member(row, r, "recommendation", "recommendation");
			copy_member(row, r, "state", "state");
			copy_member(row, e, "verdict", "change_verdict");
			copy_member(row, m, "side", "side");
			copy_member(row, m, "name", "metric");
			copy_member(row, m, "unit", "unit");
			add_summary_members(row, "before", object_member(m, "before"));
			add_summary_members(row, "after", object_member(m, "after"));
			copy_member(row, m, "p", "p");
			copy_member(row, m, "verdict", "verdict");
			json_array_add_object_element(out, row);
		}
	}
	return json_node_init_array(json_node_alloc(), out); /* takes its own reference */
}

void
vt_show_change_effect(JsonObject *r)
{
	g_autofree char *title = g_strdup_printf(
		"change %s of %s", json_object_get_string_member_with_default(r, "change_id", "?"),
		json_object_get_string_member_with_default(r, "domain", "?"));
	const VtField fields[] = {
		{"recommendation:",
		 json_object_get_string_member_with_default(r, "recommendation", "-")},
		{"applied:", json_object_get_string_member_with_default(r, "time", "-")},
		{"before:", json_object_get_string_member_with_default(r, "before", "-")},
		{"after:", json_object_get_string_member_with_default(r, "after", "-")},
		{"state:", json_object_get_string_member_with_default(r, "state", "-")},
	};

	vt_render_fields(stdout, title, "  ", 16, fields, G_N_ELEMENTS(fields));
	show_effect(r);
}

int
vt_cmd_changes(int argc, char **argv)
{
	g_auto(VtCliOptions) o = {0};
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonObject) args = NULL;
	gboolean effect = FALSE;
	const GOptionEntry entries[] = {
		{"effect", 'e', 0, G_OPTION_ARG_NONE, &effect,
		 "The measured effect of each applied change: before → after and a verdict", NULL},
		{NULL},
	};
	int rc;

	if (!vt_cli_parse(&o, "DOMAIN - every apply and rollback asked of a domain", entries, 1, 1,
			  &argc, &argv, &rc))
		return rc;
	args = vt_client_args(argv[1]);
	json_object_set_boolean_member(args, "effect", effect);
	if ((rc = vt_client_request(o.socket, "changes", args, 30, &result)) != VT_EXIT_OK)
		return rc;
	if (effect && o.fmt == VT_FORMAT_TABLE) {
		show_effects(result);
	} else if (effect && o.fmt == VT_FORMAT_CSV) {
		g_autoptr(JsonNode) rows = vt_change_effect_rows(result);

		vt_render_rows(stdout, o.fmt, rows, NULL, 0, FALSE);
	} else
		vt_render_rows(stdout, o.fmt, result, change_columns, G_N_ELEMENTS(change_columns),
			       vt_use_color(stdout));
	return VT_EXIT_OK;
}
