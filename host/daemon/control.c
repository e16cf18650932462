/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "error.h"
#include "json.h"

typedef struct Client Client;

struct VtControl {
	char *path;
	int fd;
	gboolean bound; /* the socket file at path is ours to remove */
	guint watch;
	VtControlHandler handler;
	gpointer user_data;
	GList *clients;
	guint n_clients;
};

struct Client {
	int ref;
	VtControl *control; /* NULL once the control is gone */
	int fd;
	guint in_watch;
	guint out_watch;
	GByteArray *in;
	GByteArray *out;
	struct ucred cred;
	gboolean busy; /* a request is being answered: read no further */
	gboolean closed;
};

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
static void
client_close(Client *c)
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
	c->in_watch = c->out_watch = 0;
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
	client_close(c);
	g_byte_array_unref(c->in);
	g_byte_array_unref(c->out);
	g_free(c);
}

static void process_input(Client *c);

static gboolean
on_client_out(gint fd, GIOCondition cond, gpointer user_data)
{
	Client *c = user_data;

	while (c->out->len > 0) {
		ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		if (n < 0) {
			c->out_watch = 0;
			client_close(c);
			client_unref(c);
			return G_SOURCE_REMOVE;
		}
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	c->out_watch = 0;
	client_unref(c); /* taken by client_write() for this watch */
	return G_SOURCE_REMOVE;
}

static void
client_write(Client *c, const char *text)
{
	if (c->closed)
		return;
	g_byte_array_append(c->out, (const guint8 *)text, (guint)strlen(text));
	g_byte_array_append(c->out, (const guint8 *)"\n", 1);
	if (c->out_watch == 0) {
		client_ref(c);
		c->out_watch = g_unix_fd_add(c->fd, G_IO_OUT, on_client_out, c);
	}
}

static void
write_error(Client *c, const char *code, const char *message)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

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
	text = vt_json_node_to_string(root, FALSE);
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
	while (!c->busy && !c->closed && c->control != NULL) {
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
		client_close(c);
		client_unref(c);
		return G_SOURCE_REMOVE;
	}
	g_byte_array_append(c->in, buf, (guint)n);
	/* Requests are answered one at a time; a client that piles up more
	 * than a few lines meanwhile, or one endless line, is dropped. */
	if (c->in->len > 4 * VT_CONTROL_MAX_LINE ||
	    (c->in->len > VT_CONTROL_MAX_LINE && memchr(c->in->data, '\n', c->in->len) == NULL)) {
		write_error(c, "bad_request", "request line longer than 64 KiB");
		c->in_watch = 0;
		client_close(c);
		client_unref(c);
		return G_SOURCE_REMOVE;
	}
	client_ref(c);
	process_input(c);
	client_unref(c);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer user_data)
{
	VtControl *control = user_data;
	socklen_t len = sizeof(struct ucred);
	Client *c;
	int cfd;

	cfd = accept4(control->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	if (control->n_clients >= VT_CONTROL_MAX_CLIENTS) {
		static const char busy[] = "{\"ok\":false,\"error\":{\"code\":\"busy\",\"message\":"
					   "\"too many control clients\"}}\n";
		if (send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			g_debug("control: %s", g_strerror(errno));
		close(cfd);
		return G_SOURCE_CONTINUE;
	}
	c = g_new0(Client, 1);
	c->ref = 1; /* held by the input watch */
	c->fd = cfd;
	c->control = control;
	c->in = g_byte_array_new();
	c->out = g_byte_array_new();
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		c->cred.uid = (uid_t)-1; /* unknown: never privileged */
		c->cred.gid = (gid_t)-1;
	}
	control->clients = g_list_prepend(control->clients, c);
	control->n_clients++;
	c->in_watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_in, c);
	return G_SOURCE_CONTINUE;
}

VtControl *
vt_control_new(const char *path, const char *group, VtControlHandler handler, gpointer user_data,
	       GError **error)
{
	g_autoptr(VtControl) control = g_new0(VtControl, 1);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	g_autofree char *dir = g_path_get_dirname(path);
	mode_t old_umask;
	gid_t gid = (gid_t)-1;
	int rc;

	control->fd = -1;
	control->handler = handler;
	control->user_data = user_data;
	control->path = g_strdup(path);
	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "socket path %s is too long", path);
		return NULL;
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_NOT_FOUND,
				    "group '%s' does not exist (create it, or set another with "
				    "--group)",
				    group);
			return NULL;
		}
		gid = gr->gr_gid;
	}
	if (g_mkdir_with_parents(dir, 0755) < 0) {
		vt_error_set_errno(error, errno, "create %s", dir);
		return NULL;
	}
	strcpy(addr.sun_path, path);
	control->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (control->fd < 0) {
		vt_error_set_errno(error, errno, "socket");
		return NULL;
	}
	/* A stale socket from a daemon that died: replace it. A live daemon
	 * would answer a connect; then refuse to start twice. */
	if (g_file_test(path, G_FILE_TEST_EXISTS)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		gboolean live =
			probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			g_set_error(error, VT_ERROR, VT_ERROR_FAILED,
				    "another virt-tuned already listens on %s", path);
			return NULL;
		}
		unlink(path);
	}
	old_umask = umask(0117);
	rc = bind(control->fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	control->bound = rc == 0;
	if (rc < 0 || listen(control->fd, 16) < 0) {
		vt_error_set_errno(error, errno, "listen on %s", path);
		return NULL;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
		vt_error_set_errno(error, errno, "chown %s to group %s", path, group);
		return NULL;
	}
	control->watch = g_unix_fd_add(control->fd, G_IO_IN, on_accept, control);
	return g_steal_pointer(&control);
}

void
vt_control_free(VtControl *control)
{
	if (control == NULL)
		return;
	while (control->clients != NULL) {
		Client *c = control->clients->data;
		client_close(c);
	}
	if (control->watch)
		g_source_remove(control->watch);
	if (control->fd >= 0)
		close(control->fd);
	/* Never the socket of another daemon we refused to replace. */
	if (control->bound)
		unlink(control->path);
	g_free(control->path);
	g_free(control);
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
	uid_t uid = request->client->cred.uid;
	return uid == 0 || uid == geteuid();
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
