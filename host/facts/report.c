/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report.h"

#include <string.h>

#include "bounds.h"
#include "error.h"
#include "json.h"
#include "validate.h"

gboolean
vt_report_check_bounds(const VtReport *report, GError **error)
{
	/* the same check the daemon applies to every report from a guest */
	return vt_validate_message(&report->base, NULL, error);
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
