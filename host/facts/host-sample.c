/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host counters of one poll kept for the measured effect of a change. */
#include "host-sample.h"

#include <string.h>

#include "error.h"

static const char *const disk_keys[] = {"rd.reqs", "rd.times", "wr.reqs", "wr.times"};
static const char *const nic_keys[] = {"rx.drop", "tx.drop"};

void
vt_host_sample_free(VtHostSample *sample)
{
	if (sample == NULL)
		return;
	vt_domstats_free(sample->stats);
	g_clear_pointer(&sample->disks, g_ptr_array_unref);
	g_clear_pointer(&sample->nics, g_ptr_array_unref);
	g_free(sample);
}

/* A name that cannot end a "key=value" line early or start another one. */
static gboolean
plain_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) >= VT_RATES_NAME_MAX)
		return FALSE;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && strchr("._:@-", *s) == NULL)
			return FALSE;
	return TRUE;
}

/* Append device @i of @kind: its names and those of @keys @stats has for
 * libvirt's device @target. FALSE (nothing appended) when it has none. */
static gboolean
append_device(GString *out, const char *kind, guint i, const char *guest, const char *target,
	      const VtDomstats *stats, const char *const *keys, guint n_keys)
{
	g_autofree char *count_key = g_strdup_printf("%s.count", kind);
	guint64 count = 0, v;
	gsize mark = out->len;
	gboolean any = FALSE;

	if (!plain_name(guest) || !plain_name(target) ||
	    !vt_domstats_get_uint64(stats, count_key, &count))
		return FALSE;
	for (guint64 j = 0; j < MIN(count, (guint64)VT_DOMSTATS_MAX_KEYS); j++) {
		g_autofree char *name_key =
			g_strdup_printf("%s.%" G_GUINT64_FORMAT ".name", kind, j);

		if (g_strcmp0(vt_domstats_get_string(stats, name_key), target) != 0)
			continue;
		g_string_append_printf(out, "  %s.%u.name=%s\n  %s.%u.guest=%s\n", kind, i, target,
				       kind, i, guest);
		for (guint k = 0; k < n_keys; k++)
			if (vt_domstats_get_uint64f(stats, &v, "%s.%" G_GUINT64_FORMAT ".%s", kind,
						    j, keys[k])) {
				g_string_append_printf(out, "  %s.%u.%s=%" G_GUINT64_FORMAT "\n",
						       kind, i, keys[k], v);
				any = TRUE;
			}
		break; /* the first is the top layer of a backing chain */
	}
	if (!any)
		g_string_truncate(out, mark);
	return any;
}

char *
vt_host_sample_format(const VtRates *rates, const VtDomstats *stats)
{
	g_autoptr(GString) disks = g_string_new(NULL);
	g_autoptr(GString) nics = g_string_new(NULL);
	guint n_disks = 0, n_nics = 0;
	GString *out;

	if (rates == NULL || stats == NULL)
		return NULL;
	for (guint i = 0; i < rates->n_disks; i++)
		if (rates->disks[i].target[0] != '\0' &&
		    append_device(disks, "block", n_disks, rates->disks[i].name,
				  rates->disks[i].target, stats, disk_keys,
				  G_N_ELEMENTS(disk_keys)))
			n_disks++;
	for (guint i = 0; i < rates->n_nics; i++)
		if (rates->nics[i].target[0] != '\0' &&
		    append_device(nics, "net", n_nics, rates->nics[i].name, rates->nics[i].target,
				  stats, nic_keys, G_N_ELEMENTS(nic_keys)))
			n_nics++;
	if (n_disks == 0 && n_nics == 0)
		return NULL;
	out = g_string_new("Domain: 'sample'\n");
	g_string_append_printf(out, "  block.count=%u\n%s  net.count=%u\n%s", n_disks, disks->str,
			       n_nics, nics->str);
	return g_string_free(out, FALSE);
}

VtHostSample *
vt_host_sample_parse(gint64 time_ms, const char *data, gsize len, GError **error)
{
	g_autoptr(GPtrArray) all = NULL;
	VtHostSample *sample;

	if (len > VT_HOST_SAMPLE_MAX_BYTES) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "host sample of %" G_GSIZE_FORMAT " bytes (at most %u)", len,
			    VT_HOST_SAMPLE_MAX_BYTES);
		return NULL;
	}
	all = vt_domstats_parse_text(data, (gssize)len, error);
	if (all == NULL)
		return NULL;
	if (all->len != 1) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "host sample holds %u domains, not one", all->len);
		return NULL;
	}
	sample = g_new0(VtHostSample, 1);
	sample->time_ms = time_ms;
	sample->stats = g_ptr_array_steal_index(all, 0);
	sample->disks = vt_host_disks(sample->stats);
	sample->nics = vt_host_nics(sample->stats);
	return sample;
}

const char *
vt_host_sample_target(const VtHostSample *sample, const char *kind, const char *guest)
{
	g_autofree char *count_key = g_strdup_printf("%s.count", kind);
	guint64 count = 0;

	if (sample == NULL || !vt_domstats_get_uint64(sample->stats, count_key, &count))
		return NULL;
	for (guint64 i = 0; i < MIN(count, (guint64)VT_HOST_SAMPLE_MAX_DEVICES); i++) {
		g_autofree char *g = g_strdup_printf("%s.%" G_GUINT64_FORMAT ".guest", kind, i);
		g_autofree char *t = g_strdup_printf("%s.%" G_GUINT64_FORMAT ".name", kind, i);
		const char *name = vt_domstats_get_string(sample->stats, g);
		const char *target = vt_domstats_get_string(sample->stats, t);

		if (name != NULL && target != NULL && (guest == NULL || strcmp(name, guest) == 0))
			return target;
	}
	return NULL;
}
