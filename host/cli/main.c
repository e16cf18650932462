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
#include "text.h"

typedef struct {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} VtCommand;

static const VtCommand commands[] = {
	{"status", "is virt-tuned running, and what does it see", vt_cmd_status},
	{"list", "running domains and their agents", vt_cmd_list},
	{"show", "one domain: the host's and the guest's view", vt_cmd_show},
	{"audit", "fleet-wide swap, schedulers, nics, io, net, memory, host, or all", vt_cmd_audit},
	{"history", "past reports of a domain", vt_cmd_history},
	{"refresh", "ask a guest for a report now", vt_cmd_refresh},
	{"watch", "a refreshing table of every guest", vt_cmd_watch},
	{"recommend", "what to change in guests or domain XML, and why", vt_cmd_recommend},
	{"apply", "have a guest's agent make a recommended change", vt_cmd_apply},
	{"rollback", "undo a change made by apply", vt_cmd_rollback},
	{"confirm", "keep a change applied with --confirm-within", vt_cmd_confirm},
	{"changes", "every apply and rollback asked of a domain", vt_cmd_changes},
	{"check", "a Nagios/Icinga plugin: one status line, perfdata, exit 0-3", vt_cmd_check},
	{"enable", "add the agent channel to a domain (or --all) through libvirt", vt_cmd_enable},
	{"disable", "remove the agent channel from a domain through libvirt", vt_cmd_disable},
	{"analyze", "recommend changes from saved report, domain XML and domstats files",
	 vt_cmd_analyze},
	{NULL, NULL, NULL},
};

static void
usage(FILE *out)
{
	g_autoptr(GString) text = g_string_new("Usage: virt-tune [--socket PATH] [--format FORMAT] "
					       "COMMAND [OPTIONS]\n\nCommands:\n");

	for (const VtCommand *c = commands; c->name != NULL; c++)
		g_string_append_printf(text, "  %-12s %s\n", c->name, c->summary);
	g_string_append(text, "\nOptions (before or after the command):\n"
			      "  --socket PATH          virt-tuned's control socket\n"
			      "  -f, --format FORMAT    table (default), json or csv\n"
			      "\nRun 'virt-tune COMMAND --help' for a command's options.\n");
	vt_render_text(out, text->str);
}

/* The options every command shares, as `virsh -c URI list` or `git -C DIR`
 * take theirs: how many arguments argv[@i] spans when it is one of them (2
 * for "--socket PATH" or "-f json", 1 for "--socket=PATH"), 0 when it is
 * not, -1 when its value is missing. */
static int
leading_option(int argc, char **argv, int i)
{
	static const char *const with_value[] = {"--socket", "--format", "-f", NULL};

	for (guint k = 0; with_value[k] != NULL; k++) {
		const char *o = with_value[k];
		gsize n = strlen(o);

		if (strcmp(argv[i], o) == 0)
			return i + 1 < argc ? 2 : -1;
		if (o[1] == '-' && strncmp(argv[i], o, n) == 0 && argv[i][n] == '=')
			return 1;
	}
	return 0;
}

/*
 * Move the shared options given before the command to just after it, where
 * the command's own parser reads them: "virt-tune --socket S list" runs as
 * "virt-tune list --socket S". FALSE when one lacks its value or no command
 * follows them.
 */
static gboolean
hoist_options(int *argc, char ***argv, GPtrArray *storage)
{
	int i = 1, span;

	while (i < *argc && (span = leading_option(*argc, *argv, i)) != 0) {
		if (span < 0)
			return FALSE;
		i += span;
	}
	if (i == 1)
		return TRUE;
	if (i >= *argc)
		return FALSE;
	g_ptr_array_add(storage, (*argv)[0]);
	g_ptr_array_add(storage, (*argv)[i]);
	for (int k = 1; k < *argc; k++)
		if (k != i)
			g_ptr_array_add(storage, (*argv)[k]);
	g_ptr_array_add(storage, NULL);
	*argv = (char **)storage->pdata;
	return TRUE;
}

int
main(int argc, char **argv)
{
	g_autoptr(GPtrArray) storage = g_ptr_array_new();
	g_autofree char *unknown = NULL;
	g_autofree char *shown = NULL;

	if (!hoist_options(&argc, &argv, storage)) {
		vt_render_error(
			"an option before the command lacks its value, or no command follows "
			"(see --help)");
		return VT_EXIT_USAGE;
	}
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
	shown = vt_text_escape(argv[1], FALSE);
	unknown = g_strdup_printf("virt-tune: unknown command '%s'\n\n", shown);
	vt_render_text(stderr, unknown);
	usage(stderr);
	return VT_EXIT_USAGE;
}
