/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's NUMA cells from the capabilities XML, and cpuset parsing. */
#include "capabilities.h"

#include <errno.h>
#include <string.h>

#include "domain.h"
#include "error.h"

#define CAPS_MAX_DEPTH    32u
#define CAPS_MAX_ELEMENTS (256u * 1024u) /* 8192 CPUs x a few elements each */

typedef struct {
	VtHostCaps *caps;
	GString *path;
	gsize path_len[CAPS_MAX_DEPTH];
	guint depth, elements;
	GString *text;
	char *memory_unit;
	VtNumaCell *cell;
} VtCapsState;

static void
cell_free(gpointer p)
{
	VtNumaCell *c = p;

	g_array_unref(c->cpus);
	g_free(c);
}

void
vt_host_caps_free(VtHostCaps *caps)
{
	if (caps == NULL)
		return;
	g_free(caps->arch);
	g_ptr_array_unref(caps->cells);
	g_free(caps);
}

static gboolean
parse_id(const char *text, guint max, guint *out)
{
	guint64 v;

	if (text == NULL || !g_ascii_isdigit(*text) ||
	    !g_ascii_string_to_unsigned(text, 10, 0, max, &v, NULL))
		return FALSE;
	*out = (guint)v;
	return TRUE;
}

static void
start_cell(VtCapsState *s, const char **n, const char **v, GError **error)
{
	const char *id = NULL;

	for (guint i = 0; n[i] != NULL; i++)
		if (strcmp(n[i], "id") == 0)
			id = v[i];
	if (strcmp(s->path->str, "capabilities/host/topology/cells/cell") == 0) {
		if (s->caps->cells->len >= VT_CAPS_MAX_CELLS) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "more than %u <cell>s",
				    VT_CAPS_MAX_CELLS);
			return;
		}
		s->cell = g_new0(VtNumaCell, 1);
		s->cell->cpus = g_array_new(FALSE, FALSE, sizeof(guint));
		g_ptr_array_add(s->caps->cells, s->cell);
		if (!parse_id(id, VT_CAPS_MAX_CELLS - 1, &s->cell->id))
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "<cell id='%s'>: not a node id", id ? id : "");
	} else if (s->cell != NULL &&
		   strcmp(s->path->str, "capabilities/host/topology/cells/cell/memory") == 0) {
		for (guint i = 0; n[i] != NULL; i++)
			if (strcmp(n[i], "unit") == 0) {
				g_free(s->memory_unit);
				s->memory_unit = g_strdup(v[i]);
			}
	} else if (s->cell != NULL &&
		   strcmp(s->path->str, "capabilities/host/topology/cells/cell/cpus/cpu") == 0) {
		guint cpu;

		if (s->caps->cpus >= VT_CPUSET_MAX || !parse_id(id, VT_CPUSET_MAX - 1, &cpu)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "<cpu id='%s'>: not a CPU id below %u", id ? id : "",
				    VT_CPUSET_MAX);
			return;
		}
		g_array_append_val(s->cell->cpus, cpu);
		s->caps->cpus++;
	}
}

static void
on_start(GMarkupParseContext *ctx, const char *element, const char **n, const char **v,
	 gpointer user_data, GError **error)
{
	VtCapsState *s = user_data;

	if (s->depth >= CAPS_MAX_DEPTH || ++s->elements > CAPS_MAX_ELEMENTS) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "<%s>: deeper than %u or more than %u elements", element,
			    CAPS_MAX_DEPTH, CAPS_MAX_ELEMENTS);
		return;
	}
	if (s->depth == 0 && strcmp(element, "capabilities") != 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "root element is <%s>, not <capabilities>", element);
		return;
	}
	s->path_len[s->depth++] = s->path->len;
	if (s->path->len > 0)
		g_string_append_c(s->path, '/');
	g_string_append(s->path, element);
	g_string_truncate(s->text, 0);
	if (g_str_has_prefix(s->path->str, "capabilities/host/topology/cells/cell"))
		start_cell(s, n, v, error);
}

static void
on_end(GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
	VtCapsState *s = user_data;
	g_autoptr(GError) local = NULL;
	const char *path = s->path->str;

	if (strcmp(path, "capabilities/host/cpu/arch") == 0) {
		g_free(s->caps->arch);
		s->caps->arch = g_strdup(g_strstrip(s->text->str));
	} else if (s->cell != NULL &&
		   strcmp(path, "capabilities/host/topology/cells/cell/memory") == 0) {
		if (!vt_parse_memory_amount(g_strstrip(s->text->str), s->memory_unit,
					    &s->cell->memory_bytes, &local)) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "<cell><memory>: %s",
				    local->message);
			return;
		}
	} else if (strcmp(path, "capabilities/host/topology/cells/cell") == 0) {
		s->cell = NULL;
	}
	g_string_truncate(s->text, 0);
	g_string_truncate(s->path, s->path_len[--s->depth]);
}

static void
on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data, GError **error)
{
	VtCapsState *s = user_data;

	if (s->text->len + len > VT_DOMAIN_MAX_TEXT) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "<%s>: text longer than %u bytes",
			    s->path->str, VT_DOMAIN_MAX_TEXT);
		return;
	}
	g_string_append_len(s->text, text, (gssize)len);
}

VtHostCaps *
vt_host_caps_parse(const char *xml, gssize len, GError **error)
{
	static const GMarkupParser parser = {
		.start_element = on_start,
		.end_element = on_end,
		.text = on_text,
	};
	g_autoptr(VtHostCaps) caps = g_new0(VtHostCaps, 1);
	g_autoptr(GMarkupParseContext) ctx = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GString) path = g_string_new(NULL);
	g_autoptr(GError) local = NULL;
	VtCapsState s = {.caps = caps, .text = text, .path = path};
	gsize size = len < 0 ? strlen(xml) : (gsize)len;
	gboolean ok;

	caps->cells = g_ptr_array_new_with_free_func(cell_free);
	if (size > VT_CAPS_XML_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "capabilities XML is %" G_GSIZE_FORMAT " bytes, more than %u", size,
			    VT_CAPS_XML_MAX);
		return NULL;
	}
	ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
	ok = g_markup_parse_context_parse(ctx, xml, (gssize)size, &local) &&
	     g_markup_parse_context_end_parse(ctx, &local);
	g_free(s.memory_unit);
	if (!ok) {
		gint line = 0, col = 0;

		g_markup_parse_context_get_position(ctx, &line, &col);
		g_set_error(error, VT_ERROR,
			    local->domain == VT_ERROR ? local->code : VT_ERROR_INVALID,
			    "capabilities XML line %d: %s", line, local->message);
		return NULL;
	}
	if (s.elements == 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "capabilities XML has no root");
		return NULL;
	}
	return g_steal_pointer(&caps);
}

VtHostCaps *
vt_host_caps_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;
	gsize len = 0;
	VtHostCaps *caps;

	if (!g_file_get_contents(path, &text, &len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "%s: %s", path, local->message);
		return NULL;
	}
	caps = vt_host_caps_parse(text, (gssize)len, &local);
	if (caps == NULL)
		g_set_error(error, VT_ERROR, local->code, "%s: %s", path, local->message);
	return caps;
}

gint
vt_host_caps_node_of_cpu(const VtHostCaps *caps, guint cpu)
{
	for (guint i = 0; caps != NULL && i < caps->cells->len; i++) {
		const VtNumaCell *c = g_ptr_array_index(caps->cells, i);

		for (guint k = 0; k < c->cpus->len; k++)
			if (g_array_index(c->cpus, guint, k) == cpu)
				return (gint)c->id;
	}
	return -1;
}

/* One "a", "a-b" or "^a" part of a cpuset. */
static gboolean
cpuset_part(const char *part, guint8 *bits)
{
	gboolean exclude = part[0] == '^';
	g_auto(GStrv) ends = g_strsplit(part + (exclude ? 1 : 0), "-", 3);
	guint a, b;

	if (ends[0] == NULL || !parse_id(g_strstrip(ends[0]), VT_CPUSET_MAX - 1, &a))
		return FALSE;
	b = a;
	if (ends[1] != NULL && (exclude || ends[2] != NULL ||
				!parse_id(g_strstrip(ends[1]), VT_CPUSET_MAX - 1, &b) || b < a))
		return FALSE;
	for (guint i = a; i <= b; i++) {
		if (exclude)
			bits[i / 8] &= (guint8) ~(1u << (i % 8));
		else
			bits[i / 8] |= (guint8)(1u << (i % 8));
	}
	return TRUE;
}

gboolean
vt_cpuset_parse(const char *text, guint8 *bits)
{
	g_auto(GStrv) parts = NULL;

	memset(bits, 0, VT_CPUSET_MAX / 8);
	if (text == NULL || strlen(text) > VT_DOMAIN_MAX_TEXT)
		return FALSE;
	parts = g_strsplit(text, ",", -1);
	if (parts[0] == NULL)
		return FALSE;
	/* libvirt applies exclusions after the inclusions, whatever their order */
	for (guint pass = 0; pass < 2; pass++)
		for (guint i = 0; parts[i] != NULL; i++) {
			const char *p = g_strstrip(parts[i]);

			if ((p[0] == '^') != (pass == 1))
				continue;
			if (!cpuset_part(p, bits))
				return FALSE;
		}
	return TRUE;
}

guint
vt_host_caps_cells_spanned(const VtHostCaps *caps, const char *cpuset)
{
	guint8 bits[VT_CPUSET_MAX / 8];
	guint spanned = 0;

	if (caps == NULL || !vt_cpuset_parse(cpuset, bits))
		return 0;
	for (guint i = 0; i < caps->cells->len; i++) {
		const VtNumaCell *c = g_ptr_array_index(caps->cells, i);
		gboolean hit = FALSE;

		for (guint k = 0; k < c->cpus->len && !hit; k++) {
			guint cpu = g_array_index(c->cpus, guint, k);
			hit = (bits[cpu / 8] & (1u << (cpu % 8))) != 0;
		}
		spanned += hit ? 1 : 0;
	}
	return spanned;
}
