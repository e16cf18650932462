/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Online CPUs, the aggregate /proc/stat line and the load averages. */
#include "collector-private.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

/* A cpulist range count beyond this is nonsense (NR_CPUS tops out at 8192). */
#define CPU_MAX 8192u

/* Counts the CPUs in a cpulist such as "0-3,5,7-8". */
static gboolean
count_cpulist(const char *text, guint32 *out)
{
	g_auto(GStrv) parts = g_strsplit(text, ",", (gint)CPU_MAX);
	guint64 total = 0;

	for (guint i = 0; parts[i] != NULL; i++) {
		char *dash = strchr(parts[i], '-');
		guint64 a, b;

		if (dash != NULL) {
			*dash = '\0';
			if (!vt_parse_u64(parts[i], &a) || !vt_parse_u64(dash + 1, &b) || b < a ||
			    b >= CPU_MAX)
				return FALSE;
			total += b - a + 1;
		} else {
			if (!vt_parse_u64(parts[i], &a) || a >= CPU_MAX)
				return FALSE;
			total++;
		}
	}
	if (total == 0 || total > CPU_MAX)
		return FALSE;
	*out = (guint32)total;
	return TRUE;
}

static void
read_online(VtCollector *c, VtCpu *cpu)
{
	char buf[VT_ATTR_MAX];
	int err;

	/* kept while the kernel announces no CPU going on- or offline */
	if (c->online_kept && c->has_online) {
		cpu->has_online = TRUE;
		cpu->online = c->online_count;
		return;
	}
	c->has_online = FALSE;
	err = vt_file_read(&c->online, c->root_fd, "sys/devices/system/cpu/online", buf,
			   sizeof(buf), NULL, NULL);
	if (err < 0) {
		vt_collector_note(c, "cpu", "online: %s", g_strerror(-err));
		return;
	}
	vt_chomp(buf);
	if (count_cpulist(buf, &cpu->online)) {
		cpu->has_online = TRUE;
		c->has_online = TRUE;
		c->online_count = cpu->online;
	} else {
		vt_collector_note(c, "cpu", "online: not a CPU list");
	}
}

/* "cpu  user nice system idle iowait irq softirq steal guest guest_nice" */
static void
read_stat(VtCollector *c, VtCpu *cpu)
{
	g_autoptr(GError) error = NULL;
	guint64 v[8] = {0};
	char *eol;
	int n;

	if (!vt_collector_read_text(c, &c->stat, "proc/stat", NULL, &error)) {
		vt_collector_note(c, "cpu", "%s", error->message);
		return;
	}
	eol = strchr(c->text, '\n');
	if (eol != NULL)
		*eol = '\0';
	if (!g_str_has_prefix(c->text, "cpu ")) {
		vt_collector_note(c, "cpu", "/proc/stat: no aggregate cpu line");
		return;
	}
	n = vt_parse_u64_words(c->text + 4, v, G_N_ELEMENTS(v));
	if (n < 0) {
		vt_collector_note(c, "cpu", "/proc/stat: bad number in the cpu line");
		return;
	}
	if (n < 5) {
		vt_collector_note(c, "cpu", "/proc/stat: short cpu line");
		return;
	}
	/* guest and guest_nice are already counted in user and nice, so the
	 * total is the first eight fields (as top and mpstat count it). */
	cpu->total_ticks = 0;
	for (guint i = 0; i < (guint)n; i++)
		cpu->total_ticks =
			v[i] > VT_U64_MAX - cpu->total_ticks ? VT_U64_MAX : cpu->total_ticks + v[i];
	cpu->has_total_ticks = TRUE;
	cpu->has_iowait_ticks = TRUE;
	cpu->iowait_ticks = v[4];
	if (n >= 8) {
		cpu->has_steal_ticks = TRUE;
		cpu->steal_ticks = v[7];
	}
}

static gboolean
parse_load(const char *word, double *out)
{
	char *end = NULL;
	double d = g_ascii_strtod(word, &end);

	if (end == word || *end != '\0' || !isfinite(d) || d < 0 || d > 1e9)
		return FALSE;
	*out = d;
	return TRUE;
}

static void
read_loadavg(VtCollector *c, VtCpu *cpu)
{
	char buf[VT_ATTR_MAX];
	g_auto(GStrv) f = NULL;
	int err =
		vt_file_read(&c->loadavg, c->root_fd, "proc/loadavg", buf, sizeof(buf), NULL, NULL);

	if (err < 0) {
		vt_collector_note(c, "cpu", "/proc/loadavg: %s", g_strerror(-err));
		return;
	}
	f = g_strsplit(vt_chomp(buf), " ", 6);
	if (g_strv_length(f) < 3 || !parse_load(f[0], &cpu->loadavg_1) ||
	    !parse_load(f[1], &cpu->loadavg_5) || !parse_load(f[2], &cpu->loadavg_15)) {
		cpu->loadavg_1 = cpu->loadavg_5 = cpu->loadavg_15 = 0;
		vt_collector_note(c, "cpu", "/proc/loadavg: not understood");
		return;
	}
	cpu->has_loadavg_1 = cpu->has_loadavg_5 = cpu->has_loadavg_15 = TRUE;
}

gboolean
vt_collect_cpu(VtCollector *c, VtReport *report, GError **error)
{
	VtCpu *cpu = g_new(VtCpu, 1);
	long hz;

	virttune__v1__cpu__init(cpu);
	report->cpu = cpu;
	read_online(c, cpu);
	read_stat(c, cpu);
	read_loadavg(c, cpu);
	if (c->ticks_per_second == 0) {
		hz = sysconf(_SC_CLK_TCK);
		c->ticks_per_second = hz > 0 && hz < 100000 ? (guint32)hz : 100u;
	}
	cpu->has_ticks_per_second = TRUE;
	cpu->ticks_per_second = c->ticks_per_second;
	if (!cpu->has_online && !cpu->has_total_ticks && !cpu->has_loadavg_1) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "no CPU file readable");
		return FALSE;
	}
	return TRUE;
}
