/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "client.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "render.h"

/* A reply can carry a whole report per guest: allow far more than a request. */
#define VT_CLIENT_MAX_REPLY (64u * 1024u * 1024u)

const char *
vt_client_socket_path(const char *flag)
{
	const char *env = g_getenv("VIRT_TUNE_SOCKET");

	if (flag != NULL)
		return flag;
	if (env != NULL && *env != '\0')
		return env;
	return VT_CLIENT_DEFAULT_SOCKET;
}

/* Name the group that would let the user in: the socket's own, which the
 * daemon set from its group= setting. */
static char *
permission_message(const char *path)
{
	struct stat st;
	struct group *gr;

	if (stat(path, &st) < 0 || st.st_gid == 0 || (gr = getgrgid(st.st_gid)) == NULL)
		return g_strdup_printf("permission denied on %s: run as root or as a member of "
				       "the daemon's group",
				       path);
	return g_strdup_printf("permission denied on %s (mode %04o, group %s): run as root or "
			       "as a member of group %s (usermod -aG %s USER, then log in again)",
			       path, (unsigned)(st.st_mode & 07777), gr->gr_name, gr->gr_name,
			       gr->gr_name);
}

static int
connect_socket(const char *path, char **message)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		*message = g_strdup_printf("socket path %s is too long", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int errsv = errno;
		if (fd >= 0)
			close(fd);
		if (errsv == EACCES)
			*message = permission_message(path);
		else
			*message = g_strdup_printf(
				"cannot reach virt-tuned at %s: %s. Start it (systemctl start "
				"virt-tuned, or virt-tuned --socket %s), or point --socket / "
				"VIRT_TUNE_SOCKET at the running one",
				path, g_strerror(errsv), path);
		return -1;
	}
	return fd;
}

/* Send @line (NUL-terminated; its NUL goes out as the closing newline). */
static gboolean
send_line(int fd, char *line, const char *socket_path, char **message)
{
	gsize len = strlen(line), off = 0;

	line[len++] = '\n'; /* replaces the NUL: we send exactly len bytes */
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*message = g_strdup_printf("sending to %s: %s", socket_path,
						   g_strerror(errno));
			return FALSE;
		}
		off += (gsize)n;
	}
	return TRUE;
}

/* Read into @in until it holds a newline, for at most @timeout_s. */
static gboolean
receive_line(int fd, GByteArray *in, const char *command, guint timeout_s, char **message)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

	while (in->len == 0 || memchr(in->data, '\n', in->len) == NULL) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		guint8 buf[65536];
		ssize_t n;

		if (left_ms <= 0 || poll(&pfd, 1, (int)MIN(left_ms, G_MAXINT)) == 0) {
			*message = g_strdup_printf("virt-tuned did not answer '%s' within %u s",
						   command, timeout_s);
			return FALSE;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*message = g_strdup_printf("virt-tuned closed the connection (%s)",
						   n < 0 ? g_strerror(errno) : "no answer");
			return FALSE;
		}
		if (in->len + (gsize)n > VT_CLIENT_MAX_REPLY) {
			*message = g_strdup("the reply is larger than 64 MiB");
			return FALSE;
		}
		g_byte_array_append(in, buf, (guint)n);
	}
	return TRUE;
}

/* The first line of @in: {"ok": true, "result": …} or {"ok": false, "error": …}. */
static VtClientStatus
parse_reply(GByteArray *in, JsonNode **result, char **code, char **message)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	gsize len = (gsize)((guint8 *)memchr(in->data, '\n', in->len) - in->data);
	JsonObject *reply;
	JsonNode *root;

	if (!json_parser_load_from_data(parser, (const char *)in->data, (gssize)len, &error) ||
	    (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		*message = g_strdup_printf("virt-tuned's answer is not JSON: %s",
					   error ? error->message : "not an object");
		return VT_CLIENT_BROKEN;
	}
	reply = json_node_get_object(root);
	if (json_object_get_boolean_member_with_default(reply, "ok", FALSE)) {
		JsonNode *r = json_object_get_member(reply, "result");
		*result = r ? json_node_copy(r) : json_node_new(JSON_NODE_NULL);
		return VT_CLIENT_OK;
	}
	if (json_object_has_member(reply, "error") &&
	    JSON_NODE_HOLDS_OBJECT(json_object_get_member(reply, "error"))) {
		JsonObject *e = json_object_get_object_member(reply, "error");
		*code = g_strdup(json_object_get_string_member_with_default(e, "code", "error"));
		*message = g_strdup(json_object_get_string_member_with_default(e, "message", "?"));
		if (g_strcmp0(*code, "busy") == 0)
			return VT_CLIENT_BUSY;
	} else {
		*code = g_strdup("error");
		*message = g_strdup("virt-tuned refused the request");
	}
	return VT_CLIENT_REFUSED;
}

VtClientStatus
vt_client_call(const char *socket_path, const char *command, JsonObject *args, guint timeout_s,
	       JsonNode **result, char **code, char **message)
{
	g_autoptr(JsonObject) req = json_object_new();
	g_autoptr(JsonNode) req_node = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(GByteArray) in = g_byte_array_new();
	g_autofree char *line = NULL;
	gboolean sent, received;
	int fd;

	*result = NULL;
	*code = NULL;
	*message = NULL;
	fd = connect_socket(socket_path, message);
	if (fd < 0)
		return VT_CLIENT_UNREACHABLE;

	json_object_set_string_member(req, "command", command);
	json_object_set_object_member(req, "args",
				      args ? json_object_ref(args) : json_object_new());
	json_node_set_object(req_node, req);
	line = vt_json_node_to_string(req_node, FALSE);
	sent = send_line(fd, line, socket_path, message);
	/* A daemon with no slot free answers "busy" at once and closes: the
	 * send may fail, the answer is still there to read. */
	if (!sent) {
		g_autofree char *unread = NULL;
		received = receive_line(fd, in, command, 1, &unread);
	} else {
		received = receive_line(fd, in, command, timeout_s, message);
	}
	close(fd);
	if (!sent && received) {
		g_clear_pointer(message, g_free);
		return parse_reply(in, result, code, message);
	}
	if (!sent)
		return VT_CLIENT_UNREACHABLE;
	if (!received)
		return VT_CLIENT_BROKEN;
	return parse_reply(in, result, code, message);
}

int
vt_client_request(const char *socket_flag, const char *command, JsonObject *args, guint timeout_s,
		  JsonNode **result)
{
	g_autofree char *code = NULL;
	g_autofree char *message = NULL;
	VtClientStatus st = vt_client_call(vt_client_socket_path(socket_flag), command, args,
					   timeout_s, result, &code, &message);

	if (st == VT_CLIENT_BUSY)
		vt_render_error("daemon busy (%s); try again later", message);
	else if (st != VT_CLIENT_OK)
		vt_render_error("%s", message);
	switch (st) {
	case VT_CLIENT_OK:
		return VT_EXIT_OK;
	case VT_CLIENT_UNREACHABLE:
		return VT_EXIT_UNREACHABLE;
	case VT_CLIENT_REFUSED:
		return g_strcmp0(code, "not_found") == 0 || g_strcmp0(code, "bad_request") == 0
			       ? VT_EXIT_USAGE
			       : VT_EXIT_FAILED;
	case VT_CLIENT_BROKEN:
		return VT_EXIT_FAILED;
	case VT_CLIENT_BUSY:
		return VT_EXIT_BUSY;
	}
	return VT_EXIT_FAILED;
}

JsonObject *
vt_client_args(const char *domain)
{
	JsonObject *args = json_object_new();
	if (domain != NULL)
		json_object_set_string_member(args, "domain", domain);
	return args;
}
