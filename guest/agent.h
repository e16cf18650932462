/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_AGENT_DEFAULT_PORT      "/dev/virtio-ports/org.virttune.agent.0"
#define VT_AGENT_DEFAULT_CONFIG    "/etc/virt-tune/agent.conf"
#define VT_AGENT_DEFAULT_STATE_DIR "/var/lib/virt-tune-agent"
#define VT_AGENT_DEFAULT_INTERVAL  10

/* Parsed command line; the only state that lives outside VtAgent. */
typedef struct {
	char *port;      /* char device or UNIX socket path */
	char *config;    /* agent.conf */
	char *state_dir; /* apply journal */
	char *sysroot;   /* "/" unless testing */
	int interval;    /* seconds; 0 = from config, else default */
} VtAgentOptions;

/* Runs the agent loop until SIGTERM/SIGINT. Returns the process exit code. */
int vt_agent_run(const VtAgentOptions *options);

G_END_DECLS
