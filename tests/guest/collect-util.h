/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "collect/collector.h"
#include "message.h"

/* tests/data, from the environment meson sets. */
const char *data_dir(void);

/* Every string valid UTF-8 and bounded, every repeated field within its
 * bound, and the report packs. */
void assert_report_bounded(const VtReport *r);

/* The report as canonical JSON, minus what differs from run to run. */
char *stable_json(VtReport *r);

const VtSection *find_section(const VtReport *r, const char *name);
const VtNic *find_nic(const VtReport *r, const char *name);
const VtBlock *find_block(const VtReport *r, const char *name);
/* A meminfo value, which must be there. */
guint64 report_meminfo(const VtReport *r, const char *key);
/* A sysctl's value, or NULL. */
const char *report_sysctl(const VtReport *r, const char *key);
/* Whether feature @name (which must be there) is active, and *@fixed. */
gboolean nic_feature(const VtNic *nic, const char *name, gboolean *fixed);

void rm_rf(const char *dir);
/* Writes @data (@len bytes, or up to its NUL) at @rel under @root. */
void put(const char *root, const char *rel, const char *data, gssize len);
/* Rewrites in place (same inode), as the kernel's files change under an open fd. */
void overwrite(const char *root, const char *rel, const char *data);
void copy_tree(const char *from, const char *to);
/* A block device with every file a report reads. */
void disk(const char *root, const char *name, const char *dev, const char *scheduler);
