/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The host's NUMA topology from virConnectGetCapabilities() (or a saved
 * `virsh capabilities`): capabilities/host/topology/cells. Only what the rules
 * use is kept. Parsed with GMarkup under the same kind of bounds as the
 * domain XML.
 */

#define VT_CAPS_XML_MAX   (4u * 1024u * 1024u)
#define VT_CAPS_MAX_CELLS 1024u /* Linux's MAX_NUMNODES is at most 1024 */
#define VT_CPUSET_MAX     8192u /* NR_CPUS tops out at 8192 */

typedef struct {
	guint id;
	guint64 memory_bytes;
	GArray *cpus; /* guint: host CPU ids of this cell */
} VtNumaCell;

typedef struct {
	char *arch;
	GPtrArray *cells; /* VtNumaCell, document order */
	guint cpus;       /* host CPUs over all cells */
} VtHostCaps;

/* virNodeGetInfo: what the host has to share out. */
typedef struct {
	gboolean known;
	guint cpus;
	guint64 memory_bytes;
} VtNodeFacts;

VtHostCaps *vt_host_caps_parse(const char *xml, gssize len, GError **error);
VtHostCaps *vt_host_caps_load(const char *path, GError **error);
void vt_host_caps_free(VtHostCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtHostCaps, vt_host_caps_free)

/* The cell holding host CPU @cpu, or -1. */
gint vt_host_caps_node_of_cpu(const VtHostCaps *caps, guint cpu);

/*
 * A libvirt cpuset or nodeset ("0-3,^2,8") as a bit per id in @bits (at least
 * VT_CPUSET_MAX / 8 bytes, cleared first). FALSE for anything else, or an id
 * past VT_CPUSET_MAX.
 */
gboolean vt_cpuset_parse(const char *text, guint8 *bits);

/* How many NUMA cells the CPUs of @cpuset span (0 when none is known). */
guint vt_host_caps_cells_spanned(const VtHostCaps *caps, const char *cpuset);

G_END_DECLS
