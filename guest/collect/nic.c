/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every network interface but lo and the excluded: ethtool settings, sysfs link and counters. */
#include "collector-private.h"

#include <errno.h>
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

/* "aa:bb:..": hex pairs and colons; up to MAX_ADDR_LEN (32) bytes of address. */
#define MAC_TEXT_MAX (32u * 3u)

static void
iface_reset(VtIface *iface)
{
	for (guint i = 0; i < VT_IFACE_N_FILES; i++)
		vt_file_close(&iface->files[i]);
	iface->ifindex = -1;
	iface->absent = 0;
	iface->channels_rc = iface->rings_rc = 0;
	iface->drvinfo_done = FALSE;
	iface->names_done = FALSE;
	iface->names_cleaned = FALSE;
	g_clear_pointer(&iface->feature_names, g_strfreev);
	iface->n_features = 0;
}

void
vt_iface_free(gpointer data)
{
	VtIface *iface = data;

	iface_reset(iface);
	g_free(iface->name);
	g_free(iface);
}

static VtIface *
iface_new(const VtListEntry *e)
{
	VtIface *iface = g_new0(VtIface, 1);

	iface->name = g_strdup(e->name);
	iface->ino = e->ino;
	iface->ifindex = -1;
	for (guint i = 0; i < VT_IFACE_N_FILES; i++)
		iface->files[i] = (VtFile)VT_FILE_INIT;
	return iface;
}

static int
read_attr(VtCollector *c, VtIface *iface, VtIfaceFile which, char *buf, gsize cap)
{
	char path[512];
	gboolean truncated = FALSE;
	int err = ENODEV;

	/* the path is built only to open: most reports just pread the kept fd */
	if (iface->absent & (1u << which))
		return ENOENT;
	if (iface->files[which].fd >= 0)
		err = vt_file_read(&iface->files[which], c->root_fd, NULL, buf, cap, NULL,
				   &truncated);
	if (err == ENODEV || err == ESTALE) {
		g_snprintf(path, sizeof(path), "sys/class/net/%s/%s", iface->name,
			   iface_files[which]);
		err = vt_file_read(&iface->files[which], c->root_fd, path, buf, cap, NULL,
				   &truncated);
	}
	if (err == ENOENT)
		iface->absent |= 1u << which;
	if (err == 0)
		vt_chomp(buf);
	return err == 0 && truncated ? EFBIG : err;
}

static void
problem(GString *problems, const char *what, const char *why)
{
	g_string_append_printf(problems, "%s%s: %s", problems->len ? "; " : "", what, why);
}

static const char *
errno_text(int err)
{
	return err == ENOENT ? "not present" : g_strerror(err);
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
collect_sysfs(VtCollector *c, VtIface *iface, VtNic *nic, GString *problems)
{
	char buf[VT_ATTR_MAX];
	guint64 u64;
	gint64 i64;
	int err;
	VtNicStats *s;
	guint64 *stats[VT_NIC_STAT_COUNT];
	protobuf_c_boolean *has[VT_NIC_STAT_COUNT];

	err = read_attr(c, iface, VT_IFACE_MTU, buf, sizeof(buf));
	if (err == 0 && vt_parse_u32(buf, &nic->mtu))
		nic->has_mtu = TRUE;
	else
		problem(problems, "mtu", err ? errno_text(err) : "not a number");

	err = read_attr(c, iface, VT_IFACE_ADDRESS, buf, sizeof(buf));
	if (err == 0 && mac_is_valid(buf))
		nic->mac = vt_report_string(buf, -1, NULL);
	else
		problem(problems, "address", err ? errno_text(err) : "not a hardware address");

	/* carrier answers EINVAL while the interface is down: no link then */
	err = read_attr(c, iface, VT_IFACE_CARRIER, buf, sizeof(buf));
	if (err == EINVAL) {
		nic->has_link_up = TRUE;
		nic->link_up = FALSE;
	} else if (err == 0 && vt_parse_u64(buf, &u64) && u64 <= 1) {
		nic->has_link_up = TRUE;
		nic->link_up = u64 == 1;
	} else {
		problem(problems, "carrier", err ? errno_text(err) : "not 0 or 1");
	}

	/* -1 (SPEED_UNKNOWN) or EINVAL when down: unknown, left unset */
	err = read_attr(c, iface, VT_IFACE_SPEED, buf, sizeof(buf));
	if (err == 0 && vt_parse_i64(buf, &i64)) {
		if (i64 > 0 && i64 < G_MAXUINT32) {
			nic->has_speed_mbps = TRUE;
			nic->speed_mbps = (guint32)i64;
		}
	} else if (err != EINVAL && err != ENOENT) {
		problem(problems, "speed", err ? errno_text(err) : "not a number");
	}

	s = g_new(VtNicStats, 1);
	virttune__v1__nic_stats__init(s);
	stats[0] = &s->rx_bytes, has[0] = &s->has_rx_bytes;
	stats[1] = &s->rx_packets, has[1] = &s->has_rx_packets;
	stats[2] = &s->rx_errors, has[2] = &s->has_rx_errors;
	stats[3] = &s->rx_dropped, has[3] = &s->has_rx_dropped;
	stats[4] = &s->tx_bytes, has[4] = &s->has_tx_bytes;
	stats[5] = &s->tx_packets, has[5] = &s->has_tx_packets;
	stats[6] = &s->tx_errors, has[6] = &s->has_tx_errors;
	stats[7] = &s->tx_dropped, has[7] = &s->has_tx_dropped;
	for (guint i = 0; i < VT_NIC_STAT_COUNT; i++) {
		err = read_attr(c, iface, VT_IFACE_STATS0 + i, buf, sizeof(buf));
		if (err == 0 && vt_parse_u64(buf, stats[i]))
			*has[i] = TRUE;
		else
			problem(problems, iface_files[VT_IFACE_STATS0 + i],
				err ? errno_text(err) : "not a number");
	}
	nic->stats = s;
}

static void
collect_ethtool(VtCollector *c, VtIface *iface, VtNic *nic, GString *problems)
{
	gpointer state = vt_collector_ethtool(c);
	struct ethtool_channels ch;
	struct ethtool_ringparam r;
	int rc;

	if (state == NULL)
		return;
	if (!iface->drvinfo_done) {
		iface->drvinfo_done = TRUE;
		iface->drvinfo_rc = vt_ethtool_drvinfo(c->ops, state, iface->name, &iface->drvinfo);
	}
	if (iface->drvinfo_rc == 0) {
		const struct ethtool_drvinfo *d = &iface->drvinfo;
		gboolean ch1 = FALSE, ch2 = FALSE, ch3 = FALSE, ch4 = FALSE;

		nic->driver = ethtool_string(d->driver, sizeof(d->driver), &ch1);
		nic->driver_version = ethtool_string(d->version, sizeof(d->version), &ch2);
		nic->firmware_version = ethtool_string(d->fw_version, sizeof(d->fw_version), &ch3);
		nic->bus_info = ethtool_string(d->bus_info, sizeof(d->bus_info), &ch4);
		if (ch1 || ch2 || ch3 || ch4)
			problem(problems, "drvinfo", "strings not valid UTF-8, replaced");
	} else {
		problem(problems, "drvinfo", g_strerror(-iface->drvinfo_rc));
	}

	rc = iface->channels_rc == -EOPNOTSUPP
		     ? -EOPNOTSUPP
		     : vt_ethtool_channels(c->ops, state, iface->name, &ch);
	iface->channels_rc = rc;
	if (rc == 0) {
		VtChannels *x = g_new(VtChannels, 1);

		virttune__v1__channels__init(x);
		x->has_max_rx = x->has_max_tx = x->has_max_other = x->has_max_combined = TRUE;
		x->has_rx = x->has_tx = x->has_other = x->has_combined = TRUE;
		x->max_rx = ch.max_rx;
		x->max_tx = ch.max_tx;
		x->max_other = ch.max_other;
		x->max_combined = ch.max_combined;
		x->rx = ch.rx_count;
		x->tx = ch.tx_count;
		x->other = ch.other_count;
		x->combined = ch.combined_count;
		nic->channels = x;
	} else {
		problem(problems, "channels", g_strerror(-rc));
	}

	rc = iface->rings_rc == -EOPNOTSUPP ? -EOPNOTSUPP
					    : vt_ethtool_rings(c->ops, state, iface->name, &r);
	iface->rings_rc = rc;
	if (rc == 0) {
		VtRings *x = g_new(VtRings, 1);

		virttune__v1__rings__init(x);
		x->has_rx_max = x->has_rx = x->has_tx_max = x->has_tx = TRUE;
		x->has_rx_mini_max = x->has_rx_mini = x->has_rx_jumbo_max = x->has_rx_jumbo = TRUE;
		x->rx_max = r.rx_max_pending;
		x->rx = r.rx_pending;
		x->tx_max = r.tx_max_pending;
		x->tx = r.tx_pending;
		x->rx_mini_max = r.rx_mini_max_pending;
		x->rx_mini = r.rx_mini_pending;
		x->rx_jumbo_max = r.rx_jumbo_max_pending;
		x->rx_jumbo = r.rx_jumbo_pending;
		nic->rings = x;
	} else {
		problem(problems, "rings", g_strerror(-rc));
	}

	/* the names never change for a device: asked once; the values every time */
	if (!iface->names_done) {
		iface->names_done = TRUE;
		iface->names_rc = vt_ethtool_feature_names(
			c->ops, state, iface->name, &iface->feature_names, &iface->n_features);
		/* cleaned once here, copied as they are into every report */
		for (guint i = 0; iface->names_rc == 0 && i < iface->n_features; i++) {
			gboolean bad = FALSE;
			char *clean = vt_report_string(iface->feature_names[i], -1, &bad);

			g_free(iface->feature_names[i]);
			iface->feature_names[i] = clean;
			iface->names_cleaned |= bad;
		}
	}
	if (iface->names_rc != 0) {
		problem(problems, "features",
			iface->names_rc == -E2BIG ? "more than the kernel could have"
						  : g_strerror(-iface->names_rc));
	} else if (iface->n_features > 0) {
		g_autofree struct ethtool_get_features_block *blocks =
			g_new0(struct ethtool_get_features_block, (iface->n_features + 31) / 32);
		guint n = MIN(iface->n_features, VT_REPORT_MAX_FEATURES);

		rc = vt_ethtool_features(c->ops, state, iface->name, iface->n_features, blocks);
		if (rc != 0) {
			problem(problems, "features", g_strerror(-rc));
			return;
		}
		nic->features = g_new(VtFeature *, n);
		for (guint i = 0; i < n; i++) {
			const struct ethtool_get_features_block *b = &blocks[i / 32];
			guint32 bit = 1u << (i % 32);
			VtFeature *f;

			/* unused feature bits have empty names; ethtool skips them too */
			if (iface->feature_names[i][0] == '\0')
				continue;
			f = g_new(VtFeature, 1);
			virttune__v1__feature__init(f);
			f->name = g_strdup(iface->feature_names[i]);
			f->has_active = f->has_fixed = f->has_requested = TRUE;
			f->active = (b->active & bit) != 0;
			f->requested = (b->requested & bit) != 0;
			/* as ethtool -k prints [fixed] */
			f->fixed = !(b->available & bit) || (b->never_changed & bit);
			nic->features[nic->n_features++] = f;
		}
		if (iface->names_cleaned)
			problem(problems, "features", "names not valid UTF-8, replaced");
		if (iface->n_features > n)
			problem(problems, "features", "more than the limit, the rest left out");
	}
}

static VtNic *
collect_iface(VtCollector *c, VtIface *iface)
{
	VtNic *nic = g_new(VtNic, 1);
	g_autoptr(GString) problems = g_string_new(NULL);
	gboolean changed = FALSE;
	char buf[VT_ATTR_MAX];
	gint64 ifindex = -1;
	int err;

	virttune__v1__nic__init(nic);
	nic->name = vt_report_string(iface->name, -1, &changed);
	if (changed)
		problem(problems, "name", "not valid UTF-8, replaced");

	/* An interface re-created under the same name gets a new ifindex. */
	err = read_attr(c, iface, VT_IFACE_IFINDEX, buf, sizeof(buf));
	if (err == 0 && vt_parse_i64(buf, &ifindex) && iface->ifindex >= 0 &&
	    ifindex != iface->ifindex)
		iface_reset(iface);
	iface->ifindex = ifindex;

	collect_sysfs(c, iface, nic, problems);
	collect_ethtool(c, iface, nic, problems);
	if (problems->len > 0) {
		g_autofree char *section = g_strdup_printf("nics:%s", nic->name);
		vt_collector_note(c, section, "%s", problems->str);
	}
	return nic;
}

static VtIface *
find_iface(GPtrArray *ifaces, const char *name, guint *idx)
{
	for (guint i = 0; i < ifaces->len; i++) {
		VtIface *iface = g_ptr_array_index(ifaces, i);
		if (strcmp(iface->name, name) == 0) {
			*idx = i;
			return iface;
		}
	}
	return NULL;
}

gboolean
vt_collect_nics(VtCollector *c, VtReport *report, GError **error)
{
	g_autoptr(GArray) list = NULL;
	g_autoptr(GPtrArray) kept = NULL;
	guint more = 0, dropped = 0;

	list = vt_collector_list(c, &c->net_dir, "sys/class/net", &more, error);
	if (list == NULL)
		return FALSE;
	kept = g_ptr_array_new_with_free_func(vt_iface_free);
	for (guint i = 0; i < list->len; i++) {
		const VtListEntry *e = &g_array_index(list, VtListEntry, i);
		VtIface *iface;
		guint idx;

		if (strcmp(e->name, "lo") == 0 || vt_collector_is_excluded(c, e->name))
			continue;
		if (report->n_nics >= VT_REPORT_MAX_NICS) {
			dropped++;
			continue;
		}
		iface = find_iface(c->ifaces, e->name, &idx);
		if (iface != NULL) {
			g_ptr_array_steal_index(c->ifaces, idx);
			if (iface->ino != e->ino) {
				iface_reset(iface);
				iface->ino = e->ino;
			}
		} else {
			iface = iface_new(e);
		}
		g_ptr_array_add(kept, iface);
		VT_APPEND(report->n_nics, report->nics, collect_iface(c, iface));
	}
	g_ptr_array_unref(c->ifaces);
	c->ifaces = g_steal_pointer(&kept);
	if (dropped + more > 0)
		vt_collector_note(c, "nics", "%u interfaces beyond the limit of %u left out",
				  dropped + more, VT_REPORT_MAX_NICS);
	return TRUE;
}
