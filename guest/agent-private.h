/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "agent.h"
#include "apply/apply.h"
#include "collect/collector.h"
#include "config.h"
#include "frame.h"
#include "log-limit.h"
#include "message.h"
#include "outbox.h"
#include "port.h"

G_BEGIN_DECLS

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

#define VT_AGENT_BOOT_ID_MAX 64u

/*
 * The agent's state: the wiring and the configuration (agent.c), the
 * connection to the host (connection.c), the messages of a session with it
 * (session.c).
 */
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
	guint deadline_timer; /* the next change to revert unless confirmed */
	guint drifted;        /* changes the last report said drifted */
	guint64 stall_mark;
	guint signals[3];

	VtLogLimit absent_log;
	VtLogLimit down_log;
	VtLogLimit bad_frame_log;
	VtLogLimit stall_log;
	VtLogLimit host_error_log;
} VtAgent;

/* connection.c */

/* Tries to reach the host now; retries later, with backoff, when it cannot. */
void vt_agent_connect(VtAgent *a);
/* Notes why the connection must go down; acted on by vt_agent_settle(). */
void vt_agent_fail(VtAgent *a, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Acts on a failure noted deep inside a callback, now that nothing below it
 * (the frame decoder in particular) is running. */
void vt_agent_settle(VtAgent *a);
/* Writes what the port takes now; the rest waits for G_IO_OUT. */
void vt_agent_flush(VtAgent *a);

/* deadlines.c */

/* Reverts the changes that are due, and arms the timer for the next one. */
void vt_agent_arm_deadline(VtAgent *a);
/* Adds the applier's change states to @report. */
void vt_agent_add_change_states(VtAgent *a, VtReport *report);

/* session.c */

/* A report now, when a host is there to take it. */
void vt_agent_send_report(VtAgent *a);

/* Frames @env (version and sequence number set here) and queues it. */
void vt_agent_send(VtAgent *a, VtEnvelope *env, gboolean is_report);
/* Reports every a->interval seconds while in a session. */
void vt_agent_restart_report_timer(VtAgent *a);
/* The frame decoder's callbacks; @data is the agent. */
gboolean vt_agent_on_frame(const guint8 *payload, gsize len, gpointer data);
gboolean vt_agent_on_reject(VtFrameReject reason, gsize n_bytes, gpointer data);

G_END_DECLS
