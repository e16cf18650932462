/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "policy.h"

#include <string.h>

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
	p->nr_requests = (VtPolicyRange){1, G_MAXUINT32};
	p->read_ahead_kb = (VtPolicyRange){0, G_MAXUINT32};
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
parse_allow(GKeyFile *kf, const char *group, VtPolicy *p, GError **error)
{
	g_auto(GStrv) items = NULL;
	g_autoptr(GPtrArray) keys = g_ptr_array_new();
	gsize n = 0;

	items = g_key_file_get_string_list(kf, group, "allow", &n, NULL);
	for (gsize i = 0; items != NULL && i < n; i++) {
		const char *item = g_strstrip(items[i]);
		gboolean known = FALSE;

		if (item[0] == '\0')
			continue;
		for (gsize c = 0; c < G_N_ELEMENTS(class_names); c++) {
			if (strcmp(item, class_names[c].name) == 0) {
				p->classes |= class_names[c].klass;
				known = TRUE;
			}
		}
		if (known)
			continue;
		if (g_str_has_prefix(item, "sysctl:") && vt_sysctl_spec(item + 7) != NULL) {
			if (keys->len >= VT_POLICY_MAX_SYSCTLS) {
				g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
					    "more than %u sysctl keys", VT_POLICY_MAX_SYSCTLS);
				return FALSE;
			}
			p->classes |= VT_POLICY_SYSCTL;
			if (!g_ptr_array_find_with_equal_func(keys, item + 7, g_str_equal, NULL))
				g_ptr_array_add(keys, g_strdup(item + 7));
			continue;
		}
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "unknown class '%.64s' (known: channels, features, rings, scheduler, "
			    "queue, sysctl:KEY for vm.swappiness, vm.dirty_ratio, "
			    "vm.dirty_background_ratio, vm.vfs_cache_pressure, "
			    "kernel.transparent_hugepage.enabled, "
			    "kernel.transparent_hugepage.defrag)",
			    item);
		for (guint k = 0; k < keys->len; k++)
			g_free(keys->pdata[k]);
		return FALSE;
	}
	g_ptr_array_add(keys, NULL);
	g_strfreev(p->sysctls);
	p->sysctls = (char **)g_ptr_array_free(g_steal_pointer(&keys), FALSE);
	return TRUE;
}

static gboolean
get_u32(GKeyFile *kf, const char *group, const char *key, guint32 lo, guint32 hi, guint32 *out,
	GError **error)
{
	g_autofree char *value = g_key_file_get_value(kf, group, key, NULL);
	guint64 v;

	g_strstrip(value);
	if (!g_ascii_string_to_unsigned(value, 10, lo, hi, &v, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "'%.32s' is not a whole number in %u..%u", value, lo, hi);
		return FALSE;
	}
	*out = (guint32)v;
	return TRUE;
}

/* "PREFIX.min" / "PREFIX.max" into @range, within @lo..@hi. */
static gboolean
parse_bound(GKeyFile *kf, const char *group, const char *key, const char *prefix, guint32 lo,
	    guint32 hi, VtPolicyRange *range, gboolean *matched, GError **error)
{
	gsize plen = strlen(prefix);

	if (strncmp(key, prefix, plen) != 0)
		return TRUE;
	if (strcmp(key + plen, ".min") == 0) {
		*matched = TRUE;
		return get_u32(kf, group, key, lo, hi, &range->min, error);
	}
	if (strcmp(key + plen, ".max") == 0) {
		*matched = TRUE;
		return get_u32(kf, group, key, lo, hi, &range->max, error);
	}
	return TRUE;
}

VtPolicy *
vt_policy_from_key_file(GKeyFile *kf, const char *group, GPtrArray *warnings, char **bad_key,
			GError **error)
{
	g_autoptr(VtPolicy) p = vt_policy_new();
	g_auto(GStrv) keys = NULL;
	g_autoptr(GError) local = NULL;

	if (!g_key_file_has_group(kf, group))
		return g_steal_pointer(&p);
	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const char *key = keys[i];
		gboolean ok = TRUE, matched = FALSE;

		if (strcmp(key, "allow") == 0) {
			matched = TRUE;
			ok = parse_allow(kf, group, p, &local);
		} else if (strcmp(key, "persist") == 0) {
			matched = TRUE;
			p->persist = g_key_file_get_boolean(kf, group, key, &local);
			ok = local == NULL;
		} else if (strcmp(key, "channels.max") == 0) {
			matched = TRUE;
			ok = get_u32(kf, group, key, 1, G_MAXUINT32, &p->channels_max, &local);
		} else if (strcmp(key, "rings.max") == 0) {
			matched = TRUE;
			ok = get_u32(kf, group, key, 1, G_MAXUINT32, &p->rings_max, &local);
		} else if (g_str_has_prefix(key, "queue.")) {
			ok = parse_bound(kf, group, key, "queue.nr_requests", 1, G_MAXUINT32,
					 &p->nr_requests, &matched, &local) &&
			     parse_bound(kf, group, key, "queue.read_ahead_kb", 0, G_MAXUINT32,
					 &p->read_ahead_kb, &matched, &local);
		} else if (g_str_has_prefix(key, "sysctl.")) {
			for (gsize s = 0; ok && !matched && s < G_N_ELEMENTS(sysctl_specs); s++) {
				g_autofree char *prefix =
					g_strconcat("sysctl.", sysctl_specs[s].key, NULL);
				if (sysctl_specs[s].words != NULL)
					continue;
				ok = parse_bound(kf, group, key, prefix, sysctl_specs[s].min,
						 sysctl_specs[s].max, &p->sysctl_range[s], &matched,
						 &local);
			}
		}
		if (!ok) {
			if (bad_key != NULL)
				*bad_key = g_strdup(key);
			g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", key);
			return NULL;
		}
		if (!matched && warnings != NULL)
			g_ptr_array_add(warnings,
					g_strdup_printf("unknown key '%.64s' in [%s], ignoring",
							key, group));
	}
	for (gsize s = 0; s < G_N_ELEMENTS(sysctl_specs); s++) {
		if (p->sysctl_range[s].min > p->sysctl_range[s].max) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "sysctl.%s.min is above its max", sysctl_specs[s].key);
			return NULL;
		}
	}
	if (p->nr_requests.min > p->nr_requests.max ||
	    p->read_ahead_kb.min > p->read_ahead_kb.max) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "a queue.*.min is above its max");
		return NULL;
	}
	return g_steal_pointer(&p);
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
