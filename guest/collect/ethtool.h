/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <linux/ethtool.h>

G_BEGIN_DECLS

/*
 * How the collector talks to ethtool: the kernel's SIOCETHTOOL, or recorded
 * answers replayed for tests. Requests are the kernel's own structs, so the
 * collector's parsing is the same code either way.
 */
typedef struct VtEthtoolOps VtEthtoolOps;
struct VtEthtoolOps {
	/* Per-user state: the ioctl socket, or the parsed answers. NULL + error on failure. */
	gpointer (*open)(const VtEthtoolOps *ops, GError **error);
	/*
	 * One request on @ifname: @cmd is an ethtool struct whose first u32 is the
	 * command, @size its size in bytes (answers never write past it). Returns 0
	 * or a negative errno (-EOPNOTSUPP when the device refuses).
	 */
	int (*request)(gpointer state, const char *ifname, void *cmd, gsize size);
	void (*close)(gpointer state);
	gpointer data;
};

/* The kernel: SIOCETHTOOL on an AF_INET (or AF_UNIX) datagram socket. */
const VtEthtoolOps *vt_ethtool_ops_kernel(void);

/*
 * Recorded answers (GKeyFile; one group per interface), e.g.:
 *   [eth0]
 *   driver=virtio_net
 *   version=1.0.0
 *   fw-version=
 *   bus-info=0000:00:03.0
 *   # max_rx;max_tx;max_other;max_combined;rx;tx;other;combined
 *   channels=0;0;0;4;0;0;0;1
 *   # rx_max;rx_mini_max;rx_jumbo_max;tx_max;rx;rx_mini;rx_jumbo;tx
 *   rings=256;0;0;256;256;0;0;256
 *   # name:flags, flags from a (available: changeable), r (requested),
 *   # c (active), n (never changed)
 *   features=rx-checksum:c;tx-scatter-gather:arc;...
 * A missing key answers -EOPNOTSUPP, as does "error:EOPNOTSUPP"; a missing
 * group answers -ENODEV. "features-count=N" overrides the count GSSET_INFO
 * reports (for hostile tests).
 */
VtEthtoolOps *vt_ethtool_ops_replay_new(const char *path, GError **error);
void vt_ethtool_ops_replay_free(VtEthtoolOps *ops);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEthtoolOps, vt_ethtool_ops_replay_free)

/* Records what @ops answers for @ifnames in the replay format above. */
char *vt_ethtool_record(const VtEthtoolOps *ops, const char *const *ifnames, GError **error);

/* Typed requests; each returns 0 or a negative errno. */
int vt_ethtool_drvinfo(const VtEthtoolOps *ops, gpointer state, const char *ifname,
		       struct ethtool_drvinfo *out);
int vt_ethtool_channels(const VtEthtoolOps *ops, gpointer state, const char *ifname,
			struct ethtool_channels *out);
int vt_ethtool_rings(const VtEthtoolOps *ops, gpointer state, const char *ifname,
		     struct ethtool_ringparam *out);

/* Hard cap on the feature count the kernel may answer: GSTRINGS writes as many
 * names as the kernel has, so the buffer is sized from GSSET_INFO and a count
 * above this is refused rather than allocated. */
#define VT_ETHTOOL_FEATURES_MAX 1024u

/* Feature names (ETH_SS_FEATURES): a NULL-terminated array, or NULL and -errno. */
int vt_ethtool_feature_names(const VtEthtoolOps *ops, gpointer state, const char *ifname,
			     char ***names, guint *count);

/* ETHTOOL_GFEATURES for @count features: @blocks gets DIV_ROUND_UP(count, 32) entries. */
int vt_ethtool_features(const VtEthtoolOps *ops, gpointer state, const char *ifname, guint count,
			struct ethtool_get_features_block *blocks);

G_END_DECLS
