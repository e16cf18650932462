/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pressure stall information: /proc/pressure/{cpu,memory,io} (Documentation/accounting/psi.rst). */
#include "collector-private.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "error.h"

typedef struct {
	const char *path;
	gsize some; /* offsets of the two PressureLine pointers in Pressure */
	gsize full;
} VtPressureFile;

static const VtPressureFile pressure_files[VT_PRESSURE_FILES] = {
	{"proc/pressure/cpu", G_STRUCT_OFFSET(VtPressure, cpu_some),
	 G_STRUCT_OFFSET(VtPressure, cpu_full)},
	{"proc/pressure/memory", G_STRUCT_OFFSET(VtPressure, memory_some),
	 G_STRUCT_OFFSET(VtPressure, memory_full)},
	{"proc/pressure/io", G_STRUCT_OFFSET(VtPressure, io_some),
	 G_STRUCT_OFFSET(VtPressure, io_full)},
};

/* A share of wall time: 0-100, printed with two decimals. */
static gboolean
parse_share(const char *word, double *out)
{
	char *end = NULL;
	double d = g_ascii_strtod(word, &end);

	if (end == word || *end != '\0' || !isfinite(d) || d < 0 || d > 100)
		return FALSE;
	*out = d;
	return TRUE;
}

/* The averages of a line, by key, in PressureLine. */
static const struct {
	const char *key;
	gsize has, value;
} averages[] = {
	{"avg10", G_STRUCT_OFFSET(VtPressureLine, has_avg10),
	 G_STRUCT_OFFSET(VtPressureLine, avg10)},
	{"avg60", G_STRUCT_OFFSET(VtPressureLine, has_avg60),
	 G_STRUCT_OFFSET(VtPressureLine, avg60)},
	{"avg300", G_STRUCT_OFFSET(VtPressureLine, has_avg300),
	 G_STRUCT_OFFSET(VtPressureLine, avg300)},
};

/* One "key=value" word into @line; FALSE when not understood or seen twice. */
static gboolean
parse_word(VtPressureLine *line, const char *key, const char *value)
{
	if (strcmp(key, "total") == 0) {
		if (line->has_total_us || !vt_parse_u64(value, &line->total_us))
			return FALSE;
		line->has_total_us = TRUE;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(averages); i++) {
		protobuf_c_boolean *has =
			&G_STRUCT_MEMBER(protobuf_c_boolean, line, averages[i].has);

		if (strcmp(key, averages[i].key) != 0)
			continue;
		if (*has || !parse_share(value, &G_STRUCT_MEMBER(double, line, averages[i].value)))
			return FALSE;
		*has = TRUE;
		return TRUE;
	}
	return FALSE;
}

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" without its first word; NULL
 * unless all four are there. */
static VtPressureLine *
parse_line(char *rest)
{
	g_autofree VtPressureLine *line = g_new(VtPressureLine, 1);
	g_auto(GStrv) words = g_strsplit(rest, " ", 8);

	virttune__v1__pressure_line__init(line);
	for (guint i = 0; words[i] != NULL; i++) {
		char *eq = strchr(words[i], '=');

		if (words[i][0] == '\0')
			continue;
		if (eq == NULL)
			return NULL;
		*eq = '\0';
		if (!parse_word(line, words[i], eq + 1))
			return NULL;
	}
	if (!line->has_avg10 || !line->has_avg60 || !line->has_avg300 || !line->has_total_us)
		return NULL;
	return g_steal_pointer(&line);
}

/* Fills the some/full lines of one file; -errno when it could not be read. */
static int
read_file(VtCollector *c, guint k, VtPressure *p)
{
	const VtPressureFile *f = &pressure_files[k];
	guint bad = 0;
	char *save = NULL;
	int err = vt_file_read(&c->pressure[k], c->root_fd, f->path, c->text, VT_PROC_TEXT_MAX,
			       NULL, NULL);

	if (err < 0)
		return err;
	for (char *line = strtok_r(c->text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		gboolean some = g_str_has_prefix(line, "some ");
		gboolean full = g_str_has_prefix(line, "full ");
		VtPressureLine **slot = some   ? &G_STRUCT_MEMBER(VtPressureLine *, p, f->some)
					: full ? &G_STRUCT_MEMBER(VtPressureLine *, p, f->full)
					       : NULL;
		VtPressureLine *parsed;

		if (slot == NULL || *slot != NULL || (parsed = parse_line(line + 5)) == NULL) {
			bad++;
			continue;
		}
		*slot = parsed;
	}
	if (bad > 0)
		vt_collector_note(c, "pressure", "/%s: %u lines not understood, left out", f->path,
				  bad);
	return 0;
}

gboolean
vt_collect_pressure(VtCollector *c, VtReport *report, GError **error)
{
	g_autofree VtPressure *p = g_new(VtPressure, 1);
	int err[VT_PRESSURE_FILES];
	guint missing = 0;

	virttune__v1__pressure__init(p);
	for (guint k = 0; k < VT_PRESSURE_FILES; k++) {
		err[k] = read_file(c, k, p);
		if (err[k] == -ENOENT || err[k] == -EOPNOTSUPP)
			missing++;
	}
	/* without CONFIG_PSI there is no /proc/pressure; with psi=0 the files refuse reads */
	if (missing == VT_PRESSURE_FILES) {
		g_set_error(error, VT_ERROR, VT_ERROR_NOT_SUPPORTED,
			    "no pressure stall information in this kernel (/proc/pressure/cpu: %s)",
			    g_strerror(-err[0]));
		return FALSE;
	}
	for (guint k = 0; k < VT_PRESSURE_FILES; k++)
		if (err[k] < 0)
			vt_collector_note(c, "pressure", "/%s: %s", pressure_files[k].path,
					  g_strerror(-err[k]));
	report->pressure = g_steal_pointer(&p);
	return TRUE;
}
