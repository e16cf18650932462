/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report.h"

#include <string.h>

#include "bounds.h"
#include "error.h"
#include "json.h"

static gboolean
check_string(const char *s, const char *field, GError **error)
{
	if (s == NULL)
		return TRUE;
	if (strlen(s) > VT_STRING_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: string of %" G_GSIZE_FORMAT " bytes, at most %u", field, strlen(s),
			    VT_STRING_MAX);
		return FALSE;
	}
	if (!g_utf8_validate(s, -1, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: not valid UTF-8", field);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_count(gsize n, guint max, const char *field, GError **error)
{
	if (n > max) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%s: %" G_GSIZE_FORMAT " entries, at most %u", field, n, max);
		return FALSE;
	}
	return TRUE;
}

/* Walk every string of a message generically, so no field is forgotten. */
static gboolean
check_strings(const ProtobufCMessage *msg, GString *path, guint depth, GError **error)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	if (depth > 8) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s: nested too deep", path->str);
		return FALSE;
	}
	for (guint f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[f];
		const char *base = (const char *)msg + fd->offset;
		gsize keep = path->len;
		gsize n = 1;
		const void *items;

		if (fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
			items = *(void *const *)base;
			if (!check_count(n,
					 VT_REPORT_MAX_BLOCK > VT_REPORT_MAX_MAP_ENTRIES
						 ? VT_REPORT_MAX_BLOCK
						 : VT_REPORT_MAX_MAP_ENTRIES,
					 fd->name, error))
				return FALSE;
		} else {
			items = base;
		}
		for (gsize i = 0; i < n; i++) {
			const void *item = ((void *const *)items)[i];

			if (path->len > 0)
				g_string_append_c(path, '.');
			g_string_append(path, fd->name);
			if (fd->label == PROTOBUF_C_LABEL_REPEATED)
				g_string_append_printf(path, "[%" G_GSIZE_FORMAT "]", i);
			if (item != NULL) {
				if (fd->type == PROTOBUF_C_TYPE_STRING) {
					if (!check_string(item, path->str, error))
						return FALSE;
				} else if (!check_strings(item, path, depth + 1, error)) {
					return FALSE;
				}
			}
			g_string_truncate(path, keep);
		}
	}
	return TRUE;
}

gboolean
vt_report_check_bounds(const VtReport *r, GError **error)
{
	g_autoptr(GString) path = g_string_new(NULL);

	if (!check_count(r->n_block, VT_REPORT_MAX_BLOCK, "block", error) ||
	    !check_count(r->n_nics, VT_REPORT_MAX_NICS, "nics", error) ||
	    !check_count(r->n_meminfo, VT_REPORT_MAX_MAP_ENTRIES, "meminfo", error) ||
	    !check_count(r->n_sysctl, VT_REPORT_MAX_MAP_ENTRIES, "sysctl", error) ||
	    !check_count(r->n_vmstat, VT_REPORT_MAX_MAP_ENTRIES, "vmstat", error) ||
	    !check_count(r->n_sections, VT_REPORT_MAX_SECTIONS, "sections", error))
		return FALSE;
	if (r->swap != NULL &&
	    !check_count(r->swap->n_devices, VT_REPORT_MAX_SWAP_DEVICES, "swap.devices", error))
		return FALSE;
	for (gsize i = 0; i < r->n_nics; i++) {
		g_autofree char *field = g_strdup_printf("nics[%" G_GSIZE_FORMAT "].features", i);
		if (!check_count(r->nics[i]->n_features, VT_REPORT_MAX_FEATURES, field, error))
			return FALSE;
	}
	for (gsize i = 0; i < r->n_block; i++) {
		g_autofree char *field =
			g_strdup_printf("block[%" G_GSIZE_FORMAT "].schedulers", i);
		if (!check_count(r->block[i]->n_schedulers, VT_REPORT_MAX_SCHEDULERS, field, error))
			return FALSE;
	}
	return check_strings(&r->base, path, 0, error);
}

VtReport *
vt_report_decode(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(VtReport) report = NULL;
	gsize i = 0;

	if (len > VT_REPORT_FILE_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "%" G_GSIZE_FORMAT " bytes, more than %u", len, VT_REPORT_FILE_MAX);
		return NULL;
	}
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	if (i < len && data[i] == '{')
		report = (VtReport *)vt_json_message_from_string(
			&virttune__v1__report__descriptor, (const char *)data, (gssize)len, error);
	else
		report = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor, data, len,
						       error);
	if (report == NULL)
		return NULL;
	if (!vt_report_check_bounds(report, error))
		return NULL;
	return g_steal_pointer(&report);
}

VtReport *
vt_report_load(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) local = NULL;
	VtReport *report;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND, "%s", local->message);
		return NULL;
	}
	report = vt_report_decode((const guint8 *)data, len, &local);
	if (report == NULL)
		g_set_error(error, VT_ERROR, local->code, "%s: %s", path, local->message);
	return report;
}
