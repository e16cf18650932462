/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <linux/netlink.h>

G_BEGIN_DECLS

/*
 * Every network interface's link state and counters from one rtnetlink
 * RTM_GETLINK dump: what /sys/class/net/IFACE/{ifindex,mtu,address,carrier,
 * statistics/...} hold, for all interfaces in a few datagrams instead of a
 * dozen reads per interface; between link changes, the counters alone from
 * an RTM_GETSTATS dump. Every int returned here is 0 or -errno.
 */

/* Interfaces kept from one dump at most; the report holds far fewer. */
#define VT_LINKS_MAX 4096u

/* Hardware address bytes at most (MAX_ADDR_LEN). */
#define VT_LINK_ADDR_MAX 32u

/* The counters of struct rtnl_link_stats64 the report keeps, in the order of
 * the sysfs statistics/ files (rx bytes, packets, errors, dropped, then tx). */
#define VT_LINK_STATS 8u

typedef struct {
	gint32 ifindex;
	guint32 flags; /* IFF_* */
	char name[16]; /* IFNAMSIZ, NUL-terminated */
	gboolean has_mtu;
	guint32 mtu;
	guint addr_len; /* 0: none announced */
	guint8 addr[VT_LINK_ADDR_MAX];
	gboolean has_carrier;
	gboolean carrier;
	gboolean has_stats;
	guint64 stats[VT_LINK_STATS];
} VtLink;

/*
 * One RTM_NEWLINK message into @out: 1 when it is one (with a name), 0 when
 * it is another kind of message, -EPROTO when it is not well formed (an
 * attribute cut or of the wrong size). Exposed for the tests.
 */
int vt_link_parse(const struct nlmsghdr *msg, VtLink *out);

/* The open rtnetlink socket and the last dump, kept between reports. */
typedef struct VtLinks VtLinks;

int vt_links_open(VtLinks **out);
void vt_links_close(VtLinks *links);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtLinks, vt_links_close)

/* Dumps every interface again (the previous dump's memory reused). */
int vt_links_dump(VtLinks *links);

/*
 * This report's links: only the counters of every interface (one
 * RTM_GETSTATS dump, IFLA_STATS_LINK_64 alone, far less for the kernel to
 * write than RTM_GETLINK) while the kernel has announced no link change in
 * RTMGRP_LINK since the last full dump (it does for flags, carrier, MTU,
 * address, name, an interface coming or going); else, with @full, or when
 * the counters do not cover the same interfaces, the full dump.
 */
int vt_links_refresh(VtLinks *links, gboolean full);

/*
 * One RTM_NEWSTATS message: 1 with the ifindex and the counters (in VtLink
 * stats order) filled, 0 for another kind of message or one without
 * IFLA_STATS_LINK_64, -EPROTO when it is not well formed. Exposed for the
 * tests.
 */
int vt_link_stats_parse(const struct nlmsghdr *msg, gint32 *ifindex, guint64 stats[VT_LINK_STATS]);

/* The interface named @name in the last dump, or NULL. */
const VtLink *vt_links_find(const VtLinks *links, const char *name);

/* "aa:bb:cc:dd:ee:ff" (lowercase, as sysfs prints it) into @buf of at least
 * VT_LINK_ADDR_MAX * 3 bytes; FALSE when there is no address. */
gboolean vt_link_address_text(const VtLink *link, char *buf, gsize cap);

G_END_DECLS
