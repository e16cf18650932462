/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sysattr.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* See read_fd(): the smallest page, and the longest record of a file
 * when its VtFile does not say (half a page). */
#define VT_READ_PAGE       4096u
#define VT_READ_RECORD_MAX 2048u

#define VT_READ_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

void
vt_fd_close(VtFd fd)
{
	if (fd >= 0)
		close(fd);
}

int
vt_sysroot_open(const char *sysroot)
{
	int fd = open(sysroot != NULL && *sysroot != '\0' ? sysroot : "/",
		      O_PATH | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* openat() under the sysroot; a sysroot that could not be opened has no files. */
static int
open_at(int root_fd, const char *path, int flags)
{
	int fd;

	if (root_fd < 0)
		return -ENOENT;
	fd = openat(root_fd, path, flags);
	return fd < 0 ? -errno : fd;
}

void
vt_file_close(VtFile *file)
{
	if (file->fd >= 0)
		close(file->fd);
	file->fd = -1;
}

/* Up to @cap - 1 bytes of @fd from offset 0, NUL-terminated; NULs inside are kept. */
static int
read_fd(int fd, guint record_max, char *buf, gsize cap, gsize *len, gboolean *truncated)
{
	gsize got = 0;
	gsize last_chunk_min = VT_READ_PAGE - (record_max != 0 ? MIN(record_max, VT_READ_PAGE / 2)
							       : VT_READ_RECORD_MAX);

	g_assert(cap >= 2);
	/* Most procfs/sysfs files answer in one read; loop for the rest, bounded by
	 * @cap. One byte more than fits is asked for to detect truncation. */
	for (;;) {
		char extra;
		ssize_t n;

		if (got < cap - 1)
			n = pread(fd, buf + got, cap - 1 - got, (off_t)got);
		else
			n = pread(fd, &extra, 1, (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		if (got >= cap - 1) {
			if (truncated != NULL)
				*truncated = TRUE;
			break;
		}
		got += (gsize)n;
		/* Asking again would make seq_file and kernfs generate the whole file
		 * a second time just to answer EOF. A sysfs attribute comes whole in
		 * one read; seq_file fills one buffer (a page or more) per read with
		 * whole records, so a chunk shorter than a page less the longest
		 * record ends the file. Regular files read short only at EOF. */
		if ((gsize)n < last_chunk_min && got < cap - 1)
			break;
	}
	buf[got] = '\0';
	*len = got;
	return 0;
}

/* read_fd(), with NULs inside turned into spaces: they would silently end
 * every string parse early. */
static int
read_text(int fd, guint record_max, char *buf, gsize cap, gsize *len, gboolean *truncated)
{
	gsize got = 0;
	int err = read_fd(fd, record_max, buf, cap, &got, truncated);

	for (char *nul = memchr(buf, '\0', got); nul != NULL;
	     nul = memchr(nul, '\0', got - (gsize)(nul - buf)))
		*nul = ' ';
	if (len != NULL)
		*len = got;
	return err;
}

static int
reopen(VtFile *file, int root_fd, const char *path)
{
	int fd = open_at(root_fd, path, VT_READ_FLAGS);

	if (fd < 0)
		return fd;
	file->fd = fd;
	return 0;
}

int
vt_file_read(VtFile *file, int root_fd, const char *path, char *buf, gsize cap, gsize *len,
	     gboolean *truncated)
{
	int err;

	if (truncated != NULL)
		*truncated = FALSE;
	buf[0] = '\0';
	if (len != NULL)
		*len = 0;
	if (file->fd < 0) {
		if (path == NULL)
			return -EBADF;
		if ((err = reopen(file, root_fd, path)) < 0)
			return err;
	}
	err = read_text(file->fd, file->record_max, buf, cap, len, truncated);
	/* A vanished sysfs node answers ENODEV on the old fd: reopen once, in case
	 * a new one took its place. */
	if ((err == -ENODEV || err == -ESTALE) && path != NULL) {
		vt_file_close(file);
		if ((err = reopen(file, root_fd, path)) < 0)
			return err;
		err = read_text(file->fd, file->record_max, buf, cap, len, truncated);
	}
	return err;
}

int
vt_file_read_once(int root_fd, const char *path, char *buf, gsize cap, gsize *len,
		  gboolean *truncated)
{
	VtFile file = VT_FILE_INIT;
	int err = vt_file_read(&file, root_fd, path, buf, cap, len, truncated);

	vt_file_close(&file);
	return err;
}

int
vt_sysattr_read(int root_fd, const char *path, char **value)
{
	char buf[VT_ATTR_MAX + 1];
	g_auto(VtFd) fd = open_at(root_fd, path, VT_READ_FLAGS | O_NOFOLLOW);
	gsize n = 0;
	int err;

	if (fd < 0)
		return fd;
	err = read_fd(fd, 0, buf, sizeof(buf), &n, NULL);
	if (err < 0)
		return err;
	if (!g_utf8_validate(buf, (gssize)n, NULL) || strlen(buf) != n)
		return -EINVAL;
	*value = g_strdup(g_strstrip(buf));
	return 0;
}

int
vt_sysattr_write(int root_fd, const char *path, const char *value)
{
	gsize len = strlen(value);
	int fd = open_at(root_fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* sysfs reports some refusals only when the write is flushed at close */
	if (close(fd) < 0)
		return -errno;
	return (gsize)n == len ? 0 : -EIO;
}

/* ------------------------------------------------------------ parsers */

void
vt_parse_choice(char *text, VtChoice *out)
{
	char *save = NULL;

	out->n = 0;
	out->active = -1;
	out->more = FALSE;
	for (char *w = strtok_r(text, " \t\n", &save); w != NULL;
	     w = strtok_r(NULL, " \t\n", &save)) {
		gsize len = strlen(w);

		if (out->n == VT_CHOICE_MAX) {
			out->more = TRUE;
			break;
		}
		if (len > 2 && w[0] == '[' && w[len - 1] == ']') {
			w[len - 1] = '\0';
			w++;
			if (out->active < 0)
				out->active = (int)out->n;
		}
		out->words[out->n++] = w;
	}
}

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

/* Digits at *@p into @v, advancing *@p; FALSE past VT_U64_MAX. */
static gboolean
parse_digits(const char **p, guint64 *v)
{
	*v = 0;
	for (; g_ascii_isdigit(**p); (*p)++) {
		guint d = (guint)(**p - '0');
		if (*v > (VT_U64_MAX - d) / 10)
			return FALSE;
		*v = *v * 10 + d;
	}
	return TRUE;
}

gboolean
vt_parse_u64(const char *text, guint64 *out)
{
	const char *p = skip_blanks(text);
	guint64 v;

	if (!g_ascii_isdigit(*p) || !parse_digits(&p, &v) || *skip_blanks(p) != '\0')
		return FALSE;
	*out = v;
	return TRUE;
}

gboolean
vt_parse_u32(const char *text, guint32 *out)
{
	guint64 v;

	if (!vt_parse_u64(text, &v) || v > G_MAXUINT32)
		return FALSE;
	*out = (guint32)v;
	return TRUE;
}

gboolean
vt_parse_i64(const char *text, gint64 *out)
{
	const char *p = skip_blanks(text);
	gboolean neg = FALSE;
	guint64 v;

	if (*p == '-') {
		neg = TRUE;
		p++;
	}
	if (!g_ascii_isdigit(*p) || !vt_parse_u64(p, &v))
		return FALSE;
	if (neg) {
		if (v > (guint64)G_MAXINT64 + 1)
			return FALSE;
		*out = v == (guint64)G_MAXINT64 + 1 ? G_MININT64 : -(gint64)v;
	} else {
		if (v > G_MAXINT64)
			return FALSE;
		*out = (gint64)v;
	}
	return TRUE;
}

int
vt_parse_u64_words(const char *text, guint64 *out, guint max)
{
	const char *p = skip_blanks(text);
	guint n = 0;

	while (*p != '\0' && n < max) {
		guint64 v;

		if (!g_ascii_isdigit(*p) || !parse_digits(&p, &v))
			return -1;
		if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
			return -1;
		out[n++] = v;
		p = skip_blanks(p);
	}
	return (int)n;
}

char *
vt_chomp(char *text)
{
	gsize n = strlen(text);

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\t'))
		text[--n] = '\0';
	return text;
}

gboolean
vt_is_plain_name(const char *name)
{
	gsize n = strlen(name);

	return n > 0 && n < 256 && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}
