/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every /sys/block device but loop*, ram* and the excluded: queue settings and I/O counters. */
#include "collector-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static const char *const disk_files[VT_DISK_N_FILES] = {
	[VT_DISK_DEV] = "dev",
	[VT_DISK_SCHEDULER] = "queue/scheduler",
	[VT_DISK_NR_REQUESTS] = "queue/nr_requests",
	[VT_DISK_READ_AHEAD_KB] = "queue/read_ahead_kb",
	[VT_DISK_ROTATIONAL] = "queue/rotational",
	[VT_DISK_MAX_SECTORS_KB] = "queue/max_sectors_kb",
	[VT_DISK_SIZE] = "size",
	[VT_DISK_DISCARD_MAX] = "queue/discard_max_bytes",
	[VT_DISK_STAT] = "stat",
};

/* Documentation/ABI/stable/sysfs-block: /sys/block/X/size counts 512-byte sectors. */
#define SECTOR_SIZE 512u

static void
disk_reset(VtDevice *dev)
{
	VtDisk *disk = (VtDisk *)dev;

	g_clear_pointer(&disk->dev, g_free);
	g_clear_pointer(&disk->driver, g_free);
	g_clear_pointer(&disk->serial, g_free);
	disk->has_nr_hw_queues = FALSE;
	disk->nr_hw_queues = 0;
	disk->cached = FALSE;
	disk->has_size = FALSE;
}

/* loop and ram devices say nothing about the guest's storage */
static gboolean
disk_skip(const char *name)
{
	return g_str_has_prefix(name, "loop") || g_str_has_prefix(name, "ram");
}

/* @err: a negative errno */
static void
problem(GString *problems, const char *what, int err)
{
	g_string_append_printf(problems, "%s%s: %s", problems->len ? "; " : "", what,
			       err == -ENOENT ? "not present" : g_strerror(-err));
}

static void
parse_scheduler(VtBlock *b, char *text, GString *problems)
{
	VtChoice choice;

	vt_parse_choice(text, &choice);
	for (guint i = 0; i < choice.n; i++)
		VT_APPEND(b->n_schedulers, b->schedulers,
			  vt_report_string(choice.words[i], -1, NULL));
	if (choice.active >= 0)
		b->scheduler = vt_report_string(choice.words[choice.active], -1, NULL);
	/* a queue without an elevator prints "none" alone, unbracketed */
	else if (choice.n == 1 && strcmp(choice.words[0], "none") == 0)
		b->scheduler = g_strdup("none");
	if (choice.more)
		problem(problems, "queue/scheduler: more schedulers than the limit", -EFBIG);
}

static gboolean
parse_stat(VtBlockStats *s, const char *text)
{
	guint64 v[17];
	int n = vt_parse_u64_words(text, v, G_N_ELEMENTS(v));
	guint64 *slots[17] = {
		&s->reads,         &s->reads_merged,   &s->sectors_read,    &s->read_ms,
		&s->writes,        &s->writes_merged,  &s->sectors_written, &s->write_ms,
		&s->in_flight,     &s->io_ms,          &s->weighted_io_ms,  &s->discards,
		NULL /* merges */, NULL /* sectors */, &s->discard_ms,      &s->flushes,
		&s->flush_ms,
	};
	protobuf_c_boolean *has[17] = {
		&s->has_reads,
		&s->has_reads_merged,
		&s->has_sectors_read,
		&s->has_read_ms,
		&s->has_writes,
		&s->has_writes_merged,
		&s->has_sectors_written,
		&s->has_write_ms,
		&s->has_in_flight,
		&s->has_io_ms,
		&s->has_weighted_io_ms,
		&s->has_discards,
		NULL,
		NULL,
		&s->has_discard_ms,
		&s->has_flushes,
		&s->has_flush_ms,
	};

	/* 11 fields before 4.18, 15 before 5.5, 17 since */
	if (n < 11)
		return FALSE;
	for (guint i = 0; i < (guint)n; i++) {
		if (slots[i] == NULL)
			continue;
		*slots[i] = v[i];
		*has[i] = TRUE;
	}
	return TRUE;
}

/* One mq/N directory per hardware queue. */
static void
count_hw_queues(VtCollector *c, VtDisk *disk)
{
	char path[512];
	g_auto(VtFd) dfd = -1;
	DIR *dir;
	struct dirent *d;
	guint count = 0, seen = 0;

	g_snprintf(path, sizeof(path), "sys/block/%s/mq", disk->base.name);
	dfd = openat(c->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (dir = fdopendir(dfd)) == NULL)
		return;
	dfd = -1; /* the DIR has it */
	while ((d = readdir(dir)) != NULL && seen++ < VT_LIST_MAX) {
		guint64 idx;
		if (vt_parse_u64(d->d_name, &idx))
			count++;
	}
	closedir(dir);
	disk->has_nr_hw_queues = TRUE;
	disk->nr_hw_queues = count;
}

/* Values that do not change while the device exists: read when first seen. */
static void
load_cache(VtCollector *c, VtDisk *disk)
{
	const char *name = disk->base.name;
	char path[512], link[512], buf[VT_ATTR_MAX];
	ssize_t n;

	disk->cached = TRUE;
	g_snprintf(path, sizeof(path), "sys/block/%s/device/driver", name);
	n = readlinkat(c->root_fd, path, link, sizeof(link) - 1);
	if (n > 0) {
		const char *base;

		link[n] = '\0';
		base = strrchr(link, '/');
		disk->driver = g_strdup(base ? base + 1 : link);
	}
	/* virtio-blk asks the device for its serial on every read: once is enough */
	g_snprintf(path, sizeof(path), "sys/block/%s/serial", name);
	if (vt_file_read_once(c->root_fd, path, buf, sizeof(buf), NULL, NULL) < 0) {
		g_snprintf(path, sizeof(path), "sys/block/%s/device/serial", name);
		if (vt_file_read_once(c->root_fd, path, buf, sizeof(buf), NULL, NULL) < 0)
			buf[0] = '\0';
	}
	vt_chomp(buf);
	if (buf[0] != '\0')
		disk->serial = g_strdup(buf);
	count_hw_queues(c, disk);
}

/* A u32 attribute into a field of the report, or a problem. */
static void
read_u32(VtCollector *c, VtDisk *disk, VtDiskFile which, guint32 *value, protobuf_c_boolean *has,
	 GString *problems)
{
	char buf[VT_ATTR_MAX];
	int err = vt_device_read(c, &disk->base, which, buf, sizeof(buf));

	if (err == 0 && vt_parse_u32(buf, value))
		*has = TRUE;
	else
		problem(problems, disk_files[which], err < 0 ? err : -EINVAL);
}

/* A u64 attribute, parsed, or a problem; FALSE for the problem. */
static gboolean
read_u64(VtCollector *c, VtDisk *disk, VtDiskFile which, guint64 *value, GString *problems)
{
	char buf[VT_ATTR_MAX];
	int err = vt_device_read(c, &disk->base, which, buf, sizeof(buf));

	if (err == 0 && vt_parse_u64(buf, value))
		return TRUE;
	problem(problems, disk_files[which], err < 0 ? err : -EINVAL);
	return FALSE;
}

static void
collect_queue(VtCollector *c, VtDisk *disk, VtBlock *b, GString *problems)
{
	char buf[VT_ATTR_MAX];
	guint64 u64;
	int err = vt_device_read(c, &disk->base, VT_DISK_SCHEDULER, buf, sizeof(buf));

	if (err == 0)
		parse_scheduler(b, buf, problems);
	else
		problem(problems, disk_files[VT_DISK_SCHEDULER], err);
	read_u32(c, disk, VT_DISK_NR_REQUESTS, &b->nr_requests, &b->has_nr_requests, problems);
	read_u32(c, disk, VT_DISK_READ_AHEAD_KB, &b->read_ahead_kb, &b->has_read_ahead_kb,
		 problems);
	read_u32(c, disk, VT_DISK_MAX_SECTORS_KB, &b->max_sectors_kb, &b->has_max_sectors_kb,
		 problems);
	if (!read_u64(c, disk, VT_DISK_ROTATIONAL, &u64, problems))
		return;
	if (u64 <= 1) {
		b->has_rotational = TRUE;
		b->rotational = u64 == 1;
	} else {
		problem(problems, disk_files[VT_DISK_ROTATIONAL], -EINVAL);
	}
}

static void
collect_size_and_stats(VtCollector *c, VtDisk *disk, VtBlock *b, GString *problems)
{
	char buf[VT_ATTR_MAX];
	guint64 u64;
	int err;

	/* kept while the kernel announces no change of a block device (a resize) */
	if (!c->sizes_kept || !disk->has_size) {
		disk->has_size = FALSE;
		if (read_u64(c, disk, VT_DISK_SIZE, &u64, problems)) {
			if (u64 <= VT_U64_MAX / SECTOR_SIZE) {
				disk->has_size = TRUE;
				disk->size_bytes = u64 * SECTOR_SIZE;
			} else {
				problem(problems, disk_files[VT_DISK_SIZE], -EINVAL);
			}
		}
	}
	if (disk->has_size) {
		b->has_size_bytes = TRUE;
		b->size_bytes = disk->size_bytes;
	}
	if (read_u64(c, disk, VT_DISK_DISCARD_MAX, &b->discard_max_bytes, problems))
		b->has_discard_max_bytes = TRUE;

	err = vt_device_read(c, &disk->base, VT_DISK_STAT, buf, sizeof(buf));
	if (err == 0) {
		VtBlockStats *s = g_new(VtBlockStats, 1);

		virttune__v1__block_stats__init(s);
		if (parse_stat(s, buf)) {
			b->stats = s;
		} else {
			g_free(s);
			problem(problems, "stat", -EINVAL);
		}
	} else {
		problem(problems, "stat", err);
	}
}

static void
collect_disk(VtCollector *c, VtDevice *dev, VtReport *report)
{
	VtDisk *disk = (VtDisk *)dev;
	VtBlock *b = g_new(VtBlock, 1);
	g_autoptr(GString) problems = g_string_new(NULL);
	char buf[VT_ATTR_MAX];
	gboolean changed = FALSE;
	int err;

	virttune__v1__block__init(b);
	b->name = vt_report_string(dev->name, -1, &changed);
	if (changed)
		problem(problems, "name not valid UTF-8, replaced", -EILSEQ);

	/* A device re-created under the same name has a new dev_t: start afresh.
	 * Not asked while the kernel announces no device coming or going. */
	if (!c->listings_kept || disk->dev == NULL) {
		err = vt_device_read(c, dev, VT_DISK_DEV, buf, sizeof(buf));
		if (err == 0 && disk->dev != NULL && strcmp(disk->dev, buf) != 0) {
			vt_device_reset(dev);
			err = vt_device_read(c, dev, VT_DISK_DEV, buf, sizeof(buf));
		}
		if (err == 0 && disk->dev == NULL)
			disk->dev = g_strndup(buf, 32);
	}
	if (!disk->cached)
		load_cache(c, disk);

	collect_queue(c, disk, b, problems);
	collect_size_and_stats(c, disk, b, problems);
	if (disk->has_nr_hw_queues) {
		b->has_nr_hw_queues = TRUE;
		b->nr_hw_queues = disk->nr_hw_queues;
	}
	if (disk->driver != NULL)
		b->driver = vt_report_string(disk->driver, -1, NULL);
	if (disk->serial != NULL) {
		b->serial = vt_report_string(disk->serial, -1, &changed);
		if (changed)
			problem(problems, "serial not valid UTF-8 or too long, cleaned", -EILSEQ);
	}
	vt_device_note(c, dev, b->name, problems);
	VT_APPEND(report->n_block, report->block, b);
}

/* Written only by someone who means to (udev rules, tuned, the agent's own
 * apply); size and stat are read on every report. */
#define DISK_SETTINGS                                                                              \
	((1u << VT_DISK_SCHEDULER) | (1u << VT_DISK_NR_REQUESTS) | (1u << VT_DISK_READ_AHEAD_KB) | \
	 (1u << VT_DISK_ROTATIONAL) | (1u << VT_DISK_MAX_SECTORS_KB) |                             \
	 (1u << VT_DISK_DISCARD_MAX))

static const VtDeviceKind disk_kind = {
	VT_DEVICES_BLOCK,    "block",        "sys/block", "devices",  disk_files,   DISK_SETTINGS,
	VT_REPORT_MAX_BLOCK, sizeof(VtDisk), disk_skip,   disk_reset, collect_disk,
};

gboolean
vt_collect_block(VtCollector *c, VtReport *report, GError **error)
{
	return vt_collect_devices(c, &disk_kind, report, error);
}
