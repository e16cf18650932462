/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "bounds.h"

G_BEGIN_DECLS

/*
 * Reads and writes of /proc and /sys, always relative to the sysroot's fd
 * (tests pass a fixture directory), and the parsers of what they hold.
 * Every int error returned here is a negative errno.
 */

/* An fd closed when it goes out of scope: g_auto(VtFd) fd = open(...). */
typedef int VtFd;
void vt_fd_close(VtFd fd);
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(VtFd, vt_fd_close, -1)

/* The sysroot (NULL, "" or "/" for the live system) as an O_PATH fd, or -errno. */
int vt_sysroot_open(const char *sysroot);

/*
 * A file under the sysroot, opened once and re-read with pread() at offset 0:
 * re-reading an open sysfs or procfs file costs ~1 µs, opening it ~8 µs.
 * seq_file and kernfs regenerate the content on every read at offset 0.
 */
typedef struct {
	int fd; /* -1 until first read */
	/* The longest record of a file seq_file hands out a page at a time
	 * (see read_fd()); 0: up to half a page. */
	guint record_max;
} VtFile;

#define VT_FILE_INIT                                                                               \
	{                                                                                          \
		.fd = -1                                                                           \
	}

/* Buffer for one sysfs attribute: longer values are truncated (and flagged). */
#define VT_ATTR_MAX 4096u

/* Largest procfs text the collectors parse (/proc/vmstat is ~4 KB on 6.x). */
#define VT_PROC_TEXT_MAX (64u * 1024u)

void vt_file_close(VtFile *file);

/*
 * Reads @path (relative to @root_fd) into @buf (at most @cap - 1 bytes, always
 * NUL-terminated, embedded NULs replaced by spaces). Returns 0 or -errno.
 * @path may be NULL once the file is open (-EBADF if it is not; -ENODEV when
 * the node vanished: call again with the path to reopen).
 * @truncated (may be NULL) is set when the file held more than fits.
 */
int vt_file_read(VtFile *file, int root_fd, const char *path, char *buf, gsize cap, gsize *len,
		 gboolean *truncated);

/* One-shot read of a file that is not kept open. */
int vt_file_read_once(int root_fd, const char *path, char *buf, gsize cap, gsize *len,
		      gboolean *truncated);

/*
 * One attribute's value as a change is checked against: at most VT_ATTR_MAX
 * bytes, blanks stripped at both ends; -EINVAL when it is not text (invalid
 * UTF-8 or a NUL inside). A symlink is not followed.
 */
int vt_sysattr_read(int root_fd, const char *path, char **value);

/* Writes @value in one write(), as sysfs and procfs take a value whole. */
int vt_sysattr_write(int root_fd, const char *path, const char *value);

/*
 * "a [b] c": the choices the block layer prints for a queue's scheduler, and
 * THP for enabled/defrag, with the active one bracketed. Words past
 * VT_CHOICE_MAX are left out.
 */
#define VT_CHOICE_MAX VT_REPORT_MAX_SCHEDULERS

typedef struct {
	const char *words[VT_CHOICE_MAX];
	guint n;
	int active;    /* index of the first [bracketed] word, -1: none */
	gboolean more; /* there were words past VT_CHOICE_MAX */
} VtChoice;

/* Splits @text (modified: the words point into it) at blanks. */
void vt_parse_choice(char *text, VtChoice *out);

/*
 * Largest count or size the report carries: canonical JSON holds numbers as
 * int64, so a value above this (never seen from a real kernel) is refused
 * rather than making the report unencodable.
 */
#define VT_U64_MAX ((guint64)G_MAXINT64)

/* Strict decimal parsers: digits with optional surrounding blanks, no overflow;
 * vt_parse_u64() refuses values above VT_U64_MAX. */
gboolean vt_parse_u64(const char *text, guint64 *out);
gboolean vt_parse_u32(const char *text, guint32 *out);
gboolean vt_parse_i64(const char *text, gint64 *out);

/*
 * Parses up to @max blank-separated decimal numbers from @text into @out.
 * Returns how many, or -1 when a word is not a number. Words past @max are ignored.
 */
int vt_parse_u64_words(const char *text, guint64 *out, guint max);

/* Strips trailing blanks/newlines in place; returns @text. */
char *vt_chomp(char *text);

/* Whether @name is safe as a single path component (no '/', not . or ..). */
gboolean vt_is_plain_name(const char *name);

G_END_DECLS
