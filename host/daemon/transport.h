/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_BEGIN_DECLS

/*
 * A non-blocking byte pipe to one guest's agent: the channel's UNIX socket
 * (local URIs, the guest simulator, tests) or a libvirt stream from
 * virDomainOpenChannel (remote URIs). Reads are bounded per wake-up so one
 * chatty guest cannot starve the others; queued output is bounded too.
 */
typedef struct VtTransport VtTransport;

typedef struct {
	/* Bytes arrived; valid during the call only. */
	void (*on_data)(const guint8 *data, gsize len, gpointer user_data);
	/* The peer went away or an error happened; called once, after which no
	 * callback comes. @why is NULL for a clean EOF. */
	void (*on_closed)(const GError *why, gpointer user_data);
} VtTransportCallbacks;

/* Output queued beyond this makes vt_transport_send() fail (a guest that
 * does not read). */
#define VT_TRANSPORT_MAX_QUEUED (256u * 1024u)
/* Bytes read per wake-up. */
#define VT_TRANSPORT_READ_CHUNK (64u * 1024u)

/* Takes ownership of @fd (made non-blocking and close-on-exec). */
VtTransport *vt_transport_new_fd(int fd, const char *description);
VtTransport *vt_transport_connect_unix(const char *path, GError **error);
/* @dom's channel @name through a libvirt stream; needs a registered event
 * loop (gvir_event_register()). */
VtTransport *vt_transport_open_channel(virDomainPtr dom, const char *name, GError **error);

void vt_transport_start(VtTransport *t, const VtTransportCallbacks *callbacks, gpointer user_data);
gboolean vt_transport_send(VtTransport *t, const guint8 *data, gsize len, GError **error);
gsize vt_transport_queued(const VtTransport *t);
const char *vt_transport_describe(const VtTransport *t);

/* Closes and frees; safe to call from inside a callback. */
void vt_transport_free(VtTransport *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtTransport, vt_transport_free)

G_END_DECLS
