/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "netlink.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long the controller may take to answer (it answers within the send). */
#define VT_GENL_ANSWER_MS 1000

/* Datagrams read while looking for the controller's answer. */
#define VT_GENL_ANSWER_TRIES 8u

/* Family and group names are GENL_NAMSIZ (16) with the NUL. */
#define VT_GENL_NAME_MAX (GENL_NAMSIZ - 1u)

int
vt_nl_next_message(const guint8 *buf, gsize len, gsize *off, const struct nlmsghdr **msg)
{
	const struct nlmsghdr *h;
	gsize left;

	if (*off >= len)
		return 0;
	left = len - *off;
	if (left < sizeof(*h))
		return -EPROTO;
	h = (const struct nlmsghdr *)(const void *)(buf + *off);
	if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > left)
		return -EPROTO;
	*msg = h;
	/* the last message of a datagram may end without its padding */
	*off += MIN((gsize)NLMSG_ALIGN(h->nlmsg_len), left);
	return 1;
}

const guint8 *
vt_nl_payload(const struct nlmsghdr *msg, gsize header, gsize *len, int *err)
{
	gsize body = msg->nlmsg_len - NLMSG_HDRLEN;

	if (msg->nlmsg_len < NLMSG_HDRLEN || body < NLMSG_ALIGN(header)) {
		*err = -EPROTO;
		return NULL;
	}
	*len = body - NLMSG_ALIGN(header);
	*err = 0;
	return (const guint8 *)msg + NLMSG_HDRLEN + NLMSG_ALIGN(header);
}

int
vt_nl_parse_attrs(const guint8 *buf, gsize len, const struct nlattr **tb, guint max)
{
	gsize off = 0;

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	while (off < len) {
		const struct nlattr *a = (const struct nlattr *)(const void *)(buf + off);
		gsize left = len - off;
		guint type;

		if (left < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > left)
			return -EPROTO;
		type = a->nla_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		off += MIN((gsize)NLA_ALIGN(a->nla_len), left);
	}
	return 0;
}

guint16
vt_nl_attr_len(const struct nlattr *a)
{
	return (guint16)(a->nla_len - NLA_HDRLEN);
}

const guint8 *
vt_nl_attr_data(const struct nlattr *a)
{
	return (const guint8 *)a + NLA_HDRLEN;
}

gboolean
vt_nl_attr_u16(const struct nlattr *a, guint16 *out)
{
	if (a == NULL || vt_nl_attr_len(a) != sizeof(*out))
		return FALSE;
	memcpy(out, vt_nl_attr_data(a), sizeof(*out));
	return TRUE;
}

gboolean
vt_nl_attr_u32(const struct nlattr *a, guint32 *out)
{
	if (a == NULL || vt_nl_attr_len(a) != sizeof(*out))
		return FALSE;
	memcpy(out, vt_nl_attr_data(a), sizeof(*out));
	return TRUE;
}

gboolean
vt_nl_attr_string(const struct nlattr *a, gsize max, const char **out)
{
	const char *s;
	gsize n;

	if (a == NULL || vt_nl_attr_len(a) == 0)
		return FALSE;
	s = (const char *)vt_nl_attr_data(a);
	n = vt_nl_attr_len(a);
	/* the NUL must be inside the attribute, within the bound */
	if (memchr(s, '\0', n) == NULL || strlen(s) > max)
		return FALSE;
	*out = s;
	return TRUE;
}

/* The id of @group among the CTRL_ATTR_MCAST_GROUPS nest @groups; 0 if absent. */
static int
find_group(const struct nlattr *groups, const char *group, guint32 *group_id)
{
	const guint8 *p = vt_nl_attr_data(groups);
	gsize len = vt_nl_attr_len(groups), off = 0;

	/* the nest holds one nest per group, typed 1, 2, ... */
	while (off < len) {
		const struct nlattr *g = (const struct nlattr *)(const void *)(p + off);
		const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
		const char *name;
		guint32 id;
		int r;

		if (len - off < NLA_HDRLEN || g->nla_len < NLA_HDRLEN || g->nla_len > len - off)
			return -EPROTO;
		r = vt_nl_parse_attrs(vt_nl_attr_data(g), vt_nl_attr_len(g), tb,
				      CTRL_ATTR_MCAST_GRP_MAX);
		if (r < 0)
			return r;
		if (vt_nl_attr_string(tb[CTRL_ATTR_MCAST_GRP_NAME], VT_GENL_NAME_MAX, &name) &&
		    strcmp(name, group) == 0 && vt_nl_attr_u32(tb[CTRL_ATTR_MCAST_GRP_ID], &id)) {
			*group_id = id;
			return 0;
		}
		off += MIN((gsize)NLA_ALIGN(g->nla_len), len - off);
	}
	return 0;
}

int
vt_genl_parse_family(const guint8 *payload, gsize len, const char *group, guint16 *family,
		     guint32 *group_id)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	int r = vt_nl_parse_attrs(payload, len, tb, CTRL_ATTR_MAX);

	*family = 0;
	*group_id = 0;
	if (r < 0)
		return r;
	if (!vt_nl_attr_u16(tb[CTRL_ATTR_FAMILY_ID], family) || *family < NLMSG_MIN_TYPE) {
		*family = 0;
		return tb[CTRL_ATTR_FAMILY_ID] == NULL ? -ENOENT : -EPROTO;
	}
	if (group != NULL && tb[CTRL_ATTR_MCAST_GROUPS] != NULL &&
	    (r = find_group(tb[CTRL_ATTR_MCAST_GROUPS], group, group_id)) < 0) {
		*family = 0;
		return r;
	}
	return 0;
}

int
vt_nl_message_error(const struct nlmsghdr *msg)
{
	const struct nlmsgerr *e;

	if (msg->nlmsg_len < NLMSG_HDRLEN + sizeof(e->error))
		return -EPROTO;
	e = (const struct nlmsgerr *)NLMSG_DATA(msg);
	/* the kernel's errors are negative; a positive one is not believed */
	return e->error <= 0 && e->error > -4096 ? e->error : -EPROTO;
}

int
vt_genl_socket(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int
send_getfamily(int fd, const char *name, guint32 seq)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr gh;
		struct nlattr na;
		char name[NLA_ALIGN(GENL_NAMSIZ)];
	} req;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	gsize n = strlen(name);

	if (n == 0 || n > VT_GENL_NAME_MAX)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = GENL_ID_CTRL;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = seq;
	req.gh.cmd = CTRL_CMD_GETFAMILY;
	req.gh.version = 1;
	req.na.nla_type = CTRL_ATTR_FAMILY_NAME;
	req.na.nla_len = (guint16)(NLA_HDRLEN + n + 1);
	memcpy(req.name, name, n);
	req.nh.nlmsg_len = (guint32)(NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(req.na.nla_len));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* One datagram's answer to @seq: 1 when found (0 or -errno in *@result). */
static int
answer_in(const guint8 *buf, gsize len, guint32 seq, const char *group, guint16 *family,
	  guint32 *group_id, int *result)
{
	const struct nlmsghdr *msg;
	gsize off = 0;
	int r;

	while ((r = vt_nl_next_message(buf, len, &off, &msg)) > 0) {
		const guint8 *payload;
		gsize plen;

		if (msg->nlmsg_seq != seq)
			continue; /* not ours: a notification or a stale answer */
		if (msg->nlmsg_type == NLMSG_ERROR) {
			*result = vt_nl_message_error(msg);
			if (*result == 0)
				continue; /* an ack comes after the answer */
			return 1;
		}
		if (msg->nlmsg_type != GENL_ID_CTRL)
			continue;
		payload = vt_nl_payload(msg, GENL_HDRLEN, &plen, &r);
		*result = payload == NULL
				  ? r
				  : vt_genl_parse_family(payload, plen, group, family, group_id);
		return 1;
	}
	if (r < 0) {
		*result = r;
		return 1;
	}
	return 0;
}

int
vt_genl_resolve(int fd, const char *name, const char *group, guint16 *family, guint32 *group_id)
{
	g_autofree guint8 *buf = g_malloc(VT_NL_DATAGRAM_MAX);
	static guint32 seq_counter;
	guint32 seq = ++seq_counter;
	int r = send_getfamily(fd, name, seq);

	if (r < 0)
		return r;
	for (guint i = 0; i < VT_GENL_ANSWER_TRIES; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n = recv(fd, buf, VT_NL_DATAGRAM_MAX, MSG_DONTWAIT);
		int result = 0;

		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, VT_GENL_ANSWER_MS) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0)
			return -errno;
		if (answer_in(buf, (gsize)n, seq, group, family, group_id, &result))
			return result;
	}
	return -ETIMEDOUT;
}
