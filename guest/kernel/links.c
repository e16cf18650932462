/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "links.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netlink.h"

/* Datagrams of one dump at most: a few interfaces fit in each. */
#define VT_LINKS_DATAGRAMS_MAX 4096u

/* How long one datagram of the dump may take (the kernel answers at once). */
#define VT_LINKS_WAIT_S 1

/* IFLA_STATS64 grows with the kernel; past this it is not believed. */
#define VT_LINK_STATS64_MAX 1024u

struct VtLinks {
	int fd;
	guint32 seq;
	guint8 *buf;  /* VT_NL_DATAGRAM_MAX */
	GArray *last; /* VtLink, the last dump's, reused */
	/* RTMGRP_LINK, joined before the first full dump; -1 when it could not
	 * be: every refresh is a full dump then */
	int monitor_fd;
	gboolean last_full; /* last holds a full dump's answers */
	guint updated;      /* interfaces whose counters this stats dump gave */
};

/* struct rtnl_link_stats64's index of each VtLink.stats entry (sysfs order). */
static const guint stats64_index[VT_LINK_STATS] = {2, 0, 4, 6, 3, 1, 5, 7};

void
vt_links_close(VtLinks *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->monitor_fd >= 0)
		close(l->monitor_fd);
	g_free(l->buf);
	if (l->last != NULL)
		g_array_unref(l->last);
	g_free(l);
}

int
vt_links_open(VtLinks **out)
{
	g_autoptr(VtLinks) l = g_new0(VtLinks, 1);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct sockaddr_nl group = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	struct timeval tv = {.tv_sec = VT_LINKS_WAIT_S};

	l->monitor_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (l->monitor_fd >= 0 &&
	    bind(l->monitor_fd, (struct sockaddr *)&group, sizeof(group)) < 0) {
		close(l->monitor_fd);
		l->monitor_fd = -1;
	}
	l->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (l->fd < 0)
		return -errno;
	if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	l->buf = g_malloc(VT_NL_DATAGRAM_MAX);
	l->last = g_array_new(FALSE, FALSE, sizeof(VtLink));
	*out = g_steal_pointer(&l);
	return 0;
}

static void
link_stats(const struct nlattr *a, VtLink *out)
{
	guint64 all[VT_LINK_STATS];

	memcpy(all, vt_nl_attr_data(a), sizeof(all));
	for (guint i = 0; i < VT_LINK_STATS; i++)
		out->stats[i] = all[stats64_index[i]];
	out->has_stats = TRUE;
}

int
vt_link_parse(const struct nlmsghdr *msg, VtLink *out)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;
	const guint8 *payload;
	const char *name;
	gsize len;
	int err;

	if (msg->nlmsg_type != RTM_NEWLINK)
		return 0;
	payload = vt_nl_payload(msg, sizeof(*ifi), &len, &err);
	if (payload == NULL || (err = vt_nl_parse_attrs(payload, len, tb, IFLA_MAX)) < 0)
		return err;
	ifi = (const struct ifinfomsg *)NLMSG_DATA(msg);
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	if (!vt_nl_attr_string(tb[IFLA_IFNAME], sizeof(out->name) - 1, &name) || *name == '\0')
		return -EPROTO;
	memcpy(out->name, name, strlen(name) + 1);
	if (tb[IFLA_MTU] != NULL && !(out->has_mtu = vt_nl_attr_u32(tb[IFLA_MTU], &out->mtu)))
		return -EPROTO;
	if (tb[IFLA_ADDRESS] != NULL) {
		out->addr_len = vt_nl_attr_len(tb[IFLA_ADDRESS]);
		if (out->addr_len > VT_LINK_ADDR_MAX)
			return -EPROTO;
		memcpy(out->addr, vt_nl_attr_data(tb[IFLA_ADDRESS]), out->addr_len);
	}
	if (tb[IFLA_CARRIER] != NULL) {
		if (vt_nl_attr_len(tb[IFLA_CARRIER]) != 1 || *vt_nl_attr_data(tb[IFLA_CARRIER]) > 1)
			return -EPROTO;
		out->has_carrier = TRUE;
		out->carrier = *vt_nl_attr_data(tb[IFLA_CARRIER]) == 1;
	}
	if (tb[IFLA_STATS64] != NULL) {
		guint16 n = vt_nl_attr_len(tb[IFLA_STATS64]);

		if (n < VT_LINK_STATS * sizeof(guint64) || n > VT_LINK_STATS64_MAX)
			return -EPROTO;
		link_stats(tb[IFLA_STATS64], out);
	}
	return 1;
}

int
vt_link_stats_parse(const struct nlmsghdr *msg, gint32 *ifindex, guint64 stats[VT_LINK_STATS])
{
	const struct nlattr *tb[IFLA_STATS_MAX + 1];
	const struct if_stats_msg *ifsm;
	const guint8 *payload;
	guint64 all[VT_LINK_STATS];
	gsize len;
	guint16 n;
	int err;

	if (msg->nlmsg_type != RTM_NEWSTATS)
		return 0;
	payload = vt_nl_payload(msg, sizeof(*ifsm), &len, &err);
	if (payload == NULL || (err = vt_nl_parse_attrs(payload, len, tb, IFLA_STATS_MAX)) < 0)
		return err;
	ifsm = (const struct if_stats_msg *)NLMSG_DATA(msg);
	if (tb[IFLA_STATS_LINK_64] == NULL)
		return 0;
	n = vt_nl_attr_len(tb[IFLA_STATS_LINK_64]);
	if (n < VT_LINK_STATS * sizeof(guint64) || n > VT_LINK_STATS64_MAX)
		return -EPROTO;
	memcpy(all, vt_nl_attr_data(tb[IFLA_STATS_LINK_64]), sizeof(all));
	for (guint i = 0; i < VT_LINK_STATS; i++)
		stats[i] = all[stats64_index[i]];
	*ifindex = ifsm->ifindex;
	return 1;
}

/* @full: RTM_GETLINK for everything, else RTM_GETSTATS for the counters. */
static int
send_dump(VtLinks *l, gboolean full)
{
	struct {
		struct nlmsghdr nh;
		union {
			struct ifinfomsg ifi;
			struct if_stats_msg ifsm;
		};
	} req;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++l->seq;
	if (full) {
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
		req.nh.nlmsg_type = RTM_GETLINK;
		req.ifi.ifi_family = AF_UNSPEC;
	} else {
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifsm));
		req.nh.nlmsg_type = RTM_GETSTATS;
		req.ifsm.family = AF_UNSPEC;
		req.ifsm.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	}
	if (sendto(l->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) <
	    0)
		return -errno;
	return 0;
}

/* The counters of one interface into the last full dump's entry for it;
 * -ENOENT when it has none (an interface made since). */
static int
take_stats(VtLinks *l, gint32 ifindex, const guint64 stats[VT_LINK_STATS])
{
	for (guint i = 0; i < l->last->len; i++) {
		VtLink *link = &g_array_index(l->last, VtLink, i);

		if (link->ifindex != ifindex)
			continue;
		memcpy(link->stats, stats, sizeof(link->stats));
		link->has_stats = TRUE;
		l->updated++;
		return 0;
	}
	return -ENOENT;
}

/* One datagram of the dump: 1 when it ended it, 0 for more, -errno. */
static int
take_datagram(VtLinks *l, gsize n, gboolean full)
{
	const struct nlmsghdr *msg;
	gsize off = 0;
	int r;

	while ((r = vt_nl_next_message(l->buf, n, &off, &msg)) > 0) {
		VtLink link;
		guint64 stats[VT_LINK_STATS];
		gint32 ifindex;

		if (msg->nlmsg_seq != l->seq)
			continue; /* a late part of an earlier dump */
		if (msg->nlmsg_type == NLMSG_DONE)
			return 1;
		if (msg->nlmsg_type == NLMSG_ERROR)
			return (r = vt_nl_message_error(msg)) < 0 ? r : -EPROTO;
		if (!full) {
			r = vt_link_stats_parse(msg, &ifindex, stats);
			if (r > 0)
				r = take_stats(l, ifindex, stats);
			if (r < 0)
				return r;
			continue;
		}
		r = vt_link_parse(msg, &link);
		if (r < 0)
			return r;
		if (r > 0 && l->last->len < VT_LINKS_MAX)
			g_array_append_val(l->last, link);
	}
	return r;
}

static int
dump(VtLinks *l, gboolean full)
{
	int r;

	l->last_full = FALSE;
	l->updated = 0;
	if (full)
		g_array_set_size(l->last, 0);
	if ((r = send_dump(l, full)) < 0)
		return r;
	for (guint i = 0; i < VT_LINKS_DATAGRAMS_MAX; i++) {
		ssize_t n = recv(l->fd, l->buf, VT_NL_DATAGRAM_MAX, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = errno == EAGAIN ? -ETIMEDOUT : -errno;
		else
			r = take_datagram(l, (gsize)n, full);
		if (r != 0)
			break;
	}
	if (r == 1 && !full && l->updated != l->last->len)
		r = -ENOENT; /* an interface gone: not every counter is fresh */
	if (r < 0 || r == 0) {
		/* a dump left half read would mix into the next one's answers */
		g_array_set_size(l->last, 0);
		return r < 0 ? r : -E2BIG;
	}
	l->last_full = TRUE;
	return 0;
}

int
vt_links_dump(VtLinks *l)
{
	return dump(l, TRUE);
}

/* Announcements read per refresh at most; more still queued counts as a change. */
#define VT_LINKS_MONITOR_DRAIN_MAX 64u

/* Whether the kernel announced a link change since the last call: drained,
 * so that what is queued is only what is new. An overrun counts as one. */
static gboolean
links_changed(VtLinks *l)
{
	gboolean changed = FALSE;

	for (guint i = 0; i < VT_LINKS_MONITOR_DRAIN_MAX; i++) {
		ssize_t n = recv(l->monitor_fd, l->buf, VT_NL_DATAGRAM_MAX, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return changed || errno != EAGAIN; /* ENOBUFS: some were lost */
		/* any message of the group: new kinds of announcement count too */
		changed = TRUE;
	}
	return TRUE; /* still more queued than one drain reads */
}

int
vt_links_refresh(VtLinks *l, gboolean full)
{
	gboolean changed;
	int r;

	if (l->monitor_fd < 0)
		return dump(l, TRUE);
	/* drained on every call: the full dump after it covers what it said */
	changed = links_changed(l);
	if (full || changed || !l->last_full)
		return dump(l, TRUE);
	r = dump(l, FALSE);
	return r == 0 ? 0 : dump(l, TRUE);
}

const VtLink *
vt_links_find(const VtLinks *l, const char *name)
{
	for (guint i = 0; i < l->last->len; i++) {
		const VtLink *link = &g_array_index(l->last, VtLink, i);

		if (strcmp(link->name, name) == 0)
			return link;
	}
	return NULL;
}

gboolean
vt_link_address_text(const VtLink *link, char *buf, gsize cap)
{
	gsize off = 0;

	if (link->addr_len == 0 || cap < (gsize)link->addr_len * 3u)
		return FALSE;
	for (guint i = 0; i < link->addr_len; i++)
		off += (gsize)g_snprintf(buf + off, cap - off, i ? ":%02x" : "%02x", link->addr[i]);
	return TRUE;
}
