/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "policy.h"

#include <stddef.h>
#include <string.h>

#include "bounds.h"
#include "error.h"

static const char *const thp_enabled_words[] = {"always", "madvise", "never", NULL};
static const char *const thp_defrag_words[] = {"always",  "defer", "defer+madvise",
					       "madvise", "never", NULL};

/* Upper bounds the kernel itself does not impose are set where a value stops
 * making sense, so a typo cannot push a guest into a pathological state. */
static const VtSysctlSpec sysctl_specs[] = {
	{"vm.swappiness", "proc/sys/vm/swappiness", 0, 200, NULL},
	{"vm.dirty_ratio", "proc/sys/vm/dirty_ratio", 0, 100, NULL},
	{"vm.dirty_background_ratio", "proc/sys/vm/dirty_background_ratio", 0, 100, NULL},
	{"vm.vfs_cache_pressure", "proc/sys/vm/vfs_cache_pressure", 0, 1000, NULL},
	{"kernel.transparent_hugepage.enabled", "sys/kernel/mm/transparent_hugepage/enabled", 0, 0,
	 thp_enabled_words},
	{"kernel.transparent_hugepage.defrag", "sys/kernel/mm/transparent_hugepage/defrag", 0, 0,
	 thp_defrag_words},
	/* receive backlog and socket buffer ceilings: 1 GiB is far past any NIC's need */
	{"net.core.netdev_max_backlog", "proc/sys/net/core/netdev_max_backlog", 1, 1048576, NULL},
	{"net.core.rmem_max", "proc/sys/net/core/rmem_max", 4096, 1073741824, NULL},
	{"net.core.wmem_max", "proc/sys/net/core/wmem_max", 4096, 1073741824, NULL},
};

const VtSysctlSpec *
vt_sysctl_specs(guint *n)
{
	*n = G_N_ELEMENTS(sysctl_specs);
	return sysctl_specs;
}

const VtSysctlSpec *
vt_sysctl_spec(const char *key)
{
	for (gsize i = 0; key != NULL && i < G_N_ELEMENTS(sysctl_specs); i++)
		if (strcmp(sysctl_specs[i].key, key) == 0)
			return &sysctl_specs[i];
	return NULL;
}

static const struct {
	const char *name;
	VtPolicyClass klass;
} class_names[] = {
	{"channels", VT_POLICY_CHANNELS}, {"features", VT_POLICY_FEATURES},
	{"rings", VT_POLICY_RINGS},       {"scheduler", VT_POLICY_SCHEDULER},
	{"queue", VT_POLICY_QUEUE},
};

VtPolicy *
vt_policy_new(void)
{
	VtPolicy *p = g_new0(VtPolicy, 1);

	p->sysctls = g_new0(char *, 1);
	p->sysctl_range = g_new0(VtPolicyRange, G_N_ELEMENTS(sysctl_specs));
	for (gsize i = 0; i < G_N_ELEMENTS(sysctl_specs); i++) {
		p->sysctl_range[i].min = sysctl_specs[i].min;
		p->sysctl_range[i].max = sysctl_specs[i].max;
	}
	p->channels_max = G_MAXUINT32;
	p->rings_max = G_MAXUINT32;
	p->nr_requests = (VtPolicyRange){1, VT_POLICY_NR_REQUESTS_MAX};
	p->read_ahead_kb = (VtPolicyRange){0, VT_POLICY_READ_AHEAD_KB_MAX};
	return p;
}

VtPolicy *
vt_policy_copy(const VtPolicy *policy)
{
	VtPolicy *p = g_memdup2(policy, sizeof(*policy));

	p->sysctls = g_strdupv(policy->sysctls);
	p->sysctl_range =
		g_memdup2(policy->sysctl_range, sizeof(VtPolicyRange) * G_N_ELEMENTS(sysctl_specs));
	return p;
}

void
vt_policy_free(VtPolicy *policy)
{
	if (policy == NULL)
		return;
	g_strfreev(policy->sysctls);
	g_free(policy->sysctl_range);
	g_free(policy);
}

gboolean
vt_policy_allows(const VtPolicy *policy, VtPolicyClass klass, const char *sysctl_key)
{
	if (!(policy->classes & klass))
		return FALSE;
	if (klass == VT_POLICY_SYSCTL)
		return sysctl_key != NULL &&
		       g_strv_contains((const char *const *)policy->sysctls, sysctl_key);
	return TRUE;
}

static gboolean
add_allowed(VtPolicy *p, GPtrArray *keys, const char *item, GError **error)
{
	for (gsize c = 0; c < G_N_ELEMENTS(class_names); c++) {
		if (strcmp(item, class_names[c].name) == 0) {
			p->classes |= class_names[c].klass;
			return TRUE;
		}
	}
	if (g_str_has_prefix(item, "sysctl:") && vt_sysctl_spec(item + 7) != NULL) {
		if (keys->len >= VT_POLICY_MAX_SYSCTLS) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE, "more than %u sysctl keys",
				    VT_POLICY_MAX_SYSCTLS);
			return FALSE;
		}
		p->classes |= VT_POLICY_SYSCTL;
		if (!g_ptr_array_find_with_equal_func(keys, item + 7, g_str_equal, NULL))
			g_ptr_array_add(keys, g_strdup(item + 7));
		return TRUE;
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
		    "unknown class '%.64s' (known: channels, features, rings, scheduler, "
		    "queue, sysctl:KEY for vm.swappiness, vm.dirty_ratio, "
		    "vm.dirty_background_ratio, vm.vfs_cache_pressure, "
		    "kernel.transparent_hugepage.enabled, kernel.transparent_hugepage.defrag)",
		    item);
	return FALSE;
}

/* allow=: a list of classes; the last allow= line wins, as for any key */
static gboolean
parse_allow(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	VtPolicy *p = field;
	g_auto(GStrv) items = NULL;
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local = NULL;
	const VtKeySpec list = {.key = "allow", .max = VT_REPEATED_MAX};

	if (!vt_key_parse_list(&list, e, &items, error))
		return FALSE;
	p->classes = 0;
	for (guint i = 0; items[i] != NULL; i++) {
		if (!add_allowed(p, keys, items[i], &local)) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", e->key);
			return FALSE;
		}
	}
	g_ptr_array_add(keys, NULL);
	g_strfreev(p->sysctls);
	p->sysctls = (char **)g_ptr_array_free(g_steal_pointer(&keys), FALSE);
	return TRUE;
}

/* sysctl.KEY.min / sysctl.KEY.max, within the kernel's range of KEY */
static gboolean
parse_sysctl_bound(const VtKeySpec *spec, const VtKeyEntry *e, gpointer field, GError **error)
{
	VtPolicy *p = field;
	gboolean is_min = g_str_has_suffix(e->key, ".min");
	g_autofree char *name = g_strndup(e->key + strlen("sysctl."),
					  strlen(e->key) - strlen("sysctl.") - strlen(".min"));

	for (gsize s = 0; s < G_N_ELEMENTS(sysctl_specs); s++) {
		const VtSysctlSpec *ss = &sysctl_specs[s];
		VtKeySpec range = {.min = ss->min, .max = ss->max};
		guint v;

		if (strcmp(ss->key, name) != 0)
			continue;
		if (ss->words != NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "%s: %s takes words, not a numeric range", e->key, name);
			return FALSE;
		}
		if (!vt_key_parse_uint(&range, e, &v, error))
			return FALSE;
		if (is_min)
			p->sysctl_range[s].min = v;
		else
			p->sysctl_range[s].max = v;
		return TRUE;
	}
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
		    "%s: no sysctl '%.64s' can be changed (see allow=sysctl:KEY)", e->key, name);
	return FALSE;
}

#define POLICY(field) offsetof(VtPolicy, field)

static const VtKeySpec policy_keys[] = {
	{"allow", parse_allow, 0},
	{"persist", vt_key_parse_bool, POLICY(persist)},
	{"channels.max", vt_key_parse_uint, POLICY(channels_max), 1, G_MAXUINT32},
	{"rings.max", vt_key_parse_uint, POLICY(rings_max), 1, G_MAXUINT32},
	{"queue.nr_requests.min", vt_key_parse_uint, POLICY(nr_requests.min), 1, G_MAXUINT32},
	{"queue.nr_requests.max", vt_key_parse_uint, POLICY(nr_requests.max), 1, G_MAXUINT32},
	{"queue.read_ahead_kb.min", vt_key_parse_uint, POLICY(read_ahead_kb.min), 0, G_MAXUINT32},
	{"queue.read_ahead_kb.max", vt_key_parse_uint, POLICY(read_ahead_kb.max), 0, G_MAXUINT32},
	{"sysctl.*.min", parse_sysctl_bound, 0},
	{"sysctl.*.max", parse_sysctl_bound, 0},
};

const VtKeySpec *
vt_policy_key_specs(gsize *n)
{
	*n = G_N_ELEMENTS(policy_keys);
	return policy_keys;
}

static gboolean
check_range(const VtPolicyRange *r, const VtKeyfile *kf, const char *group, const char *prefix,
	    GError **error)
{
	g_autofree char *min_key = NULL;
	g_autofree char *at = NULL;

	if (r->min <= r->max)
		return TRUE;
	min_key = g_strconcat(prefix, ".min", NULL);
	at = vt_keyfile_where(kf, group, min_key);
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "%s%s (%u) is above %s.max (%u)", at,
		    min_key, r->min, prefix, r->max);
	return FALSE;
}

gboolean
vt_policy_check(const VtPolicy *p, const VtKeyfile *kf, const char *group, GError **error)
{
	for (gsize s = 0; s < G_N_ELEMENTS(sysctl_specs); s++) {
		g_autofree char *prefix = g_strconcat("sysctl.", sysctl_specs[s].key, NULL);

		if (!check_range(&p->sysctl_range[s], kf, group, prefix, error))
			return FALSE;
	}
	return check_range(&p->nr_requests, kf, group, "queue.nr_requests", error) &&
	       check_range(&p->read_ahead_kb, kf, group, "queue.read_ahead_kb", error);
}

void
vt_policy_summary_fill(const VtPolicy *policy, VtPolicySummary *out)
{
	g_autoptr(GPtrArray) allowed = g_ptr_array_new();

	for (gsize c = 0; c < G_N_ELEMENTS(class_names); c++)
		if (policy->classes & class_names[c].klass)
			g_ptr_array_add(allowed, (char *)class_names[c].name);
	for (guint i = 0; policy->sysctls[i] != NULL; i++)
		g_ptr_array_add(allowed, g_strconcat("sysctl:", policy->sysctls[i], NULL));
	out->n_allowed = allowed->len;
	/* the sysctl entries are allocated: remember where they start */
	out->allowed = (char **)g_ptr_array_free(g_steal_pointer(&allowed), FALSE);
	out->has_persist = TRUE;
	out->persist = policy->persist;
}

void
vt_policy_summary_clear(VtPolicySummary *summary)
{
	for (gsize i = 0; i < summary->n_allowed; i++)
		if (g_str_has_prefix(summary->allowed[i], "sysctl:"))
			g_free(summary->allowed[i]);
	g_free(summary->allowed);
	summary->allowed = NULL;
	summary->n_allowed = 0;
}
