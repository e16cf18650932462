/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every network interface but lo and the excluded: ethtool settings (kept while the
 * ethtool monitor announces no change), link state and counters (one rtnetlink dump
 * per report on the live system, of the counters alone while no link change is
 * announced; sysfs otherwise). */
#include "collector-private.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "error.h"

static const char *const iface_files[VT_IFACE_N_FILES] = {
	[VT_IFACE_IFINDEX] = "ifindex",
	[VT_IFACE_MTU] = "mtu",
	[VT_IFACE_ADDRESS] = "address",
	[VT_IFACE_CARRIER] = "carrier",
	[VT_IFACE_SPEED] = "speed",
	[VT_IFACE_STATS0 + 0] = "statistics/rx_bytes",
	[VT_IFACE_STATS0 + 1] = "statistics/rx_packets",
	[VT_IFACE_STATS0 + 2] = "statistics/rx_errors",
	[VT_IFACE_STATS0 + 3] = "statistics/rx_dropped",
	[VT_IFACE_STATS0 + 4] = "statistics/tx_bytes",
	[VT_IFACE_STATS0 + 5] = "statistics/tx_packets",
	[VT_IFACE_STATS0 + 6] = "statistics/tx_errors",
	[VT_IFACE_STATS0 + 7] = "statistics/tx_dropped",
};

/* An optional field of a report message: where its has_ flag and its value are. */
typedef struct {
	gsize has;
	gsize value;
} VtField;

#define FIELD(type, name)                                                                          \
	{                                                                                          \
		G_STRUCT_OFFSET(type, has_##name), G_STRUCT_OFFSET(type, name)                     \
	}

/* NicStats fields (uint64), in the order of the statistics/ files above. */
static const VtField stat_fields[VT_NIC_STAT_COUNT] = {
	FIELD(VtNicStats, rx_bytes),   FIELD(VtNicStats, rx_packets), FIELD(VtNicStats, rx_errors),
	FIELD(VtNicStats, rx_dropped), FIELD(VtNicStats, tx_bytes),   FIELD(VtNicStats, tx_packets),
	FIELD(VtNicStats, tx_errors),  FIELD(VtNicStats, tx_dropped),
};

/*
 * struct ethtool_channels and struct ethtool_ringparam are both the command
 * word and eight u32; Channels and Rings hold the eight as optional uint32
 * fields, listed here in the kernel structs' order.
 */
typedef struct {
	const char *what;
	const ProtobufCMessageDescriptor *desc;
	VtField fields[8];
} VtEightU32;

static const VtEightU32 channels_fields = {
	"channels",
	&virttune__v1__channels__descriptor,
	{FIELD(VtChannels, max_rx), FIELD(VtChannels, max_tx), FIELD(VtChannels, max_other),
	 FIELD(VtChannels, max_combined), FIELD(VtChannels, rx), FIELD(VtChannels, tx),
	 FIELD(VtChannels, other), FIELD(VtChannels, combined)},
};

static const VtEightU32 rings_fields = {
	"rings",
	&virttune__v1__rings__descriptor,
	{FIELD(VtRings, rx_max), FIELD(VtRings, rx_mini_max), FIELD(VtRings, rx_jumbo_max),
	 FIELD(VtRings, tx_max), FIELD(VtRings, rx), FIELD(VtRings, rx_mini),
	 FIELD(VtRings, rx_jumbo), FIELD(VtRings, tx)},
};

G_STATIC_ASSERT(sizeof(struct ethtool_channels) == 9 * sizeof(guint32));
G_STATIC_ASSERT(sizeof(struct ethtool_ringparam) == 9 * sizeof(guint32));

/* Reports between two askings of every ethtool answer, announced or not. */
#define VT_ETHTOOL_REFRESH_REPORTS 60u

/* "aa:bb:..": hex pairs and colons; up to MAX_ADDR_LEN (32) bytes of address. */
#define MAC_TEXT_MAX (32u * 3u)

static void
iface_reset(VtDevice *dev)
{
	VtIface *iface = (VtIface *)dev;

	iface->ifindex = -1;
	iface->channels_rc = iface->rings_rc = 0;
	iface->drvinfo_done = FALSE;
	iface->names_done = FALSE;
	iface->names_cleaned = FALSE;
	vt_iface_features_clear(iface);
	iface->ethtool_kept = FALSE;
	iface->virtio_done = FALSE;
	g_clear_pointer(&iface->virtio_device, g_free);
	iface->speed_state = -1;
}

static gboolean
iface_skip(const char *name)
{
	return strcmp(name, "lo") == 0;
}

static void
problem(GString *problems, const char *what, const char *why)
{
	g_string_append_printf(problems, "%s%s: %s", problems->len ? "; " : "", what, why);
}

/* @err: a negative errno */
static const char *
errno_text(int err)
{
	return err == -ENOENT ? "not present" : g_strerror(-err);
}

static gboolean
mac_is_valid(const char *text)
{
	gsize len = strlen(text);

	if (len == 0 || len > MAC_TEXT_MAX || len % 3 != 2)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (i % 3 == 2 ? text[i] != ':' : !g_ascii_isxdigit(text[i]))
			return FALSE;
	return TRUE;
}

/* A fixed-width, maybe unterminated ethtool string as report text; NULL when empty. */
static char *
ethtool_string(const char *field, gsize width, gboolean *changed)
{
	gsize len = strnlen(field, width);

	if (len == 0)
		return NULL;
	return vt_report_string(field, (gssize)len, changed);
}

static void
set_u32(gpointer msg, const VtField *f, guint32 value)
{
	G_STRUCT_MEMBER(protobuf_c_boolean, msg, f->has) = TRUE;
	G_STRUCT_MEMBER(guint32, msg, f->value) = value;
}

static void
set_u64(gpointer msg, const VtField *f, guint64 value)
{
	G_STRUCT_MEMBER(protobuf_c_boolean, msg, f->has) = TRUE;
	G_STRUCT_MEMBER(guint64, msg, f->value) = value;
}

static ProtobufCMessage *
message_new(const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *msg = g_malloc(desc->sizeof_message);

	protobuf_c_message_init(desc, msg);
	return msg;
}

/* mtu, address and carrier from the sysfs attributes. */
static void
link_from_sysfs(VtCollector *c, VtIface *iface, VtNic *nic, GString *problems)
{
	char buf[VT_ATTR_MAX];
	guint64 u64;
	int err;

	err = vt_device_read(c, &iface->base, VT_IFACE_MTU, buf, sizeof(buf));
	if (err == 0 && vt_parse_u32(buf, &nic->mtu))
		nic->has_mtu = TRUE;
	else
		problem(problems, "mtu", err ? errno_text(err) : "not a number");

	err = vt_device_read(c, &iface->base, VT_IFACE_ADDRESS, buf, sizeof(buf));
	if (err == 0 && mac_is_valid(buf))
		nic->mac = vt_report_string(buf, -1, NULL);
	else
		problem(problems, "address", err ? errno_text(err) : "not a hardware address");

	/* carrier answers EINVAL while the interface is down: no link then */
	err = vt_device_read(c, &iface->base, VT_IFACE_CARRIER, buf, sizeof(buf));
	if (err == -EINVAL) {
		nic->has_link_up = TRUE;
		nic->link_up = FALSE;
	} else if (err == 0 && vt_parse_u64(buf, &u64) && u64 <= 1) {
		nic->has_link_up = TRUE;
		nic->link_up = u64 == 1;
	} else {
		problem(problems, "carrier", err ? errno_text(err) : "not 0 or 1");
	}
}

/* The same from the rtnetlink dump, with the same meaning as sysfs gives. */
static void
link_from_netlink(const VtLink *link, VtNic *nic, GString *problems)
{
	char mac[VT_LINK_ADDR_MAX * 3u];

	if (link->has_mtu) {
		nic->has_mtu = TRUE;
		nic->mtu = link->mtu;
	} else {
		problem(problems, "mtu", "not present");
	}
	if (vt_link_address_text(link, mac, sizeof(mac)))
		nic->mac = vt_report_string(mac, -1, NULL);
	else
		problem(problems, "address", "not a hardware address");
	/* sysfs refuses carrier while the interface is down: no link then */
	if (!(link->flags & IFF_UP) || link->has_carrier) {
		nic->has_link_up = TRUE;
		nic->link_up = (link->flags & IFF_UP) && link->carrier;
	} else {
		problem(problems, "carrier", "not present");
	}
}

static void
collect_link(VtCollector *c, VtIface *iface, const VtLink *link, VtNic *nic, GString *problems)
{
	char buf[VT_ATTR_MAX];
	gint64 i64;
	int err, state;

	if (link != NULL)
		link_from_netlink(link, nic, problems);
	else
		link_from_sysfs(c, iface, nic, problems);

	/* a kept speed holds while the link stays as it was (sysfs: always read) */
	state = link == NULL ? -1 : (int)((link->flags & IFF_UP) != 0) | (link->carrier ? 2 : 0);
	if (state < 0 || state != iface->speed_state)
		vt_kept_clear(&iface->base.kept[VT_IFACE_SPEED]);
	iface->speed_state = state;
	/* -1 (SPEED_UNKNOWN) or EINVAL when down: unknown, left unset */
	err = vt_device_read(c, &iface->base, VT_IFACE_SPEED, buf, sizeof(buf));
	if (err == 0 && vt_parse_i64(buf, &i64)) {
		if (i64 > 0 && i64 < G_MAXUINT32) {
			nic->has_speed_mbps = TRUE;
			nic->speed_mbps = (guint32)i64;
		}
	} else if (err != -EINVAL && err != -ENOENT) {
		problem(problems, "speed", err ? errno_text(err) : "not a number");
	}
}

static void
collect_stats(VtCollector *c, VtIface *iface, const VtLink *link, VtNic *nic, GString *problems)
{
	ProtobufCMessage *s = message_new(&virttune__v1__nic_stats__descriptor);
	char buf[VT_ATTR_MAX];

	G_STATIC_ASSERT(VT_LINK_STATS == VT_NIC_STAT_COUNT);
	for (guint i = 0; i < VT_NIC_STAT_COUNT; i++) {
		int err;
		guint64 v;

		if (link != NULL && link->has_stats) {
			set_u64(s, &stat_fields[i], link->stats[i]);
			continue;
		}
		err = vt_device_read(c, &iface->base, VT_IFACE_STATS0 + i, buf, sizeof(buf));
		if (err == 0 && vt_parse_u64(buf, &v))
			set_u64(s, &stat_fields[i], v);
		else
			problem(problems, iface_files[VT_IFACE_STATS0 + i],
				err ? errno_text(err) : "not a number");
	}
	nic->stats = (VtNicStats *)s;
}

static void
collect_drvinfo(VtEthtool *e, VtIface *iface, VtNic *nic, GString *problems)
{
	const struct ethtool_drvinfo *d = &iface->drvinfo;
	gboolean ch1 = FALSE, ch2 = FALSE, ch3 = FALSE, ch4 = FALSE;

	if (!iface->drvinfo_done) {
		iface->drvinfo_done = TRUE;
		iface->drvinfo_rc = vt_ethtool_get_drvinfo(e, iface->base.name, &iface->drvinfo);
	}
	if (iface->drvinfo_rc < 0) {
		problem(problems, "drvinfo", g_strerror(-iface->drvinfo_rc));
		return;
	}
	nic->driver = ethtool_string(d->driver, sizeof(d->driver), &ch1);
	nic->driver_version = ethtool_string(d->version, sizeof(d->version), &ch2);
	nic->firmware_version = ethtool_string(d->fw_version, sizeof(d->fw_version), &ch3);
	nic->bus_info = ethtool_string(d->bus_info, sizeof(d->bus_info), &ch4);
	if (ch1 || ch2 || ch3 || ch4)
		problem(problems, "drvinfo", "strings not valid UTF-8, replaced");
}

/* Channels or rings from @answer (the ethtool struct) when @rc is 0. */
static ProtobufCMessage *
eight_u32(const VtEightU32 *set, int rc, const void *answer, GString *problems)
{
	ProtobufCMessage *msg;
	guint32 v[8];

	if (rc < 0) {
		problem(problems, set->what, g_strerror(-rc));
		return NULL;
	}
	memcpy(v, (const guint8 *)answer + sizeof(guint32), sizeof(v));
	msg = message_new(set->desc);
	for (guint i = 0; i < G_N_ELEMENTS(v); i++)
		set_u32(msg, &set->fields[i], v[i]);
	return msg;
}

/* Asks channels, rings and feature bits again; keeps them when every answer
 * is one that only an announced change can move. */
static void
ask_ethtool(VtEthtool *e, VtIface *iface)
{
	const char *name = iface->base.name;

	if (iface->channels_rc != -EOPNOTSUPP)
		iface->channels_rc = vt_ethtool_get_channels(e, name, &iface->channels);
	if (iface->rings_rc != -EOPNOTSUPP)
		iface->rings_rc = vt_ethtool_get_rings(e, name, &iface->rings);
	vt_iface_ask_features(e, iface);
	iface->ethtool_kept = (iface->channels_rc == 0 || iface->channels_rc == -EOPNOTSUPP) &&
			      (iface->rings_rc == 0 || iface->rings_rc == -EOPNOTSUPP) &&
			      iface->features_rc == 0;
}

static void
collect_ethtool(VtCollector *c, VtIface *iface, VtNic *nic, GString *problems)
{
	VtEthtool *e = vt_collector_ethtool(c);

	if (e == NULL)
		return;
	collect_drvinfo(e, iface, nic, problems);
	if (!iface->ethtool_kept || !c->ethtool_stable)
		ask_ethtool(e, iface);
	nic->channels = (VtChannels *)eight_u32(&channels_fields, iface->channels_rc,
						&iface->channels, problems);
	nic->rings = (VtRings *)eight_u32(&rings_fields, iface->rings_rc, &iface->rings, problems);
	vt_collect_features(c, iface, nic, problems);
}

static void
collect_iface(VtCollector *c, VtDevice *dev, VtReport *report)
{
	VtIface *iface = (VtIface *)dev;
	VtNic *nic = g_new(VtNic, 1);
	g_autoptr(GString) problems = g_string_new(NULL);
	gboolean changed = FALSE;
	char buf[VT_ATTR_MAX];
	/* not in the dump (created since, or renamed): sysfs, as without netlink */
	const VtLink *link = c->links_ok ? vt_links_find(c->links, dev->name) : NULL;
	gint64 ifindex = -1;
	int err;

	virttune__v1__nic__init(nic);
	nic->name = vt_report_string(dev->name, -1, &changed);
	if (changed)
		problem(problems, "name", "not valid UTF-8, replaced");

	/* An interface re-created under the same name gets a new ifindex. */
	if (link != NULL)
		ifindex = link->ifindex;
	else if ((err = vt_device_read(c, dev, VT_IFACE_IFINDEX, buf, sizeof(buf))) != 0 ||
		 !vt_parse_i64(buf, &ifindex))
		ifindex = -1;
	if (ifindex >= 0 && iface->ifindex >= 0 && ifindex != iface->ifindex)
		vt_device_reset(dev);
	iface->ifindex = ifindex;

	collect_link(c, iface, link, nic, problems);
	collect_stats(c, iface, link, nic, problems);
	collect_ethtool(c, iface, nic, problems);
	if (!iface->virtio_done) {
		iface->virtio_done = TRUE;
		iface->virtio_device = vt_virtio_device(c, dev->name);
		/* its vectors may be new: looked for again, unless this report
		 * read /proc/interrupts already (with them in it) */
		if (!c->irqs_read)
			c->irqs_stale = TRUE;
	}
	if (iface->virtio_device != NULL)
		vt_collect_queue_interrupts(c, iface->virtio_device, nic, problems);
	vt_device_note(c, dev, nic->name, problems);
	VT_APPEND(report->n_nics, report->nics, nic);
}

static const VtDeviceKind iface_kind = {
	VT_DEVICES_NICS,    "nics",          "sys/class/net",
	"interfaces",       iface_files,     1u << VT_IFACE_SPEED,
	VT_REPORT_MAX_NICS, sizeof(VtIface), iface_skip,
	iface_reset,        collect_iface,
};

/*
 * Whether this report may reuse the ethtool answers kept per NIC. Only on
 * the live system with the kernel's ioctls (a test's recorded answers are
 * asked every time), only with the monitor joined before the answers were
 * asked, and at least every VT_ETHTOOL_REFRESH_REPORTS reports anyway, for a
 * driver that changes a setting without announcing it.
 */
static void
check_ethtool_stable(VtCollector *c)
{
	c->ethtool_stable = FALSE;
	if (c->ops != NULL || strcmp(c->sysroot, "/") != 0)
		return;
	if (!c->monitor_tried) {
		c->monitor_tried = TRUE;
		/* without ethtool netlink (before 5.6) every report asks, as before */
		if (vt_ethtool_monitor_open(&c->monitor) < 0)
			c->monitor = NULL;
		return;
	}
	if (c->monitor == NULL)
		return;
	/* drained on every report, so that what is queued is only what is new */
	if ((c->monitor_ready && vt_ethtool_monitor_changed(c->monitor)) ||
	    ++c->ethtool_reports >= VT_ETHTOOL_REFRESH_REPORTS) {
		c->ethtool_reports = 0;
		return;
	}
	c->ethtool_stable = TRUE;
}

/* This report's rtnetlink dump of every interface (live system only); on
 * any failure the interfaces are read from sysfs as before. */
static void
dump_links(VtCollector *c)
{
	c->links_ok = FALSE;
	if (strcmp(c->sysroot, "/") != 0)
		return;
	if (!c->links_tried) {
		c->links_tried = TRUE;
		if (vt_links_open(&c->links) < 0)
			c->links = NULL;
	}
	/* the counters alone while no link change is announced; everything with
	 * the settings */
	c->links_ok = c->links != NULL && vt_links_refresh(c->links, !c->settings_kept) == 0;
}

gboolean
vt_collect_nics(VtCollector *c, VtReport *report, GError **error)
{
	check_ethtool_stable(c);
	dump_links(c);
	return vt_collect_devices(c, &iface_kind, report, error);
}
