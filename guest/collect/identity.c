/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who this guest is: hostname, OS, kernel, boot id, uptime. */
#include "collector-private.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "error.h"

/* A bounded, cleaned copy of a small file's first line; NULL and a note on failure. */
static char *
read_line_once(VtCollector *c, VtFile *file, VtKept *kept, const char *path)
{
	char buf[VT_ATTR_MAX];
	char *eol;
	gboolean changed = FALSE, truncated = FALSE;
	char *out;
	int err;

	/* the hostname is a setting: kept like the others (kept != NULL) */
	if (kept == NULL || !vt_kept_get(c, kept, buf, sizeof(buf), &err, &truncated)) {
		err = file != NULL ? vt_file_read(file, c->root_fd, path, buf, sizeof(buf), NULL,
						  &truncated)
				   : vt_file_read_once(c->root_fd, path, buf, sizeof(buf), NULL,
						       &truncated);
		if (kept != NULL)
			vt_kept_set(kept, err, buf, truncated);
	}

	if (err < 0) {
		vt_collector_note(c, "identity", "/%s: %s", path, g_strerror(-err));
		return NULL;
	}
	eol = strchr(buf, '\n');
	if (eol != NULL)
		*eol = '\0';
	out = vt_report_string(buf, -1, &changed);
	if (changed || truncated)
		vt_collector_note(c, "identity", "/%s: not valid text or too long, cleaned", path);
	return out;
}

/* PRETTY_NAME from os-release: a shell-quoted value. */
static char *
read_pretty_name(VtCollector *c)
{
	static const char *const paths[] = {"etc/os-release", "usr/lib/os-release"};
	char buf[VT_ATTR_MAX * 4];

	for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
		int err = vt_file_read_once(c->root_fd, paths[i], buf, sizeof(buf), NULL, NULL);
		char *line, *next;

		if (err == -ENOENT)
			continue;
		if (err < 0) {
			vt_collector_note(c, "identity", "/%s: %s", paths[i], g_strerror(-err));
			return NULL;
		}
		for (line = buf; line != NULL && *line != '\0'; line = next) {
			g_autofree char *value = NULL;

			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			if (!g_str_has_prefix(line, "PRETTY_NAME="))
				continue;
			value = g_shell_unquote(line + strlen("PRETTY_NAME="), NULL);
			if (value == NULL)
				break;
			return vt_report_string(value, -1, NULL);
		}
		vt_collector_note(c, "identity", "/%s: no PRETTY_NAME", paths[i]);
		return NULL;
	}
	vt_collector_note(c, "identity", "no os-release");
	return NULL;
}

gboolean
vt_collect_identity(VtCollector *c, VtReport *report, GError **error)
{
	VtIdentity *id = g_new(VtIdentity, 1);
	char buf[VT_ATTR_MAX];
	struct timespec boottime;
	int err;

	virttune__v1__identity__init(id);
	report->identity = id;
	id->agent_version = g_strdup(VT_VERSION);
	id->hostname =
		read_line_once(c, &c->hostname, &c->hostname_kept, "proc/sys/kernel/hostname");
	/* constant for the life of a boot: read once */
	if (c->kernel_release == NULL)
		c->kernel_release = read_line_once(c, NULL, NULL, "proc/sys/kernel/osrelease");
	if (c->boot_id == NULL)
		c->boot_id = read_line_once(c, NULL, NULL, "proc/sys/kernel/random/boot_id");
	/* an upgrade that changes os-release restarts the agent with it */
	if (!c->os_release_done) {
		c->os_release_done = TRUE;
		c->os_pretty_name = read_pretty_name(c);
	}
	id->kernel_release = g_strdup(c->kernel_release);
	id->boot_id = g_strdup(c->boot_id);
	id->os_pretty_name = g_strdup(c->os_pretty_name);

	/* what /proc/uptime prints first is CLOCK_BOOTTIME: on the live system,
	 * read from the vDSO instead of the file */
	if (strcmp(c->sysroot, "/") == 0 && clock_gettime(CLOCK_BOOTTIME, &boottime) == 0) {
		id->has_uptime_s = TRUE;
		id->uptime_s = (guint64)boottime.tv_sec;
	} else if ((err = vt_file_read(&c->uptime, c->root_fd, "proc/uptime", buf, sizeof(buf),
				       NULL, NULL)) == 0) {
		char *dot = strchr(buf, '.');
		char *space = strchr(buf, ' ');

		if (dot != NULL && (space == NULL || dot < space))
			*dot = '\0';
		else if (space != NULL)
			*space = '\0';
		if (vt_parse_u64(buf, &id->uptime_s))
			id->has_uptime_s = TRUE;
		else
			vt_collector_note(c, "identity", "/proc/uptime: not understood");
	} else {
		vt_collector_note(c, "identity", "/proc/uptime: %s", g_strerror(-err));
	}
	if (id->hostname == NULL && id->kernel_release == NULL && id->boot_id == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "no identity file readable");
		return FALSE;
	}
	return TRUE;
}
