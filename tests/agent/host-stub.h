/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A host stub for tests that run the real virt-tune-agent: it listens on a
 * UNIX socket in a temporary directory, starts the agent on it (VT_AGENT_BIN,
 * with --sysroot VT_AGENT_SYSROOT, --config and --state-dir in that
 * directory), and speaks frames to it. Every wait has a deadline.
 */
#pragma once

#include <glib.h>

#include "frame.h"
#include "message.h"

/* Generous: the machine runs other builds at the same time. */
#define DEADLINE_MS      5000
#define LONG_DEADLINE_MS 15000

typedef struct {
	char *dir;
	char *sock_path;
	char *conf_path;
	char *log_path;
	int listen_fd;
	int conn_fd;
	GPid pid;
	gboolean reaped;
	VtFrameDecoder *dec;
	GQueue frames; /* VtEnvelope *, decoded, not yet taken */
	gboolean eof;
	guint64 tx_seq;
} Host;

gint64 now_ms(void);
void host_listen(Host *h);
void host_setup(Host *h, gconstpointer data);
void agent_start(Host *h, const char *const *extra);
int agent_wait(Host *h, gint64 timeout_ms);
void agent_signal(Host *h, int sig);
char *agent_log(Host *h);
guint count_substr(const char *text, const char *needle);
gboolean agent_log_wait(Host *h, const char *needle, guint count, gint64 timeout_ms);
guint64 agent_cpu_ms(Host *h);
void host_drop_conn(Host *h);
void host_accept(Host *h, gint64 timeout_ms);
void host_write(Host *h, const guint8 *data, gsize len);
GBytes *host_frame(Host *h, VtEnvelope *env);
void host_send(Host *h, VtEnvelope *env);
void host_send_hello(Host *h, guint64 nonce);
void host_send_report_request(Host *h);
VtEnvelope *host_recv(Host *h, gint64 timeout_ms);
VtEnvelope *host_expect(Host *h, int body_case, gint64 timeout_ms);
/* SIGTERM, a clean exit asserted, the log shown on failure, all removed. */
void host_teardown(Host *h, gconstpointer data);
