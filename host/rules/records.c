/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the rules write: recommendations, skips and their evidence, in their
 * analysis's arena. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "rules-private.h"
#include "rules.h"

/* The strings, records and evidence are the arena's; the action is not. */
static void
recommendation_free(gpointer p)
{
	VtRecommendation *rec = p;

	vt_message_free((ProtobufCMessage *)rec->action);
}

#define ANALYSIS_ARENA_LIMIT (4u * 1024u * 1024u)

/* What the last analysis took (a recommendation and ten skips: about 2.5 KB):
 * the next one's first block, so that a guest's kept analysis is one block
 * of about its size. */
static gsize last_used = 1024;

VtAnalysis *
vt_analysis_new(void)
{
	VtAnalysis *out = g_new0(VtAnalysis, 1);

	out->arena = vt_arena_new(g_atomic_pointer_get(&last_used) + 256, ANALYSIS_ARENA_LIMIT);
	out->recommendations = g_ptr_array_new_with_free_func(recommendation_free);
	out->skipped = g_ptr_array_new();
	return out;
}

void
vt_analysis_finish(VtAnalysis *analysis)
{
	g_atomic_pointer_set(&last_used, MIN(vt_arena_used(analysis->arena), 64u * 1024u));
}

void
vt_analysis_free(VtAnalysis *analysis)
{
	if (analysis == NULL)
		return;
	g_ptr_array_unref(analysis->recommendations);
	g_ptr_array_unref(analysis->skipped);
	vt_arena_free(analysis->arena);
	g_free(analysis);
}

/* @str in @arena, or "" past its limit (which the counts of records bound). */
static const char *
arena_strdup(VtArena *arena, const char *str)
{
	const char *copy = vt_arena_strdup(arena, str);

	return copy != NULL ? copy : "";
}

static const char *arena_vprintf(VtArena *arena, const char *format, va_list ap)
	G_GNUC_PRINTF(2, 0);

static const char *
arena_vprintf(VtArena *arena, const char *format, va_list ap)
{
	char line[256];
	g_autofree char *text = NULL;
	va_list again;
	int n;

	/* most lines fit on the stack: formatted once, copied once */
	va_copy(again, ap);
	n = g_vsnprintf(line, sizeof(line), format, again);
	va_end(again);
	if (n >= 0 && (gsize)n < sizeof(line))
		return arena_strdup(arena, line);
	text = g_strdup_vprintf(format, ap);
	return arena_strdup(arena, text);
}

static const char *arena_printf(VtArena *arena, const char *format, ...) G_GNUC_PRINTF(2, 3);

static const char *
arena_printf(VtArena *arena, const char *format, ...)
{
	va_list ap;
	const char *out;

	va_start(ap, format);
	out = arena_vprintf(arena, format, ap);
	va_end(ap);
	return out;
}

VtRecommendation *
vt_rule_emit(VtRuleCtx *ctx, const char *subject, VtSeverity severity, VtTarget target)
{
	VtArena *arena = ctx->out->arena;
	VtRecommendation *rec;

	if (ctx->out->recommendations->len >= VT_RULES_MAX_RECOMMENDATIONS ||
	    (rec = vt_arena_alloc(arena, sizeof(*rec))) == NULL)
		return NULL;
	memset(rec, 0, sizeof(*rec));
	rec->arena = arena;
	rec->rule = arena_strdup(arena, ctx->rule);
	rec->subject = arena_strdup(arena, subject);
	rec->id = arena_printf(arena, "%s:%s", ctx->rule, subject);
	rec->severity = severity;
	rec->target = target;
	g_ptr_array_add(ctx->out->recommendations, rec);
	return rec;
}

VtRecommendation *
vt_rule_emit_xml(VtRuleCtx *ctx, const char *subject, VtSeverity severity, const char *fragment)
{
	VtRecommendation *rec = vt_rule_emit(ctx, subject, severity, VT_TARGET_HOST);

	if (rec != NULL)
		vt_rec_command(rec, "%s", fragment);
	return rec;
}

void
vt_rule_skip(VtRuleCtx *ctx, const char *format, ...)
{
	VtRuleSkip *skip;
	va_list ap;

	if (ctx->out->skipped->len >= VT_RULES_MAX_SKIPPED ||
	    (skip = vt_arena_alloc(ctx->out->arena, sizeof(*skip))) == NULL)
		return;
	skip->rule = arena_strdup(ctx->out->arena, ctx->rule);
	va_start(ap, format);
	skip->reason = arena_vprintf(ctx->out->arena, format, ap);
	va_end(ap);
	g_ptr_array_add(ctx->out->skipped, skip);
}

void
vt_rec_rationale(VtRecommendation *rec, const char *format, ...)
{
	va_list ap;

	if (rec == NULL)
		return;
	va_start(ap, format);
	rec->rationale = arena_vprintf(rec->arena, format, ap);
	va_end(ap);
}

void
vt_rec_command(VtRecommendation *rec, const char *format, ...)
{
	va_list ap;

	if (rec == NULL)
		return;
	va_start(ap, format);
	rec->command = arena_vprintf(rec->arena, format, ap);
	va_end(ap);
}

/* @key's entry of @rec's evidence: the one it has (a value set again
 * replaces the last, where it stands), or a new one at the end. */
static VtEvidence *
evidence_entry(VtRecommendation *rec, const char *key, VtEvidenceKind kind)
{
	VtEvidence *e = (VtEvidence *)vt_recommendation_evidence_find(rec, key);

	if (e == NULL) {
		if ((e = vt_arena_alloc(rec->arena, sizeof(*e))) == NULL)
			return NULL;
		e->next = NULL;
		e->key = arena_strdup(rec->arena, key);
		if (rec->evidence_last != NULL)
			rec->evidence_last->next = e;
		else
			rec->evidence = e;
		rec->evidence_last = e;
	}
	e->kind = kind;
	return e;
}

void
vt_ev_str(VtRecommendation *rec, const char *key, const char *value)
{
	VtEvidence *e;

	if (rec != NULL && value != NULL && (e = evidence_entry(rec, key, VT_EVIDENCE_STRING)))
		e->value.s = arena_strdup(rec->arena, value);
}

void
vt_ev_uint(VtRecommendation *rec, const char *key, guint64 value)
{
	VtEvidence *e;

	if (rec != NULL && (e = evidence_entry(rec, key, VT_EVIDENCE_INT)))
		e->value.i = value > G_MAXINT64 ? G_MAXINT64 : (gint64)value;
}

void
vt_ev_double(VtRecommendation *rec, const char *key, double value)
{
	VtEvidence *e;

	if (rec != NULL && isfinite(value) && (e = evidence_entry(rec, key, VT_EVIDENCE_DOUBLE)))
		e->value.d = round(value * 100.0) / 100.0;
}

void
vt_ev_bool(VtRecommendation *rec, const char *key, gboolean value)
{
	VtEvidence *e;

	if (rec != NULL && (e = evidence_entry(rec, key, VT_EVIDENCE_BOOL)))
		e->value.b = value;
}

const VtEvidence *
vt_recommendation_evidence_find(const VtRecommendation *rec, const char *key)
{
	for (const VtEvidence *e = rec->evidence; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

JsonObject *
vt_recommendation_evidence(const VtRecommendation *rec)
{
	JsonObject *obj = json_object_new();

	for (const VtEvidence *e = rec->evidence; e != NULL; e = e->next) {
		switch (e->kind) {
		case VT_EVIDENCE_STRING:
			json_object_set_string_member(obj, e->key, e->value.s);
			break;
		case VT_EVIDENCE_INT:
			json_object_set_int_member(obj, e->key, e->value.i);
			break;
		case VT_EVIDENCE_DOUBLE:
			json_object_set_double_member(obj, e->key, e->value.d);
			break;
		case VT_EVIDENCE_BOOL:
			json_object_set_boolean_member(obj, e->key, e->value.b);
			break;
		}
	}
	return obj;
}
