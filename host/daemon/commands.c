/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's commands: one table, what each may do and who may ask. */
#include "daemon-private.h"

#include "bounds.h"
#include "views.h"

/* Answers @req and returns FALSE when @domain is given and not running. */
static gboolean
check_domain(VtControlRequest *req, const char *domain, GPtrArray *found)
{
	if (domain == NULL || found->len > 0)
		return TRUE;
	vt_control_request_error(req, "not_found", "no running domain '%s' (see `virt-tune list`)",
				 domain);
	return FALSE;
}

/* The running guest the request names; NULL (and the request answered)
 * when it names none. */
static VtGuest *
find_guest(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) found = NULL;

	if (domain == NULL) {
		vt_control_request_error(req, "bad_request", "this command needs a domain");
		return NULL;
	}
	found = vt_guests_select(d->guests, domain);
	return check_domain(req, domain, found) ? found->pdata[0] : NULL;
}

/* The UUID of @domain (a name or UUID) as the store knows it, also for
 * stopped domains; NULL (and the request answered) when unknown. */
static char *
stored_uuid(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) domains = NULL;
	g_autoptr(GError) error = NULL;

	if (domain == NULL) {
		vt_control_request_error(req, "bad_request", "%s needs a domain",
					 vt_control_request_get_command(req));
		return NULL;
	}
	domains = vt_store_list_domains(d->store, &error);
	for (guint i = 0; domains != NULL && i < domains->len; i++) {
		VtStoreDomain *sd = domains->pdata[i];
		if (g_strcmp0(sd->name, domain) == 0 || g_strcmp0(sd->uuid, domain) == 0)
			return g_strdup(sd->uuid);
	}
	if (domains == NULL)
		vt_control_request_error(req, "store", "%s", error->message);
	else
		vt_control_request_error(req, "not_found", "no domain '%s' known", domain);
	return NULL;
}

static void
cmd_status(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, NULL);

	vt_control_request_reply(req,
				 vt_view_status(guests, d->uri, vt_hypervisor_is_connected(d->hv),
						d->store ? vt_store_path(d->store) : ""));
}

static void
cmd_list(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, NULL);

	vt_control_request_reply(req, vt_view_list(guests, vt_now_ms()));
}

static void
cmd_show(VtDaemon *d, VtControlRequest *req)
{
	const char *arg = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) found = arg ? vt_guests_select(d->guests, arg) : NULL;
	JsonNode *change;
	VtGuest *g;

	/* not a running domain: perhaps a change id */
	if (found != NULL && found->len == 0 &&
	    (change = vt_changes_show(d->store, d->guests, arg,
				      vt_changes_get_effect_window(d->changes), vt_now_ms()))) {
		vt_control_request_reply(req, change);
		return;
	}
	if ((g = find_guest(d, req)) != NULL)
		vt_control_request_reply(req, vt_view_show(g, vt_now_ms()));
}

static void
cmd_audit(VtDaemon *d, VtControlRequest *req)
{
	const char *kind = vt_control_arg_string(req, "kind");
	const char *domain = vt_control_arg_string(req, "domain");
	const VtAuditKind *k = vt_audit_kind_find(kind);
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, domain);

	if (!check_domain(req, domain, guests))
		return;
	if (kind == NULL || g_strcmp0(kind, "all") == 0)
		vt_control_request_reply(req, vt_view_audit_all(guests, d->host, vt_now_ms()));
	else if (k != NULL)
		vt_control_request_reply(req, k->view(guests, d->host, vt_now_ms()));
	else
		vt_control_request_error(
			req, "bad_request",
			"unknown audit '%s': swap, schedulers, nics, io, net, memory, "
			"host or all",
			kind);
}

static void
cmd_history(VtDaemon *d, VtControlRequest *req)
{
	gint64 since = vt_control_arg_int(req, "since_ms", 0);
	gint64 limit = vt_control_arg_int(req, "limit", 100);
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *uuid = stored_uuid(d, req);

	if (uuid == NULL)
		return;
	rows = vt_store_history(d->store, uuid, since, 0, (guint)CLAMP(limit, 1, 10000), &error);
	if (rows == NULL)
		vt_control_request_error(req, "store", "reading history: %s", error->message);
	else
		vt_control_request_reply(req, vt_view_history(rows));
}

static void
cmd_refresh(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GError) error = NULL;
	VtGuest *g = find_guest(d, req);

	if (g == NULL)
		return;
	if (g->session == NULL)
		vt_control_request_error(req, "no_agent", "%s has no agent channel", g->name);
	else if (!vt_session_request_report(g->session, "refresh", &error))
		vt_control_request_error(req, "no_agent", "%s", error->message);
	else
		vt_changes_wait_report(d->changes, g, req);
}

static void
cmd_recommend(VtDaemon *d, VtControlRequest *req)
{
	const char *domain = vt_control_arg_string(req, "domain");
	g_autoptr(GPtrArray) guests = vt_guests_select(d->guests, domain);
	g_autoptr(GError) error = NULL;
	JsonNode *node;

	if (!check_domain(req, domain, guests))
		return;
	node = vt_view_recommendations(guests, &error);
	/* the host's own recommendations when no one domain is asked for */
	if (node != NULL && domain == NULL &&
	    !vt_view_add_host_recommendations(node, d->host, &error))
		g_clear_pointer(&node, json_node_unref);
	if (node == NULL) {
		vt_control_request_error(req, "internal", "%s", error->message);
		return;
	}
	vt_changes_annotate_recommendations(d->store, d->guests, node, vt_now_ms());
	vt_control_request_reply(req, node);
}

/* The options of `apply`; FALSE when answered with why not. */
static gboolean
apply_options(const VtGuest *g, VtControlRequest *req, VtApplyOptions *opt)
{
	gint64 within = vt_control_arg_int(req, "confirm_within_s", 0);

	opt->dry_run = vt_control_arg_bool(req, "dry_run");
	opt->persist = vt_control_arg_bool(req, "persist");
	opt->confirm_if_better = vt_control_arg_bool(req, "confirm_if_better");
	if (within < 0 || within > VT_CONFIRM_WITHIN_MAX_S ||
	    (opt->confirm_if_better && within == 0)) {
		vt_control_request_error(req, "bad_request",
					 "confirm_within_s must be 1 s to 7 days, and is needed "
					 "by confirm_if_better");
		return FALSE;
	}
	if (within > 0 && !g->can_confirm) {
		vt_control_request_error(req, "unsupported",
					 "the agent of %s (%s) cannot revert changes by itself "
					 "(no confirm capability); upgrade it or apply without "
					 "--confirm-within",
					 g->name, g->agent_version ? g->agent_version : "?");
		return FALSE;
	}
	opt->confirm_within_s = (guint32)within;
	return TRUE;
}

static void
cmd_apply(VtDaemon *d, VtControlRequest *req)
{
	VtApplyOptions opt = {0};
	const char *id = vt_control_arg_string(req, "recommendation");
	const VtRecommendation *rec;
	VtGuest *g = find_guest(d, req);

	if (g == NULL)
		return;
	if (id == NULL) {
		vt_control_request_error(req, "bad_request", "apply needs a recommendation id");
		return;
	}
	rec = vt_guest_find_recommendation(g, id);
	if (rec == NULL) {
		vt_control_request_error(req, "not_found",
					 "%s has no recommendation '%s' now (see `virt-tune "
					 "recommend %s`)",
					 g->name, id, g->name);
		return;
	}
	if (rec->target != VT_TARGET_GUEST || rec->action == NULL) {
		vt_control_request_error(req, "host_change",
					 "%s is a change on the host, not in the guest: %s", id,
					 rec->command ? rec->command : "see its rationale");
		return;
	}
	if (!apply_options(g, req, &opt))
		return;
	vt_changes_apply(d->changes, g, req, rec, &opt);
}

/* The guest and the change id that confirm and rollback act on; NULL when
 * answered with why not. */
static const char *
change_target(VtDaemon *d, VtControlRequest *req, const char *verb, VtGuest **g)
{
	const char *change_id = vt_control_arg_string(req, "change_id");

	if ((*g = find_guest(d, req)) == NULL)
		return NULL;
	if (change_id == NULL)
		vt_control_request_error(req, "bad_request",
					 "%s needs a change id (see `virt-tune changes %s`)", verb,
					 (*g)->name);
	return change_id;
}

static void
cmd_confirm(VtDaemon *d, VtControlRequest *req)
{
	VtGuest *g = NULL;
	const char *change_id = change_target(d, req, "confirm", &g);

	if (change_id != NULL)
		vt_changes_confirm(d->changes, g, req, change_id, NULL);
}

static void
cmd_rollback(VtDaemon *d, VtControlRequest *req)
{
	VtGuest *g = NULL;
	const char *change_id = change_target(d, req, "rollback", &g);

	if (change_id != NULL)
		vt_changes_rollback(d->changes, g, req, change_id);
}

static void
cmd_changes(VtDaemon *d, VtControlRequest *req)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *uuid = stored_uuid(d, req);
	JsonNode *view;

	if (uuid == NULL)
		return;
	rows = vt_store_audit_list(d->store, uuid, 0, 1000, &error);
	if (rows == NULL) {
		vt_control_request_error(req, "store", "%s", error->message);
		return;
	}
	view = vt_view_changes(rows);
	vt_changes_annotate(d->store, g_hash_table_lookup(d->guests, uuid), uuid, rows, view,
			    vt_control_arg_bool(req, "effect"),
			    vt_changes_get_effect_window(d->changes), vt_now_ms());
	vt_control_request_reply(req, view);
}

static const struct {
	const char *name;
	gboolean privileged; /* changes a guest: root (or the daemon's user) only */
	void (*run)(VtDaemon *d, VtControlRequest *req);
} commands[] = {
	{"status", FALSE, cmd_status},       {"list", FALSE, cmd_list},
	{"show", FALSE, cmd_show},           {"audit", FALSE, cmd_audit},
	{"history", FALSE, cmd_history},     {"refresh", FALSE, cmd_refresh},
	{"recommend", FALSE, cmd_recommend}, {"apply", TRUE, cmd_apply},
	{"rollback", TRUE, cmd_rollback},    {"changes", FALSE, cmd_changes},
	{"confirm", TRUE, cmd_confirm},
};

void
vt_daemon_on_request(VtControlRequest *req, gpointer user_data)
{
	const char *name = vt_control_request_get_command(req);

	/* what the answer shows of the store is on disk (store-batch.c) */
	vt_daemon_store_flush(user_data);
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_strcmp0(name, commands[i].name) != 0)
			continue;
		if (commands[i].privileged && !vt_control_request_is_privileged(req))
			vt_control_request_error(
				req, "permission",
				"only root may change a guest (uid %u may only read)",
				(guint)vt_control_request_get_uid(req));
		else
			commands[i].run(user_data, req);
		return;
	}
	vt_control_request_error(req, "unknown_command", "unknown command '%s'", name);
}
