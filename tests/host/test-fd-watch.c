/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One epoll set for many descriptors: callbacks for what is ready, removal
 * from inside a callback (its own or another's), level-triggered. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-watch.h"

#define N 4

typedef struct {
	int pair[N][2];
	guint ids[N];
	guint calls[N];
	gboolean keep[N];
	int remove_other; /* the first callback removes this one's watch; -1: none */
} Fixture;

static Fixture *current;

static gboolean
on_in(gint fd, GIOCondition cond, gpointer user_data)
{
	int i = GPOINTER_TO_INT(user_data);
	char buf[16];

	g_assert_true(cond & G_IO_IN);
	g_assert_cmpint(fd, ==, current->pair[i][0]);
	g_assert_cmpint(read(fd, buf, sizeof(buf)), >, 0);
	current->calls[i]++;
	if (current->remove_other >= 0) {
		vt_fd_watch_remove(current->ids[current->remove_other]);
		current->ids[current->remove_other] = 0;
		current->remove_other = -1;
	}
	return current->keep[i] ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
poke(Fixture *f, int i)
{
	g_assert_cmpint(write(f->pair[i][1], "x", 1), ==, 1);
}

/* Run the main loop until @total callbacks have run in all, then until it
 * has nothing more to do. */
static void
run_until(Fixture *f, guint total)
{
	guint done;

	do {
		g_main_context_iteration(NULL, TRUE);
		done = 0;
		for (int i = 0; i < N; i++)
			done += f->calls[i];
	} while (done < total);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void
test_watches(void)
{
	Fixture f = {.remove_other = -1};

	current = &f;
	for (int i = 0; i < N; i++) {
		g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f.pair[i]), ==,
				0);
		f.keep[i] = i != 1;
		f.ids[i] = vt_fd_watch_add(f.pair[i][0], G_IO_IN | G_IO_HUP | G_IO_ERR, on_in,
					   GINT_TO_POINTER(i));
		g_assert_cmpuint(f.ids[i], !=, 0);
	}
	/* only what is ready is called */
	poke(&f, 2);
	run_until(&f, 1);
	g_assert_cmpuint(f.calls[2], ==, 1);
	g_assert_cmpuint(f.calls[0] + f.calls[1] + f.calls[3], ==, 0);

	/* all ready: each called once; #1 says remove and is not called again */
	for (int i = 0; i < N; i++)
		poke(&f, i);
	run_until(&f, 5);
	for (int i = 0; i < N; i++)
		g_assert_cmpuint(f.calls[i], ==, i == 2 ? 2 : 1);
	poke(&f, 1);
	poke(&f, 0);
	run_until(&f, 6);
	g_assert_cmpuint(f.calls[1], ==, 1);
	g_assert_cmpuint(f.calls[0], ==, 2);

	/* a callback removes another ready watch: that one is not called */
	memset(f.calls, 0, sizeof(f.calls));
	poke(&f, 0);
	poke(&f, 3);
	f.remove_other = 3;
	f.keep[3] = TRUE;
	/* epoll hands out ready descriptors in the order they became ready:
	 * #0 runs first and removes #3, which must then not be called */
	run_until(&f, 1);
	g_assert_cmpuint(f.calls[0], ==, 1);
	g_assert_cmpuint(f.calls[3], ==, 0);
	g_assert_cmpuint(f.ids[3], ==, 0);
	/* removing twice, or an id never given, is harmless */
	vt_fd_watch_remove(f.ids[1]);
	vt_fd_watch_remove(987654);
	/* a level-triggered watch is called again while data waits */
	memset(f.calls, 0, sizeof(f.calls));
	g_assert_cmpint(write(f.pair[2][1], "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 32), ==, 32);
	run_until(&f, 2); /* 16 bytes a read */
	g_assert_cmpuint(f.calls[2], ==, 2);
	for (int i = 0; i < N; i++) {
		if (f.ids[i] != 0)
			vt_fd_watch_remove(f.ids[i]);
		close(f.pair[i][0]);
		close(f.pair[i][1]);
	}
}

/* Events close together are taken by the tick, none lost; after a quiet tick
 * a lone event is taken as it comes again. */
static void
test_coalescing(void)
{
	Fixture f = {.remove_other = -1};
	guint pokes = 0;
	gboolean coalesced = FALSE;

	current = &f;
	for (int i = 0; i < N; i++) {
		g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f.pair[i]), ==,
				0);
		f.keep[i] = TRUE;
		f.ids[i] = vt_fd_watch_add(f.pair[i][0], G_IO_IN, on_in, GINT_TO_POINTER(i));
	}
	/* two takes within 5 ms start the tick: on a loaded machine it may
	 * take a few rounds for two to come that close */
	for (guint round = 0; round < 1000 && !coalesced; round++) {
		for (int i = 0; i < N; i++)
			poke(&f, i);
		pokes += N;
		run_until(&f, pokes);
		coalesced = vt_fd_watch_coalescing();
	}
	g_assert_true(coalesced);
	/* while the tick runs, what comes is still taken, every one */
	for (int i = 0; i < N; i++)
		poke(&f, i);
	pokes += N;
	run_until(&f, pokes);
	for (int i = 0; i < N; i++)
		g_assert_cmpuint(f.calls[i], ==, pokes / N);
	/* a tick that finds nothing goes back to waking at the first event */
	while (vt_fd_watch_coalescing())
		g_main_context_iteration(NULL, TRUE);
	/* the quiet is what the test is about: longer only makes it surer */
	g_usleep(20 * 1000);
	poke(&f, 0);
	run_until(&f, pokes + 1);
	g_assert_cmpuint(f.calls[0], ==, pokes / N + 1);
	g_assert_false(vt_fd_watch_coalescing());
	for (int i = 0; i < N; i++) {
		vt_fd_watch_remove(f.ids[i]);
		close(f.pair[i][0]);
		close(f.pair[i][1]);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fd-watch/watches", test_watches);
	g_test_add_func("/fd-watch/coalescing", test_coalescing);
	return g_test_run();
}
