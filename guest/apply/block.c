/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A block device's scheduler and queue parameters, in /sys/block/DEV/queue;
 * persisted in a udev rule. */
#include "apply-private.h"

#include <errno.h>
#include <string.h>

#include "kernel/sysattr.h"

#define VT_APPLY_BLOCK_NAME_MAX 31u /* DISK_NAME_LEN - 1 */
#define VT_APPLY_WORD_MAX       32u /* scheduler names */

static char *
queue_path(const char *device, const char *attr)
{
	return g_strdup_printf("sys/block/%s/queue/%s", device, attr);
}

/* ---------------------------------------------------------------- scheduler */

static int
scheduler_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autofree char *rel = queue_path(a->set_scheduler->device, "scheduler");
	int r = vt_apply_read_choice(ap, rel, value, NULL);

	if (r < 0)
		return r;
	return *value != NULL ? 0 : -EINVAL;
}

static int
scheduler_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autofree char *rel = queue_path(a->set_scheduler->device, "scheduler");

	return vt_sysattr_write(ap->root_fd, rel, value);
}

static gboolean
scheduler_check(VtApplier *ap, const VtAction *a, VtApplyCheck *c)
{
	const VtSetScheduler *s = a->set_scheduler;
	g_autofree char *rel = NULL;
	g_auto(GStrv) available = NULL;
	int r;

	if (!vt_apply_plain_name(s->device, VT_APPLY_BLOCK_NAME_MAX) ||
	    !vt_apply_plain_name(s->name, VT_APPLY_WORD_MAX))
		return vt_apply_verdict(c, ST_INVALID, "bad_name", 0);
	rel = queue_path(s->device, "scheduler");
	r = vt_apply_read_choice(ap, rel, &c->before, &available);
	/* ENOENT also for a partition: it has no queue of its own */
	if (r < 0)
		return vt_apply_read_verdict(c, r);
	if (c->before == NULL)
		return vt_apply_verdict(c, ST_FAILED, "kernel", EINVAL);
	if (!g_strv_contains((const char *const *)available, s->name))
		return vt_apply_verdict(c, ST_INVALID, "unknown_scheduler", 0);
	c->target = g_strdup(s->name);
	return TRUE;
}

static char *
scheduler_command(const VtAction *a, const char *value)
{
	return g_strdup_printf("echo %s > /sys/block/%s/queue/scheduler", value,
			       a->set_scheduler->device);
}

static gboolean
scheduler_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	g_ptr_array_add(out,
			vt_dropin_udev_block(a->set_scheduler->device, "queue/scheduler", value));
	return TRUE;
}

const VtApplyKind vt_apply_scheduler = {
	VT_POLICY_SCHEDULER, "scheduler",       scheduler_check,   scheduler_read,
	scheduler_write,     scheduler_command, scheduler_persist,
};

/* ---------------------------------------------------------------- queue parameters */

static const char *
queue_attr(const VtSetQueueParam *s)
{
	return s->has_nr_requests ? "nr_requests" : "read_ahead_kb";
}

static int
queue_read(VtApplier *ap, const VtAction *a, char **value)
{
	g_autofree char *rel =
		queue_path(a->set_queue_param->device, queue_attr(a->set_queue_param));
	guint32 v;
	int r = vt_sysattr_read(ap->root_fd, rel, value);

	if (r < 0)
		return r;
	if (!vt_parse_u32(*value, &v)) {
		g_clear_pointer(value, g_free);
		return -EINVAL;
	}
	return 0;
}

static int
queue_write(VtApplier *ap, const VtAction *a, const char *value)
{
	g_autofree char *rel =
		queue_path(a->set_queue_param->device, queue_attr(a->set_queue_param));

	return vt_sysattr_write(ap->root_fd, rel, value);
}

static gboolean
queue_check(VtApplier *ap, const VtAction *a, VtApplyCheck *c)
{
	const VtSetQueueParam *s = a->set_queue_param;
	const VtPolicyRange *range;
	guint32 v;
	int r;

	if (!vt_apply_plain_name(s->device, VT_APPLY_BLOCK_NAME_MAX))
		return vt_apply_verdict(c, ST_INVALID, "bad_name", 0);
	if (s->has_nr_requests == s->has_read_ahead_kb)
		return vt_apply_verdict(c, ST_INVALID, "bad_request", 0);
	r = queue_read(ap, a, &c->before);
	if (r < 0)
		return vt_apply_read_verdict(c, r);
	v = s->has_nr_requests ? s->nr_requests : s->read_ahead_kb;
	range = s->has_nr_requests ? &ap->policy->nr_requests : &ap->policy->read_ahead_kb;
	if (s->has_nr_requests && v == 0)
		return vt_apply_verdict(c, ST_INVALID, "out_of_range", 0);
	if (v < range->min || v > range->max)
		return vt_apply_verdict(c, ST_REFUSED, "policy_bounds", 0);
	c->target = g_strdup_printf("%u", v);
	return TRUE;
}

static char *
queue_command(const VtAction *a, const char *value)
{
	return g_strdup_printf("echo %s > /sys/block/%s/queue/%s", value,
			       a->set_queue_param->device, queue_attr(a->set_queue_param));
}

static gboolean
queue_persist(VtApplier *ap, const VtAction *a, const char *value, GPtrArray *out)
{
	g_autofree char *attr = g_strdup_printf("queue/%s", queue_attr(a->set_queue_param));

	g_ptr_array_add(out, vt_dropin_udev_block(a->set_queue_param->device, attr, value));
	return TRUE;
}

const VtApplyKind vt_apply_queue = {
	VT_POLICY_QUEUE, "queue",       queue_check,   queue_read,
	queue_write,     queue_command, queue_persist,
};
