/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain XML parser: GMarkup callbacks that fill a VtDomainFacts. */
#include <errno.h>
#include <string.h>

#include "domain.h"
#include "error.h"

/* ------------------------------------------------------------ numbers */

static gboolean
parse_uint(const char *text, guint64 max, guint64 *out)
{
	char *end = NULL;
	guint64 v;

	if (text == NULL)
		return FALSE;
	while (g_ascii_isspace(*text))
		text++;
	/* libvirt writes decimal; it also accepts 0x for PCI addresses */
	if (!g_ascii_isdigit(*text))
		return FALSE;
	errno = 0;
	v = g_ascii_strtoull(text, &end, 0);
	if (errno != 0 || end == text)
		return FALSE;
	while (g_ascii_isspace(*end))
		end++;
	if (*end != '\0' || v > max)
		return FALSE;
	*out = v;
	return TRUE;
}

gboolean
vt_parse_memory_amount(const char *text, const char *unit, guint64 *bytes, GError **error)
{
	guint64 scale = 0, v;
	int power = -1;

	/* libvirt's virScaleInteger: "b"/"bytes"; otherwise a letter, alone or
	 * followed by "iB" (powers of 1024), or followed by "B" (powers of 1000);
	 * case-insensitive; no unit means KiB */
	if (unit == NULL)
		unit = "KiB";
	if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0) {
		scale = 1;
	} else if (unit[0] != '\0') {
		const char *letters = "kmgtpe";
		const char *pos = strchr(letters, g_ascii_tolower(unit[0]));
		guint64 base = 0;

		if (pos != NULL)
			power = (int)(pos - letters) + 1;
		if (unit[1] == '\0' || g_ascii_strcasecmp(unit + 1, "iB") == 0)
			base = 1024;
		else if (g_ascii_strcasecmp(unit + 1, "B") == 0)
			base = 1000;
		if (power > 0 && base != 0)
			for (scale = 1; power > 0; power--)
				scale *= base;
	}
	if (scale == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "unknown memory unit '%s'", unit);
		return FALSE;
	}
	if (!parse_uint(text, G_MAXUINT64, &v)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "'%s' is not a memory amount",
			    text ? text : "");
		return FALSE;
	}
	if (v > G_MAXUINT64 / scale) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "memory amount %s %s overflows",
			    text, unit);
		return FALSE;
	}
	*bytes = v * scale;
	return TRUE;
}

/* ------------------------------------------------------------ parser */

typedef struct {
	VtDomainFacts *facts;
	GString *path; /* "domain/devices/disk" */
	gsize path_len[VT_DOMAIN_XML_MAX_DEPTH];
	guint depth;
	guint elements;
	GString *text;
	char *memory_unit;
	char *current_unit;
	gboolean have_current;
	VtDiskFacts *disk;
	VtIfaceFacts *iface;
	VtChannelFacts *channel;
	gboolean in_balloon;
	char *arch; /* os/type@arch; NULL: the host's */
} VtXmlState;

static const char *
attr(const char **names, const char **values, const char *name)
{
	for (guint i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

static char *
attr_dup(const char **names, const char **values, const char *name)
{
	return g_strdup(attr(names, values, name));
}

static gboolean
attr_uint(const char **names, const char **values, const char *element, const char *name, guint max,
	  guint *out, GError **error)
{
	const char *v = attr(names, values, name);
	guint64 n;

	if (v == NULL)
		return TRUE;
	if (!parse_uint(v, max, &n)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "<%s %s='%s'>: not a number between 0 and %u", element, name, v, max);
		return FALSE;
	}
	*out = (guint)n;
	return TRUE;
}

/* Is the element stack, from the root, exactly @path ("domain/devices/disk")? */
static gboolean
at(const VtXmlState *s, const char *path)
{
	return strcmp(s->path->str, path) == 0;
}

static gboolean
parse_address(const char **n, const char **v, VtDeviceAddress *a, GError **error)
{
	g_free(a->type);
	a->type = attr_dup(n, v, "type");
	return attr_uint(n, v, "address", "domain", 0xffff, &a->domain, error) &&
	       attr_uint(n, v, "address", "bus", 0xff, &a->bus, error) &&
	       attr_uint(n, v, "address", "slot", 0x1f, &a->slot, error) &&
	       attr_uint(n, v, "address", "function", 0x7, &a->function, error) &&
	       attr_uint(n, v, "address", "controller", 0xffff, &a->controller, error) &&
	       attr_uint(n, v, "address", "target", 0xffff, &a->target, error) &&
	       attr_uint(n, v, "address", "unit", 0xffff, &a->unit, error);
}

static void
replace(char **field, const char *value)
{
	if (value == NULL)
		return;
	g_free(*field);
	*field = g_strdup(value);
}

/* <domain>'s own elements: type, vCPUs, memory, CPU and NUMA tuning. */
static void
start_domain(VtXmlState *s, const char **n, const char **v, GError **error)
{
	VtDomainFacts *f = s->facts;

	if (at(s, "domain")) {
		replace(&f->type, attr(n, v, "type"));
	} else if (at(s, "domain/os/type")) {
		replace(&s->arch, attr(n, v, "arch"));
	} else if (at(s, "domain/vcpu")) {
		guint cur = 0;
		if (!attr_uint(n, v, "vcpu", "current", 16384, &cur, error))
			return;
		f->vcpus_current = cur;
	} else if (at(s, "domain/memory")) {
		replace(&s->memory_unit, attr(n, v, "unit"));
	} else if (at(s, "domain/currentMemory")) {
		replace(&s->current_unit, attr(n, v, "unit"));
	} else if (at(s, "domain/memoryBacking/hugepages")) {
		f->hugepages = TRUE;
	} else if (at(s, "domain/cpu")) {
		/* libvirt's default mode when <cpu> has none is custom */
		replace(&f->cpu_mode, attr(n, v, "mode") ? attr(n, v, "mode") : "custom");
	} else if (at(s, "domain/cpu/numa/cell")) {
		f->numa_cells++;
	} else if (at(s, "domain/cputune/vcpupin")) {
		const char *cpuset = attr(n, v, "cpuset");
		f->vcpupins++;
		if (cpuset != NULL) {
			char *joined = f->vcpupin_cpusets == NULL
					       ? g_strdup(cpuset)
					       : g_strconcat(f->vcpupin_cpusets, ",", cpuset, NULL);
			g_free(f->vcpupin_cpusets);
			f->vcpupin_cpusets = joined;
		}
	} else if (at(s, "domain/cputune/emulatorpin")) {
		f->has_emulatorpin = TRUE;
		replace(&f->emulatorpin_cpuset, attr(n, v, "cpuset"));
	} else if (at(s, "domain/numatune")) {
		f->has_numatune = TRUE;
	} else if (at(s, "domain/numatune/memory")) {
		replace(&f->numatune_mode, attr(n, v, "mode") ? attr(n, v, "mode") : "strict");
		replace(&f->numatune_nodeset, attr(n, v, "nodeset"));
	}
}

/* <backingStore type='file'> nested under a disk, one level per layer; an
 * empty <backingStore/> ends the chain. */
static void
start_backing(VtXmlState *s, const char **n, const char **v)
{
	const char *last = strrchr(s->path->str, '/') + 1;
	guint depth = 0;

	for (const char *p = strstr(s->path->str, "/backingStore"); p != NULL;
	     p = strstr(p + 1, "/backingStore"))
		depth++;
	if (strcmp(last, "backingStore") == 0 && attr(n, v, "type") != NULL)
		s->disk->backing_depth = MAX(s->disk->backing_depth, depth);
	else if (depth == 1 && at(s, "domain/devices/disk/backingStore/format"))
		replace(&s->disk->backing_format, attr(n, v, "type"));
}

static void
start_disk(VtXmlState *s, const char **n, const char **v, GError **error)
{
	VtDomainFacts *f = s->facts;

	if (at(s, "domain/devices/disk")) {
		if (f->disks->len >= VT_DOMAIN_MAX_DISKS) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "more than %u <disk>s",
				    VT_DOMAIN_MAX_DISKS);
			return;
		}
		s->disk = g_new0(VtDiskFacts, 1);
		s->disk->type = attr_dup(n, v, "type");
		s->disk->device = g_strdup(attr(n, v, "device") ? attr(n, v, "device") : "disk");
		g_ptr_array_add(f->disks, s->disk);
	} else if (s->disk == NULL) {
		return;
	} else if (at(s, "domain/devices/disk/driver")) {
		replace(&s->disk->driver_name, attr(n, v, "name"));
		replace(&s->disk->format, attr(n, v, "type"));
		replace(&s->disk->cache, attr(n, v, "cache"));
		replace(&s->disk->io, attr(n, v, "io"));
		attr_uint(n, v, "driver", "iothread", 0xffff, &s->disk->iothread, error);
	} else if (at(s, "domain/devices/disk/target")) {
		replace(&s->disk->target_dev, attr(n, v, "dev"));
		replace(&s->disk->bus, attr(n, v, "bus"));
	} else if (at(s, "domain/devices/disk/source")) {
		const char *src = attr(n, v, "file");
		if (src == NULL)
			src = attr(n, v, "dev");
		if (src == NULL)
			src = attr(n, v, "name");
		if (src == NULL && attr(n, v, "volume") != NULL) {
			g_free(s->disk->source);
			s->disk->source = g_strdup_printf(
				"%s/%s", attr(n, v, "pool") ? attr(n, v, "pool") : "",
				attr(n, v, "volume"));
		}
		replace(&s->disk->source, src);
	} else if (at(s, "domain/devices/disk/readonly")) {
		s->disk->readonly = TRUE;
	} else if (at(s, "domain/devices/disk/shareable")) {
		s->disk->shareable = TRUE;
	} else if (at(s, "domain/devices/disk/address")) {
		parse_address(n, v, &s->disk->address, error);
	} else if (g_str_has_prefix(s->path->str, "domain/devices/disk/backingStore")) {
		start_backing(s, n, v);
	}
}

static void
start_iface(VtXmlState *s, const char **n, const char **v, GError **error)
{
	VtDomainFacts *f = s->facts;

	if (at(s, "domain/devices/interface")) {
		if (f->ifaces->len >= VT_DOMAIN_MAX_IFACES) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
				    "more than %u <interface>s", VT_DOMAIN_MAX_IFACES);
			return;
		}
		s->iface = g_new0(VtIfaceFacts, 1);
		s->iface->type = attr_dup(n, v, "type");
		g_ptr_array_add(f->ifaces, s->iface);
	} else if (s->iface == NULL) {
		return;
	} else if (at(s, "domain/devices/interface/mac")) {
		const char *mac = attr(n, v, "address");
		if (mac != NULL) {
			g_free(s->iface->mac);
			s->iface->mac = g_ascii_strdown(mac, -1);
		}
	} else if (at(s, "domain/devices/interface/model")) {
		/* libvirt matches a NIC model case-insensitively
		 * (virDomainNetModelTypeFromString uses STRCASEEQ) and writes the
		 * known ones back in lower case, as virsh dumpxml shows them */
		const char *model = attr(n, v, "type");
		g_free(s->iface->model);
		s->iface->model = model ? g_ascii_strdown(model, -1) : NULL;
	} else if (at(s, "domain/devices/interface/driver")) {
		replace(&s->iface->driver_name, attr(n, v, "name"));
		attr_uint(n, v, "driver", "queues", 1024, &s->iface->queues, error);
	} else if (at(s, "domain/devices/interface/target")) {
		replace(&s->iface->target_dev, attr(n, v, "dev"));
	} else if (at(s, "domain/devices/interface/source")) {
		const char *src = attr(n, v, "bridge");
		if (src == NULL)
			src = attr(n, v, "network");
		if (src == NULL)
			src = attr(n, v, "dev");
		replace(&s->iface->source, src);
	} else if (at(s, "domain/devices/interface/address")) {
		parse_address(n, v, &s->iface->address, error);
	} else if (at(s, "domain/devices/interface/mtu")) {
		attr_uint(n, v, "mtu", "size", 65535 + 1, &s->iface->mtu, error);
	}
}

/* The other devices: channels, controllers, the balloon. */
static void
start_device(VtXmlState *s, const char **n, const char **v, GError **error)
{
	VtDomainFacts *f = s->facts;

	if (at(s, "domain/devices/channel")) {
		if (f->channels->len >= VT_DOMAIN_MAX_CHANNELS) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "more than %u <channel>s",
				    VT_DOMAIN_MAX_CHANNELS);
			return;
		}
		s->channel = g_new0(VtChannelFacts, 1);
		s->channel->type = attr_dup(n, v, "type");
		g_ptr_array_add(f->channels, s->channel);
	} else if (s->channel != NULL && at(s, "domain/devices/channel/source")) {
		replace(&s->channel->source_mode, attr(n, v, "mode"));
		replace(&s->channel->source_path, attr(n, v, "path"));
	} else if (s->channel != NULL && at(s, "domain/devices/channel/target")) {
		replace(&s->channel->target_type, attr(n, v, "type"));
		replace(&s->channel->target_name, attr(n, v, "name"));
		replace(&s->channel->target_state, attr(n, v, "state"));
	} else if (at(s, "domain/devices/controller")) {
		VtControllerFacts *c;
		if (f->controllers->len >= VT_DOMAIN_MAX_DISKS) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
				    "more than %u <controller>s", VT_DOMAIN_MAX_DISKS);
			return;
		}
		c = g_new0(VtControllerFacts, 1);
		g_ptr_array_add(f->controllers, c);
		c->type = attr_dup(n, v, "type");
		c->model = attr_dup(n, v, "model");
		attr_uint(n, v, "controller", "index", 0xffff, &c->index, error);
	} else if (at(s, "domain/devices/memballoon")) {
		replace(&f->balloon_model, attr(n, v, "model"));
		s->in_balloon = TRUE;
	} else if (s->in_balloon && at(s, "domain/devices/memballoon/stats")) {
		attr_uint(n, v, "stats", "period", G_MAXINT, &f->balloon_period, error);
	}
}

/* Each element goes to the one function that knows its path. */
static const struct {
	const char *prefix;
	void (*start)(VtXmlState *s, const char **n, const char **v, GError **error);
} starts[] = {
	{"domain/devices/disk", start_disk},
	{"domain/devices/interface", start_iface},
	{"domain/devices/", start_device},
	{"domain", start_domain},
};

static void
on_start(GMarkupParseContext *ctx, const char *element, const char **n, const char **v,
	 gpointer user_data, GError **error)
{
	VtXmlState *s = user_data;

	if (s->depth >= VT_DOMAIN_XML_MAX_DEPTH) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "<%s>: elements nested deeper than %u", element,
			    VT_DOMAIN_XML_MAX_DEPTH);
		return;
	}
	if (++s->elements > VT_DOMAIN_MAX_ELEMENTS) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "more than %u elements",
			    VT_DOMAIN_MAX_ELEMENTS);
		return;
	}
	if (s->depth == 0 && strcmp(element, "domain") != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "root element is <%s>, not <domain>",
			    element);
		return;
	}
	s->path_len[s->depth++] = s->path->len;
	if (s->path->len > 0)
		g_string_append_c(s->path, '/');
	g_string_append(s->path, element);
	g_string_truncate(s->text, 0);

	for (guint i = 0; i < G_N_ELEMENTS(starts); i++)
		if (g_str_has_prefix(s->path->str, starts[i].prefix)) {
			starts[i].start(s, n, v, error);
			return;
		}
}

static gboolean
text_uint(const VtXmlState *s, const char *element, guint max, guint *out, GError **error)
{
	guint64 n;

	if (!parse_uint(s->text->str, max, &n)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "<%s>: '%s' is not a number between 0 and %u", element, s->text->str,
			    max);
		return FALSE;
	}
	*out = (guint)n;
	return TRUE;
}

static void
on_end(GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
	VtXmlState *s = user_data;
	VtDomainFacts *f = s->facts;
	g_autoptr(GError) local = NULL;
	char *text = g_strstrip(s->text->str);

	g_string_set_size(s->text, strlen(text) + (gsize)(text - s->text->str));
	if (at(s, "domain/name")) {
		replace(&f->name, text);
	} else if (at(s, "domain/uuid")) {
		replace(&f->uuid, text);
	} else if (at(s, "domain/vcpu")) {
		if (!text_uint(s, "vcpu", 16384, &f->vcpus_max, error))
			return;
	} else if (at(s, "domain/memory")) {
		if (!vt_parse_memory_amount(text, s->memory_unit, &f->memory_bytes, &local)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "<memory>: %s",
				    local->message);
			return;
		}
	} else if (at(s, "domain/currentMemory")) {
		if (!vt_parse_memory_amount(text, s->current_unit, &f->current_memory_bytes,
					    &local)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "<currentMemory>: %s",
				    local->message);
			return;
		}
		s->have_current = TRUE;
	} else if (at(s, "domain/iothreads")) {
		if (!text_uint(s, "iothreads", 0xffff, &f->iothreads, error))
			return;
	} else if (at(s, "domain/cpu/model")) {
		replace(&f->cpu_model, text);
	} else if (s->disk != NULL && at(s, "domain/devices/disk/serial")) {
		replace(&s->disk->serial, text);
	} else if (at(s, "domain/devices/disk")) {
		s->disk = NULL;
	} else if (at(s, "domain/devices/interface")) {
		s->iface = NULL;
	} else if (at(s, "domain/devices/channel")) {
		s->channel = NULL;
	} else if (at(s, "domain/devices/memballoon")) {
		s->in_balloon = FALSE;
	}
	g_string_truncate(s->text, 0);
	g_string_truncate(s->path, s->path_len[--s->depth]);
}

static void
on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data, GError **error)
{
	VtXmlState *s = user_data;

	if (s->text->len + len > VT_DOMAIN_MAX_TEXT) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "<%s>: text longer than %u bytes",
			    s->path->str, VT_DOMAIN_MAX_TEXT);
		return;
	}
	g_string_append_len(s->text, text, (gssize)len);
}

/* A disk without bus=, as libvirt's virDomainDiskDefPostParse
 * (src/conf/domain_postparse.c) completes it: floppy → fdc, else by the
 * target's prefix, hd → ide, sd → scsi (on q35 as well: libvirt does not pick
 * sata for sdX), vd → virtio, xvd → xen, ubd → uml; anything else stays
 * unknown. */
static const char *
default_disk_bus(const VtDiskFacts *d)
{
	static const struct {
		const char *prefix, *bus;
	} by_prefix[] = {
		{"hd", "ide"}, {"sd", "scsi"}, {"vd", "virtio"}, {"xvd", "xen"}, {"ubd", "uml"},
	};

	if (g_strcmp0(d->device, "floppy") == 0)
		return "fdc";
	for (gsize i = 0; d->target_dev != NULL && i < G_N_ELEMENTS(by_prefix); i++)
		if (g_str_has_prefix(d->target_dev, by_prefix[i].prefix))
			return by_prefix[i].bus;
	return NULL;
}

/*
 * What libvirt adds to the XML it was given, so that the facts read the same
 * from a hand-written file as from `virsh dumpxml`: disk buses, and the
 * virtio balloon that QEMU domains on x86 get when the XML has no
 * <memballoon> (qemuDomainDefAddDefaultDevices; model='none' turns it off).
 */
static void
apply_libvirt_defaults(VtDomainFacts *f, const char *arch)
{
	gboolean qemu = g_strcmp0(f->type, "kvm") == 0 || g_strcmp0(f->type, "qemu") == 0;
	gboolean x86 = arch == NULL || strcmp(arch, "x86_64") == 0 || strcmp(arch, "i686") == 0;

	for (guint i = 0; i < f->disks->len; i++) {
		VtDiskFacts *d = f->disks->pdata[i];
		if (d->bus == NULL)
			d->bus = g_strdup(default_disk_bus(d));
	}
	if (f->balloon_model == NULL && qemu && x86)
		f->balloon_model = g_strdup("virtio");
}

VtDomainFacts *
vt_domain_facts_parse(const char *xml, gssize len, GError **error)
{
	static const GMarkupParser parser = {
		.start_element = on_start,
		.end_element = on_end,
		.text = on_text,
	};
	g_autoptr(VtDomainFacts) facts = vt_domain_facts_new();
	g_autoptr(GMarkupParseContext) ctx = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GString) path = g_string_new(NULL);
	g_autoptr(GError) local = NULL;
	VtXmlState s = {.facts = facts, .text = text, .path = path};
	gsize size = len < 0 ? strlen(xml) : (gsize)len;

	if (size > VT_DOMAIN_XML_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "domain XML is %" G_GSIZE_FORMAT " bytes, more than %u", size,
			    VT_DOMAIN_XML_MAX);
		return NULL;
	}
	ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
	if (!g_markup_parse_context_parse(ctx, xml, (gssize)size, &local) ||
	    !g_markup_parse_context_end_parse(ctx, &local)) {
		gint line = 0, col = 0;

		g_markup_parse_context_get_position(ctx, &line, &col);
		g_free(s.memory_unit);
		g_free(s.current_unit);
		g_free(s.arch);
		g_set_error(error, VT_ERROR,
			    local->domain == VT_ERROR ? local->code : VT_ERROR_INVALID,
			    "domain XML line %d: %s", line, local->message);
		return NULL;
	}
	g_free(s.memory_unit);
	g_free(s.current_unit);
	if (s.elements == 0) {
		g_free(s.arch);
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "domain XML has no <domain>");
		return NULL;
	}
	apply_libvirt_defaults(facts, s.arch);
	g_free(s.arch);
	if (facts->vcpus_current == 0 || facts->vcpus_current > facts->vcpus_max)
		facts->vcpus_current = facts->vcpus_max;
	if (!s.have_current)
		facts->current_memory_bytes = facts->memory_bytes;
	return g_steal_pointer(&facts);
}
