/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's own /proc and /sys: CPUs, memory, swap, sysctls, THP, KSM. */
#include "host-system.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "capabilities.h"

static const char *const sysctl_names[VT_HOST_SYSCTL_N] = {
	[VT_HOST_SWAPPINESS] = "vm.swappiness",
	[VT_HOST_DIRTY_RATIO] = "vm.dirty_ratio",
	[VT_HOST_DIRTY_BACKGROUND_RATIO] = "vm.dirty_background_ratio",
	[VT_HOST_DIRTY_BYTES] = "vm.dirty_bytes",
	[VT_HOST_DIRTY_BACKGROUND_BYTES] = "vm.dirty_background_bytes",
};

const char *
vt_host_sysctl_name(VtHostSysctl key)
{
	return key < VT_HOST_SYSCTL_N ? sysctl_names[key] : NULL;
}

static void
note_missing(VtHostSystem *sys, const char *rel, int err)
{
	if (sys->missing->len < VT_HOST_MAX_MISSING)
		g_ptr_array_add(sys->missing, g_strdup_printf("%s: %s", rel, g_strerror(err)));
}

/* @rel (no leading '/') under @sysroot, at most VT_HOST_TEXT_MAX - 1 bytes. */
static char *
read_text(VtHostSystem *sys, const char *sysroot, const char *rel)
{
	g_autofree char *path = g_build_filename(sysroot ? sysroot : "/", rel, NULL);
	g_autofree char *buf = g_malloc(VT_HOST_TEXT_MAX);
	gsize len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		if (sys != NULL)
			note_missing(sys, rel, errno);
		return NULL;
	}
	while (len < VT_HOST_TEXT_MAX - 1) {
		ssize_t n = read(fd, buf + len, VT_HOST_TEXT_MAX - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	buf[len] = '\0';
	for (gsize i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return g_steal_pointer(&buf);
}

static gboolean
parse_u64(const char *text, guint64 *out)
{
	char *end = NULL;
	guint64 v;

	while (*text == ' ' || *text == '\t')
		text++;
	if (!g_ascii_isdigit(*text))
		return FALSE;
	errno = 0;
	v = g_ascii_strtoull(text, &end, 10);
	if (errno != 0 || end == text)
		return FALSE;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end != '\0' && strncmp(end, "kB", 2) != 0)
		return FALSE;
	*out = v;
	return TRUE;
}

/* "KEY:   123 kB" or "key 123" lines: the value of @key, or FALSE. */
static gboolean
line_value(const char *text, const char *key, char sep, guint64 *out)
{
	gsize klen = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		g_autofree char *line = nl ? g_strndup(p, (gsize)(nl - p)) : g_strdup(p);

		if (strncmp(line, key, klen) == 0 && line[klen] == sep)
			return parse_u64(line + klen + 1, out);
		p = nl ? nl + 1 : NULL;
	}
	return FALSE;
}

static void
read_meminfo(VtHostSystem *sys, const char *sysroot)
{
	g_autofree char *text = read_text(sys, sysroot, "proc/meminfo");
	guint64 total = 0, avail = 0, swap_total = 0, swap_free = 0;

	if (text == NULL)
		return;
	sys->has_mem_total = line_value(text, "MemTotal", ':', &total);
	sys->has_mem_available = line_value(text, "MemAvailable", ':', &avail);
	sys->has_swap = line_value(text, "SwapTotal", ':', &swap_total) &&
			line_value(text, "SwapFree", ':', &swap_free);
	/* kB in /proc/meminfo; beyond 2^54 kB is no real machine */
	sys->mem_total_bytes = MIN(total, G_MAXUINT64 / 1024) * 1024;
	sys->mem_available_bytes = MIN(avail, G_MAXUINT64 / 1024) * 1024;
	sys->swap_total_bytes = MIN(swap_total, G_MAXUINT64 / 1024) * 1024;
	sys->swap_free_bytes = MIN(swap_free, G_MAXUINT64 / 1024) * 1024;
}

static void
read_vmstat(VtHostSystem *sys, const char *sysroot)
{
	g_autofree char *text = read_text(sys, sysroot, "proc/vmstat");

	if (text == NULL)
		return;
	sys->has_swap_counters = line_value(text, "pswpin", ' ', &sys->pswpin) &&
				 line_value(text, "pswpout", ' ', &sys->pswpout);
	sys->has_oom_kills = line_value(text, "oom_kill", ' ', &sys->oom_kills);
}

/* One number in a file of its own (a sysctl, a sysfs attribute). */
static gboolean
read_number(VtHostSystem *sys, const char *sysroot, const char *rel, guint64 *out)
{
	g_autofree char *text = read_text(sys, sysroot, rel);

	return text != NULL && parse_u64(text, out);
}

static void
read_sysctls(VtHostSystem *sys, const char *sysroot)
{
	for (guint k = 0; k < VT_HOST_SYSCTL_N; k++) {
		g_autofree char *rel = g_strconcat("proc/sys/", sysctl_names[k], NULL);

		g_strdelimit(rel + strlen("proc/sys/"), ".", '/');
		sys->has_sysctl[k] = read_number(sys, sysroot, rel, &sys->sysctl[k]);
	}
}

/* "always [madvise] never": the bracketed word. */
static void
read_thp(VtHostSystem *sys, const char *sysroot)
{
	g_autofree char *text =
		read_text(sys, sysroot, "sys/kernel/mm/transparent_hugepage/enabled");
	const char *open, *close;

	if (text == NULL || (open = strchr(text, '[')) == NULL ||
	    (close = strchr(open, ']')) == NULL || close - open - 1 >= (int)sizeof(sys->thp))
		return;
	for (const char *p = open + 1; p < close; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return;
	memcpy(sys->thp, open + 1, (gsize)(close - open - 1));
	sys->thp[close - open - 1] = '\0';
}

/* Physical cores: the online CPUs' distinct sibling sets (SMT threads share one). */
static void
read_cores(VtHostSystem *sys, const char *sysroot, const guint8 *online)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < VT_CPUSET_MAX; i++) {
		g_autofree char *rel = NULL;
		g_autofree char *text = NULL;

		if (!(online[i / 8] & (1u << (i % 8))))
			continue;
		rel = g_strdup_printf("sys/devices/system/cpu/cpu%u/topology/thread_siblings_list",
				      i);
		/* not counted as missing: containers and old kernels lack topology */
		if ((text = read_text(NULL, sysroot, rel)) == NULL)
			return;
		g_hash_table_add(seen, g_strdup(g_strstrip(text)));
	}
	sys->cores = g_hash_table_size(seen);
	sys->has_cores = sys->cores > 0;
}

static void
read_cpus(VtHostSystem *sys, const char *sysroot)
{
	g_autofree char *text = read_text(sys, sysroot, "sys/devices/system/cpu/online");
	guint8 bits[VT_CPUSET_MAX / 8];
	guint n = 0;

	if (text == NULL || !vt_cpuset_parse(g_strstrip(text), bits))
		return;
	for (guint i = 0; i < VT_CPUSET_MAX; i++)
		n += (bits[i / 8] >> (i % 8)) & 1u;
	sys->has_cpus = n > 0;
	sys->cpus_online = n;
	if (n > 0)
		read_cores(sys, sysroot, bits);
}

VtHostSystem *
vt_host_system_read(const char *sysroot)
{
	VtHostSystem *sys = g_new0(VtHostSystem, 1);
	guint64 run = 0;

	sys->missing = g_ptr_array_new_with_free_func(g_free);
	read_cpus(sys, sysroot);
	read_meminfo(sys, sysroot);
	read_vmstat(sys, sysroot);
	read_sysctls(sys, sysroot);
	read_thp(sys, sysroot);
	if (read_number(sys, sysroot, "sys/kernel/mm/ksm/run", &run) && run <= 2) {
		sys->has_ksm = TRUE;
		sys->ksm_run = (guint)run;
		sys->has_ksm_sharing = read_number(sys, sysroot, "sys/kernel/mm/ksm/pages_sharing",
						   &sys->ksm_pages_sharing);
	}
	return sys;
}

void
vt_host_system_free(VtHostSystem *sys)
{
	if (sys == NULL)
		return;
	g_ptr_array_unref(sys->missing);
	g_free(sys);
}
