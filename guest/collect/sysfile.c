/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sysfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"

/* See read_fd(): half a page; every record of the files read is far shorter. */
#define VT_READ_CHUNK_MIN 2048u

void
vt_file_close(VtFile *file)
{
	if (file->fd >= 0)
		close(file->fd);
	file->fd = -1;
}

static int
read_fd(int fd, char *buf, gsize cap, gsize *len, gboolean *truncated)
{
	gsize got = 0;

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
			return errno;
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
		 * one read; seq_file hands out at most one buffer (a page or more) per
		 * read, so a chunk shorter than VT_READ_CHUNK_MIN ends the file for
		 * records as short as ours. Regular files read short only at EOF. */
		if ((gsize)n < VT_READ_CHUNK_MIN && got < cap - 1)
			break;
	}
	buf[got] = '\0';
	/* A NUL inside would silently end every string parse early. */
	for (char *nul = memchr(buf, '\0', got); nul != NULL;
	     nul = memchr(nul, '\0', got - (gsize)(nul - buf)))
		*nul = ' ';
	if (len != NULL)
		*len = got;
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
			return EBADF;
		file->fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (file->fd < 0)
			return errno;
	}
	err = read_fd(file->fd, buf, cap, len, truncated);
	/* A vanished sysfs node answers ENODEV on the old fd: reopen once, in case
	 * a new one took its place. */
	if ((err == ENODEV || err == ESTALE) && path != NULL) {
		vt_file_close(file);
		file->fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (file->fd < 0)
			return errno;
		err = read_fd(file->fd, buf, cap, len, truncated);
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

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

gboolean
vt_parse_u64(const char *text, guint64 *out)
{
	const char *p = skip_blanks(text);
	guint64 v = 0;

	if (!g_ascii_isdigit(*p))
		return FALSE;
	for (; g_ascii_isdigit(*p); p++) {
		guint d = (guint)(*p - '0');
		if (v > (VT_U64_MAX - d) / 10)
			return FALSE;
		v = v * 10 + d;
	}
	if (*skip_blanks(p) != '\0')
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
		guint64 v = 0;

		if (!g_ascii_isdigit(*p))
			return -1;
		for (; g_ascii_isdigit(*p); p++) {
			guint d = (guint)(*p - '0');
			if (v > (VT_U64_MAX - d) / 10)
				return -1;
			v = v * 10 + d;
		}
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

char *
vt_report_string(const char *text, gssize len, gboolean *changed)
{
	gsize n = len < 0 ? strlen(text) : (gsize)len;
	g_autofree char *valid = NULL;
	gsize vlen, cut;
	char *out;

	if (changed != NULL)
		*changed = FALSE;
	/* the common case, printable ASCII within the bound, is copied as is */
	if (n <= VT_STRING_MAX) {
		gsize i = 0;

		while (i < n && (guchar)text[i] >= 0x20 && (guchar)text[i] < 0x7f)
			i++;
		if (i == n) {
			out = g_malloc(n + 1);
			memcpy(out, text, n);
			out[n] = '\0';
			return out;
		}
	}
	/* Cut the input first so a hostile megabyte is not validated whole. */
	if (n > VT_STRING_MAX * 4) {
		n = VT_STRING_MAX * 4;
		if (changed != NULL)
			*changed = TRUE;
	}
	if (g_utf8_validate_len(text, n, NULL) && memchr(text, '\0', n) == NULL) {
		valid = g_strndup(text, n);
	} else {
		valid = g_utf8_make_valid(text, (gssize)n);
		if (changed != NULL)
			*changed = TRUE;
	}
	vlen = strlen(valid);
	for (gsize i = 0; i < vlen; i++) {
		if ((guchar)valid[i] < 0x20 || valid[i] == 0x7f) {
			valid[i] = '?';
			if (changed != NULL)
				*changed = TRUE;
		}
	}
	cut = vlen;
	if (cut > VT_STRING_MAX) {
		cut = VT_STRING_MAX;
		/* back off to the start of a UTF-8 character */
		while (cut > 0 && ((guchar)valid[cut] & 0xC0) == 0x80)
			cut--;
		if (changed != NULL)
			*changed = TRUE;
	}
	out = g_malloc(cut + 1);
	memcpy(out, valid, cut);
	out[cut] = '\0';
	return out;
}

char *
vt_report_printf(const char *format, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	return vt_report_string(text, -1, NULL);
}

gboolean
vt_is_plain_name(const char *name)
{
	gsize n = strlen(name);

	return n > 0 && n < 256 && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}
