/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <linux/netlink.h>

G_BEGIN_DECLS

/*
 * Raw netlink, just what the agent needs: walking the messages of one
 * datagram and the attributes of one message, every length checked against
 * what was received; and the generic netlink controller's answer about a
 * family (its id and one multicast group). Every int returned here is 0 or a
 * negative errno; -EPROTO means the bytes were not well formed.
 */

/* Largest datagram read at once: a dump part is at most a page or 32 KiB. */
#define VT_NL_DATAGRAM_MAX (32u * 1024u)

/* Attributes nested this deep at most (the controller's groups are 2). */
#define VT_NL_NEST_MAX 4u

/* Messages of one datagram: @off starts at 0; each call gives the next
 * message (header and payload of nlmsg_len - header bytes) and returns 1, 0
 * at the end, -EPROTO when a length does not fit what is left. */
int vt_nl_next_message(const guint8 *buf, gsize len, gsize *off, const struct nlmsghdr **msg);

/* The payload of @msg after @header bytes of family header (genlmsghdr...),
 * or NULL (-EPROTO in *@err) when the message is shorter. */
const guint8 *vt_nl_payload(const struct nlmsghdr *msg, gsize header, gsize *len, int *err);

/* Attributes of one message or nest, indexed by type: tb[type] is the last
 * attribute of that type (types above @max are skipped, as the kernel adds
 * new ones); tb has @max + 1 entries, cleared first. -EPROTO when an
 * attribute's length is below its header or runs past @len. */
int vt_nl_parse_attrs(const guint8 *buf, gsize len, const struct nlattr **tb, guint max);

/* Attribute payloads, each refusing (FALSE) the wrong size. */
guint16 vt_nl_attr_len(const struct nlattr *a);
const guint8 *vt_nl_attr_data(const struct nlattr *a);
gboolean vt_nl_attr_u16(const struct nlattr *a, guint16 *out);
gboolean vt_nl_attr_u32(const struct nlattr *a, guint32 *out);
/* A NUL-terminated string of at most @max bytes before the NUL. */
gboolean vt_nl_attr_string(const struct nlattr *a, gsize max, const char **out);

/*
 * The controller's CTRL_CMD_NEWFAMILY answer in @payload (after the
 * genlmsghdr): the family id, and the id of multicast group @group (0 when
 * @group is NULL or not offered). -ENOENT when the answer has no id.
 */
int vt_genl_parse_family(const guint8 *payload, gsize len, const char *group, guint16 *family,
			 guint32 *group_id);

/* An error or ack message's errno (0 for an ack), -EPROTO when cut. */
int vt_nl_message_error(const struct nlmsghdr *msg);

/* A NETLINK_GENERIC socket (non-blocking, close-on-exec), or -errno. */
int vt_genl_socket(void);

/* Asks the controller about @name on @fd and waits for the answer: -ENOENT
 * when the kernel has no such family (no ethtool netlink before 5.6). */
int vt_genl_resolve(int fd, const char *name, const char *group, guint16 *family,
		    guint32 *group_id);

G_END_DECLS
