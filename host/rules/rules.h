/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "arena.h"
#include "capabilities.h"
#include "domain.h"
#include "domstats.h"
#include "host-system.h"
#include "message.h"
#include "rates.h"

G_BEGIN_DECLS

/*
 * The rules engine: pure functions from (report, previous report, domain
 * facts, domstats, rates, config) to recommendations. Nothing here does I/O
 * except vt_rules_config_load(); the daemon and `virt-tune analyze` call the
 * same vt_rules_run() and get the same answer for the same input.
 */

typedef enum {
	VT_SEVERITY_INFO,
	VT_SEVERITY_WARNING,
	VT_SEVERITY_CRITICAL,
} VtSeverity;

typedef enum {
	VT_TARGET_GUEST, /* a typed action the agent applies */
	VT_TARGET_HOST,  /* a virsh command or domain XML edit for the operator */
} VtTarget;

/* One number (or string) of a recommendation's evidence, in its analysis's
 * arena; vt_recommendation_evidence() gives them as a JSON object. */
typedef enum {
	VT_EVIDENCE_STRING,
	VT_EVIDENCE_INT,
	VT_EVIDENCE_DOUBLE,
	VT_EVIDENCE_BOOL,
} VtEvidenceKind;

typedef struct VtEvidence VtEvidence;
struct VtEvidence {
	VtEvidence *next;
	const char *key;
	VtEvidenceKind kind;
	union {
		const char *s;
		gint64 i;
		double d;
		gboolean b;
	} value;
};

/* A run's recommendations and skips, and their strings, live in its
 * analysis's arena: freed with it at once. */
typedef struct {
	const char *id;      /* "<rule>:<subject>", stable across runs: "nic.queues:eth0" */
	const char *rule;    /* "nic.queues" */
	const char *subject; /* "eth0", "vdb", "domain", "vm.swappiness" */
	VtSeverity severity;
	VtTarget target;
	/* Guest targets: the action for an ApplyRequest (malloc-allocated protobuf,
	 * owned here; copy it or steal it with g_steal_pointer). NULL for host targets. */
	VtAction *action;
	/* Guest: the equivalent shell command. Host: the virsh command or the XML
	 * fragment to put in the domain definition. */
	const char *command;
	const char *rationale; /* one paragraph, with the numbers of both sides */
	VtEvidence *evidence;  /* the numbers, as fields, in a fixed order */
	VtEvidence *evidence_last;
	VtArena *arena; /* the analysis's */
} VtRecommendation;

typedef struct {
	const char *rule;
	const char *reason;
} VtRuleSkip;

typedef struct {
	GPtrArray *recommendations; /* VtRecommendation, in deterministic order */
	GPtrArray *skipped;         /* VtRuleSkip: rules (or subjects) not evaluated */
	VtArena *arena;             /* where both lists' records and strings live */
} VtAnalysis;

/* What one run sees. Only @report is required; the rest narrows what can be said. */
typedef struct {
	const VtReport *report;
	const VtReport *previous;   /* an earlier report of the same guest, or NULL */
	const VtDomainFacts *facts; /* the domain XML, or NULL */
	const VtDomstats *stats;    /* this domain's domstats, or NULL */
	const VtRates *rates;       /* from vt_rates_compute(); NULL: computed here */
	const VtHostCaps *caps;     /* the host's NUMA topology, or NULL */
} VtRuleInput;

/* One running domain, as the host-wide rules see it. */
typedef struct {
	const char *name;
	const VtDomainFacts *facts; /* NULL: its XML is not known (left out of the sums) */
	const VtRates *rates;       /* balloon actual; may be NULL */
} VtHostGuestInput;

/* What a run of the host-wide rules (host.*) sees; any member may be NULL/0. */
typedef struct {
	const VtHostSystem *system; /* the host's /proc and /sys */
	const VtNodeFacts *node;    /* virNodeGetInfo */
	const VtHostCaps *caps;     /* virConnectGetCapabilities */
	const VtHostGuestInput *guests;
	guint n_guests;
	GPtrArray *images; /* VtHostImage: the device under each guest image */
} VtHostInput;

typedef struct _VtRulesConfig VtRulesConfig;

/* ---------------------------------------------------------------- registry */

typedef enum {
	VT_RULE_NEEDS_XML = 1 << 0,   /* reads the domain XML */
	VT_RULE_NEEDS_STATS = 1 << 1, /* reads domstats */
	VT_RULE_HOST = 1 << 2,        /* about the host itself: vt_rules_run_host() only */
	VT_RULE_NEEDS_CAPS = 1 << 3,  /* reads the host's capabilities */
} VtRuleNeeds;

typedef struct {
	const char *name;    /* "nic.queues" */
	const char *summary; /* one line for --help and docs */
	VtRuleNeeds needs;
} VtRuleInfo;

/* Rules in catalogue order (nic, net, blk, mem, io, cpu). */
guint vt_rules_count(void);
const VtRuleInfo *vt_rules_info(guint index);
/* Catalogue index of @name, or -1. */
int vt_rules_index(const char *name);

/* ---------------------------------------------------------------- config */

/*
 * Thresholds and targets. A config file is a GKeyFile with one group, [rules],
 * whose keys are "<rule>.<parameter>" ("mem.swapping.warning_pages_per_s=200",
 * "nic.queues.enable=false"), read by common/keyfile.c. Wrong types and values
 * out of range are errors naming the file, line, key and reason; unknown groups
 * and keys are warnings.
 */
VtRulesConfig *vt_rules_config_new(void); /* the documented defaults */
/* Unknown keys and groups are appended to @warnings ("FILE:LINE: ...,
 * ignoring"; may be NULL); every error names the file and line. */
VtRulesConfig *vt_rules_config_load(const char *path, GPtrArray *warnings, GError **error);
/* Apply @data (GKeyFile text) over @config; @name is used in error messages. */
gboolean vt_rules_config_load_data(VtRulesConfig *config, const char *data, gsize len,
				   const char *name, GPtrArray *warnings, GError **error);
void vt_rules_config_free(VtRulesConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtRulesConfig, vt_rules_config_free)

gboolean vt_rules_config_enabled(const VtRulesConfig *config, const char *rule);

/* Parameters, for documentation: call with index 0.. until FALSE. */
gboolean vt_rules_config_param(guint index, const char **key, const char **default_value,
			       const char **doc);

/* ---------------------------------------------------------------- running */

VtAnalysis *vt_rules_run(const VtRuleInput *input, const VtRulesConfig *config);
/* The host's RAM and the reserve kept for it (FALSE when the RAM is unknown),
 * and the guests' memory now (balloon considered) and at most. */
gboolean vt_host_memory_budget(const VtHostInput *h, const VtRulesConfig *cfg, guint64 *ram,
			       guint64 *reserve, const char **source);
void vt_host_guest_memory(const VtHostInput *h, guint64 *current, guint64 *maximum,
			  guint *ballooned);

/* The host-wide rules (subjects "host", a host device, a sysctl key). */
VtAnalysis *vt_rules_run_host(const VtHostInput *input, const VtRulesConfig *config);
void vt_analysis_free(VtAnalysis *analysis);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtAnalysis, vt_analysis_free)

/*
 * {"recommendations": [{"id", "rule", "severity", "target", "action", "command",
 *   "rationale", "evidence"}], "skipped": [{"rule", "reason"}]}
 * "action" is the canonical JSON of the Action, or null for host targets.
 */
JsonNode *vt_analysis_to_json(const VtAnalysis *analysis, GError **error);
JsonNode *vt_recommendation_to_json(const VtRecommendation *rec, GError **error);
/* @rec's evidence as a new JSON object, its members in the order they were
 * set (json_object_unref() it). */
JsonObject *vt_recommendation_evidence(const VtRecommendation *rec);
/* @key of @rec's evidence, or NULL. */
const VtEvidence *vt_recommendation_evidence_find(const VtRecommendation *rec, const char *key);

const char *vt_severity_name(VtSeverity severity);
const char *vt_target_name(VtTarget target);

G_END_DECLS
