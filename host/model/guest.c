/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"

#include "bounds.h"
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

/* The guests holding a report decoded on demand, released when the main loop
 * is idle: a view or a scrape decodes the reports it reads, and they do not
 * stay decoded beyond it. */
static GPtrArray *decoded_on_demand;
static guint release_idle;

static void
drop_decoded(VtGuest *guest)
{
	if (guest->report_arena != NULL)
		vt_arena_free(guest->report_arena);
	else
		vt_report_free(guest->report_decoded);
	guest->report_decoded = NULL;
	guest->report_arena = NULL;
	if (guest->report_on_demand)
		g_ptr_array_remove_fast(decoded_on_demand, guest);
	guest->report_on_demand = FALSE;
}

/* The newest report goes: its bytes, its decoded form, its rate base. */
static void
drop_report(VtGuest *guest)
{
	drop_decoded(guest);
	g_clear_pointer(&guest->report_envelope, g_bytes_unref);
	g_clear_pointer(&guest->report_base, vt_rate_base_free);
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
	vt_rate_base_free(guest->prev_base);
	vt_analysis_free(guest->analysis);
	vt_rates_clear(&guest->rates);
	g_free(guest->xml);
	g_free(guest->agent_version);
	g_free(guest->last_error);
	g_free(guest->uuid);
	g_free(guest->name);
	g_free(guest);
}

static const VtReport *
base_report(const VtRateBase *base)
{
	return base != NULL ? base->report : NULL;
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

	/* the rate bases hold all the rates read of the two reports */
	vt_rates_compute(&guest->rates, base_report(guest->prev_base),
			 base_report(guest->report_base), guest->prev_stats, guest->stats,
			 elapsed_s, guest->facts);
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
vt_guest_set_report(VtGuest *guest, VtReport *report, VtArena *arena, GBytes *envelope,
		    gint64 at_ms)
{
	/* The previous report serves only as the base of rates: what they read
	 * of it is kept, so a guest holds one whole report, not two. */
	if (guest->report_base != NULL && !too_close(guest->report_base->report, report)) {
		vt_rate_base_free(guest->prev_base);
		guest->prev_base = g_steal_pointer(&guest->report_base);
	}
	drop_report(guest);
	guest->report_decoded = report;
	guest->report_arena = arena;
	guest->report_size = arena != NULL ? vt_arena_used(arena) : 0;
	guest->report_envelope = envelope != NULL ? g_bytes_ref(envelope) : NULL;
	guest->report_base = vt_rate_base_new(report);
	guest->report_at_ms = at_ms;
	/* Rates across a reboot would be nonsense. */
	if (guest->prev_base != NULL &&
	    g_strcmp0(boot_id(guest->prev_base->report), boot_id(report)) != 0)
		g_clear_pointer(&guest->prev_base, vt_rate_base_free);
	update_rates(guest);
}

gboolean
vt_guest_has_report(const VtGuest *guest)
{
	return guest->report_decoded != NULL || guest->report_envelope != NULL;
}

static gboolean
release_decoded(gpointer user_data)
{
	g_autoptr(GPtrArray) guests = g_steal_pointer(&decoded_on_demand);

	release_idle = 0;
	for (guint i = 0; guests != NULL && i < guests->len; i++) {
		VtGuest *g = guests->pdata[i];

		g->report_on_demand = FALSE; /* no longer in the list */
		vt_guest_release_report(g);
	}
	return G_SOURCE_REMOVE;
}

const VtReport *
vt_guest_report(const VtGuest *guest)
{
	VtGuest *g = (VtGuest *)guest; /* the decoded form is a cache */
	g_autoptr(GError) error = NULL;
	VtEnvelope *env;
	gsize len;
	const guint8 *data;

	if (g->report_decoded != NULL || g->report_envelope == NULL)
		return g->report_decoded;
	data = g_bytes_get_data(g->report_envelope, &len);
	g->report_arena = vt_arena_new(g->report_size, VT_UNPACK_MEMORY_MAX);
	env = (VtEnvelope *)vt_message_unpack_in(&virttune__v1__envelope__descriptor, data, len,
						 g->report_arena, &error);
	if (env == NULL || env->body_case != VIRTTUNE__V1__ENVELOPE__BODY_REPORT) {
		/* the same bytes decoded when they arrived: only memory can fail
		 * now; the bytes go, so that this is said once, not at every view */
		vt_guest_log(G_LOG_LEVEL_WARNING, g,
			     "the newest report cannot be decoded again: %s",
			     error != NULL ? error->message : "no report in it");
		g_clear_pointer(&g->report_arena, vt_arena_free);
		g_clear_pointer(&g->report_envelope, g_bytes_unref);
		return NULL;
	}
	g->report_decoded = env->report;
	if (decoded_on_demand == NULL)
		decoded_on_demand = g_ptr_array_new();
	g_ptr_array_add(decoded_on_demand, g);
	g->report_on_demand = TRUE;
	if (release_idle == 0)
		release_idle = g_idle_add_full(G_PRIORITY_LOW, release_decoded, NULL, NULL);
	return g->report_decoded;
}

void
vt_guest_release_report(VtGuest *guest)
{
	if (guest->report_envelope != NULL)
		drop_decoded(guest);
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
