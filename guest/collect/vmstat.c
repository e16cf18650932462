/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The /proc/vmstat counters that explain memory trouble (whichever the kernel has). */
#include "collector-private.h"

#include <string.h>

#include "error.h"

static const char *const wanted[] = {
	"oom_kill",
	"pgmajfault",
	"pgfault",
	"pgscan_kswapd",
	"pgscan_direct",
	"pgsteal_kswapd",
	"pgsteal_direct",
	"compact_stall",
	"thp_fault_alloc",
	"thp_fault_fallback",
	"workingset_refault",
	"workingset_refault_anon",
	"workingset_refault_file",
};

static void
add(VtReport *report, const char *key, guint64 value)
{
	VtReportVmstatEntry *e = g_new(VtReportVmstatEntry, 1);

	virttune__v1__report__vmstat_entry__init(e);
	e->key = g_strdup(key);
	e->has_value = TRUE;
	e->value = value;
	VT_APPEND(report->n_vmstat, report->vmstat, e);
}

gboolean
vt_collect_vmstat(VtCollector *c, VtReport *report, GError **error)
{
	const char *text = vt_collector_vmstat_text(c, error);
	gboolean seen[G_N_ELEMENTS(wanted)] = {FALSE};
	gboolean has_allocstall = FALSE;
	guint64 allocstall = 0;
	guint bad = 0;

	if (text == NULL)
		return FALSE;
	/* Lines are "name value"; the file is parsed in place of a copy. */
	for (const char *line = text; *line != '\0';) {
		const char *eol = strchr(line, '\n');
		gsize len = eol ? (gsize)(eol - line) : strlen(line);
		const char *space = memchr(line, ' ', len);
		char name[64], num[32];
		gsize nlen = 0, vlen = 0;
		guint64 v;
		gboolean shaped = space != NULL && (nlen = (gsize)(space - line)) < sizeof(name) &&
				  (vlen = len - nlen - 1) < sizeof(num);

		/* the wanted names and allocstall_ start with one of these letters:
		 * the other ~170 lines are passed over without a copy */
		if (shaped && strchr("aopctw", line[0]) != NULL && line[0] != '\0') {
			memcpy(name, line, nlen);
			name[nlen] = '\0';
			memcpy(num, space + 1, vlen);
			num[vlen] = '\0';
			if (g_str_has_prefix(name, "allocstall_")) {
				if (vt_parse_u64(num, &v)) {
					has_allocstall = TRUE;
					allocstall = v > VT_U64_MAX - allocstall ? VT_U64_MAX
										 : allocstall + v;
				} else {
					bad++;
				}
			} else {
				for (gsize i = 0; i < G_N_ELEMENTS(wanted); i++) {
					if (seen[i] || strcmp(name, wanted[i]) != 0)
						continue;
					if (vt_parse_u64(num, &v)) {
						seen[i] = TRUE;
						add(report, wanted[i], v);
					} else {
						bad++;
					}
					break;
				}
			}
		} else if (!shaped && len > 0) {
			bad++;
		}
		line = eol ? eol + 1 : line + len;
	}
	if (has_allocstall)
		add(report, "allocstall", allocstall);
	if (bad > 0)
		vt_collector_note(c, "vmstat", "%u lines not understood, left out", bad);
	return TRUE;
}
