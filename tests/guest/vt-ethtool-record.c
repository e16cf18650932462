/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records what the kernel's ethtool answers for the given interfaces, in the
 * replay format the collector tests read (see ethtool-replay.h).
 * Usage: vt-ethtool-record IFACE... > answers.ini
 */
#include <stdio.h>

#include "ethtool-replay.h"

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	if (argc < 2) {
		g_printerr("usage: vt-ethtool-record IFACE...\n");
		return 2;
	}
	text = vt_ethtool_record(vt_ethtool_ops_kernel(), (const char *const *)argv + 1, &error);
	if (text == NULL) {
		g_printerr("vt-ethtool-record: %s\n", error->message);
		return 1;
	}
	fputs(text, stdout);
	return 0;
}
