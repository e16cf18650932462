/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "kernel/ethtool.h"

G_BEGIN_DECLS

/*
 * Recorded ethtool answers replayed through the ops table, for tests. A
 * GKeyFile, one group per interface, e.g.:
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
 * reports (for hostile tests). Changes are refused (-EOPNOTSUPP).
 */
VtEthtoolOps *vt_ethtool_ops_replay_new(const char *path, GError **error);
void vt_ethtool_ops_replay_free(VtEthtoolOps *ops);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtEthtoolOps, vt_ethtool_ops_replay_free)

/* Records what @ops answers for @ifnames in the replay format above. */
char *vt_ethtool_record(const VtEthtoolOps *ops, const char *const *ifnames, GError **error);

G_END_DECLS
