/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The agent's end of the channel: a virtio-serial character device in a
 * guest, or a UNIX socket (the agent is the client) when tests play the host.
 * Non-blocking, close-on-exec; nothing here blocks or sleeps.
 */
typedef struct VtPort VtPort;

typedef enum {
	VT_PORT_KIND_UNKNOWN, /* not opened yet */
	VT_PORT_KIND_CHARDEV,
	VT_PORT_KIND_SOCKET,
} VtPortKind;

typedef enum {
	VT_PORT_IO_OK,     /* some bytes moved */
	VT_PORT_IO_AGAIN,  /* would block: wait for the fd */
	VT_PORT_IO_CLOSED, /* the host went away (EOF, EPIPE, ECONNRESET) */
	VT_PORT_IO_ERROR,  /* anything else; error is set */
} VtPortIo;

VtPort *vt_port_new(const char *path);
void vt_port_free(VtPort *port);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPort, vt_port_free)

const char *vt_port_path(const VtPort *port);
VtPortKind vt_port_kind(const VtPort *port);
const char *vt_port_kind_name(VtPortKind kind);

/*
 * Try to reach the host. A character device is opened once and kept open
 * (closing it would tell the host the guest went away); the host is there when
 * poll() stops reporting POLLHUP. A socket is connected afresh each time.
 * TRUE: the fd is usable. FALSE with VT_ERROR_UNAVAILABLE: no host yet; with
 * another code: the path is missing, busy or not a port. Either way, retry
 * later.
 */
gboolean vt_port_connect(VtPort *port, GError **error);

/* The fd to watch while connected, or -1. */
int vt_port_fd(const VtPort *port);

VtPortIo vt_port_read(VtPort *port, guint8 *buf, gsize len, gsize *n_read, GError **error);
VtPortIo vt_port_write(VtPort *port, const guint8 *buf, gsize len, gsize *n_written,
		       GError **error);

/* The host went away: a socket is closed; a character device stays open unless
 * it failed with an error (then it is reopened by the next connect). */
void vt_port_disconnect(VtPort *port);

G_END_DECLS
