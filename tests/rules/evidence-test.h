/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A recommendation's evidence, read by the rules' tests: each value must be
 * there and of its kind. */
#include <glib.h>

#include "rules.h"

static inline const VtEvidence *
ev_of(const VtRecommendation *r, const char *key, VtEvidenceKind kind)
{
	const VtEvidence *e = vt_recommendation_evidence_find(r, key);

	g_assert_nonnull(e);
	g_assert_cmpint(e->kind, ==, kind);
	return e;
}

static inline const char *
ev_str(const VtRecommendation *r, const char *key)
{
	return ev_of(r, key, VT_EVIDENCE_STRING)->value.s;
}

static inline gint64
ev_int(const VtRecommendation *r, const char *key)
{
	return ev_of(r, key, VT_EVIDENCE_INT)->value.i;
}

static inline double
ev_double(const VtRecommendation *r, const char *key)
{
	return ev_of(r, key, VT_EVIDENCE_DOUBLE)->value.d;
}

static inline gboolean
ev_bool(const VtRecommendation *r, const char *key)
{
	return ev_of(r, key, VT_EVIDENCE_BOOL)->value.b;
}
