/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <linux/ethtool.h>

G_BEGIN_DECLS

/*
 * The ethtool calls that apply needs, reads and writes, behind one ops table
 * so tests can play a NIC. Every function returns 0 on success or -errno.
 */
typedef struct {
	/* SIOCETHTOOL on @iface with @cmd (any struct ethtool_*). Returns the
	 * ioctl's non-negative result (ETHTOOL_SFEATURES returns flags), or
	 * -errno. */
	int (*ioctl)(gpointer user, const char *iface, void *cmd);
} VtNicOps;

/* The kernel's ioctl, on an AF_INET datagram socket of the calling thread's
 * network namespace. */
const VtNicOps *vt_nic_ops_real(void);

/* NETDEV_FEATURE_COUNT is 64 on 6.x; the bound leaves room for growth. */
#define VT_NIC_MAX_FEATURES 256u

typedef struct {
	guint n;
	char (*names)[ETH_GSTRING_LEN]; /* NUL-terminated by the reader */
	struct ethtool_get_features_block *blocks;
} VtNicFeatures;

void vt_nic_features_free(VtNicFeatures *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtNicFeatures, vt_nic_features_free)

int vt_nic_get_channels(const VtNicOps *ops, gpointer user, const char *iface,
			struct ethtool_channels *out);
int vt_nic_set_channels(const VtNicOps *ops, gpointer user, const char *iface,
			const struct ethtool_channels *in);
int vt_nic_get_rings(const VtNicOps *ops, gpointer user, const char *iface,
		     struct ethtool_ringparam *out);
int vt_nic_set_rings(const VtNicOps *ops, gpointer user, const char *iface,
		     const struct ethtool_ringparam *in);

/* Names and available/requested/active/never_changed bits of every
 * ETH_SS_FEATURES entry. */
int vt_nic_get_features(const VtNicOps *ops, gpointer user, const char *iface, VtNicFeatures **out);
/* Index of @name in @f, or -1. */
int vt_nic_feature_index(const VtNicFeatures *f, const char *name);
gboolean vt_nic_feature_bit(const VtNicFeatures *f, guint index, guint field);
#define VT_NIC_FEATURE_AVAILABLE 0u
#define VT_NIC_FEATURE_REQUESTED 1u
#define VT_NIC_FEATURE_ACTIVE    2u
#define VT_NIC_FEATURE_FIXED     3u /* never_changed */

/* Request feature @index of @count on or off. A positive result is the
 * kernel's ETHTOOL_F_* reply flags (the request was taken only in part). */
int vt_nic_set_feature(const VtNicOps *ops, gpointer user, const char *iface, guint count,
		       guint index, gboolean on);

G_END_DECLS
