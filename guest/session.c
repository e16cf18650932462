/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A session with the host: its Hello, reports (on a timer and on request),
 * apply and rollback requests, errors either way. */
#define G_LOG_DOMAIN "virt-tune-agent"

#include "agent-private.h"

#include "bounds.h"
#include "report-fit.h"

void
vt_agent_send(VtAgent *a, VtEnvelope *env, gboolean is_report)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GBytes) frame = NULL;
	g_autoptr(GError) error = NULL;

	if (!a->up || a->down_reason != NULL)
		return;
	env->has_version = TRUE;
	env->version = VT_PROTOCOL_VERSION;
	env->has_seq = TRUE;
	env->seq = a->tx_seq + 1;
	if (!vt_envelope_append_frame(out, env, &error)) {
		g_warning("cannot send a %s: %s", vt_envelope_body_name(env), error->message);
		return;
	}
	a->tx_seq++;
	frame = g_byte_array_free_to_bytes(g_steal_pointer(&out));
	if (is_report) {
		if (vt_outbox_push_report(a->outbox, frame))
			g_debug("a newer report replaced the one waiting for the port");
	} else if (!vt_outbox_push_control(a->outbox, frame)) {
		g_debug("output queue full: %s not sent", vt_envelope_body_name(env));
		return;
	}
	vt_agent_flush(a);
}

static void
send_error(VtAgent *a, const char *code, const char *message, const VtEnvelope *in_reply_to)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtWireError err = VIRTTUNE__V1__ERROR__INIT;

	err.code = (char *)code;
	err.message = (char *)message;
	if (in_reply_to != NULL && in_reply_to->has_seq) {
		err.has_in_reply_to = TRUE;
		err.in_reply_to = in_reply_to->seq;
	}
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_ERROR;
	env.error = &err;
	vt_agent_send(a, &env, FALSE);
}

static void
send_report(VtAgent *a)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtReport *report = vt_collector_collect(a->collector);
	gsize size;

	if (!report->has_collected_at_ms) {
		report->has_collected_at_ms = TRUE;
		report->collected_at_ms = (guint64)(g_get_real_time() / 1000);
	}
	if (!report->has_monotonic_ms) {
		report->has_monotonic_ms = TRUE;
		report->monotonic_ms = (guint64)(g_get_monotonic_time() / 1000);
	}
	vt_agent_add_change_states(a, report);
	size = vt_report_fit(report, VT_REPORT_FIT_MAX);
	if (size > VT_REPORT_FIT_MAX)
		g_warning("the report still packs to %" G_GSIZE_FORMAT " bytes after trimming",
			  size);
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = report;
	vt_agent_send(a, &env, TRUE);
	/* its feature messages serve the next report */
	vt_collector_recycle(a->collector, report);
}

void
vt_agent_send_report(VtAgent *a)
{
	if (a->in_session)
		send_report(a);
}

static gboolean
on_report_tick(gpointer data)
{
	VtAgent *a = data;

	send_report(a);
	vt_agent_settle(a);
	return G_SOURCE_CONTINUE;
}

void
vt_agent_restart_report_timer(VtAgent *a)
{
	g_clear_handle_id(&a->report_timer, g_source_remove);
	if (a->in_session)
		a->report_timer = g_timeout_add_seconds(a->interval, on_report_tick, a);
}

static void
handle_hello(VtAgent *a, const VtEnvelope *in)
{
	static const char *capabilities[] = {"report", "report_request", "apply", "rollback",
					     "confirm"};
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtHello hello = VIRTTUNE__V1__HELLO__INIT;
	VtPolicySummary policy = VIRTTUNE__V1__POLICY_SUMMARY__INIT;

	/* A Hello starts a session, even on a connection the guest thinks it
	 * already had (a quick host reconnect can go unseen): sequence numbers
	 * start again, and a report queued for the old session is stale. */
	vt_outbox_drop_report(a->outbox);
	a->tx_seq = 0;

	hello.agent_version = (char *)VT_VERSION;
	hello.has_nonce = in->hello->has_nonce;
	hello.nonce = in->hello->nonce;
	hello.boot_id = a->boot_id;
	hello.n_capabilities = G_N_ELEMENTS(capabilities);
	hello.capabilities = (char **)capabilities;
	vt_policy_summary_fill(a->config->policy, &policy);
	hello.policy = &policy;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	vt_agent_send(a, &env, FALSE);
	vt_policy_summary_clear(&policy);

	if (!a->in_session || a->absent_logged) {
		gint64 away_s = (g_get_monotonic_time() - a->absent_since_us) / G_USEC_PER_SEC;
		g_autofree char *after =
			a->absent_logged
				? g_strdup_printf(" after %" G_GINT64_FORMAT " s without one",
						  away_s)
				: g_strdup("");

		g_log_structured(G_LOG_DOMAIN,
				 a->absent_logged ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_INFO, "PORT",
				 vt_port_path(a->port), "MESSAGE",
				 "host %.64s connected on %s%s; reporting every %u s",
				 in->hello->host_version ? in->hello->host_version : "(no version)",
				 vt_port_path(a->port), after, a->interval);
	}
	a->in_session = TRUE;
	a->absent_logged = FALSE;
	a->retry_ms = VT_AGENT_RETRY_MIN_MS;
	vt_log_limit_reset(&a->absent_log);
	vt_log_limit_reset(&a->down_log);

	send_report(a);
	vt_agent_restart_report_timer(a);
}

/* Apply and rollback run synchronously: each is a few syscalls and fsyncs. */
static void
handle_change(VtAgent *a, const VtEnvelope *in)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	g_autoptr(VtApplyResult) result = NULL;

	if (in->body_case == VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST)
		result = vt_applier_apply(a->applier, in->apply_request);
	else if (in->body_case == VIRTTUNE__V1__ENVELOPE__BODY_CONFIRM_REQUEST)
		result = vt_applier_confirm(a->applier, in->confirm_request);
	else
		result = vt_applier_rollback(a->applier, in->rollback_request);
	/* the next report shows what was written, not a kept read */
	vt_collector_settings_changed(a->collector);
	vt_agent_arm_deadline(a);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "REQUEST_ID", "%s",
			 result->request_id ? result->request_id : "", "CHANGE_ID", "%s",
			 result->change_id ? result->change_id : "", "MESSAGE",
			 "%s %.128s: %s%s%s%s, as by: %s", vt_envelope_body_name(in),
			 result->request_id ? result->request_id : "(no id)",
			 vt_apply_result_status_name(result->status), *result->reason ? " (" : "",
			 result->reason, *result->reason ? ")" : "",
			 result->command ? result->command : "-");
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT;
	env.apply_result = result;
	vt_agent_send(a, &env, FALSE);
}

gboolean
vt_agent_on_frame(const guint8 *payload, gsize len, gpointer data)
{
	VtAgent *a = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEnvelope) env = vt_envelope_unpack(payload, len, &error);
	g_autofree char *why = NULL;

	if (env == NULL) {
		a->bad_frames++;
		send_error(a, "bad_message", error->message, NULL);
		return a->down_reason == NULL;
	}
	g_debug("received %s seq %" G_GUINT64_FORMAT, vt_envelope_body_name(env), env->seq);
	if (env->has_version && env->version != VT_PROTOCOL_VERSION) {
		why = g_strdup_printf("this agent speaks protocol version %u, not %u",
				      VT_PROTOCOL_VERSION, env->version);
		send_error(a, "unsupported_version", why, env);
		return a->down_reason == NULL;
	}

	switch (env->body_case) {
	case VIRTTUNE__V1__ENVELOPE__BODY_HELLO:
		handle_hello(a, env);
		break;
	case VIRTTUNE__V1__ENVELOPE__BODY_REPORT_REQUEST:
		if (!a->in_session)
			send_error(a, "hello_required", "send Hello first", env);
		else if (!vt_outbox_report_waiting(a->outbox))
			send_report(a); /* else the waiting one is this request's answer */
		break;
	case VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST:
	case VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST:
	case VIRTTUNE__V1__ENVELOPE__BODY_CONFIRM_REQUEST:
		if (!a->in_session)
			send_error(a, "hello_required", "send Hello first", env);
		else
			handle_change(a, env);
		break;
	case VIRTTUNE__V1__ENVELOPE__BODY_ERROR:
		if (vt_log_limit_allow(&a->host_error_log)) {
			g_autofree char *note = vt_log_limit_note(&a->host_error_log);
			g_message("the host reported an error: %.64s: %.256s%s",
				  env->error->code ? env->error->code : "?",
				  env->error->message ? env->error->message : "", note);
		}
		break;
	case VIRTTUNE__V1__ENVELOPE__BODY_REPORT:
	case VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT:
		why = g_strdup_printf("%s is sent by the agent, not to it",
				      vt_envelope_body_name(env));
		send_error(a, "unexpected", why, env);
		break;
	case VIRTTUNE__V1__ENVELOPE__BODY__NOT_SET:
	default:
		send_error(a, "unsupported", "unknown or empty message body", env);
		break;
	}
	return a->down_reason == NULL;
}

gboolean
vt_agent_on_reject(VtFrameReject reason, gsize n_bytes, gpointer data)
{
	VtAgent *a = data;

	a->bad_frames++;
	if (vt_log_limit_allow(&a->bad_frame_log)) {
		g_autofree char *note = vt_log_limit_note(&a->bad_frame_log);
		g_log_structured(
			G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", vt_port_path(a->port), "MESSAGE",
			"ignored %" G_GSIZE_FORMAT " bytes from the host (%s); %" G_GUINT64_FORMAT
			" bad frames so far%s",
			n_bytes, vt_frame_reject_name(reason), a->bad_frames, note);
	}
	return TRUE;
}
