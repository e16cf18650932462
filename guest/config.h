/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "policy.h"

G_BEGIN_DECLS

/* agent.conf is written by the guest's admin; still, bound what is read. */
#define VT_AGENT_CONFIG_MAX_BYTES   (64u * 1024u)
#define VT_AGENT_CONFIG_MAX_GLOBS   64u
#define VT_AGENT_INTERVAL_MIN       1
#define VT_AGENT_INTERVAL_MAX       86400
#define VT_AGENT_CONFIG_GROUP       "agent"
#define VT_AGENT_CONFIG_GROUP_APPLY "apply" /* the apply policy, see policy.h */

/*
 * The [agent] group of agent.conf:
 *   [agent]
 *   interval=10            seconds between reports
 *   exclude=sr*;vd[x-z]    device globs left out of block and nics
 *   sections=meminfo;nics  sections to collect (default: all)
 */
typedef struct {
	guint interval;   /* 0: not set in the file */
	char **exclude;   /* NULL-terminated; NULL: none */
	char **sections;  /* NULL-terminated; NULL: all */
	VtPolicy *policy; /* [apply]; never NULL (report-only when absent) */
} VtAgentConfig;

VtAgentConfig *vt_agent_config_new(void);
void vt_agent_config_free(VtAgentConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtAgentConfig, vt_agent_config_free)

/*
 * Parse @data (@len bytes). @path only names the file in messages. Errors
 * (VT_ERROR_INVALID) read "PATH:LINE: reason", or "PATH: [group] key: reason"
 * where no line can be told. Things that are ignored (unknown keys or groups)
 * are appended to @warnings (char *, may be NULL) in the same form.
 */
VtAgentConfig *vt_agent_config_parse(const char *data, gsize len, const char *path,
				     GPtrArray *warnings, GError **error);

/*
 * Read and parse @path. A missing file is VT_ERROR_NOT_FOUND, which the
 * caller may take as "all defaults". Files over VT_AGENT_CONFIG_MAX_BYTES and
 * anything but a regular file are refused.
 */
VtAgentConfig *vt_agent_config_load(const char *path, GPtrArray *warnings, GError **error);

G_END_DECLS
