/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What one report costs the guest: CPU per collect+encode (median over
 * --reports reports), the report's protobuf size and what makes it up, steady
 * RSS; and, in the same run, the shell way (cat of the same files plus
 * ethtool -i/-l/-k/-g per NIC, fork+exec each) timed the same way with the
 * children's CPU included. Prints figures; passes or fails nothing.
 * Usage: bench-agent [--reports N] [--shell-runs N] [--sysroot DIR] [--section NAME...]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/collector.h"
#include "message.h"

extern char **environ;

/* Packed reports go here; a report is far smaller. */
#define BENCH_BUF_SIZE (256 * 1024)

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double
children_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int
cmp_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
percentile(GArray *v, double p)
{
	g_array_sort(v, cmp_double);
	return g_array_index(v, double, (guint)((v->len - 1) * p));
}

/* What a reading of the CPU clock adds to the interval it ends (a system
 * call here, ~1.5 us): the median of empty intervals, taken off each
 * report's figure. */
static double clock_cost;

static void
measure_clock_cost(void)
{
	g_autoptr(GArray) d = g_array_new(FALSE, FALSE, sizeof(double));

	for (guint i = 0; i < 1001; i++) {
		double t0 = cpu_us(), dt = cpu_us() - t0;

		g_array_append_val(d, dt);
	}
	clock_cost = percentile(d, 0.5);
}

/* A "Key:   N kB" line of /proc/self/status, or -1. */
static long
status_kb(const char *key)
{
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return -1;
	p = strstr(text, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static long
vm_rss_kb(void)
{
	return status_kb("VmRSS:");
}

/* ------------------------------------------------------------ size breakdown */

static gsize
field_size(const ProtobufCMessage *msg, const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
	const char *base = (const char *)msg + f->offset;
	gsize total = 0;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		gsize n = *(const size_t *)((const char *)msg + f->quantifier_offset);
		ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)base;

		for (gsize i = 0; i < n; i++) {
			gsize s = protobuf_c_message_get_packed_size(items[i]);
			total += 1 + (s < 128 ? 1 : 2) + s;
		}
	} else if (*(ProtobufCMessage *const *)base != NULL) {
		gsize s = protobuf_c_message_get_packed_size(*(ProtobufCMessage *const *)base);
		total = 1 + (s < 128 ? 1 : 2) + s;
	}
	return total;
}

/* One report, packed and decoded again: its features as messages. */
static VtReport *
decoded_report(VtCollector *c)
{
	VtReport *r = vt_collector_collect(c);
	gsize len = protobuf_c_message_get_packed_size(&r->base);
	g_autofree guint8 *packed = g_malloc(len);
	VtReport *decoded;

	protobuf_c_message_pack(&r->base, packed);
	vt_collector_recycle(c, r);
	decoded = virttune__v1__report__unpack(NULL, len, packed);
	if (decoded == NULL) {
		fprintf(stderr, "bench-agent: the report packed does not decode\n");
		exit(1);
	}
	return decoded;
}

static void
print_breakdown(const VtReport *r)
{
	static const char *const fields[] = {"identity", "meminfo", "swap", "sysctl",  "vmstat",
					     "block",    "nics",    "cpu",  "sections"};
	gsize total = protobuf_c_message_get_packed_size(&r->base);
	gsize features = 0;
	guint n_features = 0;

	for (gsize i = 0; i < r->n_nics; i++) {
		for (gsize k = 0; k < r->nics[i]->n_features; k++) {
			gsize s =
				protobuf_c_message_get_packed_size(&r->nics[i]->features[k]->base);
			features += 2 + s;
		}
		n_features += (guint)r->nics[i]->n_features;
	}
	printf("report size: %zu bytes protobuf (%zu NICs, %zu disks, %zu meminfo lines)\n", total,
	       r->n_nics, r->n_block, r->n_meminfo);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		gsize s = field_size(&r->base, fields[i]);
		printf("  %-9s %5zu bytes  %4.1f%%\n", fields[i], s,
		       100.0 * (double)s / (double)total);
	}
	printf("  of nics: features %zu bytes (%u features) = %.1f%% of the report\n", features,
	       n_features, 100.0 * (double)features / (double)total);
}

/* ------------------------------------------------------------ the shell way */

static void
add_dir_files(GPtrArray *files, const char *dir, const char *const *rel)
{
	for (gsize i = 0; rel[i] != NULL; i++) {
		char *p = g_build_filename(dir, rel[i], NULL);
		if (access(p, R_OK) == 0)
			g_ptr_array_add(files, p);
		else
			g_free(p);
	}
}

static char **
list_names(const char *dir, gboolean block)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		if (block ? g_str_has_prefix(name, "loop") || g_str_has_prefix(name, "ram")
			  : strcmp(name, "lo") == 0)
			continue;
		g_ptr_array_add(out, g_strdup(name));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* The files a report reads, as `cat` would be given them. */
static GPtrArray *
shell_files(char **disks, char **nics)
{
	static const char *const procs[] = {
		"/proc/meminfo",
		"/proc/vmstat",
		"/proc/swaps",
		"/proc/stat",
		"/proc/loadavg",
		"/proc/uptime",
		"/proc/sys/kernel/hostname",
		"/proc/sys/kernel/osrelease",
		"/proc/sys/kernel/random/boot_id",
		"/etc/os-release",
		"/sys/devices/system/cpu/online",
		"/proc/sys/vm/swappiness",
		"/proc/sys/vm/dirty_ratio",
		"/proc/sys/vm/dirty_background_ratio",
		"/proc/sys/vm/vfs_cache_pressure",
		"/proc/sys/vm/overcommit_memory",
		"/proc/sys/vm/min_free_kbytes",
		"/sys/kernel/mm/transparent_hugepage/enabled",
		"/sys/kernel/mm/transparent_hugepage/defrag",
		"/sys/module/zswap/parameters/enabled",
		"/proc/sys/net/core/rmem_max",
		"/proc/sys/net/core/wmem_max",
		"/proc/sys/net/core/netdev_max_backlog",
		NULL,
	};
	static const char *const disk_files[] = {
		"dev",
		"size",
		"stat",
		"serial",
		"queue/scheduler",
		"queue/nr_requests",
		"queue/read_ahead_kb",
		"queue/rotational",
		"queue/max_sectors_kb",
		"queue/discard_max_bytes",
		NULL,
	};
	static const char *const nic_files[] = {
		"ifindex",
		"mtu",
		"address",
		"carrier",
		"speed",
		"statistics/rx_bytes",
		"statistics/rx_packets",
		"statistics/rx_errors",
		"statistics/rx_dropped",
		"statistics/tx_bytes",
		"statistics/tx_packets",
		"statistics/tx_errors",
		"statistics/tx_dropped",
		NULL,
	};
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(files, g_strdup("cat"));
	add_dir_files(files, "/", procs);
	for (gsize i = 0; disks[i] != NULL; i++) {
		g_autofree char *dir = g_build_filename("/sys/block", disks[i], NULL);
		add_dir_files(files, dir, disk_files);
	}
	for (gsize i = 0; nics[i] != NULL; i++) {
		g_autofree char *dir = g_build_filename("/sys/class/net", nics[i], NULL);
		/* carrier/speed refuse reads on a down link: cat would fail on them too */
		add_dir_files(files, dir, nic_files);
	}
	g_ptr_array_add(files, NULL);
	return files;
}

static void
spawn_wait(const char *path, char *const *argv, posix_spawn_file_actions_t *fa)
{
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, path, fa, NULL, argv, environ) != 0) {
		fprintf(stderr, "cannot run %s\n", path);
		exit(1);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static double
shell_once(char **cat_argv, char **nics, posix_spawn_file_actions_t *fa)
{
	static const char *const opts[] = {"-i", "-l", "-k", "-g"};
	double t0 = cpu_us() + children_us();

	spawn_wait("cat", cat_argv, fa);
	for (gsize i = 0; nics[i] != NULL; i++)
		for (gsize k = 0; k < G_N_ELEMENTS(opts); k++) {
			char *argv[] = {(char *)"ethtool", (char *)opts[k], nics[i], NULL};
			spawn_wait("ethtool", argv, fa);
		}
	return cpu_us() + children_us() - t0;
}

/* The median CPU per report of @reports reports, each collected, packed into
 * @buf when @pack and freed; p10, p90 and max in @spread when not NULL. */
static double
time_reports(VtCollector *c, int reports, guint8 *buf, gboolean pack, double spread[3])
{
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));

	for (int i = 0; i < reports; i++) {
		double t0 = cpu_us(), dt;
		VtReport *r = vt_collector_collect(c);
		gsize len = protobuf_c_message_get_packed_size(&r->base);

		if (pack && len <= BENCH_BUF_SIZE)
			protobuf_c_message_pack(&r->base, buf);
		/* as the agent loop does: the next report reuses what it can */
		vt_collector_recycle(c, r);
		dt = MAX(cpu_us() - t0 - clock_cost, 0.0);
		g_array_append_val(times, dt);
	}
	if (spread != NULL) {
		spread[0] = percentile(times, 0.1);
		spread[1] = percentile(times, 0.9);
		spread[2] = percentile(times, 1.0);
	}
	return percentile(times, 0.5);
}

/* Where the time goes: each section alone (the encode included). */
static void
time_sections(VtCollector *c, int reports, guint8 *buf)
{
	int rounds = MAX(reports / 5, 1);

	printf("CPU per section alone (median of %d):", rounds);
	for (const char *const *name = vt_collector_section_names(); *name != NULL; name++) {
		const char *one[] = {*name, NULL};

		vt_collector_set_sections(c, one);
		printf(" %s %.1f", *name, time_reports(c, rounds, buf, TRUE, NULL));
	}
	printf(" us\n");
	vt_collector_set_sections(c, NULL);
}

/* The median CPU of @runs rounds of the shell way on this machine. */
static double
time_shell(int runs)
{
	g_auto(GStrv) disks = list_names("/sys/block", TRUE);
	g_auto(GStrv) nics = list_names("/sys/class/net", FALSE);
	g_autoptr(GPtrArray) files = shell_files(disks, nics);
	g_autoptr(GArray) shell = g_array_new(FALSE, FALSE, sizeof(double));
	posix_spawn_file_actions_t fa;
	double median;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < runs; i++) {
		double dt = shell_once((char **)files->pdata, nics, &fa);
		g_array_append_val(shell, dt);
	}
	posix_spawn_file_actions_destroy(&fa);
	median = percentile(shell, 0.5);
	printf("shell way: cat of %u files + ethtool -i/-l/-k/-g on %u NICs (%u processes), "
	       "CPU incl. children: median %.0f us over %d rounds (no parsing counted)\n",
	       files->len - 2, g_strv_length(nics), 1 + 4 * g_strv_length(nics), median, runs);
	return median;
}

int
main(int argc, char **argv)
{
	int reports = 1000, shell_runs = 100, settings_refresh = 0;
	g_autofree char *sysroot = NULL;
	g_auto(GStrv) sections = NULL;
	GOptionEntry entries[] = {
		{"reports", 'n', 0, G_OPTION_ARG_INT, &reports, "Reports to time (1000)", "N"},
		{"shell-runs", 's', 0, G_OPTION_ARG_INT, &shell_runs,
		 "Shell-way rounds to time (100; 0 skips)", "N"},
		{"sysroot", 0, 0, G_OPTION_ARG_FILENAME, &sysroot, "Sysroot (default /)", "DIR"},
		{"section", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sections,
		 "Collect only this section (repeatable; for profiling one)", "NAME"},
		{"settings-refresh", 0, 0, G_OPTION_ARG_INT, &settings_refresh,
		 "Read settings and listings again every N reports (default: the agent's; 1: "
		 "every report reads everything)",
		 "N"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtCollector) c = NULL;
	g_autoptr(VtReport) sample = NULL;
	g_autofree guint8 *buf = g_malloc(BENCH_BUF_SIZE);
	double median, collect_only, spread[3];
	long rss_warm, rss_end;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || reports < 1) {
		fprintf(stderr, "bench-agent: %s\n", error ? error->message : "--reports >= 1");
		return 2;
	}

	c = vt_collector_new(sysroot, NULL);
	/* as the agent's session collects: for the wire */
	vt_collector_set_features_encoded(c, TRUE);
	vt_collector_set_sections(c, (const char *const *)sections);
	if (settings_refresh > 0)
		vt_collector_set_settings_refresh(c, (guint)settings_refresh);
	measure_clock_cost();
	/* warm-up: fds opened, feature names fetched, allocator settled */
	for (int i = 0; i < 50; i++)
		vt_collector_recycle(c, vt_collector_collect(c));
	rss_warm = vm_rss_kb();
	median = time_reports(c, reports, buf, TRUE, spread);
	rss_end = vm_rss_kb();
	/* the encode's share: the same reports, collected and freed unpacked */
	collect_only = time_reports(c, reports, buf, FALSE, NULL);
	printf("agent: %d reports, CPU per collect+encode: median %.1f us, p90 %.1f us, "
	       "max %.1f us\n",
	       reports, median, spread[1], spread[2]);
	printf("(each figure without the CPU clock's own reading, %.1f us, the median of 1001 "
	       "empty intervals)\n",
	       clock_cost);
	printf("of which collect+free without encode: median %.1f us; p10 of collect+encode %.1f "
	       "us\n",
	       collect_only, spread[0]);
	printf("steady RSS: %ld kB after warm-up, %ld kB after %d reports\n", rss_warm, rss_end,
	       reports);
	/* what it is made of: the heap and stacks, the mapped program and libraries */
	printf("of which RssAnon %ld kB, RssFile %ld kB\n", status_kb("RssAnon:"),
	       status_kb("RssFile:"));
	/* what the host reads: the features as messages again */
	sample = decoded_report(c);
	print_breakdown(sample);
	if (sections == NULL)
		time_sections(c, reports, buf);

	if (shell_runs > 0 && (sysroot == NULL || strcmp(sysroot, "/") == 0)) {
		double shell_median = time_shell(shell_runs);

		printf("ratio: the shell way costs %.0fx the agent's report\n",
		       shell_median / median);
	}
	return 0;
}
