/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <linux/ethtool.h>

G_BEGIN_DECLS

/*
 * Every ethtool request of the agent, reads (collectors) and writes (apply),
 * goes through one ops table: the kernel's SIOCETHTOOL, or whatever a test
 * plays (recorded answers, a fake NIC). Requests are the kernel's own
 * structs, so the code above is the same either way. Every int returned here
 * is 0 (or a non-negative answer) or a negative errno.
 */
typedef struct VtEthtoolOps VtEthtoolOps;
struct VtEthtoolOps {
	/* Per-user state (the ioctl socket, the recorded answers): 0 or -errno. */
	int (*open)(const VtEthtoolOps *ops, gpointer *state);
	/*
	 * One request on @ifname: @cmd is an ethtool struct whose first u32 is the
	 * command, @size its size in bytes (answers never write past it). Returns
	 * the ioctl's non-negative result (ETHTOOL_SFEATURES answers flags) or
	 * -errno (-EOPNOTSUPP when the device refuses).
	 */
	int (*request)(gpointer state, const char *ifname, void *cmd, gsize size);
	void (*close)(gpointer state);
	gpointer data;
};

/* The kernel: SIOCETHTOOL on a datagram socket of the network namespace the
 * caller is in when it opens. */
const VtEthtoolOps *vt_ethtool_ops_kernel(void);

/* An open ops table: what the requests below are made on. */
typedef struct VtEthtool VtEthtool;

/* @ops: NULL for the kernel. */
int vt_ethtool_open(const VtEthtoolOps *ops, VtEthtool **out);
void vt_ethtool_close(VtEthtool *ethtool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEthtool, vt_ethtool_close)

int vt_ethtool_get_drvinfo(VtEthtool *e, const char *ifname, struct ethtool_drvinfo *out);
int vt_ethtool_get_channels(VtEthtool *e, const char *ifname, struct ethtool_channels *out);
int vt_ethtool_set_channels(VtEthtool *e, const char *ifname, const struct ethtool_channels *in);
int vt_ethtool_get_rings(VtEthtool *e, const char *ifname, struct ethtool_ringparam *out);
int vt_ethtool_set_rings(VtEthtool *e, const char *ifname, const struct ethtool_ringparam *in);

/* Hard cap on the feature count the kernel may answer: GSTRINGS writes as many
 * names as the kernel has, so the buffer is sized from GSSET_INFO and a count
 * above this is refused (-E2BIG) rather than allocated. */
#define VT_ETHTOOL_FEATURES_MAX 1024u

/* Feature names (ETH_SS_FEATURES): a NULL-terminated array of @count names.
 * Fewer than GSSET_INFO announced when GSTRINGS answers fewer. */
int vt_ethtool_get_feature_names(VtEthtool *e, const char *ifname, char ***names, guint *count);

/* ETHTOOL_GFEATURES for @count features: @blocks gets DIV_ROUND_UP(count, 32) entries. */
int vt_ethtool_get_feature_bits(VtEthtool *e, const char *ifname, guint count,
				struct ethtool_get_features_block *blocks);

/* Names and bits together, for changing one feature. NETDEV_FEATURE_COUNT is
 * 64 on 6.x; the bound leaves room for growth. */
#define VT_ETHTOOL_SET_FEATURES_MAX 256u

typedef struct {
	guint n;
	char (*names)[ETH_GSTRING_LEN]; /* NUL-terminated by the reader */
	struct ethtool_get_features_block *blocks;
} VtEthtoolFeatures;

void vt_ethtool_features_free(VtEthtoolFeatures *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEthtoolFeatures, vt_ethtool_features_free)

/* -ERANGE for no feature or more than VT_ETHTOOL_SET_FEATURES_MAX, -EPROTO
 * when the set changed between the calls. */
int vt_ethtool_get_features(VtEthtool *e, const char *ifname, VtEthtoolFeatures **out);
/* Index of @name in @f, or -1. */
int vt_ethtool_feature_index(const VtEthtoolFeatures *f, const char *name);

typedef enum {
	VT_ETHTOOL_FEATURE_AVAILABLE,
	VT_ETHTOOL_FEATURE_REQUESTED,
	VT_ETHTOOL_FEATURE_ACTIVE,
	VT_ETHTOOL_FEATURE_FIXED, /* never_changed */
} VtEthtoolFeatureBit;

gboolean vt_ethtool_feature_bit(const VtEthtoolFeatures *f, guint index, VtEthtoolFeatureBit bit);

/* Request feature @index of @count on or off. A positive result is the
 * kernel's ETHTOOL_F_* reply flags (the request was taken only in part). */
int vt_ethtool_set_feature(VtEthtool *e, const char *ifname, guint count, guint index, gboolean on);

G_END_DECLS
