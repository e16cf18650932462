/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ethtool-replay.h"

#include <errno.h>
#include <string.h>

#include "error.h"

/* Channels and rings alike: the command word, then eight u32. */
#define EIGHT_U32_SIZE (9 * sizeof(guint32))
G_STATIC_ASSERT(sizeof(struct ethtool_channels) == EIGHT_U32_SIZE);
G_STATIC_ASSERT(sizeof(struct ethtool_ringparam) == EIGHT_U32_SIZE);

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

/* ------------------------------------------------------------ replay */

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
replay_drvinfo(GKeyFile *kf, const char *ifname, void *cmd, gsize size)
{
	struct ethtool_drvinfo *d = cmd;
	int rc;

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

/* GCHANNELS and GRINGPARAM: eight u32 from @key, after the command word. */
static int
replay_eight_u32(GKeyFile *kf, const char *ifname, const char *key, void *cmd, gsize size)
{
	guint32 v[8];
	gsize len = 0;
	g_auto(GStrv) list = NULL;
	int rc;

	if (size < EIGHT_U32_SIZE)
		return -EINVAL;
	rc = replay_key_errno(kf, ifname, key);
	if (rc < 0)
		return rc;
	list = replay_list(kf, ifname, key, &len);
	if (list == NULL || len != G_N_ELEMENTS(v))
		return -EINVAL;
	for (gsize i = 0; i < G_N_ELEMENTS(v); i++) {
		guint64 x = 0;
		if (!g_ascii_string_to_unsigned(list[i], 10, 0, G_MAXUINT32, &x, NULL))
			x = 0;
		v[i] = (guint32)x;
	}
	memcpy((guint8 *)cmd + sizeof(guint32), v, sizeof(v));
	return 0;
}

static int
replay_sset_info(GKeyFile *kf, const char *ifname, void *cmd, gsize size)
{
	struct ethtool_sset_info *s = cmd;
	gsize n = 0;
	g_auto(GStrv) list = NULL;
	guint64 forced;
	g_autofree char *count = NULL;
	int rc;

	if (size < sizeof(*s) + sizeof(guint32))
		return -EINVAL;
	rc = replay_key_errno(kf, ifname, "features");
	if (rc < 0)
		return rc;
	list = replay_list(kf, ifname, "features", &n);
	count = g_key_file_get_value(kf, ifname, "features-count", NULL);
	if (count != NULL && g_ascii_string_to_unsigned(count, 10, 0, G_MAXUINT32, &forced, NULL))
		n = forced;
	s->sset_mask &= 1ULL << ETH_SS_FEATURES;
	if (s->sset_mask)
		s->data[0] = (guint32)n;
	return 0;
}

static int
replay_gstrings(GKeyFile *kf, const char *ifname, void *cmd, gsize size)
{
	struct ethtool_gstrings *g = cmd;
	gsize n = 0, room;
	g_auto(GStrv) list = NULL;
	int rc;

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

static void
feature_flags(const char *item, struct ethtool_get_features_block *b, guint32 bit)
{
	const char *colon = strrchr(item, ':');

	if (colon == NULL)
		return;
	if (strchr(colon, 'a'))
		b->available |= bit;
	if (strchr(colon, 'r'))
		b->requested |= bit;
	if (strchr(colon, 'c'))
		b->active |= bit;
	if (strchr(colon, 'n'))
		b->never_changed |= bit;
}

static int
replay_gfeatures(GKeyFile *kf, const char *ifname, void *cmd, gsize size)
{
	struct ethtool_gfeatures *f = cmd;
	gsize n = 0, words;
	g_auto(GStrv) list = NULL;
	int rc;

	if (size < sizeof(*f))
		return -EINVAL;
	rc = replay_key_errno(kf, ifname, "features");
	if (rc < 0)
		return rc;
	list = replay_list(kf, ifname, "features", &n);
	words = MIN((gsize)f->size, (size - sizeof(*f)) / sizeof(f->features[0]));
	memset(f->features, 0, words * sizeof(f->features[0]));
	for (gsize i = 0; i < n && i / 32 < words; i++)
		feature_flags(list[i], &f->features[i / 32], 1u << (i % 32));
	f->size = (guint32)((n + 31) / 32);
	return 0;
}

static int
replay_request(gpointer state, const char *ifname, void *cmd, gsize size)
{
	GKeyFile *kf = state;
	guint32 op;

	if (size < sizeof(op))
		return -EINVAL;
	memcpy(&op, cmd, sizeof(op));
	if (!g_key_file_has_group(kf, ifname))
		return -ENODEV;
	switch (op) {
	case ETHTOOL_GDRVINFO:
		return replay_drvinfo(kf, ifname, cmd, size);
	case ETHTOOL_GCHANNELS:
		return replay_eight_u32(kf, ifname, "channels", cmd, size);
	case ETHTOOL_GRINGPARAM:
		return replay_eight_u32(kf, ifname, "rings", cmd, size);
	case ETHTOOL_GSSET_INFO:
		return replay_sset_info(kf, ifname, cmd, size);
	case ETHTOOL_GSTRINGS:
		return replay_gstrings(kf, ifname, cmd, size);
	case ETHTOOL_GFEATURES:
		return replay_gfeatures(kf, ifname, cmd, size);
	default:
		return -EOPNOTSUPP;
	}
}

static int
replay_open(const VtEthtoolOps *ops, gpointer *state)
{
	*state = ops->data;
	return 0;
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

static void
record_drvinfo(GString *out, VtEthtool *e, const char *ifname)
{
	struct ethtool_drvinfo d;
	int rc = vt_ethtool_get_drvinfo(e, ifname, &d);

	if (rc < 0) {
		record_errno(out, "driver", rc);
		return;
	}
	record_string(out, "driver", d.driver, sizeof(d.driver));
	record_string(out, "version", d.version, sizeof(d.version));
	record_string(out, "fw-version", d.fw_version, sizeof(d.fw_version));
	record_string(out, "bus-info", d.bus_info, sizeof(d.bus_info));
}

/* Channels or rings, answered @rc into @answer. */
static void
record_eight_u32(GString *out, const char *key, const char *comment, int rc, const void *answer)
{
	guint32 v[8];

	g_string_append_printf(out, "# %s\n", comment);
	if (rc < 0) {
		record_errno(out, key, rc);
		return;
	}
	memcpy(v, (const guint8 *)answer + sizeof(guint32), sizeof(v));
	g_string_append_printf(out, "%s=%u;%u;%u;%u;%u;%u;%u;%u\n", key, v[0], v[1], v[2], v[3],
			       v[4], v[5], v[6], v[7]);
}

static void
record_features(GString *out, VtEthtool *e, const char *ifname)
{
	g_auto(GStrv) names = NULL;
	g_autofree struct ethtool_get_features_block *b = NULL;
	guint count = 0;
	int rc;

	g_string_append(out, "# name:flags (a available, r requested, c active, n never "
			     "changed)\n");
	rc = vt_ethtool_get_feature_names(e, ifname, &names, &count);
	if (rc == 0) {
		b = g_new0(struct ethtool_get_features_block, (count + 31) / 32 + 1);
		rc = vt_ethtool_get_feature_bits(e, ifname, count, b);
	}
	if (rc < 0) {
		record_errno(out, "features", rc);
		return;
	}
	g_string_append(out, "features=");
	for (guint k = 0; k < count; k++) {
		guint32 bit = 1u << (k % 32);
		const struct ethtool_get_features_block *blk = &b[k / 32];

		g_string_append_printf(
			out, "%s:%s%s%s%s;", names[k], blk->available & bit ? "a" : "",
			blk->requested & bit ? "r" : "", blk->active & bit ? "c" : "",
			blk->never_changed & bit ? "n" : "");
	}
	g_string_append_c(out, '\n');
}

char *
vt_ethtool_record(const VtEthtoolOps *ops, const char *const *ifnames, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(VtEthtool) e = NULL;
	int rc = vt_ethtool_open(ops, &e);

	if (rc < 0) {
		vt_error_set_errno(error, -rc, "ethtool socket");
		return NULL;
	}
	for (gsize i = 0; ifnames[i] != NULL; i++) {
		const char *ifname = ifnames[i];
		struct ethtool_channels c;
		struct ethtool_ringparam r;

		g_string_append_printf(out, "%s[%s]\n", i ? "\n" : "", ifname);
		record_drvinfo(out, e, ifname);
		rc = vt_ethtool_get_channels(e, ifname, &c);
		record_eight_u32(out, "channels",
				 "max_rx;max_tx;max_other;max_combined;rx;tx;other;combined", rc,
				 &c);
		rc = vt_ethtool_get_rings(e, ifname, &r);
		record_eight_u32(out, "rings",
				 "rx_max;rx_mini_max;rx_jumbo_max;tx_max;rx;rx_mini;rx_jumbo;tx",
				 rc, &r);
		record_features(out, e, ifname);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
