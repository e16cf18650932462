/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "capabilities.h"
#include "domstats.h"

G_BEGIN_DECLS

/*
 * The daemon's libvirt connection: opens it (off the main loop), listens for
 * domain lifecycle events through libvirt-glib's event loop integration,
 * notices when libvirtd goes away (close callback, keepalive) and reconnects
 * with backoff. Every call that could wait on libvirtd or a stuck QEMU (open,
 * listing, XML, domstats) runs in a worker thread; results come back on the
 * main loop.
 */
typedef struct VtHypervisor VtHypervisor;

/* What one poll cycle learned about one running domain. */
typedef struct {
	char *uuid;
	char *name;
	int id;
	char *xml;           /* live XML; NULL: not fetched this time (see xml_settled) */
	VtDomstats *stats;   /* NULL when libvirt returned none */
	gint64 polled_at_us; /* monotonic */
} VtDomainSnapshot;

void vt_domain_snapshot_free(VtDomainSnapshot *snap);

typedef struct {
	void (*on_connected)(VtHypervisor *hv, gpointer user_data);
	/* libvirtd went away; reconnecting goes on by itself. */
	void (*on_disconnected)(VtHypervisor *hv, const char *why, gpointer user_data);
	/* A lifecycle event: a poll is already scheduled; this is for logging and
	 * for dropping a stopped guest at once. */
	void (*on_lifecycle)(VtHypervisor *hv, const char *uuid, const char *name, int event,
			     gpointer user_data);
	/* The guest rebooted (QEMU stays, so the channel socket does too). */
	void (*on_reboot)(VtHypervisor *hv, const char *uuid, const char *name, gpointer user_data);
	/* One poll: every running domain (GPtrArray of VtDomainSnapshot, owned by
	 * the hypervisor for the duration of the call). */
	void (*on_poll)(VtHypervisor *hv, GPtrArray *domains, gpointer user_data);
	/* Asked as each poll starts (may be NULL): the UUIDs (a set of strings
	 * the hypervisor frees) of domains whose live XML the caller holds and
	 * has no reason to think changed. That poll leaves their XML out, unless
	 * libvirt announced a change of the domain since (a lifecycle event, a
	 * device added or removed, a tunable, the balloon, metadata) or it is
	 * the first poll of a connection. */
	GHashTable *(*xml_settled)(VtHypervisor *hv, gpointer user_data);
} VtHypervisorCallbacks;

/* Call once before any libvirt connection: registers the GLib event loop. */
void vt_hypervisor_init_events(void);

VtHypervisor *vt_hypervisor_new(const char *uri, guint poll_interval_s,
				const VtHypervisorCallbacks *callbacks, gpointer user_data);
void vt_hypervisor_free(VtHypervisor *hv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtHypervisor, vt_hypervisor_free)

/* Begin connecting (and reconnecting whenever the connection drops). */
void vt_hypervisor_start(VtHypervisor *hv);
/* Poll soon (coalesced with a poll already running). */
void vt_hypervisor_poll_soon(VtHypervisor *hv);

gboolean vt_hypervisor_is_connected(const VtHypervisor *hv);
const char *vt_hypervisor_get_uri(const VtHypervisor *hv);
/* The live connection, or NULL; valid until the next main loop iteration. */
virConnectPtr vt_hypervisor_get_connection(const VtHypervisor *hv);
/* TRUE when the URI names no host (qemu:///system): channels are then reached
 * by their UNIX socket path rather than through virDomainOpenChannel. */
gboolean vt_hypervisor_is_local(const VtHypervisor *hv);

/* The host's NUMA cells (virConnectGetCapabilities), fetched once per
 * connection; NULL before the first or when the driver gave none. */
const VtHostCaps *vt_hypervisor_get_caps(const VtHypervisor *hv);
/* virNodeGetInfo of the connection's host, or NULL. */
const VtNodeFacts *vt_hypervisor_get_node(const VtHypervisor *hv);

G_END_DECLS
