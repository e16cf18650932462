/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "error.h"
#include "sysattr.h"

static gboolean
fsync_dir(const char *dir, GError **error)
{
	g_auto(VtFd) fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		vt_error_set_errno(error, errno, "fsync %s", dir);
		return FALSE;
	}
	return TRUE;
}

static gboolean
write_all(int fd, const char *data, gsize len)
{
	gsize done = 0;

	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		done += (gsize)n;
	}
	return TRUE;
}

/* @tmp written whole and synced; FALSE + error naming the step that failed. */
static gboolean
write_synced(const char *tmp, const char *data, gsize len, mode_t mode, GError **error)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0) {
		vt_error_set_errno(error, errno, "%s", tmp);
		return FALSE;
	}
	if (!write_all(fd, data, len)) {
		vt_error_set_errno(error, errno, "write %s", tmp);
		close(fd);
		return FALSE;
	}
	if (fsync(fd) < 0) {
		vt_error_set_errno(error, errno, "fsync %s", tmp);
		close(fd);
		return FALSE;
	}
	if (close(fd) < 0) {
		vt_error_set_errno(error, errno, "close %s", tmp);
		return FALSE;
	}
	return TRUE;
}

gboolean
vt_durable_replace(const char *path, const char *tmp_suffix, const char *data, gsize len,
		   mode_t mode, gboolean make_dirs, GError **error)
{
	g_autofree char *tmp = g_strconcat(path, tmp_suffix, NULL);
	g_autofree char *dir = g_path_get_dirname(path);

	if (make_dirs && g_mkdir_with_parents(dir, 0755) < 0) {
		vt_error_set_errno(error, errno, "%s", dir);
		return FALSE;
	}
	if (!write_synced(tmp, data, len, mode, error)) {
		unlink(tmp);
		return FALSE;
	}
	if (rename(tmp, path) < 0) {
		vt_error_set_errno(error, errno, "rename %s", tmp);
		unlink(tmp);
		return FALSE;
	}
	return fsync_dir(dir, error);
}
