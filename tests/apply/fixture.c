/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fixture.h"

#include <string.h>

#include "config.h"
#include "json.h"

const char *
fixture_keep(Fixture *f, char *s)
{
	if (s != NULL)
		g_ptr_array_add(f->keep, s);
	return s;
}

void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->root = fake_sysroot_new();
	f->state = g_build_filename(f->root, "var/lib/virt-tune-agent", NULL);
	fake_nic_init(&f->nic);
	if (f->keep == NULL)
		f->keep = g_ptr_array_new_with_free_func(g_free);
	f->ap = vt_applier_new(f->root, f->state, &f->nic.ops, NULL);
}

void
fixture_teardown(Fixture *f, gconstpointer data)
{
	vt_applier_free(f->ap);
	g_ptr_array_set_size(f->keep, 0);
	fake_rm_rf(f->root);
	g_free(f->root);
	g_free(f->state);
}

void
set_policy(Fixture *f, const char *apply_group)
{
	g_autofree char *text = g_strdup_printf("[apply]\n%s\n", apply_group);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtAgentConfig) config =
		vt_agent_config_parse(text, strlen(text), "agent.conf", NULL, &error);

	g_assert_no_error(error);
	vt_applier_set_policy(f->ap, config->policy);
}

VtApplyResult *
apply_json(Fixture *f, const char *json)
{
	g_autoptr(GError) error = NULL;
	VtApplyRequest *req = (VtApplyRequest *)vt_json_message_from_string(
		&virttune__v1__apply_request__descriptor, json, -1, &error);
	VtApplyResult *r;

	g_assert_no_error(error);
	r = vt_applier_apply(f->ap, req);
	vt_message_free(&req->base);
	g_assert_nonnull(r);
	g_assert_true(r->has_status);
	return r;
}

VtApplyResult *
rollback(Fixture *f, const char *request_id, const char *change_id)
{
	VtRollbackRequest req = VIRTTUNE__V1__ROLLBACK_REQUEST__INIT;

	req.request_id = (char *)request_id;
	req.change_id = (char *)change_id;
	return vt_applier_rollback(f->ap, &req);
}

void
expect(const VtApplyResult *r, int status, const char *reason)
{
	if ((int)r->status != status || g_strcmp0(r->reason, reason) != 0)
		g_test_message("got %s (%s), expected %s (%s)",
			       vt_apply_result_status_name(r->status), r->reason,
			       vt_apply_result_status_name(status), reason);
	g_assert_cmpstr(vt_apply_result_status_name(r->status), ==,
			vt_apply_result_status_name(status));
	g_assert_cmpstr(r->reason, ==, reason);
}

char *
live(Fixture *f, const char *what)
{
	if (strcmp(what, "channels") == 0)
		return g_strdup_printf("%u", f->nic.ch.combined_count);
	if (strcmp(what, "rings") == 0)
		return g_strdup_printf("%u/%u", f->nic.rp.rx_pending, f->nic.rp.tx_pending);
	if (strcmp(what, "feature") == 0)
		return g_strdup(f->nic.active & 0x1 ? "on" : "off");
	return fake_read(f->root, what);
}

void
fixture_teardown_last(Fixture *f, gconstpointer data)
{
	fixture_teardown(f, data);
	g_clear_pointer(&f->keep, g_ptr_array_unref);
}

void
fixture_restart(Fixture *f, const char *policy, GPtrArray *warnings)
{
	vt_applier_free(f->ap);
	f->ap = vt_applier_new(f->root, f->state, &f->nic.ops, warnings);
	set_policy(f, policy);
}
