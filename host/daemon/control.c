/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: listening, and which peers get one of its slots. */
#include "control-private.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "error.h"
#include "json.h"

/* NULL when a client of @uid may have a slot; else why not ("busy: N clients…"). */
static char *
refuse_reason(const VtControl *control, uid_t uid)
{
	guint same = 0, unprivileged = 0;

	for (const GList *l = control->clients; l != NULL; l = l->next) {
		const Client *c = l->data;
		same += c->cred.uid == uid;
		unprivileged += !vt_control_uid_is_privileged(c->cred.uid);
	}
	if (control->n_clients >= VT_CONTROL_MAX_CLIENTS)
		return g_strdup_printf("busy: %u clients, the most virt-tuned serves at once",
				       control->n_clients);
	if (same >= VT_CONTROL_MAX_CLIENTS_PER_UID)
		return g_strdup_printf("busy: %u clients of uid %u, the most one user may hold",
				       same, (guint)uid);
	if (!vt_control_uid_is_privileged(uid) &&
	    unprivileged >= VT_CONTROL_MAX_CLIENTS - VT_CONTROL_ROOT_RESERVE)
		return g_strdup_printf("busy: %u clients, the rest is kept for root", unprivileged);
	return NULL;
}

/* Answer "busy" and close; one log line a minute at most. */
static void
refuse_client(VtControl *control, int cfd, const char *why)
{
	gint64 now = g_get_monotonic_time();
	g_autofree char *json = vt_control_error_text("busy", why);
	g_autofree char *text = g_strconcat(json, "\n", NULL);

	if (send(cfd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		g_debug("control: %s", g_strerror(errno));
	close(cfd);
	control->busy_unlogged++;
	if (control->busy_logged_us == 0 || now - control->busy_logged_us >= 60 * G_USEC_PER_SEC) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "control: refused %u connection(s): %s", control->busy_unlogged,
				 why);
		control->busy_logged_us = now;
		control->busy_unlogged = 0;
	}
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer user_data);

static gboolean
on_accept_retry(gpointer user_data)
{
	VtControl *control = user_data;

	control->accept_retry = 0;
	control->watch = g_unix_fd_add(control->fd, G_IO_IN, on_accept, control);
	return G_SOURCE_REMOVE;
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer user_data)
{
	VtControl *control = user_data;
	socklen_t len = sizeof(struct ucred);
	g_autofree char *why = NULL;
	struct ucred cred;
	int cfd;

	cfd = accept4(control->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0 && (errno == EMFILE || errno == ENFILE)) {
		/* the connection stays queued: try again in a second, not in a loop */
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
				 "control: cannot accept: %s", g_strerror(errno));
		control->watch = 0;
		control->accept_retry = g_timeout_add_seconds(1, on_accept_retry, control);
		return G_SOURCE_REMOVE;
	}
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		cred.uid = (uid_t)-1; /* unknown: never privileged */
		cred.gid = (gid_t)-1;
	}
	why = refuse_reason(control, cred.uid);
	if (why != NULL) {
		refuse_client(control, cfd, why);
		return G_SOURCE_CONTINUE;
	}
	vt_control_client_add(control, cfd, &cred);
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
	control->idle_timeout_s = VT_CONTROL_DEFAULT_IDLE_TIMEOUT_S;
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
		vt_control_client_close(c);
	}
	if (control->watch)
		g_source_remove(control->watch);
	if (control->accept_retry)
		g_source_remove(control->accept_retry);
	if (control->fd >= 0)
		close(control->fd);
	/* Never the socket of another daemon we refused to replace. */
	if (control->bound)
		unlink(control->path);
	g_free(control->path);
	g_free(control);
}

void
vt_control_set_idle_timeout(VtControl *control, guint seconds)
{
	control->idle_timeout_s = seconds;
}
