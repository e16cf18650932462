/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ethtool.h"

#include <errno.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

/* ------------------------------------------------------------ the kernel */

static gpointer
kernel_open(const VtEthtoolOps *ops, GError **error)
{
	int *fd = g_new(int, 1);

	/* Any datagram socket reaches the device ioctls; AF_UNIX works where
	 * IPv4 is compiled out. */
	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		vt_error_set_errno(error, errno, "ethtool socket");
		g_free(fd);
		return NULL;
	}
	return fd;
}

static int
kernel_request(gpointer state, const char *ifname, void *cmd, gsize size)
{
	int *fd = state;
	struct ifreq ifr;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = cmd;
	if (ioctl(*fd, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	return 0;
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

/* ------------------------------------------------------------ typed requests */

int
vt_ethtool_drvinfo(const VtEthtoolOps *ops, gpointer state, const char *ifname,
		   struct ethtool_drvinfo *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GDRVINFO;
	return ops->request(state, ifname, out, sizeof(*out));
}

int
vt_ethtool_channels(const VtEthtoolOps *ops, gpointer state, const char *ifname,
		    struct ethtool_channels *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GCHANNELS;
	return ops->request(state, ifname, out, sizeof(*out));
}

int
vt_ethtool_rings(const VtEthtoolOps *ops, gpointer state, const char *ifname,
		 struct ethtool_ringparam *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = ETHTOOL_GRINGPARAM;
	return ops->request(state, ifname, out, sizeof(*out));
}

int
vt_ethtool_feature_names(const VtEthtoolOps *ops, gpointer state, const char *ifname, char ***names,
			 guint *count)
{
	struct {
		struct ethtool_sset_info hdr;
		guint32 buf[1];
	} sset;
	g_autofree struct ethtool_gstrings *strings = NULL;
	gsize size;
	guint n;
	char **out;
	int rc;

	*names = NULL;
	*count = 0;
	memset(&sset, 0, sizeof(sset));
	sset.hdr.cmd = ETHTOOL_GSSET_INFO;
	sset.hdr.sset_mask = 1ULL << ETH_SS_FEATURES;
	rc = ops->request(state, ifname, &sset, sizeof(sset));
	if (rc < 0)
		return rc;
	if (!(sset.hdr.sset_mask & (1ULL << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	n = sset.hdr.data[0];
	if (n > VT_ETHTOOL_FEATURES_MAX)
		return -E2BIG;
	size = sizeof(*strings) + (gsize)n * ETH_GSTRING_LEN;
	strings = g_malloc0(size);
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_FEATURES;
	strings->len = n;
	rc = ops->request(state, ifname, strings, size);
	if (rc < 0)
		return rc;
	/* The kernel writes its own count back; never read past what was sized. */
	if (strings->len < n)
		n = strings->len;
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
vt_ethtool_features(const VtEthtoolOps *ops, gpointer state, const char *ifname, guint count,
		    struct ethtool_get_features_block *blocks)
{
	guint words = (count + 31) / 32;
	gsize size = sizeof(struct ethtool_gfeatures) + words * sizeof(*blocks);
	g_autofree struct ethtool_gfeatures *gf = g_malloc0(size);
	int rc;

	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = words;
	rc = ops->request(state, ifname, gf, size);
	if (rc < 0)
		return rc;
	memset(blocks, 0, words * sizeof(*blocks));
	memcpy(blocks, gf->features, MIN(gf->size, words) * sizeof(*blocks));
	return 0;
}

/* ------------------------------------------------------------ replay */

static const struct {
	const char *name;
	int value;
} errno_names[] = {
	{"EOPNOTSUPP", EOPNOTSUPP}, {"ENODEV", ENODEV}, {"EPERM", EPERM},
	{"EINVAL", EINVAL},         {"EBUSY", EBUSY},   {"EIO", EIO},
};

static const char *
errno_name(int err)
{
	for (gsize i = 0; i < G_N_ELEMENTS(errno_names); i++)
		if (errno_names[i].value == err)
			return errno_names[i].name;
	return NULL;
}

/* 0 when @key holds data, else the negative errno to answer. */
static int
replay_key_errno(GKeyFile *kf, const char *group, const char *key)
{
	g_autofree char *value = NULL;

	if (!g_key_file_has_group(kf, group))
		return -ENODEV;
	value = g_key_file_get_value(kf, group, key, NULL);
	if (value == NULL)
		return -EOPNOTSUPP;
	if (g_str_has_prefix(value, "error:")) {
		const char *name = value + strlen("error:");
		guint64 n;

		for (gsize i = 0; i < G_N_ELEMENTS(errno_names); i++)
			if (strcmp(errno_names[i].name, name) == 0)
				return -errno_names[i].value;
		if (g_ascii_string_to_unsigned(name, 10, 1, 4095, &n, NULL))
			return -(int)n;
		return -EIO;
	}
	return 0;
}

/* Raw values, not g_key_file_get_string(): hostile answers may hold any byte. */
static void
replay_string(GKeyFile *kf, const char *group, const char *key, char *dst, gsize cap)
{
	g_autofree char *value = g_key_file_get_value(kf, group, key, NULL);

	/* Copied up to the full width, unterminated when long: the kernel's
	 * fixed-size fields give no more guarantee than that. */
	if (value != NULL)
		memcpy(dst, value, MIN(strlen(value), cap));
}

/* A ';'-separated raw list without the empty last item. */
static char **
replay_list(GKeyFile *kf, const char *group, const char *key, gsize *n)
{
	g_autofree char *value = g_key_file_get_value(kf, group, key, NULL);
	char **list;

	*n = 0;
	if (value == NULL)
		return NULL;
	list = g_strsplit(value, ";", -1);
	*n = g_strv_length(list);
	if (*n > 0 && *list[*n - 1] == '\0') {
		g_free(list[*n - 1]);
		list[--*n] = NULL;
	}
	return list;
}

static int
replay_u32s(GKeyFile *kf, const char *group, const char *key, guint32 *dst, gsize n)
{
	gsize len = 0;
	g_auto(GStrv) list = NULL;
	int rc = replay_key_errno(kf, group, key);

	if (rc < 0)
		return rc;
	list = replay_list(kf, group, key, &len);
	if (list == NULL || len != n)
		return -EINVAL;
	for (gsize i = 0; i < n; i++) {
		guint64 v = 0;
		if (!g_ascii_string_to_unsigned(list[i], 10, 0, G_MAXUINT32, &v, NULL))
			v = 0;
		dst[i] = (guint32)v;
	}
	return 0;
}

static int
replay_request(gpointer state, const char *ifname, void *cmd, gsize size)
{
	GKeyFile *kf = state;
	guint32 op;
	int rc;

	if (size < sizeof(op))
		return -EINVAL;
	memcpy(&op, cmd, sizeof(op));
	if (!g_key_file_has_group(kf, ifname))
		return -ENODEV;

	switch (op) {
	case ETHTOOL_GDRVINFO: {
		struct ethtool_drvinfo *d = cmd;

		if (size < sizeof(*d))
			return -EINVAL;
		rc = replay_key_errno(kf, ifname, "driver");
		if (rc < 0)
			return rc;
		replay_string(kf, ifname, "driver", d->driver, sizeof(d->driver));
		replay_string(kf, ifname, "version", d->version, sizeof(d->version));
		replay_string(kf, ifname, "fw-version", d->fw_version, sizeof(d->fw_version));
		replay_string(kf, ifname, "bus-info", d->bus_info, sizeof(d->bus_info));
		return 0;
	}
	case ETHTOOL_GCHANNELS: {
		struct ethtool_channels *c = cmd;
		guint32 v[8];

		if (size < sizeof(*c))
			return -EINVAL;
		rc = replay_u32s(kf, ifname, "channels", v, 8);
		if (rc < 0)
			return rc;
		c->max_rx = v[0];
		c->max_tx = v[1];
		c->max_other = v[2];
		c->max_combined = v[3];
		c->rx_count = v[4];
		c->tx_count = v[5];
		c->other_count = v[6];
		c->combined_count = v[7];
		return 0;
	}
	case ETHTOOL_GRINGPARAM: {
		struct ethtool_ringparam *r = cmd;
		guint32 v[8];

		if (size < sizeof(*r))
			return -EINVAL;
		rc = replay_u32s(kf, ifname, "rings", v, 8);
		if (rc < 0)
			return rc;
		r->rx_max_pending = v[0];
		r->rx_mini_max_pending = v[1];
		r->rx_jumbo_max_pending = v[2];
		r->tx_max_pending = v[3];
		r->rx_pending = v[4];
		r->rx_mini_pending = v[5];
		r->rx_jumbo_pending = v[6];
		r->tx_pending = v[7];
		return 0;
	}
	case ETHTOOL_GSSET_INFO: {
		struct ethtool_sset_info *s = cmd;
		gsize n = 0;
		g_auto(GStrv) list = NULL;
		guint64 forced;
		g_autofree char *count = NULL;

		if (size < sizeof(*s) + sizeof(guint32))
			return -EINVAL;
		rc = replay_key_errno(kf, ifname, "features");
		if (rc < 0)
			return rc;
		list = replay_list(kf, ifname, "features", &n);
		count = g_key_file_get_value(kf, ifname, "features-count", NULL);
		if (count != NULL &&
		    g_ascii_string_to_unsigned(count, 10, 0, G_MAXUINT32, &forced, NULL))
			n = forced;
		s->sset_mask &= 1ULL << ETH_SS_FEATURES;
		if (s->sset_mask)
			s->data[0] = (guint32)n;
		return 0;
	}
	case ETHTOOL_GSTRINGS: {
		struct ethtool_gstrings *g = cmd;
		gsize n = 0, room;
		g_auto(GStrv) list = NULL;

		if (size < sizeof(*g) || g->string_set != ETH_SS_FEATURES)
			return -EINVAL;
		rc = replay_key_errno(kf, ifname, "features");
		if (rc < 0)
			return rc;
		list = replay_list(kf, ifname, "features", &n);
		room = (size - sizeof(*g)) / ETH_GSTRING_LEN;
		for (gsize i = 0; i < MIN(n, room); i++) {
			const char *colon = strrchr(list[i], ':');
			gsize len = colon ? (gsize)(colon - list[i]) : strlen(list[i]);

			memcpy(g->data + i * ETH_GSTRING_LEN, list[i], MIN(len, ETH_GSTRING_LEN));
		}
		g->len = (guint32)MIN(n, room);
		return 0;
	}
	case ETHTOOL_GFEATURES: {
		struct ethtool_gfeatures *f = cmd;
		gsize n = 0, words;
		g_auto(GStrv) list = NULL;

		if (size < sizeof(*f))
			return -EINVAL;
		rc = replay_key_errno(kf, ifname, "features");
		if (rc < 0)
			return rc;
		list = replay_list(kf, ifname, "features", &n);
		words = MIN((gsize)f->size, (size - sizeof(*f)) / sizeof(f->features[0]));
		memset(f->features, 0, words * sizeof(f->features[0]));
		for (gsize i = 0; i < n && i / 32 < words; i++) {
			const char *colon = strrchr(list[i], ':');
			struct ethtool_get_features_block *b = &f->features[i / 32];
			guint32 bit = 1u << (i % 32);

			if (colon == NULL)
				continue;
			if (strchr(colon, 'a'))
				b->available |= bit;
			if (strchr(colon, 'r'))
				b->requested |= bit;
			if (strchr(colon, 'c'))
				b->active |= bit;
			if (strchr(colon, 'n'))
				b->never_changed |= bit;
		}
		f->size = (guint32)((n + 31) / 32);
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

static gpointer
replay_open(const VtEthtoolOps *ops, GError **error)
{
	return ops->data;
}

static void
replay_close(gpointer state)
{
}

VtEthtoolOps *
vt_ethtool_ops_replay_new(const char *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	VtEthtoolOps *ops;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	ops = g_new0(VtEthtoolOps, 1);
	ops->open = replay_open;
	ops->request = replay_request;
	ops->close = replay_close;
	ops->data = g_steal_pointer(&kf);
	return ops;
}

void
vt_ethtool_ops_replay_free(VtEthtoolOps *ops)
{
	if (ops == NULL)
		return;
	g_key_file_unref(ops->data);
	g_free(ops);
}

/* ------------------------------------------------------------ record */

static void
record_errno(GString *out, const char *key, int rc)
{
	const char *name = errno_name(-rc);

	if (name != NULL)
		g_string_append_printf(out, "%s=error:%s\n", key, name);
	else
		g_string_append_printf(out, "%s=error:%d\n", key, -rc);
}

static void
record_string(GString *out, const char *key, const char *field, gsize cap)
{
	g_autofree char *value = g_strndup(field, strnlen(field, cap));

	/* replayed raw: only a line break could break the format */
	g_strdelimit(value, "\n\r", '?');
	g_string_append_printf(out, "%s=%s\n", key, value);
}

char *
vt_ethtool_record(const VtEthtoolOps *ops, const char *const *ifnames, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	gpointer state = ops->open(ops, error);

	if (state == NULL)
		return NULL;
	for (gsize i = 0; ifnames[i] != NULL; i++) {
		const char *ifname = ifnames[i];
		struct ethtool_drvinfo d;
		struct ethtool_channels c;
		struct ethtool_ringparam r;
		g_auto(GStrv) names = NULL;
		guint count = 0;
		int rc;

		g_string_append_printf(out, "%s[%s]\n", i ? "\n" : "", ifname);
		rc = vt_ethtool_drvinfo(ops, state, ifname, &d);
		if (rc < 0) {
			record_errno(out, "driver", rc);
		} else {
			record_string(out, "driver", d.driver, sizeof(d.driver));
			record_string(out, "version", d.version, sizeof(d.version));
			record_string(out, "fw-version", d.fw_version, sizeof(d.fw_version));
			record_string(out, "bus-info", d.bus_info, sizeof(d.bus_info));
		}
		g_string_append(out,
				"# max_rx;max_tx;max_other;max_combined;rx;tx;other;combined\n");
		rc = vt_ethtool_channels(ops, state, ifname, &c);
		if (rc < 0)
			record_errno(out, "channels", rc);
		else
			g_string_append_printf(out, "channels=%u;%u;%u;%u;%u;%u;%u;%u\n", c.max_rx,
					       c.max_tx, c.max_other, c.max_combined, c.rx_count,
					       c.tx_count, c.other_count, c.combined_count);
		g_string_append(
			out, "# rx_max;rx_mini_max;rx_jumbo_max;tx_max;rx;rx_mini;rx_jumbo;tx\n");
		rc = vt_ethtool_rings(ops, state, ifname, &r);
		if (rc < 0)
			record_errno(out, "rings", rc);
		else
			g_string_append_printf(
				out, "rings=%u;%u;%u;%u;%u;%u;%u;%u\n", r.rx_max_pending,
				r.rx_mini_max_pending, r.rx_jumbo_max_pending, r.tx_max_pending,
				r.rx_pending, r.rx_mini_pending, r.rx_jumbo_pending, r.tx_pending);
		g_string_append(out, "# name:flags (a available, r requested, c active, n never "
				     "changed)\n");
		rc = vt_ethtool_feature_names(ops, state, ifname, &names, &count);
		if (rc == 0) {
			g_autofree struct ethtool_get_features_block *b =
				g_new0(struct ethtool_get_features_block, (count + 31) / 32 + 1);

			rc = vt_ethtool_features(ops, state, ifname, count, b);
			if (rc == 0) {
				g_string_append(out, "features=");
				for (guint k = 0; k < count; k++) {
					guint32 bit = 1u << (k % 32);
					const struct ethtool_get_features_block *blk = &b[k / 32];

					g_string_append_printf(out, "%s:%s%s%s%s;", names[k],
							       blk->available & bit ? "a" : "",
							       blk->requested & bit ? "r" : "",
							       blk->active & bit ? "c" : "",
							       blk->never_changed & bit ? "n" : "");
				}
				g_string_append_c(out, '\n');
			}
		}
		if (rc < 0)
			record_errno(out, "features", rc);
	}
	ops->close(state);
	return g_string_free(g_steal_pointer(&out), FALSE);
}
