/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Changes that revert unless confirmed: the timer that reverts them whether
 * or not a host is connected, and their states in the reports. */
#define G_LOG_DOMAIN "virt-tune-agent"

#include "agent-private.h"

#include "bounds.h"

static void
log_warnings(GPtrArray *warnings)
{
	for (guint i = 0; i < warnings->len; i++)
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE", "%s",
				 (const char *)warnings->pdata[i]);
}

static gboolean
on_deadline(gpointer data)
{
	VtAgent *a = data;

	a->deadline_timer = 0;
	vt_agent_arm_deadline(a);
	vt_agent_settle(a);
	return G_SOURCE_REMOVE;
}

void
vt_agent_arm_deadline(VtAgent *a)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	gint64 next;

	g_clear_handle_id(&a->deadline_timer, g_source_remove);
	if (a->applier == NULL)
		return;
	if (vt_applier_expire(a->applier, warnings) > 0) {
		/* reverted settings: the next report reads them again */
		if (a->collector != NULL)
			vt_collector_settings_changed(a->collector);
		vt_agent_send_report(a); /* the host learns of it at once, if it is there */
	}
	log_warnings(warnings);
	next = vt_applier_next_deadline_ms(a->applier);
	if (next >= 0)
		a->deadline_timer = g_timeout_add((guint)next, on_deadline, a);
}

void
vt_agent_add_change_states(VtAgent *a, VtReport *report)
{
	g_autoptr(GPtrArray) states = NULL;
	guint drifted = 0;

	if (a->applier == NULL)
		return;
	states = vt_applier_change_states(a->applier, VT_REPORT_MAX_CHANGES);
	for (guint i = 0; i < states->len; i++)
		drifted += g_strcmp0(((VtChangeState *)states->pdata[i])->state, "drifted") == 0;
	/* someone wrote a setting the agent had changed (or undid that): the
	 * next report reads the settings, so that it shows the live value the
	 * drift is about rather than a kept read */
	if (drifted != a->drifted && a->collector != NULL)
		vt_collector_settings_changed(a->collector);
	a->drifted = drifted;
	if (states->len == 0)
		return;
	report->n_changes = states->len;
	report->changes = g_new(VtChangeState *, states->len);
	for (guint i = 0; i < states->len; i++)
		report->changes[i] = g_steal_pointer(&states->pdata[i]);
	g_ptr_array_set_free_func(states, NULL);
}
