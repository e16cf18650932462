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

/* What an announcement may have made stale. */
typedef enum {
	/* a block or net device came, went or was renamed (any action but
	 * "change"): the listings */
	VT_UEVENT_DEVICES = 1 << 0,
	/* a block device changed (a resize, a medium): its size */
	VT_UEVENT_BLOCK_CHANGE = 1 << 1,
	/* a CPU came, went, or was taken on- or offline: the online count */
	VT_UEVENT_CPU = 1 << 2,
	VT_UEVENT_ALL = (1 << 3) - 1,
} VtUeventFlags;

/*
 * Reads what arrived since the last call, without waiting: the VtUeventFlags
 * of what arrived; all of them when a message could not be understood, the
 * socket overran (ENOBUFS: some were lost), more than the drain bound was
 * queued, or the socket failed.
 */
guint vt_uevent_monitor_changed(VtUeventMonitor *m);

/* Its socket, to poll: readable (or in error) when something is queued. */
int vt_uevent_monitor_fd(const VtUeventMonitor *m);

/*
 * One uevent ("ACTION@DEVPATH\0ACTION=add\0SUBSYSTEM=block\0..."): the
 * VtUeventFlags it sets (0 for other devices), or -EPROTO when it is not of
 * that form (the caller treats that as every change). Exposed for the tests.
 */
int vt_uevent_parse(const char *buf, gsize len);

G_END_DECLS
