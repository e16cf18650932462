/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "host-stub.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bounds.h"

gint64
now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static gboolean
on_host_frame(const guint8 *payload, gsize len, gpointer data)
{
	Host *h = data;
	g_autoptr(GError) error = NULL;
	VtEnvelope *env = vt_envelope_unpack(payload, len, &error);

	g_assert_no_error(error);
	g_assert_nonnull(env);
	g_queue_push_tail(&h->frames, env);
	return TRUE;
}

void
host_listen(Host *h)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	g_assert_cmpuint(strlen(h->sock_path), <, sizeof(addr.sun_path));
	strcpy(addr.sun_path, h->sock_path);
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(h->listen_fd, >=, 0);
	g_assert_cmpint(bind(h->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(h->listen_fd, 4), ==, 0);
}

void
host_setup(Host *h, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	h->dir = g_dir_make_tmp("vt-agent-loop-XXXXXX", &error);
	g_assert_no_error(error);
	h->sock_path = g_build_filename(h->dir, "port.sock", NULL);
	h->conf_path = g_build_filename(h->dir, "agent.conf", NULL);
	h->log_path = g_build_filename(h->dir, "agent.log", NULL);
	h->listen_fd = -1;
	h->conn_fd = -1;
	h->dec = vt_frame_decoder_new(0);
	vt_frame_decoder_set_callbacks(h->dec, on_host_frame, NULL, h);
	g_queue_init(&h->frames);
	g_assert_true(g_file_set_contents(h->conf_path, "[agent]\n", -1, &error));
	g_assert_no_error(error);
}

void
agent_start(Host *h, const char *const *extra)
{
	const char *bin = g_getenv("VT_AGENT_BIN");
	const char *sysroot = g_getenv("VT_AGENT_SYSROOT");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	int log_fd;

	g_assert_nonnull(bin);
	g_assert_nonnull(sysroot);
	g_ptr_array_add(argv, (char *)bin);
	g_ptr_array_add(argv, (char *)"--port");
	g_ptr_array_add(argv, h->sock_path);
	g_ptr_array_add(argv, (char *)"--sysroot");
	g_ptr_array_add(argv, (char *)sysroot);
	g_ptr_array_add(argv, (char *)"--config");
	g_ptr_array_add(argv, h->conf_path);
	g_ptr_array_add(argv, (char *)"--state-dir");
	g_ptr_array_add(argv, h->dir); /* the apply journal goes to DIR/journal */
	for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
		g_ptr_array_add(argv, (char *)extra[i]);
	g_ptr_array_add(argv, NULL);

	log_fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	g_assert_cmpint(log_fd, >=, 0);
	g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata, NULL,
					 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
					 NULL, NULL, -1, -1, log_fd, NULL, NULL, 0, &h->pid, NULL,
					 NULL, NULL, &error);
	g_assert_no_error(error);
	close(log_fd);
}

/* Wait for the agent to exit; its wait status, or -1 past the deadline. */
int
agent_wait(Host *h, gint64 timeout_ms)
{
	gint64 deadline = now_ms() + timeout_ms;
	int status;

	g_assert_false(h->reaped);
	for (;;) {
		pid_t r = waitpid(h->pid, &status, WNOHANG);

		if (r == h->pid) {
			h->reaped = TRUE;
			return status;
		}
		g_assert_cmpint(r, ==, 0);
		if (now_ms() >= deadline)
			return -1;
		g_usleep(10 * 1000);
	}
}

void
agent_signal(Host *h, int sig)
{
	g_assert_cmpint(kill(h->pid, sig), ==, 0);
}

char *
agent_log(Host *h)
{
	char *text = NULL;

	if (!g_file_get_contents(h->log_path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

guint
count_substr(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Wait until the agent's log holds @needle @count times or more. */
gboolean
agent_log_wait(Host *h, const char *needle, guint count, gint64 timeout_ms)
{
	gint64 deadline = now_ms() + timeout_ms;

	for (;;) {
		g_autofree char *text = agent_log(h);

		if (count_substr(text, needle) >= count)
			return TRUE;
		if (now_ms() >= deadline)
			return FALSE;
		g_usleep(20 * 1000);
	}
}

/* utime + stime of the agent, in ms. */
guint64
agent_cpu_ms(Host *h)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)h->pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) fields = NULL;
	const char *p;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	p = strrchr(text, ')'); /* comm may hold spaces */
	g_assert_nonnull(p);
	fields = g_strsplit(p + 2, " ", 0);
	/* after "pid (comm) ": state is field 3, utime 14, stime 15 */
	g_assert_cmpuint(g_strv_length(fields), >, 13);
	return (g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10)) *
	       1000 / (guint64)sysconf(_SC_CLK_TCK);
}

void
host_drop_conn(Host *h)
{
	if (h->conn_fd >= 0)
		close(h->conn_fd);
	h->conn_fd = -1;
	g_queue_clear_full(&h->frames, (GDestroyNotify)vt_envelope_free);
	vt_frame_decoder_reset(h->dec);
	h->eof = FALSE;
	h->tx_seq = 0;
}

void
host_accept(Host *h, gint64 timeout_ms)
{
	struct pollfd pfd = {.fd = h->listen_fd, .events = POLLIN};

	host_drop_conn(h);
	g_assert_cmpint(poll(&pfd, 1, (int)timeout_ms), ==, 1);
	h->conn_fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(h->conn_fd, >=, 0);
}

void
host_write(Host *h, const guint8 *data, gsize len)
{
	while (len > 0) {
		ssize_t n = write(h->conn_fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		data += n;
		len -= (gsize)n;
	}
}

GBytes *
host_frame(Host *h, VtEnvelope *env)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;

	env->has_version = TRUE;
	env->version = VT_PROTOCOL_VERSION;
	env->has_seq = TRUE;
	env->seq = ++h->tx_seq;
	g_assert_true(vt_envelope_append_frame(out, env, &error));
	g_assert_no_error(error);
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

void
host_send(Host *h, VtEnvelope *env)
{
	g_autoptr(GBytes) frame = host_frame(h, env);

	host_write(h, g_bytes_get_data(frame, NULL), g_bytes_get_size(frame));
}

void
host_send_hello(Host *h, guint64 nonce)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtHello hello = VIRTTUNE__V1__HELLO__INIT;

	hello.host_version = (char *)"test-host";
	hello.has_nonce = TRUE;
	hello.nonce = nonce;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	host_send(h, &env);
}

void
host_send_report_request(Host *h)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtReportRequest req = VIRTTUNE__V1__REPORT_REQUEST__INIT;

	req.reason = (char *)"test";
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT_REQUEST;
	env.report_request = &req;
	host_send(h, &env);
}

/* The next envelope from the agent, or NULL at EOF or past the deadline. */
VtEnvelope *
host_recv(Host *h, gint64 timeout_ms)
{
	gint64 deadline = now_ms() + timeout_ms;

	while (g_queue_is_empty(&h->frames) && !h->eof) {
		struct pollfd pfd = {.fd = h->conn_fd, .events = POLLIN};
		guint8 buf[4096];
		gint64 left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return NULL;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(h->conn_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			h->eof = TRUE;
			break;
		}
		vt_frame_decoder_feed(h->dec, buf, (gsize)n);
	}
	return g_queue_pop_head(&h->frames);
}

VtEnvelope *
host_expect(Host *h, int body_case, gint64 timeout_ms)
{
	VtEnvelope *env = host_recv(h, timeout_ms);

	g_assert_nonnull(env);
	if ((int)env->body_case != body_case)
		g_test_message("expected body %d, got %s", body_case, vt_envelope_body_name(env));
	g_assert_cmpint(env->body_case, ==, body_case);
	g_assert_true(env->has_version);
	g_assert_cmpuint(env->version, ==, VT_PROTOCOL_VERSION);
	g_assert_true(env->has_seq);
	return env;
}

/* The stub's directory and what the agent left in it (its journal). */
static void
rm_tree(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
			rm_tree(path);
		else
			g_unlink(path);
	}
	g_rmdir(dir);
}

void
host_teardown(Host *h, gconstpointer data)
{
	if (h->pid > 0 && !h->reaped) {
		int status;

		/* Every test ends the same way: SIGTERM, and a clean exit. */
		agent_signal(h, SIGTERM);
		status = agent_wait(h, DEADLINE_MS);
		if (status == -1) {
			kill(h->pid, SIGKILL);
			agent_wait(h, DEADLINE_MS);
		}
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	}
	if (g_test_failed()) {
		g_autofree char *log = agent_log(h);
		g_test_message("agent log:\n%s", log);
	}
	if (h->pid > 0)
		g_spawn_close_pid(h->pid);
	host_drop_conn(h);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	vt_frame_decoder_free(h->dec);
	rm_tree(h->dir);
	g_free(h->sock_path);
	g_free(h->conf_path);
	g_free(h->log_path);
	g_free(h->dir);
}
