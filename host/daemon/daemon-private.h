/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "changes.h"
#include "control.h"
#include "daemon.h"
#include "guest.h"
#include "host.h"
#include "http.h"
#include "hypervisor.h"
#include "rules.h"
#include "store.h"

G_BEGIN_DECLS

/* The state the daemon's files share: daemon.c wires it up and owns it. */
struct VtDaemon {
	char *uri;
	char *state_dir;
	char *socket_path;
	char *group;
	char *host_label; /* virttune_host_info{host=…} */
	guint poll_interval_s;
	guint retention_days;
	guint retention_reports;
	VtChannelMode channel_mode;

	GMainLoop *loop;
	VtHypervisor *hv;
	VtControl *control;
	VtStore *store;
	GHashTable *guests; /* uuid -> VtGuest */
	VtHostModel *host;  /* the hypervisor host itself */
	VtChanges *changes; /* apply, rollback and refresh requests in flight */
	VtRulesConfig *rules;
	char *rules_path; /* NULL: the built-in defaults */
	VtHttp *http;
	guint stale_timer;
	guint prune_timer;
	guint batch_timer;   /* commits the open batch of reports */
	guint batch_reports; /* reports in the open batch */
	gint64 trimmed_us;   /* monotonic: the heap was last trimmed */
	int exit_code;
};

/* guests.c: the running domains, their agent channels and sessions. */
extern const VtHypervisorCallbacks vt_daemon_hypervisor_callbacks;
/* Run the rules over @guest; @record: store the recommendations too. */
void vt_daemon_analyse(VtDaemon *daemon, VtGuest *guest, gboolean record);
/* Timer: ask silent agents for a report, handshake again with mute ones. */
gboolean vt_daemon_check_stale(gpointer daemon);

/* store-batch.c: reports stored in batches of a few ms (one transaction).
 * Store @guest's newest report (after vt_guest_set_report) in the open
 * batch; after the analysis, _done commits the batch when it is full or
 * someone waits for this report, and answers them. Flush: commit now. */
void vt_daemon_store_report(VtDaemon *daemon, VtGuest *guest, gint64 at_ms);
void vt_daemon_store_report_done(VtDaemon *daemon, VtGuest *guest);
void vt_daemon_store_flush(VtDaemon *daemon);

/* heap.c: glibc's heap kept grown between reports, trimmed once a second. */
void vt_daemon_heap_init(void);
void vt_daemon_heap_trim(VtDaemon *daemon);

/* commands.c: a control socket request. */
void vt_daemon_on_request(VtControlRequest *request, gpointer daemon);

G_END_DECLS
