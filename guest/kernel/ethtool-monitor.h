/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Ethtool netlink's "monitor" multicast group: the kernel announces there
 * every change of a device's channels, rings, features and the other ethtool
 * settings, whether it was made over netlink, by the SIOCETHTOOL ioctl or by
 * the driver (netdev_features_change). Answers that only such a change can
 * move are then kept between reports and asked again only when a
 * notification has arrived since: no request at all in the steady state.
 */
typedef struct VtEthtoolMonitor VtEthtoolMonitor;

/* Joins the group: -ENOENT on kernels without ethtool netlink (before 5.6),
 * where every report asks the ioctls as before. */
int vt_ethtool_monitor_open(VtEthtoolMonitor **out);
void vt_ethtool_monitor_close(VtEthtoolMonitor *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEthtoolMonitor, vt_ethtool_monitor_close)

/* Datagrams read per call at most; more still queued counts as a change. */
#define VT_ETHTOOL_MONITOR_DRAIN_MAX 64u

/*
 * Reads what arrived since the last call, without waiting. TRUE when kept
 * answers may be stale: a notification of the family came, the socket
 * overran (ENOBUFS: notifications were lost), more than the drain bound was
 * queued, or the socket failed.
 */
gboolean vt_ethtool_monitor_changed(VtEthtoolMonitor *m);

/* Its socket, to poll: readable (or in error) when something is queued. */
int vt_ethtool_monitor_fd(const VtEthtoolMonitor *m);

/*
 * One datagram from the group: 1 when it holds a notification of @family, 0
 * when it holds none, -EPROTO when it is not well formed (the caller treats
 * that as a change too). Exposed for the tests.
 */
int vt_ethtool_monitor_parse(const guint8 *buf, gsize len, guint16 family);

G_END_DECLS
