/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dropins.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "apply-private.h"
#include "error.h"
#include "kernel/durable.h"

#define VT_DROPIN_HEADER                                                                           \
	"# Written by virt-tune-agent from its apply journal (changes the host applied\n"          \
	"# with persist). Edits here are overwritten; roll the change back instead.\n"

void
vt_dropin_setting_free(VtDropinSetting *s)
{
	if (s == NULL)
		return;
	g_free(s->file);
	g_free(s->key);
	g_free(s->line);
	g_free(s->prelude);
	g_free(s);
}

static VtDropinSetting *
setting(const char *file, char *key, char *line, char *prelude)
{
	VtDropinSetting *s = g_new0(VtDropinSetting, 1);

	s->file = g_strdup(file);
	s->key = key;
	s->line = line;
	s->prelude = prelude != NULL ? prelude : g_strdup("");
	return s;
}

VtDropinSetting *
vt_dropin_sysctl(const char *key, const char *value)
{
	return setting("etc/sysctl.d/90-virt-tune.conf", g_strdup(key),
		       g_strdup_printf("%s = %s", key, value), NULL);
}

VtDropinSetting *
vt_dropin_tmpfile(const char *sys_path, const char *value)
{
	return setting("etc/tmpfiles.d/90-virt-tune.conf", g_strdup(sys_path),
		       g_strdup_printf("w /%s - - - - %s", sys_path, value), NULL);
}

VtDropinSetting *
vt_dropin_udev_block(const char *device, const char *attr, const char *value)
{
	return setting("etc/udev/rules.d/90-virt-tune.rules",
		       g_strdup_printf("%s %s", device, attr),
		       g_strdup_printf("ACTION==\"add|change\", SUBSYSTEM==\"block\", "
				       "KERNEL==\"%s\", ATTR{%s}=\"%s\"",
				       device, attr, value),
		       NULL);
}

VtDropinSetting *
vt_dropin_link(const char *iface, const char *mac, const char *key, const char *value)
{
	g_autofree char *file = g_strdup_printf("etc/systemd/network/10-virt-tune-%s.link", iface);
	char *prelude = g_strdup_printf(
		"[Match]\n"
		"%s=%s\n"
		"\n"
		"[Link]\n"
		"# as in 99-default.link, which this file takes the place of for %s\n"
		"NamePolicy=keep kernel database onboard slot path\n"
		"AlternativeNamesPolicy=database onboard slot path\n"
		"MACAddressPolicy=persistent\n",
		mac != NULL ? "MACAddress" : "OriginalName", mac != NULL ? mac : iface, iface);

	return setting(file, g_strdup(key), g_strdup_printf("%s=%s", key, value), prelude);
}

gboolean
vt_dropin_write_all(const char *sysroot, GPtrArray *settings, GPtrArray *files, GError **error)
{
	for (guint f = 0; f < files->len; f++) {
		const char *file = files->pdata[f];
		g_autofree char *path = g_build_filename(sysroot ? sysroot : "/", file, NULL);
		g_autoptr(GString) text = g_string_new(VT_DROPIN_HEADER);
		g_autoptr(GPtrArray) lines = g_ptr_array_new();
		const char *prelude = NULL;

		/* latest per key, in the order the keys first appeared */
		for (guint i = 0; i < settings->len; i++) {
			VtDropinSetting *s = settings->pdata[i];
			gboolean replaced = FALSE;

			if (strcmp(s->file, file) != 0)
				continue;
			prelude = s->prelude;
			for (guint k = 0; k < lines->len; k++) {
				VtDropinSetting *o = lines->pdata[k];
				if (strcmp(o->key, s->key) == 0) {
					lines->pdata[k] = s;
					replaced = TRUE;
				}
			}
			if (!replaced)
				g_ptr_array_add(lines, s);
		}
		if (lines->len == 0) {
			if (unlink(path) < 0 && errno != ENOENT) {
				vt_error_set_errno(error, errno, "remove %s", path);
				return FALSE;
			}
			continue;
		}
		g_string_append(text, prelude);
		for (guint k = 0; k < lines->len; k++)
			g_string_append_printf(text, "%s\n",
					       ((VtDropinSetting *)lines->pdata[k])->line);
		if (!vt_durable_replace(path, ".virt-tune.tmp", text->str, text->len, 0644, TRUE,
					error))
			return FALSE;
	}
	return TRUE;
}

/* The settings of one applied persistent change, added to @settings; its
 * files (whatever its state) to @files, so that a file left with nothing is
 * removed. */
static void
entry_settings(VtApplier *ap, const VtJournalEntry *e, GPtrArray *settings, GPtrArray *files)
{
	g_autoptr(VtAction) action = vt_apply_entry_action(e);
	const VtApplyKind *kind = vt_apply_kind_of(action);
	g_autoptr(GPtrArray) mine =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_dropin_setting_free);

	if (kind == NULL || !kind->persist(ap, action, e->after ? e->after : e->target, mine))
		return;
	for (guint k = 0; k < mine->len; k++) {
		VtDropinSetting *s = mine->pdata[k];
		if (!g_ptr_array_find_with_equal_func(files, s->file, g_str_equal, NULL))
			g_ptr_array_add(files, g_strdup(s->file));
	}
	/* a change awaiting confirmation gets its drop-in once confirmed */
	if (e->state == VT_JOURNAL_APPLIED && e->confirm != VT_CONFIRM_AWAITING &&
	    e->confirm != VT_CONFIRM_EXPIRED)
		g_ptr_array_extend_and_steal(settings, g_steal_pointer(&mine));
}

gboolean
vt_applier_rebuild_dropins(VtApplier *ap, GError **error)
{
	GPtrArray *entries = vt_journal_entries(ap->journal);
	g_autoptr(GPtrArray) settings =
		g_ptr_array_new_with_free_func((GDestroyNotify)vt_dropin_setting_free);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < entries->len; i++) {
		const VtJournalEntry *e = entries->pdata[i];

		if (e->kind == VT_JOURNAL_APPLY && e->persist)
			entry_settings(ap, e, settings, files);
	}
	return vt_dropin_write_all(ap->sysroot, settings, files, error);
}
