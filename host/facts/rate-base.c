/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rate-base.h"

#include <string.h>

/* Decoded, a base takes six to seven times its packed size (2,816 bytes for
 * 428 of a guest with two disks and three NICs). */
#define BASE_SCALE 7

/* The parts are borrowed from @report into a shallow report on the stack,
 * which is packed and unpacked into an arena: one deep copy, by the code that
 * decodes every report anyway, freed at once. */
VtRateBase *
vt_rate_base_new(const VtReport *report)
{
	VtReport base = VIRTTUNE__V1__REPORT__INIT;
	VtIdentity identity = VIRTTUNE__V1__IDENTITY__INIT;
	VtSwap swap = VIRTTUNE__V1__SWAP__INIT;
	VtReportVmstatEntry *oom = NULL;
	gsize n_block = report->n_block, n_nics = report->n_nics;
	g_autofree VtBlock *blocks = g_new(VtBlock, MAX(n_block, 1));
	g_autofree VtBlock **block_ptrs = g_new(VtBlock *, MAX(n_block, 1));
	g_autofree VtNic *nics = g_new(VtNic, MAX(n_nics, 1));
	g_autofree VtNic **nic_ptrs = g_new(VtNic *, MAX(n_nics, 1));
	VtArena *arena = NULL;
	VtReport *copy;
	VtRateBase *out;

	if (report->identity != NULL) {
		identity.boot_id = report->identity->boot_id;
		identity.has_uptime_s = report->identity->has_uptime_s;
		identity.uptime_s = report->identity->uptime_s;
		base.identity = &identity;
	}
	base.has_monotonic_ms = report->has_monotonic_ms;
	base.monotonic_ms = report->monotonic_ms;
	base.cpu = report->cpu;
	base.softnet = report->softnet;
	if (report->swap != NULL) {
		swap.has_pswpin = report->swap->has_pswpin;
		swap.pswpin = report->swap->pswpin;
		swap.has_pswpout = report->swap->has_pswpout;
		swap.pswpout = report->swap->pswpout;
		base.swap = &swap;
	}
	for (gsize i = 0; i < report->n_vmstat && oom == NULL; i++)
		if (strcmp(report->vmstat[i]->key, "oom_kill") == 0)
			oom = report->vmstat[i];
	if (oom != NULL) {
		base.n_vmstat = 1;
		base.vmstat = &oom;
	}
	for (gsize i = 0; i < n_block; i++) {
		virttune__v1__block__init(&blocks[i]);
		blocks[i].name = report->block[i]->name;
		blocks[i].stats = report->block[i]->stats;
		/* what match.c pairs a disk with the XML by */
		blocks[i].serial = report->block[i]->serial;
		blocks[i].driver = report->block[i]->driver;
		block_ptrs[i] = &blocks[i];
	}
	base.n_block = n_block;
	base.block = block_ptrs;
	for (gsize i = 0; i < n_nics; i++) {
		virttune__v1__nic__init(&nics[i]);
		nics[i].name = report->nics[i]->name;
		nics[i].stats = report->nics[i]->stats;
		nics[i].mac = report->nics[i]->mac;
		nic_ptrs[i] = &nics[i];
	}
	base.n_nics = n_nics;
	base.nics = nic_ptrs;

	copy = (VtReport *)vt_message_copy_in(&base.base, BASE_SCALE, &arena, NULL);
	if (copy == NULL)
		return NULL;
	if ((out = vt_arena_alloc(arena, sizeof(*out))) == NULL) {
		vt_arena_free(arena);
		return NULL;
	}
	out->report = copy;
	out->arena = arena;
	return out;
}

void
vt_rate_base_free(VtRateBase *base)
{
	if (base != NULL)
		vt_arena_free(base->arena);
}
