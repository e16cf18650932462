/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs the real virt-tune-agent against a host stub listening on a UNIX
 * socket in a temporary directory: the agent connects to it as it would open
 * its virtio-serial port. Every wait is on an event with a deadline.
 *
 * VT_AGENT_BIN: the agent binary; VT_AGENT_SYSROOT: the fixture tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "bounds.h"
#include "host-stub.h"

#define FIXTURE_BOOT_ID "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"

static void
check_report(const VtEnvelope *env)
{
	const VtReport *r = env->report;

	g_assert_nonnull(r);
	g_assert_true(r->has_collected_at_ms);
	g_assert_true(r->has_monotonic_ms);
	g_assert_cmpuint(protobuf_c_message_get_packed_size(&r->base), <=, VT_FRAME_MAX);
	if (r->identity != NULL && r->identity->boot_id != NULL)
		g_assert_cmpstr(r->identity->boot_id, ==, FIXTURE_BOOT_ID);
	for (gsize i = 0; i < r->n_sections; i++)
		g_assert_nonnull(r->sections[i]->name);
}

static void
check_hello_answer(const VtEnvelope *env, guint64 nonce)
{
	const VtHello *hello = env->hello;
	gboolean reports = FALSE;

	g_assert_nonnull(hello);
	g_assert_true(hello->has_nonce);
	g_assert_cmpuint(hello->nonce, ==, nonce);
	g_assert_nonnull(hello->agent_version);
	g_assert_cmpstr(hello->boot_id, ==, FIXTURE_BOOT_ID);

	for (gsize i = 0; i < hello->n_capabilities; i++)
		reports = reports || g_strcmp0(hello->capabilities[i], "report") == 0;
	g_assert_true(reports);
	g_assert_nonnull(hello->policy);
	g_assert_cmpuint(hello->policy->n_allowed, ==, 0);
}

/* Hello, its answer, and the full report after it. Returns the report's seq. */
static guint64
handshake(Host *h, guint64 nonce)
{
	g_autoptr(VtEnvelope) answer = NULL;
	g_autoptr(VtEnvelope) report = NULL;

	host_send_hello(h, nonce);
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_HELLO, DEADLINE_MS);
	check_hello_answer(answer, nonce);
	report = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	check_report(report);
	g_assert_cmpuint(report->seq, ==, answer->seq + 1);
	return report->seq;
}

/* ---------------------------------------------------------------- tests */

static void
test_handshake(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "3600", NULL};
	g_autoptr(VtEnvelope) answer = NULL;
	g_autoptr(VtEnvelope) report = NULL;
	g_autoptr(VtEnvelope) extra = NULL;

	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);

	host_send_hello(h, G_GUINT64_CONSTANT(0x1122334455667788));
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_HELLO, DEADLINE_MS);
	check_hello_answer(answer, G_GUINT64_CONSTANT(0x1122334455667788));
	g_assert_cmpuint(answer->seq, ==, 1);
	report = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	check_report(report);
	g_assert_cmpuint(report->seq, ==, 2);

	/* nothing unsolicited before the interval */
	extra = host_recv(h, 300);
	g_assert_null(extra);

	/* A host that reconnected too fast for the guest to notice just says
	 * Hello again on what the agent takes for the same connection: a new
	 * session all the same, sequence numbers from 1. */
	g_clear_pointer(&answer, vt_envelope_free);
	g_clear_pointer(&report, vt_envelope_free);
	host_send_hello(h, 77);
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_HELLO, DEADLINE_MS);
	check_hello_answer(answer, 77);
	g_assert_cmpuint(answer->seq, ==, 1);
	report = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	g_assert_cmpuint(report->seq, ==, 2);
}

static void
test_periodic(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "1", NULL};
	guint64 seq;
	gint64 last;

	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);
	seq = handshake(h, 7);
	last = now_ms();

	for (guint i = 0; i < 3; i++) {
		g_autoptr(VtEnvelope) report =
			host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
		gint64 gap = now_ms() - last;

		check_report(report);
		g_assert_cmpuint(report->seq, ==, seq + 1);
		seq = report->seq;
		/* g_timeout_add_seconds() may shift a tick within its second */
		g_test_message("report %u after %" G_GINT64_FORMAT " ms", i, gap);
		g_assert_cmpint(gap, >=, 300);
		g_assert_cmpint(gap, <=, 2500);
		last = now_ms();
	}
}

static void
test_report_request(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "3600", NULL};
	g_autoptr(VtEnvelope) report = NULL;
	guint64 seq;
	gint64 t0, took;

	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);
	seq = handshake(h, 42);

	t0 = now_ms();
	host_send_report_request(h);
	report = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	took = now_ms() - t0;
	check_report(report);
	g_assert_cmpuint(report->seq, ==, seq + 1);
	g_test_message("ReportRequest answered in %" G_GINT64_FORMAT " ms", took);
	g_assert_cmpint(took, <, 2000); /* at once, not at the next interval */
}

static void
expect_error(Host *h, const char *code, gboolean has_reply_to, guint64 in_reply_to)
{
	g_autoptr(VtEnvelope) env = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_ERROR, DEADLINE_MS);

	g_assert_cmpstr(env->error->code, ==, code);
	g_assert_nonnull(env->error->message);
	g_assert_cmpint(env->error->has_in_reply_to, ==, has_reply_to);
	if (has_reply_to)
		g_assert_cmpuint(env->error->in_reply_to, ==, in_reply_to);
}

/* Leftovers of an old session, noise, and requests before the Hello are
 * answered or skipped; the Hello is answered all the same. */
static void
test_before_hello(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "3600", NULL};
	static const char garbage[] = "leftover bytes of an older session\n";
	static const guint8 not_protobuf[] = {0x0f, 0xff, 0xff};
	VtEnvelope empty = VIRTTUNE__V1__ENVELOPE__INIT;
	VtEnvelope apply = VIRTTUNE__V1__ENVELOPE__INIT;
	VtApplyRequest req = VIRTTUNE__V1__APPLY_REQUEST__INIT;
	VtAction action = VIRTTUNE__V1__ACTION__INIT;
	VtSetSysctl sysctl = VIRTTUNE__V1__SET_SYSCTL__INIT;
	g_autoptr(VtEnvelope) result = NULL;
	g_autoptr(GByteArray) raw = g_byte_array_new();
	g_autoptr(GBytes) good = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEnvelope) answer = NULL;
	g_autoptr(VtEnvelope) report = NULL;
	g_autoptr(VtEnvelope) again = NULL;
	guint8 *bad;

	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);

	/* garbage, then a frame whose CRC is wrong: both dropped silently */
	host_write(h, (const guint8 *)garbage, sizeof(garbage) - 1);
	good = host_frame(h, &empty);
	bad = g_memdup2(g_bytes_get_data(good, NULL), g_bytes_get_size(good));
	bad[8] ^= 0xff;
	host_write(h, bad, g_bytes_get_size(good));
	g_free(bad);
	h->tx_seq = 0;

	host_send_report_request(h); /* seq 1: no session yet */
	host_send(h, &empty);        /* seq 2: no body */
	host_send_hello(h, 99);      /* seq 3 */

	expect_error(h, "hello_required", TRUE, 1);
	expect_error(h, "unsupported", TRUE, 2);
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_HELLO, DEADLINE_MS);
	check_hello_answer(answer, 99);
	report = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	check_report(report);

	/* in the session: apply is refused by the default (report-only)
	 * policy, a payload that is not an Envelope is answered with
	 * bad_message, and the agent goes on */
	req.request_id = (char *)"r1";
	req.action = &action;
	action.kind_case = VIRTTUNE__V1__ACTION__KIND_SET_SYSCTL;
	action.set_sysctl = &sysctl;
	sysctl.key = (char *)"vm.swappiness";
	sysctl.value = (char *)"10";
	apply.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST;
	apply.apply_request = &req;
	host_send(h, &apply); /* seq 4 */
	result = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT, DEADLINE_MS);
	g_assert_cmpstr(result->apply_result->request_id, ==, "r1");
	g_assert_cmpint(result->apply_result->status, ==,
			VIRTTUNE__V1__APPLY_RESULT__STATUS__refused);
	g_assert_cmpstr(result->apply_result->reason, ==, "policy");

	g_assert_true(vt_frame_append(raw, not_protobuf, sizeof(not_protobuf), &error));
	host_write(h, raw->data, raw->len);
	expect_error(h, "bad_message", FALSE, 0);

	host_send_report_request(h);
	again = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	check_report(again);
}

/* The host goes away in the middle of a frame, twice: once while sending
 * one, once with a report of the agent half read. */
static void
test_reconnect(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "3600", NULL};
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtHello hello = VIRTTUNE__V1__HELLO__INIT;
	g_autoptr(GBytes) frame = NULL;
	g_autoptr(VtEnvelope) answer = NULL;
	guint8 head[16];

	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);
	handshake(h, 1);

	hello.has_nonce = TRUE;
	hello.nonce = 2;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	frame = host_frame(h, &env);
	host_write(h, g_bytes_get_data(frame, NULL), g_bytes_get_size(frame) - 3);

	host_accept(h, LONG_DEADLINE_MS);         /* closes the old connection first */
	g_assert_cmpuint(handshake(h, 3), ==, 2); /* seq starts again */

	host_send_report_request(h);
	{
		struct pollfd pfd = {.fd = h->conn_fd, .events = POLLIN};
		g_assert_cmpint(poll(&pfd, 1, DEADLINE_MS), ==, 1);
		g_assert_cmpint(read(h->conn_fd, head, sizeof(head)), >, 0);
	}
	host_accept(h, LONG_DEADLINE_MS);
	host_send_hello(h, 4);
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_HELLO, DEADLINE_MS);
	check_hello_answer(answer, 4);
	g_assert_cmpuint(answer->seq, ==, 1);
	g_clear_pointer(&answer, vt_envelope_free);
	answer = host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
	check_report(answer);
	g_assert_true(agent_log_wait(h, "host gone from", 1, DEADLINE_MS));
}

/* No host for 5 s: the agent waits without burning CPU, logs once, and
 * comes by itself when the host appears. */
static void
test_absent(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "3600", NULL};
	guint64 cpu0, cpu1;
	g_autofree char *log = NULL;

	agent_start(h, args); /* nothing listens: the socket does not exist */
	g_assert_true(agent_log_wait(h, "Retrying", 1, DEADLINE_MS));
	cpu0 = agent_cpu_ms(h);
	g_usleep(5 * G_USEC_PER_SEC); /* the scenario itself: a long absence */
	cpu1 = agent_cpu_ms(h);
	g_test_message("agent CPU while the host was absent for 5 s: %" G_GUINT64_FORMAT " ms",
		       cpu1 - cpu0);
	g_assert_cmpuint(cpu1 - cpu0, <, 50);

	log = agent_log(h);
	g_assert_cmpuint(count_substr(log, "Retrying"), ==, 1); /* rate-limited */

	host_listen(h);
	host_accept(h, LONG_DEADLINE_MS); /* backoff is at most 10 s */
	handshake(h, 5);
	g_assert_true(agent_log_wait(h, "without one", 1, DEADLINE_MS));
}

static void
write_config(Host *h, const char *text)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(h->conf_path, text, -1, &error));
	g_assert_no_error(error);
}

static void
expect_reports_every_second(Host *h, guint n)
{
	gint64 last = now_ms();

	for (guint i = 0; i < n; i++) {
		g_autoptr(VtEnvelope) report =
			host_expect(h, VIRTTUNE__V1__ENVELOPE__BODY_REPORT, DEADLINE_MS);
		gint64 gap = now_ms() - last;

		check_report(report);
		g_assert_cmpint(gap, <=, 2500);
		last = now_ms();
	}
}

static void
test_sighup(Host *h, gconstpointer data)
{
	g_autofree char *where = NULL;
	g_autoptr(VtEnvelope) none = NULL;

	write_config(h, "# reports rarely\n[agent]\ninterval=3600\n");
	host_listen(h);
	agent_start(h, NULL);
	host_accept(h, DEADLINE_MS);
	handshake(h, 10);
	none = host_recv(h, 1500);
	g_assert_null(none); /* interval=3600 taken from the file */

	write_config(h, "[agent]\ninterval=1\n");
	agent_signal(h, SIGHUP);
	g_assert_true(agent_log_wait(h, "reporting every 1 s", 1, DEADLINE_MS));
	expect_reports_every_second(h, 2);

	/* interval=5 would apply if a bad file were taken in part */
	write_config(h, "[agent]\ninterval=5\nsections=meminfo;bogus\n");
	agent_signal(h, SIGHUP);
	where = g_strdup_printf("%s:3: unknown section 'bogus'", h->conf_path);
	g_assert_true(agent_log_wait(h, where, 1, DEADLINE_MS));
	g_assert_true(agent_log_wait(h, "keeping the previous configuration", 1, DEADLINE_MS));
	expect_reports_every_second(h, 3);

	/* a syntax error names its line too */
	write_config(h, "[agent]\ninterval=5\nthis is not a key\n");
	agent_signal(h, SIGHUP);
	g_clear_pointer(&where, g_free);
	where = g_strdup_printf("%s:3: expected key=value", h->conf_path);
	g_assert_true(agent_log_wait(h, where, 1, DEADLINE_MS));
	expect_reports_every_second(h, 2);
}

static void
test_sigterm(Host *h, gconstpointer data)
{
	const char *args[] = {"--interval", "1", NULL};
	int status;

	/* in a session */
	host_listen(h);
	agent_start(h, args);
	host_accept(h, DEADLINE_MS);
	handshake(h, 11);
	agent_signal(h, SIGTERM);
	status = agent_wait(h, DEADLINE_MS);
	g_assert_cmpint(status, !=, -1);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_null(host_recv(h, DEADLINE_MS)); /* EOF */
	g_assert_true(h->eof);
	g_spawn_close_pid(h->pid);

	/* with no host, and by SIGINT */
	g_unlink(h->sock_path);
	close(h->listen_fd);
	h->listen_fd = -1;
	h->reaped = FALSE;
	agent_start(h, args);
	g_assert_true(agent_log_wait(h, "Retrying", 1, DEADLINE_MS));
	agent_signal(h, SIGINT);
	status = agent_wait(h, DEADLINE_MS);
	g_assert_cmpint(status, !=, -1);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* A path that is neither a port nor a socket: said so, retried, no exit. */
static void
test_not_a_port(Host *h, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(h->sock_path, "", 0, &error));
	agent_start(h, NULL);
	g_assert_true(agent_log_wait(h, "is neither a character device", 1, DEADLINE_MS));
	g_assert_cmpint(agent_wait(h, 200), ==, -1); /* still running */
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN); /* the agent may close while the stub writes */

#define ADD(path, fn) g_test_add(path, Host, NULL, host_setup, fn, host_teardown)
	ADD("/agent/loop/handshake", test_handshake);
	ADD("/agent/loop/periodic", test_periodic);
	ADD("/agent/loop/report-request", test_report_request);
	ADD("/agent/loop/before-hello", test_before_hello);
	ADD("/agent/loop/reconnect", test_reconnect);
	ADD("/agent/loop/absent", test_absent);
	ADD("/agent/loop/sighup", test_sighup);
	ADD("/agent/loop/sigterm", test_sigterm);
	ADD("/agent/loop/not-a-port", test_not_a_port);
#undef ADD
	return g_test_run();
}
