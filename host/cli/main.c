/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-tune: the operator's command. Offline commands (analyze) work on files;
 * every other command talks to virt-tuned over its control socket.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "render.h"

typedef struct {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} VtCommand;

static const VtCommand commands[] = {
	{"status", "is virt-tuned running, and what does it see", vt_cmd_status},
	{"list", "running domains and their agents", vt_cmd_list},
	{"show", "one domain: the host's and the guest's view", vt_cmd_show},
	{"audit", "fleet-wide swap, schedulers, nics, or all", vt_cmd_audit},
	{"history", "past reports of a domain", vt_cmd_history},
	{"refresh", "ask a guest for a report now", vt_cmd_refresh},
	{"watch", "a refreshing table of every guest", vt_cmd_watch},
	{"recommend", "what to change in guests or domain XML, and why", vt_cmd_recommend},
	{"apply", "have a guest's agent make a recommended change", vt_cmd_apply},
	{"rollback", "undo a change made by apply", vt_cmd_rollback},
	{"changes", "every apply and rollback asked of a domain", vt_cmd_changes},
	{"check", "a Nagios/Icinga plugin: one status line, perfdata, exit 0-3", vt_cmd_check},
	{"analyze", "recommend changes from saved report, domain XML and domstats files",
	 vt_cmd_analyze},
	{NULL, NULL, NULL},
};

static void
usage(FILE *out)
{
	g_autoptr(GString) text = g_string_new("Usage: virt-tune COMMAND [OPTIONS]\n\nCommands:\n");

	for (const VtCommand *c = commands; c->name != NULL; c++)
		g_string_append_printf(text, "  %-12s %s\n", c->name, c->summary);
	g_string_append(text, "\nRun 'virt-tune COMMAND --help' for a command's options.\n");
	vt_render_text(out, text->str);
}

int
main(int argc, char **argv)
{
	g_autofree char *unknown = NULL;

	if (argc < 2) {
		usage(stderr);
		return VT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return VT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		vt_render_text(stdout, "virt-tune " VT_VERSION "\n");
		return VT_EXIT_OK;
	}
	for (const VtCommand *c = commands; c->name != NULL; c++)
		if (strcmp(c->name, argv[1]) == 0) {
			/* `--help` then reads "virt-tune audit [OPTION…]" */
			g_autofree char *prgname = g_strconcat("virt-tune ", c->name, NULL);
			g_set_prgname(prgname);
			return c->run(argc - 1, argv + 1);
		}
	unknown = g_strdup_printf("virt-tune: unknown command '%s'\n\n", argv[1]);
	vt_render_text(stderr, unknown);
	usage(stderr);
	return VT_EXIT_USAGE;
}
