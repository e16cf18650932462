/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rate-base.h"

#include <string.h>

#include "bounds.h"

/* A message of scalar fields alone (counters), copied whole into @arena;
 * its unknown fields left behind. */
static void *
copy_scalars(VtArena *arena, const void *msg)
{
	const ProtobufCMessage *m = msg;
	ProtobufCMessage *copy;

	if (m == NULL)
		return NULL;
	copy = vt_arena_memdup(arena, m, m->descriptor->sizeof_message);
	if (copy != NULL) {
		copy->n_unknown_fields = 0;
		copy->unknown_fields = NULL;
	}
	return copy;
}

/* What copy_scalars() takes: checked once, not trusted. */
static gpointer
check_scalars(gpointer data)
{
	static const ProtobufCMessageDescriptor *const descs[] = {
		&virttune__v1__cpu__descriptor,
		&virttune__v1__softnet__descriptor,
		&virttune__v1__block_stats__descriptor,
		&virttune__v1__nic_stats__descriptor,
	};

	for (gsize d = 0; d < G_N_ELEMENTS(descs); d++)
		for (unsigned f = 0; f < descs[d]->n_fields; f++) {
			const ProtobufCFieldDescriptor *field = &descs[d]->fields[f];

			g_assert(field->label != PROTOBUF_C_LABEL_REPEATED &&
				 field->type != PROTOBUF_C_TYPE_STRING &&
				 field->type != PROTOBUF_C_TYPE_BYTES &&
				 field->type != PROTOBUF_C_TYPE_MESSAGE);
		}
	return NULL;
}

#define ROUNDED(n) vt_arena_size_of(n)

static gsize
string_size(const char *s)
{
	return s != NULL ? ROUNDED(strlen(s) + 1) : 0;
}

/* What the copy takes: the arena's one block, sized to it. */
static gsize
copy_size(const VtReport *r)
{
	gsize n = ROUNDED(sizeof(VtRateBase)) + ROUNDED(sizeof(VtReport)) +
		  ROUNDED(sizeof(VtIdentity)) + ROUNDED(sizeof(VtCpu)) +
		  ROUNDED(sizeof(VtSoftnet)) + ROUNDED(sizeof(VtSwap)) +
		  ROUNDED(sizeof(VtReportVmstatEntry *)) + ROUNDED(sizeof(VtReportVmstatEntry)) +
		  ROUNDED(sizeof("oom_kill")) + ROUNDED(sizeof(VtBlock *) * MAX(r->n_block, 1)) +
		  ROUNDED(sizeof(VtNic *) * MAX(r->n_nics, 1));

	if (r->identity != NULL)
		n += string_size(r->identity->boot_id);
	for (gsize i = 0; i < r->n_block; i++)
		n += ROUNDED(sizeof(VtBlock)) + ROUNDED(sizeof(VtBlockStats)) +
		     string_size(r->block[i]->name) + string_size(r->block[i]->serial) +
		     string_size(r->block[i]->driver);
	for (gsize i = 0; i < r->n_nics; i++)
		n += ROUNDED(sizeof(VtNic)) + ROUNDED(sizeof(VtNicStats)) +
		     string_size(r->nics[i]->name) + string_size(r->nics[i]->mac);
	return n;
}

/* Each disk's name, counters, serial and driver; each NIC's name, counters
 * and MAC address. */
static void
copy_devices(VtArena *arena, const VtReport *report, VtReport *copy)
{
	copy->block = vt_arena_alloc(arena, sizeof(VtBlock *) * MAX(report->n_block, 1));
	for (gsize i = 0; copy->block != NULL && i < report->n_block; i++) {
		const VtBlock *from = report->block[i];
		VtBlock *b = vt_arena_alloc(arena, sizeof(*b));

		if (b == NULL)
			return;
		virttune__v1__block__init(b);
		b->name = vt_arena_strdup(arena, from->name);
		b->stats = copy_scalars(arena, from->stats);
		/* what match.c pairs a disk with the XML by */
		b->serial = vt_arena_strdup(arena, from->serial);
		b->driver = vt_arena_strdup(arena, from->driver);
		copy->block[copy->n_block++] = b;
	}
	copy->nics = vt_arena_alloc(arena, sizeof(VtNic *) * MAX(report->n_nics, 1));
	for (gsize i = 0; copy->nics != NULL && i < report->n_nics; i++) {
		const VtNic *from = report->nics[i];
		VtNic *n = vt_arena_alloc(arena, sizeof(*n));

		if (n == NULL)
			return;
		virttune__v1__nic__init(n);
		n->name = vt_arena_strdup(arena, from->name);
		n->stats = copy_scalars(arena, from->stats);
		n->mac = vt_arena_strdup(arena, from->mac);
		copy->nics[copy->n_nics++] = n;
	}
}

/* The parts are copied field by field into one arena, freed at once. */
VtRateBase *
vt_rate_base_new(const VtReport *report)
{
	static GOnce checked = G_ONCE_INIT;
	g_autoptr(VtArena) arena = NULL;
	VtRateBase *out;
	VtReport *copy;

	g_once(&checked, check_scalars, NULL);
	arena = vt_arena_new(copy_size(report), VT_UNPACK_MEMORY_MAX);
	out = vt_arena_alloc(arena, sizeof(*out));
	copy = vt_arena_alloc(arena, sizeof(*copy));
	if (out == NULL || copy == NULL)
		return NULL;
	virttune__v1__report__init(copy);
	copy->has_monotonic_ms = report->has_monotonic_ms;
	copy->monotonic_ms = report->monotonic_ms;
	if (report->identity != NULL &&
	    (copy->identity = vt_arena_alloc(arena, sizeof(VtIdentity)))) {
		virttune__v1__identity__init(copy->identity);
		copy->identity->boot_id = vt_arena_strdup(arena, report->identity->boot_id);
		copy->identity->has_uptime_s = report->identity->has_uptime_s;
		copy->identity->uptime_s = report->identity->uptime_s;
	}
	copy->cpu = copy_scalars(arena, report->cpu);
	copy->softnet = copy_scalars(arena, report->softnet);
	if (report->swap != NULL && (copy->swap = vt_arena_alloc(arena, sizeof(VtSwap)))) {
		virttune__v1__swap__init(copy->swap);
		copy->swap->has_pswpin = report->swap->has_pswpin;
		copy->swap->pswpin = report->swap->pswpin;
		copy->swap->has_pswpout = report->swap->has_pswpout;
		copy->swap->pswpout = report->swap->pswpout;
	}
	for (gsize i = 0; i < report->n_vmstat && copy->n_vmstat == 0; i++) {
		const VtReportVmstatEntry *oom = report->vmstat[i];
		VtReportVmstatEntry *e;

		if (strcmp(oom->key, "oom_kill") != 0)
			continue;
		copy->vmstat = vt_arena_alloc(arena, sizeof(*copy->vmstat));
		e = vt_arena_alloc(arena, sizeof(*e));
		if (copy->vmstat == NULL || e == NULL)
			return NULL;
		virttune__v1__report__vmstat_entry__init(e);
		e->key = vt_arena_strdup(arena, oom->key);
		e->has_value = oom->has_value;
		e->value = oom->value;
		copy->vmstat[0] = e;
		copy->n_vmstat = 1;
	}
	copy_devices(arena, report, copy);
	/* a part asked for and not had: memory ran out */
	if (copy->block == NULL || copy->nics == NULL || vt_arena_refused(arena))
		return NULL;
	out->report = copy;
	out->arena = g_steal_pointer(&arena);
	return out;
}

void
vt_rate_base_free(VtRateBase *base)
{
	if (base != NULL)
		vt_arena_free(base->arena);
}
