/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fake.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

const char *const fake_feature_names[FAKE_FEATURES] = {"tx-tcp-segmentation", "rx-gro",
						       "tx-lockless", "rx-checksum"};

static int fake_request(gpointer state, const char *iface, void *cmd, gsize size);

static int
fake_open(const VtEthtoolOps *ops, gpointer *state)
{
	*state = ops->data;
	return 0;
}

static void
fake_close(gpointer state)
{
}

void
fake_nic_init(FakeNic *nic)
{
	memset(nic, 0, sizeof(*nic));
	nic->ops.open = fake_open;
	nic->ops.request = fake_request;
	nic->ops.close = fake_close;
	nic->ops.data = nic;
	strcpy(nic->name, "eth0");
	nic->ch.max_combined = 4;
	nic->ch.combined_count = 2;
	nic->rp.rx_max_pending = 1024;
	nic->rp.tx_max_pending = 1024;
	nic->rp.rx_pending = 256;
	nic->rp.tx_pending = 256;
	nic->available = 0x1 | 0x2 | 0x8;
	nic->active = 0x1 | 0x2 | 0x4;
	nic->fixed = 0x4;
}

static int
fake_request(gpointer state, const char *iface, void *cmd, gsize size)
{
	FakeNic *nic = state;
	guint32 c = *(guint32 *)cmd;

	if (strcmp(iface, nic->name) != 0)
		return -ENODEV;
	if (nic->set_errno != 0 &&
	    (c == ETHTOOL_SCHANNELS || c == ETHTOOL_SRINGPARAM || c == ETHTOOL_SFEATURES)) {
		nic->calls_set++;
		return -nic->set_errno;
	}
	switch (c) {
	case ETHTOOL_GCHANNELS:
		*(struct ethtool_channels *)cmd = nic->ch;
		((struct ethtool_channels *)cmd)->cmd = c;
		return 0;
	case ETHTOOL_SCHANNELS: {
		struct ethtool_channels *in = cmd;
		nic->calls_set++;
		if (in->combined_count > nic->ch.max_combined || in->rx_count > nic->ch.max_rx ||
		    in->tx_count > nic->ch.max_tx || in->combined_count + in->rx_count == 0)
			return -EINVAL;
		nic->ch.combined_count = in->combined_count;
		nic->ch.rx_count = in->rx_count;
		nic->ch.tx_count = in->tx_count;
		return 0;
	}
	case ETHTOOL_GRINGPARAM:
		*(struct ethtool_ringparam *)cmd = nic->rp;
		((struct ethtool_ringparam *)cmd)->cmd = c;
		return 0;
	case ETHTOOL_SRINGPARAM:
		nic->calls_set++;
		nic->rp.rx_pending = ((struct ethtool_ringparam *)cmd)->rx_pending;
		nic->rp.tx_pending = ((struct ethtool_ringparam *)cmd)->tx_pending;
		return 0;
	case ETHTOOL_GSSET_INFO: {
		struct ethtool_sset_info *info = cmd;
		info->sset_mask = 1ull << ETH_SS_FEATURES;
		info->data[0] = FAKE_FEATURES;
		return 0;
	}
	case ETHTOOL_GSTRINGS: {
		struct ethtool_gstrings *s = cmd;
		for (guint i = 0; i < FAKE_FEATURES; i++)
			g_strlcpy((char *)s->data + i * ETH_GSTRING_LEN, fake_feature_names[i],
				  ETH_GSTRING_LEN);
		return 0;
	}
	case ETHTOOL_GFEATURES: {
		struct ethtool_gfeatures *g = cmd;
		g->features[0].available = nic->available;
		g->features[0].requested = nic->active;
		g->features[0].active = nic->active;
		g->features[0].never_changed = nic->fixed;
		return 0;
	}
	case ETHTOOL_SFEATURES: {
		struct ethtool_sfeatures *s = cmd;
		guint32 valid = s->features[0].valid;
		nic->calls_set++;
		if (valid & ~nic->available)
			return ETHTOOL_F_UNSUPPORTED;
		nic->active = (nic->active & ~valid) | (s->features[0].requested & valid);
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

void
fake_write(const char *root, const char *rel, const char *text)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, text, -1, &error));
}

char *
fake_read(const char *root, const char *rel)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return g_strstrip(text);
}

char *
fake_sysroot_new(void)
{
	g_autoptr(GError) error = NULL;
	char *root = g_dir_make_tmp("vt-apply-XXXXXX", &error);

	g_assert_no_error(error);
	fake_write(root, "sys/block/vdb/queue/scheduler", "[mq-deadline] kyber bfq none\n");
	fake_write(root, "sys/block/vdb/queue/nr_requests", "256\n");
	fake_write(root, "sys/block/vdb/queue/read_ahead_kb", "128\n");
	fake_write(root, "proc/sys/vm/swappiness", "60\n");
	fake_write(root, "proc/sys/vm/dirty_ratio", "20\n");
	fake_write(root, "proc/sys/vm/dirty_background_ratio", "10\n");
	fake_write(root, "proc/sys/vm/vfs_cache_pressure", "100\n");
	fake_write(root, "proc/sys/net/core/netdev_max_backlog", "1000\n");
	fake_write(root, "proc/sys/net/core/rmem_max", "212992\n");
	fake_write(root, "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
	fake_write(root, "sys/kernel/mm/transparent_hugepage/defrag",
		   "always defer defer+madvise [madvise] never\n");
	fake_write(root, "sys/class/net/eth0/address", "52:54:00:12:34:56\n");
	return root;
}

void
fake_rm_rf(const char *dir)
{
	g_autoptr(GFile) file = g_file_new_for_path(dir);
	g_autoptr(GFileEnumerator) e =
		g_file_enumerate_children(file, G_FILE_ATTRIBUTE_STANDARD_NAME,
					  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
	GFileInfo *info;

	while (e != NULL && (info = g_file_enumerator_next_file(e, NULL, NULL)) != NULL) {
		g_autofree char *child = g_build_filename(dir, g_file_info_get_name(info), NULL);
		if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
			fake_rm_rf(child);
		else
			g_unlink(child);
		g_object_unref(info);
	}
	g_rmdir(dir);
}
