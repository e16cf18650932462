/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libvirt connection's polls on the test driver: a domain's XML left out
 * while the caller holds it settled, fetched again on the first poll of a
 * connection and on the poll after libvirt announced a change of it. */
#include <libvirt/libvirt.h>
#include <string.h>

#include "hypervisor.h"

#define URI "test:///default" /* shared by the connections of one process */

typedef struct {
	guint polls;
	gboolean settled; /* what xml_settled answers for every domain */
	GPtrArray *xml;   /* per poll: the "test" domain's XML, "" if left out */
	char uuid[VIR_UUID_STRING_BUFLEN];
} State;

static void
on_poll(VtHypervisor *hv, GPtrArray *domains, gpointer user_data)
{
	State *st = user_data;
	const char *xml = NULL;

	for (guint i = 0; i < domains->len; i++) {
		const VtDomainSnapshot *s = domains->pdata[i];

		if (strcmp(s->name, "test") == 0) {
			xml = s->xml != NULL ? s->xml : "";
			g_strlcpy(st->uuid, s->uuid, sizeof(st->uuid));
		}
	}
	g_assert_nonnull(xml); /* listed either way */
	g_ptr_array_add(st->xml, g_strdup(xml));
	st->polls++;
}

static GHashTable *
xml_settled(VtHypervisor *hv, gpointer user_data)
{
	State *st = user_data;
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (st->settled && st->uuid[0] != '\0')
		g_hash_table_add(set, g_strdup(st->uuid));
	return set;
}

/* Runs the main loop until @n polls in all (a poll is asked for at once each
 * time, so no interval is waited for). */
static void
run_polls(VtHypervisor *hv, State *st, guint n)
{
	gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

	while (st->polls < n) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		if (vt_hypervisor_is_connected(hv))
			vt_hypervisor_poll_soon(hv);
		g_main_context_iteration(NULL, TRUE);
	}
}

static void
test_xml_left_out_until_a_change(void)
{
	static const VtHypervisorCallbacks callbacks = {
		.on_poll = on_poll,
		.xml_settled = xml_settled,
	};
	State st = {.xml = g_ptr_array_new_with_free_func(g_free)};
	g_autoptr(VtHypervisor) hv = NULL;
	virConnectPtr conn;
	virDomainPtr dom;

	vt_hypervisor_init_events();
	hv = vt_hypervisor_new(URI, 3600, &callbacks, &st);
	vt_hypervisor_start(hv);

	/* the first poll of a connection fetches every XML, settled or not */
	st.settled = TRUE;
	run_polls(hv, &st, 1);
	g_assert_cmpstr(st.xml->pdata[0], !=, "");
	/* then a settled domain's is left out */
	run_polls(hv, &st, 3);
	g_assert_cmpstr(st.xml->pdata[1], ==, "");
	g_assert_cmpstr(st.xml->pdata[2], ==, "");

	/* a change libvirt announces (a metadata change event) brings it back
	 * on the next poll, with the change; the one after leaves it out again */
	conn = virConnectOpen(URI);
	g_assert_nonnull(conn);
	dom = virDomainLookupByName(conn, "test");
	g_assert_nonnull(dom);
	g_assert_cmpint(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_TITLE, "changed-title", NULL,
					     NULL, VIR_DOMAIN_AFFECT_LIVE),
			==, 0);
	/* the event comes through the main loop, before or with the next poll */
	while (st.polls < 4 || strstr(st.xml->pdata[st.polls - 1], "changed-title") == NULL) {
		g_assert_cmpuint(st.polls, <, 8);
		run_polls(hv, &st, st.polls + 1);
	}
	run_polls(hv, &st, st.polls + 1);
	g_assert_cmpstr(st.xml->pdata[st.polls - 1], ==, "");

	/* a domain not settled has its XML on every poll */
	st.settled = FALSE;
	run_polls(hv, &st, st.polls + 2);
	g_assert_nonnull(strstr(st.xml->pdata[st.polls - 1], "changed-title"));
	g_assert_nonnull(strstr(st.xml->pdata[st.polls - 2], "changed-title"));

	virDomainFree(dom);
	virConnectClose(conn);
	g_ptr_array_unref(st.xml);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hypervisor/xml-left-out-until-a-change",
			test_xml_left_out_until_a_change);
	return g_test_run();
}
