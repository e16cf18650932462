/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "keyfile.h"
#include "message.h"

G_BEGIN_DECLS

/*
 * The [apply] group of agent.conf: what the guest's admin lets the host
 * change. Without it the agent is report-only.
 *
 *   [apply]
 *   allow=channels;features;rings;scheduler;queue;sysctl:vm.swappiness
 *   persist=false
 *   channels.max=4                  combined, rx and tx each at most this
 *   rings.max=1024                  rx and tx ring sizes
 *   queue.nr_requests.min=4 / .max=1024    (default 1..VT_POLICY_NR_REQUESTS_MAX)
 *   queue.read_ahead_kb.min=0 / .max=4096  (default 0..VT_POLICY_READ_AHEAD_KB_MAX)
 *   sysctl.vm.swappiness.min=0 / .max=60
 */
typedef enum {
	VT_POLICY_CHANNELS = 1u << 0,
	VT_POLICY_FEATURES = 1u << 1,
	VT_POLICY_RINGS = 1u << 2,
	VT_POLICY_SCHEDULER = 1u << 3,
	VT_POLICY_QUEUE = 1u << 4,
	VT_POLICY_SYSCTL = 1u << 5, /* one key at a time, see sysctls */
} VtPolicyClass;

#define VT_POLICY_MAX_SYSCTLS 16u

/* Default bounds of the queue parameters, where the kernel sets none that a
 * typo cannot reach: blk-mq tag sets stop at 10240 requests (BLK_MQ_MAX_DEPTH)
 * and read-ahead beyond 64 MiB only evicts page cache. The admin may widen
 * them with queue.*.max. */
#define VT_POLICY_NR_REQUESTS_MAX   10240u
#define VT_POLICY_READ_AHEAD_KB_MAX 65536u

/* The sysctls an agent can ever change, with the kernel's own range (numeric)
 * or the words it takes (THP). */
typedef struct {
	const char *key;          /* dotted, as in the report */
	const char *path;         /* under the sysroot */
	guint32 min, max;         /* numeric keys */
	const char *const *words; /* NULL for numeric keys */
} VtSysctlSpec;

const VtSysctlSpec *vt_sysctl_spec(const char *key);
const VtSysctlSpec *vt_sysctl_specs(guint *n);

typedef struct {
	guint32 min, max;
} VtPolicyRange;

typedef struct {
	guint classes;               /* VtPolicyClass bits */
	char **sysctls;              /* allowed keys, NULL-terminated, never NULL */
	VtPolicyRange *sysctl_range; /* one per vt_sysctl_specs() entry */
	gboolean persist;
	guint32 channels_max; /* G_MAXUINT32: only the device's limit */
	guint32 rings_max;
	VtPolicyRange nr_requests;
	VtPolicyRange read_ahead_kb;
} VtPolicy;

/* Report-only: nothing allowed. */
VtPolicy *vt_policy_new(void);
VtPolicy *vt_policy_copy(const VtPolicy *policy);
void vt_policy_free(VtPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtPolicy, vt_policy_free)

/*
 * The keys of the [apply] group (absent: report-only), stored in a VtPolicy
 * by vt_keyfile_apply(); then vt_policy_check() refuses a minimum above its
 * maximum, naming the line that set it.
 */
const VtKeySpec *vt_policy_key_specs(gsize *n);
gboolean vt_policy_check(const VtPolicy *policy, const VtKeyfile *kf, const char *group,
			 GError **error);

/* Is the class of @action (and for a sysctl, its key) allowed? */
gboolean vt_policy_allows(const VtPolicy *policy, VtPolicyClass klass, const char *sysctl_key);

/* The Hello's summary; strings point into @policy and @out->allowed is
 * g_free'd by vt_policy_summary_clear(). */
void vt_policy_summary_fill(const VtPolicy *policy, VtPolicySummary *out);
void vt_policy_summary_clear(VtPolicySummary *summary);

G_END_DECLS
