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
 */
/* The watch's id, or 0 when @fd cannot be watched so (no epoll set could be
 * made, or epoll refuses @fd): use g_unix_fd_add() then. */
guint vt_fd_watch_add(int fd, GIOCondition condition, GUnixFDSourceFunc func, gpointer user_data);
void vt_fd_watch_remove(guint id);

G_END_DECLS
