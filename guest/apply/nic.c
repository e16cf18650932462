/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NIC channels, rings and offload features, through ethtool; persisted in a
 * systemd .link file. */
#include "apply-private.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "kernel/sysattr.h"

/* ---------------------------------------------------------------- channels and rings */

/*
 * Channels and rings work alike: the ethtool struct is the command word and
 * eight u32, a change sets some of them, each within a maximum the same
 * struct gives. Values are "k=v k=v" with the keys of the fields asked for,
 * in a fixed order: "combined=4", "rx=512 tx=1024".
 */
#define KV_MAX 3u

typedef union {
	struct ethtool_channels ch;
	struct ethtool_ringparam rp;
	struct {
		guint32 cmd;
		guint32 v[8];
	} u32;
} EightU32;

G_STATIC_ASSERT(sizeof(struct ethtool_channels) == 9 * sizeof(guint32));
G_STATIC_ASSERT(sizeof(struct ethtool_ringparam) == 9 * sizeof(guint32));

typedef struct {
	guint32 v[KV_MAX];
	gboolean has[KV_MAX];
} KvValues;

typedef struct {
	gboolean rings; /* else channels */
	guint n;
	const char *names[KV_MAX];      /* in values, and as ethtool's arguments */
	guint cur[KV_MAX], max[KV_MAX]; /* indexes among the eight u32 */
	guint32 min;                    /* drivers take no ring of 0 entries */
	gsize policy_max;               /* offset of the admin's bound in VtPolicy */
	const char *link_keys[KV_MAX];  /* systemd.link settings */
	const char *ethtool;            /* its option */
} KvSet;

static const KvSet channel_set = {
	FALSE,
	3,
	{"combined", "rx", "tx"},
	{7, 4, 5},
	{3, 0, 1},
	0,
	G_STRUCT_OFFSET(VtPolicy, channels_max),
	{"CombinedChannels", "RxChannels", "TxChannels"},
	"-L",
};

static const KvSet ring_set = {
	TRUE,
	2,
	{"rx", "tx"},
	{4, 7},
	{0, 3},
	1,
	G_STRUCT_OFFSET(VtPolicy, rings_max),
	{"RxBufferSize", "TxBufferSize"},
	"-G",
};

/* The set of @a, its interface and the values it asks for. */
static const KvSet *
kv_asked(const VtAction *a, const char **iface, KvValues *want)
{
	if (a->kind_case == VIRTTUNE__V1__ACTION__KIND_SET_RING) {
		const VtSetRing *s = a->set_ring;

		*iface = s->iface;
		*want = (KvValues){{s->rx, s->tx}, {s->has_rx, s->has_tx}};
		return &ring_set;
	}
	*iface = a->set_channels->iface;
	*want = (KvValues){
		{a->set_channels->combined, a->set_channels->rx, a->set_channels->tx},
		{a->set_channels->has_combined, a->set_channels->has_rx, a->set_channels->has_tx}};
	return &channel_set;
}

static int
kv_get(VtEthtool *e, const KvSet *set, const char *iface, EightU32 *u)
{
	return set->rings ? vt_ethtool_get_rings(e, iface, &u->rp)
			  : vt_ethtool_get_channels(e, iface, &u->ch);
}

static gboolean
kv_parse(const KvSet *set, const char *text, KvValues *out)
{
	g_auto(GStrv) items = g_strsplit(text, " ", 8);

	memset(out, 0, sizeof(*out));
	for (guint i = 0; items[i] != NULL; i++) {
		const char *eq = strchr(items[i], '=');
		guint64 x;
		guint k;

		if (eq == NULL)
			return FALSE;
		for (k = 0; k < set->n; k++)
			if (strncmp(items[i], set->names[k], (gsize)(eq - items[i])) == 0 &&
			    set->names[k][eq - items[i]] == '\0')
				break;
		if (k == set->n ||
		    !g_ascii_string_to_unsigned(eq + 1, 10, 0, G_MAXUINT32, &x, NULL))
			return FALSE;
		out->v[k] = (guint32)x;
		out->has[k] = TRUE;
	}
	return TRUE;
}

static char *
kv_format(const KvSet *set, const KvValues *values)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint k = 0; k < set->n; k++)
		if (values->has[k])
			g_string_append_printf(s, "%s%s=%u", s->len ? " " : "", set->names[k],
					       values->v[k]);
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static int
kv_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autoptr(VtEthtool) e = NULL;
	const char *iface;
	KvValues live;
	const KvSet *set = kv_asked(a, &iface, &live);
	EightU32 u;
	int r;

	if ((r = vt_ethtool_open(ap->ops, &e)) < 0 || (r = kv_get(e, set, iface, &u)) < 0)
		return r;
	for (guint k = 0; k < set->n; k++)
		live.v[k] = u.u32.v[set->cur[k]];
	*value = kv_format(set, &live);
	return 0;
}

static int
kv_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autoptr(VtEthtool) e = NULL;
	const char *iface;
	KvValues asked, want;
	const KvSet *set = kv_asked(a, &iface, &asked);
	EightU32 u;
	int r;

	if (!kv_parse(set, value, &want))
		return -EINVAL;
	if ((r = vt_ethtool_open(ap->ops, &e)) < 0 || (r = kv_get(e, set, iface, &u)) < 0)
		return r;
	for (guint k = 0; k < set->n; k++)
		if (want.has[k])
			u.u32.v[set->cur[k]] = want.v[k];
	return set->rings ? vt_ethtool_set_rings(e, iface, &u.rp)
			  : vt_ethtool_set_channels(e, iface, &u.ch);
}

static gboolean
kv_check(VtApplier *ap, const VtAction *a, VtApplyCheck *c)
{
	g_autoptr(VtEthtool) e = NULL;
	const char *iface;
	KvValues want;
	const KvSet *set = kv_asked(a, &iface, &want);
	guint32 policy_max = G_STRUCT_MEMBER(guint32, ap->policy, set->policy_max);
	EightU32 u;
	int r;

	if (!vt_apply_plain_name(iface, IFNAMSIZ - 1))
		return vt_apply_verdict(c, ST_INVALID, "bad_name", 0);
	if (!want.has[0] && !want.has[1] && !want.has[2])
		return vt_apply_verdict(c, ST_INVALID, "bad_request", 0);
	if ((r = vt_ethtool_open(ap->ops, &e)) < 0 || (r = kv_get(e, set, iface, &u)) < 0)
		return vt_apply_read_verdict(c, r);
	for (guint k = 0; k < set->n; k++)
		if (want.has[k] && (want.v[k] < set->min || want.v[k] > u.u32.v[set->max[k]]))
			return vt_apply_verdict(c, ST_INVALID, "out_of_range", 0);
	for (guint k = 0; k < set->n; k++)
		if (want.has[k] && want.v[k] > policy_max)
			return vt_apply_verdict(c, ST_REFUSED, "policy_bounds", 0);
	c->target = kv_format(set, &want);
	return kv_read(ap, a, &c->before) == 0 || vt_apply_verdict(c, ST_FAILED, "kernel", EIO);
}

static char *
kv_command(const VtAction *a, const char *value)
{
	g_autofree char *args = g_strdup(value);
	const char *iface;
	KvValues want;
	const KvSet *set = kv_asked(a, &iface, &want);

	g_strdelimit(args, "=", ' ');
	return g_strdup_printf("ethtool %s %s %s", set->ethtool, iface, args);
}

/* The NIC's MAC for a .link [Match], or NULL. */
static char *
nic_mac(VtApplier *ap, const char *iface)
{
	g_autofree char *rel = g_strdup_printf("sys/class/net/%s/address", iface);
	g_autofree char *mac = NULL;

	if (vt_sysattr_read(ap->root_fd, rel, &mac) < 0 || strlen(mac) != 17 ||
	    strspn(mac, "0123456789abcdef:") != 17 || strcmp(mac, "00:00:00:00:00:00") == 0)
		return NULL;
	return g_steal_pointer(&mac);
}

static gboolean
kv_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	const char *iface;
	KvValues values;
	const KvSet *set = kv_asked(a, &iface, &values);
	g_autofree char *mac = nic_mac(ap, iface);

	if (!kv_parse(set, value, &values))
		return FALSE;
	for (guint k = 0; k < set->n; k++) {
		g_autofree char *num = g_strdup_printf("%u", values.v[k]);
		if (values.has[k])
			g_ptr_array_add(out, vt_dropin_link(iface, mac, set->link_keys[k], num));
	}
	return TRUE;
}

const VtApplyKind vt_apply_channels = {
	VT_POLICY_CHANNELS, "channels", kv_check, kv_read, kv_write, kv_command, kv_persist,
};

const VtApplyKind vt_apply_rings = {
	VT_POLICY_RINGS, "rings", kv_check, kv_read, kv_write, kv_command, kv_persist,
};

/* ---------------------------------------------------------------- features */

/* The feature's index and the set it is in, read afresh. */
static int
feature_get(VtEthtool *e, const VtSetFeature *s, VtEthtoolFeatures **f, guint *index)
{
	int r = vt_ethtool_get_features(e, s->iface, f);
	int i;

	if (r < 0)
		return r;
	i = vt_ethtool_feature_index(*f, s->feature);
	if (i < 0)
		return -ENOENT;
	*index = (guint)i;
	return 0;
}

static const char *
feature_state(const VtEthtoolFeatures *f, guint i)
{
	return vt_ethtool_feature_bit(f, i, VT_ETHTOOL_FEATURE_ACTIVE) ? "on" : "off";
}

static int
feature_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autoptr(VtEthtool) e = NULL;
	g_autoptr(VtEthtoolFeatures) f = NULL;
	guint i;
	int r;

	if ((r = vt_ethtool_open(ap->ops, &e)) < 0 ||
	    (r = feature_get(e, a->set_feature, &f, &i)) < 0)
		return r;
	*value = g_strdup(feature_state(f, i));
	return 0;
}

static int
feature_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autoptr(VtEthtool) e = NULL;
	g_autoptr(VtEthtoolFeatures) f = NULL;
	guint i;
	int r;

	if ((r = vt_ethtool_open(ap->ops, &e)) < 0 ||
	    (r = feature_get(e, a->set_feature, &f, &i)) < 0)
		return r;
	r = vt_ethtool_set_feature(e, a->set_feature->iface, f->n, i, strcmp(value, "on") == 0);
	if (r < 0)
		return r;
	/* WISH/COMPAT: taken in part; the read back tells what happened */
	return (r & ETHTOOL_F_UNSUPPORTED) ? -EOPNOTSUPP : 0;
}

static gboolean
feature_check(VtApplier *ap, const VtAction *a, VtApplyCheck *c)
{
	const VtSetFeature *s = a->set_feature;
	g_autoptr(VtEthtool) e = NULL;
	g_autoptr(VtEthtoolFeatures) f = NULL;
	int r, i;

	if (!vt_apply_plain_name(s->iface, IFNAMSIZ - 1) ||
	    !vt_apply_plain_name(s->feature, ETH_GSTRING_LEN - 1))
		return vt_apply_verdict(c, ST_INVALID, "bad_name", 0);
	if (!s->has_on)
		return vt_apply_verdict(c, ST_INVALID, "bad_request", 0);
	if ((r = vt_ethtool_open(ap->ops, &e)) < 0 ||
	    (r = vt_ethtool_get_features(e, s->iface, &f)) < 0)
		return vt_apply_read_verdict(c, r);
	i = vt_ethtool_feature_index(f, s->feature);
	if (i < 0)
		return vt_apply_verdict(c, ST_INVALID, "unknown_feature", 0);
	if (vt_ethtool_feature_bit(f, (guint)i, VT_ETHTOOL_FEATURE_FIXED) ||
	    !vt_ethtool_feature_bit(f, (guint)i, VT_ETHTOOL_FEATURE_AVAILABLE))
		return vt_apply_verdict(c, ST_INVALID, "fixed_feature", 0);
	c->before = g_strdup(feature_state(f, (guint)i));
	c->target = g_strdup(s->on ? "on" : "off");
	return TRUE;
}

static char *
feature_command(const VtAction *a, const char *value)
{
	return g_strdup_printf("ethtool -K %s %s %s", a->set_feature->iface,
			       a->set_feature->feature, value);
}

static gboolean
feature_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	/* the ethtool features systemd.link has a setting for */
	static const char *const map[][2] = {
		{"tx-tcp-segmentation", "TCPSegmentationOffload"},
		{"tx-generic-segmentation", "GenericSegmentationOffload"},
		{"rx-gro", "GenericReceiveOffload"},
		{"rx-lro", "LargeReceiveOffload"},
		{"rx-checksum", "ReceiveChecksumOffload"},
	};
	g_autofree char *mac = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(map); i++) {
		if (strcmp(map[i][0], a->set_feature->feature) != 0)
			continue;
		mac = nic_mac(ap, a->set_feature->iface);
		g_ptr_array_add(out, vt_dropin_link(a->set_feature->iface, mac, map[i][1],
						    strcmp(value, "on") == 0 ? "true" : "false"));
		return TRUE;
	}
	return FALSE;
}

const VtApplyKind vt_apply_feature = {
	VT_POLICY_FEATURES, "features",      feature_check,   feature_read,
	feature_write,      feature_command, feature_persist,
};
