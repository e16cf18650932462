/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one loader of every configuration file (agent.conf, virt-tuned.conf,
 * the rules file): `[group]` headers, `key = value` lines and `#` comments,
 * read under a size bound, checked line by line, then applied to a struct
 * through a table of {group, key, parser, offset}.
 *
 * Every error names the file and line ("agent.conf:7: [apply] channels.max:
 * '0' is not a whole number in 1..4294967295"). A key or group that no table
 * entry knows is not an error: it is appended to @warnings in the same form,
 * ending in ", ignoring", as systemd does for its unit files, so that a file
 * written for a newer version still loads.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct VtKeyfile VtKeyfile;

/* One `key = value` line, as the parsers see it. */
typedef struct {
	const char *group;
	const char *key;
	const char *value; /* stripped of surrounding blanks, escapes resolved */
	guint line;
} VtKeyEntry;

typedef struct VtKeySpec VtKeySpec;

/* Store @entry's value at @field (the target plus the spec's offset). */
typedef gboolean (*VtKeyParser)(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
				GError **error);

struct VtKeySpec {
	const char *key; /* exact, or a g_pattern_match_simple() glob such as "*.enable" */
	VtKeyParser parse;
	gsize offset;
	double min, max;           /* numbers: the range accepted */
	const char *choices;       /* vt_key_parse_choice: ';'-separated words */
	gconstpointer data;        /* for a parser of the caller's own */
	const char *default_value; /* set by vt_keyfile_set_defaults(); NULL: none */
	const char *doc;           /* one line for the documentation */
};

/*
 * Parse @len bytes of @data; @name (the path) only names the file in
 * messages. Refused, without echoing what was read: more than @max_bytes,
 * a NUL byte or invalid UTF-8 (a binary file), a control character, and a
 * line that is not blank, a # comment, [group] or key=value.
 */
VtKeyfile *vt_keyfile_parse(const char *data, gsize len, const char *name, gsize max_bytes,
			    GError **error);

/* Read @path (a regular file, at most @max_bytes) and parse it. A missing
 * file is VT_ERROR_NOT_FOUND. */
VtKeyfile *vt_keyfile_load(const char *path, gsize max_bytes, GError **error);

void vt_keyfile_free(VtKeyfile *kf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtKeyfile, vt_keyfile_free)

/* The keys of one [group] and the struct they are stored in. */
typedef struct {
	const char *group;
	const VtKeySpec *specs;
	gsize n_specs;
	gpointer target;
} VtKeyGroup;

/*
 * Apply every line of @kf, in file order (so a repeated key: the last one
 * wins), through the spec of its group and key. Lines of a group that is not
 * in @groups, and keys that no spec of their group matches, are warnings
 * (@warnings may be NULL).
 */
gboolean vt_keyfile_apply(const VtKeyfile *kf, const VtKeyGroup *groups, gsize n_groups,
			  GPtrArray *warnings, GError **error);

/* Store every spec's default_value at @target, through its parser; a
 * default the parser refuses is a programming error, returned as such. */
gboolean vt_keyfile_set_defaults(const VtKeySpec *specs, gsize n_specs, gpointer target,
				 GError **error);

/* TRUE when @group has a header in the file. */
gboolean vt_keyfile_has_group(const VtKeyfile *kf, const char *group);

/* The line that last set @key in @group; 0 when none did. */
guint vt_keyfile_line(const VtKeyfile *kf, const char *group, const char *key);

/*
 * "NAME:LINE: " for the last line that set @key in @group, or
 * "NAME: " when it was not set (a default): the prefix of an error found
 * after the file was applied, such as a minimum above its maximum.
 */
char *vt_keyfile_where(const VtKeyfile *kf, const char *group, const char *key);

/* Parsers for the usual kinds of field. */
/* guint, spec->min..spec->max, decimal digits only */
gboolean vt_key_parse_uint(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
			   GError **error);
/* double, finite, spec->min..spec->max */
gboolean vt_key_parse_double(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
			     GError **error);
/* gboolean: true/false/yes/no/1/0 */
gboolean vt_key_parse_bool(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
			   GError **error);
/* char *, any printable text up to spec->max bytes (256 when 0); replaces the old value */
gboolean vt_key_parse_string(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
			     GError **error);
/* char *, one of spec->choices */
gboolean vt_key_parse_choice(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
			     GError **error);
/* char **, ';'-separated items, blanks around each stripped, empty items
 * skipped, at most spec->max items (64 when 0) of at most 256 bytes, each
 * checked by spec->data (a VtKeyWordCheck) when set; an empty value is an
 * empty list (a NULL-terminated array with no item). */
typedef gboolean (*VtKeyWordCheck)(const char *word);
gboolean vt_key_parse_list(const VtKeySpec *spec, const VtKeyEntry *entry, gpointer field,
			   GError **error);

G_END_DECLS
