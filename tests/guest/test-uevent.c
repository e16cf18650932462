/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's device announcements (NETLINK_KOBJECT_UEVENT) as the agent
 * reads them: what each kind of uevent makes stale, and every cut of one.
 */
#include <errno.h>
#include <string.h>

#include "kernel/uevent-monitor.h"

/* What the kernel sends for a NIC that comes (as `udevadm monitor -k -p` shows it). */
static const char net_add[] = "add@/devices/virtual/net/dummy0\0ACTION=add\0"
			      "DEVPATH=/devices/virtual/net/dummy0\0SUBSYSTEM=net\0"
			      "INTERFACE=dummy0\0IFINDEX=5\0SEQNUM=3021";

static void
test_uevent(void)
{
	static const char block_remove[] = "remove@/devices/virtual/block/loop9\0ACTION=remove\0"
					   "DEVPATH=/devices/virtual/block/loop9\0"
					   "SUBSYSTEM=block\0DEVNAME=loop9\0SEQNUM=7";
	static const char net_move[] = "move@/devices/virtual/net/eth9\0ACTION=move\0"
				       "DEVPATH=/devices/virtual/net/eth9\0SUBSYSTEM=net\0"
				       "DEVPATH_OLD=/devices/virtual/net/dummy0\0SEQNUM=8";
	static const char block_change[] = "change@/devices/virtual/block/vda\0ACTION=change\0"
					   "DEVPATH=/devices/virtual/block/vda\0"
					   "SUBSYSTEM=block\0RESIZE=1\0SEQNUM=9";
	static const char cpu_add[] = "add@/devices/system/cpu/cpu3\0ACTION=add\0"
				      "DEVPATH=/devices/system/cpu/cpu3\0SUBSYSTEM=cpu\0SEQNUM=10";
	static const char net_change[] =
		"change@/devices/virtual/net/eth0\0ACTION=change\0"
		"DEVPATH=/devices/virtual/net/eth0\0SUBSYSTEM=net\0SEQNUM=13";
	static const char pci_add[] = "add@/devices/pci0000:00/0000:00:07.0\0ACTION=add\0"
				      "DEVPATH=/devices/pci0000:00/0000:00:07.0\0SUBSYSTEM=pci\0"
				      "SEQNUM=14";
	static const char no_subsystem[] = "add@/devices/x\0ACTION=add\0SEQNUM=11";
	static const char no_header[] = "ACTION=add\0SUBSYSTEM=net\0SEQNUM=12";

	/* each one with its last NUL, as the kernel sends it */
	g_assert_cmpint(vt_uevent_parse(net_add, sizeof(net_add)), ==, VT_UEVENT_DEVICES);
	g_assert_cmpint(vt_uevent_parse(block_remove, sizeof(block_remove)), ==, VT_UEVENT_DEVICES);
	g_assert_cmpint(vt_uevent_parse(net_move, sizeof(net_move)), ==, VT_UEVENT_DEVICES);
	g_assert_cmpint(vt_uevent_parse(block_change, sizeof(block_change)), ==,
			VT_UEVENT_BLOCK_CHANGE);
	g_assert_cmpint(vt_uevent_parse(cpu_add, sizeof(cpu_add)), ==, VT_UEVENT_CPU);
	g_assert_cmpint(vt_uevent_parse(net_change, sizeof(net_change)), ==, 0);
	g_assert_cmpint(vt_uevent_parse(pci_add, sizeof(pci_add)), ==, 0);
	g_assert_cmpint(vt_uevent_parse(no_subsystem, sizeof(no_subsystem)), ==, -EPROTO);
	g_assert_cmpint(vt_uevent_parse(no_header, sizeof(no_header)), ==, -EPROTO);
	g_assert_cmpint(vt_uevent_parse(net_add, 0), ==, -EPROTO);
}

/* Every cut of a message is refused or read within what was given (the
 * sanitizer build checks the "within"). */
static void
test_uevent_truncated(void)
{
	const char *subsystem = memmem(net_add, sizeof(net_add), "SUBSYSTEM=net", 14);
	/* "SUBSYSTEM=net" and its NUL: where a cut first leaves both variables whole */
	gsize whole = (gsize)(subsystem - net_add) + 14;

	for (gsize len = 0; len < sizeof(net_add); len++) {
		g_autofree char *copy = g_memdup2(net_add, len);
		int r = vt_uevent_parse(copy, len);

		/* a cut inside a string is refused; one between strings after
		 * both still says what they say */
		if (len >= whole && copy[len - 1] == '\0')
			g_assert_cmpint(r, ==, VT_UEVENT_DEVICES);
		else
			g_assert_cmpint(r, ==, -EPROTO);
	}
	g_assert_cmpint(vt_uevent_parse(net_add, sizeof(net_add)), ==, VT_UEVENT_DEVICES);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/uevent/parse", test_uevent);
	g_test_add_func("/uevent/truncated", test_uevent_truncated);
	return g_test_run();
}
