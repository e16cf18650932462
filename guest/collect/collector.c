/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "collector.h"

/* Placeholder until the collectors land: an empty report. */
struct VtCollector {
	char *sysroot;
};

VtCollector *
vt_collector_new(const char *sysroot, const VtEthtoolOps *ops)
{
	VtCollector *c = g_new0(VtCollector, 1);
	c->sysroot = g_strdup(sysroot ? sysroot : "/");
	return c;
}

void
vt_collector_free(VtCollector *collector)
{
	if (collector == NULL)
		return;
	g_free(collector->sysroot);
	g_free(collector);
}

void
vt_collector_set_excluded(VtCollector *collector, const char *const *globs)
{
}

void
vt_collector_set_sections(VtCollector *collector, const char *const *names)
{
}

const char *const *
vt_collector_section_names(void)
{
	static const char *const names[] = {"identity", "meminfo", "swap", "vmstat", "sysctl",
					    "block",    "nics",    "cpu",  NULL};
	return names;
}

VtReport *
vt_collector_collect(VtCollector *collector)
{
	VtReport *report = g_new0(VtReport, 1);
	virttune__v1__report__init(report);
	return report;
}
