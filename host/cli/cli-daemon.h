/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* `virt-tune` commands answered by virt-tuned over the control socket.
 * Each returns the process exit code (see VtExit). */

typedef enum {
	VT_EXIT_OK = 0,
	VT_EXIT_FINDINGS = 1,    /* --fail-on matched */
	VT_EXIT_USAGE = 2,       /* bad arguments, unknown domain */
	VT_EXIT_UNREACHABLE = 3, /* no daemon at the socket */
	VT_EXIT_FAILED = 4,      /* the daemon could not do it (agent absent, timeout) */
} VtExit;

int vt_cmd_status(int argc, char **argv);
int vt_cmd_list(int argc, char **argv);
int vt_cmd_show(int argc, char **argv);
int vt_cmd_audit(int argc, char **argv);
int vt_cmd_history(int argc, char **argv);
int vt_cmd_refresh(int argc, char **argv);
int vt_cmd_watch(int argc, char **argv);
int vt_cmd_recommend(int argc, char **argv);
int vt_cmd_apply(int argc, char **argv);
int vt_cmd_rollback(int argc, char **argv);
int vt_cmd_changes(int argc, char **argv);
