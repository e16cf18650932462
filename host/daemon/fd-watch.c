/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fd-watch.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken per dispatch: the rest wait for the next iteration, so other
 * sources (timers, the control socket) are not starved by a busy fleet. */
#define VT_FD_WATCH_BATCH 64

typedef struct {
	guint id;
	int fd;
	GUnixFDSourceFunc func;
	gpointer user_data;
} Watch;

/* Readiness closer together than this is taken every this often instead of
 * as it comes: at a thousand reports a second, one wakeup of the process
 * serves several of them (each wakeup of a guest's vCPU costs more than
 * the system calls it is for). A lone event still wakes it at once. */
#define VT_FD_WATCH_COALESCE_MS 5
/* Rounds of a batch per tick while coalescing: up to 256 events per 5 ms. */
#define VT_FD_WATCH_TICK_ROUNDS 4

typedef struct {
	int epfd; /* watched by a GLib source, or polled by the tick */
	guint next_id;
	GHashTable *watches; /* id -> Watch */
	guint fd_source;     /* the epoll set's source; 0 while coalescing */
	guint tick;          /* the coalescing timer; 0 while not */
	gint64 last_us;      /* when events were last taken (monotonic) */
} Reactor;

static Reactor reactor = {.epfd = -1};

static GIOCondition
to_condition(guint32 events)
{
	return (events & EPOLLIN ? G_IO_IN : 0) | (events & EPOLLOUT ? G_IO_OUT : 0) |
	       (events & EPOLLPRI ? G_IO_PRI : 0) | (events & EPOLLHUP ? G_IO_HUP : 0) |
	       (events & EPOLLERR ? G_IO_ERR : 0);
}

static guint32
to_events(GIOCondition condition)
{
	return (condition & G_IO_IN ? EPOLLIN : 0) | (condition & G_IO_OUT ? EPOLLOUT : 0) |
	       (condition & G_IO_PRI ? EPOLLPRI : 0);
	/* EPOLLHUP and EPOLLERR are always reported */
}

/* The events ready now, up to a batch: the number taken. */
static int
take_events(int epfd)
{
	struct epoll_event events[VT_FD_WATCH_BATCH];
	int n;

	do
		n = epoll_wait(epfd, events, G_N_ELEMENTS(events), 0);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++) {
		/* looked up by id: an earlier callback may have removed it */
		guint id = (guint)events[i].data.u32;
		Watch *w = g_hash_table_lookup(reactor.watches, GUINT_TO_POINTER(id));

		if (w != NULL && !w->func(w->fd, to_condition(events[i].events), w->user_data))
			vt_fd_watch_remove(id);
	}
	return MAX(n, 0);
}

static gboolean on_ready(gint epfd, GIOCondition condition, gpointer user_data);

static gboolean
on_tick(gpointer user_data)
{
	int n = 0, round;

	for (round = 0; round < VT_FD_WATCH_TICK_ROUNDS; round++) {
		int got = take_events(reactor.epfd);

		n += got;
		if (got < VT_FD_WATCH_BATCH)
			break;
	}
	reactor.last_us = g_get_monotonic_time();
	if (n > 0)
		return G_SOURCE_CONTINUE; /* still busy: the next tick takes what comes */
	/* quiet for a tick: back to waking at the first event */
	reactor.tick = 0;
	reactor.fd_source = g_unix_fd_add(reactor.epfd, G_IO_IN, on_ready, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
on_ready(gint epfd, GIOCondition condition, gpointer user_data)
{
	gint64 now = g_get_monotonic_time();
	gboolean busy = now - reactor.last_us < VT_FD_WATCH_COALESCE_MS * 1000;

	take_events(epfd);
	reactor.last_us = now;
	if (!busy)
		return G_SOURCE_CONTINUE;
	/* events come close together: take them by the tick for a while */
	reactor.fd_source = 0;
	reactor.tick = g_timeout_add(VT_FD_WATCH_COALESCE_MS, on_tick, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
reactor_start(void)
{
	if (reactor.epfd >= 0)
		return TRUE;
	reactor.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (reactor.epfd < 0)
		return FALSE;
	reactor.watches = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	reactor.fd_source = g_unix_fd_add(reactor.epfd, G_IO_IN, on_ready, NULL);
	return TRUE;
}

guint
vt_fd_watch_add(int fd, GIOCondition condition, GUnixFDSourceFunc func, gpointer user_data)
{
	struct epoll_event ev = {.events = to_events(condition)};
	Watch *w;

	/* 0: no epoll set (out of descriptors) or @fd cannot be in one; the
	 * caller falls back on GLib's own source */
	if (!reactor_start())
		return 0;
	w = g_new0(Watch, 1);
	do
		w->id = ++reactor.next_id;
	while (w->id == 0 || g_hash_table_contains(reactor.watches, GUINT_TO_POINTER(w->id)));
	w->fd = fd;
	w->func = func;
	w->user_data = user_data;
	ev.data.u32 = w->id;
	if (epoll_ctl(reactor.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		g_free(w);
		return 0;
	}
	g_hash_table_insert(reactor.watches, GUINT_TO_POINTER(w->id), w);
	return w->id;
}

void
vt_fd_watch_remove(guint id)
{
	Watch *w = reactor.watches != NULL
			   ? g_hash_table_lookup(reactor.watches, GUINT_TO_POINTER(id))
			   : NULL;

	if (w == NULL)
		return;
	epoll_ctl(reactor.epfd, EPOLL_CTL_DEL, w->fd, NULL);
	g_hash_table_remove(reactor.watches, GUINT_TO_POINTER(id));
}

gboolean
vt_fd_watch_coalescing(void)
{
	return reactor.tick != 0;
}
