/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "message.h"
#include "transport.h"

G_BEGIN_DECLS

/*
 * The host's side of the protocol with one guest agent, over one transport:
 * handshake (Hello with a fresh nonce, resent with backoff until the agent
 * echoes it; frames before that are ignored), then reports, report requests
 * and apply/rollback. Everything the guest sends is untrusted: frames are
 * bounded and checked, every refusal is counted by reason, the guest's frame
 * and byte rates are capped, and a guest that keeps misbehaving is cut off.
 */
typedef struct VtSession VtSession;

typedef enum {
	VT_SESSION_DETACHED,  /* no transport */
	VT_SESSION_HANDSHAKE, /* Hello sent, waiting for the echo */
	VT_SESSION_READY,
	VT_SESSION_CUT_OFF, /* closed by us for misbehaving */
} VtSessionState;

typedef enum {
	VT_REJECT_GARBAGE, /* the four framing reasons, as in frame.h */
	VT_REJECT_OVERSIZE,
	VT_REJECT_BAD_CRC,
	VT_REJECT_TRUNCATED,
	VT_REJECT_BAD_MESSAGE, /* not a valid Envelope */
	VT_REJECT_LIMITS,      /* over a count, string or number bound */
	VT_REJECT_RATE,        /* over the frame or byte rate */
	VT_REJECT_UNEXPECTED,  /* a body the agent must not send */
	VT_REJECT_N_REASONS,
} VtReject;

const char *vt_reject_name(VtReject reason);
const char *vt_session_state_name(VtSessionState state);

typedef struct {
	/* The agent answered the handshake. */
	void (*on_ready)(VtSession *session, const VtHello *hello, gpointer user_data);
	/* A valid report, allocated in @arena, whose ownership passes to the
	 * callee (free the arena, not the report); @envelope is the frame it
	 * came in, to decode it again from (take a reference to keep it). */
	void (*on_report)(VtSession *session, VtReport *report, VtArena *arena, GBytes *envelope,
			  gpointer user_data);
	/* An apply or rollback result; ownership passes to the callee. */
	void (*on_apply_result)(VtSession *session, VtApplyResult *result, gpointer user_data);
	/* The transport is gone: peer closed (state DETACHED) or we cut the guest
	 * off (CUT_OFF). The session may be reattached later. */
	void (*on_closed)(VtSession *session, VtSessionState state, const char *why,
			  gpointer user_data);
} VtSessionCallbacks;

/* The monotonic clock the rate limits and refusal windows read, in µs;
 * NULL restores g_get_monotonic_time(). Process-wide: for tests that must
 * not depend on how fast the machine runs them. */
typedef gint64 (*VtSessionClock)(void);
void vt_session_set_clock(VtSessionClock clock);

VtSession *vt_session_new(const char *name, const VtSessionCallbacks *callbacks,
			  gpointer user_data);
void vt_session_free(VtSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtSession, vt_session_free)

/* Takes ownership of @transport and starts the handshake. A previous
 * transport is closed first. */
void vt_session_attach(VtSession *session, VtTransport *transport);
void vt_session_detach(VtSession *session);
/* Handshake again on the same transport: the guest reopened its port (agent
 * restart, reboot) and waits for a Hello. No-op when detached or cut off. */
void vt_session_restart_handshake(VtSession *session);
/* What libvirt's live XML says of the guest's end of the channel (state=
 * 'connected' or 'disconnected'). While closed no Hello is sent and the
 * session waits in handshake; on opening, the handshake starts over. The
 * default is open (unknown states, remote streams). */
void vt_session_set_port_open(VtSession *session, gboolean open);

VtSessionState vt_session_get_state(const VtSession *session);
const char *vt_session_get_name(const VtSession *session);
guint64 vt_session_get_rejects(const VtSession *session, VtReject reason);
guint64 vt_session_get_reports(const VtSession *session);
/* Frames that came before the handshake completed and were ignored. */
guint64 vt_session_get_ignored(const VtSession *session);

/* The session's last report with its NICs' features as they came (one field
 * of their bytes per NIC), or as messages again: see
 * vt_nic_features_as_sent(). */
gboolean vt_session_report_as_sent(VtSession *session, VtReport *report, gboolean as_sent);

/* Ask for a report now. While one asked for is outstanding (up to 10 s) no
 * other is sent: the report that comes answers every asker. The answer is
 * not charged to the guest's frame and byte rate limits. */
gboolean vt_session_request_report(VtSession *session, const char *reason, GError **error);
gboolean vt_session_send_apply(VtSession *session, const VtApplyRequest *request, GError **error);
gboolean vt_session_send_confirm(VtSession *session, const VtConfirmRequest *request,
				 GError **error);
gboolean vt_session_send_rollback(VtSession *session, const VtRollbackRequest *request,
				  GError **error);

G_END_DECLS
