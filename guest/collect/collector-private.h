/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include "bounds.h"
#include "collector.h"
#include "kernel/ethtool-monitor.h"
#include "kernel/ethtool.h"
#include "kernel/links.h"
#include "kernel/sysattr.h"
#include "kernel/uevent-monitor.h"
#include "report-text.h"

G_BEGIN_DECLS

/* The sysctls reported, in report order (sysctl.c). */
#define VT_SYSCTL_COUNT 12u

/* /proc/pressure/{cpu,memory,io} (pressure.c). */
#define VT_PRESSURE_FILES 3u

/* NIC counters under statistics/, in NicStats field order (nic.c). */
#define VT_NIC_STAT_COUNT 8u

/* Block device attributes re-read on every report (block.c). */
typedef enum {
	VT_DISK_DEV,
	VT_DISK_SCHEDULER,
	VT_DISK_NR_REQUESTS,
	VT_DISK_READ_AHEAD_KB,
	VT_DISK_ROTATIONAL,
	VT_DISK_MAX_SECTORS_KB,
	VT_DISK_SIZE,
	VT_DISK_DISCARD_MAX,
	VT_DISK_STAT,
	VT_DISK_N_FILES,
} VtDiskFile;

/* Network interface attributes re-read on every report (nic.c). */
typedef enum {
	VT_IFACE_IFINDEX,
	VT_IFACE_MTU,
	VT_IFACE_ADDRESS,
	VT_IFACE_CARRIER,
	VT_IFACE_SPEED,
	VT_IFACE_STATS0,
	VT_IFACE_N_FILES = VT_IFACE_STATS0 + VT_NIC_STAT_COUNT,
} VtIfaceFile;

#define VT_DEVICE_FILES_MAX MAX((guint)VT_DISK_N_FILES, (guint)VT_IFACE_N_FILES)

typedef struct VtDeviceKind VtDeviceKind;

/*
 * The last read of a setting: a value that changes only when someone writes
 * it (a sysctl, a disk's queue settings, a NIC's speed), kept between reports
 * while VtCollector.settings_kept holds (collector.c).
 */
typedef struct {
	gboolean valid;
	int err;            /* of that read: 0 or -errno */
	gboolean truncated; /* the file held more than was read */
	char *text;         /* what was read, when err is 0; else NULL */
} VtKept;

void vt_kept_clear(VtKept *kept);

/* Remembers a read's outcome in @kept: @text is copied when @err is 0. */
void vt_kept_set(VtKept *kept, int err, const char *text, gboolean truncated);

/* The kept read into @buf (@cap bytes, cut like a read) with its outcome, when
 * this report may use it; FALSE: read the file (and vt_kept_set() it). */
gboolean vt_kept_get(const VtCollector *c, const VtKept *kept, char *buf, gsize cap, int *err,
		     gboolean *truncated);

/* The devices of one listing, kept between reports (device.c). */
typedef enum {
	VT_DEVICES_BLOCK,
	VT_DEVICES_NICS,
	VT_DEVICES_N,
} VtDevicesSlot;

typedef struct {
	DIR *dir;         /* the listing, kept open and rewound */
	GPtrArray *cache; /* VtDevice*, listing order, those in the report */
	guint left_out;   /* listed beyond the limit at the last listing */
} VtDeviceList;

/* What a block device and a network interface have in common (device.c): an
 * entry of a sysfs listing whose attribute files are kept open. */
typedef struct {
	const VtDeviceKind *kind;
	char *name;
	ino_t ino; /* of its listing entry: a re-created device gets a new one */
	VtFile files[VT_DEVICE_FILES_MAX];
	VtKept kept[VT_DEVICE_FILES_MAX]; /* of the files kind->settings names */
	guint32 absent; /* bit per file: not there (ENOENT), not looked for again */
} VtDevice;

struct VtDeviceKind {
	VtDevicesSlot slot;
	const char *section;      /* "block": the report section */
	const char *dir;          /* "sys/block": the listing, under the sysroot */
	const char *what;         /* "devices": in the note about the limit */
	const char *const *files; /* attribute paths under dir/NAME, by index */
	guint32 settings;         /* bit per file: a setting, kept (VtKept) */
	guint max;                /* devices in a report at most */
	gsize size;               /* of the struct that begins with a VtDevice */
	/* Left out whatever the configuration says (loop devices, lo). */
	gboolean (*skip)(const char *name);
	/* Forget what is kept besides the files; also sets up a new device. */
	void (*reset)(VtDevice *dev);
	/* Appends the device's part to the report. */
	void (*collect)(VtCollector *c, VtDevice *dev, VtReport *report);
};

/* A block device seen in the last listing, with what is kept for it. */
typedef struct {
	VtDevice base;
	char *dev;    /* major:minor when first seen */
	char *driver; /* cached: a device's driver does not change while bound */
	char *serial; /* cached: virtio-blk asks the device for it on every read */
	gboolean has_nr_hw_queues;
	guint32 nr_hw_queues;
	gboolean cached;   /* driver, serial and nr_hw_queues read */
	gboolean has_size; /* size as last read, while VtCollector.sizes_kept */
	guint64 size_bytes;
} VtDisk;

/* A network interface seen in the last listing. */
typedef struct {
	VtDevice base;
	gint64 ifindex; /* a re-created interface gets a new ifindex */
	/* A driver without get_channels/get_ringparam never gains one: an
	 * EOPNOTSUPP is kept, not asked again. */
	int channels_rc, rings_rc;
	/* GDRVINFO and the feature names never change for a device: asked once. */
	gboolean drvinfo_done;
	int drvinfo_rc;
	struct ethtool_drvinfo drvinfo;
	gboolean names_done;
	int names_rc;
	char **feature_names;   /* already cleaned for the report */
	gboolean names_cleaned; /* some name was not valid text */
	guint n_features;
	/* Channels, rings and feature bits as last asked; reused while the
	 * ethtool monitor announces no change (VtCollector.ethtool_stable). */
	gboolean ethtool_kept;
	struct ethtool_channels channels;
	struct ethtool_ringparam rings;
	int features_rc;
	struct ethtool_get_features_block *blocks; /* (n_features + 31) / 32 */
	/* Their encoding as it goes on the wire (nic-features.c), packed when
	 * the bits were asked again and changed; NULL: to be packed. */
	guint8 *features_wire;
	gsize features_wire_len;
	/* The virtio device under the interface (its queues' interrupts): a
	 * device does not move while the interface exists. */
	gboolean virtio_done;
	char *virtio_device; /* NULL: not on virtio */
	/* The link state the kept speed was read in: the speed is negotiated
	 * again when the link goes down or up, so it is read again then. */
	int speed_state;
} VtIface;

/* A virtio queue's vector in /proc/interrupts (irq.c). */
typedef struct {
	char *device;         /* virtio2 */
	char *queue;          /* input.0 */
	guint irq;            /* its number, the N of /sys/kernel/irq/N */
	VtFile per_cpu_count; /* /sys/kernel/irq/N/per_cpu_count, kept open */
	guint64 count;
} VtQueueIrq;

void vt_queue_irq_free(VtQueueIrq *irq);

/* A problem worth a line in report->sections, in addition to the collector's own. */
typedef struct {
	char *name;  /* e.g. nics:ifb0 */
	char *error; /* e.g. channels: Operation not supported */
} VtNote;

/* The /proc/vmstat counters a report takes, in vmstat.c's table order. */
typedef enum {
	VT_VMSTAT_PSWPIN = 13,
	VT_VMSTAT_PSWPOUT,
	VT_VMSTAT_ALLOCSTALL, /* the sum of allocstall_<zone> */
	VT_VMSTAT_N
} VtVmstatCounter;

typedef struct {
	int err;     /* of the read: 0 or -errno */
	guint bad;   /* lines not understood */
	guint32 has; /* bit k: value[k] was found */
	guint64 value[VT_VMSTAT_N];
	guint8 order[VT_VMSTAT_N]; /* the counters found, in the file's order (allocstall not) */
	guint n_order;
} VtVmstat;

struct VtCollector {
	char *sysroot;
	int root_fd; /* -errno when the sysroot could not be opened */
	const VtEthtoolOps *ops;
	VtEthtool *ethtool; /* opened on first use */
	gboolean ethtool_tried;
	/* The kernel's ethtool change announcements (live system and kernel
	 * ioctls only), joined on first use; NULL where ethtool netlink is not. */
	VtEthtoolMonitor *monitor;
	gboolean monitor_tried;
	/* This report: whether each monitor's socket has anything queued (one
	 * poll for both); TRUE when not known. */
	gboolean monitor_ready, uevents_ready;
	gboolean ethtool_stable; /* this report: kept ethtool answers still hold */
	guint ethtool_reports;   /* reports since every answer was asked again */
	/* Link state and counters of every interface, one rtnetlink dump per
	 * report (live system only); NULL where the socket could not be had. */
	VtLinks *links;
	gboolean links_tried;
	gboolean links_ok; /* this report's dump worked: nics take from it */
	GPatternSpec **excluded;
	guint n_excluded;
	guint32 sections_mask;     /* bit i: vt_collectors[i] wanted */
	gboolean features_encoded; /* vt_collector_set_features_encoded() */

	/* procfs files, kept open */
	VtFile meminfo, vmstat, swaps, stat, loadavg, uptime, online, hostname, os_release;
	VtFile sysctl[VT_SYSCTL_COUNT];
	VtKept sysctl_kept[VT_SYSCTL_COUNT];
	VtKept hostname_kept;
	/* Settings are read again every settings_refresh reports and in the
	 * report after vt_collector_settings_changed(); counters every report. */
	guint settings_refresh;
	guint settings_reports;  /* since the settings were last read */
	gboolean settings_stale; /* someone wrote one: read them all again */
	gboolean settings_kept;  /* this report: VtKept answers may be used */
	/* Block and net devices announced since the last report (live system);
	 * NULL where the group could not be joined: every report lists them. */
	VtUeventMonitor *uevents;
	gboolean uevents_tried;
	gboolean listings_kept; /* this report: the devices of the last listing */
	gboolean sizes_kept;    /* this report: the disks' sizes as last read */
	gboolean online_kept;   /* this report: the online CPUs as last read */
	gboolean has_online;
	guint32 online_count; /* as last read */
	VtFile pressure[VT_PRESSURE_FILES], softnet;
	char *boot_id;        /* constant for a boot */
	char *kernel_release; /* idem */
	char *os_pretty_name;
	gboolean os_release_done;
	guint32 ticks_per_second;

	VtDeviceList devices[VT_DEVICES_N];
	GPtrArray *notes; /* VtNote*, this report's */
	guint notes_dropped;
	const char *current; /* the running collector's name */

	char *text;             /* VT_PROC_TEXT_MAX scratch buffer for procfs files */
	gboolean vmstat_read;   /* in this report */
	VtVmstat vmstat_values; /* what that read gave */
	VtFile interrupts;      /* /proc/interrupts, kept open */
	char *irq_text;         /* its text, allocated on first use and kept */
	/* VtQueueIrq*, from the last read of /proc/interrupts, their counts
	 * this report's (read on first use). While settings are kept, the counts
	 * are read from each vector's per_cpu_count instead. */
	GPtrArray *irqs;
	gboolean irqs_stale;   /* a NIC was seen anew: read /proc/interrupts again */
	gboolean irqs_per_cpu; /* every vector's per_cpu_count read at that read */
	/* Feature messages of the last recycled report, in its order; the next
	 * report takes them in the same order (the names then match) and leaves
	 * NULL where it took one. At most VT_FEATURE_POOL_MAX. */
	GPtrArray *feature_pool;
	guint feature_next;
	/* The same for /proc/meminfo's map entries (their keys rarely change). */
	GPtrArray *meminfo_pool;
	guint meminfo_next;
	gboolean irqs_read; /* in this report */
	int irqs_err;       /* of that read: 0 or -errno */
};

/* One collector: fills its part of @report; FALSE + error when the section
 * could not be read at all. Per-device trouble goes to vt_collector_note(). */
typedef gboolean (*VtCollectFunc)(VtCollector *c, VtReport *report, GError **error);

gboolean vt_collect_identity(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_meminfo(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_swap(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_vmstat(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_sysctl(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_block(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_nics(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_cpu(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_pressure(VtCollector *c, VtReport *report, GError **error);
gboolean vt_collect_softnet(VtCollector *c, VtReport *report, GError **error);

/* A NIC's features (nic-features.c): forgotten; asked again (names once);
 * put in @nic, with trouble in @problems. */
void vt_iface_features_clear(VtIface *iface);
void vt_iface_ask_features(VtEthtool *e, VtIface *iface);
void vt_collect_features(VtCollector *c, VtIface *iface, VtNic *nic, GString *problems);

/* "virtio2" when @iface sits on a virtio device, else NULL (irq.c). */
char *vt_virtio_device(VtCollector *c, const char *iface);

/* Appends the interrupts of virtio device @device's queues to @nic (irq.c);
 * trouble goes to @problems. */
void vt_collect_queue_interrupts(VtCollector *c, const char *device, VtNic *nic, GString *problems);

/* Ends a report's use of the queue vectors: the next report reads their counts again. */
void vt_queue_irqs_done(VtCollector *c);

/* Forgets the queue vectors. */
void vt_queue_irqs_clear(VtCollector *c);

/* Records a problem for report->sections (bounded there). */
void vt_collector_note(VtCollector *c, const char *name, const char *format, ...)
	G_GNUC_PRINTF(3, 4);

/* Whether a device name is left out by configuration. */
gboolean vt_collector_is_excluded(VtCollector *c, const char *name);

/* Reads @path into c->text; FALSE + error naming the file on failure. */
gboolean vt_collector_read_text(VtCollector *c, VtFile *file, const char *path, gsize *len,
				GError **error);

/* The ethtool handle, opened on first use; NULL (and the reason noted) if it cannot be. */
VtEthtool *vt_collector_ethtool(VtCollector *c);

/*
 * Cheap duplicate guard for map keys: a 1024-bit filter over key hashes. A hit
 * only means "maybe"; the caller then compares against what it kept.
 */
typedef struct {
	guint64 bits[16];
} VtKeyFilter;

gboolean vt_key_filter_add(VtKeyFilter *filter, const char *key);

/* This report's /proc/vmstat counters (vmstat.c; the swap and vmstat
 * sections share one read and one pass); NULL + error. Reads into c->text. */
const VtVmstat *vt_collector_vmstat(VtCollector *c, GError **error);

/* Directory entries read per listing at most; the report keeps far fewer. */
#define VT_LIST_MAX 4096u

/*
 * Lists @kind's directory (kept open and rewound on later calls) in name
 * order, matches the entries with the devices kept from the last report (a
 * device whose entry was re-created starts afresh) and calls kind->collect()
 * for each one listed, within kind->max.
 */
gboolean vt_collect_devices(VtCollector *c, const VtDeviceKind *kind, VtReport *report,
			    GError **error);

/* @problems of a device, as the section "KIND:NAME" (@name: as in the report). */
void vt_device_note(VtCollector *c, const VtDevice *dev, const char *name, const GString *problems);

/* Reads attribute @which of @dev into @buf, chomped: 0, -EFBIG when cut, or -errno. */
int vt_device_read(VtCollector *c, VtDevice *dev, guint which, char *buf, gsize cap);

/* Closes the files and forgets what is kept: the device is seen anew. */
void vt_device_reset(VtDevice *dev);

void vt_device_list_clear(VtDeviceList *list);

/* Feature messages kept between reports at most (collector.c). */
#define VT_FEATURE_POOL_MAX (VT_REPORT_MAX_NICS * VT_REPORT_MAX_FEATURES)

/* A feature message named @name: the next one of the pool, else a new one. */
VtFeature *vt_collector_feature(VtCollector *c, const char *name);

/* A meminfo map entry keyed @key, its value unset: the next one of the pool,
 * else a new one. */
VtReportMeminfoEntry *vt_collector_meminfo_entry(VtCollector *c, const char *key);

/* Appends to a repeated field of pointers, growing it by doubling. */
#define VT_APPEND(n_field, field, item)                                                            \
	do {                                                                                       \
		if (((n_field) & ((n_field)-1)) == 0)                                              \
			(field) = g_realloc((field), MAX((n_field)*2, 4) * sizeof(*(field)));      \
		(field)[(n_field)++] = (item);                                                     \
	} while (0)

G_END_DECLS
