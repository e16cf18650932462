/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A file under the sysroot, opened once and re-read with pread() at offset 0:
 * re-reading an open sysfs or procfs file costs ~1 µs, opening it ~8 µs.
 * seq_file and kernfs regenerate the content on every read at offset 0.
 */
typedef struct {
	int fd; /* -1 until first read */
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
 * NUL-terminated, embedded NULs replaced by spaces). Returns 0 or an errno.
 * @path may be NULL once the file is open (EBADF if it is not; ENODEV when
 * the node vanished: call again with the path to reopen).
 * @truncated (may be NULL) is set when the file held more than fits.
 */
int vt_file_read(VtFile *file, int root_fd, const char *path, char *buf, gsize cap, gsize *len,
		 gboolean *truncated);

/* One-shot read of a file that is not kept open. */
int vt_file_read_once(int root_fd, const char *path, char *buf, gsize cap, gsize *len,
		      gboolean *truncated);

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

/*
 * A copy of @text fit for the report: valid UTF-8 (invalid sequences become
 * U+FFFD), no control characters (become '?'), at most VT_STRING_MAX bytes
 * cut on a character boundary. @changed (may be NULL) tells whether anything
 * was replaced or cut. Allocated with malloc, as the report is freed with free().
 */
char *vt_report_string(const char *text, gssize len, gboolean *changed);

/* Returns a malloc'd string formatted by @format, bounded like vt_report_string(). */
char *vt_report_printf(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* Whether @name is safe as a single path component (no '/', not . or ..). */
gboolean vt_is_plain_name(const char *name);

G_END_DECLS
