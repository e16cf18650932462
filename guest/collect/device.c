/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What block devices and network interfaces share: the listing, kept across
 * reports and matched by name and inode, and attribute files kept open. */
#include "collector-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

typedef struct {
	char *name;
	ino_t ino;
} VtListEntry;

static void
list_entry_clear(gpointer data)
{
	VtListEntry *e = data;

	g_free(e->name);
}

static gint
list_entry_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(((const VtListEntry *)a)->name, ((const VtListEntry *)b)->name);
}

/* @path kept open in *@dir and rewound on later calls, sorted by name, without
 * dot entries and names unfit as a path component. @more: entries past
 * VT_LIST_MAX, not read. */
static GArray *
list(VtCollector *c, DIR **dir, const char *path, guint *more, GError **error)
{
	GArray *out;
	struct dirent *d;

	*more = 0;
	if (*dir == NULL) {
		g_auto(VtFd) fd = openat(c->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || (*dir = fdopendir(fd)) == NULL) {
			vt_error_set_errno(error, errno, "/%s", path);
			return NULL;
		}
		fd = -1; /* the DIR has it */
	} else {
		/* a rewound directory is read afresh: devices that came or went show */
		rewinddir(*dir);
	}
	out = g_array_new(FALSE, FALSE, sizeof(VtListEntry));
	g_array_set_clear_func(out, list_entry_clear);
	while ((d = readdir(*dir)) != NULL) {
		VtListEntry e;

		if (!vt_is_plain_name(d->d_name) || d->d_name[0] == '.')
			continue;
		if (out->len >= VT_LIST_MAX) {
			(*more)++;
			continue;
		}
		e.name = g_strdup(d->d_name);
		e.ino = d->d_ino;
		g_array_append_val(out, e);
	}
	g_array_sort(out, list_entry_cmp);
	return out;
}

void
vt_device_reset(VtDevice *dev)
{
	for (guint i = 0; i < G_N_ELEMENTS(dev->files); i++) {
		vt_file_close(&dev->files[i]);
		vt_kept_clear(&dev->kept[i]);
	}
	dev->absent = 0;
	dev->kind->reset(dev);
}

static void
device_free(gpointer data)
{
	VtDevice *dev = data;

	vt_device_reset(dev);
	g_free(dev->name);
	g_free(dev);
}

static VtDevice *
device_new(const VtDeviceKind *kind, const VtListEntry *e)
{
	VtDevice *dev = g_malloc0(kind->size);

	dev->kind = kind;
	dev->name = g_strdup(e->name);
	dev->ino = e->ino;
	for (guint i = 0; i < G_N_ELEMENTS(dev->files); i++)
		dev->files[i] = (VtFile)VT_FILE_INIT;
	kind->reset(dev);
	return dev;
}

/* The device listed as @e: taken out of @cache, or new. */
static VtDevice *
take_device(const VtDeviceKind *kind, GPtrArray *cache, const VtListEntry *e)
{
	for (guint i = 0; i < cache->len; i++) {
		VtDevice *dev = g_ptr_array_index(cache, i);

		if (strcmp(dev->name, e->name) != 0)
			continue;
		g_ptr_array_steal_index(cache, i);
		/* the entry was re-created: nothing kept is valid */
		if (dev->ino != e->ino) {
			vt_device_reset(dev);
			dev->ino = e->ino;
		}
		return dev;
	}
	return device_new(kind, e);
}

/* Lists @kind's directory and collects the devices listed, keeping them for
 * the next report; FALSE + error when it cannot be listed. */
static gboolean
list_and_collect(VtCollector *c, const VtDeviceKind *kind, VtReport *report, GError **error)
{
	VtDeviceList *devices = &c->devices[kind->slot];
	g_autoptr(GArray) entries = NULL;
	g_autoptr(GPtrArray) kept = NULL;
	guint more = 0, dropped = 0;

	entries = list(c, &devices->dir, kind->dir, &more, error);
	if (entries == NULL)
		return FALSE;
	if (devices->cache == NULL)
		devices->cache = g_ptr_array_new_with_free_func(device_free);
	kept = g_ptr_array_new_with_free_func(device_free);
	for (guint i = 0; i < entries->len; i++) {
		const VtListEntry *e = &g_array_index(entries, VtListEntry, i);
		VtDevice *dev;

		if (kind->skip(e->name) || vt_collector_is_excluded(c, e->name))
			continue;
		if (kept->len >= kind->max) {
			dropped++;
			continue;
		}
		dev = take_device(kind, devices->cache, e);
		g_ptr_array_add(kept, dev);
		kind->collect(c, dev, report);
	}
	/* what is left in the cache vanished: dropped with its fds */
	g_ptr_array_unref(devices->cache);
	devices->cache = g_steal_pointer(&kept);
	devices->left_out = dropped + more;
	return TRUE;
}

gboolean
vt_collect_devices(VtCollector *c, const VtDeviceKind *kind, VtReport *report, GError **error)
{
	VtDeviceList *devices = &c->devices[kind->slot];

	if (c->listings_kept && devices->cache != NULL) {
		/* nothing came or went: the devices of the last listing, in its order */
		for (guint i = 0; i < devices->cache->len; i++)
			kind->collect(c, g_ptr_array_index(devices->cache, i), report);
	} else if (!list_and_collect(c, kind, report, error)) {
		return FALSE;
	}
	if (devices->left_out > 0)
		vt_collector_note(c, kind->section, "%u %s beyond the limit of %u left out",
				  devices->left_out, kind->what, kind->max);
	return TRUE;
}

void
vt_device_list_clear(VtDeviceList *devices)
{
	g_clear_pointer(&devices->cache, g_ptr_array_unref);
	g_clear_pointer(&devices->dir, closedir);
}

void
vt_device_note(VtCollector *c, const VtDevice *dev, const char *name, const GString *problems)
{
	g_autofree char *section = NULL;

	if (problems->len == 0)
		return;
	section = g_strdup_printf("%s:%s", dev->kind->section, name);
	vt_collector_note(c, section, "%s", problems->str);
}

int
vt_device_read(VtCollector *c, VtDevice *dev, guint which, char *buf, gsize cap)
{
	char path[512];
	gboolean truncated = FALSE;
	int err = -ENODEV;

	gboolean setting = (dev->kind->settings & (1u << which)) != 0;

	if (setting && vt_kept_get(c, &dev->kept[which], buf, cap, &err, &truncated))
		return err == 0 && truncated ? -EFBIG : err;
	/* the path is built only to open: most reports just pread the kept fd */
	if (dev->absent & (1u << which))
		return -ENOENT;
	if (dev->files[which].fd >= 0)
		err = vt_file_read(&dev->files[which], c->root_fd, NULL, buf, cap, NULL,
				   &truncated);
	if (err == -ENODEV || err == -ESTALE) {
		g_snprintf(path, sizeof(path), "%s/%s/%s", dev->kind->dir, dev->name,
			   dev->kind->files[which]);
		err = vt_file_read(&dev->files[which], c->root_fd, path, buf, cap, NULL,
				   &truncated);
	}
	if (err == -ENOENT)
		dev->absent |= 1u << which;
	if (err == 0)
		vt_chomp(buf);
	if (setting)
		vt_kept_set(&dev->kept[which], err, buf, truncated);
	return err == 0 && truncated ? -EFBIG : err;
}
