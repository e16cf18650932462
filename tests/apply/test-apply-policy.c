/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The [apply] group of agent.conf: what parses, what is refused and why, and
 * the policy summary the Hello carries. */
#include <string.h>

#include "config.h"

static void
test_policy(void)
{
	static const struct {
		const char *text;
		const char *error; /* NULL: parses */
	} pcases[] = {
		{"[apply]\nallow=channels;sysctl:vm.swappiness\npersist=true\n", NULL},
		{"[apply]\nallow=everything\n", "agent.conf:2: allow: unknown class 'everything'"},
		{"[apply]\nallow=sysctl:kernel.core_pattern\n", "unknown class"},
		{"[apply]\npersist=maybe\n", "agent.conf:2: persist:"},
		{"[apply]\nchannels.max=0\n", "agent.conf:2: channels.max: '0' is not"},
		{"[apply]\nsysctl.vm.swappiness.max=300\n", "in 0..200"},
		{"[apply]\nsysctl.vm.swappiness.min=50\nsysctl.vm.swappiness.max=10\n", "above"},
		{"[apply]\nqueue.nr_requests.max=x\n", "agent.conf:2: queue.nr_requests.max"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(pcases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(VtAgentConfig) c = vt_agent_config_parse(
			pcases[i].text, strlen(pcases[i].text), "agent.conf", NULL, &error);

		if (pcases[i].error == NULL) {
			g_assert_no_error(error);
			continue;
		}
		g_assert_null(c);
		g_assert_nonnull(error);
		g_test_message("%s", error->message);
		g_assert_nonnull(strstr(error->message, pcases[i].error));
	}

	{
		const char *text = "[agent]\ninterval=5\n[apply]\nallow=queue;sysctl:vm.swappiness;"
				   "channels\npersist=true\nbogus=1\n";
		g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;
		g_autoptr(VtAgentConfig) c =
			vt_agent_config_parse(text, strlen(text), "agent.conf", warnings, &error);
		VtPolicySummary s = VIRTTUNE__V1__POLICY_SUMMARY__INIT;

		g_assert_no_error(error);
		g_assert_cmpuint(warnings->len, ==, 1);
		g_assert_nonnull(strstr(warnings->pdata[0], "unknown key 'bogus'"));
		vt_policy_summary_fill(c->policy, &s);
		g_assert_cmpuint(s.n_allowed, ==, 3);
		g_assert_cmpstr(s.allowed[0], ==, "channels");
		g_assert_cmpstr(s.allowed[1], ==, "queue");
		g_assert_cmpstr(s.allowed[2], ==, "sysctl:vm.swappiness");
		g_assert_true(s.persist);
		vt_policy_summary_clear(&s);
	}
	{
		g_autoptr(VtAgentConfig) c = vt_agent_config_parse("[agent]\n", 8, "a", NULL, NULL);
		VtPolicySummary s = VIRTTUNE__V1__POLICY_SUMMARY__INIT;

		vt_policy_summary_fill(c->policy, &s);
		g_assert_cmpuint(s.n_allowed, ==, 0);
		g_assert_true(s.has_persist);
		g_assert_false(s.persist);
		vt_policy_summary_clear(&s);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/apply/policy", test_policy);
	return g_test_run();
}
