/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may talk to the control socket, with real processes: a listener made
 * by vt_control_new() with a group, and forked clients that drop to other
 * users before they connect. Checks the socket file's mode and group, the
 * peer uid SO_PEERCRED gives the handler, vt_control_request_is_privileged()
 * for root, a group member and the daemon's own user, and that a user outside
 * the group cannot connect at all. Needs root (to setuid the children).
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "control.h"

#define NOBODY_UID    65534
#define OUTSIDER_GID  65533 /* any group but the socket's */
#define CHILD_TIMEOUT 30
#define CLIENT_OK     0
#define CLIENT_NOREAD 100

typedef struct {
	GMainLoop *loop;
	gboolean called;
	uid_t uid;
	gboolean privileged;
	int status;
	gboolean exited;
	gboolean timed_out;
} Seen;

static void
on_request(VtControlRequest *req, gpointer user_data)
{
	Seen *s = user_data;
	g_autoptr(JsonBuilder) b = json_builder_new();

	s->called = TRUE;
	s->uid = vt_control_request_get_uid(req);
	s->privileged = vt_control_request_is_privileged(req);
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "privileged");
	json_builder_add_boolean_value(b, s->privileged);
	json_builder_end_object(b);
	vt_control_request_reply(req, json_builder_get_root(b));
}

/* In the child: become @uid/@gid (no supplementary groups) unless it is
 * already, connect, send a
 * request and wait for its reply line. Exits CLIENT_OK, the connect errno,
 * or CLIENT_NOREAD. */
static void G_GNUC_NORETURN
client(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	static const char req[] = "{\"command\":\"whoami\"}\n";
	char buf[512];
	gsize got = 0;
	int fd;

	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0))
		_exit(CLIENT_NOREAD + 1);
	if (getuid() != uid || getgid() != gid)
		_exit(CLIENT_NOREAD + 2);
	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		_exit(errno > 0 && errno < CLIENT_NOREAD ? errno : CLIENT_NOREAD);
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		_exit(CLIENT_NOREAD);
	while (got < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			_exit(CLIENT_NOREAD);
		got += (gsize)n;
		if (memchr(buf, '\n', got) != NULL)
			_exit(strstr(buf, "\"ok\":true") != NULL ? CLIENT_OK : CLIENT_NOREAD);
	}
	_exit(CLIENT_NOREAD);
}

static void
on_child(GPid pid, gint status, gpointer user_data)
{
	Seen *s = user_data;

	s->status = status;
	s->exited = TRUE;
	g_spawn_close_pid(pid);
	g_main_loop_quit(s->loop);
}

static gboolean
on_timeout(gpointer user_data)
{
	Seen *s = user_data;

	s->timed_out = TRUE;
	g_main_loop_quit(s->loop);
	return G_SOURCE_REMOVE;
}

/* Serve @path (already listening in this process) to one client that runs
 * as @uid/@gid; returns what the handler saw and the client's exit code. */
static int
run_client(Seen *s, const char *path, uid_t uid, gid_t gid)
{
	guint timer;
	pid_t pid;

	s->called = s->exited = s->timed_out = FALSE;
	s->loop = g_main_loop_new(NULL, FALSE);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0)
		client(path, uid, gid);
	g_child_watch_add(pid, on_child, s);
	timer = g_timeout_add_seconds(CHILD_TIMEOUT, on_timeout, s);
	g_main_loop_run(s->loop);
	g_main_loop_unref(s->loop);
	s->loop = NULL;
	g_assert_false(s->timed_out);
	g_source_remove(timer);
	g_assert_true(WIFEXITED(s->status));
	return WEXITSTATUS(s->status);
}

typedef struct {
	char *dir;
	char *path;
	gid_t group;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	struct group *gr = getgrnam("nogroup");
	g_autoptr(GError) error = NULL;

	if (geteuid() != 0) {
		g_test_skip("needs root: the clients setuid to other users");
		return;
	}
	if (gr == NULL) {
		g_test_skip("no group 'nogroup' on this system");
		return;
	}
	f->group = gr->gr_gid;
	f->dir = g_dir_make_tmp("vt-perms-XXXXXX", &error);
	g_assert_no_error(error);
	g_assert_cmpint(chmod(f->dir, 0755), ==, 0); /* the clients must reach the socket */
	f->path = g_build_filename(f->dir, "ctl.sock", NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	if (f->path != NULL)
		g_unlink(f->path);
	if (f->dir != NULL)
		g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static void
test_socket_mode(Fixture *f, gconstpointer data)
{
	Seen s = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(VtControl) control = NULL;
	struct stat st;

	if (f->path == NULL)
		return;
	control = vt_control_new(f->path, "nogroup", on_request, &s, &error);
	g_assert_no_error(error);
	g_assert_cmpint(stat(f->path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 07777, ==, 0660);
	g_assert_cmpint(st.st_uid, ==, 0);
	g_assert_cmpint(st.st_gid, ==, f->group);
	/* An unknown group is refused, not ignored. */
	g_clear_pointer(&control, vt_control_free);
	control = vt_control_new(f->path, "vt-no-such-group", on_request, &s, &error);
	g_assert_null(control);
	g_assert_nonnull(error);
}

static void
test_root_is_privileged(Fixture *f, gconstpointer data)
{
	Seen s = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(VtControl) control = NULL;

	if (f->path == NULL)
		return;
	control = vt_control_new(f->path, "nogroup", on_request, &s, &error);
	g_assert_no_error(error);
	g_assert_cmpint(run_client(&s, f->path, 0, 0), ==, CLIENT_OK);
	g_assert_true(s.called);
	g_assert_cmpuint(s.uid, ==, 0);
	g_assert_true(s.privileged);
}

static void
test_group_member_reads_only(Fixture *f, gconstpointer data)
{
	Seen s = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(VtControl) control = NULL;

	if (f->path == NULL)
		return;
	control = vt_control_new(f->path, "nogroup", on_request, &s, &error);
	g_assert_no_error(error);
	g_assert_cmpint(run_client(&s, f->path, NOBODY_UID, f->group), ==, CLIENT_OK);
	g_assert_true(s.called);
	g_assert_cmpuint(s.uid, ==, NOBODY_UID);
	g_assert_false(s.privileged);
}

static void
test_outsider_cannot_connect(Fixture *f, gconstpointer data)
{
	Seen s = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(VtControl) control = NULL;

	if (f->path == NULL)
		return;
	control = vt_control_new(f->path, "nogroup", on_request, &s, &error);
	g_assert_no_error(error);
	g_assert_cmpint(run_client(&s, f->path, NOBODY_UID, OUTSIDER_GID), ==, EACCES);
	g_assert_false(s.called);
	/* Without --group the socket is root's alone: a former member is out. */
	g_clear_pointer(&control, vt_control_free);
	control = vt_control_new(f->path, NULL, on_request, &s, &error);
	g_assert_no_error(error);
	g_assert_cmpint(run_client(&s, f->path, NOBODY_UID, f->group), ==, EACCES);
	g_assert_false(s.called);
}

/* An unprivileged daemon (as in tests) trusts its own user: in a subprocess
 * that became nobody, a listener and a client that is nobody too. */
static void
test_own_user_is_privileged(Fixture *f, gconstpointer data)
{
	Seen s = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(VtControl) control = NULL;

	if (f->path == NULL)
		return;
	if (!g_test_subprocess()) {
		g_test_trap_subprocess(NULL, (guint64)CHILD_TIMEOUT * 2 * G_USEC_PER_SEC,
				       G_TEST_SUBPROCESS_INHERIT_STDERR);
		g_test_trap_assert_passed();
		return;
	}
	g_assert_cmpint(chown(f->dir, NOBODY_UID, f->group), ==, 0);
	g_assert_cmpint(setgroups(0, NULL), ==, 0);
	g_assert_cmpint(setgid(f->group), ==, 0);
	g_assert_cmpint(setuid(NOBODY_UID), ==, 0);
	control = vt_control_new(f->path, NULL, on_request, &s, &error);
	g_assert_no_error(error);
	g_assert_cmpint(run_client(&s, f->path, NOBODY_UID, f->group), ==, CLIENT_OK);
	g_assert_true(s.called);
	g_assert_cmpuint(s.uid, ==, NOBODY_UID);
	g_assert_true(s.privileged);
	/* root stays privileged for a daemon that is not root */
	g_assert_cmpuint(geteuid(), ==, NOBODY_UID);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
	ADD("/control/perms/socket-mode", test_socket_mode);
	ADD("/control/perms/root-is-privileged", test_root_is_privileged);
	ADD("/control/perms/group-member-reads-only", test_group_member_reads_only);
	ADD("/control/perms/outsider-cannot-connect", test_outsider_cannot_connect);
	ADD("/control/perms/own-user-is-privileged", test_own_user_is_privileged);
#undef ADD
	return g_test_run();
}
