/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "store-private.h"

G_BEGIN_DECLS

/* Bring the schema to @target (<= VT_STORE_SCHEMA_VERSION), one transaction per
 * step; refuse a newer schema or another application's database. */
gboolean vt_store_migrate(VtStore *store, guint target, GError **error);

G_END_DECLS
