/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "uevent-monitor.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The kernel's own group; udev re-sends on group 2 in its own format. */
#define KERNEL_GROUP 1u

/* A uevent holds at most UEVENT_BUFFER_SIZE (2048) bytes of variables after
 * its "ACTION@DEVPATH" header; a longer datagram is cut (MSG_TRUNC). */
#define DATAGRAM_MAX 8192u

struct VtUeventMonitor {
	int fd;
	char *buf; /* DATAGRAM_MAX, kept for every drain */
};

void
vt_uevent_monitor_close(VtUeventMonitor *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	g_free(m->buf);
	g_free(m);
}

int
vt_uevent_monitor_open(VtUeventMonitor **out)
{
	g_autoptr(VtUeventMonitor) m = g_new0(VtUeventMonitor, 1);
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = KERNEL_GROUP};

	m->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       NETLINK_KOBJECT_UEVENT);
	if (m->fd < 0)
		return -errno;
	if (bind(m->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	m->buf = g_malloc(DATAGRAM_MAX);
	*out = g_steal_pointer(&m);
	return 0;
}

int
vt_uevent_monitor_fd(const VtUeventMonitor *m)
{
	return m->fd;
}

int
vt_uevent_parse(const char *buf, gsize len)
{
	const char *action = NULL, *subsystem = NULL;
	const char *end = buf + len, *p;

	/* the header "ACTION@DEVPATH", NUL-terminated, then KEY=VALUE strings */
	p = memchr(buf, '\0', len);
	if (p == NULL || memchr(buf, '@', (gsize)(p - buf)) == NULL)
		return -EPROTO;
	for (p++; p < end;) {
		const char *nul = memchr(p, '\0', (gsize)(end - p));

		if (nul == NULL)
			return -EPROTO;
		if (g_str_has_prefix(p, "ACTION="))
			action = p + 7;
		else if (g_str_has_prefix(p, "SUBSYSTEM="))
			subsystem = p + 10;
		p = nul + 1;
	}
	if (action == NULL || subsystem == NULL)
		return -EPROTO;
	if (strcmp(subsystem, "cpu") == 0)
		return VT_UEVENT_CPU;
	if (strcmp(subsystem, "block") != 0 && strcmp(subsystem, "net") != 0)
		return 0;
	if (strcmp(action, "change") != 0)
		return VT_UEVENT_DEVICES;
	return strcmp(subsystem, "block") == 0 ? VT_UEVENT_BLOCK_CHANGE : 0;
}

guint
vt_uevent_monitor_changed(VtUeventMonitor *m)
{
	guint changed = 0;

	for (guint i = 0; i < VT_UEVENT_MONITOR_DRAIN_MAX; i++) {
		struct sockaddr_nl from;
		socklen_t from_len = sizeof(from);
		int r;
		ssize_t n = recvfrom(m->fd, m->buf, DATAGRAM_MAX, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &from_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? changed : VT_UEVENT_ALL; /* ENOBUFS: lost some */
		/* only the kernel speaks in its group; anything else is not read */
		if (from_len != sizeof(from) || from.nl_pid != 0)
			continue;
		r = (gsize)n > DATAGRAM_MAX ? -EPROTO : vt_uevent_parse(m->buf, (gsize)n);
		changed |= r < 0 ? VT_UEVENT_ALL : (guint)r;
	}
	return VT_UEVENT_ALL; /* still more queued than one drain reads */
}
