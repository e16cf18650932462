/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "session.h"

#include <string.h>

#include "bounds.h"
#include "error.h"
#include "frame.h"
#include "nic-features.h"
#include "validate.h"

#define HELLO_RETRY_FIRST_MS 500
#define HELLO_RETRY_MAX_MS   8000
/* A ReportRequest unanswered this long no longer holds back the next one. */
#define ASK_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* A guest that once sent a huge message does not make every later one start
 * with a block that size. */
#define VT_SESSION_ARENA_HINT_MAX (256 * 1024)

typedef struct {
	double tokens;
	double rate;  /* per second */
	double burst; /* bucket size */
	gint64 last_us;
} TokenBucket;

struct VtSession {
	char *name;
	VtSessionCallbacks callbacks;
	gpointer user_data;

	VtTransport *transport;
	VtFrameDecoder *decoder;
	VtSessionState state;
	guint64 nonce;
	guint64 seq_out;
	guint hello_timer;
	guint hello_delay_ms;
	gboolean port_closed; /* libvirt says the guest has not opened its port */

	TokenBucket frames;
	TokenBucket bytes;
	/* The host's own ReportRequest: one outstanding at a time, and its
	 * answer (one frame, at most a frame's bytes) is not charged to the
	 * guest's rate limit. */
	gint64 asked_us; /* when the outstanding one went out; 0: none */
	guint credit_frames;
	gsize credit_bytes;
	gint64 reject_times[VT_GUEST_MAX_REJECTS]; /* ring of the last rejects, µs */
	guint reject_next;
	guint64 rejects[VT_REJECT_N_REASONS];
	gint64 last_log_us[VT_REJECT_N_REASONS];
	guint64 unlogged[VT_REJECT_N_REASONS];
	guint64 reports;
	guint64 ignored;
	guint64 garbage_counted; /* skipped bytes already charged as rejects */
	char *cut_off_why;
	gsize arena_hint; /* what the last message took decoded: the next one's first block */
	VtNicFeatures *nic_features; /* what its reports' NICs sent last */
};

static VtSessionClock session_clock = g_get_monotonic_time;

void
vt_session_set_clock(VtSessionClock clock)
{
	session_clock = clock != NULL ? clock : g_get_monotonic_time;
}

static void
bucket_init(TokenBucket *b, double rate, double burst)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last_us = session_clock();
}

static gboolean
bucket_take(TokenBucket *b, double n)
{
	gint64 now = session_clock();

	b->tokens = MIN(b->burst, b->tokens + (double)(now - b->last_us) * b->rate / 1e6);
	b->last_us = now;
	if (b->tokens < n)
		return FALSE;
	b->tokens -= n;
	return TRUE;
}

static void cut_off(VtSession *s, const char *why);
static void start_handshake(VtSession *s);

/* Count a refusal, log it at most once per interval, and cut the guest off
 * when refusals come too often. Returns FALSE once the guest is cut off. */
static gboolean
session_reject(VtSession *s, VtReject reason, const char *detail)
{
	gint64 now = session_clock();
	gint64 oldest;

	s->rejects[reason]++;
	s->unlogged[reason]++;
	if (s->last_log_us[reason] == 0 ||
	    now - s->last_log_us[reason] >= (gint64)VT_GUEST_LOG_INTERVAL_S * G_USEC_PER_SEC) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "DOMAIN", s->name, "VT_REJECT",
				 vt_reject_name(reason), "MESSAGE",
				 "guest %s: refused %" G_GUINT64_FORMAT " frame(s) (%s)%s%s",
				 s->name, s->unlogged[reason], vt_reject_name(reason),
				 detail ? ": " : "", detail ? detail : "");
		s->last_log_us[reason] = now;
		s->unlogged[reason] = 0;
	}

	if (s->transport == NULL)
		return FALSE; /* already closed (a truncated frame at close) */
	oldest = s->reject_times[s->reject_next];
	s->reject_times[s->reject_next] = now;
	s->reject_next = (s->reject_next + 1) % VT_GUEST_MAX_REJECTS;
	if (oldest != 0 && now - oldest < (gint64)VT_GUEST_REJECT_WINDOW_S * G_USEC_PER_SEC) {
		g_autofree char *why = g_strdup_printf(
			"%u refused frames within %u s (last: %s)", VT_GUEST_MAX_REJECTS,
			VT_GUEST_REJECT_WINDOW_S, vt_reject_name(reason));
		cut_off(s, why);
		return FALSE;
	}
	return TRUE;
}

static gboolean
send_envelope(VtSession *s, VtEnvelope *env, GError **error)
{
	g_autoptr(GByteArray) out = g_byte_array_new();

	if (s->transport == NULL || s->state == VT_SESSION_DETACHED ||
	    s->state == VT_SESSION_CUT_OFF) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "guest %s is not connected",
			    s->name);
		return FALSE;
	}
	env->has_version = TRUE;
	env->version = VT_PROTOCOL_VERSION;
	env->has_seq = TRUE;
	env->seq = ++s->seq_out;
	if (!vt_envelope_append_frame(out, env, error))
		return FALSE;
	return vt_transport_send(s->transport, out->data, out->len, error);
}

static gboolean
send_hello(VtSession *s)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtHello hello = VIRTTUNE__V1__HELLO__INIT;
	g_autoptr(GError) error = NULL;

	hello.host_version = (char *)VT_VERSION;
	hello.has_nonce = TRUE;
	hello.nonce = s->nonce;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	if (!send_envelope(s, &env, &error)) {
		g_debug("guest %s: hello not sent: %s", s->name, error->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
hello_retry(gpointer user_data)
{
	VtSession *s = user_data;

	s->hello_timer = 0;
	if (s->state != VT_SESSION_HANDSHAKE)
		return G_SOURCE_REMOVE;
	/* Bytes sent while the guest had its port closed are lost, so the host
	 * keeps asking until the agent answers (E2E-NOTES, "The channel"). */
	send_hello(s);
	s->hello_delay_ms = MIN(s->hello_delay_ms * 2, HELLO_RETRY_MAX_MS);
	s->hello_timer = g_timeout_add(s->hello_delay_ms, hello_retry, s);
	return G_SOURCE_REMOVE;
}

static void
stop_hello_timer(VtSession *s)
{
	if (s->hello_timer != 0) {
		g_source_remove(s->hello_timer);
		s->hello_timer = 0;
	}
}

/* @env, decoded from @payload, lives in *@arena; a callee that keeps part of
 * it takes the arena. */
static void
handle_envelope(VtSession *s, VtEnvelope *env, VtArena **arena, const guint8 *payload, gsize len)
{
	switch (env->body_case) {
	case VIRTTUNE__V1__ENVELOPE__BODY_HELLO:
		if (s->state == VT_SESSION_HANDSHAKE && env->hello->has_nonce &&
		    env->hello->nonce == s->nonce) {
			stop_hello_timer(s);
			s->state = VT_SESSION_READY;
			if (s->callbacks.on_ready)
				s->callbacks.on_ready(s, env->hello, s->user_data);
		} else {
			s->ignored++; /* a stale answer to an earlier hello */
		}
		return;
	case VIRTTUNE__V1__ENVELOPE__BODY_REPORT:
		if (s->state != VT_SESSION_READY) {
			s->ignored++;
			return;
		}
		s->reports++;
		s->asked_us = 0;              /* whoever asked is answered by this one */
		if (s->callbacks.on_report) { /* the arena moves to the callee */
			g_autoptr(GBytes) envelope = g_bytes_new(payload, len);

			s->callbacks.on_report(s, env->report, g_steal_pointer(arena), envelope,
					       s->user_data);
		}
		return;
	case VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT:
		if (s->state != VT_SESSION_READY) {
			s->ignored++;
			return;
		}
		if (s->callbacks.on_apply_result) {
			/* kept until its change ends: a copy of its own, not the arena */
			g_autoptr(GError) error = NULL;
			VtApplyResult *result =
				(VtApplyResult *)vt_message_copy(&env->apply_result->base, &error);

			if (result == NULL)
				session_reject(s, VT_REJECT_LIMITS, error->message);
			else
				s->callbacks.on_apply_result(s, result, s->user_data);
		}
		return;
	case VIRTTUNE__V1__ENVELOPE__BODY_ERROR:
		/* The agent restarted (or missed our Hello) and wants one. */
		if (s->state == VT_SESSION_READY &&
		    g_strcmp0(env->error->code, "hello_required") == 0) {
			start_handshake(s);
			return;
		}
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "DOMAIN", s->name, "MESSAGE",
				 "guest %s reports an error: %s: %s", s->name,
				 env->error->code ? env->error->code : "?",
				 env->error->message ? env->error->message : "");
		return;
	default:
		if (s->state != VT_SESSION_READY) {
			s->ignored++;
			return;
		}
		session_reject(s, VT_REJECT_UNEXPECTED, vt_envelope_body_name(env));
		return;
	}
}

/* @data decoded into a new *@arena and validated; NULL and why when it is
 * not a message the session takes. */
static VtEnvelope *
decode(VtSession *s, const guint8 *data, gsize len, VtArena **arena, VtReject *why, GError **error)
{
	VtEnvelope *env;

	/* Decoded into one arena: a report's hundreds of parts in one or two
	 * blocks, freed at once when the next report replaces it. */
	g_clear_pointer(arena, vt_arena_free);
	*arena = vt_arena_new(s->arena_hint, VT_UNPACK_MEMORY_MAX);
	env = (VtEnvelope *)vt_message_unpack_in(&virttune__v1__envelope__descriptor, data, len,
						 *arena, error);
	if (env == NULL) {
		*why = VT_REJECT_BAD_MESSAGE;
		return NULL;
	}
	s->arena_hint = MIN(vt_arena_used(*arena), VT_SESSION_ARENA_HINT_MAX);
	if (!vt_validate_message(&env->base, NULL, error)) {
		*why = VT_REJECT_LIMITS;
		return NULL;
	}
	return env;
}

static gboolean
on_frame(const guint8 *payload, gsize len, gpointer user_data)
{
	VtSession *s = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtArena) arena = NULL;
	g_autofree guint8 *blanked = NULL;
	VtEnvelope *env = NULL;
	VtReject why;

	if (s->credit_frames > 0)
		s->credit_frames--; /* the answer to a ReportRequest of ours */
	else if (!bucket_take(&s->frames, 1))
		return session_reject(s, VT_REJECT_RATE, "too many frames per second");
	/* The NICs' features the guest sent last time come blanked and are
	 * attached, decoded and validated once, after the rest is validated. */
	if (s->state == VT_SESSION_READY)
		blanked = vt_nic_features_blank(s->nic_features, payload, len);
	if (blanked != NULL) {
		env = decode(s, blanked, len, &arena, &why, &error);
		if (env != NULL && (env->body_case != VIRTTUNE__V1__ENVELOPE__BODY_REPORT ||
				    !vt_nic_features_attach(s->nic_features, env->report, arena)))
			env = NULL;
		g_clear_error(&error); /* whatever it was, decoded as it is it says */
	}
	if (env == NULL) {
		env = decode(s, payload, len, &arena, &why, &error);
		if (env == NULL)
			return session_reject(s, why, error->message);
		if (env->body_case == VIRTTUNE__V1__ENVELOPE__BODY_REPORT &&
		    s->state == VT_SESSION_READY)
			vt_nic_features_keep(s->nic_features, payload, len);
	}
	handle_envelope(s, env, &arena, payload, len);
	return s->state != VT_SESSION_CUT_OFF && s->transport != NULL;
}

static gboolean
on_frame_reject(VtFrameReject reason, gsize n_bytes, gpointer user_data)
{
	VtSession *s = user_data;

	if (s->state == VT_SESSION_CUT_OFF)
		return FALSE; /* the partial frame of a guest we cut off: not news */
	/* VtReject's first four values are VtFrameReject's, in order. */
	return session_reject(s, (VtReject)reason, NULL);
}

static void
on_transport_data(const guint8 *data, gsize len, gpointer user_data)
{
	VtSession *s = user_data;
	gsize free_bytes = MIN(len, s->credit_bytes);

	s->credit_bytes -= free_bytes;
	if (len > free_bytes && !bucket_take(&s->bytes, (double)(len - free_bytes))) {
		s->rejects[VT_REJECT_RATE]++;
		cut_off(s, "sends more than its byte rate allows");
		return;
	}
	vt_frame_decoder_feed(s->decoder, data, len);
	/* A run of garbage is one reject however long; a guest that sends
	 * nothing but garbage is charged one more per VT_GUEST_GARBAGE_CHUNK. */
	while (s->transport != NULL && s->state != VT_SESSION_CUT_OFF &&
	       vt_frame_decoder_skipped_bytes(s->decoder) - s->garbage_counted >=
		       VT_GUEST_GARBAGE_CHUNK) {
		s->garbage_counted += VT_GUEST_GARBAGE_CHUNK;
		if (!session_reject(s, VT_REJECT_GARBAGE, "a long run of bytes outside frames"))
			break;
	}
}

static void
drop_transport(VtSession *s)
{
	stop_hello_timer(s);
	g_clear_pointer(&s->transport, vt_transport_free);
	vt_frame_decoder_reset(s->decoder);
}

static void
on_transport_closed(const GError *why, gpointer user_data)
{
	VtSession *s = user_data;
	g_autofree char *text = g_strdup(why ? why->message : "the agent's channel closed");

	s->state = VT_SESSION_DETACHED;
	drop_transport(s);
	if (s->callbacks.on_closed)
		s->callbacks.on_closed(s, VT_SESSION_DETACHED, text, s->user_data);
}

static void
cut_off(VtSession *s, const char *why)
{
	if (s->state == VT_SESSION_CUT_OFF)
		return;
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "DOMAIN", s->name, "MESSAGE",
			 "guest %s cut off: %s; it will be retried later", s->name, why);
	s->state = VT_SESSION_CUT_OFF;
	drop_transport(s);
	g_free(s->cut_off_why);
	s->cut_off_why = g_strdup(why);
	if (s->callbacks.on_closed)
		s->callbacks.on_closed(s, VT_SESSION_CUT_OFF, why, s->user_data);
}

gboolean
vt_session_report_as_sent(VtSession *session, VtReport *report, gboolean as_sent)
{
	return vt_nic_features_as_sent(session->nic_features, report, as_sent);
}

VtSession *
vt_session_new(const char *name, const VtSessionCallbacks *callbacks, gpointer user_data)
{
	VtSession *s = g_new0(VtSession, 1);

	s->name = g_strdup(name);
	s->callbacks = *callbacks;
	s->user_data = user_data;
	s->decoder = vt_frame_decoder_new(VT_FRAME_MAX);
	vt_frame_decoder_set_callbacks(s->decoder, on_frame, on_frame_reject, s);
	s->nic_features = vt_nic_features_new();
	return s;
}

void
vt_session_free(VtSession *session)
{
	if (session == NULL)
		return;
	drop_transport(session);
	vt_frame_decoder_free(session->decoder);
	vt_nic_features_free(session->nic_features);
	g_free(session->cut_off_why);
	g_free(session->name);
	g_free(session);
}

static void
start_handshake(VtSession *s)
{
	stop_hello_timer(s);
	s->state = VT_SESSION_HANDSHAKE;
	/* 63 bits: every uint64 on the wire stays within the JSON range */
	s->nonce = (((guint64)g_random_int() << 32) | g_random_int()) & (guint64)G_MAXINT64;
	/* QEMU does not read a channel whose guest port is closed: what we
	 * send would pile up in the socket and reach the next agent as a burst
	 * of stale Hellos. Wait until the port opens. */
	if (s->port_closed)
		return;
	send_hello(s);
	s->hello_delay_ms = HELLO_RETRY_FIRST_MS;
	s->hello_timer = g_timeout_add(s->hello_delay_ms, hello_retry, s);
}

void
vt_session_restart_handshake(VtSession *session)
{
	if (session->transport == NULL || session->state == VT_SESSION_CUT_OFF)
		return;
	start_handshake(session);
}

void
vt_session_set_port_open(VtSession *session, gboolean open)
{
	if (session->port_closed == !open)
		return;
	session->port_closed = !open;
	if (session->transport == NULL || session->state == VT_SESSION_CUT_OFF)
		return;
	/* closed: the agent is gone, stop offering; open: a (new) agent waits */
	start_handshake(session);
}

void
vt_session_attach(VtSession *session, VtTransport *transport)
{
	static const VtTransportCallbacks callbacks = {
		.on_data = on_transport_data,
		.on_closed = on_transport_closed,
	};

	drop_transport(session);
	session->transport = transport;
	session->state = VT_SESSION_HANDSHAKE;
	session->seq_out = 0;
	bucket_init(&session->frames, VT_GUEST_FRAMES_PER_SEC, VT_GUEST_FRAMES_BURST);
	bucket_init(&session->bytes, VT_GUEST_BYTES_PER_SEC, VT_GUEST_BYTES_BURST);
	memset(session->reject_times, 0, sizeof(session->reject_times));
	session->reject_next = 0;
	session->asked_us = 0;
	session->credit_frames = 0;
	session->credit_bytes = 0;
	session->garbage_counted = vt_frame_decoder_skipped_bytes(session->decoder);
	vt_transport_start(transport, &callbacks, session);
	if (session->transport == NULL)
		return; /* closed at once */
	start_handshake(session);
}

void
vt_session_detach(VtSession *session)
{
	drop_transport(session);
	session->state = VT_SESSION_DETACHED;
}

VtSessionState
vt_session_get_state(const VtSession *session)
{
	return session->state;
}

const char *
vt_session_get_name(const VtSession *session)
{
	return session->name;
}

guint64
vt_session_get_rejects(const VtSession *session, VtReject reason)
{
	return (guint)reason < VT_REJECT_N_REASONS ? session->rejects[reason] : 0;
}

guint64
vt_session_get_reports(const VtSession *session)
{
	return session->reports;
}

guint64
vt_session_get_ignored(const VtSession *session)
{
	return session->ignored;
}

static gboolean
require_ready(VtSession *s, GError **error)
{
	if (s->state == VT_SESSION_READY)
		return TRUE;
	g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE,
		    "guest %s: the agent is not connected (%s)", s->name,
		    vt_session_state_name(s->state));
	return FALSE;
}

gboolean
vt_session_request_report(VtSession *session, const char *reason, GError **error)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtReportRequest req = VIRTTUNE__V1__REPORT_REQUEST__INIT;
	gint64 now = g_get_monotonic_time();

	if (!require_ready(session, error))
		return FALSE;
	/* However many ask, one request is outstanding: its report answers all. */
	if (session->asked_us != 0 && now - session->asked_us < ASK_TIMEOUT_US)
		return TRUE;
	req.reason = (char *)reason;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT_REQUEST;
	env.report_request = &req;
	if (!send_envelope(session, &env, error))
		return FALSE;
	session->asked_us = now;
	session->credit_frames = 1;
	session->credit_bytes = VT_FRAME_HEADER_SIZE + VT_FRAME_MAX;
	return TRUE;
}

gboolean
vt_session_send_apply(VtSession *session, const VtApplyRequest *request, GError **error)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;

	if (!require_ready(session, error))
		return FALSE;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST;
	env.apply_request = (VtApplyRequest *)request;
	return send_envelope(session, &env, error);
}

gboolean
vt_session_send_rollback(VtSession *session, const VtRollbackRequest *request, GError **error)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;

	if (!require_ready(session, error))
		return FALSE;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST;
	env.rollback_request = (VtRollbackRequest *)request;
	return send_envelope(session, &env, error);
}

gboolean
vt_session_send_confirm(VtSession *session, const VtConfirmRequest *request, GError **error)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;

	if (!require_ready(session, error))
		return FALSE;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_CONFIRM_REQUEST;
	env.confirm_request = (VtConfirmRequest *)request;
	return send_envelope(session, &env, error);
}
