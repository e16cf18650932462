/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * enable / disable: add or remove a domain's org.virttune.agent.0 channel
 * through libvirt directly (no virt-tuned involved), as `virsh attach-device`
 * and `virsh detach-device` would.
 */
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli.h"
#include "domain.h"
#include "render.h"

#define VT_ENABLE_DEFAULT_URI "qemu:///system"
#define VT_ENABLE_MAX_DOMAINS 10000

/* The channel packaging/libvirt/channel.xml documents: libvirt picks the
 * socket path, virt-tuned reads it from the live XML. */
static const char channel_xml[] = "<channel type='unix'>\n"
				  "  <source mode='bind'/>\n"
				  "  <target type='virtio' name='" VT_AGENT_CHANNEL_NAME "'/>\n"
				  "</channel>\n";

typedef struct {
	gboolean enable; /* enable, or disable */
	char *uri;
	gboolean live, config, dry_run, all;
} EnableOptions;

/* A domain's name (escaped where it is printed). */
static char *
domain_label(virDomainPtr dom)
{
	const char *name = virDomainGetName(dom);

	return g_strdup(name != NULL ? name : "?");
}

static const char *
last_libvirt_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m != NULL ? m : "unknown libvirt error";
}

static void say(FILE *out, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
say(FILE *out, const char *format, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	vt_render_text(out, text);
	fflush(out);
}

/* NAME='VALUE', escaped, when @value is not NULL. */
static void
append_attr(GString *s, const char *name, const char *value)
{
	g_autofree char *v = value != NULL ? g_markup_escape_text(value, -1) : NULL;

	if (v != NULL)
		g_string_append_printf(s, "%s='%s'", name, v);
}

/* The agent channel in one view of @dom (live or persistent XML): TRUE and
 * *xml_out (for detaching: the element as that view has it) when present. */
static gboolean
view_channel(virDomainPtr dom, gboolean inactive, gboolean *present, char **xml_out, GError **error)
{
	g_autofree char *xml = virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
	g_autoptr(VtDomainFacts) facts = NULL;
	const VtChannelFacts *ch;
	g_autoptr(GString) s = NULL;

	if (xml == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", last_libvirt_error());
		return FALSE;
	}
	if ((facts = vt_domain_facts_parse(xml, -1, error)) == NULL)
		return FALSE;
	ch = vt_domain_facts_agent_channel(facts);
	*present = ch != NULL;
	if (ch == NULL || xml_out == NULL)
		return TRUE;
	s = g_string_new(NULL);
	append_attr(s, "<channel type", ch->type != NULL ? ch->type : "unix");
	g_string_append(s, ">\n  <source");
	append_attr(s, " mode", ch->source_mode);
	append_attr(s, " path", ch->source_path);
	g_string_append(s, "/>\n  <target type='virtio' name='" VT_AGENT_CHANNEL_NAME "'/>\n"
			   "</channel>\n");
	*xml_out = g_string_free(g_steal_pointer(&s), FALSE);
	return TRUE;
}

/* The libvirt flags to change: --live / --config as given, or by default the
 * persistent definition and, when it runs, the live domain too. */
static gboolean
target_flags(const EnableOptions *o, virDomainPtr dom, const char *label, unsigned int *flags)
{
	int active = virDomainIsActive(dom), persistent = virDomainIsPersistent(dom);

	if (active < 0 || persistent < 0) {
		vt_render_error("%s: %s", label, last_libvirt_error());
		return FALSE;
	}
	*flags = 0;
	if (o->live || (!o->config && active))
		*flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (o->config || (!o->live && persistent))
		*flags |= VIR_DOMAIN_AFFECT_CONFIG;
	if ((*flags & VIR_DOMAIN_AFFECT_LIVE) && !active) {
		vt_render_error("%s is not running: --live needs a running domain", label);
		return FALSE;
	}
	if ((*flags & VIR_DOMAIN_AFFECT_CONFIG) && !persistent) {
		vt_render_error("%s is transient: it has no definition for --config", label);
		return FALSE;
	}
	return TRUE;
}

static const char *
flags_name(unsigned int flags)
{
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG))
		return "live and config";
	return (flags & VIR_DOMAIN_AFFECT_LIVE) ? "live" : "config";
}

/* Of the views in @flags, those still to change: lacking the channel
 * (enable) or holding it (disable). *xml: what to attach or detach. */
static gboolean
views_to_change(const EnableOptions *o, virDomainPtr dom, unsigned int flags, unsigned int *todo,
		char **live_xml, char **config_xml, GError **error)
{
	const unsigned int views[] = {VIR_DOMAIN_AFFECT_LIVE, VIR_DOMAIN_AFFECT_CONFIG};
	char **xmls[] = {live_xml, config_xml};

	*todo = 0;
	for (guint i = 0; i < G_N_ELEMENTS(views); i++) {
		gboolean present = FALSE;

		if (!(flags & views[i]))
			continue;
		if (!view_channel(dom, views[i] == VIR_DOMAIN_AFFECT_CONFIG, &present,
				  o->enable ? NULL : xmls[i], error))
			return FALSE;
		if (present != o->enable)
			*todo |= views[i];
	}
	return TRUE;
}

/* Attach or detach @xml in the views @flags of @dom. */
static gboolean
change_view(const EnableOptions *o, virDomainPtr dom, const char *xml, unsigned int flags)
{
	int rc = o->enable ? virDomainAttachDeviceFlags(dom, xml, flags)
			   : virDomainDetachDeviceFlags(dom, xml, flags);

	return rc == 0;
}

/*
 * Enable or disable one domain. VT_EXIT_OK when done (or, with --all,
 * skipped as already done); VT_EXIT_USAGE when refused; VT_EXIT_FAILED when
 * libvirt could not do it.
 */
static int
change_domain(const EnableOptions *o, virDomainPtr dom)
{
	g_autofree char *label = domain_label(dom);
	g_autofree char *live_xml = NULL, *config_xml = NULL;
	g_autoptr(GError) error = NULL;
	const char *verb = o->enable ? "enable" : "disable";
	unsigned int flags, todo;

	if (!target_flags(o, dom, label, &flags))
		return VT_EXIT_USAGE;
	if (!views_to_change(o, dom, flags, &todo, &live_xml, &config_xml, &error)) {
		vt_render_error("%s: cannot read its XML: %s", label, error->message);
		return VT_EXIT_FAILED;
	}
	if (todo == 0) {
		if (o->all) {
			say(stdout, "%s: already has the %s channel (%s), skipped\n", label,
			    VT_AGENT_CHANNEL_NAME, flags_name(flags));
			return VT_EXIT_OK;
		}
		vt_render_error("%s %s %s channel (%s): nothing to %s", label,
				o->enable ? "already has the" : "has no", VT_AGENT_CHANNEL_NAME,
				flags_name(flags), verb);
		return VT_EXIT_USAGE;
	}
	for (unsigned int view = VIR_DOMAIN_AFFECT_LIVE; view <= VIR_DOMAIN_AFFECT_CONFIG;
	     view <<= 1) {
		const char *xml = o->enable                        ? channel_xml
				  : view == VIR_DOMAIN_AFFECT_LIVE ? live_xml
								   : config_xml;

		if (!(todo & view))
			continue;
		if (o->dry_run) {
			say(stdout, "%s: would %s (%s):\n%s", label,
			    o->enable ? "attach" : "detach", flags_name(view), xml);
			continue;
		}
		if (!change_view(o, dom, xml, view)) {
			vt_render_error("%s: cannot %s the channel (%s): %s", label,
					o->enable ? "attach" : "detach", flags_name(view),
					last_libvirt_error());
			return VT_EXIT_FAILED;
		}
		say(stdout, "%s: %s %s (%s)\n", label, o->enable ? "attached" : "detached",
		    VT_AGENT_CHANNEL_NAME, flags_name(view));
	}
	return VT_EXIT_OK;
}

static virDomainPtr
lookup_domain(virConnectPtr conn, const char *name)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);

	if (dom == NULL)
		dom = virDomainLookupByUUIDString(conn, name);
	if (dom == NULL)
		vt_render_error("no domain '%s'", name);
	return dom;
}

/* Every domain of @conn, in turn; the worst exit code. */
static int
change_all(const EnableOptions *o, virConnectPtr conn)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0), worst = VT_EXIT_OK;

	if (n < 0) {
		vt_render_error("cannot list the domains: %s", last_libvirt_error());
		return VT_EXIT_FAILED;
	}
	for (int i = 0; i < n; i++) {
		if (i < VT_ENABLE_MAX_DOMAINS) {
			int rc = change_domain(o, doms[i]);
			worst = MAX(worst, rc);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (n > VT_ENABLE_MAX_DOMAINS) {
		vt_render_error("only the first %d domains were looked at", VT_ENABLE_MAX_DOMAINS);
		worst = MAX(worst, VT_EXIT_FAILED);
	}
	if (n == 0)
		say(stdout, "no domains\n");
	return worst;
}

/* libvirt prints every error on stderr by default; ours say it once. */
static void
quiet_libvirt(void *data G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
}

static gboolean
parse(EnableOptions *o, int *argc, char ***argv)
{
	const GOptionEntry entries[] = {
		{"connect", 'c', 0, G_OPTION_ARG_STRING, &o->uri,
		 "libvirt URI (default $LIBVIRT_DEFAULT_URI or " VT_ENABLE_DEFAULT_URI ")", "URI"},
		{"live", 0, 0, G_OPTION_ARG_NONE, &o->live, "Change the running domain", NULL},
		{"config", 0, 0, G_OPTION_ARG_NONE, &o->config,
		 "Change the persistent definition (next boot)", NULL},
		{"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o->dry_run,
		 "Print the XML and what would be done; change nothing", NULL},
		{"all", 0, o->enable ? 0 : G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &o->all,
		 "Every domain that lacks the channel (enable only)", NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new(o->enable ? "DOMAIN|--all - add the virt-tune agent channel"
					       : "DOMAIN - remove the virt-tune agent channel");
	g_autoptr(GError) error = NULL;

	g_option_context_set_description(
		ctx, "Without --live or --config: the persistent definition and, when the "
		     "domain runs, the live domain too.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		vt_render_error("%s (see --help)", error->message);
		return FALSE;
	}
	if (o->all && !o->enable) {
		vt_render_error("--all is for enable only: disable one DOMAIN at a time");
		return FALSE;
	}
	if (*argc != (o->all ? 1 : 2)) {
		vt_render_usage(ctx);
		return FALSE;
	}
	return TRUE;
}

static int
run(gboolean enable, int argc, char **argv)
{
	EnableOptions o = {.enable = enable};
	g_autofree char *uri = NULL;
	virConnectPtr conn;
	int rc;

	if (!parse(&o, &argc, &argv)) {
		g_free(o.uri);
		return VT_EXIT_USAGE;
	}
	uri = o.uri != NULL ? o.uri : g_strdup(g_getenv("LIBVIRT_DEFAULT_URI"));
	if (uri == NULL || uri[0] == '\0') {
		g_free(uri);
		uri = g_strdup(VT_ENABLE_DEFAULT_URI);
	}
	virSetErrorFunc(NULL, quiet_libvirt);
	if ((conn = virConnectOpen(uri)) == NULL) {
		vt_render_error("cannot connect to %s: %s", uri, last_libvirt_error());
		return VT_EXIT_UNREACHABLE;
	}
	if (o.all) {
		rc = change_all(&o, conn);
	} else {
		virDomainPtr dom = lookup_domain(conn, argv[1]);

		rc = dom != NULL ? change_domain(&o, dom) : VT_EXIT_USAGE;
		if (dom != NULL)
			virDomainFree(dom);
	}
	virConnectClose(conn);
	return rc;
}

int
vt_cmd_enable(int argc, char **argv)
{
	return run(TRUE, argc, argv);
}

int
vt_cmd_disable(int argc, char **argv)
{
	return run(FALSE, argc, argv);
}
