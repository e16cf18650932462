/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's capabilities XML (virConnectGetCapabilities, `virsh
 * capabilities`): parsed, then the NUMA lookups the rules make. The input is
 * also read as a libvirt cpuset, the other text this file decodes.
 */
#include "capabilities.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtHostCaps) caps = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = vt_fuzz_text(data, size);
	guint8 bits[VT_CPUSET_MAX / 8];

	vt_fuzz_setup();
	(void)vt_cpuset_parse(text, bits);
	caps = vt_host_caps_parse((const char *)data, (gssize)size, &error);
	if (caps == NULL) {
		g_assert(error != NULL);
		return 0;
	}
	(void)vt_host_caps_node_of_cpu(caps, 0);
	(void)vt_host_caps_node_of_cpu(caps, VT_CPUSET_MAX);
	(void)vt_host_caps_cells_spanned(caps, "0-3,^2,8");
	if (size < 256)
		(void)vt_host_caps_cells_spanned(caps, text);
	return 0;
}
