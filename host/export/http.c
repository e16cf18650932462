/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "error.h"

struct VtHttp {
	SoupServer *server;
	VtHttpRender render;
	gpointer user_data;
};

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
	http->server = soup_server_new("server-header", "virt-tuned", NULL);
	soup_server_add_handler(http->server, "/metrics", on_metrics, http, NULL);
	if (!soup_server_listen(http->server, addr, 0, &local)) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE, "metrics on %s: %s", listen,
			    local->message);
		return NULL;
	}
	return g_steal_pointer(&http);
}

void
vt_http_free(VtHttp *http)
{
	if (http == NULL)
		return;
	if (http->server != NULL) {
		soup_server_disconnect(http->server);
		g_object_unref(http->server);
	}
	g_free(http);
}
