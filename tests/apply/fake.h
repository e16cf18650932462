/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fake sysroot and a fake NIC for the apply tests. */
#pragma once

#include <glib.h>
#include <linux/ethtool.h>

#include "kernel/ethtool.h"

#define FAKE_FEATURES 4

typedef struct {
	VtEthtoolOps ops; /* what the applier is given: &nic->ops */
	char name[16];
	struct ethtool_channels ch;
	struct ethtool_ringparam rp;
	guint32 available, active, fixed; /* bit per feature */
	guint calls_set;                  /* S* requests seen */
	int set_errno;                    /* when not 0, S* requests fail with it */
} FakeNic;

extern const char *const fake_feature_names[FAKE_FEATURES];

void fake_nic_init(FakeNic *nic);
/* A sysroot with vdb, the vm sysctls and THP files, eth0's address. */
char *fake_sysroot_new(void);
char *fake_read(const char *root, const char *rel);
void fake_write(const char *root, const char *rel, const char *text);
void fake_rm_rf(const char *dir);
