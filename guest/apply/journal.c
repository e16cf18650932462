/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "error.h"
#include "json.h"
#include "message.h"
#include "validate.h"
#include "kernel/durable.h"
#include "kernel/sysattr.h"

#define VT_JOURNAL_ID_LEN 8u

struct VtJournal {
	char *dir;
	char *id;           /* VT_JOURNAL_ID_LEN hex digits: tells journals apart */
	GPtrArray *entries; /* VtJournalEntry *, by seq */
	guint64 last_seq;
};

/* ---------------------------------------------------------------- files */

/* Write @path whole: temp file, fsync, rename, fsync of the directory. */
static gboolean
write_durably(const char *path, const char *data, gsize len, GError **error)
{
	/* ".tmp": what vt_journal_open() removes as a write that never completed */
	return vt_durable_replace(path, ".tmp", data, len, 0600, FALSE, error);
}

/* Read a regular file of at most @max bytes. */
static char *
read_bounded(const char *path, gsize max, gsize *len, GError **error)
{
	g_autofree char *buf = g_malloc(max + 1);
	g_auto(VtFd) fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	gsize got = 0;

	if (fd < 0) {
		vt_error_set_errno(error, errno, "%s", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: not a regular file", path);
		return NULL;
	}
	while (got <= max) {
		ssize_t n = read(fd, buf + got, max + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vt_error_set_errno(error, errno, "%s", path);
			return NULL;
		}
		if (n == 0)
			break;
		got += (gsize)n;
	}
	if (got > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "%s: larger than %zu bytes", path,
			    max);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return g_steal_pointer(&buf);
}

void
vt_journal_warn(GPtrArray *warnings, const char *format, ...)
{
	va_list args;

	if (warnings == NULL)
		return;
	va_start(args, format);
	g_ptr_array_add(warnings, g_strdup_vprintf(format, args));
	va_end(args);
}

static char *
entry_path(VtJournal *j, guint64 seq, const char *suffix)
{
	g_autofree char *name = g_strdup_printf("%010" G_GUINT64_FORMAT "%s", seq, suffix);
	return g_build_filename(j->dir, name, NULL);
}

static gboolean
load_id(VtJournal *j, GPtrArray *warnings, GError **error)
{
	g_autofree char *path = g_build_filename(j->dir, "id", NULL);
	g_autoptr(GError) local = NULL;
	gsize len = 0;
	g_autofree char *text = read_bounded(path, 64, &len, &local);

	if (text != NULL) {
		g_strstrip(text);
		if (strlen(text) == VT_JOURNAL_ID_LEN &&
		    strspn(text, "0123456789abcdef") == VT_JOURNAL_ID_LEN) {
			j->id = g_steal_pointer(&text);
			return TRUE;
		}
	} else if (!g_error_matches(local, VT_ERROR, VT_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	/* new (or unreadable, so never used for a change id): pick one */
	j->id = g_strdup_printf("%08x", g_random_int());
	if (text != NULL)
		vt_journal_warn(warnings,
				"%s: not a journal id; starting the new id %s (the change ids "
				"of earlier entries stay as they are)",
				path, j->id);
	g_free(text);
	text = g_strdup_printf("%s\n", j->id);
	return write_durably(path, text, strlen(text), error);
}

static gint
by_seq(gconstpointer a, gconstpointer b)
{
	const VtJournalEntry *x = *(VtJournalEntry *const *)a;
	const VtJournalEntry *y = *(VtJournalEntry *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Entry file @name of the directory: kept, or (corrupt) moved aside and said
 * so in @warnings. */
static void
load_entry(VtJournal *j, const char *name, guint64 seq, GPtrArray *warnings)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *path = g_build_filename(j->dir, name, NULL);
	g_autofree char *bad = NULL;
	g_autofree char *text = NULL;
	g_autoptr(VtJournalEntry) e = NULL;
	gsize len = 0;

	text = read_bounded(path, VT_JOURNAL_ENTRY_MAX, &len, &local);
	if (text != NULL)
		e = vt_journal_entry_from_json(text, len, &local);
	if (e != NULL && e->seq != seq) {
		g_set_error(&local, VT_ERROR, VT_ERROR_INVALID,
			    "seq %" G_GUINT64_FORMAT " in a file named for another", e->seq);
		g_clear_pointer(&e, vt_journal_entry_free);
	}
	if (e != NULL) {
		g_ptr_array_add(j->entries, g_steal_pointer(&e));
		return;
	}
	bad = entry_path(j, seq, ".corrupt");
	if (rename(path, bad) < 0)
		vt_journal_warn(warnings,
				"journal entry %s: %s; cannot move it aside (%s), skipping", path,
				local->message, g_strerror(errno));
	else
		vt_journal_warn(warnings, "journal entry %s: %s; moved aside as %s, skipping", path,
				local->message, bad);
}

/* Reads every entry file of the directory, within a bound. */
static gboolean
load_entries(VtJournal *j, GPtrArray *warnings, GError **error)
{
	DIR *d = opendir(j->dir);
	struct dirent *de;
	guint scanned = 0;

	if (d == NULL) {
		vt_error_set_errno(error, errno, "%s", j->dir);
		return FALSE;
	}
	while ((de = readdir(d)) != NULL) {
		char *end = NULL;
		guint64 seq;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		seq = g_ascii_strtoull(de->d_name, &end, 10);
		if (end == de->d_name || seq == 0 ||
		    (strcmp(end, ".json") != 0 && strcmp(end, ".json.tmp") != 0))
			continue;
		if (seq > VT_JOURNAL_SEQ_MAX) {
			/* not one of ours: a change a second for three years is 10^8 */
			vt_journal_warn(warnings,
					"%s/%s: a sequence number above %u is not the agent's; "
					"ignoring the file",
					j->dir, de->d_name, VT_JOURNAL_SEQ_MAX);
			continue;
		}
		j->last_seq = MAX(j->last_seq, seq);
		if (strcmp(end, ".json.tmp") == 0) {
			/* a write that never completed: its entry is older */
			g_autofree char *path = g_build_filename(j->dir, de->d_name, NULL);
			if (unlink(path) < 0 && errno != ENOENT)
				vt_journal_warn(warnings, "%s: %s", path, g_strerror(errno));
			continue;
		}
		if (strcmp(end, ".json") != 0)
			continue;
		/* a directory of thousands of files is not ours to read whole */
		if (++scanned > VT_JOURNAL_MAX_ENTRIES * 4u) {
			vt_journal_warn(warnings, "%s: too many entries; reading the first %u",
					j->dir, VT_JOURNAL_MAX_ENTRIES * 4u);
			break;
		}
		load_entry(j, de->d_name, seq, warnings);
	}
	closedir(d);
	g_ptr_array_sort(j->entries, by_seq);
	return TRUE;
}

/*
 * The journal decides what rollback restores: refuse a directory that
 * someone else could have prepared — a symlink (followed, history would be
 * read from elsewhere), not a directory, not owned by the agent's user, or
 * open to group or others.
 */
static gboolean
check_dir(const char *dir, GError **error)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		vt_error_set_errno(error, errno, "%s", dir);
		return FALSE;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		g_set_error(error, VT_ERROR, VT_ERROR_PERMISSION,
			    "%s is %s, not a directory; the journal is not read through links "
			    "(remove it and restart the agent to start a new journal)",
			    dir, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
		return FALSE;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_PERMISSION,
			    "%s is owned by uid %u with mode %04o; the journal must be the "
			    "agent's alone (chown %u %s && chmod 0700 %s)",
			    dir, (guint)st.st_uid, (guint)(st.st_mode & 07777), (guint)geteuid(),
			    dir, dir);
		return FALSE;
	}
	return TRUE;
}

VtJournal *
vt_journal_open(const char *state_dir, GPtrArray *warnings, GError **error)
{
	g_autoptr(VtJournal) j = g_new0(VtJournal, 1);

	j->dir = g_build_filename(state_dir, "journal", NULL);
	j->entries = g_ptr_array_new_with_free_func((GDestroyNotify)vt_journal_entry_free);
	if (g_mkdir_with_parents(j->dir, 0700) < 0) {
		vt_error_set_errno(error, errno, "%s", j->dir);
		return NULL;
	}
	if (!check_dir(j->dir, error) || !load_id(j, warnings, error) ||
	    !load_entries(j, warnings, error))
		return NULL;
	return g_steal_pointer(&j);
}

void
vt_journal_free(VtJournal *j)
{
	if (j == NULL)
		return;
	g_ptr_array_unref(j->entries);
	g_free(j->dir);
	g_free(j->id);
	g_free(j);
}

GPtrArray *
vt_journal_entries(VtJournal *j)
{
	return j->entries;
}

VtJournalEntry *
vt_journal_find_request(VtJournal *j, VtJournalKind kind, const char *request_id)
{
	for (guint i = j->entries->len; i > 0; i--) {
		VtJournalEntry *e = j->entries->pdata[i - 1];
		if (e->kind == kind && g_strcmp0(e->request_id, request_id) == 0)
			return e;
	}
	return NULL;
}

VtJournalEntry *
vt_journal_find_change(VtJournal *j, const char *change_id)
{
	for (guint i = 0; i < j->entries->len; i++) {
		VtJournalEntry *e = j->entries->pdata[i];
		if (g_strcmp0(e->change_id, change_id) == 0)
			return e;
	}
	return NULL;
}

static gboolean
removable(const VtJournalEntry *e)
{
	/* applied persistent changes are what the drop-ins are rebuilt from;
	 * a change awaiting confirmation holds its own deadline */
	return e->state != VT_JOURNAL_PREPARED &&
	       !(e->confirm == VT_CONFIRM_AWAITING && e->state == VT_JOURNAL_APPLIED) &&
	       !(e->kind == VT_JOURNAL_APPLY && e->persist && e->state == VT_JOURNAL_APPLIED);
}

VtJournalEntry *
vt_journal_new_entry(VtJournal *j, VtJournalKind kind, GError **error)
{
	VtJournalEntry *e;

	for (guint i = 0; i < j->entries->len && j->entries->len >= VT_JOURNAL_MAX_ENTRIES;) {
		VtJournalEntry *old = j->entries->pdata[i];
		g_autofree char *path = NULL;

		if (!removable(old)) {
			i++;
			continue;
		}
		path = entry_path(j, old->seq, ".json");
		if (unlink(path) < 0 && errno != ENOENT) {
			vt_error_set_errno(error, errno, "%s", path);
			return NULL;
		}
		g_ptr_array_remove_index(j->entries, i);
	}
	if (j->entries->len >= VT_JOURNAL_MAX_ENTRIES) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "the journal holds %u changes still in force; roll some back",
			    VT_JOURNAL_MAX_ENTRIES);
		return NULL;
	}
	e = g_new0(VtJournalEntry, 1);
	e->seq = ++j->last_seq;
	e->change_id = g_strdup_printf("%s-%" G_GUINT64_FORMAT, j->id, e->seq);
	e->kind = kind;
	e->created_ms = g_get_real_time() / 1000;
	return e;
}

gboolean
vt_journal_commit(VtJournal *j, VtJournalEntry *e, GError **error)
{
	g_autofree char *path = entry_path(j, e->seq, ".json");
	g_autofree char *text = NULL;

	e->updated_ms = g_get_real_time() / 1000;
	text = vt_journal_entry_to_json(e);
	if (strlen(text) > VT_JOURNAL_ENTRY_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "entry larger than %u bytes",
			    VT_JOURNAL_ENTRY_MAX);
		return FALSE;
	}
	if (!write_durably(path, text, strlen(text), error))
		return FALSE;
	if (!g_ptr_array_find(j->entries, e, NULL))
		g_ptr_array_add(j->entries, e);
	return TRUE;
}
