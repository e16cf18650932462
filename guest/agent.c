/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "agent.h"

/* The agent loop is not built yet: only --once works. */
int
vt_agent_run(const VtAgentOptions *options)
{
	g_printerr("virt-tune-agent: the port loop is not implemented yet; use --once\n");
	return 1;
}
