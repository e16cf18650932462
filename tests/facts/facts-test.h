/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Helpers shared by the facts' test programs. */

#include <glib.h>

#include "domain.h"

G_BEGIN_DECLS

#define VT_GIB ((guint64)1024 * 1024 * 1024)

/* tests/data/facts/@name */
char *vt_facts_test_path(const char *name);
/* The facts of tests/data/facts/@name, which must parse. */
VtDomainFacts *vt_facts_test_xml(const char *name);
/* The @i-th disk, interface; there must be one. */
const VtDiskFacts *vt_facts_test_disk(const VtDomainFacts *f, guint i);
const VtIfaceFacts *vt_facts_test_iface(const VtDomainFacts *f, guint i);

G_END_DECLS
