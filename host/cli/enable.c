/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * enable / disable: add the agent's virtio-serial channel to a domain, or
 * remove it, through libvirt directly (virDomainAttachDeviceFlags and
 * virDomainDetachDeviceFlags), as `virsh attach-device` / `detach-device`
 * would with the same --live and --config. No daemon is involved.
 */
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli.h"
#include "domain.h"
#include "options.h"
#include "render.h"

#define AGENT_CHANNEL      "org.virttune.agent.0"
#define ENABLE_MAX_DOMAINS 4096

/* What packaging/libvirt/channel.xml holds: libvirt picks the socket path. */
static const char channel_xml[] = "<channel type='unix'>\n"
				  "  <source mode='bind'/>\n"
				  "  <target type='virtio' name='" AGENT_CHANNEL "'/>\n"
				  "</channel>\n";

typedef struct {
	gboolean live, config, dry_run, all;
	char *connect;
} EnableOptions;

static void
quiet_libvirt(void *data, virErrorPtr error)
{
	/* errors are reported by the caller, once, through render.c */
}

static const char *
libvirt_message(void)
{
	virErrorPtr e = virGetLastError();

	return e != NULL && e->message != NULL ? e->message : "unknown libvirt error";
}

static unsigned int
affect_flags(const EnableOptions *o)
{
	unsigned int flags = 0;

	if (o->live)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (o->config)
		flags |= VIR_DOMAIN_AFFECT_CONFIG;
	return flags; /* neither: VIR_DOMAIN_AFFECT_CURRENT, as virsh */
}

/* The XML the change is judged on: the persistent one for --config alone. */
static VtDomainFacts *
domain_facts(virDomainPtr dom, const EnableOptions *o, GError **error)
{
	unsigned int flags = o->config && !o->live ? VIR_DOMAIN_XML_INACTIVE : 0;
	g_autofree char *xml = NULL;
	char *raw = virDomainGetXMLDesc(dom, flags);

	if (raw == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", libvirt_message());
		return NULL;
	}
	xml = g_strdup(raw);
	free(raw);
	return vt_domain_facts_parse(xml, -1, error);
}

/* The <channel> to detach: libvirt matches the source as well as the target. */
static char *
detach_xml(const VtChannelFacts *ch)
{
	if (ch->source_path != NULL)
		return g_markup_printf_escaped("<channel type='%s'>\n"
					       "  <source mode='%s' path='%s'/>\n"
					       "  <target type='virtio' name='%s'/>\n"
					       "</channel>\n",
					       ch->type ? ch->type : "unix",
					       ch->source_mode ? ch->source_mode : "bind",
					       ch->source_path, AGENT_CHANNEL);
	return g_strdup(channel_xml);
}

static int
change_one(virDomainPtr dom, gboolean enable, const EnableOptions *o)
{
	const char *name = virDomainGetName(dom);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtDomainFacts) facts = domain_facts(dom, o, &error);
	const VtChannelFacts *ch;
	g_autofree char *xml = NULL;
	g_autofree char *line = NULL;
	int rc;

	if (facts == NULL) {
		vt_render_error("%s: cannot read its XML: %s", name, error->message);
		return VT_EXIT_FAILED;
	}
	ch = vt_domain_facts_agent_channel(facts);
	if ((ch != NULL) == enable) {
		line = g_strdup_printf("%s: %s\n", name,
				       enable ? "has the channel already" : "has no channel");
		vt_render_text(stdout, line);
		return VT_EXIT_OK;
	}
	xml = enable ? g_strdup(channel_xml) : detach_xml(ch);
	if (o->dry_run) {
		line = g_strdup_printf("%s: would %s\n%s", name, enable ? "attach" : "detach", xml);
		vt_render_text(stdout, line);
		return VT_EXIT_OK;
	}
	rc = enable ? virDomainAttachDeviceFlags(dom, xml, affect_flags(o))
		    : virDomainDetachDeviceFlags(dom, xml, affect_flags(o));
	if (rc < 0) {
		vt_render_error("%s: cannot %s the channel: %s", name, enable ? "attach" : "detach",
				libvirt_message());
		return VT_EXIT_FAILED;
	}
	line = g_strdup_printf("%s: channel %s\n", name, enable ? "attached" : "detached");
	vt_render_text(stdout, line);
	return VT_EXIT_OK;
}

/* enable --all: every domain (running and defined) that lacks the channel. */
static int
change_all(virConnectPtr conn, const EnableOptions *o)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	int worst = VT_EXIT_OK;

	if (n < 0) {
		vt_render_error("cannot list the domains: %s", libvirt_message());
		return VT_EXIT_FAILED;
	}
	for (int i = 0; i < n; i++) {
		if (i < ENABLE_MAX_DOMAINS) {
			int rc = change_one(doms[i], TRUE, o);
			worst = MAX(worst, rc);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	return worst;
}

static int
run(int argc, char **argv, gboolean enable)
{
	g_auto(VtCliOptions) common = {0};
	EnableOptions o = {0};
	GOptionEntry entries[] = {
		{"live", 0, 0, G_OPTION_ARG_NONE, &o.live, "Change the running domain", NULL},
		{"config", 0, 0, G_OPTION_ARG_NONE, &o.config,
		 "Change the persistent definition (next boot)", NULL},
		{"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o.dry_run,
		 "Print the channel's XML and change nothing", NULL},
		{"connect", 'c', 0, G_OPTION_ARG_STRING, &o.connect,
		 "libvirt URI (default: libvirt's, as virsh)", "URI"},
		{"all", 0, 0, G_OPTION_ARG_NONE, &o.all, "Every domain that lacks the channel",
		 NULL},
		{NULL},
	};
	virConnectPtr conn;
	virDomainPtr dom;
	int exit_code, rc;

	if (!enable)
		entries[4].long_name = NULL; /* no disable --all */
	if (!vt_cli_parse(&common, enable ? "DOMAIN|--all" : "DOMAIN", entries, 0, 1, &argc, &argv,
			  &exit_code)) {
		g_free(o.connect);
		return exit_code;
	}
	if ((argc == 2) == o.all) {
		vt_render_error("give one DOMAIN%s (see --help)", enable ? " or --all" : "");
		g_free(o.connect);
		return VT_EXIT_USAGE;
	}
	virSetErrorFunc(NULL, quiet_libvirt);
	conn = virConnectOpen(o.connect);
	if (conn == NULL) {
		vt_render_error("cannot connect to libvirt%s%s: %s", o.connect ? " at " : "",
				o.connect ? o.connect : "", libvirt_message());
		g_free(o.connect);
		return VT_EXIT_UNREACHABLE;
	}
	if (o.all) {
		rc = change_all(conn, &o);
	} else if ((dom = virDomainLookupByName(conn, argv[1])) == NULL) {
		vt_render_error("no domain '%s': %s", argv[1], libvirt_message());
		rc = VT_EXIT_USAGE;
	} else {
		rc = change_one(dom, enable, &o);
		virDomainFree(dom);
	}
	virConnectClose(conn);
	g_free(o.connect);
	return rc;
}

int
vt_cmd_enable(int argc, char **argv)
{
	return run(argc, argv, TRUE);
}

int
vt_cmd_disable(int argc, char **argv)
{
	return run(argc, argv, FALSE);
}
