/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Text a guest wrote, made safe to show: what the CLI prints and what the
 * daemon logs pass through vt_text_escape(), so that no string from a guest
 * can drive a terminal, forge a line or reorder what an operator reads.
 */

/* IFNAMSIZ and DISK_NAME_LEN of the kernel, terminating NUL included. */
#define VT_IFNAME_SIZE    16
#define VT_DISK_NAME_SIZE 32

/*
 * A copy of @s (NULL reads as "") in which every control character (C0, DEL,
 * C1), every byte of invalid UTF-8 and every bidi or format character (Cf,
 * U+2028, U+2029) is written as a visible escape: "\n", "\r", "\t", "\xNN"
 * for C0, DEL and bytes, "\uXXXX" for the others. With @keep_newlines, "\n"
 * stays a line break (help text). The result is valid UTF-8.
 */
char *vt_text_escape(const char *s, gboolean keep_newlines);

/*
 * @word as one shell word: unchanged when it is made of letters, digits and
 * "_.,:=@%+/-" only, otherwise between single quotes (a ' inside becomes
 * '\''). An empty word is ''.
 */
char *vt_shell_quote(const char *word);

/* Whether @command needs no quoting to be read back as the words it shows:
 * only the characters vt_shell_quote() leaves bare, spaces and '>'. */
gboolean vt_shell_command_is_plain(const char *command);

/*
 * The kernel's dev_valid_name(): 1 to IFNAMSIZ-1 bytes, not "." or "..", no
 * '/', ':' or whitespace; and, stricter, no control character (a name nobody
 * can type). vt_disk_name_valid() the same within DISK_NAME_LEN.
 */
gboolean vt_ifname_valid(const char *name);
gboolean vt_disk_name_valid(const char *name);

G_END_DECLS
