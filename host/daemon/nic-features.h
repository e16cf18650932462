/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "arena.h"
#include "message.h"

G_BEGIN_DECLS

/*
 * A NIC's features are most of a report (180 of the ~310 messages of a guest
 * with three NICs) and change only when someone runs ethtool. Each distinct
 * set is decoded and validated once, and shared by every guest that sends
 * it. A report whose NICs all send the features they sent last time is
 * decoded with each NIC's run of features entries blanked (turned into one
 * field no message has, of the same length), and gets the kept messages after
 * its validation. What one guest's reports send is one VtNicFeatures.
 */
typedef struct VtNicFeatures VtNicFeatures;

VtNicFeatures *vt_nic_features_new(void);
void vt_nic_features_free(VtNicFeatures *nf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtNicFeatures, vt_nic_features_free)

/*
 * @payload, an Envelope's bytes, with every NIC's features blanked, when its
 * report's NICs all send the features kept for this guest; NULL when it is
 * to be decoded as it is (the first report, a change, anything unusual).
 * The copy is as long as @payload; g_free() it.
 */
guint8 *vt_nic_features_blank(VtNicFeatures *nf, const guint8 *payload, gsize len);

/*
 * After the blanked payload was decoded into @arena and validated: the
 * blanks go and the kept features take their place in @report's NICs, held
 * until @arena is freed. FALSE if @report is not the one blanked: decode
 * the payload as it is then.
 */
gboolean vt_nic_features_attach(VtNicFeatures *nf, VtReport *report, VtArena *arena);

/*
 * After @payload was decoded as it is and validated, a report in it: its
 * NICs' features are kept (shared with the guests that send the same) for
 * the next report to be compared with.
 */
void vt_nic_features_keep(VtNicFeatures *nf, const guint8 *payload, gsize len);

/*
 * @report (the last one blanked or kept) with its NICs' features as they
 * came, when @as_sent: one unknown field of their entries' bytes per NIC,
 * which a walk over the report passes in one step and packing writes as
 * they were; FALSE (@report untouched) when it cannot be. Not @as_sent:
 * the messages again.
 */
gboolean vt_nic_features_as_sent(VtNicFeatures *nf, VtReport *report, gboolean as_sent);

/* Reports decoded with their features blanked, and as they were, since @nf
 * was made. */
void vt_nic_features_counts(const VtNicFeatures *nf, guint64 *blanked, guint64 *whole);

/* Distinct sets kept for all guests, and the bytes they take. */
void vt_nic_features_kept(guint *sets, gsize *bytes);

G_END_DECLS
