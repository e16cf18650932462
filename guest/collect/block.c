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
disk_reset(VtDisk *disk)
{
	for (guint i = 0; i < VT_DISK_N_FILES; i++)
		vt_file_close(&disk->files[i]);
	g_clear_pointer(&disk->dev, g_free);
	g_clear_pointer(&disk->driver, g_free);
	g_clear_pointer(&disk->serial, g_free);
	disk->absent = 0;
	disk->has_nr_hw_queues = FALSE;
	disk->nr_hw_queues = 0;
	disk->cached = FALSE;
}

void
vt_disk_free(gpointer data)
{
	VtDisk *disk = data;

	disk_reset(disk);
	g_free(disk->name);
	g_free(disk);
}

static VtDisk *
disk_new(const VtListEntry *e)
{
	VtDisk *disk = g_new0(VtDisk, 1);

	disk->name = g_strdup(e->name);
	disk->ino = e->ino;
	for (guint i = 0; i < VT_DISK_N_FILES; i++)
		disk->files[i] = (VtFile)VT_FILE_INIT;
	return disk;
}

static int
read_attr(VtCollector *c, VtDisk *disk, VtDiskFile which, char *buf, gsize cap)
{
	char path[512];
	gboolean truncated = FALSE;
	int err = ENODEV;

	/* the path is built only to open: most reports just pread the kept fd */
	if (disk->absent & (1u << which))
		return ENOENT;
	if (disk->files[which].fd >= 0)
		err = vt_file_read(&disk->files[which], c->root_fd, NULL, buf, cap, NULL,
				   &truncated);
	if (err == ENODEV || err == ESTALE) {
		g_snprintf(path, sizeof(path), "sys/block/%s/%s", disk->name, disk_files[which]);
		err = vt_file_read(&disk->files[which], c->root_fd, path, buf, cap, NULL,
				   &truncated);
	}
	if (err == ENOENT)
		disk->absent |= 1u << which;
	if (err == 0)
		vt_chomp(buf);
	return err == 0 && truncated ? EFBIG : err;
}

static void
problem(GString *problems, const char *what, int err)
{
	g_string_append_printf(problems, "%s%s: %s", problems->len ? "; " : "", what,
			       err == ENOENT ? "not present" : g_strerror(err));
}

static void
parse_scheduler(VtBlock *b, char *text, GString *problems)
{
	g_auto(GStrv) words = g_strsplit(text, " ", (gint)VT_REPORT_MAX_SCHEDULERS * 2);

	for (guint i = 0; words[i] != NULL; i++) {
		char *w = words[i];
		gsize len = strlen(w);
		gboolean active = len > 2 && w[0] == '[' && w[len - 1] == ']';

		if (len == 0)
			continue;
		if (active) {
			w[len - 1] = '\0';
			w++;
		}
		if (b->n_schedulers >= VT_REPORT_MAX_SCHEDULERS) {
			problem(problems, "queue/scheduler: more schedulers than the limit", EFBIG);
			break;
		}
		VT_APPEND(b->n_schedulers, b->schedulers, vt_report_string(w, -1, NULL));
		if (active && b->scheduler == NULL)
			b->scheduler = vt_report_string(w, -1, NULL);
	}
	/* a queue without an elevator prints "none" alone, unbracketed */
	if (b->scheduler == NULL && b->n_schedulers == 1 && strcmp(b->schedulers[0], "none") == 0)
		b->scheduler = g_strdup("none");
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

/* Values that do not change while the device exists: read when first seen. */
static void
load_cache(VtCollector *c, VtDisk *disk, GString *problems)
{
	char path[512], link[512], buf[VT_ATTR_MAX];
	ssize_t n;
	int dfd;

	disk->cached = TRUE;
	g_snprintf(path, sizeof(path), "sys/block/%s/device/driver", disk->name);
	n = readlinkat(c->root_fd, path, link, sizeof(link) - 1);
	if (n > 0) {
		const char *base;

		link[n] = '\0';
		base = strrchr(link, '/');
		disk->driver = g_strdup(base ? base + 1 : link);
	}
	/* virtio-blk asks the device for its serial on every read: once is enough */
	g_snprintf(path, sizeof(path), "sys/block/%s/serial", disk->name);
	if (vt_file_read_once(c->root_fd, path, buf, sizeof(buf), NULL, NULL) != 0) {
		g_snprintf(path, sizeof(path), "sys/block/%s/device/serial", disk->name);
		if (vt_file_read_once(c->root_fd, path, buf, sizeof(buf), NULL, NULL) != 0)
			buf[0] = '\0';
	}
	vt_chomp(buf);
	if (buf[0] != '\0')
		disk->serial = g_strdup(buf);
	/* one mq/N directory per hardware queue */
	g_snprintf(path, sizeof(path), "sys/block/%s/mq", disk->name);
	dfd = openat(c->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		DIR *dir = fdopendir(dfd);
		struct dirent *d;
		guint count = 0, seen = 0;

		if (dir != NULL) {
			while ((d = readdir(dir)) != NULL && seen++ < VT_LIST_MAX) {
				guint64 idx;
				if (vt_parse_u64(d->d_name, &idx))
					count++;
			}
			closedir(dir);
			disk->has_nr_hw_queues = TRUE;
			disk->nr_hw_queues = count;
		} else {
			close(dfd);
		}
	}
}

static VtBlock *
collect_disk(VtCollector *c, VtDisk *disk)
{
	VtBlock *b = g_new(VtBlock, 1);
	g_autoptr(GString) problems = g_string_new(NULL);
	char buf[VT_ATTR_MAX];
	gboolean changed = FALSE;
	guint64 u64;
	int err;

	virttune__v1__block__init(b);
	b->name = vt_report_string(disk->name, -1, &changed);
	if (changed)
		problem(problems, "name not valid UTF-8, replaced", EILSEQ);

	/* A device re-created under the same name has a new dev_t: start afresh. */
	err = read_attr(c, disk, VT_DISK_DEV, buf, sizeof(buf));
	if (err == 0 && disk->dev != NULL && strcmp(disk->dev, buf) != 0) {
		disk_reset(disk);
		err = read_attr(c, disk, VT_DISK_DEV, buf, sizeof(buf));
	}
	if (err == 0 && disk->dev == NULL)
		disk->dev = g_strndup(buf, 32);
	if (!disk->cached)
		load_cache(c, disk, problems);

	err = read_attr(c, disk, VT_DISK_SCHEDULER, buf, sizeof(buf));
	if (err == 0)
		parse_scheduler(b, buf, problems);
	else
		problem(problems, disk_files[VT_DISK_SCHEDULER], err);

#define U32_ATTR(which, field)                                                                     \
	do {                                                                                       \
		err = read_attr(c, disk, which, buf, sizeof(buf));                                 \
		if (err == 0 && vt_parse_u32(buf, &b->field))                                      \
			b->has_##field = TRUE;                                                     \
		else                                                                               \
			problem(problems, disk_files[which], err ? err : EINVAL);                  \
	} while (0)
	U32_ATTR(VT_DISK_NR_REQUESTS, nr_requests);
	U32_ATTR(VT_DISK_READ_AHEAD_KB, read_ahead_kb);
	U32_ATTR(VT_DISK_MAX_SECTORS_KB, max_sectors_kb);
#undef U32_ATTR

	err = read_attr(c, disk, VT_DISK_ROTATIONAL, buf, sizeof(buf));
	if (err == 0 && vt_parse_u64(buf, &u64) && u64 <= 1) {
		b->has_rotational = TRUE;
		b->rotational = u64 == 1;
	} else {
		problem(problems, disk_files[VT_DISK_ROTATIONAL], err ? err : EINVAL);
	}
	err = read_attr(c, disk, VT_DISK_SIZE, buf, sizeof(buf));
	if (err == 0 && vt_parse_u64(buf, &u64) && u64 <= VT_U64_MAX / SECTOR_SIZE) {
		b->has_size_bytes = TRUE;
		b->size_bytes = u64 * SECTOR_SIZE;
	} else {
		problem(problems, disk_files[VT_DISK_SIZE], err ? err : EINVAL);
	}
	err = read_attr(c, disk, VT_DISK_DISCARD_MAX, buf, sizeof(buf));
	if (err == 0 && vt_parse_u64(buf, &b->discard_max_bytes))
		b->has_discard_max_bytes = TRUE;
	else
		problem(problems, disk_files[VT_DISK_DISCARD_MAX], err ? err : EINVAL);

	err = read_attr(c, disk, VT_DISK_STAT, buf, sizeof(buf));
	if (err == 0) {
		VtBlockStats *s = g_new(VtBlockStats, 1);

		virttune__v1__block_stats__init(s);
		if (parse_stat(s, buf)) {
			b->stats = s;
		} else {
			g_free(s);
			problem(problems, "stat", EINVAL);
		}
	} else {
		problem(problems, "stat", err);
	}

	if (disk->has_nr_hw_queues) {
		b->has_nr_hw_queues = TRUE;
		b->nr_hw_queues = disk->nr_hw_queues;
	}
	if (disk->driver != NULL)
		b->driver = vt_report_string(disk->driver, -1, NULL);
	if (disk->serial != NULL) {
		b->serial = vt_report_string(disk->serial, -1, &changed);
		if (changed)
			problem(problems, "serial not valid UTF-8 or too long, cleaned", EILSEQ);
	}
	if (problems->len > 0) {
		g_autofree char *section = g_strdup_printf("block:%s", b->name);
		vt_collector_note(c, section, "%s", problems->str);
	}
	return b;
}

static VtDisk *
find_disk(GPtrArray *disks, const char *name, guint *idx)
{
	for (guint i = 0; i < disks->len; i++) {
		VtDisk *disk = g_ptr_array_index(disks, i);
		if (strcmp(disk->name, name) == 0) {
			*idx = i;
			return disk;
		}
	}
	return NULL;
}

gboolean
vt_collect_block(VtCollector *c, VtReport *report, GError **error)
{
	g_autoptr(GArray) list = NULL;
	g_autoptr(GPtrArray) kept = NULL;
	guint more = 0, dropped = 0;

	list = vt_collector_list(c, &c->block_dir, "sys/block", &more, error);
	if (list == NULL)
		return FALSE;
	kept = g_ptr_array_new_with_free_func(vt_disk_free);
	for (guint i = 0; i < list->len; i++) {
		const VtListEntry *e = &g_array_index(list, VtListEntry, i);
		VtDisk *disk;
		guint idx;

		/* loop and ram devices say nothing about the guest's storage */
		if (g_str_has_prefix(e->name, "loop") || g_str_has_prefix(e->name, "ram") ||
		    vt_collector_is_excluded(c, e->name))
			continue;
		if (report->n_block >= VT_REPORT_MAX_BLOCK) {
			dropped++;
			continue;
		}
		disk = find_disk(c->disks, e->name, &idx);
		if (disk != NULL) {
			g_ptr_array_steal_index(c->disks, idx);
			/* the entry was re-created: nothing kept is valid */
			if (disk->ino != e->ino) {
				disk_reset(disk);
				disk->ino = e->ino;
			}
		} else {
			disk = disk_new(e);
		}
		g_ptr_array_add(kept, disk);
		VT_APPEND(report->n_block, report->block, collect_disk(c, disk));
	}
	/* what is left in c->disks vanished: dropped with its fds */
	g_ptr_array_unref(c->disks);
	c->disks = g_steal_pointer(&kept);
	if (dropped + more > 0)
		vt_collector_note(c, "block", "%u devices beyond the limit of %u left out",
				  dropped + more, VT_REPORT_MAX_BLOCK);
	return TRUE;
}
