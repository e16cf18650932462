/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sysctls of the allow-list (policy.h): numbers in /proc/sys, and the THP
 * words in /sys; persisted in sysctl.d or, for /sys, tmpfiles.d. */
#include "apply-private.h"

#include <errno.h>
#include <string.h>

#include "kernel/sysattr.h"

/* "4294967295": more digits than that is no value of ours */
#define VT_APPLY_NUMBER_MAX 10u

static int
sysctl_read(VtApplier *ap, const VtAction *a, char **value)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);
	int r;

	if (spec == NULL)
		return -EINVAL;
	if (spec->words == NULL)
		return vt_sysattr_read(ap->root_fd, spec->path, value);
	r = vt_apply_read_choice(ap, spec->path, value, NULL);
	if (r < 0)
		return r;
	return *value != NULL ? 0 : -EINVAL;
}

static int
sysctl_write(VtApplier *ap, const VtAction *a, const char *value)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);

	return spec != NULL ? vt_sysattr_write(ap->root_fd, spec->path, value) : -EINVAL;
}

static gboolean
number_check(VtApplier *ap, const VtSysctlSpec *spec, const char *value, VtApplyCheck *c)
{
	guint n = 0;
	const VtSysctlSpec *all = vt_sysctl_specs(&n);
	const VtPolicyRange *range = &ap->policy->sysctl_range[spec - all];
	guint64 v;
	int r = vt_sysattr_read(ap->root_fd, spec->path, &c->before);

	if (r < 0)
		return vt_apply_read_verdict(c, r);
	if (strlen(value) > VT_APPLY_NUMBER_MAX || strspn(value, "0123456789") != strlen(value) ||
	    value[0] == '\0')
		return vt_apply_verdict(c, ST_INVALID, "bad_value", 0);
	if (!g_ascii_string_to_unsigned(value, 10, spec->min, spec->max, &v, NULL))
		return vt_apply_verdict(c, ST_INVALID, "out_of_range", 0);
	if (v < range->min || v > range->max)
		return vt_apply_verdict(c, ST_REFUSED, "policy_bounds", 0);
	c->target = g_strdup_printf("%" G_GUINT64_FORMAT, v);
	return TRUE;
}

static gboolean
words_check(VtApplier *ap, const VtSysctlSpec *spec, const char *value, VtApplyCheck *c)
{
	g_auto(GStrv) available = NULL;
	int r = vt_apply_read_choice(ap, spec->path, &c->before, &available);

	if (r < 0)
		return vt_apply_read_verdict(c, r);
	if (!g_strv_contains(spec->words, value))
		return vt_apply_verdict(c, ST_INVALID, "bad_value", 0);
	if (!g_strv_contains((const char *const *)available, value))
		return vt_apply_verdict(c, ST_INVALID, "not_supported", 0);
	if (c->before == NULL)
		return vt_apply_verdict(c, ST_FAILED, "kernel", EINVAL);
	c->target = g_strdup(value);
	return TRUE;
}

static gboolean
sysctl_check(VtApplier *ap, const VtAction *a, VtApplyCheck *c)
{
	const VtSetSysctl *s = a->set_sysctl;
	const VtSysctlSpec *spec = vt_sysctl_spec(s->key);

	if (spec == NULL)
		return vt_apply_verdict(c, ST_INVALID, "unknown_sysctl", 0);
	if (!vt_policy_allows(ap->policy, VT_POLICY_SYSCTL, s->key))
		return vt_apply_verdict(c, ST_REFUSED, "policy", 0);
	if (s->value == NULL)
		return vt_apply_verdict(c, ST_INVALID, "bad_request", 0);
	if (spec->words == NULL)
		return number_check(ap, spec, s->value, c);
	return words_check(ap, spec, s->value, c);
}

static char *
sysctl_command(const VtAction *a, const char *value)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);

	if (spec != NULL && spec->words != NULL)
		return g_strdup_printf("echo %s > /%s", value, spec->path);
	return g_strdup_printf("sysctl -w %s=%s", a->set_sysctl->key, value);
}

static gboolean
sysctl_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	const VtSysctlSpec *spec = vt_sysctl_spec(a->set_sysctl->key);

	if (spec == NULL)
		return FALSE;
	if (spec->words != NULL)
		g_ptr_array_add(out, vt_dropin_tmpfile(spec->path, value));
	else
		g_ptr_array_add(out, vt_dropin_sysctl(spec->key, value));
	return TRUE;
}

const VtApplyKind vt_apply_sysctl = {
	VT_POLICY_SYSCTL, "sysctl",       sysctl_check,   sysctl_read,
	sysctl_write,     sysctl_command, sysctl_persist,
};
