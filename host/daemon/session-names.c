/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The names a session's states and reject reasons go by in logs, views and
 * metrics. */
#include "session.h"

static const char *const reject_names[VT_REJECT_N_REASONS] = {
	[VT_REJECT_GARBAGE] = "garbage",
	[VT_REJECT_OVERSIZE] = "oversize",
	[VT_REJECT_BAD_CRC] = "bad_crc",
	[VT_REJECT_TRUNCATED] = "truncated",
	[VT_REJECT_BAD_MESSAGE] = "bad_message",
	[VT_REJECT_LIMITS] = "limits",
	[VT_REJECT_RATE] = "rate",
	[VT_REJECT_UNEXPECTED] = "unexpected",
};

const char *
vt_reject_name(VtReject reason)
{
	return (guint)reason < VT_REJECT_N_REASONS ? reject_names[reason] : "unknown";
}

const char *
vt_session_state_name(VtSessionState state)
{
	switch (state) {
	case VT_SESSION_DETACHED:
		return "detached";
	case VT_SESSION_HANDSHAKE:
		return "handshake";
	case VT_SESSION_READY:
		return "ready";
	case VT_SESSION_CUT_OFF:
		return "cut-off";
	}
	return "unknown";
}
