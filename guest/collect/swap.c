/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Active swap from /proc/swaps, swap-in/out pages from /proc/vmstat. */
#include "collector-private.h"

#include <string.h>

#include "error.h"

/* /proc/swaps escapes blanks and backslashes in paths as \ooo (seq_file_path). */
static char *
unescape_path(const char *in)
{
	g_autoptr(GString) out = g_string_sized_new(strlen(in));

	for (const char *p = in; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			char ch = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			g_string_append_c(out, ch != '\0' ? ch : '?');
			p += 3;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
parse_device(VtCollector *c, char *line, VtSwapDevice *dev)
{
	g_auto(GStrv) f = g_strsplit_set(line, " \t", -1);
	const char *w[5];
	guint n = 0;
	guint64 size, used;
	gint64 prio;
	gboolean changed = FALSE;
	g_autofree char *path = NULL;

	for (guint i = 0; f[i] != NULL && n <= G_N_ELEMENTS(w); i++) {
		if (*f[i] == '\0')
			continue;
		if (n == G_N_ELEMENTS(w))
			return FALSE;
		w[n++] = f[i];
	}
	if (n != 5 || !vt_parse_u64(w[2], &size) || !vt_parse_u64(w[3], &used) ||
	    !vt_parse_i64(w[4], &prio) || prio < G_MININT32 || prio > G_MAXINT32 ||
	    size > VT_U64_MAX / 1024u || used > VT_U64_MAX / 1024u)
		return FALSE;
	path = unescape_path(w[0]);
	dev->path = vt_report_string(path, -1, &changed);
	if (changed)
		vt_collector_note(c, "swap",
				  "a swap path was not valid UTF-8 or too long, "
				  "replaced");
	dev->type = vt_report_string(w[1], -1, NULL);
	dev->has_size_bytes = dev->has_used_bytes = dev->has_priority = TRUE;
	/* sizes are in KiB */
	dev->size_bytes = size * 1024u;
	dev->used_bytes = used * 1024u;
	dev->priority = (gint32)prio;
	return TRUE;
}

static void
vmstat_pages(VtCollector *c, VtSwap *swap)
{
	g_autoptr(GError) error = NULL;
	const VtVmstat *vm = vt_collector_vmstat(c, &error);

	if (vm == NULL) {
		vt_collector_note(c, "swap", "pswpin/pswpout: %s", error->message);
		return;
	}
	swap->has_pswpin = (vm->has & (1u << VT_VMSTAT_PSWPIN)) != 0;
	swap->pswpin = vm->value[VT_VMSTAT_PSWPIN];
	swap->has_pswpout = (vm->has & (1u << VT_VMSTAT_PSWPOUT)) != 0;
	swap->pswpout = vm->value[VT_VMSTAT_PSWPOUT];
}

gboolean
vt_collect_swap(VtCollector *c, VtReport *report, GError **error)
{
	VtSwap *swap;
	char *line, *next;
	guint bad = 0, dropped = 0;
	gboolean header = TRUE;

	if (!vt_collector_read_text(c, &c->swaps, "proc/swaps", NULL, error))
		return FALSE;
	swap = g_new(VtSwap, 1);
	virttune__v1__swap__init(swap);
	report->swap = swap;
	for (line = c->text; line != NULL && *line != '\0'; line = next) {
		VtSwapDevice *dev;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (header) {
			header = FALSE;
			if (g_str_has_prefix(line, "Filename"))
				continue;
		}
		if (*line == '\0')
			continue;
		if (swap->n_devices >= VT_REPORT_MAX_SWAP_DEVICES) {
			dropped++;
			continue;
		}
		dev = g_new(VtSwapDevice, 1);
		virttune__v1__swap_device__init(dev);
		if (!parse_device(c, line, dev)) {
			virttune__v1__swap_device__free_unpacked(dev, NULL);
			bad++;
			continue;
		}
		VT_APPEND(swap->n_devices, swap->devices, dev);
	}
	if (bad > 0)
		vt_collector_note(c, "swap", "%u lines of /proc/swaps not understood", bad);
	if (dropped > 0)
		vt_collector_note(c, "swap", "%u devices beyond the limit of %u left out", dropped,
				  VT_REPORT_MAX_SWAP_DEVICES);
	vmstat_pages(c, swap);
	return TRUE;
}
