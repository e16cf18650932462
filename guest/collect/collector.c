/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "collector-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

typedef struct {
	const char *name;
	VtCollectFunc collect;
} VtCollectorClass;

/* Report order; the names are the section names of the schema. */
static const VtCollectorClass vt_collectors[] = {
	{"identity", vt_collect_identity}, {"meminfo", vt_collect_meminfo},
	{"swap", vt_collect_swap},         {"vmstat", vt_collect_vmstat},
	{"sysctl", vt_collect_sysctl},     {"block", vt_collect_block},
	{"nics", vt_collect_nics},         {"cpu", vt_collect_cpu},
	{"pressure", vt_collect_pressure}, {"softnet", vt_collect_softnet},
};

#define ALL_SECTIONS ((1u << G_N_ELEMENTS(vt_collectors)) - 1u)

static void
note_free(VtNote *note)
{
	g_free(note->name);
	g_free(note->error);
	g_free(note);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtNote, note_free)

static void
feature_free(gpointer f)
{
	if (f != NULL)
		virttune__v1__feature__free_unpacked(f, NULL);
}

static void
meminfo_entry_free(gpointer e)
{
	if (e != NULL)
		protobuf_c_message_free_unpacked(e, NULL);
}

VtCollector *
vt_collector_new(const char *sysroot, const VtEthtoolOps *ops)
{
	VtCollector *c = g_new0(VtCollector, 1);

	c->sysroot = g_strdup(sysroot != NULL && *sysroot != '\0' ? sysroot : "/");
	/* Every read is relative to this fd; a missing sysroot shows up as each
	 * section's error rather than as a failure to start. */
	c->root_fd = vt_sysroot_open(c->sysroot);
	c->ops = ops;
	c->sections_mask = ALL_SECTIONS;
	c->current = "collector";
	c->meminfo = c->vmstat = c->swaps = c->stat = c->loadavg = c->uptime = c->online =
		c->hostname = c->os_release = (VtFile)VT_FILE_INIT;
	/* "name value\n": a name of at most ~40 letters, a value of at most 20 digits */
	c->vmstat.record_max = 96;
	for (guint i = 0; i < VT_SYSCTL_COUNT; i++)
		c->sysctl[i] = (VtFile)VT_FILE_INIT;
	for (guint i = 0; i < VT_PRESSURE_FILES; i++)
		c->pressure[i] = (VtFile)VT_FILE_INIT;
	c->softnet = c->interrupts = (VtFile)VT_FILE_INIT;
	vt_collector_set_settings_refresh(c, 0);
	c->notes = g_ptr_array_new_with_free_func((GDestroyNotify)note_free);
	c->feature_pool = g_ptr_array_new_with_free_func(feature_free);
	c->meminfo_pool = g_ptr_array_new_with_free_func(meminfo_entry_free);
	c->text = g_malloc(VT_PROC_TEXT_MAX);
	return c;
}

void
vt_collector_free(VtCollector *c)
{
	if (c == NULL)
		return;
	vt_collector_set_excluded(c, NULL);
	vt_ethtool_close(c->ethtool);
	vt_ethtool_monitor_close(c->monitor);
	vt_links_close(c->links);
	vt_uevent_monitor_close(c->uevents);
	vt_file_close(&c->meminfo);
	vt_file_close(&c->vmstat);
	vt_file_close(&c->swaps);
	vt_file_close(&c->stat);
	vt_file_close(&c->loadavg);
	vt_file_close(&c->uptime);
	vt_file_close(&c->online);
	vt_file_close(&c->hostname);
	vt_kept_clear(&c->hostname_kept);
	vt_file_close(&c->os_release);
	for (guint i = 0; i < VT_SYSCTL_COUNT; i++) {
		vt_file_close(&c->sysctl[i]);
		vt_kept_clear(&c->sysctl_kept[i]);
	}
	for (guint i = 0; i < VT_PRESSURE_FILES; i++)
		vt_file_close(&c->pressure[i]);
	vt_file_close(&c->softnet);
	vt_file_close(&c->interrupts);
	vt_queue_irqs_clear(c);
	for (guint i = 0; i < VT_DEVICES_N; i++)
		vt_device_list_clear(&c->devices[i]);
	g_ptr_array_unref(c->notes);
	g_ptr_array_unref(c->feature_pool);
	g_ptr_array_unref(c->meminfo_pool);
	g_free(c->boot_id);
	g_free(c->kernel_release);
	g_free(c->os_pretty_name);
	g_free(c->text);
	g_free(c->irq_text);
	vt_fd_close(c->root_fd);
	g_free(c->sysroot);
	g_free(c);
}

void
vt_collector_set_excluded(VtCollector *c, const char *const *globs)
{
	for (guint i = 0; i < c->n_excluded; i++)
		g_pattern_spec_free(c->excluded[i]);
	g_clear_pointer(&c->excluded, g_free);
	c->n_excluded = 0;
	c->settings_stale = TRUE; /* the devices are listed again */
	if (globs == NULL)
		return;
	c->n_excluded = g_strv_length((char **)globs);
	c->excluded = g_new0(GPatternSpec *, c->n_excluded);
	for (guint i = 0; i < c->n_excluded; i++)
		c->excluded[i] = g_pattern_spec_new(globs[i]);
}

gboolean
vt_collector_is_excluded(VtCollector *c, const char *name)
{
	for (guint i = 0; i < c->n_excluded; i++)
		if (g_pattern_match_string(c->excluded[i], name))
			return TRUE;
	return FALSE;
}

void
vt_collector_set_sections(VtCollector *c, const char *const *names)
{
	/* a section left out for a while has kept nothing worth trusting */
	c->settings_stale = TRUE;
	if (names == NULL) {
		c->sections_mask = ALL_SECTIONS;
		return;
	}
	c->sections_mask = 0;
	for (gsize i = 0; names[i] != NULL; i++)
		for (guint k = 0; k < G_N_ELEMENTS(vt_collectors); k++)
			if (strcmp(names[i], vt_collectors[k].name) == 0)
				c->sections_mask |= 1u << k;
}

void
vt_collector_set_settings_refresh(VtCollector *c, guint reports)
{
	if (reports == 0)
		/* a fixture sysroot's files are changed by hand between reports */
		reports = strcmp(c->sysroot, "/") == 0 ? VT_SETTINGS_REFRESH_REPORTS : 1u;
	c->settings_refresh = reports;
	c->settings_stale = TRUE;
}

void
vt_collector_set_features_encoded(VtCollector *c, gboolean encoded)
{
	c->features_encoded = encoded;
}

void
vt_collector_settings_changed(VtCollector *c)
{
	c->settings_stale = TRUE;
}

/* Whether this report may answer settings from their last read. */
static gboolean
settings_may_be_kept(VtCollector *c)
{
	if (c->settings_stale || ++c->settings_reports >= c->settings_refresh) {
		c->settings_stale = FALSE;
		c->settings_reports = 0;
		return FALSE;
	}
	return TRUE;
}

/* One poll for the sockets of both announcements: most reports find neither
 * readable, and read from neither. */
static void
poll_monitors(VtCollector *c)
{
	struct pollfd fds[2];
	nfds_t n = 0;

	c->uevents_ready = c->monitor_ready = TRUE;
	if (c->uevents != NULL)
		fds[n++] =
			(struct pollfd){.fd = vt_uevent_monitor_fd(c->uevents), .events = POLLIN};
	if (c->monitor != NULL)
		fds[n++] =
			(struct pollfd){.fd = vt_ethtool_monitor_fd(c->monitor), .events = POLLIN};
	if (n == 0 || poll(fds, n, 0) < 0)
		return;
	n = 0;
	/* POLLERR too: a queue that overflowed says so on the read */
	if (c->uevents != NULL)
		c->uevents_ready = fds[n++].revents != 0;
	if (c->monitor != NULL)
		c->monitor_ready = fds[n++].revents != 0;
}

/*
 * What the kernel announced since the last report (VtUeventFlags): the live
 * system only, with the kernel's group joined before the reads it vouches
 * for; everything where it is not. Drained on every report, so that what is
 * queued is only what is new.
 */
static guint
devices_changed(VtCollector *c)
{
	if (strcmp(c->sysroot, "/") != 0)
		return VT_UEVENT_ALL;
	if (!c->uevents_tried) {
		c->uevents_tried = TRUE;
		if (vt_uevent_monitor_open(&c->uevents) < 0)
			c->uevents = NULL;
		return VT_UEVENT_ALL;
	}
	if (c->uevents == NULL)
		return VT_UEVENT_ALL;
	return c->uevents_ready ? vt_uevent_monitor_changed(c->uevents) : 0;
}

void
vt_kept_clear(VtKept *kept)
{
	g_clear_pointer(&kept->text, g_free);
	kept->valid = FALSE;
}

void
vt_kept_set(VtKept *kept, int err, const char *text, gboolean truncated)
{
	/* most reads give what the last one did: nothing to copy then */
	if (kept->valid && kept->err == err && err == 0 && strcmp(kept->text, text) == 0) {
		kept->truncated = truncated;
		return;
	}
	vt_kept_clear(kept);
	kept->valid = TRUE;
	kept->err = err;
	kept->truncated = truncated;
	if (err == 0)
		kept->text = g_strdup(text);
}

gboolean
vt_kept_get(const VtCollector *c, const VtKept *kept, char *buf, gsize cap, int *err,
	    gboolean *truncated)
{
	if (!c->settings_kept || !kept->valid)
		return FALSE;
	*err = kept->err;
	*truncated = kept->truncated;
	if (kept->err == 0 && g_strlcpy(buf, kept->text, cap) >= cap)
		*truncated = TRUE;
	return TRUE;
}

const char *const *
vt_collector_section_names(void)
{
	static const char *const names[] = {"identity", "meminfo", "swap", "vmstat",
					    "sysctl",   "block",   "nics", "cpu",
					    "pressure", "softnet", NULL};
	G_STATIC_ASSERT(G_N_ELEMENTS(names) == G_N_ELEMENTS(vt_collectors) + 1);
	return names;
}

void
vt_collector_note(VtCollector *c, const char *name, const char *format, ...)
{
	g_autofree char *text = NULL;
	VtNote *note = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* One line per name: problems of one device or section are joined. */
	for (guint i = 0; i < c->notes->len && note == NULL; i++) {
		VtNote *n = g_ptr_array_index(c->notes, i);
		if (strcmp(n->name, name) == 0)
			note = n;
	}
	if (note != NULL) {
		/* past what a report string holds, more text is pointless */
		if (strlen(note->error) < VT_STRING_MAX) {
			char *joined = g_strconcat(note->error, "; ", text, NULL);
			g_free(note->error);
			note->error = joined;
		}
		return;
	}
	/* More names than fit in the report are counted, not kept. */
	if (c->notes->len > VT_REPORT_MAX_SECTIONS) {
		c->notes_dropped++;
		return;
	}
	note = g_new0(VtNote, 1);
	note->name = g_strdup(name);
	note->error = g_steal_pointer(&text);
	g_ptr_array_add(c->notes, note);
}

/* Removes and returns the note named @name, if any. */
static VtNote *
take_note(VtCollector *c, const char *name)
{
	for (guint i = 0; i < c->notes->len; i++) {
		VtNote *n = g_ptr_array_index(c->notes, i);
		if (strcmp(n->name, name) == 0)
			return g_ptr_array_steal_index(c->notes, i);
	}
	return NULL;
}

gboolean
vt_collector_read_text(VtCollector *c, VtFile *file, const char *path, gsize *len, GError **error)
{
	gboolean truncated = FALSE;
	int err = vt_file_read(file, c->root_fd, path, c->text, VT_PROC_TEXT_MAX, len, &truncated);

	if (err < 0) {
		vt_error_set_errno(error, -err, "/%s", path);
		return FALSE;
	}
	if (truncated)
		vt_collector_note(c, c->current, "/%s longer than %u bytes, the rest ignored", path,
				  VT_PROC_TEXT_MAX);
	return TRUE;
}

gboolean
vt_key_filter_add(VtKeyFilter *filter, const char *key)
{
	guint h = g_str_hash(key) & 1023u;
	guint64 bit = G_GUINT64_CONSTANT(1) << (h & 63u);
	gboolean seen = (filter->bits[h >> 6] & bit) != 0;

	filter->bits[h >> 6] |= bit;
	return seen;
}

VtEthtool *
vt_collector_ethtool(VtCollector *c)
{
	if (!c->ethtool_tried) {
		int err = vt_ethtool_open(c->ops, &c->ethtool);

		c->ethtool_tried = TRUE;
		if (err < 0)
			vt_collector_note(c, "nics", "ethtool: %s", g_strerror(-err));
	}
	return c->ethtool;
}

static VtSection *
section_new(const char *name, gboolean ok, const char *error)
{
	VtSection *s = g_new(VtSection, 1);

	virttune__v1__section__init(s);
	s->name = vt_report_string(name, -1, NULL);
	s->has_ok = TRUE;
	s->ok = ok;
	if (error != NULL)
		s->error = vt_report_string(error, -1, NULL);
	return s;
}

static guint64
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (guint64)ts.tv_sec * 1000u + (guint64)ts.tv_nsec / 1000000u;
}

VtReport *
vt_collector_collect(VtCollector *c)
{
	VtReport *report = g_new(VtReport, 1);
	guint room, changed;

	virttune__v1__report__init(report);
	report->has_collected_at_ms = TRUE;
	report->collected_at_ms = clock_ms(CLOCK_REALTIME);
	report->has_monotonic_ms = TRUE;
	report->monotonic_ms = clock_ms(CLOCK_MONOTONIC);
	g_ptr_array_set_size(c->notes, 0);
	c->notes_dropped = 0;
	c->vmstat_read = FALSE;
	c->settings_kept = settings_may_be_kept(c);
	/* read again with the settings, and when the kernel announces a change */
	poll_monitors(c);
	changed = devices_changed(c);
	c->listings_kept = c->settings_kept && !(changed & VT_UEVENT_DEVICES);
	c->sizes_kept = c->listings_kept && !(changed & VT_UEVENT_BLOCK_CHANGE);
	c->online_kept = c->settings_kept && !(changed & VT_UEVENT_CPU);

	for (guint k = 0; k < G_N_ELEMENTS(vt_collectors); k++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *text = NULL;
		g_autoptr(VtNote) note = NULL;
		gboolean ok;

		if (!(c->sections_mask & (1u << k)))
			continue;
		c->current = vt_collectors[k].name;
		if (c->root_fd < 0) {
			vt_error_set_errno(&error, -c->root_fd, "sysroot %s", c->sysroot);
			ok = FALSE;
		} else {
			ok = vt_collectors[k].collect(c, report, &error);
		}
		/* the section's own problems join its line: ok with warnings, or the failure */
		note = take_note(c, vt_collectors[k].name);
		if (!ok && note != NULL)
			text = g_strconcat(error->message, "; ", note->error, NULL);
		else if (!ok)
			text = g_strdup(error->message);
		else if (note != NULL)
			text = g_strdup(note->error);
		VT_APPEND(report->n_sections, report->sections,
			  section_new(vt_collectors[k].name, ok, text));
	}
	c->current = "collector";
	vt_queue_irqs_done(c);

	/* Per-device lines after the collectors' own, within the bound. */
	room = VT_REPORT_MAX_SECTIONS - (guint)report->n_sections;
	for (guint i = 0; i < c->notes->len && room > 0; i++, room--) {
		VtNote *note = g_ptr_array_index(c->notes, i);

		if (room == 1 && (i + 1 < c->notes->len || c->notes_dropped > 0)) {
			g_autofree char *text = g_strdup_printf(
				"%u more devices with problems than fit in the report",
				c->notes->len - i + c->notes_dropped);
			VT_APPEND(report->n_sections, report->sections,
				  section_new("more", FALSE, text));
			break;
		}
		VT_APPEND(report->n_sections, report->sections,
			  section_new(note->name, FALSE, note->error));
	}
	c->notes_dropped = 0;
	g_ptr_array_set_size(c->notes, 0);
	return report;
}

VtFeature *
vt_collector_feature(VtCollector *c, const char *name)
{
	VtFeature *f = NULL;
	char *old;

	if (c->feature_next < c->feature_pool->len)
		f = g_steal_pointer(&c->feature_pool->pdata[c->feature_next++]);
	if (f == NULL) {
		f = g_new(VtFeature, 1);
		virttune__v1__feature__init(f);
		f->name = g_strdup(name);
		return f;
	}
	old = f->name;
	virttune__v1__feature__init(f);
	if (old != NULL && strcmp(old, name) == 0) {
		f->name = old;
	} else {
		g_free(old);
		f->name = g_strdup(name);
	}
	return f;
}

VtReportMeminfoEntry *
vt_collector_meminfo_entry(VtCollector *c, const char *key)
{
	VtReportMeminfoEntry *e = NULL;
	char *old;

	if (c->meminfo_next < c->meminfo_pool->len)
		e = g_steal_pointer(&c->meminfo_pool->pdata[c->meminfo_next++]);
	if (e == NULL) {
		e = g_new(VtReportMeminfoEntry, 1);
		virttune__v1__report__meminfo_entry__init(e);
		e->key = g_strdup(key);
		return e;
	}
	old = e->key;
	virttune__v1__report__meminfo_entry__init(e);
	if (old != NULL && strcmp(old, key) == 0) {
		e->key = old;
	} else {
		g_free(old);
		e->key = g_strdup(key);
	}
	return e;
}

void
vt_collector_recycle(VtCollector *c, VtReport *report)
{
	if (report == NULL)
		return;
	g_ptr_array_set_size(c->meminfo_pool, 0);
	c->meminfo_next = 0;
	for (gsize i = 0; i < report->n_meminfo; i++) {
		if (c->meminfo_pool->len < VT_REPORT_MAX_MAP_ENTRIES)
			g_ptr_array_add(c->meminfo_pool, report->meminfo[i]);
		else
			meminfo_entry_free(report->meminfo[i]);
	}
	g_clear_pointer(&report->meminfo, g_free);
	report->n_meminfo = 0;
	/* what the last report did not take goes; this report's features stay */
	g_ptr_array_set_size(c->feature_pool, 0);
	c->feature_next = 0;
	for (gsize i = 0; i < report->n_nics; i++) {
		VtNic *nic = report->nics[i];

		for (gsize k = 0; k < nic->n_features; k++) {
			if (c->feature_pool->len < VT_FEATURE_POOL_MAX)
				g_ptr_array_add(c->feature_pool, nic->features[k]);
			else
				feature_free(nic->features[k]);
		}
		g_clear_pointer(&nic->features, g_free);
		nic->n_features = 0;
	}
	vt_report_free(report);
}
