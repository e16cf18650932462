/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The /proc/vmstat counters that explain memory trouble (whichever the kernel
 * has), and the swap section's pswpin/pswpout: one read and one pass per report. */
#include "collector-private.h"

#include <string.h>

#include "error.h"

#define NAME(s)                                                                                    \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}

/* VtVmstatCounter order. */
static const struct {
	const char *name;
	gsize len;
} counters[VT_VMSTAT_N] = {
	NAME("oom_kill"),
	NAME("pgmajfault"),
	NAME("pgfault"),
	NAME("pgscan_kswapd"),
	NAME("pgscan_direct"),
	NAME("pgsteal_kswapd"),
	NAME("pgsteal_direct"),
	NAME("compact_stall"),
	NAME("thp_fault_alloc"),
	NAME("thp_fault_fallback"),
	NAME("workingset_refault"),
	NAME("workingset_refault_anon"),
	NAME("workingset_refault_file"),
	[VT_VMSTAT_PSWPIN] = NAME("pswpin"),
	[VT_VMSTAT_PSWPOUT] = NAME("pswpout"),
	[VT_VMSTAT_ALLOCSTALL] = NAME("allocstall"),
};

/* the 13 above are the vmstat section's own */
G_STATIC_ASSERT(VT_VMSTAT_PSWPIN == 13);

/* The longest name and value a line of ours can have. */
#define NAME_MAX_LEN  64u
#define VALUE_MAX_LEN 32u

static void
take(VtVmstat *vm, guint k, const char *value, gsize len)
{
	char num[VALUE_MAX_LEN];
	guint64 v;

	memcpy(num, value, len);
	num[len] = '\0';
	if (!vt_parse_u64(num, &v)) {
		vm->bad++;
		return;
	}
	if (k == VT_VMSTAT_ALLOCSTALL) {
		vm->value[k] = v > VT_U64_MAX - vm->value[k] ? VT_U64_MAX : vm->value[k] + v;
		vm->has |= 1u << k;
		return;
	}
	vm->has |= 1u << k;
	vm->value[k] = v;
	vm->order[vm->n_order++] = (guint8)k;
}

/* One "name value" line of @len bytes. */
static void
parse_line(VtVmstat *vm, const char *line, gsize len)
{
	const char *space = memchr(line, ' ', len);
	gsize nlen, vlen;

	if (space == NULL || (nlen = (gsize)(space - line)) >= NAME_MAX_LEN ||
	    (vlen = len - nlen - 1) >= VALUE_MAX_LEN) {
		vm->bad += len > 0;
		return;
	}
	/* the names we take start with one of these letters: the other ~170
	 * lines are passed over on their first */
	if (strchr("aopctw", line[0]) == NULL || line[0] == '\0')
		return;
	if (nlen > strlen("allocstall_") &&
	    memcmp(line, "allocstall_", strlen("allocstall_")) == 0) {
		take(vm, VT_VMSTAT_ALLOCSTALL, space + 1, vlen);
		return;
	}
	for (guint k = 0; k < VT_VMSTAT_ALLOCSTALL; k++)
		if (counters[k].len == nlen && memcmp(counters[k].name, line, nlen) == 0) {
			/* a name given twice counts once: the first */
			if (!(vm->has & (1u << k)))
				take(vm, k, space + 1, vlen);
			return;
		}
}

const VtVmstat *
vt_collector_vmstat(VtCollector *c, GError **error)
{
	VtVmstat *vm = &c->vmstat_values;
	gboolean truncated = FALSE;
	gsize len = 0;

	if (!c->vmstat_read) {
		c->vmstat_read = TRUE;
		memset(vm, 0, sizeof(*vm));
		/* c->text: the swap section asks after it parsed /proc/swaps */
		vm->err = vt_file_read(&c->vmstat, c->root_fd, "proc/vmstat", c->text,
				       VT_PROC_TEXT_MAX, &len, &truncated);
		for (const char *line = c->text, *end = c->text + len;
		     vm->err == 0 && line < end;) {
			const char *eol = memchr(line, '\n', (gsize)(end - line));
			gsize n = eol != NULL ? (gsize)(eol - line) : (gsize)(end - line);

			parse_line(vm, line, n);
			line += n + 1;
		}
	}
	if (vm->err < 0) {
		vt_error_set_errno(error, -vm->err, "/proc/vmstat");
		return NULL;
	}
	return vm;
}

static void
add(VtReport *report, const VtVmstat *vm, guint k)
{
	VtReportVmstatEntry *e = g_new(VtReportVmstatEntry, 1);

	virttune__v1__report__vmstat_entry__init(e);
	e->key = g_strdup(counters[k].name);
	e->has_value = TRUE;
	e->value = vm->value[k];
	VT_APPEND(report->n_vmstat, report->vmstat, e);
}

gboolean
vt_collect_vmstat(VtCollector *c, VtReport *report, GError **error)
{
	const VtVmstat *vm = vt_collector_vmstat(c, error);

	if (vm == NULL)
		return FALSE;
	/* in the file's order (the swap section's two left to it), the sum of
	 * allocstall_<zone> last */
	for (guint i = 0; i < vm->n_order; i++)
		if (vm->order[i] != VT_VMSTAT_PSWPIN && vm->order[i] != VT_VMSTAT_PSWPOUT)
			add(report, vm, vm->order[i]);
	if (vm->has & (1u << VT_VMSTAT_ALLOCSTALL))
		add(report, vm, VT_VMSTAT_ALLOCSTALL);
	if (vm->bad > 0)
		vt_collector_note(c, "vmstat", "%u lines not understood, left out", vm->bad);
	return TRUE;
}
