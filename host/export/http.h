/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The daemon's HTTP endpoint (libsoup): GET or HEAD /metrics on HOST:PORT,
 * answered with the Prometheus text that @render builds at each scrape.
 */
typedef struct VtHttp VtHttp;
typedef GString *(*VtHttpRender)(gpointer user_data);

#define VT_HTTP_DEFAULT_PORT 9478
/* At most this many metrics connections at once; more are closed at once. */
#define VT_HTTP_MAX_CONNECTIONS 16u
/* A request must be read, and its answer taken, within this many seconds
 * of the connection's start or its previous request; else it is closed. */
#define VT_HTTP_REQUEST_TIMEOUT_S 10u
/* A connection is refused when fewer file descriptors than this would be
 * left: they belong to the control socket, the guests and the store. */
#define VT_HTTP_FD_RESERVE 64u

/* @listen: "127.0.0.1:9478", "[::1]:9478", or a bare host (default port). */
VtHttp *vt_http_new(const char *listen, VtHttpRender render, gpointer user_data, GError **error);
void vt_http_free(VtHttp *http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtHttp, vt_http_free)

G_END_DECLS
