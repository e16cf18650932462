/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The CLI side of the control socket (the protocol: the daemon's control.h). */

typedef enum {
	VT_CLIENT_OK,
	VT_CLIENT_UNREACHABLE, /* no daemon at the socket */
	VT_CLIENT_REFUSED,     /* the daemon answered with an error */
	VT_CLIENT_BROKEN,      /* the answer was not understood */
	VT_CLIENT_BUSY,        /* the daemon has no slot free: "busy: N clients" */
} VtClientStatus;

/* Where virt-tuned listens unless told otherwise. The daemon has its own copy
 * (VT_CONTROL_DEFAULT_SOCKET): the CLI builds without the daemon's headers. */
#define VT_CLIENT_DEFAULT_SOCKET "/run/virt-tune/virt-tuned.sock"

/* The socket path: @flag, else $VIRT_TUNE_SOCKET, else the default. */
const char *vt_client_socket_path(const char *flag);

/*
 * Send {"command": @command, "args": @args} and wait up to @timeout_s for the
 * reply. On VT_CLIENT_OK *result holds the reply's "result"; otherwise
 * *message says what went wrong and *code holds the daemon's error code
 * (VT_CLIENT_REFUSED) — both to be freed.
 */
VtClientStatus vt_client_call(const char *socket_path, const char *command, JsonObject *args,
			      guint timeout_s, JsonNode **result, char **code, char **message);

/*
 * One request of a command: VT_EXIT_OK with *result set, or the failure
 * printed and its exit code (VtExit: unreachable, a usage error the daemon
 * found such as an unknown domain, or failed). @socket_flag: --socket, or NULL.
 */
int vt_client_request(const char *socket_flag, const char *command, JsonObject *args,
		      guint timeout_s, JsonNode **result);

/* Request arguments: {"domain": @domain}, or {} when @domain is NULL. */
JsonObject *vt_client_args(const char *domain);

G_END_DECLS
