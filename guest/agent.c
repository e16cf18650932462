/* SPDX-License-Identifier: GPL-2.0-or-later */
#define G_LOG_DOMAIN "virt-tune-agent"

#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "apply/apply.h"
#include "bounds.h"
#include "collect/collector.h"
#include "config.h"
#include "error.h"
#include "frame.h"
#include "message.h"
#include "outbox.h"
#include "port.h"
#include "report-fit.h"

/* Reconnect backoff: a host coming back is seen within 10 s; a host away for
 * hours costs one poll() or connect() per 10 s. */
#define VT_AGENT_RETRY_MIN_MS 500u
#define VT_AGENT_RETRY_MAX_MS 10000u

/* Reads per wakeup before going back to the loop (level-triggered: the rest
 * comes on the next one), so a flooding host cannot starve the timers. */
#define VT_AGENT_READ_CHUNK       4096u
#define VT_AGENT_READS_PER_WAKEUP 16u

/* A write that makes no progress for this long is given up: a socket is
 * reconnected, a virtio port drops what it queued (the host resynchronises). */
#define VT_AGENT_WRITE_STALL_S 30u

/* A recurring warning is logged at once, then after 1 min, 2 min, 4 min, ...
 * at most once an hour, so a host absent for days leaves a handful of lines. */
#define VT_AGENT_LOG_REPEAT_MIN_US ((gint64)60 * G_USEC_PER_SEC)
#define VT_AGENT_LOG_REPEAT_MAX_US ((gint64)3600 * G_USEC_PER_SEC)

#define VT_AGENT_BOOT_ID_MAX 64u

typedef struct {
	gint64 next_us;
	gint64 gap_us;
	guint64 suppressed;
} VtLogLimit;

typedef struct {
	VtAgentOptions options; /* strings owned */
	char *config_path;
	gboolean config_explicit;
	VtAgentConfig *config; /* the last good one */
	guint interval;        /* effective, seconds */
	char *boot_id;

	GMainLoop *loop;
	VtCollector *collector;
	VtPort *port;
	VtFrameDecoder *decoder;
	VtOutbox *outbox;
	VtApplier *applier;

	gboolean up;         /* fd usable, host there as far as can be told */
	gboolean in_session; /* the host's Hello was answered on this connection */
	char *down_reason;   /* set deep inside a callback, acted on at the top */
	guint64 tx_seq;
	guint64 bytes_written;
	guint64 bad_frames;
	gint64 absent_since_us;
	gboolean absent_logged;

	guint watch;
	GIOCondition watch_cond;
	guint retry_timer;
	guint retry_ms;
	guint report_timer;
	guint stall_timer;
	guint64 stall_mark;
	guint signals[3];

	VtLogLimit absent_log;
	VtLogLimit down_log;
	VtLogLimit bad_frame_log;
	VtLogLimit stall_log;
	VtLogLimit host_error_log;
} VtAgent;

static gboolean
log_limit_allow(VtLogLimit *limit)
{
	gint64 now = g_get_monotonic_time();

	if (limit->gap_us != 0 && now < limit->next_us) {
		limit->suppressed++;
		return FALSE;
	}
	limit->gap_us = limit->gap_us == 0 ? VT_AGENT_LOG_REPEAT_MIN_US
					   : MIN(limit->gap_us * 2, VT_AGENT_LOG_REPEAT_MAX_US);
	limit->next_us = now + limit->gap_us;
	return TRUE;
}

/* " (N like it not logged)", or "" */
static char *
log_limit_note(VtLogLimit *limit)
{
	char *note;

	if (limit->suppressed == 0)
		return g_strdup("");
	note = g_strdup_printf(" (%" G_GUINT64_FORMAT " like it not logged)", limit->suppressed);
	limit->suppressed = 0;
	return note;
}

static void
log_limit_reset(VtLogLimit *limit)
{
	memset(limit, 0, sizeof(*limit));
}

/* ---------------------------------------------------------------- config */

static void apply_interval(VtAgent *a);

static gboolean
load_config(VtAgent *a, gboolean at_start)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) config = NULL;

	config = vt_agent_config_load(a->config_path, warnings, &error);
	for (guint i = 0; i < warnings->len; i++)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "CONFIG_FILE", a->config_path,
				 "MESSAGE", "%s", (const char *)warnings->pdata[i]);
	if (config == NULL && !a->config_explicit &&
	    g_error_matches(error, VT_ERROR, VT_ERROR_NOT_FOUND)) {
		g_debug("%s does not exist: using the defaults", a->config_path);
		config = vt_agent_config_new();
		g_clear_error(&error);
	}
	if (config == NULL) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "CONFIG_FILE", a->config_path,
				 "MESSAGE",
				 "configuration error: %s; %s (fix it, then send SIGHUP to reload)",
				 error->message,
				 at_start ? "running with the defaults"
					  : "keeping the previous configuration");
		return FALSE;
	}

	vt_collector_set_excluded(a->collector, (const char *const *)config->exclude);
	vt_collector_set_sections(a->collector, (const char *const *)config->sections);
	vt_applier_set_policy(a->applier, config->policy);
	vt_agent_config_free(a->config);
	a->config = g_steal_pointer(&config);
	apply_interval(a);
	if (!at_start)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "CONFIG_FILE", a->config_path,
				 "MESSAGE", "reloaded %s: reporting every %u s", a->config_path,
				 a->interval);
	return TRUE;
}

static char *
read_boot_id(const char *sysroot)
{
	g_autofree char *path =
		g_build_filename(sysroot ? sysroot : "/", "proc/sys/kernel/random/boot_id", NULL);
	char buf[VT_AGENT_BOOT_ID_MAX + 1];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	do
		n = read(fd, buf, VT_AGENT_BOOT_ID_MAX);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	g_strstrip(buf);
	if (buf[0] == '\0' || !g_utf8_validate(buf, -1, NULL))
		return NULL;
	return g_strdup(buf);
}

/* ---------------------------------------------------------------- output */

static void fail(VtAgent *a, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
fail(VtAgent *a, const char *format, ...)
{
	va_list ap;

	if (a->down_reason != NULL)
		return;
	va_start(ap, format);
	a->down_reason = g_strdup_vprintf(format, ap);
	va_end(ap);
}

static gboolean on_io(int fd, GIOCondition cond, gpointer data);
static gboolean on_stall(gpointer data);

static void
update_watch(VtAgent *a)
{
	GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR;

	if (!vt_outbox_is_empty(a->outbox))
		want |= G_IO_OUT;
	if (a->watch != 0 && want != a->watch_cond)
		g_clear_handle_id(&a->watch, g_source_remove);
	if (a->watch == 0) {
		a->watch = g_unix_fd_add(vt_port_fd(a->port), want, on_io, a);
		a->watch_cond = want;
	}

	if (vt_outbox_is_empty(a->outbox)) {
		g_clear_handle_id(&a->stall_timer, g_source_remove);
	} else if (a->stall_timer == 0) {
		a->stall_mark = a->bytes_written;
		a->stall_timer = g_timeout_add_seconds(VT_AGENT_WRITE_STALL_S, on_stall, a);
	}
}

/* Write what the port takes now; the rest waits for G_IO_OUT. */
static void
flush(VtAgent *a)
{
	while (a->down_reason == NULL && !vt_outbox_is_empty(a->outbox)) {
		g_autoptr(GError) error = NULL;
		gsize len, n;
		const guint8 *data = vt_outbox_peek(a->outbox, &len);
		VtPortIo io = vt_port_write(a->port, data, len, &n, &error);

		if (io == VT_PORT_IO_AGAIN)
			break;
		if (io == VT_PORT_IO_CLOSED) {
			fail(a, "the host closed the connection");
			return;
		}
		if (io == VT_PORT_IO_ERROR) {
			fail(a, "%s", error->message);
			return;
		}
		vt_outbox_consume(a->outbox, n);
		a->bytes_written += n;
	}
	update_watch(a);
}

static void
send_envelope(VtAgent *a, VtEnvelope *env, gboolean is_report)
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
	flush(a);
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
	send_envelope(a, &env, FALSE);
}

static void
send_report(VtAgent *a)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	g_autoptr(VtReport) report = NULL;
	gsize size;

	report = vt_collector_collect(a->collector);
	if (!report->has_collected_at_ms) {
		report->has_collected_at_ms = TRUE;
		report->collected_at_ms = (guint64)(g_get_real_time() / 1000);
	}
	if (!report->has_monotonic_ms) {
		report->has_monotonic_ms = TRUE;
		report->monotonic_ms = (guint64)(g_get_monotonic_time() / 1000);
	}
	size = vt_report_fit(report, VT_REPORT_FIT_MAX);
	if (size > VT_REPORT_FIT_MAX)
		g_warning("the report still packs to %" G_GSIZE_FORMAT " bytes after trimming",
			  size);
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = report;
	send_envelope(a, &env, TRUE);
}

/* ---------------------------------------------------------------- input */

static gboolean on_report_tick(gpointer data);

static void
restart_report_timer(VtAgent *a)
{
	g_clear_handle_id(&a->report_timer, g_source_remove);
	if (a->in_session)
		a->report_timer = g_timeout_add_seconds(a->interval, on_report_tick, a);
}

static void
apply_interval(VtAgent *a)
{
	guint interval = VT_AGENT_DEFAULT_INTERVAL;

	if (a->options.interval > 0)
		interval = (guint)a->options.interval; /* the command line wins */
	else if (a->config != NULL && a->config->interval > 0)
		interval = a->config->interval;
	if (interval != a->interval) {
		a->interval = interval;
		restart_report_timer(a);
	}
}

static void
handle_hello(VtAgent *a, const VtEnvelope *in)
{
	static const char *capabilities[] = {"report", "report_request", "apply", "rollback"};
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
	send_envelope(a, &env, FALSE);
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
	log_limit_reset(&a->absent_log);
	log_limit_reset(&a->down_log);

	send_report(a);
	restart_report_timer(a);
}

/* Apply and rollback run synchronously: each is a few syscalls and fsyncs. */
static void
handle_change(VtAgent *a, const VtEnvelope *in)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	g_autoptr(VtApplyResult) result = NULL;

	if (in->body_case == VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST)
		result = vt_applier_apply(a->applier, in->apply_request);
	else
		result = vt_applier_rollback(a->applier, in->rollback_request);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "REQUEST_ID", "%s",
			 result->request_id ? result->request_id : "", "CHANGE_ID", "%s",
			 result->change_id ? result->change_id : "", "MESSAGE",
			 "%s %.128s: %s%s%s%s, as by: %s", vt_envelope_body_name(in),
			 result->request_id ? result->request_id : "(no id)",
			 vt_apply_status_name(result->status), *result->reason ? " (" : "",
			 result->reason, *result->reason ? ")" : "",
			 result->command ? result->command : "-");
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT;
	env.apply_result = result;
	send_envelope(a, &env, FALSE);
}

static gboolean
on_frame(const guint8 *payload, gsize len, gpointer data)
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
		if (!a->in_session)
			send_error(a, "hello_required", "send Hello first", env);
		else
			handle_change(a, env);
		break;
	case VIRTTUNE__V1__ENVELOPE__BODY_ERROR:
		if (log_limit_allow(&a->host_error_log)) {
			g_autofree char *note = log_limit_note(&a->host_error_log);
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

static gboolean
on_reject(VtFrameReject reason, gsize n_bytes, gpointer data)
{
	VtAgent *a = data;

	a->bad_frames++;
	if (log_limit_allow(&a->bad_frame_log)) {
		g_autofree char *note = log_limit_note(&a->bad_frame_log);
		g_log_structured(
			G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", vt_port_path(a->port), "MESSAGE",
			"ignored %" G_GSIZE_FORMAT " bytes from the host (%s); %" G_GUINT64_FORMAT
			" bad frames so far%s",
			n_bytes, vt_frame_reject_name(reason), a->bad_frames, note);
	}
	return TRUE;
}

/* ---------------------------------------------------------------- connection */

static void try_connect(VtAgent *a);

static gboolean
on_retry(gpointer data)
{
	VtAgent *a = data;

	a->retry_timer = 0;
	try_connect(a);
	return G_SOURCE_REMOVE;
}

static void
schedule_retry(VtAgent *a)
{
	if (a->retry_timer != 0)
		return;
	a->retry_timer = g_timeout_add(a->retry_ms, on_retry, a);
	a->retry_ms = MIN(a->retry_ms * 2, VT_AGENT_RETRY_MAX_MS);
}

static void
log_absent(VtAgent *a, const GError *error)
{
	const char *path = vt_port_path(a->port);
	g_autofree char *note = NULL;
	const char *hint;

	if (!log_limit_allow(&a->absent_log))
		return;
	note = log_limit_note(&a->absent_log);
	if (g_error_matches(error, VT_ERROR, VT_ERROR_NOT_FOUND) &&
	    strcmp(path, VT_AGENT_DEFAULT_PORT) != 0)
		hint = "is the host side listening on it?";
	else if (g_error_matches(error, VT_ERROR, VT_ERROR_NOT_FOUND))
		hint = "is the channel org.virttune.agent.0 (<channel type='unix'> with <target "
		       "type='virtio' name='org.virttune.agent.0'/>) in the domain XML, and is "
		       "virtio_console loaded?";
	else if (vt_port_kind(a->port) == VT_PORT_KIND_CHARDEV &&
		 g_error_matches(error, VT_ERROR, VT_ERROR_UNAVAILABLE))
		hint = "is virt-tuned running on the host, and is the channel "
		       "org.virttune.agent.0 in the domain XML?";
	else if (g_error_matches(error, VT_ERROR, VT_ERROR_UNAVAILABLE))
		hint = "is the host side listening?";
	else
		hint = "only one program may have the port open; is another agent running?";
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", path, "MESSAGE",
			 "%s; %s Retrying every %u s at most%s", error->message, hint,
			 VT_AGENT_RETRY_MAX_MS / 1000, note);
	a->absent_logged = TRUE;
}

static void
go_up(VtAgent *a)
{
	a->up = TRUE;
	a->in_session = FALSE;
	a->tx_seq = 0;
	vt_frame_decoder_reset(a->decoder);
	vt_outbox_clear(a->outbox);
	update_watch(a);
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", vt_port_path(a->port), "MESSAGE",
			 "%s %s is open; waiting for the host's Hello",
			 vt_port_kind_name(vt_port_kind(a->port)), vt_port_path(a->port));
}

static void
go_down(VtAgent *a)
{
	g_autofree char *reason = g_steal_pointer(&a->down_reason);

	g_clear_handle_id(&a->watch, g_source_remove);
	g_clear_handle_id(&a->stall_timer, g_source_remove);
	g_clear_handle_id(&a->report_timer, g_source_remove);
	vt_frame_decoder_reset(a->decoder);
	vt_outbox_clear(a->outbox);
	vt_port_disconnect(a->port);
	if (a->in_session && log_limit_allow(&a->down_log)) {
		g_autofree char *note = log_limit_note(&a->down_log);
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", vt_port_path(a->port),
				 "MESSAGE", "host gone from %s (%s); waiting for it to come back%s",
				 vt_port_path(a->port), reason ? reason : "?", note);
	}
	a->up = FALSE;
	a->in_session = FALSE;
	a->absent_since_us = g_get_monotonic_time();
	schedule_retry(a);
}

static void
try_connect(VtAgent *a)
{
	g_autoptr(GError) error = NULL;

	if (!vt_port_connect(a->port, &error)) {
		log_absent(a, error);
		schedule_retry(a);
		return;
	}
	go_up(a);
}

/* Act on a failure noted deep inside a callback, now that nothing below us
 * (the frame decoder in particular) is running. */
static void
settle(VtAgent *a)
{
	if (a->down_reason != NULL)
		go_down(a);
}

static void
read_input(VtAgent *a, GIOCondition cond)
{
	guint8 buf[VT_AGENT_READ_CHUNK];

	for (guint i = 0; i < VT_AGENT_READS_PER_WAKEUP && a->down_reason == NULL; i++) {
		g_autoptr(GError) error = NULL;
		gsize n;
		VtPortIo io = vt_port_read(a->port, buf, sizeof(buf), &n, &error);

		switch (io) {
		case VT_PORT_IO_OK:
			vt_frame_decoder_feed(a->decoder, buf, n);
			continue;
		case VT_PORT_IO_AGAIN:
			/* HUP with nothing to read: the peer is gone all the same */
			if (cond & (G_IO_HUP | G_IO_ERR))
				fail(a, "hang-up");
			return;
		case VT_PORT_IO_CLOSED:
			fail(a, "end of stream");
			return;
		case VT_PORT_IO_ERROR:
			fail(a, "%s", error->message);
			return;
		}
	}
}

static gboolean
on_io(int fd, GIOCondition cond, gpointer data)
{
	VtAgent *a = data;

	if (cond & G_IO_OUT)
		flush(a);
	if (a->down_reason == NULL && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
		read_input(a, cond);
	settle(a);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_stall(gpointer data)
{
	VtAgent *a = data;

	if (a->bytes_written != a->stall_mark) {
		a->stall_mark = a->bytes_written;
		return G_SOURCE_CONTINUE;
	}
	a->stall_timer = 0;
	if (log_limit_allow(&a->stall_log)) {
		g_autofree char *note = log_limit_note(&a->stall_log);
		g_log_structured(
			G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "PORT", vt_port_path(a->port), "MESSAGE",
			"the host has not read from %s for %u s; dropping what was queued%s",
			vt_port_path(a->port), VT_AGENT_WRITE_STALL_S, note);
	}
	if (vt_port_kind(a->port) == VT_PORT_KIND_SOCKET) {
		fail(a, "the host stopped reading");
	} else {
		/* A virtio port stays ours; the host's decoder resynchronises on
		 * the next frame's magic. */
		vt_outbox_clear(a->outbox);
		update_watch(a);
	}
	settle(a);
	return G_SOURCE_REMOVE;
}

static gboolean
on_report_tick(gpointer data)
{
	VtAgent *a = data;

	send_report(a);
	settle(a);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_quit(gpointer data)
{
	VtAgent *a = data;

	g_info("exiting on a signal");
	g_main_loop_quit(a->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_reload(gpointer data)
{
	VtAgent *a = data;

	load_config(a, FALSE);
	settle(a);
	return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------- run */

static void
open_applier(VtAgent *a)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	const char *dir = a->options.state_dir ? a->options.state_dir : VT_AGENT_DEFAULT_STATE_DIR;

	a->applier = vt_applier_new(a->options.sysroot, dir, NULL, warnings);
	for (guint i = 0; i < warnings->len; i++)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "STATE_DIR", dir, "MESSAGE",
				 "%s", (const char *)warnings->pdata[i]);
}

static void
agent_free(VtAgent *a)
{
	for (guint i = 0; i < G_N_ELEMENTS(a->signals); i++)
		g_clear_handle_id(&a->signals[i], g_source_remove);
	g_clear_handle_id(&a->watch, g_source_remove);
	g_clear_handle_id(&a->retry_timer, g_source_remove);
	g_clear_handle_id(&a->report_timer, g_source_remove);
	g_clear_handle_id(&a->stall_timer, g_source_remove);
	g_clear_pointer(&a->outbox, vt_outbox_free);
	g_clear_pointer(&a->decoder, vt_frame_decoder_free);
	g_clear_pointer(&a->port, vt_port_free);
	g_clear_pointer(&a->collector, vt_collector_free);
	g_clear_pointer(&a->applier, vt_applier_free);
	g_clear_pointer(&a->config, vt_agent_config_free);
	g_clear_pointer(&a->loop, g_main_loop_unref);
	g_free(a->options.port);
	g_free(a->options.config);
	g_free(a->options.state_dir);
	g_free(a->options.sysroot);
	g_free(a->config_path);
	g_free(a->boot_id);
	g_free(a->down_reason);
	g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtAgent, agent_free)

int
vt_agent_run(const VtAgentOptions *options)
{
	g_autoptr(VtAgent) a = g_new0(VtAgent, 1);

	a->options.port = g_strdup(options->port ? options->port : VT_AGENT_DEFAULT_PORT);
	a->options.config = g_strdup(options->config);
	a->options.state_dir = g_strdup(options->state_dir);
	a->options.sysroot = g_strdup(options->sysroot);
	a->options.interval = options->interval;
	a->config_explicit = options->config != NULL;
	a->config_path = g_strdup(options->config ? options->config : VT_AGENT_DEFAULT_CONFIG);

	a->loop = g_main_loop_new(NULL, FALSE);
	a->collector = vt_collector_new(a->options.sysroot, NULL);
	a->port = vt_port_new(a->options.port);
	a->decoder = vt_frame_decoder_new(0);
	a->outbox = vt_outbox_new();
	a->boot_id = read_boot_id(a->options.sysroot);
	a->retry_ms = VT_AGENT_RETRY_MIN_MS;
	a->absent_since_us = g_get_monotonic_time();
	vt_frame_decoder_set_callbacks(a->decoder, on_frame, on_reject, a);
	open_applier(a);

	load_config(a, TRUE);
	if (a->interval == 0)
		apply_interval(a);

	a->signals[0] = g_unix_signal_add(SIGTERM, on_quit, a);
	a->signals[1] = g_unix_signal_add(SIGINT, on_quit, a);
	a->signals[2] = g_unix_signal_add(SIGHUP, on_reload, a);

	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", a->options.port, "MESSAGE",
			 "virt-tune-agent %s starting on %s, reporting every %u s", VT_VERSION,
			 a->options.port, a->interval);
	try_connect(a);
	g_main_loop_run(a->loop);

	/* Best effort: what the port takes now, without waiting. */
	if (a->up)
		flush(a);
	return 0;
}
