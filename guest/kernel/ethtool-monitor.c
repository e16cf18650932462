/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ethtool-monitor.h"

#include <errno.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct VtEthtoolMonitor {
	int fd;
	guint16 family;
	guint8 *buf; /* VT_NL_DATAGRAM_MAX, kept for every drain */
};

void
vt_ethtool_monitor_close(VtEthtoolMonitor *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	g_free(m->buf);
	g_free(m);
}

int
vt_ethtool_monitor_open(VtEthtoolMonitor **out)
{
	g_autoptr(VtEthtoolMonitor) m = g_new0(VtEthtoolMonitor, 1);
	guint32 group = 0;
	int r;

	m->fd = vt_genl_socket();
	if (m->fd < 0)
		return m->fd;
	r = vt_genl_resolve(m->fd, ETHTOOL_GENL_NAME, ETHTOOL_MCGRP_MONITOR_NAME, &m->family,
			    &group);
	if (r < 0)
		return r;
	if (group == 0)
		return -ENOENT;
	if (setsockopt(m->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	m->buf = g_malloc(VT_NL_DATAGRAM_MAX);
	*out = g_steal_pointer(&m);
	return 0;
}

int
vt_ethtool_monitor_fd(const VtEthtoolMonitor *m)
{
	return m->fd;
}

int
vt_ethtool_monitor_parse(const guint8 *buf, gsize len, guint16 family)
{
	const struct nlmsghdr *msg;
	gsize off = 0;
	int found = 0, r;

	while ((r = vt_nl_next_message(buf, len, &off, &msg)) > 0) {
		const guint8 *payload;
		gsize plen;

		if (msg->nlmsg_type != family)
			continue;
		payload = vt_nl_payload(msg, GENL_HDRLEN, &plen, &r);
		if (payload == NULL)
			return r;
		/* any command of the family: new kinds of notification count too */
		found = 1;
	}
	return r < 0 ? r : found;
}

gboolean
vt_ethtool_monitor_changed(VtEthtoolMonitor *m)
{
	gboolean changed = FALSE;

	for (guint i = 0; i < VT_ETHTOOL_MONITOR_DRAIN_MAX; i++) {
		ssize_t n = recv(m->fd, m->buf, VT_NL_DATAGRAM_MAX, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return changed || errno != EAGAIN; /* ENOBUFS: some were lost */
		if (vt_ethtool_monitor_parse(m->buf, (gsize)n, m->family) != 0)
			changed = TRUE;
	}
	return TRUE; /* still more queued than one drain reads */
}
