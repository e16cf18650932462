/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "rules.h"

G_BEGIN_DECLS

/* `virt-tune analyze`: rules over saved files, no daemon, no libvirt connection.
 * Exit codes: 0 done (with or without recommendations), 2 usage or malformed input. */
int vt_analyze_main(int argc, char **argv);

/* The table form of an analysis, at most 100 columns wide. */
char *vt_analysis_to_table(const VtAnalysis *analysis);

G_END_DECLS
