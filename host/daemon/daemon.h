/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_DAEMON_DEFAULT_URI       "qemu:///system"
#define VT_DAEMON_DEFAULT_STATE_DIR "/var/lib/virt-tune"
#define VT_DAEMON_DEFAULT_CONFIG    "/etc/virt-tune/virt-tuned.conf"
#define VT_DAEMON_DEFAULT_RULES     "/etc/virt-tune/rules.conf"
/* Per domain: see virt-tuned.conf(5), store-budget-mib, for how it is sized. */
#define VT_DAEMON_DEFAULT_STORE_BUDGET_MIB 256

typedef enum {
	VT_CHANNEL_AUTO,   /* the UNIX socket for qemu:/// URIs, else a libvirt stream */
	VT_CHANNEL_SOCKET, /* always the channel's UNIX socket path from the live XML */
	VT_CHANNEL_STREAM, /* always virDomainOpenChannel */
} VtChannelMode;

typedef struct {
	const char *uri;
	const char *state_dir;
	const char *socket_path;
	const char *group;          /* may read through the control socket; NULL: root only */
	const char *rules_config;   /* NULL: the defaults (or the default path if present) */
	const char *metrics_listen; /* HOST:PORT of the Prometheus endpoint, or NULL */
	const char *host_label;     /* virttune_host_info{host=…}; NULL: the hostname */
	guint poll_interval_s;
	guint retention_days;
	guint retention_reports;      /* per domain */
	guint effect_window_s;        /* reports before and after a change; 0: the default */
	guint control_idle_timeout_s; /* 0: never */
	guint store_budget_mib;       /* per domain; 0: none */
	VtChannelMode channel_mode;
} VtDaemonOptions;

typedef struct VtDaemon VtDaemon;

VtDaemon *vt_daemon_new(const VtDaemonOptions *options, GError **error);
void vt_daemon_free(VtDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtDaemon, vt_daemon_free)

/* Runs until SIGTERM/SIGINT; returns the exit code. */
int vt_daemon_run(VtDaemon *daemon);

G_END_DECLS
