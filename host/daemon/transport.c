/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "error.h"
#include "fd-watch.h"

typedef enum {
	KIND_FD,
	KIND_STREAM,
} TransportKind;

struct VtTransport {
	TransportKind kind;
	char *description;
	int fd;              /* KIND_FD */
	guint in_watch;      /* KIND_FD */
	gboolean in_epoll;   /* in_watch is a vt_fd_watch (else a GLib source) */
	guint out_watch;     /* KIND_FD */
	virStreamPtr stream; /* KIND_STREAM */
	gboolean stream_cb;  /* a stream event callback is registered */
	GByteArray *out;
	gsize out_sent; /* bytes of out[0..] already written */
	VtTransportCallbacks callbacks;
	gpointer user_data;
	gboolean closed;
	guint dispatching; /* > 0 while a callback runs */
	gboolean free_pending;
};

static void transport_destroy(VtTransport *t);

static VtTransport *
transport_alloc(TransportKind kind, const char *description)
{
	VtTransport *t = g_new0(VtTransport, 1);

	t->kind = kind;
	t->fd = -1;
	t->description = g_strdup(description);
	t->out = g_byte_array_new();
	return t;
}

const char *
vt_transport_describe(const VtTransport *t)
{
	return t->description;
}

gsize
vt_transport_queued(const VtTransport *t)
{
	return t->out->len - t->out_sent;
}

/* Stop all I/O; the object lives on until freed. */
static void
transport_shutdown(VtTransport *t)
{
	if (t->in_watch) {
		if (t->in_epoll)
			vt_fd_watch_remove(t->in_watch);
		else
			g_source_remove(t->in_watch);
		t->in_watch = 0;
	}
	if (t->out_watch) {
		g_source_remove(t->out_watch);
		t->out_watch = 0;
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	if (t->stream != NULL) {
		if (t->stream_cb)
			virStreamEventRemoveCallback(t->stream);
		t->stream_cb = FALSE;
		virStreamAbort(t->stream);
		virStreamFree(t->stream);
		t->stream = NULL;
	}
}

static void
report_closed(VtTransport *t, GError *why)
{
	if (t->closed)
		return;
	t->closed = TRUE;
	transport_shutdown(t);
	if (t->callbacks.on_closed != NULL) {
		t->dispatching++;
		t->callbacks.on_closed(why, t->user_data);
		t->dispatching--;
	}
}

static void
deliver(VtTransport *t, const guint8 *data, gsize len)
{
	if (t->callbacks.on_data == NULL)
		return;
	t->dispatching++;
	t->callbacks.on_data(data, len, t->user_data);
	t->dispatching--;
}

/* Called after any dispatch: a free requested inside a callback happens now. */
static gboolean
finish_dispatch(VtTransport *t)
{
	if (t->dispatching == 0 && t->free_pending) {
		transport_destroy(t);
		return FALSE;
	}
	return TRUE;
}

static void
drop_sent(VtTransport *t)
{
	if (t->out_sent == t->out->len) {
		g_byte_array_set_size(t->out, 0);
		t->out_sent = 0;
	} else if (t->out_sent > 64 * 1024) {
		g_byte_array_remove_range(t->out, 0, (guint)t->out_sent);
		t->out_sent = 0;
	}
}

/* ------------------------------------------------------------ fd */

static gboolean fd_on_out(gint fd, GIOCondition cond, gpointer user_data);

static void
fd_update_out(VtTransport *t)
{
	gboolean want = vt_transport_queued(t) > 0 && !t->closed;

	if (want && t->out_watch == 0)
		t->out_watch = g_unix_fd_add(t->fd, G_IO_OUT, fd_on_out, t);
	else if (!want && t->out_watch != 0) {
		g_source_remove(t->out_watch);
		t->out_watch = 0;
	}
}

/* FALSE after the transport closed. */
static gboolean
fd_flush(VtTransport *t)
{
	while (vt_transport_queued(t) > 0) {
		ssize_t n = send(t->fd, t->out->data + t->out_sent, vt_transport_queued(t),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			g_autoptr(GError) error = NULL;
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOTSOCK) {
				n = write(t->fd, t->out->data + t->out_sent,
					  vt_transport_queued(t));
				if (n >= 0)
					goto sent;
				if (errno == EAGAIN || errno == EINTR)
					break;
			}
			vt_error_set_errno(&error, errno, "write to %s", t->description);
			report_closed(t, error);
			return FALSE;
		}
	sent:
		t->out_sent += (gsize)n;
	}
	drop_sent(t);
	fd_update_out(t);
	return TRUE;
}

static gboolean
fd_on_out(gint fd, GIOCondition cond, gpointer user_data)
{
	VtTransport *t = user_data;

	t->dispatching++;
	fd_flush(t);
	t->dispatching--;
	if (t->out_watch == 0 || t->closed) {
		t->out_watch = 0;
		finish_dispatch(t);
		return G_SOURCE_REMOVE;
	}
	return finish_dispatch(t) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
fd_on_in(gint fd, GIOCondition cond, gpointer user_data)
{
	VtTransport *t = user_data;
	/* on the stack, not one per guest: a connection holds no read buffer */
	guint8 buf[VT_TRANSPORT_READ_CHUNK];
	gboolean keep = TRUE;
	ssize_t n;

	t->dispatching++;
	do
		n = read(t->fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		deliver(t, buf, (gsize)n);
	} else if (n == 0) {
		t->in_watch = 0; /* removed by returning FALSE */
		report_closed(t, NULL);
		keep = FALSE;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		g_autoptr(GError) error = NULL;
		vt_error_set_errno(&error, errno, "read from %s", t->description);
		t->in_watch = 0;
		report_closed(t, error);
		keep = FALSE;
	}
	if (t->closed && keep) {
		t->in_watch = 0; /* closed inside a callback: shutdown left it to us */
		keep = FALSE;
	}
	t->dispatching--;
	if (!finish_dispatch(t))
		return G_SOURCE_REMOVE;
	return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

VtTransport *
vt_transport_new_fd(int fd, const char *description)
{
	VtTransport *t = transport_alloc(KIND_FD, description);
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	t->fd = fd;
	return t;
}

VtTransport *
vt_transport_connect_unix(const char *path, GError **error)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "socket path %s is longer than %zu bytes", path,
			    sizeof(addr.sun_path) - 1);
		return NULL;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vt_error_set_errno(error, errno, "socket");
		return NULL;
	}
	/* UNIX stream connects complete at once or fail (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		vt_error_set_errno(error, errno, "connect to %s", path);
		close(fd);
		return NULL;
	}
	return vt_transport_new_fd(fd, path);
}

/* ------------------------------------------------------------ stream */

static void
stream_update_events(VtTransport *t)
{
	int events = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;

	if (t->stream == NULL || !t->stream_cb)
		return;
	if (vt_transport_queued(t) > 0)
		events |= VIR_STREAM_EVENT_WRITABLE;
	virStreamEventUpdateCallback(t->stream, events);
}

static void
stream_closed_with_libvirt_error(VtTransport *t, const char *what)
{
	g_autoptr(GError) error = NULL;
	const char *msg = virGetLastErrorMessage();

	g_set_error(&error, VT_ERROR, VT_ERROR_IO, "%s %s: %s", what, t->description,
		    msg ? msg : "unknown libvirt error");
	report_closed(t, error);
}

static void
stream_flush(VtTransport *t)
{
	while (vt_transport_queued(t) > 0 && !t->closed) {
		int n = virStreamSend(t->stream, (const char *)t->out->data + t->out_sent,
				      MIN(vt_transport_queued(t), (gsize)G_MAXINT));
		if (n == -2)
			break;
		if (n < 0) {
			stream_closed_with_libvirt_error(t, "send to");
			return;
		}
		t->out_sent += (gsize)n;
	}
	drop_sent(t);
	stream_update_events(t);
}

static void
stream_on_event(virStreamPtr st, int events, void *opaque)
{
	VtTransport *t = opaque;

	if (t->closed)
		return;
	t->dispatching++;
	if (events & VIR_STREAM_EVENT_READABLE) {
		guint8 buf[VT_TRANSPORT_READ_CHUNK];
		int n = virStreamRecv(st, (char *)buf, sizeof(buf));
		if (n > 0)
			deliver(t, buf, (gsize)n);
		else if (n == 0)
			report_closed(t, NULL);
		else if (n != -2)
			stream_closed_with_libvirt_error(t, "receive from");
	}
	if (!t->closed && (events & VIR_STREAM_EVENT_WRITABLE))
		stream_flush(t);
	if (!t->closed && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP))) {
		if (events & VIR_STREAM_EVENT_ERROR)
			stream_closed_with_libvirt_error(t, "stream error on");
		else
			report_closed(t, NULL);
	}
	t->dispatching--;
	finish_dispatch(t);
}

VtTransport *
vt_transport_open_channel(virDomainPtr dom, const char *name, GError **error)
{
	virConnectPtr conn = virDomainGetConnect(dom);
	g_autofree char *description = NULL;
	VtTransport *t;
	virStreamPtr st;

	description = g_strdup_printf("%s channel %s", virDomainGetName(dom), name);
	st = virStreamNew(conn, VIR_STREAM_NONBLOCK);
	if (st == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_IO, "virStreamNew: %s",
			    virGetLastErrorMessage());
		return NULL;
	}
	if (virDomainOpenChannel(dom, name, st, 0) < 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "open %s: %s", description,
			    virGetLastErrorMessage());
		virStreamFree(st);
		return NULL;
	}
	t = transport_alloc(KIND_STREAM, description);
	t->stream = st;
	return t;
}

/* ------------------------------------------------------------ common */

void
vt_transport_start(VtTransport *t, const VtTransportCallbacks *callbacks, gpointer user_data)
{
	t->callbacks = *callbacks;
	t->user_data = user_data;
	if (t->kind == KIND_FD) {
		/* one epoll set for every guest's channel (fd-watch.h) */
		t->in_watch = vt_fd_watch_add(t->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, fd_on_in, t);
		t->in_epoll = t->in_watch != 0;
		if (t->in_watch == 0)
			t->in_watch =
				g_unix_fd_add(t->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, fd_on_in, t);
		fd_update_out(t);
	} else {
		if (virStreamEventAddCallback(t->stream,
					      VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
						      VIR_STREAM_EVENT_HANGUP,
					      stream_on_event, t, NULL) == 0)
			t->stream_cb = TRUE;
		stream_update_events(t);
	}
}

gboolean
vt_transport_send(VtTransport *t, const guint8 *data, gsize len, GError **error)
{
	if (t->closed) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "%s is closed", t->description);
		return FALSE;
	}
	if (vt_transport_queued(t) + len > VT_TRANSPORT_MAX_QUEUED) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: %" G_GSIZE_FORMAT " bytes already wait to be read", t->description,
			    vt_transport_queued(t));
		return FALSE;
	}
	g_byte_array_append(t->out, data, (guint)len);
	if (t->kind == KIND_FD)
		fd_flush(t);
	else
		stream_flush(t);
	return TRUE;
}

static void
transport_destroy(VtTransport *t)
{
	transport_shutdown(t);
	g_byte_array_unref(t->out);
	g_free(t->description);
	g_free(t);
}

void
vt_transport_free(VtTransport *t)
{
	if (t == NULL)
		return;
	if (t->dispatching > 0) {
		/* inside one of our callbacks: stop I/O now, free on the way out */
		t->closed = TRUE;
		transport_shutdown(t);
		t->free_pending = TRUE;
		return;
	}
	transport_destroy(t);
}
