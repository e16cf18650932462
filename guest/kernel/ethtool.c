/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ethtool.h"

#include <errno.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct VtEthtool {
	const VtEthtoolOps *ops;
	gpointer state;
};

/* ------------------------------------------------------------ the kernel */

static int
kernel_open(const VtEthtoolOps *ops, gpointer *state)
{
	int *fd = g_new(int, 1);

	/* Any datagram socket reaches the device ioctls; AF_UNIX works where
	 * IPv4 is compiled out. */
	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		int err = -errno;

		g_free(fd);
		return err;
	}
	*state = fd;
	return 0;
}

/* The one SIOCETHTOOL of the agent. */
static int
kernel_request(gpointer state, const char *ifname, void *cmd, gsize size)
{
	int *fd = state;
	struct ifreq ifr;
	int r;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = cmd;
	r = ioctl(*fd, SIOCETHTOOL, &ifr);
	return r < 0 ? -errno : r;
}

static void
kernel_close(gpointer state)
{
	int *fd = state;

	if (fd == NULL)
		return;
	close(*fd);
	g_free(fd);
}

static const VtEthtoolOps kernel_ops = {
	.open = kernel_open,
	.request = kernel_request,
	.close = kernel_close,
	.data = NULL,
};

const VtEthtoolOps *
vt_ethtool_ops_kernel(void)
{
	return &kernel_ops;
}

int
vt_ethtool_open(const VtEthtoolOps *ops, VtEthtool **out)
{
	g_autoptr(VtEthtool) e = g_new0(VtEthtool, 1);
	int r;

	e->ops = ops != NULL ? ops : &kernel_ops;
	r = e->ops->open(e->ops, &e->state);
	if (r < 0) {
		e->ops = NULL; /* nothing to close */
		return r;
	}
	*out = g_steal_pointer(&e);
	return 0;
}

void
vt_ethtool_close(VtEthtool *e)
{
	if (e == NULL)
		return;
	if (e->ops != NULL)
		e->ops->close(e->state);
	g_free(e);
}

/* ------------------------------------------------------------ typed requests */

/* A request whose answer is all the caller wants: 0 or -errno. */
static int
request(VtEthtool *e, const char *ifname, void *cmd, gsize size)
{
	int r = e->ops->request(e->state, ifname, cmd, size);

	return r < 0 ? r : 0;
}

int
vt_ethtool_get_drvinfo(VtEthtool *e, const char *ifname, struct ethtool_drvinfo *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GDRVINFO;
	return request(e, ifname, out, sizeof(*out));
}

int
vt_ethtool_get_channels(VtEthtool *e, const char *ifname, struct ethtool_channels *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GCHANNELS;
	return request(e, ifname, out, sizeof(*out));
}

int
vt_ethtool_set_channels(VtEthtool *e, const char *ifname, const struct ethtool_channels *in)
{
	struct ethtool_channels c = *in;

	c.cmd = ETHTOOL_SCHANNELS;
	return request(e, ifname, &c, sizeof(c));
}

int
vt_ethtool_get_rings(VtEthtool *e, const char *ifname, struct ethtool_ringparam *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GRINGPARAM;
	return request(e, ifname, out, sizeof(*out));
}

int
vt_ethtool_set_rings(VtEthtool *e, const char *ifname, const struct ethtool_ringparam *in)
{
	struct ethtool_ringparam c = *in;

	c.cmd = ETHTOOL_SRINGPARAM;
	return request(e, ifname, &c, sizeof(c));
}

/* ------------------------------------------------------------ features */

static guint
n_blocks(guint count)
{
	return (count + 31u) / 32u;
}

/*
 * GSSET_INFO, then GSTRINGS for ETH_SS_FEATURES. *@announced: the count
 * GSSET_INFO gave (above @max: -E2BIG before anything is allocated), which
 * the buffer holds; (*@out)->len: the count GSTRINGS then wrote back.
 */
static int
feature_strings(VtEthtool *e, const char *ifname, guint max, struct ethtool_gstrings **out,
		guint *announced)
{
	struct {
		struct ethtool_sset_info hdr;
		guint32 buf[1];
	} sset;
	g_autofree struct ethtool_gstrings *strings = NULL;
	gsize size;
	guint n;
	int r;

	memset(&sset, 0, sizeof(sset));
	sset.hdr.cmd = ETHTOOL_GSSET_INFO;
	sset.hdr.sset_mask = 1ULL << ETH_SS_FEATURES;
	r = request(e, ifname, &sset, sizeof(sset));
	if (r < 0)
		return r;
	if (!(sset.hdr.sset_mask & (1ULL << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	n = *announced = sset.hdr.data[0];
	if (n > max)
		return -E2BIG;
	size = sizeof(*strings) + (gsize)n * ETH_GSTRING_LEN;
	strings = g_malloc0(size);
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_FEATURES;
	strings->len = n;
	if (n > 0 && (r = request(e, ifname, strings, size)) < 0)
		return r;
	*out = g_steal_pointer(&strings);
	return 0;
}

int
vt_ethtool_get_feature_names(VtEthtool *e, const char *ifname, char ***names, guint *count)
{
	g_autofree struct ethtool_gstrings *strings = NULL;
	guint announced, n;
	char **out;
	int r;

	*names = NULL;
	*count = 0;
	r = feature_strings(e, ifname, VT_ETHTOOL_FEATURES_MAX, &strings, &announced);
	if (r < 0)
		return r;
	/* The kernel writes its own count back; never read past what was sized. */
	n = MIN(strings->len, announced);
	out = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++) {
		const char *s = (const char *)strings->data + (gsize)i * ETH_GSTRING_LEN;
		out[i] = g_strndup(s, strnlen(s, ETH_GSTRING_LEN));
	}
	*names = out;
	*count = n;
	return 0;
}

int
vt_ethtool_get_feature_bits(VtEthtool *e, const char *ifname, guint count,
			    struct ethtool_get_features_block *blocks)
{
	guint words = n_blocks(count);
	gsize size = sizeof(struct ethtool_gfeatures) + words * sizeof(*blocks);
	g_autofree struct ethtool_gfeatures *gf = g_malloc0(size);
	int r;

	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = words;
	r = request(e, ifname, gf, size);
	if (r < 0)
		return r;
	memset(blocks, 0, words * sizeof(*blocks));
	memcpy(blocks, gf->features, MIN(gf->size, words) * sizeof(*blocks));
	return 0;
}

void
vt_ethtool_features_free(VtEthtoolFeatures *f)
{
	if (f == NULL)
		return;
	g_free(f->names);
	g_free(f->blocks);
	g_free(f);
}

int
vt_ethtool_get_features(VtEthtool *e, const char *ifname, VtEthtoolFeatures **out)
{
	g_autoptr(VtEthtoolFeatures) f = g_new0(VtEthtoolFeatures, 1);
	g_autofree struct ethtool_gstrings *strings = NULL;
	guint count = 0;
	int r = feature_strings(e, ifname, VT_ETHTOOL_SET_FEATURES_MAX, &strings, &count);

	if (r == -E2BIG || (r == 0 && count == 0))
		return -ERANGE;
	if (r < 0)
		return r;
	if (strings->len != count)
		return -EPROTO; /* the set changed between the two calls */
	f->blocks = g_new0(struct ethtool_get_features_block, n_blocks(count));
	r = vt_ethtool_get_feature_bits(e, ifname, count, f->blocks);
	if (r < 0)
		return r;
	f->n = count;
	f->names = g_malloc0((gsize)count * ETH_GSTRING_LEN);
	memcpy(f->names, strings->data, (gsize)count * ETH_GSTRING_LEN);
	for (guint i = 0; i < count; i++)
		f->names[i][ETH_GSTRING_LEN - 1] = '\0';
	*out = g_steal_pointer(&f);
	return 0;
}

int
vt_ethtool_feature_index(const VtEthtoolFeatures *f, const char *name)
{
	for (guint i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return (int)i;
	return -1;
}

gboolean
vt_ethtool_feature_bit(const VtEthtoolFeatures *f, guint index, VtEthtoolFeatureBit bit)
{
	const struct ethtool_get_features_block *b = &f->blocks[index / 32u];
	guint32 mask = 1u << (index % 32u);
	guint32 word = bit == VT_ETHTOOL_FEATURE_AVAILABLE   ? b->available
		       : bit == VT_ETHTOOL_FEATURE_REQUESTED ? b->requested
		       : bit == VT_ETHTOOL_FEATURE_ACTIVE    ? b->active
							     : b->never_changed;

	return (word & mask) != 0;
}

int
vt_ethtool_set_feature(VtEthtool *e, const char *ifname, guint count, guint index, gboolean on)
{
	guint blocks = n_blocks(count);
	gsize size = sizeof(struct ethtool_sfeatures) +
		     blocks * sizeof(struct ethtool_set_features_block);
	g_autofree struct ethtool_sfeatures *s = NULL;

	if (index >= count || count > VT_ETHTOOL_SET_FEATURES_MAX)
		return -EINVAL;
	s = g_malloc0(size);
	s->cmd = ETHTOOL_SFEATURES;
	s->size = blocks;
	s->features[index / 32u].valid = 1u << (index % 32u);
	s->features[index / 32u].requested = on ? 1u << (index % 32u) : 0u;
	return e->ops->request(e->state, ifname, s, size);
}
