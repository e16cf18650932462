/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apply-ethtool.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

static int
real_ioctl(gpointer user, const char *iface, void *cmd)
{
	struct ifreq ifr;
	int fd, r, errsv;

	if (strlen(iface) >= IFNAMSIZ)
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, iface, strlen(iface));
	ifr.ifr_data = cmd;
	/* A socket per call: it belongs to the caller's network namespace at
	 * the time of the call, and apply is rare. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = ioctl(fd, SIOCETHTOOL, &ifr);
	errsv = errno;
	close(fd);
	return r < 0 ? -errsv : r;
}

static const VtNicOps real_ops = {.ioctl = real_ioctl};

const VtNicOps *
vt_nic_ops_real(void)
{
	return &real_ops;
}

void
vt_nic_features_free(VtNicFeatures *f)
{
	if (f == NULL)
		return;
	g_free(f->names);
	g_free(f->blocks);
	g_free(f);
}

int
vt_nic_get_channels(const VtNicOps *ops, gpointer user, const char *iface,
		    struct ethtool_channels *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GCHANNELS;
	r = ops->ioctl(user, iface, out);
	return r < 0 ? r : 0;
}

int
vt_nic_set_channels(const VtNicOps *ops, gpointer user, const char *iface,
		    const struct ethtool_channels *in)
{
	struct ethtool_channels c = *in;
	int r;

	c.cmd = ETHTOOL_SCHANNELS;
	r = ops->ioctl(user, iface, &c);
	return r < 0 ? r : 0;
}

int
vt_nic_get_rings(const VtNicOps *ops, gpointer user, const char *iface,
		 struct ethtool_ringparam *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GRINGPARAM;
	r = ops->ioctl(user, iface, out);
	return r < 0 ? r : 0;
}

int
vt_nic_set_rings(const VtNicOps *ops, gpointer user, const char *iface,
		 const struct ethtool_ringparam *in)
{
	struct ethtool_ringparam c = *in;
	int r;

	c.cmd = ETHTOOL_SRINGPARAM;
	r = ops->ioctl(user, iface, &c);
	return r < 0 ? r : 0;
}

static guint
n_blocks(guint count)
{
	return (count + 31u) / 32u;
}

int
vt_nic_get_features(const VtNicOps *ops, gpointer user, const char *iface, VtNicFeatures **out)
{
	g_autoptr(VtNicFeatures) f = g_new0(VtNicFeatures, 1);
	g_autofree struct ethtool_sset_info *info = NULL;
	g_autofree struct ethtool_gstrings *strings = NULL;
	g_autofree struct ethtool_gfeatures *feats = NULL;
	guint count, blocks;
	int r;

	info = g_malloc0(sizeof(*info) + sizeof(guint32));
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ull << ETH_SS_FEATURES;
	r = ops->ioctl(user, iface, info);
	if (r < 0)
		return r;
	if (!(info->sset_mask & (1ull << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	count = info->data[0];
	if (count == 0 || count > VT_NIC_MAX_FEATURES)
		return -ERANGE;
	blocks = n_blocks(count);

	strings = g_malloc0(sizeof(*strings) + (gsize)count * ETH_GSTRING_LEN);
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_FEATURES;
	strings->len = count;
	r = ops->ioctl(user, iface, strings);
	if (r < 0)
		return r;
	if (strings->len != count)
		return -EPROTO; /* the set changed between the two calls */

	feats = g_malloc0(sizeof(*feats) + blocks * sizeof(struct ethtool_get_features_block));
	feats->cmd = ETHTOOL_GFEATURES;
	feats->size = blocks;
	r = ops->ioctl(user, iface, feats);
	if (r < 0)
		return r;

	f->n = count;
	f->names = g_malloc0((gsize)count * ETH_GSTRING_LEN);
	memcpy(f->names, strings->data, (gsize)count * ETH_GSTRING_LEN);
	for (guint i = 0; i < count; i++)
		f->names[i][ETH_GSTRING_LEN - 1] = '\0';
	f->blocks = g_memdup2(feats->features, blocks * sizeof(struct ethtool_get_features_block));
	*out = g_steal_pointer(&f);
	return 0;
}

int
vt_nic_feature_index(const VtNicFeatures *f, const char *name)
{
	for (guint i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return (int)i;
	return -1;
}

gboolean
vt_nic_feature_bit(const VtNicFeatures *f, guint index, guint field)
{
	const struct ethtool_get_features_block *b = &f->blocks[index / 32u];
	guint32 mask = 1u << (index % 32u);
	guint32 word = field == VT_NIC_FEATURE_AVAILABLE   ? b->available
		       : field == VT_NIC_FEATURE_REQUESTED ? b->requested
		       : field == VT_NIC_FEATURE_ACTIVE    ? b->active
							   : b->never_changed;

	return (word & mask) != 0;
}

int
vt_nic_set_feature(const VtNicOps *ops, gpointer user, const char *iface, guint count, guint index,
		   gboolean on)
{
	guint blocks = n_blocks(count);
	g_autofree struct ethtool_sfeatures *s = NULL;

	if (index >= count || count > VT_NIC_MAX_FEATURES)
		return -EINVAL;
	s = g_malloc0(sizeof(*s) + blocks * sizeof(struct ethtool_set_features_block));
	s->cmd = ETHTOOL_SFEATURES;
	s->size = blocks;
	s->features[index / 32u].valid = 1u << (index % 32u);
	s->features[index / 32u].requested = on ? 1u << (index % 32u) : 0u;
	return ops->ioctl(user, iface, s);
}
