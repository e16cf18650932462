/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report-fit.h"

/* Each drops one item of its part; FALSE when nothing is left to drop. */
typedef gboolean (*DropFunc)(VtReport *report);

static void
free_message(gpointer msg)
{
	vt_message_free(msg);
}

static gboolean
clear_entries(gsize *n, void ***entries)
{
	if (*n == 0)
		return FALSE;
	for (gsize i = 0; i < *n; i++)
		free_message((*entries)[i]);
	g_clear_pointer(entries, g_free);
	*n = 0;
	return TRUE;
}

/* What a Nic's features weigh on the wire: as messages, or as the run of
 * their encoding, the only unknown field an agent's Nic has
 * (vt_collector_set_features_encoded()). */
static gsize
features_bytes(const VtNic *nic)
{
	gsize n = nic->base.n_unknown_fields > 0 ? nic->base.unknown_fields[0].len : 0;

	for (gsize i = 0; i < nic->n_features; i++)
		n += protobuf_c_message_get_packed_size(&nic->features[i]->base);
	return n;
}

static gboolean
drop_nic_features(VtReport *r)
{
	VtNic *most = NULL;
	gsize most_bytes = 0;

	for (gsize i = 0; i < r->n_nics; i++) {
		gsize bytes = features_bytes(r->nics[i]);

		if (bytes > most_bytes) {
			most = r->nics[i];
			most_bytes = bytes;
		}
	}
	if (most == NULL)
		return FALSE;
	for (gsize i = 0; i < most->n_features; i++)
		free_message(most->features[i]);
	g_clear_pointer(&most->features, g_free);
	most->n_features = 0;
	for (gsize i = 0; i < most->base.n_unknown_fields; i++)
		g_free(most->base.unknown_fields[i].data);
	g_clear_pointer(&most->base.unknown_fields, g_free);
	most->base.n_unknown_fields = 0;
	return TRUE;
}

static gboolean
drop_nic_queue_interrupts(VtReport *r)
{
	for (gsize i = r->n_nics; i-- > 0;)
		if (r->nics[i]->n_queue_interrupts > 0)
			return clear_entries(&r->nics[i]->n_queue_interrupts,
					     (void ***)&r->nics[i]->queue_interrupts);
	return FALSE;
}

static gboolean
drop_block_stats(VtReport *r)
{
	for (gsize i = r->n_block; i-- > 0;)
		if (r->block[i]->stats != NULL) {
			g_clear_pointer(&r->block[i]->stats, free_message);
			return TRUE;
		}
	return FALSE;
}

static gboolean
drop_nic_stats(VtReport *r)
{
	for (gsize i = r->n_nics; i-- > 0;)
		if (r->nics[i]->stats != NULL) {
			g_clear_pointer(&r->nics[i]->stats, free_message);
			return TRUE;
		}
	return FALSE;
}

static gboolean
drop_block(VtReport *r)
{
	if (r->n_block == 0)
		return FALSE;
	free_message(r->block[--r->n_block]);
	if (r->n_block == 0)
		g_clear_pointer(&r->block, g_free);
	return TRUE;
}

static gboolean
drop_nic(VtReport *r)
{
	if (r->n_nics == 0)
		return FALSE;
	free_message(r->nics[--r->n_nics]);
	if (r->n_nics == 0)
		g_clear_pointer(&r->nics, g_free);
	return TRUE;
}

static gboolean
drop_vmstat(VtReport *r)
{
	return clear_entries(&r->n_vmstat, (void ***)&r->vmstat);
}

static gboolean
drop_sysctl(VtReport *r)
{
	return clear_entries(&r->n_sysctl, (void ***)&r->sysctl);
}

static gboolean
drop_meminfo(VtReport *r)
{
	return clear_entries(&r->n_meminfo, (void ***)&r->meminfo);
}

static gboolean
drop_swap(VtReport *r)
{
	if (r->swap == NULL)
		return FALSE;
	g_clear_pointer(&r->swap, free_message);
	return TRUE;
}

static gboolean
drop_cpu(VtReport *r)
{
	if (r->cpu == NULL)
		return FALSE;
	g_clear_pointer(&r->cpu, free_message);
	return TRUE;
}

static gboolean
drop_identity(VtReport *r)
{
	if (r->identity == NULL)
		return FALSE;
	g_clear_pointer(&r->identity, free_message);
	return TRUE;
}

/* Largest and least needed first: a NIC's ~70 feature names are most of a
 * report, and counters matter less than the settings the rules read; a
 * 256-queue NIC's interrupt counts are the least needed of all. */
static const struct {
	const char *name;
	DropFunc drop;
} parts[] = {
	{"nics.queue_interrupts", drop_nic_queue_interrupts},
	{"nics.features", drop_nic_features},
	{"block.stats", drop_block_stats},
	{"nics.stats", drop_nic_stats},
	{"block", drop_block},
	{"nics", drop_nic},
	{"vmstat", drop_vmstat},
	{"sysctl", drop_sysctl},
	{"meminfo", drop_meminfo},
	{"swap", drop_swap},
	{"cpu", drop_cpu},
	{"identity", drop_identity},
};

static gsize
packed_size(const VtReport *report)
{
	return protobuf_c_message_get_packed_size(&report->base);
}

/* A new section entry, or the last one reused when the list is full (the
 * host bounds it at VT_REPORT_MAX_SECTIONS). */
static VtSection *
add_note(VtReport *r, const char *name)
{
	VtSection *s;

	if (r->n_sections >= VT_REPORT_MAX_SECTIONS) {
		s = r->sections[r->n_sections - 1];
		g_free(s->name);
		g_free(s->error);
	} else {
		s = g_new0(VtSection, 1);
		virttune__v1__section__init(s);
		r->sections = g_renew(VtSection *, r->sections, r->n_sections + 1);
		r->sections[r->n_sections++] = s;
	}
	s->name = g_strdup(name);
	s->error = NULL;
	s->has_ok = TRUE;
	s->ok = FALSE;
	return s;
}

gsize
vt_report_fit(VtReport *report, gsize max)
{
	gsize original = packed_size(report);
	gsize size = original;

	for (gsize i = 0; i < G_N_ELEMENTS(parts) && size > max; i++) {
		VtSection *note = NULL;
		guint dropped = 0;

		while (size > max && parts[i].drop(report)) {
			dropped++;
			if (note == NULL)
				note = add_note(report, parts[i].name);
			g_free(note->error);
			note->error = g_strdup_printf(
				"%u dropped: the report packed to %" G_GSIZE_FORMAT
				" bytes, over the %" G_GSIZE_FORMAT "-byte frame limit",
				dropped, original, max);
			size = packed_size(report);
		}
	}
	return size;
}
