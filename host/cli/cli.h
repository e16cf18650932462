/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The `virt-tune` commands. Each takes its own argv (argv[0] is the command's
 * name) and returns the process exit code (see VtExit). */

typedef enum {
	VT_EXIT_OK = 0,
	VT_EXIT_FINDINGS = 1,    /* --fail-on matched */
	VT_EXIT_USAGE = 2,       /* bad arguments, unknown domain; analyze: malformed input */
	VT_EXIT_UNREACHABLE = 3, /* no daemon at the socket */
	VT_EXIT_FAILED = 4,      /* the daemon could not do it (agent absent, timeout) */
	VT_EXIT_BUSY = 5,        /* the daemon serves as many clients as it may */
} VtExit;

/* status.c */
int vt_cmd_status(int argc, char **argv);
int vt_cmd_list(int argc, char **argv);
int vt_cmd_show(int argc, char **argv);
int vt_cmd_refresh(int argc, char **argv);
int vt_cmd_watch(int argc, char **argv);
/* audit.c */
int vt_cmd_audit(int argc, char **argv);
/* The kinds of audit, as virt-tuned's "audit" request names them. */
typedef enum {
	VT_AUDIT_SWAP,
	VT_AUDIT_SCHEDULERS,
	VT_AUDIT_NICS,
	VT_AUDIT_IO,
	VT_AUDIT_NET,
	VT_AUDIT_MEMORY,
	VT_AUDIT_HOST,
	VT_AUDIT_ALL,
} VtAuditKind;
const char *vt_audit_kind_name(VtAuditKind kind);
/* history.c */
int vt_cmd_history(int argc, char **argv);
/* changes.c */
int vt_cmd_recommend(int argc, char **argv);
int vt_cmd_apply(int argc, char **argv);
int vt_cmd_rollback(int argc, char **argv);
int vt_cmd_confirm(int argc, char **argv);
/* One change of `show CHANGE_ID`: its values, state and measured effect. */
void vt_show_change_effect(JsonObject *change);
/* The applied changes of @result (an array of `changes` rows, or one `show`
 * object) as a row per effect metric, with its side: for CSV. */
JsonNode *vt_change_effect_rows(JsonNode *result);
int vt_cmd_changes(int argc, char **argv);
/* check.c: a Monitoring Plugins check (exit 0 OK .. 3 UNKNOWN, not VtExit). */
int vt_cmd_check(int argc, char **argv);
/* enable.c: add / remove the agent channel through libvirt, no daemon. */
int vt_cmd_enable(int argc, char **argv);
int vt_cmd_disable(int argc, char **argv);
/* analyze.c: rules over saved files, no daemon, no libvirt connection. */
int vt_cmd_analyze(int argc, char **argv);

/*
 * --fail-on: @text (NULL: not given) as a severity rank in *threshold (-1 when
 * not given). Prints the error and returns FALSE for anything but warning or
 * critical.
 */
gboolean vt_fail_on_parse(const char *text, int *threshold);
/* VT_EXIT_FINDINGS when @recommend (the daemon's answer to "recommend") has a
 * recommendation whose rule starts with @rule_prefix at @threshold or worse. */
int vt_findings(JsonNode *recommend, const char *rule_prefix, int threshold);

G_END_DECLS
