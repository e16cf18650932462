/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http.h"

#include <sys/resource.h>

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "error.h"

struct VtHttp {
	SoupServer *server;
	GSocketListener *listener;
	GCancellable *cancel;
	VtHttpRender render;
	gpointer user_data;
	GHashTable *conns; /* "address:port" of the peer -> Conn */
	guint max_conns;
	guint retry; /* accept paused after an error */
	gint64 refused_logged_us;
	guint refused_unlogged;
};

/* One accepted connection, until libsoup lets it go. */
typedef struct {
	VtHttp *http;            /* NULL once the server is gone */
	GSocketConnection *conn; /* weak: libsoup holds it */
	char *peer;
	guint timer;
} Conn;

static void accept_next(VtHttp *http);

static char *
peer_key(GSocketAddress *addr)
{
	g_autofree char *ip = NULL;

	if (!G_IS_INET_SOCKET_ADDRESS(addr))
		return g_strdup("?");
	ip = g_inet_address_to_string(
		g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr)));
	return g_strdup_printf("%s:%u", ip,
			       g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr)));
}

/* A request not read, or an answer not taken, within the timeout: end it.
 * Shut down, not closed: libsoup sees the end and lets the stream go. */
static gboolean
on_conn_timeout(gpointer user_data)
{
	Conn *c = user_data;

	c->timer = 0;
	if (c->conn != NULL)
		g_socket_shutdown(g_socket_connection_get_socket(c->conn), TRUE, TRUE, NULL);
	return G_SOURCE_REMOVE;
}

static void
conn_arm(Conn *c)
{
	if (c->timer)
		g_source_remove(c->timer);
	c->timer = g_timeout_add_seconds(VT_HTTP_REQUEST_TIMEOUT_S, on_conn_timeout, c);
}

static void
conn_free(Conn *c)
{
	if (c->timer)
		g_source_remove(c->timer);
	g_free(c->peer);
	g_free(c);
}

/* libsoup dropped the connection's stream: its slot is free. */
static void
on_conn_gone(gpointer user_data, GObject *where_it_was)
{
	Conn *c = user_data;

	c->conn = NULL;
	if (c->http != NULL)
		g_hash_table_remove(c->http->conns, c->peer); /* frees c */
	else
		conn_free(c);
}

/* A request read or answered on a connection: its clock starts again. */
static void
on_request_done(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	VtHttp *http = user_data;
	g_autofree char *key = peer_key(soup_server_message_get_remote_address(msg));
	Conn *c = g_hash_table_lookup(http->conns, key);

	if (c != NULL)
		conn_arm(c);
}

static void
log_refused(VtHttp *http, const char *why)
{
	gint64 now = g_get_monotonic_time();

	http->refused_unlogged++;
	if (http->refused_logged_us != 0 && now - http->refused_logged_us < 60 * G_USEC_PER_SEC)
		return;
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
			 "metrics: refused %u connection(s): %s", http->refused_unlogged, why);
	http->refused_logged_us = now;
	http->refused_unlogged = 0;
}

/* FALSE (and why) when @conn must be closed at once: too many connections,
 * or too few file descriptors left for the control socket and the guests. */
static gboolean
admit(VtHttp *http, GSocketConnection *conn, const char **why)
{
	int fd = g_socket_get_fd(g_socket_connection_get_socket(conn));
	struct rlimit rl = {0};

	g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
	g_autofree char *key = peer_key(remote);

	if (g_hash_table_contains(http->conns, key)) {
		*why = "a connection from the same address and port is still open";
		return FALSE;
	}
	if (g_hash_table_size(http->conns) >= http->max_conns) {
		*why = "as many metrics connections as allowed are open";
		return FALSE;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)fd + VT_HTTP_FD_RESERVE >= rl.rlim_cur) {
		*why = "file descriptors are kept for the control socket and the guests";
		return FALSE;
	}
	return TRUE;
}

static void
take_connection(VtHttp *http, GSocketConnection *conn)
{
	g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(conn, NULL);
	g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
	g_autoptr(GError) error = NULL;
	const char *why = NULL;
	Conn *c;

	if (!admit(http, conn, &why)) {
		log_refused(http, why);
		g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
		return;
	}
	c = g_new0(Conn, 1);
	c->http = http;
	c->conn = conn;
	c->peer = peer_key(remote);
	g_hash_table_insert(http->conns, g_strdup(c->peer), c);
	g_object_weak_ref(G_OBJECT(conn), on_conn_gone, c);
	conn_arm(c);
	if (!soup_server_accept_iostream(http->server, G_IO_STREAM(conn), local, remote, &error))
		g_debug("metrics: %s", error->message);
}

static gboolean
on_retry(gpointer user_data)
{
	VtHttp *http = user_data;

	http->retry = 0;
	accept_next(http);
	return G_SOURCE_REMOVE;
}

static void
on_accepted(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GSocketConnection *conn =
		g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), res, NULL, &error);
	VtHttp *http = user_data;

	if (conn == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return; /* @http is being freed */
		/* out of fds, most likely: metrics wait, the rest goes on */
		log_refused(http, error->message);
		http->retry = g_timeout_add_seconds(1, on_retry, http);
		return;
	}
	take_connection(http, conn);
	g_object_unref(conn); /* libsoup holds it now, if it took it */
	accept_next(http);
}

static void
accept_next(VtHttp *http)
{
	g_socket_listener_accept_async(http->listener, http->cancel, on_accepted, http);
}

static void
on_metrics(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
	   gpointer user_data)
{
	VtHttp *http = user_data;
	GString *body;
	gsize len;

	if (g_strcmp0(soup_server_message_get_method(msg), "GET") != 0 &&
	    g_strcmp0(soup_server_message_get_method(msg), "HEAD") != 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
		return;
	}
	body = http->render(http->user_data);
	len = body->len;
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
					 SOUP_MEMORY_TAKE, g_string_free(body, FALSE), len);
}

static GSocketAddress *
parse_listen(const char *listen, GError **error)
{
	g_autofree char *host = NULL;
	const char *colon = strrchr(listen, ':');
	guint64 port = VT_HTTP_DEFAULT_PORT;
	GSocketAddress *addr;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (end == NULL)
			goto bad;
		host = g_strndup(listen + 1, (gsize)(end - listen - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			goto bad;
	} else if (colon != NULL && strchr(listen, ':') == colon) {
		host = g_strndup(listen, (gsize)(colon - listen));
	} else {
		host = g_strdup(listen);
		colon = NULL;
	}
	if (colon != NULL && (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)))
		goto bad;
	addr = g_inet_socket_address_new_from_string(host, (guint)port);
	if (addr == NULL)
		goto bad;
	return addr;
bad:
	g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
		    "metrics address '%s' is not HOST:PORT (e.g. 127.0.0.1:%u or [::1]:%u)", listen,
		    VT_HTTP_DEFAULT_PORT, VT_HTTP_DEFAULT_PORT);
	return NULL;
}

VtHttp *
vt_http_new(const char *listen, VtHttpRender render, gpointer user_data, GError **error)
{
	g_autoptr(VtHttp) http = g_new0(VtHttp, 1);
	g_autoptr(GSocketAddress) addr = parse_listen(listen, error);
	g_autoptr(GError) local = NULL;

	if (addr == NULL)
		return NULL;
	http->render = render;
	http->user_data = user_data;
	http->max_conns = VT_HTTP_MAX_CONNECTIONS;
	http->conns =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)conn_free);
	http->cancel = g_cancellable_new();
	http->server = soup_server_new("server-header", "virt-tuned", NULL);
	soup_server_add_handler(http->server, "/metrics", on_metrics, http, NULL);
	g_signal_connect(http->server, "request-read", G_CALLBACK(on_request_done), http);
	g_signal_connect(http->server, "request-finished", G_CALLBACK(on_request_done), http);
	http->listener = g_socket_listener_new();
	g_socket_listener_set_backlog(http->listener, 16);
	if (!g_socket_listener_add_address(http->listener, addr, G_SOCKET_TYPE_STREAM,
					   G_SOCKET_PROTOCOL_TCP, NULL, NULL, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "metrics on %s: %s", listen,
			    local->message);
		return NULL;
	}
	accept_next(http);
	return g_steal_pointer(&http);
}

void
vt_http_free(VtHttp *http)
{
	GHashTableIter it;
	gpointer key, value;

	if (http == NULL)
		return;
	if (http->cancel != NULL)
		g_cancellable_cancel(http->cancel);
	if (http->retry)
		g_source_remove(http->retry);
	if (http->listener != NULL) {
		g_socket_listener_close(http->listener);
		g_object_unref(http->listener);
	}
	/* connections outlive us until libsoup lets them go: forget them */
	if (http->conns != NULL) {
		g_hash_table_iter_init(&it, http->conns);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			Conn *c = value;
			c->http = NULL;
			if (c->timer)
				g_source_remove(c->timer);
			c->timer = 0;
			g_hash_table_iter_steal(&it);
			g_free(key);
		}
		g_hash_table_unref(http->conns);
	}
	if (http->server != NULL) {
		soup_server_disconnect(http->server);
		g_object_unref(http->server);
	}
	g_clear_object(&http->cancel);
	g_free(http);
}
