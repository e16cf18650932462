/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One control client: its input and output buffers, the limits on them, its
 * idle timer, and the requests it sends. */
#include "control-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "error.h"
#include "json.h"

struct VtControlRequest {
	Client *client;
	char *command;
	JsonNode *root; /* the parsed request */
	JsonObject *args;
};

static Client *
client_ref(Client *c)
{
	c->ref++;
	return c;
}

static void client_unref(Client *c);

/* Stops I/O and drops the references the removed watches held (which may
 * free @c: touch it no more after this unless you hold a reference). */
void
vt_control_client_close(Client *c)
{
	gboolean had_in = c->in_watch != 0;
	gboolean had_out = c->out_watch != 0;

	if (c->closed)
		return;
	c->closed = TRUE;
	if (c->in_watch)
		g_source_remove(c->in_watch);
	if (c->out_watch)
		g_source_remove(c->out_watch);
	if (c->idle_timer)
		g_source_remove(c->idle_timer);
	c->in_watch = c->out_watch = c->idle_timer = 0;
	close(c->fd);
	c->fd = -1;
	if (c->control != NULL) {
		c->control->clients = g_list_remove(c->control->clients, c);
		c->control->n_clients--;
		c->control = NULL;
	}
	if (had_out)
		client_unref(c); /* the removed output watch's reference */
	if (had_in)
		client_unref(c); /* the removed input watch's reference */
}

static void
client_unref(Client *c)
{
	if (--c->ref > 0)
		return;
	vt_control_client_close(c);
	g_byte_array_unref(c->in);
	g_byte_array_unref(c->out);
	g_free(c);
}

static void process_input(Client *c);
static gboolean on_idle_check(gpointer user_data);
static gboolean on_client_in(gint fd, GIOCondition cond, gpointer user_data);

gboolean
vt_control_uid_is_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Stop reading @c until its output drains (the input watch's reference goes:
 * the caller or the output watch holds another). */
static void
pause_input(Client *c)
{
	if (c->in_watch == 0)
		return;
	g_source_remove(c->in_watch);
	c->in_watch = 0;
	c->paused = TRUE;
	client_unref(c);
}

static void
resume_input(Client *c)
{
	if (!c->paused || c->closed)
		return;
	c->paused = FALSE;
	c->in_watch =
		g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_in, client_ref(c));
	process_input(c); /* the requests it pipelined meanwhile */
}

/* Send what the socket takes; FALSE on an error (the peer is gone). */
static gboolean
flush_output(Client *c)
{
	while (c->out->len > 0) {
		ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TRUE;
		if (n < 0)
			return FALSE;
		g_byte_array_remove_range(c->out, 0, (guint)n);
		c->last_active_us = g_get_monotonic_time();
	}
	/* give back what a large reply made the buffer grow to */
	g_byte_array_unref(c->out);
	c->out = g_byte_array_new();
	return TRUE;
}

static gboolean
on_client_out(gint fd, GIOCondition cond, gpointer user_data)
{
	Client *c = user_data;
	gboolean closed;

	if (!flush_output(c)) {
		c->out_watch = 0;
		vt_control_client_close(c);
		client_unref(c);
		return G_SOURCE_REMOVE;
	}
	if (c->paused && c->out->len <= VT_CONTROL_OUT_SOFT_CAP) {
		client_ref(c);
		resume_input(c);
		closed = c->closed; /* then our watch is gone with its reference */
		client_unref(c);
		if (closed)
			return G_SOURCE_REMOVE;
	}
	if (c->out->len > 0)
		return G_SOURCE_CONTINUE;
	c->out_watch = 0;
	client_unref(c); /* taken by client_write() for this watch */
	return G_SOURCE_REMOVE;
}

static void
client_write(Client *c, const char *text)
{
	gsize len = strlen(text);

	if (c->closed)
		return;
	if ((gsize)c->out->len + len + 1 > VT_CONTROL_OUT_HARD_CAP) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "control: dropped a client (uid %u): %u bytes of replies it "
				 "does not read, past the %u byte cap",
				 (guint)c->cred.uid, c->out->len, VT_CONTROL_OUT_HARD_CAP);
		client_ref(c);
		vt_control_client_close(c);
		client_unref(c);
		return;
	}
	g_byte_array_append(c->out, (const guint8 *)text, (guint)len);
	g_byte_array_append(c->out, (const guint8 *)"\n", 1);
	if (c->out_watch == 0) {
		client_ref(c);
		c->out_watch = g_unix_fd_add(c->fd, G_IO_OUT, on_client_out, c);
	}
	if (c->out->len > VT_CONTROL_OUT_SOFT_CAP)
		pause_input(c);
}

/* {"ok": false, "error": {"code": …, "message": …}}, without the newline. */
char *
vt_control_error_text(const char *code, const char *message)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "ok");
	json_builder_add_boolean_value(b, FALSE);
	json_builder_set_member_name(b, "error");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "code");
	json_builder_add_string_value(b, code);
	json_builder_set_member_name(b, "message");
	json_builder_add_string_value(b, message);
	json_builder_end_object(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return vt_json_node_to_string(root, FALSE);
}

static void
write_error(Client *c, const char *code, const char *message)
{
	g_autofree char *text = vt_control_error_text(code, message);

	client_write(c, text);
}

static void
request_free(VtControlRequest *req)
{
	req->client->busy = FALSE;
	if (!req->client->closed)
		process_input(req->client); /* a pipelined next request */
	client_unref(req->client);
	g_free(req->command);
	if (req->root)
		json_node_unref(req->root);
	g_free(req);
}

JsonNode *
vt_control_parse_request(const char *line, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) local = NULL;
	JsonNode *root;
	JsonObject *obj;
	JsonNode *cmd;
	JsonNode *args;

	if (!g_utf8_validate(line, (gssize)len, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "the request is not valid UTF-8");
		return NULL;
	}
	if (!vt_json_check_depth(line, len, 16, error))
		return NULL;
	if (!json_parser_load_from_data(parser, line, (gssize)len, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "the request is not JSON: %s",
			    local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "the request must be a JSON object");
		return NULL;
	}
	obj = json_node_get_object(root);
	cmd = json_object_get_member(obj, "command");
	if (cmd == NULL || !JSON_NODE_HOLDS_VALUE(cmd) ||
	    json_node_get_value_type(cmd) != G_TYPE_STRING) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "the request needs a string member \"command\"");
		return NULL;
	}
	args = json_object_get_member(obj, "args");
	if (args != NULL && !JSON_NODE_HOLDS_OBJECT(args) && !JSON_NODE_HOLDS_NULL(args)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "\"args\" must be an object");
		return NULL;
	}
	root = json_node_copy(root);
	obj = json_node_get_object(root);
	args = json_object_get_member(obj, "args");
	if (args == NULL || JSON_NODE_HOLDS_NULL(args))
		json_object_set_object_member(obj, "args", json_object_new());
	return root;
}

/* Parse one line; hand a request to the handler or answer its error. */
static void
handle_line(Client *c, const char *line, gsize len)
{
	g_autoptr(GError) error = NULL;
	VtControlRequest *req;
	JsonNode *root = vt_control_parse_request(line, len, &error);
	JsonObject *obj;

	if (root == NULL) {
		write_error(c, "bad_request", error->message);
		return;
	}
	obj = json_node_get_object(root);
	req = g_new0(VtControlRequest, 1);
	req->client = client_ref(c);
	req->command = g_strdup(json_object_get_string_member(obj, "command"));
	req->root = root;
	req->args = json_object_get_object_member(obj, "args");
	c->busy = TRUE;
	c->control->handler(req, c->control->user_data);
}

static void
process_input(Client *c)
{
	while (!c->busy && !c->closed && c->control != NULL &&
	       c->out->len <= VT_CONTROL_OUT_SOFT_CAP) {
		guint8 *nl = memchr(c->in->data, '\n', c->in->len);
		g_autofree char *line = NULL;
		gsize len;

		if (nl == NULL)
			return;
		len = (gsize)(nl - c->in->data);
		line = g_strndup((const char *)c->in->data, len);
		g_byte_array_remove_range(c->in, 0, (guint)len + 1);
		if (len == 0)
			continue;
		handle_line(c, line, len);
	}
}

static gboolean
on_client_in(gint fd, GIOCondition cond, gpointer user_data)
{
	Client *c = user_data;
	guint8 buf[4096];
	ssize_t n;

	n = read(c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		c->in_watch = 0;
		vt_control_client_close(c);
		client_unref(c);
		return G_SOURCE_REMOVE;
	}
	c->last_active_us = g_get_monotonic_time();
	g_byte_array_append(c->in, buf, (guint)n);
	/* Requests are answered one at a time; a client that piles up more
	 * than a few lines meanwhile, or one endless line, is dropped. */
	if (c->in->len > 4 * VT_CONTROL_MAX_LINE ||
	    (c->in->len > VT_CONTROL_MAX_LINE && memchr(c->in->data, '\n', c->in->len) == NULL)) {
		write_error(c, "bad_request", "request line longer than 64 KiB");
		c->in_watch = 0;
		vt_control_client_close(c);
		client_unref(c);
		return G_SOURCE_REMOVE;
	}
	client_ref(c);
	process_input(c);
	client_unref(c);
	return G_SOURCE_CONTINUE;
}

static void
arm_idle_timer(Client *c, gint64 in_us)
{
	guint ms = (guint)MIN(MAX(in_us / 1000, 100), G_MAXUINT / 2);

	if (c->control == NULL || c->control->idle_timeout_s == 0)
		return;
	c->idle_timer = g_timeout_add(ms, on_idle_check, c);
}

static gboolean
on_idle_check(gpointer user_data)
{
	Client *c = user_data;
	gint64 limit = (gint64)c->control->idle_timeout_s * G_USEC_PER_SEC;
	gint64 idle = g_get_monotonic_time() - c->last_active_us;

	c->idle_timer = 0;
	if (c->busy || idle < limit) { /* a request in flight is not idleness */
		arm_idle_timer(c, c->busy ? limit : limit - idle);
		return G_SOURCE_REMOVE;
	}
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
			 "control: closed a client (uid %u) idle for %u s", (guint)c->cred.uid,
			 c->control->idle_timeout_s);
	vt_control_client_close(c);
	return G_SOURCE_REMOVE;
}

const char *
vt_control_request_get_command(const VtControlRequest *request)
{
	return request->command;
}

JsonObject *
vt_control_request_get_args(const VtControlRequest *request)
{
	return request->args;
}

uid_t
vt_control_request_get_uid(const VtControlRequest *request)
{
	return request->client->cred.uid;
}

gboolean
vt_control_request_is_privileged(const VtControlRequest *request)
{
	return vt_control_uid_is_privileged(request->client->cred.uid);
}

gboolean
vt_control_request_is_alive(const VtControlRequest *request)
{
	return !request->client->closed;
}

void
vt_control_request_reply(VtControlRequest *request, JsonNode *result)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "ok");
	json_builder_add_boolean_value(b, TRUE);
	json_builder_set_member_name(b, "result");
	if (result != NULL)
		json_builder_add_value(b, result);
	else
		json_builder_add_null_value(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	text = vt_json_node_to_string(root, FALSE);
	client_write(request->client, text);
	request_free(request);
}

void
vt_control_request_error(VtControlRequest *request, const char *code, const char *format, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	write_error(request->client, code, msg);
	request_free(request);
}

const char *
vt_control_arg_string(const VtControlRequest *request, const char *name)
{
	JsonNode *n = json_object_get_member(request->args, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

gint64
vt_control_arg_int(const VtControlRequest *request, const char *name, gint64 fallback)
{
	JsonNode *n = json_object_get_member(request->args, name);

	if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return fallback;
	return json_node_get_int(n);
}

gboolean
vt_control_arg_bool(const VtControlRequest *request, const char *name)
{
	JsonNode *n = json_object_get_member(request->args, name);

	return n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
	       json_node_get_value_type(n) == G_TYPE_BOOLEAN && json_node_get_boolean(n);
}

void
vt_control_client_add(VtControl *control, int fd, const struct ucred *cred)
{
	Client *c = g_new0(Client, 1);

	c->ref = 1; /* held by the input watch */
	c->fd = fd;
	c->cred = *cred;
	c->control = control;
	c->in = g_byte_array_new();
	c->out = g_byte_array_new();
	c->last_active_us = g_get_monotonic_time();
	control->clients = g_list_prepend(control->clients, c);
	control->n_clients++;
	c->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_in, c);
	arm_idle_timer(c, (gint64)control->idle_timeout_s * G_USEC_PER_SEC);
}
