/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The kernel's device announcements (NETLINK_KOBJECT_UEVENT, the group udev
 * listens to): every block device and network interface that comes, goes or
 * is renamed is announced there. The listings of /sys/block and
 * /sys/class/net are then kept between reports and read again only when such
 * an announcement has arrived since.
 */
typedef struct VtUeventMonitor VtUeventMonitor;

/* Joins the kernel's group: 0 or -errno. */
int vt_uevent_monitor_open(VtUeventMonitor **out);
void vt_uevent_monitor_close(VtUeventMonitor *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtUeventMonitor, vt_uevent_monitor_close)

/* Datagrams read per call at most; more still queued counts as a change. */
#define VT_UEVENT_MONITOR_DRAIN_MAX 64u

/*
 * Reads what arrived since the last call, without waiting. TRUE when kept
 * listings may be stale: a block or net device was added, removed or moved,
 * a message could not be understood, the socket overran (ENOBUFS), more than
 * the drain bound was queued, or the socket failed.
 */
gboolean vt_uevent_monitor_changed(VtUeventMonitor *m);

/*
 * One uevent ("ACTION@DEVPATH\0ACTION=add\0SUBSYSTEM=block\0..."): 1 when it
 * says a block or net device came, went or was renamed (any action but
 * "change", which leaves the listings as they were), 0 for another device or
 * a change, -EPROTO when it is not of that form (the caller treats that as a
 * change too). Exposed for the tests.
 */
int vt_uevent_parse(const char *buf, gsize len);

G_END_DECLS
