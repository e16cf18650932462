/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-unix.h>

G_BEGIN_DECLS

/*
 * Readiness of many file descriptors through one epoll set, itself one
 * source of the default main context. GLib's own fd sources are walked one
 * by one at every main-loop iteration (prepare, poll, check): with a
 * thousand guests' channels that walk, not the reports, was the daemon's
 * largest cost (bench-daemon, 1,000 guests: 15 % of its CPU in the loop's
 * source list). Here an iteration costs what is ready.
 *
 * The same contract as g_unix_fd_add(): @func returns G_SOURCE_REMOVE to be
 * removed; vt_fd_watch_remove() removes a watch from anywhere, a callback
 * included (its own or another's). Level-triggered, as GLib's.
 *
 * Readiness that comes closer together than 5 ms is taken every 5 ms, all
 * that is ready at once, until a tick finds nothing: a busy fleet's reports
 * wait at most 5 ms and cost one wakeup of the process for several of them;
 * a lone event is taken as it comes.
 */
/* The watch's id, or 0 when @fd cannot be watched so (no epoll set could be
 * made, or epoll refuses @fd): use g_unix_fd_add() then. */
guint vt_fd_watch_add(int fd, GIOCondition condition, GUnixFDSourceFunc func, gpointer user_data);
void vt_fd_watch_remove(guint id);

/* Whether readiness is being taken by the tick (events came closer together
 * than VT_FD_WATCH_COALESCE_MS, 5 ms) rather than as it comes. */
gboolean vt_fd_watch_coalescing(void);

G_END_DECLS
