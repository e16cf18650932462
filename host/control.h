/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/*
 * The daemon's control socket: JSON, one request per line
 *   {"command": "list", "args": {…}}
 * and one reply per line
 *   {"ok": true, "result": …}   or   {"ok": false, "error": {"code": …, "message": …}}.
 * The peer's identity comes from SO_PEERCRED. Who may connect at all is the
 * socket file's mode (0660, root and the configured group); which commands a
 * peer may run is decided per request (vt_control_request_is_privileged).
 */
#define VT_CONTROL_DEFAULT_SOCKET "/run/virt-tune/virt-tuned.sock"
#define VT_CONTROL_MAX_LINE       (64u * 1024u) /* a request line */
#define VT_CONTROL_MAX_CLIENTS    64u
/* One user holds at most this many of the slots, and users other than root
 * (or the daemon's own) all together at most VT_CONTROL_MAX_CLIENTS minus
 * VT_CONTROL_ROOT_RESERVE: neither one user nor the read-only group can
 * lock everyone out. A client past a limit is told "busy: N clients". */
#define VT_CONTROL_MAX_CLIENTS_PER_UID 16u
#define VT_CONTROL_ROOT_RESERVE        8u
/* Replies queued for a client that does not read: past the soft cap the
 * daemon stops reading (and answering) that client until it drains; past
 * the hard cap (one reply larger than any the CLI accepts) it drops it. */
#define VT_CONTROL_OUT_SOFT_CAP (1024u * 1024u)
#define VT_CONTROL_OUT_HARD_CAP (64u * 1024u * 1024u)
/* A client with no request in flight that sends and reads nothing for this
 * long is closed (virt-tuned.conf control-idle-timeout). */
#define VT_CONTROL_DEFAULT_IDLE_TIMEOUT_S 60u

typedef struct VtControl VtControl;
typedef struct VtControlRequest VtControlRequest;

/* Called on the main loop for every request; answer now or later with
 * vt_control_request_reply() or _error() — exactly once. */
typedef void (*VtControlHandler)(VtControlRequest *request, gpointer user_data);

/* Listen on @path (a stale socket file is replaced; its directory is created
 * 0755). @group: name of the group that may read, or NULL. */
VtControl *vt_control_new(const char *path, const char *group, VtControlHandler handler,
			  gpointer user_data, GError **error);
void vt_control_free(VtControl *control);
/* 0 turns the idle timeout off. */
void vt_control_set_idle_timeout(VtControl *control, guint seconds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtControl, vt_control_free)

const char *vt_control_request_get_command(const VtControlRequest *request);
/* Never NULL: an empty object when the request had none. */
JsonObject *vt_control_request_get_args(const VtControlRequest *request);
uid_t vt_control_request_get_uid(const VtControlRequest *request);
/* Root, or the daemon's own user (an unprivileged daemon in tests). */
gboolean vt_control_request_is_privileged(const VtControlRequest *request);
/* FALSE once the client has gone: the reply would be dropped. */
gboolean vt_control_request_is_alive(const VtControlRequest *request);

/* Both consume @request. */
void vt_control_request_reply(VtControlRequest *request, JsonNode *result);
void vt_control_request_error(VtControlRequest *request, const char *code, const char *format, ...)
	G_GNUC_PRINTF(3, 4);

/*
 * One request line as the socket reads it: a JSON object (nested at most 16
 * deep) with a string member "command" and "args" an object, null or absent.
 * Returns a new root whose "args" is always an object, or NULL with the
 * reason the client is told (as a "bad_request").
 */
JsonNode *vt_control_parse_request(const char *line, gsize len, GError **error);

/* Args helpers: the string member @name or NULL; the int member or @fallback. */
const char *vt_control_arg_string(const VtControlRequest *request, const char *name);
gint64 vt_control_arg_int(const VtControlRequest *request, const char *name, gint64 fallback);
gboolean vt_control_arg_bool(const VtControlRequest *request, const char *name);

G_END_DECLS
