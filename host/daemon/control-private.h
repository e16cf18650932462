/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What control.c (the listening socket, who gets a slot) and
 * control-client.c (one client's buffers and requests) share. */
#include <sys/socket.h>

#include "control.h"

typedef struct VtControlClient Client;

struct VtControl {
	char *path;
	int fd;
	gboolean bound; /* the socket file at path is ours to remove */
	guint watch;
	VtControlHandler handler;
	gpointer user_data;
	GList *clients;
	guint n_clients;
	guint idle_timeout_s;
	guint accept_retry; /* accept paused: out of file descriptors */
	gint64 busy_logged_us;
	guint busy_unlogged;
};

struct VtControlClient {
	int ref;
	VtControl *control; /* NULL once the control is gone */
	int fd;
	guint in_watch;
	guint out_watch;
	GByteArray *in;
	GByteArray *out;
	struct ucred cred;
	gboolean busy;   /* a request is being answered: read no further */
	gboolean paused; /* too much output queued: input watch removed */
	gboolean closed;
	guint idle_timer;
	gint64 last_active_us; /* last byte read or written */
};

/* Root, or the daemon's own user (an unprivileged daemon in tests). */
gboolean vt_control_uid_is_privileged(uid_t uid);
/* A client on the accepted @fd, counted in @control's list. */
void vt_control_client_add(VtControl *control, int fd, const struct ucred *cred);
/* Stops its I/O and takes it off the list (frees it unless referenced). */
void vt_control_client_close(Client *c);
/* {"ok": false, "error": {"code": …, "message": …}}, without the newline. */
char *vt_control_error_text(const char *code, const char *message);
