/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "domain.h"
#include "domstats.h"
#include "message.h"
#include "rate-base.h"
#include "rates.h"
#include "rules.h"
#include "session.h"

G_BEGIN_DECLS

/*
 * What the daemon knows about one running domain: the host's view (facts
 * from the live XML, the last two domstats), the guest's (the last two
 * reports), the rates derived from both, and the agent session. Plain data;
 * the daemon updates it through the setters below, which keep the rates in
 * step with what they are derived from.
 */
typedef struct {
	char *uuid;
	char *name;
	int id;

	VtDomainFacts *facts;
	char *xml;            /* the XML the facts came from; reparsed only when it changes */
	gint64 xml_polled_us; /* when a poll last fetched it (monotonic) */
	VtDomstats *stats;
	VtDomstats *prev_stats;
	gint64 stats_at_us; /* monotonic */
	gint64 prev_stats_at_us;

	VtSession *session; /* NULL when the domain has no agent channel */
	/* The newest report: the bytes it came in (an Envelope), and while in
	 * use its decoded form (vt_guest_report(): decoded again on demand,
	 * released when the main loop is idle). Without bytes the decoded form
	 * is all there is, and stays. */
	GBytes *report_envelope;
	VtReport *report_decoded;
	VtArena *report_arena;     /* where report_decoded lives; NULL: on its own */
	gsize report_size;         /* what it took decoded: the next decode's first block */
	gboolean report_on_demand; /* decoded by vt_guest_report(), released when idle */
	VtRateBase *report_base;   /* what the rates read of the newest report */
	VtRateBase *prev_base;     /* and of the one before, the base of the rates */
	gint64 report_at_ms;       /* host realtime when it arrived */
	char *agent_version;
	gboolean can_confirm; /* the agent's Hello offers "confirm" */

	VtRates rates; /* from the two reports, the two domstats and the facts */

	guint retry_timer; /* reconnect to the channel */
	guint retry_delay_s;
	char *last_error;              /* why the agent is not connected, for `list` */
	gboolean seen;                 /* mark & sweep over a poll */
	VtAnalysis *analysis;          /* the rules over the latest report and facts */
	guint64 store_budget_exceeded; /* times its reports went over the store budget */
	gpointer daemon;
} VtGuest;

/* The host's realtime clock in ms: report_at_ms and the views' @now_ms. */
static inline gint64
vt_now_ms(void)
{
	return g_get_real_time() / 1000;
}

VtGuest *vt_guest_new(const char *uuid, const char *name);
void vt_guest_free(VtGuest *guest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtGuest, vt_guest_free)

/* New live XML: reparse when it changed. FALSE (facts kept) on a parse error. */
gboolean vt_guest_set_xml(VtGuest *guest, const char *xml, GError **error);
/* New domstats (ownership taken); the current ones become the previous. */
void vt_guest_set_stats(VtGuest *guest, VtDomstats *stats, gint64 at_us);
/*
 * A new report (ownership taken: of @arena, where it lives, or of @report
 * itself when @arena is NULL); one from another boot drops the previous.
 * @envelope (a reference is taken; may be NULL) holds the bytes @report was
 * decoded from: with them, the decoded form may be released and decoded
 * again when asked for.
 */
void vt_guest_set_report(VtGuest *guest, VtReport *report, VtArena *arena, GBytes *envelope,
			 gint64 at_ms);
/* Whether the guest has sent a report. */
gboolean vt_guest_has_report(const VtGuest *guest);
/* The newest report, or NULL: decoded again from its bytes when it was
 * released. Valid until the main loop is next idle or the next report. */
const VtReport *vt_guest_report(const VtGuest *guest);
/* Let the decoded form of the newest report go where its bytes are kept. */
void vt_guest_release_report(VtGuest *guest);

/* The guests of @guests (uuid -> VtGuest) sorted by name; only @domain (a
 * name or UUID) when not NULL. The array holds borrowed pointers. */
GPtrArray *vt_guests_select(GHashTable *guests, const char *domain);

/* The recommendation @id of the latest analysis, or NULL. */
const VtRecommendation *vt_guest_find_recommendation(const VtGuest *guest, const char *id);

/* A daemon log line about @guest, with DOMAIN and DOMAIN_UUID fields. */
void vt_guest_log(GLogLevelFlags level, const VtGuest *guest, const char *format, ...)
	G_GNUC_PRINTF(3, 4);

/* Agent state for humans: "connected", "handshake", "no channel", … */
const char *vt_guest_agent_state(const VtGuest *guest);

G_END_DECLS
