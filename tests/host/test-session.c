/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's protocol with one guest, driven by a fake guest over socketpair(). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bounds.h"
#include "frame.h"
#include "message.h"
#include "session.h"

typedef struct {
	int guest_fd; /* the fake guest's end */
	VtSession *session;
	VtFrameDecoder *guest_dec; /* decodes what the host sent */
	GPtrArray *from_host;      /* VtEnvelope* */
	GPtrArray *reports;        /* VtReport* received by the host */
	guint ready;
	guint closed;
	VtSessionState closed_state;
	guint64 seq;
} Fixture;

static gboolean
guest_on_frame(const guint8 *payload, gsize len, gpointer user_data)
{
	Fixture *f = user_data;
	g_autoptr(GError) error = NULL;
	VtEnvelope *env = vt_envelope_unpack(payload, len, &error);

	g_assert_no_error(error);
	g_ptr_array_add(f->from_host, env);
	return TRUE;
}

static void
on_ready(VtSession *session, const VtHello *hello, gpointer user_data)
{
	Fixture *f = user_data;
	f->ready++;
}

static void
on_report(VtSession *session, VtReport *report, VtArena *arena, GBytes *envelope,
	  gpointer user_data)
{
	Fixture *f = user_data;
	g_autoptr(VtArena) owned = arena; /* the report lives in it */
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *copy = vt_message_copy(&report->base, &error);

	g_assert_no_error(error);
	g_ptr_array_add(f->reports, copy);
}

static void
on_closed(VtSession *session, VtSessionState state, const char *why, gpointer user_data)
{
	Fixture *f = user_data;
	f->closed++;
	f->closed_state = state;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	static const VtSessionCallbacks callbacks = {
		.on_ready = on_ready,
		.on_report = on_report,
		.on_closed = on_closed,
	};
	int sv[2];

	memset(f, 0, sizeof(*f));
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), ==,
			0);
	f->guest_fd = sv[1];
	f->from_host = g_ptr_array_new_with_free_func((GDestroyNotify)vt_envelope_free);
	f->reports = g_ptr_array_new_with_free_func((GDestroyNotify)vt_report_free);
	f->guest_dec = vt_frame_decoder_new(0);
	vt_frame_decoder_set_callbacks(f->guest_dec, guest_on_frame, NULL, f);
	f->session = vt_session_new("guest-1", &callbacks, f);
	vt_session_attach(f->session, vt_transport_new_fd(sv[0], "test socket"));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	vt_session_free(f->session);
	if (f->guest_fd >= 0)
		close(f->guest_fd);
	vt_frame_decoder_free(f->guest_dec);
	g_ptr_array_unref(f->from_host);
	g_ptr_array_unref(f->reports);
}

/* Run the loop and read what the host sent, until @done or the deadline. */
static void
pump_until(Fixture *f, gboolean (*done)(Fixture *f), guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!done(f) && g_get_monotonic_time() < deadline) {
		struct pollfd pfd = {.fd = f->guest_fd, .events = POLLIN};
		guint8 buf[4096];

		while (g_main_context_iteration(NULL, FALSE))
			;
		if (f->guest_fd >= 0 && poll(&pfd, 1, 10) > 0 && (pfd.revents & POLLIN)) {
			ssize_t n = read(f->guest_fd, buf, sizeof(buf));
			if (n > 0)
				vt_frame_decoder_feed(f->guest_dec, buf, (gsize)n);
		}
	}
}

static gboolean
has_hello(Fixture *f)
{
	return f->from_host->len >= 1;
}

static gboolean
has_two(Fixture *f)
{
	return f->from_host->len >= 2;
}

static gboolean
is_ready(Fixture *f)
{
	return f->ready > 0;
}

static gboolean
has_report(Fixture *f)
{
	return f->reports->len > 0;
}

static gboolean
is_closed(Fixture *f)
{
	return f->closed > 0;
}

static void
guest_write(Fixture *f, const guint8 *data, gsize len)
{
	while (len > 0) {
		ssize_t n = send(f->guest_fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			g_main_context_iteration(NULL, FALSE);
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return; /* the host cut us off */
		g_assert_cmpint(n, >, 0);
		data += n;
		len -= (gsize)n;
	}
}

static void
guest_send(Fixture *f, VtEnvelope *env)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;

	env->has_version = TRUE;
	env->version = VT_PROTOCOL_VERSION;
	env->has_seq = TRUE;
	env->seq = ++f->seq;
	g_assert_true(vt_envelope_append_frame(out, env, &error));
	g_assert_no_error(error);
	guest_write(f, out->data, out->len);
}

static void
guest_send_hello(Fixture *f, guint64 nonce)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtHello hello = VIRTTUNE__V1__HELLO__INIT;

	hello.agent_version = (char *)"test";
	hello.has_nonce = TRUE;
	hello.nonce = nonce;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	guest_send(f, &env);
}

static void
guest_send_report(Fixture *f, VtReport *report)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;

	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = report;
	guest_send(f, &env);
}

static void
guest_send_hostname(Fixture *f, const char *hostname)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	VtIdentity id = VIRTTUNE__V1__IDENTITY__INIT;

	id.hostname = (char *)hostname;
	report.identity = &id;
	guest_send_report(f, &report);
}

static VtEnvelope *
host_msg(Fixture *f, guint i)
{
	g_assert_cmpuint(i, <, f->from_host->len);
	return f->from_host->pdata[i];
}

/* Complete the handshake; returns the nonce. */
static guint64
handshake(Fixture *f)
{
	VtEnvelope *hello;

	pump_until(f, has_hello, 2000);
	hello = host_msg(f, 0);
	g_assert_cmpint(hello->body_case, ==, VIRTTUNE__V1__ENVELOPE__BODY_HELLO);
	g_assert_true(hello->hello->has_nonce);
	guest_send_hello(f, hello->hello->nonce);
	pump_until(f, is_ready, 2000);
	g_assert_cmpuint(f->ready, ==, 1);
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_READY);
	return hello->hello->nonce;
}

static void
test_handshake_discards_early_frames(Fixture *f, gconstpointer data)
{
	VtEnvelope *hello;

	pump_until(f, has_hello, 2000);
	hello = host_msg(f, 0);
	g_assert_cmpstr(hello->hello->host_version, ==, VT_VERSION);
	g_assert_cmpuint(hello->version, ==, VT_PROTOCOL_VERSION);

	/* a report in flight from before the reconnect, and a stale answer */
	guest_send_hostname(f, "stale");
	guest_send_hello(f, hello->hello->nonce + 1);
	pump_until(f, is_ready, 300);
	g_assert_cmpuint(f->ready, ==, 0);
	g_assert_cmpuint(f->reports->len, ==, 0);
	g_assert_cmpuint(vt_session_get_ignored(f->session), ==, 2);

	guest_send_hello(f, hello->hello->nonce);
	pump_until(f, is_ready, 2000);
	g_assert_cmpuint(f->ready, ==, 1);
	guest_send_hostname(f, "fresh");
	pump_until(f, has_report, 2000);
	g_assert_cmpuint(f->reports->len, ==, 1);
	g_assert_cmpstr(((VtReport *)f->reports->pdata[0])->identity->hostname, ==, "fresh");
	for (guint r = 0; r < VT_REJECT_N_REASONS; r++)
		g_assert_cmpuint(vt_session_get_rejects(f->session, r), ==, 0);
}

/* Nobody answers: the same hello comes again (bytes may have been lost). */
static void
test_hello_resent(Fixture *f, gconstpointer data)
{
	pump_until(f, has_two, 3000);
	g_assert_cmpuint(f->from_host->len, >=, 2);
	g_assert_cmpuint(host_msg(f, 0)->hello->nonce, ==, host_msg(f, 1)->hello->nonce);
	g_assert_cmpuint(host_msg(f, 1)->seq, ==, host_msg(f, 0)->seq + 1);
}

/* While libvirt says the guest's port is closed nothing is sent (QEMU would
 * not read it); when it opens, a Hello with a new nonce goes out. */
static void
test_port_closed_holds_hellos(Fixture *f, gconstpointer data)
{
	guint64 first;

	pump_until(f, has_hello, 2000);
	first = host_msg(f, 0)->hello->nonce;
	vt_session_set_port_open(f->session, FALSE);
	g_ptr_array_set_size(f->from_host, 0);
	pump_until(f, has_hello, 2500); /* retries would come at 0.5, 1 and 2 s */
	g_assert_cmpuint(f->from_host->len, ==, 0);
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_HANDSHAKE);

	vt_session_set_port_open(f->session, TRUE);
	pump_until(f, has_hello, 2000);
	g_assert_cmpuint(f->from_host->len, >=, 1);
	g_assert_cmpuint(host_msg(f, 0)->hello->nonce, !=, first);
	guest_send_hello(f, host_msg(f, 0)->hello->nonce);
	pump_until(f, is_ready, 2000);
	g_assert_cmpuint(f->ready, ==, 1);

	/* closing the port of a connected agent: it is gone, wait again */
	vt_session_set_port_open(f->session, FALSE);
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_HANDSHAKE);
}

static void
test_request_report(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VtEnvelope *req;

	g_assert_false(vt_session_request_report(f->session, "cli", &error));
	g_clear_error(&error);
	handshake(f);
	g_assert_true(vt_session_request_report(f->session, "cli", &error));
	g_assert_no_error(error);
	pump_until(f, has_two, 2000);
	req = host_msg(f, f->from_host->len - 1);
	g_assert_cmpint(req->body_case, ==, VIRTTUNE__V1__ENVELOPE__BODY_REPORT_REQUEST);
	g_assert_cmpstr(req->report_request->reason, ==, "cli");
}

/* Each bound at its edge: accepted at the limit, refused one past it. */
static void
test_limits_at_edge(Fixture *f, gconstpointer data)
{
	g_autofree char *name = g_malloc0(VT_STRING_MAX + 2);
	char bad_utf8[] = {'g', (char)0xc0, 0};
	guint8 header[VT_FRAME_HEADER_SIZE] = {VT_FRAME_MAGIC_0, VT_FRAME_MAGIC_1, VT_FRAME_MAGIC_2,
					       VT_FRAME_MAGIC_3};
	guint32 over = VT_FRAME_MAX + 1;
	g_autoptr(GByteArray) max_frame = g_byte_array_new();
	g_autofree guint8 *junk = g_malloc(VT_FRAME_MAX);

	handshake(f);
	memset(name, 'h', VT_STRING_MAX);
	guest_send_hostname(f, name);
	pump_until(f, has_report, 2000);
	g_assert_cmpuint(f->reports->len, ==, 1);

	name[VT_STRING_MAX] = 'h';
	guest_send_hostname(f, name);
	guest_send_hostname(f, bad_utf8);
	pump_until(f, has_two, 500);
	g_assert_cmpuint(f->reports->len, ==, 1);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_LIMITS), ==, 2);

	/* a frame of exactly the limit passes framing (and fails as protobuf) */
	memset(junk, 0xff, VT_FRAME_MAX);
	vt_frame_append(max_frame, junk, VT_FRAME_MAX, NULL);
	guest_write(f, max_frame->data, max_frame->len);
	header[4] = (guint8)(over >> 24);
	header[5] = (guint8)(over >> 16);
	header[6] = (guint8)(over >> 8);
	header[7] = (guint8)over;
	guest_write(f, header, sizeof(header));
	guest_send_hostname(f, "after");
	pump_until(f, has_two, 2000);
	g_assert_cmpuint(f->reports->len, ==, 2);
	g_assert_cmpstr(((VtReport *)f->reports->pdata[1])->identity->hostname, ==, "after");
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_BAD_MESSAGE), ==, 1);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_OVERSIZE), ==, 1);
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_READY);
}

static void
test_block_count_edge(Fixture *f, gconstpointer data)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	g_autofree VtBlock *storage = g_new0(VtBlock, VT_REPORT_MAX_BLOCK + 1);
	g_autofree VtBlock **blocks = g_new0(VtBlock *, VT_REPORT_MAX_BLOCK + 1);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	handshake(f);
	for (guint i = 0; i <= VT_REPORT_MAX_BLOCK; i++) {
		virttune__v1__block__init(&storage[i]);
		storage[i].name = g_strdup_printf("vd%u", i);
		g_ptr_array_add(names, storage[i].name);
		blocks[i] = &storage[i];
	}
	report.block = blocks;
	report.n_block = VT_REPORT_MAX_BLOCK;
	guest_send_report(f, &report);
	report.n_block = VT_REPORT_MAX_BLOCK + 1;
	guest_send_report(f, &report);
	pump_until(f, has_report, 2000);
	pump_until(f, has_two, 300);
	g_assert_cmpuint(f->reports->len, ==, 1);
	g_assert_cmpuint(((VtReport *)f->reports->pdata[0])->n_block, ==, VT_REPORT_MAX_BLOCK);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_LIMITS), ==, 1);
}

static void
test_garbage_then_report(Fixture *f, gconstpointer data)
{
	guint8 garbage[1000];

	handshake(f);
	memset(garbage, 'x', sizeof(garbage));
	guest_write(f, garbage, sizeof(garbage));
	guest_send_hostname(f, "ok");
	pump_until(f, has_report, 2000);
	g_assert_cmpuint(f->reports->len, ==, 1);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_GARBAGE), ==, 1);
}

/* Nothing but garbage: charged per VT_GUEST_GARBAGE_CHUNK, cut off at last. */
static void
test_endless_garbage_cut_off(Fixture *f, gconstpointer data)
{
	guint8 garbage[VT_GUEST_GARBAGE_CHUNK];

	handshake(f);
	memset(garbage, 'x', sizeof(garbage));
	for (guint i = 0; i < VT_GUEST_MAX_REJECTS + 2 && f->closed == 0; i++) {
		guest_write(f, garbage, sizeof(garbage));
		pump_until(f, is_closed, 20);
	}
	pump_until(f, is_closed, 2000);
	g_assert_cmpint(f->closed_state, ==, VT_SESSION_CUT_OFF);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_GARBAGE), ==,
			 VT_GUEST_MAX_REJECTS + 1);
}

static void
test_unexpected_body(Fixture *f, gconstpointer data)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtApplyRequest req = VIRTTUNE__V1__APPLY_REQUEST__INIT;

	handshake(f);
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST;
	env.apply_request = &req;
	guest_send(f, &env);
	guest_send_hostname(f, "ok");
	pump_until(f, has_report, 2000);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_UNEXPECTED), ==, 1);
}

/* The rate limits read this clock in the flood tests: no tokens come back
 * while the test sends, however slowly a loaded machine runs it. */
static gint64 frozen_clock_us;

static gint64
frozen_clock(void)
{
	return frozen_clock_us;
}

static void
freeze_session_clock(void)
{
	frozen_clock_us = g_get_monotonic_time();
	vt_session_set_clock(frozen_clock);
}

/* A flood: past the burst, frames are refused; at the refusal after
 * VT_GUEST_MAX_REJECTS within the window the guest is cut off. */
static void
test_frame_flood_cut_off(Fixture *f, gconstpointer data)
{
	guint sent = 0;

	freeze_session_clock();
	handshake(f);
	while (sent < VT_GUEST_FRAMES_BURST + VT_GUEST_MAX_REJECTS + 10) {
		guest_send_hostname(f, "flood");
		sent++;
	}
	pump_until(f, is_closed, 30000);
	vt_session_set_clock(NULL);
	g_assert_cmpuint(f->closed, ==, 1);
	g_assert_cmpint(f->closed_state, ==, VT_SESSION_CUT_OFF);
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_CUT_OFF);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_RATE), ==,
			 VT_GUEST_MAX_REJECTS + 1);
	/* the burst less the hello answer got through, no more */
	g_assert_cmpuint(f->reports->len, >=, VT_GUEST_FRAMES_BURST - 1);
	g_assert_cmpuint(f->reports->len, <=, VT_GUEST_FRAMES_BURST);
}

/* Valid but large reports faster than the byte rate allows: cut off. */
static void
test_byte_flood_cut_off(Fixture *f, gconstpointer data)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	VtReportMeminfoEntry storage[240];
	VtReportMeminfoEntry *entries[240];
	char keys[240][VT_STRING_MAX + 1];
	guint sent = 0;

	freeze_session_clock();
	handshake(f);
	for (guint i = 0; i < 240; i++) {
		virttune__v1__report__meminfo_entry__init(&storage[i]);
		memset(keys[i], 'k', VT_STRING_MAX);
		g_snprintf(keys[i], 8, "%06u", i);
		keys[i][6] = 'k';
		keys[i][VT_STRING_MAX] = '\0';
		storage[i].key = keys[i];
		storage[i].has_value = TRUE;
		storage[i].value = i;
		entries[i] = &storage[i];
	}
	report.meminfo = entries;
	report.n_meminfo = 240;
	/* ~63 KB each: the byte bucket (2 MiB) empties before the frame one (40) */
	while (sent < VT_GUEST_FRAMES_BURST - 2 && f->closed == 0) {
		guest_send_report(f, &report);
		sent++;
	}
	pump_until(f, is_closed, 30000);
	vt_session_set_clock(NULL);
	g_assert_cmpuint(f->closed, ==, 1);
	g_assert_cmpint(f->closed_state, ==, VT_SESSION_CUT_OFF);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_RATE), ==, 1);
	g_assert_cmpuint(f->reports->len, <, sent);
}

static void
test_guest_closes_mid_frame(Fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	guint8 payload[100] = {0};

	handshake(f);
	vt_frame_append(out, payload, sizeof(payload), NULL);
	guest_write(f, out->data, 50);
	pump_until(f, is_closed, 100);
	close(f->guest_fd);
	f->guest_fd = -1;
	pump_until(f, is_closed, 2000);
	g_assert_cmpuint(f->closed, ==, 1);
	g_assert_cmpint(f->closed_state, ==, VT_SESSION_DETACHED);
	g_assert_cmpuint(vt_session_get_rejects(f->session, VT_REJECT_TRUNCATED), ==, 1);
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_DETACHED);
}

/* Reattach after a disconnect: a new nonce, and a fresh handshake. */
static void
test_reattach_new_nonce(Fixture *f, gconstpointer data)
{
	guint64 first = handshake(f);
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), ==,
			0);
	close(f->guest_fd);
	f->guest_fd = sv[1];
	g_ptr_array_set_size(f->from_host, 0);
	f->ready = 0;
	vt_session_attach(f->session, vt_transport_new_fd(sv[0], "second socket"));
	g_assert_cmpint(vt_session_get_state(f->session), ==, VT_SESSION_HANDSHAKE);
	g_assert_cmpuint(handshake(f), !=, first);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* refusals are logged as warnings by design */
	g_log_set_always_fatal(G_LOG_FATAL_MASK);
	g_log_set_fatal_mask(NULL, G_LOG_LEVEL_ERROR);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/session/handshake-discards-early-frames", test_handshake_discards_early_frames);
	ADD("/session/hello-resent", test_hello_resent);
	ADD("/session/request-report", test_request_report);
	ADD("/session/port-closed-holds-hellos", test_port_closed_holds_hellos);
	ADD("/session/limits-at-edge", test_limits_at_edge);
	ADD("/session/block-count-edge", test_block_count_edge);
	ADD("/session/garbage-then-report", test_garbage_then_report);
	ADD("/session/unexpected-body", test_unexpected_body);
	ADD("/session/endless-garbage-cut-off", test_endless_garbage_cut_off);
	ADD("/session/frame-flood-cut-off", test_frame_flood_cut_off);
	ADD("/session/byte-flood-cut-off", test_byte_flood_cut_off);
	ADD("/session/guest-closes-mid-frame", test_guest_closes_mid_frame);
	ADD("/session/reattach-new-nonce", test_reattach_new_nonce);
	return g_test_run();
}
