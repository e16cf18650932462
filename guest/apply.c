/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apply.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "error.h"
#include "journal.h"
#include "json.h"
#include "persist.h"
#include "validate.h"

#define VT_APPLY_REQUEST_ID_MAX 128u
#define VT_APPLY_BLOCK_NAME_MAX 31u /* DISK_NAME_LEN - 1 */
#define VT_APPLY_WORD_MAX       32u /* scheduler and THP words */
#define VT_APPLY_SYSFS_MAX      4096u

#define ST_APPLIED     VIRTTUNE__V1__APPLY_RESULT__STATUS__applied
#define ST_REFUSED     VIRTTUNE__V1__APPLY_RESULT__STATUS__refused
#define ST_INVALID     VIRTTUNE__V1__APPLY_RESULT__STATUS__invalid
#define ST_FAILED      VIRTTUNE__V1__APPLY_RESULT__STATUS__failed
#define ST_VALIDATED   VIRTTUNE__V1__APPLY_RESULT__STATUS__validated
#define ST_ROLLED_BACK VIRTTUNE__V1__APPLY_RESULT__STATUS__rolled_back

struct VtApplier {
	char *sysroot;
	const VtNicOps *ops;
	gpointer ops_user;
	VtPolicy *policy;
	VtJournal *journal; /* NULL when the state dir is unusable */
	char *journal_error;
	VtApplyHook hook;
	gpointer hook_user;
};

/* What validation found: the live value and the one asked for, or why not. */
typedef struct {
	int status; /* 0 while fine */
	const char *reason;
	int errnum;
	char *before;
	char *target;
} Check;

static void
check_clear(Check *c)
{
	g_free(c->before);
	g_free(c->target);
}

static gboolean
verdict(Check *c, int status, const char *reason, int errnum)
{
	c->status = status;
	c->reason = reason;
	c->errnum = errnum;
	return FALSE;
}

/* A negative errno from reading the device, as a verdict. */
static gboolean
read_verdict(Check *c, int err)
{
	if (err == -ENODEV || err == -ENOENT || err == -ENXIO)
		return verdict(c, ST_INVALID, "no_device", -err);
	if (err == -EOPNOTSUPP || err == -ENOTTY)
		return verdict(c, ST_INVALID, "not_supported", -err);
	return verdict(c, ST_FAILED, "kernel", -err);
}

/* A plain name: no path, nothing a drop-in or a command line would read as
 * syntax. Interfaces allow more in principle; no real one needs more. */
static gboolean
plain_name(const char *name, gsize max)
{
	gsize len;

	if (name == NULL)
		return FALSE;
	len = strlen(name);
	if (len == 0 || len > max || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && strchr("._-:+@", name[i]) == NULL)
			return FALSE;
	return TRUE;
}

/* ---------------------------------------------------------------- files */

static int
sysfs_read(VtApplier *ap, const char *rel, char **out)
{
	g_autofree char *path = g_build_filename(ap->sysroot, rel, NULL);
	char buf[VT_APPLY_SYSFS_MAX + 1];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, VT_APPLY_SYSFS_MAX);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int errsv = errno;
		close(fd);
		return -errsv;
	}
	close(fd);
	buf[n] = '\0';
	if (!g_utf8_validate(buf, n, NULL) || strlen(buf) != (gsize)n)
		return -EINVAL;
	*out = g_strdup(g_strstrip(buf));
	return 0;
}

static int
sysfs_write(VtApplier *ap, const char *rel, const char *value)
{
	g_autofree char *path = g_build_filename(ap->sysroot, rel, NULL);
	gsize len = strlen(value);
	ssize_t n;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int errsv = errno;
		close(fd);
		return -errsv;
	}
	if (close(fd) < 0)
		return -errno;
	return (gsize)n == len ? 0 : -EIO;
}

/* "a [b] c" (or a bare "b", as a fake tree holds after a write): the words
 * and the bracketed one. */
static char **
parse_choice(const char *text, char **active)
{
	g_auto(GStrv) words = g_strsplit_set(text, " \t\n", 0);
	g_autoptr(GPtrArray) out = g_ptr_array_new();

	*active = NULL;
	for (guint i = 0; words[i] != NULL && out->len < VT_REPORT_MAX_SCHEDULERS; i++) {
		char *w = words[i];
		gsize len = strlen(w);

		if (len == 0)
			continue;
		if (w[0] == '[' && len > 2 && w[len - 1] == ']') {
			w = g_strndup(w + 1, len - 2);
			g_free(*active);
			*active = g_strdup(w);
		} else {
			w = g_strdup(w);
		}
		g_ptr_array_add(out, w);
	}
	if (*active == NULL && out->len == 1)
		*active = g_strdup(out->pdata[0]);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* ---------------------------------------------------------------- values */

/* "k=v k=v" with keys from @names: values into @v, presence into @has. */
static gboolean
parse_kv(const char *text, const char *const *names, guint n, guint32 *v, gboolean *has)
{
	g_auto(GStrv) items = g_strsplit(text, " ", 8);

	memset(has, 0, n * sizeof(gboolean));
	for (guint i = 0; items[i] != NULL; i++) {
		const char *eq = strchr(items[i], '=');
		guint64 x;
		guint k;

		if (eq == NULL)
			return FALSE;
		for (k = 0; k < n; k++)
			if (strncmp(items[i], names[k], (gsize)(eq - items[i])) == 0 &&
			    names[k][eq - items[i]] == '\0')
				break;
		if (k == n || !g_ascii_string_to_unsigned(eq + 1, 10, 0, G_MAXUINT32, &x, NULL))
			return FALSE;
		v[k] = (guint32)x;
		has[k] = TRUE;
	}
	return TRUE;
}

static char *
format_kv(const char *const *names, guint n, const guint32 *v, const gboolean *has)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint k = 0; k < n; k++)
		if (has[k])
			g_string_append_printf(s, "%s%s=%u", s->len ? " " : "", names[k], v[k]);
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static char *
kv_command(const char *prefix, const char *value)
{
	g_autofree char *args = g_strdup(value);

	g_strdelimit(args, "=", ' ');
	return g_strdup_printf("%s %s", prefix, args);
}

/* ---------------------------------------------------------------- kinds */

typedef struct {
	VtPolicyClass klass;
	const char *name;
	/* Validate fields, names, the live device and the policy's bounds. */
	gboolean (*check)(VtApplier *ap, const VtAction *a, Check *c);
	/* The live value, in the form check() and write() use; -errno. */
	int (*read)(VtApplier *ap, const VtAction *a, char **value);
	int (*write)(VtApplier *ap, const VtAction *a, const char *value);
	char *(*command)(const VtAction *a, const char *value);
	/* Drop-in lines for @value; FALSE when none can hold it. */
	gboolean (*persist)(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out);
} Kind;

/* --- channels and rings: ethtool structs seen as named u32 fields */

static const char *const channel_names[] = {"combined", "rx", "tx"};
static const char *const ring_names[] = {"rx", "tx"};

static void
channels_fields(const VtSetChannels *s, guint32 *v, gboolean *has)
{
	has[0] = s->has_combined, v[0] = s->combined;
	has[1] = s->has_rx, v[1] = s->rx;
	has[2] = s->has_tx, v[2] = s->tx;
}

static int
channels_read(VtApplier *ap, const VtAction *a, char **value)
{
	struct ethtool_channels ch;
	guint32 v[3];
	gboolean has[3];
	int r = vt_nic_get_channels(ap->ops, ap->ops_user, a->set_channels->iface, &ch);

	if (r < 0)
		return r;
	channels_fields(a->set_channels, v, has);
	v[0] = ch.combined_count, v[1] = ch.rx_count, v[2] = ch.tx_count;
	*value = format_kv(channel_names, 3, v, has);
	return 0;
}

static int
channels_write(VtApplier *ap, const VtAction *a, const char *value)
{
	struct ethtool_channels ch;
	guint32 v[3];
	gboolean has[3];
	int r;

	if (!parse_kv(value, channel_names, 3, v, has))
		return -EINVAL;
	r = vt_nic_get_channels(ap->ops, ap->ops_user, a->set_channels->iface, &ch);
	if (r < 0)
		return r;
	if (has[0])
		ch.combined_count = v[0];
	if (has[1])
		ch.rx_count = v[1];
	if (has[2])
		ch.tx_count = v[2];
	return vt_nic_set_channels(ap->ops, ap->ops_user, a->set_channels->iface, &ch);
}

static gboolean
channels_check(VtApplier *ap, const VtAction *a, Check *c)
{
	const VtSetChannels *s = a->set_channels;
	struct ethtool_channels ch;
	guint32 v[3], max[3];
	gboolean has[3];
	int r;

	if (!plain_name(s->iface, IFNAMSIZ - 1))
		return verdict(c, ST_INVALID, "bad_name", 0);
	channels_fields(s, v, has);
	if (!has[0] && !has[1] && !has[2])
		return verdict(c, ST_INVALID, "bad_request", 0);
	r = vt_nic_get_channels(ap->ops, ap->ops_user, s->iface, &ch);
	if (r < 0)
		return read_verdict(c, r);
	max[0] = ch.max_combined, max[1] = ch.max_rx, max[2] = ch.max_tx;
	for (guint k = 0; k < 3; k++)
		if (has[k] && v[k] > max[k])
			return verdict(c, ST_INVALID, "out_of_range", 0);
	for (guint k = 0; k < 3; k++)
		if (has[k] && v[k] > ap->policy->channels_max)
			return verdict(c, ST_REFUSED, "policy_bounds", 0);
	c->target = format_kv(channel_names, 3, v, has);
	return channels_read(ap, a, &c->before) == 0 || verdict(c, ST_FAILED, "kernel", EIO);
}

static char *
channels_command(const VtAction *a, const char *value)
{
	g_autofree char *prefix = g_strdup_printf("ethtool -L %s", a->set_channels->iface);
	return kv_command(prefix, value);
}

/* The NIC's MAC for a .link [Match], or NULL. */
static char *
nic_mac(VtApplier *ap, const char *iface)
{
	g_autofree char *rel = g_strdup_printf("sys/class/net/%s/address", iface);
	g_autofree char *mac = NULL;

	if (sysfs_read(ap, rel, &mac) < 0 || strlen(mac) != 17 ||
	    strspn(mac, "0123456789abcdef:") != 17 || strcmp(mac, "00:00:00:00:00:00") == 0)
		return NULL;
	return g_steal_pointer(&mac);
}

static gboolean
kv_persist(VtApplier *ap, const char *iface, const char *const *names, const char *const *keys,
	   guint n, const char *value, GPtrArray *out)
{
	g_autofree char *mac = nic_mac(ap, iface);
	guint32 v[3];
	gboolean has[3];

	if (!parse_kv(value, names, n, v, has))
		return FALSE;
	for (guint k = 0; k < n; k++) {
		g_autofree char *num = g_strdup_printf("%u", v[k]);
		if (has[k])
			g_ptr_array_add(out, vt_dropin_link(iface, mac, keys[k], num));
	}
	return TRUE;
}

static gboolean
channels_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	static const char *const keys[] = {"CombinedChannels", "RxChannels", "TxChannels"};
	return kv_persist(ap, a->set_channels->iface, channel_names, keys, 3, value, out);
}

static int
rings_read(VtApplier *ap, const VtAction *a, char **value)
{
	struct ethtool_ringparam rp;
	guint32 v[2];
	gboolean has[2] = {a->set_ring->has_rx, a->set_ring->has_tx};
	int r = vt_nic_get_rings(ap->ops, ap->ops_user, a->set_ring->iface, &rp);

	if (r < 0)
		return r;
	v[0] = rp.rx_pending, v[1] = rp.tx_pending;
	*value = format_kv(ring_names, 2, v, has);
	return 0;
}

static int
rings_write(VtApplier *ap, const VtAction *a, const char *value)
{
	struct ethtool_ringparam rp;
	guint32 v[2];
	gboolean has[2];
	int r;

	if (!parse_kv(value, ring_names, 2, v, has))
		return -EINVAL;
	r = vt_nic_get_rings(ap->ops, ap->ops_user, a->set_ring->iface, &rp);
	if (r < 0)
		return r;
	if (has[0])
		rp.rx_pending = v[0];
	if (has[1])
		rp.tx_pending = v[1];
	return vt_nic_set_rings(ap->ops, ap->ops_user, a->set_ring->iface, &rp);
}

static gboolean
rings_check(VtApplier *ap, const VtAction *a, Check *c)
{
	const VtSetRing *s = a->set_ring;
	struct ethtool_ringparam rp;
	guint32 v[2] = {s->rx, s->tx}, max[2];
	gboolean has[2] = {s->has_rx, s->has_tx};
	int r;

	if (!plain_name(s->iface, IFNAMSIZ - 1))
		return verdict(c, ST_INVALID, "bad_name", 0);
	if (!has[0] && !has[1])
		return verdict(c, ST_INVALID, "bad_request", 0);
	r = vt_nic_get_rings(ap->ops, ap->ops_user, s->iface, &rp);
	if (r < 0)
		return read_verdict(c, r);
	max[0] = rp.rx_max_pending, max[1] = rp.tx_max_pending;
	for (guint k = 0; k < 2; k++)
		if (has[k] && (v[k] == 0 || v[k] > max[k]))
			return verdict(c, ST_INVALID, "out_of_range", 0);
	for (guint k = 0; k < 2; k++)
		if (has[k] && v[k] > ap->policy->rings_max)
			return verdict(c, ST_REFUSED, "policy_bounds", 0);
	c->target = format_kv(ring_names, 2, v, has);
	return rings_read(ap, a, &c->before) == 0 || verdict(c, ST_FAILED, "kernel", EIO);
}

static char *
rings_command(const VtAction *a, const char *value)
{
	g_autofree char *prefix = g_strdup_printf("ethtool -G %s", a->set_ring->iface);
	return kv_command(prefix, value);
}

static gboolean
rings_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	static const char *const keys[] = {"RxBufferSize", "TxBufferSize"};
	return kv_persist(ap, a->set_ring->iface, ring_names, keys, 2, value, out);
}

/* --- features */

static int
feature_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autoptr(VtNicFeatures) f = NULL;
	int r = vt_nic_get_features(ap->ops, ap->ops_user, a->set_feature->iface, &f);
	int i;

	if (r < 0)
		return r;
	i = vt_nic_feature_index(f, a->set_feature->feature);
	if (i < 0)
		return -ENOENT;
	*value = g_strdup(vt_nic_feature_bit(f, (guint)i, VT_NIC_FEATURE_ACTIVE) ? "on" : "off");
	return 0;
}

static int
feature_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autoptr(VtNicFeatures) f = NULL;
	int r = vt_nic_get_features(ap->ops, ap->ops_user, a->set_feature->iface, &f);
	int i;

	if (r < 0)
		return r;
	i = vt_nic_feature_index(f, a->set_feature->feature);
	if (i < 0)
		return -ENOENT;
	r = vt_nic_set_feature(ap->ops, ap->ops_user, a->set_feature->iface, f->n, (guint)i,
			       strcmp(value, "on") == 0);
	if (r < 0)
		return r;
	/* WISH/COMPAT: taken in part; the read back tells what happened */
	return (r & ETHTOOL_F_UNSUPPORTED) ? -EOPNOTSUPP : 0;
}

static gboolean
feature_check(VtApplier *ap, const VtAction *a, Check *c)
{
	const VtSetFeature *s = a->set_feature;
	g_autoptr(VtNicFeatures) f = NULL;
	int r, i;

	if (!plain_name(s->iface, IFNAMSIZ - 1) || !plain_name(s->feature, ETH_GSTRING_LEN - 1))
		return verdict(c, ST_INVALID, "bad_name", 0);
	if (!s->has_on)
		return verdict(c, ST_INVALID, "bad_request", 0);
	r = vt_nic_get_features(ap->ops, ap->ops_user, s->iface, &f);
	if (r < 0)
		return read_verdict(c, r);
	i = vt_nic_feature_index(f, s->feature);
	if (i < 0)
		return verdict(c, ST_INVALID, "unknown_feature", 0);
	if (vt_nic_feature_bit(f, (guint)i, VT_NIC_FEATURE_FIXED) ||
	    !vt_nic_feature_bit(f, (guint)i, VT_NIC_FEATURE_AVAILABLE))
		return verdict(c, ST_INVALID, "fixed_feature", 0);
	c->before = g_strdup(vt_nic_feature_bit(f, (guint)i, VT_NIC_FEATURE_ACTIVE) ? "on" : "off");
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

/* --- scheduler */

static char *
queue_path(const char *device, const char *attr)
{
	return g_strdup_printf("sys/block/%s/queue/%s", device, attr);
}

static int
scheduler_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autofree char *rel = queue_path(a->set_scheduler->device, "scheduler");
	g_autofree char *text = NULL;
	g_auto(GStrv) words = NULL;
	int r = sysfs_read(ap, rel, &text);

	if (r < 0)
		return r;
	words = parse_choice(text, value);
	return *value != NULL ? 0 : -EINVAL;
}

static int
scheduler_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autofree char *rel = queue_path(a->set_scheduler->device, "scheduler");
	return sysfs_write(ap, rel, value);
}

static gboolean
scheduler_check(VtApplier *ap, const VtAction *a, Check *c)
{
	const VtSetScheduler *s = a->set_scheduler;
	g_autofree char *rel = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) available = NULL;
	int r;

	if (!plain_name(s->device, VT_APPLY_BLOCK_NAME_MAX) ||
	    !plain_name(s->name, VT_APPLY_WORD_MAX))
		return verdict(c, ST_INVALID, "bad_name", 0);
	rel = queue_path(s->device, "scheduler");
	r = sysfs_read(ap, rel, &text);
	/* ENOENT also for a partition: it has no queue of its own */
	if (r < 0)
		return read_verdict(c, r);
	available = parse_choice(text, &c->before);
	if (c->before == NULL)
		return verdict(c, ST_FAILED, "kernel", EINVAL);
	if (!g_strv_contains((const char *const *)available, s->name))
		return verdict(c, ST_INVALID, "unknown_scheduler", 0);
	c->target = g_strdup(s->name);
	return TRUE;
}

static char *
scheduler_command(const VtAction *a, const char *value)
{
	return g_strdup_printf("echo %s > /sys/block/%s/queue/scheduler", value,
			       a->set_scheduler->device);
}

static gboolean
scheduler_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	g_ptr_array_add(out,
			vt_dropin_udev_block(a->set_scheduler->device, "queue/scheduler", value));
	return TRUE;
}

/* --- queue parameters */

static const char *
queue_attr(const VtSetQueueParam *s)
{
	return s->has_nr_requests ? "nr_requests" : "read_ahead_kb";
}

static int
queue_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autofree char *rel =
		queue_path(a->set_queue_param->device, queue_attr(a->set_queue_param));
	guint64 v;
	int r = sysfs_read(ap, rel, value);

	if (r < 0)
		return r;
	if (!g_ascii_string_to_unsigned(*value, 10, 0, G_MAXUINT32, &v, NULL)) {
		g_clear_pointer(value, g_free);
		return -EINVAL;
	}
	return 0;
}

static int
queue_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autofree char *rel =
		queue_path(a->set_queue_param->device, queue_attr(a->set_queue_param));
	return sysfs_write(ap, rel, value);
}

static gboolean
queue_check(VtApplier *ap, const VtAction *a, Check *c)
{
	const VtSetQueueParam *s = a->set_queue_param;
	const VtPolicyRange *range;
	guint32 v;
	int r;

	if (!plain_name(s->device, VT_APPLY_BLOCK_NAME_MAX))
		return verdict(c, ST_INVALID, "bad_name", 0);
	if (s->has_nr_requests == s->has_read_ahead_kb)
		return verdict(c, ST_INVALID, "bad_request", 0);
	r = queue_read(ap, a, &c->before);
	if (r < 0)
		return read_verdict(c, r);
	v = s->has_nr_requests ? s->nr_requests : s->read_ahead_kb;
	range = s->has_nr_requests ? &ap->policy->nr_requests : &ap->policy->read_ahead_kb;
	if (s->has_nr_requests && v == 0)
		return verdict(c, ST_INVALID, "out_of_range", 0);
	if (v < range->min || v > range->max)
		return verdict(c, ST_REFUSED, "policy_bounds", 0);
	c->target = g_strdup_printf("%u", v);
	return TRUE;
}

static char *
queue_command(const VtAction *a, const char *value)
{
	return g_strdup_printf("echo %s > /sys/block/%s/queue/%s", value,
			       a->set_queue_param->device, queue_attr(a->set_queue_param));
}

static gboolean
queue_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	g_autofree char *attr = g_strdup_printf("queue/%s", queue_attr(a->set_queue_param));
	g_ptr_array_add(out, vt_dropin_udev_block(a->set_queue_param->device, attr, value));
	return TRUE;
}

/* --- sysctls */

static int
sysctl_read(VtApplier *ap, const VtAction *a, char **value)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);
	g_autofree char *text = NULL;
	g_auto(GStrv) words = NULL;
	int r;

	if (spec == NULL)
		return -EINVAL;
	r = sysfs_read(ap, spec->path, &text);
	if (r < 0)
		return r;
	if (spec->words == NULL) {
		*value = g_steal_pointer(&text);
		return 0;
	}
	words = parse_choice(text, value);
	return *value != NULL ? 0 : -EINVAL;
}

static int
sysctl_write(VtApplier *ap, const VtAction *a, const char *value)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);

	return spec != NULL ? sysfs_write(ap, spec->path, value) : -EINVAL;
}

static gboolean
sysctl_check(VtApplier *ap, const VtAction *a, Check *c)
{
	const VtSetSysctl *s = a->set_sysctl;
	const VtSysctlSpec *spec = vt_sysctl_spec(s->key);
	g_autofree char *text = NULL;
	g_auto(GStrv) available = NULL;
	guint n = 0;
	int r;

	if (spec == NULL)
		return verdict(c, ST_INVALID, "unknown_sysctl", 0);
	if (!vt_policy_allows(ap->policy, VT_POLICY_SYSCTL, s->key))
		return verdict(c, ST_REFUSED, "policy", 0);
	if (s->value == NULL)
		return verdict(c, ST_INVALID, "bad_request", 0);
	r = sysfs_read(ap, spec->path, &text);
	if (r < 0)
		return read_verdict(c, r);
	if (spec->words == NULL) {
		const VtSysctlSpec *all = vt_sysctl_specs(&n);
		const VtPolicyRange *range = &ap->policy->sysctl_range[spec - all];
		guint64 v;

		if (strlen(s->value) > 10 || strspn(s->value, "0123456789") != strlen(s->value) ||
		    s->value[0] == '\0')
			return verdict(c, ST_INVALID, "bad_value", 0);
		if (!g_ascii_string_to_unsigned(s->value, 10, spec->min, spec->max, &v, NULL))
			return verdict(c, ST_INVALID, "out_of_range", 0);
		if (v < range->min || v > range->max)
			return verdict(c, ST_REFUSED, "policy_bounds", 0);
		c->before = g_steal_pointer(&text);
		c->target = g_strdup_printf("%" G_GUINT64_FORMAT, v);
		return TRUE;
	}
	available = parse_choice(text, &c->before);
	if (!g_strv_contains(spec->words, s->value))
		return verdict(c, ST_INVALID, "bad_value", 0);
	if (!g_strv_contains((const char *const *)available, s->value))
		return verdict(c, ST_INVALID, "not_supported", 0);
	if (c->before == NULL)
		return verdict(c, ST_FAILED, "kernel", EINVAL);
	c->target = g_strdup(s->value);
	return TRUE;
}

static char *
sysctl_command(const VtAction *a, const char *value)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);

	if (spec != NULL && spec->words != NULL)
		return g_strdup_printf("echo %s > /%s", value, spec->path);
	return g_strdup_printf("sysctl -w %s=%s", a->set_sysctl->key, value);
}

static gboolean
sysctl_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);

	if (spec == NULL)
		return FALSE;
	if (spec->words != NULL)
		g_ptr_array_add(out, vt_dropin_tmpfile(spec->path, value));
	else
		g_ptr_array_add(out, vt_dropin_sysctl(spec->key, value));
	return TRUE;
}

/* Indexed by the Action oneof case. */
static const Kind kinds[] = {
	[VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS] = {VT_POLICY_CHANNELS, "channels", channels_check,
						     channels_read, channels_write,
						     channels_command, channels_persist},
	[VIRTTUNE__V1__ACTION__KIND_SET_FEATURE] = {VT_POLICY_FEATURES, "features", feature_check,
						    feature_read, feature_write, feature_command,
						    feature_persist},
	[VIRTTUNE__V1__ACTION__KIND_SET_RING] = {VT_POLICY_RINGS, "rings", rings_check, rings_read,
						 rings_write, rings_command, rings_persist},
	[VIRTTUNE__V1__ACTION__KIND_SET_SCHEDULER] = {VT_POLICY_SCHEDULER, "scheduler",
						      scheduler_check, scheduler_read,
						      scheduler_write, scheduler_command,
						      scheduler_persist},
	[VIRTTUNE__V1__ACTION__KIND_SET_QUEUE_PARAM] = {VT_POLICY_QUEUE, "queue", queue_check,
							queue_read, queue_write, queue_command,
							queue_persist},
	[VIRTTUNE__V1__ACTION__KIND_SET_SYSCTL] = {VT_POLICY_SYSCTL, "sysctl", sysctl_check,
						   sysctl_read, sysctl_write, sysctl_command,
						   sysctl_persist},
};

static const Kind *
kind_of(const VtAction *a)
{
	if (a == NULL || (guint)a->kind_case >= G_N_ELEMENTS(kinds) ||
	    kinds[a->kind_case].check == NULL)
		return NULL;
	/* a oneof case with a NULL submessage comes only from a broken sender */
	if (a->set_channels == NULL)
		return NULL;
	return &kinds[a->kind_case];
}

/* ---------------------------------------------------------------- results */

void
vt_apply_result_free(VtApplyResult *r)
{
	if (r == NULL)
		return;
	g_free(r->request_id);
	g_free(r->reason);
	g_free(r->before);
	g_free(r->after);
	g_free(r->change_id);
	g_free(r->command);
	g_free(r);
}

const char *
vt_apply_status_name(int status)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&virttune__v1__apply_result__status__descriptor, status);
	return v != NULL ? v->name : "unknown";
}

static VtApplyResult *
result_new(const char *request_id, int status, const char *reason, int errnum)
{
	VtApplyResult *r = g_new(VtApplyResult, 1);

	virttune__v1__apply_result__init(r);
	r->request_id = g_strdup(request_id);
	r->has_status = TRUE;
	r->status = status;
	r->reason = g_strdup(reason != NULL ? reason : "");
	if (errnum != 0) {
		r->has_errnum = TRUE;
		r->errnum = errnum;
	}
	return r;
}

static VtApplyResult *
result_set(VtApplyResult *r, const char *before, const char *after, const char *change_id,
	   char *command)
{
	r->before = g_strdup(before);
	r->after = g_strdup(after);
	r->change_id = g_strdup(change_id);
	r->command = command;
	return r;
}

static VtApplyResult *
result_from_entry(const VtJournalEntry *e, const char *request_id)
{
	int status;
	const char *reason = e->reason;

	if (e->kind == VT_JOURNAL_ROLLBACK)
		status = e->state == VT_JOURNAL_APPLIED ? ST_ROLLED_BACK : ST_FAILED;
	else
		status = e->state == VT_JOURNAL_FAILED ? ST_FAILED : ST_APPLIED;
	if (status != ST_FAILED)
		reason = "duplicate";
	return result_set(result_new(request_id, status, reason, e->errnum), e->before, e->after,
			  e->kind == VT_JOURNAL_ROLLBACK ? e->rollback_of : e->change_id,
			  g_strdup(e->command));
}

static gboolean
request_id_ok(const char *id)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > VT_APPLY_REQUEST_ID_MAX)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++)
		if (!g_ascii_isgraph(*p))
			return FALSE;
	return TRUE;
}

/* ---------------------------------------------------------------- drop-ins */

static VtAction *
entry_action(const VtJournalEntry *e)
{
	return (VtAction *)vt_json_message_from_string(&virttune__v1__action__descriptor,
						       e->action_json, -1, NULL);
}

/* Rebuild every drop-in from the journal's persistent changes. */
static gboolean
rebuild_dropins(VtApplier *ap, GError **error)
{
	GPtrArray *entries = vt_journal_entries(ap->journal);
	g_autoptr(GPtrArray) settings =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_dropin_setting_free);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < entries->len; i++) {
		VtJournalEntry *e = entries->pdata[i];
		g_autoptr(VtAction) action = NULL;
		g_autoptr(GPtrArray) mine =
			g_ptr_array_new_with_free_func((GDestroyNotify)vt_dropin_setting_free);
		const Kind *kind;

		if (e->kind != VT_JOURNAL_APPLY || !e->persist)
			continue;
		action = entry_action(e);
		kind = kind_of(action);
		if (kind == NULL ||
		    !kind->persist(ap, action, e->after ? e->after : e->target, mine))
			continue;
		for (guint k = 0; k < mine->len; k++) {
			VtDropinSetting *s = mine->pdata[k];
			if (!g_ptr_array_find_with_equal_func(files, s->file, g_str_equal, NULL))
				g_ptr_array_add(files, g_strdup(s->file));
		}
		if (e->state == VT_JOURNAL_APPLIED)
			g_ptr_array_extend_and_steal(settings, g_steal_pointer(&mine));
	}
	return vt_dropin_write_all(ap->sysroot, settings, files, error);
}

/* ---------------------------------------------------------------- apply */

static void
stage(VtApplier *ap, VtApplyStage s)
{
	if (ap->hook != NULL)
		ap->hook(s, ap->hook_user);
}

static VtApplyResult *
journal_failed(const char *request_id, const GError *error)
{
	int errnum = g_error_matches(error, VT_ERROR, VT_ERROR_TOO_LARGE) ? 0 : EIO;
	return result_new(request_id, ST_FAILED,
			  g_error_matches(error, VT_ERROR, VT_ERROR_TOO_LARGE) ? "journal_full"
									       : "journal",
			  errnum);
}

/* Record @e's end state; a failure to do so is the answer. */
static gboolean
finish(VtApplier *ap, VtJournalEntry *e, VtJournalState state, const char *reason, int errnum,
       GError **error)
{
	e->state = state;
	g_free(e->reason);
	e->reason = g_strdup(reason);
	e->errnum = errnum;
	return vt_journal_commit(ap->journal, e, error);
}

VtApplyResult *
vt_applier_apply(VtApplier *ap, const VtApplyRequest *req)
{
	const VtAction *a = req->action;
	const Kind *kind = kind_of(a);
	g_autoptr(GError) error = NULL;
	g_autofree char *action_json = NULL;
	g_autofree char *after = NULL;
	g_autofree char *command = NULL;
	Check c = {0};
	VtJournalEntry *e;
	VtJournalEntry *prev;
	VtApplyResult *r;
	int err;

	if (!request_id_ok(req->request_id) || kind == NULL)
		return result_new(req->request_id, ST_INVALID, "bad_request", 0);
	action_json = vt_json_message_to_string(&a->base, FALSE, NULL);
	if (action_json == NULL)
		return result_new(req->request_id, ST_INVALID, "bad_request", 0);

	if (ap->journal != NULL &&
	    (prev = vt_journal_find_request(ap->journal, VT_JOURNAL_APPLY, req->request_id))) {
		if (strcmp(prev->action_json, action_json) != 0)
			return result_new(req->request_id, ST_INVALID, "request_id_reused", 0);
		return result_from_entry(prev, req->request_id);
	}

	if (!(ap->policy->classes & kind->klass))
		return result_new(req->request_id, ST_REFUSED, "policy", 0);
	if (req->has_persist && req->persist && !ap->policy->persist)
		return result_new(req->request_id, ST_REFUSED, "persist_not_allowed", 0);
	if (!kind->check(ap, a, &c)) {
		r = result_new(req->request_id, c.status, c.reason, c.errnum);
		check_clear(&c);
		return r;
	}
	command = kind->command(a, c.target);
	if (req->has_persist && req->persist) {
		g_autoptr(GPtrArray) probe =
			g_ptr_array_new_with_free_func((GDestroyNotify)vt_dropin_setting_free);
		if (!kind->persist(ap, a, c.target, probe)) {
			check_clear(&c);
			return result_new(req->request_id, ST_INVALID, "persist_unsupported", 0);
		}
	}
	if (req->has_dry_run && req->dry_run) {
		r = result_set(result_new(req->request_id, ST_VALIDATED, "", 0), c.before, c.target,
			       NULL, g_steal_pointer(&command));
		check_clear(&c);
		return r;
	}
	if (ap->journal == NULL) {
		check_clear(&c);
		return result_new(req->request_id, ST_FAILED, "journal", EIO);
	}

	e = vt_journal_new_entry(ap->journal, VT_JOURNAL_APPLY, &error);
	if (e == NULL) {
		check_clear(&c);
		return journal_failed(req->request_id, error);
	}
	e->request_id = g_strdup(req->request_id);
	e->action_json = g_steal_pointer(&action_json);
	e->persist = req->has_persist && req->persist;
	e->state = VT_JOURNAL_PREPARED;
	e->before = g_steal_pointer(&c.before);
	e->target = g_steal_pointer(&c.target);
	e->command = g_strdup(command);
	check_clear(&c);
	if (!vt_journal_commit(ap->journal, e, &error)) {
		vt_journal_entry_free(e);
		return journal_failed(req->request_id, error);
	}
	stage(ap, VT_APPLY_STAGE_JOURNALED);

	err = kind->write(ap, a, e->target);
	if (err < 0) {
		r = result_new(req->request_id, ST_FAILED, "kernel", -err);
		if (!finish(ap, e, VT_JOURNAL_FAILED, "kernel", -err, &error))
			g_clear_error(&error); /* reconciled at the next start */
		e->after = g_strdup(e->before);
		return result_set(r, e->before, NULL, e->change_id, g_steal_pointer(&command));
	}
	stage(ap, VT_APPLY_STAGE_CHANGED);

	err = kind->read(ap, a, &after);
	e->after = g_strdup(err == 0 ? after : "?");
	if (err == 0 && strcmp(after, e->target) == 0) {
		e->state = VT_JOURNAL_APPLIED; /* what the drop-ins are built from */
		if (e->persist && !rebuild_dropins(ap, &error)) {
			/* the change must not outlive a reboot half-way: undo it */
			kind->write(ap, a, e->before);
			g_free(e->after);
			e->after = g_strdup(e->before);
			finish(ap, e, VT_JOURNAL_FAILED, "persist", 0, NULL);
			rebuild_dropins(ap, NULL);
			return result_set(result_new(req->request_id, ST_FAILED, "persist", EIO),
					  e->before, e->before, e->change_id,
					  g_steal_pointer(&command));
		}
		if (!finish(ap, e, VT_JOURNAL_APPLIED, NULL, 0, &error))
			return journal_failed(req->request_id, error);
		return result_set(result_new(req->request_id, ST_APPLIED, "", 0), e->before,
				  e->after, e->change_id, g_steal_pointer(&command));
	}
	/* Taken in part or not at all. Still a change if anything moved. */
	finish(ap, e,
	       err == 0 && strcmp(after, e->before) != 0 ? VT_JOURNAL_APPLIED : VT_JOURNAL_FAILED,
	       "not_taken", 0, NULL);
	return result_set(result_new(req->request_id, ST_FAILED, "not_taken", 0), e->before,
			  e->after, e->change_id, g_steal_pointer(&command));
}

VtApplyResult *
vt_applier_rollback(VtApplier *ap, const VtRollbackRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAction) a = NULL;
	g_autofree char *live = NULL;
	g_autofree char *after = NULL;
	g_autofree char *command = NULL;
	VtJournalEntry *orig, *prev, *e;
	const Kind *kind;
	int err;

	if (!request_id_ok(req->request_id) || req->change_id == NULL)
		return result_new(req->request_id, ST_INVALID, "bad_request", 0);
	if (ap->journal == NULL)
		return result_new(req->request_id, ST_FAILED, "journal", EIO);
	prev = vt_journal_find_request(ap->journal, VT_JOURNAL_ROLLBACK, req->request_id);
	if (prev != NULL) {
		if (g_strcmp0(prev->rollback_of, req->change_id) != 0)
			return result_new(req->request_id, ST_INVALID, "request_id_reused", 0);
		return result_from_entry(prev, req->request_id);
	}
	orig = vt_journal_find_change(ap->journal, req->change_id);
	if (orig == NULL || orig->kind != VT_JOURNAL_APPLY)
		return result_new(req->request_id, ST_INVALID, "unknown_change", 0);
	if (orig->state == VT_JOURNAL_ROLLED_BACK)
		return result_new(req->request_id, ST_INVALID, "already_rolled_back", 0);
	if (orig->state != VT_JOURNAL_APPLIED)
		return result_new(req->request_id, ST_INVALID, "not_applied", 0);
	a = entry_action(orig);
	kind = kind_of(a);
	if (kind == NULL)
		return result_new(req->request_id, ST_INVALID, "unknown_change", 0);
	if (!(ap->policy->classes & kind->klass) ||
	    (kind->klass == VT_POLICY_SYSCTL &&
	     !vt_policy_allows(ap->policy, VT_POLICY_SYSCTL, a->set_sysctl->key)))
		return result_new(req->request_id, ST_REFUSED, "policy", 0);
	err = kind->read(ap, a, &live);
	if (err < 0) {
		Check c = {0};
		read_verdict(&c, err);
		return result_new(req->request_id, c.status, c.reason, c.errnum);
	}
	command = kind->command(a, orig->before);
	if (strcmp(live, orig->after) != 0)
		return result_set(result_new(req->request_id, ST_INVALID, "conflict", 0), live,
				  orig->before, orig->change_id, g_steal_pointer(&command));

	e = vt_journal_new_entry(ap->journal, VT_JOURNAL_ROLLBACK, &error);
	if (e == NULL)
		return journal_failed(req->request_id, error);
	e->request_id = g_strdup(req->request_id);
	e->rollback_of = g_strdup(orig->change_id);
	e->action_json = g_strdup(orig->action_json);
	e->persist = orig->persist;
	e->state = VT_JOURNAL_PREPARED;
	e->before = g_strdup(live);
	e->target = g_strdup(orig->before);
	e->command = g_strdup(command);
	if (!vt_journal_commit(ap->journal, e, &error)) {
		vt_journal_entry_free(e);
		return journal_failed(req->request_id, error);
	}
	stage(ap, VT_APPLY_STAGE_JOURNALED);

	err = kind->write(ap, a, e->target);
	if (err < 0) {
		e->after = g_strdup(e->before);
		finish(ap, e, VT_JOURNAL_FAILED, "kernel", -err, NULL);
		return result_set(result_new(req->request_id, ST_FAILED, "kernel", -err), e->before,
				  NULL, orig->change_id, g_steal_pointer(&command));
	}
	stage(ap, VT_APPLY_STAGE_CHANGED);
	err = kind->read(ap, a, &after);
	e->after = g_strdup(err == 0 ? after : "?");
	if (err < 0 || strcmp(after, e->target) != 0) {
		finish(ap, e, VT_JOURNAL_FAILED, "not_taken", 0, NULL);
		return result_set(result_new(req->request_id, ST_FAILED, "not_taken", 0), e->before,
				  e->after, orig->change_id, g_steal_pointer(&command));
	}
	orig->state = VT_JOURNAL_ROLLED_BACK;
	if (!vt_journal_commit(ap->journal, orig, &error) ||
	    !finish(ap, e, VT_JOURNAL_APPLIED, NULL, 0, &error))
		return journal_failed(req->request_id, error);
	if (orig->persist && !rebuild_dropins(ap, &error))
		return result_set(result_new(req->request_id, ST_FAILED, "persist", EIO), e->before,
				  e->after, orig->change_id, g_steal_pointer(&command));
	return result_set(result_new(req->request_id, ST_ROLLED_BACK, "", 0), e->before, e->after,
			  orig->change_id, g_steal_pointer(&command));
}

/* ---------------------------------------------------------------- start */

/* An entry a crash left PREPARED: find out from the live value what
 * happened. Returns TRUE when a persistent change's state moved. */
static gboolean
reconcile(VtApplier *ap, VtJournalEntry *e, GPtrArray *warnings)
{
	g_autoptr(VtAction) a = entry_action(e);
	const Kind *kind = kind_of(a);
	g_autofree char *live = NULL;
	VtJournalEntry *orig = NULL;
	VtJournalState state;
	const char *reason;

	if (kind == NULL || kind->read(ap, a, &live) < 0) {
		state = VT_JOURNAL_FAILED;
		reason = "unverifiable";
	} else if (strcmp(live, e->target) == 0 || strcmp(live, e->before) != 0) {
		state = VT_JOURNAL_APPLIED;
		reason = "reconciled";
	} else {
		state = VT_JOURNAL_FAILED;
		reason = "interrupted";
	}
	g_free(e->after);
	e->after = g_strdup(live != NULL ? live : e->before);
	if (e->kind == VT_JOURNAL_ROLLBACK && state == VT_JOURNAL_APPLIED) {
		orig = vt_journal_find_change(ap->journal, e->rollback_of);
		if (orig != NULL) {
			orig->state = VT_JOURNAL_ROLLED_BACK;
			vt_journal_commit(ap->journal, orig, NULL);
		}
	}
	if (!finish(ap, e, state, reason, 0, NULL) && warnings != NULL)
		g_ptr_array_add(warnings, g_strdup_printf("cannot record the outcome of change %s",
							  e->change_id));
	if (warnings != NULL)
		g_ptr_array_add(warnings,
				g_strdup_printf("change %s (request %s) was interrupted; the live "
						"value is %s: marked %s",
						e->change_id, e->request_id,
						live != NULL ? live : "unreadable",
						vt_journal_state_name(state)));
	return e->persist;
}

VtApplier *
vt_applier_new(const char *sysroot, const char *state_dir, const VtNicOps *ops, gpointer ops_user,
	       GPtrArray *warnings)
{
	VtApplier *ap = g_new0(VtApplier, 1);
	g_autoptr(GError) error = NULL;
	gboolean dropins = FALSE;

	ap->sysroot = g_strdup(sysroot != NULL ? sysroot : "/");
	ap->ops = ops != NULL ? ops : vt_nic_ops_real();
	ap->ops_user = ops_user;
	ap->policy = vt_policy_new();
	ap->journal = vt_journal_open(state_dir, warnings, &error);
	if (ap->journal == NULL) {
		if (warnings != NULL)
			g_ptr_array_add(warnings,
					g_strdup_printf("apply journal unusable, every change "
							"will fail: %s",
							error->message));
		return ap;
	}
	for (guint i = 0; i < vt_journal_entries(ap->journal)->len; i++) {
		VtJournalEntry *e = vt_journal_entries(ap->journal)->pdata[i];
		if (e->state == VT_JOURNAL_PREPARED)
			dropins |= reconcile(ap, e, warnings);
	}
	g_clear_error(&error);
	if (dropins && !rebuild_dropins(ap, &error) && warnings != NULL)
		g_ptr_array_add(warnings,
				g_strdup_printf("cannot rewrite the drop-ins: %s", error->message));
	return ap;
}

void
vt_applier_free(VtApplier *ap)
{
	if (ap == NULL)
		return;
	vt_journal_free(ap->journal);
	vt_policy_free(ap->policy);
	g_free(ap->journal_error);
	g_free(ap->sysroot);
	g_free(ap);
}

void
vt_applier_set_policy(VtApplier *ap, const VtPolicy *policy)
{
	vt_policy_free(ap->policy);
	ap->policy = policy != NULL ? vt_policy_copy(policy) : vt_policy_new();
}

void
vt_applier_set_hook(VtApplier *ap, VtApplyHook hook, gpointer user)
{
	ap->hook = hook;
	ap->hook_user = user;
}
