/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "kernel/sysattr.h"

struct VtPort {
	char *path;
	int fd;
	VtPortKind kind;
	gboolean broken; /* a char device that failed: reopen it */
};

VtPort *
vt_port_new(const char *path)
{
	VtPort *port = g_new0(VtPort, 1);

	port->path = g_strdup(path);
	port->fd = -1;
	return port;
}

static void
port_close(VtPort *port)
{
	if (port->fd >= 0)
		close(port->fd);
	port->fd = -1;
	port->broken = FALSE;
}

void
vt_port_free(VtPort *port)
{
	if (port == NULL)
		return;
	port_close(port);
	g_free(port->path);
	g_free(port);
}

const char *
vt_port_path(const VtPort *port)
{
	return port->path;
}

VtPortKind
vt_port_kind(const VtPort *port)
{
	return port->kind;
}

const char *
vt_port_kind_name(VtPortKind kind)
{
	switch (kind) {
	case VT_PORT_KIND_CHARDEV:
		return "virtio-serial port";
	case VT_PORT_KIND_SOCKET:
		return "UNIX socket";
	case VT_PORT_KIND_UNKNOWN:
		break;
	}
	return "port";
}

int
vt_port_fd(const VtPort *port)
{
	return port->fd;
}

static gboolean
open_chardev(VtPort *port, GError **error)
{
	int fd = open(port->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		/* virtio_console allows one opener: EBUSY means another agent
		 * (or a stray qemu-ga configured on this port) holds it. */
		vt_error_set_errno(error, errno, "cannot open %s", port->path);
		return FALSE;
	}
	port->fd = fd;
	return TRUE;
}

/*
 * The kernel (virtio_console port_fops_poll) reports POLLHUP for as long as no
 * host client is connected, and POLLIN with it (a read returns EOF); a host
 * connecting clears POLLHUP. Level-triggered, so this is asked on a timer.
 */
static gboolean
chardev_host_present(VtPort *port, GError **error)
{
	struct pollfd pfd = {.fd = port->fd, .events = POLLIN | POLLOUT};
	int n;

	do
		n = poll(&pfd, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		vt_error_set_errno(error, errno, "poll %s", port->path);
		return FALSE;
	}
	if (pfd.revents & (POLLERR | POLLNVAL)) {
		port->broken = TRUE;
		g_set_error(error, VT_ERROR, VT_ERROR_IO, "%s reports an error; reopening it",
			    port->path);
		return FALSE;
	}
	if (pfd.revents & POLLHUP) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "no host connected to %s",
			    port->path);
		return FALSE;
	}
	return TRUE;
}

static gboolean
connect_socket(VtPort *port, GError **error)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	g_auto(VtFd) fd = -1;

	if (strlen(port->path) >= sizeof(addr.sun_path)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "socket path %s is longer than %zu bytes", port->path,
			    sizeof(addr.sun_path) - 1);
		return FALSE;
	}
	memcpy(addr.sun_path, port->path, strlen(port->path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vt_error_set_errno(error, errno, "socket");
		return FALSE;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int errsv = errno;

		/* EAGAIN: the listener's backlog is full; like a refusal, try later */
		if (errsv == ECONNREFUSED || errsv == EAGAIN || errsv == EINPROGRESS ||
		    errsv == ENOENT)
			g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE,
				    "no host listening on %s (%s)", port->path, g_strerror(errsv));
		else
			vt_error_set_errno(error, errsv, "cannot connect to %s", port->path);
		return FALSE;
	}
	port->fd = fd;
	fd = -1; /* the port's now */
	return TRUE;
}

gboolean
vt_port_connect(VtPort *port, GError **error)
{
	struct stat st;

	if (port->broken)
		port_close(port);

	if (port->fd >= 0 && port->kind == VT_PORT_KIND_CHARDEV)
		return chardev_host_present(port, error);
	port_close(port);

	/* Asked each time: udev may only now have created the symlink. */
	if (stat(port->path, &st) < 0) {
		vt_error_set_errno(error, errno, "%s", port->path);
		return FALSE;
	}
	if (S_ISCHR(st.st_mode)) {
		port->kind = VT_PORT_KIND_CHARDEV;
		if (!open_chardev(port, error))
			return FALSE;
		return chardev_host_present(port, error);
	}
	if (S_ISSOCK(st.st_mode)) {
		port->kind = VT_PORT_KIND_SOCKET;
		return connect_socket(port, error);
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
		    "%s is neither a character device (virtio-serial port) nor a UNIX socket",
		    port->path);
	return FALSE;
}

static VtPortIo
io_result(VtPort *port, int errsv, const char *what, GError **error)
{
	switch (errsv) {
	case EAGAIN:
		return VT_PORT_IO_AGAIN;
	case EPIPE:
	case ECONNRESET:
		return VT_PORT_IO_CLOSED;
	default:
		port->broken = TRUE;
		vt_error_set_errno(error, errsv, "%s %s", what, port->path);
		return VT_PORT_IO_ERROR;
	}
}

VtPortIo
vt_port_read(VtPort *port, guint8 *buf, gsize len, gsize *n_read, GError **error)
{
	ssize_t n;

	*n_read = 0;
	if (port->fd < 0)
		return VT_PORT_IO_CLOSED;
	do
		n = read(port->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_result(port, errno, "read", error);
	if (n == 0)
		return VT_PORT_IO_CLOSED; /* virtio port: the host disconnected */
	*n_read = (gsize)n;
	return VT_PORT_IO_OK;
}

VtPortIo
vt_port_write(VtPort *port, const guint8 *buf, gsize len, gsize *n_written, GError **error)
{
	ssize_t n;

	*n_written = 0;
	if (port->fd < 0)
		return VT_PORT_IO_CLOSED;
	do {
		if (port->kind == VT_PORT_KIND_SOCKET)
			/* no SIGPIPE when the host has gone */
			n = send(port->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(port->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_result(port, errno, "write", error);
	if (n == 0)
		return VT_PORT_IO_AGAIN;
	*n_written = (gsize)n;
	return VT_PORT_IO_OK;
}

void
vt_port_disconnect(VtPort *port)
{
	if (port->kind != VT_PORT_KIND_CHARDEV || port->broken)
		port_close(port);
}
