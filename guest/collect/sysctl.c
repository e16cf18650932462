/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sysctls and knobs that shape memory and network behaviour, by dotted name. */
#include "collector-private.h"

#include <errno.h>
#include <string.h>

#include "error.h"

static const struct {
	const char *key;
	const char *path;
	gboolean bracketed; /* "always [madvise] never": report the active one */
} sysctls[VT_SYSCTL_COUNT] = {
	{"vm.swappiness", "proc/sys/vm/swappiness", FALSE},
	{"vm.dirty_ratio", "proc/sys/vm/dirty_ratio", FALSE},
	{"vm.dirty_background_ratio", "proc/sys/vm/dirty_background_ratio", FALSE},
	{"vm.vfs_cache_pressure", "proc/sys/vm/vfs_cache_pressure", FALSE},
	{"vm.overcommit_memory", "proc/sys/vm/overcommit_memory", FALSE},
	{"vm.min_free_kbytes", "proc/sys/vm/min_free_kbytes", FALSE},
	{"kernel.transparent_hugepage.enabled", "sys/kernel/mm/transparent_hugepage/enabled", TRUE},
	{"kernel.transparent_hugepage.defrag", "sys/kernel/mm/transparent_hugepage/defrag", TRUE},
	{"zswap.enabled", "sys/module/zswap/parameters/enabled", FALSE},
	{"net.core.rmem_max", "proc/sys/net/core/rmem_max", FALSE},
	{"net.core.wmem_max", "proc/sys/net/core/wmem_max", FALSE},
	{"net.core.netdev_max_backlog", "proc/sys/net/core/netdev_max_backlog", FALSE},
};

/* The word inside [brackets], or NULL. */
static const char *
active_choice(char *text)
{
	VtChoice choice;

	vt_parse_choice(text, &choice);
	return choice.active >= 0 ? choice.words[choice.active] : NULL;
}

gboolean
vt_collect_sysctl(VtCollector *c, VtReport *report, GError **error)
{
	char buf[VT_ATTR_MAX];
	guint missing = 0;

	for (guint i = 0; i < VT_SYSCTL_COUNT; i++) {
		VtReportSysctlEntry *e;
		const char *value = buf;
		gboolean truncated = FALSE, changed = FALSE;
		int err;

		if (!vt_kept_get(c, &c->sysctl_kept[i], buf, sizeof(buf), &err, &truncated)) {
			err = vt_file_read(&c->sysctl[i], c->root_fd, sysctls[i].path, buf,
					   sizeof(buf), NULL, &truncated);
			vt_kept_set(&c->sysctl_kept[i], err, buf, truncated);
		}

		if (err < 0) {
			/* zswap or THP may be compiled out: the key is left out, and said so */
			vt_collector_note(c, "sysctl", "%s: /%s: %s", sysctls[i].key,
					  sysctls[i].path, g_strerror(-err));
			missing++;
			continue;
		}
		vt_chomp(buf);
		if (sysctls[i].bracketed && (value = active_choice(buf)) == NULL) {
			vt_collector_note(c, "sysctl", "%s: no [active] value in /%s",
					  sysctls[i].key, sysctls[i].path);
			continue;
		}
		e = g_new(VtReportSysctlEntry, 1);
		virttune__v1__report__sysctl_entry__init(e);
		e->key = g_strdup(sysctls[i].key);
		e->value = vt_report_string(value, -1, &changed);
		if (changed || truncated)
			vt_collector_note(c, "sysctl",
					  "%s: value not valid text or too long, cleaned",
					  sysctls[i].key);
		VT_APPEND(report->n_sysctl, report->sysctl, e);
	}
	if (missing == VT_SYSCTL_COUNT) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "none of the %u sysctls readable",
			    VT_SYSCTL_COUNT);
		return FALSE;
	}
	return TRUE;
}
