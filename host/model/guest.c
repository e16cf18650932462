/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"

#include "text.h"

VtGuest *
vt_guest_new(const char *uuid, const char *name)
{
	VtGuest *g = g_new0(VtGuest, 1);

	g->uuid = g_strdup(uuid);
	g->name = g_strdup(name);
	g->id = -1;
	return g;
}

/* The current report goes, with the arena it lives in. */
static void
drop_report(VtGuest *guest)
{
	if (guest->report_arena != NULL)
		vt_arena_free(guest->report_arena);
	else
		vt_report_free(guest->report);
	guest->report = NULL;
	guest->report_arena = NULL;
}

void
vt_guest_free(VtGuest *guest)
{
	if (guest == NULL)
		return;
	if (guest->retry_timer)
		g_source_remove(guest->retry_timer);
	vt_session_free(guest->session);
	vt_domain_facts_free(guest->facts);
	vt_domstats_free(guest->stats);
	vt_domstats_free(guest->prev_stats);
	drop_report(guest);
	vt_report_free(guest->prev_report);
	vt_analysis_free(guest->analysis);
	vt_rates_clear(&guest->rates);
	g_free(guest->xml);
	g_free(guest->agent_version);
	g_free(guest->last_error);
	g_free(guest->uuid);
	g_free(guest->name);
	g_free(guest);
}

/* Computed here, once per change of what they come from, for the rules, the
 * views and the metrics alike. */
static void
update_rates(VtGuest *guest)
{
	double elapsed_s =
		guest->prev_stats != NULL
			? (double)(guest->stats_at_us - guest->prev_stats_at_us) / G_USEC_PER_SEC
			: 0;

	vt_rates_compute(&guest->rates, guest->prev_report, guest->report, guest->prev_stats,
			 guest->stats, elapsed_s, guest->facts);
}

gboolean
vt_guest_set_xml(VtGuest *guest, const char *xml, GError **error)
{
	VtDomainFacts *facts;

	if (guest->xml != NULL && g_strcmp0(guest->xml, xml) == 0)
		return TRUE;
	facts = vt_domain_facts_parse(xml, -1, error);
	if (facts == NULL)
		return FALSE;
	vt_domain_facts_free(guest->facts);
	guest->facts = facts;
	g_free(guest->xml);
	guest->xml = g_strdup(xml);
	update_rates(guest); /* the balloon falls back on the XML's memory */
	return TRUE;
}

void
vt_guest_set_stats(VtGuest *guest, VtDomstats *stats, gint64 at_us)
{
	if (stats == NULL)
		return;
	vt_domstats_free(guest->prev_stats);
	guest->prev_stats = guest->stats;
	guest->prev_stats_at_us = guest->stats_at_us;
	guest->stats = stats;
	guest->stats_at_us = at_us;
	update_rates(guest);
}

static const char *
boot_id(const VtReport *r)
{
	return r != NULL && r->identity != NULL ? r->identity->boot_id : NULL;
}

/* Reports collected closer together than this (the answers to two Hellos of
 * one handshake, a refresh right after a periodic report) replace the latest
 * one without becoming the base of the next rate: counters over a few
 * milliseconds give noise, not a rate. */
#define RATE_BASE_MIN_MS 1000

static gboolean
too_close(const VtReport *older, const VtReport *newer)
{
	return older != NULL && older->has_monotonic_ms && newer->has_monotonic_ms &&
	       newer->monotonic_ms >= older->monotonic_ms &&
	       newer->monotonic_ms - older->monotonic_ms < RATE_BASE_MIN_MS &&
	       g_strcmp0(boot_id(older), boot_id(newer)) == 0;
}

void
vt_guest_set_report(VtGuest *guest, VtReport *report, VtArena *arena, gint64 at_ms)
{
	/* The previous report serves only as the base of rates: what they read
	 * of it is kept, so a guest holds one whole report, not two. */
	if (!too_close(guest->report, report) && guest->report != NULL) {
		vt_report_free(guest->prev_report);
		guest->prev_report = vt_rate_base_copy(guest->report);
	}
	drop_report(guest);
	guest->report = report;
	guest->report_arena = arena;
	guest->report_at_ms = at_ms;
	/* Rates across a reboot would be nonsense. */
	if (guest->prev_report != NULL &&
	    g_strcmp0(boot_id(guest->prev_report), boot_id(report)) != 0)
		g_clear_pointer(&guest->prev_report, vt_report_free);
	update_rates(guest);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	const VtGuest *ga = *(VtGuest *const *)a;
	const VtGuest *gb = *(VtGuest *const *)b;
	return g_strcmp0(ga->name, gb->name);
}

GPtrArray *
vt_guests_select(GHashTable *guests, const char *domain)
{
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, guests);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		VtGuest *g = value;
		if (domain == NULL || g_strcmp0(g->name, domain) == 0 ||
		    g_strcmp0(g->uuid, domain) == 0)
			g_ptr_array_add(out, g);
	}
	g_ptr_array_sort(out, compare_names);
	return out;
}

const VtRecommendation *
vt_guest_find_recommendation(const VtGuest *guest, const char *id)
{
	for (guint i = 0; guest->analysis && i < guest->analysis->recommendations->len; i++) {
		const VtRecommendation *r = guest->analysis->recommendations->pdata[i];
		if (g_strcmp0(r->id, id) == 0)
			return r;
	}
	return NULL;
}

void
vt_guest_log(GLogLevelFlags level, const VtGuest *guest, const char *format, ...)
{
	g_autofree char *raw = NULL;
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, format);
	raw = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* the message carries what the guest wrote: one line, nothing raw */
	msg = vt_text_escape(raw, FALSE);
	g_log_structured(G_LOG_DOMAIN, level, "DOMAIN", guest->name, "DOMAIN_UUID", guest->uuid,
			 "MESSAGE", "%s: %s", guest->name, msg);
}

const char *
vt_guest_agent_state(const VtGuest *guest)
{
	if (guest->session == NULL)
		return "no channel";
	switch (vt_session_get_state(guest->session)) {
	case VT_SESSION_READY:
		return "connected";
	case VT_SESSION_HANDSHAKE:
		return "waiting";
	case VT_SESSION_CUT_OFF:
		return "cut off";
	case VT_SESSION_DETACHED:
		break;
	}
	return "disconnected";
}
