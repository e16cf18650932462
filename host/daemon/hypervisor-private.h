/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What hypervisor.c (the connection, its events) and hypervisor-poll.c (the
 * polls) share. */
#include <libvirt/virterror.h>

#include "hypervisor.h"

G_BEGIN_DECLS

/* As many as virt-tuned.service's LimitNOFILE=8192 leaves room for: each
 * guest's channel is a descriptor. */
#define VT_MAX_DOMAINS 8192
#define STATS_GROUPS                                                                               \
	(VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |          \
	 VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

/* The events that announce a change of a domain's live XML besides the
 * lifecycle ones (see change_events). */
#define N_CHANGE_EVENTS 5

struct VtHypervisor {
	char *uri;
	guint poll_interval_s;
	VtHypervisorCallbacks callbacks;
	gpointer user_data;

	virConnectPtr conn;
	int lifecycle_id;                /* -1: none */
	int reboot_id;                   /* -1: none */
	int change_ids[N_CHANGE_EVENTS]; /* -1: none */
	/* UUIDs libvirt announced a change of since the last poll started */
	GHashTable *touched;
	gboolean fetch_all;  /* the next poll fetches every XML: a new connection */
	gboolean all_events; /* every change event is registered: XML may be left out */
	gboolean connecting;
	guint reconnect_timer;
	guint reconnect_delay_s;
	guint close_idle;
	int close_reason;

	guint poll_timer;
	guint soon_timer;
	gboolean polling;
	gboolean poll_again;

	GCancellable *cancellable; /* cancelled when the hypervisor is freed */

	VtHostCaps *caps; /* of this connection's host; NULL when unreadable */
	VtNodeFacts node;
};

static inline const char *
last_error(void)
{
	const char *msg = virGetLastErrorMessage();
	return msg != NULL ? msg : "unknown libvirt error";
}

/* Start a poll now, or once the one running ends (hypervisor-poll.c). */
void vt_hypervisor_start_poll(VtHypervisor *hv);

G_END_DECLS
