/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The netlink message and attribute parser of guest/kernel/netlink.c and the
 * ethtool monitor's notification check and the rtnetlink link parser, on
 * messages recorded from a 6.18 kernel (tests/data/netlink, see its README) and on hostile ones:
 * cut at every length, attributes longer than their message, lengths below a header, wrong-sized
 * values, strings without their NUL. The RTM_NEWSTATS parser on built messages, and (as root,
 * in a network namespace of its own) a counters-only refresh that turns full on a link change.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/ethtool-monitor.h"
#include "kernel/links.h"
#include "kernel/netlink.h"

/* What the recording kernel gave the ethtool family and its monitor group. */
#define REC_FAMILY  21
#define REC_MONITOR 6

static GBytes *
recorded(const char *name)
{
	g_autofree char *path = g_build_filename(g_getenv("VT_TEST_DATA"), "netlink", name, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;
	gsize len = 0;

	g_file_get_contents(path, &text, &len, &error);
	g_assert_no_error(error);
	return g_bytes_new_take(text, len);
}

/* A copy of exactly @len bytes, so that a read past them is caught (ASan). */
static guint8 *
exact_copy(const guint8 *data, gsize len)
{
	return g_memdup2(data, MAX(len, 1));
}

/* The controller's answer: its one message's payload after the genlmsghdr. */
static const guint8 *
family_payload(const guint8 *buf, gsize len, gsize *plen)
{
	const struct nlmsghdr *msg = NULL;
	gsize off = 0;
	int err = 0;
	const guint8 *p;

	g_assert_cmpint(vt_nl_next_message(buf, len, &off, &msg), ==, 1);
	g_assert_cmpuint(msg->nlmsg_type, ==, GENL_ID_CTRL);
	p = vt_nl_payload(msg, GENL_HDRLEN, plen, &err);
	g_assert_cmpint(err, ==, 0);
	g_assert_cmpint(vt_nl_next_message(buf, len, &off, &msg), ==, 0);
	return p;
}

static void
test_family_recorded(void)
{
	g_autoptr(GBytes) b = recorded("ctrl-family-ethtool.bin");
	gsize len, plen;
	const guint8 *buf = g_bytes_get_data(b, &len);
	const guint8 *p = family_payload(buf, len, &plen);
	guint16 family;
	guint32 group;

	g_assert_cmpint(vt_genl_parse_family(p, plen, "monitor", &family, &group), ==, 0);
	g_assert_cmpuint(family, ==, REC_FAMILY);
	g_assert_cmpuint(group, ==, REC_MONITOR);
	/* a group the family does not offer: the family, no group */
	g_assert_cmpint(vt_genl_parse_family(p, plen, "nosuch", &family, &group), ==, 0);
	g_assert_cmpuint(family, ==, REC_FAMILY);
	g_assert_cmpuint(group, ==, 0);
	g_assert_cmpint(vt_genl_parse_family(p, plen, NULL, &family, &group), ==, 0);
	g_assert_cmpuint(group, ==, 0);
}

static void
test_notification_recorded(void)
{
	g_autoptr(GBytes) b = recorded("ethtool-features-ntf-lo.bin");
	gsize len;
	const guint8 *buf = g_bytes_get_data(b, &len);

	g_assert_cmpint(vt_ethtool_monitor_parse(buf, len, REC_FAMILY), ==, 1);
	/* another family's message announces nothing */
	g_assert_cmpint(vt_ethtool_monitor_parse(buf, len, REC_FAMILY + 1), ==, 0);
	g_assert_cmpint(vt_ethtool_monitor_parse(buf, 0, REC_FAMILY), ==, 0);
}

/* Every cut of a recorded datagram is refused as a whole message, and its
 * payload cut anywhere parses or is refused without reading past the cut. */
static void
test_truncated(void)
{
	g_autoptr(GBytes) fam = recorded("ctrl-family-ethtool.bin");
	g_autoptr(GBytes) ntf = recorded("ethtool-features-ntf-lo.bin");
	gsize flen, nlen, plen;
	const guint8 *fbuf = g_bytes_get_data(fam, &flen);
	const guint8 *nbuf = g_bytes_get_data(ntf, &nlen);
	const guint8 *payload = family_payload(fbuf, flen, &plen);

	for (gsize cut = 1; cut < flen; cut++) {
		g_autofree guint8 *c = exact_copy(fbuf, cut);
		const struct nlmsghdr *msg;
		gsize off = 0;

		g_assert_cmpint(vt_nl_next_message(c, cut, &off, &msg), ==, -EPROTO);
	}
	for (gsize cut = 1; cut < nlen; cut++) {
		g_autofree guint8 *c = exact_copy(nbuf, cut);

		g_assert_cmpint(vt_ethtool_monitor_parse(c, cut, REC_FAMILY), ==, -EPROTO);
	}
	for (gsize cut = 0; cut < plen; cut++) {
		g_autofree guint8 *c = exact_copy(payload, cut);
		guint16 family = 1;
		guint32 group = 1;
		int r = vt_genl_parse_family(c, cut, "monitor", &family, &group);

		/* before the family id: not found; after it, cut inside an attribute: refused */
		g_assert_true(r == 0 || r == -EPROTO || r == -ENOENT);
		if (r == 0)
			g_assert_cmpuint(family, ==, REC_FAMILY);
		if (r != 0)
			g_assert_cmpuint(family, ==, 0);
	}
}

/* Builds an attribute at @p: header claiming @claimed bytes, @len bytes of @data. */
static gsize
put_attr(guint8 *p, guint16 type, guint16 claimed, const void *data, gsize len)
{
	struct nlattr a = {.nla_len = claimed, .nla_type = type};

	memcpy(p, &a, sizeof(a));
	if (len > 0)
		memcpy(p + NLA_HDRLEN, data, len);
	return NLA_ALIGN(NLA_HDRLEN + len);
}

static void
test_attr_lengths(void)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	guint8 buf[64] = {0};
	guint16 id = REC_FAMILY;
	guint16 v16;
	guint32 v32;
	const char *s;
	gsize n;

	/* longer than what holds it */
	n = put_attr(buf, CTRL_ATTR_FAMILY_ID, 200, &id, sizeof(id));
	g_assert_cmpint(vt_nl_parse_attrs(buf, n, tb, CTRL_ATTR_MAX), ==, -EPROTO);
	/* shorter than its own header, 0 included: refused, never looped on */
	for (guint16 claimed = 0; claimed < NLA_HDRLEN; claimed++) {
		n = put_attr(buf, CTRL_ATTR_FAMILY_ID, claimed, NULL, 0);
		g_assert_cmpint(vt_nl_parse_attrs(buf, n, tb, CTRL_ATTR_MAX), ==, -EPROTO);
	}
	/* fewer bytes left than a header */
	g_assert_cmpint(vt_nl_parse_attrs(buf, 3, tb, CTRL_ATTR_MAX), ==, -EPROTO);
	/* a type above the table is skipped, the rest still read */
	n = put_attr(buf, 4000, NLA_HDRLEN + 2, &id, 2);
	n += put_attr(buf + n, CTRL_ATTR_FAMILY_ID, NLA_HDRLEN + 2, &id, 2);
	g_assert_cmpint(vt_nl_parse_attrs(buf, n, tb, CTRL_ATTR_MAX), ==, 0);
	g_assert_true(vt_nl_attr_u16(tb[CTRL_ATTR_FAMILY_ID], &v16));
	g_assert_cmpuint(v16, ==, REC_FAMILY);
	/* wrong sizes */
	g_assert_false(vt_nl_attr_u32(tb[CTRL_ATTR_FAMILY_ID], &v32));
	g_assert_false(vt_nl_attr_u16(NULL, &v16));
	n = put_attr(buf, CTRL_ATTR_FAMILY_ID, NLA_HDRLEN + 3, "abc", 3);
	g_assert_cmpint(vt_nl_parse_attrs(buf, n, tb, CTRL_ATTR_MAX), ==, 0);
	g_assert_false(vt_nl_attr_u16(tb[CTRL_ATTR_FAMILY_ID], &v16));
	g_assert_cmpint(vt_genl_parse_family(buf, n, NULL, &v16, &v32), ==, -EPROTO);
	/* a string without its NUL, and one over the bound */
	n = put_attr(buf, CTRL_ATTR_FAMILY_NAME, NLA_HDRLEN + 4, "abcd", 4);
	g_assert_cmpint(vt_nl_parse_attrs(buf, n, tb, CTRL_ATTR_MAX), ==, 0);
	g_assert_false(vt_nl_attr_string(tb[CTRL_ATTR_FAMILY_NAME], 15, &s));
	n = put_attr(buf, CTRL_ATTR_FAMILY_NAME, NLA_HDRLEN + 5, "abcd", 5);
	g_assert_cmpint(vt_nl_parse_attrs(buf, n, tb, CTRL_ATTR_MAX), ==, 0);
	g_assert_true(vt_nl_attr_string(tb[CTRL_ATTR_FAMILY_NAME], 4, &s));
	g_assert_cmpstr(s, ==, "abcd");
	g_assert_false(vt_nl_attr_string(tb[CTRL_ATTR_FAMILY_NAME], 3, &s));
	/* no family id at all */
	g_assert_cmpint(vt_genl_parse_family(buf, n, NULL, &v16, &v32), ==, -ENOENT);
	/* a family id in the range of the control messages */
	n = put_attr(buf, CTRL_ATTR_FAMILY_ID, NLA_HDRLEN + 2, &(guint16){NLMSG_ERROR}, 2);
	g_assert_cmpint(vt_genl_parse_family(buf, n, NULL, &v16, &v32), ==, -EPROTO);
}

/* The groups nest with a group entry longer than the nest. */
static void
test_group_nest_oversize(void)
{
	guint8 buf[128] = {0}, inner[64] = {0};
	guint16 id = REC_FAMILY;
	guint32 gid = REC_MONITOR;
	gsize n, in;
	guint16 v16;
	guint32 v32;

	in = put_attr(inner, CTRL_ATTR_MCAST_GRP_ID, NLA_HDRLEN + 4, &gid, 4);
	in += put_attr(inner + in, CTRL_ATTR_MCAST_GRP_NAME, NLA_HDRLEN + 8, "monitor", 8);
	/* group 1 claims more than the groups nest holds */
	n = put_attr(buf, CTRL_ATTR_FAMILY_ID, NLA_HDRLEN + 2, &id, 2);
	{
		guint8 nest[80] = {0};
		gsize k = put_attr(nest, 1, (guint16)(NLA_HDRLEN + in + 40), inner, in);

		n += put_attr(buf + n, CTRL_ATTR_MCAST_GROUPS, (guint16)(NLA_HDRLEN + k), nest, k);
	}
	g_assert_cmpint(vt_genl_parse_family(buf, n, "monitor", &v16, &v32), ==, -EPROTO);
	/* well formed, the same group is found */
	{
		guint8 nest[80] = {0};
		gsize k = put_attr(nest, 1, (guint16)(NLA_HDRLEN + in), inner, in);

		n = put_attr(buf, CTRL_ATTR_FAMILY_ID, NLA_HDRLEN + 2, &id, 2);
		n += put_attr(buf + n, CTRL_ATTR_MCAST_GROUPS, (guint16)(NLA_HDRLEN + k), nest, k);
	}
	g_assert_cmpint(vt_genl_parse_family(buf, n, "monitor", &v16, &v32), ==, 0);
	g_assert_cmpuint(v32, ==, REC_MONITOR);
}

static void
test_message_lengths(void)
{
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} m;
	const struct nlmsghdr *msg;
	gsize off = 0;

	memset(&m, 0, sizeof(m));
	/* below a header, 0 included: refused, never looped on */
	for (guint32 l = 0; l < NLMSG_HDRLEN; l++) {
		m.h.nlmsg_len = l;
		off = 0;
		g_assert_cmpint(vt_nl_next_message((guint8 *)&m, sizeof(m), &off, &msg), ==,
				-EPROTO);
	}
	m.h.nlmsg_len = sizeof(m) + 1;
	off = 0;
	g_assert_cmpint(vt_nl_next_message((guint8 *)&m, sizeof(m), &off, &msg), ==, -EPROTO);
	/* an error message: the kernel's negative errno; a positive one is not believed */
	m.h.nlmsg_len = sizeof(m);
	m.h.nlmsg_type = NLMSG_ERROR;
	m.e.error = -ENOENT;
	g_assert_cmpint(vt_nl_message_error(&m.h), ==, -ENOENT);
	m.e.error = 0;
	g_assert_cmpint(vt_nl_message_error(&m.h), ==, 0);
	m.e.error = 5;
	g_assert_cmpint(vt_nl_message_error(&m.h), ==, -EPROTO);
	m.h.nlmsg_len = NLMSG_HDRLEN + 2;
	g_assert_cmpint(vt_nl_message_error(&m.h), ==, -EPROTO);
	/* a family header longer than the message */
	{
		gsize plen;
		int err = 0;

		m.h.nlmsg_len = NLMSG_HDRLEN + 2;
		g_assert_null(vt_nl_payload(&m.h, GENL_HDRLEN, &plen, &err));
		g_assert_cmpint(err, ==, -EPROTO);
	}
}

/* ------------------------------------------------------------ rtnetlink links */

static void
test_link_recorded(void)
{
	g_autoptr(GBytes) b = recorded("rtnl-getlink-dump.bin");
	gsize len, off = 0;
	const guint8 *buf = g_bytes_get_data(b, &len);
	const struct nlmsghdr *msg = NULL;
	char mac[VT_LINK_ADDR_MAX * 3];
	VtLink link;

	g_assert_cmpint(vt_nl_next_message(buf, len, &off, &msg), ==, 1);
	g_assert_cmpint(vt_link_parse(msg, &link), ==, 1);
	g_assert_cmpstr(link.name, ==, "lo");
	g_assert_cmpint(link.ifindex, ==, 1);
	g_assert_true(link.flags & IFF_UP);
	g_assert_true(link.has_mtu);
	g_assert_cmpuint(link.mtu, ==, 65536);
	g_assert_cmpuint(link.addr_len, ==, 6);
	g_assert_true(vt_link_address_text(&link, mac, sizeof(mac)));
	g_assert_cmpstr(mac, ==, "00:00:00:00:00:00");
	g_assert_true(link.has_carrier);
	g_assert_true(link.carrier);
	g_assert_true(link.has_stats);
	/* nothing went through the new namespace's lo */
	for (guint i = 0; i < VT_LINK_STATS; i++)
		g_assert_cmpuint(link.stats[i], ==, 0);
	g_assert_cmpint(vt_nl_next_message(buf, len, &off, &msg), ==, 0);
}

/* The recorded link message with its length cut to every size: parsed (when
 * the cut falls between attributes) or refused, never read past the cut. */
static void
test_link_truncated(void)
{
	g_autoptr(GBytes) b = recorded("rtnl-getlink-dump.bin");
	gsize len;
	const guint8 *buf = g_bytes_get_data(b, &len);
	guint32 full = ((const struct nlmsghdr *)(const void *)buf)->nlmsg_len;
	guint parsed = 0;

	for (guint32 cut = NLMSG_HDRLEN; cut < full; cut++) {
		g_autofree guint8 *c = exact_copy(buf, cut);
		struct nlmsghdr *h = (struct nlmsghdr *)(void *)c;
		VtLink link;
		int r;

		h->nlmsg_len = cut;
		r = vt_link_parse(h, &link);
		g_assert_true(r == 1 || r == -EPROTO);
		parsed += r == 1;
	}
	/* a cut after the name and between attributes still parses */
	g_assert_cmpuint(parsed, >, 0);
}

/* An RTM_NEWLINK message named @name with one more attribute @type of @len bytes. */
static gsize
link_message(guint8 *buf, const char *name, guint16 type, const void *data, guint16 len)
{
	struct nlmsghdr h = {.nlmsg_type = RTM_NEWLINK};
	struct ifinfomsg ifi = {.ifi_index = 7, .ifi_flags = IFF_UP};
	gsize n = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifi));

	memcpy(buf + NLMSG_HDRLEN, &ifi, sizeof(ifi));
	n += put_attr(buf + n, IFLA_IFNAME, (guint16)(NLA_HDRLEN + strlen(name) + 1), name,
		      strlen(name) + 1);
	if (data != NULL)
		n += put_attr(buf + n, type, (guint16)(NLA_HDRLEN + len), data, len);
	h.nlmsg_len = (guint32)n;
	memcpy(buf, &h, sizeof(h));
	return n;
}

static void
test_link_hostile(void)
{
	guint8 buf[2048] = {0};
	guint8 big[1100] = {0};
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	VtLink link;

	link_message(buf, "eth0", 0, NULL, 0);
	g_assert_cmpint(vt_link_parse(h, &link), ==, 1);
	g_assert_cmpint(link.ifindex, ==, 7);
	g_assert_false(link.has_mtu || link.has_carrier || link.has_stats);
	g_assert_false(vt_link_address_text(&link, (char[96]){0}, 96));
	/* another message type is no link */
	h->nlmsg_type = RTM_NEWADDR;
	g_assert_cmpint(vt_link_parse(h, &link), ==, 0);
	/* a name as long as IFNAMSIZ with no room for the NUL, and an empty one */
	link_message(buf, "0123456789abcdef", 0, NULL, 0);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	link_message(buf, "", 0, NULL, 0);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	/* an address longer than any hardware has */
	link_message(buf, "eth0", IFLA_ADDRESS, big, VT_LINK_ADDR_MAX + 1);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	/* counters cut short, and oversize */
	link_message(buf, "eth0", IFLA_STATS64, big, VT_LINK_STATS * 8 - 1);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	link_message(buf, "eth0", IFLA_STATS64, big, sizeof(big));
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	/* mtu and carrier of the wrong size or value */
	link_message(buf, "eth0", IFLA_MTU, big, 2);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	link_message(buf, "eth0", IFLA_CARRIER, big, 4);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	big[0] = 2;
	link_message(buf, "eth0", IFLA_CARRIER, big, 1);
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	/* an attribute claiming more than the message */
	link_message(buf, "eth0", 0, NULL, 0);
	h->nlmsg_len -= 4;
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
	/* shorter than the ifinfomsg */
	h->nlmsg_len = NLMSG_HDRLEN + 4;
	g_assert_cmpint(vt_link_parse(h, &link), ==, -EPROTO);
}

/* The live dump against sysfs, for what does not move: ifindex, mtu, address. */
static void
test_links_live(void)
{
	g_autoptr(VtLinks) links = NULL;
	g_autoptr(GDir) dir = g_dir_open("/sys/class/net", 0, NULL);
	const char *name;
	guint seen = 0;
	int r = vt_links_open(&links);

	if (r < 0 || dir == NULL) {
		g_test_skip("no rtnetlink or no /sys/class/net here");
		return;
	}
	g_assert_cmpint(vt_links_dump(links), ==, 0);
	/* twice: the kept memory and the sequence numbers hold */
	g_assert_cmpint(vt_links_dump(links), ==, 0);
	while ((name = g_dir_read_name(dir)) != NULL) {
		const VtLink *link = vt_links_find(links, name);
		/* an interface made since the dump: once more */
		if (link == NULL && vt_links_dump(links) == 0)
			link = vt_links_find(links, name);
		g_autofree char *base = g_build_filename("/sys/class/net", name, NULL);
		g_autofree char *path = g_build_filename(base, "ifindex", NULL);
		g_autofree char *ifindex = NULL, *mtu = NULL, *address = NULL;
		char mac[VT_LINK_ADDR_MAX * 3];

		g_assert_nonnull(link);
		g_assert_true(g_file_get_contents(path, &ifindex, NULL, NULL));
		g_assert_cmpint(link->ifindex, ==, atoi(ifindex));
		g_free(path);
		path = g_build_filename(base, "mtu", NULL);
		g_assert_true(g_file_get_contents(path, &mtu, NULL, NULL));
		g_assert_cmpuint(link->mtu, ==, (guint)atoi(mtu));
		g_free(path);
		path = g_build_filename(base, "address", NULL);
		g_assert_true(g_file_get_contents(path, &address, NULL, NULL));
		g_strchomp(address);
		if (*address != '\0') {
			g_assert_true(vt_link_address_text(link, mac, sizeof(mac)));
			g_assert_cmpstr(mac, ==, address);
		}
		seen++;
	}
	g_assert_cmpuint(seen, >, 0);
	g_assert_null(vt_links_find(links, "no-such-if"));
}

/* An RTM_NEWSTATS message of ifindex 9 with one attribute (none when @data is NULL). */
static gsize
stats_message(guint8 *buf, guint16 type, const void *data, guint16 len)
{
	struct nlmsghdr h = {.nlmsg_type = RTM_NEWSTATS};
	struct if_stats_msg ifsm = {.ifindex = 9};
	gsize n = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifsm));

	memcpy(buf + NLMSG_HDRLEN, &ifsm, sizeof(ifsm));
	if (data != NULL)
		n += put_attr(buf + n, type, (guint16)(NLA_HDRLEN + len), data, len);
	h.nlmsg_len = (guint32)n;
	memcpy(buf, &h, sizeof(h));
	return n;
}

static void
test_link_stats(void)
{
	guint8 buf[2048] = {0};
	guint8 big[1100] = {0};
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	struct rtnl_link_stats64 s64 = {.rx_packets = 1,
					.tx_packets = 2,
					.rx_bytes = 3,
					.tx_bytes = 4,
					.rx_errors = 5,
					.tx_errors = 6,
					.rx_dropped = 7,
					.tx_dropped = 8,
					.multicast = 99};
	guint64 stats[VT_LINK_STATS];
	gint32 ifindex = 0;
	gsize n;

	n = stats_message(buf, IFLA_STATS_LINK_64, &s64, sizeof(s64));
	g_assert_cmpint(vt_link_stats_parse(h, &ifindex, stats), ==, 1);
	g_assert_cmpint(ifindex, ==, 9);
	/* sysfs order: rx bytes, packets, errors, dropped, then tx */
	g_assert_cmpuint(stats[0], ==, 3);
	g_assert_cmpuint(stats[1], ==, 1);
	g_assert_cmpuint(stats[2], ==, 5);
	g_assert_cmpuint(stats[3], ==, 7);
	g_assert_cmpuint(stats[4], ==, 4);
	g_assert_cmpuint(stats[5], ==, 2);
	g_assert_cmpuint(stats[6], ==, 6);
	g_assert_cmpuint(stats[7], ==, 8);
	/* every cut: refused or read within what is left (the sanitizer build checks) */
	for (gsize cut = NLMSG_HDRLEN; cut < n; cut++) {
		g_autofree guint8 *copy = g_memdup2(buf, cut);
		struct nlmsghdr *ch = (struct nlmsghdr *)(void *)copy;

		ch->nlmsg_len = (guint32)cut;
		/* cut right after the header: a message without counters */
		if (cut == NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct if_stats_msg)))
			g_assert_cmpint(vt_link_stats_parse(ch, &ifindex, stats), ==, 0);
		else
			g_assert_cmpint(vt_link_stats_parse(ch, &ifindex, stats), ==, -EPROTO);
	}
	/* another message type; no counters; counters cut short or oversize */
	h->nlmsg_type = RTM_NEWLINK;
	g_assert_cmpint(vt_link_stats_parse(h, &ifindex, stats), ==, 0);
	stats_message(buf, 0, NULL, 0);
	g_assert_cmpint(vt_link_stats_parse(h, &ifindex, stats), ==, 0);
	stats_message(buf, IFLA_STATS_LINK_64, big, VT_LINK_STATS * 8 - 1);
	g_assert_cmpint(vt_link_stats_parse(h, &ifindex, stats), ==, -EPROTO);
	stats_message(buf, IFLA_STATS_LINK_64, big, sizeof(big));
	g_assert_cmpint(vt_link_stats_parse(h, &ifindex, stats), ==, -EPROTO);
}

/*
 * In a network namespace of its own (root only): counters alone while nothing
 * is announced, the full dump again when a link changes. The new namespace
 * has only lo, down; the test brings it up.
 */
static void
test_links_refresh(void)
{
	g_autoptr(VtLinks) l = NULL;
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd;

	if (unshare(CLONE_NEWNET) < 0) {
		g_test_skip("no network namespace of its own (needs root)");
		return;
	}
	g_assert_cmpint(vt_links_open(&l), ==, 0);
	g_assert_cmpint(vt_links_refresh(l, TRUE), ==, 0);
	g_assert_nonnull(vt_links_find(l, "lo"));
	g_assert_false(vt_links_find(l, "lo")->flags & IFF_UP);
	g_assert_cmpint(vt_links_refresh(l, FALSE), ==, 0);
	g_assert_true(vt_links_find(l, "lo")->has_stats);
	g_assert_false(vt_links_find(l, "lo")->flags & IFF_UP);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ioctl(fd, SIOCGIFFLAGS, &ifr), ==, 0);
	ifr.ifr_flags |= IFF_UP;
	g_assert_cmpint(ioctl(fd, SIOCSIFFLAGS, &ifr), ==, 0);
	close(fd);
	/* announced: the next refresh is a full dump, which shows it */
	g_assert_cmpint(vt_links_refresh(l, FALSE), ==, 0);
	g_assert_true(vt_links_find(l, "lo")->flags & IFF_UP);
	g_assert_cmpint(vt_links_refresh(l, FALSE), ==, 0);
	g_assert_true(vt_links_find(l, "lo")->flags & IFF_UP);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/netlink/family-recorded", test_family_recorded);
	g_test_add_func("/netlink/notification-recorded", test_notification_recorded);
	g_test_add_func("/netlink/truncated", test_truncated);
	g_test_add_func("/netlink/attr-lengths", test_attr_lengths);
	g_test_add_func("/netlink/group-nest-oversize", test_group_nest_oversize);
	g_test_add_func("/netlink/message-lengths", test_message_lengths);
	g_test_add_func("/netlink/link-recorded", test_link_recorded);
	g_test_add_func("/netlink/link-truncated", test_link_truncated);
	g_test_add_func("/netlink/link-hostile", test_link_hostile);
	g_test_add_func("/netlink/link-stats", test_link_stats);
	g_test_add_func("/netlink/links-live", test_links_live);
	/* last: it leaves the process in a network namespace of its own */
	g_test_add_func("/netlink/links-refresh", test_links_refresh);
	return g_test_run();
}
