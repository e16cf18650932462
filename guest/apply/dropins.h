/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Drop-ins that make applied changes survive a reboot, all under the sysroot:
 *   etc/sysctl.d/90-virt-tune.conf          vm.* sysctls (systemd-sysctl)
 *   etc/tmpfiles.d/90-virt-tune.conf        THP enabled/defrag ("w" lines: they
 *                                           live in /sys, which sysctl.d cannot set)
 *   etc/udev/rules.d/90-virt-tune.rules     scheduler, nr_requests, read_ahead_kb
 *   etc/systemd/network/10-virt-tune-IFACE.link   channels, rings, offloads
 *
 * NIC settings go to a systemd .link file rather than a udev rule: a udev
 * rule can only change channels by RUN+= of ethtool (a program run at every
 * boot, and the name it is given is the pre-rename kernel name), while .link
 * settings are applied by udev's own net_setup_link at the point the NIC is
 * named, with no program. Only the first .link file that matches a NIC is
 * used, so ours repeats Debian's 99-default.link [Link] naming policy and
 * matches by MAC address: the NIC keeps its predictable name.
 *
 * Every file is rebuilt whole from the journal's persistent changes and
 * written atomically (temp file, fsync, rename); one left with no setting
 * is removed (vt_applier_rebuild_dropins(), apply-private.h).
 */
typedef struct {
	char *file;    /* relative to the sysroot */
	char *key;     /* later settings of the same file+key win */
	char *line;    /* without newline */
	char *prelude; /* file text before the lines (.link: [Match] and [Link]) */
} VtDropinSetting;

void vt_dropin_setting_free(VtDropinSetting *s);

VtDropinSetting *vt_dropin_sysctl(const char *key, const char *value);
VtDropinSetting *vt_dropin_tmpfile(const char *sys_path, const char *value);
VtDropinSetting *vt_dropin_udev_block(const char *device, const char *attr, const char *value);
/* @mac: the NIC's address, or NULL to match on its kernel name. */
VtDropinSetting *vt_dropin_link(const char *iface, const char *mac, const char *key,
				const char *value);

/* Rewrite every file in @files (char *, relative) from @settings
 * (VtDropinSetting *, oldest first). */
gboolean vt_dropin_write_all(const char *sysroot, GPtrArray *settings, GPtrArray *files,
			     GError **error);

G_END_DECLS
