/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host block device under each guest image: image path → st_dev (or a
 * block device's own st_rdev) → /sys/dev/block/MAJ:MIN → its whole disk (a
 * partition's parent) → that disk's queue/scheduler and rotational.
 */
#include "host-system.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "text.h"

/* A short sysfs attribute under @sysroot, NUL-terminated and stripped. */
static gboolean
read_attr(const char *sysroot, const char *rel, char *buf, gsize cap)
{
	g_autofree char *path = g_build_filename(sysroot ? sysroot : "/", rel, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return FALSE;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return FALSE;
	buf[n] = '\0';
	g_strstrip(buf);
	return TRUE;
}

static gboolean
copy_name(char *dst, const char *src)
{
	if (!vt_disk_name_valid(src) || strlen(src) >= VT_HOST_NAME_MAX)
		return FALSE;
	g_strlcpy(dst, src, VT_HOST_NAME_MAX);
	return TRUE;
}

/* "mq-deadline [none] bfq": the selected one in @out, all in @all. */
static void
parse_scheduler(const char *text, VtHostBlockDev *out)
{
	g_auto(GStrv) words = g_strsplit(text, " ", 16);
	GString *all = g_string_new(NULL);

	for (guint i = 0; words[i] != NULL; i++) {
		char *w = words[i];
		gsize len = strlen(w);
		gboolean selected = len > 2 && w[0] == '[' && w[len - 1] == ']';

		if (selected) {
			w[len - 1] = '\0';
			w++;
		}
		if (*w == '\0' || !vt_disk_name_valid(w))
			continue;
		if (selected)
			g_strlcpy(out->scheduler, w, sizeof(out->scheduler));
		if (all->len + strlen(w) + 2 < sizeof(out->schedulers))
			g_string_append_printf(all, "%s%s", all->len ? " " : "", w);
	}
	g_strlcpy(out->schedulers, all->str, sizeof(out->schedulers));
	g_string_free(all, TRUE);
}

static void
read_queue(const char *sysroot, VtHostBlockDev *out)
{
	g_autofree char *rel = g_strdup_printf("sys/block/%s/queue/scheduler", out->disk);
	char buf[256];

	if (read_attr(sysroot, rel, buf, sizeof(buf)))
		parse_scheduler(buf, out);
	g_free(rel);
	rel = g_strdup_printf("sys/block/%s/queue/rotational", out->disk);
	if (read_attr(sysroot, rel, buf, sizeof(buf)) && (buf[0] == '0' || buf[0] == '1') &&
	    buf[1] == '\0') {
		out->has_rotational = TRUE;
		out->rotational = buf[0] == '1';
	}
}

gboolean
vt_host_blockdev_lookup(const char *sysroot, guint major, guint minor, VtHostBlockDev *out,
			GError **error)
{
	g_autofree char *rel = g_strdup_printf("sys/dev/block/%u:%u", major, minor);
	g_autofree char *link = g_build_filename(sysroot ? sysroot : "/", rel, NULL);
	g_autofree char *target = NULL;
	g_autofree char *base = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *parent = NULL;
	g_autofree char *partition = g_strconcat(rel, "/partition", NULL);
	char buf[32];

	memset(out, 0, sizeof(*out));
	out->major = major;
	out->minor = minor;
	if (major == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND,
			    "on a filesystem without a block device (%u:%u)", major, minor);
		return FALSE;
	}
	if ((target = g_file_read_link(link, NULL)) == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "no /%s", rel);
		return FALSE;
	}
	base = g_path_get_basename(target);
	dir = g_path_get_dirname(target);
	parent = g_path_get_basename(dir);
	if (!copy_name(out->name, base)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "/%s names no block device", rel);
		return FALSE;
	}
	out->partition = read_attr(sysroot, partition, buf, sizeof(buf));
	if (!copy_name(out->disk, out->partition ? parent : base)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "/%s has no parent disk", rel);
		return FALSE;
	}
	read_queue(sysroot, out);
	return TRUE;
}

gboolean
vt_host_blockdev_of_path(const char *sysroot, const char *path, VtHostBlockDev *out, GError **error)
{
	struct stat st;
	dev_t dev;

	if (path == NULL || path[0] != '/') {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "not an absolute path");
		return FALSE;
	}
	if (stat(path, &st) != 0) {
		int err = errno;
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "stat: %s", g_strerror(err));
		return FALSE;
	}
	dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
	return vt_host_blockdev_lookup(sysroot, major(dev), minor(dev), out, error);
}

static void
image_free(gpointer p)
{
	VtHostImage *img = p;

	g_free(img->domain);
	g_free(img->disk);
	g_free(img->path);
	g_free(img->why);
	g_free(img);
}

GPtrArray *
vt_host_images_new(void)
{
	return g_ptr_array_new_with_free_func(image_free);
}

VtHostImage *
vt_host_image_new(const char *domain, const char *disk, const char *path)
{
	VtHostImage *img = g_new0(VtHostImage, 1);

	img->domain = g_strdup(domain);
	img->disk = g_strdup(disk);
	img->path = g_strdup(path);
	return img;
}

void
vt_host_images_add(GPtrArray *images, const char *sysroot, const char *domain,
		   const VtDomainFacts *facts)
{
	for (guint i = 0; facts != NULL && i < facts->disks->len; i++) {
		const VtDiskFacts *d = g_ptr_array_index(facts->disks, i);
		g_autoptr(GError) error = NULL;
		VtHostImage *img;

		if (images->len >= VT_HOST_MAX_IMAGES)
			return;
		if (d->source == NULL || d->readonly || g_strcmp0(d->device, "disk") != 0 ||
		    (g_strcmp0(d->type, "file") != 0 && g_strcmp0(d->type, "block") != 0))
			continue;
		img = vt_host_image_new(domain, d->target_dev, d->source);
		img->resolved = vt_host_blockdev_of_path(sysroot, d->source, &img->dev, &error);
		if (!img->resolved)
			img->why = g_strdup(error->message);
		g_ptr_array_add(images, img);
	}
}
